// Show / hide a password, in real Chromium with the keyboard only: a dyslexic parent types a long passphrase twice
// into hidden fields, and checks it before sending. Each password field is followed by a toggle button that says
// which field it shows (its visible word first: WCAG 2.5.3), its state (aria-pressed), keeps the focus and the value.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { Page } from 'playwright-core';
import { a11ySuite, PASSWORD } from './helpers/a11y.js';
import { createInactiveUser } from './helpers/web.js';

const env = a11ySuite();

async function buttonAfter(page: Page, field: string): Promise<{ name: string; visible: string; pressed: string | null; controls: string | null; w: number; h: number }> {
  await page.focus(field);
  await page.keyboard.press('Tab');
  return page.evaluate(`(() => {
    const b = document.activeElement;
    const r = b.getBoundingClientRect();
    const seen = b.cloneNode(true);
    for (const h of seen.querySelectorAll('.visually-hidden')) h.remove();
    return { tag: b.tagName, name: b.textContent.replace(/\\s+/g, ' ').trim(), visible: seen.textContent.trim(), pressed: b.getAttribute('aria-pressed'),
      controls: b.getAttribute('aria-controls'), w: r.width, h: r.height };
  })()`);
}

async function check(page: Page, what: string, fields: string[]): Promise<void> {
  for (const field of fields) {
    await page.fill(field, PASSWORD);
    const b = await buttonAfter(page, field);
    const label = ((await page.textContent(`label[for="${field.slice(1)}"]`)) ?? '').replace(/\*/g, '').trim();
    assert.equal(b.controls, field.slice(1), `${what} ${field}: the button right after the field controls it`);
    assert.ok(b.visible.length > 0 && b.name.startsWith(b.visible), `${what} ${field}: its name « ${b.name} » starts with its visible words « ${b.visible} »`);
    assert.ok(b.name.includes(label), `${what} ${field}: its name « ${b.name} » says which field (« ${label} »)`);
    assert.equal(b.pressed, 'false', `${what} ${field}: announced as not pressed`);
    assert.ok(b.w >= 24 && b.h >= 24, `${what} ${field}: a target of at least 24×24 px (${b.w}×${b.h})`);
    await page.keyboard.press('Space');
    assert.equal(await page.getAttribute(field, 'type'), 'text', `${what} ${field}: shown`);
    assert.equal(await page.evaluate('document.activeElement.getAttribute("aria-pressed")'), 'true', `${what} ${field}: announced as pressed, focus kept`);
    assert.equal(await page.inputValue(field), PASSWORD, `${what} ${field}: the value is kept`);
    await page.keyboard.press('Enter');
    assert.equal(await page.getAttribute(field, 'type'), 'password', `${what} ${field}: hidden again with Enter`);
  }
}

test('every password field of the family can be shown and hidden again with the keyboard', async () => {
  const context = await env.browser.newContext({ locale: 'fr-FR', viewport: { width: 390, height: 844 }, isMobile: true, hasTouch: true });
  const page = await context.newPage();
  try {
    await page.goto(`${env.server.url}/connexion`);
    await check(page, 'connexion', ['#f-password']);

    const login = 'tom.garnier';
    const { code } = await createInactiveUser(env.ctx.database.pool, env.ctx.secrets, { login, firstName: 'Tom', lastName: 'Garnier', profile: 'Relative' });
    await page.goto(`${env.server.url}/activation?login=${login}&code=${code}`);
    await Promise.all([page.waitForNavigation(), page.click('main form button[type="submit"]')]);
    await check(page, 'activation', ['#f-password', '#f-confirm']);

    await page.goto(`${env.server.url}/reinitialisation?token=${env.accounts.resetToken}`);
    await check(page, 'réinitialisation', ['#f-password', '#f-confirm']);

    // Shown when sent, it is still sent (and the next page's field hidden).
    await page.goto(`${env.server.url}/connexion`);
    await page.fill('#f-login', env.accounts.parent);
    await page.fill('#f-password', PASSWORD);
    await page.click('[aria-controls="f-password"]');
    await Promise.all([page.waitForURL(/\/mon-compte/), page.click('main form[action="/connexion"] button[type="submit"]')]);
    await check(page, 'mon compte', ['#f-current', '#f-password', '#f-confirm']);
  } finally {
    await context.close();
  }
});
