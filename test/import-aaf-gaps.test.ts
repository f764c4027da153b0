// A complete AAF delivery implies absence: every account of its kinds, in its schools, that it does not carry is
// pre-deleted. A numbered file left out of the upload must not take its accounts away:
//  - a gap in a kind's numbering (…_0001, _0003 without _0002) refuses the whole run, naming the missing file
//    (HTTP 400, CLI exit 1, nothing written); a partial run (no absence computed) or a delta passes;
//  - a last file left out leaves no gap: the relatives the run's pupils still name as legal representatives are
//    kept (not pre-deleted), and the report says how many; relatives no pupil names go as before.
// Small invented feeds, written here: one collège, pupils E1–E4, relatives R1–R6 over three PersRelEleve files.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, mock, test } from 'node:test';
import type { FastifyInstance } from 'fastify';
import { loadConfig } from '../src/config.js';
import { makeContext, type AppContext } from '../src/context.js';
import { aafNumberingGaps } from '../src/import/aaf.js';
import { run as importCli } from '../src/import/cli.js';
import { formatReport, importFiles, type ImportReport } from '../src/import/index.js';
import { createSession, SESSION_COOKIE } from '../src/web/auth.js';
import { reportView } from '../src/web/console/views/import.js';
import { buildServer } from '../src/web/server.js';
import { freshDatabase } from './helpers/db.js';
import { multipart } from './helpers/web.js';
import { aafRecord as rec, aafXml as xml } from './helpers/aaf-feed.js';

let database: Awaited<ReturnType<typeof freshDatabase>>;
let ctx: AppContext;
let app: FastifyInstance;
let tmp: string;
const ENV = {
  TROUSSEAU_SECRET: '11'.repeat(32),
  TROUSSEAU_DATA_DIR: '/tmp/trousseau-test-data',
  TROUSSEAU_PUBLIC_URL: 'https://ent.example.fr',
  LOG_LEVEL: process.env.LOG_LEVEL ?? 'silent',
};

before(async () => {
  database = await freshDatabase();
  ctx = makeContext(loadConfig({ ...ENV, DATABASE_URL: database.url }), database);
  app = await buildServer(ctx);
  tmp = mkdtempSync(join(tmpdir(), 'trousseau-aaf-gaps-'));
});
after(async () => {
  await app.close();
  await database.close();
  rmSync(tmp, { recursive: true, force: true });
});

const q = async <T = Record<string, unknown>>(sql: string, params: unknown[] = []) => (await database.pool.query(sql, params)).rows as T[];

// ---- the feed ----

const pupil = (id: string, first: string, legal: string[]) =>
  rec('Eleve', id, [
    ['ENTPersonJointure', [id]], ['sn', ['Garnier']], ['givenName', [first]], ['ENTPersonDateNaissance', ['03/04/2012']],
    // Legal representatives (4th field 1), and a contact who gets no account.
    ['ENTElevePersRelEleve', [...legal.map((r) => `${r}$10$1$1$0$0`), 'C900$90$0$2$1$0']],
    ['ENTPersonStructRattach', ['91001']], ['ENTEleveClasses', ['91001$6A']],
  ]);
const relative = (id: string, first: string) => rec('PersRelEleve', id, [['ENTPersonJointure', [id]], ['sn', ['Garnier']], ['givenName', [first]]]);

