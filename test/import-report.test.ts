// The import report, per file (format detected, encoding, rows, created/updated/unchanged/pre-deleted/ignored
// with reasons), in the CLI, as JSON from POST /api/import and in the console; a file of no supported format
// fails the whole run: exit code 1, HTTP 400, naming the file.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import yazl from 'yazl';
import { after, before, test } from 'node:test';
import type { FastifyInstance } from 'fastify';
import { collectInputs, formatReport, importFiles } from '../src/import/index.js';
import { formatChanges } from '../src/import/report.js';
import { createSession, SESSION_COOKIE } from '../src/web/auth.js';
import { reportView } from '../src/web/console/views/import.js';
import { buildServer } from '../src/web/server.js';
import { freshDatabase, testContext } from './helpers/db.js';
import { aafRecord as rec, aafXml as xml } from './helpers/aaf-feed.js';

const SIECLE = new URL('./fixtures/siecle/', import.meta.url).pathname;
const ALL = { kind: 'all' } as const;
let ctx: Awaited<ReturnType<typeof testContext>>;
let app: FastifyInstance;
let tmp: string;
let root: { cookie: string; csrf: string };
let school: string;

const q = async <T = Record<string, unknown>>(sql: string, params: unknown[] = []) => (await ctx.database.pool.query(sql, params)).rows as T[];
const accounts = async () => Number((await q<{ n: string }>(`SELECT count(*) n FROM users WHERE external_id IS NOT NULL`))[0].n);

before(async () => {
  ctx = await testContext();
  tmp = mkdtempSync(join(tmpdir(), 'trousseau-report-'));
  [{ id: school }] = await q<{ id: string }>(`INSERT INTO structures (name) VALUES ('École sans UAI') RETURNING id`);
  const [u] = await q<{ id: string }>(`INSERT INTO users (profile, first_name, last_name, login, is_super_admin, password_hash, activated_at)
     VALUES ('Personnel', 'Root', 'ADMIN', 'root.admin', true, 'x', now()) RETURNING id`);
  const s = await createSession(ctx.database.pool, u.id);
  root = { cookie: `${SESSION_COOKIE}=${s.token}`, csrf: s.csrf };
  app = await buildServer(ctx);
});
after(async () => {
  await app.close();
  await ctx.close();
  rmSync(tmp, { recursive: true, force: true });
});

const PLATANES = new URL('./fixtures/be1d/be1d-les-platanes/', import.meta.url).pathname;
const platanesFiles = () => ['CSVExtraction-eleves.csv', 'CSVExtraction-responsables.csv'].map((name) => ({ name, data: readFileSync(join(PLATANES, name)) }));
const siecleFiles = () => ['ElevesSansAdresses.xml', 'ResponsablesAvecAdresses.xml', 'Nomenclature.xml'].map((name) => ({ name, data: readFileSync(join(SIECLE, name)) }));

function multipart(files: Array<{ name: string; data: Buffer }>): { body: Buffer; type: string } {
  const boundary = '----trousseau-report-boundary';
  const parts: Buffer[] = [];
  for (const f of files) {
    parts.push(Buffer.from(`--${boundary}\r\nContent-Disposition: form-data; name="files"; filename="${f.name}"\r\nContent-Type: application/octet-stream\r\n\r\n`));
    parts.push(f.data, Buffer.from('\r\n'));
  }
  parts.push(Buffer.from(`--${boundary}--\r\n`));
  return { body: Buffer.concat(parts), type: `multipart/form-data; boundary=${boundary}` };
}

const post = (url: string, files: Array<{ name: string; data: Buffer }>) => {
  const { body, type } = multipart(files);
  return app.inject({ method: 'POST', url, headers: { 'content-type': type, cookie: root.cookie, 'x-csrf-token': root.csrf }, payload: body });
};

