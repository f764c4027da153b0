// The family's path used with the keyboard only, in real Chromium, as a blind parent on a phone would (issue #13):
// where focus lands after each error, what the page title says, what each invalid field's accessible
// name/description carries (read from Chromium's accessibility tree), empty forms, the terms' way back, the
// code field, and the console pages at 390 px (no sideways scroll, no decorative glyph read aloud).
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import type { BrowserContext, Page } from 'playwright-core';
import { a11ySuite, PASSWORD } from './helpers/a11y.js';
import { signIn } from './helpers/browser.js';
import { createInactiveUser } from './helpers/web.js';

const env = a11ySuite();
let context: BrowserContext;

const PHONE = { viewport: { width: 390, height: 844 }, isMobile: true, hasTouch: true, deviceScaleFactor: 2 };

async function phonePage(): Promise<Page> {
  context = await env.browser.newContext({ locale: 'fr-FR', ...PHONE });
  return context.newPage();
}

/** The focused element's id once the page has settled (autofocus runs after load). */
async function focusedId(page: Page, expected: string): Promise<string> {
  await page.waitForFunction(`document.activeElement && document.activeElement.id === ${JSON.stringify(expected)}`, undefined, { timeout: 3_000 }).catch(() => undefined);
  return page.evaluate('document.activeElement ? document.activeElement.id : ""') as Promise<string>;
}

interface AxField {
  name: string;
  description: string;
  invalid: boolean;
}

/** What a screen reader gets for the element: accessible name, description and invalid state (Chromium's AX tree). */
async function ax(page: Page, selector: string): Promise<AxField> {
  const cdp = await page.context().newCDPSession(page);
  try {
    const { root } = (await cdp.send('DOM.getDocument', { depth: 0 })) as { root: { nodeId: number } };
    const { nodeId } = (await cdp.send('DOM.querySelector', { nodeId: root.nodeId, selector })) as { nodeId: number };
    assert.ok(nodeId, `${selector} is on the page`);
    const { nodes } = (await cdp.send('Accessibility.getPartialAXTree', { nodeId, fetchRelatives: false })) as {
      nodes: Array<{ name?: { value: string }; description?: { value: string }; properties?: Array<{ name: string; value: { value: unknown } }> }>;
    };
    const n = nodes[0];
    const invalid = n.properties?.find((p) => p.name === 'invalid')?.value.value;
    return { name: n.name?.value ?? '', description: n.description?.value ?? '', invalid: invalid !== undefined && invalid !== 'false' };
  } finally {
    await cdp.detach();
  }
}

/** Every text the accessibility tree would read on the page. */
async function spokenTexts(page: Page): Promise<string[]> {
  const cdp = await page.context().newCDPSession(page);
  try {
    const { nodes } = (await cdp.send('Accessibility.getFullAXTree')) as { nodes: Array<{ ignored?: boolean; name?: { value: string } }> };
    return nodes.filter((n) => !n.ignored && n.name?.value).map((n) => n.name!.value);
  } finally {
    await cdp.detach();
  }
}

/** Presses Enter in the focused field and waits for the answer page. */
async function enter(page: Page): Promise<void> {
  await Promise.all([page.waitForNavigation(), page.keyboard.press('Enter')]);
}

/** Moves focus with Tab (keyboard only) until `selector` has it. */
async function tabTo(page: Page, selector: string): Promise<void> {
  for (let i = 0; i < 30; i++) {
    if (await page.evaluate(`document.activeElement === document.querySelector(${JSON.stringify(selector)})`)) return;
    await page.keyboard.press('Tab');
  }
  assert.fail(`${selector} never reached with Tab`);
}

async function typeInto(page: Page, selector: string, value: string): Promise<void> {
  await tabTo(page, selector);
  await page.keyboard.press('ControlOrMeta+A');
  if (value) await page.keyboard.type(value);
  else await page.keyboard.press('Backspace');
}

