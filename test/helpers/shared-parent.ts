// A parent shared by two schools, the fixture of the scope tests (test/security): school A (« Collège Les Tilleuls »,
// class 6A: Léa FAURE and Zoé MARTIN) and school B (« École des Peupliers », one class), Damien FAURE the relative of
// Léa and of a child in B, and A's head Paul RENARD (a local admin of A only), signed in on a built server.
import type { FastifyInstance } from 'fastify';
import type { AppContext } from '../../src/context.js';
import { buildServer } from '../../src/web/server.js';
import { createUser, signedInClient, type Client } from './web.js';

export interface SharedParent {
  app: FastifyInstance;
  /** Paul RENARD, local admin of school A. */
  director: Client;
  schoolA: string;
  classA: string;
  pupilA: string;
  parent: string;
}

/** The fixture, with B's class and child named as the test needs (the strings it must never find in A's pages). */
export async function sharedParent(ctx: AppContext, inB: { className: string; childName: string }): Promise<SharedParent> {
  const pool = ctx.database.pool;
  const q = async (sql: string, params: unknown[] = []) => (await pool.query<{ id: string }>(sql, params)).rows;
  const [{ id: schoolA }] = await q(`INSERT INTO structures (uai, name) VALUES ('0451234K', 'Collège Les Tilleuls') RETURNING id`);
  const [{ id: schoolB }] = await q(`INSERT INTO structures (uai, name) VALUES ('0457777X', 'École des Peupliers') RETURNING id`);
  const [{ id: classA }] = await q(`INSERT INTO classes (structure_id, name) VALUES ($1, '6A') RETURNING id`, [schoolA]);
  const [{ id: classB }] = await q(`INSERT INTO classes (structure_id, name) VALUES ($1, $2) RETURNING id`, [schoolB, inB.className]);
  const pupilA = await createUser(pool, { login: 'lea.faure', firstName: 'Léa', lastName: 'FAURE', profile: 'Student' });
  const other = await createUser(pool, { login: 'zoe.martin', firstName: 'Zoé', lastName: 'MARTIN', profile: 'Student' });
  const pupilB = await createUser(pool, { login: 'child.faure', firstName: inB.childName, lastName: 'FAURE', profile: 'Student' });
  const parent = await createUser(pool, { login: 'damien.faure', firstName: 'Damien', lastName: 'FAURE', profile: 'Relative' });
  await q('INSERT INTO user_structures VALUES ($1, $2), ($3, $2), ($4, $5)', [pupilA, schoolA, other, pupilB, schoolB]);
  await q('INSERT INTO user_classes VALUES ($1, $2), ($3, $2), ($4, $5)', [pupilA, classA, other, pupilB, classB]);
  await q('INSERT INTO relations (parent_id, child_id) VALUES ($1, $2), ($1, $3)', [parent, pupilA, pupilB]);
  const dir = await createUser(pool, { login: 'paul.renard', firstName: 'Paul', lastName: 'RENARD', password: 'directeur-tilleuls-2026' });
  await q('INSERT INTO user_structures VALUES ($1, $2)', [dir, schoolA]);
  await q('INSERT INTO local_admins VALUES ($1, $2)', [dir, schoolA]);
  const app = await buildServer(ctx);
  return { app, director: await signedInClient(app, pool, dir), schoolA, classA, pupilA, parent };
}
