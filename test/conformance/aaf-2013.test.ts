// AAF feed import over the shared aaf-2013 folder: counts checked against the files, then idempotence, dry-run,
// pre-deletion, restoration, broken files.
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { readAaf } from '../../src/import/aaf.js';
import { UNATTACHED_SQL } from '../../src/directory/unattached.js';
import { collectInputs, formatReport, importFiles, type ImportReport } from '../../src/import/index.js';
import { fileContext, fileTempDir, FIXTURES, sqlReaders } from '../helpers/db.js';

const AAF = join(FIXTURES, 'aaf-2013');
const ELEVE = join(AAF, 'FULL_ENTTSSERVICES_Complet_20130117_Eleve_0001.xml');
const ETAB = join(AAF, 'FULL_ENTTSSERVICES_Complet_20130117_EtabEducNat_0000.xml');

const ctx = await fileContext();
const tmp = fileTempDir('trousseau-aaf-');
const { q, count } = sqlReaders(ctx);

/** Everything an import must leave alone on a second pass, as one comparable string. */
const snapshot = async () =>
  JSON.stringify(
    await q(`SELECT external_id, login, activation_code_enc, activation_code_mac, first_name, last_name, email, phone, birth_date,
                    created_at, updated_at, pre_deleted_at FROM users ORDER BY external_id`),
  ) +
  JSON.stringify(await q(`SELECT count(*) FROM relations`)) +
  JSON.stringify(await q(`SELECT count(*) FROM user_classes`)) +
  JSON.stringify(await q(`SELECT count(*) FROM user_structures`));

/**
 * What the files say, counted apart from the importer: every pupil's legal representatives (4th `$` field of
 * ENTElevePersRelEleve, responsable légal, = 1 or 2: the first and the second), checked against the deprecated
 * ENTEleveAutoriteParentale, which lists the same people; the relatives named only as contacts or payers (field 0);
 * every PersRelEleve record.
 */
async function expectedFamilies() {
  const relatives = new Set<string>();
  for (const f of collectInputs([AAF])) {
    if (/PersRelEleve/.test(f.name)) await readAaf(f.name, f, (r) => relatives.add(r.attrs.get('ENTPersonJointure')![0]));
  }
  const links = new Set<string>();
  const authority = new Set<string>();
  const named = new Set<string>();
  await readAaf('eleve', { path: ELEVE }, (r) => {
    const pupil = r.attrs.get('ENTPersonJointure')![0];
    for (const v of r.attrs.get('ENTElevePersRelEleve') ?? []) {
      const f = v.split('$');
      named.add(f[0]);
      if (f[3] === '1' || f[3] === '2') links.add(`${f[0]}>${pupil}`);
    }
    for (const id of r.attrs.get('ENTEleveAutoriteParentale') ?? []) if (id) authority.add(`${id}>${pupil}`);
  });
  const legal = new Set([...links].map((l) => l.split('>')[0]));
  return { relatives, links, authority, contactsOnly: [...named].filter((id) => !legal.has(id)) };
}

/**
 * The DIR functions of the staff files (ENTPersonFonctions `structure$DIR$…`) whose structure is neither a jointure
 * nor a UAI of the EtabEducNat file, counted apart from the importer: file, record's line, id, structure.
 */
async function expectedHeads() {
  const keys = new Set<string>();
  await readAaf('etab', { path: ETAB }, (r) => {
    for (const k of ['ENTStructureJointure', 'ENTStructureUAI']) for (const v of r.attrs.get(k) ?? []) keys.add(v);
  });
  const heads: { file: string; line: number; id: string; structure: string }[] = [];
  for (const f of collectInputs([AAF])) {
    if (!/PersEducNat/.test(f.name)) continue;
    await readAaf(f.name, f, (r) => {
      for (const v of r.attrs.get('ENTPersonFonctions') ?? []) {
        const [structure, code] = v.split('$');
        if (code === 'DIR' && !keys.has(structure)) heads.push({ file: f.name, line: r.line, id: r.attrs.get('ENTPersonJointure')![0], structure });
      }
    });
  }
  return heads;
}

