// The streamed CSV export (generate.ts: streamCsvSelection, whose classes, children and creation day PostgreSQL writes)
// against the one-piece writer over selectAccounts (renderCsv): the same bytes for every selection, sort and scope,
// with the codes it issues, the hand-outs it records and the hostile cells (formulas, separators, line breaks) of
// the directory.
import assert from 'node:assert/strict';
import { before, test } from 'node:test';
import { issueActivationCode } from '../src/accounts/issue.js';
import { Secrets } from '../src/accounts/secrets.js';
import type { Scope } from '../src/directory/scope.js';
import { csvCells, renderCsv } from '../src/publipostage/csv.js';
import { previewCells } from '../src/publipostage/format.js';
import { exportSelection } from '../src/publipostage/generate.js';
import { selectAccounts } from '../src/publipostage/select.js';
import { SelectionSchema } from '../src/publipostage/selection.js';
import { distributionRecorder } from '../src/publipostage/tracking.js';
import { fileContext } from './helpers/db.js';
import { addSecondSchool, insertSample } from './helpers/sample.js';

const ctx = await fileContext();
const s = await insertSample(ctx);
// Two schools: Anne teaches in both, Zoé is enrolled in both, Sophie (S2) is Zoé's parent too.
await addSecondSchool(ctx, s);

before(async () => {
  const q = (sql: string, v: unknown[]) => ctx.database.pool.query(sql, v);
  // Feed data with separators, quotes, line breaks and formulas; AAF functions (labels) and a plain one.
  await q(`UPDATE users SET ine = $2, mobile = $3, functions = $4 WHERE id = $1`, [
    s.users.anne, '=1+1', '+33 6 12;34', ['0750001A$ENS$ENSEIGNEMENT$L0201$LETTRES CLASSIQUES', 'Prof "principal"\nde 6A'],
  ]);
  await q(`UPDATE users SET first_name = $2, email = $3 WHERE id = $1`, [s.users.leo, 'Léo;"Junior"', '@leo@example.org']);
  // A code sealed under another key (a restored backup): unusable, a fresh one is issued as for a missing one.
  const other = issueActivationCode(new Secrets(Buffer.alloc(32, 7)), 90);
  await q(`UPDATE users SET activation_code_enc = $2 WHERE id = $1`, [s.users.eckert, other.enc]);
  // A blocked account and one that signs in only with an external provider (shown with external=info).
  await q(`UPDATE users SET blocked = true WHERE id = $1`, [s.users.eclair]);
  await q(`INSERT INTO federation_links (provider_id, subject, user_id, provider_name) VALUES ('edu', 'x-1', $1, 'ÉduConnect')`, [s.users.jules]);
});

async function exported(selection: Record<string, unknown>, scope: Scope): Promise<{ bytes: Buffer; count: number }> {
  const r = await exportSelection(ctx, { format: 'csv', selection: SelectionSchema.parse(selection), scope, actorId: null, via: 'cli' });
  const chunks: Buffer[] = [];
  for await (const c of r.body as AsyncIterable<Buffer>) chunks.push(c);
  return { bytes: Buffer.concat(chunks), count: r.count };
}

const ALL: Scope = { kind: 'all' };

test('the streamed CSV export is byte for byte renderCsv of the same selection, in every sort and scope', async () => {
  const cases: Array<[Record<string, unknown>, Scope]> = [
    [{}, ALL],
    [{ sort: 'class' }, ALL],
    [{ sort: 'family' }, ALL],
    [{ sort: 'profile', blocked: 'all', preDeletion: 'all', external: 'info' }, ALL],
    [{ structureId: s.structures.S1 }, ALL],
    [{ classIds: [s.classes['6A']], sort: 'class' }, ALL],
    [{ levelIds: [s.levels['6EME']] }, ALL],
    [{ structureId: s.structures.S1 }, { kind: 'structures', structureIds: [s.structures.S1] }],
    [{}, { kind: 'classes', classIds: [s.classes['6A']] }],
  ];
  for (const [selection, scope] of cases) {
    const what = JSON.stringify({ selection, scope: scope.kind });
    // Each export's rows bear its transaction's instant, later than every earlier export's (as text: microseconds).
    const last = (await ctx.database.pool.query(`SELECT coalesce(max(at), '-infinity')::text AS m FROM distribution_events`)).rows[0].m;
    const streamed = await exported(selection, scope);
    // Read after the export, which stored the fresh codes it printed: the same codes, the same file.
    const rows = await selectAccounts(ctx, SelectionSchema.parse(selection), scope);
    assert.ok(rows.length > 0, what);
    assert.equal(streamed.bytes.toString('utf8'), renderCsv(rows).toString('utf8'), what);
    // One hand-out per exported account, and for those accounts only.
    const recorded = (await ctx.database.pool.query<{ user_id: string }>('SELECT user_id FROM distribution_events WHERE at > $1::timestamptz', [last])).rows;
    assert.deepEqual(recorded.map((r) => r.user_id).sort(), rows.map((r) => r.id).sort(), `one hand-out per row: ${what}`);
  }
});

