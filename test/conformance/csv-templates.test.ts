// The reference ENT's French CSV templates (../shared/fixtures/csv-templates), counts read from the files:
// 7 pupils, 3 teachers, 3 staff, 3 guests, 8 parent rows (8 different parents, children by name + class).
import assert from 'node:assert/strict';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import iconv from 'iconv-lite';
import { collectInputs, formatReport, importFiles, type ImportOptions } from '../../src/import/index.js';
import { fileContext, fileTempDir, FIXTURES, sqlReaders } from '../helpers/db.js';

const TPL = join(FIXTURES, 'csv-templates');
const opts = (o: Partial<ImportOptions> = {}): ImportOptions => ({ dryRun: false, scope: { kind: 'all' }, ...o });

const ctx = await fileContext();
const tmp = fileTempDir('trousseau-tpl-');
const { q, count } = sqlReaders(ctx);

const snapshot = async () =>
  JSON.stringify(await q(`SELECT external_id, login, activation_code_enc, first_name, last_name, email, updated_at, pre_deleted_at FROM users ORDER BY external_id`)) +
  JSON.stringify(await q(`SELECT (SELECT count(*) FROM relations) r, (SELECT count(*) FROM user_classes) c, (SELECT count(*) FROM structures) s`));
const classesOf = async (id: string) =>
  (await q<{ name: string }>(`SELECT c.name FROM user_classes uc JOIN classes c ON c.id = uc.class_id WHERE uc.user_id = $1 ORDER BY 1`, [id])).map((r) => r.name);
const childrenOf = async (id: string) =>
  (await q<{ n: string }>(`SELECT c.last_name || ' ' || c.first_name n FROM relations r JOIN users c ON c.id = r.child_id WHERE r.parent_id = $1 ORDER BY 1`, [id])).map((r) => r.n);

test('the French templates import into the structure given by UAI', async () => {
  const report = await importFiles(ctx, collectInputs([TPL]), opts({ structureHint: '0123456a' }));
  assert.equal(report.fatal, null, formatReport(report));
  assert.deepEqual(report.rejected, []);
  assert.deepEqual(report.structures.map(({ accounts: _, ...s }) => s), [{ name: 'Établissement 0123456A', uai: '0123456A', created: true }]);
  assert.deepEqual(report.files.map((f) => [f.file, f.encoding, f.rows]), [
    ['CSV_Eleves.csv', 'ISO-8859-1', 7], ['CSV_Enseignants.csv', 'ISO-8859-1', 3], ['CSV_Invites.csv', 'ISO-8859-1', 3],
    ['CSV_Parents.csv', 'ISO-8859-1', 8], ['CSV_Personnels.csv', 'ISO-8859-1', 3],
  ]);
  const [sid] = (await q<{ id: string }>(`SELECT id FROM structures WHERE uai = '0123456A'`)).map((r) => r.id);
  const inStructure = `EXISTS (SELECT 1 FROM user_structures us WHERE us.user_id = u.id AND us.structure_id = '${sid}')`;
  const byProfile = await q<{ profile: string; n: string }>(`SELECT profile, count(*) n FROM users u WHERE ${inStructure} GROUP BY 1 ORDER BY 1`);
  assert.deepEqual(byProfile.map((r) => [r.profile, Number(r.n)]), [['Guest', 3], ['Personnel', 3], ['Relative', 8], ['Student', 7], ['Teacher', 3]]);
  // The report's figures for the school are what the import left there.
  const made = Object.entries(report.structures[0].accounts ?? {}).map(([p, c]) => [p, c.created]).sort();
  assert.deepEqual(made, byProfile.map((r) => [r.profile, Number(r.n)]));

  const [lea] = await q<Record<string, string>>(`SELECT * FROM users u WHERE first_name = 'Léa' AND last_name = 'COLIN' AND ${inStructure}`);
  assert.equal(lea.birth_date, '2014-08-13');
  assert.deepEqual(await classesOf(lea.id), ['CP de Mme BROSSARD']);
  assert.equal(lea.external_id, `csv:${sid}:Student:colin:lea:2014-08-13`);
  const [felicite] = await q<Record<string, string>>(`SELECT * FROM users u WHERE last_name = 'SIMANI'`);
  assert.deepEqual([felicite.first_name, felicite.profile, felicite.email, felicite.phone], ['Félicité', 'Teacher', 'no-reply@entcore.org', '01 02 03 04 05']);
  assert.deepEqual(await classesOf(felicite.id), ['CSV1', 'CSV2']);
  const [julie] = await q<Record<string, string>>(`SELECT * FROM users u WHERE first_name = 'Julie' AND last_name = 'COLIN'`);
  assert.deepEqual(await childrenOf(julie.id), ['COLIN Léa', 'COLIN Théo', 'COLIN Zoé']);
  assert.equal(report.relations.unresolved, 0);

  const before = await snapshot();
  const again = await importFiles(ctx, collectInputs([TPL]), opts({ structureHint: 'Établissement 0123456A' }));
  assert.deepEqual([again.created, again.updated, again.preDeleted], [0, 0, 0]);
  assert.equal(await snapshot(), before);
});