/**
 * The classes and groups the staff files give (ENTAuxEnsClasses, ENTAuxEnsClassesMatieres `structure$CLASSE$matière`,
 * ENTAuxEnsClassesPrincipal; ENTAuxEnsGroupes, ENTAuxEnsGroupesMatieres) in structures neither the EtabEducNat file
 * nor the directory has, counted apart from the importer: one remark each (the pseudonymised files name most « Matieres »
 * classes in the structures 50014…55794 the feed does not carry), as `file:line:attribute:id:class|group:structure$name`,
 * the attribute being the first that names it.
 */
async function expectedStaffRemarks() {
  const keys = new Set<string>();
  await readAaf('etab', { path: ETAB }, (r) => {
    for (const v of r.attrs.get('ENTStructureJointure') ?? []) keys.add(v);
  });
  const out: string[] = [];
  for (const f of collectInputs([AAF])) {
    if (!/PersEducNat/.test(f.name)) continue;
    await readAaf(f.name, f, (r) => {
      const id = r.attrs.get('ENTPersonJointure')![0];
      // Each named by the first attribute that gives it.
      const refs = (what: string, attrs: string[]) => {
        const seen = new Set<string>();
        for (const a of attrs) {
          for (const v of r.attrs.get(a) ?? []) {
            const [structure, name] = v.split('$');
            if (!structure || !name || seen.has(`${structure}$${name}`)) continue;
            seen.add(`${structure}$${name}`);
            if (!keys.has(structure)) out.push(`${f.name}:${r.line}:${a}:${id}:${what}:${structure}$${name}`);
          }
        }
      };
      refs('class', ['ENTAuxEnsClasses', 'ENTAuxEnsClassesMatieres', 'ENTAuxEnsClassesPrincipal']);
      refs('group', ['ENTAuxEnsGroupes', 'ENTAuxEnsGroupesMatieres']);
    });
  }
  return out;
}

/**
 * The accounts each school of the feed holds once it is imported, counted by hand from the files (a pupil's school,
 * its legal representatives in the same, a teacher or staff member in each school they are attached to), and the 99
 * staff members whose record names no school of the feed.
 */
const PER_SCHOOL: Record<string, number> = {
  'Z.REMP-DIGNE-AIX_MARS.': 226, 'Z.REMP-MANOSQUE-AIX_MARS.': 245, 'Z.REMP-DE DIGNE-AIX_MARS.': 205, 'Z.REMP-DE MANOSQUE-AIX_MARS.': 180,
  'Z.REMP-BRIANCON-AIX_MARS.': 210, 'Z.REMP-GAP-AIX_MARS.': 210, 'Z.REMP-DE GAP-AIX_MARS.': 202, 'Z.REMP-DE BRIANCON-AIX_MARS.': 207,
  'Z.REMP-NORD EST 13-AIX_MARS.': 250, 'Z.REMP-OUEST 13-AIX_MARS.': 220,
};
const WITHOUT_SCHOOL = 99;
/** What a report's structures say the run creates in each, all profiles together. */
const createdPerSchool = (report: ImportReport) =>
  Object.fromEntries(report.structures.map((s) => [s.name, Object.values(s.accounts ?? {}).reduce((n, c) => n + c.created, 0)]));

