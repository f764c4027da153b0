// Security audit: the duplicates comparison page (GET /console/etablissements/:id/doublons/:a/:b,
// src/web/console/duplicates.ts loadPair) listed a relative's children and their classes from EVERY school, while the
// user page (getUserDetails) and every sheet/CSV only name those the caller's scope covers. Any two accounts of the
// school can be "compared" (no duplicate pair is needed), so school A's local admin read the name and class of a
// shared parent's child who is a pupil of school B only. loadPair now filters like getUserDetails.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import type { FastifyInstance } from 'fastify';
import { testContext } from '../helpers/db.js';
import { sharedParent } from '../helpers/shared-parent.js';
import type { Client } from '../helpers/web.js';

let ctx: Awaited<ReturnType<typeof testContext>>;
let app: FastifyInstance;
let schoolA: string;
let pupilA: string;
let parent: string;
let director: Client;
const CHILD_IN_B = 'Anatole';
const CLASS_IN_B = 'CM2 Peupliers';

before(async () => {
  ctx = await testContext();
  ({ app, director, schoolA, pupilA, parent } = await sharedParent(ctx, { className: CLASS_IN_B, childName: CHILD_IN_B }));
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
