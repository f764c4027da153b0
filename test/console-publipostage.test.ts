// The admin console's "Publipostage des comptes" in real headless Chromium, against the real server, Postgres
// and a real local SMTP server: an admin signs in, filters (Élève + one class + non activés), sees the counters
// match SQL, downloads the PDF (pdftotext) and the CSV (parsed), then sends the mails: the confirmation page
// gives the counts and the PDF of exactly the accounts without an address; the mails arrive, one per account
// with an address; the run report shows them sent. Also: the same screen without JavaScript, and in English.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { parse } from 'csv-parse/sync';
import type { Browser, Download } from 'playwright-core';
import { hashPassword } from '../src/accounts/passwords.js';
import { createDemoSchool } from '../src/demo/seed.js';
import { startMailWorker, type MailWorker } from '../src/mail/worker.js';
import { selectAccounts } from '../src/publipostage/select.js';
import { SelectionSchema } from '../src/publipostage/selection.js';
import { frenchContext, launchBrowser, screenshotPath, signIn, startApp } from './helpers/browser.js';
import { testContext } from './helpers/db.js';
import { startTestSmtp, waitFor, type TestSmtp } from './helpers/smtp.js';
import { createUser } from './helpers/web.js';

const PASSWORD = 'Console-admin-2025!';
let smtp: TestSmtp;
let ctx: Awaited<ReturnType<typeof testContext>>;
let server: { url: string; close(): Promise<void> };
let browser: Browser;
let worker: MailWorker;
let schoolA: { id: string; name: string };
const dir = mkdtempSync(join(tmpdir(), 'trousseau-console-'));

const q = async <T = Record<string, unknown>>(sql: string, params: unknown[] = []) => (await ctx.database.pool.query(sql, params)).rows as T[];

before(async () => {
  smtp = await startTestSmtp();
  ctx = await testContext({ SMTP_URL: smtp.url, MAIL_FROM: 'ENT <ent@example.fr>' });
  const hash = await hashPassword(PASSWORD);
  // Two collèges (~1,800 accounts each): the console must keep them apart.
  await createDemoSchool(ctx, { seed: 11, scale: 2, password: PASSWORD, passwordHash: hash });
  await createUser(ctx.database.pool, { login: 'admin', password: PASSWORD, superAdmin: true, firstName: 'Admin', lastName: 'ENT' });
  [schoolA] = await q<{ id: string; name: string }>('SELECT id, name FROM structures ORDER BY name LIMIT 1');
  server = await startApp(ctx);
  worker = startMailWorker(ctx, { pollMs: 100 });
  browser = await launchBrowser();
});

after(async () => {
  await browser?.close();
  await worker?.stop();
  await server?.close();
  await ctx?.close();
  await smtp?.close();
  rmSync(dir, { recursive: true, force: true });
});

async function save(d: Download, name: string): Promise<string> {
  const path = join(dir, name);
  await d.saveAs(path);
  return path;
}

const pdfText = (path: string) => execFileSync('pdftotext', ['-layout', path, '-'], { encoding: 'utf8' });

/** The accounts the filter "Élève + class + non activés" must select, straight from SQL. */
async function expectedSelection(classId: string) {
  return q<{ login: string; email: string | null }>(
    `SELECT u.login, u.email FROM users u JOIN user_classes uc ON uc.user_id = u.id
      WHERE uc.class_id = $1 AND u.profile = 'Student' AND u.password_hash IS NULL AND u.activated_at IS NULL
        AND NOT u.blocked AND u.pre_deleted_at IS NULL AND u.absent_since IS NULL
      ORDER BY u.login`,
    [classId],
  );
}

