// GET /api/publipostage/preview, POST /api/publipostage/{pdf,csv}: roles, scope, query parsing, downloads and audit.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import type { FastifyInstance } from 'fastify';
import { parse } from 'csv-parse/sync';
import { createSession, SESSION_COOKIE } from '../src/web/auth.js';
import { buildServer } from '../src/web/server.js';
import { testContext } from './helpers/db.js';
import { insertSample, type Sample } from './helpers/sample.js';
import { sideEffects } from './helpers/side-effects.js';

let ctx: Awaited<ReturnType<typeof testContext>>;
let s: Sample;
let app: FastifyInstance;
const cookies: Record<string, string> = {};
const csrf: Record<string, string> = {};

before(async () => {
  ctx = await testContext();
  s = await insertSample(ctx);
  const root = await ctx.database.pool.query(
    `INSERT INTO users (profile, first_name, last_name, login, is_super_admin, password_hash, activated_at)
     VALUES ('Personnel', 'Root', 'ADMIN', 'root.admin', true, 'x', now()) RETURNING id`,
  );
  for (const [who, id] of [['root', root.rows[0].id], ['marc', s.users.marc], ['anne', s.users.anne], ['zoe', s.users.zoe]] as const) {
    const session = await createSession(ctx.database.pool, id);
    cookies[who] = `${SESSION_COOKIE}=${session.token}`;
    csrf[who] = session.csrf;
  }
  app = await buildServer(ctx);
});
after(async () => {
  await app.close();
  await ctx.close();
});

const get = (who: string | null, url: string) => app.inject({ method: 'GET', url, headers: who ? { cookie: cookies[who] } : {} });
/** The downloads (they issue codes): POST with the session's CSRF header, the selection in the query. */
const post = (who: string, url: string) => app.inject({ method: 'POST', url, headers: { cookie: cookies[who], 'x-csrf-token': csrf[who] } });

test('preview: counts and one page of rows, within the caller’s scope', async () => {
  const res = await get('root', `/api/publipostage/preview?profiles=Student,Relative&structureId=${s.structures.S1}&limit=3&offset=0`);
  assert.equal(res.statusCode, 200);
  const body = res.json();
  // Nina (pre-deleted) is left out by default, and counted as such.
  assert.equal(body.total, 9);
  assert.equal(body.withoutEmail, 6);
  assert.deepEqual(body.leftOut, { blocked: 0, absent: 1, external: [] });
  assert.deepEqual(body.leftOutLines, ['1 compte absent du flux (période de grâce ou pré-supprimé) laissé de côté']);
  assert.equal(body.rows.length, 3);
  assert.deepEqual(body.rows.map((r: { lastName: string }) => r.lastName), ['DURAND', 'DURAND', 'Eckert']);
  const claire = body.rows[0];
  assert.equal(claire.code, 'Activé');
  assert.equal(claire.profileLabel, 'Parent');
  assert.equal(claire.children, 'Émile DURAND (6A)');
  // Keyset paging: `next` continues right after the last row, like offset=3 but through the sort key.
  const base = `/api/publipostage/preview?profiles=Student,Relative&structureId=${s.structures.S1}&limit=3`;
  const byOffset = (await get('root', `${base}&offset=3`)).json();
  const byCursor = (await get('root', `${base}&after=${body.next}`)).json();
  assert.ok(byCursor.rows.length > 0);
  assert.deepEqual(byCursor.rows.map((r: { login: string }) => r.login), byOffset.rows.map((r: { login: string }) => r.login));
  assert.deepEqual((await get('root', `${base}&before=${byCursor.prev}`)).json().rows, body.rows);
  // 9 accounts in pages of 3: the first page has no `prev`, the last (full) one no `next` — no page leads nowhere.
  assert.equal(body.prev, null);
  assert.ok(byCursor.prev && byCursor.next);
  const third = (await get('root', `${base}&after=${byCursor.next}`)).json();
  assert.equal(third.rows.length, 3);
  assert.equal(third.next, null);
  assert.deepEqual(third.rows.map((r: { login: string }) => r.login), (await get('root', `${base}&offset=6`)).json().rows.map((r: { login: string }) => r.login));
  const back = (await get('root', `${base}&before=${byCursor.prev}`)).json();
  assert.equal(back.prev, null);
  assert.equal(back.next, body.next);
  // A cursor that is not one: refused, naming the parameter (not silently the first page).
  const forged = await get('root', `${base}&after=bm90LWEtY3Vyc29y`);
  assert.equal(forged.statusCode, 400);
  assert.match(forged.json().error, /« after »/);
  // Both directions at once: refused, not one of them silently dropped.
  const both = await get('root', `${base}&after=${body.next}&before=${byCursor.prev}`);
  assert.equal(both.statusCode, 400);
  assert.match(both.json().error, /« after » et « before »/);

  // Teacher of 6A: Zoé, Émile and their parents only.
  const teacher = (await get('anne', '/api/publipostage/preview')).json();
  assert.equal(teacher.total, 4);
  // Local admin of S1: S2's accounts stay out.
  const local = (await get('marc', `/api/publipostage/preview?structureId=${s.structures.S2}`)).json();
  assert.equal(local.total, 0);
  assert.equal((await get('marc', '/api/publipostage/preview?limit=500')).json().total, 12);
  assert.equal((await get('marc', '/api/publipostage/preview?limit=500&preDeletion=all')).json().total, 13);
});

