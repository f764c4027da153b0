// The smallest PDF file writer the sheets need (pdf.ts): objects are written out as soon as they are
// complete, so what a document keeps in memory is its cross-reference table (13 bytes an object) and the
// page tree's lists, however many pages it has.
//  - small dictionaries (pages, structure elements, pages tree nodes) are packed into deflated object
//    streams (ISO 32000-1 §7.5.7), several pages' worth at a time;
//  - streams (page contents, fonts, Form XObjects) and the catalog are plain objects;
//  - the file ends with a cross-reference stream (§7.5.8), which can point into object streams.
// Everything written is ASCII text or binary stream data: offsets count one byte per character.
import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { createDeflate, deflateSync } from 'node:zlib';

/** A PDF text string: literal when printable ASCII, UTF-16BE otherwise (§7.9.2.2). */
export function pdfString(s: string): string {
  if (/^[\x20-\x7e]*$/.test(s)) return `(${s.replace(/[\\()]/g, (c) => `\\${c}`)})`;
  return `<feff${Buffer.from(s, 'utf16le').swap16().toString('hex')}>`;
}

/** A number as PDF writes it: at most two decimals. */
export const num = (v: number): string => String(Math.round(v * 100) / 100);

/** Object streams are cut at about this many bytes (uncompressed), or objects (XrefTable's index field). */
const OBJECT_STREAM_BYTES = 64 * 1024;
const OBJECT_STREAM_MAX = 2000;
/** Text is handed to the sink in chunks of about this size. */
const CHUNK = 64 * 1024;
/** Pages per intermediate node of the pages tree (§7.7.3.2: a balanced tree keeps readers' lookups short). */
const PAGES_PER_NODE = 128;

const CHUNK_ENTRIES = 1 << 16;

/**
 * Where each object is, in 4 bytes (a région's million sheets make some 33 million objects): for an object in
 * an object stream, the stream's ordinal and the object's index in it; for a plain object, the index of its
 * byte offset in a second table (a few per page). Both are stored in fixed-size chunks, so growing never
 * copies them.
 */
class XrefTable {
  private readonly entries: Uint32Array[] = [];
  private readonly offsets: Float64Array[] = [];
  private nOffsets = 0;
  /** Object stream ordinal -> object id. */
  private readonly streams: number[] = [];

  private slot(id: number): { chunk: Uint32Array; at: number } {
    const c = Math.floor(id / CHUNK_ENTRIES);
    while (this.entries.length <= c) this.entries.push(new Uint32Array(CHUNK_ENTRIES));
    return { chunk: this.entries[c], at: id % CHUNK_ENTRIES };
  }

  private set(id: number, value: number): void {
    const { chunk, at } = this.slot(id);
    if (chunk[at]) throw new Error(`PDF object ${id} written twice`);
    chunk[at] = value;
  }

  /** Object `id` written at byte `offset`. */
  direct(id: number, offset: number): void {
    const n = this.nOffsets++;
    const c = Math.floor(n / CHUNK_ENTRIES);
    if (this.offsets.length <= c) this.offsets.push(new Float64Array(CHUNK_ENTRIES));
    this.offsets[c][n % CHUNK_ENTRIES] = offset;
    this.set(id, 1 + 2 * n);
  }

  /** Registers object stream `streamId`; returns its ordinal for packed(). */
  objectStream(streamId: number): number {
    return this.streams.push(streamId) - 1;
  }

  /** Object `id` at `index` in the object stream of ordinal `ordinal`. */
  packed(id: number, ordinal: number, index: number): void {
    this.set(id, 2 + 2 * (ordinal * 2048 + index));
  }

  /** [type, field 2, field 3] of the cross-reference entry of `id` (§7.5.8.3); type 0: never written. */
  get(id: number): [number, number, number] {
    const { chunk, at } = this.slot(id);
    const v = chunk[at];
    if (!v) return [0, 0, 0];
    const n = Math.floor((v - 1) / 2);
    if (v % 2) return [1, this.offsets[Math.floor(n / CHUNK_ENTRIES)][n % CHUNK_ENTRIES], 0];
    const p = (v - 2) / 2;
    return [2, this.streams[Math.floor(p / 2048)], p % 2048];
  }
}

export class PdfWriter {
  private offset = 0;
  private text = '';
  private readonly xref = new XrefTable();
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
    return ++this.last;
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
    this.xref.direct(id, this.offset);
  }

  /** Object `id` as a plain object (`body`: a dictionary, array… in PDF syntax). */
  object(id: number, body: string): void {
    this.mark(id);
    this.write(`${id} 0 obj\n${body}\nendobj\n`);
  }

  /**
   * Object `id` as a plain object written piece by piece (a document-wide array of a million references):
   * `parts` are concatenated; the event loop gets a turn between pieces.
   */
  async objectInParts(id: number, parts: Iterable<string>): Promise<void> {
    this.mark(id);
    this.write(`${id} 0 obj\n`);
    for (const part of parts) {
      this.write(part);
      if (this.text.length === 0) await new Promise((ok) => setImmediate(ok));
    }
    this.write('\nendobj\n');
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
    if (this.packedBytes > OBJECT_STREAM_BYTES || this.packed.length === OBJECT_STREAM_MAX) this.flushPacked();
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
    const ordinal = this.xref.objectStream(streamId);
    objects.forEach(([id], i) => {
      this.xref.packed(id, ordinal, i);
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
   * document information (`info`: its entries) and the cross-reference stream, compressed as it is built.
   */
  async end(catalog: string, info: string): Promise<void> {
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
    const xrefAt = this.offset;
    this.mark(selfId);
    // Offsets in 4 bytes up to 4 GiB, 5 beyond.
    const w = xrefAt < 2 ** 32 ? 4 : 5;
    const rowSize = 3 + w;
    const z = createDeflate({ level: 1 });
    const data: Buffer[] = [];
    z.on('data', (c: Buffer) => data.push(c));
    for (let start = 0; start < size; start += CHUNK_ENTRIES) {
      const n = Math.min(CHUNK_ENTRIES, size - start);
      const rows = Buffer.alloc(rowSize * n);
      for (let i = 0; i < n; i++) {
        const id = start + i;
        const at = rowSize * i;
        if (id === 0) {
          rows.writeUInt16BE(65535, at + 1 + w);
          continue;
        }
        const [type, f2, f3] = this.xref.get(id);
        if (!type) throw new Error(`PDF object ${id} was never written`);
        rows[at] = type;
        rows.writeUIntBE(f2, at + 1, w);
        rows.writeUInt16BE(f3, at + 1 + w);
      }
      if (!z.write(rows)) await once(z, 'drain');
    }
    z.end();
    await once(z, 'end');
    const id = randomBytes(16).toString('hex');
    this.streamBody(
      selfId,
      `/Type /XRef/Size ${size}/W [1 ${w} 2]/Root ${rootId} 0 R/Info ${infoId} 0 R/ID [<${id}><${id}>]/Filter /FlateDecode`,
      Buffer.concat(data),
    );
    this.write(`startxref\n${xrefAt}\n%%EOF\n`);
    this.flushText();
  }
}

/** "D:20250901120000Z": a date as PDF writes it (§7.9.4). */
export function pdfDate(d: Date): string {
  return `D:${d.toISOString().replace(/[-:T]/g, '').slice(0, 14)}Z`;
}