test('the dry run gives each school of the feed the accounts the import then leaves there, and each file’s line adds up', async () => {
  const dry = await importFiles(ctx, collectInputs([AAF]), { scope: { kind: 'all' }, dryRun: true });
  assert.equal(dry.fatal, null, formatReport(dry));
  assert.deepEqual(createdPerSchool(dry), PER_SCHOOL, formatReport(dry));
  assert.ok(dry.structures.every((s) => s.created && s.uai), 'ten new schools, each with its UAI');
  assert.equal(Object.values(dry.withoutStructure ?? {}).reduce((n, c) => n + c.created, 0), WITHOUT_SCHOOL);
  assert.deepEqual(Object.keys(dry.withoutStructure ?? {}), ['Teacher', 'Personnel']);
  const fr = formatReport(dry);
  assert.match(fr, /\n {2}Z\.REMP-DIGNE-AIX_MARS\. \(1004001V\) — nouveau — 226 créés \(\d+ élèves, \d+ parents, \d+ enseignants, \d+ personnels\)\n/, fr);
  assert.match(fr, /\n {2}Sans établissement — 99 créés \(3 enseignants, 96 personnels\)\n/, fr);
  // The structures file says its ten schools; the staff file its 698 people, the 15 DIR functions apart.
  assert.match(fr, /\n {2}FULL_ENTTSSERVICES_Complet_20130117_EtabEducNat_0000\.xml — AAF structures — utf-8 — 10 établissements \(10 nouveaux\)\n/, fr);
  // Remarks: the 15 DIR functions, the classes and groups of structures the feed does not carry (expectedStaffRemarks).
  const notes0 = 15 + (await expectedStaffRemarks()).filter((r) => r.startsWith('FULL_ENTTSSERVICES_Complet_20130117_PersEducNat_0000.xml:')).length;
  const frNumber = (n: number) => n.toLocaleString('fr-FR').replace(/\s/g, '\u202f');
  assert.ok(fr.includes(`\n  FULL_ENTTSSERVICES_Complet_20130117_PersEducNat_0000.xml — AAF personnels Éducation nationale — utf-8 — 698 lignes — 698 créés ; ${frNumber(notes0)} remarques\n`), fr);
  for (const f of dry.files.filter((x) => x.kind === 'aaf')) {
    const parts = f.created + f.updated + f.unchanged + f.restored + f.ignored + f.rejected + (f.structures ? f.structures.created + f.structures.existing : 0);
    assert.equal(parts, f.rows, `${f.file}: ${JSON.stringify(f)}`);
    assert.equal(f.merged, undefined, `${f.file}: no row of this feed is another row's person`);
  }
  // Cosmetic: sentences of the warning about the accounts of no school.
  const warning = fr.split('\n').find((l) => l.startsWith('Attention : 99 comptes')) ?? '';
  assert.ok(warning.endsWith('« Comptes sans établissement ». Par exemple :'), fr);
  assert.doesNotMatch(warning, /\?/, 'a statement, no question');
});

