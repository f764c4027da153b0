// Statements sent without awaiting each (src/db/queued.ts): an import pipelines its chunks on one connection, so the
// order they reach PostgreSQL in, COPY included, and the error reported when one of them fails are what matter.
import assert from 'node:assert/strict';
import { finished } from 'node:stream/promises';
import { after, before, test } from 'node:test';
import { copyLines, copyStream } from '../src/db/copy.js';
import { QueuedWrites, sequenced } from '../src/db/queued.js';
import { freshDatabase } from './helpers/db.js';

let db: Awaited<ReturnType<typeof freshDatabase>>;
before(async () => {
  db = await freshDatabase();
});
after(async () => {
  await db.close();
});

test('statements and COPY sent without awaiting run in call order, and node-postgres never queues them itself', async () => {
  const warnings: string[] = [];
  const onWarning = (w: Error) => warnings.push(w.message);
  process.on('warning', onWarning);
  const connection = await db.pool.connect();
  try {
    const client = sequenced(connection);
    await client.query('BEGIN');
    await client.query('CREATE TEMP TABLE seen (n serial, v text) ON COMMIT DROP');
    const sent: Promise<unknown>[] = [];
    sent.push(client.query(`INSERT INTO seen (v) VALUES ('a')`));
    const copy = copyStream(client, 'seen', ['v']);
    for (const piece of copyLines([['b'], ['c']])) copy.write(piece);
    copy.end();
    sent.push(client.query(`INSERT INTO seen (v) VALUES ('d')`));
    // A read sent last sees every write before it.
    const read = client.query<{ v: string }>('SELECT v FROM seen ORDER BY n');
    await Promise.all(sent);
    assert.deepEqual((await read).rows.map((r) => r.v), ['a', 'b', 'c', 'd']);
    await client.query('ROLLBACK');
  } finally {
    connection.release();
    process.off('warning', onWarning);
  }
  assert.deepEqual(warnings.filter((w) => /already executing a query/.test(w)), []);
});

test('a failed write is the error reported, not the aborted transaction of the statements after it', async () => {
  const connection = await db.pool.connect();
  try {
    const client = sequenced(connection);
    await client.query('BEGIN');
    const writes = new QueuedWrites();
    writes.hold(() => client.query('SELECT 1/0'));
    writes.hold(() => client.query('SELECT 1'));
    // Held writes are not sent yet: a statement sent now runs first.
    assert.equal((await client.query<{ x: number }>('SELECT 1 AS x')).rows[0].x, 1);
    writes.send();
    const later = client.query('SELECT 2').catch((e: Error) => e);
    const e = (await later) as Error;
    assert.match(e.message, /current transaction is aborted/);
    assert.match(String(await writes.cause(e)), /division by zero/);
    await assert.rejects(writes.settle(), /division by zero/);
    await client.query('ROLLBACK');
    // The connection is usable again, in order.
    assert.equal((await client.query<{ x: number }>('SELECT 3 AS x')).rows[0].x, 3);
  } finally {
    connection.release();
  }
});

test('a COPY destroyed before its turn stores nothing, finishes, and the statements after it run', async () => {
  const connection = await db.pool.connect();
  try {
    const client = sequenced(connection);
    await client.query('CREATE TEMP TABLE kept (v text)');
    const slow = client.query('SELECT pg_sleep(0.05)');
    const copy = copyStream(client, 'kept', ['v']);
    copy.write('lost\n');
    copy.destroy(new Error('given up'));
    // It finishes (failing): a stream left pending would hold the connection for ever.
    const outcome = await Promise.race([
      finished(copy).then(() => 'stored', () => 'failed'),
      new Promise((done) => setTimeout(done, 5000, 'still pending after 5 s')),
    ]);
    assert.equal(outcome, 'failed');
    const after = await client.query<{ n: string }>('SELECT count(*) AS n FROM kept');
    await slow;
    assert.equal(after.rows[0].n, '0');
  } finally {
    connection.release();
  }
});
