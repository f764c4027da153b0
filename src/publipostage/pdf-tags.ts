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
  private readonly sects: number[] = [];
  /** Parent tree: per page key, the id of the array (marked-content id -> element). */
  private readonly pageArrays: number[] = [];
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
    const owner: number[] = new Array(this.mcid).fill(0);
    const write = (e: Elem, parent: number): number => {
      const id = this.pdf.alloc();
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
      let dict = `<</S/${e.s}/P ${parent} 0 R${content ? `/Pg ${page} 0 R` : ''}/K ${K}`;
      if (e.alt !== undefined) dict += `/Alt${pdfString(e.alt)}`;
      if (e.bbox) dict += `/A<</O/Layout/Placement/Block/BBox[${e.bbox.map(num).join(' ')}]>>`;
      this.pdf.pack(id, dict + '>>');
      return id;
    };
    for (const sect of sections) this.sects.push(write(sect, this.documentId));
    if (owner.some((o) => !o)) throw new Error('StructTree: marked content without a structure element');
    const arrayId = this.pdf.alloc();
    this.pdf.pack(arrayId, `[${owner.map((o) => `${o} 0 R`).join(' ')}]`);
    this.pageArrays.push(arrayId);
    return this.pageArrays.length - 1;
  }

  /**
   * Writes the Document element, the parent tree and the root; returns the catalog's entries for a tagged
   * document. The two document-wide arrays (one entry per sheet, per page) are written in pieces.
   */
  async end(): Promise<string> {
    await this.pdf.objectInParts(this.documentId, [`<</S/Document/P ${this.rootId} 0 R/K [`, ...refs(this.sects, (id) => `${id} 0 R`), ']>>']);
    const parentTree = this.pdf.alloc();
    await this.pdf.objectInParts(parentTree, ['<</Nums [', ...refs(this.pageArrays, (id, key) => `${key} ${id} 0 R`), ']>>']);
    this.pdf.pack(this.rootId, `<</Type /StructTreeRoot/K ${this.documentId} 0 R/ParentTree ${parentTree} 0 R/ParentTreeNextKey ${this.pageArrays.length}>>`);
    return `/MarkInfo <</Marked true>>/StructTreeRoot ${this.rootId} 0 R`;
  }
}

/** `ids` written by `each`, space-separated, a few thousand at a time. */
function* refs(ids: number[], each: (id: number, i: number) => string): Generator<string> {
  for (let i = 0; i < ids.length; i += 4096) yield ids.slice(i, i + 4096).map((id, j) => each(id, i + j)).join(' ') + ' ';
}
