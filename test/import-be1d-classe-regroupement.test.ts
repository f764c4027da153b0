// ONDE's extractions heading the class « Classe ou regroupement » (invented files: test/fixtures/be1d/classe-regroupement/,
// with the export's other columns: « Deuxième prénom », « Commune naissance », « Date inscription », « Identifiant
// classe », « Etat »), as the reference ENT's feeder maps it (ProfileColumnsMapper: classeouregroupement → classes).
// The pupils' file was refused (« colonne obligatoire « Classe » absente ») and the teacher's class left unread.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { collectInputs, formatReport, importFiles } from '../src/import/index.js';
import { accountReaders, fileContext } from './helpers/db.js';

const DIR = new URL('./fixtures/be1d/classe-regroupement/', import.meta.url).pathname;
const ctx = await fileContext();
const { user, classesOf } = accountReaders(ctx);

test('« Classe ou regroupement » is the class column of ONDE’s pupils and teachers', async () => {
  const report = await importFiles(ctx, collectInputs([DIR]), { dryRun: false, scope: { kind: 'all' }, structureHint: 'École des Tilleuls' } as Parameters<typeof importFiles>[2]);
  assert.equal(report.fatal, null, formatReport(report));
  assert.deepEqual(report.rejected, []);
  assert.equal(report.created, 2);
  assert.deepEqual(await classesOf((await user('ROUSSEL', 'Léon')).id), [{ name: 'CP A', level: 'CP' }]);
  assert.deepEqual(await classesOf((await user('VIAL', 'Odile')).id), [{ name: 'CP A', level: 'CP' }]);
});
