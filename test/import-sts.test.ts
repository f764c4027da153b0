// STS-web `sts_emp_<UAI>_<année>.xml`: teachers and staff of the school named by the UAI, functions, classes and
// groups from the timetable services, levels from the MEF, with SIECLE into the same school.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import iconv from 'iconv-lite';
import { mergeUsers } from '../src/directory/duplicates.js';
import { collectInputs, formatReport, importFiles } from '../src/import/index.js';
import { accountReaders, fileContext, sqlReaders } from './helpers/db.js';

const STS = new URL('./fixtures/sts/', import.meta.url).pathname;
const SIECLE = new URL('./fixtures/siecle/', import.meta.url).pathname;
const FILE = 'sts_emp_0990001X_2025.xml';
const ALL = { kind: 'all' } as const;
const ctx = await fileContext();
const { q, count } = sqlReaders(ctx);
const { user, classesOf, groupsOf } = accountReaders(ctx);


test('teachers and staff of the school named by its UAI, with functions, classes, groups and levels', async () => {
  const report = await importFiles(ctx, collectInputs([STS]), { scope: ALL, dryRun: false });
  assert.equal(report.fatal, null, formatReport(report));
  assert.deepEqual(report.structures, [{ name: 'COLLEGE DES TILLEULS', uai: '0990001X', created: true, accounts: { Teacher: { created: 3, updated: 0, unchanged: 0, restored: 0, preDeleted: 0 }, Personnel: { created: 2, updated: 0, unchanged: 0, restored: 0, preDeleted: 0 } } }]);
  const [f] = report.files;
  assert.deepEqual([f.kind, f.format, f.encoding, f.rows, f.created, f.rejected], ['sts-emp', 'STS-web personnels', 'iso-8859-15', 6, 5, 1]);

  assert.equal(await count(`SELECT count(*) n FROM users WHERE profile = 'Teacher' AND source = 'sts' AND origin = 'feed'`), 3);
  assert.equal(await count(`SELECT count(*) n FROM users WHERE profile = 'Personnel' AND source = 'sts'`), 2);

  const helene = await user('DURAND', 'Hélène');
  assert.equal(helene.profile, 'Teacher');
  assert.equal(helene.title, 'Mme');
  assert.equal(helene.birth_date, '1979-04-18');
  assert.equal(helene.external_id, 'sts:0990001X:41001');
  assert.deepEqual(helene.functions, ['0990001X$ENS']);
  // French in 6A (also professeure principale there), Latin in the 6LATIN group.
  assert.deepEqual(await classesOf(helene.id), [{ name: '6A', level: '6EME' }]);
  assert.deepEqual(await groupsOf(helene.id), ['6LATIN']);
  assert.deepEqual(await classesOf((await user('NGUYEN', 'Paul')).id), [{ name: '5B', level: '5EME' }, { name: '6A', level: '6EME' }]);

  // DOC is a teacher without a service; DIR and EDU are staff.
  const martine = await user('BŒUF', 'Martine');
  assert.deepEqual([martine.profile, martine.functions], ['Teacher', ['0990001X$DOC']]);
  assert.deepEqual([(await user('LAMBERT', 'Odile')).profile, (await user('ROCHE', 'Yann')).profile], ['Personnel', 'Personnel']);

  // A division nobody teaches yet still exists.
  assert.equal(await count(`SELECT count(*) n FROM classes WHERE name = '4C'`), 1);

  // An impossible date rejects the row, named by file, line and field.
  assert.equal(report.rejected.length, 1);
  const lines = iconv.decode(readFileSync(join(STS, FILE)), 'iso-8859-15').split('\n');
  const line = lines.findIndex((l) => l.includes('ID="41006"')) + 1;
  assert.deepEqual(report.rejected[0], {
    file: FILE, line, field: 'DATE_NAISSANCE', reason: 'MOREL Inès : date de naissance invalide « 1980-02-31 »',
    message: { code: 'rowInvalidBirthOf', params: { who: 'MOREL Inès', value: '1980-02-31' } },
  });
});

