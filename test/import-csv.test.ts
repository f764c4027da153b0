// CSV imports over invented fixtures (test/fixtures/csv, test/fixtures/be1d): encodings, the reference's templates
// in four languages, account keys and renames, repeated parents, bad input, hostile names, CLI.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import iconv from 'iconv-lite';
import { mergeUsers } from '../src/directory/duplicates.js';
import { collectInputs, formatReport, importFiles, type ImportOptions } from '../src/import/index.js';
import type { Rejection } from '../src/import/types.js';
import { reportView } from '../src/web/console/views/import.js';
import { fileContext, fileTempDir, freshDatabase, sqlReaders } from './helpers/db.js';

const FX = new URL('./fixtures/', import.meta.url).pathname;
const CSV = join(FX, 'csv');
const BE1D = join(FX, 'be1d', 'be1d-les-cerisiers');
/** Parents who share a first name, or give two e-mails, at one address; parents given once per child. */
const PLATANES = join(FX, 'be1d', 'be1d-les-platanes');
/** The header lines of ONDE's pupils' and parents' extractions (one child per parent row). */
const ONDE_PUPILS = `"Nom Elève";"Nom d'usage Elève";"Prénom Elève";"Date naissance";"Sexe";"Adresse1";"Cp1";"Commune1";"Pays1";" Cycle";"Niveau";"Classe"\n`;
const ONDE_PARENTS = `"Civilité Responsable";"Nom usage responsable";"Nom responsable";"Prénom responsable";"Adresse responsable";"CP responsable";"Commune responsable";"Pays";"Courriel";"Téléphone domicile";"Téléphone travail";"Numéro de poste";"Téléphone portable";"Nom d'usage enfant";"Nom de famille enfant";"Prénom enfant";"Classes enfants"\n`;
const opts = (o: Partial<ImportOptions> = {}): ImportOptions => ({ dryRun: false, scope: { kind: 'all' }, ...o });

const ctx = await fileContext();
const tmp = fileTempDir('trousseau-csv-');
const { q, count } = sqlReaders(ctx);

const snapshot = async () =>
  JSON.stringify(await q(`SELECT external_id, login, activation_code_enc, first_name, last_name, email, updated_at, pre_deleted_at, absent_since FROM users ORDER BY external_id`)) +
  JSON.stringify(await q(`SELECT (SELECT count(*) FROM relations) r, (SELECT count(*) FROM user_classes) c, (SELECT count(*) FROM structures) s`));
/** The rejections as the command line prints them (their message codes are checked apart). */
const plain = (rs: Rejection[]) => rs.map(({ file, line, field, reason }) => ({ file, line, field, reason }));
const latin1 = (s: string) => iconv.encode(s.replace(/\n/g, '\r\n'), 'latin1');
const classesOf = async (id: string) =>
  (await q<{ name: string }>(`SELECT c.name FROM user_classes uc JOIN classes c ON c.id = uc.class_id WHERE uc.user_id = $1 ORDER BY 1`, [id])).map((r) => r.name);
const childrenOf = async (id: string) =>
  (await q<{ n: string }>(`SELECT c.last_name || ' ' || c.first_name n FROM relations r JOIN users c ON c.id = r.child_id WHERE r.parent_id = $1 ORDER BY 1`, [id])).map((r) => r.n);
/** Users of a structure (by name): `login first last` sorted. */
const people = async (structure: string, profile?: string) =>
  (
    await q<{ p: string }>(
      `SELECT u.login || ' ' || u.first_name || ' ' || u.last_name p FROM users u JOIN user_structures us ON us.user_id = u.id
       JOIN structures s ON s.id = us.structure_id WHERE s.name = $1 AND ($2::text IS NULL OR u.profile = $2) ORDER BY 1`,
      [structure, profile ?? null],
    )
  ).map((r) => r.p);

test('a file in another script’s encoding (Cyrillic, Greek, Chinese, Japanese) is refused naming the encoding; nothing is written', async () => {
  const cases: [string, string, RegExp][] = [
    ['Nom;Prénom;Date de naissance;Classe\nИванов;Иван;01/02/2014;6A\nПетрова;Мария;03/04/2013;6A\n', 'win1251', /Windows-1251/],
    ['Nom;Prenom;Date de naissance;Classe\nΠαπαδόπουλος;Γιώργος;01/02/2014;6A\n', 'win1253', /Windows-1253/],
    ['Nom;Prenom;Date de naissance;Classe\n王芳;李娜;01/02/2014;6A\n张伟;刘洋;03/04/2013;6A\n陈静;杨磊;03/04/2013;6A\n', 'gb2312', /GB18030|GB2312|CP949|EUC-KR/],
    ['Nom;Prenom;Date de naissance;Classe\n山田;太郎;01/02/2014;6A\n佐藤;花子;03/04/2013;6A\n', 'shift_jis', /Johab|SHIFT_JIS|CP932|EUC-JP/],
  ];
  for (const [text, encoding, named] of cases) {
    const report = await importFiles(ctx, [{ name: 'CSV_Eleves.csv', data: iconv.encode(text, encoding) }], opts({ structureHint: 'École des Alphabets' }));
    assert.ok(report.fatal, `${encoding}: ${formatReport(report)}`);
    assert.equal(report.fatal.file, 'CSV_Eleves.csv');
    assert.match(report.fatal.reason, named);
    assert.match(report.fatal.reason, /enregistrez-le en UTF-8/);
    assert.equal(report.created, 0);
  }
  // The same names in UTF-8 import, with transliterated logins.
  const utf8 = await importFiles(ctx, [{ name: 'CSV_Eleves.csv', data: Buffer.from(cases[0][0]) }], opts({ structureHint: 'École des Alphabets' }));
  assert.equal(utf8.fatal, null, formatReport(utf8));
  assert.equal(utf8.created, 2);
});

test('encodings: UTF-8 with and without BOM, ISO-8859-15 (Œ, €), Windows-1252, Mac Roman with CR line ends, MS-DOS CP850', async () => {
  const cases: [string, string, string[]][] = [
    ['utf8', 'UTF-8', ['anais.boeuf Anaïs BŒUF', 'jerome.lefevre Jérôme Lefèvre']],
    ['utf8-bom', 'UTF-8', ['eloise.cremieux Éloïse Crémieux', 'noel.strasse Noël Straße']],
    ['iso-8859-15', 'ISO-8859-15', ['lise.boeuf Lise BŒUF', 'sarka.oeillet Šárka Œillet', 'zoe.yvon Žoé Ÿvon']],
    ['windows-1252', 'Windows-1252', ['lise.boeuf2 Lise BŒUF', 'renee.lhote Renée L’Hôte', 'zoe.oeillet Zoé Œillet']],
    ['mac-roman', 'Mac Roman', ['agnes.boeuf Agnès Bœuf', 'francois.muller François Müller', 'stephane.lefevre Stéphane Lefèvre']],
    // Excel's « CSV (MS-DOS) »: read as Mac Roman it gave « LÇa GARÄON ».
    ['cp850', 'MS-DOS \\(CP850\\)', ['helene.cote Hélène Côté', 'jerome.lefevre-noel Jérôme Lefèvre-Noël', 'lea.garcon Léa GARÇON']],
  ];
  for (const [dir, encoding, want] of cases) {
    const report = await importFiles(ctx, collectInputs([join(CSV, 'encodings', dir)]), opts({ structureHint: `Encodage ${dir}` }));
    assert.equal(report.fatal, null, formatReport(report));
    assert.deepEqual(report.rejected, [], dir);
    assert.equal(report.files[0].encoding, encoding.replace(/\\/g, ''), dir);
    assert.match(formatReport(report), new RegExp(`CSV_Eleves\\.csv — CSV élèves — ${encoding} — \\d lignes`));
    assert.deepEqual(await people(`Encodage ${dir}`, 'Student'), want, dir);
  }
  const [regie] = await q<{ functions: string[] }>(`SELECT functions FROM users WHERE last_name = 'Cœurdevey'`);
  assert.deepEqual(regie.functions, ["Régie d'avances (€)"]);
});

