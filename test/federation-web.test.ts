// The federation's HTTP surface without a browser: sign-in buttons, SP metadata, the super admin's console screen,
// refusals of bad answers (400, never 500, nothing changed), and the distribution rules once an account is linked.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import type { FastifyInstance } from 'fastify';
import { externalOnlyAbsentSql, externalProviderSql } from '../src/directory/policies.js';
import { buildServer } from '../src/web/server.js';
import { testContext } from './helpers/db.js';
import { educonnectAndFranceConnect } from './helpers/federation-config.js';
import { insertStructure, insertUser } from './helpers/directory-sample.js';
import { Client, createUser, signedInClient } from './helpers/web.js';

let ctx: Awaited<ReturnType<typeof testContext>>;
let app: FastifyInstance;
let s1: string;
let s2: string;
let admin: string;
let localAdmin: string;


before(async () => {
  ctx = await testContext();
  ctx.config.federation = educonnectAndFranceConnect();
  app = await buildServer(ctx);
  const pool = ctx.database.pool;
  s1 = await insertStructure(pool, 'Collège Jean Moulin', '0750001A');
  s2 = await insertStructure(pool, 'Lycée Victor Hugo', '0750002B');
  admin = await createUser(pool, { login: 'admin', superAdmin: true, password: 'x' });
  localAdmin = await insertUser(pool, { firstName: 'Marc', lastName: 'BLANC', profile: 'Personnel', activated: true, structureIds: [s1], adminOf: [s1] });
});

after(async () => {
  await app?.close();
  await ctx?.close();
});

test('the sign-in page has one button per provider enabled somewhere, none for a provider enabled nowhere', async () => {
  const pool = ctx.database.pool;
  const none = await new Client(app).get('/connexion');
  assert.doesNotMatch(none.body, /data-provider=|Se connecter avec|class="card federation"/);
  await pool.query(`INSERT INTO federation_enabled (provider_id, structure_id, profile) VALUES ('educonnect', $1, 'Relative')`, [s2]);
  const one = await new Client(app).get('/connexion');
  assert.match(one.body, /data-provider="educonnect"/);
  assert.doesNotMatch(one.body, /FranceConnect/);
  await pool.query(`INSERT INTO federation_enabled (provider_id, structure_id, profile) VALUES ('franceconnect', $1, 'Student')`, [s1]);
  const res = await new Client(app).get('/connexion?next=/mon-compte');
  assert.match(res.body, /<a class="button button-secondary" data-provider="educonnect" href="\/federation\/educonnect\/connexion\?next=%2Fmon-compte">Se connecter avec EduConnect<\/a>/);
  assert.match(res.body, /Se connecter avec FranceConnect/);
  const en = await new Client(app).get('/connexion?lang=en');
  assert.match(en.body, /Sign in with EduConnect/);
  await pool.query('DELETE FROM federation_enabled');
});

test('starting a flow sends the browser to the provider with PKCE, state and nonce, or the signed-in AuthnRequest', async () => {
  const c = new Client(app);
  const oidc = await c.get('/federation/franceconnect/connexion');
  assert.equal(oidc.statusCode, 303);
  const url = new URL(oidc.headers.location as string);
  assert.equal(url.origin + url.pathname, 'https://fc.example.fr/authorize');
  assert.equal(url.searchParams.get('code_challenge_method'), 'S256');
  assert.ok(url.searchParams.get('state') && url.searchParams.get('nonce') && url.searchParams.get('code_challenge'));
  assert.equal(url.searchParams.get('redirect_uri'), 'https://ent.example.fr/federation/franceconnect/retour');
  assert.ok(c.cookies.get('trousseau_fed'), 'the flow is bound to this browser');
  const saml = await c.get('/federation/educonnect/connexion');
  const s = new URL(saml.headers.location as string);
  assert.equal(s.origin + s.pathname, 'https://educonnect.example.fr/sso');
  assert.ok(s.searchParams.get('SAMLRequest') && s.searchParams.get('RelayState'));
  const flows = await ctx.database.pool.query('SELECT provider_id, code_verifier IS NOT NULL AS pkce, saml_request_id IS NOT NULL AS req FROM federation_flows ORDER BY provider_id');
  assert.deepEqual(flows.rows, [{ provider_id: 'educonnect', pkce: false, req: true }, { provider_id: 'franceconnect', pkce: true, req: false }]);
  assert.equal((await c.get('/federation/inconnu/connexion')).statusCode, 404);
});

test('a flow only continues in the browser that started it', async () => {
  const a = new Client(app);
  const state = new URL((await a.get('/federation/franceconnect/connexion')).headers.location as string).searchParams.get('state') as string;
  const flows = async () => (await ctx.database.pool.query("SELECT count(*)::int AS n FROM federation_flows WHERE provider_id = 'franceconnect'")).rows[0].n as number;
  const n = await flows();
  // Another browser (a login-CSRF attempt: the victim's browser fed the attacker's callback) gets nothing, and the
  // flow stays for its own browser.
  const b = new Client(app, '198.51.100.7');
  await b.get('/federation/educonnect/connexion');
  assert.equal((await b.get(`/federation/franceconnect/retour?code=stolen&state=${state}`)).statusCode, 400);
  assert.equal(await flows(), n);
});

