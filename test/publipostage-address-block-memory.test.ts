// Sheets with the postal address in a window envelope's window (`--address-block`, « adresse=1 »): the export fills a
// map of addresses batch by batch from its cursor (generate.ts), and the PDF must let go of each address once its sheet
// is laid out. Kept to the end, a région's export (`trousseau publipostage --format pdf --address-block` has no school to
// bound it) held every address of the directory in memory while its file streamed (issue #11: memory flat).
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { streamSheetsPdf } from '../src/publipostage/pdf.js';
import { selectAccounts } from '../src/publipostage/select.js';
import { SelectionSchema } from '../src/publipostage/selection.js';
import { testContext } from './helpers/db.js';
import { pdfText } from './helpers/pdf.js';
import { insertSample } from './helpers/sample.js';

const ctx = await testContext();
const dir = mkdtempSync(join(tmpdir(), 'trousseau-address-block-'));
after(async () => {
  rmSync(dir, { recursive: true, force: true });
  await ctx.close();
});
await insertSample(ctx);

test('each postal address is printed on its sheet, then released: none is left once the PDF is written', async () => {
  const rows = await selectAccounts(ctx, SelectionSchema.parse({}), { kind: 'all' });
  assert.ok(rows.length > 5);
  const addresses = new Map(rows.map((r, i) => [r.id, `${i + 1} RUE DES ÉCOLES\n13100 AIX EN PROVENCE`]));
  async function* batches() {
    // Two at a time, as the export's cursor hands them over (each batch's addresses added before it is yielded).
    for (let i = 0; i < rows.length; i += 2) yield rows.slice(i, i + 2);
  }
  const chunks: Buffer[] = [];
  for await (const c of await streamSheetsPdf(ctx, batches(), { model: 1, addresses })) chunks.push(c as Buffer);
  const file = join(dir, 'sheets.pdf');
  writeFileSync(file, Buffer.concat(chunks));
  const text = pdfText(file);
  for (let i = 1; i <= rows.length; i++) assert.match(text, new RegExp(`\\b${i} RUE DES ÉCOLES`), `address ${i} printed`);
  assert.equal(addresses.size, 0, 'addresses released once their sheets are laid out');
});
