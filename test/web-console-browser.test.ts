// The console in real headless Chromium: one page frame (breadcrumb + section tabs) on every tab, the English
// switch showing no French error text, the live counters kept in view at 1366×900 while filters change and
// the empty selection disabling the launch buttons, the class view's Enseignants/Personnels tabs and the
// print button of its mail confirmation; an English AAF import report and letter-template refusal with no French.
import assert from 'node:assert/strict';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, before, test } from 'node:test';
import type { Page } from 'playwright-core';
import { testContext } from './helpers/db.js';
import { frenchContext, screenshotPath, type SignedInBrowser, signedInBrowser, signIn } from './helpers/browser.js';
import { insertClass, insertStructure, insertUser } from './helpers/directory-sample.js';
import { createUser } from './helpers/web.js';

const PASSWORD = 'une phrase de passe solide';
let ctx: Awaited<ReturnType<typeof testContext>>;
let ui: SignedInBrowser;
let page: Page;
let school: string;
let other: string;
let cls: string;
let adminId: string;
let student: string;

before(async () => {
  ctx = await testContext();
  const pool = ctx.database.pool;
  school = await insertStructure(pool, 'Collège Denis Poisson', '0750001A');
  other = await insertStructure(pool, 'Lycée Arago', '0750002B');
  const level = (await pool.query(`INSERT INTO levels (structure_id, name) VALUES ($1, '6e') RETURNING id`, [school])).rows[0].id;
  cls = await insertClass(pool, school, '6e A', level);
  for (let i = 0; i < 14; i++) await insertClass(pool, school, `6e ${String.fromCharCode(66 + i)}`, level);
  // A local admin who also teaches 6e A: the console and the class view.
  adminId = await createUser(pool, { login: 'paul.prof', password: PASSWORD, profile: 'Teacher', firstName: 'Paul', lastName: 'Prof' });
  await pool.query('INSERT INTO user_structures (user_id, structure_id) VALUES ($1, $2)', [adminId, school]);
  await pool.query('INSERT INTO user_classes (user_id, class_id) VALUES ($1, $2)', [adminId, cls]);
  await pool.query('INSERT INTO local_admins (user_id, structure_id) VALUES ($1, $2)', [adminId, school]);
  await insertUser(pool, { firstName: 'Sophie', lastName: 'Collègue', profile: 'Teacher', structureIds: [school], classIds: [cls], activated: true });
  await insertUser(pool, { firstName: 'Marc', lastName: 'Surveillant', profile: 'Personnel', structureIds: [school], classIds: [cls] });
  student = await insertUser(pool, { firstName: 'Emma', lastName: 'Petit', structureIds: [school], classIds: [cls], email: 'emma@example.fr', codeExpiresAt: new Date(Date.now() + 86_400_000) });
  for (let i = 0; i < 12; i++) {
    await insertUser(pool, { firstName: `Élève${i}`, lastName: `Nom${String.fromCharCode(65 + i)}x`, structureIds: [school], classIds: [cls] });
  }
  ui = await signedInBrowser(ctx, 'paul.prof', PASSWORD, { viewport: { width: 1366, height: 900 } });
  page = ui.page;
});

after(async () => {
  await ui?.close();
  await ctx?.close();
});