test('roles and bad parameters', async () => {
  assert.equal((await get(null, '/api/publipostage/preview')).statusCode, 401);
  assert.equal((await get('zoe', '/api/publipostage/preview')).statusCode, 403);
  const bad = await get('root', '/api/publipostage/preview?activation=maybe');
  assert.equal(bad.statusCode, 400);
  assert.match(bad.json().error, /activation/);
  assert.equal((await get('root', '/api/publipostage/preview?limit=0')).statusCode, 400);
  assert.equal((await post('root', '/api/publipostage/pdf?model=3')).statusCode, 400);
});

test('PDF and CSV downloads are attachments and are audited with the actor', async () => {
  const pdf = await post('anne', `/api/publipostage/pdf?model=8&classIds=${s.classes['6A']}&activation=inactive`);
  assert.equal(pdf.statusCode, 200);
  assert.equal(pdf.headers['content-type'], 'application/pdf');
  assert.match(String(pdf.headers['content-disposition']), /^attachment; filename="fiches-6A-non-actives-\d{4}-\d{2}-\d{2}\.pdf"; filename\*=UTF-8''fiches-6A-non-actives-\d{4}-\d{2}-\d{2}\.pdf$/);
  assert.equal(pdf.rawPayload.subarray(0, 5).toString(), '%PDF-');
  assert.equal(pdf.headers['x-account-count'], '2');

  const csv = await post('marc', '/api/publipostage/csv?profiles=Relative');
  assert.equal(csv.statusCode, 200);
  assert.match(String(csv.headers['content-type']), /^text\/csv/);
  assert.match(String(csv.headers['content-disposition']), /^attachment; filename="comptes-parents-\d{4}-\d{2}-\d{2}\.csv";/);
  const rows = parse(csv.rawPayload, { delimiter: ';', bom: true, columns: true }) as Array<Record<string, string>>;
  assert.deepEqual(rows.map((r) => r.Login).sort(), [s.logins.claire, s.logins.paul].sort());

  const audit = await ctx.database.pool.query("SELECT action, actor_id, details FROM audit WHERE action LIKE 'publipostage.%' ORDER BY id");
  assert.deepEqual(audit.rows.map((r) => [r.action, r.actor_id, r.details.count]), [
    ['publipostage.pdf', s.users.anne, 2],
    ['publipostage.csv', s.users.marc, 2],
  ]);
  assert.equal(audit.rows[0].details.model, 8);
  assert.equal(audit.rows[0].details.via, 'http');
});