test('formatReport lists every file: format, encoding, rows, what became of them, and the ignored records with reasons', async () => {
  const report = await importFiles(ctx, [...collectInputs([SIECLE]), { name: 'ficAlimMENESR.dtd', data: Buffer.from('<!ELEMENT x ANY>') }], { scope: ALL, dryRun: true });
  const fr = formatReport(report, 'fr');
  assert.match(fr, /^Simulation \(--dry-run\) : aucune modification enregistrée\./);
  // Each line says what became of its rows, and they add up: 5 + 1 = 6, 4 + 3 = 7; a nomenclature holds MEFs.
  assert.match(fr, /\n {2}ElevesSansAdresses\.xml — SIECLE élèves — iso-8859-15 — 6 lignes — 5 créés, 1 ignoré\n/);
  assert.match(fr, /\n {2}ResponsablesAvecAdresses\.xml — SIECLE responsables — iso-8859-15 — 7 lignes — 4 créés, 3 ignorés\n/);
  assert.match(fr, /\n {2}Nomenclature\.xml — SIECLE nomenclature \(MEF\) — iso-8859-15 — 3 formations\n/);
  assert.match(fr, /\nÉtablissements \(un compte de plusieurs établissements compte dans chacun\) :\n {2}Établissement 0990001X — nouveau — 9 créés \(5 élèves, 4 parents\)\n/);
  assert.match(fr, /\n {2}ficAlimMENESR\.dtd — ignoré : DTD de l’annuaire académique : aucun compte\n/);
  assert.match(fr, /\nIgnorés, en tout ou en partie \(4 enregistrements\) :\n/);
  assert.match(fr, /\n {2}ResponsablesAvecAdresses\.xml, ligne \d+, NIVEAU_RESPONSABILITE : ROUX Paul : pas représentant légal \(NIVEAU_RESPONSABILITE 3\), aucun compte\n/);
  const en = formatReport(report, 'en');
  assert.match(en, /ElevesSansAdresses\.xml — SIECLE élèves — iso-8859-15 — 6 rows — 5 created, 1 ignored\n/);
  assert.match(en, /Nomenclature\.xml — SIECLE nomenclature \(MEF\) — iso-8859-15 — 3 courses\n/);
  assert.equal(await accounts(), 0, 'a dry run writes nothing');
});

test('the English report counts as English does: « 0 rows », « 1 row », « 0 files » (not « 0 row »)', () => {
  const file = (name: string, kind: 'csv' | 'zip', rows: number) => ({
    file: name, kind, format: kind === 'zip' ? 'archive .zip' : 'CSV élèves', encoding: kind === 'zip' ? null : 'utf-8', rows,
    created: 0, updated: 0, unchanged: 0, preDeleted: 0, restored: 0, ignored: 0, rejected: 0,
  });
  const report = {
    dryRun: true, fatal: null, files: [file('vide.csv', 'csv', 0), file('un.csv', 'csv', 1), file('vide.zip', 'zip', 0), file('un.zip', 'zip', 1)],
    created: 0, updated: 0, unchanged: 0, preDeleted: 0, restored: 0, rejected: [], ignored: [],
    structures: [], byProfile: {}, relations: { created: 0, removed: 0, unresolved: 0 }, renamed: [], durationMs: 10,
  };
  const en = formatReport(report as unknown as Parameters<typeof formatReport>[0], 'en');
  assert.match(en, /vide\.csv — CSV élèves — utf-8 — 0 rows\n/);
  assert.match(en, /un\.csv — CSV élèves — utf-8 — 1 row\n/);
  assert.match(en, /vide\.zip — archive \.zip — 0 files\n/);
  assert.match(en, /un\.zip — archive \.zip — 1 file\n/);
  const fr = formatReport(report as unknown as Parameters<typeof formatReport>[0], 'fr');
  assert.match(fr, /vide\.csv — CSV élèves — utf-8 — 0 ligne\n/);
  assert.match(fr, /vide\.zip — archive \.zip — 0 fichier\n/);
});

