// A complete run sends every account of its kinds it does not carry to the grace period. A file missing from the
// delivery in a way the numbering cannot show (AAF PersEducNat_0000 left out with _0001 kept: numbering may start at
// either) looked like everyone of that file leaving. Now a complete run that would send more than half of a
// profile's accounts away (10 or more) is:
//  - reported by a dry run (CLI, console, API), with the counts;
//  - refused for real unless confirmed (nothing written; console checkbox, --confirmer-absences, confirmAbsences=true;
//    the drop folder, which no one confirms, files the delivery under rejected/);
//  - applied when confirmed, the report saying so.
// A complete AAF delivery without one kind's file says that the kind's absence was not looked for.
// Small invented feeds, written here: one collège, 12 teachers in PersEducNat_0000 and 3 in _0001.
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { readFile, writeFile } from 'node:fs/promises';
import type { FastifyInstance } from 'fastify';
import { runDropFolder } from '../src/drop/run.js';
import { run as importCli } from '../src/import/cli.js';
import { formatReport, importFiles, type ImportOptions, type ImportReport } from '../src/import/index.js';
import { absentShare, MASS_ABSENCE_MIN, massAbsencesOf } from '../src/import/plan.js';
import { uploadsRoot } from '../src/import/uploads.js';
import { reportView } from '../src/web/console/views/import.js';
import { buildServer } from '../src/web/server.js';
import { testContext } from './helpers/db.js';
import { createUser, multipart, sessionFor, signedInClient, type SessionHeaders } from './helpers/web.js';
import { aafRecord as rec, aafXml as xml } from './helpers/aaf-feed.js';
import { runCli } from './helpers/cli.js';

const dataDir = mkdtempSync(join(tmpdir(), 'trousseau-mass-absence-'));
let ctx: Awaited<ReturnType<typeof testContext>>;
let app: FastifyInstance;
let root: SessionHeaders & { id: string };

before(async () => {
  ctx = await testContext({ TROUSSEAU_DATA_DIR: dataDir });
  app = await buildServer(ctx);
  const id = await createUser(ctx.database.pool, { login: 'root.absences', superAdmin: true, password: 'super-admin-2026-absences' });
  root = { id, ...(await sessionFor(ctx.database.pool, id)) };
});
after(async () => {
  await app.close();
  await ctx.close();
  rmSync(dataDir, { recursive: true, force: true });
});

const q = async <T = Record<string, unknown>>(sql: string, params: unknown[] = []) => (await ctx.database.pool.query(sql, params)).rows as T[];

// ---- the feed ----

type File = { name: string; data: Buffer };
const NAME = (kind: string, n: string) => `ENT_0911002B_Complet_20250901_${kind}_${n}.xml`;
const ETAB: File = {
  name: NAME('EtabEducNat', '0000'),
  data: xml(rec('EtabEducNat', '92001', [['ENTStructureJointure', ['92001']], ['ENTStructureUAI', ['0911002B']], ['ENTStructureNomCourant', ['CLG$LES GROTTES$ETRECHY']], ['ENTStructureClasses', ['6A$6EME A']]])),
};
const FIRST = ['Anne', 'Bruno', 'Chloé', 'David', 'Émilie', 'Fabrice', 'Gaëlle', 'Hervé', 'Isabelle', 'Jérôme', 'Karine', 'Laurent', 'Manon', 'Nicolas', 'Odile'];
const teacher = (i: number) =>
  rec('PersEducNat', `T${i}`, [['ENTPersonJointure', [`T${i}`]], ['sn', ['Morel']], ['givenName', [FIRST[i - 1]]], ['ENTPersonStructRattach', ['92001']], ['ENTPersonFonctions', ['92001$ENS$ENSEIGNEMENT$L0201$LETTRES']]]);
const range = (a: number, b: number) => Array.from({ length: b - a + 1 }, (_, i) => a + i);
/** PersEducNat_0000: teachers T1–T12; _0001: T13–T15. */
const STAFF0: File = { name: NAME('PersEducNat', '0000'), data: xml(range(1, 12).map(teacher).join('')) };
const STAFF1: File = { name: NAME('PersEducNat', '0001'), data: xml(range(13, 15).map(teacher).join('')) };
const PUPILS: File = {
  name: NAME('Eleve', '0001'),
  data: xml(
    rec('Eleve', 'E1', [['ENTPersonJointure', ['E1']], ['sn', ['Garnier']], ['givenName', ['Léo']], ['ENTPersonDateNaissance', ['03/04/2013']], ['ENTElevePersRelEleve', ['R1$10$1$1$0$0']], ['ENTPersonStructRattach', ['92001']], ['ENTEleveClasses', ['92001$6A']]]),
  ),
};
const RELATIVES: File = { name: NAME('PersRelEleve', '0001'), data: xml(rec('PersRelEleve', 'R1', [['ENTPersonJointure', ['R1']], ['sn', ['Garnier']], ['givenName', ['Marc']]])) };
const WHOLE = [ETAB, STAFF0, STAFF1, PUPILS, RELATIVES];
/** The first staff file left out: nothing in the numbering shows it (_0001 may be the first). */
const WITHOUT_FIRST = [ETAB, STAFF1, PUPILS, RELATIVES];

