import { writeFileSync } from 'node:fs';
import { after, before, test } from 'node:test';
import type { Scope } from '../src/directory/scope.js';
import { renderSheetsPdf } from '../src/publipostage/pdf.js';
import { selectAccounts } from '../src/publipostage/select.js';
import { SelectionSchema } from '../src/publipostage/selection.js';
import { testContext } from './helpers/db.js';
import { insertSample } from './helpers/sample.js';

let ctx: Awaited<ReturnType<typeof testContext>>;
const ALL: Scope = { kind: 'all' };
before(async () => {
  ctx = await testContext({ TROUSSEAU_PUBLIC_URL: 'https://ent.example.fr' });
  await insertSample(ctx);
});
after(() => ctx.close());

test('dump', async () => {
  const rows = await selectAccounts(ctx, SelectionSchema.parse({}), ALL);
  for (const model of [1, 2, 8] as const) writeFileSync(`/tmp/a11y/m${model}.pdf`, await renderSheetsPdf(ctx, rows, { model }));
});
