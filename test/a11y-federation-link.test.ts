// axe-core (WCAG 2.0, 2.1 and 2.2, levels A and AA) in Chromium on the « aucun compte » page of an identity provider
// and its form linking an existing account (empty, wrong password, a code typed as the password, in English), and
// « Mon compte »'s linked providers (with an unlink error), at a desktop (1366×900) and a phone (390×844) width, as
// the family's pages are checked (a11y-axe.test.ts): any violation fails. An error state also has the focus on its
// message and « Erreur : » in its title.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { createRequire } from 'node:module';
import { after, before, test } from 'node:test';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { saveFlow } from '../src/federation/flows.js';
import { sha256 } from '../src/lib/crypto.js';
import { launchBrowser, signIn, startApp } from './helpers/browser.js';
import { testContext } from './helpers/db.js';
import { insertStructure, insertUser, relate } from './helpers/directory-sample.js';
import { educonnectAndFranceConnect } from './helpers/federation-config.js';
import { createUser } from './helpers/web.js';

const AXE = createRequire(import.meta.url).resolve('axe-core/axe.min.js');
const TAGS = ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'wcag22aa'];
const VIEWPORTS = [
  { name: '1366×900', viewport: { width: 1366, height: 900 } },
  { name: '390×844', viewport: { width: 390, height: 844 }, isMobile: true, hasTouch: true, deviceScaleFactor: 2 },
];
const PASSWORD = 'une phrase de passe assez longue';

let ctx: Awaited<ReturnType<typeof testContext>>;
let server: { url: string; close(): Promise<void> };
let browser: Browser;
let parentLogin = '';
let linkedLogin = '';

before(async () => {
  ctx = await testContext();
  ctx.config.federation = educonnectAndFranceConnect();
  server = await startApp(ctx);
  browser = await launchBrowser();
  const pool = ctx.database.pool;
  const s = await insertStructure(pool, 'Collège Simone Veil', '0750099Z');
  const child = await insertUser(pool, { firstName: 'Léa', lastName: 'GARNIER', structureIds: [s] });
  await pool.query(`INSERT INTO federation_enabled (provider_id, structure_id, profile) VALUES ('franceconnect', $1, 'Relative')`, [s]);
  parentLogin = 'luc.garnier';
  const parent = await createUser(pool, { login: parentLogin, firstName: 'Luc', lastName: 'Garnier', profile: 'Relative', password: PASSWORD });
  await relate(pool, parent, child);
  linkedLogin = 'eve.garnier';
  const linked = await createUser(pool, { login: linkedLogin, firstName: 'Ève', lastName: 'Garnier', profile: 'Relative', password: PASSWORD });
  await relate(pool, linked, child);
  for (const [id, name] of [['franceconnect', 'FranceConnect'], ['educonnect', 'EduConnect']]) {
    await pool.query('INSERT INTO federation_links (provider_id, subject, user_id, provider_name) VALUES ($1, $2, $3, $4)', [id, `${id}-eve`, linked, name]);
  }
});

after(async () => {
  await browser?.close();
  await server?.close();
  await ctx?.close();
});

/** A pending FranceConnect answer that matched nobody, held by this browser context (its binding cookie). */
async function pendingAnswer(context: BrowserContext): Promise<void> {
  const bind = randomBytes(32).toString('base64url');
  await saveFlow(ctx.database.pool, {
    providerId: 'franceconnect', bindingHash: sha256(bind), next: '/', purpose: 'link',
    answer: {
      identity: { subject: `fc-${bind.slice(0, 8)}`, externalIds: [], ine: null, email: null, emailVerified: false, familyName: 'Garnier', usageName: null, givenName: 'Luc', birthDate: null, uais: [], profile: null },
      session: { idToken: null, nameId: null, nameIdFormat: null, sessionIndex: null },
    },
  });
  await context.addCookies([{ name: 'trousseau_fed', value: bind, domain: '127.0.0.1', path: '/federation', httpOnly: true, sameSite: 'Lax' }]);
}

async function submit(page: Page, form: string): Promise<void> {
  await Promise.all([page.waitForNavigation(), page.click(`${form} button[type="submit"]`)]);
}

