// Account flows through HTTP on a real database: activation, rate limits, forgotten password, renewal, Mon compte.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import type { FastifyInstance } from 'fastify';
import { formatCode } from '../src/accounts/codes.js';
import { AccountStateError, generateRenewalCode, regenerateActivationCode } from '../src/accounts/renewal.js';
import { makeContext } from '../src/context.js';
import { openDatabase, type Database } from '../src/db/index.js';
import { buildServer } from '../src/web/server.js';
import { testContext } from './helpers/db.js';
import { Client, createInactiveUser, createUser } from './helpers/web.js';
import { forgotView } from '../src/web/account/views.js';

// Small limits so the test trips them quickly (read when the server is built).
process.env.TROUSSEAU_RATE_LOGIN_MAX = '4';
process.env.TROUSSEAU_RATE_IP_MAX = '6';
process.env.TROUSSEAU_RATE_WINDOW_SEC = '900';

let ctx: Awaited<ReturnType<typeof testContext>>;
let app: FastifyInstance;
let app2: FastifyInstance; // a second instance with its own pool: limits must be shared through Postgres
let db2: Database;
const PASSWORD = 'une phrase assez longue';
const GENERIC = 'Identifiant ou code d’activation incorrect ou expiré.';

before(async () => {
  ctx = await testContext();
  app = await buildServer(ctx);
  db2 = openDatabase((ctx.database as Database & { url: string }).url, 3);
  app2 = await buildServer(makeContext(ctx.config, db2));
});

after(async () => {
  await app.close();
  await app2.close();
  await db2.close();
  await ctx.close();
});

const user = async (login: string) => (await ctx.database.pool.query('SELECT * FROM users WHERE login = $1', [login])).rows[0];
/** Lower case with dashes in odd places, as typed by hand. */
const sloppy = (code: string) => `${code.slice(0, 3).toLowerCase()}-${code.slice(3, 7).toLowerCase()} ${code.slice(7)}`;

