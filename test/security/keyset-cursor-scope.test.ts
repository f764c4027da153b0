// Security audit: the preview API's keyset cursors (`next` / `prev`, base64url JSON of the row's sort key) and the
// users list's pager carry the row's filing class. Sorting by class, that class was chosen among ALL the account's
// classes (select.ts detailLaterals / classesCte: `focus` only narrowed to a class filter or a teacher's classes,
// never to a local admin's schools), so a parent shared by two schools handed school A's admin the name of their other
// child's class in school B — which every other output hides on purpose (classSchools: "never shows the other school's
// classes in a list, sheet or CSV"). Rows are now filed only under classes the scope sees (groupClassSql).
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import type { FastifyInstance } from 'fastify';
import { testContext } from '../helpers/db.js';
import { sharedParent } from '../helpers/shared-parent.js';
import type { Client } from '../helpers/web.js';

let ctx: Awaited<ReturnType<typeof testContext>>;
let app: FastifyInstance;
let schoolA: string;
let director: Client;
const SECRET_CLASS = '1 ULIS Peupliers';

const q = async <T = Record<string, unknown>>(sql: string, params: unknown[] = []) => (await ctx.database.pool.query(sql, params)).rows as T[];

before(async () => {
  ctx = await testContext();
  ({ app, director, schoolA } = await sharedParent(ctx, { className: SECRET_CLASS, childName: 'Tom' }));
});
after(async () => {
  await app.close();
  await ctx.close();
});

test('control: the rows themselves never name the class of school B', async () => {
  const res = await director.get(`/api/publipostage/preview?structureId=${schoolA}&sort=class&limit=50`);
  assert.equal(res.statusCode, 200);
  assert.ok(!res.body.includes(SECRET_CLASS));
});

test('preview API, sorted by class: the page cursors never name a class of another school', async () => {
  const seen: string[] = [];
  let url = `/api/publipostage/preview?structureId=${schoolA}&sort=class&limit=1`;
  for (let i = 0; i < 5; i++) {
    const res = await director.get(url);
    assert.equal(res.statusCode, 200);
    const body = res.json() as { next: string | null; prev: string | null };
    for (const c of [body.next, body.prev]) if (c) seen.push(Buffer.from(c, 'base64url').toString('utf8'));
    if (!body.next) break;
    url = `/api/publipostage/preview?structureId=${schoolA}&sort=class&limit=1&after=${body.next}`;
  }
  assert.ok(seen.length > 0);
  for (const key of seen) assert.ok(!key.includes(SECRET_CLASS), `cursor reveals school B's class: ${key}`);
});

test('preview API, sorted by class: the keyset pages, forwards and backwards, hold the rows of one page in its order', async () => {
  const base = `/api/publipostage/preview?structureId=${schoolA}&sort=class`;
  type Page = { rows: Array<{ login: string }>; next: string | null; prev: string | null };
  const whole = ((await director.get(`${base}&limit=50`)).json() as Page).rows.map((r) => r.login);
  // Filed under 6A (the parent with Léa), then the director, who has no class.
  assert.deepEqual(whole, ['damien.faure', 'lea.faure', 'zoe.martin', 'paul.renard']);
  const forwards: string[] = [];
  let page = (await director.get(`${base}&limit=1`)).json() as Page;
  for (;;) {
    forwards.push(...page.rows.map((r) => r.login));
    if (!page.next) break;
    page = (await director.get(`${base}&limit=1&after=${page.next}`)).json() as Page;
  }
  assert.deepEqual(forwards, whole);
  const backwards: string[] = [];
  for (;;) {
    backwards.unshift(...page.rows.map((r) => r.login));
    if (!page.prev) break;
    page = (await director.get(`${base}&limit=1&before=${page.prev}`)).json() as Page;
  }
  assert.deepEqual(backwards, whole);
});

test('users list, sorted by class: the pager\'s cursors never name a class of another school', async () => {
  // 49 pupils in a class of school A sorting before both: the parent is the 50th row, the last of the first page.
  const [{ id: classA0 }] = await q(`INSERT INTO classes (structure_id, name) VALUES ($1, '0A') RETURNING id`, [schoolA]);
  await q(
    `WITH u AS (INSERT INTO users (login, first_name, last_name, profile)
       SELECT 'eleve.' || i, 'Élève', 'AAA' || lpad(i::text, 2, '0'), 'Student' FROM generate_series(1, 49) i RETURNING id)
     , s AS (INSERT INTO user_structures SELECT id, $1 FROM u)
     INSERT INTO user_classes SELECT id, $2 FROM u`,
    [schoolA, classA0],
  );
  const page = await director.get(`/console/etablissements/${schoolA}/utilisateurs?sort=class`);
  assert.equal(page.statusCode, 200);
  const cursors = [...page.body.matchAll(/(?:after|before)=([A-Za-z0-9_-]+)/g)].map((m) => Buffer.from(m[1], 'base64url').toString('utf8'));
  assert.ok(cursors.length > 0, 'the first page links to the next one by cursor');
  for (const key of cursors) assert.ok(!key.includes(SECRET_CLASS), `cursor reveals school B's class: ${key}`);
  assert.ok(cursors.some((key) => key.includes('damien.faure') && key.includes('6A')), `the parent's cursor files him under 6A: ${cursors.join(' | ')}`);
});
