// AAF staff are attached to the schools their functions name (ENTPersonFonctions `structure$CODE$…`, the structure's
// ENTStructureJointure), as to their ENTPersonStructRattach: a member of staff whose attachment field is empty is
// not left in no school when a function names a school of the delivery or of the directory. A function naming a
// school unknown to both attaches nothing and is not reported as a skipped attachment (the function is kept).
// Small invented feed, written here: the directory knows 94002, the delivery carries 94001.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { formatReport, importFiles, type ImportReport } from '../src/import/index.js';
import { fileContext, sqlReaders } from './helpers/db.js';
import { aafRecord as rec, aafXml as xml } from './helpers/aaf-feed.js';

const ctx = await fileContext();
const { q } = sqlReaders(ctx);

const structuresOf = async (ext: string) =>
  (
    await q<{ x: string }>(
      `SELECT s.external_id AS x FROM users u JOIN user_structures us ON us.user_id = u.id JOIN structures s ON s.id = us.structure_id WHERE u.external_id = $1 ORDER BY 1`,
      [ext],
    )
  ).map((r) => r.x);
const run = async (files: { name: string; data: Buffer }[]): Promise<ImportReport> => {
  const report = await importFiles(ctx, files, { scope: { kind: 'all' }, dryRun: false });
  assert.equal(report.fatal, null, formatReport(report));
  assert.deepEqual(report.rejected, []);
  return report;
};

const NAME = (kind: string, day = '20250901') => `ENT_Complet_${day}_${kind}_0000.xml`;
const etab = (id: string, uai: string, name: string) =>
  rec('EtabEducNat', id, [['ENTStructureJointure', [id]], ['ENTStructureUAI', [uai]], ['ENTStructureNomCourant', [name]]]);
const staff = (id: string, first: string, attach: string[], functions: string[]) =>
  rec('PersEducNat', id, [
    ['ENTPersonJointure', [id]], ['sn', ['Lemoine']], ['givenName', [first]], ['PersEducNatPresenceDevantEleves', ['N']],
    ['ENTPersonStructRattach', attach], ['ENTPersonFonctions', functions],
  ]);

test('staff with an empty attachment are attached to the schools of their functions known to the run or the directory', async () => {
  // The directory knows 94002 (an earlier delivery).
  await run([{ name: NAME('EtabEducNat', '20250801'), data: xml(etab('94002', '0940002B', 'LYCEE$PAUL ELUARD$VITRY')) }]);

  const delivery = [
    { name: NAME('EtabEducNat'), data: xml(etab('94001', '0940001A', 'CLG$LOUISE MICHEL$IVRY')) },
    {
      name: NAME('PersEducNat'),
      data: xml(
        // A head of school whose attachment field is empty: her function names the delivery's collège.
        staff('P1', 'Anne', [''], ["94001$DIR$DIRECTION$-$DIRECTION CHEF D'ETABLISSEMENT"]) +
          // A CPE of a lycée the directory already holds.
          staff('P2', 'Marc', [], ['94002$EDU$EDUCATION$-$CONSEILLER PRINCIPAL D EDUCATION']) +
          // A function in a school nobody knows: no school, and nothing invented.
          staff('P3', 'Lise', [''], ['99999$EDU$EDUCATION$-$ASSISTANT D EDUCATION']) +
          // Attached to the collège, a function in the lycée too: both.
          staff('P4', 'Paul', ['94001'], ['94002$ADF$ADMINISTRATION$-$SECRETARIAT']),
      ),
    },
  ];
  const report = await run(delivery);
  assert.deepEqual(await structuresOf('P1'), ['94001']);
  assert.deepEqual(await structuresOf('P2'), ['94002']);
  assert.deepEqual(await structuresOf('P3'), []);
  assert.deepEqual(await structuresOf('P4'), ['94001', '94002']);
  assert.deepEqual((await q<{ functions: string[] }>(`SELECT functions FROM users WHERE external_id = 'P3'`))[0].functions, ['99999$EDU$EDUCATION$-$ASSISTANT D EDUCATION']);
  // Nothing invented for 99999, and no « rattachement ignoré » for a school only a function names.
  assert.deepEqual((await q<{ x: string }>(`SELECT external_id AS x FROM structures ORDER BY 1`)).map((r) => r.x), ['94001', '94002']);
  assert.deepEqual(report.ignored, []);
  // The report names the one account left in no school.
  assert.equal(report.unattached?.count, 1);
  assert.deepEqual(report.unattached?.sample.map((x) => x.name), ['Lise Lemoine']);
  assert.equal(report.created, 4);

  // Imported again: nothing changes.
  const again = await run(delivery);
  assert.equal(again.created + again.updated, 0, formatReport(again));
  assert.deepEqual(await structuresOf('P1'), ['94001']);
});

const modify = (id: string, mods: [string, string[]][]) =>
  `<modifyRequest>\n<operationalAttributes><attr name="categoriePersonne"><value>PersEducNat</value></attr></operationalAttributes>\n` +
  `<identifier><id>${id}</id></identifier>\n<modifications>\n` +
  mods.map(([n, vs]) => `<modification name="${n}" operation="replace">${vs.map((v) => `<value>${v}</value>`).join('')}</modification>`).join('\n') +
  '\n</modifications>\n</modifyRequest>\n';

test('two modifyRequests of one person in a delta: a school only her function names is still no « rattachement ignoré »', async () => {
  // Lise (P3): a function in 99999, a school nobody knows. The académie's delta names her in two files (a new
  // first name in one, a new function in the other, still in 99999): the second request is laid over the first,
  // whose structures then held 99999 as if her ENTPersonStructRattach named it.
  const report = await run([
    { name: 'ENT_Delta_20250915_PersEducNat_0000.xml', data: xml(modify('P3', [['givenName', ['Lisa']]])) },
    { name: 'ENT_Delta_20250915_PersEducNat_0001.xml', data: xml(modify('P3', [['ENTPersonFonctions', ['99999$EDU$EDUCATION$-$CONSEILLER PRINCIPAL D EDUCATION']]])) },
  ]);
  assert.equal(report.updated, 1, formatReport(report));
  assert.deepEqual(report.ignored, [], formatReport(report));
  assert.deepEqual(await structuresOf('P3'), []);
  assert.deepEqual(
    await q(`SELECT first_name, functions FROM users WHERE external_id = 'P3'`),
    [{ first_name: 'Lisa', functions: ['99999$EDU$EDUCATION$-$CONSEILLER PRINCIPAL D EDUCATION'] }],
  );
});
