// Issue #7, high: merging duplicates moves the dropped account's local-admin rights to the kept one. A merge
// must never grant rights beyond the caller's scope: both accounts must be ones the caller may change, and an
// account administering any school is read-only to a local admin, so only a super admin's merge moves rights.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import type { FastifyInstance } from 'fastify';
import { buildServer } from '../../src/web/server.js';
import { testContext } from '../helpers/db.js';
import { createUser, signedInClient, type Client } from '../helpers/web.js';

let ctx: Awaited<ReturnType<typeof testContext>>;
let app: FastifyInstance;
let schoolA: string;
let schoolB: string;
let director: Client;

const q = async <T = Record<string, unknown>>(sql: string, params: unknown[] = []) => (await ctx.database.pool.query(sql, params)).rows as T[];
const rights = async (id: string) => (await q('SELECT structure_id FROM local_admins WHERE user_id = $1 ORDER BY 1', [id])).map((r) => r.structure_id);

/** Two inactive Personnel accounts of school A with the same names (a duplicate pair). */
async function pair(first: string, last: string): Promise<[string, string]> {
  const ids: string[] = [];
  for (const n of [1, 2]) {
    const id = await createUser(ctx.database.pool, { login: `${first}.${last}${n}`.toLowerCase(), firstName: first, lastName: last.toUpperCase() });
    await q('INSERT INTO user_structures VALUES ($1, $2)', [id, schoolA]);
    ids.push(id);
  }
  return [ids[0], ids[1]];
}

const merge = (keep: string, drop: string) =>
  director.post(`/console/etablissements/${schoolA}/doublons/${keep}/${drop}/fusionner`, { keep });

before(async () => {
  ctx = await testContext();
  [{ id: schoolA }] = await q(`INSERT INTO structures (uai, name) VALUES ('0451234K', 'Collège Les Tilleuls') RETURNING id`);
  [{ id: schoolB }] = await q(`INSERT INTO structures (uai, name) VALUES ('0457777X', 'École des Peupliers') RETURNING id`);
  const dir = await createUser(ctx.database.pool, { login: 'paul.renard', firstName: 'Paul', lastName: 'RENARD', password: 'directeur-tilleuls-2026' });
  await q('INSERT INTO user_structures VALUES ($1, $2)', [dir, schoolA]);
  await q('INSERT INTO local_admins VALUES ($1, $2)', [dir, schoolA]);
  app = await buildServer(ctx);
  director = await signedInClient(app, ctx.database.pool, dir);
});
after(async () => {
  await app.close();
  await ctx.close();
});

test('a local admin cannot merge an account that administers another school into one of theirs', async () => {
  const [keep, drop] = await pair('Julie', 'Mercier');
  await q('INSERT INTO local_admins VALUES ($1, $2)', [drop, schoolB]);
  const res = await merge(keep, drop);
  assert.equal(res.statusCode, 403, res.body);
  assert.deepEqual(await rights(keep), [], 'no right over school B moved');
  assert.equal((await q('SELECT count(*)::int n FROM users WHERE id = $1', [drop]))[0].n, 1, 'nothing merged');

  // Nor the other way round (the kept account would be changed, and is read-only).
  const swapped = await merge(drop, keep);
  assert.equal(swapped.statusCode, 403);
  assert.deepEqual(await rights(drop), [schoolB]);
});

test('an administrator of the caller’s own school is merged by a super admin only (rights move then); a plain pair merges', async () => {
  const [keep, drop] = await pair('Karim', 'Benali');
  await q('INSERT INTO local_admins VALUES ($1, $2)', [drop, schoolA]);
  // A peer admin is read-only to a local admin (peer-admin-takeover.test.ts): a merge would hand them the account.
  for (const [k, d] of [[keep, drop], [drop, keep]]) {
    const res = await merge(k, d);
    assert.equal(res.statusCode, 403, `refused to the local admin: ${res.body.slice(0, 200)}`);
  }
  assert.deepEqual(await rights(drop), [schoolA], 'rights unchanged');
  assert.equal((await q('SELECT count(*)::int n FROM users WHERE id = ANY($1)', [[keep, drop]]))[0].n, 2, 'nothing merged');

  const root = await createUser(ctx.database.pool, { login: 'root.admin', superAdmin: true });
  const superAdmin = await signedInClient(app, ctx.database.pool, root);
  const res = await superAdmin.post(`/console/etablissements/${schoolA}/doublons/${keep}/${drop}/fusionner`, { keep });
  assert.equal(res.statusCode, 303, res.body);
  assert.deepEqual(await rights(keep), [schoolA], 'the rights moved to the kept account');
  assert.equal((await q('SELECT count(*)::int n FROM users WHERE id = $1', [drop]))[0].n, 0, 'the dropped account is gone');

  const [a, b] = await pair('Léa', 'Morel');
  assert.equal((await merge(a, b)).statusCode, 303, 'a plain pair merges');
  assert.equal((await q('SELECT count(*)::int n FROM users WHERE id = $1', [b]))[0].n, 0, 'merged');
});
