// The benchmark's databases (bench/run.ts, and the standalone measures bench/family.ts, bench/pdf-models.ts): one
// database per work on the embedded server, the demo collège at its benchmark size.
import { mkdtempSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import pg from 'pg';
import { loadConfig } from '../src/config.js';
import { makeContext, type AppContext } from '../src/context.js';
import { startEmbedded } from '../src/db/embedded.js';
import { migrate, openDatabase } from '../src/db/index.js';
import { createDemoSchool } from '../src/demo/seed.js';
import { selectAccounts } from '../src/publipostage/select.js';
import { SelectionSchema, type AccountRow } from '../src/publipostage/selection.js';
import { createSession, SESSION_COOKIE } from '../src/web/auth.js';
import { buildServer } from '../src/web/server.js';
import { generateAccounts } from './data.js';

const DEMO_SHEETS = 2146;

export async function database(adminUrl: string, name: string): Promise<AppContext & { url: string; close(): Promise<void> }> {
  const admin = new pg.Client(adminUrl);
  await admin.connect();
  await admin.query(`CREATE DATABASE ${name}`);
  await admin.end();
  const u = new URL(adminUrl);
  u.pathname = `/${name}`;
  const db = openDatabase(u.toString(), 8);
  // An idle connection dropped by the server must not kill the whole run.
  db.pool.on('error', (e) => console.error(`(connexion ${name} : ${e.message})`));
  await migrate(db.pool);
  const config = loadConfig({ TROUSSEAU_SECRET: '42'.repeat(32), TROUSSEAU_DATA_DIR: join(tmpdir(), 'trousseau-bench'), TROUSSEAU_PUBLIC_URL: 'https://ent.example.fr', LOG_LEVEL: 'warn' });
  return { ...makeContext(config, db), url: u.toString(), close: () => db.close() };
}

/** The demo collège, topped up (or cut) to exactly 2,146 accounts. */
export async function demoRows(ctx: AppContext): Promise<AccountRow[]> {
  await createDemoSchool(ctx, { scale: 1, password: 'bench', passwordHash: '$argon2id$bench' });
  let rows = await selectAccounts(ctx, SelectionSchema.parse({}), { kind: 'all' });
  if (rows.length < DEMO_SHEETS) {
    await generateAccounts(ctx, 1, 3);
    rows = await selectAccounts(ctx, SelectionSchema.parse({}), { kind: 'all' });
  }
  return rows.slice(0, DEMO_SHEETS);
}

/**
 * A measure run on its own (`npx tsx bench/<name>.ts`): `work` gets a database `bench_<name>` on a throwaway embedded
 * PostgreSQL (durability off, as bench/run.ts), removed afterwards; the process exits 0, or 1 after printing the error.
 */
export function standalone(name: string, work: (ctx: AppContext) => Promise<void>): void {
  const run = async () => {
    const dir = mkdtempSync(join(tmpdir(), `trousseau-bench-${name}-`));
    const server = await startEmbedded(dir, undefined, true, ['-c', 'fsync=off', '-c', 'synchronous_commit=off', '-c', 'full_page_writes=off']);
    const ctx = await database(server.url, `bench_${name}`);
    try {
      await work(ctx);
    } finally {
      await ctx.close();
      await server.stop();
      rmSync(dir, { recursive: true, force: true });
    }
  };
  run().then(
    () => process.exit(0),
    (e) => {
      console.error(e);
      process.exit(1);
    },
  );
}

/** The server on a loopback port, a super admin's session (cookie and CSRF token) and the probe URL. */
export async function serve(ctx: AppContext) {
  const app = await buildServer(ctx, {});
  const url = await app.listen({ port: 0, host: '127.0.0.1' });
  const root = await ctx.database.pool.query(
    `INSERT INTO users (profile, first_name, last_name, login, is_super_admin, password_hash, activated_at)
     VALUES ('Personnel', 'Banc', 'ADMIN', 'bench.root', true, 'x', now()) RETURNING id`,
  );
  // Downloads are POSTs with the session's CSRF token (src/web/post-download.ts).
  const session = await createSession(ctx.database.pool, root.rows[0].id);
  const cookie = { cookie: `${SESSION_COOKIE}=${session.token}`, csrf: session.csrf };
  return { app, url, cookie, probe: `${url}/healthz` };
}
