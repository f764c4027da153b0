// A pupil who left and a namesake who arrives in a class of the same name, born another day: the birth-date
// correction (renames.ts dateCorrected: the very same names and class, another date) took the newcomer for the
// leaver, and gave her the leaver's activated account — its password, its e-mail, the other family's links. In
// September the class name proves nothing (every pupil moved on: classStale), and two families named by the run and
// the directory, with no legal representative in common, are two children.
import assert from 'node:assert/strict';
import { mkdtempSync, mkdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { collectInputs, formatReport, importFiles } from '../src/import/index.js';
import { fileContext, sqlReaders } from './helpers/db.js';

const ctx = await fileContext();
const { q } = sqlReaders(ctx);
const dir = mkdtempSync(join(tmpdir(), 'birth-namesake-'));
const write = (v: string, pupils: string[], parents: string[]) => {
  mkdirSync(join(dir, v));
  writeFileSync(join(dir, v, 'CSV_Eleves.csv'), ['Prénom;Nom;Date de naissance;Classes', ...pupils].join('\n') + '\n');
  writeFileSync(join(dir, v, 'CSV_Parents.csv'), ["Nom;Prénom;Nom de l'élève;Prénom de l'élève;Classes de l'élève", ...parents].join('\n') + '\n');
};
const opts = (school: string) => ({ dryRun: false, scope: { kind: 'all' }, structureHint: school }) as Parameters<typeof importFiles>[2];
const leas = async (school: string) =>
  q<{ id: string; birth_date: string; absent: boolean }>(
    `SELECT u.id, u.birth_date::text, u.absent_since IS NOT NULL AS absent FROM users u JOIN user_structures us ON us.user_id = u.id
     JOIN structures s ON s.id = us.structure_id WHERE s.name = $1 AND u.first_name = 'Léa' ORDER BY u.birth_date`,
    [school],
  );

async function leaverThenNamesake(school: string, june: string, september: string) {
  const v1 = await importFiles(ctx, collectInputs([join(dir, june)]), opts(school));
  assert.equal(v1.fatal, null, formatReport(v1));
  const [leaver] = await leas(school);
  await q(`UPDATE users SET activated_at = now(), password_hash = 'x', email = 'sophie.martin@example.org' WHERE id = $1`, [leaver.id]);
  const v2 = await importFiles(ctx, collectInputs([join(dir, september)]), opts(school));
  assert.equal(v2.fatal, null, formatReport(v2));
  const after = await leas(school);
  // The leaver's account keeps her date (kept or in its grace period, as any activated near-twin); the newcomer has her own.
  assert.deepEqual(
    after.map((x) => [x.id === leaver.id, x.birth_date]),
    [
      [true, '2019-03-01'],
      [false, '2019-07-07'],
    ],
    formatReport(v2),
  );
  assert.equal(after[1].absent, false);
}

write('juin', ['Léa;MARTIN;01/03/2019;CP', 'Hugo;BLANC;02/02/2019;CP', 'Zoé;NOIR;04/04/2019;CP'], ['MARTIN;Sophie;MARTIN;Léa;CP', 'BLANC;Marc;BLANC;Hugo;CP']);
// September: the CP moved to CE1, Léa went away, another Léa MARTIN (another family) starts in CP.
write('septembre', ['Hugo;BLANC;02/02/2019;CE1', 'Zoé;NOIR;04/04/2019;CE1', 'Léa;MARTIN;07/07/2019;CP'], ['BLANC;Marc;BLANC;Hugo;CE1', 'MARTIN;Paul;MARTIN;Léa;CP']);
// In the year: the class stays, Léa went away, another Léa MARTIN (another family) joins it.
write('janvier', ['Hugo;BLANC;02/02/2019;CP', 'Zoé;NOIR;04/04/2019;CP', 'Léa;MARTIN;07/07/2019;CP'], ['BLANC;Marc;BLANC;Hugo;CP', 'MARTIN;Paul;MARTIN;Léa;CP']);

test('September: a namesake born another day in a class of the leaver’s name gets her own account', async () => {
  await leaverThenNamesake('École des Saules', 'juin', 'septembre');
});

test('in the year: a namesake of another family in the leaver’s class gets her own account', async () => {
  await leaverThenNamesake('École des Frênes', 'juin', 'janvier');
});
