// Finding: when a school's « Paramètres » said a profile signs in only with an identity provider (EduConnect,
// FranceConnect, the académie's), an account of that profile that already had a Trousseau password (activated before
// the setting, or by a feed) still signed in with it — and, through Trousseau's session, the OpenID provider gave the
// ENT's applications their tokens (it lets an account linked to its provider through). Now the sign-in page refuses
// such an account with the answer of an unknown login, pointing to the provider's button, whatever the password
// (external-only-login-oracle.test.ts), and the attempt counted as before. One school's setting never refuses an account another school of it lets sign in with a password.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import type { FastifyInstance, LightMyRequestResponse } from 'fastify';
import { savePolicy } from '../../src/directory/policies.js';
import { parseFederation } from '../../src/federation/providers.js';
import { accountClaims } from '../../src/oidc/claims.js';
import { buildServer } from '../../src/web/server.js';
import { testContext } from '../helpers/db.js';
import { Client, createUser } from '../helpers/web.js';

process.env.TROUSSEAU_RATE_LOGIN_MAX = '4';
process.env.TROUSSEAU_RATE_IP_MAX = '50';

const PASSWORD = 'ancienne phrase de passe du parent';
const CERT = 'MIIBszCCAVmgAwIBAgIUQ2VydGlmaWNhdGUgb2YgYSB0ZXN0IElkUDAKBggqhkjOPQQDAjAAMB4XDTI2MDEwMTAwMDAwMFoXDTM2MDEwMTAwMDAwMFow';
let ctx: Awaited<ReturnType<typeof testContext>>;
let app: FastifyInstance;
let schoolA = '';
let schoolB = '';
let ip = 10;

const q = async <T = Record<string, unknown>>(sql: string, params: unknown[] = []) => (await ctx.database.pool.query(sql, params)).rows as T[];
const policy = (signIn: 'code' | 'external' | 'both', provider: string | null) => ({
  signIn, provider, emailRequired: false, phoneRequired: false, minPasswordLength: 12, graceDays: 90, deletionDays: 90,
});

before(async () => {
  ctx = await testContext();
  ctx.config.federation = parseFederation({
    providers: [{ id: 'educonnect', label: 'EduConnect', kind: 'saml', entryPoint: 'https://educonnect.example.fr/sso', idpCert: CERT, match: ['externalId'] }],
  });
  app = await buildServer(ctx);
  [{ id: schoolA }] = await q<{ id: string }>(`INSERT INTO structures (uai, name) VALUES ('0456001A', 'Collège des Acacias') RETURNING id`);
  [{ id: schoolB }] = await q<{ id: string }>(`INSERT INTO structures (uai, name) VALUES ('0456002B', 'École des Bouleaux') RETURNING id`);
  await q(`INSERT INTO federation_enabled (provider_id, structure_id, profile) VALUES ('educonnect', $1, 'Relative')`, [schoolA]);
  await savePolicy(ctx.database.pool, schoolA, 'Relative', policy('external', 'EduConnect'), null);
});
after(async () => {
  await app?.close();
  await ctx?.close();
});

/** An activated parent (password set) of pupils in `schools`, one child each. */
async function parent(login: string, schools: string[]): Promise<string> {
  const id = await createUser(ctx.database.pool, { login, profile: 'Relative', password: PASSWORD });
  for (const s of schools) {
    const child = await createUser(ctx.database.pool, { login: `${login}.enfant.${s.slice(0, 4)}`, profile: 'Student' });
    await q('INSERT INTO user_structures (user_id, structure_id) VALUES ($1, $2)', [child, s]);
    await q('INSERT INTO relations (parent_id, child_id) VALUES ($1, $2)', [id, child]);
  }
  return id;
}

/** The sign-in attempt from a fresh browser (and IP), and whether it left a session. */
async function signIn(login: string, password: string, lang = ''): Promise<{ res: LightMyRequestResponse; signedIn: boolean; alert: string }> {
  const c = new Client(app, `198.51.100.${ip++}`);
  await c.get(`/connexion${lang}`);
  const res = await c.post('/connexion', { login, password });
  const signedIn = (await c.get('/mon-compte')).statusCode === 200;
  const alert = /<div[^>]*role="alert"[^>]*>([\s\S]*?)<\/div>/.exec(res.body)?.[1] ?? '';
  return { res, signedIn, alert };
}

test('an external-only parent with a password is refused, pointed to the provider’s button, whatever the password', async () => {
  await parent('paul.acacias', [schoolA]);
  const right = await signIn('paul.acacias', PASSWORD);
  assert.equal(right.res.statusCode, 401, `the right password is refused: ${right.res.statusCode}`);
  assert.equal(right.signedIn, false, 'no session with the right password');
  assert.match(right.alert, /utilisez son bouton plus bas/, `the message points to the provider's button: ${right.alert}`);
  assert.match(right.res.body, /data-provider="educonnect"/, 'the button is on the page');
  assert.match(right.res.body, /<title>Erreur : /, 'said as an error');

  const wrong = await signIn('paul.acacias', 'pas du tout le bon mot de passe');
  assert.equal(wrong.res.statusCode, right.res.statusCode, 'a wrong password gets the same status');
  assert.equal(wrong.alert, right.alert, 'a wrong password gets the same message: no oracle on the password');
  assert.equal(wrong.signedIn, false, 'no session with a wrong password');

  const en = await signIn('paul.acacias', PASSWORD, '?lang=en');
  assert.match(en.alert, /use its button further down/, `English: ${en.alert}`);

  const [audit] = await q<{ n: number }>(`SELECT count(*)::int AS n FROM audit WHERE action = 'auth.login_failed' AND details->>'reason' = 'external'`);
  assert.equal(audit.n, 3, 'each refusal is in the audit log');
});

