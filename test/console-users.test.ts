// The console for a LOCAL admin of school A, in real headless Chromium against the real server and Postgres:
// school B stays invisible (404 on its URLs, absent from lists and from the API); on a user's page the renewal
// code is shown once, blocking ends the user's session, the activation code can be regenerated, contact details
// corrected; "Importer des utilisateurs" runs a dry run first, then the confirmed import.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import type { Page } from 'playwright-core';
import { normalizeCode } from '../src/accounts/codes.js';
import { hashPassword } from '../src/accounts/passwords.js';
import { createDemoSchool } from '../src/demo/seed.js';
import { startMailMerge } from '../src/mail/merge.js';
import { SelectionSchema } from '../src/publipostage/selection.js';
import { focusedId, frenchContext, screenshotPath, type SignedInBrowser, signedInBrowser, signIn } from './helpers/browser.js';
import { testContext } from './helpers/db.js';

/** Invented import fixtures (npm test needs nothing beside the repo). */
const FIX = new URL('./fixtures/import/', import.meta.url).pathname;
const PASSWORD = 'Console-local-2025!';
let ctx: Awaited<ReturnType<typeof testContext>>;
let ui: SignedInBrowser;
let page: Page;
let A: { id: string; name: string };
let B: { id: string; name: string };
let adminLogin: string;

const q = async <T = Record<string, unknown>>(sql: string, params: unknown[] = []) => (await ctx.database.pool.query(sql, params)).rows as T[];

before(async () => {
  ctx = await testContext();
  const hash = await hashPassword(PASSWORD);
  await createDemoSchool(ctx, { seed: 5, scale: 2, password: PASSWORD, passwordHash: hash });
  [A, B] = await q<{ id: string; name: string }>('SELECT id, name FROM structures ORDER BY name');
  // The demo makes each school's headteacher its local admin; give A's a known password.
  const [head] = await q<{ id: string; login: string }>(
    'SELECT u.id, u.login FROM local_admins la JOIN users u ON u.id = la.user_id WHERE la.structure_id = $1', [A.id]);
  await q('UPDATE users SET password_hash = $2, activated_at = coalesce(activated_at, now()), activation_code_enc = NULL, activation_code_mac = NULL WHERE id = $1', [head.id, hash]);
  adminLogin = head.login;
  ui = await signedInBrowser(ctx, adminLogin, PASSWORD, { viewport: { width: 1280, height: 900 } });
  page = ui.page;
});

after(async () => {
  await ui?.close();
  await ctx?.close();
});

