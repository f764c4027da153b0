// Types for fontkit 2 (the package ships none): what pdf-font.ts uses.
declare module 'fontkit' {
  export interface Glyph {
    id: number;
    advanceWidth: number;
  }
  export interface Subset {
    includeGlyph(glyph: number): number;
    encode(): Uint8Array;
  }
  export interface Font {
    postscriptName: string;
    unitsPerEm: number;
    ascent: number;
    descent: number;
    capHeight: number;
    xHeight: number;
    italicAngle: number;
    bbox: { minX: number; minY: number; maxX: number; maxY: number };
    post: { isFixedPitch: number };
    head: { macStyle: { italic: boolean } };
    'OS/2'?: { sFamilyClass: number };
    glyphForCodePoint(cp: number): Glyph;
    getGlyph(id: number): Glyph;
    createSubset(): Subset;
  }
  export function create(buffer: Buffer): Font;
}
