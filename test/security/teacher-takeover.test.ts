// A teacher of school A who also teaches a class of school B holds rights over B's pupils and parents (the class
// view: sheets with activation codes, renewal codes, mails). A's local admin could take that account over (a
// renewal code, an e-mail then a reset link, a CSV import changing its address) and, signed in as the teacher,
// hand out codes to B's families. Like an account that administers B, such a teacher is read-only to A's admin
// (manageableSql); a teacher of A only stays fully manageable, and B's own admin or a super admin manage both.
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import type { FastifyInstance } from 'fastify';
import { importFiles } from '../../src/import/index.js';
import { buildServer } from '../../src/web/server.js';
import { testContext } from '../helpers/db.js';
import { createUser, multipart, sessionFor, signedInClient, type Client } from '../helpers/web.js';

const TPL = new URL('../fixtures/import/', import.meta.url).pathname;

let ctx: Awaited<ReturnType<typeof testContext>>;
let app: FastifyInstance;
let schoolA: string;
let schoolB: string;
/** Teaches 5A (school A) and CM2 (school B). */
let shared: string;
/** Teaches 5A only. */
let ownTeacher: string;
let dirA: string;
let directorA: Client;
let directorB: Client;

const q = async <T = Record<string, unknown>>(sql: string, params: unknown[] = []) => (await ctx.database.pool.query(sql, params)).rows as T[];
const user = async (id: string) => (await q('SELECT * FROM users WHERE id = $1', [id]))[0];

before(async () => {
  ctx = await testContext({ TROUSSEAU_DATA_DIR: mkdtempSync(join(tmpdir(), 'trousseau-sec-')) });
  const pool = ctx.database.pool;
  [{ id: schoolA }] = await q(`INSERT INTO structures (uai, name) VALUES ('0451111A', 'Collège des Érables') RETURNING id`);
  [{ id: schoolB }] = await q(`INSERT INTO structures (uai, name) VALUES ('0452222B', 'École des Saules') RETURNING id`);
  const [{ id: classA }] = await q<{ id: string }>(`INSERT INTO classes (structure_id, name) VALUES ($1, '5A') RETURNING id`, [schoolA]);
  const [{ id: classB }] = await q<{ id: string }>(`INSERT INTO classes (structure_id, name) VALUES ($1, 'CM2') RETURNING id`, [schoolB]);

  shared = await createUser(pool, { login: 'irene.marchal', firstName: 'Irène', lastName: 'MARCHAL', profile: 'Teacher', password: 'deux-ecoles-2026-x', email: 'irene.marchal@exemple.test' });
  await q(`UPDATE users SET external_id = 'ENS-IRENE' WHERE id = $1`, [shared]);
  ownTeacher = await createUser(pool, { login: 'jules.noel', firstName: 'Jules', lastName: 'NOEL', profile: 'Teacher', password: 'une-ecole-2026-xy' });
  await q('INSERT INTO user_structures VALUES ($1, $2), ($1, $3), ($4, $2)', [shared, schoolA, schoolB, ownTeacher]);
  await q('INSERT INTO user_classes VALUES ($1, $2), ($1, $3), ($4, $2)', [shared, classA, classB, ownTeacher]);

  dirA = await createUser(pool, { login: 'karine.orsini', firstName: 'Karine', lastName: 'ORSINI', password: 'direction-erables-26' });
  const dirB = await createUser(pool, { login: 'louis.petit', firstName: 'Louis', lastName: 'PETIT', password: 'direction-saules-26' });
  await q('INSERT INTO user_structures VALUES ($1, $2), ($3, $4)', [dirA, schoolA, dirB, schoolB]);
  await q('INSERT INTO local_admins VALUES ($1, $2), ($3, $4)', [dirA, schoolA, dirB, schoolB]);
  app = await buildServer(ctx);
  directorA = await signedInClient(app, pool, dirA);
  directorB = await signedInClient(app, pool, dirB);
});
after(async () => {
  await app.close();
  await ctx.close();
});