test('formatReport writes numbers as French does, and groups records ignored for the same reason', () => {
  const ignoredRelative = (i: number) => ({
    file: 'clean-ENT_PersRelEleve_0016.xml',
    line: 4 + 18 * i,
    field: 'ENTPersonJointure',
    reason: `Parent${i} Léa (${2004000 + i}) : aucun élève ne le désigne comme représentant légal, pas de compte`,
    message: { code: 'ignoredAafNotLegal' as const, params: { who: `Parent${i} Léa`, id: String(2004000 + i) } },
  });
  const left = (who: string) => ({
    file: 'Eleves.xml', line: 9, field: 'DATE_SORTIE', reason: `${who} : élève sorti le 03/07/2025, aucun compte`,
    message: { code: 'ignoredSiecleLeft' as const, params: { who, date: '03/07/2025' } },
  });
  const ignored = [ignoredRelative(0), left('DUPONT Léo'), ...Array.from({ length: 9085 }, (_, i) => ignoredRelative(i + 1))];
  const report = {
    dryRun: true, fatal: null, files: [], created: 2224, updated: 0, unchanged: 0, preDeleted: 0, restored: 0, rejected: [], ignored,
    structures: [], byProfile: {}, relations: { created: 911, removed: 0, unresolved: 0 }, renamed: [], durationMs: 7649,
  };
  const fr = formatReport(report, 'fr');
  // Narrow no-break space between thousands, decimal comma.
  assert.match(fr, /\nComptes : 2\u202f224 créés, 0 modifié/);
  assert.match(fr, /\nDurée : 7,6 s$/);
  assert.match(formatReport(report, 'en'), /\nAccounts : 2,224 created/);
  assert.match(formatReport(report, 'en'), /\nDuration: 7\.6 s$/);
  // 9,086 relatives no pupil names: one line, three of them; the pupil who left keeps their own line.
  assert.match(
    fr,
    /\nIgnorés, en tout ou en partie \(9\u202f087 enregistrements\) :\n {2}aucun élève ne le désigne comme représentant légal, pas de compte \(9\u202f086\), par exemple :\n {4}clean-ENT_PersRelEleve_0016\.xml, ligne 4, ENTPersonJointure : Parent0 Léa \(2004000\)\n {4}clean-ENT_PersRelEleve_0016\.xml, ligne 22, ENTPersonJointure : Parent1 Léa \(2004001\)\n {4}[^\n]+\(2004002\)\n {2}Eleves\.xml, ligne 9, DATE_SORTIE : DUPONT Léo : élève sorti le 03\/07\/2025, aucun compte\nDurée/,
  );
  assert.equal(fr.split('\n').length, 11, fr);
  // The console groups them the same way, in its language.
  const html = (lang: 'fr' | 'en') => String(reportView(lang, report as Parameters<typeof reportView>[1])).replace(/\s+</g, '<');
  assert.match(html('fr'), /<li data-ignored-group>aucun élève ne le désigne comme représentant légal, pas de compte \(9[\s\u202f]086\), par exemple :<ul><li><code>clean-ENT_PersRelEleve_0016\.xml, ligne 4, ENTPersonJointure : Parent0 Léa \(2004000\)<\/code><\/li>/);
  assert.match(html('en'), /<li data-ignored-group>no pupil names them as legal representative, no account \(9,086\), for instance:<ul><li><code>clean-ENT_PersRelEleve_0016\.xml, line 4, ENTPersonJointure: Parent0 Léa \(2004000\)<\/code><\/li>/);
  assert.match(html('en'), /<li><code>Eleves\.xml, line 9, DATE_SORTIE: DUPONT Léo: pupil left on 03\/07\/2025, no account<\/code><\/li>/);
  assert.equal((html('fr').match(/<li/g) ?? []).length, 5, 'one group of three, one record on its own');
});

test('a profile change is named as the report names people, not by its stored code', () => {
  const m = { login: 'j.dupont', name: 'Jean DUPONT', profile: 'Personnel' as const, changes: [{ field: 'profile' as const, from: 'Teacher', to: 'Personnel' }] };
  assert.equal(formatChanges(m), 'profil « Enseignant » → « Personnel »');
  assert.equal(formatChanges(m, 'en'), 'profile “Teacher” → “Staff”');
});

test('a re-import names the accounts whose fields it changes, with what changes, before anything is written', async () => {
  const own = await testContext();
  try {
    const files = collectInputs([SIECLE]);
    const first = await importFiles(own, files, { scope: ALL, dryRun: false });
    assert.equal(first.fatal, null, formatReport(first));
    assert.equal(first.modified?.count, 0);
    // The secretary corrects Léa's family name and birth date in SIECLE.
    const eleves = files.find((f) => f.name === 'ElevesSansAdresses.xml')!;
    const fixed = readFileSync(eleves.path!, 'latin1').replace('<NOM_DE_FAMILLE>COQUELICOT</NOM_DE_FAMILLE>', '<NOM_DE_FAMILLE>COQUELICO</NOM_DE_FAMILLE>').replace('<DATE_NAISS>14/03/2014</DATE_NAISS>', '<DATE_NAISS>14/04/2014</DATE_NAISS>');
    const again = files.map((f) => (f === eleves ? { name: f.name, data: Buffer.from(fixed, 'latin1') } : f));
    const login = (await own.database.pool.query(`SELECT login FROM users WHERE external_id LIKE '%700101%'`)).rows[0].login as string;
    const dry = await importFiles(own, again, { scope: ALL, dryRun: true });
    assert.deepEqual(dry.modified, {
      count: 1,
      sample: [{ login, name: 'Léa COQUELICO', profile: 'Student', changes: [{ field: 'last_name', from: 'COQUELICOT', to: 'COQUELICO' }, { field: 'birth_date', from: '2014-03-14', to: '2014-04-14' }] }],
    });
    assert.match(formatReport(dry), new RegExp(`\\nFiches modifiées \\(1\\) :\\n {2}${login} — Léa COQUELICO : nom « COQUELICOT » → « COQUELICO » ; date de naissance 14/03/2014 → 14/04/2014\\n`));
    assert.match(formatReport(dry, 'en'), new RegExp(`\\nRecords changed \\(1\\):\\n {2}${login} — Léa COQUELICO : last name “COQUELICOT” → “COQUELICO”; birth date 2014-03-14 → 2014-04-14\\n`));
    assert.match(String(reportView('fr', dry)), /data-import="modified"><summary>Fiches modifiées \(1\) :<\/summary>\s*<ul><li><code>[^<]+<\/code> — Léa COQUELICO : nom « COQUELICOT » → « COQUELICO » ; date de naissance 14\/03\/2014 → 14\/04\/2014<\/li><\/ul>/);
    assert.equal((await own.database.pool.query(`SELECT last_name FROM users WHERE login = $1`, [login])).rows[0].last_name, 'COQUELICOT', 'a dry run writes nothing');
  } finally {
    await own.close();
  }
});

