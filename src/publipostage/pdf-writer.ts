// The smallest PDF file writer the sheets need (pdf.ts): objects are written out as soon as they are
// complete, and so is the cross-reference table, section by section, so a document keeps in memory a few
// ranges of that table and one number per page-tree node, however many pages it has.
//  - small dictionaries (pages, structure elements, pages tree nodes) are packed into deflated object
//    streams (ISO 32000-1 §7.5.7), several pages' worth at a time;
//  - streams (page contents, fonts, Form XObjects) and the catalog are plain objects;
//  - the cross-reference table is made of cross-reference streams (§7.5.8), which can point into object
//    streams, linked by /Prev; the last one ends the file.
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

/** Writes the non-negative integer `v` in decimal into `buf` at `at`; returns the offset after its last digit. */
function putInt(buf: Buffer, at: number, v: number): number {
  let end = at + 1;
  for (let p = 10; p <= v; p *= 10) end++;
  for (let i = end - 1; i >= at; i--) {
    buf[i] = 48 + (v % 10);
    v = Math.floor(v / 10);
  }
  return end;
}

/** Object streams are cut at about this many bytes (uncompressed), or this many objects. */
const OBJECT_STREAM_BYTES = 64 * 1024;
const OBJECT_STREAM_MAX = 2000;
/** Text is handed to the sink in chunks of about this size. */
const CHUNK = 64 * 1024;
/** Pages per intermediate node of the pages tree (§7.7.3.2: a balanced tree keeps readers' lookups short). */
const PAGES_PER_NODE = 128;

/**
 * The cross-reference table in sections of a fixed range of object ids (§7.5.8: each section an xref stream,
 * linked to the one before by /Prev, as incremental updates are). A range whose objects are all written is
 * written out as its own section at once, so what stays in memory is the ranges still open — the first one
 * (document-wide objects written at the end: fonts, structure root) and the last few — whatever the document's
 * size: a région's million sheets are some 30 million objects.
 */
class XrefRange {
  /** Per object: 0 = not written yet, 1 = at byte offset f2, 2 = in object stream f2 at index f3. */
  readonly type: Uint8Array;
  readonly f2: Float64Array;
  readonly f3: Uint16Array;
  written = 0;

  constructor(
    readonly start: number,
    readonly size: number,
  ) {
    this.type = new Uint8Array(size);
    this.f2 = new Float64Array(size);
    this.f3 = new Uint16Array(size);
  }

  /** The section's rows (W [1 w 2]); the free head of the list for object 0. */
  rows(w: number, count = this.size): Buffer {
    const row = 3 + w;
    const out = Buffer.alloc(row * count);
    for (let i = 0; i < count; i++) {
      const at = row * i;
      if (this.start + i === 0) {
        out.writeUInt16BE(65535, at + 1 + w);
        continue;
      }
      if (!this.type[i]) throw new Error(`PDF object ${this.start + i} was never written`);
      out[at] = this.type[i];
      out.writeUIntBE(this.f2[i], at + 1, w);
      out.writeUInt16BE(this.f3[i], at + 1 + w);
    }
    return out;
  }
}

export class PdfWriter {
  private offset = 0;
  private text = '';
  /** Open ranges of the cross-reference table, by range number. */
  private readonly ranges = new Map<number, XrefRange>();
  /** Ranges whose objects are all written, waiting for flushXref. */
  private readonly completed: XrefRange[] = [];
  /** Offset of the last section written (the next one's /Prev), -1: none yet. */
  private prevXref = -1;
  private last = 0;
  // The object stream being filled: its objects' ids, where each starts in `packedBuf`, and the bytes used
  // (written straight into one reused buffer: no string of the whole stream is ever built).
  private packedIds: number[] = [];
  private packedAt: number[] = [];
  private packedBuf = Buffer.allocUnsafe(2 * OBJECT_STREAM_BYTES);
  private packedBytes = 0;
  // Pages tree: the root, the node being filled and its pages, the finished nodes.
  readonly pagesId: number;
  private node = 0;
  private nodeKids: number[] = [];
  private readonly nodes: number[] = [];
  private pageCount = 0;

