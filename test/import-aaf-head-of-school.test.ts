// The AAF head of school (ENTPersonFonctions `structure$DIR$…`) is made local administrator of the structure the
// function names, by its jointure or its UAI, whether the delivery carries it or only the directory knows it (a
// partial feed). A DIR function in a structure neither knows gives no administration: the dry run and the import say
// it (file, record's line, ENTPersonFonctions, the structure), instead of leaving the head of school without it unsaid.
// Small invented feed, written here: the directory knows 94002 (an earlier delivery) and a school without jointure
// (UAI 0940003C, as a SIECLE import makes them); the delivery carries 94001.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { formatReport, importFiles, type ImportReport } from '../src/import/index.js';
import { rejectionText } from '../src/web/import-text.js';
import { fileContext, sqlReaders } from './helpers/db.js';
import { aafRecord as rec, aafXml as xml } from './helpers/aaf-feed.js';

const ctx = await fileContext();
const { q } = sqlReaders(ctx);

/** The structures (jointure, else UAI) a person administers (`local_admins`), or belongs to (`user_structures`). */
const structuresIn = (table: 'local_admins' | 'user_structures') => async (ext: string) =>
  (
    await q<{ x: string }>(
      `SELECT coalesce(s.external_id, s.uai) AS x FROM ${table} t JOIN users u ON u.id = t.user_id JOIN structures s ON s.id = t.structure_id
       WHERE u.external_id = $1 ORDER BY 1`,
      [ext],
    )
  ).map((r) => r.x);
const adminOf = structuresIn('local_admins');
const structuresOf = structuresIn('user_structures');
const run = async (files: { name: string; data: Buffer }[], dryRun = false, partial = false): Promise<ImportReport> => {
  const report = await importFiles(ctx, files, { scope: { kind: 'all' }, dryRun, partial });
  assert.equal(report.fatal, null, formatReport(report));
  assert.deepEqual(report.rejected, [], formatReport(report));
  return report;
};

const NAME = (kind: string, day = '20250901') => `ENT_Complet_${day}_${kind}_0000.xml`;
const etab = (id: string, uai: string, name: string) =>
  rec('EtabEducNat', id, [['ENTStructureJointure', [id]], ['ENTStructureUAI', [uai]], ['ENTStructureNomCourant', [name]]]);
const staff = (id: string, last: string, attach: string[], functions: string[]) =>
  rec('PersEducNat', id, [
    ['ENTPersonJointure', [id]], ['sn', [last]], ['givenName', ['Anne']], ['PersEducNatPresenceDevantEleves', ['N']],
    ['ENTPersonStructRattach', attach], ['ENTPersonFonctions', functions],
  ]);
const DIR = (structure: string) => `${structure}$DIR$DIRECTION$D0010$DIRECTION CHEF D'ETABLISSEMENT`;
/** The line of the record of `id` in `text` (its `<addRequest>`), as the report names it. */
const lineOf = (text: string, id: string) => text.slice(0, text.lastIndexOf('<addRequest>', text.indexOf(`<id>${id}</id>`))).split('\n').length;

