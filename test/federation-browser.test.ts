// Signing in with identity providers in real Chromium (issue #12, Trousseau as a relying party), against real local
// providers: an OpenID provider playing FranceConnect (oidc-provider) and a SAML IdP playing EduConnect (samlify).
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import type { Browser, Page } from 'playwright-core';
import { hashPassword } from '../src/accounts/passwords.js';
import { externalProviderSql } from '../src/directory/policies.js';
import { enableEverywhere } from '../src/federation/enablement.js';
import { parseFederation } from '../src/federation/providers.js';
import { frenchContext, launchBrowser, startApp } from './helpers/browser.js';
import { testContext } from './helpers/db.js';
import { insertClass, insertStructure, insertUser, relate } from './helpers/directory-sample.js';
import { startOidcIdp, startSamlIdp, type TestOidcIdp, type TestSamlIdp } from './helpers/idp.js';

let ctx: Awaited<ReturnType<typeof testContext>>;
let server: { url: string; close(): Promise<void> };
let browser: Browser;
let fc: TestOidcIdp;
let ec: TestSamlIdp;
const ids: Record<string, string> = {};
const inAMonth = () => new Date(Date.now() + 30 * 86_400_000);

before(async () => {
  ctx = await testContext();
  server = await startApp(ctx);
  browser = await launchBrowser();
  fc = await startOidcIdp(server.url, 'franceconnect');
  ec = await startSamlIdp(async () => (await fetch(`${server.url}/federation/educonnect/metadata`)).text());
  ctx.config.federation = parseFederation({
    providers: [
      {
        id: 'educonnect', label: 'EduConnect', kind: 'saml', entryPoint: ec.ssoUrl, idpCert: ec.cert, idpIssuer: ec.entityId, logoutUrl: ec.logoutUrl,
        match: ['externalId', 'ine'],
        attributes: {
          externalId: 'ENTPersonJointure', ine: 'FrEduCtEleveINE', givenName: 'givenName', familyName: 'sn', uai: 'FrEduCtEleveUAI',
          profile: { attribute: 'FrEduCtPersonAffiliation', values: { resp2d: 'Relative', eleve2d: 'Student' } },
        },
      },
      {
        id: 'franceconnect', label: 'FranceConnect', kind: 'oidc', issuer: fc.issuer, clientId: fc.clientId, clientSecret: fc.clientSecret,
        scopes: ['openid', 'given_name', 'family_name', 'birthdate', 'email', 'preferred_username'], allowHttp: true, match: ['nameBirthDate'],
      },
    ],
  });
  const pool = ctx.database.pool;
  const s1 = await insertStructure(pool, 'Collège Jean Moulin', '0750001A');
  const s2 = await insertStructure(pool, 'Lycée Victor Hugo', '0750002B');
  const c1 = await insertClass(pool, s1, '6A');
  const c2 = await insertClass(pool, s2, '2NDE1');
  // EduConnect: a parent known by its AAF jointure (code pending), a pupil by its INE, a blocked parent.
  ids.pupil = await insertUser(pool, { firstName: 'Zoé', lastName: 'LEFEVRE', structureIds: [s1], classIds: [c1], codeExpiresAt: inAMonth() });
  await pool.query("UPDATE users SET ine = '070123456AB' WHERE id = $1", [ids.pupil]);
  ids.sophie = await insertUser(pool, { firstName: 'Sophie', lastName: 'LEFEVRE', profile: 'Relative', externalId: 'AAF-RESP-1', codeExpiresAt: inAMonth() });
  await relate(pool, ids.sophie, ids.pupil);
  ids.blocked = await insertUser(pool, { firstName: 'Marc', lastName: 'BLOQUE', profile: 'Relative', externalId: 'AAF-RESP-9', codeExpiresAt: inAMonth() });
  await relate(pool, ids.blocked, ids.pupil);
  await pool.query('UPDATE users SET blocked = true WHERE id = $1', [ids.blocked]);
  // FranceConnect: a parent already activated (password), and one with two accounts (a child in each school).
  const child2 = await insertUser(pool, { firstName: 'Léo', lastName: 'MOREAU', structureIds: [s1], classIds: [c1] });
  ids.jp = await insertUser(pool, { firstName: 'Jean-Pierre', lastName: 'MOREAU', profile: 'Relative', birthDate: '1979-02-03', activated: true });
  await relate(pool, ids.jp, child2);
  const child3 = await insertUser(pool, { firstName: 'Inès', lastName: 'DUBOIS', structureIds: [s1], classIds: [c1] });
  const child4 = await insertUser(pool, { firstName: 'Hugo', lastName: 'DUBOIS', structureIds: [s2], classIds: [c2] });
  ids.claire1 = await insertUser(pool, { firstName: 'Claire', lastName: 'DUBOIS', profile: 'Relative', birthDate: '1982-06-07', codeExpiresAt: inAMonth() });
  ids.claire2 = await insertUser(pool, { firstName: 'Claire', lastName: 'Dubois', profile: 'Relative', birthDate: '1982-06-07', codeExpiresAt: inAMonth() });
  await relate(pool, ids.claire1, child3);
  await relate(pool, ids.claire2, child4);
  await enableEverywhere(pool, 'educonnect', ['Relative', 'Student']);
  await enableEverywhere(pool, 'franceconnect', ['Relative']);
  fc.persons.set('fc-jp', { given_name: 'Jean Pierre Louis', family_name: 'Moreau', birthdate: '1979-02-03', email: 'jp.moreau@example.org' });
  fc.persons.set('fc-claire', { given_name: 'Claire', family_name: 'Dubois', birthdate: '1982-06-07' });
  fc.persons.set('fc-nobody', { given_name: 'Albert', family_name: 'Inconnu', birthdate: '1970-01-01' });
});

