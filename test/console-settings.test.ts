// "Paramètres des comptes" (issue #9) in real Chromium against the real server and PostgreSQL: a local admin sets
// how parents sign in (EduConnect), what activation asks, the teachers' rights and a new terms version; the console
// home then says how each profile signs in; an EduConnect parent's code is refused with a message naming the
// provider, and so are an admin's renewal/activation codes for them.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import type { Page } from 'playwright-core';
import { AccountStateError, generateRenewalCode, regenerateActivationCode } from '../src/accounts/renewal.js';
import { requestPasswordReset } from '../src/accounts/reset.js';
import { loadPolicies, loadStructureSettings, policyForUser } from '../src/directory/policies.js';
import { NO_PROVIDERS, parseFederation } from '../src/federation/providers.js';
import { buildServer } from '../src/web/server.js';
import { testContext } from './helpers/db.js';
import { focusedId, screenshotPath, type SignedInBrowser, signedInBrowser } from './helpers/browser.js';
import { Client, createInactiveUser, createUser } from './helpers/web.js';

const PASSWORD = 'une phrase de passe solide';
let ctx: Awaited<ReturnType<typeof testContext>>;
let ui: SignedInBrowser;
let page: Page;
let school = '';
let other = '';
const ids: Record<string, string> = {};
let parentCode = '';

before(async () => {
  ctx = await testContext();
  const pool = ctx.database.pool;
  school = (await pool.query(`INSERT INTO structures (name, uai) VALUES ('Collège Condorcet', '0930001X') RETURNING id`)).rows[0].id;
  other = (await pool.query(`INSERT INTO structures (name, uai) VALUES ('Lycée Voltaire', '0930002Y') RETURNING id`)).rows[0].id;
  ids.admin = await createUser(pool, { login: 'cpe.admin', password: PASSWORD });
  await pool.query('INSERT INTO local_admins (user_id, structure_id) VALUES ($1, $2)', [ids.admin, school]);
  ids.pupil = (await createInactiveUser(pool, ctx.secrets, { login: 'ines.roux', profile: 'Student' })).id;
  const parent = await createInactiveUser(pool, ctx.secrets, { login: 'marie.roux', profile: 'Relative', email: 'marie@example.org' });
  ids.parent = parent.id;
  parentCode = parent.code;
  ids.activeParent = await createUser(pool, { login: 'paul.roux', profile: 'Relative', password: PASSWORD, email: 'paul@example.org' });
  for (const id of [ids.admin, ids.pupil]) await pool.query('INSERT INTO user_structures (user_id, structure_id) VALUES ($1, $2)', [id, school]);
  // Parents belong to the school through their child (no user_structures row of their own).
  await pool.query('INSERT INTO relations (parent_id, child_id) VALUES ($1, $3), ($2, $3)', [ids.parent, ids.activeParent, ids.pupil]);
  ui = await signedInBrowser(ctx, 'cpe.admin', PASSWORD);
  page = ui.page;
});

after(async () => {
  await ui?.close();
  await ctx?.close();
});

test('defaults: code sign-in, 8 characters for pupils and 12 for adults, 90 + 90 days, sheets and renewal codes for teachers', async () => {
  const p = await loadPolicies(ctx.database.pool, school);
  assert.deepEqual(p.map((x) => [x.profile, x.signIn, x.minPasswordLength, x.graceDays, x.deletionDays]), [
    ['Student', 'code', 8, 90, 90], ['Relative', 'code', 12, 90, 90], ['Teacher', 'code', 12, 90, 90], ['Personnel', 'code', 12, 90, 90], ['Guest', 'code', 12, 90, 90],
  ]);
  const s = await loadStructureSettings(ctx.database.pool, school);
  assert.deepEqual(s.teacherRights, ['sheets', 'renewal', 'mail']);
  assert.ok(!s.teacherRights.includes('block'));
  // An admin needs 12 characters whatever the profile.
  assert.equal((await policyForUser(ctx.database.pool, ids.pupil)).minPasswordLength, 8);
  await ctx.database.pool.query('INSERT INTO local_admins (user_id, structure_id) VALUES ($1, $2)', [ids.pupil, other]);
  assert.equal((await policyForUser(ctx.database.pool, ids.pupil)).minPasswordLength, 12);
  await ctx.database.pool.query('DELETE FROM local_admins WHERE user_id = $1', [ids.pupil]);
});