test('a selection of no account: 422 with a message, no file, no audit row, no code issued', async () => {
  const before = (await ctx.database.pool.query("SELECT count(*)::int AS n FROM audit WHERE action LIKE 'publipostage.%'")).rows[0].n;
  // Local admin of S1 asking for S2's accounts: nothing in scope.
  for (const kind of ['pdf', 'csv']) {
    const res = await post('marc', `/api/publipostage/${kind}?structureId=${s.structures.S2}`);
    assert.equal(res.statusCode, 422, kind);
    assert.match(String(res.headers['content-type']), /^application\/json/);
    assert.match(res.json().error, /Aucun compte ne correspond à cette sélection/);
    assert.equal(res.headers['content-disposition'], undefined);
  }
  const en = await post('marc', `/api/publipostage/pdf?structureId=${s.structures.S2}&lang=en`);
  assert.match(en.json().error, /^No account matches this selection/);
  const after = (await ctx.database.pool.query("SELECT count(*)::int AS n FROM audit WHERE action LIKE 'publipostage.%'")).rows[0].n;
  assert.equal(after, before);
});

test('explicitly named accounts outside the caller’s scope: 404, never an empty file', async () => {
  // Anne teaches 6A: Léo (5A) and Jules (other school) are not hers, Zoé is.
  for (const who of ['leo', 'jules']) {
    for (const kind of ['preview', 'pdf', 'csv']) {
      const url = `/api/publipostage/${kind}?userIds=${s.users.zoe},${s.users[who]}`;
      const res = kind === 'preview' ? await get('anne', url) : await post('anne', url);
      assert.equal(res.statusCode, 404, `${kind} with ${who}`);
    }
  }
  // Marc (local admin of S1) cannot name Jules either; the super admin can.
  assert.equal((await post('marc', `/api/publipostage/csv?userIds=${s.users.jules}`)).statusCode, 404);
  assert.equal((await post('root', `/api/publipostage/csv?userIds=${s.users.jules}`)).statusCode, 200);
  const mine = await get('anne', `/api/publipostage/preview?userIds=${s.users.zoe}`);
  assert.equal(mine.statusCode, 200);
  assert.equal(mine.json().total, 1);
});

