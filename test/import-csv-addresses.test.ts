// ONDE/CSV: one legal representative on several rows at several postal addresses (csv.ts, MergeNote.addressKept): the
// account keeps the first in text order whatever the order of the rows, and every merge note names the line kept.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { formatReport, importFiles } from '../src/import/index.js';
import { fileContext, sqlReaders } from './helpers/db.js';

const ctx = await fileContext();
const { q } = sqlReaders(ctx);

test('one parent on three rows at three addresses: the account keeps one, each note names it, any order of the rows keeps the same', async () => {
  const parents =
    'Nom;Prénom;Adresse;Code postal;Ville;Nom enfant;Prénom enfant;Classe enfant\n' +
    'MARTIN;Karim;3 rue Bonaparte;75006;Paris;MARTIN;Léa;CE2 A\n' + // line 2
    'MARTIN;Karim;5 rue Colbert;75002;Paris;MARTIN;Léa;CE2 A\n' + // line 3
    'MARTIN;Karim;1 rue Ampère;75017;Paris;MARTIN;Léa;CE2 A\n'; // line 4
  const report = await importFiles(ctx, [{ name: 'CSV_Parents.csv', data: Buffer.from(parents) }], { dryRun: false, scope: { kind: 'all' }, structureHint: 'École Test' });
  assert.equal(report.fatal, null, formatReport(report));
  const kept = (await q<{ address: string }>(`SELECT address FROM users WHERE profile = 'Relative'`)).map((r) => r.address);
  assert.deepEqual(kept, ['1 rue Ampère\n75017 Paris'], 'the account keeps line 4’s address');
  assert.deepEqual(report.merged, [
    { file: 'CSV_Parents.csv', first: 2, line: 3, name: 'MARTIN Karim', addressKept: 4 },
    { file: 'CSV_Parents.csv', first: 2, line: 4, name: 'MARTIN Karim', addressKept: 4 },
  ]);
  const text = formatReport(report);
  assert.ok(text.includes('lignes 2 et 3 : même représentant légal (MARTIN Karim), un seul compte ; deux adresses postales, celle de la ligne 4 est gardée'), text);
  assert.ok(text.includes('lignes 2 et 4 : même représentant légal (MARTIN Karim), un seul compte ; deux adresses postales, celle de la ligne 4 est gardée'), text);

  // The rows the other way round: the same address, nothing changed; the notes name its new line.
  const lines = parents.trimEnd().split('\n');
  const reversed = [lines[0], ...lines.slice(1).reverse()].join('\n') + '\n';
  const again = await importFiles(ctx, [{ name: 'CSV_Parents.csv', data: Buffer.from(reversed) }], { dryRun: false, scope: { kind: 'all' }, structureHint: 'École Test' });
  assert.deepEqual([again.created, again.updated], [0, 0], formatReport(again));
  assert.deepEqual(again.merged?.map((m) => m.addressKept), [2, 2]);
  assert.deepEqual((await q<{ address: string }>(`SELECT address FROM users WHERE profile = 'Relative'`)).map((r) => r.address), ['1 rue Ampère\n75017 Paris']);
});