test('one console frame on every tab: breadcrumb, section tabs, the current tab marked', async () => {
  const base = `${ui.url}/console/etablissements/${school}`;
  const tabs: Array<[string, string]> = [
    ['', 'Accueil'],
    ['/utilisateurs', 'Utilisateurs'],
    ['/publipostage', 'Imports / Exports'],
    ['/import', 'Imports / Exports'],
    ['/envois', 'Imports / Exports'],
    ['/doublons', 'Gérer les doublons'],
    ['/modeles', 'Modèles de courrier'],
    [`/../../utilisateurs/${student}?etablissement=${school}`, 'Utilisateurs'],
  ];
  for (const [path, current] of tabs) {
    const res = await page.goto(`${base}${path}`);
    assert.equal(res?.status(), 200, path);
    assert.equal(await page.locator('nav.crumbs').count(), 1, `breadcrumb on ${path}`);
    assert.equal(await page.locator('nav.crumbs a').first().textContent(), 'Console d’administration');
    assert.match((await page.locator('nav.crumbs').textContent())!, /Collège Denis Poisson/);
    const sections = page.locator('nav.console-sections a');
    assert.equal(await sections.count(), 5, `section tabs on ${path}`);
    assert.equal(await page.locator('nav.console-sections a[aria-current="page"]').textContent(), current, path);
  }
  await page.screenshot({ path: screenshotPath('console-frame-modeles'), fullPage: false });
});

test('English switch: pages and refusals in English, no French error text', async () => {
  const french = /introuvable|invalide|Paramètre|Vous devez|Aucun compte|droits nécessaires|Établissement|Référence de l’erreur/;
  await page.goto(`${ui.url}/console/etablissements/${school}/publipostage?lang=en`);
  assert.equal(await page.getAttribute('html', 'lang'), 'en');
  assert.match((await page.textContent('h1'))!, /Account mail merge|mail merge/i);
  // Impossible date: a 400 page with the filter named, in English.
  const bad = await page.goto(`${ui.url}/console/etablissements/${school}/publipostage?createdBefore=2026-02-30`);
  assert.equal(bad?.status(), 400);
  assert.doesNotMatch((await page.textContent('main'))!, french);
  // Another school: 404, in English.
  const foreign = await page.goto(`${ui.url}/console/etablissements/${other}/doublons`);
  assert.equal(foreign?.status(), 404);
  const text = (await page.textContent('main'))!;
  assert.match(text, /School not found/);
  assert.match(text, /Error reference: [0-9a-f-]{36}/);
  assert.doesNotMatch(text, french);
  // A download with an impossible date: English refusal naming the parameter.
  const csv = await page.goto(`${ui.url}/console/etablissements/${school}/publipostage/csv?createdAfter=2025-02-29`);
  assert.equal(csv?.status(), 400);
  assert.match((await page.textContent('main'))!, /Invalid parameter “createdAfter”/);
  assert.doesNotMatch((await page.textContent('main'))!, french);
  // What a mailing holds, in English too (it read « Content: parents · comptes non activés »).
  await page.goto(`${ui.url}/console/etablissements/${school}/publipostage/envoi?profiles=Relative&activation=inactive`);
  assert.equal(await page.textContent('[data-content]'), 'Content: parents · accounts not activated');
  await page.goto(`${ui.url}/console/etablissements/${school}/publipostage/envoi`);
  assert.equal(await page.textContent('[data-content]'), 'Content: all accounts');
  // A refused action of the class view, in English.
  await page.goto(`${ui.url}/classe/${cls}/eleves`);
  await page.click('button[value="block"]');
  assert.match((await page.textContent('.notice-error'))!, /Tick at least one account/);
  await page.goto(`${ui.url}/console?lang=fr`);
});

