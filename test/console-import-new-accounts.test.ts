// What an import leaves behind, as the console shows it: the accounts of no school (an AAF staff record whose
// ENTPersonStructRattach is empty) are counted in the report and listed for the super admin only (« Comptes sans
// établissement »); « Distribuer les identifiants des nouveaux comptes » selects exactly the accounts the run created,
// on the publipostage of the schools they are in — not those created earlier the same day, not the page's school.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import type { FastifyInstance } from 'fastify';
import { formatReport, importFiles } from '../src/import/index.js';
import { reportView } from '../src/web/console/views/import.js';
import { buildServer } from '../src/web/server.js';
import { aafRecord as rec, aafXml as xml } from './helpers/aaf-feed.js';
import { testContext } from './helpers/db.js';
import { insertStructure } from './helpers/directory-sample.js';
import { Client, createUser, multipart } from './helpers/web.js';

let ctx: Awaited<ReturnType<typeof testContext>>;
let app: FastifyInstance;
const PASSWORD = 'correct horse battery';
let school: string;
let superAdmin: Client;
let localAdmin: Client;

const q = async <T = Record<string, unknown>>(sql: string, params: unknown[] = []) => (await ctx.database.pool.query(sql, params)).rows as T[];
const flat = (s: string) => s.replace(/\s+/g, ' ');

const NAME = (kind: string) => `ENT_0931001A_Complet_20250901_${kind}_0000.xml`;
const ETAB = xml(
  rec('EtabEducNat', '93001', [['ENTStructureJointure', ['93001']], ['ENTStructureUAI', ['0931001A']], ['ENTStructureNomCourant', ['CLG$JEAN MOULIN$MONTREUIL']]]) +
    rec('EtabEducNat', '93002', [['ENTStructureJointure', ['93002']], ['ENTStructureUAI', ['0931002B']], ['ENTStructureNomCourant', ['CLG$LES TILLEULS$BAGNOLET']]]),
);
const person = (id: string, sn: string, given: string, attach: string[], extra: [string, string[]][] = []) =>
  rec('PersEducNat', id, [['ENTPersonJointure', [id]], ['sn', [sn]], ['givenName', [given]], ['ENTPersonStructRattach', attach], ...extra]);
const teaches = (school: string): [string, string[]] => ['ENTPersonFonctions', [`${school}$ENS$ENSEIGNEMENT$L0201$LETTRES`]];
const STAFF_RECORDS =
  person('P1', 'Moulin', 'Jeanne', ['93001'], [teaches('93001')]) +
    person('P2', 'Tilleul', 'Bruno', ['93002'], [teaches('93002')]) +
    person('P3', 'Tilleul', 'Claire', ['93002']) +
    // No school: a staff member of the académie, and a teacher whose record lost its attachment (his function names a
    // school outside the delivery; one of the delivery would attach him, as the reference ENT does).
    person('P4', 'De Scorbiac', 'Annaig', []) +
    person('P5', 'Nomade', 'Paul', [], [teaches('93999')]) +
    // No attachment, but a class: in that school.
    person('P6', 'Classe', 'Lina', [], [teaches('93001'), ['ENTAuxEnsClasses', ['93001$3A']]]);
const STAFF = xml(STAFF_RECORDS);
const FILES = () => [
  { name: NAME('EtabEducNat'), data: ETAB },
  { name: NAME('PersEducNat'), data: STAFF },
];

before(async () => {
  ctx = await testContext();
  app = await buildServer(ctx);
  const pool = ctx.database.pool;
  school = await insertStructure(pool, 'Collège Denis Poisson', '0750001A');
  const adminId = await createUser(pool, { login: 'admin.poisson', password: PASSWORD, profile: 'Personnel', firstName: 'Alice', lastName: 'Admin' });
  await pool.query('INSERT INTO user_structures (user_id, structure_id) VALUES ($1, $2)', [adminId, school]);
  await pool.query('INSERT INTO local_admins (user_id, structure_id) VALUES ($1, $2)', [adminId, school]);
  await createUser(pool, { login: 'super.admin', password: PASSWORD, superAdmin: true });
  localAdmin = new Client(app);
  assert.equal((await localAdmin.signIn('admin.poisson', PASSWORD)).statusCode, 303);
  superAdmin = new Client(app);
  assert.equal((await superAdmin.signIn('super.admin', PASSWORD)).statusCode, 303);
});

