// AAF feeds on small invented files of the true shape (test/fixtures/aaf/): 2D complete, 2D delta, 1D.
// Who gets an account (legal representatives only), teacher or staff, structure names, unknown structures,
// modifyRequest/deleteRequest, and the 1D attribute names.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { isTeacher, legalRepresentatives, structRefs, structureName } from '../src/import/aaf.js';
import { collectInputs, formatReport, importFiles, type ImportReport } from '../src/import/index.js';
import { CSV_COLUMNS, renderCsv } from '../src/publipostage/csv.js';
import { selectAccounts } from '../src/publipostage/select.js';
import { SelectionSchema } from '../src/publipostage/selection.js';
import { buildServer } from '../src/web/server.js';
import { fileContext, sqlReaders } from './helpers/db.js';
import { Client, createUser } from './helpers/web.js';

const DIR = new URL('./fixtures/aaf/', import.meta.url).pathname;
const D2 = join(DIR, '2d');
const ctx = await fileContext();
const { q } = sqlReaders(ctx);

const one = async <T = Record<string, unknown>>(sql: string, params: unknown[] = []) => (await q<T>(sql, params))[0];
const ids = async (sql: string, params: unknown[] = []) => (await q<{ x: string }>(sql, params)).map((r) => r.x);
const user = (ext: string) =>
  one<{ id: string; profile: string; first_name: string; last_name: string; email: string | null; phone: string | null; mobile: string | null; ine: string | null; functions: string[]; birth_date: string | null; login: string; pre_deleted_at: Date | null; absent_since: Date | null }>(
    `SELECT * FROM users WHERE external_id = $1`,
    [ext],
  );
const classesOf = (ext: string) =>
  ids(`SELECT s.external_id || '/' || c.name || coalesce('/' || l.name, '') AS x FROM users u JOIN user_classes uc ON uc.user_id = u.id
       JOIN classes c ON c.id = uc.class_id JOIN structures s ON s.id = c.structure_id LEFT JOIN levels l ON l.id = c.level_id
       WHERE u.external_id = $1 ORDER BY 1`, [ext]);
const structuresOf = (ext: string) =>
  ids(`SELECT s.external_id AS x FROM users u JOIN user_structures us ON us.user_id = u.id JOIN structures s ON s.id = us.structure_id WHERE u.external_id = $1 ORDER BY 1`, [ext]);
const links = () => ids(`SELECT p.external_id || '>' || c.external_id AS x FROM relations r JOIN users p ON p.id = r.parent_id JOIN users c ON c.id = r.child_id ORDER BY 1`);
const run = async (files: { name: string; path?: string; data?: Buffer }[]): Promise<ImportReport> => {
  const report = await importFiles(ctx, files, { scope: { kind: 'all' }, dryRun: false });
  assert.equal(report.fatal, null, formatReport(report));
  return report;
};
const file = (dir: string, kind: string) => {
  const [f] = collectInputs([join(DIR, dir)]).filter((x) => x.name.includes(`_${kind}_`));
  return f;
};