test('keyboard-only activation: focus on the error summary after each error, every invalid field carries its error', async () => {
  const page = await phonePage();
  const { login, code } = env.accounts.newcomer;
  await page.goto(`${env.server.url}/activation`);
  assert.equal(await page.title(), 'Activation du compte — étape 1 sur 2 — Trousseau');
  assert.equal(await focusedId(page, 'f-login'), 'f-login');

  // Empty form: said so, field by field, not "incorrect ou expiré".
  await enter(page);
  assert.match(await page.title(), /^Erreur : Activation du compte — étape 1 sur 2/);
  assert.equal(await focusedId(page, 'error-summary'), 'error-summary');
  assert.doesNotMatch(await page.textContent('main') ?? '', /incorrect ou expiré/);
  const emptyLogin = await ax(page, '#f-login');
  assert.ok(emptyLogin.invalid);
  assert.match(emptyLogin.description, /Saisissez votre identifiant/);
  assert.match((await ax(page, '#f-code')).description, /Saisissez le code d’activation/);

  // Wrong code: both fields invalid, both described by the one (generic) message, focus on it.
  await typeInto(page, '#f-login', login);
  await typeInto(page, '#f-code', 'AAAA-BBBB-CC');
  await enter(page);
  assert.match(await page.title(), /^Erreur : Activation du compte — étape 1 sur 2/);
  assert.equal(await focusedId(page, 'error-summary'), 'error-summary');
  for (const f of ['#f-login', '#f-code']) {
    const a = await ax(page, f);
    assert.ok(a.invalid, `${f} is invalid`);
    assert.match(a.description, /Identifiant ou code d’activation incorrect ou expiré/, f);
  }

  await typeInto(page, '#f-code', code);
  await enter(page);
  assert.equal(await page.title(), 'Activation du compte — étape 2 sur 2 — Trousseau');
  assert.equal(await focusedId(page, 'f-password'), 'f-password');
  // The terms box is not reported invalid before anything was submitted, but is announced as required.
  assert.equal(await page.evaluate('document.querySelectorAll("#f-terms:invalid, #f-terms[required]").length'), 0);
  assert.equal(await page.getAttribute('#f-terms', 'aria-required'), 'true');
  assert.match(await page.textContent('main form') ?? '', /\* champ obligatoire/);
  assert.match((await ax(page, '#f-terms')).name, /nouvel onglet/);

  // Everything wrong at once: all errors in one answer, focus on the summary, valid input kept.
  await typeInto(page, '#f-password', 'court');
  await typeInto(page, '#f-confirm', 'autre');
  await typeInto(page, '#f-email', 'pas-une-adresse');
  await typeInto(page, '#f-phone', '06 12 34 56 78');
  await enter(page);
  assert.match(await page.title(), /^Erreur : Activation du compte — étape 2 sur 2/);
  assert.equal(await focusedId(page, 'error-summary'), 'error-summary');
  const expected: Record<string, RegExp> = {
    '#f-password': /au moins 12 caractères/,
    '#f-confirm': /ne sont pas identiques/,
    '#f-email': /n’est pas valide/,
    '#f-terms': /accepter les conditions/,
  };
  for (const [f, error] of Object.entries(expected)) {
    const a = await ax(page, f);
    assert.ok(a.invalid, `${f} is invalid`);
    assert.match(`${a.name} ${a.description}`, error, f);
  }
  assert.equal(await page.inputValue('#f-phone'), '06 12 34 56 78');
  assert.equal(await page.inputValue('#f-email'), 'pas-une-adresse');

  // Only the mismatch left: the valid password is kept, focus still on the summary.
  await typeInto(page, '#f-password', PASSWORD);
  await typeInto(page, '#f-confirm', `${PASSWORD} !`);
  await typeInto(page, '#f-email', 'ines@example.org');
  await tabTo(page, '#f-terms');
  await page.keyboard.press('Space');
  await enter(page);
  assert.equal(await focusedId(page, 'error-summary'), 'error-summary');
  assert.equal(await page.inputValue('#f-password'), PASSWORD);
  assert.equal(await page.inputValue('#f-confirm'), '');
  assert.ok(!(await ax(page, '#f-password')).invalid);
  assert.ok((await ax(page, '#f-confirm')).invalid);

  await typeInto(page, '#f-confirm', PASSWORD);
  await Promise.all([page.waitForURL(/\/mon-compte/), page.keyboard.press('Enter')]);
  await context.close();
});

