// The export's stream (streamSelection) gives exactly the selection's rows, in its order, whatever the batch size:
// its first batch is read as a preview page (the index on names, details row by row: the first pages leave at
// once), the rest by a cursor over the rows after that batch's last key (details joined set-wise).
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import type { Scope } from '../src/directory/scope.js';
import { createDemoSchool } from '../src/demo/seed.js';
import { selectAccounts, streamSelection } from '../src/publipostage/select.js';
import { SelectionSchema } from '../src/publipostage/selection.js';
import { testContext } from './helpers/db.js';

let ctx: Awaited<ReturnType<typeof testContext>>;
before(async () => {
  ctx = await testContext();
  await createDemoSchool(ctx, { passwordHash: 'x' });
});
after(async () => {
  await ctx.close();
});

async function streamed(selection: ReturnType<typeof SelectionSchema.parse>, scope: Scope, batch: number) {
  const client = await ctx.database.pool.connect();
  try {
    await client.query('BEGIN');
    const batches: number[] = [];
    const rows = [];
    for await (const b of streamSelection(ctx, client, selection, scope, batch)) {
      batches.push(b.length);
      rows.push(...b);
    }
    await client.query('ROLLBACK');
    return { rows, batches };
  } finally {
    client.release();
  }
}

test('every sort and scope: the streamed rows are selectAccounts’ rows, once each, in order, in batches of the size asked', async () => {
  const pool = ctx.database.pool;
  const school = (await pool.query(`SELECT id FROM structures ORDER BY name LIMIT 1`)).rows[0].id as string;
  const classes = (await pool.query(`SELECT id FROM classes WHERE structure_id = $1 ORDER BY name LIMIT 2`, [school])).rows.map((r) => r.id as string);
  const scopes: Scope[] = [{ kind: 'all' }, { kind: 'structures', structureIds: [school] }, { kind: 'classes', classIds: classes }];
  let compared = 0;
  for (const scope of scopes) {
    for (const sort of ['alpha', 'profile', 'class', 'family']) {
      for (const filter of [{}, { profiles: ['Relative'] }, { classIds: [classes[0]] }]) {
        const selection = SelectionSchema.parse({ ...filter, sort });
        const expected = await selectAccounts(ctx, selection, scope);
        for (const batch of [97, 1000]) {
          const { rows, batches } = await streamed(selection, scope, batch);
          const label = `${scope.kind} ${sort} ${JSON.stringify(filter)} ${batch}`;
          assert.deepEqual(rows.map((r) => r.id), expected.map((r) => r.id), label);
          // Same details as the whole selection's query (codes decrypted, classes, children, school, manageable).
          assert.deepEqual(rows, expected, label);
          assert.ok(batches.slice(0, -1).every((n) => n === batch) && batches.at(-1)! <= batch, `${label}: ${batches}`);
          compared += rows.length;
        }
      }
    }
  }
  assert.ok(compared > 5000, `${compared} rows compared`);
});

// One statement, one snapshot: an account renamed across the first batch's boundary while that batch is handed out
// and rendered is in the file once (a first version read the two parts in two statements; found by a review).
async function exportWhile(rename: (firstBatch: string[]) => Promise<void>) {
  const selection = SelectionSchema.parse({ sort: 'alpha' });
  const client = await ctx.database.pool.connect();
  try {
    await client.query('BEGIN');
    const ids: string[] = [];
    let first = true;
    for await (const batch of streamSelection(ctx, client, selection, { kind: 'all' }, 50)) {
      ids.push(...batch.map((r) => r.id));
      // While the first batch is handed out and rendered, another connection renames an account.
      if (first) await rename(batch.map((r) => r.id));
      first = false;
    }
    await client.query('ROLLBACK');
    return ids;
  } finally {
    client.release();
  }
}

test('an account renamed from after the first batch to before it while the first batch is rendered is still in the file', async () => {
  const pool = ctx.database.pool;
  const all = (await selectAccounts(ctx, SelectionSchema.parse({ sort: 'alpha' }), { kind: 'all' })).map((r) => r.id);
  assert.ok(all.length > 100);
  const ids = await exportWhile(async (firstBatch) => {
    const later = all.find((id) => !firstBatch.includes(id))!;
    await pool.query(`UPDATE users SET last_name = 'AAAAA' WHERE id = $1`, [later]);
  });
  assert.equal(new Set(ids).size, ids.length, 'each once');
  assert.deepEqual([...ids].sort(), [...all].sort(), 'every account of the selection');
});

test('an account renamed from the first batch to after it is printed once', async () => {
  const pool = ctx.database.pool;
  const ids = await exportWhile(async (firstBatch) => {
    await pool.query(`UPDATE users SET last_name = 'ZZZZZ' WHERE id = $1`, [firstBatch[0]]);
  });
  assert.equal(new Set(ids).size, ids.length, 'each once');
});
