// Import at région scale (issue #11): a generated AAF feed (bench/aaf-feed.ts) imported into an empty database,
// then again unchanged, against PostgreSQL COPY of the very rows the import wrote (same server, same indexes).
// Each import runs in its own process (bench/import-child.ts) so that its peak RSS is its own. Rounds alternate
// import and COPY; medians of `rounds`.
import { execFile } from 'node:child_process';
import { createReadStream, createWriteStream, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { promisify } from 'node:util';
import pg from 'pg';
import { from as copyFrom, to as copyTo } from 'pg-copy-streams';
import { migrate, openDatabase } from '../src/db/index.js';
import { generateAafFeed } from './aaf-feed.js';

const run = promisify(execFile);

/** Tables an AAF import writes, parents first (COPY order). */
const TABLES = ['structures', 'levels', 'classes', 'groups', 'users', 'user_structures', 'user_classes', 'user_groups', 'relations', 'local_admins'];

interface ChildResult {
  ms: number;
  /** CPU time of the importing process (user + system): less sensitive than `ms` to a busy machine. */
  cpuMs: number;
  maxRssMb: number;
  created: number;
  updated: number;
  unchanged: number;
  preDeleted: number;
  ignored: number;
  rejected: number;
}

export interface ImportBenchRow {
  accounts: number;
  first: ChildResult;
  again: ChildResult;
  copyMs: number;
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

async function child(url: string, dir: string): Promise<ChildResult> {
  const tsx = new URL('../node_modules/.bin/tsx', import.meta.url).pathname;
  const script = new URL('./import-child.ts', import.meta.url).pathname;
  const { stdout } = await run(tsx, [script, url, dir], { maxBuffer: 1 << 20, env: { ...process.env, NODE_OPTIONS: '' } });
  return JSON.parse(stdout.trim().split('\n').pop()!) as ChildResult;
}

async function withClient<T>(url: string, fn: (c: pg.Client) => Promise<T>): Promise<T> {
  const c = new pg.Client(url);
  await c.connect();
  try {
    return await fn(c);
  } finally {
    await c.end();
  }
}

async function freshDatabase(adminUrl: string, name: string): Promise<string> {
  await withClient(adminUrl, async (c) => {
    await c.query(`DROP DATABASE IF EXISTS ${name}`);
    await c.query(`CREATE DATABASE ${name}`);
  });
  const u = new URL(adminUrl);
  u.pathname = `/${name}`;
  const db = openDatabase(u.toString(), 1);
  await migrate(db.pool);
  await db.close();
  return u.toString();
}

/** Dumps what the import wrote, one COPY text file per table. */
async function dump(url: string, dir: string) {
  await withClient(url, async (c) => {
    for (const t of TABLES) await pipeline(c.query(copyTo(`COPY ${t} TO STDOUT`)), createWriteStream(join(dir, `${t}.copy`)));
  });
}

/** The baseline: empty the tables, COPY the dumped rows back in (indexes and constraints in place, as for the import). */
async function copyBaseline(url: string, dir: string): Promise<number> {
  return withClient(url, async (c) => {
    await c.query(`TRUNCATE ${TABLES.join(', ')} CASCADE`);
    const t = performance.now();
    await c.query('BEGIN');
    for (const t of TABLES) await pipeline(createReadStream(join(dir, `${t}.copy`)), c.query(copyFrom(`COPY ${t} FROM STDIN`)));
    await c.query('COMMIT');
    return performance.now() - t;
  });
}

/**
 * Measures the import of a generated feed of `accounts` accounts: first import (empty directory), re-import of
 * the same feed, COPY of the same rows; `rounds` alternated rounds, medians. Databases created on `adminUrl`.
 */
export async function benchImport(adminUrl: string, accounts: number, rounds = 3): Promise<ImportBenchRow> {
  const work = mkdtempSync(join(tmpdir(), 'trousseau-bench-aaf-'));
  try {
    const feed = generateAafFeed(join(work, 'feed'), accounts);
    const firsts: ChildResult[] = [];
    const agains: ChildResult[] = [];
    const copies: number[] = [];
    const copyUrl = await freshDatabase(adminUrl, 'bench_import_copy');
    for (let i = 0; i < rounds; i++) {
      const url = await freshDatabase(adminUrl, 'bench_import_run');
      firsts.push(await child(url, feed.dir));
      agains.push(await child(url, feed.dir));
      if (i === 0) await dump(url, work);
      copies.push(await copyBaseline(copyUrl, work));
      // Progress on stderr: a long run (1M) still tells something if it is stopped.
      const [f, a, c] = [firsts[i], agains[i], copies[i]];
      console.error(`  (tour ${i + 1}/${rounds} : import ${Math.round(f.ms)} ms, ${Math.round(f.maxRssMb)} Mo ; réimport ${Math.round(a.ms)} ms, ${Math.round(a.maxRssMb)} Mo ; COPY ${Math.round(c)} ms)`);
    }
    const pickMedian = (xs: ChildResult[]) => {
      const m = median(xs.map((x) => x.ms));
      return { ...xs.find((x) => x.ms === m)!, maxRssMb: Math.max(...xs.map((x) => x.maxRssMb)) };
    };
    return { accounts: feed.accounts, first: pickMedian(firsts), again: pickMedian(agains), copyMs: median(copies) };
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

const fmt = (n: number, d = 0) => n.toLocaleString('fr-FR', { maximumFractionDigits: d, minimumFractionDigits: d });
const line = (label: string, value: string, extra = '') => console.log(`  ${label.padEnd(44)} ${value.padStart(16)}  ${extra}`);

/** Prints the bench rows of one size (objectives of issue #11: ≤ 1.5× COPY, re-import ≤ 0.3×, RSS < 600 Mo). */
export function printImportRows(r: ImportBenchRow) {
  const ok = (b: boolean) => (b ? 'OK' : 'MANQUÉ');
  console.log(`\nImport AAF généré, ${fmt(r.accounts)} comptes (médianes, import et COPY alternés, une transaction)`);
  line('premier import (tout créé)', `${fmt(r.first.ms)} ms`,
    `${fmt(r.first.created)} créés, ${fmt((r.accounts / r.first.ms) * 1000)} comptes/s, CPU du processus ${fmt(r.first.cpuMs)} ms | COPY des mêmes lignes ${fmt(r.copyMs)} ms ` +
      `(×${fmt(r.first.ms / r.copyMs, 2)}, objectif ≤ 1,5 : ${ok(r.first.ms <= 1.5 * r.copyMs)})`);
  line('réimport identique (rien ne change)', `${fmt(r.again.ms)} ms`,
    `${fmt(r.again.unchanged)} inchangés, ${fmt(r.again.updated)} modifiés, CPU ${fmt(r.again.cpuMs)} ms | ×${fmt(r.again.ms / r.first.ms, 2)} du premier (objectif ≤ 0,3 : ${ok(r.again.ms <= 0.3 * r.first.ms)})`);
  const rss = Math.max(r.first.maxRssMb, r.again.maxRssMb);
  line('RSS maximale du processus qui importe', `${fmt(rss)} Mo`, `objectif < 600 Mo : ${ok(rss < 600)}`);
}

// `tsx bench/import-scale.ts <accounts> [rounds]`: this measure alone, on its own embedded PostgreSQL (same flags as run.ts).
if (process.argv[1]?.endsWith('import-scale.ts')) {
  const { startEmbedded } = await import('../src/db/embedded.js');
  const accounts = Number(process.argv[2] ?? 100_000);
  const rounds = Number(process.argv[3] ?? 3);
  const pgdir = mkdtempSync(join(tmpdir(), 'trousseau-bench-pg-'));
  const server = await startEmbedded(pgdir, undefined, true, ['-c', 'fsync=off', '-c', 'synchronous_commit=off', '-c', 'full_page_writes=off']);
  try {
    printImportRows(await benchImport(server.url, accounts, rounds));
  } finally {
    await server.stop();
    rmSync(pgdir, { recursive: true, force: true });
  }
}
