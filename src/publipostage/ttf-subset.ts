// Subsets of a TrueType font for embedding in a PDF (pdf-font.ts): the tables a PDF reader needs for a
// CIDFontType2 font (ISO 32000-1 §9.9: head, hhea, loca, maxp, cvt, prep, glyf, hmtx, fpgm), the glyphs copied
// byte for byte from the font file. It writes the same file as fontkit's TTFSubset (test/publipostage-pdf-font.test.ts
// compares them), which decodes every glyph's outline and re-encodes every table through its generic structures:
// some 3 ms a font, 10 ms a document, whatever its size.

/** The tables of a TrueType font file, read once. */
export class TrueTypeTables {
  readonly tables = new Map<string, Buffer>();
  private readonly loca: Buffer;
  private readonly longLoca: boolean;
  private readonly hmtx: Buffer;
  /** Glyphs with an advance of their own in hmtx (the others take the last one's). */
  private readonly metrics: number;

  /** `file`: the font file (a TrueType font, not a collection). */
  constructor(file: Buffer) {
    const count = file.readUInt16BE(4);
    for (let i = 0; i < count; i++) {
      const at = 12 + 16 * i;
      const offset = file.readUInt32BE(at + 8);
      this.tables.set(file.toString('latin1', at, at + 4), file.subarray(offset, offset + file.readUInt32BE(at + 12)));
    }
    this.loca = this.table('loca');
    this.longLoca = this.table('head').readInt16BE(50) === 1;
    this.hmtx = this.table('hmtx');
    this.metrics = this.table('hhea').readUInt16BE(34);
  }

  table(tag: string): Buffer {
    const t = this.tables.get(tag);
    if (!t) throw new Error(`TrueType font without a ${tag} table`);
    return t;
  }

  /** The glyph's outline as stored in glyf (empty for a glyph without one, e.g. the space). */
  glyph(gid: number): Buffer {
    const [start, end] = this.longLoca ? [this.loca.readUInt32BE(4 * gid), this.loca.readUInt32BE(4 * gid + 4)] : [2 * this.loca.readUInt16BE(2 * gid), 2 * this.loca.readUInt16BE(2 * gid + 2)];
    return this.table('glyf').subarray(start, end);
  }

  /** Advance width and left side bearing (font units), from hmtx. */
  metricsOf(gid: number): { advance: number; bearing: number } {
    if (gid < this.metrics) return { advance: this.hmtx.readUInt16BE(4 * gid), bearing: this.hmtx.readInt16BE(4 * gid + 2) };
    return { advance: this.hmtx.readUInt16BE(4 * (this.metrics - 1)), bearing: this.hmtx.readInt16BE(4 * this.metrics + 2 * (gid - this.metrics)) };
  }
}

// Composite glyph flags (TrueType glyf table).
const ARG_1_AND_2_ARE_WORDS = 0x0001;
const WE_HAVE_A_SCALE = 0x0008;
const MORE_COMPONENTS = 0x0020;
const WE_HAVE_AN_X_AND_Y_SCALE = 0x0040;
const WE_HAVE_A_TWO_BY_TWO = 0x0080;

/** The tables written, in this order (the order fontkit writes them in). */
const TAGS = ['head', 'hhea', 'loca', 'maxp', 'cvt ', 'prep', 'glyf', 'hmtx', 'fpgm'] as const;

/**
 * The glyphs a document uses, numbered in order of first use from 1 (0 is .notdef), as the content streams
 * refer to them; encode() writes the font program of those glyphs and of the parts of composite glyphs.
 */
export class TrueTypeSubset {
  private readonly glyphs: number[] = [];
  private readonly mapping = new Map<number, number>();

  constructor(private readonly font: TrueTypeTables) {
    this.includeGlyph(0);
  }

  /** The subset's id of the font's glyph `gid` (added if new). */
  includeGlyph(gid: number): number {
    let id = this.mapping.get(gid);
    if (id === undefined) {
      id = this.glyphs.length;
      this.glyphs.push(gid);
      this.mapping.set(gid, id);
    }
    return id;
  }

  /** The subset font file. */
  encode(): Buffer {
    const font = this.font;
    const outlines: Buffer[] = [];
    // The list grows while it is read: a composite glyph adds its parts.
    for (let i = 0; i < this.glyphs.length; i++) {
      let g = font.glyph(this.glyphs[i]);
      if (g.length >= 10 && g.readInt16BE(0) < 0) {
        g = Buffer.from(g);
        for (let at = 10; ; ) {
          const flags = g.readUInt16BE(at);
          g.writeUInt16BE(this.includeGlyph(g.readUInt16BE(at + 2)), at + 2);
          at += flags & ARG_1_AND_2_ARE_WORDS ? 8 : 6;
          if (flags & WE_HAVE_A_SCALE) at += 2;
          else if (flags & WE_HAVE_AN_X_AND_Y_SCALE) at += 4;
          else if (flags & WE_HAVE_A_TWO_BY_TWO) at += 8;
          if (!(flags & MORE_COMPONENTS)) break;
        }
      }
      outlines.push(g);
    }
    const n = outlines.length;
    const glyf = Buffer.concat(outlines);
    const loca = Buffer.alloc(4 * (n + 1));
    const hmtx = Buffer.alloc(4 * n);
    for (let i = 0, at = 0; i < n; i++) {
      loca.writeUInt32BE(at, 4 * i);
      at += outlines[i].length;
      const m = font.metricsOf(this.glyphs[i]);
      hmtx.writeUInt16BE(m.advance, 4 * i);
      hmtx.writeInt16BE(m.bearing, 4 * i + 2);
    }
    loca.writeUInt32BE(glyf.length, 4 * n);
    const head = Buffer.from(font.table('head'));
    head.writeInt16BE(1, 50); // indexToLocFormat: long offsets
    const hhea = Buffer.from(font.table('hhea'));
    hhea.writeUInt16BE(n, 34); // numberOfHMetrics: every glyph has its own
    const maxp = Buffer.from(font.table('maxp'));
    maxp.writeUInt16BE(n, 4); // numGlyphs
    const body: Record<(typeof TAGS)[number], Buffer> = { head, hhea, loca, maxp, 'cvt ': font.table('cvt '), prep: font.table('prep'), glyf, hmtx, fpgm: font.table('fpgm') };
    // The table directory (checksums left at 0, as fontkit does: PDF readers do not check them), then the tables.
    const dir = Buffer.alloc(12 + 16 * TAGS.length);
    dir.write('true', 0, 'latin1');
    const pow2 = 2 ** Math.floor(Math.log2(TAGS.length));
    dir.writeUInt16BE(TAGS.length, 4);
    dir.writeUInt16BE(pow2 * 16, 6);
    dir.writeUInt16BE(Math.log2(pow2), 8);
    dir.writeUInt16BE(TAGS.length * 16 - pow2 * 16, 10);
    let offset = dir.length;
    TAGS.forEach((tag, i) => {
      const at = 12 + 16 * i;
      dir.write(tag, at, 'latin1');
      dir.writeUInt32BE(offset, at + 8);
      dir.writeUInt32BE(body[tag].length, at + 12);
      offset += body[tag].length;
    });
    return Buffer.concat([dir, ...TAGS.map((t) => body[t])]);
  }
}
