// The family's error states that are not a form's own checks, in real Chromium: too many attempts (429) and a
// session that expired while a form was open. Each must be said where the family is (the same form, the step
// kept), announced (role alert, focus on it) and named by the page title (« Erreur : … »), with advice that works.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { Page } from 'playwright-core';
import { a11ySuite, PASSWORD } from './helpers/a11y.js';
import { signIn } from './helpers/browser.js';
import { createInactiveUser } from './helpers/web.js';

const env = a11ySuite();

/** Every later attempt from this machine (127.0.0.1) is over its limit until `release`. */
async function overLimit(): Promise<() => Promise<void>> {
  const pool = env.ctx.database.pool;
  const keys = ['auth:ip:127.0.0.1', 'reset:ip:127.0.0.1'];
  for (const key of keys) {
    await pool.query(
      `INSERT INTO rate_limits (key, window_start, hits) VALUES ($1, now(), 100000) ON CONFLICT (key) DO UPDATE SET window_start = now(), hits = 100000`,
      [key],
    );
  }
  return async () => void (await pool.query('DELETE FROM rate_limits WHERE key = ANY($1::text[])', [keys]));
}

/** The focused element's id once the page has settled (autofocus runs after load). */
async function focusedId(page: Page, expected: string): Promise<string> {
  await page.waitForFunction(`document.activeElement && document.activeElement.id === ${JSON.stringify(expected)}`, undefined, { timeout: 3_000 }).catch(() => undefined);
  return page.evaluate('document.activeElement ? document.activeElement.id : ""') as Promise<string>;
}

/** The answer to a submitted form: status, title, the focused alert's text. */
async function submit(page: Page, selector = 'main form button[type="submit"]'): Promise<number> {
  const [response] = await Promise.all([page.waitForNavigation(), page.click(selector)]);
  return response?.status() ?? 0;
}

async function assertAnnounced(page: Page, title: RegExp, message: RegExp): Promise<void> {
  assert.match(await page.title(), title);
  assert.equal(await focusedId(page, 'error-summary'), 'error-summary', `${await page.title()}: focus on the message`);
  assert.equal(await page.getAttribute('#error-summary', 'role'), 'alert');
  assert.match((await page.textContent('#error-summary')) ?? '', message);
}

test('too many attempts: said on the same form, focused, in the title, with the wait; what was typed is kept', async () => {
  const context = await env.browser.newContext({ locale: 'fr-FR' });
  const page = await context.newPage();
  const signedIn = await env.browser.newContext({ locale: 'fr-FR' });
  const account = await signedIn.newPage();
  await signIn(account, env.server.url, env.accounts.parent, PASSWORD, /\/mon-compte/);
  const release = await overLimit();
  try {
    const wait = /Trop de tentatives, réessayez dans 15 minutes\./;

    await page.goto(`${env.server.url}/activation`);
    await page.fill('#f-login', env.accounts.newcomer.login);
    await page.fill('#f-code', 'aaaa-bbbb-cc');
    assert.equal(await submit(page), 429);
    await assertAnnounced(page, /^Erreur : Activation du compte — étape 1 sur 2/, wait);
    assert.equal(await page.inputValue('#f-login'), env.accounts.newcomer.login);
    assert.equal(await page.inputValue('#f-code'), 'aaaa-bbbb-cc');
    assert.equal(await page.getAttribute('#f-code', 'aria-invalid'), null, 'the code is not said wrong: it was not checked');

    // The QR code's link, opened while over the limit: the step 1 form, filled in, with the wait.
    const response = await page.goto(`${env.server.url}/activation?login=${env.accounts.newcomer.login}&code=${env.accounts.newcomer.code}`);
    assert.equal(response?.status(), 429);
    await assertAnnounced(page, /^Erreur : Activation du compte — étape 1 sur 2/, wait);
    assert.equal(await page.inputValue('#f-login'), env.accounts.newcomer.login);

    await page.goto(`${env.server.url}/renouvellement`);
    await page.fill('#f-login', env.accounts.parent);
    await page.fill('#f-code', 'AAAA-BBBB-CC');
    assert.equal(await submit(page), 429);
    await assertAnnounced(page, /^Erreur : Renouvellement du mot de passe — étape 1 sur 2/, wait);

    await page.goto(`${env.server.url}/connexion`);
    await page.fill('#f-login', env.accounts.parent);
    await page.fill('#f-password', 'pas le bon mot de passe');
    assert.equal(await submit(page), 429);
    await assertAnnounced(page, /^Erreur : Connexion/, wait);
    assert.equal(await page.inputValue('#f-login'), env.accounts.parent);

    await page.goto(`${env.server.url}/mot-de-passe-oublie`);
    await page.fill('#f-identifier', env.accounts.parent);
    assert.equal(await submit(page), 429);
    await assertAnnounced(page, /^Erreur : Mot de passe oublié/, wait);
    assert.equal(await page.inputValue('#f-identifier'), env.accounts.parent);

    await account.fill('#f-current', 'pas le bon');
    await account.fill('#f-password', PASSWORD);
    await account.fill('#f-confirm', PASSWORD);
    assert.equal(await submit(account, 'form[action="/mon-compte/mot-de-passe"] button[type="submit"]'), 429);
    await assertAnnounced(account, /^Erreur : Mon compte/, wait);
  } finally {
    await release();
    await context.close();
    await signedIn.close();
  }
});

