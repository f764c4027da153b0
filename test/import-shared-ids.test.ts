// One identifier, two kinds of person (checks.ts PERSON_KIND): an ENT CSV that numbers its pupils and its parents
// from 1 each, an AAF feed whose pupil and relative jointures collide. Merged, the pupil vanished into the parent's
// account (0 pupils created, no warning); matched to an existing account, a parent's row turned the pupil's
// activated account into a parent's — credentials in the wrong hands. Both records are now refused, named.
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { collectInputs, formatReport, importFiles, type ImportOptions } from '../src/import/index.js';
import { fileContext, fileTempDir, sqlReaders } from './helpers/db.js';

const ctx = await fileContext();
const tmp = fileTempDir('trousseau-shared-ids-');
const { q } = sqlReaders(ctx);

const opts = (structureHint: string, o: Partial<ImportOptions> = {}): ImportOptions => ({ dryRun: false, scope: { kind: 'all' }, structureHint, ...o });
const people = (school: string) =>
  q<{ p: string }>(
    `SELECT u.profile || ' ' || u.first_name || ' ' || u.last_name || CASE WHEN u.absent_since IS NULL THEN '' ELSE ' (absent)' END AS p
     FROM users u JOIN user_structures us ON us.user_id = u.id JOIN structures s ON s.id = us.structure_id WHERE s.name = $1 ORDER BY 1`,
    [school],
  ).then((r) => r.map((x) => x.p));
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
const PARENTS = 'Id;Nom;Prénom;Id enfant\n1;MARTIN;Paul;1\n2;DURAND;Anne;2\n';

test('CSV files numbering pupils and parents from 1: the colliding rows are refused, each naming the other, nobody merged', async () => {
  const r = await importFiles(ctx, [csv('CSV_Eleves.csv', PUPILS), csv('CSV_Parents.csv', PARENTS)], opts('Collège Un'));
  assert.equal(r.fatal, null, formatReport(r));
  // Only the rows: the parents' links to the refused pupils are not reported again as « no such pupil ».
  assert.deepEqual(
    r.rejected.map((x) => `${x.file}:${x.line}:${x.field}:${x.message?.code}`).sort(),
    ['CSV_Eleves.csv:2:identifiant:rowSharedId', 'CSV_Eleves.csv:3:identifiant:rowSharedId', 'CSV_Parents.csv:2:identifiant:rowSharedId', 'CSV_Parents.csv:3:identifiant:rowSharedId'],
  );
  assert.match(formatReport(r), /CSV_Eleves\.csv, ligne 2, identifiant : identifiant « 1 » donné aussi à Paul MARTIN \(CSV_Parents\.csv, ligne 2\)/);
  // The pupil with an identifier of its own is imported; none of the others became anyone.
  assert.deepEqual(await people('Collège Un'), ['Student Zoé PETIT']);
  assert.equal(r.created, 1);
  assert.equal(r.relations.created, 0);
});

test('one identifier on two pupils’ rows (pasted): both refused; the same pupil spelt twice, or a parent given once per child, is one account', async () => {
  const pupils =
    'Id;Nom;Prénom;Date de naissance;Classe\n1;MARTIN;Léa;01/02/2014;6A\n1;DURAND;Tom;03/04/2013;6A\n2;petit jean;eloise;05/06/2013;6B\n2;PETIT-JEAN;Éloïse;05/06/2013;6B\n' +
    '4;PETIT-JEAN;Hugo;07/08/2014;6A\n';
  const parents = 'Id;Nom;Prénom;Id enfant\n10;PETIT-JEAN;Marc;2\n10;PETIT-JEAN;Marc;4\n';
  const r = await importFiles(ctx, [csv('CSV_Eleves.csv', pupils), csv('CSV_Parents.csv', parents)], opts('Collège Quatre'));
  assert.equal(r.fatal, null, formatReport(r));
  assert.deepEqual(r.rejected.filter((x) => x.message?.code === 'rowSharedId').map((x) => `${x.file}:${x.line}:${x.message?.params?.name}`), [
    'CSV_Eleves.csv:2:Tom DURAND',
    'CSV_Eleves.csv:3:Léa MARTIN',
  ]);
  assert.deepEqual(await people('Collège Quatre'), ['Relative Marc PETIT-JEAN', 'Student Hugo PETIT-JEAN', 'Student Éloïse PETIT-JEAN']);
  assert.deepEqual(r.relations.created, 2);
  assert.equal(r.rejected.length, 2, formatReport(r));
});

