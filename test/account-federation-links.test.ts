// « Mon compte » lists the account's links to identity providers and lets its holder undo one: the current password
// asked as an address change asks it (none for an account without a password), the other sessions ended, audited as
// the console's unlinking; the last way in of an account without a password is kept.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, test } from 'node:test';
import type { FastifyInstance } from 'fastify';
import { buildServer } from '../src/web/server.js';
import { testContext } from './helpers/db.js';
import { educonnectAndFranceConnect } from './helpers/federation-config.js';
import { createUser, sessionFor, signedInClient } from './helpers/web.js';

let ctx: Awaited<ReturnType<typeof testContext>>;
let app: FastifyInstance;
const PASSWORD = 'Un-Mot-De-Passe-2026';

before(async () => {
  ctx = await testContext();
  ctx.config.federation = educonnectAndFranceConnect();
  app = await buildServer(ctx);
});

after(async () => {
  await app?.close();
  await ctx?.close();
});

const q = async (sql: string, params: unknown[] = []) => (await ctx.database.pool.query(sql, params)).rows;
const links = async (userId: string) => (await q('SELECT provider_id FROM federation_links WHERE user_id = $1 ORDER BY provider_id', [userId])).map((r) => r.provider_id);

async function account(o: { password: boolean; providers: string[] }): Promise<string> {
  const pool = ctx.database.pool;
  const id = await createUser(pool, { login: `u.${randomBytes(4).toString('hex')}`, profile: 'Relative', password: o.password ? PASSWORD : undefined });
  if (!o.password) await pool.query('UPDATE users SET activated_at = now() WHERE id = $1', [id]);
  for (const p of o.providers) {
    const name = p === 'franceconnect' ? 'FranceConnect' : 'EduConnect';
    await pool.query(`INSERT INTO federation_links (provider_id, subject, user_id, provider_name, created_at) VALUES ($1, $2, $3, $4, '2026-09-14T10:00:00Z')`, [
      p, `${p}-${id}`, id, name,
    ]);
  }
  return id;
}

test('Mon compte lists the linked providers and since when; an account with none shows no such section', async () => {
  const id = await account({ password: true, providers: ['franceconnect', 'educonnect'] });
  const c = await signedInClient(app, ctx.database.pool, id);
  const page = await c.get('/mon-compte');
  assert.equal(page.statusCode, 200);
  assert.match(page.body, /<h2 id="h-links">Fournisseurs d’identité associés<\/h2>/);
  assert.match(page.body, /data-fed-link="franceconnect">FranceConnect, associé depuis le 14\/09\/2026/);
  assert.match(page.body, /data-fed-link="educonnect">EduConnect, associé depuis le 14\/09\/2026/);
  assert.match(page.body, /action="\/mon-compte\/fournisseurs"/);
  const en = await c.get('/mon-compte?lang=en');
  assert.match(en.body, /FranceConnect, linked since/);
  const none = await signedInClient(app, ctx.database.pool, await account({ password: true, providers: [] }));
  assert.doesNotMatch((await none.get('/mon-compte')).body, /data-fed-links/);
});

