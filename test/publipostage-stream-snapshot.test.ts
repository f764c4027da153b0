// The export's stream reads its first batch as a preview page and the rest after that batch's last key, in ONE
// statement (one snapshot): an account renamed across that boundary while the first batch is handed out and
// rendered is in the file once. (Found by a review of a first version that read them in two statements.)
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
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
