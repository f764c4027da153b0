// Finding: « Mon compte » changed the e-mail address on the session alone. A stolen session (a shared computer left
// signed in, a cookie read off a machine) put its own address there, then « Mot de passe oublié » mailed it a reset
// link: the account was taken for good, the real owner's password replaced. Now a new address needs the current
// password (checked, rate limited like sign-in); the phone, or the address's case, does not. An account without a
// password (signs in only through an identity provider) changes its address freely: that address opens no reset link.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { fileContext, sqlReaders } from '../helpers/db.js';
import { Client, createUser, fileServer, signedInClient } from '../helpers/web.js';

process.env.TROUSSEAU_RATE_LOGIN_MAX = '3';

const PASSWORD = 'phrase de passe du titulaire';
const ctx = await fileContext();
const app = await fileServer(ctx);
const { q } = sqlReaders(ctx);
const [{ id: school }] = await q<{ id: string }>(`INSERT INTO structures (uai, name) VALUES ('0458001M', 'Collège des Mésanges') RETURNING id`);

async function account(login: string, password: string | undefined, email: string): Promise<{ id: string; c: Client }> {
  const id = await createUser(ctx.database.pool, { login, profile: 'Relative', password, email });
  await q('INSERT INTO user_structures VALUES ($1, $2)', [id, school]);
  if (!password) await q('UPDATE users SET activated_at = now() WHERE id = $1', [id]);
  const c = await signedInClient(app, ctx.database.pool, id);
  await c.get('/mon-compte');
  return { id, c };
}
const emailOf = async (id: string) => (await q<{ email: string | null }>('SELECT email FROM users WHERE id = $1', [id]))[0].email;
const resetMails = async (id: string) =>
  (await q<{ n: number }>(`SELECT count(*)::int AS n FROM mail_jobs WHERE user_id = $1 AND kind = 'password_reset'`, [id]))[0].n;

test('a session alone cannot replace the address: the current password is asked, said accessibly', async () => {
  const { id, c } = await account('julie.mesanges', PASSWORD, 'julie@exemple.test');
  const page = await c.get('/mon-compte');
  assert.match(page.body, /<label[^>]*for="f-contactCurrent"[^>]*>Mot de passe actuel/, 'the contact form has a labelled current-password field');
  assert.match(page.body, /id="f-contactCurrent-hint"[^>]*>Demandé seulement pour changer d’adresse électronique/, 'with a hint saying when it is needed');

  const bare = await c.post('/mon-compte/coordonnees', { email: 'voleur@exemple.test', phone: '' });
  assert.equal(bare.statusCode, 422, `refused without the password: ${bare.statusCode}`);
  assert.match(bare.body, /role="alert"[^>]*autofocus[\s\S]*href="#f-contactCurrent"[\s\S]*Saisissez votre mot de passe actuel pour changer d’adresse électronique/, 'the error summary is focused and links to the field');
  assert.match(bare.body, /<input id="f-contactCurrent"[^>]*aria-invalid="true"/, 'the field is marked invalid');
  assert.match(bare.body, /<title>Erreur : /, 'said in the title');
  assert.match(bare.body, /value="voleur@exemple.test"/, 'what was typed is kept');

  const wrong = await c.post('/mon-compte/coordonnees', { email: 'voleur@exemple.test', phone: '', contactCurrent: 'une devinette' });
  assert.equal(wrong.statusCode, 422, 'a wrong password is refused');
  assert.match(wrong.body, /Le mot de passe actuel est incorrect/, 'and said so');
  assert.equal(await emailOf(id), 'julie@exemple.test', 'the address is unchanged');

  // The thief's next step would have been this: nothing is mailed to their address.
  const f = new Client(app, '192.0.2.160');
  await f.get('/mot-de-passe-oublie');
  await f.post('/mot-de-passe-oublie', { identifier: 'voleur@exemple.test' });
  assert.equal(await resetMails(id), 0, 'no reset link goes to the thief');

  const ok = await c.post('/mon-compte/coordonnees', { email: 'julie.nouvelle@exemple.test', phone: '', contactCurrent: PASSWORD });
  assert.equal(ok.statusCode, 303, `the owner changes it with the password: ${ok.statusCode}`);
  assert.equal(await emailOf(id), 'julie.nouvelle@exemple.test', 'changed');
});

test('the phone, or the address’s case, changes without the password; English messages', async () => {
  const { id, c } = await account('karim.mesanges', PASSWORD, 'karim@exemple.test');
  const phone = await c.post('/mon-compte/coordonnees', { email: 'karim@exemple.test', phone: '06 12 34 56 78' });
  assert.equal(phone.statusCode, 303, `phone saved: ${phone.statusCode}`);
  const cased = await c.post('/mon-compte/coordonnees', { email: 'Karim@Exemple.test', phone: '06 12 34 56 78' });
  assert.equal(cased.statusCode, 303, 'a change of case only is saved');
  assert.equal(await emailOf(id), 'karim@exemple.test', 'the same address');
  await c.get('/mon-compte?lang=en');
  const en = await c.post('/mon-compte/coordonnees', { email: '', phone: '' });
  assert.equal(en.statusCode, 422, 'removing the address asks for the password too');
  assert.match(en.body, /Enter your current password to change your email address/, 'in English');
});

test('guessing the current password through the contact form is rate limited like sign-in', async () => {
  const { id, c } = await account('lise.mesanges', PASSWORD, 'lise@exemple.test');
  const statuses: number[] = [];
  for (let i = 0; i < 5; i++) statuses.push((await c.post('/mon-compte/coordonnees', { email: 'x@exemple.test', phone: '', contactCurrent: `devinette ${i}` })).statusCode);
  assert.deepEqual(statuses.slice(0, 3), [422, 422, 422], `statuses: ${statuses}`);
  assert.equal(statuses[4], 429, `then too many attempts: ${statuses}`);
  const last = await c.post('/mon-compte/coordonnees', { email: 'x@exemple.test', phone: '', contactCurrent: PASSWORD });
  assert.equal(last.statusCode, 429, 'even the right password waits');
  assert.match(last.body, /role="alert"/, 'said as an alert');
  assert.equal(await emailOf(id), 'lise@exemple.test', 'unchanged');
});

test('an account without a password (identity provider only) changes its address freely, and it opens no reset link', async () => {
  const { id, c } = await account('mona.mesanges', undefined, 'mona@exemple.test');
  await q(`INSERT INTO federation_links (provider_id, subject, user_id, provider_name) VALUES ('educonnect', 'ec-mona', $1, 'EduConnect')`, [id]);
  const page = await c.get('/mon-compte');
  assert.doesNotMatch(page.body, /f-contactCurrent/, 'no password field it could not fill');
  const saved = await c.post('/mon-compte/coordonnees', { email: 'mona.nouvelle@exemple.test', phone: '' });
  assert.equal(saved.statusCode, 303, `saved: ${saved.statusCode}`);
  const f = new Client(app, '192.0.2.161');
  await f.get('/mot-de-passe-oublie');
  await f.post('/mot-de-passe-oublie', { identifier: 'mona.nouvelle@exemple.test' });
  assert.equal(await resetMails(id), 0, 'no reset link for an account that signs in through its provider');
});