test('activation end to end: QR prefill, generic error, lenient code, field errors, success and session', async () => {
  const pool = ctx.database.pool;
  const { id, code } = await createInactiveUser(pool, ctx.secrets, { login: 'lea.petit', firstName: 'Léa', lastName: 'Petit', profile: 'Personnel' }); // an adult: 12 characters (pupils: 8, accounts-policy.test.ts)
  const c = new Client(app, '198.51.100.1');

  const qr = await c.get(`/activation?login=lea.petit&code=${code.toLowerCase()}`);
  assert.equal(qr.statusCode, 200);
  assert.match(qr.body, /name="login" type="text" value="lea.petit"/);
  assert.ok(qr.body.includes(`value="${formatCode(code)}"`), 'code prefilled in its printed form');

  const wrongCode = (code[0] === 'A' ? 'B' : 'A') + code.slice(1);
  const wrong = await c.post('/activation', { step: 'code', login: 'lea.petit', code: wrongCode });
  assert.equal(wrong.statusCode, 401);
  assert.ok(wrong.body.includes(GENERIC));
  assert.match(wrong.body, /value="lea.petit"/, 'the login is kept');
  const unknown = await c.post('/activation', { step: 'code', login: 'personne.inconnue', code });
  assert.equal(unknown.statusCode, 401);
  assert.ok(unknown.body.includes(GENERIC), 'an unknown login gets the same answer');

  const step2 = await c.post('/activation', { step: 'code', login: ' Lea.Petit', code: sloppy(code) });
  assert.equal(step2.statusCode, 200);
  assert.match(step2.body, /Étape 2 sur 2/);
  assert.match(step2.body, /name="terms" type="checkbox"/);
  assert.match(step2.body, /href="\/conditions\?login=lea.petit&amp;code=[^"]+" target="_blank"/);
  assert.match(step2.body, /s’ouvre dans un nouvel onglet/);

  const base = { step: 'password', login: 'lea.petit', code: sloppy(code), email: 'Lea.Parent@Example.fr', phone: '+33 6 12 34 56 78', terms: 'on' };
  const mismatch = await c.post('/activation', { ...base, password: PASSWORD, confirm: `${PASSWORD}!` });
  assert.equal(mismatch.statusCode, 422);
  assert.match(mismatch.body, /id="f-confirm-error">Les deux mots de passe ne sont pas identiques/);
  assert.match(mismatch.body, /value="Lea.Parent@Example.fr"/, 'entered values are kept');
  assert.match(mismatch.body, /name="terms" type="checkbox" value="on" checked/);
  // Issue #13: valid input is kept. A password that passed its checks is given back (on a no-store page);
  // a confirmation that does not match it is not.
  assert.equal(mismatch.headers['cache-control'], 'no-store');
  assert.match(mismatch.body, new RegExp(`id="f-password" name="password" type="password" value="${PASSWORD}"`));
  assert.doesNotMatch(mismatch.body, new RegExp(`${PASSWORD}!`), 'the mismatched confirmation is not echoed');

  const short = await c.post('/activation', { ...base, password: 'court', confirm: 'court' });
  assert.equal(short.statusCode, 422);
  assert.match(short.body, /id="f-password-error">Le mot de passe doit contenir au moins 12 caractères/);
  // Every error in one answer (issue #13): too short, mismatch, e-mail and terms together; the e-mail is kept.
  const all = await c.post('/activation', { ...base, password: 'court', confirm: 'autre', email: 'pas-une-adresse', terms: '' });
  assert.equal(all.statusCode, 422);
  for (const id of ['f-password-error', 'f-confirm-error', 'f-email-error', 'f-terms-error']) assert.match(all.body, new RegExp(`id="${id}"`), id);
  assert.match(all.body, /id="f-confirm-error">Les deux mots de passe ne sont pas identiques/);
  assert.match(all.body, /value="pas-une-adresse"/);
  assert.doesNotMatch(all.body, /value="court"|value="autre"/, 'an invalid password is not given back');
  const empty = await c.post('/activation', { step: 'code', login: '', code: '' });
  assert.equal(empty.statusCode, 422);
  assert.match(empty.body, /Saisissez votre identifiant/);
  assert.match(empty.body, /Saisissez le code d’activation/);
  assert.doesNotMatch(empty.body, /incorrect ou expiré/, 'an empty form is not called a wrong code');
  const withLogin = await c.post('/activation', { ...base, password: 'xxlea.petit2024', confirm: 'xxlea.petit2024' });
  assert.match(withLogin.body, /ne doit pas contenir votre identifiant/);
  const badFields = await c.post('/activation', { ...base, email: 'pas-une-adresse', phone: '12', terms: '', password: PASSWORD, confirm: PASSWORD });
  assert.equal(badFields.statusCode, 422);
  assert.match(badFields.body, /id="f-email-error">Cette adresse électronique n’est pas valide/);
  assert.match(badFields.body, /id="f-phone-error">Ce numéro de téléphone n’est pas valide/);
  assert.match(badFields.body, /id="f-terms-error">Vous devez accepter les conditions/);
  assert.equal((await user('lea.petit')).activated_at, null, 'nothing changed so far');

  const done = await c.post('/activation', { ...base, password: PASSWORD, confirm: PASSWORD });
  assert.equal(done.statusCode, 303);
  assert.equal(done.headers.location, '/mon-compte?ok=activated');
  const u = await user('lea.petit');
  assert.match(u.password_hash, /^\$argon2id\$/);
  assert.ok(u.activated_at instanceof Date && u.terms_accepted_at instanceof Date);
  assert.equal(u.email, 'lea.parent@example.fr');
  assert.equal(u.phone, '06 12 34 56 78');
  assert.deepEqual([u.activation_code_enc, u.activation_code_mac, u.activation_code_expires_at], [null, null, null]);
  const audit = await pool.query(`SELECT actor_id FROM audit WHERE action = 'account.activate' AND details->>'userId' = $1`, [id]);
  assert.equal(audit.rowCount, 1);

  const home = await c.get('/mon-compte?ok=activated');
  assert.equal(home.statusCode, 200);
  assert.match(home.body, /Votre compte est activé/);
  assert.match(home.body, /lea.parent@example.fr/);
  assert.match(home.body, /Personnel/);
  assert.doesNotMatch(home.body, /data-next/, 'staff: no other place to go');

  // Used once: the same code is now refused, and the password works for signing in.
  const again = await new Client(app, '198.51.100.2').post('/activation', { step: 'code', login: 'lea.petit', code }, { csrf: false });
  assert.equal(again.statusCode, 403, 'CSRF applies to the anonymous activation form');
  const reuse = new Client(app, '198.51.100.2');
  await reuse.get('/activation');
  // The code it was activated with, typed again: « Compte déjà activé », the sign-in form (as its QR link says).
  const reused = await reuse.post('/activation', { step: 'code', login: 'lea.petit', code });
  assert.equal(reused.statusCode, 303);
  assert.equal(reused.headers.location, '/connexion?deja=1&login=lea.petit');
  assert.equal((await new Client(app, '198.51.100.2').signIn('lea.petit', PASSWORD)).statusCode, 303);
});

