// Mass absences judged per completeness scope: one school of a run over several emptied out, an AAF kind beside
// another source's accounts of the same profile, and the command line around the guard (a dry run the real run would
// refuse exits 1; a delivery the drop folder refused imports with --confirmer-absences).
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { runDropFolder } from '../src/drop/run.js';
import { run as importCli } from '../src/import/cli.js';
import { formatReport, importFiles, type ImportInput, type ImportOptions } from '../src/import/index.js';
import { massAbsencesOf } from '../src/import/plan.js';
import { fileContext, fileTempDir, sqlReaders } from './helpers/db.js';
import { aafRecord as rec, aafXml as xml } from './helpers/aaf-feed.js';
import { runCli } from './helpers/cli.js';

const dataDir = fileTempDir('trousseau-absence-scopes-');
const ctx = await fileContext({ TROUSSEAU_DATA_DIR: dataDir });
const { q } = sqlReaders(ctx);

const run = (files: ImportInput[], opts: Partial<ImportOptions> = {}) => importFiles(ctx, files, { scope: { kind: 'all' }, dryRun: false, ...opts });
const absentIn = async (like: string) =>
  Number((await q<{ n: string }>(`SELECT count(*) AS n FROM users WHERE absent_since IS NOT NULL AND external_id LIKE $1`, [like]))[0].n);

const range = (a: number, b: number) => Array.from({ length: b - a + 1 }, (_, i) => a + i);
/** n pupils of a school's CSV, names unique per index. */
const pupilsCsv = (folder: string, ids: number[]): ImportInput => ({
  name: 'CSV_Eleves.csv',
  folder,
  data: Buffer.from(`Prénom*;Nom*;Date de naissance*;Classes*\n${ids.map((i) => `Prénom${i};${folder.toUpperCase()};${String((i % 28) + 1).padStart(2, '0')}/05/2016;CE1`).join('\n')}\n`),
});
const teachersCsv = (folder: string, ids: number[]): ImportInput => ({
  name: 'CSV_Enseignants.csv',
  folder,
  data: Buffer.from(`Prénom*;Nom*\n${ids.map((i) => `Enseignant${i};${folder.toUpperCase()}`).join('\n')}\n`),
});

// ---- an AAF feed, as in test/import-mass-absence.test.ts ----
type File = { name: string; data: Buffer };
const NAME = (kind: string, n: string) => `ENT_0911002B_Complet_20250901_${kind}_${n}.xml`;
const ETAB: File = {
  name: NAME('EtabEducNat', '0000'),
  data: xml(rec('EtabEducNat', '92001', [['ENTStructureJointure', ['92001']], ['ENTStructureUAI', ['0911002B']], ['ENTStructureNomCourant', ['CLG$LES GROTTES$ETRECHY']]])),
};
const teacher = (i: number) =>
  rec('PersEducNat', `T${i}`, [['ENTPersonJointure', [`T${i}`]], ['sn', ['Morel']], ['givenName', [`Prof${i}`]], ['ENTPersonStructRattach', ['92001']], ['ENTPersonFonctions', ['92001$ENS$ENSEIGNEMENT$L0201$LETTRES']]]);
const STAFF0: File = { name: NAME('PersEducNat', '0000'), data: xml(range(1, 12).map(teacher).join('')) };
const STAFF1: File = { name: NAME('PersEducNat', '0001'), data: xml(range(13, 15).map(teacher).join('')) };

/** Runs `trousseau import` with the test database; exit code and what it printed. */
function cli(args: string[]) {
  return runCli(importCli, args, { TROUSSEAU_SECRET: '11'.repeat(32), TROUSSEAU_DATA_DIR: dataDir, TROUSSEAU_PUBLIC_URL: 'https://ent.example.fr', LOG_LEVEL: 'silent', DATABASE_URL: (ctx.database as { url?: string }).url ?? '' });
}

test('two schools in one run (a folder each): one school whose pupils all vanish is refused, whatever the other school weighs', async () => {
  // `trousseau import circonscription/` over a folder per école is how the command reads folders; one école's export
  // is the wrong one (truncated, last year's, another class's): its 28 other pupils would leave, silently, because
  // the big school's 60 unchanged pupils dilute the share (28 / 90).
  const first = await run([pupilsCsv('ecole-a', range(1, 30)), pupilsCsv('ecole-b', range(1, 60))]);
  assert.equal(first.fatal, null, formatReport(first));
  assert.equal(first.created, 90);

  const dry = await run([pupilsCsv('ecole-a', range(1, 2)), pupilsCsv('ecole-b', range(1, 60))], { dryRun: true });
  assert.equal(dry.fatal, null, formatReport(dry));
  assert.equal(dry.preDeleted, 28);
  assert.deepEqual(dry.massAbsence, [{ profile: 'Student', absent: 28, of: 30 }], 'école A loses 28 of its 30 pupils');
  assert.deepEqual(dry.emptied?.map((e) => [e.name, e.absent, e.of]), [['Ecole A', 28, 30]], 'and the report names the school');
  const refused = await run([pupilsCsv('ecole-a', range(1, 2)), pupilsCsv('ecole-b', range(1, 60))]);
  assert.equal(refused.fatal?.message?.code, 'massAbsence', formatReport(refused));
  assert.match(refused.fatal?.reason ?? '', /28 comptes d’élèves sur 30/);
  // A school's file of one class is the likeliest cause: the refusal offers the partial import, not only the confirmation.
  assert.match(refused.fatal?.reason ?? '', /import partiel \(--partiel\)/);
  assert.match(formatReport(dry), /importez-les avec --partiel/);
  assert.equal(await absentIn('csv:%'), 0);
});

