// Finding (attacker's lead, 1/12): a « Paramètres » save ends the password sign-ins it refuses, but an import could
// leave an account refused too — a parent whose only child in a school that keeps passwords has left (moved to the
// other school by the feed) now belongs, through the children, to external-only schools alone — and their password
// session (8 hours) and the ENT applications' tokens (30 days) lived on. An import now ends them in its transaction
// (endRefusedPasswordSignIns): web sessions opened with the password and the account's OpenID tokens; sessions opened
// through the identity provider stay, a dry run ends nothing, a parent still in the other school keeps his.
//
// Finding (follow-up): the import looked only at accounts holding a live web session opened with the password, but an
// application's refresh token (30 days) outlives the session that obtained it (8 hours); and an account linked to its
// identity provider is let through by the OpenID provider, so such a token kept refreshing for a month with a password
// the account's schools refuse. Nor did the OpenID provider ask how the Trousseau session behind a request was opened:
// a password session that outlived the change (the import's commit window) still got codes. The provider's rows now
// record how their sign-in was made (amr 'pwd' / 'fed', oidc_payloads.signed_in_with, migration 0032); the import also
// looks at the accounts holding live rows obtained with the password (or of unknown origin: older than 0032) and
// revokes them, keeping those obtained through the provider; the authorization endpoint, the code and refresh token
// exchanges and userinfo refuse what a refused password signed in.
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { after, before, test } from 'node:test';
import type { FastifyInstance } from 'fastify';
import { savePolicy } from '../../src/directory/policies.js';
import { importFiles } from '../../src/import/index.js';
import { registerClient } from '../../src/oidc/clients.js';
import { SESSION_COOKIE, sha256 } from '../../src/web/auth.js';
import { buildServer } from '../../src/web/server.js';
import { testContext } from '../helpers/db.js';
import { Client, createUser, sessionFor } from '../helpers/web.js';

const TPL = new URL('../fixtures/import/', import.meta.url).pathname;
const PASSWORD = 'phrase de passe du parent 2026';
let ctx: Awaited<ReturnType<typeof testContext>>;
let app: FastifyInstance;
let schoolA = '';
let schoolB = '';
let ent = { clientId: '', secret: '' };
const REDIRECT = 'https://cahier.example.fr/cb';

const q = async <T = Record<string, unknown>>(sql: string, params: unknown[] = []) => (await ctx.database.pool.query(sql, params)).rows as T[];
const sessions = async (userId: string) => (await q<{ n: number }>('SELECT count(*)::int AS n FROM sessions WHERE user_id = $1 AND expires_at > now()', [userId]))[0].n;
const tokens = async (userId: string) => (await q<{ n: number }>(`SELECT count(*)::int AS n FROM oidc_payloads WHERE payload->>'accountId' = $1`, [userId]))[0].n;

/** An activated parent of one pupil in each school of `schools`; returns the parent's id and the pupils'. */
async function parent(login: string, schools: string[]): Promise<{ id: string; children: string[] }> {
  const id = await createUser(ctx.database.pool, { login, profile: 'Relative', password: PASSWORD });
  const children: string[] = [];
  for (const [i, s] of schools.entries()) {
    const child = await createUser(ctx.database.pool, { login: `${login}.enfant${i}`, profile: 'Student', password: PASSWORD });
    await q('INSERT INTO user_structures (user_id, structure_id) VALUES ($1, $2)', [child, s]);
    await q('INSERT INTO relations (parent_id, child_id) VALUES ($1, $2)', [id, child]);
    children.push(child);
  }
  // Signed in with the password, and an ENT application holding a refresh token obtained through that session.
  await sessionFor(ctx.database.pool, id);
  await q(`INSERT INTO oidc_payloads (kind, id, payload, expires_at) VALUES ('RefreshToken', $2, jsonb_build_object('accountId', $1::text), now() + interval '30 days')`, [id, `rt-${login}`]);
  return { id, children };
}

