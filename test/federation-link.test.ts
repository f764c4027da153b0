// Linking a provider's identity that matched no account to an account the person proves theirs (login + password,
// from the « aucun compte » page): what is refused, and that nothing is linked then. The pending answer is put in
// place as the OIDC callback leaves it (a 'link' flow step bound to the browser's cookie); the whole journey against a
// real provider is in federation-browser.test.ts.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, test } from 'node:test';
import type { FastifyInstance } from 'fastify';
import { enableEverywhere } from '../src/federation/enablement.js';
import type { FederatedIdentity } from '../src/federation/matching.js';
import { hashPassword } from '../src/accounts/passwords.js';
import { sha256 } from '../src/lib/crypto.js';
import { buildServer } from '../src/web/server.js';
import { testContext } from './helpers/db.js';
import { insertStructure, insertUser, relate } from './helpers/directory-sample.js';
import { educonnectAndFranceConnect, pendingFederationAnswer } from './helpers/federation-config.js';
import { Client, createInactiveUser, createUser } from './helpers/web.js';

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
const links = async (userId: string) => q('SELECT provider_id, subject FROM federation_links WHERE user_id = $1', [userId]);
const loginOf = async (userId: string) => (await q('SELECT login FROM users WHERE id = $1', [userId]))[0].login as string;

function identity(subject: string): FederatedIdentity {
  return { subject, externalIds: [], ine: null, email: null, emailVerified: false, familyName: 'Nobody', usageName: null, givenName: 'Pat', birthDate: '1970-01-01', uais: [], profile: null };
}

/** A browser holding a pending FranceConnect answer (as the callback leaves it after « aucun compte »). */
function pending(subject: string, o: { purpose?: 'link' | 'signin'; next?: string } = {}): Promise<{ c: Client; token: string }> {
  return pendingFederationAnswer(app, ctx.database.pool, identity(subject), o);
}

/** A parent in a school where FranceConnect is enabled for parents (or not), with a password. */
async function parent(enabled = true): Promise<string> {
  const pool = ctx.database.pool;
  const s = await insertStructure(pool, `Collège ${randomBytes(3).toString('hex')}`);
  const child = await insertUser(pool, { firstName: 'Léa', lastName: 'NOM', structureIds: [s] });
  const login = `p.${randomBytes(4).toString('hex')}`;
  const id = await createUser(pool, { login, profile: 'Relative', password: PASSWORD });
  await relate(pool, id, child);
  if (enabled) await pool.query(`INSERT INTO federation_enabled (provider_id, structure_id, profile) VALUES ('franceconnect', $1, 'Relative')`, [s]);
  return id;
}

test('the « aucun compte » form links the account with its password, opens the session and goes on; the step is single use', async () => {
  const id = await parent();
  const { c, token } = await pending('fc-ok', { next: '/mon-compte' });
  const bind = c.cookies.get('trousseau_fed') as string;
  const res = await c.post('/federation/franceconnect/associer', { jeton: token, login: await loginOf(id), password: PASSWORD });
  assert.equal(res.statusCode, 303);
  assert.equal(res.headers.location, '/mon-compte');
  assert.ok(c.cookies.get('trousseau_sid'), 'signed in');
  assert.deepEqual(await links(id), [{ provider_id: 'franceconnect', subject: 'fc-ok' }]);
  assert.equal((await q("SELECT count(*)::int AS n FROM audit WHERE action = 'federation.link' AND actor_id = $1", [id]))[0].n, 1);
  assert.equal((await q('SELECT count(*)::int AS n FROM federation_sessions fs JOIN sessions s ON s.id_hash = fs.session_id_hash WHERE s.user_id = $1', [id]))[0].n, 1);
  // The same step again (replayed, the session left aside): nothing.
  c.cookies.delete('trousseau_sid');
  c.cookies.set('trousseau_fed', bind);
  const again = await c.post('/federation/franceconnect/associer', { jeton: token, login: await loginOf(id), password: PASSWORD });
  assert.equal(again.statusCode, 400);
});

