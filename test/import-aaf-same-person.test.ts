// One person in two records of a run (two PersEducNat files of a delivery, each with the functions of one school) is
// one account with the functions of both: a head of school's DIR, or a teacher's ENS, given by the first record is
// not lost to the second (the reference ENT adds up the functions of one person given by two feeds:
// PersonnelImportProcessing1d, « 1D2D support »). Invented files: test/fixtures/aaf/same-person/.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { collectInputs, formatReport, importFiles, type ImportReport } from '../src/import/index.js';
import { fileContext, sqlReaders } from './helpers/db.js';

const DIR = new URL('./fixtures/aaf/same-person/', import.meta.url).pathname;
const ctx = await fileContext();
const { q } = sqlReaders(ctx);

const run = async (dryRun = false): Promise<ImportReport> => {
  const report = await importFiles(ctx, collectInputs([DIR]), { scope: { kind: 'all' }, dryRun });
  assert.equal(report.fatal, null, formatReport(report));
  assert.deepEqual(report.rejected, [], formatReport(report));
  return report;
};
const account = async (ext: string) =>
  (await q<{ profile: string; functions: string[] }>(`SELECT profile, functions FROM users WHERE external_id = $1`, [ext]))[0];
/** The jointures of the structures a person is in (`user_structures`) or administers (`local_admins`), or her classes. */
const ofPerson = (sql: string) => async (ext: string) =>
  (await q<{ x: string }>(`SELECT DISTINCT ${sql} WHERE u.external_id = $1 ORDER BY 1`, [ext])).map((r) => r.x);
const structuresOf = ofPerson(`s.external_id AS x FROM users u JOIN user_structures t ON t.user_id = u.id JOIN structures s ON s.id = t.structure_id`);
const adminOf = ofPerson(`s.external_id AS x FROM users u JOIN local_admins t ON t.user_id = u.id JOIN structures s ON s.id = t.structure_id`);
const classesOf = ofPerson(
  `s.external_id || '$' || c.name AS x FROM users u JOIN user_classes t ON t.user_id = u.id JOIN classes c ON c.id = t.class_id JOIN structures s ON s.id = c.structure_id`,
);

test('a person in two PersEducNat files keeps the functions of both: teacher of one school, head of the other', async () => {
  const dry = await run(true);
  assert.deepEqual(
    [dry.created, dry.byProfile.Teacher?.created, dry.byProfile.Personnel?.created ?? 0],
    [2, 2, 0],
    `two people, two accounts, both teach (the report counts them as teachers): ${formatReport(dry)}`,
  );

  const report = await run();
  assert.equal(report.created, 2, `two accounts: ${formatReport(report)}`);
  assert.equal(report.byProfile.Teacher?.created, 2, `both teach in 96001: ${formatReport(report)}`);

  // VASSEUR: maths teacher in 96001 (first file), deputy head of 96002 (second file).
  const vasseur = await account('P901');
  assert.equal(vasseur.profile, 'Teacher', 'a teacher of 96001 stays a teacher when the second file gives her a DIR function only');
  assert.deepEqual(
    [...vasseur.functions].sort(),
    ['96001$ENS$ENSEIGNEMENT$L1300$MATHEMATIQUES', '96002$DIR$DIRECTION$-$DIRECTION ADJOINT AU CHEF ETABLISSEMENT'],
    'the functions of both files',
  );
  assert.deepEqual(await structuresOf('P901'), ['96001', '96002'], 'in both schools');
  assert.deepEqual(await classesOf('P901'), ['96001$4A'], 'her class');
  assert.deepEqual(await adminOf('P901'), ['96002'], 'local administrator of the school her DIR function names');

  // N'DIAYE: head of 96002 (first file), philosophy teacher in 96001 (second file).
  const ndiaye = await account('P902');
  assert.equal(ndiaye.profile, 'Teacher', 'teacher (second file)');
  assert.deepEqual(
    [...ndiaye.functions].sort(),
    ['96001$ENS$ENSEIGNEMENT$L0100$PHILOSOPHIE', "96002$DIR$DIRECTION$-$DIRECTION CHEF D'ETABLISSEMENT"],
    'the DIR function of the first file is not lost to the second',
  );
  assert.deepEqual(await structuresOf('P902'), ['96001', '96002'], 'in both schools');
  assert.deepEqual(await adminOf('P902'), ['96002'], 'head of 96002: its local administrator');
  assert.deepEqual(
    report.adminChanges?.map((x) => x.name).sort(),
    ['Hélène VASSEUR', "Moussa N'DIAYE"],
    `both appointments said: ${formatReport(report)}`,
  );

  // The same delivery again: nothing to change, nobody loses a function or an administration.
  const again = await run();
  assert.equal(again.created + again.updated, 0, `unchanged: ${formatReport(again)}`);
  assert.equal(again.adminChanges, undefined, `no administration taken back: ${formatReport(again)}`);
  assert.deepEqual([await adminOf('P901'), await adminOf('P902')], [['96002'], ['96002']], 'still administrators');
});
