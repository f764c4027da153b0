// An AAF record whose ENTPersonDateNaissance cannot be read (« 31/02/2014 », « 00/00/1975 »: the académie's data, which
// the school cannot correct) left the whole person out: a new pupil or legal representative got no account, and a
// pupil of the directory stayed in last year's class, her account frozen until the académie fixed the date. The
// reference ENT takes the date as a plain text. The AAF keys a person by its jointure, never by the birth date: the
// person is now imported without that date (the stored one stays), and the report says so on the record's line, as
// it does for an e-mail address that is none.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { formatReport, importFiles } from '../src/import/index.js';
import { fileContext, sqlReaders } from './helpers/db.js';
import { aafRecord as rec, aafXml as xml } from './helpers/aaf-feed.js';

const ctx = await fileContext();
const { q } = sqlReaders(ctx);

const etab = rec('EtabEducNat', '76001', [
  ['ENTStructureJointure', ['76001']], ['ENTStructureUAI', ['0776001B']], ['ENTStructureNomCourant', ['CLG$LES SAULES$VILLEBOIS']],
  ['ENTStructureClasses', ['6A$6EME A', '5A$5EME A']],
]);
const pupil = (id: string, first: string, born: string, klass: string, parent: string) =>
  rec('Eleve', id, [
    ['ENTPersonJointure', [id]], ['sn', ['Lemaire']], ['givenName', [first]], ['ENTPersonDateNaissance', [born]],
    ['ENTPersonStructRattach', ['76001']], ['ENTEleveClasses', [`76001$${klass}`]], ['ENTElevePersRelEleve', [`${parent}$10$1$1$0$0`]],
  ]);
const relative = (id: string, first: string, born: string) =>
  rec('PersRelEleve', id, [['ENTPersonJointure', [id]], ['sn', ['Lemaire']], ['givenName', [first]], ['ENTPersonDateNaissance', [born]]]);
const files = (eleves: string, relatives: string) => [
  { name: 'ENT_Complet_20250901_EtabEducNat_0000.xml', data: xml(etab) },
  { name: 'ENT_Complet_20250901_Eleve_0000.xml', data: xml(eleves) },
  { name: 'ENT_Complet_20250901_PersRelEleve_0000.xml', data: xml(relatives) },
];
const who = async (ext: string) =>
  (
    await q<{ birth_date: string | null; classes: string[] | null; absent_since: Date | null }>(
      `SELECT u.birth_date, u.absent_since, (SELECT array_agg(c.name) FROM user_classes uc JOIN classes c ON c.id = uc.class_id WHERE uc.user_id = u.id) AS classes
       FROM users u WHERE u.external_id = $1`,
      [ext],
    )
  )[0];

test('a person whose birth date cannot be read is imported without it, the stored one kept, and the report says so', async () => {
  let r = await importFiles(ctx, files(pupil('IB-E1', 'Jade', '12/05/2014', '6A', 'IB-R1'), relative('IB-R1', 'Paul', '')), { scope: { kind: 'all' }, dryRun: false });
  assert.equal(r.fatal, null, formatReport(r));
  assert.deepEqual(await who('IB-E1'), { birth_date: '2014-05-12', classes: ['6A'], absent_since: null });

  // Next year: Jade in 5A, her date mistyped by the académie; a new pupil and her mother, both dates unreadable.
  r = await importFiles(
    ctx,
    files(pupil('IB-E1', 'Jade', '31/02/2014', '5A', 'IB-R1') + pupil('IB-E2', 'Lou', '00/00/2014', '6A', 'IB-R2'), relative('IB-R1', 'Paul', '') + relative('IB-R2', 'Anne', '00/00/1980')),
    { scope: { kind: 'all' }, dryRun: false },
  );
  assert.equal(r.fatal, null, formatReport(r));
  assert.deepEqual(await who('IB-E1'), { birth_date: '2014-05-12', classes: ['5A'], absent_since: null }, formatReport(r));
  assert.deepEqual(await who('IB-E2'), { birth_date: null, classes: ['6A'], absent_since: null }, formatReport(r));
  assert.equal((await who('IB-R2'))?.birth_date, null, 'Anne has her account');
  assert.deepEqual(
    (await q<{ l: string }>(`SELECT p.external_id || '>' || c.external_id AS l FROM relations r JOIN users p ON p.id = r.parent_id JOIN users c ON c.id = r.child_id ORDER BY 1`)).map((x) => x.l),
    ['IB-R1>IB-E1', 'IB-R2>IB-E2'],
  );
  assert.deepEqual(
    r.rejected.map((x) => [x.file, x.field, x.message?.code, x.message?.params?.value]),
    [
      ['ENT_Complet_20250901_Eleve_0000.xml', 'ENTPersonDateNaissance', 'aafInvalidBirth', '31/02/2014'],
      ['ENT_Complet_20250901_Eleve_0000.xml', 'ENTPersonDateNaissance', 'aafInvalidBirth', '00/00/2014'],
      ['ENT_Complet_20250901_PersRelEleve_0000.xml', 'ENTPersonDateNaissance', 'aafInvalidBirth', '00/00/1980'],
    ],
    formatReport(r),
  );
  assert.match(formatReport(r), /Eleve_0000\.xml, ligne \d+, ENTPersonDateNaissance : date de naissance invalide « 31\/02\/2014 » : non importée/);
  assert.deepEqual(r.files.map((f) => [f.rejected, f.notes]).slice(1), [[0, 2], [0, 1]]);
});