test('SIECLE and STS-web of one UAI land in one school; re-import changes nothing; a departure is pre-deleted', async () => {
  const both = await importFiles(ctx, collectInputs([SIECLE, STS]), { scope: ALL, dryRun: false });
  assert.equal(both.fatal, null, formatReport(both));
  assert.equal(await count(`SELECT count(*) n FROM structures`), 1);
  assert.deepEqual([both.created, both.updated, both.unchanged], [9, 0, 5]);
  // Pupils and teachers share the classes.
  assert.equal(await count(`SELECT count(*) n FROM classes WHERE name = '6A'`), 1);
  assert.equal(await count(`SELECT count(*) n FROM user_classes uc JOIN classes c ON c.id = uc.class_id WHERE c.name = '6A'`), 3 + 2);

  const text = iconv.decode(readFileSync(join(STS, FILE)), 'iso-8859-15');
  const v2 = text.replace(/<INDIVIDU ID="41005"[\s\S]*?<\/INDIVIDU>\r\n/, '');
  const report = await importFiles(ctx, [{ name: FILE, data: iconv.encode(v2, 'iso-8859-15') }], { scope: ALL, dryRun: false });
  assert.equal(report.fatal, null, formatReport(report));
  assert.deepEqual([report.files[0].created, report.files[0].updated, report.files[0].unchanged, report.files[0].preDeleted], [0, 0, 4, 1]);
  assert.ok((await user('ROCHE', 'Yann')).absent_since);
  assert.equal((await user('COQUELICOT', 'Léa')).absent_since, null, 'an STS-web file covers teachers and staff only');
});

// ---- Invented files (UTF-8), built here: their dates are relative to the run's day ----

/**
 * The run's day shifted by `days`, as importFiles computes it (index.ts: Europe/Paris, YYYY-MM-DD). Shifts are whole
 * days far from the boundary (±30) except 0, so that the tests never depend on the real date.
 */
const parisDay = (days = 0) => new Intl.DateTimeFormat('en-CA', { timeZone: 'Europe/Paris' }).format(new Date(Date.now() + days * 86_400_000));

interface StsPerson {
  id: string;
  type?: string;
  last: string;
  first: string;
  /** FONCTION; absent: no element (a person on leave, SACoche). */
  fonction?: string;
  /** PROFS_PRINC: a class and its DATE_FIN (absent: no element). */
  pp?: { code: string; end?: string }[];
}
/** Services of a division or group: the teachers' IDs and TYPEs. */
type StsTeaching = { code: string; teachers: { id: string; type?: string }[] };

const attr = (id: string, type?: string) => `ID="${id}"${type ? ` TYPE="${type}"` : ''}`;
const services = (t: StsTeaching) =>
  `<SERVICES><SERVICE CODE_MATIERE="020700" CODE_MOD_COURS="CG"><ENSEIGNANTS>${t.teachers.map((x) => `<ENSEIGNANT ${attr(x.id, x.type)}/>`).join('')}</ENSEIGNANTS></SERVICE></SERVICES>`;

/** An STS-web export of school `uai`: one INDIVIDU per line, so that a rejection's line names its person. */
function stsFile(uai: string, people: StsPerson[], divisions: StsTeaching[] = [], groups: StsTeaching[] = []) {
  const person = (p: StsPerson) =>
    `<INDIVIDU ${attr(p.id, p.type ?? 'epp')}><CIVILITE>2</CIVILITE><NOM_USAGE>${p.last}</NOM_USAGE><PRENOM>${p.first}</PRENOM>` +
    (p.fonction ? `<FONCTION>${p.fonction}</FONCTION>` : '') +
    (p.pp
      ? `<PROFS_PRINC>${p.pp.map((x) => `<PROF_PRINC><CODE_STRUCTURE>${x.code}</CODE_STRUCTURE><DATE_DEBUT>2025-09-01</DATE_DEBUT>${x.end ? `<DATE_FIN>${x.end}</DATE_FIN>` : ''}</PROF_PRINC>`).join('')}</PROFS_PRINC>`
      : '') +
    `</INDIVIDU>`;
  const xml = `<?xml version="1.0" encoding="UTF-8"?>
<STS_EDT>
<PARAMETRES><UAJ CODE="${uai}"><DENOM_PRINC>COLLEGE</DENOM_PRINC><DENOM_COMPL>${uai}</DENOM_COMPL></UAJ></PARAMETRES>
<DONNEES>
<INDIVIDUS>
${people.map(person).join('\n')}
</INDIVIDUS>
<STRUCTURE>
<DIVISIONS>${divisions.map((d) => `<DIVISION CODE="${d.code}">${services(d)}</DIVISION>`).join('')}</DIVISIONS>
<GROUPES>${groups.map((g) => `<GROUPE CODE="${g.code}">${services(g)}</GROUPE>`).join('')}</GROUPES>
</STRUCTURE>
</DONNEES>
</STS_EDT>
`;
  return { name: `sts_emp_${uai}_2025.xml`, data: Buffer.from(xml) };
}
const importSts = async (file: ReturnType<typeof stsFile>) => {
  const report = await importFiles(ctx, [file], { scope: ALL, dryRun: false });
  assert.equal(report.fatal, null, formatReport(report));
  return report;
};
/** The line of the INDIVIDU whose ID and TYPE are given, in a file stsFile built. */
const lineOf = (file: ReturnType<typeof stsFile>, id: string, type = 'epp') => file.data.toString().split('\n').findIndex((l) => l.includes(`<INDIVIDU ${attr(id, type)}>`)) + 1;
/** An account's class names, by login. */
const classesByLogin = async (login: string) =>
  (await q<{ name: string }>(`SELECT c.name FROM users u JOIN user_classes uc ON uc.user_id = u.id JOIN classes c ON c.id = uc.class_id WHERE u.login = $1 ORDER BY 1`, [login])).map((r) => r.name);

