// The smallest PDF file writer the sheets need (pdf.ts): objects are written out as soon as they are
// complete, so what a document keeps in memory is its cross-reference table (13 bytes an object) and the
// page tree's lists, however many pages it has.
//  - small dictionaries (pages, structure elements, pages tree nodes) are packed into deflated object
//    streams (ISO 32000-1 §7.5.7), several pages' worth at a time;
//  - streams (page contents, fonts, Form XObjects) and the catalog are plain objects;
//  - the file ends with a cross-reference stream (§7.5.8), which can point into object streams.
// Everything written is ASCII text or binary stream data: offsets count one byte per character.
import { randomBytes } from 'node:crypto';
import { deflateSync } from 'node:zlib';

/** A PDF text string: literal when printable ASCII, UTF-16BE otherwise (§7.9.2.2). */
export function pdfString(s: string): string {
  if (/^[\x20-\x7e]*$/.test(s)) return `(${s.replace(/[\\()]/g, (c) => `\\${c}`)})`;
  return `<feff${Buffer.from(s, 'utf16le').swap16().toString('hex')}>`;
}

/** A number as PDF writes it: at most two decimals. */
export const num = (v: number): string => String(Math.round(v * 100) / 100);

/** Object streams are cut at about this many bytes (uncompressed). */
const OBJECT_STREAM_BYTES = 64 * 1024;
/** Text is handed to the sink in chunks of about this size. */
const CHUNK = 64 * 1024;
/** Pages per intermediate node of the pages tree (§7.7.3.2: a balanced tree keeps readers' lookups short). */
const PAGES_PER_NODE = 128;

export class PdfWriter {
  private offset = 0;
  private text = '';
  /** Per object id: 1 = written at byte offset `where`, 2 = packed in object stream `where` at `index`. */
  private kind = new Uint8Array(1024);
  private where = new Float64Array(1024);
  private index = new Uint16Array(1024);
  private last = 0;
  private packed: Array<[number, string]> = [];
  private packedBytes = 0;
  // Pages tree: the root, the node being filled and its pages, the finished nodes.
  readonly pagesId: number;
  private node = 0;
  private nodeKids: number[] = [];
  private readonly nodes: number[] = [];
  private pageCount = 0;

  /** `sink` receives the file, chunk by chunk, in order. */
  constructor(private readonly sink: (chunk: Buffer) => void) {
    this.write('%PDF-1.7\n%\xff\xff\xff\xff\n');
    this.pagesId = this.alloc();
  }

  /** Bytes handed to the sink so far, and waiting. */
  get size(): number {
    return this.offset;
  }

  /** A new object id (1, 2, …): the object itself may be written later, in any order. */
  alloc(): number {
    const id = ++this.last;
    if (id >= this.kind.length) {
      const grow = <T extends Uint8Array | Float64Array | Uint16Array>(a: T): T => {
        const b = new (a.constructor as new (n: number) => T)(a.length * 2);
        b.set(a);
        return b;
      };
      this.kind = grow(this.kind);
      this.where = grow(this.where);
      this.index = grow(this.index);
    }
    return id;
  }

  private write(s: string): void {
    this.text += s;
    this.offset += s.length;
    if (this.text.length >= CHUNK) this.flushText();
  }

  private flushText(): void {
    if (!this.text) return;
    this.sink(Buffer.from(this.text, 'latin1'));
    this.text = '';
  }

  private mark(id: number): void {
    if (this.kind[id]) throw new Error(`PDF object ${id} written twice`);
    this.kind[id] = 1;
    this.where[id] = this.offset;
  }

  /** Object `id` as a plain object (`body`: a dictionary, array… in PDF syntax). */
  object(id: number, body: string): void {
    this.mark(id);
    this.write(`${id} 0 obj\n${body}\nendobj\n`);
  }

  /** Stream object `id`: `dict` holds the entries other than /Length (e.g. "/Filter /FlateDecode"). */
  stream(id: number, dict: string, data: Uint8Array): void {
    this.mark(id);
    this.streamBody(id, dict, data);
  }

  private streamBody(id: number, dict: string, data: Uint8Array): void {
    this.write(`${id} 0 obj\n<<${dict}/Length ${data.length}>>\nstream\n`);
    this.flushText();
    this.sink(Buffer.from(data.buffer, data.byteOffset, data.byteLength));
    this.offset += data.length;
    this.write('\nendstream\nendobj\n');
  }

