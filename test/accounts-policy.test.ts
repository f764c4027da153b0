// Activation policy per structure and profile (issue #9), through HTTP on real PostgreSQL: e-mail and phone required
// or optional, minimum password length (8 for pupils, 12 for adults), a code typed in the sign-in page's password
// field continues to activation or renewal, the QR code of an activated account says so (to the holder of its code),
// and a new version of the school's terms of use is accepted at the next sign-in.
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { test } from 'node:test';
import { formatCode } from '../src/accounts/codes.js';
import { issueRenewalCode } from '../src/accounts/issue.js';
import { savePolicy, saveStructureSettings } from '../src/directory/policies.js';
import { fileContext } from './helpers/db.js';
import { insertStructure } from './helpers/directory-sample.js';
import { Client, createInactiveUser, createUser, fileServer } from './helpers/web.js';

const PASSWORD = 'une phrase de passe solide';
const ctx = await fileContext();
const app = await fileServer(ctx);
const q = (sql: string, params: unknown[] = []) => ctx.database.pool.query(sql, params);
const school = await insertStructure(ctx.database.pool, 'École Prévert', '0440001P');

async function inactive(login: string, profile: 'Student' | 'Relative' = 'Student') {
  const u = await createInactiveUser(ctx.database.pool, ctx.secrets, { login, profile });
  await q('INSERT INTO user_structures (user_id, structure_id) VALUES ($1, $2)', [u.id, school]);
  return u;
}

/** Step 1 then step 2 of /activation. */
async function activate(login: string, code: string, form: Record<string, string>) {
  const c = new Client(app);
  await c.get('/activation');
  const step1 = await c.post('/activation', { step: 'code', login, code });
  assert.equal(step1.statusCode, 200);
  return { c, step1, res: await c.post('/activation', { step: 'password', login, code, terms: 'on', ...form }) };
}

test('a pupil activates with 8 characters and no e-mail; an adult needs 12', async () => {
  const pupil = await inactive('zoe.ecole');
  const { step1, res } = await activate('zoe.ecole', pupil.code, { password: 'Kx7#pq2!', confirm: 'Kx7#pq2!', email: '', phone: '' });
  assert.match(step1.body, /minlength="8"/);
  assert.doesNotMatch(/<input[^>]*name="email"[^>]*>/.exec(step1.body)![0], /required/);
  assert.equal(res.statusCode, 303, res.body.slice(0, 300));
  const row = (await q('SELECT activated_at, email FROM users WHERE login = $1', ['zoe.ecole'])).rows[0];
  assert.ok(row.activated_at);
  assert.equal(row.email, null);

  const parent = await inactive('maman.ecole', 'Relative');
  const short = await activate('maman.ecole', parent.code, { password: 'Kx7#pq2!', confirm: 'Kx7#pq2!', email: '', phone: '' });
  assert.equal(short.res.statusCode, 422);
  assert.match(short.res.body, /12 caractères/);
  // The strength estimator still applies to pupils: a dictionary word is refused whatever its length.
  const pupil2 = await inactive('tom.ecole');
  const weak = await activate('tom.ecole', pupil2.code, { password: 'cartable', confirm: 'cartable', email: '', phone: '' });
  assert.equal(weak.res.statusCode, 422);
});

test('the structure requires an e-mail and a phone from pupils: both asked, and refused when missing', async () => {
  await savePolicy(ctx.database.pool, school, 'Student', {
    signIn: 'code', provider: null, emailRequired: true, phoneRequired: true, minPasswordLength: 10, graceDays: 90, deletionDays: 90,
  }, null);
  const pupil = await inactive('leo.ecole');
  const { step1, res } = await activate('leo.ecole', pupil.code, { password: 'Hibou-42zq', confirm: 'Hibou-42zq', email: '', phone: '' });
  assert.match(/<input[^>]*name="email"[^>]*>/.exec(step1.body)![0], /required/);
  assert.match(/<input[^>]*name="phone"[^>]*>/.exec(step1.body)![0], /required/);
  assert.equal(res.statusCode, 422);
  assert.match(res.body, /l’établissement le demande/);
  const ok = await new Client(app).post('/activation', {});
  assert.notEqual(ok.statusCode, 500);
  const done = await activate('leo.ecole', pupil.code, { password: 'Hibou-42zq', confirm: 'Hibou-42zq', email: 'leo@example.org', phone: '06 12 34 56 78' });
  assert.equal(done.res.statusCode, 303);
  await q('DELETE FROM profile_policies');
});