test('the whole aaf-2013 folder imports: legal representatives only, teachers by function, names kept', async () => {
  const report = await importFiles(ctx, collectInputs([AAF]), { scope: { kind: 'all' }, dryRun: false });
  assert.equal(report.fatal, null, formatReport(report));
  assert.deepEqual(report.rejected, []);
  assert.deepEqual(
    (await q<{ name: string }>(`SELECT name FROM structures ORDER BY name`)).map((r) => r.name),
    ['Z.REMP-BRIANCON-AIX_MARS.', 'Z.REMP-DE BRIANCON-AIX_MARS.', 'Z.REMP-DE DIGNE-AIX_MARS.', 'Z.REMP-DE GAP-AIX_MARS.', 'Z.REMP-DE MANOSQUE-AIX_MARS.',
     'Z.REMP-DIGNE-AIX_MARS.', 'Z.REMP-GAP-AIX_MARS.', 'Z.REMP-MANOSQUE-AIX_MARS.', 'Z.REMP-NORD EST 13-AIX_MARS.', 'Z.REMP-OUEST 13-AIX_MARS.'],
  );
  assert.equal(await count(`SELECT count(*) n FROM users WHERE profile = 'Student'`), 642);
  // 881 legal representatives named by the 642 pupils (first and second), 911 links; the 9,086 other PersRelEleve
  // records (contacts, payers, relatives of the pupils of the missing Eleve_0000 file) get no account.
  assert.equal(await count(`SELECT count(*) n FROM users WHERE profile = 'Relative'`), 881);
  assert.equal(await count(`SELECT count(*) n FROM relations`), 911);
  assert.equal(report.relations.created, 911);
  assert.equal(report.relations.unresolved, 0);
  assert.equal(await count(`SELECT count(*) n FROM users WHERE profile = 'Teacher'`), 544);
  assert.equal(await count(`SELECT count(*) n FROM users WHERE profile = 'Personnel'`), 157);
  assert.equal(report.created, 642 + 881 + 701);
  assert.equal(report.created, await count(`SELECT count(*) n FROM users`));
  // The relatives no pupil names as legal representative, and the heads of schools whose DIR function names a
  // structure the feed does not carry (its functions name structures 50014…51413, its EtabEducNat 52000…52009): no
  // local administration, said, one record each (counted from the files below).
  const heads = report.ignored.filter((i) => i.message?.code === 'ignoredAafHeadOfSchool');
  assert.equal(heads.length, 15, formatReport(report));
  const staffRemarks = report.ignored.filter((i) => i.message?.code === 'ignoredAafClass' || i.message?.code === 'ignoredAafGroup');
  assert.deepEqual(
    staffRemarks.map((i) => `${i.file}:${i.line}:${i.field}:${i.record}:${i.message?.code === 'ignoredAafClass' ? 'class' : 'group'}:${i.message?.params?.structure}$${i.message?.params?.name}`).sort(),
    (await expectedStaffRemarks()).sort(),
  );
  assert.equal(report.ignored.length, 9967 - 881 + 15 + staffRemarks.length);
  assert.ok(report.ignored.every((i) => (/PersRelEleve/.test(i.file) && /représentant légal/.test(i.reason)) || heads.includes(i) || staffRemarks.includes(i)), formatReport(report));
  const dirFunctions = await expectedHeads();
  assert.deepEqual(
    heads.map((i) => `${i.file}:${i.line}:${i.field}:${i.record}:${i.message?.params?.structure}`).sort(),
    dirFunctions.map((d) => `${d.file}:${d.line}:ENTPersonFonctions:${d.id}:${d.structure}`).sort(),
  );
  assert.ok(formatReport(report).includes(`FULL_ENTTSSERVICES_Complet_20130117_PersEducNat_0000.xml, ligne 1331, ENTPersonFonctions : DECAMPS FELIX (2397066) : fonction de direction (DIR) dans la structure « 50213 », absente du fichier EtabEducNat et de l'annuaire : aucune administration locale donnée`), formatReport(report));
  // So none of the delivery's ten schools has a local administrator: said as a warning, naming them all.
  assert.equal(report.withoutAdmin?.length, 10, formatReport(report));
  assert.equal(await count(`SELECT count(*) n FROM local_admins`), 0);
  assert.match(formatReport(report), /\nAttention : 10 établissements de l’import sont sans administrateur local/);
  // Remarks on people imported all the same, not rows ignored.
  assert.deepEqual(
    [report.files.find((f) => /PersEducNat_0000/.test(f.file))?.ignored, report.files.find((f) => /PersEducNat_0000/.test(f.file))?.notes],
    [0, 15 + staffRemarks.filter((i) => /PersEducNat_0000/.test(i.file)).length],
  );
  // Each school holds what the dry run said (as the console counts a school's accounts: its members and their parents).
  assert.deepEqual(createdPerSchool(report), PER_SCHOOL);
  const held = await q<{ name: string; n: string }>(
    `SELECT s.name, count(DISTINCT m.id) AS n FROM structures s JOIN (
       SELECT structure_id, user_id AS id FROM user_structures
       UNION SELECT cs.structure_id, r.parent_id FROM relations r JOIN user_structures cs ON cs.user_id = r.child_id) m ON m.structure_id = s.id
     GROUP BY s.name`,
  );
  assert.deepEqual(Object.fromEntries(held.map((x) => [x.name, Number(x.n)])), PER_SCHOOL);
  assert.equal(await count(`SELECT count(*) n FROM users u WHERE ${UNATTACHED_SQL}`), WITHOUT_SCHOOL);
  assert.equal(await count(`SELECT count(*) n FROM local_admins`), 0, 'no DIR function names a structure of the feed');
  assert.equal(await count(`SELECT count(*) n FROM users WHERE origin = 'feed' AND source = 'aaf'`), report.created);
  assert.equal(await count(`SELECT count(*) n FROM users WHERE activation_code_enc IS NULL OR activation_code_mac IS NULL OR activation_code_expires_at IS NULL`), 0);
  for (const f of report.files.filter((f) => /MatiereEducNat|MefEducNat|\.dtd$/.test(f.file))) assert.equal(f.format, 'ignoré');
  assert.match(formatReport(report), /Comptes : 2\u202f224 créés/);

  // Exactly the legal representatives' links the files give, counted apart from the importer.
  const expected = await expectedFamilies();
  assert.equal(expected.links.size, 911);
  assert.deepEqual([...expected.links].sort(), [...expected.authority].sort());
  assert.equal(new Set([...expected.links].map((l) => l.split('>')[0])).size, 881);
  // Named only as contacts or payers: no account.
  assert.ok(expected.contactsOnly.length > 0);
  assert.equal(await count(`SELECT count(*) n FROM users WHERE external_id = ANY($1)`, [expected.contactsOnly]), 0);
  assert.equal(expected.relatives.size, 9967);
  const linked = await q<{ l: string }>(`SELECT p.external_id || '>' || c.external_id AS l FROM relations r JOIN users c ON c.id = r.child_id JOIN users p ON p.id = r.parent_id`);
  assert.deepEqual(linked.map((r) => r.l).sort(), [...expected.links].sort());

  // A known student: accents intact, date, class, group, level, and her two legal representatives: her mother
  // 2867253 (`$2$1$1$…`: responsable légal 1) and her father 2867254 (`$1$0$2$…`: responsable légal 2).
  const [ku] = await q<Record<string, string>>(`SELECT * FROM users WHERE external_id = '2605692'`);
  assert.equal(ku.first_name, 'Kù');
  assert.equal(ku.last_name, 'Long');
  assert.equal(ku.birth_date, '1995-09-14');
  assert.equal(ku.title, 'Mlle');
  assert.equal(ku.login, 'ku.long');
  assert.equal(ctx.secrets.mac('activation', ctx.secrets.decrypt(ku.activation_code_enc)), ku.activation_code_mac);
  assert.deepEqual(
    await q(`SELECT c.name AS class, l.name AS level, s.uai FROM user_classes uc JOIN classes c ON c.id = uc.class_id
             LEFT JOIN levels l ON l.id = c.level_id JOIN structures s ON s.id = c.structure_id WHERE uc.user_id = $1`, [ku.id]),
    [{ class: 'RUS1TERM', level: 'CAP EN 2 ANS : 1ERE ANNEE', uai: '0059951P' }],
  );
  assert.deepEqual((await q(`SELECT g.name FROM user_groups ug JOIN groups g ON g.id = ug.group_id WHERE ug.user_id = $1`, [ku.id])).map((r) => r.name), ['206']);
  assert.deepEqual(
    (await q(`SELECT p.external_id FROM relations r JOIN users p ON p.id = r.parent_id WHERE r.child_id = $1 ORDER BY 1`, [ku.id])).map((r) => r.external_id),
    ['2867253', '2867254'],
  );
  // Parents get their children's structures; the AAF "no phone" 0000000000 is no phone.
  const [mother] = await q<Record<string, string>>(`SELECT id, phone, profile FROM users WHERE external_id = '2867253'`);
  assert.equal(mother.profile, 'Relative');
  assert.equal(mother.phone, null);
  assert.deepEqual((await q(`SELECT s.uai FROM user_structures us JOIN structures s ON s.id = us.structure_id WHERE us.user_id = $1`, [mother.id])).map((r) => r.uai), ['0059951P']);
  // Every relative account is some pupil's legal representative, attached to that pupil's structure.
  assert.equal(await count(`SELECT count(*) n FROM users u WHERE profile = 'Relative' AND NOT EXISTS (SELECT 1 FROM user_structures us WHERE us.user_id = u.id)`), 0);
  assert.equal(await count(`SELECT count(*) n FROM users u WHERE profile = 'Relative' AND NOT EXISTS (SELECT 1 FROM relations r WHERE r.parent_id = u.id)`), 0);

  // A teacher (PresenceDevantEleves = O) and the classes they teach, deduplicated.
  const [teacher] = await q<Record<string, string>>(`SELECT id, profile, first_name, last_name FROM users WHERE external_id = '2397809'`);
  assert.equal(teacher.profile, 'Teacher');
  assert.deepEqual(
    (await q(`SELECT c.name FROM user_classes uc JOIN classes c ON c.id = uc.class_id WHERE uc.user_id = $1 ORDER BY 1`, [teacher.id])).map((r) => r.name),
    ['1S8', '208', '213', '5E1', '6E2'],
  );
  // Not in front of pupils but an ENS function: a teacher; a DOC function: a teacher (professeur documentaliste);
  // orientation (ORI) only: staff. Functions are kept as the feed gives them.
  const person = async (id: string) => (await q<{ profile: string; functions: string[] }>(`SELECT profile, functions FROM users WHERE external_id = $1`, [id]))[0];
  assert.equal((await person('2397001')).profile, 'Teacher');
  assert.deepEqual(await person('2397023'), { profile: 'Teacher', functions: ['50237$DOC$DOCUMENTATION$L0080$DOCUMENTATION'] });
  const ori = await person('2397004');
  assert.equal(ori.profile, 'Personnel');
  assert.equal(ori.functions.length, 19);
  assert.ok(ori.functions.every((f) => f.includes('$ORI$ORIENTATION$')));
});

