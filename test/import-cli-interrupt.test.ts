// Ctrl-C during `trousseau import`: the run stops cleanly (its transaction rolled back, nothing imported), says so
// in one French line and exits with 130 — no stack trace. A terminal's Ctrl-C reaches the whole process group,
// including an embedded PostgreSQL started by the command, which then cuts its connections (fast shutdown): the
// second case cuts them by hand at the same moment. (Through the tsx command, bin/trousseau's former launcher, the
// busy import was killed outright: tsx kills a child that does not answer a relayed signal within 30 ms.)
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import test from 'node:test';
import { generateAafFeed } from '../bench/aaf-feed.js';
import { IMPORT_LOCK } from '../src/import/aaf-cache.js';
import { freshDatabase } from './helpers/db.js';
import { ROOT } from './helpers/process.js';

const tmp = mkdtempSync(join(tmpdir(), 'trousseau-import-interrupt-'));
const feed = generateAafFeed(join(tmp, 'feed'), 6000);
test.after(() => rmSync(tmp, { recursive: true, force: true }));

async function interrupted(cutConnections: boolean) {
  const db = await freshDatabase();
  try {
    const env = { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '/tmp', LANG: 'C.UTF-8', DATABASE_URL: db.url, TROUSSEAU_SECRET: '33'.repeat(32), TROUSSEAU_DATA_DIR: tmp };
    // As `npx trousseau` runs it (bin/trousseau), in a process group of its own, as a command typed in a terminal:
    // the signal goes to the whole group, as Ctrl-C sends it.
    const child = spawn('bin/trousseau', ['import', feed.dir], { cwd: ROOT, env, detached: true });
    let out = '';
    let err = '';
    child.stdout.on('data', (d) => (out += d));
    child.stderr.on('data', (d) => (err += d));
    const exited = new Promise<number | string>((ok) => child.on('exit', (code, signal) => ok(code ?? signal ?? -1)));
    // Under way: the run holds the import lock and streams the feed into its staging table (in this test's database:
    // the other test files' imports share the server, and one of theirs made this test signal a command not started).
    const deadline = Date.now() + 60_000;
    for (;;) {
      const { rows } = await db.pool.query<{ n: number }>(
        `SELECT count(*)::int n FROM pg_stat_activity a JOIN pg_locks l ON l.pid = a.pid
          WHERE l.locktype = 'advisory' AND l.objid = $1 AND l.granted AND a.query ILIKE 'COPY%' AND a.datname = current_database()`,
        [IMPORT_LOCK],
      );
      if (rows[0].n) break;
      assert.ok(Date.now() < deadline && child.exitCode === null, `the import never got under way\n${out}\n${err}`);
      await sleep(20);
    }
    process.kill(-child.pid!, 'SIGINT');
    if (cutConnections) {
      await db.pool.query(`SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()`);
    }
    const code = await Promise.race([exited, sleep(60_000, 'timeout', { ref: false })]);
    if (code === 'timeout') process.kill(-child.pid!, 'SIGKILL');
    assert.equal(code, 130, `exit code\n${out}\n${err}`);
    assert.match(err, /^Import interrompu : rien n’a été importé\.$/m, `message\n${err}`);
    assert.doesNotMatch(out + err, /\n\s+at |Error|EPIPE|Import terminé/, `no stack trace, no report\n${out}\n${err}`);
    const { rows } = await db.pool.query<{ users: number; structures: number }>(
      `SELECT (SELECT count(*)::int FROM users) users, (SELECT count(*)::int FROM structures) structures`,
    );
    assert.deepEqual(rows[0], { users: 0, structures: 0 }, 'nothing imported');
  } finally {
    await db.close();
  }
}

test('CLI import: Ctrl-C rolls the run back, says so and exits 130', () => interrupted(false));

test('CLI import: Ctrl-C while the database cuts the connections (embedded server in the same process group)', () => interrupted(true));
