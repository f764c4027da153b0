// Accessibility checks shared by test/a11y-*.test.ts: the page states a family goes through (public pages
// and their error states, Mon compte) and the console pages, reached in a real browser; WCAG contrast.
import { after, before } from 'node:test';
import type { Browser, Page } from 'playwright-core';
import { requestPasswordReset } from '../../src/accounts/reset.js';
import type { AppContext } from '../../src/context.js';
import { launchBrowser, signIn, startApp } from './browser.js';
import { testContext } from './db.js';
import { createInactiveUser, createUser } from './web.js';

export const PASSWORD = 'une phrase de passe assez longue';

export interface A11yAccounts {
  /** Inactive, with a valid activation code. */
  newcomer: { login: string; code: string };
  /** Active, signs in with PASSWORD. */
  parent: string;
  /** Super administrator (console), signs in with PASSWORD. */
  admin: string;
  schoolId: string;
  /** A password reset link's token for `parent` (as mailed by "mot de passe oublié"). */
  resetToken: string;
}

/** The accounts the page states need (each test file has its own database). */
export async function a11yAccounts(ctx: AppContext): Promise<A11yAccounts> {
  const pool = ctx.database.pool;
  const schoolId = (await pool.query(`INSERT INTO structures (name, uai) VALUES ('Collège Simone Veil', '0750099Z') RETURNING id`)).rows[0].id;
  const n = await createInactiveUser(pool, ctx.secrets, { login: 'ines.garnier', firstName: 'Inès', lastName: 'Garnier', profile: 'Relative' });
  const parent = await createUser(pool, { login: 'luc.garnier', firstName: 'Luc', lastName: 'Garnier', profile: 'Relative', password: PASSWORD, email: 'luc@example.org' });
  await createUser(pool, { login: 'admin.a11y', password: PASSWORD, superAdmin: true, firstName: 'Admin', lastName: 'ENT' });
  for (const id of [n.id, parent]) await pool.query('INSERT INTO user_structures (user_id, structure_id) VALUES ($1, $2)', [id, schoolId]);
  let link = '';
  await requestPasswordReset(ctx, 'luc.garnier', (m) => {
    link = m.link;
    return { subject: 'Réinitialisation', text: m.link };
  }, '127.0.0.1');
  const resetToken = new URL(link).searchParams.get('token')!;
  return { newcomer: { login: 'ines.garnier', code: n.code }, parent: 'luc.garnier', admin: 'admin.a11y', schoolId, resetToken };
}

/** Submits the page's form and waits for the answer page. */
async function submitAndWait(page: Page): Promise<void> {
  await Promise.all([page.waitForNavigation(), page.click('main form button[type="submit"]')]);
}

/** The state is reached only if the page shows its message (role alert for errors, status otherwise). */
async function shown(page: Page, role: 'alert' | 'status'): Promise<void> {
  await page.waitForSelector(`main [role="${role}"]`, { timeout: 5_000 });
}

/** What an accessibility test file works on: a fresh database, the app on a port, Chromium, the accounts. */
export interface A11ySuite {
  ctx: Awaited<ReturnType<typeof testContext>>;
  server: { url: string; close(): Promise<void> };
  browser: Browser;
  accounts: A11yAccounts;
}

/** Registers the file's before/after hooks; the returned object is filled before the first test runs. */
export function a11ySuite(): A11ySuite {
  const env = {} as A11ySuite;
  before(async () => {
    env.ctx = await testContext();
    env.server = await startApp(env.ctx);
    env.browser = await launchBrowser();
    env.accounts = await a11yAccounts(env.ctx);
  });
  after(async () => {
    await env.browser?.close();
    await env.server?.close();
    await env.ctx?.close();
  });
  return env;
}

export interface PageState {
  name: string;
  /** Brings `page` (a fresh page of a fresh context) to the state. */
  open(page: Page, base: string): Promise<void>;
}

