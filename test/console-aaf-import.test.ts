// « Importer un flux académique (AAF) » (/console/import): the super admin's import for every school, not tied to one.
// On a fresh install with no school at all (TROUSSEAU_DEMO=0), the académie's AAF delivery goes in from the console,
// in real Chromium: the dry run (nothing written, the accounts left in no school counted without a link to a list
// that does not hold them yet), the confirmation, the schools and accounts in PostgreSQL. A local admin gets 403 on
// every step; CSV files, which name no school, are refused there with the way to their school's page, nothing changed.
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import type { FastifyInstance } from 'fastify';
import type { Page } from 'playwright-core';
import { buildServer } from '../src/web/server.js';
import { aafRecord as rec, aafXml as xml } from './helpers/aaf-feed.js';
import { type SignedInBrowser, signedInBrowser } from './helpers/browser.js';
import { testContext } from './helpers/db.js';
import { Client, createUser, multipart } from './helpers/web.js';

const PASSWORD = 'une phrase de passe solide';
const dataDir = mkdtempSync(join(tmpdir(), 'trousseau-aaf-console-'));
const imports = join(dataDir, 'imports');
let ctx: Awaited<ReturnType<typeof testContext>>;
let ui: SignedInBrowser;
let page: Page;
let app: FastifyInstance;

const q = async <T = Record<string, unknown>>(sql: string, params: unknown[] = []) => (await ctx.database.pool.query(sql, params)).rows as T[];
const leftovers = () => (existsSync(imports) ? readdirSync(imports) : []);

// ---- an invented delivery: two collèges of the Essonne, a pupil and her mother, a teacher, a staff member of no school ----

const NAME = (kind: string) => `ENT_0911001A_Complet_20250901_${kind}_0000.xml`;
const ETAB = xml(
  rec('EtabEducNat', '91001', [['ENTStructureJointure', ['91001']], ['ENTStructureUAI', ['0911001A']], ['ENTStructureNomCourant', ['CLG$DES SABLONS$ETAMPES']], ['ENTStructureClasses', ['6A$6EME A']]]) +
    rec('EtabEducNat', '91002', [['ENTStructureJointure', ['91002']], ['ENTStructureUAI', ['0911002B']], ['ENTStructureNomCourant', ['CLG$LES GRANDS CHAMPS$DOURDAN']]]),
);
const ELEVES = xml(
  rec('Eleve', 'E1', [
    ['ENTPersonJointure', ['E1']], ['sn', ['Garnier']], ['givenName', ['Inès']], ['ENTPersonDateNaissance', ['03/04/2013']],
    ['ENTElevePersRelEleve', ['R1$10$1$1$0$0']], ['ENTPersonStructRattach', ['91001']], ['ENTEleveClasses', ['91001$6A']],
  ]),
);
const RESPONSABLES = xml(rec('PersRelEleve', 'R1', [['ENTPersonJointure', ['R1']], ['sn', ['Garnier']], ['givenName', ['Sophie']]]));
const PERSONNELS = xml(
  rec('PersEducNat', 'P1', [['ENTPersonJointure', ['P1']], ['sn', ['Morel']], ['givenName', ['Anne']], ['ENTPersonStructRattach', ['91002']], ['ENTPersonFonctions', ['91002$ENS$ENSEIGNEMENT$L0201$LETTRES']]]) +
    // No school: a staff member of the rectorat.
    rec('PersEducNat', 'P2', [['ENTPersonJointure', ['P2']], ['sn', ['Rectorat']], ['givenName', ['Paul']], ['ENTPersonStructRattach', []]]),
);
const DELIVERY = [
  { name: NAME('EtabEducNat'), data: ETAB },
  { name: NAME('Eleve'), data: ELEVES },
  { name: NAME('PersRelEleve'), data: RESPONSABLES },
  { name: NAME('PersEducNat'), data: PERSONNELS },
];
const CSV = { name: 'CSV_Eleves.csv', data: Buffer.from('Nom;Prénom;Date de naissance;Classe\nDurand;Léo;01/02/2013;6e A\n') };