test('sign-in: empty fields named, a wrong password marks and describes both fields, focus on the message', async () => {
  const page = await phonePage();
  await page.goto(`${env.server.url}/connexion`);
  await tabTo(page, '#f-login');
  await enter(page);
  assert.match(await page.title(), /^Erreur : Connexion/);
  assert.equal(await focusedId(page, 'error-summary'), 'error-summary');
  assert.match((await ax(page, '#f-login')).description, /Saisissez votre identifiant/);
  assert.match((await ax(page, '#f-password')).description, /Saisissez votre mot de passe/);

  await typeInto(page, '#f-login', env.accounts.parent);
  await typeInto(page, '#f-password', 'pas le bon mot de passe');
  await enter(page);
  assert.match(await page.title(), /^Erreur : Connexion/);
  assert.equal(await focusedId(page, 'error-summary'), 'error-summary');
  for (const f of ['#f-login', '#f-password']) {
    const a = await ax(page, f);
    assert.ok(a.invalid, f);
    assert.match(a.description, /Identifiant ou mot de passe incorrect/, f);
  }
  await context.close();
});

test('sign-in after « compte déjà activé » (or signed out): the notice has focus and is read first, then the form', async () => {
  const page = await phonePage();
  const focused = () => page.evaluate('({ id: document.activeElement.id, role: document.activeElement.getAttribute("role"), text: document.activeElement.textContent })') as Promise<{ id: string; role: string | null; text: string }>;
  await page.goto(`${env.server.url}/connexion?deja=1&login=${env.accounts.parent}`);
  assert.equal(await focusedId(page, 'notice'), 'notice', 'the notice, not the password field after it');
  const notice = await focused();
  assert.equal(notice.role, 'status');
  assert.match(notice.text, /Compte déjà activé/);
  // Then the form in reading order: the login (filled in), the password.
  assert.equal(await page.inputValue('#f-login'), env.accounts.parent);
  await page.keyboard.press('Tab');
  assert.equal((await focused()).id, 'f-login');
  await page.keyboard.press('Tab');
  assert.equal((await focused()).id, 'f-password');

  await page.goto(`${env.server.url}/connexion?bye=1`);
  assert.equal(await focusedId(page, 'notice'), 'notice');
  assert.match((await focused()).text, /Vous êtes déconnecté/);
  // Without a notice, the first empty field.
  await page.goto(`${env.server.url}/connexion`);
  assert.equal(await focusedId(page, 'f-login'), 'f-login');
  await context.close();
});

test('forgotten password sent empty: asks for the identifier instead of claiming a mail was sent', async () => {
  const page = await phonePage();
  await page.goto(`${env.server.url}/mot-de-passe-oublie`);
  await tabTo(page, '#f-identifier');
  await enter(page);
  assert.match(await page.title(), /^Erreur : Mot de passe oublié/);
  assert.equal(await focusedId(page, 'error-summary'), 'error-summary');
  assert.doesNotMatch(await page.textContent('main') ?? '', /courriel vient d’être envoyé/);
  assert.match((await ax(page, '#f-identifier')).description, /Saisissez votre identifiant ou votre adresse électronique/);
  await context.close();
});