const run = (files: File[], opts: Partial<ImportOptions> = {}) => importFiles(ctx, files, { scope: { kind: 'all' }, dryRun: false, ...opts });
const absent = async () => (await q<{ x: string }>(`SELECT external_id AS x FROM users WHERE absent_since IS NOT NULL ORDER BY 1`)).map((r) => r.x);
/** Everything a refused run must leave alone. */
const snapshot = async () =>
  JSON.stringify([
    await q(`SELECT id, external_id, login, first_name, updated_at, absent_since, pre_deleted_at, import_hash FROM users ORDER BY id`),
    await q(`SELECT user_id, structure_id FROM user_structures ORDER BY 1, 2`),
    await q(`SELECT count(*) FROM audit`),
  ]);
/** Runs `trousseau import` with the test database; exit code and what it printed. */
function cli(args: string[]) {
  return runCli(importCli, args, { TROUSSEAU_SECRET: '11'.repeat(32), TROUSSEAU_DATA_DIR: dataDir, TROUSSEAU_PUBLIC_URL: 'https://ent.example.fr', LOG_LEVEL: 'silent', DATABASE_URL: (ctx.database as { url?: string }).url ?? '' });
}
const folder = (files: File[]) => {
  const dir = mkdtempSync(join(dataDir, 'livraison-'));
  for (const f of files) writeFileSync(join(dir, f.name), f.data);
  return dir;
};

/** Uploads the delivery without its first staff file on the import for every school (root's session): the dry run's page. */
async function consoleUpload(): Promise<{ location: string; token: string }> {
  const { body, type } = multipart(WITHOUT_FIRST);
  const res = await app.inject({
    method: 'POST',
    url: `/console/import?_csrf=${root.csrf}`,
    headers: { 'content-type': type, cookie: root.cookie, 'x-csrf-token': root.csrf },
    payload: body,
  });
  assert.equal(res.statusCode, 303, res.body);
  const location = String(res.headers.location);
  return { location, token: location.split('/').pop()! };
}

test('the rule: 10 or more accounts of a profile and more than half of those a scope covers; a profile\u2019s scopes together too', () => {
  const scope = (profile: 'Teacher' | 'Student' | 'Relative', absent: number, covered: number, file = `${profile}.csv`) => ({ profile, absent, covered, file });
  assert.equal(MASS_ABSENCE_MIN, 10);
  assert.deepEqual(massAbsencesOf([scope('Teacher', 10, 9)]), [{ profile: 'Teacher', absent: 10, of: 19, file: 'Teacher.csv' }]);
  assert.deepEqual(massAbsencesOf([scope('Teacher', 10, 10)]), [], 'half exactly: a lycée at the end of a two-year course');
  assert.deepEqual(massAbsencesOf([scope('Teacher', 9, 0)]), [], 'a few: ordinary, and the grace period restores them');
  // One school emptied out beside another's unchanged pupils: the school's scope decides, and names its file.
  assert.deepEqual(massAbsencesOf([scope('Student', 28, 2, 'a/CSV_Eleves.csv'), scope('Student', 0, 60, 'b/CSV_Eleves.csv')]), [{ profile: 'Student', absent: 28, of: 30, file: 'a/CSV_Eleves.csv' }]);
  // Several small schools each under ten, together more than half: the profile's scopes taken together.
  assert.deepEqual(massAbsencesOf([scope('Relative', 6, 2, 'a.csv'), scope('Relative', 7, 3, 'b.csv')]), [{ profile: 'Relative', absent: 13, of: 18, file: 'b.csv' }]);
  // « 542 sur 544 » is not everyone: a share short of all reads 99 %, never 100 %.
  assert.equal(absentShare({ profile: 'Teacher', absent: 542, of: 544 }), 99);
  assert.equal(absentShare({ profile: 'Teacher', absent: 544, of: 544 }), 100);
  assert.equal(absentShare({ profile: 'Teacher', absent: 12, of: 15 }), 80);
  // Largest first.
  assert.deepEqual(massAbsencesOf([scope('Relative', 40, 10), scope('Student', 100, 20), scope('Teacher', 3, 0)]).map((m) => m.profile), ['Student', 'Relative']);
});