test('re-importing the same feed changes nothing', async () => {
  const before = await snapshot();
  const report = await importFiles(ctx, collectInputs([AAF]), { scope: { kind: 'all' }, dryRun: false });
  assert.equal(report.created, 0);
  assert.equal(report.updated, 0);
  assert.equal(report.preDeleted, 0);
  assert.equal(report.unchanged, 2224);
  assert.equal(report.relations.created, 0);
  assert.equal(await snapshot(), before);
});

test('dry-run computes the report and writes nothing', async () => {
  const before = await snapshot();
  const audits = await count(`SELECT count(*) n FROM audit`);
  const xml = readFileSync(ELEVE, 'utf8').replace('<value>Kù</value>', '<value>Kùna</value>');
  const report = await importFiles(ctx, [{ name: 'FULL_X_Complet_Eleve_0001.xml', data: Buffer.from(xml) }, { name: 'e.xml', path: ETAB }], { scope: { kind: 'all' }, dryRun: true });
  assert.equal(report.dryRun, true);
  assert.equal(report.updated, 1);
  assert.match(formatReport(report), /Simulation/);
  assert.equal(await snapshot(), before);
  assert.equal(await count(`SELECT count(*) n FROM audit`), audits);
});

test('a student missing from a full feed enters its grace period, then is restored when back', async () => {
  // Drop Kù Long's whole addRequest from the students file.
  const xml = readFileSync(ELEVE, 'utf8');
  const start = xml.lastIndexOf('<addRequest>', xml.indexOf('<id>2605692</id>'));
  const end = xml.indexOf('</addRequest>', start) + '</addRequest>'.length;
  const file = join(tmp, 'FULL_ENTTSSERVICES_Complet_20130118_Eleve_0001.xml');
  writeFileSync(file, xml.slice(0, start) + xml.slice(end));
  const without = await importFiles(ctx, [{ name: 'etab.xml', path: ETAB }, { name: 'FULL_Eleve_0001.xml', path: file }], { scope: { kind: 'all' }, dryRun: false });
  assert.equal(without.preDeleted, 1, formatReport(without));
  assert.equal(without.created + without.updated, 0);
  const [ku] = await q<Record<string, unknown>>(`SELECT absent_since, pre_deleted_at, login FROM users WHERE external_id = '2605692'`);
  assert.ok(ku.absent_since instanceof Date);
  assert.equal(ku.pre_deleted_at, null, 'pre-deleted by the lifecycle job once the grace period is over');
  assert.equal(ku.login, 'ku.long');
  assert.equal(await count(`SELECT count(*) n FROM users WHERE absent_since IS NOT NULL`), 1);

  const back = await importFiles(ctx, collectInputs([AAF]), { scope: { kind: 'all' }, dryRun: false });
  assert.equal(back.restored, 1);
  assert.equal(back.preDeleted, 0);
  assert.equal(back.created, 0);
  assert.equal(await count(`SELECT count(*) n FROM users WHERE absent_since IS NOT NULL OR pre_deleted_at IS NOT NULL`), 0);
  assert.equal((await q(`SELECT login FROM users WHERE external_id = '2605692'`))[0].login, 'ku.long');
});

