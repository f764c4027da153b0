// Settings every application connection starts with (db/index.ts SESSION_OPTIONS): the keyset page of a région's
// whole directory is read serially only if PostgreSQL prices parallel workers at 10× its default.
import assert from 'node:assert/strict';
import { after, test } from 'node:test';
import pg from 'pg';
import { connectionConfig, openDatabase } from '../src/db/index.js';
import { freshDatabase } from './helpers/db.js';

const db = await freshDatabase();
after(() => db.close());

async function setting(pool: Pick<pg.Pool, 'query'>, name: string): Promise<string> {
  return (await pool.query(`SELECT current_setting($1) AS v`, [name])).rows[0].v;
}

test('every pooled connection prices parallel workers at 10,000, a bare client at the server’s default', async () => {
  const values = await Promise.all([1, 2, 3].map(() => setting(db.pool, 'parallel_setup_cost')));
  assert.deepEqual(values, ['10000', '10000', '10000']);
  const bare = new pg.Client(db.url);
  await bare.connect();
  try {
    assert.equal(await setting(bare, 'parallel_setup_cost'), '1000');
  } finally {
    await bare.end();
  }
});

test('options given in DATABASE_URL are kept beside ours', async () => {
  const u = new URL(db.url);
  u.searchParams.set('options', '-c statement_timeout=4321');
  const other = openDatabase(u.toString(), 1);
  try {
    assert.equal(await setting(other.pool, 'statement_timeout'), '4321ms');
    assert.equal(await setting(other.pool, 'parallel_setup_cost'), '10000');
  } finally {
    await other.close();
  }
});

test('a connection string that is not a URL is passed through with the options beside it', () => {
  assert.deepEqual(connectionConfig('/var/run/postgresql trousseau'), { connectionString: '/var/run/postgresql trousseau', options: '-c parallel_setup_cost=10000' });
});

test('options given by PGOPTIONS, as libpq and node-postgres read them, are kept beside ours', async () => {
  const before = process.env.PGOPTIONS;
  process.env.PGOPTIONS = '-c statement_timeout=4322';
  try {
    const other = openDatabase(db.url, 1);
    try {
      assert.equal(await setting(other.pool, 'statement_timeout'), '4322ms');
      assert.equal(await setting(other.pool, 'parallel_setup_cost'), '10000');
    } finally {
      await other.close();
    }
  } finally {
    if (before === undefined) delete process.env.PGOPTIONS;
    else process.env.PGOPTIONS = before;
  }
});