const NAME = (kind: string, n: string, prefix = '') => `${prefix}ENT_0911001A_Complet_20250901_${kind}_${n}.xml`;
const ETAB = {
  name: NAME('EtabEducNat', '0000'),
  data: xml(rec('EtabEducNat', '91001', [['ENTStructureJointure', ['91001']], ['ENTStructureUAI', ['0911001A']], ['ENTStructureNomCourant', ['CLG$DES SABLONS$ETAMPES']], ['ENTStructureClasses', ['6A$6EME A']]])),
};
const STAFF = {
  name: NAME('PersEducNat', '0000'),
  data: xml(rec('PersEducNat', 'P1', [['ENTPersonJointure', ['P1']], ['sn', ['Morel']], ['givenName', ['Anne']], ['ENTPersonStructRattach', ['91001']], ['ENTPersonFonctions', ['91001$ENS$ENSEIGNEMENT$L0201$LETTRES']]])),
};
// E1 names R1 (file 0001), E2 names R2 and R3 (file 0002), E3 names R4 and R6, E4 names R5 (file 0003, the last).
const PUPILS = [pupil('E1', 'Léo', ['R1']), pupil('E2', 'Inès', ['R2', 'R3']), pupil('E3', 'Noé', ['R4', 'R6']), pupil('E4', 'Zoé', ['R5'])];
const eleves = (pupils = PUPILS) => ({ name: NAME('Eleve', '0001'), data: xml(pupils.join('')) });
const REL: Record<string, { name: string; data: Buffer }> = {
  '0001': { name: NAME('PersRelEleve', '0001', 'clean-'), data: xml(relative('R1', 'Marc')) },
  '0002': { name: NAME('PersRelEleve', '0002', 'clean-'), data: xml(relative('R2', 'Sophie') + relative('R3', 'Hugo')) },
  '0003': { name: NAME('PersRelEleve', '0003', 'clean-'), data: xml(relative('R4', 'Lina') + relative('R5', 'Paul') + relative('R6', 'Yves')) },
};
const whole = () => [ETAB, STAFF, eleves(), REL['0001'], REL['0002'], REL['0003']];

const run = (files: { name: string; data: Buffer }[], partial = false) => importFiles(ctx, files, { scope: { kind: 'all' }, dryRun: false, partial });
const ok = async (files: { name: string; data: Buffer }[], partial = false): Promise<ImportReport> => {
  const report = await run(files, partial);
  assert.equal(report.fatal, null, formatReport(report));
  return report;
};
/** Who is absent (grace period or pre-deleted), by external id. */
const absent = async () =>
  (await q<{ x: string }>(`SELECT external_id AS x FROM users WHERE absent_since IS NOT NULL OR pre_deleted_at IS NOT NULL ORDER BY 1`)).map((r) => r.x);
/** Everything a refused run must leave alone. */
const snapshot = async () =>
  JSON.stringify([
    await q(`SELECT id, external_id, login, first_name, updated_at, absent_since, pre_deleted_at, import_hash FROM users ORDER BY id`),
    await q(`SELECT parent_id, child_id FROM relations ORDER BY 1, 2`),
    await q(`SELECT user_id, structure_id FROM user_structures ORDER BY 1, 2`),
    await q(`SELECT id, name FROM structures ORDER BY 1`),
    await q(`SELECT count(*) FROM audit`),
  ]);

test('the numbering of a delivery: gaps kind by kind, from 0000 or 0001, prefixes and folders kept', () => {
  const gaps = (names: string[]) => aafNumberingGaps(names).map((g) => [g.kind, g.missing, g.count]);
  // Contiguous from 0000 or from 0001, whatever the prefix: no gap (aaf-2013: Eleve_0001 alone, PersEducNat_0000–0001).
  assert.deepEqual(gaps([NAME('EtabEducNat', '0000'), NAME('Eleve', '0001'), NAME('PersEducNat', '0000'), NAME('PersEducNat', '0001'), REL['0001'].name, REL['0002'].name]), []);
  assert.deepEqual(gaps([REL['0001'].name, REL['0003'].name, NAME('PersRelEleve', '0002')]), [], 'one kind, counted together whatever the prefix');
  // A file left out in the middle, at the start, several.
  assert.deepEqual(gaps([REL['0001'].name, REL['0003'].name]), [['PersRelEleve', [REL['0002'].name], 1]]);
  assert.deepEqual(gaps([NAME('Eleve', '0002'), NAME('Eleve', '0003')]), [['Eleve', [NAME('Eleve', '0001')], 1]]);
  assert.deepEqual(
    gaps(['livraison.zip/ENT_PersRelEleve_07.xml', 'livraison.zip/ENT_PersRelEleve_04.xml', 'ENT_Eleve_0000.xml', 'ENT_Eleve_0002.xml']),
    [['Eleve', ['ENT_Eleve_0001.xml'], 1], ['PersRelEleve', ['livraison.zip/ENT_PersRelEleve_01.xml', 'livraison.zip/ENT_PersRelEleve_02.xml', 'livraison.zip/ENT_PersRelEleve_03.xml', 'livraison.zip/ENT_PersRelEleve_05.xml', 'livraison.zip/ENT_PersRelEleve_06.xml'], 5]],
  );
  // Nomenclatures carry no accounts; names without a number are not counted; a huge gap names ten files.
  assert.deepEqual(gaps([NAME('MefEducNat', '0000'), NAME('MefEducNat', '0002'), 'flux.xml', 'ENT_Eleve.xml']), []);
  const big = aafNumberingGaps([NAME('Eleve', '0001'), NAME('Eleve', '5000')]);
  assert.equal(big[0].count, 4998);
  assert.equal(big[0].missing.length, 10);
});

