// The console home's activation chart and distribution funnel (issue #10) in real headless Chromium: the SVG bars
// are drawn with the right heights for the weeks accounts activated in, the chart has a name and a description in
// words, the figures are also a table, the profile/class filter narrows them, and axe finds no violation.
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import { after, before, test } from 'node:test';
import type { Page } from 'playwright-core';
import { recordDistribution } from '../src/publipostage/tracking.js';
import { type SignedInBrowser, signedInBrowser } from './helpers/browser.js';
import { testContext } from './helpers/db.js';
import { insertClass, insertStructure, insertUser } from './helpers/directory-sample.js';
import { createUser } from './helpers/web.js';

const PASSWORD = 'une phrase de passe solide';
const AXE = createRequire(import.meta.url).resolve('axe-core/axe.min.js');
let ctx: Awaited<ReturnType<typeof testContext>>;
let ui: SignedInBrowser;
let page: Page;
let school: string;
let classA: string;

before(async () => {
  ctx = await testContext();
  const pool = ctx.database.pool;
  school = await insertStructure(pool, 'École Jules Ferry', '0750123K');
  classA = await insertClass(pool, school, 'CM1 A');
  const classB = await insertClass(pool, school, 'CM2 B');
  const admin = await createUser(pool, { login: 'dir.ecole', password: PASSWORD, profile: 'Personnel', firstName: 'Directrice', lastName: 'École' });
  await pool.query('INSERT INTO user_structures (user_id, structure_id) VALUES ($1, $2)', [admin, school]);
  await pool.query('INSERT INTO local_admins (user_id, structure_id) VALUES ($1, $2)', [admin, school]);
  const pupil = (first: string, cls: string, activatedDaysAgo: number | null) =>
    insertUser(pool, { firstName: first, lastName: 'ÉLÈVE', structureIds: [school], classIds: [cls] }).then(async (id) => {
      if (activatedDaysAgo !== null) await pool.query(`UPDATE users SET activated_at = now() - $2::int * interval '1 day', password_hash = 'x' WHERE id = $1`, [id, activatedDaysAgo]);
      return id;
    });
  // CM1 A: 3 activated this week, 2 two weeks ago, 1 never; CM2 B: 1 activated two weeks ago, 2 never.
  const a = [await pupil('Ana', classA, 0), await pupil('Bob', classA, 0), await pupil('Cid', classA, 0),
    await pupil('Dan', classA, 14), await pupil('Eve', classA, 14), await pupil('Flo', classA, null)];
  const b = [await pupil('Gus', classB, 14), await pupil('Hal', classB, null), await pupil('Ivy', classB, null)];
  // Sheets handed out to CM1 A entirely and to one pupil of CM2 B.
  await recordDistribution(pool, { userIds: [...a, b[1]], kind: 'sheet', actorId: admin });
  // Handed out three weeks ago, before every activation (the funnel counts activations after the first hand-out).
  await pool.query(`UPDATE distribution_events SET at = now() - interval '21 days'`);
  ui = await signedInBrowser(ctx, 'dir.ecole', PASSWORD, { viewport: { width: 1366, height: 900 } });
  page = ui.page;
});

after(async () => {
  await ui?.close();
  await ctx?.close();
});

/** Each bar's week, value and drawn height (px, from the rendered SVG). */
async function bars(p: Page) {
  return p.$$eval('svg[data-activity-chart] g[data-week]', (gs) =>
    gs.map((g) => ({ value: Number(g.getAttribute('data-activated')), height: (g.querySelector('rect') as SVGRectElement).getBoundingClientRect().height })));
}

test('activations per week: an SVG chart with a name, a description and the same figures as a table; the funnel', async () => {
  await page.goto(`${ui.url}/console/etablissements/${school}?profil=Student`);
  const chart = page.locator('svg[data-activity-chart]');
  await chart.waitFor();
  assert.equal(await chart.getAttribute('role'), 'img');
  const name = await chart.evaluate((el) => {
    const ids = (el.getAttribute('aria-labelledby') ?? '').split(' ');
    return ids.map((id) => document.getElementById(id)?.textContent?.trim()).join(' | ');
  });
  assert.match(name, /^Activation au fil des semaines \| Comptes activés chaque semaine sur les 12 dernières semaines \(Élève\) : 6 au total sur la période\.$/);

  const b = await bars(page);
  assert.equal(b.length, 12);
  assert.deepEqual(b.map((x) => x.value), [0, 0, 0, 0, 0, 0, 0, 0, 0, 3, 0, 3]);
  const [twoWeeksAgo, thisWeek] = [b[9], b[11]];
  assert.ok(thisWeek.height > 50, `bar drawn (${thisWeek.height}px)`);
  assert.ok(Math.abs(twoWeeksAgo.height - thisWeek.height) < 1);
  assert.equal(b[10].height, 0);

  // The table alternative: opened, its last row says 3 this week and 6 in all.
  await page.click('.activity-table summary');
  const last = await page.locator('.activity-table tbody tr').last().locator('td').allTextContents();
  assert.deepEqual(last, ['3', '6']);

  // Funnel: 9 pupils, 7 handed a sheet, 5 of them activated; Gus, activated with no hand-out recorded, said apart.
  const funnel = await page.$$eval('[data-funnel]', (lis) => lis.map((li) => [li.getAttribute('data-funnel'), li.querySelector('.bar-value')?.textContent]));
  assert.deepEqual(funnel, [['accounts', '9'], ['given', '7'], ['activated', '5']]);
  assert.match((await page.textContent('[data-funnel-unrecorded]')) ?? '', /^1 compte activé sans remise enregistrée/);
});

test('the filter narrows the chart to a class', async () => {
  await page.goto(`${ui.url}/console/etablissements/${school}`);
  await page.selectOption('#f-activity-profile', 'Student');
  await page.selectOption('#f-activity-class', classA);
  await Promise.all([page.waitForURL(/classe=/), page.click('.activity-filter button[type="submit"]')]);
  assert.deepEqual((await bars(page)).map((x) => x.value).slice(9), [2, 0, 3]);
  assert.match(await page.locator('[data-activity-desc]').textContent() ?? '', /\(Élève, CM1 A\) : 5 au total/);
  const funnel = await page.$$eval('[data-funnel] .bar-value', (els) => els.map((e) => e.textContent));
  assert.deepEqual(funnel, ['6', '6', '5']);
});

test('axe: no WCAG A/AA violation in the activity section', async () => {
  const ctx2 = await ui.browser.newContext({ locale: 'fr-FR', bypassCSP: true, storageState: await ui.context.storageState() });
  const p = await ctx2.newPage();
  await p.goto(`${ui.url}/console/etablissements/${school}`);
  await p.addScriptTag({ path: AXE });
  const result = (await p.evaluate(() => (globalThis as unknown as { axe: { run(c: unknown, o: unknown): Promise<unknown> } }).axe.run(
    { include: [['.activity']] }, { runOnly: { type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'wcag22aa'] } },
  ))) as { violations: Array<{ id: string; nodes: unknown[] }>; passes: unknown[] };
  assert.ok(result.passes.length > 3);
  assert.deepEqual(result.violations.map((v) => v.id), []);
  await ctx2.close();
});