  /** `text` (ASCII) deflated into stream object `id`. */
  deflated(id: number, dict: string, text: string): void {
    this.stream(id, `${dict}/Filter /FlateDecode`, deflateSync(Buffer.from(text, 'latin1'), { level: 1 }));
  }

  /** Object `id` (not a stream) into the next object stream. */
  pack(id: number, body: string): void {
    this.packed.push([id, body]);
    this.packedBytes += body.length;
    if (this.packedBytes > OBJECT_STREAM_BYTES) this.flushPacked();
  }

  private flushPacked(): void {
    const objects = this.packed;
    if (!objects.length) return;
    this.packed = [];
    this.packedBytes = 0;
    let header = '';
    let body = '';
    for (const [id, text] of objects) {
      header += `${id} ${body.length} `;
      body += text + '\n';
    }
    const streamId = this.alloc();
    objects.forEach(([id], i) => {
      if (this.kind[id]) throw new Error(`PDF object ${id} written twice`);
      this.kind[id] = 2;
      this.where[id] = streamId;
      this.index[id] = i;
    });
    this.stream(streamId, `/Type /ObjStm/N ${objects.length}/First ${header.length}/Filter /FlateDecode`, deflateSync(Buffer.from(header + body, 'latin1'), { level: 1 }));
  }

  /** The id of the page about to be added (its structure elements refer to it before it is written). */
  allocPage(): { id: number; parent: number } {
    if (!this.node || this.nodeKids.length === PAGES_PER_NODE) {
      this.closeNode();
      this.node = this.alloc();
    }
    const id = this.alloc();
    this.nodeKids.push(id);
    this.pageCount++;
    return { id, parent: this.node };
  }

  private closeNode(): void {
    if (!this.node) return;
    this.pack(this.node, `<</Type /Pages/Parent ${this.pagesId} 0 R/Kids [${this.nodeKids.map((k) => `${k} 0 R`).join(' ')}]/Count ${this.nodeKids.length}>>`);
    this.nodes.push(this.node);
    this.node = 0;
    this.nodeKids = [];
  }

  /**
   * Ends the file: the pages tree, the catalog (`catalog`: its entries other than /Type and /Pages), the
   * document information (`info`: its entries) and the cross-reference stream.
   */
  end(catalog: string, info: string): void {
    this.closeNode();
    this.pack(this.pagesId, `<</Type /Pages/Kids [${this.nodes.map((k) => `${k} 0 R`).join(' ')}]/Count ${this.pageCount}>>`);
    const infoId = this.alloc();
    this.pack(infoId, `<<${info}>>`);
    this.flushPacked();
    // The catalog stays a plain object: readers (and tests) find the language and the title option in clear.
    const rootId = this.alloc();
    this.object(rootId, `<</Type /Catalog/Pages ${this.pagesId} 0 R${catalog}>>`);

    const selfId = this.alloc();
    const size = selfId + 1;
    const row = Buffer.alloc(8 * size);
    row.writeUInt8(0, 0);
    row.writeUInt16BE(65535, 6);
    const xrefAt = this.offset;
    this.mark(selfId);
    for (let id = 1; id < size; id++) {
      const at = 8 * id;
      const k = this.kind[id];
      if (!k) throw new Error(`PDF object ${id} was never written`);
      row.writeUInt8(k, at);
      row.writeUIntBE(this.where[id], at + 1, 5);
      if (k === 2) row.writeUInt16BE(this.index[id], at + 6);
    }
    const id = randomBytes(16).toString('hex');
    this.streamBody(
      selfId,
      `/Type /XRef/Size ${size}/W [1 5 2]/Root ${rootId} 0 R/Info ${infoId} 0 R/ID [<${id}><${id}>]/Filter /FlateDecode`,
      deflateSync(row),
    );
    this.write(`startxref\n${xrefAt}\n%%EOF\n`);
    this.flushText();
  }
}

/** "D:20250901120000Z": a date as PDF writes it (§7.9.4). */
export function pdfDate(d: Date): string {
  return `D:${d.toISOString().replace(/[-:T]/g, '').slice(0, 14)}Z`;
}
