// Issue #7, medium: imports held every upload in memory (up to 200 files × 200 MB per request). Uploads now
// stream to disk under the data dir, the request's total is capped (413 with a clear message, nothing kept),
// the importer reads the files from there, and abandoned dry runs are swept by the hourly housekeeping.
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import type { FastifyInstance } from 'fastify';
import { startHousekeeping } from '../../src/accounts/housekeeping.js';
import { buildServer } from '../../src/web/server.js';
import { testContext } from '../helpers/db.js';
import { createUser, multipart, sessionFor, signedInClient, type SessionHeaders } from '../helpers/web.js';

const ELEVES = readFileSync(new URL('../fixtures/import/CSV_Eleves.csv', import.meta.url));
const dataDir = mkdtempSync(join(tmpdir(), 'trousseau-uploads-'));
const imports = join(dataDir, 'imports');

let ctx: Awaited<ReturnType<typeof testContext>>;
let app: FastifyInstance;
let school: string;
let root: SessionHeaders & { id: string };

const q = async <T = Record<string, unknown>>(sql: string, params: unknown[] = []) => (await ctx.database.pool.query(sql, params)).rows as T[];
const leftovers = () => (existsSync(imports) ? readdirSync(imports) : []);

function post(url: string, files: Array<{ name: string; data: Buffer }>, fields: Record<string, string> = {}) {
  const { body, type } = multipart(files, fields);
  return app.inject({ method: 'POST', url, headers: { 'content-type': type, cookie: root.cookie, 'x-csrf-token': root.csrf }, payload: body });
}

before(async () => {
  ctx = await testContext({ TROUSSEAU_DATA_DIR: dataDir, TROUSSEAU_IMPORT_MAX_MB: '1' });
  [{ id: school }] = await q(`INSERT INTO structures (uai, name) VALUES ('0451234K', 'Collège Les Tilleuls') RETURNING id`);
  const id = await createUser(ctx.database.pool, { login: 'root.admin', superAdmin: true, password: 'super-admin-2026-tilleuls' });
  root = { id, ...(await sessionFor(ctx.database.pool, id)) };
  app = await buildServer(ctx);
});
after(async () => {
  await app.close();
  await ctx.close();
});

test('a request over the total cap is refused with 413 and a clear message; nothing is kept', async () => {
  // Two files under the cap each, over it together (TROUSSEAU_IMPORT_MAX_MB=1).
  const big = [{ name: 'annexe-1.pdf', data: Buffer.alloc(700 * 1024, 0x41) }, { name: 'annexe-2.pdf', data: Buffer.alloc(700 * 1024, 0x42) }];
  const api = await post(`/api/import?dryRun=true&structureId=${school}`, big);
  assert.equal(api.statusCode, 413, api.body);
  assert.match(api.json().error, /trop volumineux : 1 Mo au plus/);
  const page = await post(`/console/etablissements/${school}/import?_csrf=${root.csrf}`, big);
  assert.equal(page.statusCode, 413);
  assert.match(page.body, /trop volumineux : 1 Mo au plus/);
  assert.deepEqual(leftovers(), [], 'what was received is deleted');
});

test('a dry run keeps its files on disk (0600, not in memory) until confirmed; the API keeps nothing', async () => {
  const api = await post(`/api/import?dryRun=true&structureId=${school}`, [{ name: 'CSV_Eleves.csv', data: ELEVES }]);
  assert.equal(api.statusCode, 200, api.body);
  assert.deepEqual(leftovers(), []);

  const dry = await post(`/console/etablissements/${school}/import?_csrf=${root.csrf}`, [{ name: 'CSV_Eleves.csv', data: ELEVES }]);
  assert.equal(dry.statusCode, 303, dry.body);
  const [token] = leftovers();
  assert.ok(String(dry.headers.location).endsWith(`/import/${token}`), 'redirected to the report of that upload');
  assert.ok(token, 'the upload waits under <dataDir>/imports/<token>/');
  assert.deepEqual(readFileSync(join(imports, token, '0.bin')), ELEVES);
  assert.equal(statSync(join(imports, token, '0.bin')).mode & 0o777, 0o600);
  assert.equal(statSync(join(imports, token)).mode & 0o777, 0o700);
  const browser = await signedInClient(app, ctx.database.pool, root.id);
  const done = await browser.post(`/console/etablissements/${school}/import/confirmer`, { token });
  assert.equal(done.statusCode, 200, done.body);
  assert.equal((await q(`SELECT count(*)::int n FROM users WHERE profile = 'Student'`))[0].n, 4);
  assert.deepEqual(leftovers(), [], 'applied, then deleted');
});