after(async () => {
  await app.close();
  await ctx.close();
});

/** Uploads `files` on the import page of `schoolId` (null: the one for every school, AAF's), confirms, and returns the page of the applied run. */
async function consoleImport(client: Client, schoolId: string | null, files: { name: string; data: Buffer }[]): Promise<string> {
  const base = schoolId ? `/console/etablissements/${schoolId}` : '/console';
  await client.get(`${base}/import`);
  const { body, type } = multipart(files);
  const up = await app.inject({
    method: 'POST',
    url: `${base}/import?_csrf=${client.csrf}`,
    headers: { cookie: [...client.cookies].map(([k, v]) => `${k}=${v}`).join('; '), 'content-type': type },
    payload: body,
  });
  assert.equal(up.statusCode, 303, up.body.slice(0, 500));
  const dry = await client.get(String(up.headers.location));
  const token = /name="token" value="([^"]+)"/.exec(dry.body)![1];
  const done = await client.post(`${base}/import/confirmer`, { token });
  assert.equal(done.statusCode, 200, done.body.slice(0, 500));
  return done.body.replace(/&amp;/g, '&');
}

/** The logins a publipostage page lists, and its total. */
async function publipostage(client: Client, url: string): Promise<{ total: number; logins: string[]; body: string }> {
  const r = await client.get(url);
  assert.equal(r.statusCode, 200, `${url}\n${r.body.slice(0, 500)}`);
  const total = Number(/data-total="(\d+)"/.exec(r.body)?.[1] ?? '0');
  return { total, logins: [...r.body.matchAll(/<code[^>]*>([a-z0-9.-]+)<\/code>/g)].map((m) => m[1]), body: r.body };
}

test('an AAF run names the accounts it leaves in no school, by profile, in both languages', async () => {
  const dry = await importFiles(ctx, FILES(), { scope: { kind: 'all' }, dryRun: true });
  assert.equal(dry.fatal, null, formatReport(dry));
  assert.deepEqual(dry.unattached, {
    count: 2,
    byProfile: { Teacher: 1, Personnel: 1 },
    sample: [
      { login: 'annaig.de-scorbiac', name: 'Annaig De Scorbiac', profile: 'Personnel' },
      { login: 'paul.nomade', name: 'Paul Nomade', profile: 'Teacher' },
    ],
  });
  const text = formatReport(dry);
  assert.match(text, /\nAttention : 2 comptes de l’import ne seraient rattachés à aucun établissement \(Enseignants : 1, Personnels : 1\)/);
  assert.match(text, /\n {2}annaig\.de-scorbiac — Annaig De Scorbiac \(Personnel\)\n {2}paul\.nomade — Paul Nomade \(Enseignant\)\n/);
  assert.match(formatReport(dry, 'en'), /\nWarning: 2 accounts of the import would belong to no school \(Teachers: 1, Staff: 1\)/);
  const page = flat(String(reportView('fr', dry)));
  assert.match(page, /data-import="unattached"><p>Attention : 2 comptes de l’import ne seraient rattachés à aucun établissement \(Enseignant : 1, Personnel : 1\)/);
  assert.match(page, /<code>annaig\.de-scorbiac<\/code> — Annaig De Scorbiac \(Personnel\)/);
  assert.doesNotMatch(page, /sans-etablissement/, 'the link is the super admin’s');
  // Not in a dry run either: the accounts do not exist yet, the report says where they will be listed.
  const superPage = flat(String(reportView('fr', dry, true)));
  assert.doesNotMatch(superPage, /sans-etablissement/, 'no link to accounts a dry run did not create');
  assert.match(superPage, /data-import="unattachedLater">Après confirmation, ils seront listés dans « Comptes sans établissement »/);
  assert.match(flat(String(reportView('en', dry, true))), /data-import="unattachedLater">Once the import is confirmed, they will be listed under “Accounts without a school”/);
  assert.match(flat(String(reportView('en', dry))), /data-import="unattached"><p>Warning: 2 accounts of the import would belong to no school \(Teacher: 1, Staff: 1\)/);
  assert.equal((await q(`SELECT 1 FROM users WHERE external_id LIKE 'P%'`)).length, 0, 'a dry run writes nothing');
});