test('another source’s accounts of the same profile do not dilute an AAF file left out', async () => {
  // A complete AAF delivery without its first staff file (12 of 15 teachers), run with another school's teachers
  // CSV: the CSV's 20 unchanged teachers are not the AAF's and must not hide the 12 leaving.
  const whole = await run([ETAB, STAFF0, STAFF1, teachersCsv('lycee-prive', range(1, 20))]);
  assert.equal(whole.fatal, null, formatReport(whole));
  const dry = await run([ETAB, STAFF1, teachersCsv('lycee-prive', range(1, 20))], { dryRun: true });
  assert.equal(dry.fatal, null, formatReport(dry));
  assert.equal(dry.preDeleted, 12);
  assert.deepEqual(dry.massAbsence, [{ profile: 'Teacher', absent: 12, of: 15 }]);
  const refused = await run([ETAB, STAFF1, teachersCsv('lycee-prive', range(1, 20))]);
  assert.equal(refused.fatal?.message?.code, 'massAbsence', formatReport(refused));
  assert.equal(refused.fatal?.file, STAFF1.name, 'the file of the scope that empties out, not the CSV');
  assert.equal(await absentIn('T%'), 0);
});

test('the command line: a dry run that a real run would refuse exits 1, as for rejected rows', async () => {
  const dir = mkdtempSync(join(dataDir, 'livraison-'));
  for (const f of [ETAB, STAFF1]) writeFileSync(join(dir, f.name), f.data);
  const dry = await cli([dir, '--dry-run']);
  assert.match(dry.out, /ferait sortir 12 comptes d’enseignants sur 15/);
  assert.equal(dry.code, 1, 'a script checking with --dry-run first must learn the real run will be refused');
  const confirmedDry = await cli([dir, '--dry-run', '--confirmer-absences']);
  assert.equal(confirmedDry.code, 0, confirmedDry.err);
});

test('a delivery the drop folder refused can be imported as the message says: trousseau import <it> --confirmer-absences', async () => {
  const drop = mkdtempSync(join(dataDir, 'depot-'));
  const dir = join(drop, 'aaf-nuit');
  mkdirSync(dir);
  for (const f of [ETAB, STAFF1]) writeFileSync(join(dir, f.name), f.data);
  writeFileSync(join(dir, '.done'), '');
  const r = await runDropFolder(ctx, { dir: drop, log: () => {} });
  assert.equal(r.deliveries[0].outcome, 'rejected');
  assert.match(r.deliveries[0].error ?? '', /--confirmer-absences/);
  const [date] = readdirSync(join(drop, 'rejected'));
  const moved = join(drop, 'rejected', date, 'aaf-nuit');
  assert.ok(readdirSync(moved).includes('.done'), 'the marker travels with the delivery');
  const done = await cli([moved, '--confirmer-absences']);
  assert.equal(done.code, 0, done.err);
  assert.equal(await absentIn('T%'), 12);
  // The audit row of the run says that departures were confirmed, and which.
  const [audit] = await q<{ details: { massAbsence?: unknown } }>(`SELECT details FROM audit WHERE action = 'import' ORDER BY id DESC LIMIT 1`);
  assert.deepEqual(audit.details.massAbsence, [{ profile: 'Teacher', absent: 12, of: 15 }]);
  // Back to the whole staff.
  assert.equal((await run([ETAB, STAFF0, STAFF1, teachersCsv('lycee-prive', range(1, 20))])).restored, 12);
});

test('the rule per scope: each scope alone, then each profile over its scopes', () => {
  const s = (absent: number, covered: number, file: string, profile: 'Student' | 'Teacher' = 'Student') => ({ profile, absent, covered, file });
  // One school emptied out beside a large one: that school's scope.
  assert.deepEqual(massAbsencesOf([s(28, 2, 'a.csv'), s(0, 60, 'b.csv')]), [{ profile: 'Student', absent: 28, of: 30, file: 'a.csv' }]);
  // A rentrée: every school loses a third; nothing.
  assert.deepEqual(massAbsencesOf([s(10, 20, 'a.csv'), s(20, 40, 'b.csv')]), []);
  // Three small schools, each under 10 but most of their pupils: the profile over its scopes.
  assert.deepEqual(massAbsencesOf([s(8, 2, 'a.csv'), s(9, 1, 'b.csv'), s(8, 2, 'c.csv')]), [{ profile: 'Student', absent: 25, of: 30, file: 'b.csv' }]);
  // Two profiles of one scope are judged apart, largest first.
  assert.deepEqual(massAbsencesOf([s(12, 3, 'p.xml', 'Teacher'), s(40, 10, 'e.xml')]).map((m) => m.profile), ['Student', 'Teacher']);
});
