// The "Low" findings, each through HTTP on real PostgreSQL: HSTS over https; a session cookie that ends with the
// browser unless "rester connecté" is ticked; one argon2 parameter set (old hashes redone at sign-in, demo
// accounts hashed like everyone's); trivial passwords refused by a strength estimator, in French and English;
// reset mails capped per account per hour; names in mails never turned into links; HOST on loopback by default.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import argon2 from 'argon2';
import type { FastifyInstance } from 'fastify';
import { hashPassword } from '../../src/accounts/passwords.js';
import { RESET_MAILS_PER_HOUR } from '../../src/accounts/reset.js';
import { loadConfig } from '../../src/config.js';
import { createDemoSchool } from '../../src/demo/seed.js';
import { startMailMerge } from '../../src/mail/merge.js';
import { startMailWorker, type MailWorker } from '../../src/mail/worker.js';
import { SelectionSchema } from '../../src/publipostage/selection.js';
import { buildServer } from '../../src/web/server.js';
import { testContext } from '../helpers/db.js';
import { startTestSmtp, waitFor, type TestSmtp } from '../helpers/smtp.js';
import { Client, createInactiveUser, createUser } from '../helpers/web.js';

const PASSWORD = 'Girouette-Lavande-Port-19';
/** The argon2 parameters of a PHC string, in a stable order ('m=19456,p=1,t=2'). */
const params = (hash: string) => hash.split('$')[3].split(',').sort().join(',');
const PARAMS = 'm=19456,p=1,t=2';
let smtp: TestSmtp;
let ctx: Awaited<ReturnType<typeof testContext>>;
let app: FastifyInstance;
let httpApp: FastifyInstance;
let worker: MailWorker;

const q = async (sql: string, params: unknown[] = []) => (await ctx.database.pool.query(sql, params)).rows;

before(async () => {
  smtp = await startTestSmtp();
  ctx = await testContext({ SMTP_URL: smtp.url }); // public URL https://ent.example.fr
  app = await buildServer(ctx);
  const plain = { ...ctx, config: { ...ctx.config, publicUrl: 'http://localhost:3000' } };
  httpApp = await buildServer(plain);
  worker = startMailWorker(ctx, { pollMs: 50, log: () => {} });
});

after(async () => {
  await worker?.stop();
  await app?.close();
  await httpApp?.close();
  await ctx?.close();
  await smtp?.close();
});

test('HSTS when the public URL is https, not over plain http', async () => {
  const secure = await new Client(app).get('/connexion');
  assert.equal(secure.headers['strict-transport-security'], 'max-age=31536000');
  const plain = await new Client(httpApp).get('/connexion');
  assert.equal(plain.headers['strict-transport-security'], undefined);
});

test('the session cookie ends with the browser unless "rester connecté" is ticked', async () => {
  await createUser(ctx.database.pool, { login: 'nora.session', password: PASSWORD });
  const c = new Client(app, '198.51.100.60');
  const page = await c.get('/connexion');
  assert.match(page.body, /name="remember" type="checkbox"/);
  assert.match(page.body, /Rester connecté/);
  const res = await c.post('/connexion', { login: 'nora.session', password: PASSWORD });
  assert.equal(res.statusCode, 303);
  const sid = (res.cookies as Array<{ name: string; expires?: Date; maxAge?: number }>).find((k) => k.name === 'trousseau_sid')!;
  assert.equal(sid.expires, undefined, 'no Expires: a browser-session cookie');
  assert.equal(sid.maxAge, undefined);

  const r = new Client(app, '198.51.100.61');
  await r.get('/connexion');
  const kept = await r.post('/connexion', { login: 'nora.session', password: PASSWORD, remember: 'on' });
  const sid2 = (kept.cookies as Array<{ name: string; expires?: Date }>).find((k) => k.name === 'trousseau_sid')!;
  assert.ok(sid2.expires && sid2.expires.getTime() > Date.now() + 7 * 3600_000, 'kept for the 8-hour session');
});

