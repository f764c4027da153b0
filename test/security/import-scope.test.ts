// Issue #7, critical: what an import may touch is decided from the files' CONTENT and the caller's scope,
// inside the import service — never from a file name. A local admin's import stays inside their structures;
// academic feeds (AAF) are for super admins; no import ever reaches a super admin.
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import type { FastifyInstance } from 'fastify';
import { runWith as runAdmin } from '../../src/accounts/admin.js';
import { hashPassword } from '../../src/accounts/passwords.js';
import { migrate } from '../../src/db/index.js';
import { ensureSuperAdmin } from '../../src/demo/seed.js';
import { ImportForbiddenError, importFiles } from '../../src/import/index.js';
import { buildServer } from '../../src/web/server.js';
import { testContext } from '../helpers/db.js';
import { Client, createUser, multipart, sessionFor, type SessionHeaders } from '../helpers/web.js';

const AAF = readFileSync(new URL('../fixtures/security/aaf-escalation.xml', import.meta.url));
const TPL = new URL('../fixtures/import/', import.meta.url).pathname;
/** The same AAF document under the three kinds of names an attacker picks. */
const NAMES = ['evil-feed', 'evil-feed.txt', 'ENT_Complet_20260901_PersEducNat_0000.xml'];

let ctx: Awaited<ReturnType<typeof testContext>>;
let app: FastifyInstance;
let schoolA: string;
let schoolB: string;
let local: SessionHeaders;
let root: SessionHeaders;

const q = async <T = Record<string, unknown>>(sql: string, params: unknown[] = []) => (await ctx.database.pool.query(sql, params)).rows as T[];
const session = (userId: string) => sessionFor(ctx.database.pool, userId);

/** Everything the escalation file would change: the super admin, school B, accounts created. */
async function snapshot() {
  const [admin] = await q(`SELECT email, pre_deleted_at, external_id FROM users WHERE login = 'admin'`);
  const [b] = await q(`SELECT name, uai, external_id FROM structures WHERE id = $1`, [schoolB]);
  const [{ n }] = await q<{ n: number }>(`SELECT count(*)::int n FROM users`);
  const [{ m }] = await q<{ m: number }>(`SELECT count(*)::int m FROM user_classes uc JOIN classes c ON c.id = uc.class_id WHERE c.structure_id = $1`, [schoolB]);
  return { admin, b, users: n, classMembers: m };
}

function apiImport(as: SessionHeaders, query: string, files: Array<{ name: string; data: Buffer }>) {
  const { body, type } = multipart(files);
  return app.inject({ method: 'POST', url: `/api/import${query}`, headers: { 'content-type': type, cookie: as.cookie, 'x-csrf-token': as.csrf }, payload: body });
}

function consoleImport(as: SessionHeaders, school: string, files: Array<{ name: string; data: Buffer }>, fields: Record<string, string> = {}) {
  const { body, type } = multipart(files, fields);
  return app.inject({ method: 'POST', url: `/console/etablissements/${school}/import?_csrf=${as.csrf}`, headers: { 'content-type': type, cookie: as.cookie }, payload: body });
}

before(async () => {
  ctx = await testContext({ TROUSSEAU_DATA_DIR: mkdtempSync(join(tmpdir(), 'trousseau-sec-')) });
  [{ id: schoolA }] = await q(`INSERT INTO structures (uai, name) VALUES ('0451234K', 'Collège Les Tilleuls') RETURNING id`);
  [{ id: schoolB }] = await q(`INSERT INTO structures (uai, name) VALUES ('0457777X', 'École des Peupliers') RETURNING id`);
  const [cls] = await q(`INSERT INTO classes (structure_id, name) VALUES ($1, '6B') RETURNING id`, [schoolB]);
  const pupil = await createUser(ctx.database.pool, { login: 'lina.morel', firstName: 'Lina', lastName: 'MOREL', profile: 'Student' });
  await q('INSERT INTO user_structures VALUES ($1, $2)', [pupil, schoolB]);
  await q('INSERT INTO user_classes VALUES ($1, $2)', [pupil, cls.id]);
  // The super admin as `npm start` creates it.
  await ensureSuperAdmin(ctx, await hashPassword('mot-de-passe-initial'));
  const [admin] = await q<{ id: string }>(`SELECT id FROM users WHERE login = 'admin'`);
  const director = await createUser(ctx.database.pool, { login: 'paul.renard', firstName: 'Paul', lastName: 'RENARD', password: 'directeur-tilleuls-2026' });
  await q('INSERT INTO user_structures VALUES ($1, $2)', [director, schoolA]);
  await q('INSERT INTO local_admins VALUES ($1, $2)', [director, schoolA]);
  local = await session(director);
  root = await session(admin.id);
  app = await buildServer(ctx);
});
after(async () => {
  await app.close();
  await ctx.close();
});

