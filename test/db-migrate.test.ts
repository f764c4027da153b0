import assert from 'node:assert/strict';
import { test } from 'node:test';
import { migrate } from '../src/db/index.js';
import { freshDatabase } from './helpers/db.js';

test('migrations are applied once and are idempotent', async () => {
  const d = await freshDatabase();
  try {
    assert.deepEqual(await migrate(d.pool), [], 'template is already migrated');
    const { rows } = await d.pool.query("SELECT count(*)::int AS n FROM information_schema.tables WHERE table_name = 'users'");
    assert.equal(rows[0].n, 1);
  } finally {
    await d.close();
  }
});
