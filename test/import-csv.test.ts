// CSV imports: ONDE/BE1D extraction and the ENT CSV templates (ISO-8859-1, `;`), idempotence, collisions, bad input, CLI.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import iconv from 'iconv-lite';
import { collectInputs, formatReport, importFiles } from '../src/import/index.js';
import { FIXTURES, freshDatabase, testContext } from './helpers/db.js';

const BE1D = join(FIXTURES, 'be1d-emile-zola');
const TPL = join(FIXTURES, 'csv-templates');
let ctx: Awaited<ReturnType<typeof testContext>>;
let tmp: string;

before(async () => {
  ctx = await testContext();
  tmp = mkdtempSync(join(tmpdir(), 'trousseau-csv-'));
});
after(async () => {
  await ctx.close();
  rmSync(tmp, { recursive: true, force: true });
});

const q = async <T = Record<string, unknown>>(sql: string, params: unknown[] = []) => (await ctx.database.pool.query(sql, params)).rows as T[];
const count = async (sql: string, params: unknown[] = []) => Number((await q<{ n: string }>(sql, params))[0].n);
const snapshot = async () =>
  JSON.stringify(await q(`SELECT external_id, login, activation_code_enc, first_name, last_name, email, updated_at, pre_deleted_at FROM users ORDER BY external_id`)) +
  JSON.stringify(await q(`SELECT (SELECT count(*) FROM relations) r, (SELECT count(*) FROM user_classes) c, (SELECT count(*) FROM structures) s`));
const latin1 = (s: string) => iconv.encode(s.replace(/\n/g, '\r\n'), 'latin1');
/** Classes of a user, by name. */
const classesOf = async (id: string) =>
  (await q<{ name: string }>(`SELECT c.name FROM user_classes uc JOIN classes c ON c.id = uc.class_id WHERE uc.user_id = $1 ORDER BY 1`, [id])).map((r) => r.name);
const childrenOf = async (id: string) =>
  (await q<{ n: string }>(`SELECT c.last_name || ' ' || c.first_name n FROM relations r JOIN users c ON c.id = r.child_id WHERE r.parent_id = $1 ORDER BY 1`, [id])).map((r) => r.n);

test('the BE1D folder imports into "École Emile Zola", children matched by name and class', async () => {
  const report = await importFiles(ctx, collectInputs([BE1D]), { scope: { kind: 'all' }, dryRun: false });
  assert.equal(report.fatal, null, formatReport(report));
  assert.deepEqual(report.rejected, []);
  assert.deepEqual(report.structures, [{ name: 'École Emile Zola', uai: null, created: true }]);
  assert.deepEqual(report.files.map((f) => [f.format, f.rows]), [['ONDE/BE1D élèves', 247], ['ONDE/BE1D enseignants', 14], ['ONDE/BE1D parents', 469]]);
  assert.equal(await count(`SELECT count(*) n FROM users WHERE profile = 'Student' AND source = 'be1d' AND origin = 'feed'`), 247);
  assert.equal(await count(`SELECT count(*) n FROM users WHERE profile = 'Teacher'`), 14);
  assert.equal(await count(`SELECT count(*) n FROM users WHERE profile = 'Relative'`), 469);
  assert.equal(report.relations.unresolved, 0);

  // ISO-8859-1 accents arrive intact; date, class and level.
  const [elea] = await q<Record<string, string>>(`SELECT * FROM users WHERE last_name = 'CAILLET' AND first_name = 'Eléa'`);
  assert.equal(elea.birth_date, '2006-09-27');
  assert.equal(elea.login, 'elea.caillet');
  assert.deepEqual(await q(`SELECT c.name, l.name AS level FROM user_classes uc JOIN classes c ON c.id = uc.class_id JOIN levels l ON l.id = c.level_id WHERE uc.user_id = $1`, [elea.id]), [{ name: 'CE1', level: 'CE1' }]);

  // A parent listing three children by position.
  const [corinne] = await q<Record<string, string>>(`SELECT * FROM users WHERE last_name = 'ADJIBEL' AND first_name = 'Corinne'`);
  assert.equal(corinne.title, 'Mme');
  assert.deepEqual(await childrenOf(corinne.id), ['DRAHONNET Cassandra', 'MARTINEZ Alexandre', 'MARTINEZ Marjolaine']);
  const [town] = await q(`SELECT count(*) n FROM users WHERE first_name = 'Stéphane' AND last_name = 'ALEXANDRE'`);
  assert.equal(Number(town.n), 1);

  const [jp] = await q<Record<string, string>>(`SELECT * FROM users WHERE last_name = 'FONTAINE'`);
  assert.equal(jp.login, 'jean-paul.fontaine');
  assert.deepEqual(await classesOf(jp.id), ['MS']);

  // Same folder again: nothing changes.
  const before = await snapshot();
  const again = await importFiles(ctx, collectInputs([BE1D]), { scope: { kind: 'all' }, dryRun: false });
  assert.deepEqual([again.created, again.updated, again.preDeleted, again.unchanged], [0, 0, 0, 730]);
  assert.deepEqual(again.structures, [{ name: 'École Emile Zola', uai: null, created: false }]);
  assert.equal(await snapshot(), before);
});

