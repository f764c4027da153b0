// A connection checked out of the pool and cut by the server between two queries (an export waiting on a slow
// reader, idle in its transaction, ended by idle_in_transaction_session_timeout, pg_terminate_backend or a failover)
// must fail that export's next query, not bring the whole process down with an unhandled 'error' event.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { fileContext } from './helpers/db.js';

const ctx = await fileContext();

test('a checked-out connection cut by the server fails its next query; the process stays up', async () => {
  const uncaught: unknown[] = [];
  const onUncaught = (e: unknown) => uncaught.push(e);
  process.on('uncaughtException', onUncaught);
  try {
    const client = await ctx.database.pool.connect();
    await client.query('BEGIN');
    const { rows } = await client.query<{ pid: number }>('SELECT pg_backend_pid() AS pid');
    await ctx.database.pool.query('SELECT pg_terminate_backend($1)', [rows[0].pid]);
    await new Promise((r) => setTimeout(r, 500));
    await assert.rejects(client.query('SELECT 1'));
    client.release(true);
    assert.deepEqual(uncaught.map(String), []);
    assert.equal((await ctx.database.pool.query('SELECT 1 AS one')).rows[0].one, 1, 'the pool still serves');
  } finally {
    process.off('uncaughtException', onUncaught);
  }
});