test('expired code: same generic error', async () => {
  const { id, code } = await createInactiveUser(ctx.database.pool, ctx.secrets, { login: 'tom.expire' });
  await ctx.database.pool.query(`UPDATE users SET activation_code_expires_at = now() - interval '1 minute' WHERE id = $1`, [id]);
  const c = new Client(app, '198.51.100.3');
  await c.get('/activation');
  const r = await c.post('/activation', { step: 'code', login: 'tom.expire', code });
  assert.equal(r.statusCode, 401);
  assert.ok(r.body.includes(GENERIC));
});

test('two concurrent activations with one code: exactly one wins', async () => {
  const { code } = await createInactiveUser(ctx.database.pool, ctx.secrets, { login: 'duo.course' });
  const a = new Client(app, '198.51.100.4');
  const b = new Client(app2, '198.51.100.5');
  await a.get('/activation');
  await b.get('/activation');
  const form = (pw: string) => ({ step: 'password', login: 'duo.course', code, email: 'duo@example.fr', phone: '', terms: 'on', password: pw, confirm: pw });
  const [ra, rb] = await Promise.all([a.post('/activation', form('premier mot de passe')), b.post('/activation', form('second mot de passe'))]);
  // The loser is refused (401), or told the account is now activated when its code was checked after the winner's.
  const answers = [ra, rb].map((r) => (r.statusCode === 303 ? String(r.headers.location) : String(r.statusCode)));
  assert.equal(answers.filter((x) => x === '/mon-compte?ok=activated').length, 1, answers.join(' '));
  assert.ok(answers.some((x) => x === '401' || x === '/connexion?deja=1&login=duo.course'), answers.join(' '));
});

test('rate limits per login and per IP, shared by two instances, answered with 429', async () => {
  const pool = ctx.database.pool;
  await createUser(pool, { login: 'cible.login', password: PASSWORD });
  // Per login (max 4, then a growing delay): attempts from different IPs, alternately on both instances.
  for (let i = 0; i < 5; i++) {
    const c = new Client(i % 2 ? app2 : app, `192.0.2.${10 + i}`);
    assert.equal((await c.signIn('cible.login', 'mauvais mot de passe')).statusCode, 401, `attempt ${i + 1}`);
  }
  // As if the fifth attempt had just been made: its delay is 1 s, which a loaded machine may spend between two requests.
  const justNow = () => pool.query('UPDATE rate_limits SET last_hit_at = now() WHERE last_hit_at IS NOT NULL');
  await justNow();
  const blocked = new Client(app, '192.0.2.50');
  const r = await blocked.signIn('cible.login', PASSWORD);
  assert.equal(r.statusCode, 429, 'even the right password waits');
  assert.match(r.body, /Trop de tentatives, réessayez dans 1 seconde\./);
  assert.equal(r.headers['retry-after'], '1');
  // Activation attempts for that login count in the same window.
  const act = new Client(app2, '192.0.2.51');
  await act.get('/activation');
  await justNow();
  assert.equal((await act.post('/activation', { step: 'code', login: 'cible.login', code: 'AAAAAAAAAA' })).statusCode, 429);

  // Per IP (max 6): different logins from one address, across both instances.
  const ip = '192.0.2.99';
  for (let i = 0; i < 6; i++) {
    const c = new Client(i % 2 ? app2 : app, ip);
    await c.get('/activation');
    assert.equal((await c.post('/activation', { step: 'code', login: `inconnu${i}`, code: 'AAAAAAAAAA' })).statusCode, 401);
  }
  const seventh = await new Client(app2, ip).signIn('autre.login', 'peu importe');
  assert.equal(seventh.statusCode, 429);

  // A new window starts afresh.
  await pool.query(`UPDATE rate_limits SET window_start = now() - interval '1 hour'`);
  assert.equal((await new Client(app, ip).signIn('cible.login', PASSWORD)).statusCode, 303);
});

