// The FR | EN switch on the family's pages, in real Chromium: a parent with little French switches to English
// wherever they are — also on a page that answers a sent form (activation step 2, an error) — and stays on the same
// task: never a « page introuvable », never « lien invalide », never the code to type again.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { a11ySuite, familyStates } from './helpers/a11y.js';

const env = a11ySuite();

/** What each page state's English link must lead to: its English title, and what is kept. */
const EXPECTED: Record<string, { title: RegExp; keeps?: Record<string, string | RegExp> }> = {
  'activation, étape 1, code faux': { title: /^Account activation — step 1 of 2/, keeps: { '#f-login': 'ines.garnier' } },
  'activation, étape 2': { title: /^Account activation/, keeps: { '#f-login': 'ines.garnier', '#f-code': /^[0-9A-Z]{4}-[0-9A-Z]{4}-[0-9A-Z]{2}$/ } },
  'activation, étape 2, erreurs': { title: /^Account activation/, keeps: { '#f-login': 'ines.garnier', '#f-code': /^[0-9A-Z]{4}-[0-9A-Z]{4}-[0-9A-Z]{2}$/ } },
  'renouvellement, code faux': { title: /^Password renewal — step 1 of 2/, keeps: { '#f-login': 'luc.garnier' } },
  'réinitialisation, erreurs': { title: /^New password — Trousseau$/ },
  'mon compte, erreurs': { title: /^My account — Trousseau$/ },
};

test('FR | EN after a sent form: the English page of the same task, what was given kept', async () => {
  const failures: string[] = [];
  const states = familyStates(env.accounts).filter((s) => s.name in EXPECTED);
  assert.equal(states.length, Object.keys(EXPECTED).length, 'every expected state is among the family states');
  for (const state of states) {
    const expected = EXPECTED[state.name];
    const context = await env.browser.newContext({ locale: 'fr-FR' });
    try {
      const page = await context.newPage();
      await state.open(page, env.server.url);
      const [response] = await Promise.all([page.waitForNavigation(), page.click('.lang-switch a[hreflang="en"]')]);
      const title = await page.title();
      if (response?.status() !== 200 || !expected.title.test(title)) {
        failures.push(`${state.name}: EN led to ${new URL(page.url()).pathname} (${response?.status()}, « ${title} »)`);
        continue;
      }
      assert.equal(await page.getAttribute('html', 'lang'), 'en', `${state.name}: the English page says so`);
      for (const [selector, value] of Object.entries(expected.keeps ?? {})) {
        const kept = await page.inputValue(selector).catch(() => '(no such field)');
        if (typeof value === 'string' ? kept !== value : !value.test(kept)) failures.push(`${state.name}: ${selector} is « ${kept} » in English`);
      }
    } finally {
      await context.close();
    }
  }
  assert.deepEqual(failures, [], 'the language switch lost the family’s place');
});

test('FR | EN is read as the languages’ names, the current one marked, the bar between them silent', async () => {
  const context = await env.browser.newContext({ locale: 'fr-FR' });
  try {
    const page = await context.newPage();
    await page.goto(`${env.server.url}/connexion`);
    const fr = await page.locator('.lang-switch').ariaSnapshot();
    assert.match(fr, /link "English"/, fr);
    assert.match(fr, /Français/, fr);
    assert.doesNotMatch(fr, /\||\bFR\b|\bEN\b/, fr);
    await Promise.all([page.waitForNavigation(), page.click('.lang-switch a[hreflang="en"]')]);
    const en = await page.locator('.lang-switch').ariaSnapshot();
    assert.match(en, /link "Français"/, en);
    assert.doesNotMatch(en, /\||\bFR\b|\bEN\b/, en);
    // Seen: the short codes and the bar, as before.
    assert.deepEqual(await page.locator('.lang-switch [aria-hidden="true"]').allInnerTexts(), ['FR', '|', 'EN']);
  } finally {
    await context.close();
  }
});
