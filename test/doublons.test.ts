// "Gérer les doublons" in headless Chromium: seeded pairs are listed with score and reasons, compared side by
// side, merged (the activated account kept, links moved, audited), dismissed for good; two activated
// accounts are refused with a clear message; another school's accounts answer 404.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import type { Page } from 'playwright-core';
import { screenshotPath, signedInBrowser, type SignedInBrowser } from './helpers/browser.js';
import { testContext } from './helpers/db.js';
import { insertUser, relate } from './helpers/directory-sample.js';
import { createUser } from './helpers/web.js';

const PASSWORD = 'une phrase de passe solide';
let ctx: Awaited<ReturnType<typeof testContext>>;
let ui: SignedInBrowser;
let page: Page;
let school = '';
let cm1 = '';
const ids: Record<string, string> = {};

before(async () => {
  ctx = await testContext();
  const pool = ctx.database.pool;
  school = (await pool.query(`INSERT INTO structures (name) VALUES ('École Jules Ferry') RETURNING id`)).rows[0].id;
  const other = (await pool.query(`INSERT INTO structures (name) VALUES ('Collège Voltaire') RETURNING id`)).rows[0].id;
  cm1 = (await pool.query(`INSERT INTO classes (structure_id, name) VALUES ($1, 'CM1 A') RETURNING id`, [school])).rows[0].id;
  const admin = await createUser(pool, { login: 'diane.directrice', firstName: 'Diane', lastName: 'Directrice', password: PASSWORD });
  await pool.query('INSERT INTO local_admins (user_id, structure_id) VALUES ($1, $2)', [admin, school]);
  const here = { structureIds: [school] };
  const old = new Date('2023-09-01T08:00:00Z');
  // The account a family already activated, and the same child created again by an import, in a class, with a parent.
  ids.lucasActive = await insertUser(pool, { firstName: 'Lucas', lastName: 'Fournier', birthDate: '2014-05-05', activated: true, createdAt: old, ...here });
  ids.lucasNew = await insertUser(pool, { firstName: 'Lucas', lastName: 'FOURNIER', birthDate: '2014-05-05', externalId: 'aaf-lucas-2', ...here, classIds: [cm1] });
  await pool.query(`UPDATE users SET origin = 'feed', source = 'aaf' WHERE id = $1`, [ids.lucasNew]);
  ids.mother = await insertUser(pool, { firstName: 'Anne', lastName: 'Fournier', profile: 'Relative', ...here });
  await relate(pool, ids.mother, ids.lucasNew);
  // Two different children who share a name.
  ids.camille1 = await insertUser(pool, { firstName: 'Camille', lastName: 'Girard', ...here });
  ids.camille2 = await insertUser(pool, { firstName: 'Camille', lastName: 'Girard', ...here });
  // Both activated: never merged.
  ids.emma1 = await insertUser(pool, { firstName: 'Emma', lastName: 'Laurent', activated: true, ...here });
  ids.emma2 = await insertUser(pool, { firstName: 'Emma', lastName: 'Laurent', activated: true, ...here });
  // Another school's pair.
  ids.jules1 = await insertUser(pool, { firstName: 'Jules', lastName: 'Moreau', structureIds: [other] });
  ids.jules2 = await insertUser(pool, { firstName: 'Jules', lastName: 'Moreau', structureIds: [other] });

  ui = await signedInBrowser(ctx, 'diane.directrice', PASSWORD);
  page = ui.page;
});

after(async () => {
  await ui?.close();
  await ctx?.close();
});

const list = () => `${ui.url}/console/etablissements/${school}/doublons`;
const pairRows = () => page.$$eval('table.dup-table tbody tr', (trs) => trs.map((tr) => tr.getAttribute('data-pair')));