test('reset and Mon compte: focus on the error summary, title starts with "Erreur : ", all errors at once', async () => {
  const page = await phonePage();
  await page.goto(`${env.server.url}/reinitialisation?token=${env.accounts.resetToken}`);
  await typeInto(page, '#f-password', 'court');
  await typeInto(page, '#f-confirm', 'autre');
  await enter(page);
  assert.match(await page.title(), /^Erreur : Nouveau mot de passe/);
  assert.equal(await focusedId(page, 'error-summary'), 'error-summary');
  assert.match((await ax(page, '#f-password')).description, /au moins 12 caractères/);
  assert.match((await ax(page, '#f-confirm')).description, /ne sont pas identiques/);

  await signIn(page, env.server.url, env.accounts.parent, PASSWORD, /\/mon-compte/);
  assert.doesNotMatch(await page.title(), /^Erreur/);
  await typeInto(page, '#f-current', 'pas le bon');
  await typeInto(page, '#f-password', 'court');
  await enter(page);
  assert.match(await page.title(), /^Erreur : Mon compte/);
  assert.equal(await focusedId(page, 'error-summary'), 'error-summary');
  assert.match((await ax(page, '#f-confirm')).description, /Saisissez à nouveau le mot de passe/);
  await context.close();
});

test('the code field is typed as printed; the terms page leads back to the step with the login and code', async () => {
  const page = await phonePage();
  // Its own account: the newcomer of the first test is activated by then.
  const login = 'noe.garnier';
  const { code } = await createInactiveUser(env.ctx.database.pool, env.ctx.secrets, { login, firstName: 'Noé', lastName: 'Garnier', profile: 'Relative' });
  // One-time-code: the phone offers the code from the mail that brought it, a password manager neither fills the
  // field with a saved entry nor offers to save it (« off » is no purpose, WCAG 1.3.5).
  for (const path of ['/activation', '/renouvellement']) {
    await page.goto(`${env.server.url}${path}`);
    const attrs = await page.evaluate(`(() => { const e = document.getElementById('f-code');
      return { autocomplete: e.getAttribute('autocomplete'), autocorrect: e.getAttribute('autocorrect'), autocapitalize: e.getAttribute('autocapitalize'),
        spellcheck: e.getAttribute('spellcheck'), enterkeyhint: e.getAttribute('enterkeyhint'), font: getComputedStyle(e).fontFamily }; })()`) as Record<string, string>;
    assert.deepEqual(
      { ...attrs, font: /mono/i.test(attrs.font) },
      { autocomplete: 'one-time-code', autocorrect: 'off', autocapitalize: 'characters', spellcheck: 'false', enterkeyhint: 'go', font: true },
      path,
    );
  }

  await page.goto(`${env.server.url}/activation?login=${login}&code=${code}`);
  // Opened from the QR code: both fields filled, the page says so, and Enter goes on (focus on « Continuer »).
  assert.match((await page.textContent('main')) ?? '', /sont repris de votre fiche : vérifiez-les, puis continuez/);
  assert.equal(await page.evaluate('document.activeElement.matches(\'main form button[type="submit"]\')'), true, 'focus on the button');
  await Promise.all([page.waitForNavigation(), page.keyboard.press('Enter')]);
  const href = await page.getAttribute('#f-terms + label a', 'href');
  await page.goto(`${env.server.url}${href}`);
  await Promise.all([page.waitForNavigation(), page.click(`main a[href^="/activation"]`)]);
  assert.equal(await page.inputValue('#f-login'), login);
  assert.equal((await page.inputValue('#f-code')).replace(/-/g, ''), code.replace(/-/g, ''));
  await context.close();
});