test('an external-only account linked to its provider (which the OpenID provider lets through) gets no session by password', async () => {
  const id = await parent('lina.acacias', [schoolA]);
  await q(`INSERT INTO federation_links (provider_id, subject, user_id, provider_name) VALUES ('educonnect', 'ec-lina', $1, 'EduConnect')`, [id]);
  const r = await signIn('lina.acacias', PASSWORD);
  assert.equal(r.res.statusCode, 401, 'refused');
  assert.equal(r.signedIn, false, 'no session, hence no token for the ENT’s applications');
});

test('a provider named in the settings but without a button on the page: refused all the same', async () => {
  await savePolicy(ctx.database.pool, schoolB, 'Teacher', policy('external', 'IdP académique'), null);
  const t = await createUser(ctx.database.pool, { login: 'theo.bouleaux', profile: 'Teacher', password: PASSWORD });
  await q('INSERT INTO user_structures (user_id, structure_id) VALUES ($1, $2)', [t, schoolB]);
  const r = await signIn('theo.bouleaux', PASSWORD);
  assert.equal(r.res.statusCode, 401, 'refused');
  assert.equal(r.signedIn, false, 'no session');
  await savePolicy(ctx.database.pool, schoolB, 'Teacher', policy('code', null), null);
  assert.equal((await signIn('theo.bouleaux', PASSWORD)).signedIn, true, 'back to codes: the password works again');
});

test('the refusal is counted like any attempt: the limit per login and IP still applies', async () => {
  await parent('rose.acacias', [schoolA]);
  const c = new Client(app, '192.0.2.77');
  await c.get('/connexion');
  const statuses: number[] = [];
  for (let i = 0; i < 6; i++) statuses.push((await c.post('/connexion', { login: 'rose.acacias', password: PASSWORD })).statusCode);
  assert.deepEqual(statuses.slice(0, 4), [401, 401, 401, 401], `statuses: ${statuses}`);
  assert.equal(statuses[5], 429, `then too many attempts: ${statuses}`);
});

test('a password still works where the school lets it: shared with another school, « les deux », linked under « les deux »', async () => {
  // A parent with a child in A (EduConnect only) and one in B (codes): A's setting does not lock B's parent out.
  await parent('sacha.deux-ecoles', [schoolA, schoolB]);
  const shared = await signIn('sacha.deux-ecoles', PASSWORD);
  assert.equal(shared.signedIn, true, `a parent of both schools signs in: ${shared.res.statusCode} ${shared.alert}`);

  await savePolicy(ctx.database.pool, schoolB, 'Relative', policy('both', 'EduConnect'), null);
  const id = await parent('noe.bouleaux', [schoolB]);
  assert.equal((await signIn('noe.bouleaux', PASSWORD)).signedIn, true, '« code et fournisseur »: the password works');
  await q(`INSERT INTO federation_links (provider_id, subject, user_id, provider_name) VALUES ('educonnect', 'ec-noe', $1, 'EduConnect')`, [id]);
  assert.equal((await signIn('noe.bouleaux', PASSWORD)).signedIn, true, 'linked to the provider, under « les deux »: the password works');
  const wrong = await signIn('noe.bouleaux', 'pas le bon');
  assert.equal(wrong.res.statusCode, 401, 'a wrong password is still the usual 401');
});

test('the OpenID provider follows the same rule: a parent shared with a school that keeps passwords gets tokens; a linked account only through its provider', async () => {
  const id = (login: string) => q<{ id: string }>('SELECT id FROM users WHERE login = $1', [login]).then((r) => r[0].id);
  // Before: any school's « fournisseur externe seulement » refused the shared parent at every application, while
  // the sign-in page (rightly) let them in with the password their other school gives them.
  const shared = await accountClaims(ctx.database.pool, await id('sacha.deux-ecoles'));
  assert.ok(shared && 'claims' in shared, `the shared parent gets claims: ${JSON.stringify(shared)}`);
  const onlyA = await accountClaims(ctx.database.pool, await id('paul.acacias'));
  assert.deepEqual(onlyA, { refused: 'external' }, 'an external-only account never linked is refused');
  const linked = await accountClaims(ctx.database.pool, await id('lina.acacias'), 'provider');
  assert.ok(linked && 'claims' in linked, 'an external-only account linked to its provider signs in there: claims');
  // Signed in with the password before its school refused it (a session or a token older than the setting, or than
  // an import that made it external-only), or in a way not known: nothing (import-external-only-sessions.test.ts).
  assert.deepEqual(await accountClaims(ctx.database.pool, await id('lina.acacias'), 'password'), { refused: 'external' }, 'linked, but by its password: refused');
  assert.deepEqual(await accountClaims(ctx.database.pool, await id('lina.acacias')), { refused: 'external' }, 'linked, signed in in a way not known: refused');
  assert.ok(await accountClaims(ctx.database.pool, await id('sacha.deux-ecoles'), 'password').then((r) => r && 'claims' in r), 'the shared parent by password: claims');
});
