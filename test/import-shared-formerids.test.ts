// rows refused for a shared identifier (rowSharedId) must not take their accounts away. A school's file that
// gains an identifier column adopts the accounts it created by name (formerIds); when the new column has an Id pasted
// on two pupils, both rows are refused — and their name-keyed accounts must not be pre-deleted as absent.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { formatReport, importFiles, type ImportOptions } from '../src/import/index.js';
import { testContext } from './helpers/db.js';

let ctx: Awaited<ReturnType<typeof testContext>>;
before(async () => {
  ctx = await testContext();
});
after(async () => {
  await ctx.close();
});
const opts = (structureHint: string): ImportOptions => ({ dryRun: false, scope: { kind: 'all' }, structureHint });
const csv = (name: string, text: string) => ({ name, data: Buffer.from(text) });

test('an identifier column added with one Id pasted on two pupils: both refused, neither account absent', async () => {
  const byName = 'Nom;Prénom;Date de naissance;Classe\nMARTIN;Léa;01/02/2014;6A\nDURAND;Tom;03/04/2013;6A\nPETIT;Zoé;05/06/2013;6B\n';
  assert.equal((await importFiles(ctx, [csv('CSV_Eleves.csv', byName)], opts('Collège Ids'))).created, 3);
  const withIds = 'Id;Nom;Prénom;Date de naissance;Classe\n1;MARTIN;Léa;01/02/2014;6A\n1;DURAND;Tom;03/04/2013;6A\n3;PETIT;Zoé;05/06/2013;6B\n';
  const r = await importFiles(ctx, [csv('CSV_Eleves.csv', withIds)], opts('Collège Ids'));
  assert.deepEqual(r.rejected.map((x) => x.message?.code), ['rowSharedId', 'rowSharedId'], formatReport(r));
  const absent = (await ctx.database.pool.query<{ n: string }>(`SELECT first_name AS n FROM users WHERE absent_since IS NOT NULL OR pre_deleted_at IS NOT NULL ORDER BY 1`)).rows.map((x) => x.n);
  assert.deepEqual(absent, [], formatReport(r));
  assert.equal(r.preDeleted, 0, formatReport(r));
});

test('control: the same file with one row refused for a typo keeps that row’s account', async () => {
  const byName = 'Nom;Prénom;Date de naissance;Classe\nMARTIN;Léa;01/02/2014;6A\nDURAND;Tom;03/04/2013;6A\n';
  assert.equal((await importFiles(ctx, [csv('CSV_Eleves.csv', byName)], opts('Collège Typo'))).created, 2);
  const withIds = 'Id;Nom;Prénom;Date de naissance;Classe\n1;MARTIN;Léa;31/02/2014;6A\n2;DURAND;Tom;03/04/2013;6A\n';
  const r = await importFiles(ctx, [csv('CSV_Eleves.csv', withIds)], opts('Collège Typo'));
  assert.equal(r.rejected.length, 1, formatReport(r));
  assert.equal(r.preDeleted, 0, formatReport(r));
});
