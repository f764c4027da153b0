// Attack: sessions are inserted only while the account is neither blocked nor pre-deleted (web/auth.ts liveAccount,
// FOR KEY SHARE of the account's row), which serializes with blocking because setBlocked locks the row FOR UPDATE.
// A pre-deletion by hand (lifecycle.ts applyLifecycleAction) is a plain UPDATE: its row lock (FOR NO KEY UPDATE) does
// not conflict with FOR KEY SHARE, so a sign-in that reads the account while the pre-deletion is under way inserts its
// session after endSignIns ran; the session then comes back to life when the account is restored.
// The pre-deletion is held after its endSignIns by a lock on the audit table (its next write), the sign-in runs then.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { applyLifecycleAction, runLifecycle } from '../../src/accounts/lifecycle.js';
import { openSession } from '../../src/web/auth.js';
import { testContext } from '../helpers/db.js';
import { createUser } from '../helpers/web.js';

let ctx: Awaited<ReturnType<typeof testContext>>;
const q = async <T = Record<string, unknown>>(sql: string, params: unknown[] = []) => (await ctx.database.pool.query(sql, params)).rows as T[];
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

before(async () => {
  ctx = await testContext();
});
after(async () => {
  await ctx.close();
});

/**
 * Runs `work` (a pre-deletion) held after its endSignIns by a lock on the audit table (its next write), signs `target`
 * in then, lets `work` finish: whether the sign-in inserted its session while held (`early`), its session, `work`'s result.
 */
async function signInDuring<T>(work: () => Promise<T>, target: string) {
  const pool = ctx.database.pool;
  const holder = await pool.connect();
  try {
    await holder.query('BEGIN');
    await holder.query('LOCK TABLE audit IN EXCLUSIVE MODE');
    const running = work();
    // Wait until the work has written the row and ended the sessions (it then waits for the audit lock).
    for (let i = 0; i < 100; i++) {
      const [{ n }] = await q<{ n: number }>(
        `SELECT count(*)::int AS n FROM pg_locks l JOIN pg_class c ON c.oid = l.relation WHERE c.relname = 'audit' AND NOT l.granted`,
      );
      if (n > 0) break;
      await sleep(20);
    }
    const signIn = openSession(pool, target);
    const early = await Promise.race([signIn.then(() => 'inserted' as const), sleep(300).then(() => 'waiting' as const)]);
    await holder.query('COMMIT');
    const result = await running;
    return { early, session: await signIn, result };
  } finally {
    holder.release();
  }
}

test('a sign-in racing a pre-deletion leaves no session that restoration brings back', async () => {
  const pool = ctx.database.pool;
  const [{ id: school }] = await q<{ id: string }>(`INSERT INTO structures (uai, name) VALUES ('0459666F', 'Collège des Frênes') RETURNING id`);
  const admin = await createUser(pool, { login: 'dir.frenes', password: 'direction-frenes-2026' });
  const target = await createUser(pool, { login: 'intrus.frenes', password: 'intrus-frenes-2026' });
  await q('INSERT INTO user_structures VALUES ($1, $3), ($2, $3)', [admin, target, school]);
  await q('INSERT INTO local_admins VALUES ($1, $2)', [admin, school]);

  const { early, session } = await signInDuring(() => applyLifecycleAction(pool, { kind: 'structures', structureIds: [school] }, 'pre-delete', [target], admin), target);
  assert.ok(early === 'waiting' || session === null, `the sign-in does not insert its session past the pre-deletion (${early})`);
  const [{ n }] = await q<{ n: number }>('SELECT count(*)::int AS n FROM sessions WHERE user_id = $1', [target]);
  assert.equal(n, 0, 'no session of the pre-deleted account remains');
  await applyLifecycleAction(pool, { kind: 'structures', structureIds: [school] }, 'restore', [target], admin);
  const [{ live }] = await q<{ live: number }>(`SELECT count(*)::int AS live FROM sessions WHERE user_id = $1 AND expires_at > now()`, [target]);
  assert.equal(live, 0, 'restoration brings no session back');
});

test('the same race with the daily pass that pre-deletes accounts whose grace period ended', async () => {
  const pool = ctx.database.pool;
  const [{ id: school }] = await q<{ id: string }>(`INSERT INTO structures (uai, name) VALUES ('0459667G', 'Collège des Genêts') RETURNING id`);
  const target = await createUser(pool, { login: 'parti.genets', password: 'parti-genets-2026' });
  const admin = await createUser(pool, { login: 'dir.genets', password: 'direction-genets-2026' });
  await q('INSERT INTO user_structures VALUES ($1, $3), ($2, $3)', [admin, target, school]);
  await q('INSERT INTO local_admins VALUES ($1, $2)', [admin, school]);
  // Absent from the feed for longer than the default grace period (90 days).
  await q(`UPDATE users SET absent_since = now() - interval '100 days' WHERE id = $1`, [target]);

  const { early, session, result } = await signInDuring(() => runLifecycle(pool), target);
  assert.equal(result.preDeleted, 1, 'the pass pre-deleted the account');
  assert.ok(early === 'waiting' || session === null, `the sign-in does not insert its session past the pass (${early})`);
  await applyLifecycleAction(pool, { kind: 'structures', structureIds: [school] }, 'restore', [target], admin);
  const [{ live }] = await q<{ live: number }>(`SELECT count(*)::int AS live FROM sessions WHERE user_id = $1 AND expires_at > now()`, [target]);
  assert.equal(live, 0, 'restoration brings no session back');
});
