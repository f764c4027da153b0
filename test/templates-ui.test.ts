// Letter-template editor in headless Chromium: a local admin edits the parents' sheet text (inserting a merge
// field by clicking it), previews it as a PDF page filled from a sample account, saves it (real sheets then
// use it), sees an unknown field refused, and restores the default.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import type { Page } from 'playwright-core';
import { renderSheetsPdf } from '../src/publipostage/pdf.js';
import { selectAccounts } from '../src/publipostage/select.js';
import { SelectionSchema } from '../src/publipostage/selection.js';
import { defaultTemplate } from '../src/publipostage/templates.js';
import { screenshotPath, type SignedInBrowser, signedInBrowser } from './helpers/browser.js';
import { testContext } from './helpers/db.js';
import { createInactiveUser, createUser } from './helpers/web.js';

const PASSWORD = 'une phrase de passe solide';
let ctx: Awaited<ReturnType<typeof testContext>>;
let ui: SignedInBrowser;
let page: Page;
let school = '';
let parentId = '';
const dir = mkdtempSync(join(tmpdir(), 'trousseau-tpl-'));

function pdfText(pdf: Buffer): string {
  const f = join(dir, `p${Math.random().toString(36).slice(2)}.pdf`);
  writeFileSync(f, pdf);
  // Without -layout: wrapped lines joined by single newlines, easy to flatten.
  return execFileSync('pdftotext', [f, '-'], { encoding: 'utf8' }).replace(/\s+/g, ' ');
}

before(async () => {
  // A mail server configured (never reached here): an activated account's sheet offers « Mot de passe oublié ».
  ctx = await testContext({ SMTP_URL: 'smtp://127.0.0.1:2525' });
  const pool = ctx.database.pool;
  school = (await pool.query(`INSERT INTO structures (name) VALUES ('École Jules Ferry') RETURNING id`)).rows[0].id;
  const cls = (await pool.query(`INSERT INTO classes (structure_id, name) VALUES ($1, 'CM1 A') RETURNING id`, [school])).rows[0].id;
  const admin = await createUser(pool, { login: 'diane.directrice', firstName: 'Diane', lastName: 'Directrice', password: PASSWORD });
  await pool.query('INSERT INTO local_admins (user_id, structure_id) VALUES ($1, $2)', [admin, school]);
  await pool.query('INSERT INTO user_structures (user_id, structure_id) VALUES ($1, $2)', [admin, school]);
  const child = await createUser(pool, { login: 'nina.roux', firstName: 'Nina', lastName: 'Roux', profile: 'Student' });
  await pool.query('INSERT INTO user_structures (user_id, structure_id) VALUES ($1, $2)', [child, school]);
  await pool.query('INSERT INTO user_classes (user_id, class_id) VALUES ($1, $2)', [child, cls]);
  parentId = (await createInactiveUser(pool, ctx.secrets, { login: 'marie.roux', firstName: 'Marie', lastName: 'Roux', profile: 'Relative' })).id;
  await pool.query('INSERT INTO relations (parent_id, child_id) VALUES ($1, $2)', [parentId, child]);

  ui = await signedInBrowser(ctx, 'diane.directrice', PASSWORD);
  page = ui.page;
});

after(async () => {
  await ui?.close();
  await ctx?.close();
  rmSync(dir, { recursive: true, force: true });
});

/**
 * Clicks "Aperçu" (the form posts to a new tab) and returns the server's answer. Chromium's PDF viewer would
 * hand back its own wrapper page, so the request is passed through a route that keeps the real bytes.
 */
async function preview(card: string): Promise<{ status: number; type: string; body: Buffer; page: Page }> {
  let answer: { status: number; type: string; body: Buffer } | undefined;
  await ui.context.route('**/modeles/apercu', async (route) => {
    const res = await route.fetch();
    answer = { status: res.status(), type: res.headers()['content-type'], body: await res.body() };
    await route.fulfill({ response: res });
  });
  const [tab] = await Promise.all([ui.context.waitForEvent('page'), page.click(`#${card} button:has-text("Aperçu")`)]);
  await tab.waitForLoadState();
  await ui.context.unroute('**/modeles/apercu');
  assert.ok(answer, 'preview answered');
  return { ...answer, page: tab };
}