test('a DIR function in a structure unknown to the delivery and the directory is said; known ones, by jointure or UAI, make the head an administrator', async () => {
  await run([{ name: NAME('EtabEducNat', '20250801'), data: xml(etab('94002', '0940002B', 'LYCEE$PAUL ELUARD$VITRY')) }]);
  await q(`INSERT INTO structures (uai, name, origin) VALUES ('0940003C', 'École Jean Jaurès', 'feed')`);

  const people = xml(
    // Attached to the delivery's collège, head of a school nobody knows: no administration, said.
    staff('P1', 'ARNAUD', ['94001'], [DIR('99999')]) +
      // Head of the lycée only the directory knows (outside this delivery): administrator there.
      staff('P2', 'BERTIN', [''], [DIR('94002')]) +
      // Heads named by UAI: the delivery's collège, the directory's lycée, the directory's school without jointure.
      staff('P3', 'CAMUS', [''], [DIR('0940001A')]) +
      staff('P4', 'DELORME', [''], [DIR('0940002B')]) +
      staff('P5', 'ESTIENNE', ['94001'], [DIR('0940001A')]) +
      staff('P6', 'FAURE', [''], [DIR('0940003C')]) +
      // Another function in an unknown school: nothing to say (no administration was due).
      staff('P7', 'GIRARD', [''], ['99999$EDU$EDUCATION$-$ASSISTANT D EDUCATION']),
  );
  const delivery = [
    { name: NAME('EtabEducNat'), data: xml(etab('94001', '0940001A', 'CLG$LOUISE MICHEL$IVRY')) },
    { name: NAME('PersEducNat'), data: people },
  ];
  const expected = {
    file: NAME('PersEducNat'),
    line: lineOf(people.toString(), 'P1'),
    field: 'ENTPersonFonctions',
    reason: "ARNAUD Anne (P1) : fonction de direction (DIR) dans la structure « 99999 », absente du fichier EtabEducNat et de l'annuaire : aucune administration locale donnée",
    message: { code: 'ignoredAafHeadOfSchool', params: { who: 'ARNAUD Anne', id: 'P1', structure: '99999' } },
    record: 'P1',
  };

  // The dry run says it, and gives nobody anything.
  const dry = await run(delivery, true);
  assert.deepEqual(dry.ignored, [expected], formatReport(dry));
  assert.ok(formatReport(dry).includes(`\n  ${expected.file}, ligne ${expected.line}, ENTPersonFonctions : ${expected.reason}\n`), formatReport(dry));
  // A remark on a row imported all the same, not a row ignored: its line says « 1 créé ; 1 remarque » for its one row.
  assert.deepEqual([dry.files.find((f) => f.file === expected.file)?.ignored, dry.files.find((f) => f.file === expected.file)?.notes], [0, 1], 'a remark, not a row ignored');
  assert.equal(
    rejectionText('en', dry.ignored[0]),
    `${expected.file}, line ${expected.line}, ENTPersonFonctions: ARNAUD Anne (P1): management function (DIR) in structure “99999”, absent from the EtabEducNat file and from the directory: no local administration given`,
  );
  assert.equal((await q(`SELECT 1 FROM local_admins`)).length, 0, 'a dry run appoints nobody');

  const report = await run(delivery);
  assert.deepEqual(report.ignored, [expected], formatReport(report));
  assert.deepEqual(await adminOf('P1'), [], 'no structure to administer');
  assert.deepEqual(await structuresOf('P1'), ['94001'], 'still in her collège');
  assert.deepEqual(await adminOf('P2'), ['94002']);
  assert.deepEqual(await structuresOf('P2'), ['94002']);
  assert.deepEqual(await adminOf('P3'), ['94001'], 'the UAI of the delivery’s collège');
  assert.deepEqual(await structuresOf('P3'), ['94001']);
  assert.deepEqual(await adminOf('P4'), ['94002'], 'the UAI of the directory’s lycée');
  assert.deepEqual(await structuresOf('P4'), ['94002']);
  assert.deepEqual(await adminOf('P5'), ['94001']);
  assert.deepEqual(await adminOf('P6'), ['0940003C'], 'a school without jointure, by its UAI');
  assert.deepEqual(await structuresOf('P6'), ['0940003C']);
  assert.deepEqual(await structuresOf('P7'), []);
  // Nothing invented: no « Structure 99999 », no school named after a UAI.
  assert.deepEqual((await q<{ x: string }>(`SELECT coalesce(external_id, uai) AS x FROM structures ORDER BY 1`)).map((r) => r.x), ['0940003C', '94001', '94002']);
  assert.deepEqual(
    report.adminChanges?.map((x) => x.name).sort(),
    ['Anne BERTIN', 'Anne CAMUS', 'Anne DELORME', 'Anne ESTIENNE', 'Anne FAURE'],
    formatReport(report),
  );

  // Imported again: nothing changes, and the head of the unknown school is said again.
  const again = await run(delivery);
  assert.equal(again.created + again.updated, 0, formatReport(again));
  assert.deepEqual(again.ignored, [expected]);
  assert.equal(again.adminChanges, undefined, formatReport(again));
});