test('publipostage at 1366×900: the counters stay in view while the filters change; an empty selection disables the buttons', async () => {
  await page.goto(`${ui.url}/console/etablissements/${school}/publipostage`);
  const counters = page.locator('[data-fragment="counters"]');
  const inView = async () => {
    const box = await counters.boundingBox();
    assert.ok(box, 'counters rendered');
    return box.y >= 0 && box.y + box.height <= 900;
  };
  assert.ok(await inView(), 'counters in view on arrival');
  // The last class chip sits far below the fold: tick it, as a user scrolling the panel would.
  const chip = page.locator('input[name="classIds"]').last();
  await chip.scrollIntoViewIfNeeded();
  const before = await page.getAttribute('[data-preview-section]', 'data-preview-query');
  await chip.check();
  await page.waitForFunction((b) => document.querySelector('[data-preview-section]')?.getAttribute('data-preview-query') !== b, before);
  assert.ok(await inView(), 'counters still in view after scrolling to the classes and changing them');
  await page.screenshot({ path: screenshotPath('publipostage-counters-1366x900') });
  // That class is empty: the launch buttons are disabled and the page says why.
  assert.equal(await counters.getAttribute('data-total'), '0');
  assert.ok(await page.isDisabled('button[data-launch="pdf"]'));
  assert.ok(await page.isDisabled('button[data-launch="mail"]'));
  assert.ok(await page.isVisible('[data-launch-empty-label]'));
  // The same selection asked for directly (a bookmark, a script): 422 and a page that says why, never a blank PDF.
  const emptyClass = await chip.getAttribute('value');
  for (const format of ['pdf', 'csv']) {
    const direct = await page.request.get(`${ui.url}/console/etablissements/${school}/publipostage/${format}?classIds=${emptyClass}`);
    assert.equal(direct.status(), 422, format);
    assert.match(direct.headers()['content-type'], /^text\/html/);
    assert.match(await direct.text(), /Aucun compte ne correspond à cette sélection/);
  }
  // Back to 6e A: enabled again; the table came from the server's fragment.
  await chip.uncheck();
  await page.locator('input[name="classIds"]').first().check();
  await page.waitForFunction(() => Number(document.querySelector('[data-fragment="counters"]')?.getAttribute('data-total')) > 0);
  const total = Number(await counters.getAttribute('data-total'));
  assert.ok(!(await page.isDisabled('button[data-launch="pdf"]')));
  assert.ok(!(await page.isVisible('[data-launch-empty-label]')));
  assert.equal(await page.locator('[data-fragment="table"] tbody tr').count(), total);
  assert.ok(await page.locator('[data-fragment="table"] tbody tr', { hasText: 'Petit' }).count() === 1);
});

test('class view: Enseignants and Personnels tabs; the mail confirmation prints the sheets of those without an address', async () => {
  await page.goto(`${ui.url}/classe/${cls}/enseignants`);
  assert.deepEqual(await page.locator('nav.subnav a').allTextContents(), ['Élèves', 'Parents', 'Enseignants', 'Personnels']);
  assert.match((await page.textContent('table[data-adults="enseignants"]'))!, /Collègue/);
  await page.click('nav.subnav a:has-text("Personnels")');
  assert.match((await page.textContent('table[data-adults="personnels"]'))!, /Surveillant/);
  await page.click('nav.subnav a:has-text("Élèves")');
  // On a phone, each pupil's login and activation are on screen (labelled lines), not in columns scrolled away.
  await page.setViewportSize({ width: 375, height: 800 });
  try {
    const row = page.locator('table.class-accounts tbody tr').first();
    for (const label of ['Identifiant', 'Activation']) {
      const cell = row.locator(`td[data-label="${label}"]`);
      const box = (await cell.boundingBox())!;
      assert.ok(box.x >= 0 && box.x + box.width <= 375, `${label} : ${JSON.stringify(box)}`);
      assert.match(await cell.evaluate((e) => getComputedStyle(e, '::before').content), new RegExp(label));
    }
  } finally {
    await page.setViewportSize({ width: 1366, height: 900 });
  }
  await page.check(`input[name="ids"][value="${student}"]`);
  await page.locator('input[name="ids"]').nth(1).check();
  await page.locator('input[name="ids"]').nth(2).check();
  await page.click('summary:has-text("fiches")');
  await page.click('button[value="mail"]');
  assert.match((await page.textContent('h1'))!, /^Fiches détaillées par courriel — /);
  const print = page.locator('button[data-print-paper]');
  assert.match((await print.textContent())!, /Imprimer les fiches de ces 2 comptes/);
  const [download] = await Promise.all([page.waitForEvent('download'), print.click()]);
  assert.match(download.suggestedFilename(), /\.pdf$/);
});

