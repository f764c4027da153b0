// Security audit: the duplicates comparison page (GET /console/etablissements/:id/doublons/:a/:b,
// src/web/console/duplicates.ts loadPair) listed a relative's children and their classes from EVERY school, while the
// user page (getUserDetails) and every sheet/CSV only name those the caller's scope covers. Any two accounts of the
// school can be "compared" (no duplicate pair is needed), so school A's local admin read the name and class of a
// shared parent's child who is a pupil of school B only. loadPair now filters like getUserDetails.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import type { FastifyInstance } from 'fastify';
import { buildServer } from '../../src/web/server.js';
import { testContext } from '../helpers/db.js';
import { createUser, signedInClient, type Client } from '../helpers/web.js';

let ctx: Awaited<ReturnType<typeof testContext>>;
let app: FastifyInstance;
let schoolA: string;
let pupilA: string;
let parent: string;
let director: Client;
const CHILD_IN_B = 'Anatole';
const CLASS_IN_B = 'CM2 Peupliers';

const q = async <T = Record<string, unknown>>(sql: string, params: unknown[] = []) => (await ctx.database.pool.query(sql, params)).rows as T[];

before(async () => {
  ctx = await testContext();
  const pool = ctx.database.pool;
  [{ id: schoolA }] = await q(`INSERT INTO structures (uai, name) VALUES ('0451234K', 'Collège Les Tilleuls') RETURNING id`);
  const [{ id: schoolB }] = await q(`INSERT INTO structures (uai, name) VALUES ('0457777X', 'École des Peupliers') RETURNING id`);
  const [{ id: classA }] = await q(`INSERT INTO classes (structure_id, name) VALUES ($1, '6A') RETURNING id`, [schoolA]);
  const [{ id: classB }] = await q(`INSERT INTO classes (structure_id, name) VALUES ($1, $2) RETURNING id`, [schoolB, CLASS_IN_B]);
  pupilA = await createUser(pool, { login: 'lea.faure', firstName: 'Léa', lastName: 'FAURE', profile: 'Student' });
  const pupilB = await createUser(pool, { login: 'anatole.faure', firstName: CHILD_IN_B, lastName: 'FAURE', profile: 'Student' });
  parent = await createUser(pool, { login: 'damien.faure', firstName: 'Damien', lastName: 'FAURE', profile: 'Relative' });
  await q('INSERT INTO user_structures VALUES ($1, $2), ($3, $4)', [pupilA, schoolA, pupilB, schoolB]);
  await q('INSERT INTO user_classes VALUES ($1, $2), ($3, $4)', [pupilA, classA, pupilB, classB]);
  await q('INSERT INTO relations (parent_id, child_id) VALUES ($1, $2), ($1, $3)', [parent, pupilA, pupilB]);
  const dir = await createUser(pool, { login: 'paul.renard', firstName: 'Paul', lastName: 'RENARD', password: 'directeur-tilleuls-2026' });
  await q('INSERT INTO user_structures VALUES ($1, $2)', [dir, schoolA]);
  await q('INSERT INTO local_admins VALUES ($1, $2)', [dir, schoolA]);
  app = await buildServer(ctx);
  director = await signedInClient(app, pool, dir);
});
after(async () => {
  await app.close();
  await ctx.close();
});

test('control: the parent’s user page names only the child of school A', async () => {
  const page = await director.get(`/console/utilisateurs/${parent}`);
  assert.equal(page.statusCode, 200);
  assert.ok(page.body.includes('Léa'));
  assert.ok(!page.body.includes(CHILD_IN_B) && !page.body.includes(CLASS_IN_B));
});

test('the duplicates comparison never names a child or class of another school', async () => {
  const page = await director.get(`/console/etablissements/${schoolA}/doublons/${parent}/${pupilA}`);
  assert.equal(page.statusCode, 200);
  assert.ok(!page.body.includes(CHILD_IN_B), 'the child of school B is named');
  assert.ok(!page.body.includes(CLASS_IN_B), 'the class of school B is named');
  assert.ok(page.body.includes('Léa FAURE (6A)'), 'the child of school A is still named, with her class');
});