/** Every public page and its error states, and Mon compte (issue #13). */
export function familyStates(a: A11yAccounts): PageState[] {
  return [
    { name: 'connexion', open: async (p, base) => void (await p.goto(`${base}/connexion`)) },
    {
      name: 'connexion, mauvais mot de passe',
      open: async (p, base) => {
        await p.goto(`${base}/connexion`);
        await p.fill('#f-login', a.parent);
        await p.fill('#f-password', 'pas le bon mot de passe');
        await submitAndWait(p);
        await shown(p, 'alert');
      },
    },
    {
      name: 'connexion, formulaire vide',
      open: async (p, base) => {
        await p.goto(`${base}/connexion`);
        await submitAndWait(p);
        await shown(p, 'alert');
      },
    },
    { name: 'activation, étape 1', open: async (p, base) => void (await p.goto(`${base}/activation`)) },
    {
      name: 'activation, étape 1, formulaire vide',
      open: async (p, base) => {
        await p.goto(`${base}/activation`);
        await submitAndWait(p);
        await shown(p, 'alert');
      },
    },
    {
      name: 'activation, étape 1, code faux',
      open: async (p, base) => {
        await p.goto(`${base}/activation`);
        await p.fill('#f-login', a.newcomer.login);
        await p.fill('#f-code', 'AAAA-BBBB-CC');
        await submitAndWait(p);
        await shown(p, 'alert');
      },
    },
    {
      name: 'activation, étape 2',
      open: async (p, base) => {
        await p.goto(`${base}/activation?login=${a.newcomer.login}&code=${a.newcomer.code}`);
        await submitAndWait(p);
        await p.waitForSelector('#f-password');
      },
    },
    {
      name: 'activation, étape 2, erreurs',
      open: async (p, base) => {
        await p.goto(`${base}/activation?login=${a.newcomer.login}&code=${a.newcomer.code}`);
        await submitAndWait(p);
        await p.fill('#f-password', 'court');
        await p.fill('#f-confirm', 'autre');
        await p.fill('#f-email', 'pas-une-adresse');
        await p.fill('#f-phone', '12');
        await submitAndWait(p);
        await shown(p, 'alert');
      },
    },
    {
      name: 'activation, étape 2, seule la confirmation diffère',
      open: async (p, base) => {
        await p.goto(`${base}/activation?login=${a.newcomer.login}&code=${a.newcomer.code}`);
        await submitAndWait(p);
        await p.fill('#f-password', PASSWORD);
        await p.fill('#f-confirm', `${PASSWORD} !`);
        await p.fill('#f-email', 'ines@example.org');
        await p.check('#f-terms');
        await submitAndWait(p);
        await shown(p, 'alert');
      },
    },
    { name: 'renouvellement', open: async (p, base) => void (await p.goto(`${base}/renouvellement`)) },
    {
      name: 'renouvellement, code faux',
      open: async (p, base) => {
        await p.goto(`${base}/renouvellement`);
        await p.fill('#f-login', a.parent);
        await p.fill('#f-code', 'AAAA-BBBB-CC');
        await submitAndWait(p);
        await shown(p, 'alert');
      },
    },
    { name: 'mot de passe oublié', open: async (p, base) => void (await p.goto(`${base}/mot-de-passe-oublie`)) },
    {
      name: 'mot de passe oublié, formulaire vide',
      open: async (p, base) => {
        await p.goto(`${base}/mot-de-passe-oublie`);
        await submitAndWait(p);
        await shown(p, 'alert');
      },
    },
    {
      name: 'mot de passe oublié, envoyé',
      open: async (p, base) => {
        await p.goto(`${base}/mot-de-passe-oublie`);
        await p.fill('#f-identifier', a.parent);
        await submitAndWait(p);
        await shown(p, 'status');
      },
    },
    { name: 'réinitialisation', open: async (p, base) => void (await p.goto(`${base}/reinitialisation?token=${a.resetToken}`)) },
    {
      name: 'réinitialisation, erreurs',
      open: async (p, base) => {
        await p.goto(`${base}/reinitialisation?token=${a.resetToken}`);
        await p.fill('#f-password', 'court');
        await p.fill('#f-confirm', 'autre');
        await submitAndWait(p);
        await shown(p, 'alert');
      },
    },
    {
      name: 'réinitialisation, lien invalide',
      open: async (p, base) => {
        await p.goto(`${base}/reinitialisation?token=inconnu`);
        await shown(p, 'alert');
      },
    },
    { name: 'conditions', open: async (p, base) => void (await p.goto(`${base}/conditions`)) },
    { name: 'conditions, ouvertes depuis l’étape 2', open: async (p, base) => void (await p.goto(`${base}/conditions?login=${a.newcomer.login}&code=${a.newcomer.code}`)) },
    { name: 'mon compte', open: (p, base) => signIn(p, base, a.parent, PASSWORD, /\/mon-compte/) },
    {
      name: 'mon compte, erreurs',
      open: async (p, base) => {
        await signIn(p, base, a.parent, PASSWORD, /\/mon-compte/);
        await p.fill('#f-current', 'pas le bon');
        await p.fill('#f-password', 'court');
        await p.fill('#f-confirm', 'autre');
        await Promise.all([p.waitForNavigation(), p.click('form[action="/mon-compte/mot-de-passe"] button[type="submit"]')]);
        await shown(p, 'alert');
      },
    },
  ];
}