test('a mail run while no SMTP server is configured says so and what to do, never "Envoi en cours…" for ever', async () => {
  // An activated account with an address: its mail (renewal instructions) is queued, and waits.
  const lea = await insertUser(ctx.database.pool, { firstName: 'Léa', lastName: 'Courriel', profile: 'Teacher', structureIds: [school], classIds: [cls], activated: true, email: 'lea@example.fr' });
  await page.goto(`${ui.url}/console/etablissements/${school}/publipostage/envoi?userIds=${lea}`);
  await Promise.all([page.waitForURL(/\/console\/envois\/[0-9a-f-]{36}$/), page.click('form[action$="/publipostage/envoi"] button[type="submit"]')]);
  const state = (await page.textContent('[data-run-state]'))!;
  assert.doesNotMatch(state, /Envoi en cours/);
  assert.match(state, /aucun serveur de courriel n’est configuré/);
  assert.match(state, /SMTP_URL/);
  assert.equal(await page.getAttribute('[data-run-status]', 'data-running'), '0', 'no polling for ever');
  // What to do meanwhile: the sheets of the run's accounts, one click away.
  const [pdf] = await Promise.all([page.waitForEvent('download'), page.click('button[data-all-pdf]')]);
  assert.match(pdf.suggestedFilename(), /\.pdf$/);
  await page.goto(`${page.url()}?lang=en`);
  assert.match((await page.textContent('[data-run-state]'))!, /no mail server is configured/);
  await page.goto(`${ui.url}/console?lang=fr`);
});

test('English switch: an import refused, or with rejected rows, reads in English (no French error text)', async () => {
  const french = /obligatoire|absente|date invalide|attendu|fichier refusé|ligne ignorée/;
  const upload = async (name: string, content: string) => {
    await page.goto(`${ui.url}/console/etablissements/${school}/import?lang=en`);
    await page.setInputFiles('#f-files', { name, mimeType: 'text/csv', buffer: Buffer.from(content, 'utf8') });
    await Promise.all([page.waitForLoadState('load'), page.click('form.import-form button[type="submit"]')]);
  };
  // A file refused as a whole: a required column is missing.
  await upload('CSV_Eleves.csv', 'Nom;Prénom\nDupont;Jean\n');
  const refused = (await page.textContent('.notice-error'))!;
  assert.match(refused, /CSV_Eleves\.csv, line 1, Date de naissance: required column “Date de naissance” missing/);
  assert.doesNotMatch(refused, french);
  // A row rejected in the dry-run report (an impossible date), and apart a remark on a row imported without its
  // invalid address.
  await upload('CSV_Eleves.csv', 'Nom;Prénom;Date de naissance;Classe;Courriel\nDupont;Jean;31/02/2010;6A;\nMartin;Léa;01/02/2011;6A;pas-une-adresse\n');
  const rejected = (await page.textContent('ul.rejected'))!;
  assert.match(rejected, /CSV_Eleves\.csv, line 2, Date de naissance: invalid date “31\/02\/2010” \(expected DD\/MM\/YYYY\)/);
  assert.doesNotMatch(rejected, french);
  const notes = (await page.textContent('ul.notes'))!;
  assert.match(notes, /CSV_Eleves\.csv, line 3, Courriel: invalid email address “pas-une-adresse”: not imported/);
  assert.doesNotMatch(notes, french);
  // On a phone, each file's result is on screen, labelled (not a column scrolled out of view).
  await page.setViewportSize({ width: 375, height: 800 });
  try {
    const result = page.locator('tr[data-file="CSV_Eleves.csv"] td[data-label="Outcome"]');
    const box = (await result.boundingBox())!;
    assert.ok(box.x >= 0 && box.x + box.width <= 375, JSON.stringify(box));
    assert.equal(await result.evaluate((e) => getComputedStyle(e, '::before').content), '"Outcome: "');
  } finally {
    await page.setViewportSize({ width: 1366, height: 900 });
  }
  // The same file in French: the command line's wording.
  await upload('CSV_Eleves.csv', 'Nom;Prénom;Date de naissance;Classe\nDupont;Jean;31/02/2010;6A\n');
  await page.goto(`${page.url().replace(/\?.*$/, '')}?lang=fr`);
  assert.match((await page.textContent('ul.rejected'))!, /date invalide « 31\/02\/2010 » \(attendu JJ\/MM\/AAAA\)/);
});