test('the reference templates in French, English, Spanish and Portuguese import; Childexternalid links parents', async () => {
  const report = await importFiles(ctx, collectInputs([join(CSV, 'templates', 'en')]), opts());
  assert.equal(report.fatal, null, formatReport(report));
  // Name@externalId_UAI gives the structure its name, external id and UAI.
  assert.deepEqual(report.structures, [
    { name: 'Springfield School', uai: '0990001A', created: true, accounts: { Student: { created: 3, updated: 0, unchanged: 0, restored: 0, preDeleted: 0 }, Relative: { created: 3, updated: 0, unchanged: 0, restored: 0, preDeleted: 0 }, Teacher: { created: 1, updated: 0, unchanged: 0, restored: 0, preDeleted: 0 }, Personnel: { created: 1, updated: 0, unchanged: 0, restored: 0, preDeleted: 0 }, Guest: { created: 1, updated: 0, unchanged: 0, restored: 0, preDeleted: 0 } } },
  ]);
  assert.deepEqual(await q(`SELECT name, uai, external_id FROM structures WHERE uai = '0990001A'`), [{ name: 'Springfield School', uai: '0990001A', external_id: 'SPR-01' }]);
  assert.deepEqual(report.files.map((f) => [f.file, f.format, f.rows]), [
    ['CSV_Guests.csv', 'CSV invités', 1], ['CSV_Parents.csv', 'CSV parents', 3], ['CSV_Staff.csv', 'CSV personnels', 1],
    ['CSV_Students.csv', 'CSV élèves', 3], ['CSV_Teachers.csv', 'CSV enseignants', 1],
  ]);
  assert.deepEqual(report.rejected, [
    { file: 'CSV_Parents.csv', line: 4, field: 'Childexternalid', reason: "aucun élève d'identifiant « STU-404 » dans cet établissement : lien non créé", message: { code: 'applyNoPupilId', params: { id: 'STU-404' } } },
  ]);
  assert.equal(report.relations.created, 3);
  const [grace] = await q<Record<string, string>>(`SELECT * FROM users WHERE first_name = 'Grace'`);
  assert.deepEqual(await childrenOf(grace.id), ['HART Amelia', 'HART Noah']);
  assert.match(grace.external_id, /^csv:[0-9a-f-]+:id:PAR-001$/);
  // Olivia has no class: accepted.
  const [olivia] = await q<Record<string, string>>(`SELECT * FROM users WHERE first_name = 'Olivia'`);
  assert.deepEqual([olivia.profile, await classesOf(olivia.id)], ['Student', []]);
  const [ruth] = await q<Record<string, string>>(`SELECT * FROM users WHERE first_name = 'Ruth'`);
  assert.deepEqual([ruth.profile, await classesOf(ruth.id)], ['Teacher', ['1A', '3B']]);
  assert.deepEqual((await q(`SELECT profile, functions FROM users WHERE first_name = 'Dev'`))[0], { profile: 'Personnel', functions: ['Head of IT'] });

  const es = await importFiles(ctx, collectInputs([join(CSV, 'templates', 'es')]), opts({ structureHint: 'Colegio Cervantes' }));
  assert.equal(es.fatal, null, formatReport(es));
  assert.deepEqual(es.rejected, []);
  assert.deepEqual(es.files.map((f) => [f.format, f.rows]), [['CSV élèves', 2], ['CSV invités', 1], ['CSV parents', 1], ['CSV personnels', 1], ['CSV enseignants', 1]]);
  const [carmen] = await q<Record<string, string>>(`SELECT * FROM users WHERE first_name = 'Carmen'`);
  assert.deepEqual(await childrenOf(carmen.id), ['GARCÍA Lucía', 'GARCÍA Mateo']);
  assert.deepEqual(await people('Colegio Cervantes'), [
    'andres.nunez Andrés NÚÑEZ', 'carmen.lopez Carmen LÓPEZ', 'inigo.ruiz Íñigo RUIZ', 'lucia.garcia Lucía GARCÍA', 'mateo.garcia Mateo GARCÍA', 'rocio.diaz Rocío DÍAZ',
  ]);

  const pt = await importFiles(ctx, collectInputs([join(CSV, 'templates', 'pt')]), opts({ structureHint: 'Escola Camões' }));
  assert.equal(pt.fatal, null, formatReport(pt));
  assert.deepEqual(pt.rejected, []);
  assert.deepEqual(pt.files.map((f) => [f.format, f.rows]), [['CSV élèves', 1], ['CSV invités', 1], ['CSV personnels', 1], ['CSV parents', 1], ['CSV enseignants', 1]]);
  const [maria] = await q<Record<string, string>>(`SELECT * FROM users WHERE first_name = 'Maria'`);
  assert.deepEqual(await childrenOf(maria.id), ['SANTOS João']);
  const [joao] = await q<Record<string, string>>(`SELECT * FROM users WHERE first_name = 'João'`);
  assert.deepEqual([joao.birth_date, await classesOf(joao.id)], ['2013-12-12', ['3º ano']]);

  // One file, the profile in a column.
  const mixed = await importFiles(ctx, collectInputs([join(CSV, 'templates', 'profile-column')]), opts({ structureHint: 'École Mixte' }));
  assert.equal(mixed.fatal, null, formatReport(mixed));
  assert.deepEqual(mixed.rejected.map((r) => [r.file, r.line, r.field]), [['import.csv', 5, 'Profil']]);
  assert.equal(mixed.files[0].format, 'CSV élèves, enseignants, invités');
  assert.deepEqual(await q(`SELECT u.first_name, u.profile FROM users u JOIN user_structures us ON us.user_id = u.id JOIN structures s ON s.id = us.structure_id WHERE s.name = 'École Mixte' ORDER BY 1`), [
    { first_name: 'Iris', profile: 'Guest' }, { first_name: 'Lou', profile: 'Student' }, { first_name: 'Yves', profile: 'Teacher' },
  ]);

  // Idempotent.
  const before = await snapshot();
  const again = await importFiles(ctx, collectInputs([join(CSV, 'templates', 'en')]), opts());
  assert.deepEqual([again.created, again.updated, again.preDeleted], [0, 0, 0]);
  assert.equal(await snapshot(), before);
});

test('French template: a parent given once per child is one account; a pupil without class; a bad e-mail is a rejected field', async () => {
  const report = await importFiles(ctx, collectInputs([join(CSV, 'templates', 'fr')]), opts({ structureHint: 'École des Tilleuls' }));
  assert.equal(report.fatal, null, formatReport(report));
  assert.deepEqual(plain(report.rejected), [
    { file: 'CSV_Parents.csv', line: 5, field: 'Courriel', reason: 'adresse électronique invalide « anne.terrier(at)example.org » : non importée' },
  ]);
  assert.deepEqual(await people('École des Tilleuls', 'Relative'), ['anne.terrier Anne TERRIER', 'marc.verger Marc VERGER', 'sophie.marchal Sophie MARCHAL']);
  const [marc] = await q<Record<string, string>>(`SELECT * FROM users WHERE login = 'marc.verger'`);
  assert.equal(marc.email, 'marc.verger@example.org');
  assert.deepEqual(await childrenOf(marc.id), ['VERGER Jules', 'VERGER Pauline']);
  const [anne] = await q<Record<string, string>>(`SELECT * FROM users WHERE login = 'anne.terrier'`);
  assert.equal(anne.email, 'anne.t@example.org');
  assert.deepEqual(await childrenOf(anne.id), ['TERRIER Sacha']);
  const [sacha] = await q<Record<string, string>>(`SELECT * FROM users WHERE first_name = 'Sacha'`);
  assert.deepEqual(await classesOf(sacha.id), []);
  assert.match(formatReport(report), /CSV_Parents\.csv, ligne 5, Courriel : adresse électronique invalide/);
  // Each row read as a parent of an earlier row is named: same address (VERGER), siblings (TERRIER).
  assert.deepEqual(report.merged, [
    { file: 'CSV_Parents.csv', first: 3, line: 4, name: 'VERGER Marc' },
    { file: 'CSV_Parents.csv', first: 5, line: 6, name: 'TERRIER Anne' },
  ]);
});