test('2D feed: accounts only for legal representatives, teachers by function, names with " - ", unknown structures skipped', async () => {
  const report = await run(collectInputs([D2]));
  assert.deepEqual(report.rejected, []);

  // Structures: `$` becomes " - "; nothing is invented for 79999, 1000 or 3000.
  assert.deepEqual(await q(`SELECT external_id, uai, name FROM structures ORDER BY external_id`), [
    { external_id: '71001', uai: '0771001K', name: 'CLG - DES TILLEULS - VILLEBOIS' },
    { external_id: '71002', uai: '0771002L', name: 'LYCEE GENERAL MARIE CURIE' },
  ]);
  assert.deepEqual(await classesOf('E100'), ['71001/6A/6EME']);
  assert.deepEqual(await classesOf('E101'), ['71001/5B/5EME']);
  assert.deepEqual(await classesOf('E102'), []);
  assert.deepEqual(await structuresOf('E102'), []);
  assert.equal((await user('E102')).profile, 'Student');
  const unknown = report.ignored.filter((i) => /absente du fichier EtabEducNat/.test(i.reason));
  assert.deepEqual(
    unknown.map((i) => `${i.field}: ${i.reason}`).sort(),
    [
      "ENTEleveClasses: structure « 3000 » absente du fichier EtabEducNat et de l'annuaire : classe « 1AQUA » non créée",
      "ENTEleveClasses: structure « 79999 » absente du fichier EtabEducNat et de l'annuaire : classe « 5OPT » non créée",
      "ENTPersonStructRattach: structure « 1000 » absente du fichier EtabEducNat et de l'annuaire : rattachement ignoré",
    ],
  );
  assert.ok(unknown.every((i) => i.file === 'ENT_Complet_20240901_Eleve_0000.xml' && i.line > 1));

  // Relatives: R200 (legal representative of two pupils) and R204; the payer, the contact, the one named only
  // by deprecated attributes (ENTEleveParents, ENTElevePere, ENTEleveAutoriteParentale, ENTElevePersRelEleve1)
  // and the relative of another file's pupil get no account and are listed.
  assert.deepEqual(await ids(`SELECT external_id AS x FROM users WHERE profile = 'Relative' ORDER BY 1`), ['R200', 'R204']);
  assert.deepEqual(await links(), ['R200>E100', 'R200>E101', 'R204>E102']);
  const ignoredRelatives = report.ignored.filter((i) => /représentant légal/.test(i.reason));
  assert.deepEqual(ignoredRelatives.map((i) => i.reason.match(/\((R\d+)\)/)![1]).sort(), ['R201', 'R202', 'R203', 'R205']);
  assert.ok(ignoredRelatives.every((i) => i.file === 'ENT_Complet_20240901_PersRelEleve_0000.xml'));
  assert.equal(report.ignored.length, 7);
  assert.deepEqual(await structuresOf('R200'), ['71001']);
  const claire = await user('R200');
  assert.equal(claire.phone, '01 60 00 00 01');
  assert.equal(claire.mobile, '06 00 00 00 01');

  // Teacher: ENTPersonCategorieEnseignant O; without it, in front of pupils or an ENS or DOC function; else staff.
  const profiles = await q<{ external_id: string; profile: string }>(`SELECT external_id, profile FROM users WHERE external_id LIKE 'P%' ORDER BY 1`);
  assert.deepEqual(profiles, [
    { external_id: 'P300', profile: 'Teacher' },
    { external_id: 'P301', profile: 'Teacher' },
    { external_id: 'P302', profile: 'Teacher' },
    { external_id: 'P303', profile: 'Personnel' },
    { external_id: 'P304', profile: 'Teacher' },
  ]);
  assert.deepEqual(report.byProfile.Teacher?.created, 4);
  assert.deepEqual(report.byProfile.Personnel?.created, 1);
  assert.deepEqual(await classesOf('P300'), ['71001/5B/5EME', '71001/6A/6EME']);
  // Functions, mobile and INE are kept as data.
  const director = await user('P303');
  assert.deepEqual(director.functions, ["71001$DIR$DIRECTION$-$DIRECTION CHEF D'ETABLISSEMENT"]);
  assert.equal(director.mobile, '06 11 22 33 44');
  assert.deepEqual((await user('P302')).functions, ['71001$DOC$DOCUMENTATION$L0080$DOCUMENTATION']);
  assert.equal((await user('E100')).ine, '123456789AA');

  // The report names what it left out.
  assert.equal(report.created, 3 + 2 + 5);
});