test('English switch: an AAF import with rejected and ignored records, and a broken letter template, read in English', async () => {
  // AAF feeds are for super admins: a second session.
  await createUser(ctx.database.pool, { login: 'sophie.super', password: PASSWORD, superAdmin: true, firstName: 'Sophie', lastName: 'Super' });
  const superContext = await frenchContext(ui.browser);
  const p = await superContext.newPage();
  try {
    await signIn(p, ui.url, 'sophie.super', PASSWORD);
    await p.goto(`${ui.url}/console/import?lang=en`);
    const dir = fileURLToPath(new URL('./fixtures/aaf/english/', import.meta.url));
    await p.setInputFiles('#f-files', readdirSync(dir).sort().map((f) => join(dir, f)));
    await Promise.all([p.waitForLoadState('load'), p.click('form.import-form button[type="submit"]')]);
    const report = (await p.textContent('section.import-report'))!;
    // Rows rejected by the AAF reader (the rest of the run is imported).
    assert.match(report, /ENT_Complet_20260901_Eleve_0000\.xml, line \d+, givenName: first name missing/);
    assert.match(report, /ENT_Complet_20260901_Eleve_0000\.xml, line \d+, ENTPersonDateNaissance: invalid date of birth “31\/02\/2014”/);
    // Records read and left out, and a file left out.
    assert.match(report, /ENTEleveGroupes: structure “79999” absent from the EtabEducNat file and from the directory: group “LAT5” not created/);
    assert.match(report, /ENTPersonJointure: Loriot Marc \(R901\): no pupil names them as legal representative, no account/);
    assert.match(report, /ignored : DTD of the academic directory: no accounts/);
    assert.match(report, /AAF pupils/);
    assert.doesNotMatch(report, /manquant|invalide|absente|annuaire|aucun|représentant|ignoré|élèves|compte/);
    // The same report in French: the command line's wording.
    await p.goto(`${ui.url}/console/import?lang=fr`);
    await p.setInputFiles('#f-files', readdirSync(dir).sort().map((f) => join(dir, f)));
    await Promise.all([p.waitForLoadState('load'), p.click('form.import-form button[type="submit"]')]);
    const french = (await p.textContent('section.import-report'))!;
    assert.match(french, /Loriot Marc \(R901\) : aucun élève ne le désigne comme représentant légal, pas de compte/);
    assert.match(french, /givenName : prénom manquant/);

    // A letter template with an empty subject and an unknown merge field: the refusal in English.
    await p.goto(`${ui.url}/console/etablissements/${school}/modeles?lang=en`);
    await p.fill('#subject-mail_inactive', '');
    await p.fill('#body-mail_inactive', 'Bonjour {prenon}');
    await Promise.all([p.waitForLoadState('load'), p.click('#mail_inactive button[value="save"]')]);
    const refusal = (await p.textContent('#mail_inactive .notice-error'))!;
    assert.match(refusal, /the email subject is empty/);
    assert.match(refusal, /unknown merge field: \{prenon\}/);
    assert.doesNotMatch(refusal, /objet|vide|inconnu|champ/);
    assert.equal((await ctx.database.pool.query(`SELECT count(*)::int AS n FROM letter_templates WHERE structure_id = $1`, [school])).rows[0].n, 0);
  } finally {
    await superContext.close();
  }
});
