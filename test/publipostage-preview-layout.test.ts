// The publipostage preview takes the page's whole width below the form and the counters (console.css .pp-preview):
// at 1280 px its eight columns fit their frame — no sideways scroll, the « Date de création » column in view — and an
// e-mail address wraps only before « @ » or a dot, never a few letters a line. On a phone (390 px) the table scrolls
// inside its own labelled, focusable region, never the page.
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import { test } from 'node:test';
import type { Page } from 'playwright-core';
import { a11ySuite, PASSWORD } from './helpers/a11y.js';
import { screenshotPath, signIn } from './helpers/browser.js';
import { insertClass } from './helpers/directory-sample.js';
import { createInactiveUser } from './helpers/web.js';

const env = a11ySuite();
const AXE = createRequire(import.meta.url).resolve('axe-core/axe.min.js');
let url: string | undefined;

/** The class of four pupils with long names and addresses, once (the suite's own hooks set the context up). */
async function ready(): Promise<string> {
  if (url) return url;
  const pool = env.ctx.database.pool;
  const school = env.accounts.schoolId;
  const cls = await insertClass(pool, school, '6e A');
  // Long names and addresses, as a real class has some.
  const pupils = [
    ['Marie-Clémentine', 'DE LA ROCHEFOUCAULD-MONTBAZON', 'marie-clementine.delarochefoucauld@parents.example.org'],
    ['Jean-Baptiste', 'VANDENBERGHE', 'jean-baptiste.vandenberghe@ac-creteil.example.fr'],
    ['Zoé', 'MARTIN', 'zoe.martin@example.org'],
    ['Ilyès', 'BENSAÏD', 'ilyes.bensaid.famille@messagerie.example.com'],
  ];
  for (const [i, [first, last, email]] of pupils.entries()) {
    const { id } = await createInactiveUser(pool, env.ctx.secrets, { login: `eleve.layout${i}`, firstName: first, lastName: last, profile: 'Student', email });
    await pool.query('INSERT INTO user_structures (user_id, structure_id) VALUES ($1, $2)', [id, school]);
    await pool.query('INSERT INTO user_classes (user_id, class_id) VALUES ($1, $2)', [id, cls]);
  }
  url = `/console/etablissements/${school}/publipostage?profiles=Student&activation=inactive&classIds=${cls}`;
  return url;
}

interface Measure {
  wrap: number;
  table: number;
  wrapScroll: number;
  pageScroll: number;
  viewport: number;
  mainWidth: number;
  previewWidth: number;
  rows: number;
  /** Addresses whose text is broken elsewhere than before « @ » or a dot. */
  midWord: string[];
  lastColumnVisible: boolean;
}

async function open(width: number, height: number): Promise<{ page: Page; m: Measure; close(): Promise<void> }> {
  const path = await ready();
  const context = await env.browser.newContext({ locale: 'fr-FR', viewport: { width, height }, bypassCSP: true });
  const page = await context.newPage();
  await signIn(page, env.server.url, env.accounts.admin, PASSWORD, /\/console/);
  await page.goto(`${env.server.url}${path}`);
  await page.waitForSelector('[data-preview] tbody tr');
  const m = (await page.evaluate(`(() => {
    const wrap = document.querySelector('.preview-wrap');
    const table = wrap.querySelector('table');
    const main = document.querySelector('.pp-layout');
    // Each line of an e-mail cell, from the rectangles of its text: a line must end before « @ » or a dot.
    const midWord = [];
    for (const td of table.querySelectorAll('td.email')) {
      const text = td.textContent.trim();
      if (!text.includes('@')) continue;
      const range = document.createRange();
      const node = td;
      const walker = document.createTreeWalker(node, NodeFilter.SHOW_TEXT);
      const chars = [];
      for (let n = walker.nextNode(); n; n = walker.nextNode()) {
        for (let i = 0; i < n.length; i++) { range.setStart(n, i); range.setEnd(n, i + 1); const r = range.getClientRects()[0]; if (r) chars.push([n.data[i], r.top]); }
      }
      for (let i = 1; i < chars.length; i++) {
        if (chars[i][1] > chars[i - 1][1] + 2 && !/[@.]/.test(chars[i][0])) midWord.push(text + ' (before « ' + chars[i][0] + ' »)');
      }
    }
    const last = table.querySelector('thead th:last-child').getBoundingClientRect();
    const box = wrap.getBoundingClientRect();
    return {
      wrap: wrap.clientWidth, table: table.getBoundingClientRect().width, wrapScroll: wrap.scrollWidth,
      pageScroll: document.scrollingElement.scrollWidth, viewport: document.scrollingElement.clientWidth,
      mainWidth: main.getBoundingClientRect().width, previewWidth: document.querySelector('.pp-preview').getBoundingClientRect().width,
      rows: table.querySelectorAll('tbody tr').length, midWord,
      lastColumnVisible: last.right <= box.right + 0.5,
    };
  })()`)) as Measure;
  return { page, m, close: () => context.close() };
}

test('at 1280×800 the preview spans the page below the form: the table fits its frame, addresses wrap only at @ and dots', async () => {
  const { page, m, close } = await open(1280, 800);
  try {
    await page.screenshot({ path: screenshotPath('publipostage-preview-1280'), fullPage: true });
    assert.equal(m.rows, 4);
    assert.ok(Math.abs(m.previewWidth - m.mainWidth) < 1, `the preview spans the layout: ${m.previewWidth} of ${m.mainWidth} px`);
    assert.ok(m.table <= m.wrap + 0.5, `table ${m.table} px in a ${m.wrap} px frame`);
    assert.ok(m.wrapScroll <= m.wrap, `the frame scrolls sideways: ${m.wrapScroll} px in ${m.wrap} px`);
    assert.ok(m.lastColumnVisible, '« Date de création » in view');
    assert.deepEqual(m.midWord, [], 'e-mail addresses broken mid-word');
    assert.ok(m.pageScroll <= m.viewport, `page ${m.pageScroll} px wide in ${m.viewport} px`);
  } finally {
    await close();
  }
});

test('at 390×844 the page does not scroll sideways: the table scrolls in a labelled region the keyboard reaches', async () => {
  const { page, m, close } = await open(390, 844);
  try {
    await page.screenshot({ path: screenshotPath('publipostage-preview-390'), fullPage: true });
    assert.ok(m.pageScroll <= m.viewport, `page ${m.pageScroll} px wide in ${m.viewport} px`);
    const region = page.locator('.preview-wrap');
    assert.equal(await region.getAttribute('role'), 'region');
    assert.ok(await region.getAttribute('aria-label'));
    assert.equal(await region.getAttribute('tabindex'), '0');
    // Needed here: eight columns do not fit a phone; the region scrolls, and the keyboard scrolls it.
    assert.ok(m.wrapScroll > m.wrap, 'the table scrolls inside its region on a phone');
    await region.focus();
    await page.keyboard.press('ArrowRight');
    await page.waitForFunction(() => (document.querySelector('.preview-wrap')?.scrollLeft ?? 0) > 0);
    // axe on the preview (its scrolling region among others): no WCAG A/AA violation.
    await page.addScriptTag({ path: AXE });
    const result = (await page.evaluate(() =>
      (globalThis as unknown as { axe: { run(c: unknown, o: unknown): Promise<unknown> } }).axe.run(
        { include: [['.pp-layout']] },
        { runOnly: { type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'wcag22aa'] } },
      ),
    )) as { violations: Array<{ id: string }>; passes: unknown[] };
    assert.ok(result.passes.length > 3);
    assert.deepEqual(result.violations.map((v) => v.id), []);
  } finally {
    await close();
  }
});
