// A fresh, migrated database per test file, cloned from the template scripts/test.ts prepared.
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after } from 'node:test';
import pg from 'pg';
import { loadConfig } from '../../src/config.js';
import { makeContext, type AppContext } from '../../src/context.js';
import { openDatabase, type Database } from '../../src/db/index.js';

function adminUrl(): string {
  const url = process.env.TROUSSEAU_TEST_PG;
  if (!url) throw new Error('run tests with `npm test` (scripts/test.ts starts PostgreSQL)');
  return url;
}

export async function freshDatabase(): Promise<Database & { url: string }> {
  const name = `t_${randomBytes(6).toString('hex')}`;
  const admin = new pg.Client(adminUrl());
  await admin.connect();
  await admin.query(`CREATE DATABASE ${name} TEMPLATE ${process.env.TROUSSEAU_TEST_TEMPLATE}`);
  await admin.end();
  const u = new URL(adminUrl());
  u.pathname = `/${name}`;
  const database = openDatabase(u.toString(), 5);
  return {
    ...database,
    url: u.toString(),
    close: async () => {
      await database.close();
      const a = new pg.Client(adminUrl());
      await a.connect();
      await a.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      await a.end();
    },
  };
}

/** A context on a fresh database, with a fixed test key. */
export async function testContext(overrides: Record<string, string> = {}): Promise<AppContext & { close(): Promise<void> }> {
  const database = await freshDatabase();
  const config = loadConfig({
    TROUSSEAU_SECRET: '11'.repeat(32),
    TROUSSEAU_DATA_DIR: '/tmp/trousseau-test-data',
    TROUSSEAU_PUBLIC_URL: 'https://ent.example.fr',
    LOG_LEVEL: process.env.LOG_LEVEL ?? 'silent',
    ...overrides,
  });
  return { ...makeContext(config, database), close: () => database.close() };
}

export type TestContext = Awaited<ReturnType<typeof testContext>>;

/**
 * The context every test of a file shares: `const ctx = await fileContext();` at the file's top level (instead of a
 * `before` filling a `let`); closed after the file's last test.
 */
export async function fileContext(overrides: Record<string, string> = {}): Promise<TestContext> {
  const ctx = await testContext(overrides);
  after(() => ctx.close());
  return ctx;
}

/** A temporary folder for the whole test file (`prefix` as mkdtemp's), removed after the file's last test. */
export function fileTempDir(prefix: string): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  after(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

/** `q`: the rows of a query on ctx's database; `count`: the number a `SELECT count(*) AS n …` answers. */
export function sqlReaders(ctx: AppContext) {
  const q = async <T = Record<string, unknown>>(sql: string, params: unknown[] = []) => (await ctx.database.pool.query(sql, params)).rows as T[];
  const count = async (sql: string, params: unknown[] = []) => Number((await q<{ n: string }>(sql, params))[0].n);
  return { q, count };
}

/** What an import made of a person, read back: the account by name, its classes (with their level), its groups. */
export function accountReaders(ctx: AppContext) {
  const { q } = sqlReaders(ctx);
  return {
    user: async (last: string, first: string) =>
      (await q<Record<string, unknown> & { id: string }>(`SELECT * FROM users WHERE last_name = $1 AND first_name = $2`, [last, first]))[0],
    classesOf: async (id: string) =>
      q<{ name: string; level: string | null }>(
        `SELECT c.name, l.name AS level FROM user_classes uc JOIN classes c ON c.id = uc.class_id LEFT JOIN levels l ON l.id = c.level_id WHERE uc.user_id = $1 ORDER BY 1`,
        [id],
      ),
    groupsOf: async (id: string) =>
      (await q<{ name: string }>(`SELECT g.name FROM user_groups ug JOIN groups g ON g.id = ug.group_id WHERE ug.user_id = $1 ORDER BY 1`, [id])).map((r) => r.name),
  };
}

/** The real-shaped files of the conformance suite: `../shared/fixtures/` beside the repository, or TROUSSEAU_FIXTURES. */
export const FIXTURES = process.env.TROUSSEAU_FIXTURES
  ? `${process.env.TROUSSEAU_FIXTURES.replace(/\/+$/, '')}/`
  : new URL('../../../shared/fixtures/', import.meta.url).pathname;
