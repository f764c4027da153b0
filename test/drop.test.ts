// The drop folder: which deliveries are complete, a pass that imports, files away and mails the report,
// one pass at a time across instances, and the schedule (parsed and triggered without waiting for the clock).
import assert from 'node:assert/strict';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, beforeEach, test } from 'node:test';
import pg from 'pg';
import { loadConfig } from '../src/config.js';
import { scanDropFolder } from '../src/drop/deliveries.js';
import { DROP_LOCK, runDropFolder, type DropRunResult } from '../src/drop/run.js';
import { nextDropRuns, parseDropCron, startDropSchedule } from '../src/drop/schedule.js';
import { startMailWorker } from '../src/mail/worker.js';
import { testContext } from './helpers/db.js';
import { startTestSmtp, type TestSmtp } from './helpers/smtp.js';

const FIX = new URL('./fixtures/drop/', import.meta.url).pathname;
// 30 Nov 2026 at 03:00 in Paris (UTC+1): the archive folder of a pass at that time is 2026-11-30.
const NIGHT = new Date('2026-11-30T02:00:00Z');

let ctx: Awaited<ReturnType<typeof testContext>>;
let smtp: TestSmtp;
let drop: string;

const q = async <T = Record<string, unknown>>(sql: string, params: unknown[] = []) => (await ctx.database.pool.query(sql, params)).rows as T[];
const count = async (sql: string, params: unknown[] = []) => Number((await q<{ n: string }>(sql, params))[0].n);

/** Copies a fixture delivery into the drop folder; `marker` writes `<name>/.done`. */
function deliver(fixture: string, as = fixture, marker = true): string {
  const dir = join(drop, as);
  cpSync(join(FIX, fixture), dir, { recursive: true });
  if (marker) writeFileSync(join(dir, '.done'), '');
  return dir;
}

/** Sets the modification time of a folder and everything in it. */
function touch(path: string, when: Date): string {
  for (const f of readdirSync(path, { recursive: true }) as string[]) utimesSync(join(path, f), when, when);
  utimesSync(path, when, when);
  return path;
}

before(async () => {
  smtp = await startTestSmtp();
  ctx = await testContext({ SMTP_URL: smtp.url });
  await q(`INSERT INTO users (profile, first_name, last_name, login, is_super_admin, email) VALUES
    ('Personnel', 'Agnès', 'RECTORAT', 'agnes.rectorat', true, 'agnes@rectorat.example'),
    ('Personnel', 'Paul', 'DSI', 'paul.dsi', true, 'paul@rectorat.example'),
    ('Personnel', 'Sans', 'ADRESSE', 'sans.adresse', true, NULL),
    ('Personnel', 'Bloqué', 'ANCIEN', 'bloque.ancien', true, 'ancien@rectorat.example'),
    ('Personnel', 'Diane', 'DIRECTRICE', 'diane.directrice', false, 'diane@ecole.example')`);
  await q(`UPDATE users SET blocked = true WHERE login = 'bloque.ancien'`);
});
after(async () => {
  await ctx.close();
  await smtp.close();
});
beforeEach(() => {
  drop = mkdtempSync(join(tmpdir(), 'trousseau-drop-'));
});