/** Console pages with form fields (for the contrast of fields and focus there too). */
export function consoleStates(a: A11yAccounts): PageState[] {
  const console = (name: string, path: string): PageState => ({
    name,
    open: async (p, base) => {
      await signIn(p, base, a.admin, PASSWORD, /\/console/);
      await p.goto(`${base}${path}`);
    },
  });
  return [
    console('console, utilisateurs', `/console/etablissements/${a.schoolId}/utilisateurs`),
    console('console, publipostage', `/console/etablissements/${a.schoolId}/publipostage`),
    console('console, import', `/console/etablissements/${a.schoolId}/import`),
    console('console, nouvel établissement', `/console/etablissements/nouveau`),
    console('console, import pour tous les établissements', `/console/import`),
  ];
}

/**
 * In-page script (plain JavaScript: functions compiled by tsx cannot be sent to the browser as they are)
 * defining `trousseauContrast(color, behind)`: the WCAG 2.x contrast ratio of a CSS colour against what is
 * painted behind an element (backgrounds of it and its ancestors, alpha-composited over white).
 * Install with `context.addInitScript({ content: CONTRAST_SCRIPT })`.
 */
export const CONTRAST_SCRIPT = `
globalThis.trousseauContrast = function (color, behind) {
  function parse(c) {
    var m = /rgba?\\(([^)]*)\\)/.exec(c);
    if (!m) throw new Error('colour not understood: ' + c);
    var v = m[1].split(/[\\s,/]+/).filter(Boolean).map(Number);
    return [v[0], v[1], v[2], v.length > 3 ? v[3] : 1];
  }
  function over(top, under) {
    return [0, 1, 2].map(function (i) { return top[i] * top[3] + under[i] * (1 - top[3]); });
  }
  function lum(rgb) {
    var c = rgb.map(function (x) { var s = x / 255; return s <= 0.04045 ? s / 12.92 : Math.pow((s + 0.055) / 1.055, 2.4); });
    return 0.2126 * c[0] + 0.7152 * c[1] + 0.0722 * c[2];
  }
  var layers = [];
  for (var e = behind; e; e = e.parentElement) {
    var b = parse(getComputedStyle(e).backgroundColor);
    if (b[3] > 0) layers.push(b);
    if (b[3] === 1) break;
  }
  var bg = [255, 255, 255];
  for (var i = layers.length - 1; i >= 0; i--) bg = over(layers[i], bg);
  var fg = over(parse(color), bg);
  var a = lum(fg), d = lum(bg);
  return (Math.max(a, d) + 0.05) / (Math.min(a, d) + 0.05);
};
`;