test('a principal teacher is one while the PROF_PRINC lasts (SACoche: DATE_FIN ≥ today): an ended one gives no class, and takes it back', async () => {
  const uai = '0990002Y';
  const people = (lucEnd: string): StsPerson[] => [
    { id: '501', last: 'BONNET', first: 'Luc', fonction: 'ENS', pp: [{ code: '6B', end: lucEnd }] },
    { id: '502', last: 'FAURE', first: 'Anne', fonction: 'ENS', pp: [{ code: '6C' }] },
    { id: '503', last: 'ROUX', first: 'Marc', fonction: 'ENS', pp: [{ code: '6D', end: parisDay(0) }] },
    // The file's other spelling of a date (JJ/MM/AAAA) is read too.
    { id: '504', last: 'PERRIN', first: 'Julie', fonction: 'ENS', pp: [{ code: '6E', end: parisDay(30).split('-').reverse().join('/') }] },
  ];
  // Luc was 6B's principal teacher until the school changed it; his account had the class.
  await importSts(stsFile(uai, people(parisDay(30))));
  assert.deepEqual(await classesByLogin('luc.bonnet'), ['6B']);

  const report = await importSts(stsFile(uai, people(parisDay(-30))));
  assert.deepEqual(report.rejected, []);
  assert.deepEqual(await classesByLogin('luc.bonnet'), [], 'an ended PROF_PRINC gives no class');
  assert.deepEqual(await classesByLogin('anne.faure'), ['6C'], 'no DATE_FIN: still principal teacher');
  assert.deepEqual(await classesByLogin('marc.roux'), ['6D'], 'ending today: still principal teacher');
  assert.deepEqual(await classesByLogin('julie.perrin'), ['6E']);
  // He is still a teacher of the school, only not of 6B.
  const luc = (await q<{ profile: string; absent_since: string | null }>(`SELECT profile, absent_since FROM users WHERE login = 'luc.bonnet'`))[0];
  assert.deepEqual(luc, { profile: 'Teacher', absent_since: null });
});

test('a PROF_PRINC whose DATE_FIN cannot be read gives no class, and says so; the person is imported', async () => {
  const file = stsFile('0990003Z', [{ id: '601', last: 'LEROY', first: 'Paul', fonction: 'ENS', pp: [{ code: '5A', end: '31/02/2026' }] }]);
  const report = await importSts(file);
  assert.deepEqual(await classesByLogin('paul.leroy'), []);
  assert.equal(report.files[0].created, 1);
  assert.deepEqual(report.rejected, [
    {
      file: file.name, line: lineOf(file, '601'), field: 'PROF_PRINC/DATE_FIN',
      reason: 'LEROY Paul : date de fin de professeur principal invalide « 31/02/2026 » : classe 5A non attribuée',
      message: { code: 'rowInvalidPrincipalEndOf', params: { who: 'LEROY Paul', value: '31/02/2026', class: '5A' } },
    },
  ]);
});

