// axe-core (WCAG 2.0, 2.1 and 2.2, levels A and AA) in Chromium on every public page and its error states,
// and Mon compte, on a desktop (1366×900) and a phone (390×844) viewport: any violation fails.
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import { test } from 'node:test';
import type { Page } from 'playwright-core';
import { a11ySuite, familyStates } from './helpers/a11y.js';

const AXE = createRequire(import.meta.url).resolve('axe-core/axe.min.js');
const TAGS = ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'wcag22aa'];
const VIEWPORTS = [
  { name: '1366×900', viewport: { width: 1366, height: 900 } },
  { name: '390×844', viewport: { width: 390, height: 844 }, isMobile: true, hasTouch: true, deviceScaleFactor: 2 },
];

const env = a11ySuite();

/** Injects axe-core into the page and runs the WCAG A/AA rules on the whole document. */
async function runAxe(page: Page): Promise<AxeResult> {
  await page.addScriptTag({ path: AXE });
  return (await page.evaluate(
    (tags) => (globalThis as unknown as { axe: { run(c: unknown, o: unknown): Promise<unknown> } }).axe.run(document, { runOnly: { type: 'tag', values: tags } }),
    TAGS,
  )) as AxeResult;
}

interface AxeResult {
  violations: Array<{ id: string; impact: string; help: string; nodes: Array<{ target: string[] }> }>;
  passes: unknown[];
}

for (const { name: size, ...device } of VIEWPORTS) {
  test(`axe: no violation on the family's pages at ${size}`, async () => {
    const found: string[] = [];
    let checked = 0;
    for (const state of familyStates(env.accounts)) {
      // The page's Content-Security-Policy forbids inline scripts; axe is injected as one.
      const context = await env.browser.newContext({ locale: 'fr-FR', bypassCSP: true, ...device });
      const page = await context.newPage();
      await state.open(page, env.server.url);
      const result = await runAxe(page);
      assert.ok(result.passes.length > 10, `${state.name}: axe ran`);
      for (const v of result.violations) found.push(`${state.name} — ${v.id} (${v.impact}): ${v.help} — ${v.nodes.map((n) => n.target.join(' ')).join(', ')}`);
      checked++;
      await context.close();
    }
    assert.equal(checked, familyStates(env.accounts).length);
    assert.deepEqual(found, []);
  });
}

test('axe: the check itself reports a violation when there is one', async () => {
  const context = await env.browser.newContext({ locale: 'fr-FR' });
  const page = await context.newPage();
  await page.setContent('<!doctype html><html lang="fr"><title>t</title><main><input type="text"><img src="data:image/gif;base64,R0lGODlhAQABAAAAACw="></main></html>');
  const result = await runAxe(page);
  assert.deepEqual(result.violations.map((v) => v.id).sort(), ['image-alt', 'label']);
  await context.close();
});