test('a wrong password links nothing, is counted by the rate limits, and says what an unknown login says', async () => {
  const id = await parent();
  const login = await loginOf(id);
  const { c, token } = await pending('fc-wrong');
  const wrong = await c.post('/federation/franceconnect/associer', { jeton: token, login, password: 'not-the-password' });
  assert.equal(wrong.statusCode, 401);
  assert.match(wrong.body, /Identifiant ou mot de passe incorrect\. Aucun compte n’a été associé\./);
  assert.deepEqual(await links(id), []);
  assert.equal((await q('SELECT hits FROM rate_limits WHERE key = $1', [`auth:login:${login}`]))[0]?.hits, 1);
  assert.equal((await q("SELECT count(*)::int AS n FROM audit WHERE action = 'auth.login_failed' AND details->>'login' = $1", [login]))[0].n, 1);
  assert.ok(!c.cookies.get('trousseau_sid'));
  const unknown = await c.post('/federation/franceconnect/associer', { jeton: token, login: 'personne.inconnue', password: 'not-the-password' });
  assert.equal(unknown.statusCode, 401);
  const message = (body: string) => /role="alert"[^>]*>([^<]*)</.exec(body)?.[1];
  assert.equal(message(unknown.body), message(wrong.body));
  // The pending answer is still there: the right password now links.
  const ok = await c.post('/federation/franceconnect/associer', { jeton: token, login, password: PASSWORD });
  assert.equal(ok.statusCode, 303);
  assert.deepEqual(await links(id), [{ provider_id: 'franceconnect', subject: 'fc-wrong' }]);
});

test('over the per-login limit, even the right password is refused (429) and nothing is linked', async () => {
  const id = await parent();
  const login = await loginOf(id);
  const { c, token } = await pending('fc-limited');
  for (let i = 0; i < 10; i++) await c.post('/federation/franceconnect/associer', { jeton: token, login, password: `wrong-${i}` });
  const res = await c.post('/federation/franceconnect/associer', { jeton: token, login, password: PASSWORD });
  assert.equal(res.statusCode, 429);
  assert.deepEqual(await links(id), []);
});

test('refused with the password right: a super admin, a provider not enabled for the account, an account linked to another subject there', async () => {
  const su = await createUser(ctx.database.pool, { login: `su.${randomBytes(3).toString('hex')}`, superAdmin: true, password: PASSWORD });
  let { c, token } = await pending('fc-su');
  let res = await c.post('/federation/franceconnect/associer', { jeton: token, login: await loginOf(su), password: PASSWORD });
  assert.equal(res.statusCode, 403);
  assert.match(res.body, /super-administrateur ne peut pas être associé/);
  assert.deepEqual(await links(su), []);
  assert.ok(!c.cookies.get('trousseau_sid'));

  const off = await parent(false);
  ({ c, token } = await pending('fc-off'));
  res = await c.post('/federation/franceconnect/associer', { jeton: token, login: await loginOf(off), password: PASSWORD });
  assert.equal(res.statusCode, 403);
  assert.match(res.body, /ne peut pas être associé à FranceConnect/);
  assert.deepEqual(await links(off), []);

  const taken = await parent();
  await ctx.database.pool.query("INSERT INTO federation_links (provider_id, subject, user_id, provider_name) VALUES ('franceconnect', 'fc-first', $1, 'FranceConnect')", [taken]);
  ({ c, token } = await pending('fc-second'));
  res = await c.post('/federation/franceconnect/associer', { jeton: token, login: await loginOf(taken), password: PASSWORD });
  assert.equal(res.statusCode, 403);
  assert.match(res.body, /déjà associé à une autre identité FranceConnect/);
  assert.deepEqual(await links(taken), [{ provider_id: 'franceconnect', subject: 'fc-first' }]);
  assert.equal((await q("SELECT count(*)::int AS n FROM audit WHERE action = 'federation.link_refused'"))[0].n, 3);
});

