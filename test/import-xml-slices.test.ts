// The XML reader parses a large file by slices, the event loop turning between two (src/import/xml.ts feedParser):
// records, lines and characters cut by a slice boundary come out whole and in order, and a fault is still reported
// at its line. Files built here: a few megabytes of records, the slice boundary crossing every kind of content.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { ImportFileError } from '../src/import/types.js';
import { streamXml } from '../src/import/xml.js';

const dir = mkdtempSync(join(tmpdir(), 'trousseau-xml-slices-'));
after(() => rmSync(dir, { recursive: true, force: true }));

// Astral (𝔘, two UTF-16 units), accented and CRLF-ended content: wherever a slice ends, it ends inside one of them.
const NAMES = ['Zoé', 'Ŝtěpán 𝔘lrich', 'Nguyễn Thị', "O'Neill & fils"];
const record = (i: number) =>
  `<ELEVE ELEVE_ID="${i}">\r\n  <NOM>${NAMES[i % NAMES.length].replace('&', '&amp;')} ${i}</NOM>\r\n  <PRENOM>Élève n°${i}</PRENOM>\r\n</ELEVE>\r\n`;

function file(name: string, count: number, tail = ''): string {
  const path = join(dir, name);
  writeFileSync(path, `<?xml version="1.0" encoding="UTF-8"?>\r\n<BEE_ELEVES><DONNEES><ELEVES>\r\n${Array.from({ length: count }, (_, i) => record(i)).join('')}${tail}</ELEVES></DONNEES></BEE_ELEVES>\r\n`);
  return path;
}

test('a file of many slices gives every record whole, in order, at its line', async () => {
  const count = 40_000; // about 4 MB: four reads of 1 MB, some 30 slices
  const path = file('big.xml', count);
  const seen: Array<{ id: string; nom: string; prenom: string; line: number }> = [];
  // Records handed over before the event loop first turned: a slice's worth, not a whole read of 1 MB (~10,000).
  let beforeTurn = -1;
  await streamXml('big.xml', { path }, (p) => p.at(-1) === 'ELEVE', (n) => {
    if (!seen.length) setImmediate(() => (beforeTurn = seen.length));
    seen.push({ id: n.attrs.ELEVE_ID, nom: n.children.find((c) => c.name === 'NOM')!.text, prenom: n.children.find((c) => c.name === 'PRENOM')!.text, line: n.line });
  });
  assert.equal(seen.length, count);
  assert.ok(beforeTurn > 0 && beforeTurn < 3000, `records parsed before the event loop turned: ${beforeTurn}`);
  for (const [i, r] of seen.entries()) {
    assert.equal(r.id, String(i));
    assert.equal(r.nom, `${NAMES[i % NAMES.length]} ${i}`);
    assert.equal(r.prenom, `Élève n°${i}`);
    // Two lines of prologue, four lines per record.
    assert.equal(r.line, 3 + 4 * i);
  }
});

test('malformed XML far into a large file is reported at its line', async () => {
  const count = 30_000;
  const path = file('broken.xml', count, '<ELEVE ELEVE_ID="x"><NOM>Sans fin</ELEVE>\r\n');
  await assert.rejects(
    streamXml('broken.xml', { path }, (p) => p.at(-1) === 'ELEVE', () => {}),
    (e: unknown) => e instanceof ImportFileError && e.file === 'broken.xml' && e.line === 3 + 4 * count,
  );
});

test('a feed written on one line: the error names line 1 and its column', async () => {
  const path = join(dir, 'one-line.xml');
  const records = Array.from({ length: 2_000 }, (_, i) => record(i).replace(/\r\n\s*/g, '')).join('');
  const body = `<?xml version="1.0" encoding="UTF-8"?><BEE_ELEVES><DONNEES><ELEVES>${records}<ELEVE ELEVE_ID="x"><NOM>Sans fin</ELEVE></ELEVES></DONNEES></BEE_ELEVES>`;
  writeFileSync(path, body);
  // saxes reports the column just after the faulty end tag, counted in characters (the 𝔘 of the names is one).
  const column = [...body.slice(0, body.indexOf('</ELEVE></ELEVES>'))].length + '</ELEVE>'.length;
  await assert.rejects(
    streamXml('one-line.xml', { path }, (p) => p.at(-1) === 'ELEVE', () => {}),
    (e: unknown) => {
      assert.ok(e instanceof ImportFileError);
      assert.equal(e.line, 1);
      assert.equal(e.code, 'xmlMalformedAt');
      // saxes' words in French (its own for the English catalogue).
      assert.equal(e.reason, `XML mal formé (colonne ${column}) : balise fermante inattendue`);
      assert.equal(e.params?.detailEn, 'unexpected close tag.');
      return true;
    },
  );
});