test('unlinking asks the current password (a wrong one is counted, links nothing), then removes the link, ends the other sessions, audited', async () => {
  const id = await account({ password: true, providers: ['franceconnect', 'educonnect'] });
  const c = await signedInClient(app, ctx.database.pool, id);
  const other = await sessionFor(ctx.database.pool, id);
  const login = (await q('SELECT login FROM users WHERE id = $1', [id]))[0].login;
  let res = await c.post('/mon-compte/fournisseurs', { providerId: 'franceconnect', unlinkCurrent: '' });
  assert.equal(res.statusCode, 422);
  assert.match(res.body, /Saisissez votre mot de passe actuel pour délier un fournisseur/);
  assert.match(res.body, /name="providerId" value="franceconnect" checked/);
  res = await c.post('/mon-compte/fournisseurs', { providerId: '', unlinkCurrent: PASSWORD });
  assert.equal(res.statusCode, 422);
  assert.match(res.body, /Choisissez le fournisseur à délier/);
  res = await c.post('/mon-compte/fournisseurs', { providerId: 'franceconnect', unlinkCurrent: 'not-the-password' });
  assert.equal(res.statusCode, 422);
  assert.match(res.body, /id="f-unlinkCurrent-error"/);
  assert.equal((await q('SELECT hits FROM rate_limits WHERE key = $1', [`auth:login:${login}`]))[0]?.hits, 1);
  assert.deepEqual(await links(id), ['educonnect', 'franceconnect']);
  // Without the form's CSRF token: refused before anything.
  res = await c.post('/mon-compte/fournisseurs', { providerId: 'franceconnect', unlinkCurrent: PASSWORD }, { csrf: false });
  assert.equal(res.statusCode, 403);
  assert.deepEqual(await links(id), ['educonnect', 'franceconnect']);
  res = await c.post('/mon-compte/fournisseurs', { providerId: 'franceconnect', unlinkCurrent: PASSWORD });
  assert.equal(res.statusCode, 303);
  assert.equal(res.headers.location, '/mon-compte?ok=unlink');
  assert.deepEqual(await links(id), ['educonnect']);
  const audit = await q("SELECT actor_id, details FROM audit WHERE action = 'federation.unlink' AND details->>'userId' = $1", [id]);
  assert.equal(audit.length, 1);
  assert.equal(audit[0].actor_id, id);
  assert.equal(audit[0].details.provider, 'franceconnect');
  assert.deepEqual(audit[0].details.subjects, [`franceconnect-${id}`]);
  // This session goes on, the account's other one is ended.
  const after = await c.get('/mon-compte?ok=unlink');
  assert.equal(after.statusCode, 200);
  assert.match(after.body, /Le fournisseur d’identité est délié de votre compte/);
  assert.doesNotMatch(after.body, /data-fed-link="franceconnect"/);
  assert.equal((await q('SELECT count(*)::int AS n FROM sessions WHERE user_id = $1', [id]))[0].n, 1);
  assert.equal((await app.inject({ url: '/mon-compte', headers: { cookie: other.cookie } })).statusCode, 303, 'the other session is ended');
  // A provider not (or no longer) linked: nothing done.
  res = await c.post('/mon-compte/fournisseurs', { providerId: 'franceconnect', unlinkCurrent: PASSWORD });
  assert.equal(res.statusCode, 409);
  assert.match(res.body, /n’est pas \(ou plus\) associé à votre compte/);
});

test('without a password: no password asked, but the last provider cannot be unlinked (it would lock the account out)', async () => {
  const id = await account({ password: false, providers: ['franceconnect', 'educonnect'] });
  const c = await signedInClient(app, ctx.database.pool, id);
  const page = await c.get('/mon-compte');
  assert.doesNotMatch(page.body, /name="unlinkCurrent"/);
  let res = await c.post('/mon-compte/fournisseurs', { providerId: 'educonnect' });
  assert.equal(res.statusCode, 303);
  assert.deepEqual(await links(id), ['franceconnect']);
  res = await c.post('/mon-compte/fournisseurs', { providerId: 'franceconnect' });
  assert.equal(res.statusCode, 409);
  assert.match(res.body, /FranceConnect ne peut pas être délié : votre compte n’a pas de mot de passe de l’ENT, et c’est votre seul moyen de vous connecter/);
  assert.deepEqual(await links(id), ['franceconnect']);
  const en = await c.post('/mon-compte/fournisseurs?lang=en', { providerId: 'franceconnect' });
  assert.match(en.body, /FranceConnect cannot be unlinked/);
  assert.equal((await q("SELECT count(*)::int AS n FROM audit WHERE action = 'federation.unlink' AND details->>'userId' = $1", [id]))[0].n, 1);
});
