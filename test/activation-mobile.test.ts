// A parent activates from the QR code of a real printed sheet, on a phone-sized viewport in headless Chromium:
// sheet PDF -> pdftoppm -> zbarimg gives the URL; login and code come prefilled; password twice, email,
// terms; the parent lands on "Mon compte", signed in, and the account is active in Postgres.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import type { Browser } from 'playwright-core';
import { formatCode } from '../src/accounts/codes.js';
import { renderSheetsPdf } from '../src/publipostage/pdf.js';
import { selectAccounts } from '../src/publipostage/select.js';
import { SelectionSchema } from '../src/publipostage/selection.js';
import { frenchContext, launchBrowser, screenshotPath, startApp } from './helpers/browser.js';
import { testContext } from './helpers/db.js';
import { createInactiveUser } from './helpers/web.js';

let ctx: Awaited<ReturnType<typeof testContext>>;
let server: { url: string; close(): Promise<void> };
let browser: Browser;
const dir = mkdtempSync(join(tmpdir(), 'trousseau-qr-'));

before(async () => {
  ctx = await testContext();
  server = await startApp(ctx);
  browser = await launchBrowser();
});

after(async () => {
  await browser?.close();
  await server?.close();
  await ctx?.close();
  rmSync(dir, { recursive: true, force: true });
});

test('a parent scans the sheet QR code on a phone and activates the account', async () => {
  const pool = ctx.database.pool;
  const school = (await pool.query(`INSERT INTO structures (name) VALUES ('École Jules Ferry') RETURNING id`)).rows[0].id;
  const cls = (await pool.query(`INSERT INTO classes (structure_id, name) VALUES ($1, 'CE1') RETURNING id`, [school])).rows[0].id;
  const child = await createInactiveUser(pool, ctx.secrets, { login: 'lucas.moreau', firstName: 'Lucas', lastName: 'Moreau', profile: 'Student' });
  const parent = await createInactiveUser(pool, ctx.secrets, { login: 'sophie.moreau', firstName: 'Sophie', lastName: 'Moreau', profile: 'Relative' });
  await pool.query('INSERT INTO user_structures (user_id, structure_id) VALUES ($1, $2)', [child.id, school]);
  await pool.query('INSERT INTO user_classes (user_id, class_id) VALUES ($1, $2)', [child.id, cls]);
  await pool.query('INSERT INTO relations (parent_id, child_id) VALUES ($1, $2)', [parent.id, child.id]);

  // The sheet exactly as the class view prints it (8 per page), then its QR code read back from the image.
  const rows = await selectAccounts(ctx, SelectionSchema.parse({ userIds: [parent.id] }), { kind: 'all' });
  const pdf = await renderSheetsPdf(ctx, rows, { model: 8 });
  writeFileSync(join(dir, 'sheet.pdf'), pdf);
  execFileSync('pdftoppm', ['-r', '200', '-png', '-f', '1', '-l', '1', join(dir, 'sheet.pdf'), join(dir, 'page')]);
  const png = readdirSync(dir).find((f) => f.endsWith('.png'))!;
  const url = execFileSync('zbarimg', ['--quiet', '--raw', join(dir, png)], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] }).trim();
  assert.equal(url, `${server.url}/activation?login=sophie.moreau&code=${parent.code}`);

  const context = await frenchContext(browser, { mobile: true });
  const page = await context.newPage();
  await page.goto(url);
  assert.equal(await page.textContent('h1'), 'Activation du compte');
  assert.equal(await page.inputValue('#f-login'), 'sophie.moreau');
  assert.equal(await page.inputValue('#f-code'), formatCode(parent.code));
  // Nothing wider than the phone: no horizontal scrolling.
  assert.ok(await page.evaluate(() => document.documentElement.scrollWidth <= window.innerWidth));
  await page.screenshot({ path: screenshotPath('activation-mobile-code'), fullPage: true });
  await Promise.all([page.waitForSelector('#f-password'), page.tap('main form button[type="submit"]')]);

  await page.fill('#f-password', 'le chat dort sur le canapé');
  await page.fill('#f-confirm', 'le chat dort sur le canapé');
  await page.fill('#f-email', 'sophie.moreau@example.fr');
  await page.check('#f-terms');
  await page.screenshot({ path: screenshotPath('activation-mobile-password'), fullPage: true });
  await Promise.all([page.waitForURL(/\/mon-compte\?ok=activated$/), page.tap('main form button[type="submit"]')]);

  assert.equal(await page.textContent('h1'), 'Mon compte');
  const main = (await page.textContent('main'))!;
  assert.match(main, /sophie\.moreau/);
  assert.match(main, /Lucas Moreau \(CE1\)/);
  assert.ok(await page.evaluate(() => document.documentElement.scrollWidth <= window.innerWidth));
  await page.screenshot({ path: screenshotPath('activation-mobile-mon-compte'), fullPage: true });

  const u = (await pool.query('SELECT activated_at, password_hash, email, terms_accepted_at, activation_code_mac FROM users WHERE id = $1', [parent.id])).rows[0];
  assert.ok(u.activated_at && u.password_hash && u.terms_accepted_at);
  assert.equal(u.email, 'sophie.moreau@example.fr');
  assert.equal(u.activation_code_mac, null, 'the code is single use');
  await context.close();
});