test('a local admin of school A never sees school B', async () => {
  // One school: /console goes straight to it.
  await page.goto(`${ui.url}/console`);
  assert.equal(new URL(page.url()).pathname, `/console/etablissements/${A.id}`);

  const [bUser] = await q<{ id: string; login: string; last_name: string }>(
    `SELECT u.id, u.login, u.last_name FROM users u JOIN user_structures us ON us.user_id = u.id
      WHERE us.structure_id = $1 AND u.profile = 'Student'
        AND NOT EXISTS (SELECT 1 FROM user_structures x WHERE x.user_id = u.id AND x.structure_id = $2) ORDER BY u.login LIMIT 1`, [B.id, A.id]);
  const [bClass] = await q<{ id: string }>('SELECT id FROM classes WHERE structure_id = $1 LIMIT 1', [B.id]);
  const runB = await startMailMerge(ctx, SelectionSchema.parse({ structureId: B.id, email: 'with', profiles: ['Teacher'] }), { kind: 'all' }, null);
  for (const path of [
    `/console/etablissements/${B.id}`, `/console/etablissements/${B.id}/utilisateurs`, `/console/etablissements/${B.id}/publipostage`,
    `/console/etablissements/${B.id}/publipostage/pdf`, `/console/etablissements/${B.id}/publipostage/csv`,
    `/console/etablissements/${B.id}/publipostage/envoi`, `/console/etablissements/${B.id}/envois`, `/console/etablissements/${B.id}/import`,
    `/console/utilisateurs/${bUser.id}`, `/console/envois/${runB.runId}`, `/api/console/envois/${runB.runId}`,
  ]) {
    const res = await page.request.get(`${ui.url}${path}`);
    assert.equal(res.status(), 404, path);
    assert.ok(!(await res.text()).includes(B.name), `${path} does not name school B`);
  }
  const post = await page.request.post(`${ui.url}/console/utilisateurs/${bUser.id}/bloquer`, {
    form: { _csrf: (await page.getAttribute('form.logout input[name="_csrf"]', 'value'))! },
  });
  assert.equal(post.status(), 404);
  assert.equal((await q('SELECT blocked FROM users WHERE id = $1', [bUser.id]))[0].blocked, false);

  // Lists and the API: B's accounts are simply not there.
  await page.goto(`${ui.url}/console/etablissements/${A.id}/utilisateurs?search=${encodeURIComponent(bUser.login)}`);
  assert.equal(await page.locator(`tr[data-login="${bUser.login}"]`).count(), 0);
  for (const query of [`structureId=${B.id}`, `classIds=${bClass.id}`, `search=${bUser.login}`, '']) {
    const res = await page.request.get(`${ui.url}/api/publipostage/preview?${query}&limit=500`);
    assert.equal(res.status(), 200);
    const body = (await res.json()) as { total: number; rows: Array<{ login: string }> };
    assert.ok(!body.rows.some((r) => r.login === bUser.login), query);
    if (query.startsWith('structureId') || query.startsWith('classIds')) assert.equal(body.total, 0, query);
  }
  const csv = await page.request.post(`${ui.url}/api/publipostage/csv?profiles=Student`, {
    headers: { 'x-csrf-token': (await page.getAttribute('form.logout input[name="_csrf"]', 'value'))! },
  });
  assert.equal(csv.status(), 200);
  assert.ok(!(await csv.text()).includes(bUser.login));
  // Without structureId the API covers A only: its total is A's.
  const all = (await (await page.request.get(`${ui.url}/api/publipostage/preview?limit=1&blocked=all&preDeletion=all&external=info`)).json()) as { total: number };
  const [inA] = await q<{ n: number }>(
    `SELECT count(*)::int n FROM users u WHERE NOT u.is_super_admin AND (EXISTS (SELECT 1 FROM user_structures us WHERE us.user_id = u.id AND us.structure_id = $1)
       OR EXISTS (SELECT 1 FROM relations r JOIN user_structures us ON us.user_id = r.child_id WHERE r.parent_id = u.id AND us.structure_id = $1))`, [A.id]);
  assert.equal(all.total, inA.n);
  // Runs about B are not listed in A.
  await page.goto(`${ui.url}/console/etablissements/${A.id}/envois`);
  assert.equal(await page.locator('.runs-table').count(), 0);
});

