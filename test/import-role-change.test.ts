// A teacher who becomes staff (or back) in a school's name-keyed CSV files keeps her account: the profile is part of
// the name-built key (csv:<structure>:<profile>:…), so the row in the other file must adopt the account, not create a
// second one beside the activated one sent to its grace period.
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { test } from 'node:test';
import { collectInputs, formatReport, importFiles, type ImportOptions } from '../src/import/index.js';
import { fileContext, sqlReaders } from './helpers/db.js';

const RENAME = join(new URL('./fixtures/', import.meta.url).pathname, 'csv', 'rename');
const opts = (o: Partial<ImportOptions> = {}): ImportOptions => ({ dryRun: false, scope: { kind: 'all' }, structureHint: 'École des Rôles', ...o });

const ctx = await fileContext();
const { q } = sqlReaders(ctx);

test('a teacher moved to the staff file keeps her (activated) account, now staff; nobody duplicated or sent away', async () => {
  const v1 = await importFiles(ctx, collectInputs([join(RENAME, 'role-v1')]), opts());
  assert.deepEqual([v1.created, v1.rejected.length], [4, 0], formatReport(v1));
  await q(`UPDATE users SET activated_at = now(), password_hash = 'hash' WHERE last_name IN ('DELORME', 'FAUVEL')`);
  const before = await q<{ id: string; login: string; last_name: string }>(`SELECT id, login, last_name FROM users WHERE external_id IS NOT NULL ORDER BY last_name`);

  const dry = await importFiles(ctx, collectInputs([join(RENAME, 'role-v2')]), opts({ dryRun: true }));
  assert.deepEqual([dry.created, dry.updated, dry.preDeleted], [0, 2, 0], formatReport(dry));
  const v2 = await importFiles(ctx, collectInputs([join(RENAME, 'role-v2')]), opts());
  assert.deepEqual([v2.created, v2.updated, v2.unchanged, v2.preDeleted], [0, 2, 2, 0], formatReport(v2));
  const now = await q<{ id: string; login: string; last_name: string; profile: string; absent_since: Date | null; password_hash: string | null }>(
    `SELECT id, login, last_name, profile, absent_since, password_hash FROM users WHERE external_id IS NOT NULL ORDER BY last_name`,
  );
  assert.deepEqual(now.map((u) => [u.id, u.login]), before.map((u) => [u.id, u.login]), 'same accounts, same logins');
  assert.deepEqual(now.map((u) => [u.last_name, u.profile, u.absent_since, u.password_hash]), [
    ['DELORME', 'Personnel', null, 'hash'],
    ['FAUVEL', 'Personnel', null, 'hash'],
    ['MARCHAL', 'Teacher', null, null],
    ['RIVIÈRE', 'Personnel', null, null],
  ]);
  // Staff now: no class of a teacher left behind.
  assert.deepEqual(await q(`SELECT u.last_name FROM user_classes uc JOIN users u ON u.id = uc.user_id ORDER BY 1`), [{ last_name: 'MARCHAL' }]);

  // The same files again: nothing changes.
  const again = await importFiles(ctx, collectInputs([join(RENAME, 'role-v2')]), opts());
  assert.deepEqual([again.created, again.updated, again.preDeleted], [0, 0, 0], formatReport(again));
});

test('a namesake in the other file is not adopted when the birth dates differ', async () => {
  await importFiles(ctx, [{ name: 'CSV_Enseignants.csv', data: Buffer.from('Prénom;Nom;Date de naissance\nHugo;LENOIR;01/01/1970\nIris;VIDAL;\n') }], opts({ structureHint: 'École Homonymes' }));
  const r = await importFiles(ctx, [
    { name: 'CSV_Enseignants.csv', data: Buffer.from('Prénom;Nom;Date de naissance\nIris;VIDAL;\n') },
    { name: 'CSV_Personnels.csv', data: Buffer.from('Prénom;Nom;Date de naissance\nHugo;LENOIR;02/02/1990\n') },
  ], opts({ structureHint: 'École Homonymes' }));
  assert.deepEqual([r.created, r.preDeleted], [1, 1], formatReport(r));
});

test('the report says the profile changed, not a rename', async () => {
  await importFiles(ctx, [{ name: 'CSV_Personnels.csv', data: Buffer.from('Prénom;Nom\nJules;BRUN\n') }], opts({ structureHint: 'École Rapport' }));
  const r = await importFiles(ctx, [{ name: 'CSV_Enseignants.csv', data: Buffer.from('Prénom;Nom\nJules;BRUN\n') }, { name: 'CSV_Personnels.csv', data: Buffer.from('Prénom;Nom\n') }], opts({ structureHint: 'École Rapport' }));
  assert.deepEqual([r.created, r.updated, r.preDeleted, r.renamed.length], [0, 1, 0, 0], formatReport(r));
  assert.match(formatReport(r), /jules\.brun — Jules BRUN : profil « Personnel » → « Enseignant »/);
});