test('a parent row under the identifier of an existing pupil is refused: the pupil’s account keeps its profile, names and sign-in, and is not absent', async () => {
  const first = await importFiles(ctx, [csv('CSV_Eleves.csv', PUPILS)], opts('Collège Deux'));
  assert.equal(first.created, 3, formatReport(first));
  await q(`UPDATE users SET activated_at = now() WHERE first_name = 'Léa' AND last_name = 'MARTIN'`);
  const before = await q(`SELECT id, profile, first_name, last_name, login, activated_at, import_hash FROM users WHERE first_name = 'Léa' AND last_name = 'MARTIN'`);
  const r = await importFiles(ctx, [csv('CSV_Parents.csv', PARENTS)], opts('Collège Deux'));
  assert.equal(r.fatal, null, formatReport(r));
  assert.deepEqual(r.rejected.map((x) => `${x.file}:${x.line}:${x.message?.code}`), ['CSV_Parents.csv:2:applyProfileConflict', 'CSV_Parents.csv:3:applyProfileConflict']);
  assert.match(formatReport(r), /identifiant « 1 » déjà celui du compte lea\.martin, d’un autre profil : ligne ignorée/);
  assert.deepEqual(await q(`SELECT id, profile, first_name, last_name, login, activated_at, import_hash FROM users WHERE first_name = 'Léa' AND last_name = 'MARTIN'`), before);
  assert.deepEqual(await people('Collège Deux'), ['Student Léa MARTIN', 'Student Tom DURAND', 'Student Zoé PETIT']);
  assert.equal(r.created + r.updated + r.preDeleted, 0);
  // The pupils' own file again: unchanged, nobody absent.
  const again = await importFiles(ctx, [csv('CSV_Eleves.csv', PUPILS)], opts('Collège Deux'));
  assert.deepEqual([again.created, again.updated, again.unchanged, again.preDeleted], [0, 0, 3, 0], formatReport(again));
});

test('AAF: a pupil and a relative under one jointure, in files read apart, are both refused; the others import', async () => {
  const rec = (cat: string, id: string, attrs: [string, string][]) =>
    `<addRequest><operationalAttributes><attr name="categoriePersonne"><value>${cat}</value></attr></operationalAttributes>` +
    `<identifier><id>${id}</id></identifier><attributes>${attrs.map(([n, v]) => `<attr name="${n}"><value>${v}</value></attr>`).join('')}</attributes></addRequest>\n`;
  const dir = mkdtempSync(join(tmp, 'aaf-'));
  const file = (kind: string, body: string) => {
    writeFileSync(join(dir, `ENT_Complet_20240901_${kind}_0000.xml`), `<?xml version="1.0" encoding="UTF-8"?>\n<ficAlimMENESR>\n${body}</ficAlimMENESR>\n`);
  };
  const etab = `<addRequest><operationalAttributes><attr name="categorieStructure"><value>EtabEducNat</value></attr></operationalAttributes><identifier><id>91001</id></identifier><attributes><attr name="ENTStructureJointure"><value>91001</value></attr><attr name="ENTStructureUAI"><value>0910001X</value></attr><attr name="ENTStructureNomCourant"><value>CLG TROIS</value></attr></attributes></addRequest>\n`;
  file('EtabEducNat', etab);
  // A relative no pupil names is left out of an AAF run: Inès names Julie.
  const pupil = (id: string, first: string, relative: string) =>
    rec('Eleve', id, [['ENTPersonJointure', id], ['sn', 'Bernard'], ['givenName', first], ['ENTPersonDateNaissance', '01/01/2012'], ['ENTPersonStructRattach', '91001'], ['ENTElevePersRelEleve', `${relative}$10$1$1$0$0`]]);
  file('Eleve', pupil('7001', 'Léo', '7001') + pupil('7002', 'Inès', '7003'));
  file('PersRelEleve', rec('PersRelEleve', '7001', [['ENTPersonJointure', '7001'], ['sn', 'Bernard'], ['givenName', 'Marc']]) + rec('PersRelEleve', '7003', [['ENTPersonJointure', '7003'], ['sn', 'Bernard'], ['givenName', 'Julie']]));
  // Chunks of 1: the two records are staged apart and meet only in the staging table.
  const r = await importFiles(ctx, collectInputs([dir]), { dryRun: false, scope: { kind: 'all' }, chunkSize: 1 });
  assert.equal(r.fatal, null, formatReport(r));
  assert.deepEqual(r.rejected.map((x) => `${x.file.replace(/.*_(\w+)_0000\.xml$/, '$1')}:${x.message?.code}:${x.message?.params?.id}`).sort(), ['Eleve:rowSharedId:7001', 'PersRelEleve:rowSharedId:7001']);
  assert.deepEqual(
    (await q<{ x: string }>(`SELECT external_id || ' ' || profile || ' ' || first_name AS x FROM users WHERE external_id LIKE '700%' ORDER BY 1`)).map((x) => x.x),
    ['7002 Student Inès', '7003 Relative Julie'],
  );
});