test('user page: renewal code shown once, block ends the session, new activation code, contact fixed', async () => {
  // An active student of A, signed in in another browser.
  const [student] = await q<{ id: string; login: string; first_name: string; last_name: string }>(
    `SELECT u.id, u.login, u.first_name, u.last_name FROM users u JOIN user_structures us ON us.user_id = u.id
      WHERE us.structure_id = $1 AND u.profile = 'Student' AND u.password_hash IS NOT NULL ORDER BY u.login LIMIT 1`, [A.id]);
  const victimContext = await frenchContext(ui.browser);
  const victim = await victimContext.newPage();
  await signIn(victim, ui.url, student.login, PASSWORD);

  // Found through the list's search.
  await page.goto(`${ui.url}/console/etablissements/${A.id}/utilisateurs`);
  await page.fill('#f-search', student.login);
  await Promise.all([page.waitForURL(/search=/), page.press('#f-search', 'Enter')]);
  await page.screenshot({ path: screenshotPath('console-utilisateurs'), fullPage: true });
  await Promise.all([page.waitForURL(/\/console\/utilisateurs\//), page.click(`tr[data-login="${student.login}"] a`)]);
  assert.equal(await page.textContent('h1'), `${student.first_name} ${student.last_name}`);

  // Renewal code: shown once, grouped, 72 h; only its HMAC is stored.
  await page.click('button:has-text("Générer un code de renouvellement")');
  await page.waitForSelector('[data-renewal-code]');
  const shown = (await page.textContent('[data-renewal-code]'))!.trim();
  assert.match(shown, /^[0-9A-Z]{4}-[0-9A-Z]{4}-[0-9A-Z]{2}$/);
  const notice = (await page.textContent('.notice'))!;
  assert.match(notice, /Valable 72 heures, jusqu’au/);
  assert.match(notice, /ne sera plus affiché/);
  await page.screenshot({ path: screenshotPath('console-utilisateur-code'), fullPage: true });
  const [row] = await q<{ renewal_code_mac: string; expires: number }>(
    `SELECT renewal_code_mac, extract(epoch FROM renewal_code_expires_at - now())::int AS expires FROM users WHERE id = $1`, [student.id]);
  assert.ok(ctx.secrets.verify('renewal', normalizeCode(shown)!, row.renewal_code_mac));
  assert.ok(row.expires > 71 * 3600 && row.expires <= 72 * 3600);
  await page.goto(`${ui.url}/console/utilisateurs/${student.id}`);
  assert.ok(!(await page.content()).includes(shown), 'never shown again');
  assert.match((await page.textContent('main'))!, /Un code est en cours, valable jusqu’au/);

  // Block: confirmation, then the student's open session is gone.
  await Promise.all([page.waitForURL(/\/bloquer/), page.click('a:has-text("Bloquer le compte")')]);
  assert.match((await page.textContent('main'))!, /sessions en cours seront fermées/);
  await Promise.all([page.waitForURL(/ok=blocked/), page.click('main form button[type="submit"]')]);
  assert.match((await page.textContent('.notice'))!, /Compte bloqué\. 1 session en cours a été fermée ; ses codes en cours sont annulés\./);
  assert.equal(await focusedId(page, 'notice'), 'notice', 'the confirmation has focus, read first');
  assert.equal((await q('SELECT count(*)::int n FROM sessions WHERE user_id = $1', [student.id]))[0].n, 0);
  await victim.goto(`${ui.url}/mon-compte`);
  assert.match(new URL(victim.url()).pathname, /^\/connexion$/);
  await victimContext.close();
  // Blocked: the renewal code given above is void (unblocking must not bring it back), and none is offered.
  assert.equal((await q('SELECT renewal_code_mac FROM users WHERE id = $1', [student.id]))[0].renewal_code_mac, null, 'the code died with the block');
  assert.match((await page.textContent('[data-no-code]'))!, /Ce compte est bloqué : aucun code ne l’ouvrirait/);
  assert.equal(await page.locator('form[action$="/renouvellement"]').count(), 0, 'no renewal code offered for a blocked account');
  await Promise.all([page.waitForURL(/\/debloquer/), page.click('a:has-text("Débloquer le compte")')]);
  await Promise.all([page.waitForURL(/ok=unblocked/), page.click('main form button[type="submit"]')]);
  assert.equal((await q('SELECT blocked FROM users WHERE id = $1', [student.id]))[0].blocked, false);
  assert.doesNotMatch((await page.textContent('main'))!, /Un code est en cours/, 'unblocked, no code from before the block');

  // Contact: a wrong address is refused next to its field, a right one saved.
  await page.fill('#f-email', 'pas-une-adresse');
  await page.click('form[action$="/coordonnees"] button[type="submit"]');
  await page.waitForSelector('#f-email[aria-invalid="true"]');
  await page.fill('#f-email', 'Eleve.Corrige@Example.org');
  await page.fill('#f-phone', '06 12 34 56 78');
  await Promise.all([page.waitForURL(/ok=contact/), page.click('form[action$="/coordonnees"] button[type="submit"]')]);
  assert.equal((await q('SELECT email FROM users WHERE id = $1', [student.id]))[0].email, 'eleve.corrige@example.org');

  // An inactive account: its code is shown and can be replaced (the old one stops working).
  const [inactive] = await q<{ id: string; activation_code_mac: string }>(
    `SELECT u.id, u.activation_code_mac FROM users u JOIN user_structures us ON us.user_id = u.id
      WHERE us.structure_id = $1 AND u.profile = 'Relative' AND u.activated_at IS NULL AND u.password_hash IS NULL ORDER BY u.login LIMIT 1`, [A.id]);
  await page.goto(`${ui.url}/console/utilisateurs/${inactive.id}`);
  const before = (await page.textContent('[data-activation-code]'))!;
  // It kills a sheet already handed out: a confirmation page comes first.
  await page.click('a:has-text("Régénérer le code d’activation")');
  assert.equal((await q<{ activation_code_mac: string }>('SELECT activation_code_mac FROM users WHERE id = $1', [inactive.id]))[0].activation_code_mac, inactive.activation_code_mac);
  await Promise.all([page.waitForURL(/ok=activation/), page.click('button[data-confirm-activation]')]);
  const now = (await page.textContent('[data-activation-code]'))!;
  assert.notEqual(now, before);
  const [after] = await q<{ activation_code_mac: string }>('SELECT activation_code_mac FROM users WHERE id = $1', [inactive.id]);
  assert.ok(ctx.secrets.verify('activation', normalizeCode(now)!, after.activation_code_mac));
  assert.ok(!ctx.secrets.verify('activation', normalizeCode(before)!, after.activation_code_mac));
});

test('users list: an action with no row ticked is said as an error (page title, focus), not only in a red box', async () => {
  await page.goto(`${ui.url}/console/etablissements/${A.id}/utilisateurs`);
  await Promise.all([page.waitForURL(/ok=none/), page.click('main button[value="mail"]')]);
  assert.equal(await page.textContent('#notice'), 'Cochez au moins un compte.');
  assert.equal(await focusedId(page, 'notice'), 'notice');
  // The refusal comes back through a redirect (a 200 page): its title says so all the same.
  assert.match(await page.title(), /^Erreur : Utilisateurs — /);
});

test('filters: « (par défaut) » marks what each page starts with — every account on the users list, the safe choices on publipostage', async () => {
  const checkedLabels = async () =>
    page.$$eval('#filters fieldset', (sets) =>
      Object.fromEntries(
        sets
          .map((f) => [f.querySelector('input[type="radio"]')?.getAttribute('name') ?? '', f.querySelector('input:checked + label')?.textContent ?? ''] as const)
          .filter(([n]) => ['preDeletion', 'blocked', 'external'].includes(n)),
      ),
    );
  const defaults = async () => page.$$eval('#filters label', (ls) => ls.map((l) => l.textContent ?? '').filter((t) => t.includes('(par défaut)')));
  await page.goto(`${ui.url}/console/etablissements/${A.id}/utilisateurs`);
  assert.deepEqual(await checkedLabels(), { preDeletion: 'Tous (par défaut)', blocked: 'Tous (par défaut)', external: 'Fiche d’information sans code (par défaut)' });
  assert.equal((await defaults()).length, 3);
  await page.goto(`${ui.url}/console/etablissements/${A.id}/publipostage`);
  assert.deepEqual(await checkedLabels(), { preDeletion: 'Présents dans le flux (par défaut)', blocked: 'Exclure les comptes bloqués (par défaut)', external: 'Exclure (par défaut)' });
  assert.equal((await defaults()).length, 3);
});

test('import: dry run first (nothing written), then the confirmed import into the school', async () => {
  const count = async () => (await q<{ n: number }>('SELECT count(*)::int n FROM user_structures WHERE structure_id = $1', [A.id]))[0].n;
  const start = await count();
  await page.goto(`${ui.url}/console/etablissements/${A.id}/import`);
  // A local admin cannot push an AAF feed (it carries its own structures).
  await page.setInputFiles('#f-files', `${FIX}ENTTEST_Complet_20260901_EtabEducNat_0000.xml`);
  await page.click('form.import-form button[type="submit"]');
  await page.waitForSelector('.notice-error:has-text("réservé aux super-administrateurs")');

  await page.setInputFiles('#f-files', [`${FIX}CSV_Eleves.csv`, `${FIX}CSV_Enseignants.csv`]);
  await page.check('#f-partial');
  await page.click('form.import-form button[type="submit"]');
  await page.waitForSelector('h2:has-text("Résultat de la simulation")');
  const planned = Number((await page.textContent('[data-import="created"]'))!.replace(/\s/g, ''));
  assert.ok(planned > 0);
  assert.equal(await count(), start, 'the dry run wrote nothing');
  await page.screenshot({ path: screenshotPath('console-import'), fullPage: true });

  const token = (await page.getAttribute('form.confirm-import input[name="token"]', 'value'))!;
  await page.click('form.confirm-import button[type="submit"]');
  await page.waitForSelector('h2:has-text("Résultat de l’import")');
  assert.equal(await count(), start + planned);
  assert.equal((await q('SELECT count(*)::int n FROM users WHERE source = $1', ['csv']))[0].n, planned);
  // The token is single use: sent again, it shows the run's report (kept), and imports nothing more.
  const again = await page.request.post(`${ui.url}/console/etablissements/${A.id}/import/confirmer`, {
    form: { _csrf: (await page.getAttribute('form.logout input[name="_csrf"]', 'value'))!, token },
  });
  assert.equal(again.status(), 200, 'the report of the run, after its redirect');
  assert.match(again.url(), new RegExp(`/console/etablissements/${A.id}/import/rapports/`), 'the stored report');
  assert.match(await again.text(), /Résultat de l’import/);
  assert.equal(await count(), start + planned, 'nothing imported twice');
});
