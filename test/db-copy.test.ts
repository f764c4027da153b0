// copyRows (src/db/copy.ts): values in COPY's text format arrive intact, and a long COPY lets the event loop turn
// between its pieces (an import's new accounts are computed as the COPY pulls them, in the server's process).
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { copyRows } from '../src/db/copy.js';
import { freshDatabase } from './helpers/db.js';

let db: Awaited<ReturnType<typeof freshDatabase>>;
before(async () => {
  db = await freshDatabase();
});
after(() => db.close());

test('a COPY of many rows turns the event loop between pieces, every value intact', async () => {
  const client = await db.pool.connect();
  try {
    await client.query('BEGIN');
    await client.query('CREATE TEMP TABLE copied (n int, label text, note text) ON COMMIT DROP');
    const total = 30_000;
    let made = 0;
    // Rows made before the event loop first turned: at most one piece of 64 KB. A line is 38 to 47 characters
    // (6 digits, the escaped label, a note or \N), so a piece holds at most 65536 / 38 + 1 rows; the stream alone
    // would pull two pieces or more before the first turn.
    const onePiece = Math.ceil(65536 / 38) + 1;
    let beforeTurn = -1;
    function* rows() {
      setImmediate(() => (beforeTurn = made));
      for (let n = 100_000; n < 100_000 + total; n++) {
        made++;
        yield [n, `Zoé\t${n}\\ligne\r\nsuite`, n % 7 ? `note ${n}` : null];
      }
    }
    await copyRows(client, 'copied', ['n', 'label', 'note'], rows());
    assert.ok(beforeTurn > 0 && beforeTurn <= onePiece, `rows made before the event loop turned: ${beforeTurn}`);
    const { rows: got } = await client.query('SELECT count(*)::int AS count, count(note)::int AS notes, min(label) FILTER (WHERE n = 100012) AS label FROM copied');
    const nulls = Array.from({ length: total }, (_, i) => (100_000 + i) % 7 === 0).filter(Boolean).length;
    assert.deepEqual(got[0], { count: total, notes: total - nulls, label: 'Zoé\t100012\\ligne\r\nsuite' });
    await client.query('ROLLBACK');
  } finally {
    client.release();
  }
});