test('console at 390 px: publipostage and the school home do not scroll sideways; "›" is not read aloud', async () => {
  const page = await phonePage();
  await signIn(page, env.server.url, env.accounts.admin, PASSWORD, /\/console/);
  for (const path of [`/console/etablissements/${env.accounts.schoolId}`, `/console/etablissements/${env.accounts.schoolId}/publipostage`]) {
    await page.goto(`${env.server.url}${path}`);
    const { scrollWidth, clientWidth } = await page.evaluate('({ scrollWidth: document.scrollingElement.scrollWidth, clientWidth: document.scrollingElement.clientWidth })') as { scrollWidth: number; clientWidth: number };
    // On failure, name the widest elements that stick out, so the message says what to fix.
    const wide = scrollWidth <= clientWidth ? [] : await page.evaluate(`[...document.querySelectorAll('body *')]
      .filter((e) => e.getBoundingClientRect().right > document.scrollingElement.clientWidth + 1)
      .map((e) => e.tagName.toLowerCase() + (e.className ? '.' + String(e.className).split(' ').join('.') : '') + ' ' + Math.round(e.getBoundingClientRect().right))
      .slice(0, 12)`) as string[];
    assert.ok(scrollWidth <= clientWidth, `${path}: ${scrollWidth} px wide in a ${clientWidth} px viewport: ${wide.join(', ')}`);
    assert.ok(await page.$('.crumbs li + li'), `${path} has a breadcrumb`);
    const spoken = await spokenTexts(page);
    assert.ok(!spoken.some((t) => /[›▾]/.test(t)), `${path}: ${spoken.filter((t) => /[›▾]/.test(t)).join(', ')}`);
  }
  await context.close();
});

test('the class view\'s "▾" is decorative (CSS alternative text empty)', () => {
  const css = readFileSync('src/web/static/classe.css', 'utf8');
  const rules = [...css.matchAll(/content:\s*([^;]*▾[^;]*);/g)].map((m) => m[1]);
  assert.ok(rules.length > 0);
  assert.ok(rules.some((r) => /\/\s*""/.test(r)), rules.join(' | '));
});

test('the new password\'s rules are read before submitting: a password refused as too easy to guess was announced as such', async () => {
  const page = await phonePage();
  const login = 'mael.garnier';
  const { code } = await createInactiveUser(env.ctx.database.pool, env.ctx.secrets, { login, firstName: 'Maël', lastName: 'Garnier', profile: 'Relative' });
  await page.goto(`${env.server.url}/activation?login=${login}&code=${code}`);
  await tabTo(page, 'main form button[type="submit"]');
  await enter(page);
  await page.waitForSelector('#f-password');
  // What a screen reader reads on reaching the field, before anything is submitted.
  const before = (await ax(page, '#f-password')).description;
  assert.match(before, /au moins 12 caractères/i, `the length is announced: « ${before} »`);

  // 13 characters, long enough, but a word and a number: refused for being guessable.
  await typeInto(page, '#f-password', 'motdepasse123');
  await typeInto(page, '#f-confirm', 'motdepasse123');
  await tabTo(page, '#f-terms');
  await page.keyboard.press('Space');
  await enter(page);
  const refused = await ax(page, '#f-password');
  assert.ok(refused.invalid, 'the guessable password is refused');
  assert.match(refused.description, /trop facile à deviner/, `refused as guessable: « ${refused.description} »`);
  // Every kind of password the refusal names was announced by the hint beforehand (RGAA 11.10: format said before submitting).
  for (const [what, said] of [
    ['a common word', /mot (courant|seul)/],
    ['a date', /date/],
    ['a run of keys', /suite de (touches|clavier)/],
  ] as const) {
    assert.match(before, said, `the hint read before submitting names ${what}: « ${before} »`);
  }
  await context.close();
});