test('ONDE/BE1D parents: one account per person given on several rows (same address, or siblings); homonyms kept apart', async () => {
  const report = await importFiles(ctx, collectInputs([BE1D]), opts());
  assert.equal(report.fatal, null, formatReport(report));
  assert.deepEqual(report.rejected, []);
  assert.deepEqual(report.files.map((f) => [f.format, f.encoding, f.rows]), [['ONDE/BE1D élèves', 'ISO-8859-1', 6], ['ONDE/BE1D enseignants', 'ISO-8859-1', 2], ['ONDE/BE1D parents', 'ISO-8859-1', 9]]);
  assert.deepEqual(await people('École Les Cerisiers', 'Relative'), [
    'agathe.blondel Agathe BLONDEL', 'claire.duval Claire DUVAL', 'gilles.caron Gilles CARON', 'julie.morel Julie MOREL', 'julie.morel2 Julie MOREL',
    'pierre.duval Pierre DUVAL', 'pierre.duval2 Pierre DUVAL',
  ]);
  const kids = async (login: string) => childrenOf((await q<{ id: string }>(`SELECT id FROM users WHERE login = $1`, [login]))[0].id);
  assert.deepEqual(await kids('agathe.blondel'), ['BLONDEL Maëlys', 'BLONDEL Rémi']);
  assert.deepEqual(await kids('gilles.caron'), ['CARON Adam', 'CARON Lina']);
  assert.deepEqual(await kids('pierre.duval'), ['DUVAL Théa']);
  assert.deepEqual(await kids('pierre.duval2'), ['DUVAL Enzo']);
  assert.deepEqual(await kids('claire.duval'), ['DUVAL Enzo', 'DUVAL Théa']);
  assert.deepEqual(await kids('julie.morel'), ['BLONDEL Rémi']);
  assert.deepEqual(await kids('julie.morel2'), ['CARON Lina']);
  // The teachers' file names the school's director (« Directeur » : oui): its local administrator, as AAF's DIR.
  assert.deepEqual(
    (await q<{ login: string }>(`SELECT u.login FROM local_admins la JOIN users u ON u.id = la.user_id JOIN structures s ON s.id = la.structure_id WHERE s.name = 'École Les Cerisiers'`)).map((x) => x.login),
    ['odile.hamel'],
  );
  // …and the report says so (a newcomer trial found the director appointed without a word).
  assert.deepEqual(report.adminChanges?.map((x) => [x.change, x.login, x.structure]), [['appointed', 'odile.hamel', 'École Les Cerisiers']]);
  // The classes the run created, named (a dry run shows a misspelt one before it exists).
  const made = (await q<{ name: string }>(`SELECT c.name FROM classes c JOIN structures s ON s.id = c.structure_id WHERE s.name = 'École Les Cerisiers'`)).map((x) => x.name);
  assert.ok(made.length >= 2, made.join());
  assert.deepEqual(report.newClasses, [{ structure: 'École Les Cerisiers', names: made.sort((a, b) => a.localeCompare(b, 'fr')) }]);
  assert.ok(formatReport(report).includes(`\nClasses créées (${made.length}) :\n  École Les Cerisiers : ${made.join(', ')}\n`), formatReport(report));
  // 9 rows, 7 parents: the two rows folded into an earlier one are named in the report.
  assert.deepEqual(report.merged, [
    { file: 'CSVExtraction-responsables.csv', first: 2, line: 3, name: 'BLONDEL Agathe' },
    // « 12 place de la Mairie », « 12 pl. de la Mairie »: one address (abbreviations written out).
    { file: 'CSVExtraction-responsables.csv', first: 4, line: 5, name: 'CARON Gilles' },
  ]);
  const again = await importFiles(ctx, collectInputs([BE1D]), opts());
  assert.deepEqual([again.created, again.updated, again.preDeleted, again.unchanged], [0, 0, 0, 15]);
  assert.equal(again.newClasses, undefined, 'no class created twice');
});

test('ONDE/BE1D parents: one name on two rows at two addresses is two accounts, said, unless the siblings’ other parent ties the rows', async () => {
  const eleves =
    ONDE_PUPILS +
    `"BERTIN";;"Laure";"2019-01-02";"F";;;;;"CYCLE I";"GS";"GS"\n"BERTIN";;"Karim";"2018-10-15";"M";;;;;"CYCLE II";"CP";"CP"\n` +
    `"FABRE";;"Jules";"2019-04-02";"M";;;;;"CYCLE I";"GS";"GS"\n"FABRE";;"Mila";"2014-03-24";"F";;;;;"CYCLE III";"CM2";"CM2"\n`;
  const responsables =
    ONDE_PARENTS +
    // Two mothers named Muriel BERTIN, each with her child, 79 days apart: nothing but a family name in common.
    `"Mme";;"BERTIN";"Muriel";"27 rue des Cerisiers";"99400";"Tilly";;;;;;;;"BERTIN";"Laure";"GS"\n` +
    `"Mme";;"BERTIN";"Muriel";"41 rue Dagorne";"99400";"Tilly";;;;;;;;"BERTIN";"Karim";"CP"\n` +
    // Stéphanie FABRE given once per child at two addresses: Jules and Mila's father, Éric, names both.
    `"Mme";;"FABRE";"Stéphanie";"2 av. des Tilleuls";"99400";"Tilly";;;;;;;;"FABRE";"Jules";"GS"\n` +
    `"M.";;"FABRE";"Éric";"2 avenue des Tilleuls";"99400";"Tilly";;;;;;;;"FABRE";"Jules";"GS"\n` +
    `"Mme";;"FABRE";"Stéphanie";"8 chemin Vert";"99400";"Tilly";;;;;;;;"FABRE";"Mila";"CM2"\n` +
    `"M.";;"FABRE";"Éric";"2 av des Tilleuls";"99400";"Tilly";;;;;;;;"FABRE";"Mila";"CM2"\n`;
  const files = [
    { name: 'CSVExtraction-eleves.csv', data: latin1(eleves) },
    { name: 'CSVExtraction-responsables.csv', data: latin1(responsables) },
  ];
  const report = await importFiles(ctx, files, opts({ structureHint: 'École des Marronniers' }));
  assert.equal(report.fatal, null, formatReport(report));
  const parents = report.files.find((f) => f.file === 'CSVExtraction-responsables.csv')!;
  // 6 rows: 4 accounts (two Muriel BERTIN, one Stéphanie FABRE, one Éric FABRE), 2 rows read as an earlier row's parent.
  assert.deepEqual([parents.rows, parents.created, parents.merged, parents.notes], [6, 4, 2, 1]);
  const relatives = await q<{ id: string; login: string }>(
    `SELECT u.id, u.login FROM users u JOIN user_structures us ON us.user_id = u.id JOIN structures s ON s.id = us.structure_id
     WHERE s.name = 'École des Marronniers' AND u.profile = 'Relative' ORDER BY u.login`,
  );
  const stored = [];
  for (const r of relatives) stored.push([r.login, await childrenOf(r.id)]);
  assert.deepEqual(stored, [
    ['eric.fabre', ['FABRE Jules', 'FABRE Mila']],
    ['muriel.bertin', ['BERTIN Laure']],
    ['muriel.bertin2', ['BERTIN Karim']],
    ['stephanie.fabre', ['FABRE Jules', 'FABRE Mila']],
  ]);
  // Éric's three typings of one address are one; Stéphanie's two addresses are said.
  assert.deepEqual(report.merged, [
    { file: 'CSVExtraction-responsables.csv', first: 4, line: 6, name: 'FABRE Stéphanie', addressKept: 4 },
    { file: 'CSVExtraction-responsables.csv', first: 5, line: 7, name: 'FABRE Éric' },
  ]);
  // The two Muriel BERTIN: a remark on line 3, for the school to merge them if they are one person.
  assert.deepEqual(plain(report.rejected), [{
    file: 'CSVExtraction-responsables.csv', line: 3, field: 'Adresse responsable',
    reason: 'même nom que la ligne 2 (BERTIN Muriel), enfants du même nom de famille, mais une autre adresse : deux comptes ; s’il s’agit de la même personne, fusionnez-les dans « Gérer les doublons »',
  }]);
  const en = String(reportView('en', report));
  assert.ok(en.includes('same name as row 2 (BERTIN Muriel), children of the same family name, but another address: two accounts'), en);
  // The same files again: the same accounts, nothing changed.
  const before = await snapshot();
  const again = await importFiles(ctx, files, opts({ structureHint: 'École des Marronniers' }));
  assert.deepEqual([again.created, again.updated, again.preDeleted], [0, 0, 0], formatReport(again));
  assert.equal(await snapshot(), before);
  // Stéphanie's rows the other way round: her account keeps the same address (the first in text order), nothing changes.
  const address = async () => (await q<{ address: string }>(`SELECT address FROM users WHERE login = 'stephanie.fabre'`))[0].address;
  assert.match(await address(), /^2 av\. des Tilleuls/);
  const lines = responsables.split('\n');
  [lines[3], lines[5]] = [lines[5], lines[3]];
  const swapped = await importFiles(ctx, [files[0], { name: 'CSVExtraction-responsables.csv', data: latin1(lines.join('\n')) }], opts({ structureHint: 'École des Marronniers' }));
  assert.deepEqual([swapped.created, swapped.updated, swapped.preDeleted], [0, 0, 0], formatReport(swapped));
  assert.deepEqual(swapped.merged?.[0], { file: 'CSVExtraction-responsables.csv', first: 4, line: 6, name: 'FABRE Stéphanie', addressKept: 6 });
  assert.match(await address(), /^2 av\. des Tilleuls/);
});