test('completeness: markers inside or beside, quiet period, files still in transfer, reserved folders', () => {
  const old = (p: string) => utimesSync(p, new Date(NIGHT.getTime() - 2 * 3600_000), new Date(NIGHT.getTime() - 2 * 3600_000));
  const fresh = (p: string) => utimesSync(p, new Date(NIGHT.getTime() - 60_000), new Date(NIGHT.getTime() - 60_000));
  const ferry = deliver('jules-ferry'); // .done inside
  mkdirSync(join(ferry, '.sync'));
  writeFileSync(join(ferry, '.sync', 'state.csv'), 'x'); // a hidden folder is not part of the delivery
  writeFileSync(join(ferry, '.DS_Store'), 'x');
  deliver('voisine', 'voisine', false);
  writeFileSync(join(drop, 'voisine.ok'), ''); // marker beside
  const quiet = deliver('jules-ferry', 'ancienne', false);
  for (const f of readdirSync(quiet)) old(join(quiet, f));
  old(quiet);
  const busy = deliver('jules-ferry', 'en-cours', false);
  for (const f of readdirSync(busy)) fresh(join(busy, f));
  const partial = deliver('jules-ferry', 'transfert');
  writeFileSync(join(partial, 'CSV_Parents.csv.filepart'), 'Prénom;No');
  writeFileSync(join(drop, 'ent-nuit.zip'), 'PK');
  writeFileSync(join(drop, 'ent-nuit.zip.ok'), '');
  mkdirSync(join(drop, 'archive', '2026-11-29'), { recursive: true });
  writeFileSync(join(drop, 'archive', '2026-11-29', 'CSV_Eleves.csv'), 'x');
  writeFileSync(join(drop, 'CSV_Invites.csv'), 'Prénom;Nom\r\nIris;VALLON\r\n');
  fresh(join(drop, 'CSV_Invites.csv'));
  // Every entry written now is "fresh" except the ones aged above; the clock of the scan is NIGHT.
  for (const n of ['jules-ferry', 'voisine', 'transfert', 'ent-nuit.zip']) fresh(join(drop, n));
  for (const f of readdirSync(join(drop, 'jules-ferry'))) fresh(join(drop, 'jules-ferry', f));

  const byName = (quietMs: number) => Object.fromEntries(scanDropFolder(drop, { now: NIGHT.getTime(), quietMs }).deliveries.map((d) => [d.name, d]));
  const found = byName(60 * 60_000);
  assert.deepEqual(Object.keys(found).sort(), ['ancienne', 'en-cours', 'ent-nuit.zip', 'fichiers', 'jules-ferry', 'transfert', 'voisine']);
  assert.equal(found['jules-ferry'].complete, true);
  assert.match(found['jules-ferry'].reason, /marqueur \.done/);
  assert.deepEqual(found['jules-ferry'].inputs.map((i) => i.name), ['CSV_Eleves.csv', 'CSV_Enseignants.csv'], 'the marker is not a file to import');
  assert.equal(found.voisine.complete, true);
  assert.deepEqual(found.voisine.paths.map((p) => p.slice(drop.length + 1)), ['voisine', 'voisine.ok'], 'the marker beside moves with it');
  assert.equal(found.ancienne.complete, true);
  assert.match(found.ancienne.reason, /inchangée depuis 1\d\d min/);
  assert.equal(found['en-cours'].complete, false);
  assert.equal(found.transfert.complete, false, 'a .filepart means the upload is still going, marker or not');
  assert.match(found.transfert.reason, /transfert en cours/);
  assert.equal(found['ent-nuit.zip'].complete, true);
  assert.deepEqual(found['ent-nuit.zip'].inputs.map((i) => i.name), ['ent-nuit.zip'], 'a zip goes to the import whole');
  assert.equal(found.fichiers.complete, false, 'loose files without marker, changed a minute ago');
  assert.equal(found.ancienne.changedAt < found['jules-ferry'].changedAt, true);
  assert.equal(scanDropFolder(drop, { now: NIGHT.getTime(), quietMs: 60 * 60_000 }).deliveries[0].name, 'ancienne', 'oldest first');

  assert.equal(byName(0).ancienne.complete, false, 'quiet period 0: markers only');
  writeFileSync(join(drop, '.done'), '');
  assert.equal(byName(0).fichiers.complete, true, 'a marker at the top completes the loose files');
  assert.deepEqual(byName(0).fichiers.inputs.map((i) => i.name), ['CSV_Invites.csv']);
});

async function sentMails(): Promise<void> {
  const worker = startMailWorker(ctx, { log: () => {} });
  await worker.drain();
  await worker.stop();
}

