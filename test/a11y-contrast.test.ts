// Contrast of the focus ring and of form field borders (WCAG 1.4.11 / RGAA 3.3: at least 3:1 against what
// surrounds them), computed from the CSS the server actually sends, as Chromium applies it, on the family's
// pages and in the console.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { Page } from 'playwright-core';
import { a11ySuite, consoleStates, CONTRAST_SCRIPT, familyStates, type PageState } from './helpers/a11y.js';
import { frenchContext } from './helpers/browser.js';

const env = a11ySuite();

const FIELDS = 'main input:not([type=hidden]):not([hidden]):not([type=checkbox]):not([type=radio]):not([type=file]), main select, main textarea';

interface Measure {
  what: string;
  ratio: number;
  width: number;
}

declare global {
  // Defined in the page by CONTRAST_SCRIPT.
  function trousseauContrast(color: string, behind: Element | null): number;
}

/** Every visible text field of the page: its border against the field's inside and outside, its focus ring against what is around it. */
async function measure(page: Page): Promise<Measure[]> {
  const out: Measure[] = [];
  const fields = page.locator(FIELDS);
  for (let i = 0; i < (await fields.count()); i++) {
    const field = fields.nth(i);
    if (!(await field.isVisible())) continue;
    const id = (await field.getAttribute('name')) ?? String(i);
    const border = await field.evaluate((el) => {
      const s = getComputedStyle(el);
      return { outside: trousseauContrast(s.borderTopColor, el.parentElement), inside: trousseauContrast(s.borderTopColor, el), width: parseFloat(s.borderTopWidth) };
    });
    out.push({ what: `border of ${id} (outside)`, ratio: border.outside, width: border.width }, { what: `border of ${id} (inside)`, ratio: border.inside, width: border.width });
    await field.focus();
    const ring = await field.evaluate((el) => {
      const s = getComputedStyle(el);
      return { ratio: trousseauContrast(s.outlineColor, el.parentElement), width: s.outlineStyle === 'none' ? 0 : parseFloat(s.outlineWidth), visible: el.matches(':focus-visible') };
    });
    assert.ok(ring.visible, `${id} shows its focus`);
    out.push({ what: `focus ring of ${id}`, ratio: ring.ratio, width: ring.width });
  }
  // A button reached with the keyboard.
  const button = page.locator('main button[type=submit]').first();
  if (await button.count()) {
    await button.focus();
    await page.keyboard.press('Shift+Tab');
    await page.keyboard.press('Tab');
    const ring = await page.evaluate(() => {
      const el = document.activeElement!;
      const s = getComputedStyle(el);
      return { ratio: trousseauContrast(s.outlineColor, el.parentElement), width: s.outlineStyle === 'none' ? 0 : parseFloat(s.outlineWidth), tag: el.tagName };
    });
    out.push({ what: `focus ring of a ${ring.tag.toLowerCase()}`, ratio: ring.ratio, width: ring.width });
  }
  return out;
}

async function newPage(): Promise<Page> {
  const context = await frenchContext(env.browser);
  await context.addInitScript({ content: CONTRAST_SCRIPT });
  return context.newPage();
}

test('WCAG contrast: the ratio of black on white is 21, of #767676 on white 4.54', async () => {
  const page = await newPage();
  await page.setContent('<div style="background:#fff"><p style="background:transparent">x</p></div>');
  const ratio = (color: string) => page.evaluate((c) => trousseauContrast(c, document.querySelector('p')), color);
  assert.equal(Math.round((await ratio('rgb(0, 0, 0)')) * 100) / 100, 21);
  assert.equal(Math.round((await ratio('rgb(118, 118, 118)')) * 100) / 100, 4.54);
  // The former focus colour (#f0b400) and field border (#9aa3b2), as measured in issue #13.
  assert.equal(Math.round((await ratio('rgb(240, 180, 0)')) * 100) / 100, 1.87);
  assert.equal(Math.round((await ratio('rgb(154, 163, 178)')) * 100) / 100, 2.54);
  await page.context().close();
});

test('focus ring and field borders reach 3:1 on the family pages and in the console', async () => {
  const states: PageState[] = [...familyStates(env.accounts), ...consoleStates(env.accounts)];
  const failures: string[] = [];
  let measured = 0;
  for (const state of states) {
    const page = await newPage();
    await state.open(page, env.server.url);
    for (const m of await measure(page)) {
      measured++;
      if (m.ratio < 3 || m.width < 1) failures.push(`${state.name}: ${m.what} ${m.ratio.toFixed(2)}:1, ${m.width}px`);
    }
    await page.context().close();
  }
  assert.ok(measured > 40, `only ${measured} measures`);
  assert.deepEqual(failures, []);
});