test('a school the feed renames is reported renamed, with its former name (not « existant »)', async () => {
  const own = await testContext();
  try {
    const etab = (name: string) => ({
      name: 'ENT_0911009K_Complet_20250901_EtabEducNat_0000.xml',
      data: xml(rec('EtabEducNat', '99001', [['ENTStructureJointure', ['99001']], ['ENTStructureUAI', ['0911009K']], ['ENTStructureNomCourant', [name]]])),
    });
    const first = await importFiles(own, [etab('CLG$DES SABLONS$ETAMPES')], { scope: ALL, dryRun: false });
    const before = first.structures[0].name;
    assert.equal(first.structures[0].created, true);
    const again = await importFiles(own, [etab('CLG$LUCIE AUBRAC$ETAMPES')], { scope: ALL, dryRun: false });
    assert.equal(again.structures[0].formerName, before);
    assert.notEqual(again.structures[0].name, before);
    assert.match(formatReport(again), new RegExp(`\\n {2}${again.structures[0].name} \\(0911009K\\) — renommé \\(anciennement « ${before} »\\) — aucun compte\\n`));
    assert.match(String(reportView('fr', again)), new RegExp(`<span class="badge badge-warning">renommé, anciennement « ${before} »</span>`));
    // The same again: nothing renamed.
    const same = await importFiles(own, [etab('CLG$LUCIE AUBRAC$ETAMPES')], { scope: ALL, dryRun: false });
    assert.equal(same.structures[0].formerName, undefined);
    assert.match(formatReport(same), / — existant — aucun compte\n/);
  } finally {
    await own.close();
  }
});

test('a school created from its UAI is named once in the report: « Établissement 0750099Z », not « … (0750099Z) »', async () => {
  const own = await testContext();
  try {
    const csv = { name: 'CSV_Eleves.csv', data: Buffer.from('Nom;Prénom;Date de naissance;Classe\r\nPOMMIER;Jade;12/05/2016;CM1\r\n') };
    const created = await importFiles(own, [csv], { scope: ALL, dryRun: false, structureHint: '0750099Z' });
    assert.equal(created.fatal, null, formatReport(created));
    assert.deepEqual((await own.database.pool.query(`SELECT name, uai FROM structures`)).rows, [{ name: 'Établissement 0750099Z', uai: '0750099Z' }]);
    assert.match(formatReport(created), /\nÉtablissements [^\n]*:\n {2}Établissement 0750099Z — nouveau — 1 créé \(1 élève\)\n/);
    assert.match(formatReport(created, 'en'), /\nSchools [^\n]*:\n {2}Établissement 0750099Z — new — 1 created \(1 student\)\n/);
    // The next run finds it by its UAI: named the same way.
    const again = await importFiles(own, [csv], { scope: ALL, dryRun: true, structureHint: '0750099Z' });
    assert.match(formatReport(again), /\nÉtablissements [^\n]*:\n {2}Établissement 0750099Z — existant — 1 inchangé \(1 élève\)\n/);
    // SIECLE files of a school the directory does not know name it so too; a name without the UAI keeps it beside.
    const siecle = await importFiles(own, siecleFiles(), { scope: ALL, dryRun: true });
    assert.match(formatReport(siecle), /\nÉtablissements [^\n]*:\n {2}Établissement 0990001X — nouveau — /);
    await own.database.pool.query(`UPDATE structures SET name = 'Collège Victor Hugo'`);
    assert.match(formatReport(await importFiles(own, [csv], { scope: ALL, dryRun: true, structureHint: '0750099Z' })), /\nÉtablissements [^\n]*:\n {2}Collège Victor Hugo \(0750099Z\) — existant — /);
  } finally {
    await own.close();
  }
});

