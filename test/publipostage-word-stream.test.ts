// The Word CSV (« Exporter pour Word ») streams as the CSV export does (issue #11): `trousseau publipostage --format word`
// has no school to bound it, and a région's million accounts held as rows, then as one string, is gigabytes. Streamed,
// it reads the selection batch by batch from the export's cursor: same bytes as renderWordCsv, however it is batched.
import assert from 'node:assert/strict';
import { Readable } from 'node:stream';
import { after, test } from 'node:test';
import { exportSelection } from '../src/publipostage/generate.js';
import { selectAccounts } from '../src/publipostage/select.js';
import { SelectionSchema, type AccountRow } from '../src/publipostage/selection.js';
import { renderWordCsv, wordCsvChunks } from '../src/publipostage/word.js';
import { testContext } from './helpers/db.js';
import { insertSample } from './helpers/sample.js';

const ctx = await testContext();
after(() => ctx.close());
await insertSample(ctx);

async function bytes(stream: AsyncIterable<Buffer | string>): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const c of stream) chunks.push(Buffer.isBuffer(c) ? c : Buffer.from(c));
  return Buffer.concat(chunks);
}

test('the Word CSV of a selection is a stream, with the bytes renderWordCsv gives for the same accounts', async () => {
  const selection = SelectionSchema.parse({});
  const result = await exportSelection(ctx, { format: 'word', selection, scope: { kind: 'all' }, actorId: null, via: 'cli' });
  assert.ok(!Buffer.isBuffer(result.body) && result.body instanceof Readable, 'the Word CSV is streamed, not built whole in memory');
  const got = await bytes(result.body);
  // The export has committed its fresh codes: the same selection now reads the codes it printed.
  const rows = await selectAccounts(ctx, selection, { kind: 'all' });
  assert.ok(rows.length > 5);
  assert.equal(result.count, rows.length);
  assert.equal(got.toString('utf8'), renderWordCsv(rows, ctx).toString('utf8'));
  const audit = await ctx.database.pool.query(`SELECT details FROM audit WHERE action = 'publipostage.word' ORDER BY id DESC LIMIT 1`);
  assert.equal(audit.rows[0]?.details.count, rows.length);
});

test('wordCsvChunks writes renderWordCsv’s bytes whatever the batches (several slices per batch, empty batches, none)', async () => {
  const [first] = await selectAccounts(ctx, SelectionSchema.parse({}), { kind: 'all' });
  const hostile = ['a;b', 'say "hi"', 'line\nbreak', '=SUM(A1)', 'Éléonore', ''];
  const rows: AccountRow[] = Array.from({ length: 1203 }, (_, i) => ({
    ...first,
    id: `00000000-0000-4000-8000-${String(i).padStart(12, '0')}`,
    lastName: `${hostile[i % hostile.length]}${i}`,
    firstName: hostile[(i + 1) % hostile.length],
    login: `login.${i}`,
    classes: i % 2 ? ['6A', hostile[i % hostile.length]] : [],
  }));
  const expected = renderWordCsv(rows, ctx).toString('utf8');
  for (const size of [1, 7, 500, 1203, 5000]) {
    async function* batches() {
      yield [] as AccountRow[];
      for (let i = 0; i < rows.length; i += size) yield rows.slice(i, i + size);
    }
    assert.equal((await bytes(wordCsvChunks(batches(), ctx))).toString('utf8'), expected, `batches of ${size}`);
  }
  async function* none() {}
  assert.equal((await bytes(wordCsvChunks(none(), ctx))).toString('utf8'), renderWordCsv([], ctx).toString('utf8'));
});
