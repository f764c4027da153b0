// A rejected or noted record's line (src/import/report.ts rejectionLine) names values read from a hostile file: an
// AAF attribute keeps its line breaks and carriage returns (XML text, `&#10;` `&#13;` too). Printed as is, the command
// line's report (formatReport), a drop's error and the console showed forged lines (« …, ligne 9 : … » of a file
// that was never read) or, with a carriage return, overwrote the start of the real one on a terminal.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { readAaf } from '../src/import/aaf.js';
import { formatRejection } from '../src/import/report.js';
import { rejection } from '../src/import/types.js';
import { rejectionText } from '../src/web/import-text.js';

test('a birth date with line breaks from an AAF file is printed on one line, its control characters shown', async () => {
  const xml = readFileSync('test/fixtures/aaf/2d/ENT_Complet_20240901_Eleve_0000.xml', 'utf8')
    .replace('<value>12/03/2013</value>', '<value>12\n  ENT_Complet_Eleve.xml, ligne 9 : compte supprimé&#13;Import terminé</value>');
  let value = '';
  await readAaf('ENT_Complet_20240901_Eleve_0000.xml', { data: Buffer.from(xml) }, (r) => {
    const v = r.attrs.get('ENTPersonDateNaissance')?.[0];
    if (v?.includes('ligne 9')) value = v;
  });
  assert.match(value, /\n/, 'the reader keeps the line break');
  const r = rejection('ENT_Complet_20240901_Eleve_0000.xml', 5, 'ENTPersonDateNaissance', 'aafInvalidBirth', { value });
  for (const line of [formatRejection(r), formatRejection(r, 'en'), rejectionText('fr', r), rejectionText('en', r)]) {
    assert.doesNotMatch(line, /[\r\n]/, line);
    assert.match(line, /^ENT_Complet_20240901_Eleve_0000\.xml, (ligne|line) 5, ENTPersonDateNaissance ?:/);
  }
  // The file and field too, whoever builds the rejection.
  assert.doesNotMatch(formatRejection({ file: 'a.csv\nb.csv', line: 2, field: 'Date\rde naissance', reason: 'x' }), /[\r\n]/);
});