test('ONDE/BE1D: a parent row naming a pupil of another class is not linked and says where that pupil is; a pupil moving class in both files keeps the link', async () => {
  const eleves = (emma: string) =>
    ONDE_PUPILS +
    `"VENISSE";;"Lucas";"2017-04-02";"M";;;;;"CYCLE II";"CP";"CP"\n"ROUX";;"Emma";"2016-05-03";"F";;;;;"CYCLE II";"${emma}";"${emma}"\n`;
  const responsables = (emma: string) =>
    ONDE_PARENTS +
    // Another Lucas VENISSE, in CE2: not the CP pupil of this school.
    `"Mme";;"VENISSE";"Carole";"3 rue Haute";"99200";"Cerisy";;;;;;;;"VENISSE";"Lucas";"CE2"\n` +
    `"M.";;"ROUX";"Hugo";"8 rue Basse";"99200";"Cerisy";;;;;;;;"ROUX";"Emma";"${emma}"\n`;
  const files = (emma: string) => [
    { name: 'CSVExtraction-eleves.csv', data: latin1(eleves(emma)) },
    { name: 'CSVExtraction-responsables.csv', data: latin1(responsables(emma)) },
  ];
  const otherClass = [{ file: 'CSVExtraction-responsables.csv', line: 2, field: 'Prénom enfant', reason: 'élève « VENISSE Lucas (CE2) » : un élève de ce nom est en CP, pas dans cette classe : lien non créé' }];
  const kids = async (first: string) => childrenOf((await q<{ id: string }>(`SELECT id FROM users WHERE first_name = $1 AND profile = 'Relative'`, [first]))[0].id);
  const first = await importFiles(ctx, files('CE1'), opts({ structureHint: 'École du Pré Vert' }));
  assert.equal(first.fatal, null, formatReport(first));
  assert.deepEqual(plain(first.rejected), otherClass);
  assert.deepEqual(await kids('Carole'), []);
  assert.deepEqual(await kids('Hugo'), ['ROUX Emma']);
  // The next school year's files: Emma is in CE2 in both, her father stays linked.
  const next = await importFiles(ctx, files('CE2'), opts({ structureHint: 'École du Pré Vert' }));
  assert.deepEqual(plain(next.rejected), otherClass);
  assert.deepEqual(await kids('Hugo'), ['ROUX Emma']);
  assert.deepEqual(await kids('Carole'), []);
});

test('adults: a birth date filled in later (optional in their files) finds the same accounts; one keyed with its date before is re-keyed, not recreated', async () => {
  const school = { structureHint: 'École des Dates' };
  const teachers = (dates: [string, string]) => [
    { name: 'CSV_Enseignants.csv', data: latin1(`Prénom;Nom;Date de naissance;Classe\nFélicité;SIMANI;${dates[0]};CM1\nHugo;LAMBERT;${dates[1]};CM2\n`) },
  ];
  const first = await importFiles(ctx, teachers(['', '']), opts(school));
  assert.deepEqual([first.created, first.rejected.length], [2, 0], formatReport(first));
  const before = await q<{ id: string; login: string }>(`SELECT id, login FROM users WHERE last_name IN ('SIMANI', 'LAMBERT') ORDER BY last_name`);
  // An account made before adults' keys left the date out: its key still holds the date.
  await q(`UPDATE users SET external_id = external_id || '1979-11-05' WHERE last_name = 'LAMBERT'`);
  const dated = await importFiles(ctx, teachers(['12/03/1984', '05/11/1979']), opts(school));
  assert.deepEqual([dated.created, dated.updated, dated.preDeleted], [0, 2, 0], formatReport(dated));
  assert.deepEqual(await q(`SELECT id, login FROM users WHERE last_name IN ('SIMANI', 'LAMBERT') ORDER BY last_name`), before);
  assert.equal(await count(`SELECT count(*) n FROM users WHERE last_name = 'LAMBERT' AND external_id LIKE '%1979%'`), 0, 're-keyed');
  const again = await importFiles(ctx, teachers(['12/03/1984', '05/11/1979']), opts(school));
  assert.deepEqual([again.created, again.updated, again.unchanged, again.preDeleted], [0, 0, 2, 0], formatReport(again));
});

test('ONDE/BE1D parents: a father and a mother of one first name at one address, or two e-mails, are two accounts; a parent on two rows is one, named in the report', async () => {
  const report = await importFiles(ctx, collectInputs([PLATANES]), opts());
  assert.equal(report.fatal, null, formatReport(report));
  assert.deepEqual(report.rejected, []);
  const file = 'CSVExtraction-responsables.csv';
  const parents = report.files.find((f) => f.file === file);
  assert.deepEqual([parents?.rows, parents?.created], [10, 8]);
  // As stored: M. and Mme DUMONT Camille (one address, two e-mails), M. and Mme BERNARD Dominique (one address, no
  // e-mail), two LEFEBVRE Anne (one address, two e-mails) are two accounts each, each with their own civility and
  // e-mail; LEROY Sandrine (two addresses, siblings) and LEROY Paul (« M. » and « Monsieur », one e-mail in two
  // cases) are one account each, linked to both children.
  const relatives = await q<{ id: string; login: string; title: string | null; email: string | null }>(
    `SELECT u.id, u.login, u.title, u.email FROM users u JOIN user_structures us ON us.user_id = u.id JOIN structures s ON s.id = us.structure_id
     WHERE s.name = 'École Les Platanes' AND u.profile = 'Relative' ORDER BY u.login`,
  );
  const stored = [];
  for (const r of relatives) stored.push([r.login, r.title, r.email?.toLowerCase() ?? null, await childrenOf(r.id)]);
  assert.deepEqual(stored, [
    ['anne.lefebvre', 'Mme', 'anne.lefebvre@example.org', ['LEFEBVRE Tom']],
    ['anne.lefebvre2', 'Mme', 'a.lefebvre@example.net', ['LEFEBVRE Tom']],
    ['camille.dumont', 'M.', 'camille.dumont@example.org', ['DUMONT Léo']],
    ['camille.dumont2', 'Mme', 'c.dumont@example.net', ['DUMONT Léo']],
    ['dominique.bernard', 'M.', null, ['BERNARD Noé']],
    ['dominique.bernard2', 'Mme', null, ['BERNARD Noé']],
    ['paul.leroy', 'M.', 'paul.leroy@example.org', ['LEROY Chloé', 'LEROY Lucas']],
    ['sandrine.leroy', 'Mme', null, ['LEROY Chloé', 'LEROY Lucas']],
  ]);
  assert.equal(await count(`SELECT count(*) n FROM users WHERE activation_code_enc IS NOT NULL AND login = ANY($1)`, [relatives.map((r) => r.login)]), 8);
  // The report says which of LEROY Sandrine's two addresses her account keeps: line 8's (the first in text order).
  assert.match((await q<{ address: string }>(`SELECT address FROM users WHERE login = 'sandrine.leroy'`))[0].address, /15 rue du Lavoir/);

  // 10 rows, 8 accounts: the two rows read as an earlier row's parent are warnings, not rejections.
  assert.deepEqual(report.merged, [
    { file, first: 8, line: 10, name: 'LEROY Sandrine', addressKept: 8 },
    { file, first: 9, line: 11, name: 'LEROY Paul' },
  ]);
  const fr = formatReport(report);
  // Its line adds up: 8 accounts, and the 2 rows read as an earlier row's parent.
  assert.match(fr, /CSVExtraction-responsables\.csv — ONDE\/BE1D parents — ISO-8859-1 — 10 lignes — 8 créés, 2 lignes regroupées avec une autre \(même personne\)\n/);
  assert.equal(report.files.find((f) => f.file === 'CSVExtraction-responsables.csv')?.merged, report.merged?.length);
  assert.ok(
    fr.includes(
      '\nLignes regroupées, un seul compte par représentant légal (2) :\n' +
        '  CSVExtraction-responsables.csv — lignes 8 et 10 : même représentant légal (LEROY Sandrine), un seul compte ; deux adresses postales, celle de la ligne 8 est gardée\n' +
        '  CSVExtraction-responsables.csv — lignes 9 et 11 : même représentant légal (LEROY Paul), un seul compte\n',
    ),
    fr,
  );
  assert.match(formatReport(report, 'en'), /\nRows merged, one account per legal representative \(2\):\n {2}CSVExtraction-responsables\.csv — lignes 8 et 10/);
  // The console shows them as a warning, in the request's language.
  const view = String(reportView('fr', report));
  assert.match(view, /<div class="notice notice-warning" data-import="merged"><p><strong>2 lignes regroupées avec une ligne précédente du même représentant légal/);
  assert.ok(view.includes('<code>CSVExtraction-responsables.csv — lignes 8 et 10 : même représentant légal (LEROY Sandrine), un seul compte ; deux adresses postales, celle de la ligne 8 est gardée</code>'), view);
  const en = String(reportView('en', report));
  assert.match(en, /data-import="merged"><p><strong>2 rows merged with an earlier row of the same legal representative/);
  assert.ok(en.includes('<code>CSVExtraction-responsables.csv — rows 9 and 11: same legal representative (LEROY Paul), one account</code>'), en);
  assert.doesNotMatch(String(reportView('fr', { ...report, merged: [] })), /data-import="merged"/);

  // Again: the same accounts, the same warnings.
  const again = await importFiles(ctx, collectInputs([PLATANES]), opts());
  assert.deepEqual([again.created, again.updated, again.preDeleted, again.unchanged], [0, 0, 0, 14]);
  assert.deepEqual(again.merged, report.merged);
});

