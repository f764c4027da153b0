// Database access: a node-postgres pool and the SQL migrator. SQL is written by hand (set-based statements,
// unnest arrays, advisory locks) and the migrations are the schema's source of truth.
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import pg from 'pg';

// DATE columns stay 'YYYY-MM-DD' strings: a birth date has no time zone.
pg.types.setTypeParser(1082, (v) => v);

/** Anything SQL can be sent through: the pool, or a client holding a transaction. */
export type Queryable = Pick<pg.Pool, 'query'> | Pick<pg.PoolClient, 'query'>;
/**
 * `client` with its queries run one after another in the order they are issued, even when the caller sends one
 * before the previous has answered (a cursor's next FETCH sent while the consumer writes the current batch):
 * they are chained here instead of in pg's own queue, which pg 8 deprecates (it warns) and pg 9 removes.
 * Promise-returning queries only (not COPY streams).
 */
export function serialQueries(client: Pick<pg.PoolClient, 'query'>): Pick<pg.PoolClient, 'query'> {
  let tail: Promise<unknown> = Promise.resolve();
  const send = client.query.bind(client) as (...args: unknown[]) => Promise<unknown>;
  const query = (...args: unknown[]) => {
    const run = tail.then(() => send(...args));
    tail = run.catch(() => undefined);
    return run;
  };
  return { query } as unknown as Pick<pg.PoolClient, 'query'>;
}

export interface Database {
  pool: pg.Pool;
  close(): Promise<void>;
}

/**
 * Settings every connection starts with, sent in its start-up packet (no round trip; libpq's `options`).
 * `parallel_setup_cost` 10× PostgreSQL's default (1000): a page of the whole directory in index order (a région's
 * million accounts, « Suivants » in the middle) was planned in parallel from the cost of the whole selection, and
 * starting the workers took 170–310 ms for a page of 18–45 ms; at 10,000 it is read serially (7 ms) while the count of
 * the million, which gains from workers, stays parallel (0.63 s either way; bench_1m, alternated runs). A managed
 * server behind PgBouncer must let `options` through (README).
 */
export const SESSION_OPTIONS = '-c parallel_setup_cost=10000';

/**
 * node-postgres settings for `url` with SESSION_OPTIONS added to the `options` the URL may already give (the URL's
 * own parameters override the settings object in node-postgres, so they are merged into it). A string that is not a
 * URL (a socket path) is left to node-postgres as it is. PGOPTIONS, which node-postgres reads when the URL gives no
 * `options`, is kept before ours likewise.
 */
export function connectionConfig(url: string, env: NodeJS.ProcessEnv = process.env): pg.PoolConfig {
  // Without `options` in the URL, node-postgres reads PGOPTIONS (as libpq does) only when the settings give none: the
  // environment's are kept beside ours, not replaced by them (a statement_timeout set there was dropped silently).
  const options = env.PGOPTIONS?.trim() ? `${env.PGOPTIONS.trim()} ${SESSION_OPTIONS}` : SESSION_OPTIONS;
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    return { connectionString: url, options };
  }
  const own = u.searchParams.get('options');
  if (own === null) return { connectionString: url, options };
  u.searchParams.set('options', `${own} ${SESSION_OPTIONS}`);
  return { connectionString: u.toString() };
}

export function openDatabase(url: string, max = 10): Database {
  const pool = new pg.Pool({ ...connectionConfig(url), max });
  // An idle connection cut by the server (restart, failover, admin) is dropped by the pool and replaced on
  // next use; without a listener its 'error' event would bring the whole process down.
  // Once close() is called the connections are going away on purpose: nothing to report.
  let closing = false;
  pool.on('error', (e) => {
    if (!closing) console.error(`PostgreSQL : connexion inactive perdue (${e.message})`);
  });
  // A connection checked out (the pool's listener is off then) and cut between two queries — an export idle in its
  // transaction while a slow reader drains, ended by idle_in_transaction_session_timeout, pg_terminate_backend or
  // a failover — emits 'error' too: its next query fails (the export rolls back), the process stays up.
  pool.on('connect', (client) => {
    client.on('error', (e) => {
      if (!closing && client.listenerCount('error') === 1) console.error(`PostgreSQL : connexion perdue en cours d'utilisation (${e.message})`);
    });
  });
  return {
    pool,
    close: () => {
      closing = true;
      return pool.end();
    },
  };
}

const MIGRATIONS_DIR = join(dirname(fileURLToPath(import.meta.url)), '../../migrations');

/** Applies migrations/NNNN_*.sql in order, once each, under an advisory lock (several instances may start together). */
export async function migrate(pool: pg.Pool): Promise<string[]> {
  const client = await pool.connect();
  const applied: string[] = [];
  try {
    await client.query('SELECT pg_advisory_lock(745201)');
    await client.query('CREATE TABLE IF NOT EXISTS schema_migrations (name text PRIMARY KEY, applied_at timestamptz NOT NULL DEFAULT now())');
    const done = new Set((await client.query('SELECT name FROM schema_migrations')).rows.map((r) => r.name as string));
    for (const file of readdirSync(MIGRATIONS_DIR).filter((f) => f.endsWith('.sql')).sort()) {
      if (done.has(file)) continue;
      await client.query('BEGIN');
      try {
        await client.query(readFileSync(join(MIGRATIONS_DIR, file), 'utf8'));
        await client.query('INSERT INTO schema_migrations (name) VALUES ($1)', [file]);
        await client.query('COMMIT');
      } catch (e) {
        await client.query('ROLLBACK');
        throw new Error(`migration ${file} : ${(e as Error).message}`);
      }
      applied.push(file);
    }
  } finally {
    await client.query('SELECT pg_advisory_unlock(745201)').catch(() => {});
    client.release();
  }
  return applied;
}