test('a pending answer expired, taken to another browser, or a sign-in step in its place: nothing linked', async () => {
  const id = await parent();
  const login = await loginOf(id);
  // Expired.
  const expired = await pending('fc-expired');
  await ctx.database.pool.query("UPDATE federation_flows SET expires_at = now() - interval '1 second' WHERE state_hash = $1", [sha256(expired.token)]);
  let res = await expired.c.post('/federation/franceconnect/associer', { jeton: expired.token, login, password: PASSWORD });
  assert.equal(res.statusCode, 400);
  assert.match(res.body, /n’a pas abouti/);
  // Another browser (its own binding cookie, or none) with the token of this one.
  const mine = await pending('fc-mine');
  const other = new Client(app, '198.51.100.9');
  await other.get('/connexion');
  res = await other.post('/federation/franceconnect/associer', { jeton: mine.token, login, password: PASSWORD });
  assert.equal(res.statusCode, 400);
  other.cookies.set('trousseau_fed', randomBytes(32).toString('base64url'));
  res = await other.post('/federation/franceconnect/associer', { jeton: mine.token, login, password: PASSWORD });
  assert.equal(res.statusCode, 400);
  assert.ok(!other.cookies.get('trousseau_sid'));
  // A sign-in's step (answer kept for the choice page) is no linking step; nor is a linking step a sign-in's.
  const signin = await pending('fc-signin', { purpose: 'signin' });
  res = await signin.c.post('/federation/franceconnect/associer', { jeton: signin.token, login, password: PASSWORD });
  assert.equal(res.statusCode, 400);
  res = await mine.c.get(`/federation/franceconnect/suite?jeton=${mine.token}`);
  assert.equal(res.statusCode, 400);
  assert.deepEqual(await links(id), []);
  // Without the form's CSRF token: refused before anything.
  res = await mine.c.post('/federation/franceconnect/associer', { jeton: mine.token, login, password: PASSWORD }, { csrf: false });
  assert.equal(res.statusCode, 403);
  assert.deepEqual(await links(id), []);
});

