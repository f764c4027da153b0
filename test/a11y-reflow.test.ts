// Reflow (WCAG 1.4.10, RGAA 10.11) and text spacing (WCAG 1.4.12, RGAA 10.12) on the family's pages, in real
// Chromium: at 320 CSS px wide (a 1280 px screen zoomed to 400 %, or a small phone), with and without the text
// spacing a dyslexic reader's stylesheet applies, nothing may make the page scroll sideways — not even a long
// login (long surnames fold into one unbreakable word) or the example address of an error message; nor on the console's
// school home and publipostage pages, where a school's staff prepares the sheets.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { Page } from 'playwright-core';
import { a11ySuite, consoleStates, familyStates, PASSWORD, type PageState } from './helpers/a11y.js';
import { signIn } from './helpers/browser.js';
import { insertClass, insertUser } from './helpers/directory-sample.js';
import { createInactiveUser } from './helpers/web.js';

const env = a11ySuite();

/** The bookmarklet of WCAG 1.4.12's test: the largest spacing a user may ask for. */
const TEXT_SPACING = `* { line-height: 1.5 !important; letter-spacing: 0.12em !important; word-spacing: 0.16em !important; }
p { margin-bottom: 2em !important; }`;

/** How far the page is wider than the viewport, with the elements that stick out (to say what to fix). */
async function overflow(page: Page): Promise<{ scrollWidth: number; clientWidth: number; wide: string[] }> {
  return page.evaluate(`(() => {
    const root = document.scrollingElement;
    // Boxes wider than the viewport, or whose text runs out of them; the innermost ones say what to fix.
    const out = (e) => e.getBoundingClientRect().right > root.clientWidth + 0.5 || (e.scrollWidth > e.clientWidth + 1 && e.clientWidth > 0);
    const wide = [...document.querySelectorAll('body *')]
      .filter((e) => !['INPUT', 'SELECT', 'TEXTAREA'].includes(e.tagName) && !e.closest('.visually-hidden') && out(e) && ![...e.children].some(out))
      .map((e) => e.tagName.toLowerCase() + (e.id ? '#' + e.id : '') + ' « ' + (e.textContent || '').trim().replace(/\\s+/g, ' ').slice(0, 50) + ' »')
      .slice(0, 6);
    return { scrollWidth: root.scrollWidth, clientWidth: root.clientWidth, wide };
  })()`);
}

async function assertNoSidewaysScroll(state: PageState, failures: string[]): Promise<void> {
  const context = await env.browser.newContext({ locale: 'fr-FR', viewport: { width: 320, height: 640 } });
  try {
    const page = await context.newPage();
    await state.open(page, env.server.url);
    for (const spacing of [false, true]) {
      if (spacing) await page.addStyleTag({ content: TEXT_SPACING });
      const o = await overflow(page);
      if (o.scrollWidth > o.clientWidth) {
        failures.push(`${state.name}${spacing ? ' (text spacing)' : ''}: ${o.scrollWidth} px wide in ${o.clientWidth} px — ${o.wide.join(', ')}`);
      }
    }
  } finally {
    await context.close();
  }
}

test('at 320 px, with and without text spacing, no family page scrolls sideways', async () => {
  const failures: string[] = [];
  const states = familyStates(env.accounts);
  for (const state of states) await assertNoSidewaysScroll(state, failures);
  assert.ok(states.length > 15, `only ${states.length} page states checked`);
  assert.deepEqual(failures, [], 'pages wider than a 320 px viewport');
});

test('at 320 px, a long login (one unbreakable word) wraps on the activation step instead of widening the page', async () => {
  const login = 'maximilien.vandenbergheschoonhoven';
  const { code } = await createInactiveUser(env.ctx.database.pool, env.ctx.secrets, {
    login,
    firstName: 'Maximilien',
    lastName: 'Vandenbergheschoonhoven',
    profile: 'Relative',
  });
  const failures: string[] = [];
  await assertNoSidewaysScroll(
    {
      name: 'activation, étape 2, identifiant long',
      open: async (p, base) => {
        await p.goto(`${base}/activation?login=${login}&code=${code}`);
        await Promise.all([p.waitForNavigation(), p.click('main form button[type="submit"]')]);
        await p.waitForSelector('#f-password');
        assert.match((await p.textContent('main')) ?? '', new RegExp(login.replace('.', '\\.')), 'the step names the account');
      },
    },
    failures,
  );
  assert.deepEqual(failures, [], 'the step with a long login is wider than a 320 px viewport');
});

test('at 320 px, with and without text spacing, the console\'s school home and publipostage pages do not scroll sideways', async () => {
  // The school home's chart needs a class with a pupil still to activate.
  const pool = env.ctx.database.pool;
  const cls = await insertClass(pool, env.accounts.schoolId, '6e A');
  await insertUser(pool, { firstName: 'Ana', lastName: 'Élève', structureIds: [env.accounts.schoolId], classIds: [cls] });
  const school = `/console/etablissements/${env.accounts.schoolId}`;
  const failures: string[] = [];
  const states: PageState[] = [
    ...consoleStates(env.accounts),
    ...[
      ['console, accueil de l’établissement', school],
      ['console, lettres du publipostage', `${school}/publipostage/lettres`],
    ].map(([name, path]): PageState => ({
      name,
      open: async (p, base) => {
        await signIn(p, base, env.accounts.admin, PASSWORD, /\/console/);
        await p.goto(`${base}${path}`);
      },
    })),
  ];
  for (const state of states) await assertNoSidewaysScroll(state, failures);
  assert.deepEqual(failures, [], 'console pages wider than a 320 px viewport');
});