test('an activation or renewal code typed in the password field continues to activation or renewal', async () => {
  const pupil = await inactive('ines.ecole');
  const c = new Client(app);
  await c.get('/connexion');
  const step = await c.post('/connexion', { login: 'ines.ecole', password: formatCode(pupil.code) });
  assert.equal(step.statusCode, 200);
  assert.match(step.body, /action="\/activation"/);
  assert.match(step.body, /name="step" value="password"/);
  const done = await c.post('/activation', { step: 'password', login: 'ines.ecole', code: pupil.code, password: 'vq8!Zt3w', confirm: 'vq8!Zt3w', terms: 'on', email: '', phone: '' });
  assert.equal(done.statusCode, 303);

  const active = await createUser(ctx.database.pool, { login: 'paul.ecole', profile: 'Teacher', password: PASSWORD });
  const renewal = issueRenewalCode(ctx.secrets);
  await q('UPDATE users SET renewal_code_mac = $2, renewal_code_expires_at = $3 WHERE id = $1', [active, renewal.mac, renewal.expiresAt]);
  const c2 = new Client(app);
  await c2.get('/connexion');
  const r = await c2.post('/connexion', { login: 'paul.ecole', password: renewal.code });
  assert.equal(r.statusCode, 200);
  assert.match(r.body, /action="\/renouvellement"/);
  // A wrong code is a wrong password, nothing more.
  const wrong = await new Client(app).signIn('paul.ecole', 'ABCD-EFGH-JK');
  assert.equal(wrong.statusCode, 401);
});

test('the QR code of an already-activated account: « compte déjà activé, connectez-vous », for its own code only', async () => {
  const pupil = await inactive('lou.ecole');
  const qr = `/activation?login=lou.ecole&code=${formatCode(pupil.code)}`;
  // Not activated yet: the activation page, filled in.
  const c = new Client(app);
  assert.equal((await c.get(qr)).statusCode, 200);
  assert.equal((await activate('lou.ecole', pupil.code, { password: 'Kx7#pq2!', confirm: 'Kx7#pq2!', email: '', phone: '' })).res.statusCode, 303);
  const res = await c.get(qr);
  assert.equal(res.statusCode, 303);
  assert.equal(res.headers.location, '/connexion?deja=1&login=lou.ecole');
  const page = await c.get(res.headers.location as string);
  assert.match(page.body, /Compte déjà activé : connectez-vous/);
  assert.match(page.body, /value="lou.ecole"/);
  // Any other code: the activation page, as for a login that does not exist (security audit: no oracle on logins).
  const other = await c.get('/activation?login=lou.ecole&code=ABCDEFGHJK');
  assert.equal(other.statusCode, 200);
  assert.equal(other.headers.location, undefined);
  assert.equal((await c.get('/activation?login=personne.ecole&code=ABCDEFGHJK')).statusCode, 200);
});

test('a new version of the terms of use is accepted at the next sign-in, once', async () => {
  const id = await createUser(ctx.database.pool, { login: 'anne.ecole', profile: 'Teacher', password: PASSWORD });
  await q('INSERT INTO user_structures (user_id, structure_id) VALUES ($1, $2)', [id, school]);
  const c = new Client(app);
  assert.equal((await c.signIn('anne.ecole', PASSWORD)).headers.location, '/');
  await saveStructureSettings(ctx.database.pool, school, { teacherRights: ['sheets', 'renewal'], termsText: 'Charte de l’école.\n\nRespect de chacun.', newVersion: true }, null);

  const c2 = new Client(app);
  const signIn = await c2.signIn('anne.ecole', PASSWORD);
  assert.match(String(signIn.headers.location), /^\/conditions\/accepter/);
  const page = await c2.get(String(signIn.headers.location));
  assert.match(page.body, /nouvelle version \(n° 1\)/);
  assert.match(page.body, /Respect de chacun/);
  const accepted = await c2.post('/conditions/accepter', { version: '1', next: '/' });
  assert.equal(accepted.headers.location, '/');
  assert.equal((await q('SELECT terms_version FROM users WHERE id = $1', [id])).rows[0].terms_version, 1);
  assert.equal((await new Client(app).signIn('anne.ecole', PASSWORD)).headers.location, '/');
});