test('the whole delivery, then the same without its first staff file: dry run warns, real run refused, nothing written', async () => {
  const first = await run(WHOLE);
  assert.equal(first.fatal, null, formatReport(first));
  assert.equal(first.byProfile.Teacher?.created, 15);
  assert.equal(first.massAbsence, undefined);
  assert.equal(first.unchecked, undefined);

  const before = await snapshot();
  const dry = await run(WITHOUT_FIRST, { dryRun: true });
  assert.equal(dry.fatal, null, formatReport(dry));
  assert.deepEqual(dry.massAbsence, [{ profile: 'Teacher', absent: 12, of: 15 }]);
  assert.equal(dry.preDeleted, 12);
  assert.match(formatReport(dry), /\nAttention : cet import complet ferait sortir 12 comptes d’enseignants sur 15 \(80\u202f%\), absents de ses fichiers\. Un fichier manque-t-il à la livraison \? L’import réel sera refusé sans --confirmer-absences ; si les fichiers ne sont qu’une partie de l’annuaire, importez-les avec --partiel\./);
  assert.match(formatReport(dry, 'en'), /\nWarning: this complete import would send 12 of 15 teacher accounts away \(80%\)/);
  assert.equal(await snapshot(), before);

  const refused = await run(WITHOUT_FIRST);
  assert.ok(refused.fatal, formatReport(refused));
  assert.equal(refused.fatal.message?.code, 'massAbsence');
  assert.equal(refused.fatal.file, STAFF1.name, 'the file whose absences count most');
  assert.match(refused.fatal.reason, /^import complet qui ferait sortir 12 comptes d’enseignants sur 15 \(80\u202f%\), absents de ses fichiers : un fichier manque-t-il à la livraison \? Rien n’a été modifié\./);
  assert.match(formatReport(refused), /^Import refusé : aucune modification enregistrée\.\n {2}ENT_0911002B_Complet_20250901_PersEducNat_0001\.xml : import complet qui ferait sortir/);
  assert.deepEqual(refused.files.map((f) => f.file), WITHOUT_FIRST.map((f) => f.name), 'no file invented for the refusal');
  assert.equal(await snapshot(), before);
  assert.deepEqual(await absent(), []);
});

test('the command line: refused with exit code 1 and how to confirm; --confirmer-absences applies it', async () => {
  const dir = folder(WITHOUT_FIRST);
  const before = await snapshot();
  const dry = await cli([dir, '--dry-run']);
  assert.equal(dry.code, 1, 'the real run would be refused: the dry run says so in its exit code');
  assert.match(dry.out, /ferait sortir 12 comptes d’enseignants sur 15/);
  const refused = await cli([dir]);
  assert.equal(refused.code, 1);
  assert.match(refused.err, /Import refusé[\s\S]*12 comptes d’enseignants sur 15[\s\S]*--confirmer-absences/);
  assert.equal(await snapshot(), before);
  assert.match((await cli(['--help'])).out, /--confirmer-absences/);
  // A dry run told to confirm says the departures will happen (not that the run will be refused), exit 0.
  const dryConfirmed = await cli([dir, '--dry-run', '--confirmer-absences']);
  assert.equal(dryConfirmed.code, 0, dryConfirmed.err);
  assert.match(dryConfirmed.out, /\nDéparts confirmés \(--confirmer-absences\) : 12 comptes d’enseignants sur 15 \(80\u202f%\) entreront en période de grâce\./);
  assert.doesNotMatch(dryConfirmed.out, /sera refusé/);

  const done = await cli([dir, '--confirmer-absences']);
  assert.equal(done.code, 0, done.err);
  assert.match(done.out, /\nDéparts confirmés : 12 comptes d’enseignants sur 15 \(80\u202f%\) entrent en période de grâce\./);
  assert.deepEqual(await absent(), range(1, 12).map((i) => `T${i}`).sort());
  // Back to the whole delivery: restored, nothing to warn about.
  const back = await run(WHOLE);
  assert.equal(back.restored, 12);
  // The file that brings them back says so on its line.
  assert.match(formatReport(back), /\n {2}ENT_0911002B_Complet_20250901_PersEducNat_0000\.xml — [^\n]* — 12 lignes — 12 restaurés\n/);
  assert.equal(back.massAbsence, undefined);
  assert.deepEqual(await absent(), []);
});

