// An OpenID Connect provider matched by e-mail (an académie's or a région's IdP, `match: ["email"]`) answered with an
// address its user had typed there, never proven: Trousseau took it as a key and signed that person in as the teacher
// whose académie mailbox it is (account taken over, its OpenID tokens with it). Only an address the provider says it
// verified (`email_verified: true`) identifies someone now. Real Chromium, a real OpenID provider on loopback.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import type { Browser, Page } from 'playwright-core';
import { enableEverywhere } from '../../src/federation/enablement.js';
import { parseFederation } from '../../src/federation/providers.js';
import { frenchContext, launchBrowser, startApp } from '../helpers/browser.js';
import { testContext } from '../helpers/db.js';
import { insertClass, insertStructure, insertUser } from '../helpers/directory-sample.js';
import { startOidcIdp, type TestOidcIdp } from '../helpers/idp.js';

let ctx: Awaited<ReturnType<typeof testContext>>;
let server: { url: string; close(): Promise<void> };
let browser: Browser;
let idp: TestOidcIdp;
let teacher: string;
const MAILBOX = 'anne.morel@ac-exemple.fr';

before(async () => {
  ctx = await testContext();
  server = await startApp(ctx);
  browser = await launchBrowser();
  idp = await startOidcIdp(server.url, 'academie');
  ctx.config.federation = parseFederation({
    providers: [
      {
        id: 'academie', label: 'compte académique', kind: 'oidc', issuer: idp.issuer, clientId: idp.clientId, clientSecret: idp.clientSecret,
        scopes: ['openid', 'given_name', 'family_name', 'birthdate', 'email'], allowHttp: true, match: ['email'],
      },
    ],
  });
  const pool = ctx.database.pool;
  const s = await insertStructure(pool, 'Collège des Sablons', '0911001A');
  const c = await insertClass(pool, s, '6A');
  // The académie mailbox, vouched for (as an AAF feed or a reset link read in it makes it).
  teacher = await insertUser(pool, { firstName: 'Anne', lastName: 'MOREL', profile: 'Teacher', email: MAILBOX, structureIds: [s], classIds: [c], activated: true });
  await pool.query('UPDATE users SET email_verified_at = now() WHERE id = $1', [teacher]);
  await enableEverywhere(pool, 'academie', ['Teacher']);
  // Someone who typed the teacher's address into their own profile at the provider, which never checked it.
  idp.persons.set('intrus', { given_name: 'Eve', family_name: 'Intruse', birthdate: '2010-01-01', email: MAILBOX });
  idp.persons.set('intrus-false', { given_name: 'Eve', family_name: 'Intruse', birthdate: '2010-01-01', email: MAILBOX.toUpperCase(), email_verified: false });
  // The teacher herself: the provider proved the address.
  idp.persons.set('anne', { given_name: 'Anne', family_name: 'Morel', birthdate: '1980-05-06', email: MAILBOX, email_verified: true });
});

after(async () => {
  await browser?.close();
  await server?.close();
  await idp?.close();
  await ctx?.close();
});

const links = async () => (await ctx.database.pool.query('SELECT subject FROM federation_links WHERE user_id = $1 ORDER BY subject', [teacher])).rows.map((r) => r.subject);
const sessions = async () => Number((await ctx.database.pool.query('SELECT count(*) AS n FROM sessions WHERE user_id = $1', [teacher])).rows[0].n);

async function through(page: Page, login: string): Promise<void> {
  await page.goto(`${server.url}/connexion`);
  await page.getByRole('link', { name: 'Se connecter avec compte académique' }).click();
  await page.waitForURL(/localhost:\d+\/interaction\//);
  await page.fill('input[name="login"]', login);
  await page.fill('input[name="password"]', 'anything');
  await page.click('button[type="submit"]');
  await page.waitForURL(/localhost:\d+\/interaction\//);
  await Promise.all([page.waitForURL((u) => u.href.startsWith(server.url)), page.click('button[type="submit"]')]);
}

test('an address the provider never verified does not sign anyone in as the account holding it; a verified one does', async () => {
  for (const who of ['intrus', 'intrus-false']) {
    const context = await frenchContext(browser);
    context.setDefaultTimeout(8000);
    const page = await context.newPage();
    await through(page, who);
    // The page of nobody found, no session of the teacher's, no link to her account.
    await page.waitForLoadState();
    assert.equal(await sessions(), 0, `${who}: signed in as the teacher`);
    assert.deepEqual(await links(), [], who);
    assert.equal(await page.locator('#federation-none').count(), 1, who);
    const cookies = await context.cookies(server.url);
    assert.equal(cookies.some((c) => c.name === 'trousseau_sid'), false, who);
    await context.close();
  }
  // The teacher, whose provider proved the mailbox, signs in and her account is linked.
  const context = await frenchContext(browser);
  context.setDefaultTimeout(8000);
  const page = await context.newPage();
  await through(page, 'anne');
  await page.waitForURL((u) => !u.pathname.startsWith('/federation') && !u.pathname.startsWith('/connexion'));
  assert.deepEqual(await links(), ['anne']);
  assert.equal(await sessions(), 1);
  await context.close();
});
