// « Mon compte » for an account without a Trousseau password (activated through EduConnect or FranceConnect, signs in
// only there): the « Changer de mot de passe » form always answered « mot de passe actuel incorrect », since there
// was none to give. The page now says instead that the account signs in with its provider and has no Trousseau
// password (no form), French first, English in step; a posted form gets the same sentence, not « incorrect ».
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { savePolicy } from '../src/directory/policies.js';
import { fileContext, sqlReaders } from './helpers/db.js';
import { createUser, fileServer, signedInClient } from './helpers/web.js';

const ctx = await fileContext();
const app = await fileServer(ctx);
const { q } = sqlReaders(ctx);
const [{ id: school }] = await q<{ id: string }>(`INSERT INTO structures (uai, name) VALUES ('0459001N', 'Collège des Noisetiers') RETURNING id`);

/** An activated parent of the school, without a password unless given one, linked to `provider` when named. */
async function parent(login: string, o: { password?: string; linked?: string } = {}) {
  const id = await createUser(ctx.database.pool, { login, profile: 'Relative', password: o.password });
  await q('INSERT INTO user_structures VALUES ($1, $2)', [id, school]);
  await q('UPDATE users SET activated_at = now() WHERE id = $1', [id]);
  if (o.linked) await q(`INSERT INTO federation_links (provider_id, subject, user_id, provider_name) VALUES ('p', $2, $1, $3)`, [id, `sub-${login}`, o.linked]);
  return signedInClient(app, ctx.database.pool, id);
}

/** The « Mot de passe » card of « Mon compte »: from its section to the section's end. */
const passwordCard = (body: string) => /<section class="card" aria-labelledby="h-password">[\s\S]*?<\/section>/.exec(body)?.[0] ?? '';

test('an account linked to EduConnect sees that it has no Trousseau password, and no form', async () => {
  const c = await parent('nina.federee', { linked: 'EduConnect' });
  const page = await c.get('/mon-compte?lang=fr');
  assert.equal(page.statusCode, 200, 'the page opens');
  const card = passwordCard(page.body);
  assert.match(card, /<h2 id="h-password">Mot de passe<\/h2>/, 'a heading names the card, labelling its section');
  assert.match(
    card,
    /Vous vous connectez avec EduConnect : votre compte n’a pas de mot de passe Trousseau, il n’y a donc rien à changer ici\. Votre mot de passe est celui de votre compte EduConnect, et c’est là qu’il se change\./,
    'the sentence names the provider',
  );
  assert.doesNotMatch(page.body, /action="\/mon-compte\/mot-de-passe"/, 'no password form');
  assert.doesNotMatch(page.body, /Changer de mot de passe/, 'nothing offers to change a password');
  const en = await c.get('/mon-compte?lang=en');
  assert.match(passwordCard(en.body), /<h2 id="h-password">Password<\/h2>/, 'English heading');
  assert.match(passwordCard(en.body), /You sign in with EduConnect: your account has no Trousseau password, so there is nothing to change here\./, 'English sentence');
});

test('a form posted anyway gets the same sentence, not « mot de passe actuel incorrect »', async () => {
  const c = await parent('noe.federe', { linked: 'FranceConnect' });
  await c.get('/mon-compte?lang=fr');
  const res = await c.post('/mon-compte/mot-de-passe', { current: 'nimporte quoi', password: 'une nouvelle phrase de passe', confirm: 'une nouvelle phrase de passe' });
  assert.equal(res.statusCode, 409, 'refused as a conflict with the account’s state');
  assert.doesNotMatch(res.body, /incorrect/, 'not told the current password is wrong');
  assert.match(res.body, /role="alert"[^>]*>[\s\S]*?Vous vous connectez avec FranceConnect : votre compte n’a pas de mot de passe Trousseau/, 'the sentence, as an alert');
  const { rows } = await ctx.database.pool.query(`SELECT password_hash FROM users WHERE login = 'noe.federe'`);
  assert.equal(rows[0].password_hash, null, 'still no password');
});

test('not linked: the provider of the school’s settings, else a general sentence; an account with a password keeps the form', async () => {
  const generic = await parent('lou.sansmdp');
  assert.match(passwordCard((await generic.get('/mon-compte?lang=fr')).body), /Vous vous connectez avec un fournisseur d’identité \(EduConnect, FranceConnect…\)/, 'no provider known');
  await savePolicy(ctx.database.pool, school, 'Relative', { signIn: 'external', provider: 'EduConnect', emailRequired: false, phoneRequired: false, minPasswordLength: 12, graceDays: 90, deletionDays: 90 }, null);
  // Saving the setting ended that session (opened without the provider, test/security/external-only-sessions.test.ts).
  const again = await signedInClient(app, ctx.database.pool, (await q<{ id: string }>(`SELECT id FROM users WHERE login = 'lou.sansmdp'`))[0].id);
  assert.match(passwordCard((await again.get('/mon-compte?lang=fr')).body), /Vous vous connectez avec EduConnect :/, 'the school’s provider');
  await savePolicy(ctx.database.pool, school, 'Relative', { signIn: 'code', provider: null, emailRequired: false, phoneRequired: false, minPasswordLength: 12, graceDays: 90, deletionDays: 90 }, null);
  const withPassword = await parent('max.motdepasse', { password: 'phrase de passe de max' });
  const card = passwordCard((await withPassword.get('/mon-compte?lang=fr')).body);
  assert.match(card, /action="\/mon-compte\/mot-de-passe"/, 'the form is there');
  assert.match(card, /Changer de mot de passe/, 'under its heading');
});