test('ENT template parents: « Monsieur » and « Madame » of one name and address are two accounts; « Mlle » and « Mme » are one woman', async () => {
  const report = await importFiles(ctx, collectInputs([join(CSV, 'civilites')]), opts({ structureHint: 'École des Civilités' }));
  assert.equal(report.fatal, null, formatReport(report));
  assert.deepEqual(report.rejected, []);
  const relatives = await q<{ id: string; login: string; title: string }>(
    `SELECT u.id, u.login, u.title FROM users u JOIN user_structures us ON us.user_id = u.id JOIN structures s ON s.id = us.structure_id
     WHERE s.name = 'École des Civilités' AND u.profile = 'Relative' ORDER BY u.login`,
  );
  const stored = [];
  for (const r of relatives) stored.push([r.login, r.title, await childrenOf(r.id)]);
  assert.deepEqual(stored, [
    ['claude.martin', 'M.', ['MARTIN Jade']],
    ['claude.martin2', 'Mme', ['MARTIN Jade']],
    ['lou-anne.robert', 'Mme', ['ROBERT Lou', 'ROBERT Nina']],
  ]);
  assert.deepEqual(report.merged, [{ file: 'CSV_Parents.csv', first: 4, line: 5, name: 'ROBERT Lou-Anne' }]);
});

test('parents: two birth dates given and different are two people (a mother and a grandmother of one name and home); a date on one row only is no contradiction', async () => {
  const report = await importFiles(ctx, collectInputs([join(CSV, 'naissances')]), opts({ structureHint: 'École des Naissances' }));
  assert.equal(report.fatal, null, formatReport(report));
  assert.deepEqual(report.rejected, []);
  const relatives = await q<{ id: string; login: string; birth_date: string | null }>(
    `SELECT u.id, u.login, u.birth_date FROM users u JOIN user_structures us ON us.user_id = u.id JOIN structures s ON s.id = us.structure_id
     WHERE s.name = 'École des Naissances' AND u.profile = 'Relative' ORDER BY u.login`,
  );
  const stored = [];
  for (const r of relatives) stored.push([r.login, r.birth_date, await childrenOf(r.id)]);
  assert.deepEqual(stored, [
    ['jeanne.petit', '1986-04-14', ['PETIT Zoé']],
    ['jeanne.petit2', '1958-09-02', ['PETIT Zoé']],
    ['marc.petit', '1984-01-30', ['PETIT Max', 'PETIT Zoé']],
  ]);
  assert.deepEqual(report.merged, [{ file: 'CSV_Parents.csv', first: 4, line: 5, name: 'PETIT Marc' }]);
});

test('ONDE: two parents of one name in one school keep their own accounts when the next export lists them the other way round', async () => {
  const school = { structureHint: 'École des Homonymes' };
  const eleves =
    ONDE_PUPILS +
    `"MARTIN";;"Zoé";"2017-04-02";"F";;;;;"CYCLE II";"CP";"CP"\n"DUPONT";;"Léo";"2016-05-03";"M";;;;;"CYCLE II";"CE1";"CE1"\n`;
  // Two mothers named Sophie MARTIN: Zoé MARTIN's, and Léo DUPONT's (who kept her maiden name).
  const zoe = `"Mme";;"MARTIN";"Sophie";"1 rue Haute";"99200";"Cerisy";;"sophie.zoe@example.org";;;;;;"MARTIN";"Zoé";"CP"\n`;
  const leo = `"Mme";;"MARTIN";"Sophie";"9 rue Basse";"99200";"Cerisy";;;;;;;;"DUPONT";"Léo";"CE1"\n`;
  const files = (rows: string) => [
    { name: 'CSVExtraction-eleves.csv', data: latin1(eleves) },
    { name: 'CSVExtraction-responsables.csv', data: latin1(ONDE_PARENTS + rows) },
  ];
  const first = await importFiles(ctx, files(zoe + leo), opts(school));
  assert.deepEqual([first.created, first.rejected.length], [4, 0], formatReport(first));
  const sophies = async (): Promise<Record<string, { id: string; email: string | null; children: string[] }>> =>
    Object.fromEntries(
      await Promise.all(
        (await q<{ id: string; login: string; email: string | null }>(`SELECT id, login, email FROM users WHERE first_name = 'Sophie' AND last_name = 'MARTIN' ORDER BY login`))
          .map(async (x) => [x.login, { id: x.id, email: x.email, children: await childrenOf(x.id) }]),
      ),
    );
  const before = await sophies();
  assert.deepEqual(Object.values(before).map((x) => x.children), [['MARTIN Zoé'], ['DUPONT Léo']]);
  // The next export lists Léo's mother first: each account stays its own mother's, nothing changes.
  const swapped = await importFiles(ctx, files(leo + zoe), opts(school));
  assert.deepEqual([swapped.created, swapped.updated, swapped.preDeleted], [0, 0, 0], formatReport(swapped));
  assert.deepEqual(await sophies(), before);
});

test('two teachers of one name keep their own accounts (and the director her administration) when the next file lists them the other way round', async () => {
  const school = { structureHint: 'École des Deux Sophie' };
  const director = 'Sophie;MARTIN;01/02/1975;CP;oui\n';
  const colleague = 'Sophie;MARTIN;03/04/1985;CM2;non\n';
  const run = (rows: string) => importFiles(ctx, [{ name: 'CSV_Enseignants.csv', data: latin1(`Prénom;Nom;Date de naissance;Classe;ADML\n${rows}`) }], opts(school));
  const first = await run(director + colleague);
  assert.deepEqual([first.created, first.rejected.length], [2, 0], formatReport(first));
  const state = async () =>
    q(`SELECT u.id, u.birth_date::text AS born, EXISTS (SELECT 1 FROM local_admins la WHERE la.user_id = u.id) AS admin,
              ARRAY(SELECT c.name FROM user_classes uc JOIN classes c ON c.id = uc.class_id WHERE uc.user_id = u.id) AS classes
       FROM users u WHERE u.first_name = 'Sophie' AND u.last_name = 'MARTIN' AND u.profile = 'Teacher' ORDER BY born`);
  const before = await state();
  assert.deepEqual(before.map((x) => [x.born, x.admin, x.classes]), [['1975-02-01', true, ['CP']], ['1985-04-03', false, ['CM2']]]);
  const swapped = await run(colleague + director);
  assert.deepEqual([swapped.created, swapped.updated, swapped.preDeleted], [0, 0, 0], formatReport(swapped));
  assert.deepEqual(await state(), before);
});

test('a teachers’ file without a class column leaves their classes as they are; a column with an empty cell takes them away', async () => {
  const school = { structureHint: 'Collège des Classes Gardées' };
  const run = (header: string, row: string, dryRun = false) =>
    importFiles(ctx, [{ name: 'CSV_Enseignants.csv', data: latin1(`${header}\n${row}\n`) }], opts({ ...school, dryRun }));
  const first = await run('Prénom;Nom;Date de naissance;Classe', 'Inès;GARDE;02/03/1980;4B|3A');
  assert.deepEqual([first.created, first.rejected.length], [1, 0], formatReport(first));
  const [{ id }] = await q<{ id: string }>(`SELECT id FROM users WHERE last_name = 'GARDE'`);
  assert.deepEqual(await classesOf(id), ['3A', '4B']);
  // The list the secretary keeps beside STS-web: names and e-mails, no classes. Neither the dry run nor the run
  // takes her classes away; the new e-mail is imported.
  const noClasses = ['Prénom;Nom;Date de naissance;Courriel', 'Inès;GARDE;02/03/1980;ines.garde@example.org'] as const;
  const dry = await run(...noClasses, true);
  assert.doesNotMatch(formatReport(dry), /4B|3A/, 'the dry run announces no class removed');
  const kept = await run(...noClasses);
  assert.equal(kept.updated, 1, formatReport(kept));
  assert.doesNotMatch(formatReport(kept), /4B|3A/, formatReport(kept));
  assert.deepEqual(await classesOf(id), ['3A', '4B'], 'classes kept without a class column');
  assert.deepEqual(await q(`SELECT email FROM users WHERE id = $1`, [id]), [{ email: 'ines.garde@example.org' }]);
  // Re-importing it changes nothing.
  const again = await run(...noClasses);
  assert.deepEqual([again.created, again.updated], [0, 0], formatReport(again));
  // The column given, one class: the other one goes; given empty: no class left.
  await run('Prénom;Nom;Date de naissance;Classe', 'Inès;GARDE;02/03/1980;3A');
  assert.deepEqual(await classesOf(id), ['3A']);
  const emptied = await run('Prénom;Nom;Date de naissance;Classe', 'Inès;GARDE;02/03/1980;');
  assert.match(formatReport(emptied), /3A/, 'the class taken away is named');
  assert.deepEqual(await classesOf(id), [], 'an empty cell says « no class »');
});