interface State {
  name: string;
  /** Mon compte's states sign in first; the others hold a pending answer. */
  signedIn?: boolean;
  error?: boolean;
  open(page: Page, base: string): Promise<void>;
}

const STATES: State[] = [
  { name: 'aucun compte', open: async (p, base) => void (await p.goto(`${base}/federation/franceconnect/associer`)) },
  { name: 'aucun compte, en anglais', open: async (p, base) => void (await p.goto(`${base}/federation/franceconnect/associer?lang=en`)) },
  {
    name: 'associer, formulaire vide',
    error: true,
    open: async (p, base) => {
      await p.goto(`${base}/federation/franceconnect/associer`);
      await submit(p, '#federation-link');
    },
  },
  {
    name: 'associer, mauvais mot de passe',
    error: true,
    open: async (p, base) => {
      await p.goto(`${base}/federation/franceconnect/associer`);
      await p.fill('#f-login', parentLogin);
      await p.fill('#f-password', 'pas le bon mot de passe');
      await submit(p, '#federation-link');
    },
  },
  {
    name: 'associer, mauvais mot de passe, en anglais',
    error: true,
    open: async (p, base) => {
      await p.goto(`${base}/federation/franceconnect/associer?lang=en`);
      await p.fill('#f-login', parentLogin);
      await p.fill('#f-password', 'not the password');
      await submit(p, '#federation-link');
    },
  },
  {
    name: 'associer, code saisi comme mot de passe',
    error: true,
    open: async (p, base) => {
      await p.goto(`${base}/federation/franceconnect/associer`);
      await p.fill('#f-login', parentLogin);
      await p.fill('#f-password', 'mxtt-gf5e-ab');
      await submit(p, '#federation-link');
    },
  },
  { name: 'mon compte, fournisseurs associés', signedIn: true, open: async (p, base) => void (await p.goto(`${base}/mon-compte`)) },
  {
    name: 'mon compte, délier sans mot de passe',
    signedIn: true,
    error: true,
    open: async (p, base) => {
      await p.goto(`${base}/mon-compte`);
      await submit(p, 'form[action="/mon-compte/fournisseurs"]');
    },
  },
];

/** Injects axe-core into the page and runs the WCAG A/AA rules on the whole document. */
async function runAxe(page: Page): Promise<{ violations: Array<{ id: string; impact: string; help: string; nodes: Array<{ target: string[] }> }>; passes: unknown[] }> {
  await page.addScriptTag({ path: AXE });
  return page.evaluate(
    (tags) => (globalThis as unknown as { axe: { run(c: unknown, o: unknown): Promise<never> } }).axe.run(document, { runOnly: { type: 'tag', values: tags } }),
    TAGS,
  );
}

for (const { name: size, ...device } of VIEWPORTS) {
  test(`axe: no violation on the « aucun compte » page, its link form and Mon compte's providers at ${size}`, async () => {
    const found: string[] = [];
    for (const state of STATES) {
      // The page's Content-Security-Policy forbids inline scripts; axe is injected as one.
      const context = await browser.newContext({ locale: 'fr-FR', bypassCSP: true, ...device });
      const page = await context.newPage();
      if (state.signedIn) await signIn(page, server.url, linkedLogin, PASSWORD);
      else await pendingAnswer(context);
      await state.open(page, server.url);
      if (!state.signedIn) await page.waitForSelector('#federation-link', { timeout: 5_000 });
      if (state.error) {
        await page.waitForSelector('main [role="alert"]', { timeout: 5_000 });
        assert.equal(await page.evaluate(() => document.activeElement?.id), 'error-summary', `${state.name}: the message has the focus`);
        assert.match(await page.title(), /^(Erreur|Error)\s?: /, `${state.name}: title`);
      }
      assert.equal(await page.getAttribute('html', 'lang'), state.name.includes('anglais') ? 'en' : 'fr', `${state.name}: lang`);
      const result = await runAxe(page);
      assert.ok(result.passes.length > 10, `${state.name}: axe ran`);
      for (const v of result.violations) found.push(`${state.name} — ${v.id} (${v.impact}): ${v.help} — ${v.nodes.map((n) => n.target.join(' ')).join(', ')}`);
      await context.close();
    }
    assert.deepEqual(found, []);
  });
}
