// Finding: the embedded PostgreSQL superuser password was a constant in the source (`trousseau`): any local user
// could reach every account. Now it is drawn at first start and kept 0600 in the data directory, the server
// listens on 127.0.0.1 only and without a Unix socket, and a data directory made with the old password gets a
// new one at its next start. The package's own signal handlers are gone (src/main.ts stops it in order).
import assert from 'node:assert/strict';
import { chmodSync, mkdtempSync, rmSync, statSync, unlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import pg from 'pg';
import { embeddedPassword, embeddedUrl, fallbackOnSignal, PASSWORD_FILE, startEmbedded, type EmbeddedServer } from '../../src/db/embedded.js';

const parent = mkdtempSync(join(tmpdir(), 'trousseau-embedded-'));
chmodSync(parent, 0o755); // run as root, PostgreSQL runs as its own user and must reach its directory
const dir = join(parent, 'pg');
let server: EmbeddedServer | undefined;

after(async () => {
  await server?.stop();
  rmSync(parent, { recursive: true, force: true });
});

async function refused(url: string): Promise<boolean> {
  const c = new pg.Client(url);
  try {
    await c.connect();
    return false;
  } catch (e) {
    return (e as { code?: string }).code === '28P01';
  } finally {
    await c.end().catch(() => {});
  }
}

async function one(url: string, sql: string): Promise<unknown> {
  const c = new pg.Client(url);
  await c.connect();
  try {
    return Object.values((await c.query(sql)).rows[0])[0];
  } finally {
    await c.end();
  }
}

const withPassword = (url: string, password: string) => {
  const u = new URL(url);
  u.password = password;
  return u.toString();
};

test('a new data directory gets a random superuser password, stored 0600, and listens on loopback only', async () => {
  const before = new Set(process.listeners('SIGTERM'));
  server = await startEmbedded(dir);
  const added = process.listeners('SIGTERM').filter((l) => !before.has(l));
  assert.ok(added.every((l) => l === fallbackOnSignal), 'no SIGTERM handler of the package is left (only the one that yields to the app)');

  const password = embeddedPassword(dir)!;
  assert.ok(password && password.length >= 24 && password !== 'trousseau');
  assert.equal(statSync(join(dir, PASSWORD_FILE)).mode & 0o777, 0o600);
  assert.ok(await refused(withPassword(server.url, 'trousseau')), 'the old constant is refused');
  assert.equal(await one(server.url, 'SELECT 1 AS x'), 1);
  assert.equal(await one(server.url, 'SHOW listen_addresses'), '127.0.0.1');
  assert.equal(await one(server.url, 'SHOW unix_socket_directories'), '');
  // What the CLI uses to join a server the app already runs.
  const port = new URL(server.url).port;
  assert.equal(await one(embeddedUrl(dir, port), 'SELECT 2 AS x'), 2);
});

test('a data directory made with the old constant password is migrated at its next start', async () => {
  const port = new URL(server!.url).port;
  // As an earlier version left it: password `trousseau`, no password file.
  const c = new pg.Client(server!.url);
  await c.connect();
  await c.query(`ALTER ROLE postgres PASSWORD 'trousseau'`);
  await c.end();
  unlinkSync(join(dir, PASSWORD_FILE));
  await server!.stop();
  server = undefined;

  server = await startEmbedded(dir, Number(port));
  const password = embeddedPassword(dir)!;
  assert.ok(password && password !== 'trousseau');
  assert.equal(statSync(join(dir, PASSWORD_FILE)).mode & 0o777, 0o600);
  assert.ok(await refused(withPassword(server.url, 'trousseau')), 'the old password no longer works');
  assert.equal(await one(server.url, 'SELECT 3 AS x'), 3);

  // And the next start reuses the stored password.
  await server.stop();
  server = await startEmbedded(dir, Number(port));
  assert.equal(embeddedPassword(dir), password);
  assert.equal(await one(server.url, 'SELECT 4 AS x'), 4);
});