test('pairs listed with score and reasons; compare side by side; merge keeps the activated account', async () => {
  await page.goto(list());
  assert.equal(await page.textContent('h1'), 'Gérer les doublons — École Jules Ferry');
  const pairs = await pairRows();
  assert.deepEqual(pairs, [`${ids.lucasActive}/${ids.lucasNew}`, pairs[1]]);
  assert.deepEqual(pairs[1]!.split('/').sort(), [ids.camille1, ids.camille2].sort());
  const first = (await page.textContent('table.dup-table tbody tr:first-child'))!;
  assert.match(first, /95/);
  assert.match(first, /Mêmes nom et prénom/);
  assert.match(first, /Même date de naissance/);
  assert.doesNotMatch((await page.textContent('main'))!, /Laurent|Moreau/);
  await page.screenshot({ path: screenshotPath('doublons-liste'), fullPage: true });

  await page.click('table.dup-table tbody tr:first-child a:has-text("Comparer")');
  assert.equal(await page.textContent('h1'), 'Comparer deux comptes');
  const table = (await page.textContent('table.compare-table'))!;
  for (const s of ['05/05/2014', 'CM1 A', 'Anne Fournier', 'Annuaire', 'Activé', 'Non activé']) assert.ok(table.includes(s), s);
  assert.match((await page.textContent('table.compare-table thead th:nth-child(2)'))!, /conservé en cas de fusion/);
  assert.ok(await page.isVisible('tr.differs:has(th:has-text("Identifiant"))'));
  await page.screenshot({ path: screenshotPath('doublons-comparaison'), fullPage: true });

  await page.click('a:has-text("Fusionner")');
  assert.equal(await page.textContent('h1'), 'Fusionner deux comptes');
  assert.match((await page.textContent('form.card'))!, /Le compte activé Lucas Fournier .* est conservé/);
  await page.click('button:has-text("Fusionner les deux comptes")');
  await page.waitForURL(/ok=merged/);
  assert.equal(await page.textContent('.notice-success'), 'Les deux comptes ont été fusionnés.');
  assert.deepEqual((await pairRows()).length, 1);

  const pool = ctx.database.pool;
  assert.equal((await pool.query('SELECT 1 FROM users WHERE id = $1', [ids.lucasNew])).rowCount, 0);
  const kept = (await pool.query(
    `SELECT external_id, (SELECT array_agg(class_id) FROM user_classes WHERE user_id = u.id) AS classes,
            (SELECT array_agg(parent_id) FROM relations WHERE child_id = u.id) AS parents FROM users u WHERE id = $1`,
    [ids.lucasActive],
  )).rows[0];
  assert.deepEqual(kept, { external_id: 'aaf-lucas-2', classes: [cm1], parents: [ids.mother] });
  const audit = (await pool.query(`SELECT actor_id, details FROM audit WHERE action = 'user.merge'`)).rows;
  assert.equal(audit.length, 1);
  assert.equal(audit[0].details.dropped.id, ids.lucasNew);
});

test('dismiss for good after confirmation; two activated accounts refused; other schools 404', async () => {
  await page.goto(list());
  await page.click('table.dup-table tbody tr:first-child a:has-text("Comparer")');
  await page.click('a:has-text("Ignorer définitivement")');
  assert.equal(await page.textContent('h1'), 'Ignorer cette paire');
  await page.click('button:has-text("Ignorer définitivement")');
  await page.waitForURL(/ok=dismissed/);
  assert.equal(await page.textContent('.notice-success'), 'La paire est ignorée définitivement.');
  assert.match((await page.textContent('main'))!, /Aucun doublon probable/);
  const pool = ctx.database.pool;
  assert.equal((await pool.query('SELECT count(*)::int AS n FROM duplicate_dismissals')).rows[0].n, 1);
  assert.equal((await pool.query(`SELECT count(*)::int AS n FROM audit WHERE action = 'duplicate.dismiss'`)).rows[0].n, 1);
  assert.equal((await pool.query('SELECT count(*)::int AS n FROM users WHERE id = ANY($1::uuid[])', [[ids.camille1, ids.camille2]])).rows[0].n, 2);

  const both = `${list()}/${ids.emma1}/${ids.emma2}/fusionner`;
  const res = await page.goto(both);
  assert.equal(res!.status(), 409);
  assert.match((await page.textContent('.notice-error'))!, /Les deux comptes sont déjà activés : ils ne peuvent pas être fusionnés/);
  assert.equal(await page.$('button:has-text("Fusionner les deux comptes")'), null);
  await page.screenshot({ path: screenshotPath('doublons-refus'), fullPage: true });
  // Even a forged post changes nothing.
  const csrf = await page.getAttribute('input[name="_csrf"]', 'value');
  const forged = await ui.context.request.post(both, { form: { _csrf: csrf!, keep: ids.emma1 }, maxRedirects: 0 });
  assert.equal(forged.status(), 409);
  assert.equal((await pool.query('SELECT count(*)::int AS n FROM users WHERE id = ANY($1::uuid[])', [[ids.emma1, ids.emma2]])).rows[0].n, 2);

  for (const url of [`${list()}/${ids.jules1}/${ids.jules2}`, `${list()}/${ids.jules1}/${ids.jules2}/fusionner`, `${list()}/${ids.emma1}/${ids.jules1}`]) {
    assert.equal((await ui.context.request.get(url)).status(), 404, url);
  }
  const otherSchool = (await pool.query(`SELECT id FROM structures WHERE name = 'Collège Voltaire'`)).rows[0].id;
  assert.equal((await ui.context.request.get(`${ui.url}/console/etablissements/${otherSchool}/doublons`)).status(), 404);
  assert.equal((await ui.context.request.post(`${list()}/${ids.jules1}/${ids.jules2}/ignorer`, { form: { _csrf: csrf! } })).status(), 404);
});
