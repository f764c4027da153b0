// "Paramétrage de la classe" in real headless Chromium against the real server and Postgres: a teacher sees
// only its class's students and their parents, downloads the simplified PDF (8 per page) and the CSV of two
// ticked students, generates a renewal code, blocks a student, mails detailed sheets; every class-view
// endpoint answers 404 for another class's student.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import type { APIRequestContext, Page } from 'playwright-core';
import { normalizeCode } from '../src/accounts/codes.js';
import { classe } from '../src/web/i18n/classe.js';
import { testContext } from './helpers/db.js';
import { pdfPages } from './helpers/pdf.js';
import { saveStructureSettings } from '../src/directory/policies.js';
import { focusedId, screenshotPath, signedInBrowser, type SignedInBrowser } from './helpers/browser.js';
import { createInactiveUser, createUser } from './helpers/web.js';

type Ctx = Awaited<ReturnType<typeof testContext>>;
const PASSWORD = 'une phrase de passe solide';

let ctx: Ctx;
let ui: SignedInBrowser;
let page: Page;
const dir = mkdtempSync(join(tmpdir(), 'trousseau-classe-'));
const ids: Record<string, string> = {};
const logins: Record<string, string> = {};
let cm1a = '';
let cm2b = '';

async function attach(userId: string, structureId: string, classId?: string) {
  const pool = ctx.database.pool;
  await pool.query('INSERT INTO user_structures (user_id, structure_id) VALUES ($1, $2)', [userId, structureId]);
  if (classId) await pool.query('INSERT INTO user_classes (user_id, class_id) VALUES ($1, $2)', [userId, classId]);
}