test('a person without FONCTION (on leave, SACoche) joins no class or group from leftover services; the account stays, unchanged otherwise', async () => {
  const uai = '0990004A';
  const teaching = (): [StsTeaching[], StsTeaching[]] => [[{ code: '6B', teachers: [{ id: '701', type: 'epp' }] }], [{ code: '6LATIN', teachers: [{ id: '701', type: 'epp' }] }]];
  const others: StsPerson[] = [
    // On leave too, still listed as 5A's principal teacher: no class either.
    { id: '702', last: 'MASSON', first: 'Eric', pp: [{ code: '5A' }] },
    { id: '703', last: 'BLANC', first: 'Nora' },
  ];
  await importSts(stsFile(uai, [{ id: '701', last: 'GIRAUD', first: 'Paule', fonction: 'ENS' }, ...others], ...teaching()));
  assert.deepEqual(await classesByLogin('paule.giraud'), ['6B']);
  await q(`UPDATE users SET activated_at = now() WHERE login = 'paule.giraud'`);

  // Paule goes on maternity leave: STS-web drops her FONCTION and keeps her services.
  const report = await importSts(stsFile(uai, [{ id: '701', last: 'GIRAUD', first: 'Paule' }, ...others], ...teaching()));
  assert.deepEqual(report.rejected, []);
  const paule = (await q<{ id: string; profile: string; functions: string[]; absent_since: string | null; activated: boolean }>(
    `SELECT id, profile, functions, absent_since, activated_at IS NOT NULL AS activated FROM users WHERE login = 'paule.giraud'`,
  ))[0];
  assert.deepEqual(await classesOf(paule.id), [], 'no class from the services of a person without FONCTION');
  assert.deepEqual(await groupsOf(paule.id), []);
  // Her account stays, activated, and is not sent to the grace period: she comes back. A teacher still (her services
  // say so, as before), of no class.
  assert.deepEqual([paule.profile, paule.functions, paule.absent_since, paule.activated], ['Teacher', [], null, true]);
  assert.deepEqual(await classesByLogin('eric.masson'), []);
  assert.equal((await q<{ profile: string }>(`SELECT profile FROM users WHERE login = 'eric.masson'`))[0].profile, 'Teacher');
  assert.equal((await q<{ profile: string }>(`SELECT profile FROM users WHERE login = 'nora.blanc'`))[0].profile, 'Personnel');
  // The class and the group stay, with nobody in them.
  assert.equal(await count(`SELECT count(*) n FROM classes c JOIN structures s ON s.id = c.structure_id WHERE s.uai = $1 AND c.name = '6B'`, [uai]), 1);
});

test('one INDIVIDU ID given to two people: both refused, each naming the other, the account under it unchanged; one person listed twice is one account', async () => {
  const uai = '0990005B';
  const helene: StsPerson = { id: '100', last: 'MARTINEZ', first: 'Hélène', fonction: 'ENS' };
  await importSts(stsFile(uai, [helene], [{ code: '6B', teachers: [{ id: '100', type: 'epp' }] }]));
  await q(`UPDATE users SET activated_at = now() WHERE login = 'helene.martinez'`);
  const before = await q(`SELECT id, external_id, first_name, last_name, login, activated_at, absent_since FROM users WHERE login = 'helene.martinez'`);
  assert.equal(before[0].external_id, `sts:${uai}:100`);

  const file = stsFile(
    uai,
    [
      helene,
      { id: '100', last: 'DUMONT', first: 'Kevin', fonction: 'ENS' },
      { id: '200', last: 'PETIT-JEAN', first: 'Éloïse', fonction: 'ENS' },
      // The same person spelt twice (folded names agree): one account, both rows' classes.
      { id: '200', last: 'Petit Jean', first: 'Eloise', fonction: 'ENS' },
    ],
    [{ code: '6C', teachers: [{ id: '100', type: 'epp' }, { id: '200', type: 'epp' }] }],
  );
  const report = await importSts(file);
  const [hl, kl] = [lineOf(file, '100'), file.data.toString().split('\n').findIndex((l) => l.includes('DUMONT')) + 1];
  assert.deepEqual(
    report.rejected.map((x) => [x.line, x.field, x.message?.code, x.message?.params?.id, x.message?.params?.name, x.message?.params?.line]),
    [
      [hl, 'identifiant', 'rowSharedId', '100', 'Kevin DUMONT', kl],
      [kl, 'identifiant', 'rowSharedId', '100', 'Hélène MARTINEZ', hl],
    ],
  );
  assert.match(formatReport(report), /identifiant « 100 » donné aussi à Kevin DUMONT/);
  // Hélène's activated account is neither renamed nor given the other's class, nor sent to the grace period.
  assert.deepEqual(await q(`SELECT id, external_id, first_name, last_name, login, activated_at, absent_since FROM users WHERE id = $1`, [before[0].id]), before);
  assert.deepEqual(await classesByLogin('helene.martinez'), ['6B']);
  assert.equal(await count(`SELECT count(*) n FROM users WHERE last_name = 'DUMONT'`), 0);
  assert.deepEqual([report.created, report.updated], [1, 0]);
  assert.equal(await count(`SELECT count(*) n FROM users WHERE external_id = $1`, [`sts:${uai}:200`]), 1);
  assert.deepEqual(await classesByLogin((await q<{ login: string }>(`SELECT login FROM users WHERE external_id = $1`, [`sts:${uai}:200`]))[0].login), ['6C']);
});