test('edit the parents\u2019 sheet text, preview it as a PDF filled from a sample account, save it', async () => {
  const url = `${ui.url}/console/etablissements/${school}/modeles?profil=parents`;
  await page.goto(url);
  assert.equal(await page.textContent('h1'), 'Modèles de courrier — École Jules Ferry');
  assert.equal(await page.getAttribute('nav.profile-tabs a[aria-current="page"]', 'href'), `/console/etablissements/${school}/modeles?profil=parents`);
  assert.equal(await page.inputValue('#body-sheet_inactive'), defaultTemplate('Relative', 'sheet_inactive').body);
  assert.match((await page.textContent('#sheet_inactive h2'))!, /Modèle par défaut/);

  const body = page.locator('#body-sheet_inactive');
  await body.fill('Madame, Monsieur, voici les accès de la famille de {enfants} à {etablissement}. Votre identifiant : ');
  await body.press('End');
  // Click-to-insert puts the field at the cursor.
  await page.click('#sheet_inactive button.merge-field[data-insert="{login}"]');
  await body.press('End');
  await body.type('. Mot-clé GIRAFE.');
  const text = await body.inputValue();
  assert.equal(text, 'Madame, Monsieur, voici les accès de la famille de {enfants} à {etablissement}. Votre identifiant : {login}. Mot-clé GIRAFE.');
  await page.screenshot({ path: screenshotPath('templates-editeur'), fullPage: false });

  const res = await preview('sheet_inactive');
  assert.equal(res.status, 200);
  assert.equal(res.type, 'application/pdf');
  const shown = pdfText(res.body);
  assert.match(shown, /voici les accès de la famille de Camille EXEMPLE \(CM1 A\) à École Jules Ferry\. Votre identifiant : dominique\.exemple\. Mot-clé GIRAFE\./);
  assert.doesNotMatch(shown, /\{enfants\}|\{login\}/);
  await res.page.close();
  // A preview saves nothing.
  assert.equal((await ctx.database.pool.query('SELECT count(*)::int AS n FROM letter_templates')).rows[0].n, 0);

  await page.click('#sheet_inactive button[value="save"]');
  await page.waitForURL(/ok=saved/);
  assert.equal(await page.textContent('.notice-success'), 'Modèle enregistré.');
  assert.match((await page.textContent('#sheet_inactive h2'))!, /Modèle de l’établissement/);
  const saved = await ctx.database.pool.query('SELECT structure_id, profile, kind, body FROM letter_templates');
  assert.deepEqual(saved.rows, [{ structure_id: school, profile: 'Relative', kind: 'sheet_inactive', body: text }]);
  const audit = await ctx.database.pool.query(`SELECT count(*)::int AS n FROM audit WHERE action = 'template.save'`);
  assert.equal(audit.rows[0].n, 1);

  // A real parent's sheet now carries the school's text.
  const rows = await selectAccounts(ctx, SelectionSchema.parse({ userIds: [parentId] }), { kind: 'all' });
  const real = pdfText(await renderSheetsPdf(ctx, rows, { model: 1 }));
  assert.match(real, /famille de Nina Roux \(CM1 A\) à École Jules Ferry\. Votre identifiant : marie\.roux\. Mot-clé GIRAFE\./);
});

