// Embedded TrueType fonts for pdf-writer.ts (ISO 32000-1 §9.7: Type0 font, Identity-H encoding, CIDFontType2
// descendant): each document embeds the subset of glyphs it used (fontkit), their widths, and a ToUnicode map
// so that text extraction (pdftotext, screen readers, copy/paste) gives back the characters written.
// A font file is read and parsed once per process; a document only keeps its own subset.
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { deflateSync } from 'node:zlib';
import * as fontkit from 'fontkit';
import type { PdfWriter } from './pdf-writer.js';

const require = createRequire(import.meta.url);
const parsed = new Map<string, fontkit.Font>();

/** A DejaVu font (package dejavu-fonts-ttf), parsed once per process. */
export function dejavu(file: string): fontkit.Font {
  let f = parsed.get(file);
  if (!f) {
    f = fontkit.create(readFileSync(require.resolve(`dejavu-fonts-ttf/ttf/${file}`)));
    parsed.set(file, f);
  }
  return f;
}

const hex4 = (n: number): string => n.toString(16).padStart(4, '0');

/**
 * One font of one document, named `id` in content streams: code point -> glyph of the subset (hex for a Tj
 * operator) and advance in 1/1000 em. No shaping: names need none, and extracted text stays what was written.
 */
export class Face {
  private readonly glyphs = new Map<number, { hex: string; adv: number }>();
  private readonly hexCache = new Map<string, string>();
  private readonly subset: fontkit.Subset;
  private readonly scale: number;
  /** Per subset glyph: advance (1/1000 em) and the code point it stands for. */
  private readonly widths: number[] = [];
  private readonly unicode: number[] = [];

  constructor(
    private readonly font: fontkit.Font,
    readonly id: string,
    /** The font dictionary's object id (written by embed()). */
    readonly ref: number,
  ) {
    this.subset = font.createSubset();
    this.scale = 1000 / font.unitsPerEm;
    this.widths.push(font.getGlyph(0).advanceWidth * this.scale);
    this.unicode.push(0);
  }

  /** Code points below this are looked up in arrays (Latin, punctuation, symbols such as ✂), others in a map. */
  private static readonly DIRECT = 0x2800;
  private readonly directHex: string[] = [];
  private readonly directAdv = new Float64Array(Face.DIRECT).fill(-1);

  private glyph(cp: number): { hex: string; adv: number } {
    let g = this.glyphs.get(cp);
    if (!g) {
      const glyph = this.font.glyphForCodePoint(cp);
      const gid = this.subset.includeGlyph(glyph.id);
      const adv = glyph.advanceWidth * this.scale;
      this.widths[gid] ??= adv;
      this.unicode[gid] ??= cp;
      g = { hex: hex4(gid), adv };
      this.glyphs.set(cp, g);
      if (cp < Face.DIRECT) {
        this.directHex[cp] = g.hex;
        this.directAdv[cp] = adv;
      }
    }
    return g;
  }

  /** Hex string of glyph ids for a Tj operator. */
  hex(text: string): string {
    let h = this.hexCache.get(text);
    if (h === undefined) {
      h = '';
      for (let i = 0; i < text.length; i++) {
        const c = text.charCodeAt(i);
        // Surrogate pairs (code points beyond the BMP) take the general path.
        if (c < Face.DIRECT) h += this.directHex[c] ?? this.glyph(c).hex;
        else {
          const cp = text.codePointAt(i)!;
          if (cp > 0xffff) i++;
          h += this.glyph(cp).hex;
        }
      }
      if (this.hexCache.size < 20_000) this.hexCache.set(text, h);
    }
    return h;
  }

  /** Width of `text` at `size`, in points. */
  width(text: string, size: number): number {
    let w = 0;
    for (let i = 0; i < text.length; i++) {
      const c = text.charCodeAt(i);
      if (c < Face.DIRECT) {
        const a = this.directAdv[c];
        w += a >= 0 ? a : this.glyph(c).adv;
      } else {
        const cp = text.codePointAt(i)!;
        if (cp > 0xffff) i++;
        w += this.glyph(cp).adv;
      }
    }
    return (w * size) / 1000;
  }

