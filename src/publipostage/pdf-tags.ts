// Tagged PDF (ISO 32000-1 §14.7–14.8) for documents whose page content is written as operator text
// (pdf.ts): what a screen reader reads, and in which order, is the structure tree, not the drawing order.
//
// pdfkit (`tagged: true`) provides the catalog entries (MarkInfo, StructTreeRoot, page Tabs). Its own
// structure elements (doc.struct) cost one uncompressed object write each, and a sheet has ~30: that
// doubled the generation time and tripled the file size. So the elements are written here, several pages
// at a time, in compressed object streams (PDF 1.5 §7.5.7), and the document ends with a cross-reference
// stream (§7.5.8), which can point into them, instead of pdfkit's classic table.
import { deflateSync } from 'node:zlib';

/** A structure element: type, children (elements, or marked-content ids of the current page), attributes. */
export interface Elem {
  s: string;
  k: Array<Elem | number>;
  alt?: string;
  /** Layout box [left, bottom, right, top] in PDF points (y up), e.g. for a Figure. */
  bbox?: [number, number, number, number];
}

/** The parts of pdfkit's document (0.20) this module relies on. */
interface PdfkitInternals {
  _offsets: Array<number | null>;
  _offset: number;
  _root: { id: number };
  _info: { id: number };
  _id: Uint8Array;
  _security: unknown;
  _write(data: string | Uint8Array): void;
  _finalize(): void;
  push(chunk: null): void;
  ref(data: Record<string, unknown>): { id: number; end(chunk?: Uint8Array): void };
  page: { dictionary: { id: number; data: Record<string, unknown> } };
  getStructTreeRoot(): { id: number; data: Record<string, unknown> };
}

/** Decorations (cut marks, rules) that a reader skips (§14.8.2.2). */
export function artifact(ops: string): string {
  return `/Artifact BMC\n${ops}\nEMC`;
}

/** A PDF text string: literal when ASCII, UTF-16BE otherwise. */
function pdfString(s: string): string {
  if (/^[\x20-\x7e]*$/.test(s)) return `(${s.replace(/[\\()]/g, (c) => `\\${c}`)})`;
  return `<feff${Buffer.from(s, 'utf16le').swap16().toString('hex')}>`;
}

/** Object streams are cut at about this many bytes (uncompressed). */
const OBJECT_STREAM_BYTES = 64 * 1024;

const num = (v: number): string => String(Math.round(v * 100) / 100);

export class StructTree {
  private readonly pdf: PdfkitInternals;
  private readonly documentId: number;
  private readonly sects: number[] = [];
  /** Objects stored in object streams, by object id: the stream's id (0: not in one) and the index in it. */
  private streamOf = new Int32Array(1 << 12);
  private indexOf = new Uint16Array(1 << 12);
  /** Parent tree: per page key, the id of the array (marked-content id -> element). */
  private readonly pageArrays: number[] = [];
  private mcid = 0;
  private pageOpen = false;
  /** Objects waiting for the next object stream (several pages share one: fewer, better compressed streams). */
  private pending: Array<[number, string]> = [];
  private pendingBytes = 0;

  /** `doc` must be created with `tagged: true`; every sheet goes under one Document element. */
  constructor(doc: PDFKit.PDFDocument) {
    this.pdf = doc as unknown as PdfkitInternals;
    if (this.pdf._security) throw new Error('StructTree: encrypted documents are not supported');
    this.documentId = this.newId();
    this.pdf._finalize = () => this.finalize();
  }

  private newId(): number {
    this.pdf._offsets.push(null);
    return this.pdf._offsets.length;
  }

  /** Starts tagging the current page (right after addPage). */
  beginPage(): void {
    this.mcid = 0;
    this.pageOpen = true;
  }

  /** The next marked-content id of the current page (0, 1, … in call order). */
  next(): number {
    return this.mcid++;
  }

  /** `ops` as the next marked-content sequence of the current page, tagged `tag`; returns the ops and its id. */
  mark(tag: string, ops: string): { ops: string; mcid: number } {
    const mcid = this.mcid++;
    return { ops: `/${tag} <</MCID ${mcid}>> BDC\n${ops}\nEMC`, mcid };
  }

  /**
   * Writes the structure of the current page: `sections` (one per sheet, in reading order) become children of
   * the Document element; every marked-content id of the page must belong to exactly one element.
   */
  endPage(sections: Elem[]): void {
    if (!this.pageOpen) throw new Error('StructTree.endPage without beginPage');
    this.pageOpen = false;
    if (!sections.length) return;
    const page = this.pdf.page.dictionary;
    const owner: number[] = new Array(this.mcid).fill(0);
    const objects = this.pending;
    const write = (e: Elem, parent: number): number => {
      const id = this.newId();
      const kids: string[] = [];
      let content = false;
      for (const k of e.k) {
        if (typeof k === 'number') {
          owner[k] = id;
          kids.push(String(k));
          content = true;
        } else kids.push(`${write(k, id)} 0 R`);
      }
      // Compact: the page only where the element has content of its own, a lone child without brackets.
      const K = kids.length === 1 ? kids[0] : `[${kids.join(' ')}]`;
      let dict = `<</S/${e.s}/P ${parent} 0 R${content ? `/Pg ${page.id} 0 R` : ''}/K ${K}`;
      if (e.alt !== undefined) dict += `/Alt${pdfString(e.alt)}`;
      if (e.bbox) dict += `/A<</O/Layout/Placement/Block/BBox[${e.bbox.map(num).join(' ')}]>>`;
      dict += '>>';
      objects.push([id, dict]);
      this.pendingBytes += dict.length;
      return id;
    };
    for (const sect of sections) this.sects.push(write(sect, this.documentId));
    if (owner.some((o) => !o)) throw new Error('StructTree: marked content without a structure element');
    const arrayId = this.newId();
    objects.push([arrayId, `[${owner.map((o) => `${o} 0 R`).join(' ')}]`]);
    page.data.StructParents = this.pageArrays.length;
    this.pageArrays.push(arrayId);
    if (this.pendingBytes > OBJECT_STREAM_BYTES) this.flush();
  }

