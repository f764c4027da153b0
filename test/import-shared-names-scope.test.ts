// A row refused for a key naming someone else protects, by kind of person and folded names, an account of theirs the
// run would find absent — in the refused row's own structures only: a namesake who left another school of the same
// run is pre-deleted as before. (Found by a review.)
import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { collectInputs, formatReport, importFiles } from '../src/import/index.js';
import { fileContext, fileTempDir } from './helpers/db.js';

const ctx = await fileContext();
const tmp = fileTempDir('trousseau-review2-protect-');

const people = async (school: string) =>
  (
    await ctx.database.pool.query(
      `SELECT u.profile || ' ' || u.first_name || ' ' || u.last_name || CASE WHEN u.absent_since IS NULL AND u.pre_deleted_at IS NULL THEN '' ELSE ' (absent)' END AS p
       FROM users u JOIN user_structures us ON us.user_id = u.id JOIN structures s ON s.id = us.structure_id WHERE s.name = $1 ORDER BY 1`,
      [school],
    )
  ).rows.map((x) => x.p as string);

function run(name: string, a: string, b: string) {
  const root = join(tmp, name);
  const A = join(root, 'Collège Alpha@A1_0750001A');
  const B = join(root, 'Collège Bêta@B1_0750002B');
  mkdirSync(A, { recursive: true });
  mkdirSync(B, { recursive: true });
  writeFileSync(join(A, 'CSV_Eleves.csv'), a);
  writeFileSync(join(B, 'CSV_Eleves.csv'), b);
  return importFiles(ctx, collectInputs([root]), { dryRun: false, scope: { kind: 'all' } });
}

const HEAD = 'Id;Nom;Prénom;Date de naissance;Classe\n';
const A1 = `${HEAD}E1;MARTIN;Léa;01/02/2014;6A\nE2;DURAND;Tom;03/04/2013;6A\nE3;PETIT;Inès;05/06/2013;6B\n`;
const B1 = `${HEAD}B1;DURAND;Tom;07/08/2012;5A\nB2;ROUX;Zoé;09/10/2012;5A\n`;

test('a pupil who left school B is pre-deleted though a homonym’s row of school A is refused for a shared key', async () => {
  const first = await run('one', A1, B1);
  assert.equal(first.created, 5, formatReport(first));
  // School A: Tom's row carries Inès's identifier (both refused, Tom's account protected: 185b717's case).
  // School B: Tom DURAND (another boy, B1) has left.
  const second = await run('two', A1.replace('E2;DURAND;Tom', 'E3;DURAND;Tom'), `${HEAD}B2;ROUX;Zoé;09/10/2012;5A\n`);
  assert.equal(second.fatal, null, formatReport(second));
  assert.deepEqual(await people('Collège Alpha'), ['Student Inès PETIT', 'Student Léa MARTIN', 'Student Tom DURAND']);
  assert.deepEqual(await people('Collège Bêta'), ['Student Tom DURAND (absent)', 'Student Zoé ROUX'], formatReport(second));
});
