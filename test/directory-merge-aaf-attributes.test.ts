// Merging two accounts (« Gérer les doublons ») moves the dropped account's classes and groups with the AAF attributes
// that gave them (user_classes/user_groups.aaf_attributes, migration 0039): copied bare, the kept account's next AAF
// delta replacing ENTAuxEnsClassesPrincipal alone kept a former head-teacher class again.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { mergeUsers } from '../src/directory/duplicates.js';
import { testContext } from './helpers/db.js';
import { insertClass, insertGroup, insertStructure, insertUser } from './helpers/directory-sample.js';

let ctx: Awaited<ReturnType<typeof testContext>>;
before(async () => {
  ctx = await testContext();
});
after(async () => {
  await ctx?.close();
});

test('a merge keeps the AAF attributes of the dropped account’s classes and groups, and unites those both hold', async () => {
  const pool = ctx.database.pool;
  const s = await insertStructure(pool, 'Collège des Saules');
  const [c3, c4] = [await insertClass(pool, s, '3EME A'), await insertClass(pool, s, '4EME B')];
  const g = await insertGroup(pool, s, 'LATIN');
  const keep = await insertUser(pool, { firstName: 'Anne', lastName: 'MARTIN', profile: 'Teacher', structureIds: [s], classIds: [c4], activated: true });
  const drop = await insertUser(pool, { firstName: 'Anne', lastName: 'MARTIN', profile: 'Teacher', structureIds: [s], classIds: [c3, c4], groupIds: [g] });
  await pool.query("UPDATE user_classes SET aaf_attributes = '{ENTAuxEnsClassesPrincipal}' WHERE user_id = $1 AND class_id = $2", [drop, c3]);
  await pool.query("UPDATE user_classes SET aaf_attributes = '{ENTAuxEnsClassesMatieres}' WHERE user_id = $1 AND class_id = $2", [drop, c4]);
  await pool.query("UPDATE user_classes SET aaf_attributes = '{ENTAuxEnsClasses}' WHERE user_id = $1 AND class_id = $2", [keep, c4]);
  await pool.query("UPDATE user_groups SET aaf_attributes = '{ENTAuxEnsGroupesMatieres}' WHERE user_id = $1", [drop]);
  await mergeUsers(ctx, { kind: 'all' }, keep, drop, null);
  const classes = (await pool.query('SELECT class_id, aaf_attributes FROM user_classes WHERE user_id = $1', [keep])).rows;
  assert.deepEqual(new Map(classes.map((r) => [r.class_id, r.aaf_attributes])), new Map([[c3, ['ENTAuxEnsClassesPrincipal']], [c4, ['ENTAuxEnsClasses', 'ENTAuxEnsClassesMatieres']]]));
  assert.deepEqual((await pool.query('SELECT aaf_attributes FROM user_groups WHERE user_id = $1', [keep])).rows, [{ aaf_attributes: ['ENTAuxEnsGroupesMatieres'] }]);
});
