// Finding: a .zip sent to a school's import (a local admin in the console or the API, a school's API token) unpacked
// within the limits of a région's AAF delivery — 2 GB a member, 8 GB in all — under the data directory (the embedded
// PostgreSQL's disk) and inside the run's transaction, holding the one import lock: a few megabytes of zeros sent by
// one school's administrator wrote gigabytes beside the database and held every other import meanwhile. A school's
// files now unpack to no more than an upload may carry (TROUSSEAU_IMPORT_MAX_MB), refused before anything is written;
// a super admin's delivery keeps the région's limits.
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import yazl from 'yazl';
import { fileContext } from '../helpers/db.js';
import { createUser, fileServer, multipart, sessionFor, type SessionHeaders } from '../helpers/web.js';

const dataDir = mkdtempSync(join(tmpdir(), 'trousseau-zip-bomb-'));
const ctx = await fileContext({ TROUSSEAU_DATA_DIR: dataDir, TROUSSEAU_IMPORT_MAX_MB: '1' });
const app = await fileServer(ctx);
const pool = ctx.database.pool;
const q = async <T = Record<string, unknown>>(sql: string, params: unknown[] = []) => (await pool.query(sql, params)).rows as T[];

const [{ id: school }] = await q<{ id: string }>(`INSERT INTO structures (uai, name) VALUES ('0457003T', 'Collège des Archives') RETURNING id`);
const dir = await createUser(pool, { login: 'direction.archives', password: 'direction-archives-2026' });
await q('INSERT INTO user_structures VALUES ($1, $2)', [dir, school]);
await q('INSERT INTO local_admins VALUES ($1, $2)', [dir, school]);
const root = await createUser(pool, { login: 'root.archives', superAdmin: true, password: 'super-admin-archives-2026' });
const local = await sessionFor(pool, dir);
const superAdmin = await sessionFor(pool, root);

/** A zip of `members`, each `size` bytes of zeros (deflated to a few kilobytes). */
async function zeros(members: Array<{ name: string; size: number }>): Promise<Buffer> {
  const z = new yazl.ZipFile();
  for (const m of members) z.addBuffer(Buffer.alloc(m.size), m.name);
  z.end();
  const chunks: Buffer[] = [];
  for await (const c of z.outputStream as AsyncIterable<Buffer>) chunks.push(c);
  return Buffer.concat(chunks);
}

function post(as: SessionHeaders, url: string, files: Array<{ name: string; data: Buffer }>) {
  const { body, type } = multipart(files);
  return app.inject({ method: 'POST', url, headers: { 'content-type': type, cookie: as.cookie, 'x-csrf-token': as.csrf }, payload: body });
}

const unpacked = () => (existsSync(join(dataDir, 'imports')) ? readdirSync(join(dataDir, 'imports')).filter((n) => n.startsWith('zip-')) : []);

test("a school's archive unpacking beyond what an upload may carry is refused before a byte is written", async () => {
  const one = await zeros([{ name: 'CSV_Eleves.csv', size: 8 * 2 ** 20 }]);
  assert.ok(one.length < 100 * 1024, `the archive itself is small (${one.length} bytes)`);
  const api = await post(local, `/api/import?dryRun=true&structureId=${school}`, [{ name: 'eleves.zip', data: one }]);
  assert.equal(api.statusCode, 400, api.body);
  assert.match(api.json().detail, /trop gros une fois décompressé \(8 Mio, maximum 1 Mio\)/, 'the member is named with the limit');

  const page = await post(local, `/console/etablissements/${school}/import?_csrf=${local.csrf}`, [{ name: 'eleves.zip', data: one }]);
  assert.equal(page.statusCode, 400, `console: refused too (${page.statusCode})`);
  assert.match(page.body, /maximum 1 Mio/, 'console: the limit is said');

  // Members each under the limit, over it together.
  const many = await zeros(Array.from({ length: 4 }, (_, i) => ({ name: `CSV_Eleves_${i}.csv`, size: 700 * 1024 })));
  const all = await post(local, `/api/import?dryRun=true&structureId=${school}`, [{ name: 'eleves.zip', data: many }]);
  assert.equal(all.statusCode, 400, all.body);
  assert.match(all.json().detail, /archive trop grosse une fois décompressée \(maximum 1 Mio\)/, 'the archive is named with the limit');
  assert.deepEqual(unpacked(), [], 'nothing left unpacked');
});

test("a super admin's delivery keeps the région's limits", async () => {
  const one = await zeros([{ name: 'CSV_Eleves.csv', size: 8 * 2 ** 20 }]);
  const r = await post(superAdmin, `/api/import?dryRun=true&structureId=${school}`, [{ name: 'eleves.zip', data: one }]);
  // Unpacked, then read for what it is: not a file of any format (no size refusal).
  assert.doesNotMatch(r.body, /une fois décompress/, `no unpacking limit met (${r.statusCode}: ${r.body.slice(0, 300)})`);
  assert.deepEqual(unpacked(), [], 'what was unpacked is removed after the run');
});

test("a school's archives unpack to no more files than an upload may carry, whatever their bytes", async () => {
  // Each archive within the région's 2,000 members and the school's bytes: 200 of them (an upload's files) wrote
  // 400,000 files beside the database, under the import lock. Members a delivery leaves out by name (`x.done`) are
  // written all the same before the run skips them.
  const small = await zeros(Array.from({ length: 150 }, (_, i) => ({ name: `lot/${i}.done`, size: 0 })));
  const files = [{ name: 'a.zip', data: small }, { name: 'b.zip', data: small }];
  const api = await post(local, `/api/import?dryRun=true&structureId=${school}`, files);
  assert.equal(api.statusCode, 400, `refused: ${api.body.slice(0, 300)}`);
  assert.match(api.json().detail, /plus de 200 fichiers/, `the limit is said: ${api.body.slice(0, 300)}`);
  assert.deepEqual(unpacked(), [], 'nothing left unpacked');

  // A school's real archive (its CSV files, what macOS adds beside them) is read.
  const real = await zeros([
    { name: 'export/CSV_Eleves.csv', size: 0 },
    { name: '__MACOSX/export/._CSV_Eleves.csv', size: 0 },
    { name: 'export/.DS_Store', size: 0 },
  ]);
  const ok = await post(local, `/api/import?dryRun=true&structureId=${school}`, [{ name: 'export.zip', data: real }]);
  assert.doesNotMatch(ok.body, /fichiers dans l|une fois décompress/, `no unpacking limit met (${ok.statusCode}: ${ok.body.slice(0, 300)})`);
});