test('an account not yet activated: its letter’s code typed as the password points to the activation; nothing linked', async () => {
  const pool = ctx.database.pool;
  const s = await insertStructure(pool, 'École des Tilleuls');
  const child = await insertUser(pool, { firstName: 'Tom', lastName: 'NOM', structureIds: [s] });
  const { id, code } = await createInactiveUser(pool, ctx.secrets, { login: `new.${randomBytes(3).toString('hex')}`, profile: 'Relative' });
  await relate(pool, id, child);
  await enableEverywhere(pool, 'franceconnect', ['Relative']);
  const { c, token } = await pending('fc-new');
  const res = await c.post('/federation/franceconnect/associer', { jeton: token, login: await loginOf(id), password: code });
  assert.equal(res.statusCode, 422);
  assert.match(res.body, /ressemble à un code d’activation ou de renouvellement, pas à un mot de passe/);
  assert.match(res.body, /href="\/activation/);
  assert.deepEqual(await links(id), []);
});

/** Activates `login` with `code` through both steps of /activation, carrying the pending answer's fields. */
async function activate(c: Client, login: string, code: string, extra: Record<string, string>) {
  const step1 = await c.post('/activation', { login, code, step: 'code', ...extra });
  assert.equal(step1.statusCode, 200);
  return { step1, done: await c.post('/activation', { login, code, step: 'password', password: 'Activé-2026-Parent!', confirm: 'Activé-2026-Parent!', email: 'parent@example.org', phone: '', terms: 'on', ...extra }) };
}

test('activated from the « aucun compte » page in the same browser, the account is linked; from another browser it is not', async () => {
  const pool = ctx.database.pool;
  const s = await insertStructure(pool, 'École des Platanes');
  await pool.query(`INSERT INTO federation_enabled (provider_id, structure_id, profile) VALUES ('franceconnect', $1, 'Relative') ON CONFLICT DO NOTHING`, [s]);
  const child = await insertUser(pool, { firstName: 'Eva', lastName: 'NOM', structureIds: [s] });
  // The person the provider names (identity(): Pat Nobody): an activation links only the account of that name.
  const a = await createInactiveUser(pool, ctx.secrets, { login: `act.${randomBytes(3).toString('hex')}`, profile: 'Relative', firstName: 'Pat', lastName: 'NOBODY' });
  await relate(pool, a.id, child);
  const { c, token } = await pending('fc-activated', { next: '/mon-compte' });
  const page = await c.get(`/activation?fournisseur=franceconnect&jeton=${token}`);
  assert.match(page.body, /id="pending-link"[^>]*>Une fois votre compte activé, il sera associé à votre identité FranceConnect/);
  const extra = { fournisseur: 'franceconnect', jeton: token };
  const { step1, done } = await activate(c, await loginOf(a.id), a.code, extra);
  assert.match(step1.body, new RegExp(`name="jeton" value="${token}"`));
  assert.equal(done.statusCode, 303);
  assert.equal(done.headers.location, `/federation/franceconnect/associer/activation?jeton=${token}`);
  const linked = await c.get(done.headers.location as string);
  assert.equal(linked.statusCode, 303);
  assert.equal(linked.headers.location, '/mon-compte?ok=activated');
  assert.deepEqual(await links(a.id), [{ provider_id: 'franceconnect', subject: 'fc-activated' }]);
  assert.equal((await q("SELECT details->>'via' AS via FROM audit WHERE action = 'federation.link' AND actor_id = $1", [a.id]))[0].via, 'activation');

  // The token taken to another browser, where an account is activated: activated, not linked.
  const b = await createInactiveUser(pool, ctx.secrets, { login: `act.${randomBytes(3).toString('hex')}`, profile: 'Relative' });
  await relate(pool, b.id, child);
  const held = await pending('fc-held');
  const other = new Client(app, '198.51.100.20');
  await other.get('/connexion');
  const r = await activate(other, await loginOf(b.id), b.code, { fournisseur: 'franceconnect', jeton: held.token });
  const late = await other.get(r.done.headers.location as string);
  assert.equal(late.statusCode, 400);
  assert.match(late.body, /Votre compte est activé, mais il n’a pas été associé à FranceConnect/);
  assert.deepEqual(await links(b.id), []);
  assert.notEqual((await q('SELECT activated_at FROM users WHERE id = $1', [b.id]))[0].activated_at, null);
  // An account activated before the answer came, signed in in the browser holding it: not linked either.
  const early = await parent();
  const fresh = await pending('fc-early');
  await pool.query("UPDATE federation_flows SET created_at = now() + interval '1 second' WHERE state_hash = $1", [sha256(fresh.token)]);
  const login = await fresh.c.post('/connexion', { login: await loginOf(early), password: PASSWORD });
  assert.equal(login.statusCode, 303);
  const no = await fresh.c.get(`/federation/franceconnect/associer/activation?jeton=${fresh.token}`);
  assert.equal(no.statusCode, 400);
  assert.deepEqual(await links(early), []);
});

test('an account activated in that browser without the pending answer (the next person, from the sign-in page) is not linked by the link’s address', async () => {
  // A classroom computer: a parent's FranceConnect answer matched nobody and was left pending; the next person
  // activates her own account there the usual way, without the « aucun compte » page. Whoever then opens the
  // link's address (its token was in the first parent's page) must not tie her account to the first parent's identity.
  const pool = ctx.database.pool;
  const s = await insertStructure(pool, 'École des Tilleuls');
  await pool.query(`INSERT INTO federation_enabled (provider_id, structure_id, profile) VALUES ('franceconnect', $1, 'Relative') ON CONFLICT DO NOTHING`, [s]);
  const child = await insertUser(pool, { firstName: 'Tom', lastName: 'NOM', structureIds: [s] });
  const next = await createInactiveUser(pool, ctx.secrets, { login: `act.${randomBytes(3).toString('hex')}`, profile: 'Relative' });
  await relate(pool, next.id, child);
  const { c, token } = await pending('fc-first-parent');
  const { done } = await activate(c, await loginOf(next.id), next.code, {});
  assert.equal(done.statusCode, 303);
  assert.equal(done.headers.location, '/mon-compte?ok=activated');
  const forged = await c.get(`/federation/franceconnect/associer/activation?jeton=${token}`);
  assert.equal(forged.statusCode, 400);
  assert.deepEqual(await links(next.id), []);
});

test('switching the language keeps the pending answer: the page comes back with its form, at an address without a token', async () => {
  const id = await parent();
  const login = await loginOf(id);
  const { c, token } = await pending('fc-lang', { next: '/mon-compte' });
  // The page answering a wrong password (as at the provider's callback, its URL cannot be opened again).
  const wrong = await c.post('/federation/franceconnect/associer', { jeton: token, login, password: 'not-the-password' });
  assert.equal(wrong.statusCode, 401);
  const href = /href="([^"]*)" hreflang="en"/.exec(wrong.body)?.[1]?.replace(/&amp;/g, '&');
  assert.equal(href, '/federation/franceconnect/associer?lang=en');
  assert.ok(!href.includes(token));
  const en = await c.get(href);
  assert.equal(en.statusCode, 200);
  assert.match(en.body, /<html lang="en"/);
  assert.match(en.body, /Already have an account\?/);
  assert.match(en.body, /Link my account to FranceConnect/);
  const fresh = /name="jeton" value="([A-Za-z0-9_-]{43})"/.exec(en.body)?.[1];
  assert.ok(fresh && fresh !== token, 'a new token for the step');
  assert.match(en.body, new RegExp(`href="/activation\\?fournisseur=franceconnect&amp;jeton=${fresh}"`));
  // The old token (another tab's form) no longer names the step; the new one links.
  assert.equal((await c.post('/federation/franceconnect/associer', { jeton: token, login, password: PASSWORD })).statusCode, 400);
  const ok = await c.post('/federation/franceconnect/associer', { jeton: fresh, login, password: PASSWORD });
  assert.equal(ok.statusCode, 303);
  assert.equal(ok.headers.location, '/mon-compte');
  assert.deepEqual(await links(id), [{ provider_id: 'franceconnect', subject: 'fc-lang' }]);
});