after(async () => {
  await browser?.close();
  await server?.close();
  await fc?.close();
  await ec?.close();
  await ctx?.close();
});

const row = async (sql: string, params: unknown[]) => (await ctx.database.pool.query(sql, params)).rows[0];
const account = (id: string) => row(
  `SELECT u.activated_at, u.terms_accepted_at, u.activation_code_mac, u.email, ${externalProviderSql('u')} AS provider FROM users u WHERE u.id = $1`, [id],
);
const links = async (id: string) => (await ctx.database.pool.query('SELECT provider_id, subject, provider_name FROM federation_links WHERE user_id = $1', [id])).rows;

const textOf = async (page: Page, selector: string): Promise<string> => (await page.locator(selector).textContent()) ?? '';

async function startAt(page: Page, provider: 'EduConnect' | 'FranceConnect'): Promise<void> {
  await page.goto(`${server.url}/connexion`);
  await page.getByRole('link', { name: `Se connecter avec ${provider}` }).click();
}

/** EduConnect's page: the person chosen by the test, the answer posted to Trousseau. */
async function throughEduConnect(page: Page): Promise<void> {
  await startAt(page, 'EduConnect');
  await page.waitForURL(/localhost:\d+\/sso/);
  await Promise.all([page.waitForURL((u) => u.href.startsWith(server.url)), page.click('#idp-continue')]);
}

