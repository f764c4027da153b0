// POST /api/import: the CLI's import over HTTP (multipart), dry run first, roles and scope, broken files.
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import type { FastifyInstance } from 'fastify';
import yazl from 'yazl';
import { createSession, SESSION_COOKIE } from '../src/web/auth.js';
import { buildServer } from '../src/web/server.js';
import { testContext } from './helpers/db.js';
import { multipart } from './helpers/web.js';

let ctx: Awaited<ReturnType<typeof testContext>>;
let app: FastifyInstance;
const who: Record<string, { cookie: string; csrf: string }> = {};
let school: string;
let other: string;

const q = async <T = Record<string, unknown>>(sql: string, params: unknown[] = []) => (await ctx.database.pool.query(sql, params)).rows as T[];
const count = async (sql: string, params: unknown[] = []) => Number((await q<{ n: string }>(sql, params))[0].n);

before(async () => {
  ctx = await testContext();
  [{ id: school }] = await q<{ id: string }>(`INSERT INTO structures (uai, name) VALUES ('0123456A', 'École Jules Ferry') RETURNING id`);
  [{ id: other }] = await q<{ id: string }>(`INSERT INTO structures (uai, name) VALUES ('0999999Z', 'École Voisine') RETURNING id`);
  const [root] = await q<{ id: string }>(`INSERT INTO users (profile, first_name, last_name, login, is_super_admin, password_hash, activated_at)
     VALUES ('Personnel', 'Root', 'ADMIN', 'root.admin', true, 'x', now()) RETURNING id`);
  const [local] = await q<{ id: string }>(`INSERT INTO users (profile, first_name, last_name, login, password_hash, activated_at)
     VALUES ('Personnel', 'Diane', 'DIRECTRICE', 'diane.directrice', 'x', now()) RETURNING id`);
  await q('INSERT INTO local_admins (user_id, structure_id) VALUES ($1, $2)', [local.id, school]);
  for (const [name, id] of [['root', root.id], ['local', local.id]] as const) {
    const s = await createSession(ctx.database.pool, id);
    who[name] = { cookie: `${SESSION_COOKIE}=${s.token}`, csrf: s.csrf };
  }
  app = await buildServer(ctx);
});
after(async () => {
  await app.close();
  await ctx.close();
});

function post(as: string, query: string, files: Array<{ name: string; data: Buffer }>, opts: { csrf?: boolean } = {}) {
  const { body, type } = multipart(files);
  const headers: Record<string, string> = { 'content-type': type, cookie: who[as].cookie };
  if (opts.csrf !== false) headers['x-csrf-token'] = who[as].csrf;
  return app.inject({ method: 'POST', url: `/api/import${query}`, headers, payload: body });
}

const FIX = new URL('./fixtures/import/', import.meta.url).pathname;
const templates = () => readdirSync(FIX).filter((n) => n.endsWith('.csv')).sort().map((name) => ({ name, data: readFileSync(join(FIX, name)) }));
const users = () => count(`SELECT count(*) n FROM users WHERE external_id IS NOT NULL`);

test('CSV templates: dry run reports and writes nothing, then the import applies; a second pass changes nothing', async () => {
  const dry = await post('local', `?dryRun=true&structureId=${school}`, templates());
  assert.equal(dry.statusCode, 200, dry.body);
  const report = dry.json();
  assert.equal(report.dryRun, true);
  assert.ok(report.created > 0);
  assert.equal(await users(), 0, 'a dry run writes nothing');

  const done = await post('local', `?structureId=${school}`, templates());
  assert.equal(done.statusCode, 200, done.body);
  assert.equal(done.json().created, report.created);
  assert.equal(await users(), report.created);
  assert.equal(await count(`SELECT count(*) n FROM user_structures WHERE structure_id = $1`, [school]), report.created);
  assert.equal(await count(`SELECT count(*) n FROM audit WHERE action LIKE 'import%'`) > 0, true, 'audited');

  const again = (await post('local', `?structureId=${school}`, templates())).json();
  assert.deepEqual([again.created, again.updated], [0, 0]);
});

test('roles and scope: CSRF header, a local admin’s own school only, AAF for super admins only', async () => {
  assert.equal((await post('local', `?structureId=${school}`, templates(), { csrf: false })).statusCode, 403);
  assert.equal((await post('local', `?structureId=${other}`, templates())).statusCode, 404);
  assert.equal((await post('local', '', templates())).statusCode, 400);
  const aaf = { name: 'ENTTEST_Complet_20260901_EtabEducNat_0000.xml', data: readFileSync(join(FIX, 'ENTTEST_Complet_20260901_EtabEducNat_0000.xml')) };
  const refused = await post('local', `?structureId=${school}`, [aaf]);
  assert.equal(refused.statusCode, 403);
  assert.match(refused.json().error, /super-administrateurs/);
  // Sent with a school, the feed would update every school it names: refused, naming the file, nothing written.
  const before = await q('SELECT count(*)::int AS n FROM structures');
  const withSchool = await post('root', `?structureId=${school}`, [aaf]);
  assert.equal(withSchool.statusCode, 400, withSchool.body);
  assert.match(withSchool.json().error, /ENTTEST_Complet_20260901_EtabEducNat_0000\.xml : l’annuaire académique \(AAF\) met à jour tous les établissements.*sans structureId/);
  assert.deepEqual(await q('SELECT count(*)::int AS n FROM structures'), before);
  const dry = await post('root', '?dryRun=1', [aaf]);
  assert.equal(dry.statusCode, 200, dry.body);
  assert.ok(dry.json().structures.length > 0);
  const anon = await app.inject({ method: 'POST', url: '/api/import', payload: {} });
  assert.equal(anon.statusCode, 403, 'no session, hence no valid token: refused before anything is read');
});