test('the console: the dry run warns and asks for a box; confirming without it is refused, with it applied', async () => {
  const [{ id: school }] = await q<{ id: string }>(`SELECT id FROM structures WHERE uai = '0911002B'`);
  const browser = await signedInClient(app, ctx.database.pool, root.id);
  const upload = () => consoleUpload();
  // A super admin's form says what an AAF delivery reaches, and where it is imported (the page for every school).
  const form = await browser.get(`/console/etablissements/${school}/import`);
  assert.match(form.body, /Le flux de l’annuaire académique \(AAF\), qui crée et met à jour tous les établissements qu’il nomme, s’importe sur la page <a href="\/console\/import" data-region-import>/);
  const before = await snapshot();
  const first = await upload();
  const page = await browser.get(first.location);
  assert.equal(page.statusCode, 200);
  assert.match(page.body, /data-import="massAbsence">Attention : cet import complet ferait sortir 12 comptes d’enseignants sur 15 \(80\u202f%\)/);
  // Required as the console's checkboxes are: announced (aria-required), checked by the server.
  assert.match(page.body, /<input type="checkbox" id="f-absences" name="absences" value="12" aria-required="true"[^>]*>\s*<label for="f-absences">Je confirme ces départs : 12 comptes entreront en période de grâce\. <span class="req" aria-hidden="true">\*<\/span><\/label>/);
  assert.doesNotMatch(page.body, /id="f-absences"[^>]* required/);
  // Left unticked: the same page again with the error on the box, nothing written, the upload kept for a second try.
  const unticked = await browser.post(`/console/import/confirmer`, { token: first.token });
  assert.equal(unticked.statusCode, 400, unticked.body.slice(0, 500));
  assert.match(unticked.body, /<p class="field-error" id="f-absences-error">Cochez « Je confirme ces départs » pour appliquer cet import, ou annulez-le : rien n’a été modifié\.<\/p>/);
  assert.match(unticked.body, /id="f-absences"[^>]*aria-invalid="true"/);
  assert.equal(await snapshot(), before);

  // A box ticked for fewer accounts than the run would send away (the directory changed since the dry run): refused.
  const stale = await upload();
  await browser.get(stale.location);
  const fewer = await browser.post(`/console/import/confirmer`, { token: stale.token, absences: '11' });
  assert.equal(fewer.statusCode, 400, fewer.body.slice(0, 500));
  assert.equal(await snapshot(), before);

  // A forged count of 999,999,999 (nine digits pass the form's check) confirms no more than the dry run showed: here
  // it showed 11 (the directory changed since), the run would send 12 away, and it is refused as the box for 11 is.
  const forged = await upload();
  await browser.get(forged.location);
  const dryFile = join(uploadsRoot(ctx.config.dataDir), forged.token, 'report.json');
  await writeFile(dryFile, JSON.stringify({ ...JSON.parse(await readFile(dryFile, 'utf8')), preDeleted: 11 }));
  const huge = await browser.post(`/console/import/confirmer`, { token: forged.token, absences: '999999999' });
  assert.equal(huge.statusCode, 400, huge.body.slice(0, 500));
  assert.equal(await snapshot(), before);

  // The first upload, kept after the unticked try: ticked for the number shown, applied.
  await browser.get(first.location);
  const done = await browser.post(`/console/import/confirmer`, { token: first.token, absences: '12' });
  assert.equal(done.statusCode, 200, done.body.slice(0, 500));
  assert.match(done.body, /data-import="massAbsence">Départs confirmés : 12 comptes d’enseignants sur 15 \(80\u202f%\) sont entrés en période de grâce\./);
  assert.equal((await absent()).length, 12);
  assert.match(String(reportView('en', { ...(await run(WITHOUT_FIRST, { dryRun: true })), massAbsence: [{ profile: 'Teacher', absent: 12, of: 15 }] })), /would send 12 of 15 teacher accounts away \(80%\)/);
  await run(WHOLE);
  assert.deepEqual(await absent(), []);
});