/** School A's pupils file, imported for real or as a dry run (any run of any school ends what is now refused). */
const importA = (dryRun: boolean) =>
  importFiles(ctx, [{ name: 'CSV_Eleves.csv', data: readFileSync(`${TPL}CSV_Eleves.csv`) }], { scope: { kind: 'all' }, dryRun, structureHint: schoolA, partial: true });

before(async () => {
  ctx = await testContext();
  [{ id: schoolA }] = await q<{ id: string }>(`INSERT INTO structures (uai, name) VALUES ('0458001A', 'Collège des Cèdres') RETURNING id`);
  [{ id: schoolB }] = await q<{ id: string }>(`INSERT INTO structures (uai, name) VALUES ('0458002B', 'École des Charmes') RETURNING id`);
  // School A's parents sign in with EduConnect only; school B keeps passwords.
  await savePolicy(ctx.database.pool, schoolA, 'Relative', { signIn: 'external', provider: 'EduConnect', emailRequired: false, phoneRequired: false, minPasswordLength: 12, graceDays: 90, deletionDays: 90 }, null);
  app = await buildServer(ctx);
  const root = await createUser(ctx.database.pool, { login: 'root.dane', superAdmin: true });
  ent = await registerClient(ctx.database.pool, ctx.secrets, { name: 'Cahier de textes', redirectUris: [REDIRECT], scopes: ['profile', 'offline_access'], firstParty: true }, root);
});
after(async () => {
  await app?.close();
  await ctx?.close();
});

// ------------------------------------------------------------------------------ an ENT application, over HTTP

/** A browser of `userId` signed in to Trousseau: with the password, or through EduConnect (a federation_sessions row). */
async function browser(userId: string, how: 'password' | 'provider'): Promise<Client> {
  const c = new Client(app);
  await signInAgain(c, userId, how);
  return c;
}

/** The browser signs in to Trousseau again (a new session, its cookies at the OpenID provider kept). */
async function signInAgain(c: Client, userId: string, how: 'password' | 'provider'): Promise<void> {
  const s = await sessionFor(ctx.database.pool, userId);
  if (how === 'provider') await q(`INSERT INTO federation_sessions (session_id_hash, provider_id) VALUES ($1, 'educonnect')`, [sha256(s.token)]);
  c.cookies.set(SESSION_COOKIE, s.token);
  c.csrf = s.csrf;
}

/**
 * The application sends the browser to /oidc/auth (PKCE); the browser follows redirects and the interaction's hand-over
 * page to the application's address: its code, or the error it was sent back with (`signIn`: sent to Trousseau's
 * sign-in page instead). `offline`: a refresh token for 30 days whatever becomes of the sessions (offline_access,
 * which asks consent again: a first-party application's is given for the user); else it ends with the provider's
 * session of the browser.
 */
async function authorize(c: Client, offline = false): Promise<{ code?: string; error?: string; verifier: string; signIn?: boolean }> {
  const verifier = randomBytes(32).toString('base64url');
  const params = new URLSearchParams({
    client_id: ent.clientId, redirect_uri: REDIRECT, response_type: 'code', scope: offline ? 'openid profile offline_access' : 'openid profile',
    state: randomBytes(8).toString('hex'), code_challenge: createHash('sha256').update(verifier).digest('base64url'), code_challenge_method: 'S256',
    ...(offline ? { prompt: 'consent' } : {}),
  });
  let res = await c.get(`/oidc/auth?${params}`);
  for (let hop = 0; hop < 10; hop++) {
    const to = res.headers.location ?? /^0;url=(.*)$/.exec(String(res.headers.refresh ?? ''))?.[1];
    assert.ok(to, `a redirect or a hand-over page (hop ${hop}): ${res.statusCode} ${res.body.slice(0, 300)}`);
    const u = new URL(String(to), 'http://localhost');
    if (u.href.startsWith(REDIRECT)) return { code: u.searchParams.get('code') ?? undefined, error: u.searchParams.get('error') ?? undefined, verifier };
    if (u.pathname === '/connexion') return { signIn: true, verifier };
    res = await c.get(u.pathname + u.search);
  }
  throw new Error('too many redirects');
}