test('a confirmation submitted twice at once (a double click, two tabs) is applied once; the other is told so (410), never a 500', async () => {
  const [{ id: other }] = await q<{ id: string }>(`INSERT INTO structures (uai, name) VALUES ('0451235L', 'École des Deux Clics') RETURNING id`);
  const rows = ['Nom;Prénom;Date de naissance;Classe', ...Array.from({ length: 300 }, (_, i) => `DOUBLE${i};Clic${i};01/01/2015;CM${i % 2 + 1}`)];
  const dry = await post(`/console/etablissements/${other}/import?_csrf=${root.csrf}`, [{ name: 'CSV_Eleves.csv', data: Buffer.from(rows.join('\r\n')) }]);
  assert.equal(dry.statusCode, 303, dry.body);
  const token = String(dry.headers.location).split('/').pop()!;
  const confirm = () =>
    app.inject({
      method: 'POST',
      url: `/console/etablissements/${other}/import/confirmer`,
      headers: { cookie: root.cookie, 'content-type': 'application/x-www-form-urlencoded' },
      payload: new URLSearchParams({ token, _csrf: root.csrf }).toString(),
    });
  const answers = await Promise.all([confirm(), confirm()]);
  assert.deepEqual(answers.map((r) => r.statusCode).sort(), [200, 410], answers.map((r) => r.body.slice(0, 200)).join('\n'));
  assert.match(answers.find((r) => r.statusCode === 410)!.body, /a expiré ou a déjà été confirmée/);
  assert.equal((await q(`SELECT count(*)::int n FROM users WHERE last_name LIKE 'DOUBLE%'`))[0].n, 300);
  assert.ok(!leftovers().includes(token), 'applied, then deleted');
});

test('the hourly housekeeping deletes dry runs never confirmed, and keeps recent ones', async () => {
  const dry = await post(`/console/etablissements/${school}/import?_csrf=${root.csrf}`, [{ name: 'CSV_Eleves.csv', data: ELEVES }]);
  assert.equal(dry.statusCode, 303);
  const [abandoned] = leftovers();
  const twoHoursAgo = new Date(Date.now() - 2 * 3_600_000);
  utimesSync(join(imports, abandoned), twoHoursAgo, twoHoursAgo);
  mkdirSync(join(imports, 'recent-upload'));
  writeFileSync(join(imports, 'recent-upload', '0.bin'), 'x');

  const errors: string[] = [];
  const hk = startHousekeeping(ctx.database.pool, (m) => errors.push(m), 3_600_000, imports);
  try {
    for (let i = 0; i < 100 && leftovers().includes(abandoned); i++) await new Promise((r) => setTimeout(r, 20));
  } finally {
    hk.stop();
  }
  assert.deepEqual(errors, []);
  assert.deepEqual(leftovers(), ['recent-upload']);
});

test('a body cut short, without boundary or with a malformed part is a 400 with a message, never a 500; nothing is kept', async () => {
  const kept = leftovers();
  const cut = '--zzz\r\nContent-Disposition: form-data; name="files"; filename="a.csv"\r\n\r\nNom;Pr';
  const bodies: Array<[string, string, RegExp]> = [
    ['multipart/form-data; boundary=zzz', cut, /Envoi illisible/],
    ['multipart/form-data', cut, /Envoi illisible|Aucun fichier reçu|au moins un fichier non vide/],
    ['multipart/form-data; boundary=zzz', '--zzz\r\nPas un en-tête\r\n\r\nx\r\n--zzz--\r\n', /Envoi illisible|Aucun fichier reçu|au moins un fichier non vide/],
  ];
  for (const [type, payload, message] of bodies) {
    const headers = { 'content-type': type, cookie: root.cookie, 'x-csrf-token': root.csrf };
    const api = await app.inject({ method: 'POST', url: `/api/import?dryRun=true&structureId=${school}`, headers, payload });
    assert.equal(api.statusCode, 400, `${type}: ${api.body}`);
    assert.match(api.json().error, message);
    const page = await app.inject({ method: 'POST', url: `/console/etablissements/${school}/import?_csrf=${root.csrf}`, headers, payload });
    assert.ok([400, 422].includes(page.statusCode), `${type}: ${page.statusCode} ${page.body.slice(0, 300)}`);
    assert.match(page.body, message);
  }
  assert.deepEqual(leftovers(), kept, 'nothing new kept');
});