test('successful sign-ins do not use up a shared school IP', async () => {
  await createUser(ctx.database.pool, { login: 'classe.entiere', password: PASSWORD });
  for (let i = 0; i < 8; i++) assert.equal((await new Client(app, '192.0.2.200').signIn('classe.entiere', PASSWORD)).statusCode, 303);
});

test('forgotten password: same answer always, a sealed mail for a known account, single-use link that expires', async () => {
  const pool = ctx.database.pool;
  const id = await createUser(pool, { login: 'marc.oubli', firstName: 'Marc', password: PASSWORD, email: 'marc@example.fr' });
  await createUser(pool, { login: 'sans.adresse', password: PASSWORD });
  const live = new Client(app, '192.0.2.120');
  await live.signIn('marc.oubli', PASSWORD);

  const ask = async (identifier: string) => {
    const c = new Client(app, '192.0.2.121');
    await c.get('/mot-de-passe-oublie');
    return c.post('/mot-de-passe-oublie', { identifier });
  };
  const answers = [await ask('personne.inconnue'), await ask('sans.adresse'), await ask('marc.oubli')];
  for (const a of answers) {
    assert.equal(a.statusCode, 200);
    // No SMTP_URL here: the answer does not claim a mail left, and sends the family to a renewal code.
    assert.match(a.body, /Demande enregistrée, mais l’envoi de courriels n’est pas encore configuré sur cet ENT/);
    assert.doesNotMatch(a.body, /courriel vient d’être envoyé/);
  }
  const before = await new Client(app, '192.0.2.122').get('/mot-de-passe-oublie');
  assert.match(before.body, /data-mail-off>L’envoi de courriels n’est pas encore configuré[^<]*<a href="\/renouvellement">/);
  // With a mail server, the usual answer and no warning.
  const withMail = forgotView({ lang: 'fr', csrfToken: 't' }, { sent: true, mailOff: false });
  assert.match(String(withMail.notice?.text), /Si un compte correspond, un courriel vient d’être envoyé/);
  assert.doesNotMatch(String(withMail.body), /data-mail-off/);
  // Nothing typed: said so, not "a mail has just been sent" (issue #13).
  const blank = await ask('  ');
  assert.equal(blank.statusCode, 422);
  assert.match(blank.body, /Saisissez votre identifiant ou votre adresse électronique/);
  assert.doesNotMatch(blank.body, /courriel vient d’être envoyé/);
  const jobs = await pool.query(`SELECT * FROM mail_jobs WHERE kind = 'password_reset'`);
  assert.equal(jobs.rowCount, 1);
  const job = jobs.rows[0];
  assert.equal(job.user_id, id);
  assert.equal(job.recipient, 'marc@example.fr');
  assert.equal(job.status, 'pending');
  assert.ok(job.sealed, 'the link is not stored in clear');
  const text = ctx.secrets.decrypt(job.body_text);
  const token = /https:\/\/ent\.example\.fr\/reinitialisation\?token=([A-Za-z0-9_-]{43})/.exec(text)![1];
  assert.match(text, /Bonjour Marc/);
  const stored = await pool.query('SELECT token_hash, expires_at - now() AS ttl FROM password_resets WHERE user_id = $1', [id]);
  assert.notEqual(stored.rows[0].token_hash, token);
  assert.ok(stored.rows[0].ttl.minutes >= 59 || stored.rows[0].ttl.hours === 1);

  assert.equal((await user('marc.oubli')).email_verified_at, null, 'no address verified before the link is followed');
  const c = new Client(app, '192.0.2.122');
  const form = await c.get(`/reinitialisation?token=${token}`);
  assert.equal(form.statusCode, 200);
  assert.match(form.body, /Compte marc.oubli/);
  assert.equal(form.headers['referrer-policy'], 'no-referrer');
  const short = await c.post('/reinitialisation', { token, password: 'court', confirm: 'court' });
  assert.equal(short.statusCode, 422);
  const ok = await c.post('/reinitialisation', { token, password: 'nouvelle phrase secrète', confirm: 'nouvelle phrase secrète' });
  assert.equal(ok.statusCode, 303);
  assert.equal(ok.headers.location, '/mon-compte?ok=password');
  assert.equal((await live.get('/mon-compte')).statusCode, 303, 'the other session ended');
  assert.equal((await c.get('/mon-compte')).statusCode, 200, 'signed in with the new password');
  assert.equal((await new Client(app, '192.0.2.123').signIn('marc.oubli', 'nouvelle phrase secrète')).statusCode, 303);
  // Following the link proved the mailbox: the address is verified (released by the OpenID provider), until it changes.
  assert.ok((await user('marc.oubli')).email_verified_at instanceof Date);
  await pool.query(`UPDATE users SET email = 'marc.autre@example.fr' WHERE id = $1`, [id]);
  assert.equal((await user('marc.oubli')).email_verified_at, null, 'a new address is not verified');
  await pool.query(`UPDATE users SET email = 'marc@example.fr' WHERE id = $1`, [id]);

  const reuse = new Client(app, '192.0.2.124');
  const used = await reuse.get(`/reinitialisation?token=${token}`);
  assert.equal(used.statusCode, 400);
  assert.match(used.body, /invalide, a déjà servi ou a expiré/);
  await reuse.get('/mot-de-passe-oublie');
  assert.equal((await reuse.post('/reinitialisation', { token, password: 'encore une phrase', confirm: 'encore une phrase' })).statusCode, 400);

  // By email address too; an expired link is refused.
  await ask('MARC@example.fr');
  const second = await pool.query(`SELECT body_text FROM mail_jobs WHERE kind = 'password_reset' ORDER BY created_at DESC LIMIT 1`);
  const token2 = /token=([A-Za-z0-9_-]{43})/.exec(ctx.secrets.decrypt(second.rows[0].body_text))![1];
  assert.notEqual(token2, token);
  await pool.query(`UPDATE password_resets SET expires_at = now() - interval '1 second' WHERE used_at IS NULL`);
  assert.equal((await new Client(app, '192.0.2.125').get(`/reinitialisation?token=${token2}`)).statusCode, 400);
});

