// Security audit: a school that takes the "sheets" right away from its teachers (Paramètres des comptes →
// teacher_rights) must not let them print or export connection sheets (which ISSUE fresh activation codes) by
// another door. The class view refused (403), but /api/publipostage/pdf and /csv (guard: teacher) never looked at
// the rights; both now ask the same check (directory/policies.ts teacherMay). Nor does such a teacher see the codes
// the school hands out itself, in the class view or the preview API (they used to be listed there).
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import type { FastifyInstance } from 'fastify';
import { formatCode } from '../../src/accounts/codes.js';
import { buildServer } from '../../src/web/server.js';
import { testContext } from '../helpers/db.js';
import { createInactiveUser, createUser, signedInClient, type Client } from '../helpers/web.js';

let ctx: Awaited<ReturnType<typeof testContext>>;
let app: FastifyInstance;
let school: string;
let cls: string;
let otherCls: string;
let pupil: string;
let teacher: Client;
/** A pupil of each school with a valid code: `withheld` in the school without the right, `shown` in the other. */
let withheld: { id: string; code: string };
let shown: { id: string; code: string };

const q = async <T = Record<string, unknown>>(sql: string, params: unknown[] = []) => (await ctx.database.pool.query(sql, params)).rows as T[];

before(async () => {
  ctx = await testContext();
  const pool = ctx.database.pool;
  [{ id: school }] = await q(`INSERT INTO structures (uai, name) VALUES ('0451234K', 'Collège Les Tilleuls') RETURNING id`);
  [{ id: cls }] = await q(`INSERT INTO classes (structure_id, name) VALUES ($1, '4A') RETURNING id`, [school]);
  // The school allows its teachers nothing (no sheets, no mail, no renewal, no block).
  await q(`INSERT INTO structure_settings (structure_id, teacher_rights) VALUES ($1, '{}')`, [school]);
  // A pupil whose code expired: a sheet would issue a fresh one.
  pupil = (await createInactiveUser(pool, ctx.secrets, { login: 'gaspard.huet', firstName: 'Gaspard', lastName: 'HUET', profile: 'Student' })).id;
  await q(`UPDATE users SET activation_code_expires_at = now() - interval '1 day' WHERE id = $1`, [pupil]);
  const prof = await createUser(pool, { login: 'sarah.klein', firstName: 'Sarah', lastName: 'KLEIN', profile: 'Teacher', password: 'professeure-4a-2026' });
  for (const id of [pupil, prof]) await q('INSERT INTO user_structures VALUES ($1, $2)', [id, school]);
  for (const id of [pupil, prof]) await q('INSERT INTO user_classes VALUES ($1, $2)', [id, cls]);
  // The teacher also teaches in a school that keeps the default rights (sheets included).
  const [{ id: other }] = await q(`INSERT INTO structures (uai, name) VALUES ('0459999Z', 'Lycée Voltaire') RETURNING id`);
  [{ id: otherCls }] = await q(`INSERT INTO classes (structure_id, name) VALUES ($1, '2C') RETURNING id`, [other]);
  shown = await createInactiveUser(pool, ctx.secrets, { login: 'ines.roy', firstName: 'Inès', lastName: 'ROY', profile: 'Student' });
  await q('INSERT INTO user_structures VALUES ($1, $3), ($2, $3)', [shown.id, prof, other]);
  await q('INSERT INTO user_classes VALUES ($1, $3), ($2, $3)', [shown.id, prof, otherCls]);
  withheld = await createInactiveUser(pool, ctx.secrets, { login: 'lou.marchand', firstName: 'Lou', lastName: 'MARCHAND', profile: 'Student' });
  await q('INSERT INTO user_structures VALUES ($1, $2)', [withheld.id, school]);
  await q('INSERT INTO user_classes VALUES ($1, $2)', [withheld.id, cls]);
  app = await buildServer(ctx);
  teacher = await signedInClient(app, pool, prof);
});
after(async () => {
  await app.close();
  await ctx.close();
});

const codeMac = async () => (await q<{ m: string }>('SELECT activation_code_mac m FROM users WHERE id = $1', [pupil]))[0].m;

test('class view: the teacher without the "sheets" right gets no PDF (control)', async () => {
  const before = await codeMac();
  const res = await teacher.post(`/classe/${cls}/eleves`, { action: 'pdf', ids: pupil });
  assert.equal(res.statusCode, 403);
  assert.equal(await codeMac(), before);
});