test('the settings screen: an external provider needs a name; parents sign in with EduConnect; a new terms version', async () => {
  await page.goto(`${ui.url}/console/etablissements/${school}`);
  assert.match((await page.textContent('[data-sign-in="Relative"] [data-how]'))!, /Code Trousseau/);
  await page.click('a:has-text("Paramètres des comptes")');
  assert.equal(await page.textContent('h1'), 'Paramètres des comptes');

  // External without a provider: refused, named, nothing stored.
  await page.selectOption('#f-Relative\\.signIn', 'external');
  await page.click('button:has-text("Enregistrer")');
  assert.match((await page.textContent('.notice-error'))!, /Parent : fournisseur externe .* manquant/);
  assert.match(await page.title(), /^Erreur : Paramètres des comptes/, 'the refused form’s title says so first');
  assert.equal(await focusedId(page, 'notice'), 'notice', 'the refusal has focus, read first');
  // The field it is about is marked invalid and described by the message; the others are not.
  assert.deepEqual(
    await page.$$eval('[aria-invalid="true"]', (es) => es.map((e) => `${e.id} ${e.getAttribute('aria-describedby')}`)),
    ['f-Relative.provider notice'],
  );
  assert.equal((await ctx.database.pool.query('SELECT count(*)::int n FROM profile_policies')).rows[0].n, 0);

  await page.selectOption('#f-Relative\\.signIn', 'external');
  await page.fill('#f-Relative\\.provider', 'EduConnect');
  await page.check('#f-Student\\.phoneRequired');
  await page.fill('#f-Teacher\\.minPasswordLength', '14');
  await page.fill('#f-Student\\.graceDays', '30');
  await page.check('#f-right-block');
  await page.uncheck('#f-right-mail');
  await page.fill('#f-termsText', 'Charte d’usage du collège, version de rentrée.');
  await page.check('#f-newVersion');
  await page.click('button:has-text("Enregistrer")');
  // No provider named EduConnect serves this school's parents: they could not sign in at all, so nothing is saved.
  assert.match((await page.textContent('.notice-error'))!, /Parent : aucun fournisseur « EduConnect » n’est configuré et activé .* Rien n’a été enregistré/);
  assert.equal((await ctx.database.pool.query('SELECT count(*)::int n FROM profile_policies')).rows[0].n, 0, 'nothing saved');
  assert.equal(await page.inputValue('#f-Relative\\.provider'), 'EduConnect', 'the form comes back as typed');
  assert.equal(await page.getAttribute('#f-Relative\\.provider', 'aria-invalid'), 'true');
  ctx.config.federation = parseFederation({ providers: [{ id: 'educonnect', label: 'EduConnect', kind: 'oidc', issuer: 'https://educonnect.example.fr', clientId: 'x', match: ['externalId'] }] });
  try {
    await page.click('button:has-text("Enregistrer")');
    assert.match((await page.textContent('.notice-error'))!, /aucun fournisseur « EduConnect »/, 'configured, but not enabled here');
    await ctx.database.pool.query(`INSERT INTO federation_enabled (provider_id, structure_id, profile) VALUES ('educonnect', $1, 'Relative')`, [school]);
    await page.check('#f-newVersion');
    await page.click('button:has-text("Enregistrer")');
    await page.waitForSelector('.notice-success');
    assert.equal(await page.locator('.notice-error').count(), 0);
  } finally {
    ctx.config.federation = NO_PROVIDERS;
    await ctx.database.pool.query('DELETE FROM federation_enabled');
  }
  // The provider gone since (configuration changed): the saved policy is named as locking its accounts out.
  await page.reload();
  assert.match((await page.textContent('.notice-error'))!, /Parent : connexion par « EduConnect » seulement, mais aucun fournisseur « EduConnect » n’est configuré et activé/);
  await page.screenshot({ path: screenshotPath('console-parametres'), fullPage: true });
  assert.equal(await page.inputValue('#f-Relative\\.provider'), 'EduConnect');
  // A page of its own: no tab of the school says it is this page; « Fournisseur externe » reads whole in its list.
  assert.equal(await page.locator('.console-sections [aria-current]').count(), 0);
  assert.ok(await page.$eval('#f-Relative\\.signIn', (s: HTMLSelectElement) => s.scrollWidth <= s.clientWidth + 1 && s.clientWidth >= 180), 'the sign-in list is wide enough');
  assert.equal(await page.getAttribute('[data-terms-version]', 'data-terms-version'), '1');

  const p = new Map((await loadPolicies(ctx.database.pool, school)).map((x) => [x.profile, x]));
  assert.equal(p.get('Relative')!.signIn, 'external');
  assert.equal(p.get('Relative')!.provider, 'EduConnect');
  assert.equal(p.get('Student')!.phoneRequired, true);
  assert.equal(p.get('Student')!.graceDays, 30);
  assert.equal(p.get('Teacher')!.minPasswordLength, 14);
  const s = await loadStructureSettings(ctx.database.pool, school);
  assert.deepEqual(s.teacherRights, ['sheets', 'renewal', 'block']);
  assert.equal(s.termsVersion, 1);
  const audit = await ctx.database.pool.query(`SELECT count(*)::int n FROM audit WHERE action = 'settings.policy' AND actor_id = $1`, [ids.admin]);
  assert.equal(audit.rows[0].n, 5);

  // The console home says how each profile signs in, and how many have.
  await page.goto(`${ui.url}/console/etablissements/${school}`);
  assert.equal((await page.textContent('[data-sign-in="Relative"] [data-how]'))!.trim(), 'EduConnect');
  assert.equal((await page.textContent('[data-sign-in="Relative"] [data-signed-in]'))!.trim(), '0');
  assert.match((await page.textContent('[data-sign-in="Student"] [data-how]'))!, /Code Trousseau/);

  // The publipostage preview leaves them out and says why, live as the filters change.
  await page.goto(`${ui.url}/console/etablissements/${school}/publipostage`);
  assert.equal((await page.textContent('[data-counter="leftOut"]'))!.trim(), '2 parents se connectent avec EduConnect : pas de fiche');
  await page.check('#f-external-info');
  await page.waitForSelector('[data-counter="leftOut"][hidden]', { state: 'attached' });
  assert.equal(await page.locator('[data-preview-body] tr[data-login="marie.roux"]').count(), 1);
  assert.match((await page.textContent('[data-preview-body] tr[data-login="marie.roux"]'))!, /EduConnect/);

  // Another school's settings: 404 for this local admin.
  const res = await page.goto(`${ui.url}/console/etablissements/${other}/parametres`);
  assert.equal(res!.status(), 404);
});