test('the console user page and the CSV export show INE, functions and the SMS mobile', async () => {
  const app = await buildServer(ctx);
  try {
    await createUser(ctx.database.pool, { login: 'super.admin', password: 'Import-aaf-2024!', superAdmin: true });
    const c = new Client(app);
    assert.equal((await c.signIn('super.admin', 'Import-aaf-2024!')).statusCode, 303);
    const director = await c.get(`/console/utilisateurs/${(await user('P303')).id}`);
    assert.equal(director.statusCode, 200);
    assert.match(director.body, /<dt>Fonctions<\/dt><dd>DIRECTION \(DIRECTION CHEF D&#39;ETABLISSEMENT\)<\/dd>/);
    assert.match(director.body, /<dt>Mobile \(SMS\)<\/dt><dd>06 11 22 33 44<\/dd>/);
    const pupil = await c.get(`/console/utilisateurs/${(await user('E100')).id}`);
    assert.match(pupil.body, /<dt>INE<\/dt><dd><code>123456789AA<\/code><\/dd>/);
  } finally {
    await app.close();
  }
  const rows = await selectAccounts(ctx, SelectionSchema.parse({ userIds: [(await user('P303')).id, (await user('E100')).id] }), { kind: 'all' });
  const lines = renderCsv(rows).toString('utf8').slice(1).split('\r\n');
  assert.deepEqual(CSV_COLUMNS.slice(-3), ['INE', 'Fonctions', 'Mobile']);
  const cells = (who: string) => lines.find((l) => l.startsWith(who))!.split(';').slice(-3);
  assert.deepEqual(cells('Lacroix'), ['', "DIRECTION (DIRECTION CHEF D'ETABLISSEMENT)", '06 11 22 33 44']);
  assert.deepEqual(cells('Rossignol'), ['123456789AA', '', '']);
});

test('re-importing the same 2D feed changes nothing', async () => {
  const report = await run(collectInputs([D2]));
  assert.equal(report.created + report.updated + report.preDeleted + report.relations.created + report.relations.removed, 0);
  assert.equal(report.unchanged, 10);
});

test('a relative of a pupil already in the directory keeps the account when the run has no Eleve file', async () => {
  const report = await run([file('2d', 'EtabEducNat'), file('2d', 'PersRelEleve')]);
  assert.equal(report.preDeleted, 0, formatReport(report));
  assert.equal(report.byProfile.Relative?.unchanged, 2);
  assert.equal(report.created, 0);
  assert.deepEqual(report.ignored.map((i) => i.reason.match(/\((R\d+)\)/)?.[1]).sort(), ['R201', 'R202', 'R203', 'R205']);
  assert.deepEqual(await links(), ['R200>E100', 'R200>E101', 'R204>E102']);
});

test('a relative who stops being a legal representative loses the link and the account, even absent from the run', async () => {
  const eleve = file('2d', 'Eleve');
  const xml = readFileSync(eleve.path!, 'utf8');
  const asLegal = xml.replace('R202$90$0$0$1$0', 'R202$90$0$1$1$0');
  assert.notEqual(asLegal, xml);
  const first = await run([file('2d', 'EtabEducNat'), { name: eleve.name, data: Buffer.from(asLegal) }, file('2d', 'PersRelEleve')]);
  assert.equal(first.byProfile.Relative?.created, 1);
  assert.deepEqual(await links(), ['R200>E100', 'R200>E101', 'R202>E100', 'R204>E102']);
  // Back to the true file: R202 is only a contact, its record is ignored, and the link goes with it.
  const back = await run(collectInputs([D2]));
  assert.equal(back.relations.removed, 1);
  assert.deepEqual(await links(), ['R200>E100', 'R200>E101', 'R204>E102']);
  assert.ok((await user('R202')).absent_since instanceof Date);
  assert.equal(back.preDeleted, 1);
});

test('a delta feed applies modifyRequest (listed attributes only) and deleteRequest, and pre-deletes nobody by absence', async () => {
  const before = await user('E100');
  const report = await run(collectInputs([join(DIR, 'delta')]));
  // A modification of a relative without an account (a mere contact, whose addRequest is ignored too) is ignored,
  // not a rejected row (test/import-aaf-delta-contacts.test.ts); the rest applies.
  assert.deepEqual(report.rejected, []);
  assert.deepEqual(report.ignored.filter((r) => r.field === 'modifyRequest').map((r) => [r.file, r.message?.code, r.message?.params?.id]), [['ENT_Delta_20240902_PersRelEleve_0000.xml', 'ignoredAafModifyNoAccount', 'R999']]);

  // E100: new name and class; birth date, INE, group, login and legal representative stay.
  const lena = await user('E100');
  assert.equal(lena.last_name, 'Rossignol-Marchal');
  assert.equal(lena.first_name, 'Léna');
  assert.equal(lena.birth_date, '2013-03-12');
  assert.equal(lena.ine, '123456789AA');
  assert.equal(lena.login, before.login);
  assert.deepEqual(await classesOf('E100'), ['71001/5B/5EME']);
  assert.deepEqual(await ids(`SELECT g.name AS x FROM user_groups ug JOIN groups g ON g.id = ug.group_id WHERE ug.user_id = $1`, [lena.id]), ['LAT5']);
  // E101: deleteRequest pre-deletes; the only pre-deletion of the run.
  assert.ok((await user('E101')).absent_since instanceof Date);
  assert.equal(report.preDeleted, 1);
  // E102: new school, new legal representative (created), the former one (now a contact) unlinked but kept.
  assert.deepEqual(await structuresOf('E102'), ['71002']);
  assert.deepEqual(await links(), ['R200>E100', 'R200>E101', 'R206>E102']);
  assert.deepEqual(await structuresOf('R206'), ['71002']);
  assert.equal((await user('R204')).absent_since, null);
  // R200: new e-mail, the rest as it was.
  const claire = await user('R200');
  assert.equal(claire.email, 'claire.rossignol@example.net');
  assert.equal(claire.mobile, '06 00 00 00 01');
  assert.equal(claire.first_name, 'Claire');
  // Staff: P303 now in front of pupils; P300's e-mail changes, profile and classes stay.
  assert.equal((await user('P303')).profile, 'Teacher');
  const helene = await user('P300');
  assert.equal(helene.profile, 'Teacher');
  assert.equal(helene.email, 'h.fontaine@ac-exemple.fr');
  assert.deepEqual(await classesOf('P300'), ['71001/5B/5EME', '71001/6A/6EME']);
  // Structure renamed by its modifyRequest, UAI kept.
  assert.deepEqual(await one(`SELECT uai, name FROM structures WHERE external_id = '71002'`), { uai: '0771002L', name: 'LYCEE - MARIE CURIE - VILLEBOIS' });
});

test('AAF 1D: ENTPersonNom/ENTPersonPrenom, 1D classes, ENTEleveAutoriteParentale, functions; declared ISO-8859-15', async () => {
  const report = await run(collectInputs([join(DIR, '1d')]));
  assert.deepEqual(report.rejected, []);
  assert.equal(
    (await one<{ name: string }>(`SELECT name FROM structures WHERE external_id = '81001'`)).name,
    'ÉCOLE PRIMAIRE - JULES FERRY - SAINT-ÉTIENNE-LÈS-BOIS',
  );
  const pupil = await user('1D-E1');
  assert.equal(pupil.last_name, 'Aubry');
  assert.equal(pupil.first_name, 'Maëlys');
  assert.equal(pupil.ine, '345678901CC');
  assert.deepEqual(await classesOf('1D-E1'), ['81001/CM1 A/CM1']);
  assert.deepEqual((await links()).filter((l) => l.startsWith('1D')), ['1D-R1>1D-E1', '1D-R2>1D-E1']);
  assert.deepEqual(report.ignored.map((i) => i.reason.match(/\((1D-R\d)\)/)?.[1]), ['1D-R3']);
  const nadia = await user('1D-R1');
  assert.equal(nadia.email, 'nadia.aubry@example.org');
  assert.equal(nadia.phone, '03 29 00 00 01');
  assert.equal(nadia.mobile, '06 29 00 00 01');
  assert.equal((await user('1D-P1')).profile, 'Teacher');
  assert.equal((await user('1D-P1')).email, 'amandine.thierry@ac-exemple.fr');
  const staff = await user('1D-P2');
  assert.equal(staff.profile, 'Personnel');
  assert.deepEqual(staff.functions, ["81001$EDU$EDUCATION$-$ASSISTANT D'EDUCATION"]);
  // A complete 1D run covers its school only: of the 2D accounts, only R204 goes (attached nowhere, legal
  // representative of nobody since the delta; complete AAF runs also cover such orphans).
  assert.equal(report.preDeleted, 1);
  assert.deepEqual(await ids(`SELECT external_id AS x FROM users WHERE absent_since IS NOT NULL ORDER BY 1`), ['E101', 'R202', 'R204']);
});

test('field rules: structure names, legal representatives, teacher functions, class references', () => {
  assert.equal(structureName('CLG$DES TILLEULS$VILLEBOIS'), 'CLG - DES TILLEULS - VILLEBOIS');
  assert.equal(structureName('LYCEE  JEAN MOULIN'), 'LYCEE JEAN MOULIN');
  const a = (k: string, ...v: string[]) => new Map([[k, v]]);
  // 4th field: 1 a legal representative; 2 the second one only when ENTEleveAutoriteParentale names them (older
  // feeds), else a « personne en charge » (test/import-aaf-roles.test.ts); 0 is a contact or a payer.
  assert.deepEqual(legalRepresentatives(a('ENTElevePersRelEleve', 'A$10$1$1$0$0', 'B$20$1$0$1$0', 'C$90$0$2$1$0', 'D$90$0$0$1$0', 'S$10$1$1$1$1'), false, 'S'), ['A']);
  assert.deepEqual(
    legalRepresentatives(new Map([['ENTElevePersRelEleve', ['A$10$1$1$0$0', 'C$90$0$2$1$0']], ['ENTEleveAutoriteParentale', ['A', 'C']]]), false, 'S'),
    ['A', 'C'],
  );
  assert.deepEqual(legalRepresentatives(a('ENTEleveAutoriteParentale', 'A', 'B'), false, 'S'), undefined);
  assert.deepEqual(legalRepresentatives(a('ENTEleveAutoriteParentale', 'A', 'B$x'), true, 'S'), ['A', 'B']);
  assert.equal(isTeacher(new Map(), ['1$DOC$DOCUMENTATION$L0080$DOCUMENTATION']), true);
  assert.equal(isTeacher(new Map(), ['1$DIR$DIRECTION$-$DIRECTION']), false);
  assert.equal(isTeacher(a('PersEducNatPresenceDevantEleves', 'o'), []), true);
  assert.equal(isTeacher(a('ENTPersonCategorieEnseignant', 'O'), []), true);
  // The category decides when given, as the reference ENT reads it: N is staff whatever the functions or presence say.
  assert.equal(isTeacher(a('ENTPersonCategorieEnseignant', 'N'), ['1$ENS$ENSEIGNEMENT$L1300$MATHS']), false);
  assert.equal(isTeacher(new Map([['ENTPersonCategorieEnseignant', ['n']], ['PersEducNatPresenceDevantEleves', ['O']]]), []), false);
  assert.equal(isTeacher(a('ENTPersonCategorieEnseignant', 'O'), ['1$DIR$DIRECTION$-$DIRECTION']), true);
  // Anything else (empty, unknown) says nothing: the functions and presence decide.
  assert.equal(isTeacher(a('ENTPersonCategorieEnseignant', ''), ['1$ENS$ENSEIGNEMENT$L1300$MATHS']), true);
  assert.equal(isTeacher(a('ENTPersonCategorieEnseignant', 'X'), []), false);
  assert.deepEqual(structRefs(['1$6A', '1$ELEM$CM1$1-C1$CM1 A', '1$6A', '$X', '2$']), [
    { structure: '1', name: '6A' },
    { structure: '1', name: 'CM1 A' },
  ]);
});

test('an e-mail that is not one is a rejected field (file, line, field): the person is imported without it', async () => {
  const etab = file('2d', 'EtabEducNat');
  const staff = file('2d', 'PersEducNat');
  const xml = readFileSync(staff.path!, 'utf8').replace('helene.fontaine@ac-exemple.fr', 'helene.fontaine(at)ac-exemple');
  const report = await importFiles(ctx, [etab, { name: staff.name, data: Buffer.from(xml) }], { scope: { kind: 'all' }, dryRun: true });
  assert.equal(report.fatal, null, formatReport(report));
  const bad = report.rejected.filter((r) => r.field === 'mail');
  assert.deepEqual(bad.map((r) => [r.file, r.reason]), [[staff.name, 'adresse électronique invalide « helene.fontaine(at)ac-exemple » : non importée']]);
  assert.ok(bad[0].line > 1, 'the line of the record is named');
  assert.match(formatReport(report), /PersEducNat_0000\.xml, ligne \d+, mail : adresse électronique invalide/);
});

test('ENTPersonCategorieEnseignant N makes staff of a person whose function is ENS: a teacher of the directory becomes staff', async () => {
  const etab = file('2d', 'EtabEducNat');
  const staff = file('2d', 'PersEducNat');
  assert.equal((await run([etab, staff])).fatal, null);
  assert.equal((await user('P301')).profile, 'Teacher', 'P301 teaches mathematics (function ENS)');
  const marker = '<attr name="ENTPersonFonctions"><value>71001$ENS$ENSEIGNEMENT$L1300$MATHEMATIQUES</value></attr>';
  const text = readFileSync(staff.path!, 'utf8');
  assert.ok(text.includes(marker), 'the fixture gives P301 an ENS function');
  const xml = text.replace(marker, `${marker}\n<attr name="ENTPersonCategorieEnseignant"><value>N</value></attr>`);
  const report = await run([etab, { name: staff.name, data: Buffer.from(xml) }]);
  assert.equal(report.fatal, null, formatReport(report));
  assert.equal((await user('P301')).profile, 'Personnel', formatReport(report));
  assert.deepEqual((await user('P301')).functions, ['71001$ENS$ENSEIGNEMENT$L1300$MATHEMATIQUES'], 'the function is kept as data');
  // Back as the feed first said: a teacher again.
  assert.equal((await run([etab, staff])).fatal, null);
  assert.equal((await user('P301')).profile, 'Teacher');
});