test('the person of a refused row keeps their account though its key is not in the file: nobody sent to the grace period', async () => {
  const school = opts('Collège Cinq');
  const pupils = 'Id;Nom;Prénom;Date de naissance;Classe\nE1;MARTIN;Léa;01/02/2014;6A\nE2;DURAND;Tom;03/04/2013;6A\nE3;PETIT;Inès;05/06/2013;6B\nE4;ROUX;Zoé;07/08/2013;6B\n';
  const parents = 'Id;Nom;Prénom;Id enfant\nP1;MARTIN;Karim;E1\nP2;PETIT;Nadia;E3\n';
  const first = await importFiles(ctx, [csv('CSV_Eleves.csv', pupils), csv('CSV_Parents.csv', parents)], school);
  assert.equal(first.created, 6, formatReport(first));
  // Tom's row now carries Inès's identifier; Karim's a pupil's.
  const pasted = pupils.replace('E2;DURAND;Tom', 'E3;DURAND;Tom');
  const wrongParent = parents.replace('P1;MARTIN;Karim', 'E2;MARTIN;Karim');
  const r = await importFiles(ctx, [csv('CSV_Eleves.csv', pasted), csv('CSV_Parents.csv', wrongParent)], school);
  assert.equal(r.fatal, null, formatReport(r));
  assert.deepEqual(
    r.rejected.map((x) => `${x.file}:${x.line}:${x.message?.code}`).sort(),
    ['CSV_Eleves.csv:3:rowSharedId', 'CSV_Eleves.csv:4:rowSharedId', 'CSV_Parents.csv:2:applyProfileConflict'],
  );
  assert.equal(r.preDeleted, 0, formatReport(r));
  assert.deepEqual(await people('Collège Cinq'), [
    'Relative Karim MARTIN', 'Relative Nadia PETIT', 'Student Inès PETIT', 'Student Léa MARTIN', 'Student Tom DURAND', 'Student Zoé ROUX',
  ]);
});

// Links: a refused or crossed parent key must not link the pupil its key names (found by a review).
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

// A file that gains an identifier column adopts the accounts it made by name (formerIds): refused rows keep them.
test('an identifier column added with one Id pasted on two pupils: both refused, neither account absent', async () => {
  const byName = 'Nom;Prénom;Date de naissance;Classe\nMARTIN;Léa;01/02/2014;6A\nDURAND;Tom;03/04/2013;6A\nPETIT;Zoé;05/06/2013;6B\n';
  assert.equal((await importFiles(ctx, [csv('CSV_Eleves.csv', byName)], opts('Collège Ids'))).created, 3);
  const withIds = 'Id;Nom;Prénom;Date de naissance;Classe\n1;MARTIN;Léa;01/02/2014;6A\n1;DURAND;Tom;03/04/2013;6A\n3;PETIT;Zoé;05/06/2013;6B\n';
  const r = await importFiles(ctx, [csv('CSV_Eleves.csv', withIds)], opts('Collège Ids'));
  assert.deepEqual(r.rejected.map((x) => x.message?.code), ['rowSharedId', 'rowSharedId'], formatReport(r));
  assert.deepEqual(await people('Collège Ids'), ['Student Léa MARTIN', 'Student Tom DURAND', 'Student Zoé PETIT'], formatReport(r));
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