test('the super admin lists the accounts of no school; a local admin never sees them', async () => {
  const html = await consoleImport(superAdmin, null, FILES());
  assert.match(flat(html), /data-import="unattached"><p>Attention : 2 comptes de l’import ne sont rattachés à aucun établissement/);
  assert.match(html, /href="\/console\/sans-etablissement">Voir les comptes sans établissement/);
  const rows = await q<{ login: string; n: number }>(
    `SELECT u.login, (SELECT count(*)::int FROM user_structures us WHERE us.user_id = u.id) AS n FROM users u WHERE external_id LIKE 'P%' ORDER BY login`,
  );
  assert.deepEqual(rows.filter((r) => r.n === 0).map((r) => r.login), ['annaig.de-scorbiac', 'paul.nomade'], 'kept, in no school');

  const home = await superAdmin.get('/console');
  assert.match(home.body, /<a href="\/console\/sans-etablissement">2 comptes sans établissement<\/a>/);
  const list = await superAdmin.get('/console/sans-etablissement');
  assert.equal(list.statusCode, 200);
  assert.match(list.body, /<h1>Comptes sans établissement<\/h1>/);
  assert.match(list.body, /data-unattached-total="2"/);
  const logins = [...list.body.matchAll(/<tr data-login="([^"]+)">/g)].map((m) => m[1]);
  assert.deepEqual(logins, ['annaig.de-scorbiac', 'paul.nomade']);
  assert.match(flat(list.body), /<code>paul\.nomade<\/code><\/a><\/td><td>Nomade<\/td><td>Paul<\/td> <td>Enseignant<\/td><td>Annuaire académique \(AAF\)<\/td>/);

  // The count stays whatever the page: the second page of one, and a page past the end.
  const { listUnattached } = await import('../src/directory/unattached.js');
  const second = await listUnattached(ctx, { limit: 1, offset: 1 });
  assert.deepEqual([second.total, second.rows.map((r) => r.login)], [2, ['paul.nomade']]);
  assert.deepEqual(Object.keys(second.rows[0]).sort(), ['createdAt', 'firstName', 'id', 'lastName', 'login', 'origin', 'profile', 'source']);
  const past = await listUnattached(ctx, { limit: 50, offset: 50 });
  assert.deepEqual([past.total, past.rows], [2, []]);

  assert.equal((await localAdmin.get('/console/sans-etablissement')).statusCode, 403);
  assert.doesNotMatch((await localAdmin.get('/console')).body, /sans-etablissement/);
});

test('« Distribuer les identifiants » after an AAF run: one link per school, each with its new accounts', async () => {
  // The run above created the accounts; a new teacher in each school now.
  const more = xml(
    STAFF_RECORDS +
      person('P7', 'Neuf', 'Marc', ['93001'], [teaches('93001')]) +
      person('P8', 'Neuve', 'Zoé', ['93002']) +
      person('P9', 'Seul', 'Hugo', []),
  );
  const html = await consoleImport(superAdmin, null, [{ name: NAME('EtabEducNat'), data: ETAB }, { name: NAME('PersEducNat'), data: more }]);
  assert.doesNotMatch(html, new RegExp(`/console/etablissements/${school}/publipostage\\?`), 'not a school of the feed: no new account there');
  const links = [...html.matchAll(/<li><a href="([^"]+)">([^<]+)<\/a><\/li>/g)].filter((m) => m[1].includes('/publipostage?'));
  assert.deepEqual(links.map((m) => m[2]), ['CLG - JEAN MOULIN - MONTREUIL : 1 nouveau compte', 'CLG - LES TILLEULS - BAGNOLET : 1 nouveau compte']);
  assert.match(html, /<a href="\/console\/sans-etablissement">1 nouveau compte rattaché à aucun établissement/);
  const moulin = await publipostage(superAdmin, links[0][1]);
  assert.equal(moulin.total, 1);
  assert.ok(moulin.logins.includes('marc.neuf'), moulin.logins.join());
  assert.ok(!moulin.logins.includes('jeanne.moulin'));
  const tilleuls = await publipostage(superAdmin, links[1][1]);
  assert.equal(tilleuls.total, 1);
  assert.ok(tilleuls.logins.includes('zoe.neuve'), tilleuls.logins.join());
  // The link stays readable, its filters shown and kept by the form: the instant to the millisecond with its offset
  // (exact in the hour the autumn change repeats); the form shows it as Paris time in a date-and-time field (it
  // showed « 2026-12-02T00:57:02.762+01:00 » as text), which sent back selects the same accounts.
  assert.match(links[0][1], /\?activation=inactive&createdAfter=\d{4}-\d\d-\d\dT\d\d%3A\d\d%3A\d\d\.\d{3}%2B0[12]%3A00&createdBefore=/);
  const wall = /<input type="datetime-local" step="0\.001" id="f-createdAfter" name="createdAfter" value="(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3})">/.exec(moulin.body)?.[1];
  assert.ok(wall, 'a date-and-time field in Paris time, without the offset');
  const before = /<input type="datetime-local" step="0\.001" id="f-createdBefore" name="createdBefore" value="([^"]+)">/.exec(moulin.body)?.[1];
  assert.ok(before, 'its upper bound likewise');
  const resent = await publipostage(superAdmin, `${links[0][1].split('?')[0]}?activation=inactive&createdAfter=${encodeURIComponent(wall)}&createdBefore=${encodeURIComponent(before)}`);
  assert.deepEqual(resent.logins, moulin.logins, 'the form sent back selects the same accounts');
  assert.match(moulin.body, /data-filter-count>3 filtres actifs</);
  // The mail run's confirmation names the filters: the instant as read.
  const mail = await superAdmin.get(links[0][1].replace('/publipostage?', '/publipostage/envoi?'));
  assert.match(mail.body, /Créés depuis le \d\d\/\d\d\/\d{4} \d\d:\d\d:\d\d,\d{3}/);
});

