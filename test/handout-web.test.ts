// Issue #10 (distrib-a) on the web: the class view's "Fiches famille" and renewal sheets in real Chromium (a teacher
// ticks pupils, downloads the PDF, reads it back with pdftotext and zbarimg), and the console's one-user and
// ticked-rows actions, ZIP and renewal sheets over HTTP (CSRF, confirmation, codes shown once).
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import type { FastifyInstance } from 'fastify';
import type { Page } from 'playwright-core';
import { normalizeCode } from '../src/accounts/codes.js';
import { saveStructureSettings } from '../src/directory/policies.js';
import { RENEWAL } from '../src/accounts/issue.js';
import { activationUrl } from '../src/publipostage/format.js';
import { renewalUrl } from '../src/publipostage/pdf.js';
import { buildServer } from '../src/web/server.js';
import { frenchContext, screenshotPath, signedInBrowser, type SignedInBrowser } from './helpers/browser.js';
import { testContext } from './helpers/db.js';
import { pdfPages, pdfQrCodes, pdfText } from './helpers/pdf.js';
import { zipEntries } from './helpers/zip.js';
import { createInactiveUser, createUser, signedInClient, type Client } from './helpers/web.js';

const PASSWORD = 'une phrase de passe solide';
let ctx: Awaited<ReturnType<typeof testContext>>;
let ui: SignedInBrowser;
let app: FastifyInstance;
let admin: Client;
let page: Page;
const dir = mkdtempSync(join(tmpdir(), 'trousseau-handout-'));
const ids: Record<string, string> = {};
const logins: Record<string, string> = {};
const codes: Record<string, string> = {};
let school = '';
let cm1 = '';

