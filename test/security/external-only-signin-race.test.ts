// Finding: a password sign-in checked the school's « Paramètres » (passwordRefusedSql), hashed the password (argon2,
// a good fraction of a second), then inserted its session. A save switching the profile to « fournisseur externe
// seulement » in between ended the password sessions (endSignInsOf) before that insert: the session opened with a
// password the school now refuses survived its 8 hours (and, for an account linked to the provider, the OpenID
// provider gave its applications tokens). Now the save holds an exclusive transaction-level advisory lock and the
// sign-in inserts its session under the shared one, re-checking the rule in the same transaction: a sign-in either
// ends before the save (its session is then ended by it) or sees the saved rule (refused). Sign-ins never wait for
// each other. Deterministic: the tests hold the sign-in or the save at the exact point with a second connection.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { LightMyRequestResponse } from 'fastify';
import { withTransaction } from '../../src/accounts/tx.js';
import { savePolicy } from '../../src/directory/policies.js';
import { parseFederation } from '../../src/federation/providers.js';
import { fileContext, sqlReaders } from '../helpers/db.js';
import { Client, createUser, fileServer } from '../helpers/web.js';

const PASSWORD = 'ancienne phrase de passe du parent';
const ctx = await fileContext();
ctx.config.federation = parseFederation({ providers: [{ id: 'educonnect', label: 'EduConnect', kind: 'oidc', issuer: 'https://educonnect.example.fr', clientId: 'x', match: ['externalId'] }] });
const app = await fileServer(ctx);
const { q, count } = sqlReaders(ctx);
const [{ id: school }] = await q<{ id: string }>(`INSERT INTO structures (uai, name) VALUES ('0458001A', 'Collège des Acacias') RETURNING id`);
await q(`INSERT INTO federation_enabled (provider_id, structure_id, profile) VALUES ('educonnect', $1, 'Relative')`, [school]);
let ip = 20;

const policy = (signIn: 'code' | 'external') => ({
  signIn, provider: signIn === 'external' ? 'EduConnect' : null, emailRequired: false, phoneRequired: false, minPasswordLength: 12, graceDays: 90, deletionDays: 90,
});

/** An activated parent (password set) of one pupil of the school. */
async function parent(login: string): Promise<string> {
  const id = await createUser(ctx.database.pool, { login, profile: 'Relative', password: PASSWORD });
  const child = await createUser(ctx.database.pool, { login: `${login}.enfant`, profile: 'Student' });
  await q('INSERT INTO user_structures (user_id, structure_id) VALUES ($1, $2)', [child, school]);
  await q('INSERT INTO relations (parent_id, child_id) VALUES ($1, $2)', [id, child]);
  return id;
}

/** The sign-in of `login` from a fresh browser: its answer, not awaited (wrapped, or `await` would wait for it). */
async function signIn(login: string): Promise<{ answer: Promise<LightMyRequestResponse> }> {
  const c = new Client(app, `203.0.113.${ip++}`);
  await c.get('/connexion');
  return { answer: c.post('/connexion', { login, password: PASSWORD }) };
}

/**
 * Resolves once another backend waits on a lock of kind `locktype` ('advisory', or 'tuple'/'transactionid' for a
 * row), or with 'done' when `request` answered first: a test never relies on timing to know where a sign-in is.
 */
async function waitingOn(locktype: string, request: Promise<unknown>): Promise<'waiting' | 'done'> {
  let done = false;
  void request.then(() => { done = true; }, () => { done = true; });
  for (let i = 0; i < 2000 && !done; i++) {
    if (await count(`SELECT count(*) AS n FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid WHERE NOT l.granted AND l.locktype = $1 AND a.datname = current_database()`, [locktype])) return 'waiting';
    await new Promise((r) => setTimeout(r, 5));
  }
  return done ? 'done' : 'waiting';
}

const passwordSessions = (userId: string) =>
  count(`SELECT count(*) AS n FROM sessions s WHERE s.user_id = $1 AND s.expires_at > now() AND NOT EXISTS (SELECT 1 FROM federation_sessions f WHERE f.session_id_hash = s.id_hash)`, [userId]);

test('a sign-in that read the old setting and inserts its session after the save: the session does not survive', async () => {
  await savePolicy(ctx.database.pool, school, 'Relative', policy('code'), null);
  const id = await parent('paul.acacias');
  // A second connection holds the parent's row: the sign-in has checked the setting and the password, and waits
  // to insert its session (the session's foreign key shares the row).
  const holder = await ctx.database.pool.connect();
  try {
    await holder.query('BEGIN');
    await holder.query('SELECT 1 FROM users WHERE id = $1 FOR UPDATE', [id]);
    const { answer: signingIn } = await signIn('paul.acacias');
    assert.equal(await waitingOn('transactionid', signingIn), 'waiting', 'the sign-in waits to insert its session, its check done');
    // The school switches its parents to EduConnect only, while that sign-in is past its check.
    const saving = withTransaction(ctx.database.pool, (c) => savePolicy(c, school, 'Relative', policy('external'), null));
    await waitingOn('advisory', saving);
    await holder.query('COMMIT');
    const [res] = await Promise.all([signingIn, saving]);
    assert.ok([303, 401].includes(res.statusCode), `the sign-in answered: ${res.statusCode}`);
  } finally {
    await holder.query('COMMIT'); // a no-op once committed; after a failed assertion, the row must not stay held
    holder.release();
  }
  assert.equal(await passwordSessions(id), 0, 'no session opened with the password survives the setting');
});

test('a sign-in during the save waits for it, then is refused: no session', async () => {
  await savePolicy(ctx.database.pool, school, 'Relative', policy('code'), null);
  const id = await parent('lea.acacias');
  const saver = await ctx.database.pool.connect();
  let res: LightMyRequestResponse;
  try {
    await saver.query('BEGIN');
    await savePolicy(saver, school, 'Relative', policy('external'), null);
    const { answer: signingIn } = await signIn('lea.acacias');
    // Before its commit, the save is invisible: the sign-in must wait for it rather than act on the old rule.
    assert.equal(await waitingOn('advisory', signingIn), 'waiting', 'the sign-in waits for the save to commit');
    await saver.query('COMMIT');
    res = await signingIn;
  } finally {
    await saver.query('COMMIT');
    saver.release();
  }
  assert.equal(res.statusCode, 401, 'refused once the setting is saved');
  assert.equal(await passwordSessions(id), 0, 'no session opened');
});

test('sign-ins do not wait for each other, and a sign-in where the setting keeps passwords still works', async () => {
  await savePolicy(ctx.database.pool, school, 'Relative', policy('code'), null);
  const a = await parent('eva.acacias');
  const b = await parent('sam.acacias');
  // A sign-in holding the shared lock (its transaction open) does not hold another back.
  const other = await ctx.database.pool.connect();
  try {
    await other.query('BEGIN');
    await other.query('SELECT pg_advisory_xact_lock_shared(745204)');
    const both = await Promise.all([(await signIn('eva.acacias')).answer, (await signIn('sam.acacias')).answer]);
    assert.deepEqual(both.map((r) => r.statusCode), [303, 303], 'both signed in while another sign-in holds the shared lock');
  } finally {
    await other.query('COMMIT');
    other.release();
  }
  assert.equal(await passwordSessions(a) + await passwordSessions(b), 2, 'their sessions stay');
});