test('a partial feed (no EtabEducNat file) keeps the heads of schools the directory knows, and says the others', async () => {
  const people = xml(staff('P8', 'HUGO', ['94001'], [DIR('94001')]) + staff('P9', 'IMBERT', ['94002'], [DIR('0940001A'), DIR('88888')]));
  const report = await run([{ name: NAME('PersEducNat', '20250902'), data: people }], false, true);
  assert.deepEqual(await adminOf('P8'), ['94001']);
  // By its UAI, a collège outside the run she is not attached to: attached to it and its administrator.
  assert.deepEqual(await adminOf('P9'), ['94001']);
  assert.deepEqual(await structuresOf('P9'), ['94001', '94002']);
  assert.deepEqual(
    report.ignored.map((x) => [x.line, x.field, x.message?.params?.structure]),
    [[lineOf(people.toString(), 'P9'), 'ENTPersonFonctions', '88888']],
    formatReport(report),
  );
});

test('a head of school no longer DIR loses the administration the feed gave her, in a structure the delivery does not carry or a school made by hand as well', async () => {
  await q(`INSERT INTO structures (uai, name, origin) VALUES ('0940005E', 'École Louise Weiss', 'manual')`);
  const delivery = (p10: string[], p11: string[], p12: string[]) => [
    { name: NAME('EtabEducNat', '20250903'), data: xml(etab('94001', '0940001A', 'CLG$LOUISE MICHEL$IVRY')) },
    { name: NAME('PersEducNat', '20250903'), data: xml(staff('P10', 'JOLY', ['94001'], p10) + staff('P11', 'KLEIN', ['94001'], p11) + staff('P12', 'LEBON', ['94001'], p12)) },
  ];
  // Heads of the school made by hand (by its UAI), of the lycée the directory knows (by its jointure), of another.
  await run(delivery([DIR('0940005E')], [DIR('94002')], [DIR('0940002B')]));
  assert.deepEqual([await adminOf('P10'), await adminOf('P11'), await adminOf('P12')], [['0940005E'], ['94002'], ['94002']]);
  // LEBON's administration was confirmed by hand: hers from now on, whatever the feed says.
  await q(`UPDATE local_admins SET from_feed = false WHERE user_id = (SELECT id FROM users WHERE external_id = 'P12')`);

  // The next delivery no longer gives them DIR: the feed's administration is taken back, said; the one confirmed by
  // hand stays.
  const report = await run(delivery([], [], []));
  assert.deepEqual(await adminOf('P10'), [], `no longer head of the school made by hand: ${formatReport(report)}`);
  assert.deepEqual(await adminOf('P11'), [], `no longer head of the lycée outside the delivery: ${formatReport(report)}`);
  assert.deepEqual(await adminOf('P12'), ['94002'], 'appointed by hand: stays');
  assert.deepEqual(report.adminChanges?.map((x) => [x.change, x.name, x.structure]).sort(), [
    ['revoked', 'Anne JOLY', 'École Louise Weiss'],
    ['revoked', 'Anne KLEIN', 'LYCEE - PAUL ELUARD - VITRY'],
  ], formatReport(report));
});