/** What an import could change: the schools, the accounts (and where they are), the audit trail. */
async function snapshot(): Promise<string> {
  const rows = await q(
    `SELECT (SELECT json_agg(s ORDER BY s.name) FROM (SELECT name, uai FROM structures) s) AS structures,
            (SELECT json_agg(u ORDER BY u.login) FROM (SELECT login, profile, (SELECT array_agg(structure_id) FROM user_structures us WHERE us.user_id = users.id) AS schools FROM users) u) AS users,
            (SELECT count(*)::int FROM audit WHERE action = 'import') AS imports`,
  );
  return JSON.stringify(rows[0]);
}

before(async () => {
  ctx = await testContext({ TROUSSEAU_DATA_DIR: dataDir });
  await createUser(ctx.database.pool, { login: 'sophie.super', password: PASSWORD, superAdmin: true, firstName: 'Sophie', lastName: 'Super' });
  ui = await signedInBrowser(ctx, 'sophie.super', PASSWORD, { viewport: { width: 1366, height: 900 } });
  page = ui.page;
  app = await buildServer(ctx);
});

after(async () => {
  await ui?.close();
  await app?.close();
  await ctx?.close();
  rmSync(dataDir, { recursive: true, force: true });
});

test('no school yet: the super admin imports the académie’s AAF feed from /console, sees the dry run, confirms', async () => {
  assert.equal((await q('SELECT 1 FROM structures')).length, 0, 'a fresh install: no school');
  await page.goto(`${ui.url}/console`);
  assert.equal(await page.textContent('h1'), 'Choisir un établissement');
  assert.match((await page.textContent('main'))!, /Aucun établissement pour le moment : importez le flux AAF de l’académie/);
  await Promise.all([page.waitForURL(/\/console\/import$/), page.click('a[data-region-import]')]);
  assert.equal(await page.textContent('h1'), 'Importer un flux académique (AAF)');
  assert.match((await page.textContent('main .lead'))!, /livraison de l’annuaire académique \(AAF\).*Les fichiers CSV et les exports ONDE s’importent dans leur établissement/s);
  assert.equal(await page.getAttribute('#f-files', 'accept'), '.xml,.zip', 'the form asks for XML files or a .zip');
  assert.equal(await page.locator('nav.console-sections').count(), 0, 'no school’s tabs: the page is no school’s');

  // The dry run: what would be created, nothing written.
  const before = await snapshot();
  await page.setInputFiles('#f-files', DELIVERY.map((f) => ({ name: f.name, mimeType: 'text/xml', buffer: f.data })));
  await Promise.all([page.waitForURL(/\/console\/import\/[A-Za-z0-9_-]{32}$/), page.click('form.import-form button[type="submit"]')]);
  assert.match((await page.textContent('main .notice-info'))!, /Simulation : rien n’a encore été enregistré/);
  const report = (await page.textContent('section.import-report'))!.replace(/\s+/g, ' ');
  assert.match(report, /CLG - DES SABLONS - ETAMPES \(0911001A\) nouveau ?2 ?1 élève, 1 parent.*CLG - LES GRANDS CHAMPS - DOURDAN \(0911002B\) nouveau ?1 ?1 enseignant/, report);
  assert.equal(await page.textContent('[data-import="created"]'), '4', 'a pupil, her mother, a teacher, a staff member');
  assert.match(report, /1 compte de l’import ne serait rattaché à aucun établissement/);
  // The accounts of no school do not exist yet: said, with no link to a list that does not hold them.
  assert.match((await page.textContent('[data-import="unattachedLater"]'))!, /Après confirmation, il sera listé dans « Comptes sans établissement »/);
  assert.equal(await page.locator('a[href="/console/sans-etablissement"]').count(), 0, 'no link to accounts a dry run did not create');
  assert.equal(
    await page.textContent('[data-confirm-question]'),
    'Appliquer cet import ? Il touche 2 établissements : CLG - DES SABLONS - ETAMPES, CLG - LES GRANDS CHAMPS - DOURDAN.',
  );
  assert.equal(await snapshot(), before, 'a dry run changes nothing');
  assert.equal(leftovers().length, 1, 'the files wait on disk for the confirmation');

  // Confirmed: the schools and their accounts are stored.
  await Promise.all([page.waitForLoadState('load'), page.click('form[action="/console/import/confirmer"] button[type="submit"]')]);
  assert.match((await page.textContent('main .notice-success'))!, /Import terminé/);
  assert.deepEqual(leftovers(), [], 'applied, then deleted');
  const schools = await q<{ id: string; name: string; uai: string }>(`SELECT id, name, uai FROM structures ORDER BY uai`);
  assert.deepEqual(schools.map((s) => `${s.uai} ${s.name}`), ['0911001A CLG - DES SABLONS - ETAMPES', '0911002B CLG - LES GRANDS CHAMPS - DOURDAN']);
  const accounts = await q<{ login: string; profile: string; uai: string | null }>(
    `SELECT u.login, u.profile, s.uai FROM users u LEFT JOIN user_structures us ON us.user_id = u.id LEFT JOIN structures s ON s.id = us.structure_id
     WHERE NOT u.is_super_admin ORDER BY u.login`,
  );
  assert.deepEqual(accounts, [
    { login: 'anne.morel', profile: 'Teacher', uai: '0911002B' },
    { login: 'ines.garnier', profile: 'Student', uai: '0911001A' },
    { login: 'paul.rectorat', profile: 'Personnel', uai: null },
    { login: 'sophie.garnier', profile: 'Relative', uai: '0911001A' },
  ]);
  assert.equal((await q(`SELECT 1 FROM relations r JOIN users c ON c.id = r.child_id JOIN users p ON p.id = r.parent_id WHERE c.login = 'ines.garnier' AND p.login = 'sophie.garnier'`)).length, 1, 'the mother is linked to her daughter');
  // After the real import, the accounts of no school exist: the link is there, and each school's new accounts.
  assert.equal(await page.locator('section.import-report a[href="/console/sans-etablissement"]').count(), 1, 'the applied report links to the accounts of no school');
  const next = await page.locator('[data-import="next"] a').allTextContents();
  assert.deepEqual(next, ['CLG - DES SABLONS - ETAMPES : 2 nouveaux comptes', 'CLG - LES GRANDS CHAMPS - DOURDAN : 1 nouveau compte']);
  assert.equal(await page.getAttribute('main p.actions a:last-child', 'href'), '/console/import', '« Importer d’autres fichiers » comes back here');

  // The schools' own import page points the super admin here for the académie's feed.
  await page.goto(`${ui.url}/console/etablissements/${schools[0].id}/import`);
  assert.match((await page.textContent('main .lead'))!, /Le flux de l’annuaire académique \(AAF\), qui crée et met à jour tous les établissements qu’il nomme, s’importe sur la page Importer un flux académique \(AAF\)\./);
  assert.equal(await page.getAttribute('main .lead a[data-region-import]', 'href'), '/console/import');
});