test('a complete delivery imported whole: every legal representative gets an account', async () => {
  const report = await ok(whole());
  assert.deepEqual(report.rejected, []);
  assert.equal(report.byProfile.Relative?.created, 6);
  assert.equal(report.keptNamed, 0);
  // No warning but the school's missing local administrator (no DIR function in this delivery).
  const warnings = formatReport(report).split('\n').filter((l) => l.startsWith('Attention'));
  assert.deepEqual(warnings.map((l) => /sans administrateur local/.test(l)), [true], warnings.join('\n'));
  assert.deepEqual(await absent(), []);
});

test('a gap in the numbering refuses the whole run, naming the missing file: nothing written', async () => {
  const before = await snapshot();
  const files = [ETAB, STAFF, eleves(), REL['0001'], REL['0003']];
  const report = await run(files);
  assert.ok(report.fatal, formatReport(report));
  assert.equal(report.fatal.file, REL['0002'].name);
  assert.equal(report.fatal.message?.code, 'aafMissingFile');
  assert.match(report.fatal.reason, /fichiers PersRelEleve sont numérotés avec un trou, il manque clean-ENT_0911001A_Complet_20250901_PersRelEleve_0002\.xml/);
  assert.match(formatReport(report), /^Import refusé : aucune modification enregistrée\.\n {2}clean-ENT_0911001A_Complet_20250901_PersRelEleve_0002\.xml : fichier manquant dans une livraison AAF complète/);
  assert.match(formatReport(report, 'en'), /Import refused: nothing was changed/);
  // The missing file is named by the message, not listed as a file of the run.
  assert.deepEqual(report.files.map((f) => f.file), files.map((f) => f.name));
  assert.equal(report.created + report.updated + report.preDeleted, 0);
  assert.equal(await snapshot(), before);

  // Over HTTP: 400 with the message, in English for an English request; never a 500.
  const root = (await q<{ id: string }>(`INSERT INTO users (profile, first_name, last_name, login, is_super_admin, password_hash, activated_at)
     VALUES ('Personnel', 'Root', 'ADMIN', 'root.gaps', true, 'x', now()) RETURNING id`))[0];
  const session = await createSession(database.pool, root.id);
  const before2 = await snapshot();
  const { body, type } = multipart(files);
  const res = await app.inject({
    method: 'POST', url: '/api/import', payload: body,
    headers: { 'content-type': type, cookie: `${SESSION_COOKIE}=${session.token}`, 'x-csrf-token': session.csrf, 'accept-language': 'en' },
  });
  assert.equal(res.statusCode, 400, res.body);
  assert.match(res.json().detail, /clean-ENT_0911001A_Complet_20250901_PersRelEleve_0002\.xml: complete AAF delivery with files left out: the PersRelEleve files are numbered with a gap/);
  assert.equal(await snapshot(), before2);

  // The command line: exit code 1, the message on stderr.
  const dir = mkdtempSync(join(tmp, 'gap-'));
  for (const f of files) writeFileSync(join(dir, f.name), f.data);
  const saved = { ...process.env };
  Object.assign(process.env, ENV, { DATABASE_URL: database.url });
  const err: string[] = [];
  const log = mock.method(console, 'log', () => {});
  const error = mock.method(console, 'error', (...a: unknown[]) => void err.push(a.join(' ')));
  let code: number;
  try {
    code = await importCli([dir]);
  } finally {
    log.mock.restore();
    error.mock.restore();
    process.env = saved;
  }
  assert.equal(code, 1);
  assert.match(err.join('\n'), /Import refusé[\s\S]*il manque clean-ENT_0911001A_Complet_20250901_PersRelEleve_0002\.xml/);
  assert.equal(await snapshot(), before2);
});

