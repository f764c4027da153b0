// Tagged PDF (ISO 32000-1 §14.7–14.8) for documents whose page content is written as operator text
// (pdf.ts): what a screen reader reads, and in which order, is the structure tree, not the drawing order.
//
// A sheet has ~30 structure elements: they are written page by page into the writer's compressed object
// streams (pdf-writer.ts), so the tree costs a few bytes a sheet and nothing stays in memory but one id
// per sheet and per page. The catalog entries that make the document tagged come from catalog().
import { num, pdfString, type PdfWriter } from './pdf-writer.js';

/** A structure element: type, children (elements, or marked-content ids of the current page), attributes. */
export interface Elem {
  s: string;
  k: Array<Elem | number>;
  alt?: string;
  /** Layout box [left, bottom, right, top] in PDF points (y up), e.g. for a Figure. */
  bbox?: [number, number, number, number];
}

/** Decorations (cut marks, rules) that a reader skips (§14.8.2.2). */
export function artifact(ops: string): string {
  return `/Artifact BMC\n${ops}\nEMC`;
}

export class StructTree {
  private readonly rootId: number;
  private readonly documentId: number;
  /** The Document element's children: one per sheet (a million for a région). */
  private readonly sects = new IdList();
  /** Parent tree: per page key, the id of the array (marked-content id -> element). */
  private readonly pageArrays = new IdList();
  private mcid = 0;
  private page = 0;

  constructor(private readonly pdf: PdfWriter) {
    this.rootId = pdf.alloc();
    this.documentId = pdf.alloc();
  }

  /** Starts tagging page `pageId` (an id from PdfWriter.allocPage). */
  beginPage(pageId: number): void {
    this.mcid = 0;
    this.page = pageId;
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
   * the Document element; every marked-content id of the page must belong to exactly one element. Returns the
   * page's key in the parent tree (its /StructParents), or null for a page without tagged content.
   */
  endPage(sections: Elem[]): number | null {
    if (!this.page) throw new Error('StructTree.endPage without beginPage');
    const page = this.page;
    this.page = 0;
    if (!sections.length) return null;
    // Per marked-content id, the element holding it (0: none yet).
    const owner = new Int32Array(this.mcid);
    const pg = `/Pg ${page} 0 R/K `;
    const write = (e: Elem, parentRef: string): number => {
      const id = this.pdf.alloc();
      const kids = e.k;
      let K: string;
      let content = false;
      if (kids.length === 1 && typeof kids[0] === 'number') {
        // The common case (a paragraph, a heading): one marked-content sequence.
        owner[kids[0]] = id;
        K = String(kids[0]);
        content = true;
      } else {
        const self = `/P ${id} 0 R`;
        K = '';
        for (const k of kids) {
          if (K) K += ' ';
          if (typeof k === 'number') {
            owner[k] = id;
            K += k;
            content = true;
          } else K += `${write(k, self)} 0 R`;
        }
        // Compact: a lone child without brackets.
        if (kids.length !== 1) K = `[${K}]`;
      }
      // The page only where the element has content of its own.
      let dict = `<</S/${e.s}${parentRef}${content ? pg : '/K '}${K}`;
      if (e.alt !== undefined) dict += `/Alt${pdfString(e.alt)}`;
      if (e.bbox) dict += `/A<</O/Layout/Placement/Block/BBox[${num(e.bbox[0])} ${num(e.bbox[1])} ${num(e.bbox[2])} ${num(e.bbox[3])}]>>`;
      this.pdf.pack(id, `${dict}>>`);
      return id;
    };
    const documentRef = `/P ${this.documentId} 0 R`;
    for (const sect of sections) this.sects.push(write(sect, documentRef));
    let array = '[';
    for (let i = 0; i < owner.length; i++) {
      if (!owner[i]) throw new Error('StructTree: marked content without a structure element');
      array += i ? ` ${owner[i]} 0 R` : `${owner[i]} 0 R`;
    }
    const arrayId = this.pdf.alloc();
    this.pdf.pack(arrayId, `${array}]`);
    return this.pageArrays.push(arrayId);
  }

  /**
   * Writes the Document element, the parent tree and the root; returns the catalog's entries for a tagged
   * document. The two document-wide arrays (one entry per sheet, per page) are written in pieces.
   */
  async end(): Promise<string> {
    await this.pdf.objectInParts(this.documentId, wrap(`<</S/Document/P ${this.rootId} 0 R/K [`, this.sects.refs((id) => `${id} 0 R`), ']>>'));
    const parentTree = this.pdf.alloc();
    await this.pdf.objectInParts(parentTree, wrap('<</Nums [', this.pageArrays.refs((id, key) => `${key} ${id} 0 R`), ']>>'));
    this.pdf.pack(this.rootId, `<</Type /StructTreeRoot/K ${this.documentId} 0 R/ParentTree ${parentTree} 0 R/ParentTreeNextKey ${this.pageArrays.length}>>`);
    return `/MarkInfo <</Marked true>>/StructTreeRoot ${this.rootId} 0 R`;
  }
}

function* wrap(head: string, body: Iterable<string>, tail: string): Generator<string> {
  yield head;
  yield* body;
  yield tail;
}

/** Object ids in 4 bytes each, in chunks (growing never copies them). */
class IdList {
  private readonly chunks: Uint32Array[] = [];
  length = 0;

  /** Appends `id`; returns its index. */
  push(id: number): number {
    const at = this.length++ % 4096;
    if (at === 0) this.chunks.push(new Uint32Array(4096));
    this.chunks[this.chunks.length - 1][at] = id;
    return this.length - 1;
  }

  /** The ids written by `each`, space-separated, a chunk at a time. */
  *refs(each: (id: number, index: number) => string): Generator<string> {
    for (let c = 0; c < this.chunks.length; c++) {
      const n = Math.min(4096, this.length - c * 4096);
      let out = '';
      for (let i = 0; i < n; i++) out += `${each(this.chunks[c][i], c * 4096 + i)} `;
      yield out;
    }
  }
}
