// Finding (low, cross-school leak): a teacher's class view prints the family sheet of a parent whose other child is
// in ANOTHER school. The sheet's school (select.ts detailCtes `st`) is picked among all the parent's schools, the
// caller's preferred first (preferredStructures) — but a teacher's scope ('classes') prefers none, so the first school
// by name wins: the sheet the teacher prints is headed with the other school's name (and its templates are the ones
// looked up for it: pdf.ts templates.get(row.structureId)), telling the teacher where else the family has a child.
// A local admin's sheet of the same parent prefers his own school (scope.structureIds).
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import type { FastifyInstance } from 'fastify';
import { buildServer } from '../../src/web/server.js';
import { testContext } from '../helpers/db.js';
import { pdfText } from '../helpers/pdf.js';
import { createInactiveUser, createUser, signedInClient, type Client } from '../helpers/web.js';

let ctx: Awaited<ReturnType<typeof testContext>>;
let app: FastifyInstance;
let classA: string;
let parent: string;
let teacher: Client;

const q = async <T = Record<string, unknown>>(sql: string, params: unknown[] = []) => (await ctx.database.pool.query(sql, params)).rows as T[];

before(async () => {
  ctx = await testContext();
  const pool = ctx.database.pool;
  // The teacher's school, and another one whose name sorts first.
  const [{ id: schoolA }] = await q<{ id: string }>(`INSERT INTO structures (uai, name) VALUES ('0451234K', 'Lycée Zola') RETURNING id`);
  const [{ id: schoolB }] = await q<{ id: string }>(`INSERT INTO structures (uai, name) VALUES ('0457777X', 'Collège des Acacias') RETURNING id`);
  [{ id: classA }] = await q(`INSERT INTO classes (structure_id, name) VALUES ($1, '6A') RETURNING id`, [schoolA]);
  const [{ id: classB }] = await q<{ id: string }>(`INSERT INTO classes (structure_id, name) VALUES ($1, 'CM1') RETURNING id`, [schoolB]);
  const prof = await createUser(pool, { login: 'sarah.klein', firstName: 'Sarah', lastName: 'KLEIN', profile: 'Teacher', password: 'professeure-6a-2026' });
  const pupilA = await createUser(pool, { login: 'lou.durand', firstName: 'Lou', lastName: 'DURAND', profile: 'Student' });
  const pupilB = await createUser(pool, { login: 'tom.durand', firstName: 'Tom', lastName: 'DURAND', profile: 'Student' });
  parent = (await createInactiveUser(pool, ctx.secrets, { login: 'anne.durand', firstName: 'Anne', lastName: 'DURAND', profile: 'Relative' })).id;
  await q('INSERT INTO user_structures VALUES ($1, $3), ($2, $3), ($4, $5)', [prof, pupilA, schoolA, pupilB, schoolB]);
  await q('INSERT INTO user_classes VALUES ($1, $3), ($2, $3), ($4, $5)', [prof, pupilA, classA, pupilB, classB]);
  await q('INSERT INTO relations (parent_id, child_id) VALUES ($1, $2), ($1, $3)', [parent, pupilA, pupilB]);
  app = await buildServer(ctx);
  teacher = await signedInClient(app, pool, prof);
});
after(async () => {
  await app.close();
  await ctx.close();
});

test('class view: the sheet a teacher prints for a parent shared with another school names the teacher’s school only', async () => {
  await teacher.get(`/classe/${classA}/eleves?ordre=famille`);
  const res = await teacher.post(`/classe/${classA}/eleves`, { ids: [parent], action: 'pdf', ordre: 'famille' });
  assert.equal(res.statusCode, 200, `the PDF (${res.statusCode} ${res.body.slice(0, 200)})`);
  const file = join(mkdtempSync(join(tmpdir(), 'trousseau-sec-')), 'fiche.pdf');
  writeFileSync(file, res.rawPayload);
  const text = pdfText(file);
  assert.match(text, /anne\.durand/, 'the parent’s sheet');
  assert.doesNotMatch(text, /Acacias/, 'the other school is never named on it');
  assert.doesNotMatch(text, /Tom/, 'nor the child there');
  assert.match(text, /Zola/, 'the teacher’s school is');
});
