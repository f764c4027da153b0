// Hostile input to the OpenID provider: a client_id holding a NUL character — in the authorization request's query,
// the token request's body, or the `aud` of an end_session id_token_hint (read unverified to find the client whose
// keys check it) — names no application. It reached PostgreSQL, whose text cannot hold a NUL, and every one of these
// requests failed with a 500 (an error logged with its stack for anyone's crafted link).
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import type { FastifyInstance } from 'fastify';
import { buildServer } from '../../src/web/server.js';
import { testContext } from '../helpers/db.js';
import { createUser, signedInClient } from '../helpers/web.js';

let ctx: Awaited<ReturnType<typeof testContext>>;
let app: FastifyInstance;

before(async () => {
  ctx = await testContext();
  app = await buildServer(ctx);
});

after(async () => {
  await app?.close();
  await ctx?.close();
});

const b64 = (o: unknown) => Buffer.from(JSON.stringify(o)).toString('base64url');

test('an end_session id_token_hint whose aud holds a NUL is refused with a 400, signed in or not', async () => {
  const user = await createUser(ctx.database.pool, { login: 'eleve.nul', password: 'x' });
  const hint = `${b64({ alg: 'RS256' })}.${b64({ aud: 'moodle\u0000', sub: user })}.c2ln`;
  for (const post of ['', `&post_logout_redirect_uri=${encodeURIComponent('https://moodle.ent.example.fr/')}`]) {
    const anon = await app.inject({ method: 'GET', url: `/oidc/session/end?id_token_hint=${hint}${post}` });
    assert.equal(anon.statusCode, 400);
    const c = await signedInClient(app, ctx.database.pool, user);
    const res = await c.get(`/oidc/session/end?id_token_hint=${hint}${post}`);
    assert.equal(res.statusCode, 400);
    assert.equal((await c.get('/mon-compte')).statusCode, 200, 'still signed in');
  }
  const arrayAud = `${b64({ alg: 'RS256' })}.${b64({ aud: ['moodle\u0000'] })}.c2ln`;
  assert.equal((await app.inject({ method: 'GET', url: `/oidc/session/end?id_token_hint=${arrayAud}` })).statusCode, 400);
});

test('an authorization or token request whose client_id holds a NUL is an OAuth error, not a 500', async () => {
  const auth = await app.inject({ method: 'GET', url: '/oidc/auth?client_id=a%00b&response_type=code&scope=openid&redirect_uri=https%3A%2F%2Fx.example' });
  assert.ok(auth.statusCode >= 400 && auth.statusCode < 500, `authorization: ${auth.statusCode}`);
  const token = await app.inject({
    method: 'POST', url: '/oidc/token', headers: { 'content-type': 'application/x-www-form-urlencoded' },
    payload: 'grant_type=authorization_code&code=x&client_id=a%00b&client_secret=y',
  });
  assert.ok(token.statusCode >= 400 && token.statusCode < 500, `token: ${token.statusCode}`);
  assert.notEqual(token.json().error, 'server_error');
});