test('INDIVIDU TYPE is part of the identity: an epp and a local person sharing a small ID are two people, each with their own services', async () => {
  const uai = '0990006C';
  const helene: StsPerson = { id: '100', last: 'MARTINEZ', first: 'Hélène', fonction: 'ENS' };
  await importSts(stsFile(uai, [helene], [{ code: '6B', teachers: [{ id: '100', type: 'epp' }] }]));
  await q(`UPDATE users SET activated_at = now() WHERE login = 'helene.martinez'`);
  const before = await q(`SELECT id, external_id, first_name, last_name, login, activated_at, absent_since FROM users WHERE login = 'helene.martinez'`);

  // GEPI: small IDs under both TYPEs. Kevin, created in STS-web by the school (local), teaches 6C.
  const report = await importSts(
    stsFile(
      uai,
      [helene, { id: '100', type: 'local', last: 'DUMONT', first: 'Kevin', fonction: 'ENS' }, { id: '500', type: 'local', last: 'LEGRAND', first: 'Sami', fonction: 'ENS' }],
      [
        { code: '6B', teachers: [{ id: '100', type: 'epp' }] },
        { code: '6C', teachers: [{ id: '100', type: 'local' }] },
        // Without TYPE, an ENSEIGNANT names the one INDIVIDU of that ID; two of them: neither.
        { code: '6D', teachers: [{ id: '500' }, { id: '100' }] },
      ],
    ),
  );
  assert.deepEqual(report.rejected, []);
  assert.deepEqual([report.created, report.updated, report.unchanged], [2, 0, 1]);
  assert.deepEqual(await q(`SELECT id, external_id, first_name, last_name, login, activated_at, absent_since FROM users WHERE id = $1`, [before[0].id]), before);
  assert.deepEqual(await classesByLogin('helene.martinez'), ['6B']);
  const kevin = (await q<{ external_id: string; login: string }>(`SELECT external_id, login FROM users WHERE last_name = 'DUMONT'`))[0];
  assert.deepEqual(kevin, { external_id: `sts:${uai}:local:100`, login: 'kevin.dumont' });
  assert.deepEqual(await classesByLogin('kevin.dumont'), ['6C']);
  assert.deepEqual(await classesByLogin('sami.legrand'), ['6D']);
});