test('a gap in a partial run, or in a delta, is accepted: neither computes absence', async () => {
  const partial = await ok([ETAB, STAFF, eleves(), REL['0001'], REL['0003']], true);
  assert.equal(partial.preDeleted, 0);
  assert.equal(partial.keptNamed, 0);
  assert.deepEqual(await absent(), []);
  // A delta by its name: only changes, nothing proven by absence.
  const delta = (f: { name: string; data: Buffer }) => ({ name: f.name.replace('Complet', 'Delta'), data: f.data });
  const report = await ok([ETAB, STAFF, eleves(), REL['0001'], REL['0003']].map(delta));
  assert.equal(report.preDeleted, 0);
  assert.deepEqual(await absent(), []);
});

test('the last PersRelEleve file left out: relatives the pupils name are kept and counted, the others go as before', async () => {
  // No gap to see (0001, 0002; 0003 missing). E4 left the school: their relative R5 is named by nobody any more.
  const report = await ok([ETAB, STAFF, eleves(PUPILS.slice(0, 3)), REL['0001'], REL['0002']]);
  assert.deepEqual(report.rejected, []);
  // R4 and R6 (named by E3, their records in the missing file) stay; E4 and R5 enter their grace period.
  assert.deepEqual(await absent(), ['E4', 'R5']);
  assert.equal(report.preDeleted, 2);
  assert.equal(report.byProfile.Relative?.preDeleted, 1);
  assert.equal(report.keptNamed, 2);
  // E3 keeps their links.
  const links = await q<{ x: string }>(
    `SELECT p.external_id || '>' || c.external_id AS x FROM relations r JOIN users p ON p.id = r.parent_id JOIN users c ON c.id = r.child_id ORDER BY 1`,
  );
  assert.deepEqual(links.map((r) => r.x), ['R1>E1', 'R2>E2', 'R3>E2', 'R4>E3', 'R5>E4', 'R6>E3']);
  // The report says so, in French and in English, on the command line and in the console.
  const fr = formatReport(report);
  assert.match(fr, /\nAttention : 2 comptes que des élèves de l’import désignent comme représentants légaux sont absents de ses fichiers : conservés, non pré-supprimés\. La livraison semble incomplète/);
  assert.match(formatReport(report, 'en'), /\nWarning: 2 accounts that pupils of the import name as legal representatives are missing from its files: kept, not pre-deleted\./);
  assert.match(String(reportView('fr', report)), /<p class="notice notice-warning" data-import="keptNamed">2 comptes que des élèves/);
  assert.match(String(reportView('en', report)), /data-import="keptNamed">2 accounts that pupils/);
  assert.match(formatReport({ ...report, keptNamed: 1 }), /Attention : 1 compte que des élèves de l’import désignent comme représentant légal est absent de ses fichiers : conservé, non pré-supprimé\./);
  // Who enters the grace period is named, not only counted (login — name (profile)).
  assert.deepEqual(report.absent?.map((a) => a.profile).sort(), ['Relative', 'Student']);
  const absentLines = fr.split('\n').slice(fr.split('\n').indexOf('Absents du flux, en période de grâce (2) :') + 1).slice(0, 2);
  assert.equal(absentLines.length, 2);
  for (const a of report.absent!) assert.ok(absentLines.includes(`  ${a.login} — ${a.name} (${a.profile === 'Student' ? 'Élève' : 'Parent'})`), absentLines.join('\n'));
  assert.match(formatReport(report, 'en'), /\nAbsent from the feed, in their grace period \(2\):/);
  const view = String(reportView('fr', report));
  assert.match(view, /data-import="absent"><summary>Absents du flux, en période de grâce \(2\) :<\/summary>/);
  for (const a of report.absent!) assert.ok(view.includes(`<code>${a.login}</code>`));

  // Again: still kept, still counted; the whole delivery back, nothing to warn about.
  const again = await ok([ETAB, STAFF, eleves(PUPILS.slice(0, 3)), REL['0001'], REL['0002']]);
  assert.equal(again.keptNamed, 2);
  assert.equal(again.preDeleted, 0);
  const back = await ok(whole());
  assert.equal(back.keptNamed, 0);
  assert.equal(back.restored, 2);
  assert.deepEqual(await absent(), []);
});