test('the language switch finds nothing without the browser’s binding cookie, at another provider, or once expired', async () => {
  const { c, token } = await pending('fc-lang-none');
  const other = new Client(app, '198.51.100.30');
  await other.get('/connexion');
  assert.equal((await other.get('/federation/franceconnect/associer?lang=en')).statusCode, 400);
  assert.equal((await c.get('/federation/educonnect/associer?lang=en')).statusCode, 400);
  await ctx.database.pool.query("UPDATE federation_flows SET expires_at = now() - interval '1 second' WHERE state_hash = $1", [sha256(token)]);
  const late = await c.get('/federation/franceconnect/associer?lang=en');
  assert.equal(late.statusCode, 400);
  assert.doesNotMatch(late.body, /name="jeton"/);
});

test('the provider’s configured contact, written in French, is marked so on the page in English', async () => {
  const fc = ctx.config.federation.get('franceconnect') as { contact?: string };
  fc.contact = 'Écrivez au rectorat : ent@ac-exemple.fr';
  try {
    const { c } = await pending('fc-contact');
    assert.match((await c.get('/federation/franceconnect/associer')).body, /<p data-contact>Écrivez au rectorat/);
    assert.match((await c.get('/federation/franceconnect/associer?lang=en')).body, /<p lang="fr" data-contact>Écrivez au rectorat/);
  } finally {
    fc.contact = undefined;
  }
});