test('a session that expired while Mon compte was open: sign in again, told why, then back to Mon compte', async () => {
  const context = await env.browser.newContext({ locale: 'fr-FR' });
  const page = await context.newPage();
  try {
    await signIn(page, env.server.url, env.accounts.parent, PASSWORD, /\/mon-compte/);
    await env.ctx.database.pool.query('DELETE FROM sessions');
    await page.fill('#f-phone', '06 12 34 56 78');
    await submit(page, 'form[action="/mon-compte/coordonnees"] button[type="submit"]');
    assert.match(new URL(page.url()).pathname, /^\/connexion$/);
    await assertAnnounced(page, /^Erreur : Connexion/, /Votre session a expiré.*n’a pas été enregistré/s);
    await page.fill('#f-login', env.accounts.parent);
    await page.fill('#f-password', PASSWORD);
    await Promise.all([page.waitForURL(/\/mon-compte$/), page.click('main form[action="/connexion"] button[type="submit"]')]);

    // « Se déconnecter » once the session is over: signed out all the same, not a security error.
    await env.ctx.database.pool.query('DELETE FROM sessions');
    await submit(page, 'form.logout button[type="submit"]');
    assert.match(new URL(page.url()).pathname, /^\/connexion$/);
    assert.doesNotMatch((await page.textContent('main')) ?? '', /Jeton/);
  } finally {
    await context.close();
  }
});

test('an anonymous form sent once its security cookie is gone: the advice works (back to the form), the title names it', async () => {
  const context = await env.browser.newContext({ locale: 'fr-FR' });
  const page = await context.newPage();
  try {
    await page.goto(`${env.server.url}/activation`);
    await page.fill('#f-login', env.accounts.newcomer.login);
    await page.fill('#f-code', env.accounts.newcomer.code);
    await context.clearCookies();
    assert.equal(await submit(page), 403);
    assert.match(await page.title(), /^Erreur : Formulaire expiré/);
    const main = (await page.textContent('main')) ?? '';
    // Reloading a refused POST sends the same stale token again: it never helps.
    assert.doesNotMatch(main, /Rechargez la page/);
    const back = await page.getAttribute('main a[data-back]', 'href');
    assert.equal(back, '/activation');
    await Promise.all([page.waitForNavigation(), page.click('main a[data-back]')]);
    await page.fill('#f-login', env.accounts.newcomer.login);
    await page.fill('#f-code', env.accounts.newcomer.code);
    assert.equal(await submit(page), 200);
    assert.match(await page.title(), /étape 2 sur 2/);
  } finally {
    await context.close();
  }
});

test('a wrong or expired code: the message says what to do next (check the sheet, ask for a new code), read with both fields', async () => {
  const context = await env.browser.newContext({ locale: 'fr-FR' });
  const page = await context.newPage();
  try {
    // An expired code, typed exactly as printed: the family cannot fix it by retyping, only by asking for a new one.
    const login = 'lina.garnier';
    const { code } = await createInactiveUser(env.ctx.database.pool, env.ctx.secrets, { login, firstName: 'Lina', lastName: 'Garnier', profile: 'Relative', days: -1 });
    await page.goto(`${env.server.url}/activation`);
    await page.fill('#f-login', login);
    await page.fill('#f-code', code);
    assert.equal(await submit(page), 401, 'an expired code is refused');
    await assertAnnounced(page, /^Erreur : Activation du compte — étape 1 sur 2/, /incorrect ou expiré/);
    const advice = (await page.textContent('#error-summary')) ?? '';
    assert.match(advice, /fiche de connexion/, `the message points to the sheet to check the login and code against: « ${advice} »`);
    assert.match(advice, /expiré.*demandez.*nouveau code/s, `the message says how to get a new code: « ${advice} »`);
    assert.match((await page.getAttribute('#f-code', 'aria-describedby')) ?? '', /error-summary/, 'the code field is described by the message');

    await page.goto(`${env.server.url}/renouvellement`);
    await page.fill('#f-login', env.accounts.parent);
    await page.fill('#f-code', 'AAAA-BBBB-CC');
    assert.equal(await submit(page), 401, 'a wrong renewal code is refused');
    await assertAnnounced(page, /^Erreur : Renouvellement du mot de passe — étape 1 sur 2/, /incorrect ou expiré/);
    const renewal = (await page.textContent('#error-summary')) ?? '';
    assert.match(renewal, /demandez.*nouveau.*administrateur/s, `the renewal message says whom to ask for a new code: « ${renewal} »`);

    // The English page says the same.
    await page.goto(`${env.server.url}/activation?lang=en`);
    await page.fill('#f-login', login);
    await page.fill('#f-code', code);
    await submit(page);
    const english = (await page.textContent('#error-summary')) ?? '';
    assert.match(english, /sheet.*expired.*ask.*new code/s, `the English message gives the same advice: « ${english} »`);
  } finally {
    await context.close();
  }
});