/** The application's server at the token endpoint (client secret in HTTP Basic). */
async function tokenRequest(body: Record<string, string>): Promise<{ status: number; json: Record<string, string> }> {
  const r = await app.inject({
    method: 'POST', url: '/oidc/token', payload: new URLSearchParams(body).toString(),
    headers: { authorization: `Basic ${Buffer.from(`${ent.clientId}:${ent.secret}`).toString('base64')}`, 'content-type': 'application/x-www-form-urlencoded' },
  });
  return { status: r.statusCode, json: r.json() };
}

/** A sign-in to the application: the code exchanged for its access and refresh tokens. */
async function appSignIn(c: Client, offline = false): Promise<{ access: string; refresh: string }> {
  const a = await authorize(c, offline);
  assert.ok(a.code, `a code: ${JSON.stringify(a)}`);
  const t = await tokenRequest({ grant_type: 'authorization_code', code: a.code, redirect_uri: REDIRECT, code_verifier: a.verifier });
  assert.equal(t.status, 200, `code exchanged: ${JSON.stringify(t.json)}`);
  assert.ok(t.json.access_token && t.json.refresh_token, 'an access and a refresh token');
  return { access: t.json.access_token, refresh: t.json.refresh_token };
}

const refresh = (token: string) => tokenRequest({ grant_type: 'refresh_token', refresh_token: token });
const userinfo = async (access: string) => (await app.inject({ method: 'GET', url: '/oidc/me', headers: { authorization: `Bearer ${access}` } })).statusCode;

test('an import ends the password sign-ins of a parent it leaves in external-only schools; a dry run does not; others keep theirs', async () => {
  const leaving = await parent('parent.demenage', [schoolA, schoolB]);
  const staying = await parent('parent.reste', [schoolA, schoolB]);
  const provider = await parent('parent.educonnect', [schoolA, schoolB]);
  // This one signed in through EduConnect: a session the rule allows.
  await q(`INSERT INTO federation_sessions (session_id_hash, provider_id) SELECT id_hash, 'educonnect' FROM sessions WHERE user_id = $1`, [provider.id]);
  // The feed moves the pupils of two of them from school B to school A: those parents now belong to A alone.
  await q('UPDATE user_structures SET structure_id = $1 WHERE user_id = ANY($2::uuid[])', [schoolA, [leaving.children[1], provider.children[1]]]);
  assert.equal(await sessions(leaving.id), 1, 'signed in with the password before the run');

  const dry = await importA(true);
  assert.equal(dry.fatal, null, 'dry run');
  assert.equal(await sessions(leaving.id), 1, 'a dry run ends nothing');
  assert.equal(await tokens(leaving.id), 1, 'a dry run ends no token');

  const run = await importA(false);
  assert.equal(run.fatal, null, `import: ${JSON.stringify(run.fatal)}`);
  assert.equal(await sessions(leaving.id), 0, 'the refused password session is ended');
  assert.equal(await tokens(leaving.id), 0, 'and the applications’ tokens');
  assert.equal(await sessions(staying.id), 1, 'a parent still in the school that keeps passwords keeps his session');
  assert.equal(await tokens(staying.id), 1, 'and his tokens');
  assert.equal(await sessions(provider.id), 1, 'a session opened through EduConnect stays');
  const [audit] = await q<{ details: { sessionsEnded?: number } }>(`SELECT details FROM audit WHERE action = 'import' AND details->>'dryRun' = 'false' ORDER BY at DESC LIMIT 1`);
  assert.equal(audit?.details.sessionsEnded, 1, 'the import’s audit row says how many sessions it ended');
});