test('« Distribuer les identifiants » after a CSV run: the run’s accounts, not those created earlier the same day', async () => {
  const pool = ctx.database.pool;
  // Accounts created earlier today (a second ago: the same day whatever the clock), not activated, in the school; of
  // another source, so that the CSV run (complete for its own) leaves them as they are.
  for (let i = 0; i < 5; i++) {
    const r = await pool.query<{ id: string }>(
      `INSERT INTO users (origin, source, profile, first_name, last_name, login, created_at) VALUES ('feed', 'siecle', 'Student', 'Ancien', $1, $2, now() - interval '1 second') RETURNING id`,
      [`Eleve${i}`, `ancien.eleve${i}`],
    );
    await pool.query('INSERT INTO user_structures (user_id, structure_id) VALUES ($1, $2)', [r.rows[0].id, school]);
  }
  const csv = Buffer.from('Nom;Prénom;Date de naissance;Classe\nDurand;Léo;01/02/2013;6e A\nMartin;Inès;03/04/2013;6e A\n');
  const html = await consoleImport(localAdmin, school, [{ name: 'CSV_Eleves.csv', data: csv }]);
  const link = /<a class="button" href="([^"]+)">Distribuer les identifiants des nouveaux comptes<\/a>/.exec(html)?.[1];
  assert.ok(link?.startsWith(`/console/etablissements/${school}/publipostage?`), html.slice(-1500));
  const pp = await publipostage(localAdmin, link!);
  assert.equal(pp.total, 2, 'the 2 accounts of the run, not the 5 created before it');
  assert.deepEqual(pp.logins.filter((l) => /leo|ines|ancien/.test(l)).sort(), ['ines.martin', 'leo.durand']);
  assert.doesNotMatch(html, /sans-etablissement/);
});