test('ignored records are counted once each, however many of their references are left out; each reason is still listed', async () => {
  const own = await testContext();
  try {
    const etab = {
      name: 'ENT_0911010A_Complet_20250901_EtabEducNat_0000.xml',
      data: xml(rec('EtabEducNat', '98001', [['ENTStructureJointure', ['98001']], ['ENTStructureUAI', ['0911010A']], ['ENTStructureNomCourant', ['CLG$LES SAULES$MASSY']], ['ENTStructureClasses', ['6A$6EME A']]])),
    };
    const pupil = (id: string, first: string, unknown: string) =>
      rec('Eleve', id, [
        ['ENTPersonJointure', [id]], ['sn', ['Garnier']], ['givenName', [first]], ['ENTPersonDateNaissance', ['03/04/2013']],
        // A class in the school, and a class, a group and an attachment in schools neither the delivery nor the directory knows.
        ['ENTPersonStructRattach', ['98001', `${unknown}1`]], ['ENTEleveClasses', ['98001$6A', `${unknown}2$5B`]], ['ENTEleveGroupes', [`${unknown}2$LATIN`]],
      ]);
    const pupils = { name: 'ENT_0911010A_Complet_20250901_Eleve_0000.xml', data: xml(pupil('E1', 'Léo', '9877')) };
    const report = await importFiles(own, [etab, pupils], { scope: ALL, dryRun: false });
    assert.equal(report.fatal, null, formatReport(report));
    // The pupil is imported, in the school's class only: nothing invented for the other schools.
    const rows = (await own.database.pool.query(
      `SELECT s.external_id || '/' || c.name AS x FROM users u JOIN user_classes uc ON uc.user_id = u.id JOIN classes c ON c.id = uc.class_id
       JOIN structures s ON s.id = c.structure_id WHERE u.external_id = 'E1'`,
    )).rows.map((r) => r.x);
    assert.deepEqual(rows, ['98001/6A']);
    assert.equal(Number((await own.database.pool.query(`SELECT count(*) n FROM structures`)).rows[0].n), 1);
    // Three references left out of one record: one record ignored in part, three reasons; on the file's line, one row
    // created and three remarks (not « 1 ignoré » beside « 1 créé », more than its one row).
    assert.equal(report.ignored.length, 3);
    assert.deepEqual([report.files.find((f) => f.file === pupils.name)!.ignored, report.files.find((f) => f.file === pupils.name)!.notes], [0, 3]);
    const fr = formatReport(report);
    assert.match(fr, /\n {2}ENT_0911010A_Complet_20250901_Eleve_0000\.xml — AAF élèves — [^\n]* — 1 ligne — 1 créé ; 3 remarques\n/);
    assert.match(fr, /\nIgnorés[^\n]* \(1 enregistrement\) :\n {2}[^\n]*, ENTEleveClasses : structure « 98772 » [^\n]*classe « 5B » non créée\n {2}[^\n]*, ENTEleveGroupes : [^\n]*groupe « LATIN » non créé\n {2}[^\n]*, ENTPersonStructRattach : structure « 98771 » [^\n]*rattachement ignoré\n/);
    assert.match(formatReport(report, 'en'), /\nIgnored[^\n]* \(1 record\):\n/);
    assert.match(String(reportView('fr', report)), /<details class="ignored"><summary>[^<]* \(1 enregistrement\) :<\/summary>/);
    assert.match(String(reportView('en', report)), /<details class="ignored"><summary>[^<]* \(1 record\):<\/summary>/);

    // A feed written on one line (some exporters do) puts every record on line 1: two records are still two.
    const oneLine = (b: Buffer) => Buffer.from(b.toString().replace(/\n/g, ''));
    const twice = await importFiles(own, [{ ...etab, data: oneLine(etab.data) }, { ...pupils, data: oneLine(xml(pupil('E1', 'Léo', '9877') + pupil('E2', 'Lou', '9866'))) }], { scope: ALL, dryRun: true });
    assert.equal(twice.fatal, null, formatReport(twice));
    assert.equal(twice.ignored.length, 6);
    assert.ok(twice.ignored.every((i) => i.line === 1));
    assert.equal(twice.files.find((f) => f.file === pupils.name)!.notes, 6);
    assert.match(formatReport(twice), /\nIgnorés[^\n]* \(2 enregistrements\) :\n/);
  } finally {
    await own.close();
  }
});