before(async () => {
  ctx = await testContext();
  const pool = ctx.database.pool;
  const school = (await pool.query(`INSERT INTO structures (name) VALUES ('École Jules Ferry') RETURNING id`)).rows[0].id;
  cm1a = (await pool.query(`INSERT INTO classes (structure_id, name) VALUES ($1, 'CM1 A') RETURNING id`, [school])).rows[0].id;
  cm2b = (await pool.query(`INSERT INTO classes (structure_id, name) VALUES ($1, 'CM2 B') RETURNING id`, [school])).rows[0].id;

  const add = async (key: string, o: { first: string; last: string; profile: 'Student' | 'Relative' | 'Teacher'; active?: boolean; email?: string; birth?: string; classId?: string }) => {
    logins[key] = `${o.first}.${o.last}`.toLowerCase().normalize('NFD').replace(/[^a-z.]/g, '');
    const u = { login: logins[key], firstName: o.first, lastName: o.last, profile: o.profile, email: o.email ?? null };
    ids[key] = o.active ? await createUser(pool, { ...u, password: PASSWORD }) : (await createInactiveUser(pool, ctx.secrets, u)).id;
    if (o.birth) await pool.query('UPDATE users SET birth_date = $2 WHERE id = $1', [ids[key], o.birth]);
    await attach(ids[key], school, o.classId);
  };
  await add('teacher', { first: 'Paul', last: 'Professeur', profile: 'Teacher', active: true, classId: cm1a });
  await add('lea', { first: 'Léa', last: 'Martin', profile: 'Student', active: true, birth: '2015-03-15', classId: cm1a });
  await add('hugo', { first: 'Hugo', last: 'Bernard', profile: 'Student', birth: '2015-09-26', classId: cm1a });
  await add('zoe', { first: 'Zoé', last: 'Durand', profile: 'Student', birth: '2014-12-25', classId: cm1a });
  await add('claire', { first: 'Claire', last: 'Bernard', profile: 'Relative', email: 'claire.bernard@example.fr' });
  await add('marc', { first: 'Marc', last: 'Durand', profile: 'Relative' });
  // Another class's student and parent: never visible to the teacher.
  await add('ines', { first: 'Inès', last: 'Petit', profile: 'Student', birth: '2014-06-02', classId: cm2b });
  await add('remi', { first: 'Rémi', last: 'Petit', profile: 'Relative', email: 'remi.petit@example.fr' });
  for (const [p, c] of [['claire', 'hugo'], ['marc', 'zoe'], ['remi', 'ines']]) {
    await pool.query('INSERT INTO relations (parent_id, child_id) VALUES ($1, $2)', [ids[p], ids[c]]);
  }

  ui = await signedInBrowser(ctx, logins.teacher, PASSWORD, { home: /\/classe\// });
  page = ui.page;
});

after(async () => {
  await ui?.close();
  await ctx?.close();
  rmSync(dir, { recursive: true, force: true });
});

const pdfText = (pdf: Buffer): string => {
  const f = join(dir, `t${Math.random().toString(36).slice(2)}.pdf`);
  writeFileSync(f, pdf);
  return execFileSync('pdftotext', ['-layout', f, '-'], { encoding: 'utf8' });
};

/** The rows' login column of the table shown. */
const shownLogins = () => page.$$eval('table.class-table tbody tr td:nth-child(5)', (tds) => tds.map((td) => td.textContent!.trim()));

/** A no-JS form post with the page's CSRF token (repeated `ids` fields, as checkboxes send them). */
async function postForm(req: APIRequestContext, url: string, fields: Array<[string, string]>) {
  const csrf = await page.getAttribute('input[name="_csrf"]', 'value');
  const body = new URLSearchParams([['_csrf', csrf!], ...fields]).toString();
  return req.post(`${ui.url}${url}`, { data: body, headers: { 'content-type': 'application/x-www-form-urlencoded' }, maxRedirects: 0 });
}

test('the teacher sees only its class: students with birth date, login and code; parents of those students', async () => {
  await page.goto(`${ui.url}/classe`);
  assert.match(page.url(), new RegExp(`/classe/${cm1a}/eleves$`));
  assert.equal(await page.textContent('h1'), 'Comptes de la classe CM1 A');
  assert.match(await page.title(), /^Comptes de la classe CM1 A — Élèves — /);
  assert.deepEqual((await shownLogins()).sort(), [logins.hugo, logins.lea, logins.zoe].sort());
  const body = await page.textContent('main');
  assert.match(body!, /15\/03\/2015/);
  assert.match(body!, /Activé/);
  assert.match(body!, /[0-9A-Z]{4}-[0-9A-Z]{4}-[0-9A-Z]{2}/, 'grouped activation code');
  assert.doesNotMatch(body!, /Inès|Petit|CM2 B/);
  // JS: the header box ticks everything and the count follows.
  await page.check('#select-all');
  assert.equal(await page.textContent('#selection-count'), '3 comptes sélectionnés (dont 3 sans adresse courriel)');
  await page.uncheck('#select-all');
  // « Tout sélectionner » ticks in place once the script runs: a button to a screen reader (a link would promise
  // another page), pressed with Space as well as Enter, its new name said.
  const toggle = page.locator('[data-toggle-all]');
  assert.equal(await toggle.getAttribute('role'), 'button');
  await toggle.focus();
  await page.keyboard.press('Space');
  assert.equal(await page.textContent('#selection-count'), '3 comptes sélectionnés (dont 3 sans adresse courriel)');
  assert.equal(await toggle.textContent(), 'Tout désélectionner');
  assert.match(page.url(), new RegExp(`/classe/${cm1a}/eleves$`), 'no page loaded');
  await page.keyboard.press('Enter');
  assert.equal(await page.textContent('#selection-count'), '0 compte sélectionné');
  await page.screenshot({ path: screenshotPath('classe-eleves'), fullPage: true });

  await page.click('nav.subnav >> text=Parents');
  assert.match(page.url(), /\/parents$/);
  assert.deepEqual((await shownLogins()).sort(), [logins.claire, logins.marc].sort());
  assert.doesNotMatch((await page.textContent('main'))!, /Rémi|Petit/);
});

test('another class and its people: 404 on every class-view endpoint, absent from the publipostage API', async () => {
  await page.goto(`${ui.url}/classe/${cm1a}/eleves`);
  const req = ui.context.request;
  for (const url of [`/classe/${cm2b}/eleves`, `/classe/${cm2b}/parents`, `/classe/not-a-uuid/eleves`, `/classe?classe=${cm2b}`]) {
    assert.equal((await req.get(`${ui.url}${url}`)).status(), 404, url);
  }
  for (const action of ['pdf', 'csv', 'mail', 'mail-send', 'renewal', 'block', 'block-confirm', 'unblock-confirm']) {
    assert.equal((await postForm(req, `/classe/${cm1a}/eleves`, [['ids', ids.hugo], ['ids', ids.ines], ['action', action]])).status(), 404, action);
    assert.equal((await postForm(req, `/classe/${cm1a}/parents`, [['ids', ids.remi], ['action', action]])).status(), 404, action);
    assert.equal((await postForm(req, `/classe/${cm2b}/eleves`, [['ids', ids.ines], ['action', action]])).status(), 404, action);
    // A student of the class posted to the parents tab is not a row of that list either.
    assert.equal((await postForm(req, `/classe/${cm1a}/parents`, [['ids', ids.hugo], ['action', action]])).status(), 404, action);
  }
  // The same form with an id of the class works (no JS needed): a PDF download.
  const ok = await postForm(req, `/classe/${cm1a}/eleves`, [['ids', ids.hugo], ['action', 'pdf']]);
  assert.equal(ok.status(), 200);
  assert.equal(ok.headers()['content-type'], 'application/pdf');
  assert.match(ok.headers()['content-disposition'], /^attachment; filename="fiches-CM1A-eleves-1-comptes-\d{4}-\d{2}-\d{2}\.pdf"/);
  const state = await ctx.database.pool.query('SELECT blocked, renewal_code_mac FROM users WHERE id = ANY($1::uuid[])', [[ids.ines, ids.remi]]);
  assert.ok(state.rows.every((r) => !r.blocked && !r.renewal_code_mac), 'nothing changed for the other class');
  assert.equal((await ctx.database.pool.query('SELECT count(*)::int AS n FROM mail_jobs')).rows[0].n, 0);

  // The publipostage API (teachers allowed, scope = their classes): naming the other class's people is a 404.
  for (const url of [`/api/publipostage/pdf?userIds=${ids.ines},${ids.remi}&model=8`, `/api/publipostage/csv?userIds=${ids.ines},${ids.remi}`,
    `/api/publipostage/preview?userIds=${ids.ines},${ids.remi}`, `/api/publipostage/csv?userIds=${ids.hugo},${ids.ines}`]) {
    const res = url.includes('/preview') ? await req.get(`${ui.url}${url}`) : await postForm(req, url, []);
    assert.equal(res.status(), 404, url);
  }
  // Without ids, the whole API selection stays inside the class: no one from the other class.
  const all = await postForm(req, '/api/publipostage/csv', []);
  assert.equal(all.status(), 200);
  assert.doesNotMatch((await all.body()).toString('utf8'), new RegExp(`${logins.ines}|${logins.remi}`));
});

test('two ticked students: simplified PDF (8 per A4, one page) and CSV downloads', async () => {
  await page.goto(`${ui.url}/classe/${cm1a}/eleves`);
  await page.check(`#sel-${ids.hugo}`);
  await page.check(`#sel-${ids.zoe}`);
  assert.equal(await page.textContent('#selection-count'), '2 comptes sélectionnés (dont 2 sans adresse courriel)');
  await page.click('summary:has-text("Fiches de connexion")');
  assert.match((await page.textContent('[data-sheets-count]'))!, /de 2 utilisateurs\..*ordre alphabétique/);
  // Each button is read with the hint under it (what it makes, who receives what), as a field with its hint.
  const described = await page.$$eval('.sheets-panel button', (bs) =>
    bs.map((b) => [b.textContent, (b.getAttribute('aria-describedby') ?? '').split(' ').map((id) => document.getElementById(id)?.textContent ?? '').join(' ')]),
  );
  assert.ok(described.length >= 6 && described.every(([, d]) => d), JSON.stringify(described));
  assert.match(Object.fromEntries(described)['Envoyer aux familles'], /^Chaque parent reçoit ses propres identifiants/);
  assert.match(Object.fromEntries(described)['Fiches détaillées par courriel'], /^Un courriel avec une fiche de connexion détaillée/);
  await page.screenshot({ path: screenshotPath('classe-fiches-menu'), fullPage: true });

  const [pdfDl] = await Promise.all([page.waitForEvent('download'), page.click('button:has-text("Fiches de connexion simplifiées .PDF")')]);
  const pdfFile = join(dir, 'fiches.pdf');
  await pdfDl.saveAs(pdfFile);
  assert.match(pdfDl.suggestedFilename(), /^fiches-CM1A-eleves-2-comptes-\d{4}-\d{2}-\d{2}\.pdf$/);
  const text = pdfText(readFileSync(pdfFile));
  assert.match(text, new RegExp(logins.hugo));
  assert.match(text, new RegExp(logins.zoe));
  assert.doesNotMatch(text, new RegExp(logins.lea));
  assert.ok(text.indexOf('Hugo Bernard') < text.indexOf('Zoé Durand'), 'alphabetical');
  assert.equal(pdfPages(pdfFile), 1, '8 sheets per A4 page');

  const [csvDl] = await Promise.all([page.waitForEvent('download'), page.click('button:has-text("Exporter en .CSV")')]);
  const csvFile = join(dir, 'codes.csv');
  await csvDl.saveAs(csvFile);
  const csv = readFileSync(csvFile, 'utf8').replace(/^\uFEFF/, '');
  const lines = csv.trim().split('\r\n');
  assert.match(lines[0], /^Nom;Prénom;Profil;Login;Code d'activation/);
  assert.equal(lines.length, 3);
  assert.match(lines[1], new RegExp(`^Bernard;Hugo;Élève;${logins.hugo};[0-9A-Z]{4}-[0-9A-Z]{4}-[0-9A-Z]{2};`));
  assert.match(lines[2], new RegExp(`^Durand;Zoé;Élève;${logins.zoe};`));
});

test('renewal code for one active student, shown once and working', async () => {
  await page.goto(`${ui.url}/classe/${cm1a}/eleves`);
  // Inactive account: refused with an explanation, the ticks kept.
  await page.check(`#sel-${ids.hugo}`);
  await page.click('button[value="renewal"]');
  assert.match((await page.textContent('.notice-error'))!, /n’est pas encore activé/);
  assert.ok(await page.isChecked(`#sel-${ids.hugo}`));
  // Said first: the refusal has focus (a screen reader otherwise starts again at the top of the page).
  assert.equal(await focusedId(page, 'notice'), 'notice');
  assert.match(await page.title(), /^Erreur : /);
  await page.uncheck(`#sel-${ids.hugo}`);
  await page.check(`#sel-${ids.lea}`);
  await page.click('button[value="renewal"]');
  assert.equal(await page.textContent('h1'), 'Code de renouvellement — CM1 A');
  const code = (await page.textContent('[data-renewal-code]'))!.trim();
  assert.match(code, /^[0-9A-Z]{4}-[0-9A-Z]{4}-[0-9A-Z]{2}$/);
  assert.match((await page.textContent('main'))!, /il ne sera plus jamais affiché/);
  await page.screenshot({ path: screenshotPath('classe-renouvellement'), fullPage: true });
  const row = (await ctx.database.pool.query('SELECT renewal_code_mac FROM users WHERE id = $1', [ids.lea])).rows[0];
  assert.equal(row.renewal_code_mac, ctx.secrets.mac('renewal', normalizeCode(code)!));
  const audit = await ctx.database.pool.query(`SELECT actor_id FROM audit WHERE action = 'account.renewal_code'`);
  assert.deepEqual(audit.rows.map((r) => r.actor_id), [ids.teacher]);
});

test('blocking a student after confirmation; mailing detailed sheets to parents with counts', async () => {
  // By default a school lets its teachers print sheets and renewal codes, not block (issue #9): no « Bloquer » is
  // offered, and a posted one is refused.
  await page.goto(`${ui.url}/classe/${cm1a}/eleves`);
  assert.equal(await page.locator('button[value="block"], button[value="unblock"]').count(), 0);
  assert.match((await page.textContent('[data-withheld]'))!, /bloquer et débloquer des comptes/);
  assert.equal((await postForm(ui.context.request, `/classe/${cm1a}/eleves`, [['ids', ids.zoe], ['action', 'block']])).status(), 403);
  assert.equal((await ctx.database.pool.query('SELECT blocked FROM users WHERE id = $1', [ids.zoe])).rows[0].blocked, false);
  const school = (await ctx.database.pool.query('SELECT structure_id FROM classes WHERE id = $1', [cm1a])).rows[0].structure_id;
  await saveStructureSettings(ctx.database.pool, school, { teacherRights: ['sheets', 'renewal', 'mail', 'block'], termsText: null, newVersion: false }, null);

  await page.goto(`${ui.url}/classe/${cm1a}/eleves`);
  await page.check(`#sel-${ids.zoe}`);
  await page.click('button[value="block"]');
  assert.equal(await page.textContent('h1'), 'Bloquer des comptes — CM1 A');
  assert.match((await page.textContent('.confirm-list'))!, /Zoé Durand/);
  await page.click('button[value="block-confirm"]:has-text("Bloquer 1 compte")');
  assert.match(page.url(), /ok=blocked/);
  assert.equal(await page.textContent('.notice-success'), '1 compte bloqué.');
  assert.equal(await focusedId(page, 'notice'), 'notice', 'the confirmation has focus');
  assert.match((await page.textContent(`tr:has(#sel-${ids.zoe})`))!, /Bloqué/);
  assert.equal((await ctx.database.pool.query('SELECT blocked FROM users WHERE id = $1', [ids.zoe])).rows[0].blocked, true);
  await page.screenshot({ path: screenshotPath('classe-bloque'), fullPage: true });

  await page.goto(`${ui.url}/classe/${cm1a}/parents`);
  await page.check(`#sel-${ids.claire}`);
  await page.check(`#sel-${ids.marc}`);
  await page.click('summary:has-text("Fiches de connexion")');
  await page.click('button:has-text("Fiches détaillées par courriel")');
  assert.equal(await page.textContent('h1'), 'Fiches détaillées par courriel — CM1 A');
  assert.match((await page.textContent('.lead'))!, /^1 courriel sera envoyé\. 1 compte sans adresse courriel ne recevra rien/);
  assert.match((await page.textContent('.lead'))!, /Contenu : CM1 A · parents · 2 comptes choisis/);
  await page.click('button:has-text("Envoyer 1 courriel")');
  // No SMTP server in this test: the notice says the mails wait and what to do.
  const queued = (await page.textContent('.notice-error'))!;
  assert.equal(await focusedId(page, 'notice'), 'notice', 'what became of the mails has focus');
  assert.match(queued, /^1 courriel en cours d’envoi\. 1 compte sans adresse courriel\. Aucun serveur de courriel n’est configuré/);
  assert.match(queued, /SMTP_URL/);
  const jobs = await ctx.database.pool.query('SELECT recipient, user_id FROM mail_jobs');
  assert.deepEqual(jobs.rows, [{ recipient: 'claire.bernard@example.fr', user_id: ids.claire }]);
});

test('catalogue: French first, English complete for the class view, templates and duplicates', () => {
  assert.deepEqual(Object.keys(classe.en).sort(), Object.keys(classe.fr).sort());
});