test('console: a teacher who also teaches in another school is read-only to this school’s admin', async () => {
  const page = await directorA.get(`/console/utilisateurs/${shared}`);
  assert.equal(page.statusCode, 200, 'still visible: the teacher belongs to school A');
  assert.match(page.body, /data-read-only/, 'shown read-only');

  const renewal = await directorA.post(`/console/utilisateurs/${shared}/renouvellement`, {});
  assert.equal(renewal.statusCode, 403, 'no renewal code');
  assert.equal((await user(shared)).renewal_code_mac, null, 'no renewal code stored');
  const contact = await directorA.post(`/console/utilisateurs/${shared}/coordonnees`, { email: 'pirate@exemple.test', phone: '' });
  assert.equal(contact.statusCode, 403, 'no e-mail change (a reset link would follow)');
  assert.equal((await user(shared)).email, 'irene.marchal@exemple.test', 'e-mail unchanged');
  const block = await directorA.post(`/console/utilisateurs/${shared}/bloquer`, {});
  assert.equal(block.statusCode, 403, 'no blocking');
  assert.equal((await user(shared)).blocked, false, 'not blocked');
  // Her page offers no « Fiche PDF » nor « Envoyer par courriel »: a forged post is refused the same way (it used to
  // answer « Pas de fiche pour ce compte : bloqué, absent du flux… », a wrong reason, with a 303).
  for (const action of ['fiche', 'courriel']) {
    const res = await directorA.post(`/console/utilisateurs/${shared}/${action}`, { idem: '3f0b6c1e-1111-4a1a-9a1a-000000000001' });
    assert.equal(res.statusCode, 403, `${action}: refused`);
    assert.match(res.body, /lecture seule/, `${action}: says why`);
  }
  // The school's preview says why she, not activated, has no code (her code is never read for A's admin).
  await q('UPDATE users SET activated_at = NULL WHERE id = $1', [shared]);
  const preview = await directorA.get(`/console/etablissements/${schoolA}/publipostage/apercu?profiles=Teacher`);
  assert.equal(preview.statusCode, 200, 'preview');
  const row = preview.body.match(/<tr data-login="irene\.marchal">[\s\S]*?<\/tr>/)?.[0] ?? '';
  assert.match(row, /Géré hors de votre périmètre/, `her code cell says why: ${row}`);
  await q('UPDATE users SET activated_at = now() WHERE id = $1', [shared]);

  // A teacher of A only stays manageable by A's admin.
  const own = await directorA.post(`/console/utilisateurs/${ownTeacher}/renouvellement`, {});
  assert.equal(own.statusCode, 303, 'renewal code of a teacher of A only');
  assert.notEqual((await user(ownTeacher)).renewal_code_mac, null, 'stored');
});

test('import: a local admin’s CSV never changes the e-mail of a teacher who also teaches in another school', async () => {
  const file = (text: string) => [{ name: 'CSV_Enseignants.csv', data: Buffer.from(text, 'latin1') }];
  const original = readFileSync(join(TPL, 'CSV_Enseignants.csv'), 'latin1');
  // The school's teachers, imported into school A with the server's own rights (as `trousseau import`).
  assert.equal((await importFiles(ctx, file(original), { scope: { kind: 'all' }, dryRun: false, structureHint: schoolA })).fatal, null, 'first import');
  const [teacher] = await q<{ id: string }>(`SELECT id FROM users WHERE last_name = 'ROUSSEL' AND first_name = 'Hélène'`);
  // She also teaches school B's CM2.
  await q('INSERT INTO user_structures VALUES ($1, $2)', [teacher.id, schoolB]);
  await q(`INSERT INTO user_classes SELECT $1, id FROM classes WHERE structure_id = $2`, [teacher.id, schoolB]);

  const as = await sessionFor(ctx.database.pool, dirA);
  const { body, type } = multipart(file(original.replace('helene.roussel@exemple.test', 'pirate@exemple.test')));
  const res = await app.inject({ method: 'POST', url: `/api/import?structureId=${schoolA}&partial=true`, headers: { 'content-type': type, cookie: as.cookie, 'x-csrf-token': as.csrf }, payload: body });
  assert.equal(res.statusCode, 200, `import answered: ${res.body}`);
  assert.ok(res.json().rejected.some((r: { reason: string }) => /hors de votre périmètre/.test(r.reason)), 'the row is reported');
  assert.equal((await user(teacher.id)).email, 'helene.roussel@exemple.test', 'her e-mail is unchanged');
});

test('read-only to the other school’s admin too; a super admin still manages the shared teacher', async () => {
  const byB = await directorB.post(`/console/utilisateurs/${shared}/renouvellement`, {});
  assert.equal(byB.statusCode, 403, 'B’s admin would reach A’s class the same way');
  const [root] = await q<{ id: string }>(`INSERT INTO users (profile, first_name, last_name, login, is_super_admin, password_hash, activated_at)
     VALUES ('Personnel', 'Root', 'ADMIN', 'root.admin', true, 'x', now()) RETURNING id`);
  const superAdmin = await signedInClient(app, ctx.database.pool, root.id);
  assert.equal((await superAdmin.post(`/console/utilisateurs/${shared}/renouvellement`, {})).statusCode, 303, 'super admin');
});