test('CLI: per-file report on a dry run (exit 0); a file of no supported format fails the run (exit 1), naming it', async () => {
  const db = await freshDatabase();
  try {
    const env = { ...process.env, DATABASE_URL: db.url, TROUSSEAU_SECRET: '33'.repeat(32), TROUSSEAU_DATA_DIR: tmp };
    const cli = (...args: string[]) => spawnSync(process.execPath, ['--import', 'tsx', 'src/cli.ts', 'import', ...args], { env, encoding: 'utf8' });
    const dry = cli(SIECLE, '--dry-run');
    assert.equal(dry.status, 0, dry.stderr);
    assert.match(dry.stdout, /ElevesSansAdresses\.xml — SIECLE élèves — iso-8859-15 — 6 lignes — 5 créés/);

    // A delivery with a stray file: before, « ignoré » then « Import terminé », exit 0.
    const dir = join(tmp, 'livraison');
    mkdirSync(dir);
    copyFileSync(join(SIECLE, 'ElevesSansAdresses.xml'), join(dir, 'ElevesSansAdresses.xml'));
    writeFileSync(join(dir, 'notes.pdf'), '%PDF-1.4\n');
    const refused = cli(dir);
    assert.equal(refused.status, 1);
    assert.match(refused.stderr, /Import refusé : aucune modification enregistrée\.\n {2}notes\.pdf : fichier refusé, format non reconnu \(\.pdf\)/);
    assert.doesNotMatch(refused.stdout + refused.stderr, /Import terminé/);

    // A folder holding no file: an error naming it, not « Import terminé ».
    const nothing = join(tmp, 'vide');
    mkdirSync(nothing);
    const none = cli(nothing);
    assert.equal(none.status, 1);
    assert.match(none.stderr, /aucun fichier à importer dans : .*vide/);
    assert.doesNotMatch(none.stdout + none.stderr, /Import terminé/);

    // XML of another kind: recognised by its root, not by its name.
    rmSync(join(dir, 'notes.pdf'));
    writeFileSync(join(dir, 'Eleves.xml'), '<?xml version="1.0" encoding="UTF-8"?>\n<EXPORT_PRONOTE><ELEVE/></EXPORT_PRONOTE>\n');
    const xml = cli(dir);
    assert.equal(xml.status, 1);
    assert.match(xml.stderr, /Eleves\.xml : fichier refusé, format XML non reconnu \(élément racine <EXPORT_PRONOTE>\)/);
    assert.equal(Number((await db.pool.query('SELECT count(*) n FROM users')).rows[0].n), 0);
  } finally {
    await db.close();
  }
});

test('POST /api/import answers the per-file report as JSON; an unsupported file is a 400 naming it, nothing written', async () => {
  const dry = await post('/api/import?dryRun=true', siecleFiles());
  assert.equal(dry.statusCode, 200, dry.body);
  const files = dry.json().files as Array<Record<string, unknown>>;
  assert.deepEqual(
    files.map((f) => [f.file, f.kind, f.encoding, f.rows, f.created, f.ignored]),
    [
      ['ElevesSansAdresses.xml', 'siecle-eleves', 'iso-8859-15', 6, 5, 1],
      ['ResponsablesAvecAdresses.xml', 'siecle-responsables', 'iso-8859-15', 7, 4, 3],
      ['Nomenclature.xml', 'siecle-nomenclature', 'iso-8859-15', 3, 0, 0],
    ],
  );
  assert.equal(dry.json().ignored.length, 4);

  const bad = await post(`/api/import?structureId=${school}`, [...siecleFiles(), { name: 'photo.jpg', data: Buffer.from([0xff, 0xd8, 0xff, 0xe0, 0, 0x10]) }]);
  assert.equal(bad.statusCode, 400, bad.body);
  assert.match(bad.json().detail, /^photo\.jpg : fichier refusé, format non reconnu \(\.jpg\)/);
  assert.equal(await accounts(), 0);
});

test('what a Mac or a drop folder leaves beside the files is listed as left out, not refused', async () => {
  // Picked with the files in a file dialog or copied with the folder: binary metadata, an AppleDouble twin, a marker.
  const litter = [
    { name: '.DS_Store', data: Buffer.from([0, 0, 0, 1, 0x42, 0x75, 0x64, 0x31, 0xff, 0xfe]) },
    { name: '._ElevesSansAdresses.xml', data: Buffer.from([0, 5, 0x16, 7, 0, 2, 0xff]) },
    { name: '.done', data: Buffer.alloc(0) },
  ];
  const dry = await post('/api/import?dryRun=true', [...siecleFiles(), ...litter]);
  assert.equal(dry.statusCode, 200, dry.body);
  const files = dry.json().files as Array<Record<string, unknown>>;
  assert.deepEqual(files.slice(3).map((f) => [f.file, f.kind, f.reason]), litter.map((l) => [l.name, 'ignored', 'fichier caché ou marqueur de dépôt (.DS_Store, .done…) : pas un fichier de la livraison']));
  assert.equal(dry.json().created, 9);
  // The command line, given the folder: the same files left out, named.
  const dir = mkdtempSync(join(tmp, 'mac-'));
  for (const f of [...siecleFiles(), ...litter]) writeFileSync(join(dir, f.name), f.data);
  const report = await importFiles(ctx, collectInputs([dir]), { scope: ALL, dryRun: true });
  assert.equal(report.fatal, null, formatReport(report));
  assert.match(formatReport(report), /\n {2}\.DS_Store — ignoré : fichier caché ou marqueur de dépôt/);
});

