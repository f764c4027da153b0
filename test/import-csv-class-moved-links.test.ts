// ENT CSV templates filled by hand (invented files: test/fixtures/csv/class-moved/): a pupil moves class in the
// pupils' file while the parents' file of the same run still gives the class of before. Found on the shared
// csv-templates: with Mathias LEGRAND moved from « CM2 de M. ARNOULD » to « CM1 de M. ARNOULD » in CSV_Eleves.csv
// only, the run reported « un élève de ce nom est en CM1 de M. ARNOULD, pas dans cette classe : lien non créé »
// for both parents' rows and then REMOVED both existing links (« représentants légaux retirés »): the pupil was
// left with no legal representative. The reference ENT only adds (MERGE) a CSV parent's links to the children its
// row resolves: an unresolved mention removes nothing. An unresolved row is a remark, not a parent no longer
// naming the child: the links in place must stay.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import iconv from 'iconv-lite';
import { collectInputs, formatReport, importFiles, type ImportOptions } from '../src/import/index.js';
import { fileContext, sqlReaders } from './helpers/db.js';

const DIR = new URL('./fixtures/csv/class-moved/', import.meta.url).pathname;
const opts: ImportOptions = { dryRun: false, scope: { kind: 'all' }, structureHint: 'École des Peupliers' };
const ctx = await fileContext();
const { q } = sqlReaders(ctx);

const links = async () =>
  (
    await q<{ x: string }>(
      `SELECT p.first_name || ' ' || p.last_name || ' > ' || c.first_name || ' ' || c.last_name AS x
       FROM relations r JOIN users p ON p.id = r.parent_id JOIN users c ON c.id = r.child_id ORDER BY 1`,
    )
  ).map((r) => r.x);

test('a pupil moved to another class keeps her parents when the parents’ file still gives the former class', async () => {
  const first = await importFiles(ctx, collectInputs([DIR]), opts);
  assert.equal(first.fatal, null, formatReport(first));
  const before = await links();
  assert.deepEqual(before, ['Agathe FAURIEL > Irène FAURIEL', 'Agathe FAURIEL > Noé FAURIEL', 'Bruno FAURIEL > Noé FAURIEL', 'Lise QUENTIN > Sacha QUENTIN']);

  // Noé goes up to CM1 in the pupils' file; the parents' file is the same as before.
  const pupils = iconv.decode(readFileSync(join(DIR, 'CSV_Eleves.csv')), 'latin1').replace('Noé;FAURIEL;14/02/2015;CE2 de Mme ROCHE', 'Noé;FAURIEL;14/02/2015;CM1 de Mme ROCHE');
  const second = await importFiles(
    ctx,
    [
      { name: 'CSV_Eleves.csv', data: iconv.encode(pupils, 'latin1') },
      { name: 'CSV_Parents.csv', data: readFileSync(join(DIR, 'CSV_Parents.csv')) },
    ],
    opts,
  );
  assert.equal(second.fatal, null, formatReport(second));
  assert.equal(await q<{ n: string }>(`SELECT count(*) n FROM users WHERE first_name = 'Noé'`).then((r) => Number(r[0].n)), 1);
  // Nothing in the run says Agathe and Bruno are no longer Noé's parents.
  assert.equal(second.relations.removed, 0, formatReport(second));
  assert.deepEqual(await links(), before, formatReport(second));
});