test('the export issues working codes where they were missing, expired or unreadable, and prints them', async () => {
  const { bytes } = await exported({ blocked: 'all' }, ALL);
  const text = bytes.toString('utf8');
  const rows = await selectAccounts(ctx, SelectionSchema.parse({ blocked: 'all' }), ALL);
  const by = new Map(rows.map((r) => [r.login, r]));
  for (const login of [s.logins.hugo, s.logins.guest, s.logins.eckert]) {
    const row = by.get(login)!;
    assert.match(row.code ?? '', /^[0-9A-Z]{10}$/, login);
    assert.ok(text.includes(csvCells(row).join(';')), login);
  }
  // Blocked: no code, whatever is stored.
  assert.equal(by.get(s.logins.eclair)!.code, null);
  assert.ok(text.includes(`;${s.logins.eclair};Bloqué;`));
});

test("the CSV's first cells are the preview's (same columns, same words)", async () => {
  const rows = await selectAccounts(ctx, SelectionSchema.parse({ blocked: 'all', preDeletion: 'all', external: 'info' }), ALL);
  for (const row of rows) assert.deepEqual(csvCells(row).slice(0, 8), previewCells(row).map((v) => (/^[=+\-@\t\r]/.test(v) ? `'${v}` : v)), row.login);
});

test('the hand-out recorded range by range holds every account of the table exactly once, however the steps fall', async () => {
  const client = await ctx.database.pool.connect();
  try {
    await client.query('BEGIN');
    await client.query('CREATE TEMP TABLE picked (id uuid) ON COMMIT DROP');
    // 5,000 ids: some 25 pages of the table, recorded in uneven steps (a step may cover no new page).
    await client.query('INSERT INTO picked SELECT gen_random_uuid() FROM generate_series(1, 5000) ORDER BY 1');
    const recorder = await distributionRecorder(client, 'picked', { kind: 'sheet', actorId: null });
    const recorded = async () => Number((await client.query(`SELECT count(*) FROM distribution_events WHERE user_id IN (SELECT id FROM picked)`)).rows[0].count);
    for (const read of [1, 700, 700, 2100, 4999]) await recorder.step(read);
    const beforeFinish = await recorded();
    assert.ok(beforeFinish > 0 && beforeFinish < 5000, `steps record as they go (${beforeFinish})`);
    await recorder.finish();
    const { rows } = await client.query(
      `SELECT count(*)::int AS n, count(DISTINCT user_id)::int AS d, bool_and(kind = 'sheet') AS sheet
       FROM distribution_events WHERE user_id IN (SELECT id FROM picked)`,
    );
    assert.deepEqual(rows[0], { n: 5000, d: 5000, sheet: true });
  } finally {
    await client.query('ROLLBACK');
    client.release();
  }
});

test('an export whose file is never read, or read in part, ends: its transaction rolled back, nothing handed out, no connection kept', async () => {
  // The CSV asks for its first batch as soon as it is made (its count runs beside): a stream closed before its first
  // read must still end the export, not leave it holding a connection inside an open transaction.
  const q = async (sql: string) => (await ctx.database.pool.query(sql)).rows;
  const handedOut = async () => Number((await q(`SELECT count(*) AS n FROM distribution_events`))[0].n);
  const before = await handedOut();
  const inTransaction = async () => {
    for (let i = 0; i < 50; i++) {
      const open = Number((await q(`SELECT count(*) AS n FROM pg_stat_activity WHERE datname = current_database() AND state LIKE 'idle in transaction%'`))[0].n);
      if (open === 0) return 0;
      await new Promise((r) => setTimeout(r, 100));
    }
    return -1;
  };
  for (const part of [0, 1]) {
    const r = await exportSelection(ctx, { format: 'csv', selection: SelectionSchema.parse({}), scope: ALL, actorId: null, via: 'cli' });
    assert.ok(r.count > 0);
    const body = r.body as import('node:stream').Readable;
    if (part) await new Promise((ok) => body.once('data', ok));
    body.destroy();
    assert.equal(await inTransaction(), 0, `read ${part ? 'in part' : 'not at all'}: no export left in an open transaction`);
    assert.equal(await handedOut(), before, 'nothing recorded as handed out');
  }
  // Released once its ROLLBACK has answered: a moment after.
  const pool = ctx.database.pool;
  for (let i = 0; i < 50 && pool.totalCount !== pool.idleCount; i++) await new Promise((r) => setTimeout(r, 100));
  assert.equal(pool.waitingCount, 0);
  assert.equal(pool.totalCount, pool.idleCount, 'every connection back in the pool');
});