test('one argon2 parameter set: demo accounts hashed like everyone, older hashes redone at sign-in', async () => {
  await createDemoSchool(ctx, { seed: 3, password: PASSWORD });
  const [demo] = await q(`SELECT login, password_hash FROM users WHERE password_hash IS NOT NULL AND login <> 'nora.session' LIMIT 1`);
  assert.equal(params(demo.password_hash), PARAMS);
  assert.equal(params(await hashPassword('autre chose encore')), PARAMS);

  // A hash from the library's defaults (as earlier demo seeds and versions made them).
  const old = await argon2.hash(PASSWORD, { type: argon2.argon2id });
  assert.notEqual(params(old), PARAMS);
  await createUser(ctx.database.pool, { login: 'ancien.hash' });
  await q(`UPDATE users SET password_hash = $1, activated_at = now() WHERE login = 'ancien.hash'`, [old]);
  assert.equal((await new Client(app, '198.51.100.62').signIn('ancien.hash', PASSWORD)).statusCode, 303);
  const [after] = await q(`SELECT password_hash FROM users WHERE login = 'ancien.hash'`);
  assert.equal(params(after.password_hash), PARAMS, 'rehashed with the one parameter set');
  assert.equal((await new Client(app, '198.51.100.63').signIn('ancien.hash', PASSWORD)).statusCode, 303, 'and still signs in');
});

test('trivial passwords are refused by the strength estimator, with the message in French and in English', async () => {
  const { code } = await createInactiveUser(ctx.database.pool, ctx.secrets, { login: 'theo.faible', profile: 'Student' });
  const c = new Client(app, '198.51.100.64');
  await c.get('/activation');
  const step = { step: 'password', login: 'theo.faible', code, email: 'theo@example.fr', phone: '', terms: 'on' };
  for (const weak of ['aaaaaaaaaaaa', 'azertyuiop123', 'motdepasse2024', '123456789012']) {
    const res = await c.post('/activation', { ...step, password: weak, confirm: weak });
    assert.equal(res.statusCode, 422, weak);
    assert.match(res.body, /Ce mot de passe est trop facile à deviner/, weak);
  }
  const en = await c.post('/activation?lang=en', { ...step, password: 'aaaaaaaaaaaa', confirm: 'aaaaaaaaaaaa' });
  assert.match(en.body, /This password is too easy to guess/);
  const ok = await c.post('/activation', { ...step, password: PASSWORD, confirm: PASSWORD });
  assert.equal(ok.statusCode, 303);
  assert.equal((await q(`SELECT activated_at IS NOT NULL AS a FROM users WHERE login = 'theo.faible'`))[0].a, true);
});

test('reset mails are capped per account per hour, whatever the IPs asking', async () => {
  await createUser(ctx.database.pool, { login: 'marc.inonde', password: PASSWORD, email: 'marc.inonde@example.fr' });
  for (let i = 0; i < RESET_MAILS_PER_HOUR + 4; i++) {
    const c = new Client(app, `192.0.2.${200 + i}`);
    await c.get('/mot-de-passe-oublie');
    const res = await c.post('/mot-de-passe-oublie', { identifier: 'marc.inonde' });
    assert.equal(res.statusCode, 200, 'the same answer every time');
    assert.match(res.body, /Si un compte correspond/);
  }
  const jobs = await q(`SELECT count(*)::int AS n FROM mail_jobs WHERE kind = 'password_reset' AND recipient = 'marc.inonde@example.fr'`);
  assert.equal(jobs[0].n, RESET_MAILS_PER_HOUR);
  assert.ok(RESET_MAILS_PER_HOUR <= 5);
  // An hour later, one more may go.
  await q(`UPDATE password_resets SET created_at = created_at - interval '61 minutes'`);
  const c = new Client(app, '192.0.2.250');
  await c.get('/mot-de-passe-oublie');
  await c.post('/mot-de-passe-oublie', { identifier: 'marc.inonde' });
  assert.equal((await q(`SELECT count(*)::int AS n FROM mail_jobs WHERE kind = 'password_reset' AND recipient = 'marc.inonde@example.fr'`))[0].n, RESET_MAILS_PER_HOUR + 1);
});

