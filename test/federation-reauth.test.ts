// A new sign-in asked by an application (OpenID provider: prompt=login, an expired max_age) made through an identity
// provider: Trousseau's session is replaced, but the provider was asked for nothing more than a usual sign-in, so its
// own single sign-on session (EduConnect's, left open on the classroom's computer by the previous pupil) answered at
// once, without anyone typing anything — the re-authentication the application asked for, given by a cookie. The
// provider is asked to authenticate the person again: OIDC prompt=login, SAML ForceAuthn.
import assert from 'node:assert/strict';
import { inflateRawSync } from 'node:zlib';
import { after, before, test } from 'node:test';
import type { FastifyInstance } from 'fastify';
import { registerClient } from '../src/oidc/clients.js';
import { buildServer } from '../src/web/server.js';
import { testContext } from './helpers/db.js';
import { educonnectAndFranceConnect } from './helpers/federation-config.js';
import { insertStructure, insertUser } from './helpers/directory-sample.js';
import { Client, createUser, signedInClient } from './helpers/web.js';

let ctx: Awaited<ReturnType<typeof testContext>>;
let app: FastifyInstance;
let pupil: string;
let admin: string;


before(async () => {
  ctx = await testContext();
  ctx.config.federation = educonnectAndFranceConnect();
  app = await buildServer(ctx);
  const pool = ctx.database.pool;
  const s1 = await insertStructure(pool, 'Collège Jean Moulin', '0750001A');
  admin = await createUser(pool, { login: 'admin', superAdmin: true, password: 'x' });
  pupil = await insertUser(pool, { firstName: 'Léa', lastName: 'DUPONT', profile: 'Student', activated: true, structureIds: [s1] });
  await pool.query(`INSERT INTO federation_enabled (provider_id, structure_id, profile) VALUES ('educonnect', $1, 'Student'), ('franceconnect', $1, 'Student')`, [s1]);
});

after(async () => {
  await app?.close();
  await ctx?.close();
});

/** What the provider is asked when the browser follows `button` (a path with its query). */
async function asked(c: Client, button: string): Promise<{ prompt: string | null; forceAuthn: boolean }> {
  const res = await c.get(button);
  assert.equal(res.statusCode, 303, res.body);
  const to = new URL(res.headers.location as string);
  const saml = to.searchParams.get('SAMLRequest');
  const xml = saml ? inflateRawSync(Buffer.from(saml, 'base64')).toString('utf8') : '';
  return { prompt: to.searchParams.get('prompt'), forceAuthn: /ForceAuthn="true"/.test(xml) };
}

/** The provider buttons' links of a sign-in page. */
const buttons = (body: string) => [...body.matchAll(/data-provider="[^"]+" href="([^"]+)"/g)].map((m) => m[1].replaceAll('&amp;', '&'));

test('the re-authentication page asks the identity provider for a new authentication, not its open session', async () => {
  const c = await signedInClient(app, ctx.database.pool, pupil);
  const page = await c.get(`/connexion?${new URLSearchParams({ next: '/oidc/interaction/abc', reauth: '1' })}`);
  assert.equal(page.statusCode, 200);
  const links = buttons(page.body);
  assert.equal(links.length, 2, page.body);
  const [educonnect, franceconnect] = links;
  assert.deepEqual(await asked(c, educonnect), { prompt: null, forceAuthn: true });
  assert.deepEqual(await asked(c, franceconnect), { prompt: 'login', forceAuthn: false });
});

test('a first sign-in through a provider is an ordinary one', async () => {
  const c = new Client(app);
  const links = buttons((await c.get('/connexion?next=/mon-compte')).body);
  assert.deepEqual(await asked(c, links[0]), { prompt: null, forceAuthn: false });
  assert.deepEqual(await asked(c, links[1]), { prompt: null, forceAuthn: false });
});

test('an application asking prompt=login of a browser without a session: the sign-in page says it to the providers', async () => {
  const reg = await registerClient(ctx.database.pool, ctx.secrets, { name: 'Cahier', redirectUris: ['https://cahier.example.fr/cb'], scopes: ['profile'], firstParty: true }, admin);
  const c = new Client(app);
  const q = new URLSearchParams({ client_id: reg.clientId, response_type: 'code', scope: 'openid', redirect_uri: 'https://cahier.example.fr/cb', prompt: 'login', state: 's', nonce: 'n', code_challenge: 'E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM', code_challenge_method: 'S256' });
  let res = await c.get(`/oidc/auth?${q}`, { 'x-forwarded-proto': 'https', host: 'ent.example.fr' });
  for (let i = 0; i < 4 && res.statusCode >= 300 && res.statusCode < 400; i++) {
    const to = new URL(res.headers.location as string, 'https://ent.example.fr');
    if (to.pathname === '/connexion') break;
    res = await c.get(to.pathname + to.search, { 'x-forwarded-proto': 'https', host: 'ent.example.fr' });
  }
  const to = new URL(res.headers.location as string, 'https://ent.example.fr');
  assert.equal(to.pathname, '/connexion', `${res.statusCode} ${res.headers.location} ${res.body.slice(0, 300)}`);
  const links = buttons((await c.get(to.pathname + to.search)).body);
  assert.deepEqual(await asked(c, links[1]), { prompt: 'login', forceAuthn: false });
});