test('a pass imports the complete delivery, refuses the broken one, leaves the incomplete one, files reports, mails super admins', async () => {
  deliver('jules-ferry');
  deliver('voisine');
  touch(deliver('jules-ferry', 'demain', false), new Date(NIGHT.getTime() - 60_000)); // no marker, changed a minute ago: waits
  const before = smtp.messages.length;
  const r = await runDropFolder(ctx, { dir: drop, now: NIGHT });
  assert.equal(r.status, 'done');
  assert.deepEqual(r.deliveries.map((d) => [d.name, d.outcome, d.movedTo]).sort(), [
    ['jules-ferry', 'archived', 'archive/2026-11-30/jules-ferry'],
    ['voisine', 'rejected', 'rejected/2026-11-30/voisine'],
  ]);
  assert.deepEqual(r.waiting.map((w) => w.name), ['demain']);

  // The database: the school of the folder and its five accounts, nothing from the refused delivery.
  const [ferry] = await q<{ id: string }>(`SELECT id FROM structures WHERE name = 'École Jules Ferry'`);
  assert.ok(ferry, 'the folder names the school');
  assert.equal(await count(`SELECT count(*) n FROM user_structures WHERE structure_id = $1`, [ferry.id]), 5);
  assert.equal(await count(`SELECT count(*) n FROM users WHERE last_name = 'ROCHE'`), 0);
  assert.equal(await count(`SELECT count(*) n FROM structures WHERE name ILIKE '%voisine%'`), 0, 'a refused run creates no structure');

  // The folder: moved with marker, reports beside (text and JSON), the incomplete delivery untouched.
  const archived = join(drop, 'archive', '2026-11-30');
  assert.deepEqual(readdirSync(archived).sort(), ['jules-ferry', 'jules-ferry.rapport.json', 'jules-ferry.rapport.txt']);
  assert.deepEqual(readdirSync(join(archived, 'jules-ferry')).sort(), ['.done', 'CSV_Eleves.csv', 'CSV_Enseignants.csv']);
  assert.match(readFileSync(join(archived, 'jules-ferry.rapport.txt'), 'utf8'), /Importée, rangée dans archive\/2026-11-30\/jules-ferry[\s\S]*Import terminé[\s\S]*5 créés/);
  const json = JSON.parse(readFileSync(join(archived, 'jules-ferry.rapport.json'), 'utf8'));
  assert.equal(json.outcome, 'archived');
  assert.equal(json.report.created, 5);
  const rejectedTxt = readFileSync(join(drop, 'rejected', '2026-11-30', 'voisine.rapport.txt'), 'utf8');
  assert.match(rejectedTxt, /Refusée[\s\S]*CSV_Eleves\.csv, ligne 1, Date de naissance/);
  assert.ok(existsSync(join(drop, 'rejected', '2026-11-30', 'voisine', 'CSV_Eleves.csv')));
  assert.ok(existsSync(join(drop, 'demain', 'CSV_Eleves.csv')));
  assert.ok(!existsSync(join(drop, 'jules-ferry')) && !existsSync(join(drop, 'voisine')));

  // The mail: every active super admin with an address, nobody else.
  assert.equal(r.mailed, 2);
  await sentMails();
  const got = smtp.messages.slice(before);
  assert.deepEqual(got.map((m) => (Array.isArray(m.to) ? '' : m.to?.value[0].address)).sort(), ['agnes@rectorat.example', 'paul@rectorat.example']);
  const mail = smtp.to('agnes@rectorat.example').at(-1)!;
  assert.match(mail.subject ?? '', /À vérifier — dépôt du 2026-11-30 : 1 importée, 1 refusée, 1 en attente/);
  assert.match(mail.text ?? '', /Livraison : jules-ferry[\s\S]*5 créés[\s\S]*Livraison : voisine[\s\S]*colonne obligatoire[\s\S]*demain — /);
  assert.equal(smtp.to('diane@ecole.example').length, 0);
  assert.equal(smtp.to('ancien@rectorat.example').length, 0, 'a blocked super admin gets nothing');
  const [audit] = await q<{ details: { deliveries: Array<{ name: string; outcome: string }> } }>(`SELECT details FROM audit WHERE action = 'drop.run'`);
  assert.deepEqual(audit.details.deliveries.map((d) => d.outcome).sort(), ['archived', 'rejected']);

  // Only a delivery in transfer: nobody is mailed; stuck for two days: the super admins hear of it.
  const stuck = touch(deliver('jules-ferry', 'bloquee', false), new Date(NIGHT.getTime() - 60_000));
  rmSync(join(drop, 'demain'), { recursive: true });
  writeFileSync(join(stuck, 'CSV_Parents.csv.part'), '');
  touch(stuck, new Date(NIGHT.getTime() - 60_000));
  const quietPass = await runDropFolder(ctx, { dir: drop, now: NIGHT });
  assert.deepEqual([quietPass.deliveries.length, quietPass.waiting.map((w) => w.name), quietPass.mailed], [0, ['bloquee'], 0]);
  touch(stuck, new Date(NIGHT.getTime() - 48 * 3600_000));
  const stuckPass = await runDropFolder(ctx, { dir: drop, now: NIGHT });
  assert.equal(stuckPass.mailed, 2);
  rmSync(stuck, { recursive: true });

  // Same delivery again the same day: a second folder name, nothing created twice.
  deliver('jules-ferry');
  const again = await runDropFolder(ctx, { dir: drop, now: NIGHT });
  assert.deepEqual(again.deliveries.map((d) => d.movedTo), ['archive/2026-11-30/jules-ferry-2']);
  assert.equal(again.deliveries[0].report?.created, 0);
  assert.equal(again.deliveries[0].report?.unchanged, 5);
  rmSync(drop, { recursive: true, force: true });
});

