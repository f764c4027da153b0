// a parent row refused because its identifier is a pupil's (rowSharedId / applyProfileConflict) must not
// leave a parent–child link hanging on the PUPIL's account (the key still resolves to it in import_relations).
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
const links = async (school: string) =>
  (
    await ctx.database.pool.query<{ l: string }>(
      `SELECT p.profile || ' ' || p.first_name || ' -> ' || c.profile || ' ' || c.first_name AS l FROM relations r
       JOIN users p ON p.id = r.parent_id JOIN users c ON c.id = r.child_id
       JOIN user_structures us ON us.user_id = c.id JOIN structures s ON s.id = us.structure_id WHERE s.name = $1 ORDER BY 1`,
      [school],
    )
  ).rows.map((x) => x.l);
const PUPILS = 'Id;Nom;Prénom;Date de naissance;Classe\n1;MARTIN;Léa;01/02/2014;6A\n2;DURAND;Tom;03/04/2013;6A\n3;PETIT;Zoé;05/06/2013;6B\n';

test('pupils and parents numbered from 1 in one run, after the pupils were imported: no pupil becomes another pupil’s parent', async () => {
  assert.equal((await importFiles(ctx, [csv('CSV_Eleves.csv', PUPILS)], opts('Collège Liens'))).created, 3);
  // Parent 1 (Paul DURAND) is Tom's (pupil 2) father; his Id collides with pupil 1 Léa.
  const r = await importFiles(ctx, [csv('CSV_Eleves.csv', PUPILS), csv('CSV_Parents.csv', 'Id;Nom;Prénom;Id enfant\n1;DURAND;Paul;2\n')], opts('Collège Liens'));
  assert.ok(r.rejected.some((x) => x.message?.code === 'rowSharedId'), formatReport(r));
  assert.deepEqual(await links('Collège Liens'), [], formatReport(r));
});

test('a parents file alone whose Id is an existing pupil’s (applyProfileConflict): no link from that pupil', async () => {
  assert.equal((await importFiles(ctx, [csv('CSV_Eleves.csv', PUPILS)], opts('Collège Liens Deux'))).created, 3);
  const r = await importFiles(ctx, [csv('CSV_Parents.csv', 'Id;Nom;Prénom;Id enfant\n1;DURAND;Paul;2\n')], opts('Collège Liens Deux'));
  assert.ok(r.rejected.some((x) => x.message?.code === 'applyProfileConflict'), formatReport(r));
  assert.deepEqual(await links('Collège Liens Deux'), [], formatReport(r));
});

test('a parent row crossed with an existing pupil (applyProfileConflict) while the child is in the run: no link from that pupil', async () => {
  assert.equal((await importFiles(ctx, [csv('CSV_Eleves.csv', PUPILS)], opts('Collège Liens Trois'))).created, 3);
  // The pupils' file now numbers from 11; the parents' Id 1 is still pupil Léa's key.
  const pupils = 'Id;Nom;Prénom;Date de naissance;Classe\n1;MARTIN;Léa;01/02/2014;6A\n2;DURAND;Tom;03/04/2013;6B\n3;PETIT;Zoé;05/06/2013;6B\n';
  const r = await importFiles(ctx, [csv('CSV_Eleves.csv', pupils.replace('1;MARTIN', '1;MARTIN').replace(/\n1;MARTIN.*\n/, '\n')), csv('CSV_Parents.csv', 'Id;Nom;Prénom;Id enfant\n1;DURAND;Paul;2\n')], opts('Collège Liens Trois'));
  assert.ok(r.rejected.some((x) => x.message?.code === 'applyProfileConflict'), formatReport(r));
  assert.deepEqual(await links('Collège Liens Trois'), [], formatReport(r));
});