test('the ENT CSV templates import into the structure given by UAI', async () => {
  const report = await importFiles(ctx, collectInputs([TPL]), { scope: { kind: 'all' }, dryRun: false, structureHint: '0123456a' });
  assert.equal(report.fatal, null, formatReport(report));
  assert.deepEqual(report.rejected, []);
  assert.deepEqual(report.structures, [{ name: 'Établissement 0123456A', uai: '0123456A', created: true }]);
  const [sid] = (await q<{ id: string }>(`SELECT id FROM structures WHERE uai = '0123456A'`)).map((r) => r.id);
  const inStructure = `EXISTS (SELECT 1 FROM user_structures us WHERE us.user_id = u.id AND us.structure_id = '${sid}')`;
  const byProfile = await q<{ profile: string; n: string }>(`SELECT profile, count(*) n FROM users u WHERE ${inStructure} GROUP BY 1 ORDER BY 1`);
  assert.deepEqual(byProfile.map((r) => [r.profile, Number(r.n)]), [['Guest', 3], ['Personnel', 3], ['Relative', 8], ['Student', 7], ['Teacher', 3]]);
  assert.equal(await count(`SELECT count(*) n FROM users u WHERE ${inStructure} AND (origin <> 'manual' OR source <> 'csv')`), 0);

  const [lea] = await q<Record<string, string>>(`SELECT * FROM users u WHERE first_name = 'Léa' AND last_name = 'COLIN' AND ${inStructure}`);
  assert.equal(lea.birth_date, '2014-08-13');
  assert.deepEqual(await classesOf(lea.id), ['CP de Mme BROSSARD']);
  assert.match(lea.external_id, new RegExp(`^csv:${sid}:Student:colin:lea:2014-08-13$`));

  const [felicite] = await q<Record<string, string>>(`SELECT * FROM users u WHERE last_name = 'SIMANI'`);
  assert.equal(felicite.first_name, 'Félicité');
  assert.equal(felicite.profile, 'Teacher');
  assert.equal(felicite.email, 'no-reply@entcore.org');
  assert.equal(felicite.phone, '01 02 03 04 05');
  assert.deepEqual(await classesOf(felicite.id), ['CSV1', 'CSV2']);

  const [julie] = await q<Record<string, string>>(`SELECT * FROM users u WHERE first_name = 'Julie' AND last_name = 'COLIN'`);
  assert.equal(julie.profile, 'Relative');
  assert.deepEqual(await childrenOf(julie.id), ['COLIN Léa', 'COLIN Théo', 'COLIN Zoé']);
  const [valerie] = await q<Record<string, string>>(`SELECT * FROM users u WHERE first_name = 'Valérie' AND last_name = 'MOULIN'`);
  assert.deepEqual(await childrenOf(valerie.id), ['MEUNIER Alice', 'MEUNIER Antoine']);

  // Idempotent.
  const before = await snapshot();
  const again = await importFiles(ctx, collectInputs([TPL]), { scope: { kind: 'all' }, dryRun: false, structureHint: 'Établissement 0123456A' });
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
  const report = await importFiles(ctx, [{ name: 'CSV_Enseignants.csv', data: iconv.encode(text, 'latin1') }], { scope: { kind: 'all' }, dryRun: false, structureHint: '0123456A' });
  assert.deepEqual([report.created, report.updated, report.unchanged, report.preDeleted], [0, 3, 0, 0], formatReport(report));
  const [after] = await q<Record<string, unknown>>(`SELECT * FROM users WHERE id = $1`, [before.id]);
  assert.equal(after.email, 'perso@example.org');
  assert.equal(after.phone, '09 99 99 99 99');
  assert.equal(after.password_hash, 'argon-hash');
  for (const k of ['login', 'activation_code_enc', 'activation_code_mac', 'created_at', 'external_id']) assert.deepEqual(after[k], before[k], k);
  assert.deepEqual(await classesOf(before.id as string), ['CSV1']);
  // Not yet activated: the school's e-mail still applies.
  const [raoul] = await q<Record<string, unknown>>(`SELECT * FROM users WHERE last_name = 'ARCHAMBAULT'`);
  assert.equal(raoul.email, 'nouveau@example.org');
  assert.equal(raoul.login, raoulBefore.login);
  assert.ok((raoul.updated_at as Date) > (raoulBefore.updated_at as Date));
});