test('mail preview, unknown field refused, default restored after confirmation', async () => {
  const url = `${ui.url}/console/etablissements/${school}/modeles?profil=parents`;
  await page.goto(url);
  await page.fill('#subject-mail_inactive', 'Accès ENT de {prenom} {nom}');
  const res = await preview('mail_inactive');
  assert.equal(res.status, 200);
  assert.match((await res.page.textContent('.mail-preview'))!, /Objet : Accès ENT de Dominique EXEMPLE/);
  await res.page.screenshot({ path: screenshotPath('templates-apercu-courriel'), fullPage: false });
  await res.page.close();

  await page.fill('#body-sheet_active', 'Bonjour {prenom}, {inconnu}');
  await page.click('#sheet_active button[value="save"]');
  assert.match((await page.textContent('#sheet_active .notice-error'))!, /champ de fusion inconnu : \{inconnu\}/);
  assert.equal(await page.inputValue('#body-sheet_active'), 'Bonjour {prenom}, {inconnu}', 'the typed text is kept');
  await page.screenshot({ path: screenshotPath('templates-erreur'), fullPage: false });

  await page.goto(url);
  await page.click('#sheet_inactive button[value="reset"]');
  assert.equal(await page.textContent('h1'), 'Rétablir le modèle par défaut');
  await page.click('button[value="reset-confirm"]');
  await page.waitForURL(/ok=reset/);
  assert.equal(await page.inputValue('#body-sheet_inactive'), defaultTemplate('Relative', 'sheet_inactive').body);
  assert.equal((await ctx.database.pool.query('SELECT count(*)::int AS n FROM letter_templates')).rows[0].n, 0);

  // Another school's templates are out of reach.
  const other = (await ctx.database.pool.query(`INSERT INTO structures (name) VALUES ('Collège Voltaire') RETURNING id`)).rows[0].id;
  assert.equal((await ui.context.request.get(`${ui.url}/console/etablissements/${other}/modeles`)).status(), 404);
});

test('the preview of an activated account’s sheet shows what an account without an e-mail address receives too', async () => {
  const pages = (pdf: Buffer) => {
    const f = join(dir, `n${Math.random().toString(36).slice(2)}.pdf`);
    writeFileSync(f, pdf);
    return Number(/Pages:\s+(\d+)/.exec(execFileSync('pdfinfo', [f], { encoding: 'utf8' }))![1]);
  };
  await page.goto(`${ui.url}/console/etablissements/${school}/modeles?profil=parents`);
  // The built-in text: page 1 the account with an address (reset link), page 2 the one without (renewal code).
  const res = await preview('sheet_active');
  assert.equal(res.status, 200);
  assert.equal(pages(res.body), 2);
  const shown = pdfText(res.body);
  assert.match(shown, /un lien de renouvellement est envoyé à l’adresse électronique de votre compte/);
  assert.match(shown, /Votre compte n’a pas d’adresse électronique : demandez un code de renouvellement/);
  await res.page.close();
  // A school's own text is printed as written for both: the preview shows it twice, never the built-in variant.
  await page.fill('#body-sheet_active', 'Texte de l’école pour {prenom}.');
  const own = await preview('sheet_active');
  assert.equal(pages(own.body), 2);
  const ownText = pdfText(own.body);
  assert.equal(ownText.match(/Texte de l’école pour Dominique\./g)?.length, 2);
  assert.doesNotMatch(ownText, /n’a pas d’adresse électronique/);
  await own.page.close();
});

test('the merge-field buttons are described by the visible text beside them, in the page’s language', async () => {
  await page.goto(`${ui.url}/console/etablissements/${school}/modeles?profil=parents&lang=en`);
  try {
    const described = await page.$$eval('#sheet_inactive button.merge-field', (bs) =>
      bs.map((b) => ({
        name: b.textContent,
        title: b.getAttribute('title'),
        description: (b.getAttribute('aria-describedby') ?? '')
          .split(' ')
          .map((id) => document.getElementById(id)?.textContent ?? `(no #${id})`)
          .join(' '),
      })),
    );
    const code = described.find((d) => d.name === '{code}');
    // The French label was its tooltip on an English page (« Code d'activation (vide si le compte est activé) »).
    assert.deepEqual(code, { name: '{code}', title: null, description: 'Activation code (empty when the account is activated)' });
    assert.ok(described.length > 5 && described.every((d) => d.title === null && d.description && !d.description.startsWith('(no')), JSON.stringify(described));
  } finally {
    await page.goto(`${ui.url}/console?lang=fr`);
  }
});
