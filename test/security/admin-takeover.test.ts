// Issue #7, high: an account attached to school A that also administers school B must be read-only for A's
// local admin (and for A's teachers): no renewal or activation code, no e-mail change, no blocking, no code
// printed or issued by the publipostage. Otherwise A's admin takes over B's. One domain check
// (requireManageable) guards every mutating path; ordinary accounts of A stay fully manageable.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import type { FastifyInstance } from 'fastify';
import { formatCode } from '../../src/accounts/codes.js';
import { buildServer } from '../../src/web/server.js';
import { testContext } from '../helpers/db.js';
import { createInactiveUser, createUser, signedInClient, type Client } from '../helpers/web.js';

let ctx: Awaited<ReturnType<typeof testContext>>;
let app: FastifyInstance;
let schoolA: string;
let schoolB: string;
let classA: string;
/** Attached to A, local admin of B: activated (x), not yet activated with a valid code (y) or an expired one (yOld). */
let x: string;
let y: { id: string; code: string };
let yOld: string;
/** A parent in A's class who administers B. */
let parent: string;
/** Ordinary accounts of A: an activated colleague, an inactive pupil. */
let colleague: string;
let pupil: { id: string; code: string };
let director: Client;
let teacher: Client;

const q = async <T = Record<string, unknown>>(sql: string, params: unknown[] = []) => (await ctx.database.pool.query(sql, params)).rows as T[];
const user = async (id: string) => (await q('SELECT * FROM users WHERE id = $1', [id]))[0];

const signedIn = (userId: string) => signedInClient(app, ctx.database.pool, userId);

before(async () => {
  ctx = await testContext();
  const pool = ctx.database.pool;
  [{ id: schoolA }] = await q(`INSERT INTO structures (uai, name) VALUES ('0451234K', 'Collège Les Tilleuls') RETURNING id`);
  [{ id: schoolB }] = await q(`INSERT INTO structures (uai, name) VALUES ('0457777X', 'École des Peupliers') RETURNING id`);
  [{ id: classA }] = await q(`INSERT INTO classes (structure_id, name) VALUES ($1, '4A') RETURNING id`, [schoolA]);
  const attach = (id: string) => q('INSERT INTO user_structures VALUES ($1, $2)', [id, schoolA]);
  const adminOfB = (id: string) => q('INSERT INTO local_admins VALUES ($1, $2)', [id, schoolB]);

  x = await createUser(pool, { login: 'agathe.lenoir', firstName: 'Agathe', lastName: 'LENOIR', password: 'peupliers-direction-2026', email: 'agathe.lenoir@exemple.test' });
  y = await createInactiveUser(pool, ctx.secrets, { login: 'bastien.royer', firstName: 'Bastien', lastName: 'ROYER' });
  yOld = (await createInactiveUser(pool, ctx.secrets, { login: 'chloe.vidal', firstName: 'Chloé', lastName: 'VIDAL' })).id;
  await q(`UPDATE users SET activation_code_expires_at = now() - interval '1 day' WHERE id = $1`, [yOld]);
  parent = await createUser(pool, { login: 'damien.faure', firstName: 'Damien', lastName: 'FAURE', profile: 'Relative', password: 'parent-et-directeur-26' });
  const child = await createUser(pool, { login: 'emma.faure', firstName: 'Emma', lastName: 'FAURE', profile: 'Student' });
  for (const id of [x, y.id, yOld, child]) await attach(id);
  for (const id of [x, y.id, yOld, parent]) await adminOfB(id);
  await q('INSERT INTO user_classes VALUES ($1, $2)', [child, classA]);
  await q('INSERT INTO relations (parent_id, child_id) VALUES ($1, $2)', [parent, child]);

  colleague = await createUser(pool, { login: 'franck.gilles', firstName: 'Franck', lastName: 'GILLES', password: 'collegue-tilleuls-26' });
  pupil = await createInactiveUser(pool, ctx.secrets, { login: 'gaspard.huet', firstName: 'Gaspard', lastName: 'HUET', profile: 'Student' });
  await attach(colleague);
  await attach(pupil.id);

  const dir = await createUser(pool, { login: 'paul.renard', firstName: 'Paul', lastName: 'RENARD', password: 'directeur-tilleuls-2026' });
  await attach(dir);
  await q('INSERT INTO local_admins VALUES ($1, $2)', [dir, schoolA]);
  const prof = await createUser(pool, { login: 'sarah.klein', firstName: 'Sarah', lastName: 'KLEIN', profile: 'Teacher', password: 'professeure-4a-2026' });
  await attach(prof);
  await q('INSERT INTO user_classes VALUES ($1, $2)', [prof, classA]);
  app = await buildServer(ctx);
  director = await signedIn(dir);
  teacher = await signedIn(prof);
});
after(async () => {
  await app.close();
  await ctx.close();
});

