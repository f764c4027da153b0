// Finding: anonymous denial of service. The 50 MB body limit applied to every route before CSRF, so four 43 MB
// urlencoded posts to /connexion froze the server. Now urlencoded and JSON bodies are capped at 1 MB and
// 2,000 fields on every route (refused with 413 before any parsing or CSRF check); only multipart upload
// routes take large bodies, with their own limits.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { createSession, SESSION_COOKIE } from '../../src/web/auth.js';
import { FORM_BODY_LIMIT } from '../../src/web/server.js';
import { fileContext } from '../helpers/db.js';
import { Client, createUser, fileServer } from '../helpers/web.js';

const ctx = await fileContext();
const app = await fileServer(ctx);

const form = (payload: string, url = '/connexion') =>
  app.inject({ method: 'POST', url, remoteAddress: '203.0.113.5', headers: { 'content-type': 'application/x-www-form-urlencoded' }, payload });

test('a large urlencoded POST to /connexion is refused with 413, before CSRF and before any work', async () => {
  const res = await form(`login=${'a'.repeat(5 * 1024 * 1024)}&password=x`);
  assert.equal(res.statusCode, 413);
  assert.ok(res.body.length < 20_000, 'a short error page');
  // Just over the limit is refused too; the limit is about 1 MB.
  assert.equal((await form(`login=${'a'.repeat(FORM_BODY_LIMIT)}`)).statusCode, 413);
  assert.ok(FORM_BODY_LIMIT <= 1024 * 1024);
  const { rows } = await ctx.database.pool.query('SELECT count(*)::int AS n FROM rate_limits');
  assert.equal(rows[0].n, 0, 'no attempt was even counted');
});

test('a urlencoded body with thousands of fields is refused with 413', async () => {
  const fields = Array.from({ length: 5000 }, (_, i) => `f${i}=1`).join('&');
  assert.ok(fields.length < FORM_BODY_LIMIT);
  assert.equal((await form(fields)).statusCode, 413);
  assert.equal((await form(fields, '/mot-de-passe-oublie')).statusCode, 413);
});

test('a large JSON body is refused with 413 on API routes', async () => {
  const res = await app.inject({
    method: 'POST', url: '/api/import', remoteAddress: '203.0.113.5',
    headers: { 'content-type': 'application/json' }, payload: JSON.stringify({ junk: 'x'.repeat(2 * 1024 * 1024) }),
  });
  assert.equal(res.statusCode, 413);
});

test('ordinary forms still work, and upload routes still take files larger than the form limit', async () => {
  await createUser(ctx.database.pool, { login: 'root.admin', password: 'Racine-Pommier-Ardoise-88', superAdmin: true });
  const c = new Client(app, '198.51.100.20');
  assert.equal((await c.signIn('root.admin', 'Racine-Pommier-Ardoise-88')).statusCode, 303);

  const { rows } = await ctx.database.pool.query(`INSERT INTO structures (uai, name) VALUES ('0123456A', 'École Jules Ferry') RETURNING id`);
  const { rows: [u] } = await ctx.database.pool.query(`SELECT id FROM users WHERE login = 'root.admin'`);
  const s = await createSession(ctx.database.pool, u.id);
  const boundary = '----trousseau-limits';
  const big = Buffer.from(`Nom;Prénom\n${'DURAND;Jeanne\n'.repeat(150_000)}`, 'utf8');
  assert.ok(big.length > 2 * FORM_BODY_LIMIT);
  const body = Buffer.concat([
    Buffer.from(`--${boundary}\r\nContent-Disposition: form-data; name="files"; filename="eleves.csv"\r\nContent-Type: text/csv\r\n\r\n`),
    big,
    Buffer.from(`\r\n--${boundary}--\r\n`),
  ]);
  const res = await app.inject({
    method: 'POST', url: `/api/import?dryRun=true&structureId=${rows[0].id}`, remoteAddress: '198.51.100.20',
    headers: { cookie: `${SESSION_COOKIE}=${s.token}`, 'x-csrf-token': s.csrf, 'content-type': `multipart/form-data; boundary=${boundary}` },
    payload: body,
  });
  assert.notEqual(res.statusCode, 413, res.body.slice(0, 300));
  assert.ok(res.statusCode < 500, res.body.slice(0, 300));
});