before(async () => {
  ctx = await testContext();
  const pool = ctx.database.pool;
  school = (await pool.query(`INSERT INTO structures (name) VALUES ('École Jules Ferry') RETURNING id`)).rows[0].id;
  cm1 = (await pool.query(`INSERT INTO classes (structure_id, name) VALUES ($1, 'CM1 A') RETURNING id`, [school])).rows[0].id;
  const add = async (key: string, o: { first: string; last: string; profile: 'Student' | 'Relative' | 'Teacher' | 'Personnel'; active?: boolean; email?: string; inClass?: boolean }) => {
    logins[key] = `${o.first}.${o.last}`.toLowerCase().normalize('NFD').replace(/[^a-z.]/g, '');
    const u = { login: logins[key], firstName: o.first, lastName: o.last, profile: o.profile, email: o.email ?? null };
    if (o.active) ids[key] = await createUser(pool, { ...u, password: PASSWORD });
    else ({ id: ids[key], code: codes[key] } = await createInactiveUser(pool, ctx.secrets, u));
    await pool.query('INSERT INTO user_structures (user_id, structure_id) VALUES ($1, $2)', [ids[key], school]);
    if (o.inClass) await pool.query('INSERT INTO user_classes (user_id, class_id) VALUES ($1, $2)', [ids[key], cm1]);
  };
  await add('teacher', { first: 'Paul', last: 'Professeur', profile: 'Teacher', active: true, inClass: true });
  await add('hugo', { first: 'Hugo', last: 'Bernard', profile: 'Student', inClass: true });
  await add('tom', { first: 'Tom', last: 'Bernard', profile: 'Student', inClass: true });
  await add('zoe', { first: 'Zoé', last: 'Durand', profile: 'Student', inClass: true });
  await add('lea', { first: 'Léa', last: 'Martin', profile: 'Student', active: true, inClass: true });
  await add('claire', { first: 'Claire', last: 'Bernard', profile: 'Relative', email: 'claire.bernard@example.fr' });
  await add('marc', { first: 'Marc', last: 'Durand', profile: 'Relative' });
  await add('staff', { first: 'Rose', last: 'Secretaire', profile: 'Personnel', active: true, email: 'rose@example.fr' });
  for (const [p, c] of [['claire', 'hugo'], ['claire', 'tom'], ['marc', 'zoe']]) {
    await pool.query('INSERT INTO relations (parent_id, child_id) VALUES ($1, $2)', [ids[p], ids[c]]);
  }
  const superAdmin = await createUser(pool, { login: 'admin', profile: 'Personnel', password: PASSWORD, superAdmin: true });
  app = await buildServer(ctx);
  admin = await signedInClient(app, pool, superAdmin);
  ui = await signedInBrowser(ctx, logins.teacher, PASSWORD, { home: /\/classe\// });
  page = ui.page;
});

after(async () => {
  await ui?.close();
  await app?.close();
  await ctx?.close();
  rmSync(dir, { recursive: true, force: true });
});

let n = 0;
const save = (data: Buffer): string => {
  const f = join(dir, `f${++n}.pdf`);
  writeFileSync(f, data);
  return f;
};

test('class view « Fiches famille »: the ticked pupils, each followed by their parents, a parent of two pupils once', async () => {
  await page.goto(`${ui.url}/classe/${cm1}/eleves`);
  for (const k of ['hugo', 'tom', 'zoe']) await page.check(`#sel-${ids[k]}`);
  await page.click('summary:has-text("Fiches de connexion")');
  // The panel counts what the PDF holds, parents too, as boxes are ticked (classe.js).
  assert.equal(await page.textContent('[data-family-count]'), 'Le PDF contiendra 5 fiches : 3 élèves et 2 parents.');
  await page.uncheck(`#sel-${ids.tom}`);
  assert.equal(await page.textContent('[data-family-count]'), 'Le PDF contiendra 4 fiches : 2 élèves et 2 parents.');
  await page.check(`#sel-${ids.tom}`);
  await page.screenshot({ path: screenshotPath('classe-fiches-famille'), fullPage: true });
  const [dl] = await Promise.all([page.waitForEvent('download'), page.click('button:has-text("Fiches famille .PDF (1 par page)")')]);
  const file = join(dir, 'famille.pdf');
  await dl.saveAs(file);
  assert.match(dl.suggestedFilename(), /^fiches-famille-CM1A-3-eleves-2-parents-\d{4}-\d{2}-\d{2}\.pdf$/);
  assert.equal(pdfPages(file), 5);
  const who = [1, 2, 3, 4, 5].map((p) => /(Hugo|Claire|Tom|Zoé|Marc) (Bernard|Durand)/.exec(pdfText(file, p))?.[0]);
  assert.deepEqual(who, ['Hugo Bernard', 'Claire Bernard', 'Tom Bernard', 'Zoé Durand', 'Marc Durand']);
  assert.match(pdfText(file, 2).replace(/\s+/g, ' '), /Responsable de : Hugo Bernard \(CM1 A\), Tom Bernard \(CM1 A\)/);
  assert.deepEqual(pdfQrCodes(file, 2), [activationUrl(ui.url, logins.claire, codes.claire)]);
  assert.deepEqual(pdfQrCodes(file, 4), [activationUrl(ui.url, logins.zoe, codes.zoe)]);
  assert.doesNotMatch(execFileSync('pdftotext', [file, '-'], { encoding: 'utf8' }), /Léa/);

  // 8 per page: the same five sheets, each family on a page of its own (cut and handed out, a page never carries
  // another family's codes).
  await page.goto(`${ui.url}/classe/${cm1}/eleves`);
  for (const k of ['hugo', 'tom', 'zoe']) await page.check(`#sel-${ids[k]}`);
  await page.click('summary:has-text("Fiches de connexion")');
  const [dl8] = await Promise.all([page.waitForEvent('download'), page.click('button:has-text("Fiches famille .PDF (8 par page)")')]);
  const file8 = join(dir, 'famille8.pdf');
  await dl8.saveAs(file8);
  assert.equal(pdfPages(file8), 2);
  assert.doesNotMatch(pdfText(file8, 1), /Durand/);
  assert.doesNotMatch(pdfText(file8, 2), /Bernard/);
  // zbarimg may read one symbol twice on a dense page: compare the people the codes open, not the raw count.
  const people = (p: number) => [...new Set(pdfQrCodes(file8, p).map((url) => new URL(url).searchParams.get('login')))].sort();
  assert.deepEqual(people(1), ['hugo', 'claire', 'tom'].map((k) => logins[k]).sort());
  assert.deepEqual(people(2), ['zoe', 'marc'].map((k) => logins[k]).sort());
});

test('class view « Envoyer aux familles »: confirmation with the parents reached and those to print for, then the run', async () => {
  await page.goto(`${ui.url}/classe/${cm1}/eleves`);
  for (const k of ['hugo', 'zoe']) await page.check(`#sel-${ids[k]}`);
  await page.click('summary:has-text("Fiches de connexion")');
  await page.click('button:has-text("Envoyer aux familles")');
  assert.match((await page.textContent('[data-family-mail]'))!, /Claire Bernard — claire\.bernard@example\.fr/);
  assert.match((await page.textContent('[data-family-paper]'))!, /Marc Durand.*Zoé Durand/);
  // One child each: « enfant : », not « enfants : Hugo Bernard ».
  assert.match((await page.textContent('[data-family-mail]'))!, /\(enfant : Hugo Bernard\)/);
  assert.match((await page.textContent('[data-family-paper]'))!, /\(enfant : Zoé Durand\)/);
  await Promise.all([page.waitForURL(/ok=mail/), page.click('button:has-text("Envoyer 1 courriel aux familles")')]);
  assert.match(page.url(), /ok=mail&n=1&m=1/);
  const jobs = await ctx.database.pool.query(
    `SELECT j.recipient FROM mail_jobs j JOIN mail_runs r ON r.id = j.run_id WHERE r.filters->>'sort' = 'family' AND j.attachment_spec IS NOT NULL`,
  );
  assert.deepEqual(jobs.rows.map((r) => r.recipient), ['claire.bernard@example.fr']);
});

test('class view renewal sheets: activated pupils only, after a confirmation, codes printed once with QR to the renewal page', async () => {
  await page.goto(`${ui.url}/classe/${cm1}/eleves`);
  for (const k of ['lea', 'hugo']) await page.check(`#sel-${ids[k]}`);
  await page.click('button:has-text("Fiches de renouvellement")');
  const confirm = (await page.textContent('main'))!;
  assert.match(confirm, /1 compte activé recevra un nouveau code/);
  assert.match(confirm, /1 compte coché non activé/);
  assert.match(confirm, /ne seront plus jamais affichés/);
  assert.equal(await page.locator('input[name="_csrf"]').count() > 0, true);
  const [dl] = await Promise.all([page.waitForEvent('download'), page.click('button:has-text("Générer les fiches (PDF, 8 par page)")')]);
  const file = join(dir, 'renouvellement.pdf');
  await dl.saveAs(file);
  assert.match(dl.suggestedFilename(), /^renouvellement-CM1A-eleves-1-comptes-/);
  const text = pdfText(file, 1).replace(/\s+/g, ' ');
  assert.match(text, /Léa Martin/);
  assert.doesNotMatch(text, /Hugo/);
  // A pupil's renewal sheet says « tu », its caption too; 8 per page, the simplified sheet's short text.
  assert.match(text, /Scanne pour changer de mot de passe Pour choisir un nouveau mot de passe, scanne le QR code ou va sur \S+\/renouvellement et saisis ton identifiant et ce code\. D’ici là, ton mot de passe reste valable\./);
  assert.doesNotMatch(text, /\b(vous|votre|scannez|saisissez)\b/i);
  const code = normalizeCode(/Code de renouvellement : ([0-9A-Z-]{12})/.exec(text)![1]) ?? "";
  assert.deepEqual(pdfQrCodes(file, 1), [renewalUrl(ui.url, logins.lea, code)]);
  const { rows: [lea] } = await ctx.database.pool.query('SELECT renewal_code_mac FROM users WHERE id = $1', [ids.lea]);
  assert.ok(ctx.secrets.verify(RENEWAL, code, lea.renewal_code_mac));
  // The QR link opens the renewal page with the code filled in; submitting it leads to the new-password step.
  const family = await frenchContext(ui.browser);
  const pupil = await family.newPage();
  await pupil.goto(renewalUrl(ui.url, logins.lea, code));
  assert.equal(await pupil.textContent('h1'), 'Renouvellement du mot de passe');
  await pupil.click('main form button[type="submit"]');
  assert.match((await pupil.textContent('main'))!, new RegExp(`Compte ${logins.lea} : choisissez votre nouveau mot de passe`));
  await family.close();
  // Nothing stores or shows the code again: the class page does not carry it.
  await page.goto(`${ui.url}/classe/${cm1}/eleves`);
  assert.doesNotMatch((await page.content()), new RegExp(code));
});

test('console: a user’s « Fiche PDF » and « Envoyer par courriel », and the ticked rows of the users list', async () => {
  const detail = await admin.get(`/console/utilisateurs/${ids.zoe}`);
  assert.match(detail.body, /data-user-sheet/);
  assert.match(detail.body, /un code neuf s’il n’en a plus de valable/);
  assert.doesNotMatch(detail.body, /data-user-mail/, 'no address: no mail button');
  // Blocked: the page says no code would open it, and offers no sheet that would only answer « Pas de fiche ».
  await ctx.database.pool.query('UPDATE users SET blocked = true WHERE id = $1', [ids.zoe]);
  const blocked = await admin.get(`/console/utilisateurs/${ids.zoe}`);
  await ctx.database.pool.query('UPDATE users SET blocked = false WHERE id = $1', [ids.zoe]);
  assert.match(blocked.body, /data-no-code/);
  assert.doesNotMatch(blocked.body, /data-user-sheet/);
  // Activated: its sheet carries no code, and the hint says so.
  const activated = await admin.get(`/console/utilisateurs/${ids.lea}`);
  assert.match(activated.body, /La fiche de ce compte déjà activé : son identifiant, sans code/);
  // POST without the CSRF token: refused.
  assert.equal((await admin.post(`/console/utilisateurs/${ids.zoe}/fiche`, {}, { csrf: false })).statusCode, 403);
  const sheet = await admin.post(`/console/utilisateurs/${ids.zoe}/fiche`, {});
  assert.equal(sheet.statusCode, 200);
  assert.equal(sheet.headers['content-type'], 'application/pdf');
  assert.match(String(sheet.headers['content-disposition']), /filename\*=UTF-8''Fiche%20de%20connexion%20%E2%80%93%20Zo%C3%A9%20DURAND\.pdf/);
  const file = save(sheet.rawPayload);
  assert.match(pdfText(file, 1), /Zoé Durand/);
  assert.deepEqual(pdfQrCodes(file, 1), [activationUrl(ctx.config.publicUrl, logins.zoe, codes.zoe)]);

  await admin.get(`/console/utilisateurs/${ids.claire}`);
  const mail = await admin.post(`/console/utilisateurs/${ids.claire}/courriel`, { idem: 'one-user-mail-000001' });
  assert.equal(mail.statusCode, 303);
  assert.match(String(mail.headers.location), /^\/console\/envois\//);
  const runId = String(mail.headers.location).split('/').pop();
  const jobs = await ctx.database.pool.query('SELECT recipient, user_id, attachments FROM mail_jobs WHERE run_id = $1', [runId]);
  assert.deepEqual(jobs.rows, [{ recipient: 'claire.bernard@example.fr', user_id: ids.claire, attachments: null }]);

  // The users list: checkboxes and a ZIP of the ticked rows.
  const list = await admin.get(`/console/etablissements/${school}/utilisateurs`);
  assert.match(list.body, new RegExp(`name="ids" value="${ids.hugo}"`));
  const body = new URLSearchParams([['_csrf', admin.csrf!], ['ids', ids.hugo], ['ids', ids.marc], ['action', 'zip']]);
  const zip = await app.inject({
    method: 'POST', url: `/console/etablissements/${school}/utilisateurs/comptes`, remoteAddress: admin.ip,
    headers: { cookie: [...admin.cookies].map(([k, v]) => `${k}=${v}`).join('; '), 'content-type': 'application/x-www-form-urlencoded' },
    payload: body.toString(),
  });
  assert.equal(zip.statusCode, 200);
  assert.equal(zip.headers['content-type'], 'application/zip');
  // Ticked rows of a school's list: the file names the school (no class to name), like every other download.
  assert.match(String(zip.headers['content-disposition']), /^attachment; filename="fiches-EcoleJulesFerry-2-comptes-\d{4}-\d{2}-\d{2}\.zip"; filename\*=UTF-8''fiches-EcoleJulesFerry-2-comptes-/);
  const names = (await zipEntries(zip.rawPayload)).map((e) => e.name).sort();
  assert.deepEqual(names, ['Fiche de connexion – Hugo BERNARD.pdf', 'Fiche de connexion – Marc DURAND.pdf']);
});

test('console publipostage: sort par famille, ZIP, and renewal sheets only through a confirmed POST', async () => {
  const base = `/console/etablissements/${school}/publipostage`;
  const screen = await admin.get(base);
  assert.match(screen.body, /<option value="family"[^>]*>Par famille</);
  const pdf = await admin.post(`${base}/pdf`, { profiles: 'Student,Relative', sort: 'family' });
  const file = save(pdf.rawPayload);
  const who = [1, 2, 3, 4, 5, 6].map((p) => /(Hugo|Claire|Tom|Zoé|Marc|Léa) (Bernard|Durand|Martin)/.exec(pdfText(file, p))?.[0]);
  assert.deepEqual(who, ['Hugo Bernard', 'Claire Bernard', 'Tom Bernard', 'Zoé Durand', 'Marc Durand', 'Léa Martin']);

  const confirm = await admin.get(`${base}/renouvellement?profiles=Student,Personnel`);
  assert.equal(confirm.statusCode, 200);
  assert.match(confirm.body, /data-renewal-count="2"/);
  const before = (await ctx.database.pool.query('SELECT renewal_code_mac FROM users WHERE id = $1', [ids.staff])).rows[0].renewal_code_mac;
  assert.equal(before, null, 'the confirmation page issues nothing');
  const csv = await admin.post(`${base}/renouvellement`, { selection: 'profiles=Student%2CPersonnel', format: 'csv' });
  assert.equal(csv.statusCode, 200);
  const lines = csv.body.replace(/^\uFEFF/, '').trim().split('\r\n');
  assert.equal(lines.length, 3);
  const staff = lines.find((l) => l.includes(logins.staff))!;
  const code = normalizeCode(staff.split(";")[4]) ?? "";
  const { rows: [u] } = await ctx.database.pool.query('SELECT renewal_code_mac FROM users WHERE id = $1', [ids.staff]);
  assert.ok(ctx.secrets.verify(RENEWAL, code, u.renewal_code_mac));
  assert.equal((await admin.post(`${base}/renouvellement`, { selection: 'profiles=Personnel' }, { csrf: false })).statusCode, 403);
  const audit = await ctx.database.pool.query(`SELECT count(*)::int AS n FROM audit WHERE action = 'publipostage.renewal'`);
  assert.ok(audit.rows[0].n >= 1);

  const zip = await admin.post(`${base}/zip`, { profiles: 'Relative' });
  assert.equal(zip.headers['content-type'], 'application/zip');
  const entries = await zipEntries(zip.rawPayload);
  assert.deepEqual(entries.map((e) => e.name).sort(), ['Fiche de connexion – Claire BERNARD.pdf', 'Fiche de connexion – Marc DURAND.pdf']);
  assert.match(pdfText(save(entries[0].data), 1), /(Claire Bernard|Marc Durand)/);
});

test('console family mail: confirmation lists the parents without an address, their packs as a PDF; the run carries the attachment', async () => {
  const base = `/console/etablissements/${school}/publipostage`;
  const page1 = await admin.get(`${base}/familles?profiles=Student&classIds=${cm1}`);
  assert.equal(page1.statusCode, 200);
  assert.match(page1.body, /data-mails="1"/);
  assert.match(page1.body, /data-family-paper>\s*<li>Marc Durand <span class="muted">\(enfant : Zoé Durand\)/);
  const paper = await admin.post(`${base}/familles/pdf`, { selection: `profiles=Student&classIds=${cm1}` });
  assert.equal(paper.headers['content-type'], 'application/pdf');
  // The packs' file says whose they are, as the class view's « Fiches famille » does.
  assert.match(String(paper.headers['content-disposition']), /^attachment; filename="fiches-famille-sans-courriel-CM1A-1-eleves-1-parents-\d{4}-\d{2}-\d{2}\.pdf"; filename\*=UTF-8''/);
  const file = save(paper.rawPayload);
  assert.equal(pdfPages(file), 1);
  const text = execFileSync('pdftotext', [file, '-'], { encoding: 'utf8' });
  assert.match(text, /Zoé Durand/);
  assert.match(text, /Marc Durand/);
  assert.doesNotMatch(text, /Claire|Hugo|Tom/);

  const sent = await admin.post(`${base}/familles`, { selection: `profiles=Student&classIds=${cm1}`, idem: 'family-mail-web-000001' });
  assert.equal(sent.statusCode, 303);
  const runId = String(sent.headers.location).split('/').pop();
  // The pack is made by the worker when it sends: the job says which children's sheets to attach.
  const jobs = await ctx.database.pool.query("SELECT recipient, attachment_spec->>'kind' = 'family_pack' AS attached FROM mail_jobs WHERE run_id = $1", [runId]);
  assert.deepEqual(jobs.rows, [{ recipient: 'claire.bernard@example.fr', attached: true }]);
});

test('the school’s teacher rights apply: without « renewal » and « mail », renewal sheets and family mail are refused (403), family packs still work', async () => {
  await saveStructureSettings(ctx.database.pool, school, { teacherRights: ['sheets'], termsText: null, newVersion: false }, null);
  try {
    await page.goto(`${ui.url}/classe/${cm1}/eleves`);
    const req = ui.context.request;
    const csrf = await page.getAttribute('input[name="_csrf"]', 'value');
    const post = (action: string, id: string) => req.post(`${ui.url}/classe/${cm1}/eleves`, {
      data: new URLSearchParams([['_csrf', csrf ?? ''], ['ids', id], ['action', action]]).toString(),
      headers: { 'content-type': 'application/x-www-form-urlencoded' }, maxRedirects: 0,
    });
    const macBefore = (await ctx.database.pool.query('SELECT renewal_code_mac FROM users WHERE id = $1', [ids.lea])).rows[0].renewal_code_mac;
    for (const action of ['renewal-sheets', 'renewal-pdf-8', 'renewal-csv', 'family-mail', 'family-mail-send']) {
      assert.equal((await post(action, ids.lea)).status(), 403, action);
    }
    const macAfter = (await ctx.database.pool.query('SELECT renewal_code_mac FROM users WHERE id = $1', [ids.lea])).rows[0].renewal_code_mac;
    assert.equal(macAfter, macBefore, 'no renewal code issued');
    const pack = await post('family-8', ids.zoe);
    assert.equal(pack.status(), 200);
    assert.equal(pack.headers()['content-type'], 'application/pdf');
    const zip = await post('zip', ids.zoe);
    assert.equal(zip.headers()['content-type'], 'application/zip');
  } finally {
    await saveStructureSettings(ctx.database.pool, school, { teacherRights: ['sheets', 'renewal', 'mail'], termsText: null, newVersion: false }, null);
  }
});

test('class view « Par famille »: each pupil followed by their parents (tickable), and « Fiches de connexion .PDF » follows that order', async () => {
  await page.goto(`${ui.url}/classe/${cm1}/eleves`);
  const shown = () => page.$$eval('table.class-table tbody tr td:nth-child(5)', (tds) => tds.map((td) => td.textContent!.trim()));
  // Alphabetical by default: the pupils only.
  assert.deepEqual(await shown(), [logins.hugo, logins.tom, logins.zoe, logins.lea]);
  await page.click('nav.order-switch >> text=Par famille');
  assert.match(page.url(), /\/eleves\?ordre=famille$/);
  assert.equal(await page.getAttribute('nav.order-switch a[aria-current]', 'href'), `/classe/${cm1}/eleves?ordre=famille`);
  // Claire, mother of Hugo and Tom, once, after Hugo; Léa has no parent account.
  assert.deepEqual(await shown(), [logins.hugo, logins.claire, logins.tom, logins.zoe, logins.marc, logins.lea]);
  assert.deepEqual(await page.$$eval('tr[data-relative] td:nth-child(5)', (tds) => tds.map((td) => td.textContent!.trim())), [logins.claire, logins.marc]);
  assert.match((await page.textContent(`tr:has(#sel-${ids.claire})`))!, /Responsable de : Hugo Bernard, Tom Bernard/);
  await page.screenshot({ path: screenshotPath('classe-par-famille'), fullPage: true });

  for (const k of ['tom', 'zoe', 'marc', 'claire', 'hugo']) await page.check(`#sel-${ids[k]}`);
  await page.click('summary:has-text("Fiches de connexion")');
  assert.match((await page.textContent('[data-sheets-count]'))!, /de 5 utilisateurs\. .*par famille/);
  const [dl] = await Promise.all([page.waitForEvent('download'), page.click('button:has-text("Fiches de connexion simplifiées .PDF")')]);
  const file = join(dir, 'par-famille.pdf');
  await dl.saveAs(file);
  const text = execFileSync('pdftotext', [file, '-'], { encoding: 'utf8' });
  const at = ['Hugo Bernard', 'Claire Bernard', 'Tom Bernard', 'Zoé Durand', 'Marc Durand'].map((name) => text.indexOf(name));
  assert.ok(at.every((i) => i >= 0), `every ticked account printed: ${at}`);
  assert.deepEqual([...at].sort((a, b) => a - b), at, 'family order: Hugo, Claire, Tom, Zoé, Marc');
  assert.doesNotMatch(text, /Léa/);
});

test('console publipostage: an empty selection is a 422 for the ZIP, renewal sheets and the family mail, nothing written', async () => {
  const base = `/console/etablissements/${school}/publipostage`;
  const written = async () => {
    const a = await ctx.database.pool.query(`SELECT count(*)::int AS n FROM audit WHERE action LIKE 'publipostage.%'`);
    const d = await ctx.database.pool.query('SELECT count(*)::int AS n FROM distribution_events');
    const r = await ctx.database.pool.query('SELECT count(*)::int AS n FROM mail_runs');
    return [a.rows[0].n, d.rows[0].n, r.rows[0].n];
  };
  const before = await written();
  const zip = await admin.post(`${base}/zip`, { userIds: '00000000-0000-4000-8000-000000000000' });
  assert.equal(zip.statusCode, 422);
  assert.match(zip.body, /Aucun compte ne correspond à cette sélection/);
  // Parents are not activated here: no renewal sheet to make.
  const renewal = await admin.post(`${base}/renouvellement`, { selection: 'profiles=Relative', format: 'csv' });
  assert.equal(renewal.statusCode, 422);
  assert.match(renewal.body, /Aucun compte ne correspond à cette sélection/);
  // Marc has no address: his family mail reaches nobody.
  const mail = await admin.post(`${base}/familles`, { selection: `userIds=${ids.zoe}`, idem: 'vide-1' });
  assert.equal(mail.statusCode, 422);
  assert.deepEqual(await written(), before);
});