test('a former head of school is no longer in the structure only her DIR function named, though the delivery does not carry it', async () => {
  // Directory: the lycée 94002 (an earlier delivery) and a school made by hand (by its UAI). This delivery carries 94001.
  await q(`INSERT INTO structures (uai, name, origin) VALUES ('0940006F', 'École Simone Veil', 'manual')`);
  const delivery = (p13: string[], p14: string[]) => [
    { name: NAME('EtabEducNat', '20250904'), data: xml(etab('94001', '0940001A', 'CLG$LOUISE MICHEL$IVRY')) },
    { name: NAME('PersEducNat', '20250904'), data: xml(staff('P13', 'MARCHAND', ['94001'], p13) + staff('P14', 'NOEL', ['94001'], p14)) },
  ];
  await run(delivery([DIR('94002')], [DIR('0940006F')]));
  assert.deepEqual([await structuresOf('P13'), await adminOf('P13')], [['94001', '94002'], ['94002']], 'head of the lycée, in it');
  assert.deepEqual([await structuresOf('P14'), await adminOf('P14')], [['0940006F', '94001'], ['0940006F']], 'head of the school, in it');

  // The next delivery gives them no function there: neither administrator nor member of it (its accounts, its
  // publipostage and its class lists no longer count her), in her collège still.
  const report = await run(delivery([], []));
  assert.deepEqual(await adminOf('P13'), [], `no longer administrator: ${formatReport(report)}`);
  assert.deepEqual(await structuresOf('P13'), ['94001'], `no longer in the lycée only her former function named: ${formatReport(report)}`);
  assert.deepEqual(await structuresOf('P14'), ['94001'], `no longer in the school made by hand her function named by its UAI: ${formatReport(report)}`);
  assert.equal(report.updated, 2, `both accounts changed: ${formatReport(report)}`);
  assert.deepEqual(
    report.modified?.sample.map((m) => [m.name, m.links?.find((l) => l.field === 'structures')?.removed]),
    [['Anne MARCHAND', ['LYCEE - PAUL ELUARD - VITRY']], ['Anne NOEL', ['École Simone Veil']]],
    `the report names the structure each leaves: ${formatReport(report)}`,
  );

  // A head of school still DIR in a structure outside the delivery stays in it (and its administrator).
  await run(delivery([DIR('94002')], []));
  const again = await run(delivery([DIR('94002')], []));
  assert.equal(again.created + again.updated, 0, formatReport(again));
  assert.deepEqual([await structuresOf('P13'), await adminOf('P13')], [['94001', '94002'], ['94002']], 'head of the lycée again');
});

test('a head of school whose administration was confirmed by hand stays a member of the school outside the delivery', async () => {
  // Her administration is hers whatever the feed says (migration 0025), and one administers only a school one is a
  // member of (appointLocalAdmin): taking her out of it left an administrator of a school that no longer counted her,
  // whose lists and publipostage no longer held her.
  await q(`INSERT INTO structures (uai, name, origin) VALUES ('0940007G', 'École Rosa Parks', 'manual')`);
  const delivery = (p15: string[]) => [
    { name: NAME('EtabEducNat', '20250905'), data: xml(etab('94001', '0940001A', 'CLG$LOUISE MICHEL$IVRY')) },
    { name: NAME('PersEducNat', '20250905'), data: xml(staff('P15', 'OLIVIER', ['94001'], p15)) },
  ];
  await run(delivery([DIR('0940007G')]), false, true);
  assert.deepEqual([await structuresOf('P15'), await adminOf('P15')], [['0940007G', '94001'], ['0940007G']], 'head of the school made by hand, in it');
  await q(`UPDATE local_admins SET from_feed = false WHERE user_id = (SELECT id FROM users WHERE external_id = 'P15')`);

  const report = await run(delivery([]), false, true);
  assert.deepEqual(await adminOf('P15'), ['0940007G'], `appointed by hand: still its administrator: ${formatReport(report)}`);
  assert.deepEqual(await structuresOf('P15'), ['0940007G', '94001'], `and still a member of the school she administers: ${formatReport(report)}`);
});

test('a teacher’s function in a structure outside the delivery is another delivery’s: her membership there stays when this one does not name it', async () => {
  // P16 teaches in the collège 94001 (this delivery) and the lycée 94002 (a delivery imported apart, as 1D and 2D
  // are): this delivery's record names only the collège. Only a former DIR function takes her out of a structure
  // outside the delivery; any function did, and her lycée membership (and classes there) came and went with each run.
  const ENS = (s: string) => `${s}$ENS$ENSEIGNEMENT$L0202$LETTRES`;
  const delivery = (functions: string[]) => [
    { name: NAME('EtabEducNat', '20250906'), data: xml(etab('94001', '0940001A', 'CLG$LOUISE MICHEL$IVRY')) },
    { name: NAME('PersEducNat', '20250906'), data: xml(staff('P16', 'PERRIN', ['94001'], functions)) },
  ];
  await run(delivery([ENS('94001'), ENS('94002')]));
  assert.deepEqual(await structuresOf('P16'), ['94001', '94002'], 'in both schools her functions name');
  const report = await run(delivery([ENS('94001')]));
  assert.deepEqual(await structuresOf('P16'), ['94001', '94002'], `still in the lycée of the other delivery: ${formatReport(report)}`);
});