test('an update changes facts, never login, code, password, nor an activated user’s e-mail', async () => {
  const [before] = await q<Record<string, unknown>>(`SELECT * FROM users WHERE last_name = 'SIMANI'`);
  await q(`UPDATE users SET password_hash = 'argon-hash', activated_at = now(), email = 'perso@example.org' WHERE id = $1`, [before.id]);
  const [raoulBefore] = await q<Record<string, unknown>>(`SELECT * FROM users WHERE last_name = 'ARCHAMBAULT'`);
  const text = iconv
    .decode(readFileSync(join(TPL, 'CSV_Enseignants.csv')), 'latin1')
    .replace(';CSV1;CSV2', ';CSV1;')
    .replace(/01 02 03 04 05;06 05 04 03 02;no-reply@entcore\.org/g, '09 99 99 99 99;;nouveau@example.org');
  const report = await importFiles(ctx, [{ name: 'CSV_Enseignants.csv', data: iconv.encode(text, 'latin1') }], opts({ structureHint: '0123456A' }));
  assert.deepEqual([report.created, report.updated, report.unchanged, report.preDeleted], [0, 3, 0, 0], formatReport(report));
  const [after] = await q<Record<string, unknown>>(`SELECT * FROM users WHERE id = $1`, [before.id]);
  assert.equal(after.email, 'perso@example.org');
  assert.equal(after.phone, '09 99 99 99 99');
  for (const k of ['login', 'activation_code_enc', 'activation_code_mac', 'created_at', 'external_id']) assert.deepEqual(after[k], before[k], k);
  assert.equal(after.password_hash, 'argon-hash');
  assert.deepEqual(await classesOf(before.id as string), ['CSV1']);
  const [raoul] = await q<Record<string, unknown>>(`SELECT * FROM users WHERE last_name = 'ARCHAMBAULT'`);
  assert.equal(raoul.email, 'nouveau@example.org');
  assert.equal(raoul.login, raoulBefore.login);
});

test('a pupil removed from the file is pre-deleted in that structure only, and restored when back', async () => {
  const original = readFileSync(join(TPL, 'CSV_Eleves.csv'));
  const first = await importFiles(ctx, [{ name: 'CSV_Eleves.csv', data: original }], opts({ structureHint: 'Collège Voisin' }));
  assert.equal(first.created, 7);
  assert.deepEqual((await q<{ login: string }>(`SELECT login FROM users WHERE first_name = 'Léa' AND last_name = 'COLIN' ORDER BY login`)).map((r) => r.login), ['lea.colin', 'lea.colin2']);
  const dir = join(tmp, 'predelete');
  mkdirSync(dir);
  writeFileSync(join(dir, 'CSV_Eleves.csv'), iconv.encode(iconv.decode(original, 'latin1').replace(/^Mathias;LEGRAND.*\r\n/m, ''), 'latin1'));
  const without = await importFiles(ctx, collectInputs([dir]), opts({ structureHint: 'Collège Voisin' }));
  assert.deepEqual([without.preDeleted, without.unchanged, without.renamed.length], [1, 6, 0], formatReport(without));
  assert.equal(await count(`SELECT count(*) n FROM users WHERE first_name = 'Mathias' AND last_name = 'LEGRAND' AND absent_since IS NULL AND pre_deleted_at IS NULL`), 1);
  const back = await importFiles(ctx, [{ name: 'CSV_Eleves.csv', data: original }], opts({ structureHint: 'Collège Voisin' }));
  assert.deepEqual([back.restored, back.preDeleted, back.created], [1, 0, 0]);
});