test('a file with a Profil column and pupils but no class column is refused, as a pupils’ file is: it took every pupil out of its class', async () => {
  const school = { structureHint: 'Collège du Fichier Mêlé' };
  const first = await importFiles(ctx, [{ name: 'export.csv', data: latin1('Profil;Prénom;Nom;Date de naissance;Classe\nÉlève;Léa;MÊLÉE;04/05/2012;6A\nEnseignant;Inès;MÊLÉE;02/03/1980;6A\n') }], opts(school));
  assert.deepEqual([first.created, first.rejected.length], [2, 0], formatReport(first));
  const ids = await q<{ id: string; profile: string }>(`SELECT id, profile FROM users WHERE last_name = 'MÊLÉE' ORDER BY profile`);
  // The same people, e-mails added, the class column cut: refused whole (dry run and run), naming the column.
  const cut = { name: 'export.csv', data: latin1('Profil;Prénom;Nom;Date de naissance;Courriel\nEnseignant;Inès;MÊLÉE;02/03/1980;ines@example.org\nÉlève;Léa;MÊLÉE;04/05/2012;lea@example.org\n') };
  for (const dryRun of [true, false]) {
    const before = await snapshot();
    const report = await importFiles(ctx, [cut], opts({ ...school, dryRun }));
    assert.ok(report.fatal, `refused (dry run ${dryRun}): ${formatReport(report)}`);
    assert.match(formatReport(report).split('\n')[1].trim(), /^export\.csv, ligne 1, Classes : colonne obligatoire « Classes » absente$/, formatReport(report));
    assert.equal(await snapshot(), before, `nothing written (dry run ${dryRun})`);
  }
  for (const { id, profile } of ids) assert.deepEqual(await classesOf(id), ['6A'], `the ${profile} keeps her class`);
  // Teachers and staff only, no class column: imported, the teacher's classes left as they are.
  const adults = await importFiles(ctx, [{ name: 'export.csv', data: latin1('Profil;Prénom;Nom;Date de naissance;Courriel\nEnseignant;Inès;MÊLÉE;02/03/1980;ines@example.org\n') }], opts({ ...school, dryRun: true }));
  assert.equal(adults.fatal, null, formatReport(adults));
});

test('ONDE: a class in common proves nothing (primary classes come back every year): the director keeps her account when her namesake colleague leaves; « Melle » then « Mme » is one person', async () => {
  const school = { structureHint: 'École des Deux Martin' };
  const header = `"Civilité";"Nom usage";"Nom";"Prénom";"Adresse";"CP";"Commune";"Pays";"Courriel";"Téléphone domicile";"Téléphone portable";"Directeur";"Classe"\n`;
  const row = (title: string, first: string, director: string, cls: string) => `"${title}";;"MARTIN";"${first}";;;;;;;;"${director}";"${cls}"\n`;
  const run = (rows: string) => importFiles(ctx, [{ name: 'CSVExtraction-enseignants.csv', data: latin1(header + rows) }], opts(school));
  const first = await run(row('MME', 'Sophie', 'oui', 'CP') + row('MME', 'Sophie', 'non', 'CM2') + row('Melle', 'Anne', 'non', 'CE1'));
  assert.deepEqual([first.created, first.rejected.length], [3, 0], formatReport(first));
  const [director] = await q<{ id: string }>(
    `SELECT u.id FROM users u JOIN local_admins la ON la.user_id = u.id WHERE u.first_name = 'Sophie' AND u.last_name = 'MARTIN'`,
  );
  const [anne] = await q<{ id: string }>(`SELECT id FROM users WHERE first_name = 'Anne' AND last_name = 'MARTIN'`);
  // Next year the CM2 colleague has left; the director now teaches CM2; Anne, married, is « Mme ».
  const next = await run(row('MME', 'Sophie', 'oui', 'CM2') + row('Mme', 'Anne', 'non', 'CE1'));
  assert.equal(next.created, 0, formatReport(next));
  const [still] = await q<{ id: string }>(
    `SELECT u.id FROM users u JOIN local_admins la ON la.user_id = u.id WHERE u.first_name = 'Sophie' AND u.last_name = 'MARTIN'`,
  );
  assert.equal(still.id, director.id, 'the director keeps her own account and her administration');
  assert.equal((await q<{ absent_since: string | null }>(`SELECT absent_since FROM users WHERE id = $1`, [director.id]))[0].absent_since, null);
  assert.equal((await q<{ absent_since: string | null }>(`SELECT absent_since FROM users WHERE id = $1`, [anne.id]))[0].absent_since, null, 'Melle then Mme: the same account');
});

test('a parent at the same address whose new child is of another family name (a blended family) keeps the account', async () => {
  const school = { structureHint: 'École de la Famille Recomposée' };
  const eleves = (rows: string) => ({ name: 'CSV_Eleves.csv', data: latin1(`Nom;Prénom;Date de naissance;Classe\n${rows}`) });
  const parents = (child: string) => ({ name: 'CSV_Parents.csv', data: latin1(`Nom;Prénom;Adresse;Code postal;Ville;Nom de l'élève;Prénom de l'élève;Classe de l'élève\nLEROY;Julie;3 rue Basse;99200;Cerisy;${child}\n`) });
  await importFiles(ctx, [eleves('DURAND;Léo;02/02/2016;CM1\n'), parents('DURAND;Léo;CM1')], opts(school));
  const [julie] = await q<{ id: string }>(`SELECT id FROM users WHERE first_name = 'Julie' AND last_name = 'LEROY'`);
  await q(`UPDATE users SET activated_at = now() WHERE id = $1`, [julie.id]);
  const next = await importFiles(ctx, [eleves('BERNARD;Zoé;03/03/2018;CP\n'), parents('BERNARD;Zoé;CP')], opts(school));
  assert.equal(next.created, 1, formatReport(next));
  assert.ok((await childrenOf(julie.id)).includes('BERNARD Zoé'));
  assert.equal((await q(`SELECT 1 FROM users WHERE first_name = 'Julie' AND last_name = 'LEROY'`)).length, 1, 'no second Julie LEROY');
});

test('two parents of one name, one leaves: the other keeps her own account, even with a new child of the other’s family name, and after a move', async () => {
  const school = { structureHint: 'École des Deux Claire' };
  const eleves = (rows: string) => ({ name: 'CSV_Eleves.csv', data: latin1(`Nom;Prénom;Date de naissance;Classe\n${rows}`) });
  const parents = (rows: string) => ({ name: 'CSV_Parents.csv', data: latin1(`Nom;Prénom;Adresse;Code postal;Ville;Nom de l'élève;Prénom de l'élève;Classe de l'élève\n${rows}`) });
  // Claire MARTIN A (Léo DURAND's mother), Claire MARTIN B (Emma MARTIN's mother): both accounts activated.
  const first = await importFiles(ctx, [
    eleves('DURAND;Léo;02/02/2016;CM1\nMARTIN;Emma;04/04/2017;CE2\n'),
    parents('MARTIN;Claire;3 rue Basse;99200;Cerisy;DURAND;Léo;CM1\nMARTIN;Claire;8 rue Haute;99200;Cerisy;MARTIN;Emma;CE2\n'),
  ], opts(school));
  assert.deepEqual([first.created, first.rejected.length], [4, 0], formatReport(first));
  const accounts = await q<{ id: string; external_id: string }>(`SELECT id, external_id FROM users WHERE first_name = 'Claire' AND last_name = 'MARTIN' ORDER BY external_id`);
  const a = accounts.find((x) => !x.external_id.includes('#'))!;
  const b = accounts.find((x) => x.external_id.includes('#'))!;
  await q(`UPDATE users SET activated_at = now() WHERE id = ANY($1)`, [[a.id, b.id]]);
  // Next year: B and Emma have left, so has Léo (collège); A has moved and her new child is Zoé MARTIN, of B's
  // children's family name.
  const next = await importFiles(ctx, [eleves('MARTIN;Zoé;03/03/2019;CP\n'), parents('MARTIN;Claire;7 rue Neuve;99200;Cerisy;MARTIN;Zoé;CP\n')], opts(school));
  assert.equal(next.created, 1, formatReport(next));
  assert.ok((await childrenOf(a.id)).includes('MARTIN Zoé'), 'A keeps her account, with her new child');
  assert.deepEqual(await childrenOf(b.id), ['MARTIN Emma'], 'B’s account is not handed to A');
});

test('externalid is the key: a name fixed in v2 updates the (activated) account, no creation, no pre-deletion', async () => {
  const v1 = await importFiles(ctx, collectInputs([join(CSV, 'rename', 'ids-v1')]), opts({ structureHint: 'École Ids' }));
  assert.equal(v1.created, 2, formatReport(v1));
  await q(`UPDATE users SET activated_at = now(), password_hash = 'hash' WHERE first_name = 'Lena'`);
  const [lena] = await q<Record<string, string>>(`SELECT * FROM users WHERE first_name = 'Lena'`);
  const v2 = await importFiles(ctx, collectInputs([join(CSV, 'rename', 'ids-v2')]), opts({ structureHint: 'École Ids' }));
  assert.deepEqual([v2.created, v2.updated, v2.preDeleted], [0, 2, 0], formatReport(v2));
  const [after] = await q<Record<string, unknown>>(`SELECT * FROM users WHERE id = $1`, [lena.id]);
  assert.deepEqual([after.first_name, after.last_name, after.login, after.pre_deleted_at, after.password_hash], ['Léna', 'MOREAU-DUVAL', 'lena.moreau', null, 'hash']);
  assert.equal(await count(`SELECT count(*) n FROM users WHERE last_name LIKE 'MOREAU%'`), 1);
});