test('a form that succeeded says so first: the confirmation has focus (forgotten password sent, account activated, password changed)', async () => {
  const page = await phonePage();
  const focusedNotice = async (what: string, text: RegExp) => {
    assert.equal(await focusedId(page, 'notice'), 'notice', `${what}: focus on the confirmation, read first`);
    assert.equal(await page.getAttribute('#notice', 'role'), 'status', `${what}: the confirmation is a status`);
    assert.match((await page.textContent('#notice')) ?? '', text, `${what}: the confirmation's words`);
    assert.doesNotMatch(await page.title(), /^Erreur/, `${what}: no error in the title`);
  };

  await page.goto(`${env.server.url}/mot-de-passe-oublie`);
  await typeInto(page, '#f-identifier', env.accounts.parent);
  await enter(page);
  await focusedNotice('forgotten password', /Demande enregistrée, mais l’envoi de courriels n’est pas encore configuré/);

  const login = 'elio.garnier';
  const { code } = await createInactiveUser(env.ctx.database.pool, env.ctx.secrets, { login, firstName: 'Elio', lastName: 'Garnier', profile: 'Relative' });
  await page.goto(`${env.server.url}/activation?login=${login}&code=${code}`);
  await tabTo(page, 'main form button[type="submit"]');
  await enter(page);
  await typeInto(page, '#f-password', PASSWORD);
  await typeInto(page, '#f-confirm', PASSWORD);
  await tabTo(page, '#f-terms');
  await page.keyboard.press('Space');
  await Promise.all([page.waitForURL(/\/mon-compte/), page.keyboard.press('Enter')]);
  await focusedNotice('activation', /Votre compte est activé/);

  await typeInto(page, '#f-current', PASSWORD);
  await typeInto(page, '#f-password', `${PASSWORD} neuve`);
  await typeInto(page, '#f-confirm', `${PASSWORD} neuve`);
  await enter(page);
  await focusedNotice('password change', /Votre mot de passe a été changé/);
  await context.close();
});

test('a link of the error summary brings its field with its label, hint and error into view, and focuses it', async () => {
  const page = await phonePage();
  const login = 'lou.garnier';
  const { code } = await createInactiveUser(env.ctx.database.pool, env.ctx.secrets, { login, firstName: 'Lou', lastName: 'Garnier', profile: 'Relative' });
  await page.goto(`${env.server.url}/activation?login=${login}&code=${code}`);
  await enter(page);
  await page.fill('#f-password', 'court');
  await page.fill('#f-email', 'pas-une-adresse');
  await Promise.all([page.waitForNavigation(), page.click('main form button[type="submit"]')]);
  assert.equal(await focusedId(page, 'error-summary'), 'error-summary');
  const hrefs = await page.$$eval('#error-summary a', (as) => as.map((a) => a.getAttribute('href')!));
  assert.deepEqual(hrefs, ['#f-password', '#f-confirm', '#f-email', '#f-terms']);
  const failures: string[] = [];
  for (const href of hrefs) {
    await page.evaluate('window.scrollTo(0, 0)');
    await page.focus(`#error-summary a[href="${href}"]`);
    await page.keyboard.press('Enter');
    await page.waitForFunction(`document.activeElement && document.activeElement.id === ${JSON.stringify(href.slice(1))}`, undefined, { timeout: 2_000 }).catch(() => undefined);
    // Where the field's label, error and the field itself are: all within the viewport (a field scrolled to the very top
    // left its label and its error above the screen, where a magnified reader does not look).
    const seen = (await page.evaluate(`(() => {
      const input = document.activeElement;
      const field = input.closest('.field');
      const parts = [input, field.querySelector('label'), field.querySelector('.field-error')].filter(Boolean);
      const inView = parts.every((e) => { const r = e.getBoundingClientRect(); return r.top > -1 && r.bottom < innerHeight + 1; });
      return { id: input.id, inView, at: parts.map((e) => e.tagName + ' ' + Math.round(e.getBoundingClientRect().top) + '-' + Math.round(e.getBoundingClientRect().bottom)).join(', ') };
    })()`)) as { id: string; inView: boolean; at: string };
    if (seen.id !== href.slice(1) || !seen.inView) failures.push(`${href}: focus on #${seen.id}, field, label and error at ${seen.at}`);
  }
  assert.deepEqual(failures, []);
  await context.close();
});