test('renewal code: generated by an admin (HMAC only), used once at /renouvellement', async () => {
  const pool = ctx.database.pool;
  const admin = await createUser(pool, { login: 'admin.renouv', superAdmin: true });
  const id = await createUser(pool, { login: 'nina.renouv', password: PASSWORD });
  const live = new Client(app, '192.0.2.130');
  await live.signIn('nina.renouv', PASSWORD);

  const code = await generateRenewalCode(ctx, { kind: 'all' }, id, admin);
  assert.match(code, /^[0-9A-HJKMNP-TV-Z]{10}$/);
  const u = await user('nina.renouv');
  assert.equal(u.renewal_code_mac, ctx.secrets.mac('renewal', code));
  const hours = (u.renewal_code_expires_at.getTime() - Date.now()) / 3_600_000;
  assert.ok(hours > 71.9 && hours <= 72);
  assert.equal((await pool.query(`SELECT 1 FROM audit WHERE action = 'account.renewal_code' AND actor_id = $1`, [admin])).rowCount, 1);

  const inactive = await createInactiveUser(pool, ctx.secrets, { login: 'pas.active' });
  await assert.rejects(generateRenewalCode(ctx, { kind: 'all' }, inactive.id, admin), AccountStateError);

  const c = new Client(app, '192.0.2.131');
  assert.match((await c.get('/renouvellement')).body, /Code de renouvellement/);
  const wrong = await c.post('/renouvellement', { step: 'code', login: 'nina.renouv', code: 'AAAAAAAAAA' });
  assert.equal(wrong.statusCode, 401);
  assert.match(wrong.body, /Identifiant ou code de renouvellement incorrect ou expiré/);
  // An activation code is not a renewal code: typed here, it goes on to the activation, not to a renewal.
  const act = new Client(app, '192.0.2.131');
  await act.get('/renouvellement');
  const viaActivation = await act.post('/renouvellement', { step: 'code', login: 'pas.active', code: inactive.code });
  assert.equal(viaActivation.statusCode, 200);
  assert.match(viaActivation.body, /<title>Activation du compte — étape 2 sur 2/);

  const step2 = await c.post('/renouvellement', { step: 'code', login: 'nina.renouv', code: sloppy(code) });
  assert.equal(step2.statusCode, 200);
  assert.match(step2.body, /Étape 2 sur 2/);
  assert.doesNotMatch(step2.body, /name="email"/, 'renewal asks only for the password');
  const done = await c.post('/renouvellement', { step: 'password', login: 'nina.renouv', code: sloppy(code), password: 'tout nouveau secret', confirm: 'tout nouveau secret' });
  assert.equal(done.statusCode, 303);
  const after = await user('nina.renouv');
  assert.equal(after.renewal_code_mac, null);
  assert.equal((await live.get('/mon-compte')).statusCode, 303, 'older sessions ended');
  assert.equal((await c.get('/mon-compte')).statusCode, 200);
  const reuse = new Client(app, '192.0.2.132');
  await reuse.get('/renouvellement');
  assert.equal((await reuse.post('/renouvellement', { step: 'code', login: 'nina.renouv', code })).statusCode, 401);

  // A new activation code replaces the old one of an inactive account; refused for an active one.
  const fresh = await regenerateActivationCode(ctx, { kind: 'all' }, inactive.id, admin);
  assert.notEqual(fresh, inactive.code);
  const a2 = new Client(app, '192.0.2.133');
  await a2.get('/activation');
  assert.equal((await a2.post('/activation', { step: 'code', login: 'pas.active', code: inactive.code })).statusCode, 401);
  assert.equal((await a2.post('/activation', { step: 'code', login: 'pas.active', code: fresh })).statusCode, 200);
  await assert.rejects(regenerateActivationCode(ctx, { kind: 'all' }, id, admin), AccountStateError);
});