test('what Windows leaves in a folder (Thumbs.db, desktop.ini) is left out as in an archive, not a refusal of the whole run', async () => {
  // An archive lists them as left out (import-zip.test.ts); a folder copied from a Windows share, or files picked with
  // them, were refused whole: « format non reconnu (.db) ».
  const litter = [
    { name: 'Thumbs.db', data: Buffer.from([0xd0, 0xcf, 0x11, 0xe0, 0xa1, 0xb1, 0x1a, 0xe1, 0, 0]) },
    { name: 'desktop.ini', data: Buffer.from('\r\n[.ShellClassInfo]\r\nIconResource=C:\\Windows\\System32\\imageres.dll,-3\r\n') },
  ];
  const dir = mkdtempSync(join(tmp, 'win-'));
  for (const f of [...siecleFiles(), ...litter]) writeFileSync(join(dir, f.name), f.data);
  const report = await importFiles(ctx, collectInputs([dir]), { scope: ALL, dryRun: true });
  assert.equal(report.fatal, null, formatReport(report));
  assert.equal(report.created, 9);
  assert.deepEqual(report.files.filter((f) => f.kind === 'ignored').map((f) => f.file).sort(), ['Thumbs.db', 'desktop.ini']);
  const dry = await post('/api/import?dryRun=true', [...siecleFiles(), ...litter]);
  assert.equal(dry.statusCode, 200, dry.body);
});

test('a local admin cannot slip XML in through an archive or a .csv name (content decides the format)', async () => {
  const [local] = await q<{ id: string }>(`INSERT INTO users (profile, first_name, last_name, login, password_hash, activated_at)
     VALUES ('Personnel', 'Diane', 'DIRECTRICE', 'diane.directrice', 'x', now()) RETURNING id`);
  await q('INSERT INTO local_admins (user_id, structure_id) VALUES ($1, $2)', [local.id, school]);
  const s = await createSession(ctx.database.pool, local.id);
  // An archive whose member is an academic feed, whatever the member is called: refused by the scope gate.
  const z = new yazl.ZipFile();
  z.addBuffer(Buffer.from('<?xml version="1.0"?><ficAlimMENESR><addRequest/></ficAlimMENESR>'), 'notes.txt');
  z.end();
  const chunks: Buffer[] = [];
  for await (const c of z.outputStream) chunks.push(c as Buffer);
  const { body, type } = multipart([{ name: 'livraison.zip', data: Buffer.concat(chunks) }]);
  const zip = await app.inject({
    method: 'POST', url: `/api/import?structureId=${school}`, payload: body,
    headers: { 'content-type': type, cookie: `${SESSION_COOKIE}=${s.token}`, 'x-csrf-token': s.csrf },
  });
  assert.equal(zip.statusCode, 403, zip.body);
  assert.match(zip.json().error, /super-administrateurs/);
  assert.equal(await accounts(), 0);
  // Content, not the name, decides: SIECLE content under a .csv name is read as SIECLE.
  const disguised = await importFiles(ctx, [{ name: 'CSV_Eleves.csv', data: readFileSync(join(SIECLE, 'ElevesSansAdresses.xml')) }], { scope: ALL, dryRun: true, structureHint: school });
  assert.equal(disguised.files[0].kind, 'siecle-eleves', formatReport(disguised));
});