  /**
   * `sink` receives the file, chunk by chunk, in order. `xrefRange`: object ids per cross-reference section
   * (tests make it small).
   */
  constructor(
    private readonly sink: (chunk: Buffer) => void,
    private readonly xrefRange = 1 << 16,
  ) {
    this.write('%PDF-1.7\n%\xff\xff\xff\xff\n');
    this.pagesId = this.alloc();
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

  private entry(id: number, type: number, f2: number, f3: number): void {
    const n = Math.floor(id / this.xrefRange);
    let r = this.ranges.get(n);
    if (!r) {
      r = new XrefRange(n * this.xrefRange, this.xrefRange);
      this.ranges.set(n, r);
    }
    const i = id - r.start;
    if (r.type[i]) throw new Error(`PDF object ${id} written twice`);
    r.type[i] = type;
    r.f2[i] = f2;
    r.f3[i] = f3;
    // Object 0 is never written (the head of the free list): a range holding it completes one short.
    if (++r.written === r.size - (n === 0 ? 1 : 0)) this.completed.push(r);
  }

  private mark(id: number): void {
    this.entry(id, 1, this.offset, 0);
  }

  /**
   * Writes out the sections of the ranges whose objects are all written (call between pages: the file is at
   * an object boundary). The first range stays to the end (document-wide objects).
   */
  flushXref(): void {
    for (const r of this.completed.splice(0)) {
      if (r.start === 0) continue;
      this.ranges.delete(r.start / this.xrefRange);
      const id = this.alloc();
      const at = this.offset;
      const w = at < 2 ** 32 ? 4 : 5;
      this.mark(id);
      this.streamBody(id, `/Type /XRef/Size ${r.start + r.size}/Index [${r.start} ${r.size}]/W [1 ${w} 2]${this.prevXref < 0 ? '' : `/Prev ${this.prevXref}`}/Filter /FlateDecode`, deflateSync(r.rows(w), { level: 1 }));
      this.prevXref = at;
    }
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

  /** Object `id` (not a stream, ASCII) into the next object stream. */
  pack(id: number, body: string): void {
    let buf = this.packedBuf;
    if (this.packedBytes + body.length + 1 > buf.length) {
      buf = Buffer.allocUnsafe(2 * (this.packedBytes + body.length + 1));
      this.packedBuf.copy(buf, 0, 0, this.packedBytes);
      this.packedBuf = buf;
    }
    this.packedIds.push(id);
    this.packedAt.push(this.packedBytes);
    this.packedBytes += buf.write(body, this.packedBytes, 'latin1');
    buf[this.packedBytes++] = 10;
    if (this.packedBytes > OBJECT_STREAM_BYTES || this.packedIds.length === OBJECT_STREAM_MAX) this.flushPacked();
  }

  private flushPacked(): void {
    const ids = this.packedIds;
    if (!ids.length) return;
    // "id offset " pairs (§7.5.7), digits written straight into bytes: as a string, the header cost as much as the objects.
    const header = Buffer.allocUnsafe(ids.length * 32);
    let first = 0;
    for (let i = 0; i < ids.length; i++) {
      first = putInt(header, first, ids[i]);
      header[first++] = 32;
      first = putInt(header, first, this.packedAt[i]);
      header[first++] = 32;
    }
    const streamId = this.alloc();
    for (let i = 0; i < ids.length; i++) this.entry(ids[i], 2, streamId, i);
    const data = deflateSync(Buffer.concat([header.subarray(0, first), this.packedBuf.subarray(0, this.packedBytes)]), { level: 1 });
    this.stream(streamId, `/Type /ObjStm/N ${ids.length}/First ${first}/Filter /FlateDecode`, data);
    this.packedIds = [];
    this.packedAt = [];
    this.packedBytes = 0;
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
   * document information (`info`: its entries) and the last cross-reference section.
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

    // The last section: the ranges still open (the first one, the last ones), this stream included.
    const selfId = this.alloc();
    const size = selfId + 1;
    const xrefAt = this.offset;
    this.mark(selfId);
    const w = xrefAt < 2 ** 32 ? 4 : 5;
    const open = [...this.ranges.values()].sort((x, y) => x.start - y.start);
    const index = open.map((r) => `${r.start} ${Math.min(r.size, size - r.start)}`).join(' ');
    const rows = Buffer.concat(open.map((r) => r.rows(w, Math.min(r.size, size - r.start))));
    const id = randomBytes(16).toString('hex');
    this.streamBody(
      selfId,
      `/Type /XRef/Size ${size}/Index [${index}]/W [1 ${w} 2]/Root ${rootId} 0 R/Info ${infoId} 0 R/ID [<${id}><${id}>]` +
        `${this.prevXref < 0 ? '' : `/Prev ${this.prevXref}`}/Filter /FlateDecode`,
      deflateSync(rows, { level: 1 }),
    );
    this.write(`startxref\n${xrefAt}\n%%EOF\n`);
    this.flushText();
  }
}

/** "D:20250901120000Z": a date as PDF writes it (§7.9.4). */
export function pdfDate(d: Date): string {
  return `D:${d.toISOString().replace(/[-:T]/g, '').slice(0, 14)}Z`;
}
