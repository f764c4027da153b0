// Finding: blocking an account ends all its sessions (endSignIns, provider-opened ones included) and sessions of a
// blocked account never resolve — but a sign-in that had checked the account (not blocked yet) inserted its session
// after the block's endSignIns: that session came back to life when the account was unblocked (an account is
// blocked because someone else holds it: the intruder's session outlived the block). Now a session is inserted only
// while the account is neither blocked nor pre-deleted, read under a share lock of its row: an insert that waited
// for the block's transaction reads the committed row and inserts nothing. Deterministic: a second connection plays
// the block's transaction (row locked, blocked, sessions ended) while the sign-in waits on it.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { endSignIns } from '../../src/accounts/signins.js';
import { setBlocked } from '../../src/directory/users.js';
import { fileContext, sqlReaders } from '../helpers/db.js';
import { Client, createUser, fileServer, sessionFor } from '../helpers/web.js';

const PASSWORD = 'phrase de passe de la victime';
const ctx = await fileContext();
const app = await fileServer(ctx);
const { count } = sqlReaders(ctx);

/** Resolves once another backend waits on a row lock, or with 'done' when `request` answered first. */
async function waitingOnRow(request: Promise<unknown>): Promise<'waiting' | 'done'> {
  let done = false;
  void request.then(() => { done = true; }, () => { done = true; });
  for (let i = 0; i < 2000 && !done; i++) {
    if (await count(`SELECT count(*) AS n FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid WHERE NOT l.granted AND l.locktype IN ('transactionid', 'tuple') AND a.datname = current_database()`)) return 'waiting';
    await new Promise((r) => setTimeout(r, 5));
  }
  return done ? 'done' : 'waiting';
}

test('a sign-in racing the blocking of the account leaves no session to come back at unblocking', async () => {
  const id = await createUser(ctx.database.pool, { login: 'camille.victime', password: PASSWORD });
  const c = new Client(app, '203.0.113.77');
  await c.get('/connexion');
  const blocker = await ctx.database.pool.connect();
  let status = 0;
  try {
    // The block's transaction (directory/users.ts setBlocked): the row locked and blocked, not committed yet.
    await blocker.query('BEGIN');
    await blocker.query('SELECT 1 FROM users WHERE id = $1 FOR UPDATE', [id]);
    await blocker.query('UPDATE users SET blocked = true WHERE id = $1', [id]);
    const signingIn = c.post('/connexion', { login: 'camille.victime', password: PASSWORD });
    assert.equal(await waitingOnRow(signingIn), 'waiting', 'the sign-in (its checks passed on the committed row) waits to insert its session');
    await endSignIns(blocker, id);
    await blocker.query('COMMIT');
    status = (await signingIn).statusCode;
  } finally {
    await blocker.query('COMMIT');
    blocker.release();
  }
  assert.equal(await count('SELECT count(*) AS n FROM sessions WHERE user_id = $1', [id]), 0, 'no session of the blocked account was inserted');
  assert.equal(status, 401, 'the sign-in is refused');
  // Unblocked: nothing of the intruder's sign-in comes back.
  await ctx.database.pool.query('UPDATE users SET blocked = false WHERE id = $1', [id]);
  assert.equal((await c.get('/mon-compte')).statusCode === 200, false, 'the browser that raced the block is not signed in');
});

test('blocking ends every session of the account, those opened through an identity provider included, and its tokens', async () => {
  const id = await createUser(ctx.database.pool, { login: 'lou.federee', password: PASSWORD });
  const password = await sessionFor(ctx.database.pool, id);
  const provider = await sessionFor(ctx.database.pool, id);
  await ctx.database.pool.query(`INSERT INTO federation_sessions (session_id_hash, provider_id) SELECT id_hash, 'educonnect' FROM sessions WHERE id_hash = encode(sha256(convert_to($1, 'UTF8')), 'hex')`, [provider.token]);
  assert.equal(await count(`SELECT count(*) AS n FROM federation_sessions f JOIN sessions s ON s.id_hash = f.session_id_hash WHERE s.user_id = $1`, [id]), 1, 'one session opened through the provider');
  await ctx.database.pool.query(`INSERT INTO oidc_payloads (kind, id, payload, expires_at) VALUES ('RefreshToken', 'rt-lou', jsonb_build_object('accountId', $1::text), now() + interval '30 days')`, [id]);
  const ended = await setBlocked(ctx, { kind: 'all' }, id, true, null);
  assert.equal(ended.sessionsEnded, 2, 'both sessions ended');
  assert.equal(await count('SELECT count(*) AS n FROM sessions WHERE user_id = $1', [id]), 0, 'no session row left (none comes back at unblocking)');
  assert.equal(await count(`SELECT count(*) AS n FROM oidc_payloads WHERE payload->>'accountId' = $1`, [id]), 0, 'its applications’ tokens are revoked');
  await setBlocked(ctx, { kind: 'all' }, id, false, null);
  for (const s of [password, provider]) assert.notEqual((await app.inject({ method: 'GET', url: '/mon-compte', headers: { cookie: s.cookie } })).statusCode, 200, 'unblocked: the old sessions stay ended');
});