test('a complete run says where it looked for absent accounts: source, profiles, schools (French and English)', async () => {
  const own = await testContext();
  try {
    const templates = new URL('./fixtures/csv/templates/fr/', import.meta.url).pathname;
    const files = collectInputs([join(templates, 'CSV_Eleves.csv'), join(templates, 'CSV_Parents.csv')]);
    const csv = await importFiles(own, files, { scope: ALL, dryRun: true, structureHint: 'Collège A.' });
    assert.equal(csv.fatal, null, formatReport(csv));
    assert.deepEqual(csv.absenceScopes, [{ source: 'csv', profiles: ['Student', 'Relative'], structures: ['Collège A.'], structureCount: 1, orphans: false }]);
    assert.match(formatReport(csv), /^Absents recherchés parmi les comptes élèves et parents venus d’un fichier CSV du Collège A\.$/m, formatReport(csv));
    assert.match(formatReport(csv, 'en'), /^Absent accounts looked for among the student and parent accounts from a CSV file at Collège A\.$/m);
    assert.match(String(reportView('fr', csv)), /<p data-import="absenceScope">Absents recherchés parmi les comptes élèves et parents venus d’un fichier CSV du Collège A\.<\/p>/);
    // A partial run looks for nobody, and says so.
    const partial = await importFiles(own, files, { scope: ALL, dryRun: true, structureHint: 'Collège A.', partial: true });
    assert.equal(partial.absenceScopes, undefined);
    assert.doesNotMatch(formatReport(partial), /Absents recherchés/);
    assert.match(formatReport(partial), /^Import partiel \(--partiel\) : l’absence des comptes n’est pas recherchée/m, formatReport(partial));
    assert.match(formatReport(partial, 'en'), /^Partial import \(--partiel\): no account’s absence is looked for/m);
    assert.match(String(reportView('fr', partial)), /<p data-import="absenceSkipped">Import partiel/);
    assert.equal(csv.absenceSkipped, undefined, 'a complete run skips nothing');
    // A complete AAF delivery: its kinds' profiles in its schools, and accounts in none.
    const aaf = await importFiles(own, collectInputs([new URL('./fixtures/aaf/2d/', import.meta.url).pathname]), { scope: ALL, dryRun: true });
    assert.equal(aaf.fatal, null, formatReport(aaf));
    assert.match(formatReport(aaf), /^Absents recherchés parmi les comptes élèves, parents, enseignants et personnels venus du flux AAF .+ ou sans établissement\.$/m, formatReport(aaf));
  } finally {
    await own.close();
  }
});

test('the console shows the same per-file table, the ignored records and the rows merged as one parent', async () => {
  // The upload redirects to its report (post/redirect/get: the CSRF token never stays in the address bar).
  const posted = await post(`/console/etablissements/${school}/import?_csrf=${root.csrf}`, siecleFiles());
  assert.equal(posted.statusCode, 303, posted.body.slice(0, 500));
  const res = await app.inject({ method: 'GET', url: String(posted.headers.location), headers: { cookie: root.cookie } });
  assert.equal(res.statusCode, 200, res.body.slice(0, 500));
  const row = /<tr data-file="ElevesSansAdresses.xml">([\s\S]*?)<\/tr>/.exec(res.body)?.[1] ?? '';
  const cells = [...row.matchAll(/<td[^>]*>([^<]*)<\/td>/g)].map((m) => m[1]);
  assert.deepEqual(cells, ['ElevesSansAdresses.xml', 'SIECLE élèves', 'iso-8859-15', '6', '5 créés, 1 ignoré']);
  assert.match(res.body, /Lus et ignorés, en tout ou en partie \(4 enregistrements\)/);
  assert.match(res.body, /ROUX Paul : pas représentant légal/);
  assert.equal(await accounts(), 0, 'the console analyses first');

  // Rows read as an earlier row's parent (one account) are a warning of the report, before anything is applied.
  const parents = await post(`/console/etablissements/${school}/import?_csrf=${root.csrf}`, platanesFiles());
  assert.equal(parents.statusCode, 303, parents.body.slice(0, 500));
  const merged = await app.inject({ method: 'GET', url: String(parents.headers.location), headers: { cookie: root.cookie } });
  assert.match(merged.body, /<div class="notice notice-warning" data-import="merged"><p><strong>2 lignes regroupées avec une ligne précédente du même représentant légal/);
  assert.ok(merged.body.includes('<code>CSVExtraction-responsables.csv — lignes 8 et 10 : même représentant légal (LEROY Sandrine), un seul compte ; deux adresses postales, celle de la ligne 8 est gardée</code>'));
  const api = await post(`/api/import?dryRun=true&structureId=${school}`, platanesFiles());
  assert.deepEqual(api.json().merged, [
    { file: 'CSVExtraction-responsables.csv', first: 8, line: 10, name: 'LEROY Sandrine', addressKept: 8 },
    { file: 'CSVExtraction-responsables.csv', first: 9, line: 11, name: 'LEROY Paul' },
  ]);
  assert.equal(await accounts(), 0);

  const refused = await post(`/console/etablissements/${school}/import?_csrf=${root.csrf}`, [...siecleFiles(), { name: 'photo.jpg', data: Buffer.from([0xff, 0xd8, 0xff]) }]);
  assert.equal(refused.statusCode, 400);
  assert.match(refused.body, /Import refusé : aucune modification enregistrée\.[\s\S]*photo\.jpg : fichier refusé, format non reconnu \(\.jpg\)/);

  // An empty file beside others: refused naming it, as the API and the command line refuse it; nothing written.
  const empty = await post(`/console/etablissements/${school}/import?_csrf=${root.csrf}`, [...siecleFiles(), { name: 'Vide.xml', data: Buffer.alloc(0) }]);
  assert.equal(empty.statusCode, 400);
  assert.match(empty.body, /Fichier vide, rien n’a été importé : Vide\.xml\./);
  assert.equal(await accounts(), 0);
});