test('logins never collide across imports', async () => {
  const report = await importFiles(ctx, [{ name: 'CSV_Eleves.csv', path: join(TPL, 'CSV_Eleves.csv') }], { scope: { kind: 'all' }, dryRun: false, structureHint: 'Collège Voisin' });
  assert.equal(report.created, 7);
  const logins = (await q<{ login: string }>(`SELECT login FROM users WHERE first_name = 'Léa' AND last_name = 'COLIN' ORDER BY login`)).map((r) => r.login);
  assert.deepEqual(logins, ['lea.colin', 'lea.colin2']);
  assert.equal(await count(`SELECT count(*) - count(DISTINCT login) n FROM users`), 0);
});

test('a student removed from a CSV file is pre-deleted, and restored when back', async () => {
  const original = readFileSync(join(TPL, 'CSV_Eleves.csv'));
  const text = iconv.decode(original, 'latin1');
  const dir = join(tmp, 'predelete');
  mkdirSync(dir);
  writeFileSync(join(dir, 'CSV_Eleves.csv'), iconv.encode(text.replace(/^Mathias;LEGRAND.*\r\n/m, ''), 'latin1'));
  const without = await importFiles(ctx, collectInputs([dir]), { scope: { kind: 'all' }, dryRun: false, structureHint: 'Collège Voisin' });
  assert.equal(without.preDeleted, 1, formatReport(without) + JSON.stringify(await q(`SELECT first_name, last_name, external_id FROM users WHERE pre_deleted_at IS NOT NULL`)));
  assert.equal(without.unchanged, 6);
  // Only in that structure: the same child elsewhere stays.
  assert.equal(await count(`SELECT count(*) n FROM users WHERE first_name = 'Mathias' AND last_name = 'LEGRAND' AND pre_deleted_at IS NOT NULL`), 1);
  assert.equal(await count(`SELECT count(*) n FROM users WHERE first_name = 'Mathias' AND last_name = 'LEGRAND' AND pre_deleted_at IS NULL`), 1);
  const back = await importFiles(ctx, [{ name: 'CSV_Eleves.csv', data: original }], { scope: { kind: 'all' }, dryRun: false, structureHint: 'Collège Voisin' });
  assert.deepEqual([back.restored, back.preDeleted, back.created], [1, 0, 0]);
  assert.equal(await count(`SELECT count(*) n FROM users WHERE pre_deleted_at IS NOT NULL`), 0);
});