test('names in mails stay plain text: `evil.com` or `http://x` never become links (text and HTML parts)', async () => {
  const pool = ctx.database.pool;
  const [{ id: school }] = await q(`INSERT INTO structures (uai, name) VALUES ('0750999X', 'evil.com') RETURNING id`);
  const a = await createInactiveUser(pool, ctx.secrets, { login: 'lien.un', firstName: 'evil.com', lastName: 'http://x', email: 'lien.un@example.fr', profile: 'Relative' });
  await q('INSERT INTO user_structures (user_id, structure_id) VALUES ($1, $2)', [a.id, school]);
  const [admin] = await q(`SELECT id FROM users WHERE login = 'nora.session'`);
  await startMailMerge(ctx, SelectionSchema.parse({ structureId: school }), { kind: 'all' }, admin.id);
  // And the reset mail of an active account with such a name.
  await createUser(pool, { login: 'lien.deux', firstName: 'https://pirate.example', password: PASSWORD, email: 'lien.deux@example.fr' });
  const c = new Client(app, '192.0.2.251');
  await c.get('/mot-de-passe-oublie');
  await c.post('/mot-de-passe-oublie', { identifier: 'lien.deux' });
  await waitFor('both mails', () => smtp.to('lien.un@example.fr').length === 1 && smtp.to('lien.deux@example.fr').length === 1);

  const URLISH = /(https?:\/\/[^\s<]+|\bevil\.com\b|\bpirate\.example\b)/g;
  const merge = smtp.to('lien.un@example.fr')[0];
  const text = merge.text ?? '';
  const html = String(merge.html);
  assert.ok(text.replace(/\u200b/g, '').includes('evil.com http://x'), 'the name reads as written');
  const textUrls = text.match(URLISH) ?? [];
  assert.ok(textUrls.length > 0 && textUrls.every((u) => u.startsWith('https://ent.example.fr')), `links in the text part: ${textUrls.join(' ')}`);
  const hrefs = [...html.matchAll(/<a href="([^"]*)">([^<]*)<\/a>/g)];
  assert.ok(hrefs.length > 0);
  for (const [, href, label] of hrefs) {
    assert.ok(href.startsWith('https://ent.example.fr'), `link to ${href}`);
    assert.ok(!/evil|http:\/\/x/.test(label), `link text ${label}`);
  }
  assert.ok(!/>[^<]*\bevil\.com\b/.test(html), 'the school name is not a bare domain in the HTML part');

  const reset = smtp.to('lien.deux@example.fr')[0].text ?? '';
  assert.ok(reset.replace(/\u200b/g, '').includes('https://pirate.example'));
  const resetUrls = reset.match(URLISH) ?? [];
  assert.ok(resetUrls.every((u) => u.startsWith('https://ent.example.fr')), `links in the reset mail: ${resetUrls.join(' ')}`);
});

test('HOST defaults to 127.0.0.1 (the demo is not exposed to the network unless asked)', () => {
  assert.equal(loadConfig({ TROUSSEAU_SECRET: '11'.repeat(32) }).host, '127.0.0.1');
  assert.equal(loadConfig({ TROUSSEAU_SECRET: '11'.repeat(32), HOST: '0.0.0.0' }).host, '0.0.0.0');
});

test('a refused form\'s « Rouvrir le formulaire » link stays on the site, whatever path a same-host Referer carries', async () => {
  const refused = (referer: string) =>
    app.inject({ method: 'POST', url: '/activation', headers: { host: 'ent.example.fr', referer, 'content-type': 'application/x-www-form-urlencoded' }, payload: 'step=code&login=x&code=y' });
  const off = await refused('https://ent.example.fr//evil.example/phish');
  assert.equal(off.statusCode, 403);
  assert.doesNotMatch(off.body, /href="\/\/evil\.example/, 'no link off the site');
  const back = await refused('https://ent.example.fr/activation?login=lea.dupont');
  assert.equal(back.statusCode, 403);
  assert.match(back.body, /href="\/activation\?login=lea\.dupont"/, 'the form\'s own page');
});