test('CSV files are refused on the import for every school, naming the way to their school’s page; nothing changes', async () => {
  await page.goto(`${ui.url}/console/import`);
  const before = await snapshot();
  await page.setInputFiles('#f-files', [{ name: CSV.name, mimeType: 'text/csv', buffer: CSV.data }]);
  await Promise.all([page.waitForLoadState('load'), page.click('form.import-form button[type="submit"]')]);
  assert.match(await page.title(), /Importer un flux académique \(AAF\)/);
  const notice = (await page.textContent('main .notice-error'))!;
  assert.match(notice, /Import refusé : aucune modification enregistrée\./, notice);
  assert.match(notice, /« CSV_Eleves\.csv » est un fichier CSV : il ne nomme pas son établissement\. Les fichiers CSV \(modèles de l’ENT, export ONDE\) s’importent dans un établissement, depuis sa page « Importer des utilisateurs »/, notice);
  assert.equal(await page.getAttribute('main .notice-error a', 'href'), '/console', 'the way to the school list');
  assert.equal(await page.locator('#f-files').count(), 1, 'the form again');

  // Behind an AAF delivery too, in English: refused before the delivery is read, 400, nothing kept.
  const sup = new Client(app);
  assert.equal((await sup.signIn('sophie.super', PASSWORD)).statusCode, 303);
  await sup.get('/console/import');
  const { body, type } = multipart([...DELIVERY, CSV]);
  const up = await app.inject({
    method: 'POST',
    url: `/console/import?_csrf=${sup.csrf}&lang=en`,
    headers: { cookie: [...sup.cookies].map(([k, v]) => `${k}=${v}`).join('; '), 'content-type': type },
    payload: body,
  });
  assert.equal(up.statusCode, 400, up.body.slice(0, 500));
  assert.match(up.body, /“CSV_Eleves\.csv” is a CSV file: it does not name its school\./);
  assert.equal(await snapshot(), before, 'nothing changed');
  assert.deepEqual(leftovers(), [], 'nothing kept on disk');
});