test('console: another school’s admin is shown read-only, and every change is refused with 403', async () => {
  const page = await director.get(`/console/utilisateurs/${x}`);
  assert.equal(page.statusCode, 200);
  assert.match(page.body, /data-read-only/);
  assert.doesNotMatch(page.body, /\/renouvellement"|\/coordonnees"|\/bloquer/, 'no action offered');

  const renewal = await director.post(`/console/utilisateurs/${x}/renouvellement`, {});
  assert.equal(renewal.statusCode, 403);
  assert.equal((await user(x)).renewal_code_mac, null);
  const contact = await director.post(`/console/utilisateurs/${x}/coordonnees`, { email: 'pirate@exemple.test', phone: '' });
  assert.equal(contact.statusCode, 403);
  assert.equal((await user(x)).email, 'agathe.lenoir@exemple.test');
  const block = await director.post(`/console/utilisateurs/${x}/bloquer`, {});
  assert.equal(block.statusCode, 403);
  assert.equal((await user(x)).blocked, false);

  const before = (await user(y.id)).activation_code_mac;
  const inactive = await director.get(`/console/utilisateurs/${y.id}`);
  assert.equal(inactive.statusCode, 200);
  assert.ok(!inactive.body.includes(formatCode(y.code)), 'the pending activation code is not shown');
  const activation = await director.post(`/console/utilisateurs/${y.id}/activation`, {});
  assert.equal(activation.statusCode, 403);
  assert.equal((await user(y.id)).activation_code_mac, before);

  // An ordinary colleague of A stays manageable.
  const ok = await director.post(`/console/utilisateurs/${colleague}/renouvellement`, {});
  assert.equal(ok.statusCode, 303, 'post/redirect/get to the page that shows the code once');
  assert.notEqual((await user(colleague)).renewal_code_mac, null);
});

test('publipostage: no activation code of another school’s admin is printed or issued', async () => {
  const expiredBefore = (await user(yOld)).activation_code_mac;
  const csv = await director.post(`/api/publipostage/csv?structureId=${schoolA}&profiles=Personnel,Student`, {});
  assert.equal(csv.statusCode, 200);
  assert.ok(csv.body.includes(formatCode(pupil.code)) || csv.body.includes(pupil.code), 'an ordinary pupil’s code is printed');
  assert.ok(!csv.body.includes(formatCode(y.code)) && !csv.body.includes(y.code), 'the admin’s code is not');
  assert.equal((await user(yOld)).activation_code_mac, expiredBefore, 'no fresh code issued for them');
});

test('class view: a teacher cannot hand a renewal code to, nor block, a parent who administers a school', async () => {
  const renewal = await teacher.post(`/classe/${classA}/parents`, { action: 'renewal', ids: parent });
  assert.equal(renewal.statusCode, 403);
  assert.equal((await user(parent)).renewal_code_mac, null);
  const block = await teacher.post(`/classe/${classA}/parents`, { action: 'block-confirm', ids: parent });
  assert.equal(block.statusCode, 403);
  assert.equal((await user(parent)).blocked, false);
});

test('a super admin still manages them all', async () => {
  const [root] = await q<{ id: string }>(`INSERT INTO users (profile, first_name, last_name, login, is_super_admin, password_hash, activated_at)
     VALUES ('Personnel', 'Root', 'ADMIN', 'root.admin', true, 'x', now()) RETURNING id`);
  const superAdmin = await signedIn(root.id);
  assert.equal((await superAdmin.post(`/console/utilisateurs/${x}/renouvellement`, {})).statusCode, 303);
  assert.notEqual((await user(x)).renewal_code_mac, null);
});