test('an import revokes the tokens an application got through a password session long expired; those got through EduConnect stay', async () => {
  const p = await parent('parent.appli', [schoolA, schoolB]);
  await q(`INSERT INTO federation_links (provider_id, subject, user_id, provider_name) VALUES ('educonnect', 'ec-appli', $1, 'EduConnect')`, [p.id]);
  // The parent signed in to the application with the password (school B keeps them), and on another day through EduConnect.
  const viaPassword = await appSignIn(await browser(p.id, 'password'), true);
  const viaProvider = await appSignIn(await browser(p.id, 'provider'), true);
  const origins = await q<{ kind: string; signed_in_with: string | null }>(
    `SELECT kind, signed_in_with FROM oidc_payloads WHERE payload->>'accountId' = $1 AND kind IN ('AccessToken', 'RefreshToken') AND id <> $2 ORDER BY kind, signed_in_with`, [p.id, 'rt-parent.appli']);
  assert.deepEqual(origins.map((o) => `${o.kind}:${o.signed_in_with}`),
    ['AccessToken:password', 'AccessToken:provider', 'RefreshToken:password', 'RefreshToken:provider'], 'each token records how its sign-in was made');
  // Eight hours later the web sessions have expired, Trousseau's and the provider's; the refresh tokens live 30 days.
  // A token from before migration 0032 says nothing.
  await q(`UPDATE sessions SET expires_at = now() - interval '1 minute' WHERE user_id = $1`, [p.id]);
  await q(`UPDATE oidc_payloads SET expires_at = now() - interval '1 minute' WHERE kind = 'Session' AND payload->>'accountId' = $1`, [p.id]);
  await q(`INSERT INTO oidc_payloads (kind, id, payload, expires_at) VALUES ('RefreshToken', 'rt-ancien', jsonb_build_object('accountId', $1::text), now() + interval '20 days')`, [p.id]);
  assert.equal((await refresh(viaPassword.refresh)).status, 200, 'while school B keeps passwords, the password’s token refreshes');

  // The feed moves the child of school B to school A: the parent now signs in with EduConnect only.
  await q('UPDATE user_structures SET structure_id = $1 WHERE user_id = $2', [schoolA, p.children[1]]);
  const run = await importA(false);
  assert.equal(run.fatal, null, `import: ${JSON.stringify(run.fatal)}`);

  const left = await q<{ kind: string; signed_in_with: string | null }>(
    `SELECT kind, signed_in_with FROM oidc_payloads WHERE payload->>'accountId' = $1 AND kind IN ('AuthorizationCode', 'AccessToken', 'RefreshToken') ORDER BY kind`, [p.id]);
  assert.ok(!left.some((o) => o.signed_in_with !== 'provider'), `the import revoked what the password obtained, and the token of unknown origin: ${JSON.stringify(left)}`);
  assert.ok(left.some((o) => o.kind === 'RefreshToken' && o.signed_in_with === 'provider'), 'the refresh token obtained through EduConnect stays');
  const refused = await refresh(viaPassword.refresh);
  assert.equal(refused.status, 400, 'the password’s refresh token is refused');
  assert.equal(refused.json.error, 'invalid_grant', 'as invalid_grant: the application signs the parent in again, through EduConnect');
  assert.equal(await userinfo(viaPassword.access), 401, 'the password’s access token is refused at userinfo');
  assert.equal(await userinfo(viaProvider.access), 200, 'the access token obtained through EduConnect still works');
  assert.equal((await refresh(viaProvider.refresh)).status, 200, 'and its refresh token refreshes');
});