test('a broken file is refused whole, naming file, line and field; nothing changes', async () => {
  const before = await users();
  const broken = Buffer.from('Nom;Prénom;Classe\r\nDUPONT;Jean;CM1\r\n', 'utf8');
  const res = await post('root', `?structureId=${other}`, [{ name: 'CSV_Eleves.csv', data: broken }]);
  assert.equal(res.statusCode, 400, res.body);
  const body = res.json();
  assert.match(body.error, /rien n’a été modifié/);
  assert.match(body.detail, /^CSV_Eleves\.csv, ligne \d+/);
  assert.equal(await users(), before);
});

test('a structureId naming no school is refused (400, naming it), not made a school called by that id; nothing changes', async () => {
  const schools = () => count(`SELECT count(*) n FROM structures`);
  const [beforeUsers, beforeSchools] = [await users(), await schools()];
  const unknown = '00000000-0000-0000-0000-000000000000';
  for (const dry of ['true', 'false']) {
    const res = await post('root', `?dryRun=${dry}&structureId=${unknown}`, templates());
    assert.equal(res.statusCode, 400, res.body);
    assert.match(res.json().detail, new RegExp(`aucun établissement d’identifiant « ${unknown} »`));
  }
  assert.equal(await users(), beforeUsers);
  assert.equal(await schools(), beforeSchools);
});

test('a binary file whose first byte is « < » is refused as an unknown format, not as XML without a root', async () => {
  const before = await users();
  const png = Buffer.concat([Buffer.from('<'), Buffer.from([0x89, 0x01, 0x02, 0x03, 0x1a, 0x0a]), Buffer.alloc(64, 7)]);
  const r = await post('local', `?structureId=${school}`, [{ name: 'image.png', data: png }]);
  assert.equal(r.statusCode, 400, r.body);
  assert.match(r.body, /format non reconnu \(\.png\)/);
  assert.doesNotMatch(r.body, /racine/);
  assert.equal(await users(), before);
});

test('an empty file is named in the refusal (400), alone or beside another file, as the CLI refuses it; nothing is written', async () => {
  const before = await users();
  const r = await post('local', `?structureId=${school}`, [{ name: 'Eleves.csv', data: Buffer.alloc(0) }]);
  assert.equal(r.statusCode, 400, r.body);
  assert.match(r.json().error, /Fichier vide.*Eleves\.csv/);
  assert.equal(await users(), before);
  // Beside a file that is not empty: refused too (it was skipped without a word), naming only the empty one.
  const [first] = templates();
  const both = await post('local', `?structureId=${school}`, [{ name: 'Vide.csv', data: Buffer.alloc(0) }, first]);
  assert.equal(both.statusCode, 400, both.body);
  assert.equal(both.json().error, 'Fichier vide, rien n’a été importé : Vide.csv.');
  assert.equal(await users(), before);
});

test('control characters in the names inside an archive are shown as « � »: a NUL no longer fails the run with a 500 (its audit row), an escape never reaches the terminal', async () => {
  const z = new yazl.ZipFile();
  const row = 'Nom;Prénom;Date de naissance;Classe\r\nCONTROLE;Nul;12/05/2016;CM1\r\n';
  for (const [name, data] of [['.DS_Store\u0000', 'junk'], ['livraison\u001b[2J.done', ''], ['CSV_Eleves\u0000.csv', row]]) z.addBuffer(Buffer.from(data), name);
  z.end();
  const chunks: Buffer[] = [];
  for await (const c of z.outputStream as AsyncIterable<Buffer>) chunks.push(c);
  const data = Buffer.concat(chunks);
  const before = await users();
  for (const dry of ['true', 'false']) {
    const res = await post('local', `?dryRun=${dry}&structureId=${school}`, [{ name: 'controle.zip', data }]);
    assert.equal(res.statusCode, 200, res.body);
    const report = res.json();
    assert.deepEqual(
      report.files.map((f: { file: string; kind: string }) => [f.file, f.kind]),
      [
        ['controle.zip', 'zip'],
        ['controle.zip/.DS_Store\uFFFD', 'ignored'],
        ['controle.zip/CSV_Eleves\uFFFD.csv', 'csv'],
        ['controle.zip/livraison\uFFFD[2J.done', 'ignored'],
      ],
    );
    assert.equal(report.created, 1);
  }
  assert.equal(await users(), before + 1);
  assert.equal(await count(`SELECT count(*) n FROM audit WHERE action = 'import' AND details->'files' ? 'controle.zip/.DS_Store\uFFFD'`), 1);
});
