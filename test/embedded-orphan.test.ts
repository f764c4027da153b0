// After a crash (the Node process killed abruptly), the embedded PostgreSQL it had started kept running: the next
// start reused it without owning it, so it never stopped. Now a new start stops such an orphan cleanly and starts
// its own server; a server of a live Trousseau process is still reused (the CLI while the app runs); a stale
// postmaster.pid naming another program is removed, one whose process is gone is left to PostgreSQL. A server that
// stopped on its own (the terminal’s Ctrl-C reaches it with the command) does not hang the stop that follows.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { chmodSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { after, test } from 'node:test';
import pg from 'pg';
import { alive, reclaimEmbedded, startEmbedded } from '../src/db/embedded.js';
import { type AppProcess, appPort, startAppProcess } from './helpers/process.js';
import { waitFor } from './helpers/smtp.js';

const parent = mkdtempSync(join(tmpdir(), 'trousseau-orphan-'));
chmodSync(parent, 0o755); // run as root, PostgreSQL runs as its own user and must reach its directory
const dataDir = join(parent, 'data');
const pgDir = join(dataDir, 'pg');
const running: AppProcess[] = [];
/** Every PostgreSQL seen here: none outlives the test, whatever a failed run left behind. */
const servers = new Set<number>();

after(async () => {
  for (const app of running) if (app.child.exitCode === null && app.child.signalCode === null) app.child.kill('SIGKILL');
  for (const pid of servers) {
    if (alive(pid)) process.kill(pid, 'SIGINT');
    await waitFor('PostgreSQL stopped', () => !alive(pid), 300).catch(() => {});
  }
  rmSync(parent, { recursive: true, force: true });
});

function postmaster(): number {
  const pid = Number(readFileSync(join(pgDir, 'postmaster.pid'), 'utf8').split('\n')[0]);
  servers.add(pid);
  return pid;
}

async function startApp(): Promise<{ app: AppProcess; port: number }> {
  const port = await appPort();
  const app = startAppProcess({
    TROUSSEAU_DATA_DIR: dataDir, PORT: String(port), TROUSSEAU_DEMO: '0', TROUSSEAU_SECRET: '7a'.repeat(32),
    TROUSSEAU_ADMIN_PASSWORD: 'Orphelin-Sapin-Rouge-42',
  });
  running.push(app);
  await app.waitForOutput('Trousseau écoute', 120_000);
  return { app, port };
}

test('a start after the app was killed (SIGKILL) stops the orphaned PostgreSQL cleanly, then owns and stops its own', async () => {
  const first = await startApp();
  const orphan = postmaster();
  // While the app runs, another Trousseau process (the CLI) reuses its server and stops nothing.
  const lines: string[] = [];
  const url = await reclaimEmbedded(pgDir, (l) => lines.push(l));
  assert.match(url ?? '', /^postgres:\/\/postgres:.+@127\.0\.0\.1:\d+\/postgres$/);
  assert.deepEqual(lines, []);
  assert.ok(alive(orphan));

  first.app.child.kill('SIGKILL');
  await first.app.exited();
  await new Promise((ok) => setTimeout(ok, 300));
  assert.ok(alive(orphan), 'the crash leaves PostgreSQL running');

  const second = await startApp();
  const out = second.app.output();
  assert.match(out, new RegExp(`PostgreSQL embarqué : un serveur resté actif après un arrêt brutal de Trousseau \\(pid ${orphan}, port \\d+\\) est arrêté proprement`), out);
  assert.ok(!alive(orphan), 'the orphan is gone');
  const own = postmaster();
  assert.notEqual(own, orphan);
  assert.equal((await fetch(`http://127.0.0.1:${second.port}/healthz`)).status, 200);

  // This one is owned: a clean stop of the app stops it too.
  second.app.child.kill('SIGTERM');
  await second.app.exited();
  // Without SMTP_URL the start log says so once (the start messages), not again in the mail worker's words.
  assert.equal(second.app.output().match(/SMTP/g)?.length, 1, second.app.output());
  await waitFor('PostgreSQL stopped', () => !alive(own), 400);
  assert.ok(!existsSync(join(pgDir, 'postmaster.pid')));
});

test('a postmaster.pid naming another program is removed; one whose process is gone is left to PostgreSQL, which starts', async () => {
  const pidFile = join(pgDir, 'postmaster.pid');
  const stale = (pid: number) => writeFileSync(pidFile, `${pid}\n${resolve(pgDir)}\n1700000000\n5999\n\n127.0.0.1\n0 0\nready\n`);
  // Another live program under the recorded pid: PostgreSQL itself would refuse to start ("lock file already exists").
  const other = spawn('sleep', ['60']);
  try {
    stale(other.pid!);
    const lines: string[] = [];
    assert.equal(await reclaimEmbedded(pgDir, (l) => lines.push(l)), undefined);
    assert.match(lines.join('\n'), new RegExp(`fichier .*postmaster\\.pid périmé \\(processus ${other.pid} étranger à cette base\\), supprimé`));
    assert.ok(!existsSync(pidFile));
    assert.ok(alive(other.pid!), 'the other program is left alone');
  } finally {
    other.kill();
  }
  // A pid no process holds any more.
  const gone = spawn('true');
  await new Promise((ok) => gone.on('exit', ok));
  stale(gone.pid!);
  const lines: string[] = [];
  assert.equal(await reclaimEmbedded(pgDir, (l) => lines.push(l)), undefined);
  assert.equal(lines.length, 1);
  // Not removed: a server of another PID namespace would look just as gone from here.
  assert.ok(existsSync(pidFile));
  const server = await startEmbedded(pgDir);
  try {
    // The private server is planned for its own disk (embedded.ts PLANNER_FLAGS), not a spinning one.
    const c = new pg.Client(server.url);
    await c.connect();
    const cost = (await c.query('SHOW random_page_cost')).rows[0].random_page_cost;
    await c.end();
    assert.equal(cost, '1.1', 'random_page_cost of the embedded server');
  } finally {
    await server.stop();
  }
});

test('stop() returns when PostgreSQL already stopped on its own (a terminal’s Ctrl-C reaches it with the command)', async () => {
  const server = await startEmbedded(pgDir);
  const pid = postmaster();
  process.kill(pid, 'SIGINT');
  await waitFor('PostgreSQL stopped', () => !alive(pid), 800);
  // Its exit seen by Node (the child reaped) before anyone asks it to stop: the package then waited forever for it,
  // and a command ending on it quit at once, code 0, before saying anything.
  await sleep(500);
  const stopped = server.stop().then(() => 'stopped');
  assert.equal(await Promise.race([stopped, sleep(10_000, 'still waiting', { ref: false })]), 'stopped');
});