/** FranceConnect (oidc-provider's development pages): sign in as `login`, consent, back to Trousseau. */
async function throughFranceConnect(page: Page, login: string): Promise<void> {
  await startAt(page, 'FranceConnect');
  await page.waitForURL(/localhost:\d+\/interaction\//);
  await page.fill('input[name="login"]', login);
  await page.fill('input[name="password"]', 'anything');
  await page.click('button[type="submit"]');
  await page.waitForURL(/localhost:\d+\/interaction\//);
  await Promise.all([page.waitForURL((u) => u.href.startsWith(server.url)), page.click('button[type="submit"]')]);
}

const ecPerson = (nameId: string, attributes: Record<string, string | string[]>) => {
  ec.person = { nameId, attributes };
  ec.mode = 'signed';
};

test('an unsigned or tampered EduConnect assertion is refused, and a replayed one too', async () => {
  const context = await frenchContext(browser);
  context.setDefaultTimeout(8000);
  const page = await context.newPage();
  ecPerson('ec-zoe', { FrEduCtPersonAffiliation: 'eleve2d', FrEduCtEleveINE: '070123456AB', givenName: 'Zoé', sn: 'LEFEVRE' });
  for (const mode of ['unsigned', 'tampered'] as const) {
    ec.mode = mode;
    await throughEduConnect(page);
    assert.match(await textOf(page, 'main'), /n’a pas abouti/, mode);
    assert.equal((await account(ids.pupil)).activated_at, null, mode);
  }
  // The genuine answer signs the pupil in (first sign-in: terms, then activated)…
  ec.mode = 'signed';
  await throughEduConnect(page);
  await page.check('#f-terms');
  await Promise.all([page.waitForURL(/\/mon-compte/), page.click('main button[type="submit"]')]);
  assert.notEqual((await account(ids.pupil)).activated_at, null);
  // …and posted again (stolen from the browser's history or the network), it is refused: single use.
  const replay = ec.lastResponse!;
  const res = await fetch(replay.acs, { method: 'POST', body: new URLSearchParams({ SAMLResponse: replay.SAMLResponse, RelayState: replay.RelayState }), redirect: 'manual' });
  assert.equal(res.status, 400);
  await context.close();
});

test('a parent signs in with EduConnect (AAF jointure) and lands activated; sign-out ends the EduConnect session too', async () => {
  const context = await frenchContext(browser);
  context.setDefaultTimeout(8000);
  const page = await context.newPage();
  ecPerson('ec-sophie-7f3a', { FrEduCtPersonAffiliation: 'resp2d', ENTPersonJointure: 'AAF-RESP-1', givenName: 'Sophie', sn: 'LEFEVRE' });
  assert.equal((await account(ids.sophie)).provider, null);
  await throughEduConnect(page);
  // First sign-in: the account is shown and the terms asked, no code.
  assert.match(await textOf(page, 'main'), /EduConnect vous a identifié/);
  await Promise.all([page.waitForURL(/\/federation\/educonnect\/choix/), page.click('main button[type="submit"]')]);
  assert.match(await textOf(page, 'main'), /accepter les conditions|conditions/i);
  await page.check('#f-terms');
  await Promise.all([page.waitForURL(/\/mon-compte\?ok=activated/), page.click('main button[type="submit"]')]);
  assert.match(await textOf(page, 'header'), /Sophie LEFEVRE/);
  const a = await account(ids.sophie);
  assert.ok(a.activated_at && a.terms_accepted_at, 'activated, terms accepted');
  assert.equal(a.activation_code_mac, null, 'the remaining code is consumed');
  // From now on the distribution rules say "signs in with EduConnect" (no sheet, no code).
  assert.equal(a.provider, 'EduConnect');
  assert.deepEqual(await links(ids.sophie), [{ provider_id: 'educonnect', subject: 'ec-sophie-7f3a', provider_name: 'EduConnect' }]);
  // Sign-out: the local session ends, then EduConnect's (SAML single logout), whose signed LogoutResponse answering
  // our LogoutRequest brings the browser back to the sign-in page.
  await Promise.all([page.waitForURL(/\/connexion\?bye=1$/), page.click('form.logout button')]);
  assert.equal(ec.logouts.length, 1);
  assert.equal((await row('SELECT count(*)::int AS n FROM sessions WHERE user_id = $1', [ids.sophie])).n, 0);
  // The same LogoutResponse again (posted, as the SP's metadata asks): the request it answers was already answered.
  const { url, SAMLResponse, RelayState } = ec.lastLogoutResponse!;
  const replay = await page.request.post(url, { form: { SAMLResponse: SAMLResponse!, RelayState: RelayState! } });
  assert.equal(replay.status(), 400);
  assert.match(await replay.text(), /EduConnect n’a pas confirmé la fin de votre session/);
  // The second time, the stored link signs in straight away.
  await throughEduConnect(page);
  await page.waitForURL(/\/mon-compte/);
  assert.match(await textOf(page, 'header'), /Sophie LEFEVRE/);
  await context.close();
});

test('a SAML LogoutResponse unsigned, or answering another request, is refused (POST and Redirect bindings): the page says the IdP session may be open', async () => {
  const context = await frenchContext(browser);
  context.setDefaultTimeout(8000);
  const page = await context.newPage();
  try {
    for (const [binding, mode] of [['post', 'unsigned'], ['post', 'foreign'], ['redirect', 'unsigned'], ['redirect', 'foreign'], ['redirect', 'signed']] as const) {
      // Sophie's account is linked (previous test): EduConnect signs her in straight away.
      ecPerson('ec-sophie-7f3a', { FrEduCtPersonAffiliation: 'resp2d', ENTPersonJointure: 'AAF-RESP-1', givenName: 'Sophie', sn: 'LEFEVRE' });
      await throughEduConnect(page);
      await page.waitForURL(/\/mon-compte/);
      const sessions = async () => (await row('SELECT count(*)::int AS n FROM sessions WHERE user_id = $1', [ids.sophie])).n as number;
      const open = await sessions();
      ec.sloMode = mode;
      ec.sloBinding = binding;
      const what = `${binding} ${mode}`;
      const [back] = await Promise.all([
        page.waitForResponse((r) => r.url().includes('/federation/educonnect/deconnexion')),
        page.click('form.logout button'),
      ]);
      if (mode === 'signed') {
        // A signed LogoutResponse over HTTP-Redirect (query signature) is accepted as well.
        assert.equal(back.status(), 303, what);
        await page.waitForURL(/\/connexion\?bye=1$/);
      } else {
        assert.equal(back.status(), 400, what);
        await page.waitForLoadState();
        assert.match(await textOf(page, 'h1'), /Déconnexion non confirmée/, what);
        assert.match(await textOf(page, 'main'), /EduConnect n’a pas confirmé la fin de votre session chez lui\. Fermez votre navigateur/, what);
      }
      // The local session ended all the same.
      assert.equal(await sessions(), open - 1, what);
    }
  } finally {
    ec.sloMode = 'signed';
    ec.sloBinding = 'post';
    await context.close();
  }
});

test('a blocked account found through EduConnect is refused as at password sign-in', async () => {
  const context = await frenchContext(browser);
  context.setDefaultTimeout(8000);
  const page = await context.newPage();
  ecPerson('ec-marc', { FrEduCtPersonAffiliation: 'resp2d', ENTPersonJointure: 'AAF-RESP-9', givenName: 'Marc', sn: 'BLOQUE' });
  await throughEduConnect(page);
  assert.match(await textOf(page, 'main'), /bloqué/);
  assert.equal((await account(ids.blocked)).activated_at, null);
  assert.deepEqual(await links(ids.blocked), []);
  await context.close();
});

test('FranceConnect: matched on family name, given names and birth date; its state cannot be replayed; sign-out goes through FranceConnect', async () => {
  const context = await frenchContext(browser);
  context.setDefaultTimeout(8000);
  const page = await context.newPage();
  let callback = '';
  page.on('request', (r) => {
    if (r.url().includes('/federation/franceconnect/retour')) callback = r.url();
  });
  await throughFranceConnect(page, 'fc-jp');
  await page.waitForURL(/\/mon-compte/);
  assert.match(await textOf(page, 'header'), /Jean-Pierre MOREAU/);
  assert.deepEqual(await links(ids.jp), [{ provider_id: 'franceconnect', subject: 'fc-jp', provider_name: 'FranceConnect' }]);
  // The same callback (code + state) again, in the same browser: refused, it signs nobody in.
  const other = await context.newPage();
  const res = await other.goto(callback);
  assert.equal(res?.status(), 400);
  assert.match(await textOf(other, 'main'), /n’a pas abouti/);
  await other.close();
  // Sign-out: to FranceConnect's end-session endpoint (RP-initiated logout), the local session already gone.
  await Promise.all([page.waitForRequest(/localhost:\d+\/session\/end\?.*id_token_hint=/), page.click('form.logout button')]);
  assert.equal((await row('SELECT count(*)::int AS n FROM sessions WHERE user_id = $1', [ids.jp])).n, 0);
  await context.close();
});

test('FranceConnect: nobody in the directory gets a page saying whom to contact, and no account', async () => {
  const context = await frenchContext(browser);
  context.setDefaultTimeout(8000);
  const page = await context.newPage();
  const before = (await row('SELECT count(*)::int AS n FROM users', [])).n;
  const sessions = (await row('SELECT count(*)::int AS n FROM sessions', [])).n;
  let status = 0;
  page.on('response', (r) => {
    if (r.url().includes('/federation/franceconnect/retour')) status = r.status();
  });
  await throughFranceConnect(page, 'fc-nobody');
  assert.equal(status, 403);
  const text = await textOf(page, 'main');
  assert.match(text, /Aucun compte à votre nom/);
  assert.match(text, /secrétariat de l’établissement/);
  assert.equal((await row('SELECT count(*)::int AS n FROM users', [])).n, before);
  assert.equal((await row('SELECT count(*)::int AS n FROM federation_links WHERE subject = $1', ['fc-nobody'])).n, 0);
  assert.equal((await row('SELECT count(*)::int AS n FROM sessions', [])).n, sessions, 'nobody signed in');
  await context.close();
});

test('FranceConnect: a parent with two accounts picks one', async () => {
  const context = await frenchContext(browser);
  context.setDefaultTimeout(8000);
  const page = await context.newPage();
  await throughFranceConnect(page, 'fc-claire');
  assert.match(await textOf(page, 'main'), /Plusieurs comptes/);
  assert.equal(await page.locator('input[name="account"]').count(), 2);
  const login2 = (await row('SELECT login FROM users WHERE id = $1', [ids.claire2])).login as string;
  await page.getByLabel(new RegExp(login2.replace('.', '\\.'))).check();
  await page.check('#f-terms');
  await Promise.all([page.waitForURL(/\/mon-compte\?ok=activated/), page.click('main button[type="submit"]')]);
  assert.notEqual((await account(ids.claire2)).activated_at, null);
  assert.equal((await account(ids.claire1)).activated_at, null, 'the other account is untouched');
  assert.equal((await links(ids.claire2)).length, 1);
  assert.equal((await links(ids.claire1)).length, 0);
  await context.close();
});

test('FranceConnect: a parent the directory cannot match (no birth date in the feed) links his account with its password, then signs in with FranceConnect directly', async () => {
  const pool = ctx.database.pool;
  const child = await insertUser(pool, { firstName: 'Nina', lastName: 'GARNIER' });
  const s = (await row("SELECT id FROM structures WHERE uai = '0750001A'", [])).id as string;
  await pool.query('INSERT INTO user_structures (user_id, structure_id) VALUES ($1, $2)', [child, s]);
  // The AAF feed gives parents no birth date: FranceConnect's name + birth date finds nobody.
  const paul = await insertUser(pool, { firstName: 'Paul', lastName: 'GARNIER', profile: 'Relative', activated: true });
  await relate(pool, paul, child);
  await pool.query('UPDATE users SET password_hash = $2 WHERE id = $1', [paul, await hashPassword('Garnier-2026-ok')]);
  const login = (await row('SELECT login FROM users WHERE id = $1', [paul])).login as string;
  fc.persons.set('fc-paul', { given_name: 'Paul Henri', family_name: 'Garnier', birthdate: '1975-04-05' });
  const context = await frenchContext(browser);
  context.setDefaultTimeout(8000);
  const page = await context.newPage();
  await throughFranceConnect(page, 'fc-paul');
  assert.match(await textOf(page, 'main'), /Aucun compte de l’ENT ne correspond|aucun compte de l’ENT ne correspond/);
  assert.match(await textOf(page, '#federation-link'), /Vous avez déjà un compte \?\s+Identifiez-vous pour l’associer à FranceConnect/);
  // A wrong password first: said, nothing linked, the form still there.
  await page.fill('#federation-link input[name="login"]', login);
  await page.fill('#federation-link input[name="password"]', 'not-his-password');
  await Promise.all([page.waitForURL(/\/federation\/franceconnect\/associer/), page.click('#federation-link button[type="submit"]')]);
  assert.match(await textOf(page, 'main'), /Identifiant ou mot de passe incorrect\. Aucun compte n’a été associé/);
  assert.deepEqual(await links(paul), []);
  await page.fill('#federation-link input[name="password"]', 'Garnier-2026-ok');
  await Promise.all([page.waitForURL(/\/mon-compte$/), page.click('#federation-link button[type="submit"]')]);
  assert.match(await textOf(page, 'header'), /Paul GARNIER/);
  assert.deepEqual(await links(paul), [{ provider_id: 'franceconnect', subject: 'fc-paul', provider_name: 'FranceConnect' }]);
  const audit = await row("SELECT details FROM audit WHERE action = 'federation.link' AND actor_id = $1", [paul]);
  assert.equal(audit.details.via, 'password');
  assert.equal(audit.details.subject, 'fc-paul');
  // Signed out (through FranceConnect's end-session endpoint), then FranceConnect alone opens his account.
  await Promise.all([page.waitForURL(/localhost:\d+\/session\/end/), page.click('form.logout button')]);
  await Promise.all([page.waitForURL(/\/connexion\?bye=1/), page.locator('button[autofocus]').first().click()]);
  assert.equal((await row('SELECT count(*)::int AS n FROM sessions WHERE user_id = $1', [paul])).n, 0);
  await throughFranceConnect(page, 'fc-paul');
  await page.waitForURL(/\/mon-compte/);
  assert.match(await textOf(page, 'header'), /Paul GARNIER/);
  await context.close();
});
