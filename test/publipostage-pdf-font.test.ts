// Font subsets of the sheets (ttf-subset.ts) against fontkit's TTFSubset, which they replace: the same font
// program byte for byte, composite glyphs (accented capitals, ligatures) and their parts included.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { test } from 'node:test';
import * as fontkit from 'fontkit';
import { TrueTypeSubset, TrueTypeTables } from '../src/publipostage/ttf-subset.js';

const require = createRequire(import.meta.url);
const TEXT = "Espace numérique de travail — fiche de connexion, Collège Jean-Moulin, l'ENT : ÉÈÀÇ 0123456789 Åslög NGUYỄN ŜTĚPÁN ǅ ✂ « » ’ … œ Œ ﬁ ǻ ḉ";

for (const file of ['DejaVuSans.ttf', 'DejaVuSans-Bold.ttf', 'DejaVuSansMono.ttf', 'DejaVuSansMono-Bold.ttf']) {
  test(`${file}: the same subset as fontkit's, glyph ids in order of first use`, () => {
    const bytes = readFileSync(require.resolve(`dejavu-fonts-ttf/ttf/${file}`));
    const font = fontkit.create(bytes);
    const theirs = font.createSubset();
    const ours = new TrueTypeSubset(new TrueTypeTables(bytes));
    for (const ch of TEXT) {
      const gid = font.glyphForCodePoint(ch.codePointAt(0)!).id;
      assert.equal(ours.includeGlyph(gid), theirs.includeGlyph(gid), ch);
    }
    const a = Buffer.from(theirs.encode());
    const b = ours.encode();
    assert.equal(b.length, a.length);
    assert.ok(b.equals(a), 'font programs differ');
    // Every character's glyph and .notdef, and the parts of composite glyphs: maxp (4th table) counts them.
    const maxp = b.readUInt32BE(12 + 16 * 3 + 8);
    assert.ok(b.readUInt16BE(maxp + 4) >= new Set(TEXT).size + 1);
  });
}