test('a file that gains an identifier column keeps the accounts it created by name', async () => {
  await importFiles(ctx, [{ name: 'CSV_Eleves.csv', data: latin1('Prénom;Nom;Date de naissance;Classe\nOdile;FAURE;02/02/2015;CP\n') }], opts({ structureHint: 'École Clés' }));
  const [odile] = await q<{ id: string }>(`SELECT id FROM users WHERE last_name = 'FAURE'`);
  const r = await importFiles(ctx, [{ name: 'CSV_Eleves.csv', data: latin1('Id;Prénom;Nom;Date de naissance;Classe\nE-9;Odile;FAURE;02/02/2015;CP\n') }], opts({ structureHint: 'École Clés' }));
  assert.deepEqual([r.created, r.updated, r.preDeleted], [0, 1, 0], formatReport(r));
  assert.match((await q<{ external_id: string }>(`SELECT external_id FROM users WHERE id = $1`, [odile.id]))[0].external_id, /:id:E-9$/);
});

test('identity does not churn on spelling: dash, case and accent variants are the same account; a likely rename updates it', async () => {
  const v1 = await importFiles(ctx, collectInputs([join(CSV, 'rename', 'names-v1')]), opts({ structureHint: 'École du Renommage' }));
  assert.equal(v1.created, 4, formatReport(v1));
  await q(`UPDATE users SET activated_at = now() WHERE last_name IN ('BEUF', 'LOVE')`);
  const [lise] = await q<Record<string, string>>(`SELECT * FROM users WHERE last_name = 'BEUF'`);
  const [ada] = await q<Record<string, string>>(`SELECT * FROM users WHERE last_name = 'LOVE' AND birth_date = '2014-05-05'`);
  const v2 = await importFiles(ctx, collectInputs([join(CSV, 'rename', 'names-v2')]), opts({ structureHint: 'École du Renommage' }));
  assert.equal(v2.fatal, null);
  // JEAN–PAUL Roux (en dash, case) is Jean-Paul ROUX; Lise BŒUF is Lise BEUF renamed (same birth date and class);
  // Adda LOVE and Ada LOVEL both look like Ada LOVE: ambiguous, both created, the activated Ada kept.
  assert.deepEqual([v2.created, v2.updated, v2.unchanged, v2.preDeleted], [2, 2, 1, 0], formatReport(v2));
  assert.deepEqual(v2.renamed, [
    { file: 'CSV_Eleves.csv', line: 2, login: 'lise.beuf', from: 'Lise BEUF', to: 'Lise BŒUF', applied: true },
    { file: 'CSV_Eleves.csv', line: 4, login: 'ada.love', from: 'Ada LOVE', to: 'Adda LOVE', applied: false },
  ]);
  const [after] = await q<Record<string, unknown>>(`SELECT * FROM users WHERE id = $1`, [lise.id]);
  assert.deepEqual([after.last_name, after.login, after.pre_deleted_at], ['BŒUF', 'lise.beuf', null]);
  assert.equal((await q<Record<string, unknown>>(`SELECT pre_deleted_at FROM users WHERE id = $1`, [ada.id]))[0].pre_deleted_at, null);
  assert.match(formatReport(v2), /Changements de nom probables \(2\)/);
  const [jp] = await q<Record<string, string>>(`SELECT * FROM users WHERE login = 'jean-paul.roux'`);
  assert.deepEqual([jp.first_name, jp.last_name], ['JEAN–PAUL', 'Roux']);
});

test('hostile, long and other-script names: transliterated logins, parts capped at 30 characters; no letter at all is a rejected row', async () => {
  const report = await importFiles(ctx, collectInputs([join(CSV, 'names')]), opts({ structureHint: 'École des Noms' }));
  assert.equal(report.fatal, null, formatReport(report));
  assert.deepEqual(plain(report.rejected), [{ file: 'CSV_Eleves.csv', line: 9, field: 'Nom', reason: '« 🦄 😀 » ne contient aucune lettre : ligne ignorée' }]);
  const logins = (await q<{ login: string }>(`SELECT u.login FROM users u JOIN user_structures us ON us.user_id = u.id JOIN structures s ON s.id = us.structure_id WHERE s.name = 'École des Noms' ORDER BY u.birth_date`)).map((r) => r.login);
  assert.deepEqual(logins, [
    'cmd.hyperlinkx',
    'maximilienne-hortense-gwendoli.de-la-rochefoucauld-montmorenc',
    'ivan.petrov',
    'fang.wang',
    'filippa.ijsselmeer',
    'jean-luc.aero-smith',
    'zoe.strasse',
    'nour.mhmd',
  ]);
  const [h] = await q<Record<string, string>>(`SELECT first_name, last_name FROM users WHERE login = 'cmd.hyperlinkx'`);
  assert.deepEqual(h, { first_name: '=CMD()', last_name: '=HYPERLINK("x")' });
});

test('bad rows are rejected with file:line:field, the others imported', async () => {
  const csv = latin1(
    'Prénom*;Nom*;Date de naissance*;Classes*\n' +
      'Anaïs;Éluard;01/02/2013;CM1\n' +
      ';SANSPRENOM;01/02/2013;CM1\n' +
      'Noël;Dâté;31/02/2013;CM1\n',
  );
  const report = await importFiles(ctx, [{ name: 'CSV_Eleves.csv', data: csv }], opts({ structureHint: 'École des Tests' }));
  assert.equal(report.fatal, null);
  assert.deepEqual(plain(report.rejected), [
    { file: 'CSV_Eleves.csv', line: 3, field: 'Prénom', reason: 'champ obligatoire vide' },
    { file: 'CSV_Eleves.csv', line: 4, field: 'Date de naissance', reason: 'date invalide « 31/02/2013 » (attendu JJ/MM/AAAA)' },
  ]);
  // Each reason is also a message code and its parameters, which the web translates (no French on English pages).
  assert.deepEqual(report.rejected.map((r) => r.message), [{ code: 'rowEmptyField' }, { code: 'rowInvalidDate', params: { value: '31/02/2013' } }]);
  assert.equal(report.created, 1);
  assert.match(formatReport(report), /CSV_Eleves\.csv, ligne 4, Date de naissance : date invalide/);
});

test('UTF-8 with BOM, commas and English headers; tab-separated Windows-1252', async () => {
  const utf8 = Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from('firstname,lastname,birthdate,class,Courriel\r\nÅslög,N\'Guessan,2012-05-06,6A,aslog@example.fr\r\n')]);
  const cp1252 = iconv.encode('Prenom\tNom\tFonction\tEmail\nŒdipe\tÇelik\tCPE\t\n', 'win1252');
  const report = await importFiles(ctx, [{ name: 'students.csv', data: utf8 }, { name: 'CSV_Personnels.csv', data: cp1252 }], opts({ structureHint: 'École des Tests' }));
  assert.equal(report.fatal, null, formatReport(report));
  assert.deepEqual(report.rejected, []);
  const [a] = await q<Record<string, string>>(`SELECT * FROM users WHERE first_name = 'Åslög'`);
  assert.deepEqual([a.last_name, a.birth_date, a.email, a.profile, a.login], ["N'Guessan", '2012-05-06', 'aslog@example.fr', 'Student', 'aslog.nguessan']);
  const [o] = await q<Record<string, string>>(`SELECT * FROM users WHERE last_name = 'Çelik'`);
  assert.deepEqual([o.first_name, o.profile, o.login], ['Œdipe', 'Personnel', 'oedipe.celik']);
});