test('sheets speak French to the families whatever the language of the administrator’s console', async () => {
  const pdf = await post('anne', `/api/publipostage/pdf?model=8&classIds=${s.classes['6A']}&activation=inactive&lang=en`);
  assert.equal(pdf.statusCode, 200);
  const raw = pdf.rawPayload.toString('latin1');
  assert.match(raw, /\/Lang \(fr-FR\)/);
  assert.doesNotMatch(raw, /\/Lang \(en/);
});

test('a GET or a POST without the CSRF token (a cross-site link or form) issues no code and writes nothing', async () => {
  const before = await sideEffects(ctx.database.pool);
  const url = `/api/publipostage/pdf?model=8&classIds=${s.classes['6A']}&activation=inactive`;
  const viaGet = await get('anne', url);
  assert.equal(viaGet.statusCode, 405);
  assert.equal(viaGet.headers.allow, 'POST');
  assert.match(viaGet.json().error, /POST/);
  assert.equal((await get('marc', '/api/publipostage/csv?profiles=Relative')).statusCode, 405);
  const forged = await app.inject({ method: 'POST', url, headers: { cookie: cookies.anne, 'content-type': 'application/x-www-form-urlencoded' }, payload: '' });
  assert.equal(forged.statusCode, 403);
  assert.equal(await sideEffects(ctx.database.pool), before);
  // A filter name the API does not know (the command line's `--classes` as `classes=`) is refused, not ignored: ignored,
  // it handed out every account's codes.
  for (const bad of ['/api/publipostage/csv?classes=6A', '/api/publipostage/pdf?model=1&classes=6A', '/api/publipostage/csv?bogus=1']) {
    const r = await post('root', bad);
    assert.equal(r.statusCode, 400, `${bad}: ${r.body.slice(0, 200)}`);
  }
  // Named, in the caller's language (it said « Paramètre «  » invalide : Unrecognized key: "classes" »).
  assert.equal((await post('root', '/api/publipostage/csv?classes=6A')).json().error, 'Paramètre « classes » invalide : paramètre inconnu de cette adresse ; rien n’a été fait.');
  assert.equal((await post('root', '/api/publipostage/pdf?classes=6A&lang=en')).json().error, 'Invalid parameter “classes”: not a parameter of this address; nothing was done.');
  // The preview too: ignored, `classes=6A` previewed every account of the scope, codes included.
  const preview = await get('root', '/api/publipostage/preview?classes=6A');
  assert.equal(preview.statusCode, 400, preview.body.slice(0, 200));
  assert.equal(preview.json().error, 'Paramètre « classes » invalide : paramètre inconnu de cette adresse ; rien n’a été fait.');
  assert.equal(await sideEffects(ctx.database.pool), before);
});

test('a parameter of the wrong type or value is refused in the caller’s language, not in the validator’s English', async () => {
  const cases: Array<[string, string, string]> = [
    ['limit=abc', 'Paramètre « limit » invalide : nombre attendu.', 'Invalid parameter “limit”: a number expected.'],
    ['limit=100000', 'Paramètre « limit » invalide : 500 au plus.', 'Invalid parameter “limit”: at most 500.'],
    ['structureId=zz', 'Paramètre « structureId » invalide : identifiant attendu (UUID, par exemple 0b6c5c1e-1f2a-4c3d-9e8f-123456789abc).', 'Invalid parameter “structureId”: an identifier expected (UUID, e.g. 0b6c5c1e-1f2a-4c3d-9e8f-123456789abc).'],
    ['activation=maybe', 'Paramètre « activation » invalide : valeurs possibles : all, active, inactive.', 'Invalid parameter “activation”: possible values: all, active, inactive.'],
    ['createdAfter=2020-02-30', 'Paramètre « createdAfter » invalide : date impossible.', 'Invalid parameter “createdAfter”: impossible date.'],
    ['createdBefore=hier', 'Paramètre « createdBefore » invalide : date attendue au format AAAA-MM-JJ ou AAAA-MM-JJTHH:MM:SS.mmm.', 'Invalid parameter “createdBefore”: a date expected as YYYY-MM-DD or YYYY-MM-DDTHH:MM:SS.mmm.'],
  ];
  for (const [query, fr, en] of cases) {
    const r = await get('root', `/api/publipostage/preview?${query}`);
    assert.equal(r.statusCode, 400, `${query}: ${r.body.slice(0, 200)}`);
    assert.equal(r.json().error, fr, query);
    assert.equal((await get('root', `/api/publipostage/preview?${query}&lang=en`)).json().error, en, `${query}, in English`);
  }
});

test('a number with a fraction where a whole number is expected is said so, not « a value of another type »', async () => {
  // zod says `expected int` for 2.5: a number all the same, which « valeur d’un autre type attendue » denied.
  const cases: Array<[string, string, string]> = [
    ['limit=2.5', 'Paramètre « limit » invalide : nombre entier attendu.', 'Invalid parameter “limit”: a whole number expected.'],
    ['distributedBefore=1.5', 'Paramètre « distributedBefore » invalide : nombre entier attendu.', 'Invalid parameter “distributedBefore”: a whole number expected.'],
  ];
  for (const [query, fr, en] of cases) {
    const r = await get('root', `/api/publipostage/preview?${query}`);
    assert.equal(r.statusCode, 400, `${query}: ${r.body.slice(0, 200)}`);
    assert.equal(r.json().error, fr, query);
    assert.equal((await get('root', `/api/publipostage/preview?${query}&lang=en`)).json().error, en, `${query}, in English`);
  }
});
