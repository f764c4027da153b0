// The run's records are staged in a TEMP table and written per chunk (src/import/stage.ts, issue #11): a run cut
// into many tiny chunks writes exactly what a run in one chunk writes (accounts, logins, memberships, links across
// chunks, counts per file), re-imports unchanged, and the staging tables never outlive the run's transaction —
// neither after a dry run nor after a failure in the middle of the writes, which leaves nothing written.
import assert from 'node:assert/strict';
import { copyFileSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import type { PoolClient } from 'pg';
import { collectInputs, formatReport, importFiles, type ImportReport } from '../src/import/index.js';
import { ImportStage } from '../src/import/stage.js';
import { testContext } from './helpers/db.js';

const AAF = new URL('./fixtures/aaf/', import.meta.url).pathname;
type Ctx = Awaited<ReturnType<typeof testContext>>;
let whole: Ctx;
let chunked: Ctx;

before(async () => {
  [whole, chunked] = await Promise.all([testContext(), testContext()]);
});
after(async () => {
  await Promise.all([whole.close(), chunked.close()]);
});

const q = async <T = Record<string, unknown>>(ctx: Ctx, sql: string, params: unknown[] = []) => (await ctx.database.pool.query(sql, params)).rows as T[];
const run = async (ctx: Ctx, dir: string, opts: { chunkSize?: number; dryRun?: boolean } = {}): Promise<ImportReport> => {
  const report = await importFiles(ctx, collectInputs([join(AAF, dir)]), { scope: { kind: 'all' }, dryRun: opts.dryRun ?? false, chunkSize: opts.chunkSize });
  assert.equal(report.fatal, null, formatReport(report));
  return report;
};
/** What a report says, without its timing (and lists in a stable order). */
const outcome = (r: ImportReport) => ({
  counts: [r.created, r.updated, r.unchanged, r.preDeleted, r.restored],
  relations: r.relations,
  byProfile: r.byProfile,
  files: r.files.map((f) => [f.file, f.rows, f.created, f.updated, f.unchanged, f.preDeleted, f.restored, f.ignored, f.rejected]),
  rejected: r.rejected.map((x) => `${x.file}:${x.line}:${x.field}:${x.reason}`).sort(),
  ignored: r.ignored.map((x) => `${x.file}:${x.line}:${x.field}:${x.reason}`).sort(),
});
/** Everything an import writes, by external ids and names (not row ids). */
const directory = (ctx: Ctx) =>
  q(ctx, `SELECT u.external_id, u.profile, u.first_name, u.last_name, u.email, u.login, u.birth_date, u.functions, u.ine, u.import_hash IS NOT NULL AS hashed,
                 u.absent_since IS NOT NULL AS absent,
                 (SELECT array_agg(s.external_id ORDER BY s.external_id) FROM user_structures us JOIN structures s ON s.id = us.structure_id WHERE us.user_id = u.id) AS structures,
                 (SELECT array_agg(x ORDER BY x) FROM (SELECT s.external_id || '/' || c.name || coalesce('/' || l.name, '') AS x FROM user_classes uc JOIN classes c ON c.id = uc.class_id
                    JOIN structures s ON s.id = c.structure_id LEFT JOIN levels l ON l.id = c.level_id WHERE uc.user_id = u.id) y) AS classes,
                 (SELECT array_agg(g.name ORDER BY g.name) FROM user_groups ug JOIN groups g ON g.id = ug.group_id WHERE ug.user_id = u.id) AS groups,
                 (SELECT array_agg(p.external_id ORDER BY p.external_id) FROM relations r JOIN users p ON p.id = r.parent_id WHERE r.child_id = u.id) AS parents,
                 (SELECT array_agg(s.external_id ORDER BY s.external_id) FROM local_admins la JOIN structures s ON s.id = la.structure_id WHERE la.user_id = u.id) AS admin_of
          FROM users u ORDER BY u.external_id`);
const stagingTables = async (ctx: Ctx) =>
  (await q<{ n: string }>(ctx, `SELECT count(*) AS n FROM pg_class WHERE relname IN ('import_stage', 'import_relations')`))[0].n;

test('a run cut into chunks of 2 accounts writes what one chunk writes: accounts, logins, memberships, links across chunks, counts', async () => {
  const a = await run(whole, '2d');
  const b = await run(chunked, '2d', { chunkSize: 2 });
  assert.ok(a.created > 6 && a.relations.created > 2, formatReport(a));
  assert.deepEqual(outcome(b), outcome(a));
  assert.deepEqual(await directory(chunked), await directory(whole));
  // Unchanged: every account is skipped by its digest, chunk after chunk.
  const again = await run(chunked, '2d', { chunkSize: 3 });
  assert.deepEqual([again.created, again.updated, again.unchanged], [0, 0, a.created]);
  assert.deepEqual(again.relations, { created: 0, removed: 0, unresolved: a.relations.unresolved });
  assert.deepEqual(await directory(chunked), await directory(whole));
});

test('chunked: a delta (modifyRequest, deleteRequest) then a 1D feed give the same directory and reports as one chunk', async () => {
  for (const dir of ['delta', '1d']) {
    const a = await run(whole, dir);
    const b = await run(chunked, dir, { chunkSize: 1 });
    assert.deepEqual(outcome(b), outcome(a), dir);
    assert.deepEqual(await directory(chunked), await directory(whole), dir);
  }
  // A link removed by hand is put back by a chunked re-import (its digests were cleared by the triggers).
  const [link] = await q<{ parent_id: string; child_id: string }>(
    chunked,
    `SELECT r.parent_id, r.child_id FROM relations r JOIN users c ON c.id = r.child_id JOIN user_structures us ON us.user_id = c.id
       JOIN structures s ON s.id = us.structure_id WHERE s.external_id = '81001' ORDER BY c.external_id LIMIT 1`,
  );
  await q(chunked, `DELETE FROM relations WHERE parent_id = $1 AND child_id = $2`, [link.parent_id, link.child_id]);
  const back = await run(chunked, '1d', { chunkSize: 2 });
  assert.equal(back.relations.created, 1);
  assert.ok(back.updated >= 1 && back.updated <= 2, formatReport(back));
  assert.deepEqual(await directory(chunked), await directory(whole));
});

test('the staging tables live only inside the run: none after a dry run, none after a run', async () => {
  const before = await directory(chunked);
  const dry = await run(chunked, '2d', { chunkSize: 2, dryRun: true });
  assert.ok(dry.unchanged > 0);
  assert.equal(await stagingTables(chunked), '0');
  assert.deepEqual(await directory(chunked), before);
});

test('a failure in the middle of the writes (a later chunk) rolls the whole run back: nothing written, no staging left', async () => {
  const ctx = await testContext();
  try {
    // Refuses the relatives (read last), once earlier chunks have written at least 4 accounts.
    await q(ctx, `CREATE FUNCTION refuse_one() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN IF NEW.profile = 'Relative' AND (SELECT count(*) FROM users) >= 4 THEN RAISE EXCEPTION 'refused for the test'; END IF; RETURN NEW; END $$`);
    await q(ctx, `CREATE TRIGGER refuse_one BEFORE INSERT ON users FOR EACH ROW EXECUTE FUNCTION refuse_one()`);
    await assert.rejects(importFiles(ctx, collectInputs([join(AAF, '2d')]), { scope: { kind: 'all' }, dryRun: false, chunkSize: 2 }), /refused for the test/);
    assert.deepEqual(await q(ctx, `SELECT external_id FROM users`), []);
    assert.deepEqual(await q(ctx, `SELECT 1 FROM structures UNION ALL SELECT 1 FROM relations UNION ALL SELECT 1 FROM user_structures`), []);
    assert.equal(await stagingTables(ctx), '0');
    // The same run without the refusal goes through, on the same connection pool.
    await q(ctx, `DROP TRIGGER refuse_one ON users`);
    const ok = await run(ctx, '2d', { chunkSize: 2 });
    assert.ok(ok.created > 0);
    assert.equal(await stagingTables(ctx), '0');
  } finally {
    await ctx.close();
  }
});

test('a file found malformed while earlier records stream into the staging COPY: the run is refused, nothing written, the connection serves again', { timeout: 60_000 }, async () => {
  const ctx = await testContext();
  const dir = mkdtempSync(join(tmpdir(), 'trousseau-aaf-broken-'));
  try {
    for (const f of readdirSync(join(AAF, '2d'))) copyFileSync(join(AAF, '2d', f), join(dir, f));
    // Read last (sorted), after several chunks of 1 have gone to the open COPY: cut in the middle of a record.
    const pupils = readFileSync(join(AAF, '2d', 'ENT_Complet_20240901_Eleve_0000.xml'), 'utf8');
    writeFileSync(join(dir, 'ENT_Complet_20240901_PersRelEleve_0001.xml'), pupils.slice(0, pupils.lastIndexOf('<attr name="sn">')) + '<attr </ficAlimMENESR>');
    const report = await importFiles(ctx, collectInputs([dir]), { scope: { kind: 'all' }, dryRun: false, chunkSize: 1 });
    assert.equal(report.fatal?.file, 'ENT_Complet_20240901_PersRelEleve_0001.xml');
    assert.deepEqual(await q(ctx, `SELECT external_id FROM users`), []);
    assert.equal(await stagingTables(ctx), '0');
    const ok = await run(ctx, '2d', { chunkSize: 1 });
    assert.ok(ok.created > 0);
  } finally {
    rmSync(dir, { recursive: true, force: true });
    await ctx.close();
  }
});

/** `work` on a staging table of `count` records e1…e<count> (structures `keys`), in a transaction rolled back after. */
async function withStage(count: number, keys: string, work: (client: PoolClient, stage: ImportStage) => Promise<void>): Promise<void> {
  const client = await whole.database.pool.connect();
  try {
    await client.query('BEGIN');
    const stage = await ImportStage.open(client);
    await client.query(
      `INSERT INTO import_stage (ext, source, profile, file, structures, line, refs, rec, user_id)
       SELECT 'e' || g, 'aaf', 'Student', 'f.xml', $2, g, $2, '{}', gen_random_uuid() FROM generate_series(1, $1::int) g`,
      [count, keys],
    );
    await work(client, stage);
  } finally {
    await client.query('ROLLBACK');
    client.release();
  }
}

test('ImportStage.update: few rows matching are updated in place, most rows matching rewrite the table; same rows either way, numbering goes on', async () => {
  await withStage(10, '{S1}', async (client, stage) => {
    await client.query(`CREATE TEMP TABLE accounts (ext text, id uuid, h text) ON COMMIT DROP`);
    const table = async () => {
      const oid = (await client.query<{ oid: string }>(`SELECT 'pg_temp.import_stage'::regclass::oid AS oid`)).rows[0].oid;
      const rows = (await client.query(`SELECT n, ext, user_id, state, hash, absent FROM import_stage ORDER BY n`)).rows;
      return { oid, rows };
    };
    const expected = async (before: Awaited<ReturnType<typeof table>>) => {
      const acc = new Map((await client.query<{ ext: string; id: string; h: string }>('SELECT * FROM accounts')).rows.map((a) => [a.ext, a]));
      return before.rows.map((r) => (acc.has(r.ext) ? { ...r, user_id: acc.get(r.ext)!.id, state: 'known', hash: `${acc.get(r.ext)!.h}!` } : r));
    };
    const join = { set: { user_id: 'a.id', state: `'known'`, hash: 'a.h || $1' }, table: 'accounts', alias: 'a', condition: 'a.ext = s.ext', params: ['!'] };
    // A second lookup, applied only when the table is written anew, to the rows as the first leaves them.
    const then = (params: unknown[]) => ({ set: { hash: `s.hash || $${params.push('?')}` }, table: 'accounts', alias: 'b', condition: `s.state = 'known' AND b.ext = s.ext`, params });
    // One row of ten: an UPDATE, the same table (the second lookup is not made).
    await client.query(`INSERT INTO accounts VALUES ('e3', gen_random_uuid(), 'h3')`);
    let before = await table();
    await stage.update(join, then);
    let now = await table();
    assert.equal(now.oid, before.oid);
    assert.deepEqual(now.rows, await expected(before));
    // Nine of ten: the table written anew, the same rows as an UPDATE gives.
    await client.query(`INSERT INTO accounts SELECT 'e' || g, gen_random_uuid(), 'h' || g FROM generate_series(4, 10) g`);
    await client.query(`INSERT INTO accounts VALUES ('e1', gen_random_uuid(), 'h1')`);
    before = await table();
    await stage.update(join, then);
    now = await table();
    assert.notEqual(now.oid, before.oid);
    assert.deepEqual(
      now.rows,
      (await expected(before)).map((r) => (r.state === 'known' ? { ...r, hash: `${r.hash}?` } : r)),
    );
    // Its indexes, defaults and numbering are the table's own: a record staged afterwards comes after the others.
    const indexes = (await client.query<{ d: string }>(`SELECT indexdef AS d FROM pg_indexes WHERE tablename = 'import_stage' ORDER BY 1`)).rows.map((x) => x.d);
    assert.equal(indexes.length, 2, indexes.join('\n'));
    assert.ok(indexes.some((d) => /UNIQUE .*\(n\)/.test(d)) && indexes.some((d) => /\(ext\)/.test(d)), indexes.join('\n'));
    await client.query(`INSERT INTO import_stage (ext, source, profile, file, structures, line, refs, rec, user_id) VALUES ('e11', 'aaf', 'Student', 'f.xml', '{}', 11, '{}', '{}', gen_random_uuid())`);
    const last = (await client.query(`SELECT n, state, absent, allowed FROM import_stage WHERE ext = 'e11'`)).rows[0];
    assert.deepEqual(last, { n: '11', state: 'fresh', absent: false, allowed: true });
  });
});

test('ImportStage.update on a large table decides from every 64th row: a third matching is updated in place, two thirds rewrite it', async () => {
  await withStage(90000, '{}', async (client, stage) => {
    await client.query(`CREATE TEMP TABLE accounts ON COMMIT DROP AS SELECT 'e' || g AS ext, gen_random_uuid() AS id FROM generate_series(1, 90000, 3) g`);
    const oid = async () => (await client.query<{ oid: string }>(`SELECT 'pg_temp.import_stage'::regclass::oid AS oid`)).rows[0].oid;
    const known = async () => Number((await client.query<{ n: string }>(`SELECT count(*) AS n FROM import_stage WHERE state = 'known'`)).rows[0].n);
    let before = await oid();
    await stage.update({ set: { user_id: 'a.id', state: `'known'` }, table: 'accounts', alias: 'a', condition: 'a.ext = s.ext', params: [] });
    assert.equal(await oid(), before);
    assert.equal(await known(), 30000);
    await client.query(`INSERT INTO accounts SELECT 'e' || g, gen_random_uuid() FROM generate_series(2, 90000, 3) g`);
    before = await oid();
    await stage.update({ set: { user_id: 'a.id', state: `'known'` }, table: 'accounts', alias: 'a', condition: 'a.ext = s.ext', params: [] });
    assert.notEqual(await oid(), before);
    assert.equal(await known(), 60000);
    const wrong = await client.query(`SELECT count(*) AS n FROM import_stage s JOIN accounts a ON a.ext = s.ext WHERE s.user_id <> a.id`);
    assert.equal(wrong.rows[0].n, '0');
  });
});
