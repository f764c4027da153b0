// `npx tsx bench/erase.ts [accounts] [erased]`: the lifecycle's erasure at a région's scale (issue #11) — one
// school's accounts (default 2,500 of 100,000) erased for good (eraseAccounts: pseudonyms in the audit trail, rows
// deleted), against the hand-written `DELETE FROM users` of the same accounts, each in a transaction rolled back,
// alternated, both warm, medians of BENCH_RUNS (default 3). The directory has a history: every account handed out
// twice, an audit row naming half of them, a mail per account, the lifecycle's own row naming the erased ones.
import { cpus, loadavg } from 'node:os';
import { eraseAccounts } from '../src/accounts/lifecycle.js';
import { withTransaction } from '../src/accounts/tx.js';
import { median, timed } from './measure.js';
import { populate } from './population.js';
import { standalone } from './setup.js';

const RUNS = Number(process.env.BENCH_RUNS ?? 3);
const N = Number(process.argv[2] ?? 100_000);
const K = Number(process.argv[3] ?? 2_500);

/** Runs `fn` in a transaction that is rolled back: the next run erases the same accounts. */
class Rollback extends Error {}

standalone('erase', async (ctx) => {
  const pool = ctx.database.pool;
  const pop = await populate(ctx, N);
  const admin = (await pool.query(`SELECT id FROM users LIMIT 1`)).rows[0].id;
  await pool.query(`INSERT INTO distribution_events (user_id, kind, at, actor_id) SELECT id, 'sheet', now() - interval '200 days', $1 FROM users CROSS JOIN generate_series(1, 2)`, [admin]);
  await pool.query(`INSERT INTO audit (action, actor_id, details) SELECT 'account.renew', $1, jsonb_build_object('userId', id, 'login', login) FROM users WHERE random() < 0.5`, [admin]);
  const run = (await pool.query(`INSERT INTO mail_runs (actor_id) VALUES ($1) RETURNING id`, [admin])).rows[0].id;
  await pool.query(`INSERT INTO mail_jobs (run_id, user_id, kind, recipient, subject, body_text, status) SELECT $1, id, 'sheet', 'x@example.fr', 's', 'b', 'sent' FROM users`, [run]);
  const ids = (await pool.query(`SELECT us.user_id FROM user_structures us WHERE us.structure_id = $1 AND us.user_id <> $2 LIMIT $3`, [pop.structureId, admin, K])).rows.map((r) => r.user_id as string);
  await pool.query(`INSERT INTO audit (action, details) VALUES ('lifecycle.run', jsonb_build_object('preDeleted', $1::text[]))`, [ids]);
  await pool.query('VACUUM ANALYZE');
  const rolledBack = (fn: (c: import('pg').PoolClient) => Promise<unknown>) =>
    timed(() => withTransaction(pool, async (c) => {
      await fn(c);
      throw new Rollback();
    }).catch((e) => {
      if (!(e instanceof Rollback)) throw e;
    }));
  const erase = () => rolledBack(async (c) => {
    if ((await eraseAccounts(c, ids)) !== ids.length) throw new Error('erasure: wrong count');
  });
  const raw = () => rolledBack((c) => c.query('DELETE FROM users WHERE id = ANY($1)', [ids]));
  await erase();
  await raw();
  const product: number[] = [];
  const baseline: number[] = [];
  for (let i = 0; i < RUNS; i++) {
    product.push(await erase());
    baseline.push(await raw());
  }
  const fmt = (n: number) => n.toLocaleString('fr-FR', { maximumFractionDigits: 0 });
  console.log(`${cpus().length} cœurs, charge ${loadavg()[0].toFixed(1)} ; ${fmt(N)} comptes, ${fmt(ids.length)} effacés`);
  console.log(`  effacement (eraseAccounts)        ${fmt(median(product))} ms`);
  console.log(`  DELETE écrit à la main            ${fmt(median(baseline))} ms  (×${(median(product) / median(baseline)).toFixed(2)})`);
});