test('accounts keyed before TYPE counted: a local person’s is found under its former key and re-keyed; another person’s is not taken', async () => {
  // Nadia (local) was imported when the key ignored TYPE: her account is under `sts:<UAI>:300`.
  const uai = '0990007D';
  const nadia = stsFile(uai, [{ id: '300', type: 'local', last: 'HAMDI', first: 'Nadia', fonction: 'EDU' }]);
  await importSts(nadia);
  await q(`UPDATE users SET activated_at = now(), external_id = $1 WHERE login = 'nadia.hamdi'`, [`sts:${uai}:300`]);
  const [{ id }] = await q<{ id: string }>(`SELECT id FROM users WHERE login = 'nadia.hamdi'`);
  const again = await importSts(nadia);
  assert.deepEqual([again.created, again.preDeleted], [0, 0]);
  assert.deepEqual(await q(`SELECT id, external_id, login, activated_at IS NOT NULL AS activated, absent_since FROM users WHERE last_name = 'HAMDI'`), [
    { id, external_id: `sts:${uai}:local:300`, login: 'nadia.hamdi', activated: true, absent_since: null },
  ]);

  // Claire (epp 400) left; Kevin, local 400, is not her: her activated account is not handed to him.
  const other = '0990008E';
  await importSts(stsFile(other, [{ id: '400', last: 'BERNARD', first: 'Claire', fonction: 'ENS' }], [{ code: '4A', teachers: [{ id: '400', type: 'epp' }] }]));
  await q(`UPDATE users SET activated_at = now() WHERE login = 'claire.bernard'`);
  const report = await importSts(stsFile(other, [{ id: '400', type: 'local', last: 'DUMONT', first: 'Kevin', fonction: 'ENS' }], [{ code: '4A', teachers: [{ id: '400', type: 'local' }] }]));
  assert.deepEqual([report.created, report.updated, report.preDeleted], [1, 0, 1]);
  const claire = (await q<{ external_id: string; first_name: string; absent: boolean }>(`SELECT external_id, first_name, absent_since IS NOT NULL AS absent FROM users WHERE login = 'claire.bernard'`))[0];
  assert.deepEqual(claire, { external_id: `sts:${other}:400`, first_name: 'Claire', absent: true });
  const kevin = (await q<{ external_id: string; login: string }>(`SELECT external_id, login FROM users WHERE last_name = 'DUMONT' AND external_id LIKE $1`, [`sts:${other}:%`]))[0];
  assert.equal(kevin.external_id, `sts:${other}:local:400`);
  assert.deepEqual(await classesByLogin(kevin.login), ['4A']);
});

test('a local person’s former key kept as an alias (duplicate merged into another account) still leads to that account', async () => {
  const uai = '0990009F';
  const ines = stsFile(uai, [{ id: '300', type: 'local', last: 'KACI', first: 'Inès', fonction: 'EDU' }]);
  await importSts(ines);
  await q(`UPDATE users SET external_id = $1 WHERE last_name = 'KACI'`, [`sts:${uai}:300`]);
  const [{ id: stsId }] = await q<{ id: string }>(`SELECT id FROM users WHERE last_name = 'KACI'`);
  // The school also typed her in (CSV); that activated account is kept, the STS-web one merged into it.
  const typed = await importFiles(ctx, [{ name: 'CSV_Personnels.csv', data: Buffer.from('Nom;Prénom\nKACI;Inès\n') }], { scope: ALL, dryRun: false, structureHint: uai });
  assert.equal(typed.created, 1, formatReport(typed));
  const [{ id: kept }] = await q<{ id: string }>(`SELECT id FROM users WHERE last_name = 'KACI' AND source = 'csv'`);
  await q(`UPDATE users SET activated_at = now() WHERE id = $1`, [kept]);
  await mergeUsers(ctx, ALL, kept, stsId, null);
  assert.deepEqual(await q(`SELECT external_id, user_id FROM user_aliases`), [{ external_id: `sts:${uai}:300`, user_id: kept }]);

  const report = await importSts(ines);
  assert.deepEqual([report.created, report.preDeleted], [0, 0]);
  assert.deepEqual(await q(`SELECT id, activated_at IS NOT NULL AS activated FROM users WHERE last_name = 'KACI'`), [{ id: kept, activated: true }]);
  assert.deepEqual(await q(`SELECT external_id, user_id FROM user_aliases`), [{ external_id: `sts:${uai}:local:300`, user_id: kept }]);
});