test('a symbolic link in the drop folder is never followed, and said; a name with a line break cannot forge a line of the log', async () => {
  // Whoever can write into the drop folder must not make the import read a file of the server.
  const secret = mkdtempSync(join(tmpdir(), 'trousseau-secret-'));
  writeFileSync(join(secret, 'passwd'), 'root:x:0:0:root:/root:/bin/bash\n');
  const dir = join(drop, 'livraison');
  mkdirSync(dir);
  symlinkSync(join(secret, 'passwd'), join(dir, 'ENT_Eleves.csv'));
  symlinkSync(secret, join(dir, 'dossier'));
  symlinkSync(secret, join(drop, 'lien-racine'));
  writeFileSync(join(dir, 'note\nDépôt : tout va bien.txt'), 'x');
  writeFileSync(join(dir, '.done'), '');
  const scan = scanDropFolder(drop, { now: NIGHT.getTime(), quietMs: 0 });
  const [d, ...others] = scan.deliveries;
  assert.deepEqual(others, [], 'a link at the top is no delivery');
  assert.deepEqual(scan.links, [join(drop, 'lien-racine')]);
  assert.deepEqual(d.links.sort(), [join(dir, 'ENT_Eleves.csv'), join(dir, 'dossier')]);
  assert.deepEqual(d.inputs.map((i) => i.name), ['note\uFFFDDépôt : tout va bien.txt'], 'links are not inputs; the line break is shown as « � »');
  const lines: string[] = [];
  await runDropFolder(ctx, { dir: drop, log: (m) => lines.push(m), now: NIGHT });
  const log = lines.join('\n');
  assert.match(log, /Dépôt : livraison — 2 liens symboliques non suivis, non importés : .*ENT_Eleves\.csv, .*dossier/);
  // The link at the top of the folder is said the same way (it was skipped without a word).
  assert.match(log, /Dépôt : 1 lien symbolique non suivi à la racine du dossier, non importé : .*lien-racine/);
  assert.ok(!log.includes('root:x'), log);
  assert.ok(!lines.some((l) => l.startsWith('Dépôt : tout va bien')), log);
  rmSync(secret, { recursive: true, force: true });
});

test('one pass at a time: a pass finding the lock taken does nothing; two at once import once', async () => {
  deliver('jules-ferry', 'nuit-a');
  const other = new pg.Client({ connectionString: (ctx.database.pool as unknown as { options: { connectionString: string } }).options.connectionString });
  await other.connect();
  await other.query('SELECT pg_advisory_lock($1)', [DROP_LOCK]);
  const busy = await runDropFolder(ctx, { dir: drop, now: NIGHT });
  assert.equal(busy.status, 'busy');
  assert.deepEqual(busy.deliveries, []);
  assert.ok(existsSync(join(drop, 'nuit-a', '.done')), 'untouched while another instance works');
  await other.query('SELECT pg_advisory_unlock($1)', [DROP_LOCK]);
  await other.end();

  const passes = await Promise.all([runDropFolder(ctx, { dir: drop, now: NIGHT }), runDropFolder(ctx, { dir: drop, now: NIGHT })]);
  const worked = passes.filter((p) => p.deliveries.length > 0);
  assert.equal(worked.length, 1, JSON.stringify(passes.map((p) => [p.status, p.deliveries.length])));
  assert.deepEqual(worked[0].deliveries.map((d) => d.name), ['nuit-a']);
  assert.ok(passes.every((p) => p === worked[0] || p.status === 'busy' || p.deliveries.length === 0));
  assert.equal(readdirSync(join(drop, 'archive', '2026-11-30')).filter((n) => n.startsWith('nuit-a') && !n.includes('rapport')).length, 1);
  rmSync(drop, { recursive: true, force: true });
});

