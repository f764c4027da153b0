// Tagged PDF (ISO 32000 §14.8) for documents whose page content streams are written as operator text
// (pdf.ts): what a screen reader reads, and in which order, is the structure tree, not the drawing order.
// pdfkit keeps the tree (doc.struct, the parent tree, each page's StructParents); this module allocates
// the marked-content ids of the current page and wraps operators in the matching BDC … EMC.
export type StructElement = PDFKit.PDFStructureElement;
export type StructContent = PDFKit.PDFStructureContent;
export type StructChild = StructElement | StructContent;

/** Options of a structure element; `bbox` is [left, top, right, bottom] in points from the page's top-left. */
export interface StructOptions {
  alt?: string;
  lang?: string;
  bbox?: [number, number, number, number];
}

/** Decorations (cut marks, rules) that a reader skips (§14.8.2.2). */
export function artifact(ops: string): string {
  return `/Artifact BMC\n${ops}\nEMC`;
}

export class Tagger {
  private readonly root: StructElement;

  /** `doc` must be created with `tagged: true`; every sheet's structure goes under one Document element. */
  constructor(private readonly doc: PDFKit.PDFDocument) {
    this.root = doc.struct('Document');
    doc.addStructure(this.root);
  }

  /**
   * The next marked-content id of the current page (0, 1, … in call order) as structure content.
   * pdfkit records the id in the page's parent-tree entry; the BDC/EMC it writes go to the page's own
   * stream, which pdf.ts replaces with its content.
   */
  content(tag: string): { mcid: number; content: StructContent } {
    const content = this.doc.markStructureContent(tag);
    this.doc.endMarkedContent();
    return { mcid: (content as unknown as { refs: Array<{ mcid: number }> }).refs[0].mcid, content };
  }

  /** `ops` as the next marked-content sequence of the current page, tagged `tag`. */
  mark(tag: string, ops: string): { ops: string; content: StructContent } {
    const { mcid, content } = this.content(tag);
    return { ops: `/${tag} <</MCID ${mcid}>> BDC\n${ops}\nEMC`, content };
  }

  /** A finished structure element (no child can be added later). */
  elem(type: string, children: StructChild[], options?: StructOptions): StructElement {
    return this.doc.struct(type, (options ?? {}) as { alt?: string }, children);
  }

  /** Appends a top-level element (a sheet) to the document; pdfkit writes it out at once. */
  add(element: StructElement): void {
    this.root.add(element);
  }
}