test('the super admin has no feed identity, also in a database created before (migration 0007)', async () => {
  assert.equal((await snapshot()).admin.external_id, null);
  // A database from before: the first super admin carried the jointure `demo:admin`.
  await q('ALTER TABLE users DROP CONSTRAINT users_super_admin_not_fed');
  await q(`UPDATE users SET external_id = 'demo:admin', pre_deleted_at = now() WHERE login = 'admin'`);
  await q(`DELETE FROM schema_migrations WHERE name LIKE '0007_%'`);
  await migrate(ctx.database.pool);
  const [admin] = await q(`SELECT external_id, pre_deleted_at FROM users WHERE login = 'admin'`);
  assert.deepEqual(admin, { external_id: null, pre_deleted_at: null });
  await assert.rejects(q(`UPDATE users SET external_id = 'demo:admin' WHERE login = 'admin'`), /users_super_admin_not_fed/);
});

test('a local admin’s AAF file is refused with 403 whatever its name (API and console); nothing changes', async () => {
  const before = await snapshot();
  for (const name of NAMES) {
    const api = await apiImport(local, `?structureId=${schoolA}`, [{ name, data: AAF }]);
    assert.equal(api.statusCode, 403, `${name}: ${api.body}`);
    assert.match(api.json().error, /annuaire académique \(AAF\).*super-administrateurs/, name);
    const dry = await apiImport(local, `?dryRun=true&structureId=${schoolA}`, [{ name, data: AAF }]);
    assert.equal(dry.statusCode, 403, name);
    const page = await consoleImport(local, schoolA, [{ name, data: AAF }]);
    assert.equal(page.statusCode, 403, `${name}: console`);
    assert.match(page.body, /réservé aux super-administrateurs/);
    assert.doesNotMatch(page.body, /import\/confirmer/, 'no confirmation offered');
    // Hidden among the school's own CSV files, the feed is refused all the same.
    const mixed = await apiImport(local, `?structureId=${schoolA}`, [{ name: 'CSV_Eleves.csv', data: readFileSync(join(TPL, 'CSV_Eleves.csv')) }, { name, data: AAF }]);
    assert.equal(mixed.statusCode, 403, `${name}: among CSV files`);
  }
  assert.deepEqual(await snapshot(), before);
  assert.equal((await q(`SELECT count(*)::int n FROM users WHERE email = 'pirate@exemple.test'`))[0].n, 0);
});

test('a super admin’s import of the same feed never matches, updates nor pre-deletes a super admin; `trousseau admin` still lets admin in', async () => {
  for (const name of NAMES) {
    const res = await apiImport(root, '', [{ name, data: AAF }]);
    assert.equal(res.statusCode, 200, `${name}: ${res.body}`);
    const { admin } = await snapshot();
    assert.equal(admin.email, null, `${name}: the super admin’s e-mail is untouched`);
    assert.equal(admin.pre_deleted_at, null, `${name}: the super admin is not pre-deleted`);
    assert.equal(admin.external_id, null);
  }
  // The feed is authoritative for a super admin: school B did follow it.
  assert.equal((await snapshot()).b.name, 'ECOLE RENOMMEE PAR INTRUS');
  const lines: string[] = [];
  assert.equal(await runAdmin(ctx, (m) => lines.push(m)), 0);
  const password = /admin : (\S+)/.exec(lines.join('\n'))![1];
  const browser = new Client(app);
  assert.equal((await browser.signIn('admin', password)).statusCode, 303, 'admin signs in with the new password');
  root = await session((await q<{ id: string }>(`SELECT id FROM users WHERE login = 'admin'`))[0].id); // `trousseau admin` ended the others
});