test('bad rows are rejected with file:line:field, the others imported; hostile names kept as-is', async () => {
  const csv = latin1(
    'Prénom*;Nom*;Date de naissance*;Classes*\n' +
      'Anaïs;Éluard;01/02/2013;CM1\n' +
      ';SANSPRENOM;01/02/2013;CM1\n' +
      'Noël;Dâté;31/02/2013;CM1\n' +
      '=CMD();=HYPERLINK("x");03/04/2013;CM1\n',
  );
  const report = await importFiles(ctx, [{ name: 'CSV_Eleves.csv', data: csv }], { scope: { kind: 'all' }, dryRun: false, structureHint: 'École des Tests' });
  assert.equal(report.fatal, null);
  assert.deepEqual(report.rejected, [
    { file: 'CSV_Eleves.csv', line: 3, field: 'Prénom', reason: 'champ obligatoire vide' },
    { file: 'CSV_Eleves.csv', line: 4, field: 'Date de naissance', reason: 'date invalide « 31/02/2013 » (attendu JJ/MM/AAAA)' },
  ]);
  assert.equal(report.created, 2);
  assert.match(formatReport(report), /CSV_Eleves\.csv:4:Date de naissance — date invalide/);
  const [hostile] = await q<Record<string, string>>(`SELECT first_name, last_name, login FROM users WHERE last_name LIKE '=HYPER%'`);
  assert.deepEqual(hostile, { first_name: '=CMD()', last_name: '=HYPERLINK("x")', login: 'cmd.hyperlinkx' });
  assert.equal((await q(`SELECT first_name FROM users WHERE last_name = 'Éluard'`))[0].first_name, 'Anaïs');
});

test('UTF-8 with BOM, commas and English headers; tab-separated Windows-1252', async () => {
  const utf8 = Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from('firstname,lastname,birthdate,class,Courriel\r\nÅslög,N\'Guessan,2012-05-06,6A,aslog@example.fr\r\n')]);
  const cp1252 = iconv.encode('Prenom\tNom\tFonction\tEmail\nŒdipe\tÇelik\tCPE\t\n', 'win1252');
  const report = await importFiles(ctx, [{ name: 'students.csv', data: utf8 }, { name: 'CSV_Personnels.csv', data: cp1252 }], { scope: { kind: 'all' }, dryRun: false, structureHint: 'École des Tests' });
  assert.equal(report.fatal, null, formatReport(report));
  assert.deepEqual(report.rejected, []);
  const [a] = await q<Record<string, string>>(`SELECT * FROM users WHERE first_name = 'Åslög'`);
  assert.deepEqual([a.last_name, a.birth_date, a.email, a.profile, a.login], ["N'Guessan", '2012-05-06', 'aslog@example.fr', 'Student', 'aslog.nguessan']);
  const [o] = await q<Record<string, string>>(`SELECT * FROM users WHERE last_name = 'Çelik'`);
  assert.deepEqual([o.first_name, o.profile], ['Œdipe', 'Personnel']);
});

test('a broken file (missing column, undecodable bytes, bad quoting) changes nothing and names file, line, field', async () => {
  const good = { name: 'CSV_Eleves.csv', path: join(TPL, 'CSV_Eleves.csv') };
  const cases: [string, Buffer, RegExp][] = [
    ['CSV_Eleves_sans_date.csv', latin1('Prénom*;Nom*;Classes*\nLéa;COLIN;CP\n'), /^CSV_Eleves_sans_date\.csv:1:Date de naissance — colonne obligatoire « Date de naissance » absente$/],
    ['CSV_Enseignants.csv', Buffer.concat([latin1('Prénom;Nom\nLéa;COLIN\n'), Buffer.from([0x4a, 0x81, 0x3b, 0x58, 0x0d, 0x0a])]), /^CSV_Enseignants\.csv:3 — encodage illisible/],
    ['CSV_Invites.csv', Buffer.from('Prénom;Nom\n\u0000\u0001\u0002;x\n'), /^CSV_Invites\.csv:2 — encodage illisible/],
    [
      'CSV_Personnels.csv',
      Buffer.concat([Buffer.from('Prénom;Nom\nHélène;Éluard\nAnaïs;Lévêque\n'), latin1('Noël;Crépin\n')]),
      /^CSV_Personnels\.csv:4 — encodage mélangé/,
    ],
    ['CSV_Parents.csv', latin1('Nom;Prénom\n"COLIN;Julie\nDUPONT;Julien\n'), /^CSV_Parents\.csv:\d+ — CSV mal formé/],
  ];
  for (const [name, data, want] of cases) {
    const before = await snapshot();
    const report = await importFiles(ctx, [good, { name, data }], { scope: { kind: 'all' }, dryRun: false, structureHint: 'Structure Jamais Créée' });
    assert.ok(report.fatal, name);
    const text = formatReport(report).split('\n');
    assert.equal(text[0], 'Import refusé : aucune modification enregistrée.');
    assert.match(text[1].trim(), want);
    assert.equal(await snapshot(), before, name);
  }
  assert.equal(await count(`SELECT count(*) n FROM structures WHERE name = 'Structure Jamais Créée'`), 0);
});

