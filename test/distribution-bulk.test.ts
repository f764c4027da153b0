// distribution_events without per-row foreign keys (migration 0023): deleting accounts still deletes their hand-outs
// and forgets them as authors, set-wise, and emptying users empties them too.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { recordDistribution } from '../src/publipostage/tracking.js';
import { fileContext } from './helpers/db.js';
import { insertSample } from './helpers/sample.js';

const ctx = await fileContext();
const s = await insertSample(ctx);

test('an account deleted takes its hand-outs with it, and the ones it handed out keep no author', async () => {
  const pool = ctx.database.pool;
  await recordDistribution(pool, { userIds: [s.users.zoe, s.users.leo, s.users.zoe], kind: 'sheet', actorId: s.users.marc });
  await recordDistribution(pool, { userIds: [s.users.marc], kind: 'mail', actorId: null });
  const count = async (sql: string, p: unknown[]) => (await pool.query(sql, p)).rows[0].n as number;
  // Duplicate ids recorded once.
  assert.equal(await count('SELECT count(*)::int AS n FROM distribution_events WHERE user_id = $1', [s.users.zoe]), 1);
  await pool.query('DELETE FROM users WHERE id = ANY($1::uuid[])', [[s.users.zoe, s.users.marc]]);
  assert.equal(await count('SELECT count(*)::int AS n FROM distribution_events WHERE user_id = ANY($1::uuid[])', [[s.users.zoe, s.users.marc]]), 0);
  const leo = await pool.query('SELECT kind, actor_id FROM distribution_events WHERE user_id = $1', [s.users.leo]);
  assert.deepEqual(leo.rows, [{ kind: 'sheet', actor_id: null }]);
});

test('ids that are not uuids are refused by PostgreSQL, nothing recorded', async () => {
  await assert.rejects(recordDistribution(ctx.database.pool, { userIds: [s.users.leo, 'x,y'], kind: 'sheet', actorId: null }), /uuid/);
});