test('a local admin gets 403 on the page and every step of it; uploads stay on the page they were made on', async () => {
  const pool = ctx.database.pool;
  const [school] = await q<{ id: string }>(`SELECT id FROM structures WHERE uai = '0911001A'`);
  const adminId = await createUser(pool, { login: 'alice.adml', password: PASSWORD, profile: 'Personnel', firstName: 'Alice', lastName: 'Adml' });
  await pool.query('INSERT INTO user_structures (user_id, structure_id) VALUES ($1, $2)', [adminId, school.id]);
  await pool.query('INSERT INTO local_admins (user_id, structure_id) VALUES ($1, $2)', [adminId, school.id]);
  const adml = new Client(app);
  assert.equal((await adml.signIn('alice.adml', PASSWORD)).statusCode, 303);
  const home = await adml.get(`/console/etablissements/${school.id}`);
  assert.equal(home.statusCode, 200);
  assert.doesNotMatch(home.body, /data-region-import|href="\/console\/import"/, 'no way there for a local admin');
  assert.equal((await adml.get('/console/import')).statusCode, 403);
  const before = await snapshot();
  const { body, type } = multipart(DELIVERY);
  const up = await app.inject({
    method: 'POST',
    url: `/console/import?_csrf=${adml.csrf}`,
    headers: { cookie: [...adml.cookies].map(([k, v]) => `${k}=${v}`).join('; '), 'content-type': type },
    payload: body,
  });
  assert.equal(up.statusCode, 403, up.body.slice(0, 300));
  assert.deepEqual(leftovers(), [], 'refused before any file is received');

  // A super admin's pending upload: the local admin can neither see nor confirm it, and a school's page does not take it.
  const sup = new Client(app);
  assert.equal((await sup.signIn('sophie.super', PASSWORD)).statusCode, 303);
  await sup.get('/console/import');
  const dry = await app.inject({
    method: 'POST',
    url: `/console/import?_csrf=${sup.csrf}`,
    headers: { cookie: [...sup.cookies].map(([k, v]) => `${k}=${v}`).join('; '), 'content-type': type },
    payload: body,
  });
  assert.equal(dry.statusCode, 303, dry.body.slice(0, 300));
  const location = String(dry.headers.location);
  const token = location.split('/').pop()!;
  assert.match(location, /^\/console\/import\/[A-Za-z0-9_-]{32}$/);
  assert.doesNotMatch(location, /_csrf/, 'the address bar never shows the CSRF token');
  assert.equal((await adml.get(location)).statusCode, 403);
  assert.equal((await adml.post('/console/import/confirmer', { token })).statusCode, 403);
  assert.equal((await sup.post(`/console/etablissements/${school.id}/import/confirmer`, { token })).statusCode, 410, 'not confirmed on a school’s page');
  assert.equal(await snapshot(), before, 'nothing changed');
  // Its own page applies it, once.
  assert.equal((await sup.get(location)).statusCode, 200);
  assert.equal((await sup.post('/console/import/confirmer', { token })).statusCode, 200);
  // A confirmation is applied once: sent again, it leads to the report of the run (import/history.ts).
  const again = await sup.post('/console/import/confirmer', { token });
  assert.equal(again.statusCode, 303, 'a confirmation is applied once');
  assert.match(String(again.headers.location), /^\/console\/import\/rapports\/[0-9a-f-]{36}$/, 'to the run’s report');
  assert.deepEqual(leftovers(), []);
});