  private flush(): void {
    if (this.pending.length) this.writeObjectStream(this.pending);
    this.pending = [];
    this.pendingBytes = 0;
  }

  /** A reference to an object written here, as pdfkit's serializer expects one (its own reference class). */
  private ref(id: number): object {
    const Ref = this.pdf._root.constructor as new (doc: unknown, id: number, data: object) => object;
    return new Ref(this.pdf, id, {});
  }

  /** Objects (not streams) stored together in one deflated object stream. */
  private writeObjectStream(objects: Array<[number, string]>): void {
    let header = '';
    let body = '';
    for (const [id, text] of objects) {
      header += `${id} ${body.length} `;
      body += text + '\n';
    }
    const ref = this.pdf.ref({ Type: 'ObjStm', N: objects.length, First: header.length, Filter: 'FlateDecode' });
    let last = 0;
    for (const [id] of objects) last = Math.max(last, id);
    if (last >= this.streamOf.length) {
      const size = Math.max(2 * this.streamOf.length, last + 1);
      const s = new Int32Array(size);
      s.set(this.streamOf);
      const x = new Uint16Array(size);
      x.set(this.indexOf);
      this.streamOf = s;
      this.indexOf = x;
    }
    objects.forEach(([id], i) => {
      this.streamOf[id] = ref.id;
      this.indexOf[id] = i;
    });
    // Strings are ASCII (pdfString), so UTF-16 code units are bytes.
    ref.end(deflateSync(Buffer.from(header + body, 'latin1'), { level: 1 }));
  }

  /** The Document element, the parent tree and the tree root's links: call once, before doc.end(). */
  end(): void {
    const objects = this.pending;
    const rootRef = this.pdf.getStructTreeRoot();
    objects.push([this.documentId, `<</S/Document/P ${rootRef.id} 0 R/K[${this.sects.map((id) => `${id} 0 R`).join(' ')}]>>`]);
    const parentTree = this.newId();
    objects.push([parentTree, `<</Nums[${this.pageArrays.map((id, key) => `${key} ${id} 0 R`).join(' ')}]>>`]);
    this.flush();
    // pdfkit writes the root when the document ends; its own (empty) parent tree is replaced by ours.
    rootRef.data.K = this.ref(this.documentId);
    rootRef.data.ParentTree = this.ref(parentTree);
    rootRef.data.ParentTreeNextKey = this.pageArrays.length;
  }

  /**
   * Replaces pdfkit's classic cross-reference table (which cannot point into object streams) by a
   * cross-reference stream, with the same trailer entries.
   */
  private finalize(): void {
    const pdf = this.pdf;
    const size = pdf._offsets.length + 2; // + the free entry 0 and the stream itself
    const selfId = size - 1;
    const offset = pdf._offset;
    const row = Buffer.alloc(7 * size);
    row.writeUInt8(0, 0);
    row.writeUInt32BE(0, 1);
    row.writeUInt16BE(65535, 5);
    pdf._offsets.forEach((off, i) => {
      const id = i + 1;
      const at = 7 * id;
      if (id < this.streamOf.length && this.streamOf[id]) {
        row.writeUInt8(2, at);
        row.writeUInt32BE(this.streamOf[id], at + 1);
        row.writeUInt16BE(this.indexOf[id], at + 5);
      } else {
        if (off === null) throw new Error(`PDF object ${id} was never written`);
        row.writeUInt8(1, at);
        row.writeUInt32BE(off, at + 1);
      }
    });
    const selfAt = 7 * selfId;
    row.writeUInt8(1, selfAt);
    row.writeUInt32BE(offset, selfAt + 1);
    const data = deflateSync(row);
    const id = Buffer.from(pdf._id).toString('hex');
    pdf._write(`${selfId} 0 obj`);
    pdf._write(
      `<</Type/XRef/Size ${size}/W[1 4 2]/Root ${pdf._root.id} 0 R/Info ${pdf._info.id} 0 R/ID[<${id}><${id}>]/Filter/FlateDecode/Length ${data.length}>>`,
    );
    pdf._write('stream');
    pdf._write(data);
    pdf._write('\nendstream');
    pdf._write('endobj');
    pdf._write('startxref');
    pdf._write(String(offset));
    pdf._write('%%EOF');
    pdf.push(null);
  }
}