test('the mail merge confirmation warns when one address would receive several accounts\' codes', async () => {
  const [school] = await q<{ id: string }>(`INSERT INTO structures (name, uai) VALUES ('École Adresse Commune', '0930999Z') RETURNING id`);
  for (const [login, email] of [['ana.commune', 'No-Reply@Example.fr'], ['bea.commune', 'no-reply@example.fr '], ['cy.seule', 'cy@example.fr']]) {
    const [u] = await q<{ id: string }>(`INSERT INTO users (profile, first_name, last_name, login, email) VALUES ('Teacher', 'X', 'Y', $1, $2) RETURNING id`, [login, email]);
    await q('INSERT INTO user_structures (user_id, structure_id) VALUES ($1, $2)', [u.id, school.id]);
  }
  const page = await superAdmin.get(`/console/etablissements/${school.id}/publipostage/envoi`);
  assert.equal(page.statusCode, 200);
  assert.match(flat(page.body), /data-shared-addresses>Attention : une même adresse recevrait les codes de plusieurs comptes, un courriel par compte : no-reply@example\.fr \(2 comptes\)\./);
  assert.doesNotMatch(page.body, /cy@example\.fr \(/);
  const en = await superAdmin.get(`/console/etablissements/${school.id}/publipostage/envoi`, { 'accept-language': 'en' });
  assert.match(flat(en.body), /one address would receive the codes of several accounts, one mail per account: no-reply@example\.fr \(2 accounts\)/);
});

test('a confirmed run’s report is kept: linked under it, listed beside the form, found again by « Précédent » or a reload; another school’s is not found', async () => {
  const base = `/console/etablissements/${school}`;
  const csv = Buffer.from('Nom;Prénom;Date de naissance;Classe\nRoux;Lina;05/06/2013;6e B\n');
  await localAdmin.get(`${base}/import`);
  const { body, type } = multipart([{ name: 'CSV_Eleves.csv', data: csv }]);
  const up = await app.inject({
    method: 'POST',
    url: `${base}/import?_csrf=${localAdmin.csrf}`,
    headers: { cookie: [...localAdmin.cookies].map(([k, v]) => `${k}=${v}`).join('; '), 'content-type': type },
    payload: body,
  });
  const dryUrl = String(up.headers.location);
  const token = /name="token" value="([^"]+)"/.exec((await localAdmin.get(dryUrl)).body)![1];
  const done = await localAdmin.post(`${base}/import/confirmer`, { token });
  assert.equal(done.statusCode, 200, done.body.slice(0, 500));
  const link = /data-import="saved">[^<]*<a href="([^"]+)"/.exec(done.body)?.[1];
  assert.ok(link?.startsWith(`${base}/import/rapports/`), `a permanent link under the report: ${done.body.slice(-800)}`);

  // Read again later: the same report (its file line, its counts).
  const again = await localAdmin.get(link!);
  assert.equal(again.statusCode, 200, again.body.slice(0, 300));
  assert.match(flat(again.body), /Rapport de l’import du/);
  assert.match(flat(again.body), /CSV_Eleves\.csv/);
  // The confirmation sent again (a reload) and the dry run's page (« Précédent ») lead to it, not to « expirée ».
  const reload = await localAdmin.post(`${base}/import/confirmer`, { token });
  assert.equal(reload.statusCode, 303, 'a reload of the confirmation');
  assert.equal(reload.headers.location, link);
  const back = await localAdmin.get(dryUrl);
  assert.equal(back.statusCode, 303, '« Précédent » to the dry run');
  assert.equal(back.headers.location, link);
  assert.equal((await q('SELECT count(*)::int AS n FROM users WHERE login = $1', ['lina.roux']))[0].n, 1, 'applied once');

  // Listed beside the form, newest first.
  const form = await localAdmin.get(`${base}/import`);
  assert.match(flat(form.body), new RegExp(`data-import="history"><h2[^>]*>Derniers imports</h2> <ul><li><a href="${link}">`), 'the newest run first');

  // Another school's page, or the runs for every school: not found.
  const other = (await q<{ id: string }>(`INSERT INTO structures (name, uai) VALUES ('Collège Ailleurs', '0939999Z') RETURNING id`))[0].id;
  const rid = link!.split('/').pop();
  assert.equal((await superAdmin.get(`/console/etablissements/${other}/import/rapports/${rid}`)).statusCode, 404, 'not under another school');
  assert.equal((await superAdmin.get(`/console/import/rapports/${rid}`)).statusCode, 404, 'not among the runs for every school');
  assert.equal((await localAdmin.get(`/console/import/rapports/${rid}`)).statusCode, 403, 'a local admin has no page for every school');

  // A super admin's run on the school's page may name other schools' accounts: the local admin neither lists nor reads it.
  const html = await consoleImport(superAdmin, school, [{ name: 'CSV_Eleves.csv', data: Buffer.from('Nom;Prénom;Date de naissance;Classe\nRoux;Lina;05/06/2013;6e B\nBlanc;Tom;07/08/2013;6e B\n') }]);
  const superLink = /data-import="saved">[^<]*<a href="([^"]+)"/.exec(html)?.[1];
  assert.ok(superLink, 'the super admin’s run is kept');
  assert.equal((await superAdmin.get(superLink!)).statusCode, 200, 'read by the super admin');
  assert.equal((await localAdmin.get(superLink!)).statusCode, 404, 'not by the local admin');
  assert.doesNotMatch((await localAdmin.get(`${base}/import`)).body, new RegExp(superLink!), 'nor listed for them');
});
