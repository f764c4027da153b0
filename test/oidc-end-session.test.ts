// The OpenID provider's end_session_endpoint (OpenID Connect RP-Initiated Logout 1.0): an ENT application signing
// its user out (Moodle, Nextcloud) ends the Trousseau session too — it stayed open, and the next person on a shared
// computer clicking the application's « Se connecter avec l'ENT » came back as the previous pupil.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import type { FastifyInstance } from 'fastify';
import { importJWK, SignJWT } from 'jose';
import { registerClient } from '../src/oidc/clients.js';
import { loadSigningKeys } from '../src/oidc/keys.js';
import { buildServer } from '../src/web/server.js';
import { testContext } from './helpers/db.js';
import { insertStructure, insertUser } from './helpers/directory-sample.js';
import { type Client, createUser, signedInClient } from './helpers/web.js';

let ctx: Awaited<ReturnType<typeof testContext>>;
let app: FastifyInstance;
let pupil: string;
let other: string;
let clientId: string;

before(async () => {
  ctx = await testContext();
  app = await buildServer(ctx);
  const pool = ctx.database.pool;
  const admin = await createUser(pool, { login: 'admin', superAdmin: true, password: 'x' });
  const s1 = await insertStructure(pool, 'Collège Jean Moulin', '0750001A');
  pupil = await insertUser(pool, { firstName: 'Léa', lastName: 'DUPONT', activated: true, structureIds: [s1] });
  other = await insertUser(pool, { firstName: 'Tom', lastName: 'MARTIN', activated: true, structureIds: [s1] });
  ({ clientId } = await registerClient(pool, ctx.secrets, {
    name: 'Moodle', redirectUris: ['https://moodle.ent.example.fr/auth/oidc/'], scopes: ['profile'], firstParty: true,
  }, admin));
});

after(async () => {
  await app?.close();
  await ctx?.close();
});

const issuer = () => `${ctx.config.publicUrl}/oidc`;

/** An ID token as the provider issues them (its signing key), for `sub`, to `aud`. */
async function idToken(sub: string, aud = clientId, iss = issuer()): Promise<string> {
  const [jwk] = await loadSigningKeys(ctx.database.pool, ctx.secrets);
  return new SignJWT({}).setProtectedHeader({ alg: 'RS256', kid: jwk.kid }).setSubject(sub).setAudience(aud).setIssuer(iss)
    .setIssuedAt().setExpirationTime('1h').sign(await importJWK(jwk as never, 'RS256'));
}

const signedIn = async (c: Client) => (await c.get('/mon-compte')).statusCode === 200;

test('discovery advertises the end_session_endpoint', async () => {
  const res = await app.inject({ method: 'GET', url: '/oidc/.well-known/openid-configuration' });
  assert.equal(res.statusCode, 200);
  // Endpoints are given on the request's host (the public one behind the proxy), the issuer is TROUSSEAU_PUBLIC_URL's.
  assert.equal(new URL(res.json().end_session_endpoint).pathname, '/oidc/session/end');
});

test('with an ID token of the signed-in account, the Trousseau session ends and the browser goes back to the application with its state', async () => {
  const c = await signedInClient(app, ctx.database.pool, pupil);
  assert.ok(await signedIn(c));
  const q = new URLSearchParams({ id_token_hint: await idToken(pupil), post_logout_redirect_uri: 'https://moodle.ent.example.fr/', state: 'xyz' });
  const res = await c.get(`/oidc/session/end?${q}`);
  assert.equal(res.statusCode, 303, res.body);
  assert.equal(res.headers.location, 'https://moodle.ent.example.fr/?state=xyz');
  assert.equal(await signedIn(c), false, 'the Trousseau session ended');
  const audit = await ctx.database.pool.query(`SELECT details->>'clientId' AS client FROM audit WHERE actor_id = $1 AND action = 'auth.logout'`, [pupil]);
  assert.deepEqual(audit.rows, [{ client: clientId }]);
});

test('without a hint naming the signed-in account the person is asked; confirming signs out and hands over to the application', async () => {
  const c = await signedInClient(app, ctx.database.pool, pupil);
  // Another account's token (someone else's session of the application), or none: asked, not signed out.
  for (const q of [new URLSearchParams({ id_token_hint: await idToken(other) }), new URLSearchParams({ client_id: clientId, post_logout_redirect_uri: 'https://moodle.ent.example.fr/' })]) {
    const page = await c.get(`/oidc/session/end?${q}`);
    assert.equal(page.statusCode, 200, page.body);
    assert.match(page.body, /Se déconnecter de l’ENT/);
    assert.ok(await signedIn(c), 'still signed in until confirmed');
  }
  const done = await c.post('/oidc/session/end/confirm', { client_id: clientId, post_logout_redirect_uri: 'https://moodle.ent.example.fr/', state: 's1', id_token_hint: '' });
  assert.equal(done.statusCode, 200, done.body);
  assert.equal(done.headers.refresh, '0;url=https://moodle.ent.example.fr/?state=s1');
  assert.equal(await signedIn(c), false);
});

test('a forged hint, an unknown application or a return address off its site is refused, and signs nobody out', async () => {
  const c = await signedInClient(app, ctx.database.pool, pupil);
  const cases = [
    new URLSearchParams({ id_token_hint: await idToken(pupil, clientId, 'https://elsewhere.example/oidc') }),
    new URLSearchParams({ id_token_hint: `${(await idToken(pupil)).slice(0, -4)}AAAA` }),
    new URLSearchParams({ id_token_hint: await idToken(pupil, 'ent-unknown') }),
    new URLSearchParams({ id_token_hint: await idToken(pupil), post_logout_redirect_uri: 'https://evil.example/' }),
    new URLSearchParams({ post_logout_redirect_uri: 'https://moodle.ent.example.fr/' }),
  ];
  for (const q of cases) {
    const res = await c.get(`/oidc/session/end?${q}`);
    assert.equal(res.statusCode, 400, `${q}: ${res.body.slice(0, 200)}`);
    assert.match(res.body, /ne vient pas d’une application de l’ENT connue/);
  }
  assert.ok(await signedIn(c));
});