test('the console confirmation with odd input: no 500, nothing written (absences 0 or not a number, another school’s or user’s token)', async () => {
  const [{ id: school }] = await q<{ id: string }>(`SELECT id FROM structures WHERE uai = '0911002B'`);
  const [{ id: other }] = await q<{ id: string }>(`INSERT INTO structures (name) VALUES ('Autre école (confirmation)') RETURNING id`);
  const browser = await signedInClient(app, ctx.database.pool, root.id);
  const otherId = await createUser(ctx.database.pool, { login: 'root.other', superAdmin: true, password: 'super-admin-2026-other-one' });
  const stranger = await signedInClient(app, ctx.database.pool, otherId);
  const { token } = await consoleUpload();
  const before = await snapshot();
  // A forged count (the box's value is the number of accounts it confirms): a 400 that names the field, in the
  // page's language, not the validator's English default.
  for (const absences of ['abc', '-1', '1e3', '9999999999']) {
    const r = await browser.post(`/console/import/confirmer`, { token, absences });
    assert.equal(r.statusCode, 400, `${absences}: ${r.statusCode}`);
    assert.match(r.body, /<p class="lead">Paramètre « absences » invalide : nombre de comptes attendu, celui que la case « Je confirme ces départs » affiche ; rien n’a été modifié\.<\/p>/, absences);
  }
  const en = await browser.post(`/console/import/confirmer?lang=en`, { token, absences: 'abc' });
  assert.equal(en.statusCode, 400);
  assert.match(en.body, /<p class="lead">Invalid parameter “absences”: a number of accounts expected, the one the “I confirm they left” box shows; nothing was changed\.<\/p>/);
  assert.doesNotMatch(en.body + (await browser.post(`/console/import/confirmer?lang=fr`, { token, absences: 'abc' })).body, /Invalid string|must match pattern/);
  // A school's page (the upload was made on the page for every school), another user: gone (410), whatever the token.
  assert.equal((await browser.post(`/console/etablissements/${school}/import/confirmer`, { token, absences: '12' })).statusCode, 410);
  assert.equal((await browser.post(`/console/etablissements/${other}/import/confirmer`, { token, absences: '12' })).statusCode, 410);
  assert.equal((await stranger.post(`/console/import/confirmer`, { token, absences: '12' })).statusCode, 410);
  assert.equal((await stranger.get(`/console/import/${token}`)).statusCode, 410);
  assert.equal(await snapshot(), before);
  // Ticked for none: refused as too few.
  const zero = await browser.post(`/console/import/confirmer`, { token, absences: '0' });
  assert.equal(zero.statusCode, 400, zero.body.slice(0, 300));
  assert.equal(await snapshot(), before);
});

test('the API: 400 naming the file without confirmAbsences, applied with it', async () => {
  const post = async (query: string, lang = 'en') => {
    const { body, type } = multipart(WITHOUT_FIRST);
    return app.inject({ method: 'POST', url: `/api/import${query}`, headers: { 'content-type': type, cookie: root.cookie, 'x-csrf-token': root.csrf, 'accept-language': lang }, payload: body });
  };
  const before = await snapshot();
  const dry = await post('?dryRun=true');
  assert.equal(dry.statusCode, 200, dry.body);
  assert.deepEqual((dry.json() as ImportReport).massAbsence, [{ profile: 'Teacher', absent: 12, of: 15 }]);
  // A forged flag: a 400 naming it, in the caller's language (not the validator's default), nothing written.
  const forged = await post('?confirmAbsences=abc');
  assert.equal(forged.statusCode, 400, forged.body);
  assert.equal(forged.json().error, 'Invalid parameter “confirmAbsences”: true, false, 1 or 0 expected; nothing was changed.');
  const forgedFr = await post('?confirmAbsences=abc', 'fr');
  assert.equal(forgedFr.statusCode, 400, forgedFr.body);
  assert.equal(forgedFr.json().error, 'Paramètre « confirmAbsences » invalide : true, false, 1 ou 0 attendu ; rien n’a été modifié.');
  assert.equal(await snapshot(), before);
  const refused = await post('');
  assert.equal(refused.statusCode, 400, refused.body);
  assert.match(refused.json().detail, /ENT_0911002B_Complet_20250901_PersEducNat_0001\.xml: complete import that would send 12 of 15 teacher accounts away \(80%\)/);
  assert.equal(await snapshot(), before);
  const done = await post('?confirmAbsences=true');
  assert.equal(done.statusCode, 200, done.body);
  assert.equal((await absent()).length, 12);
  await run(WHOLE);
});

