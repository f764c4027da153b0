// The ENT's CSV templates offered on the import page (src/import/csv-templates.ts): each one, filled in, imports
// without a remark — one account of its profile, the parent linked to the pupil — and is downloaded from the page by a
// local administrator. A newcomer found no word of the columns anywhere in the product. The invented example row each
// ships with is never an account: a school that fills the template below it and sends it back gets it skipped, named.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import type { FastifyInstance } from 'fastify';
import { CSV_TEMPLATES, templateFile } from '../src/import/csv-templates.js';
import { formatReport, importFiles } from '../src/import/index.js';
import { buildServer } from '../src/web/server.js';
import { testContext } from './helpers/db.js';
import { insertStructure } from './helpers/directory-sample.js';
import { Client, createUser } from './helpers/web.js';

const PASSWORD = 'une phrase de passe solide';
let ctx: Awaited<ReturnType<typeof testContext>>;
let app: FastifyInstance;
let school = '';

before(async () => {
  ctx = await testContext();
  app = await buildServer(ctx);
  school = await insertStructure(ctx.database.pool, 'École des Modèles', '0440097V');
});
after(async () => {
  await app?.close();
  await ctx?.close();
});

/** A template filled in with other people than its example's (the same cells otherwise). */
function filled(t: (typeof CSV_TEMPLATES)[number]): Buffer {
  const names: [string, string][] = [['MARTIN', 'ROUSSEL'], ['Léa', 'Inès'], ['DUBOIS', 'FAURE'], ['BERNARD', 'MOREL'], ['PETIT', 'GIRAUD']];
  return Buffer.from(names.reduce((text, [a, b]) => text.replaceAll(a, b), templateFile(t).toString('utf8')), 'utf8');
}

test('the five templates as shipped: each example row is skipped and named, no account made', async () => {
  const files = CSV_TEMPLATES.map((t) => ({ name: t.file, data: templateFile(t) }));
  const report = await importFiles(ctx, files, { dryRun: true, scope: { kind: 'all' }, structureHint: school });
  assert.equal(report.fatal, null, formatReport(report));
  assert.equal(report.created, 0, formatReport(report));
  assert.deepEqual(
    report.rejected.map((r) => `${r.file}:${r.line} ${r.reason}`),
    [
      'CSV_Eleves.csv:2 ligne d’exemple du modèle CSV (« Léa MARTIN ») : ligne ignorée ; supprimez-la du fichier',
      'CSV_Parents.csv:2 ligne d’exemple du modèle CSV (« Sophie MARTIN ») : ligne ignorée ; supprimez-la du fichier',
      'CSV_Enseignants.csv:2 ligne d’exemple du modèle CSV (« Camille DUBOIS ») : ligne ignorée ; supprimez-la du fichier',
      'CSV_Personnels.csv:2 ligne d’exemple du modèle CSV (« Julien BERNARD ») : ligne ignorée ; supprimez-la du fichier',
      'CSV_Invites.csv:2 ligne d’exemple du modèle CSV (« Nadia PETIT ») : ligne ignorée ; supprimez-la du fichier',
    ],
  );
});

test('the five templates, filled in, import one account each, the parent linked to the pupil, nothing rejected or remarked', async () => {
  const files = CSV_TEMPLATES.map((t) => ({ name: t.file, data: filled(t) }));
  const report = await importFiles(ctx, files, { dryRun: false, scope: { kind: 'all' }, structureHint: school });
  assert.equal(report.fatal, null, formatReport(report));
  assert.deepEqual(report.rejected, [], formatReport(report));
  const rows = (
    await ctx.database.pool.query(`SELECT profile, first_name, last_name, email, mobile FROM users WHERE login <> 'admin' ORDER BY profile`)
  ).rows.map((r) => `${r.profile} ${r.first_name} ${r.last_name} ${r.email ?? ''} ${r.mobile ?? ''}`.trim());
  assert.deepEqual(rows, [
    'Guest Nadia GIRAUD nadia.petit@example.org',
    'Personnel Julien MOREL julien.bernard@example.org',
    'Relative Sophie ROUSSEL sophie.martin@example.org 06 12 34 56 78',
    'Student Inès ROUSSEL',
    'Teacher Camille FAURE camille.dubois@example.org',
  ]);
  assert.equal(report.relations.created, 1);
  const cls = await ctx.database.pool.query(`SELECT u.profile FROM user_classes uc JOIN classes c ON c.id = uc.class_id JOIN users u ON u.id = uc.user_id WHERE c.name = 'CM1 A' ORDER BY 1`);
  assert.deepEqual(cls.rows.map((r) => r.profile), ['Guest', 'Student', 'Teacher']);
});