test('Mon compte: details with structures, classes and children; contact and password changes', async () => {
  const pool = ctx.database.pool;
  const [s] = (await pool.query(`INSERT INTO structures (name) VALUES ('École Jules Ferry') RETURNING id`)).rows;
  const [cl] = (await pool.query(`INSERT INTO classes (structure_id, name) VALUES ($1, 'CE1') RETURNING id`, [s.id])).rows;
  const parent = await createUser(pool, { login: 'paul.parent', firstName: 'Paul', lastName: 'Parent', profile: 'Relative', password: PASSWORD, email: 'paul@example.fr' });
  const child = await createUser(pool, { login: 'zoe.parent', firstName: 'Zoé', lastName: 'Parent', profile: 'Student' });
  await pool.query('INSERT INTO user_structures VALUES ($1, $3), ($2, $3)', [parent, child, s.id]);
  await pool.query('INSERT INTO user_classes VALUES ($1, $2)', [child, cl.id]);
  await pool.query('INSERT INTO relations VALUES ($1, $2)', [parent, child]);

  const c = new Client(app, '192.0.2.140');
  const other = new Client(app, '192.0.2.141');
  await c.signIn('paul.parent', PASSWORD);
  await other.signIn('paul.parent', PASSWORD);
  const page = await c.get('/mon-compte');
  assert.match(page.body, /École Jules Ferry/);
  assert.match(page.body, /Zoé Parent \(CE1\)/);
  assert.match(page.body, /<dd>Parent<\/dd>/);

  const bad = await c.post('/mon-compte/coordonnees', { email: 'paul@', phone: '06 12' });
  assert.equal(bad.statusCode, 422);
  assert.match(bad.body, /value="paul@"/);
  assert.match(bad.body, /Ce numéro de téléphone n’est pas valide/);
  await c.get('/mon-compte');
  const saved = await c.post('/mon-compte/coordonnees', { email: 'paul.nouveau@example.fr', phone: '01.23.45.67.89', contactCurrent: PASSWORD });
  assert.equal(saved.statusCode, 303);
  assert.equal((await user('paul.parent')).phone, '01 23 45 67 89');

  await c.get('/mon-compte');
  const wrong = await c.post('/mon-compte/mot-de-passe', { current: 'pas le bon', password: 'mon nouveau secret', confirm: 'mon nouveau secret' });
  assert.equal(wrong.statusCode, 422);
  assert.match(wrong.body, /Le mot de passe actuel est incorrect/);
  await c.get('/mon-compte');
  const ok = await c.post('/mon-compte/mot-de-passe', { current: PASSWORD, password: 'mon nouveau secret', confirm: 'mon nouveau secret' });
  assert.equal(ok.statusCode, 303);
  assert.equal((await c.get('/mon-compte')).statusCode, 200, 'this session is kept');
  assert.equal((await other.get('/mon-compte')).statusCode, 303, 'other sessions ended');
});