test('a local person’s account keyed before TYPE counted is not taken over by an epp person of the same ID: it stays theirs, the epp person gets a new one', async () => {
  // Omar (local 12) was imported when the key ignored TYPE; he activated his account. Now an epp person with ID 12 is listed too.
  const uai = '0990010G';
  const omar: StsPerson = { id: '12', type: 'local', last: 'SAIDI', first: 'Omar', fonction: 'ENS' };
  await importSts(stsFile(uai, [omar], [{ code: '3A', teachers: [{ id: '12', type: 'local' }] }]));
  await q(`UPDATE users SET activated_at = now(), external_id = $1 WHERE login = 'omar.saidi'`, [`sts:${uai}:12`]);
  const [{ id }] = await q<{ id: string }>(`SELECT id FROM users WHERE login = 'omar.saidi'`);

  const report = await importSts(
    stsFile(uai, [{ id: '12', last: 'COLIN', first: 'Lise', fonction: 'ENS' }, omar], [
      { code: '3A', teachers: [{ id: '12', type: 'local' }] },
      { code: '3B', teachers: [{ id: '12', type: 'epp' }] },
    ]),
  );
  assert.deepEqual(report.rejected, []);
  assert.deepEqual([report.created, report.preDeleted], [1, 0]);
  assert.deepEqual(await q(`SELECT id, external_id, first_name, activated_at IS NOT NULL AS activated FROM users WHERE login = 'omar.saidi'`), [
    { id, external_id: `sts:${uai}:local:12`, first_name: 'Omar', activated: true },
  ]);
  assert.deepEqual(await classesByLogin('omar.saidi'), ['3A']);
  assert.deepEqual(await q(`SELECT external_id, activated_at FROM users WHERE login = 'lise.colin'`), [{ external_id: `sts:${uai}:12`, activated_at: null }]);
  assert.deepEqual(await classesByLogin('lise.colin'), ['3B']);
});

test('a local person’s row rejected keeps the account made under the former key from the grace period', async () => {
  const uai = '0990011H';
  await importSts(stsFile(uai, [{ id: '77', type: 'local', last: 'VIDAL', first: 'Rose', fonction: 'EDU' }]));
  await q(`UPDATE users SET external_id = $1 WHERE login = 'rose.vidal'`, [`sts:${uai}:77`]);
  const file = stsFile(uai, [{ id: '77', type: 'local', last: 'VIDAL', first: 'Rose', fonction: 'EDU' }]);
  const broken = { ...file, data: Buffer.from(file.data.toString().replace('<PRENOM>Rose</PRENOM>', '<PRENOM>Rose</PRENOM><DATE_NAISSANCE>1980-02-31</DATE_NAISSANCE>')) };
  const report = await importSts(broken);
  assert.deepEqual(report.rejected.map((x) => x.message?.code), ['rowInvalidBirthOf']);
  assert.equal(report.preDeleted, 0);
  assert.deepEqual(await q(`SELECT external_id, absent_since FROM users WHERE login = 'rose.vidal'`), [{ external_id: `sts:${uai}:77`, absent_since: null }]);
});

test('STS-web and the teachers’ list without class column in one run, on one account (a merged duplicate): STS-web still takes away a class it no longer gives', async () => {
  const uai = '0990012J';
  const claire = { id: '500', last: 'DUPRÉ', first: 'Claire', fonction: 'ENS' };
  await importSts(stsFile(uai, [claire], [{ code: '6A', teachers: [{ id: '500' }] }, { code: '5B', teachers: [{ id: '500' }] }]));
  // The secretary's list (names and e-mails, no class column) made her a second account; merged into STS-web's.
  const list = { name: 'CSV_Enseignants.csv', data: Buffer.from('Prénom;Nom;Courriel\nClaire;DUPRÉ;claire.dupre@example.org\n') };
  const typed = await importFiles(ctx, [list], { scope: ALL, dryRun: false, structureHint: uai });
  assert.equal(typed.created, 1, formatReport(typed));
  const [sts, csv] = await q<{ id: string }>(`SELECT id FROM users WHERE last_name = 'DUPRÉ' ORDER BY source DESC`);
  await mergeUsers(ctx, ALL, sts.id, csv.id, null);
  assert.deepEqual((await classesOf(sts.id)).map((c) => c.name), ['5B', '6A']);

  // Both files in one run: STS-web no longer gives her 5B; the list says nothing of classes.
  const timetable = stsFile(uai, [claire], [{ code: '6A', teachers: [{ id: '500' }] }, { code: '5B', teachers: [] }]);
  const both = await importFiles(ctx, [timetable, list], { scope: ALL, dryRun: false, structureHint: uai });
  assert.equal(both.fatal, null, formatReport(both));
  assert.deepEqual((await classesOf(sts.id)).map((c) => c.name), ['6A'], `the class STS-web no longer gives is taken away: ${formatReport(both)}`);
  // Had it stayed, the digest that run recorded made the next STS-web import skip her (« inchangé »): 5B for good.
  const next = await importSts(timetable);
  assert.deepEqual((await classesOf(sts.id)).map((c) => c.name), ['6A'], formatReport(next));
});