test('SP metadata at a stable URL: entity ID, ACS (POST), signed assertions wanted', async () => {
  const res = await new Client(app).get('/federation/educonnect/metadata');
  assert.equal(res.statusCode, 200);
  assert.match(String(res.headers['content-type']), /samlmetadata\+xml/);
  assert.match(res.body, /entityID="https:\/\/ent\.example\.fr\/federation\/educonnect\/metadata"/);
  assert.match(res.body, /WantAssertionsSigned="true"/);
  assert.match(res.body, /Binding="urn:oasis:names:tc:SAML:2\.0:bindings:HTTP-POST" Location="https:\/\/ent\.example\.fr\/federation\/educonnect\/acs"/);
});

test('bad answers are a 400 that changes nothing: unknown RelayState, garbage SAMLResponse, unknown OIDC state', async () => {
  const c = new Client(app);
  // The ACS takes the IdP's cross-site POST without a CSRF token (403 would be wrong), but refuses what it cannot prove.
  const acs = await c.post('/federation/educonnect/acs', { SAMLResponse: Buffer.from('<not-saml>').toString('base64'), RelayState: 'nothing' }, { csrf: false });
  assert.equal(acs.statusCode, 400);
  assert.match(acs.body, /n’a pas abouti/);
  await c.get('/federation/educonnect/connexion');
  const relay = new URL((await c.get('/federation/educonnect/connexion')).headers.location as string).searchParams.get('RelayState') as string;
  const garbage = await c.post('/federation/educonnect/acs', { SAMLResponse: 'éé%%not base64', RelayState: relay }, { csrf: false });
  assert.equal(garbage.statusCode, 400);
  const cb = await c.get('/federation/franceconnect/retour?code=x&state=forged');
  assert.equal(cb.statusCode, 400);
  // Any other POST still needs its token.
  assert.equal((await c.post('/federation/educonnect/choix', { jeton: 'x', account: 'y' }, { csrf: false })).statusCode, 403);
});

test('console: super admins enable a provider per structure and profile; local admins may not', async () => {
  const su = await signedInClient(app, ctx.database.pool, admin);
  const page = await su.get('/console/federation');
  assert.equal(page.statusCode, 200);
  assert.match(page.body, /EduConnect/);
  assert.match(page.body, /https:\/\/ent\.example\.fr\/federation\/educonnect\/metadata/);
  assert.match(page.body, /https:\/\/ent\.example\.fr\/federation\/franceconnect\/retour/);
  const saved = await su.post('/console/federation/educonnect', {
    structures: s1, enabled: `${s1}:Relative`,
  });
  assert.equal(saved.statusCode, 303);
  // The form lists structures one field each; a pair outside the listed structures is ignored.
  const body = new URLSearchParams([['_csrf', su.csrf ?? ''], ['structures', s1], ['structures', s2], ['enabled', `${s1}:Relative`], ['enabled', `${s2}:Student`], ['enabled', `${s2}:Nobody`]]);
  const r = await app.inject({ method: 'POST', url: '/console/federation/educonnect', headers: { cookie: `trousseau_sid=${su.cookies.get('trousseau_sid')}`, 'content-type': 'application/x-www-form-urlencoded' }, payload: body.toString() });
  assert.equal(r.statusCode, 303);
  const rows = await ctx.database.pool.query('SELECT structure_id, profile FROM federation_enabled WHERE provider_id = $1 ORDER BY profile', ['educonnect']);
  assert.deepEqual(rows.rows, [{ structure_id: s1, profile: 'Relative' }, { structure_id: s2, profile: 'Student' }]);
  assert.match((await su.get('/console/federation?ok=educonnect')).body, /Activation de EduConnect enregistrée/);
  const local = await signedInClient(app, ctx.database.pool, localAdmin);
  assert.equal((await local.get('/console/federation')).statusCode, 403);
  assert.equal((await local.post('/console/federation/educonnect', { structures: s1 })).statusCode, 403);
  assert.equal((await ctx.database.pool.query('SELECT count(*)::int AS n FROM federation_enabled')).rows[0].n, 2);
});

test('a linked account is "signs in with <provider>" for the distribution rules: no code, no sheet', async () => {
  const pool = ctx.database.pool;
  const parent = await insertUser(pool, { firstName: 'Sophie', lastName: 'LEFEVRE', profile: 'Relative', structureIds: [s1] });
  const kept = async () => (await pool.query(`SELECT ${externalOnlyAbsentSql('u')} AS kept, ${externalProviderSql('u')} AS provider FROM users u WHERE u.id = $1`, [parent])).rows[0];
  assert.deepEqual(await kept(), { kept: true, provider: null });
  await pool.query("INSERT INTO federation_links (provider_id, subject, user_id, provider_name) VALUES ('educonnect', 'ec-1', $1, 'EduConnect')", [parent]);
  assert.deepEqual(await kept(), { kept: false, provider: 'EduConnect' });
});