test('a code typed as the password (activation or renewal, any spelling) points to the activation, valid or not, counted as a password tried', async () => {
  const pool = ctx.database.pool;
  const s = await insertStructure(pool, 'École des Ormes');
  const child = await insertUser(pool, { firstName: 'Zoé', lastName: 'NOM', structureIds: [s] });
  const inactive = await createInactiveUser(pool, ctx.secrets, { login: `code.${randomBytes(3).toString('hex')}`, profile: 'Relative' });
  await relate(pool, inactive.id, child);
  await enableEverywhere(pool, 'franceconnect', ['Relative']);
  const active = await parent();
  const { c, token } = await pending('fc-code');
  const grouped = (code: string) => code.replace(/(.{4})(?=.)/g, '$1-');
  const tries: Array<[string, string]> = [
    [await loginOf(inactive.id), inactive.code], // its real activation code
    [await loginOf(inactive.id), grouped(inactive.code).toLowerCase()],
    [await loginOf(active), 'MXTT GF5E AB'], // a code of no one's (a renewal sheet's shape)
    [await loginOf(active), grouped('0123456789').toLowerCase()],
  ];
  const messages = new Set<string>();
  for (const [login, password] of tries) {
    const res = await c.post('/federation/franceconnect/associer', { jeton: token, login, password });
    assert.equal(res.statusCode, 422, password);
    const alert = /id="f-password-error"[^>]*>(.*?)<\/p>/s.exec(res.body)?.[1] ?? '';
    assert.match(alert, /ressemble à un code d’activation ou de renouvellement/);
    assert.match(res.body, /id="f-password"[^>]*aria-invalid="true"/);
    messages.add(alert);
    assert.match(res.body, /href="\/activation\?fournisseur=franceconnect/);
  }
  assert.equal(messages.size, 1, 'the same words, valid code or not');
  // Checked as a password first (one may have a code's shape), so counted: a refund would let such guesses run free.
  for (const id of [inactive.id, active]) {
    assert.equal((await q('SELECT hits FROM rate_limits WHERE key = $1', [`auth:login:${await loginOf(id)}`]))[0]?.hits ?? 0, 2);
    assert.deepEqual(await links(id), []);
  }
  assert.equal((await q("SELECT count(*)::int AS n FROM audit WHERE action = 'auth.login_failed' AND details->>'provider' = 'franceconnect' AND details->>'login' = ANY($1)", [[await loginOf(inactive.id), await loginOf(active)]]))[0].n, 4);
  const en = await c.post('/federation/franceconnect/associer?lang=en', { jeton: token, login: await loginOf(active), password: 'mxtt-gf5e-ab' });
  assert.match(en.body, /looks like an activation or renewal code/);
  // An ordinary password still links.
  const ok = await c.post('/federation/franceconnect/associer', { jeton: token, login: await loginOf(active), password: PASSWORD });
  assert.equal(ok.statusCode, 303);
});

test('a password that has a code’s shape (ten letters and digits from a generator) links: it is checked before the code hint', async () => {
  const id = await parent();
  const generated = 'Xk7mQ2pZ9r'; // 10 Crockford symbols: normalizeCode reads it as a code
  await ctx.database.pool.query('UPDATE users SET password_hash = $2 WHERE id = $1', [id, await hashPassword(generated)]);
  const { c, token } = await pending('fc-code-shaped', { next: '/mon-compte' });
  const res = await c.post('/federation/franceconnect/associer', { jeton: token, login: await loginOf(id), password: generated });
  assert.equal(res.statusCode, 303);
  assert.deepEqual(await links(id), [{ provider_id: 'franceconnect', subject: 'fc-code-shaped' }]);
});