test('the drop folder, which nobody confirms: the delivery is refused and filed under rejected/', async () => {
  const drop = mkdtempSync(join(dataDir, 'depot-'));
  const dir = join(drop, 'aaf-nuit');
  mkdirSync(dir);
  for (const f of WITHOUT_FIRST) writeFileSync(join(dir, f.name), f.data);
  writeFileSync(join(dir, '.done'), '');
  const before = await snapshot();
  const r = await runDropFolder(ctx, { dir: drop, log: () => {} });
  assert.equal(r.deliveries.length, 1);
  assert.equal(r.deliveries[0].outcome, 'rejected');
  assert.match(r.deliveries[0].error ?? '', /12 comptes d’enseignants sur 15[\s\S]*--confirmer-absences/);
  assert.ok(readdirSync(join(drop, 'rejected')).length, 'filed under rejected/<date>/');
  // Only the audit of the pass itself, if any: no account touched.
  assert.equal(JSON.stringify(JSON.parse(await snapshot()).slice(0, 2)), JSON.stringify(JSON.parse(before).slice(0, 2)));
});

test('a complete delivery without one kind’s file: that kind’s absence is not looked for, and the report says so', async () => {
  const report = await run([ETAB, STAFF0, STAFF1, PUPILS]);
  assert.equal(report.fatal, null, formatReport(report));
  assert.deepEqual(report.unchecked, ['PersRelEleve']);
  assert.deepEqual(await absent(), [], 'R1 kept: no PersRelEleve file, no absence computed for relatives');
  assert.match(formatReport(report), /\nLivraison AAF complète sans fichier PersRelEleve : l’absence de ces comptes n’est pas recherchée \(aucun n’entre en période de grâce\)\./);
  assert.match(formatReport(report, 'en'), /\nComplete AAF delivery without a PersRelEleve file: these accounts' absence is not looked for/);
  assert.match(String(reportView('fr', report)), /data-import="unchecked">Livraison AAF complète sans fichier PersRelEleve/);
  // A partial run checks nothing by design: nothing to say.
  assert.equal((await run([ETAB, STAFF0, STAFF1, PUPILS], { partial: true })).unchecked, undefined);
  // Without EtabEducNat the delivery is not complete: nobody's absence is looked for (the first staff file missing
  // sends nobody away), and the report says so rather than « 0 absent » alone.
  const noEtab = await run([STAFF1, PUPILS, RELATIVES]);
  assert.equal(noEtab.fatal, null, formatReport(noEtab));
  assert.deepEqual(noEtab.unchecked, ['EtabEducNat']);
  assert.equal(noEtab.preDeleted, 0);
  assert.deepEqual(await absent(), []);
  assert.match(formatReport(noEtab), /\nLivraison AAF sans fichier EtabEducNat : elle n’est pas traitée comme complète, l’absence des comptes n’est pas recherchée/);
  assert.match(String(reportView('en', noEtab)), /data-import="unchecked">AAF delivery without its EtabEducNat file: it is not taken as complete/);
  assert.equal((await run([STAFF1, PUPILS, RELATIVES], { partial: true })).unchecked, undefined);
});

test('not only AAF: a school’s CSV of pupils that would send most of them away is refused the same way', async () => {
  const [{ id: school }] = await q<{ id: string }>(`INSERT INTO structures (uai, name) VALUES ('0911003C', 'École des Prés') RETURNING id`);
  const csv = (names: string[]) => ({
    name: 'CSV_Eleves.csv',
    data: Buffer.from(`Prénom*;Nom*;Date de naissance*;Classes*\n${names.map((n, i) => `${n};PRÉVOST;0${(i % 9) + 1}/05/2016;CE1 de Mme ROUSSEL`).join('\n')}\n`),
  });
  const opts = { structureHint: school, uploaded: true };
  const all = await run([csv(FIRST.slice(0, 12))], opts);
  assert.equal(all.fatal, null, formatReport(all));
  assert.equal(all.created, 12);
  // Two pupils kept, ten gone (more than half, ten or more).
  const before = await snapshot();
  const refused = await run([csv(FIRST.slice(0, 2))], opts);
  assert.ok(refused.fatal, formatReport(refused));
  assert.equal(refused.fatal.message?.code, 'massAbsence');
  assert.match(refused.fatal.reason, /10 comptes d’élèves sur 12 \(83\u202f%\)/);
  assert.equal(await snapshot(), before);
  // Three kept, nine gone: under ten, an ordinary turnover; applied.
  const fewer = await run([csv(FIRST.slice(0, 3))], opts);
  assert.equal(fewer.fatal, null, formatReport(fewer));
  assert.equal(fewer.preDeleted, 9);
  assert.equal(fewer.massAbsence, undefined);
});