test('CLI: `trousseau import` prints a French report; exit 0, or 1 on refused input', async () => {
  const db = await freshDatabase();
  try {
    const env = { ...process.env, DATABASE_URL: db.url, TROUSSEAU_SECRET: '22'.repeat(32), TROUSSEAU_DATA_DIR: tmp };
    const cli = (...args: string[]) => spawnSync(process.execPath, ['--import', 'tsx', 'src/cli.ts', 'import', ...args], { env, encoding: 'utf8' });
    const dry = cli(BE1D, '--dry-run', '--structure', '0610001Z');
    assert.equal(dry.status, 0, dry.stderr);
    assert.match(dry.stdout, /Simulation \(--dry-run\) : aucune modification enregistrée\./);
    assert.match(dry.stdout, /Comptes : 730 créé\(s\)/);
    const bad = join(tmp, 'CSV_Eleves.csv');
    writeFileSync(bad, 'Prénom;Nom\nA;B\n');
    const refused = cli(bad);
    assert.equal(refused.status, 1);
    assert.match(refused.stderr, /CSV_Eleves\.csv:1:Date de naissance — colonne obligatoire/);
    const check = await db.pool.query('SELECT count(*) n FROM users');
    assert.equal(Number(check.rows[0].n), 0);
  } finally {
    await db.close();
  }
});

test('an account merged away by an admin is not recreated: its feed id updates the kept account', async (t) => {
  const hasAliases = (await q<{ t: string | null }>(`SELECT to_regclass('user_aliases')::text AS t`))[0].t;
  if (!hasAliases) return t.skip('user_aliases not migrated');
  const [dropped] = await q<Record<string, string>>(`SELECT * FROM users WHERE last_name = 'CAILLET' AND first_name = 'Eléa'`);
  const parents = await count(`SELECT count(*) n FROM relations WHERE child_id = $1`, [dropped.id]);
  // The same girl typed by hand, then merged: the manual account is kept, the feed one dropped.
  const [kept] = await q<Record<string, string>>(
    `INSERT INTO users (profile, first_name, last_name, login) VALUES ('Student', 'Elea', 'Caillet', 'elea.caillet2') RETURNING *`,
  );
  await q(`INSERT INTO user_structures (user_id, structure_id) SELECT $1, structure_id FROM user_structures WHERE user_id = $2`, [kept.id, dropped.id]);
  await q(`DELETE FROM users WHERE id = $1`, [dropped.id]);
  await q(`INSERT INTO user_aliases (external_id, user_id) VALUES ($1, $2)`, [dropped.external_id, kept.id]);
  const users = await count(`SELECT count(*) n FROM users`);
  const report = await importFiles(ctx, collectInputs([BE1D]), { scope: { kind: 'all' }, dryRun: false });
  assert.equal(report.fatal, null);
  assert.deepEqual([report.created, report.preDeleted], [0, 0], formatReport(report));
  assert.equal(await count(`SELECT count(*) n FROM users`), users);
  assert.deepEqual(await classesOf(kept.id), ['CE1']);
  const [after] = await q<Record<string, unknown>>(`SELECT * FROM users WHERE id = $1`, [kept.id]);
  assert.deepEqual([after.first_name, after.login, after.pre_deleted_at], ['Elea', 'elea.caillet2', null]);
  // Her parents, named on their rows, now point at the kept account.
  assert.ok(parents > 0);
  assert.equal(await count(`SELECT count(*) n FROM relations WHERE child_id = $1`, [kept.id]), parents);
  assert.deepEqual(report.rejected, []);
});