test('schedule: default nightly at 02:00 Paris time, invalid expressions named, the trigger runs a pass', async () => {
  const cfg = loadConfig({ TROUSSEAU_SECRET: '11'.repeat(32), TROUSSEAU_DATA_DIR: '/tmp/trousseau-test-data' });
  assert.deepEqual(cfg.drop, { dir: null, cron: '0 2 * * *', quietMinutes: 60, timezone: 'Europe/Paris' });
  // Winter (UTC+1) then summer (UTC+2).
  assert.deepEqual(nextDropRuns(cfg.drop.cron, cfg.drop.timezone, 2, new Date('2026-11-29T12:00:00Z')).map((d) => d.toISOString()),
    ['2026-11-30T01:00:00.000Z', '2026-12-01T01:00:00.000Z']);
  assert.deepEqual(nextDropRuns(cfg.drop.cron, cfg.drop.timezone, 1, new Date('2026-07-01T12:00:00Z')).map((d) => d.toISOString()), ['2026-07-02T00:00:00.000Z']);
  assert.deepEqual(nextDropRuns('30 5 * * mon-fri', 'Europe/Paris', 2, new Date('2026-11-27T12:00:00Z')).map((d) => d.toISOString()),
    ['2026-11-30T04:30:00.000Z', '2026-12-01T04:30:00.000Z'], 'weekdays only: Friday noon → Monday');
  for (const bad of ['0 25 * * *', 'tous les soirs', '* * * * * * *', '']) {
    assert.throws(() => parseDropCron(bad, 'Europe/Paris'), /TROUSSEAU_DROP_CRON : expression cron invalide/, bad);
  }
  assert.throws(() => loadConfig({ TROUSSEAU_SECRET: '11'.repeat(32), TROUSSEAU_DROP_TZ: 'Europe/Paname' }), /TROUSSEAU_DROP_TZ/);
  assert.throws(() => loadConfig({ TROUSSEAU_SECRET: '11'.repeat(32), TROUSSEAU_DROP_QUIET_MINUTES: '-5' }), /TROUSSEAU_DROP_QUIET_MINUTES/);
  assert.equal(loadConfig({ TROUSSEAU_SECRET: '11'.repeat(32), TROUSSEAU_DROP_QUIET_MINUTES: '0' }).drop.quietMinutes, 0);

  deliver('jules-ferry', 'nuit-b');
  const scheduled = { ...ctx, config: { ...ctx.config, drop: { ...ctx.config.drop, dir: drop, cron: '15 3 * * *' } } };
  const runs: DropRunResult[] = [];
  const job = startDropSchedule(scheduled, () => {}, (r) => runs.push(r));
  try {
    const next = job.next()!;
    assert.equal(next.getTime(), nextDropRuns('15 3 * * *', 'Europe/Paris', 1, new Date())[0].getTime());
    await job.trigger();
    assert.equal(runs.length, 1);
    assert.deepEqual(runs[0].deliveries.map((d) => [d.name, d.outcome]), [['nuit-b', 'archived']]);
  } finally {
    job.stop();
  }
  assert.equal(job.next(), null);
  assert.throws(() => startDropSchedule({ ...scheduled, config: { ...scheduled.config, drop: { ...scheduled.config.drop, cron: '0 2 * *' } } }, () => {}), /TROUSSEAU_DROP_CRON/);
  assert.throws(() => startDropSchedule({ ...scheduled, config: { ...scheduled.config, drop: { ...scheduled.config.drop, dir: join(drop, 'absent') } } }, () => {}), /TROUSSEAU_DROP_DIR : dossier introuvable/);
  rmSync(drop, { recursive: true, force: true });
});