test('« Mon compte » asks for the e-mail and phone as the activation does: none kept when optional, required when the school asks', async () => {
  // Activated without an e-mail (as the demo's khadija.bourgeois): a phone number alone is saved.
  const parent = await inactive('nour.ecole', 'Relative');
  const { c, res } = await activate('nour.ecole', parent.code, { password: PASSWORD, confirm: PASSWORD, email: '', phone: '' });
  assert.equal(res.statusCode, 303, res.body.slice(0, 300));
  const page = await c.get('/mon-compte');
  assert.doesNotMatch(/<input[^>]*name="email"[^>]*>/.exec(page.body)![0], /required/);
  const saved = await c.post('/mon-compte/coordonnees', { email: '', phone: '06 12 34 56 78' });
  assert.equal(saved.statusCode, 303, saved.body.slice(0, 300));
  let row = (await q('SELECT email, phone FROM users WHERE login = $1', ['nour.ecole'])).rows[0];
  assert.deepEqual(row, { email: null, phone: '06 12 34 56 78' });
  // An e-mail given once may be taken back while the school does not ask for one.
  await c.get('/mon-compte');
  // (a new address, or none, asks for the current password: security/email-change-reauth.test.ts)
  assert.equal((await c.post('/mon-compte/coordonnees', { email: 'nour@example.org', phone: '06 12 34 56 78', contactCurrent: PASSWORD })).statusCode, 303);
  await c.get('/mon-compte');
  assert.equal((await c.post('/mon-compte/coordonnees', { email: '', phone: '', contactCurrent: PASSWORD })).statusCode, 303);
  row = (await q('SELECT email, phone FROM users WHERE login = $1', ['nour.ecole'])).rows[0];
  assert.deepEqual(row, { email: null, phone: null });

  // The school now asks parents for both: « Mon compte » asks for them too, as the activation would.
  await savePolicy(ctx.database.pool, school, 'Relative', {
    signIn: 'code', provider: null, emailRequired: true, phoneRequired: true, minPasswordLength: 12, graceDays: 90, deletionDays: 90,
  }, null);
  const asked = await c.get('/mon-compte');
  assert.match(/<input[^>]*name="email"[^>]*>/.exec(asked.body)![0], /required/);
  assert.match(/<input[^>]*name="phone"[^>]*>/.exec(asked.body)![0], /required/);
  const refused = await c.post('/mon-compte/coordonnees', { email: '', phone: '' });
  assert.equal(refused.statusCode, 422);
  assert.match(refused.body, /L’adresse électronique est obligatoire/);
  assert.match(refused.body, /l’établissement le demande/);
  await c.get('/mon-compte');
  assert.equal((await c.post('/mon-compte/coordonnees', { email: 'nour@example.org', phone: '0612345678', contactCurrent: PASSWORD })).statusCode, 303);
  row = (await q('SELECT email, phone FROM users WHERE login = $1', ['nour.ecole'])).rows[0];
  assert.deepEqual(row, { email: 'nour@example.org', phone: '06 12 34 56 78' });
  await q('DELETE FROM profile_policies');
});