test('a password session that outlived the change gets no code and its tokens stop; signed in again through EduConnect, the application gets its code', async () => {
  const p = await parent('parent.fenetre', [schoolA, schoolB]);
  await q(`INSERT INTO federation_links (provider_id, subject, user_id, provider_name) VALUES ('educonnect', 'ec-fenetre', $1, 'EduConnect')`, [p.id]);
  const c = await browser(p.id, 'password');
  const before = await appSignIn(c);
  assert.ok((await authorize(c)).code, 'signed in at the provider already: a code without any page');
  // The child moves to school A as an import would, but the password session is still there (the import's commit
  // window, a membership changed otherwise): the provider must not take that session for a sign-in it allows.
  await q('UPDATE user_structures SET structure_id = $1 WHERE user_id = $2', [schoolA, p.children[1]]);
  const again = await authorize(c);
  assert.equal(again.error, 'access_denied', `the password session gets no code: ${JSON.stringify(again)}`);
  const [audit] = await q<{ details: { reason?: string; signIn?: string } }>(`SELECT details FROM audit WHERE action = 'oidc.refused' AND actor_id = $1 ORDER BY at DESC LIMIT 1`, [p.id]);
  assert.deepEqual([audit?.details.reason, audit?.details.signIn], ['external', 'password'], 'the refusal is audited, saying the session was opened by password');
  assert.equal((await refresh(before.refresh)).json.error, 'invalid_grant', 'the refresh token it obtained stops at its next use');
  assert.equal(await userinfo(before.access), 401, 'and its access token');
  const stranger = new Client(app);
  stranger.cookies.set(SESSION_COOKIE, c.cookies.get(SESSION_COOKIE) ?? '');
  const fresh = await authorize(stranger);
  assert.equal(fresh.error, 'access_denied', 'from a browser new to the provider too (the interaction checks the session)');

  // The same browser signs in to Trousseau through EduConnect: the provider's session is signed in again, as the provider's.
  await signInAgain(c, p.id, 'provider');
  const provider = await appSignIn(c);
  assert.equal(await userinfo(provider.access), 200, 'the application gets its tokens');
  const [rt] = await q<{ signed_in_with: string }>(`SELECT signed_in_with FROM oidc_payloads WHERE kind = 'RefreshToken' AND payload->>'accountId' = $1 AND consumed IS NULL ORDER BY expires_at DESC LIMIT 1`, [p.id]);
  assert.equal(rt?.signed_in_with, 'provider', 'said as obtained through the provider');
  assert.equal((await refresh(provider.refresh)).status, 200, 'it refreshes');
});

test('a browser signed in through EduConnect, then with the password: what the application gets next is the password’s, and ends with it', async () => {
  const p = await parent('parent.navigateur', [schoolA, schoolB]);
  await q(`INSERT INTO federation_links (provider_id, subject, user_id, provider_name) VALUES ('educonnect', 'ec-navigateur', $1, 'EduConnect')`, [p.id]);
  const c = await browser(p.id, 'provider');
  const viaProvider = await appSignIn(c);
  // Signed out of Trousseau, then in again with the password (school B keeps them): the provider's session, still
  // signed in through EduConnect, must not lend that to the tokens this session obtains.
  await signInAgain(c, p.id, 'password');
  const viaPassword = await appSignIn(c);
  const [rt] = await q<{ signed_in_with: string }>(`SELECT signed_in_with FROM oidc_payloads WHERE kind = 'RefreshToken' AND payload->>'accountId' = $1 AND signed_in_with IS NOT NULL ORDER BY expires_at DESC LIMIT 1`, [p.id]);
  assert.equal(rt?.signed_in_with, 'password', 'the new refresh token is said obtained with the password');

  await q('UPDATE user_structures SET structure_id = $1 WHERE user_id = $2', [schoolA, p.children[1]]);
  const run = await importA(false);
  assert.equal(run.fatal, null, `import: ${JSON.stringify(run.fatal)}`);
  assert.equal((await refresh(viaPassword.refresh)).json.error, 'invalid_grant', 'the password’s refresh token ends with the password');
  assert.equal((await refresh(viaProvider.refresh)).status, 200, 'the one obtained through EduConnect stays');
});