  /** Writes the font (subset program, descriptor, descendant font, ToUnicode map): once, at the end of the document. */
  embed(pdf: PdfWriter): void {
    const f = this.font;
    const s = this.scale;
    const file = pdf.alloc();
    const program = this.subset.encode();
    pdf.stream(file, `/Length1 ${program.length}/Filter /FlateDecode`, deflateSync(program));
    // Flags (§9.8.2): fixed pitch, serif, symbolic (glyphs outside the standard Latin set), italic.
    const familyClass = (f['OS/2']?.sFamilyClass ?? 0) >> 8;
    let flags = 1 << 2;
    if (f.post.isFixedPitch) flags |= 1;
    if (familyClass >= 1 && familyClass <= 7) flags |= 1 << 1;
    if (f.head.macStyle.italic) flags |= 1 << 6;
    // A subset's name starts with six capital letters of its own (§9.9.2).
    const tag = [...this.id.padEnd(6, 'A').slice(0, 6)].map((c) => String.fromCharCode(65 + (c.charCodeAt(0) % 26))).join('');
    const name = `${tag}+${f.postscriptName.replaceAll(' ', '_')}`;
    const descriptor = pdf.alloc();
    const b = f.bbox;
    pdf.pack(
      descriptor,
      `<</Type /FontDescriptor/FontName /${name}/Flags ${flags}/FontBBox [${[b.minX, b.minY, b.maxX, b.maxY].map((v) => Math.round(v * s)).join(' ')}]` +
        `/ItalicAngle ${f.italicAngle}/Ascent ${Math.round(f.ascent * s)}/Descent ${Math.round(f.descent * s)}` +
        `/CapHeight ${Math.round((f.capHeight || f.ascent) * s)}/XHeight ${Math.round((f.xHeight || 0) * s)}/StemV 0/FontFile2 ${file} 0 R>>`,
    );
    const cid = pdf.alloc();
    pdf.pack(
      cid,
      `<</Type /Font/Subtype /CIDFontType2/BaseFont /${name}/CIDSystemInfo <</Registry (Adobe)/Ordering (Identity)/Supplement 0>>` +
        `/FontDescriptor ${descriptor} 0 R/CIDToGIDMap /Identity/W [0 [${this.widths.map((w) => num3(w)).join(' ')}]]>>`,
    );
    const toUnicode = pdf.alloc();
    pdf.deflated(toUnicode, '', this.toUnicode());
    pdf.pack(this.ref, `<</Type /Font/Subtype /Type0/BaseFont /${name}/Encoding /Identity-H/DescendantFonts [${cid} 0 R]/ToUnicode ${toUnicode} 0 R>>`);
  }

  /** The CMap from subset glyph ids back to Unicode (§9.10.3), in ranges of 256 glyphs. */
  private toUnicode(): string {
    const utf16 = (cp: number): string => {
      if (cp <= 0xffff) return hex4(cp);
      const v = cp - 0x10000;
      return hex4(0xd800 | (v >>> 10)) + hex4(0xdc00 | (v & 0x3ff));
    };
    const ranges: string[] = [];
    for (let start = 0; start < this.unicode.length; start += 256) {
      const chunk = this.unicode.slice(start, start + 256);
      ranges.push(`<${hex4(start)}> <${hex4(start + chunk.length - 1)}> [${chunk.map((cp) => `<${utf16(cp)}>`).join(' ')}]`);
    }
    return `/CIDInit /ProcSet findresource begin
12 dict begin
begincmap
/CIDSystemInfo << /Registry (Adobe) /Ordering (UCS) /Supplement 0 >> def
/CMapName /Adobe-Identity-UCS def
/CMapType 2 def
1 begincodespacerange
<0000><ffff>
endcodespacerange
${ranges.length} beginbfrange
${ranges.join('\n')}
endbfrange
endcmap
CMapName currentdict /CMap defineresource pop
end
end`;
  }
}

const num3 = (v: number): string => String(Math.round(v * 1000) / 1000);