test('the delivery without its first staff file (PersEducNat_0000, _0001 kept): refused unless confirmed, nothing written', async () => {
  // Nothing in the numbering shows it (a kind may start at 0001): without the guard, the 698 people of that file
  // entered their grace period. Counted here from the file: its ids, and the accounts they hold by profile.
  const first = join(AAF, 'FULL_ENTTSSERVICES_Complet_20130117_PersEducNat_0000.xml');
  const ids: string[] = [];
  await readAaf('p', { path: first }, (r) => ids.push(r.attrs.get('ENTPersonJointure')![0]));
  assert.equal(ids.length, 698);
  const held = await q<{ profile: string; absent: string; of: string }>(
    `SELECT profile, count(*) FILTER (WHERE external_id = ANY($1)) AS absent, count(*) AS of FROM users
     WHERE source = 'aaf' AND profile IN ('Teacher', 'Personnel') GROUP BY profile ORDER BY 2 DESC`,
    [ids],
  );
  const expected = held.map((x) => ({ profile: x.profile, absent: Number(x.absent), of: Number(x.of) })).filter((x) => x.absent >= 10 && x.absent > x.of / 2);
  assert.ok(expected.length, JSON.stringify(held));
  const files = collectInputs([AAF]).filter((f) => f.path !== first);
  const before = await snapshot();
  const dry = await importFiles(ctx, files, { scope: { kind: 'all' }, dryRun: true });
  assert.equal(dry.fatal, null, formatReport(dry));
  assert.deepEqual(dry.massAbsence, expected);
  assert.match(formatReport(dry), /Attention : cet import complet ferait sortir \d+ comptes d’(enseignants|personnels)/);
  const refused = await importFiles(ctx, files, { scope: { kind: 'all' }, dryRun: false });
  assert.equal(refused.fatal?.message?.code, 'massAbsence', formatReport(refused));
  assert.equal(await snapshot(), before);
  assert.equal(await count(`SELECT count(*) n FROM users WHERE absent_since IS NOT NULL`), 0);
});