test('a local admin’s CSV import never updates, links or pre-deletes an account that administers another school', async () => {
  const files = () => ['CSV_Enseignants.csv'].map((name) => ({ name, data: readFileSync(join(TPL, name)) }));
  // The school's teachers, imported once into school A with the server's own rights (as `trousseau import`).
  const first = await importFiles(ctx, files(), { scope: { kind: 'all' }, dryRun: false, structureHint: schoolA });
  assert.equal(first.fatal, null);
  const [teacher] = await q(`SELECT id FROM users WHERE last_name = 'ROUSSEL' AND first_name = 'Hélène'`);
  // She becomes the local admin of school B (not activated yet), e.g. a school she now runs.
  await q('INSERT INTO local_admins VALUES ($1, $2)', [teacher.id, schoolB]);

  // School A's admin re-imports the file with her e-mail changed: the row is rejected, the account untouched.
  const edited = readFileSync(join(TPL, 'CSV_Enseignants.csv'), 'latin1').replace('helene.roussel@exemple.test', 'pirate@exemple.test');
  const res = await apiImport(local, `?structureId=${schoolA}`, [{ name: 'CSV_Enseignants.csv', data: Buffer.from(edited, 'latin1') }]);
  assert.equal(res.statusCode, 200, res.body);
  assert.ok(res.json().rejected.some((r: { reason: string }) => /hors de votre périmètre/.test(r.reason)), 'the row is reported');
  assert.equal((await q('SELECT email FROM users WHERE id = $1', [teacher.id]))[0].email, 'helene.roussel@exemple.test');

  // A complete import without her (it would pre-delete her) leaves her account alone too; so it does for a
  // colleague who also teaches in school B (pre-deletion is account-wide: school B still has him).
  const [colleague] = await q(`SELECT id FROM users WHERE last_name = 'FAUCHER'`);
  await q('INSERT INTO user_structures VALUES ($1, $2)', [colleague.id, schoolB]);
  const without = readFileSync(join(TPL, 'CSV_Enseignants.csv'), 'latin1').split('\r\n').filter((l) => !/^(Hélène|Bruno);/.test(l)).join('\r\n');
  const done = await apiImport(local, `?structureId=${schoolA}`, [{ name: 'CSV_Enseignants.csv', data: Buffer.from(without, 'latin1') }]);
  assert.equal(done.statusCode, 200, done.body);
  assert.equal(done.json().preDeleted, 0);
  assert.equal((await q('SELECT pre_deleted_at FROM users WHERE id = $1', [teacher.id]))[0].pre_deleted_at, null);
  assert.equal((await q('SELECT pre_deleted_at FROM users WHERE id = $1', [colleague.id]))[0].pre_deleted_at, null);
  // The super admin's own complete import still pre-deletes them both (the feed is the whole picture for 'all').
  const full = await importFiles(ctx, [{ name: 'CSV_Enseignants.csv', data: Buffer.from(without, 'latin1') }], { scope: { kind: 'all' }, dryRun: true, structureHint: schoolA });
  assert.equal(full.preDeleted, 2);
});

test('a local admin cannot send CSV files anywhere but one of their schools', async () => {
  const eleves = [{ name: 'CSV_Eleves.csv', data: readFileSync(join(TPL, 'CSV_Eleves.csv')) }];
  assert.equal((await apiImport(local, `?structureId=${schoolB}`, eleves)).statusCode, 404);
  assert.equal((await apiImport(local, '', eleves)).statusCode, 400);
  assert.equal((await consoleImport(local, schoolB, eleves)).statusCode, 404);
  // The service itself refuses, whatever its callers check: another school by UAI or id, or a new one.
  for (const structureHint of ['0457777X', schoolB, '0450000A', undefined]) {
    await assert.rejects(
      importFiles(ctx, eleves, { scope: { kind: 'structures', structureIds: [schoolA] }, dryRun: false, structureHint }),
      (e) => e instanceof ImportForbiddenError,
      String(structureHint),
    );
  }
  assert.equal((await q(`SELECT count(*)::int n FROM users WHERE profile = 'Student'`))[0].n, 1, 'only the pupil of school B');
  assert.equal((await q(`SELECT count(*)::int n FROM structures`))[0].n, 2, 'no school created');
});

test('a local admin’s SIECLE or STS-web file must name their school’s own UAI: a school without one cannot plant accounts in another school’s key space', async () => {
  const [{ id: noUai }] = await q(`INSERT INTO structures (name) VALUES ('École sans UAI') RETURNING id`);
  await q('INSERT INTO local_admins SELECT user_id, $1 FROM local_admins WHERE structure_id = $2', [noUai, schoolA]);
  const sts = readFileSync(new URL('../fixtures/sts/sts_emp_0990001X_2025.xml', import.meta.url));
  const siecle = readFileSync(new URL('../fixtures/siecle/ElevesSansAdresses.xml', import.meta.url));
  const before = await snapshot();
  for (const [name, data] of [['sts_emp_0990001X_2025.xml', sts], ['ElevesSansAdresses.xml', siecle]] as const) {
    const planted = await apiImport(local, `?structureId=${noUai}&partial=true`, [{ name, data }]);
    assert.equal(planted.statusCode, 403, `${name}: ${planted.body}`);
    assert.match(planted.json().error, /seul l’établissement qui porte ce code UAI/);
    // A school with another UAI refuses the file as it always did (400, naming the field).
    const other = await apiImport(local, `?structureId=${schoolA}&partial=true`, [{ name, data }]);
    assert.equal(other.statusCode, 400, `${name}: ${other.body}`);
    assert.match(other.json().detail, /PARAMETRES\/UAJ/);
  }
  assert.deepEqual(await snapshot(), before);
  assert.equal((await q(`SELECT count(*)::int n FROM users WHERE external_id LIKE 'sts:%' OR external_id LIKE 'siecle:%'`))[0].n, 0);
});