test('a broken file (missing column, undecodable bytes, bad quoting) changes nothing and names file, line, field', async () => {
  const good = { name: 'CSV_Eleves.csv', path: join(CSV, 'encodings', 'utf8', 'CSV_Eleves.csv') };
  const cases: [string, Buffer, RegExp][] = [
    ['CSV_Eleves_sans_date.csv', latin1('Prénom*;Nom*;Classes*\nLéa;COLIN;CP\n'), /^CSV_Eleves_sans_date\.csv, ligne 1, Date de naissance : colonne obligatoire « Date de naissance » absente$/],
    // Without its class column, a pupils' file (the template's, ONDE's) took every pupil out of its class.
    ['CSV_Eleves_sans_classe.csv', latin1('Prénom*;Nom*;Date de naissance*\nLéa;COLIN;04/05/2015\n'), /^CSV_Eleves_sans_classe\.csv, ligne 1, Classes : colonne obligatoire « Classes » absente$/],
    ['CSVExtraction-eleves.csv', latin1('"Nom Elève";"Prénom Elève";"Date naissance";"Niveau"\n"COLIN";"Léa";"04/05/2015";"CP"\n'), /^CSVExtraction-eleves\.csv, ligne 1, Classe : colonne obligatoire « Classe » absente$/],
    // An ONDE file's missing column is named as ONDE heads it.
    ['CSVExtraction-eleves.csv', latin1('"Prénom Elève";"Date naissance";"Classe"\n"COLIN";"Léa";"04/05/2015";"CP"\n'), /^CSVExtraction-eleves\.csv, ligne 1, Nom Elève : colonne obligatoire « Nom Elève » absente$/],
    // Judged by content, not name: a PDF or a workbook saved as .csv is named for what it is (not « encodage mélangé »).
    ['CSV_Invites.csv', Buffer.from('%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj\n', 'latin1'), /^CSV_Invites\.csv : fichier refusé, ce fichier est un document PDF, pas un CSV ni un XML/],
    ['CSV_Personnels.csv', Buffer.from('PK\u0003\u0004\u0014\u0000\u0006\u0000[Content_Types].xml', 'latin1'), /^CSV_Personnels\.csv : fichier refusé, classeur de tableur : enregistrez-le au format CSV/],
    ['CSV_Invites.csv', Buffer.from('Prénom;Nom\n\u0000\u0001\u0002;x\n'), /^CSV_Invites\.csv, ligne 2 : encodage illisible \(caractère U\+0000, lu comme UTF-8\)/],
    ['CSV_Personnels.csv', Buffer.concat([Buffer.from('Prénom;Nom\nHélène;Éluard\nAnaïs;Lévêque\n'), latin1('Noël;Crépin\n')]), /^CSV_Personnels\.csv, ligne 4 : encodage mélangé/],
    // An unclosed quote is named at the line it opens on, not at the end of the file (where csv-parse sees it,
    // counting line breaks inside the quoted field its own way: line 5 of a 3-line file here).
    ['CSV_Parents.csv', latin1('Nom;Prénom\n"COLIN;Julie\nDUPONT;Julien\n'), /^CSV_Parents\.csv, ligne 2 : CSV mal formé : guillemet ouvert ligne 2 jamais fermé$/],
    ['CSV_Parents.csv', latin1('Nom;Prénom\nCOLIN;="x"\n\nMARTIN;"Paul\nDUPONT;Julien\n'), /^CSV_Parents\.csv, ligne 4 : CSV mal formé : guillemet ouvert ligne 4 jamais fermé$/],
  ];
  for (const [name, data, want] of cases) {
    const before = await snapshot();
    const report = await importFiles(ctx, [good, { name, data }], opts({ structureHint: 'Structure Jamais Créée' }));
    assert.ok(report.fatal, name);
    const text = formatReport(report).split('\n');
    assert.equal(text[0], 'Import refusé : aucune modification enregistrée.');
    assert.match(text[1].trim(), want);
    assert.equal(await snapshot(), before, name);
  }
  assert.equal(await count(`SELECT count(*) n FROM structures WHERE name = 'Structure Jamais Créée'`), 0);
});

test('CLI: `trousseau import` prints a French report with encodings; exit 0, or 1 on refused input', async () => {
  const db = await freshDatabase();
  try {
    const env = { ...process.env, DATABASE_URL: db.url, TROUSSEAU_SECRET: '22'.repeat(32), TROUSSEAU_DATA_DIR: tmp };
    const cli = (...args: string[]) => spawnSync(process.execPath, ['--import', 'tsx', 'src/cli.ts', 'import', ...args], { env, encoding: 'utf8' });
    const dry = cli(BE1D, '--dry-run', '--structure', '0610001Z');
    assert.equal(dry.status, 0, dry.stderr);
    assert.match(dry.stdout, /Simulation \(--dry-run\) : aucune modification enregistrée\./);
    assert.match(dry.stdout, /CSVExtraction-responsables\.csv — ONDE\/BE1D parents — ISO-8859-1 — 9 lignes/);
    assert.match(dry.stdout, /Comptes : 15 créés/);
    const bad = join(tmp, 'CSV_Eleves.csv');
    writeFileSync(bad, 'Prénom;Nom\nA;B\n');
    const refused = cli(bad);
    assert.equal(refused.status, 1);
    assert.match(refused.stderr, /CSV_Eleves\.csv, ligne 1, Date de naissance : colonne obligatoire/);
    assert.equal(Number((await db.pool.query('SELECT count(*) n FROM users')).rows[0].n), 0);
  } finally {
    await db.close();
  }
});

test('ONDE/BE1D parents: a newcomer of a stored parent’s name, listed before her, does not take her account (nor its e-mail, nor her child)', async () => {
  const eleves =
    ONDE_PUPILS +
    `"BERTOT";;"Laure";"2019-01-02";"F";;;;;"CYCLE I";"GS";"GS"\n"BERTOT";;"Karim";"2018-10-15";"M";;;;;"CYCLE II";"CP";"CP"\n`;
  // Karim's mother, imported last year, has activated her account.
  const karims = `"Mme";;"BERTOT";"Muriel";"41 rue Dagorne";"99400";"Tilly";;"muriel.bertot@example.org";;;;;;"BERTOT";"Karim";"CP"\n`;
  // This year another Muriel BERTOT, Laure's mother, comes first in the file: nothing but the name in common.
  const laures = `"Mme";;"BERTOT";"Muriel";"27 rue des Cerisiers";"99400";"Tilly";;;;;;;;"BERTOT";"Laure";"GS"\n`;
  const files = (parents: string) => [
    { name: 'CSVExtraction-eleves.csv', data: latin1(eleves) },
    { name: 'CSVExtraction-responsables.csv', data: latin1(ONDE_PARENTS + parents) },
  ];
  const school = opts({ structureHint: 'École des Sorbiers' });
  assert.equal((await importFiles(ctx, files(karims), school)).fatal, null);
  const [mother] = await q<{ id: string }>(`SELECT id FROM users WHERE last_name = 'BERTOT' AND first_name = 'Muriel'`);
  await q(`UPDATE users SET activated_at = now() WHERE id = $1`, [mother.id]);
  const report = await importFiles(ctx, files(laures + karims), school);
  assert.equal(report.fatal, null, formatReport(report));
  const [kept] = await q<{ login: string; email: string | null; address: string }>(`SELECT login, email, address FROM users WHERE id = $1`, [mother.id]);
  assert.deepEqual([kept.login, kept.email, kept.address, await childrenOf(mother.id)], ['muriel.bertot', 'muriel.bertot@example.org', '41 rue Dagorne\n99400 Tilly', ['BERTOT Karim']]);
  const [newcomer] = await q<{ id: string; login: string; email: string | null }>(`SELECT id, login, email FROM users WHERE last_name = 'BERTOT' AND first_name = 'Muriel' AND id <> $1`, [mother.id]);
  assert.deepEqual([newcomer.login, newcomer.email, await childrenOf(newcomer.id)], ['muriel.bertot2', null, ['BERTOT Laure']]);
  assert.deepEqual([report.byProfile.Relative?.created, report.byProfile.Relative?.preDeleted], [1, 0]);
});

test('ONDE/BE1D parents: namesakes kept apart that the school merged are no remark at the next imports, whatever the order of their rows', async () => {
  const eleves =
    ONDE_PUPILS +
    `"BERTAL";;"Laure";"2019-01-02";"F";;;;;"CYCLE I";"GS";"GS"\n"BERTAL";;"Karim";"2018-10-15";"M";;;;;"CYCLE II";"CP";"CP"\n`;
  const laure = `"Mme";;"BERTAL";"Muriel";"27 rue des Cerisiers";"99400";"Tilly";;;;;;;;"BERTAL";"Laure";"GS"\n`;
  const karim = `"Mme";;"BERTAL";"Muriel";"41 rue Dagorne";"99400";"Tilly";;;;;;;;"BERTAL";"Karim";"CP"\n`;
  const files = (parents: string) => [
    { name: 'CSVExtraction-eleves.csv', data: latin1(eleves) },
    { name: 'CSVExtraction-responsables.csv', data: latin1(ONDE_PARENTS + parents) },
  ];
  const school = opts({ structureHint: 'École des Aulnes' });
  const first = await importFiles(ctx, files(laure + karim), school);
  assert.deepEqual(first.rejected.map((r) => r.message?.code), ['relativeApart']);
  const [keep, drop] = await q<{ id: string }>(`SELECT id FROM users WHERE last_name = 'BERTAL' AND first_name = 'Muriel' ORDER BY login`);
  await mergeUsers(ctx, { kind: 'all' }, keep.id, drop.id, null);
  for (const order of [karim + laure, laure + karim]) {
    const report = await importFiles(ctx, files(order), school);
    assert.equal(report.fatal, null, formatReport(report));
    assert.deepEqual(report.rejected, [], 'one account: nothing left to merge');
    assert.deepEqual([report.created, report.preDeleted], [0, 0]);
    assert.deepEqual(await childrenOf(keep.id), ['BERTAL Karim', 'BERTAL Laure']);
  }
});