test('a teacher just activated is one link away from her classes, an administrator from the console', async () => {
  const pool = ctx.database.pool;
  const [{ id: school }] = (await pool.query(`INSERT INTO structures (name, uai) VALUES ('École des Liens', '0450002C') RETURNING id`)).rows;
  const cases = [
    { login: 'ines.maitre', profile: 'Teacher' as const, admin: false, href: '/classe', label: 'Accéder à mes classes' },
    { login: 'omar.directeur', profile: 'Teacher' as const, admin: true, href: '/console', label: 'Accéder à la console d’administration' },
  ];
  for (const x of cases) {
    const { id, code } = await createInactiveUser(pool, ctx.secrets, { login: x.login, profile: x.profile });
    await pool.query('INSERT INTO user_structures (user_id, structure_id) VALUES ($1, $2)', [id, school]);
    if (x.admin) await pool.query('INSERT INTO local_admins (user_id, structure_id) VALUES ($1, $2)', [id, school]);
    const c = new Client(app, `198.51.100.${x.admin ? 31 : 30}`);
    await c.get('/activation');
    const done = await c.post('/activation', { step: 'password', login: x.login, code, email: '', phone: '', terms: 'on', password: PASSWORD, confirm: PASSWORD });
    assert.equal(done.headers.location, '/mon-compte?ok=activated', `${x.login}: activated (${done.statusCode})`);
    const home = await c.get(done.headers.location as string);
    assert.match(home.body, new RegExp(`Votre compte est activé\\. Bienvenue ! <a href="${x.href}" data-next>${x.label}</a>`), `${x.login}: the link in the notice`);
    // The console of one school goes straight to it.
    const opened = await c.get(x.href);
    assert.ok(opened.statusCode === 200 || (opened.statusCode === 303 && String(opened.headers.location).startsWith(`${x.href}/`)), `${x.login}: the page it leads to opens (${opened.statusCode} ${opened.headers.location ?? ''})`);
  }
});