for (const format of ['pdf', 'csv'] as const) {
  test(`API: the teacher without the "sheets" right cannot get the ${format} either (no code issued, no sheet)`, async () => {
    const before = await codeMac();
    const res = await teacher.post(`/api/publipostage/${format}?classIds=${cls}&profiles=Student`, {}, { headers: { 'x-csrf-token': teacher.csrf ?? '' } });
    assert.equal(await codeMac(), before, `a fresh activation code was issued (answer ${res.statusCode}, ${res.headers['content-type']})`);
    assert.equal(res.statusCode, 403, `got ${res.statusCode} (${res.headers['content-type']})`);
    assert.match(res.body, /enseignants/, 'the refusal says why (the class view\'s message)');
    const handouts = await q<{ n: number }>('SELECT count(*)::int n FROM distribution_events WHERE user_id = $1', [pupil]);
    assert.equal(handouts[0].n, 0, 'no hand-out recorded');
  });
}

test('API: once the school gives the "sheets" right back, the teacher gets the PDF of their class (control)', async () => {
  await q(`UPDATE structure_settings SET teacher_rights = '{sheets}' WHERE structure_id = $1`, [school]);
  try {
    const res = await teacher.post(`/api/publipostage/pdf?classIds=${cls}&profiles=Student`, {}, { headers: { 'x-csrf-token': teacher.csrf ?? '' } });
    assert.equal(res.statusCode, 200);
    assert.match(String(res.headers['content-type']), /pdf/);
  } finally {
    await q(`UPDATE structure_settings SET teacher_rights = '{}' WHERE structure_id = $1`, [school]);
  }
});

test('API: a teacher of two schools gets the class of the school that allows sheets, nothing reaching the other one', async () => {
  const post = (query: string) => teacher.post(`/api/publipostage/csv?${query}`, {}, { headers: { 'x-csrf-token': teacher.csrf ?? '' } });
  assert.equal((await post(`classIds=${otherCls}`)).statusCode, 200);
  const before = await codeMac();
  assert.equal((await post('profiles=Student')).statusCode, 403, 'no class named: every class of the teacher counts');
  assert.equal((await post(`classIds=${otherCls},${cls}`)).statusCode, 403);
  assert.equal(await codeMac(), before);
});

const previewCodes = async (classId: string) => {
  const res = await teacher.get(`/api/publipostage/preview?classIds=${classId}&profiles=Student`);
  assert.equal(res.statusCode, 200);
  return new Map((JSON.parse(res.body).rows as { login: string; code: string }[]).map((r) => [r.login, r.code]));
};

test('class view and preview: the teacher without the "sheets" right sees no activation code; the other school\'s class shows its own', async () => {
  const page = (await teacher.get(`/classe/${cls}/eleves`)).body;
  assert.match(page, /Lou/);
  assert.ok(!page.includes(formatCode(withheld.code)), 'the code the school hands out itself is on the teacher\'s page');
  assert.match(page, /Code remis par l’établissement/);
  assert.equal((await previewCodes(cls)).get('lou.marchand'), 'Code remis par l’établissement');
  // A preview of every class of the teacher reaches the school without the right: no code at all.
  const res = await teacher.get('/api/publipostage/preview?profiles=Student');
  assert.ok(!res.body.includes(formatCode(withheld.code)) && !res.body.includes(formatCode(shown.code)), res.body);
  // Control: the school that keeps the default rights.
  assert.ok((await teacher.get(`/classe/${otherCls}/eleves`)).body.includes(formatCode(shown.code)));
  assert.equal((await previewCodes(otherCls)).get('ines.roy'), formatCode(shown.code));
});

test('class view: once the school gives the "sheets" right back, its codes are listed again (control)', async () => {
  await q(`UPDATE structure_settings SET teacher_rights = '{sheets}' WHERE structure_id = $1`, [school]);
  try {
    assert.ok((await teacher.get(`/classe/${cls}/eleves`)).body.includes(formatCode(withheld.code)));
    assert.equal((await previewCodes(cls)).get('lou.marchand'), formatCode(withheld.code));
  } finally {
    await q(`UPDATE structure_settings SET teacher_rights = '{}' WHERE structure_id = $1`, [school]);
  }
});