test('a malformed XML file refuses the whole run and names file and line', async () => {
  const before = await snapshot();
  const xml = readFileSync(ELEVE, 'utf8').replace('<value>Kù</value>', '<value>Kù</valeur>');
  const line = xml.slice(0, xml.indexOf('Kù</valeur>')).split('\n').length;
  const file = join(tmp, 'FULL_ENTTSSERVICES_Complet_20130119_Eleve_0001.xml');
  writeFileSync(file, xml);
  const report = await importFiles(ctx, [{ name: 'etab.xml', path: ETAB }, { name: 'FULL_Eleve_0001.xml', path: file }], { scope: { kind: 'all' }, dryRun: false });
  assert.ok(report.fatal);
  assert.equal(report.fatal.file, 'FULL_Eleve_0001.xml');
  assert.equal(report.fatal.line, line);
  assert.match(report.fatal.reason, /XML mal formé/);
  assert.match(formatReport(report), /Import refusé : aucune modification enregistrée\.\n {2}FULL_Eleve_0001\.xml, ligne \d+ : XML mal formé/);
  assert.equal(await snapshot(), before);
});

test('a bad row is rejected with file:line:field while the others are imported; an unreadable birth date is only left out', async () => {
  const xml = readFileSync(ELEVE, 'utf8').replace('<value>Kù</value>', '<value/>');
  const start = xml.lastIndexOf('<addRequest>', xml.indexOf('<attr name="givenName"><value/>'));
  const reqLine = xml.slice(0, start).split('\n').length;
  const report = await importFiles(ctx, [{ name: 'FULL_Eleve_0001.xml', data: Buffer.from(xml) }, { name: 'etab.xml', path: ETAB }], { scope: { kind: 'all' }, dryRun: true });
  assert.equal(report.fatal, null);
  assert.deepEqual(report.rejected, [{ file: 'FULL_Eleve_0001.xml', line: reqLine, field: 'givenName', reason: 'prénom manquant', message: { code: 'rowNoFirstName' } }]);
  // The rejected student is not pre-deleted for all that.
  assert.equal(report.preDeleted, 0);
  assert.equal(report.unchanged, 641);

  // A date the académie mistyped: the pupil is imported all the same (her stored date kept), the report says so.
  const dated = readFileSync(ELEVE, 'utf8').replace('<value>14/09/1995</value>', '<value>31/02/1995</value>');
  const dateLine = dated.slice(0, dated.lastIndexOf('<addRequest>', dated.indexOf('31/02/1995'))).split('\n').length;
  const r2 = await importFiles(ctx, [{ name: 'FULL_Eleve_0001.xml', data: Buffer.from(dated) }, { name: 'etab.xml', path: ETAB }], { scope: { kind: 'all' }, dryRun: true });
  assert.deepEqual(r2.rejected, [{ file: 'FULL_Eleve_0001.xml', line: dateLine, field: 'ENTPersonDateNaissance', reason: 'date de naissance invalide « 31/02/1995 » : non importée', message: { code: 'aafInvalidBirth', params: { value: '31/02/1995' } } }]);
  assert.equal(r2.unchanged, 642);
});