test('« Mon compte » and the reset link check a new password against the account’s policy, as the activation does', async () => {
  // A pupil (policy: 8 characters) changes to an 8-character password the activation would accept.
  const pupil = await inactive('theo.ecole');
  const { c } = await activate('theo.ecole', pupil.code, { password: 'Kx7#pq2!', confirm: 'Kx7#pq2!', email: '', phone: '' });
  const form = await c.get('/mon-compte');
  assert.match(/<input[^>]*name="password"[^>]*>/.exec(form.body)![0], /minlength="8"/);
  const changed = await c.post('/mon-compte/mot-de-passe', { current: 'Kx7#pq2!', password: 'Vb4&zr8?', confirm: 'Vb4&zr8?' });
  assert.equal(changed.statusCode, 303, changed.body.slice(0, 300));
  // The school asks 20 characters of parents: « Mon compte » and the reset page refuse a 17-character one.
  const parent = await inactive('lina.ecole', 'Relative');
  const p = await activate('lina.ecole', parent.code, { password: PASSWORD, confirm: PASSWORD, email: 'lina@example.org', phone: '' });
  assert.equal(p.res.statusCode, 303);
  await savePolicy(ctx.database.pool, school, 'Relative', {
    signIn: 'code', provider: null, emailRequired: false, phoneRequired: false, minPasswordLength: 20, graceDays: 90, deletionDays: 90,
  }, null);
  try {
    const page = await p.c.get('/mon-compte');
    assert.match(/<input[^>]*name="password"[^>]*>/.exec(page.body)![0], /minlength="20"/);
    const short = await p.c.post('/mon-compte/mot-de-passe', { current: PASSWORD, password: 'girafe bleue lune', confirm: 'girafe bleue lune' });
    assert.equal(short.statusCode, 422);
    assert.match(short.body, /20 caractères/);
    const token = randomBytes(32).toString('base64url');
    await q(`INSERT INTO password_resets (token_hash, user_id, expires_at, email) VALUES ($1, $2, now() + interval '1 hour', 'lina@example.org')`, [
      createHash('sha256').update(token).digest('hex'), parent.id,
    ]);
    const r = new Client(app);
    const resetPage = await r.get(`/reinitialisation?token=${token}`);
    assert.match(/<input[^>]*name="password"[^>]*>/.exec(resetPage.body)![0], /minlength="20"/);
    const reset = await r.post('/reinitialisation', { token, password: 'girafe bleue lune', confirm: 'girafe bleue lune' });
    assert.equal(reset.statusCode, 422);
    assert.match(reset.body, /20 caractères/);
    const hash = (await q('SELECT password_hash FROM users WHERE id = $1', [parent.id])).rows[0].password_hash;
    assert.equal((await q('SELECT count(*)::int AS n FROM password_resets WHERE used_at IS NOT NULL')).rows[0].n, 0);
    assert.ok(hash);
  } finally {
    await q('DELETE FROM profile_policies');
  }
});

test('activation in a school with its own terms of use shows that text on step 2: the family accepts what it read', async () => {
  // The box said « J’ai lu et j’accepte les Conditions d’utilisation » with a link to the built-in text, while the
  // activation recorded acceptance of the school's version (never asked again at sign-in): a text nobody was shown.
  await saveStructureSettings(ctx.database.pool, school, { teacherRights: ['sheets', 'renewal'], termsText: 'Charte de l’école Prévert.\n\nPas de photo des camarades.', newVersion: true }, null);
  const parent = await inactive('marc.ecole', 'Relative');
  const c = new Client(app);
  await c.get('/activation');
  const step2 = await c.post('/activation', { step: 'code', login: 'marc.ecole', code: formatCode(parent.code) });
  assert.equal(step2.statusCode, 200);
  assert.match(step2.body, /<p>Charte de l’école Prévert\.<\/p>\s*<p>Pas de photo des camarades\.<\/p>/);
  assert.match(step2.body, /J’ai lu et j’accepte les conditions d’utilisation de l’établissement ci-dessus/);
  const box = /<div class="field field-check[\s\S]*?<\/div>/.exec(step2.body)?.[0] ?? '';
  assert.match(box, /ci-dessus/);
  assert.doesNotMatch(box, /href="\/conditions/, 'no link to the built-in text');
  const done = await c.post('/activation', { step: 'password', login: 'marc.ecole', code: formatCode(parent.code), password: PASSWORD, confirm: PASSWORD, terms: 'on', email: '', phone: '' });
  assert.equal(done.statusCode, 303);
  const version = (await q('SELECT terms_version FROM structure_settings WHERE structure_id = $1', [school])).rows[0].terms_version;
  assert.equal((await q('SELECT terms_version FROM users WHERE id = $1', [parent.id])).rows[0].terms_version, version);
});

test('« Conditions d’utilisation » in the footer, signed in: the school’s text the account accepted, and the way back to its pages', async () => {
  // It showed the built-in rules only, and « Retour à l’activation », to a parent who had accepted the school's text.
  const c = new Client(app);
  await c.signIn('marc.ecole', PASSWORD);
  const page = await c.get('/conditions');
  assert.equal(page.statusCode, 200);
  assert.match(page.body, /<p>Charte de l’école Prévert\.<\/p>/);
  assert.match(page.body, /<a href="\/">Retour à mon espace<\/a>/);
  assert.doesNotMatch(page.body, /Retour à l’activation/);
  // Signed out, from the activation: the built-in text and the way back to it, as before.
  const out = await new Client(app).get('/conditions?login=marc.ecole');
  assert.doesNotMatch(out.body, /Charte de l’école Prévert/);
  assert.match(out.body, /Retour à l’activation/);
});