test('each template is read as a CSV template of its profile, not an ONDE extraction; a « Directeur » column added to CSV_Enseignants neither', async () => {
  // The teachers' template had ONDE's « Directeur » column: the console's own file was reported « ONDE/BE1D
  // enseignants », its teachers stored as coming from ONDE (origin « feed », out of a CSV import's absence sweep).
  const files = CSV_TEMPLATES.map((t) => ({ name: t.file, data: templateFile(t) }));
  const report = await importFiles(ctx, files, { dryRun: true, scope: { kind: 'all' }, structureHint: school });
  assert.equal(report.fatal, null, formatReport(report));
  assert.deepEqual(
    report.files.map((f) => `${f.file} ${f.format}`),
    ['CSV_Eleves.csv CSV élèves', 'CSV_Parents.csv CSV parents', 'CSV_Enseignants.csv CSV enseignants', 'CSV_Personnels.csv CSV personnels', 'CSV_Invites.csv CSV invités'],
  );
  const withDirector = Buffer.from('\uFEFFNom*;Prénom*;Courriel;Classes;Fonction;Directeur\r\nLEROY;Anne;anne.leroy@example.org;CM1 A;Professeur des écoles;oui\r\n');
  const second = await importFiles(ctx, [{ name: 'CSV_Enseignants.csv', data: withDirector }], { dryRun: false, partial: true, scope: { kind: 'all' }, structureHint: school });
  assert.equal(second.fatal, null, formatReport(second));
  assert.equal(second.files[0].format, 'CSV enseignants');
  const anne = await ctx.database.pool.query(
    `SELECT u.origin, u.source, EXISTS (SELECT 1 FROM local_admins la WHERE la.user_id = u.id) AS admin FROM users u WHERE u.login = 'anne.leroy'`,
  );
  assert.deepEqual(anne.rows, [{ origin: 'manual', source: 'csv', admin: true }]);
});

test('a local admin finds the templates on the import page and downloads them; an unknown name is a 404', async () => {
  const pool = ctx.database.pool;
  const admin = await createUser(pool, { login: 'dir.modeles', password: PASSWORD, profile: 'Personnel' });
  await pool.query('INSERT INTO user_structures (user_id, structure_id) VALUES ($1, $2)', [admin, school]);
  await pool.query('INSERT INTO local_admins (user_id, structure_id) VALUES ($1, $2)', [admin, school]);
  const anonymous = new Client(app);
  assert.notEqual((await anonymous.get('/console/modeles-csv/CSV_Eleves.csv')).statusCode, 200);
  const c = new Client(app);
  await c.signIn('dir.modeles', PASSWORD);
  const page = await c.get(`/console/etablissements/${school}/import`);
  assert.equal(page.statusCode, 200);
  const links = [...page.body.matchAll(/<a href="(\/console\/modeles-csv\/[^"]+)" download>/g)].map((m) => m[1]);
  assert.deepEqual(links, CSV_TEMPLATES.map((t) => `/console/modeles-csv/${t.file}`));
  assert.match(page.body, /CSV_Eleves\.csv<\/a> \(Élève\) :\s*<span class="muted">Nom\* ; Prénom\* ; Date de naissance\* ; Classes ; Nom d&#39;usage ; Identifiant externe<\/span>/);
  const file = await c.get('/console/modeles-csv/CSV_Eleves.csv');
  assert.equal(file.statusCode, 200);
  assert.match(String(file.headers['content-disposition']), /attachment; filename="CSV_Eleves\.csv"/);
  assert.equal(file.rawPayload.subarray(0, 3).toString('hex'), 'efbbbf');
  assert.equal(file.body.replace(/^\uFEFF/, '').split('\r\n')[0], "Nom*;Prénom*;Date de naissance*;Classes;Nom d'usage;Identifiant externe");
  assert.equal((await c.get('/console/modeles-csv/..%2F..%2Fetc%2Fpasswd')).statusCode, 404);
});