test('an admin filters, downloads the PDF and the CSV, and sends the mails of the selection', async () => {
  const context = await frenchContext(browser);
  const page = await context.newPage();
  await page.setViewportSize({ width: 1280, height: 900 });
  await signIn(page, server.url, 'admin', PASSWORD);

  // Two schools: the console asks which one.
  await page.goto(`${server.url}/console`);
  assert.equal(await page.textContent('h1'), 'Choisir un établissement');
  await page.screenshot({ path: screenshotPath('console-etablissements'), fullPage: true });
  await Promise.all([page.waitForURL(new RegExp(`/console/etablissements/${schoolA.id}$`)), page.click(`a[href="/console/etablissements/${schoolA.id}"]`)]);

  // Home: accounts and activated accounts per profile, as in Postgres (members and their children's relatives;
  // super admins and the pre-deleted accounts, out of the feed, left out and said in a note).
  const perProfile = await q<{ profile: string; total: number; activated: number }>(
    `SELECT u.profile, count(*)::int AS total, count(u.activated_at)::int AS activated
       FROM (SELECT us.user_id AS id FROM user_structures us WHERE us.structure_id = $1
             UNION SELECT r.parent_id FROM user_structures us JOIN relations r ON r.child_id = us.user_id WHERE us.structure_id = $1) m
       JOIN users u ON u.id = m.id
      WHERE NOT u.is_super_admin AND u.pre_deleted_at IS NULL GROUP BY 1`, [schoolA.id]);
  for (const p of perProfile) {
    assert.equal((await page.textContent(`[data-profile-total="${p.profile}"]`))!.replace(/\s/g, ''), String(p.total));
    assert.equal((await page.textContent(`[data-profile-activated="${p.profile}"]`))!.replace(/\s/g, ''), String(p.activated));
  }
  assert.equal(await page.locator('.bar-chart tbody tr').count(), 20);
  assert.match((await page.textContent('[data-pre-deleted]')) ?? '', /^2 comptes pré-supprimés \(absents du flux/);
  await page.screenshot({ path: screenshotPath('console-accueil'), fullPage: true });

  // Imports/Exports › Publipostage des comptes.
  await Promise.all([page.waitForURL(/\/publipostage$/), page.click('.console-sections a:has-text("Imports / Exports")')]);
  assert.equal(await page.textContent('h1'), 'Publipostage des comptes');
  const allTotal = await q<{ n: number }>(
    `SELECT count(*)::int n FROM users u WHERE NOT u.blocked AND u.pre_deleted_at IS NULL AND u.absent_since IS NULL
       AND (EXISTS (SELECT 1 FROM user_structures us WHERE us.user_id = u.id AND us.structure_id = $1)
       OR EXISTS (SELECT 1 FROM relations r JOIN user_structures us ON us.user_id = r.child_id WHERE r.parent_id = u.id AND us.structure_id = $1))`, [schoolA.id]);
  assert.equal(await page.getAttribute('[data-counter="total"] strong', 'data-value'), String(allTotal[0].n));

  // A class where some students already activated: "non activés" really narrows the selection.
  const [cls] = await q<{ id: string; name: string }>(
    `SELECT c.id, c.name FROM classes c WHERE c.structure_id = $1 AND EXISTS (
       SELECT 1 FROM user_classes uc JOIN users u ON u.id = uc.user_id WHERE uc.class_id = c.id AND u.profile = 'Student' AND u.password_hash IS NOT NULL)
     ORDER BY c.name LIMIT 1`, [schoolA.id]);
  const expected = await expectedSelection(cls.id);
  const withEmail = expected.filter((e) => e.email);
  const withoutEmail = expected.filter((e) => !e.email);
  assert.ok(withEmail.length > 0 && withoutEmail.length > 0, 'the class mixes accounts with and without an address');

  await page.check('#f-profiles-Student');
  await page.check(`#f-classIds-${cls.id}`);
  await page.check('#f-activation-inactive');
  // The live preview catches up with the last change: counters as in SQL, rows as in SQL.
  await page.waitForSelector('[data-preview-query*="activation=inactive"][data-preview-query*="profiles=Student"][data-preview-query*="classIds="]');
  await page.waitForSelector(`[data-counter="total"] strong[data-value="${expected.length}"]`);
  await page.waitForSelector(`[data-counter="withoutEmail"] strong[data-value="${withoutEmail.length}"]`);
  assert.match((await page.textContent('[data-counter="total"]'))!, new RegExp(`^${expected.length} comptes sélectionnés au total$`));
  assert.match((await page.textContent('[data-counter="withoutEmail"]'))!, new RegExp(`^${withoutEmail.length} comptes? sans adresse courriel$`));
  const shown = await page.$$eval('[data-preview-body] tr', (trs) => trs.map((tr) => tr.getAttribute('data-login')!));
  assert.deepEqual([...shown].sort(), expected.map((e) => e.login));
  assert.match(page.url(), /profiles=Student/);
  assert.equal(await page.textContent('[data-filter-count]'), '3 filtres actifs');
  await page.screenshot({ path: screenshotPath('console-publipostage'), fullPage: true });

  // Générer en PDF (8 per page, by class): every selected login is printed.
  await page.selectOption('#f-model', '8');
  await page.selectOption('#f-sort', 'class');
  const [pdf] = await Promise.all([page.waitForEvent('download'), page.click('button[data-launch="pdf"]')]);
  assert.match(pdf.suggestedFilename(), /^fiches-.*-eleves-non-actives-\d{4}-\d{2}-\d{2}\.pdf$/);
  const text = pdfText(await save(pdf, 'selection.pdf'));
  for (const e of expected) assert.ok(text.includes(e.login), `${e.login} in the PDF`);

  // Exporter en CSV: the same accounts.
  const [csv] = await Promise.all([page.waitForEvent('download'), page.click('button[data-launch="csv"]')]);
  const records = parse(readFileSync(await save(csv, 'selection.csv')), { bom: true, delimiter: ';', columns: true }) as Record<string, string>[];
  assert.deepEqual(records.map((r) => r.Login).sort(), expected.map((e) => e.login));

  // Envoyer par mail: a confirmation page with the counts.
  await Promise.all([page.waitForURL(/\/publipostage\/envoi\?/), page.click('button[data-launch="mail"]')]);
  assert.equal(await page.getAttribute('[data-mails]', 'data-mails'), String(withEmail.length));
  assert.match((await page.textContent('.send-headline'))!, new RegExp(`^${withEmail.length} courriels? v`));
  assert.match((await page.textContent('[data-fact="withoutEmail"]'))!, new RegExp(`${withoutEmail.length} comptes? n’(?:a|ont) pas d’adresse courriel`));
  await page.screenshot({ path: screenshotPath('console-envoi-confirmation'), fullPage: true });
  // Everyone with an address: said so (not « 0 compte n’a pas d’adresse courriel : il ne recevra rien »).
  const confirmUrl = page.url();
  await page.goto(confirmUrl.replace('email=all', 'email=with'));
  assert.equal(await page.textContent('[data-fact="withoutEmail"]'), 'Chaque compte a une adresse courriel.');
  await page.goto(confirmUrl);
  // The PDF offered there holds exactly the accounts without an address.
  const [noEmail] = await Promise.all([page.waitForEvent('download'), page.click('button[data-no-email-pdf]')]);
  const noEmailText = pdfText(await save(noEmail, 'no-email.pdf'));
  for (const e of withoutEmail) assert.ok(noEmailText.includes(e.login), `${e.login} in the no-email PDF`);
  for (const e of withEmail) assert.ok(!noEmailText.includes(e.login), `${e.login} not in the no-email PDF`);

  // Confirm: the run starts and its report follows it until every mail is sent.
  const before = smtp.messages.length;
  await Promise.all([page.waitForURL(/\/console\/envois\/[0-9a-f-]{36}$/), page.click('form[action$="/publipostage/envoi"] button[type="submit"]')]);
  await page.waitForSelector(`[data-run="sent"]:text-is("${withEmail.length}")`, { timeout: 20_000 });
  await page.waitForSelector('[data-run-state]:has-text("Envoi terminé")');
  assert.equal(await page.textContent('[data-run="failed"]'), '0');
  assert.equal(await page.textContent('[data-run="pending"]'), '0');
  assert.equal(await page.textContent('[data-run="withoutEmail"]'), String(withoutEmail.length));
  await page.screenshot({ path: screenshotPath('console-envoi-rapport'), fullPage: true });

  // The mails arrived: one per account with an address, each carrying its login.
  await waitFor('all mails received', () => smtp.messages.length - before === withEmail.length);
  const received = smtp.messages.slice(before);
  const to = received.map((m) => (Array.isArray(m.to) ? m.to[0] : m.to)!.value[0].address!.toLowerCase()).sort();
  assert.deepEqual(to, withEmail.map((e) => e.email!.toLowerCase()).sort());
  for (const e of withEmail) {
    const mail = smtp.to(e.email!).find((m) => (m.text ?? '').includes(e.login));
    assert.ok(mail, `mail for ${e.login}`);
  }

  // The run is listed among the school's past runs.
  await page.goto(`${server.url}/console/etablissements/${schoolA.id}/envois`);
  assert.equal(await page.locator('.runs-table tbody tr').count(), 1);
  await context.close();
});

test('without JavaScript the filter form renders the preview server-side; the English switch translates it', async () => {
  const context = await browser.newContext({ locale: 'fr-FR', javaScriptEnabled: false });
  const page = await context.newPage();
  await signIn(page, server.url, 'admin', PASSWORD);
  await page.goto(`${server.url}/console/etablissements/${schoolA.id}/publipostage`);
  await page.check('#f-profiles-Teacher');
  await page.check('#f-email-without');
  await Promise.all([page.waitForURL(/profiles=Teacher/), page.click('button[data-filter-submit]')]);
  const [n] = await q<{ total: number }>(
    `SELECT count(*)::int total FROM users u JOIN user_structures us ON us.user_id = u.id
      WHERE us.structure_id = $1 AND u.profile = 'Teacher' AND coalesce(btrim(u.email), '') = ''`, [schoolA.id]);
  assert.equal(await page.getAttribute('[data-counter="total"] strong', 'data-value'), String(n.total));
  assert.equal(await page.getAttribute('[data-counter="withoutEmail"] strong', 'data-value'), String(n.total));
  assert.equal(await page.locator('[data-preview-body] tr').count(), Math.min(50, n.total));

  await page.goto(`${page.url()}&lang=en`);
  assert.equal(await page.textContent('h1'), 'Account mail merge');
  assert.match((await page.textContent('[data-counter="total"]'))!, /accounts? selected in total$/);
  assert.equal(await page.textContent('button[data-launch="pdf"]'), 'Generate PDF');
  await page.goto(`${server.url}/console/etablissements/${schoolA.id}?lang=fr`);
  await context.close();
});

test('on a phone the screen fits the width and the filters work from the keyboard', async () => {
  const context = await frenchContext(browser, { mobile: true });
  const page = await context.newPage();
  await signIn(page, server.url, 'admin', PASSWORD);
  await page.goto(`${server.url}/console/etablissements/${schoolA.id}/publipostage`);
  // Only the preview table may scroll sideways, inside its own frame.
  assert.ok(await page.evaluate(() => document.documentElement.scrollWidth <= window.innerWidth));
  const [cls] = await q<{ id: string }>(`SELECT id FROM classes WHERE structure_id = $1 ORDER BY name LIMIT 1`, [schoolA.id]);
  const [n] = await q<{ total: number }>(
    `SELECT count(*)::int total FROM users u WHERE u.profile = 'Guest' AND EXISTS (SELECT 1 FROM user_structures us WHERE us.user_id = u.id AND us.structure_id = $1)`, [schoolA.id]);
  // The filter panel starts folded on a phone; keyboard only: open it, tick a profile with Space.
  assert.equal(await page.isVisible('#f-profiles-Guest'), false);
  await page.focus('.filter-panel > summary');
  await page.keyboard.press('Enter');
  await page.screenshot({ path: screenshotPath('console-publipostage-mobile-filtres') });
  await page.focus('#f-profiles-Guest');
  await page.keyboard.press('Space');
  await page.waitForSelector('[data-preview-query*="profiles=Guest"]');
  await page.waitForSelector(`[data-counter="total"] strong[data-value="${n.total}"]`);
  await page.focus(`#f-classIds-${cls.id}`);
  assert.equal(await page.evaluate(() => document.activeElement?.id), `f-classIds-${cls.id}`);
  await page.keyboard.press('Space');
  assert.equal(await page.isChecked(`#f-classIds-${cls.id}`), true);
  await page.focus('.filter-panel > summary');
  await page.keyboard.press('Enter');
  await page.screenshot({ path: screenshotPath('console-publipostage-mobile'), fullPage: true });
  await context.close();
});

test('the pager reads the next and previous pages by cursor (keyset), with and without JavaScript', async () => {
  const expected = (await selectAccounts(ctx, SelectionSchema.parse({ structureId: schoolA.id }), { kind: 'all' })).map((r) => r.login);
  assert.ok(expected.length > 150);
  for (const javaScriptEnabled of [true, false]) {
    const context = await browser.newContext({ locale: 'fr-FR', javaScriptEnabled });
    const page = await context.newPage();
    await signIn(page, server.url, 'admin', PASSWORD);
    await page.goto(`${server.url}/console/etablissements/${schoolA.id}/publipostage`);
    const logins = () => page.locator('[data-preview-body] tr').evaluateAll((trs) => trs.map((t) => t.getAttribute('data-login')));
    assert.deepEqual(await logins(), expected.slice(0, 50));
    assert.match((await page.getAttribute('[data-pager] a[rel="next"]', 'href'))!, /after=/);
    await Promise.all([page.waitForURL(/offset=50/), page.click('[data-pager] a[rel="next"]')]);
    await page.waitForFunction(() => !document.querySelector('[aria-busy="true"]'));
    assert.deepEqual(await logins(), expected.slice(50, 100), `page 2, JS ${javaScriptEnabled}`);
    await Promise.all([page.waitForURL(/offset=100/), page.click('[data-pager] a[rel="next"]')]);
    await page.waitForFunction(() => !document.querySelector('[aria-busy="true"]'));
    assert.deepEqual(await logins(), expected.slice(100, 150), `page 3, JS ${javaScriptEnabled}`);
    await Promise.all([page.waitForURL(/before=/), page.click('[data-pager] a[rel="prev"]')]);
    await page.waitForFunction(() => !document.querySelector('[aria-busy="true"]'));
    assert.deepEqual(await logins(), expected.slice(50, 100), `back to page 2, JS ${javaScriptEnabled}`);
    await context.close();
  }
});

test('the launch bar\'s hints are read with their field (sort, model, postal address)', async () => {
  const context = await frenchContext(browser);
  const page = await context.newPage();
  await signIn(page, server.url, 'admin', PASSWORD);
  await page.goto(`${server.url}/console/etablissements/${schoolA.id}/publipostage`);
  const described = await page.$$eval('.launch-bar select, .launch-bar input', (fields) =>
    Object.fromEntries(
      fields.map((f) => [
        f.id,
        (f.getAttribute('aria-describedby') ?? '')
          .split(' ')
          .filter(Boolean)
          .map((id) => document.getElementById(id)?.textContent?.trim() ?? `(no #${id})`)
          .join(' '),
      ]),
    ),
  );
  assert.match(described['f-sort'], /^Par défaut, le publipostage est trié/);
  assert.match(described['f-model'], /^Les fiches par 8 se découpent/);
  assert.match(described['f-adresse'], /^PDF à 1 fiche par page : l’adresse postale/);
  await context.close();
});