test('an EduConnect parent: the code is refused naming the provider; no renewal, activation code or reset link', async () => {
  const app = await buildServer(ctx);
  try {
    const c = new Client(app);
    await c.get('/activation');
    const res = await c.post('/activation', { step: 'code', login: 'marie.roux', code: parentCode });
    assert.equal(res.statusCode, 409);
    assert.match(res.body, /se connecte avec EduConnect/);
    assert.equal((await ctx.database.pool.query('SELECT activated_at FROM users WHERE id = $1', [ids.parent])).rows[0].activated_at, null);
  } finally {
    await app.close();
  }
  await assert.rejects(generateRenewalCode(ctx, { kind: 'all' }, ids.activeParent, ids.admin), (e: Error) => e instanceof AccountStateError && /EduConnect/.test(e.message));
  await assert.rejects(regenerateActivationCode(ctx, { kind: 'all' }, ids.parent, ids.admin), (e: Error) => e instanceof AccountStateError && /EduConnect/.test(e.message));
  // "Mot de passe oublié": no reset link, a mail naming the provider instead.
  const mails = await requestPasswordReset(ctx, 'paul.roux', () => ({ subject: 'lien', text: 'lien' }), '203.0.113.1',
    ({ provider }) => ({ subject: `Connexion avec ${provider}`, text: `Choisissez ${provider}.` }));
  assert.equal(mails, 1);
  assert.equal((await ctx.database.pool.query('SELECT count(*)::int n FROM password_resets WHERE user_id = $1', [ids.activeParent])).rows[0].n, 0);
  const job = (await ctx.database.pool.query('SELECT kind, subject FROM mail_jobs WHERE user_id = $1', [ids.activeParent])).rows;
  assert.deepEqual(job, [{ kind: 'password_reset_external', subject: 'Connexion avec EduConnect' }]);
});
