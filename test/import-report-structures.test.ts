// The report's figures per structure (dry run and real run, command line and console): the run's accounts in each
// school it touches, created / updated / unchanged / restored / absent by profile, new or existing, its UAI; those in
// no school apart. And each file's line adding up to its rows, remarks on rows imported all the same counted apart.
// Small invented AAF feed, written here: a new collège 72001 and a lycée 72002 the directory knows already.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { formatReport, importFiles, type ImportReport } from '../src/import/index.js';
import type { CountsByProfile, FileReport } from '../src/import/types.js';
import { reportView } from '../src/web/console/views/import.js';
import { aafRecord as rec, aafXml as xml } from './helpers/aaf-feed.js';
import { fileContext, sqlReaders } from './helpers/db.js';

const ctx = await fileContext();
const { q, count } = sqlReaders(ctx);
const ALL = { kind: 'all' } as const;

const NAME = (kind: string) => `ENT_Complet_20250901_${kind}_0000.xml`;
const etab = (id: string, uai: string, name: string, classes: string[]) =>
  rec('EtabEducNat', id, [['ENTStructureJointure', [id]], ['ENTStructureUAI', [uai]], ['ENTStructureNomCourant', [name]], ['ENTStructureClasses', classes]]);
const pupil = (id: string, first: string, school: string, klass: string, parents: string[], extraClass: string[] = []) =>
  rec('Eleve', id, [
    ['ENTPersonJointure', [id]], ['sn', ['Moreau']], ['givenName', [first]], ['ENTPersonDateNaissance', ['03/04/2012']],
    ['ENTElevePersRelEleve', parents.map((p) => `${p}$10$1$1$1$1`)],
    ['ENTPersonStructRattach', [school]], ['ENTEleveClasses', [`${school}$${klass}`, ...extraClass]],
  ]);
const relative = (id: string, first: string) => rec('PersRelEleve', id, [['ENTPersonJointure', [id]], ['sn', ['Moreau']], ['givenName', [first]]]);
const staff = (id: string, last: string, teaches: boolean, attach: string[], functions: string[]) =>
  rec('PersEducNat', id, [
    ['ENTPersonJointure', [id]], ['sn', [last]], ['givenName', ['Anne']], ['PersEducNatPresenceDevantEleves', [teaches ? 'O' : 'N']],
    ['ENTPersonStructRattach', attach], ['ENTPersonFonctions', functions],
  ]);

const ETAB = { name: NAME('EtabEducNat'), data: xml(etab('72001', '0720001A', 'CLG$LES CHENES$NANTES', ['6A$6EME A']) + etab('72002', '0720002B', 'LYC$LES ORMES$NANTES', ['2A$SECONDE A'])) };
/** Léo's second class is in a structure nobody knows: a remark, he is imported. */
const pupils = (o: { emma?: string; without?: string; emmaAt?: [school: string, klass: string] } = {}) => ({
  name: NAME('Eleve'),
  data: xml(
    [
      pupil('E1', 'Léo', '72001', '6A', ['R1'], ['79999$OPT']),
      pupil('E2', o.emma ?? 'Emma', ...(o.emmaAt ?? ['72001', '6A']), ['R1', 'R2']),
      pupil('E3', 'Jade', '72002', '2A', ['R3']),
    ].filter((r) => !o.without || !r.includes(`<id>${o.without}</id>`)).join(''),
  ),
});
/** R9 is nobody's legal representative: ignored whole. */
const RELATIVES = { name: NAME('PersRelEleve'), data: xml(relative('R1', 'Paul') + relative('R2', 'Lina') + relative('R3', 'Marc') + relative('R9', 'Yves')) };
/** T1 teaches in both schools; S1 names no school; S2 is head of a school nobody knows (a remark). */
const STAFF = {
  name: NAME('PersEducNat'),
  data: xml(
    staff('T1', 'ARNAUD', true, ['72001', '72002'], ['72001$ENS$ENSEIGNEMENT$L0202$LETTRES', '72002$ENS$ENSEIGNEMENT$L0202$LETTRES']) +
      staff('S1', 'BERTIN', false, [''], ['99998$EDU$EDUCATION$-$ASSISTANT D EDUCATION']) +
      staff('S2', 'CAMUS', false, ['72002'], ["99999$DIR$DIRECTION$D0010$DIRECTION CHEF D'ETABLISSEMENT"]),
  ),
};
const feed = (o?: Parameters<typeof pupils>[0]) => [ETAB, pupils(o), RELATIVES, STAFF];

const run = async (files: { name: string; data: Buffer }[], dryRun: boolean): Promise<ImportReport> => {
  const report = await importFiles(ctx, files, { scope: ALL, dryRun });
  assert.equal(report.fatal, null, formatReport(report));
  return report;
};
const zero = { created: 0, updated: 0, unchanged: 0, restored: 0, preDeleted: 0 };
const counts = (c: Record<string, Partial<typeof zero>>): CountsByProfile => Object.fromEntries(Object.entries(c).map(([p, x]) => [p, { ...zero, ...x }]));
const byName = (r: ImportReport) => Object.fromEntries(r.structures.map((s) => [s.name, { uai: s.uai, created: s.created, accounts: s.accounts }]));
const file = (r: ImportReport, kind: string) => r.files.find((f) => f.file === NAME(kind))!;
/** Every part of a file's line: they add up to its rows. */
const parts = (f: FileReport) =>
  f.created + f.updated + f.unchanged + f.restored + f.ignored + f.rejected + (f.merged ?? 0) + (f.deletions ?? 0) + (f.structures ? f.structures.created + f.structures.existing : 0);
/** The accounts of each school once written, as the console counts them (members, and the parents of its members). */
const perSchool = async () =>
  Object.fromEntries(
    (
      await q<{ name: string; n: string }>(
        `SELECT s.name, count(DISTINCT m.id) AS n FROM structures s JOIN (
           SELECT us.structure_id, us.user_id AS id FROM user_structures us
           UNION SELECT cs.structure_id, r.parent_id FROM relations r JOIN user_structures cs ON cs.user_id = r.child_id) m ON m.structure_id = s.id
         JOIN users u ON u.id = m.id WHERE u.absent_since IS NULL GROUP BY s.name`,
      )
    ).map((x) => [x.name, Number(x.n)]),
  );

test('a dry run gives each school its accounts by profile, new or existing, and those in no school; the real run leaves exactly those', async () => {
  // The lycée is known already (an earlier delivery of its structure alone).
  await run([{ name: NAME('EtabEducNat'), data: xml(etab('72002', '0720002B', 'LYC$LES ORMES$NANTES', ['2A$SECONDE A'])) }], false);
  const dry = await run(feed(), true);
  const expected = {
    'CLG - LES CHENES - NANTES': { uai: '0720001A', created: true, accounts: counts({ Student: { created: 2 }, Relative: { created: 2 }, Teacher: { created: 1 } }) },
    'LYC - LES ORMES - NANTES': { uai: '0720002B', created: false, accounts: counts({ Student: { created: 1 }, Relative: { created: 1 }, Teacher: { created: 1 }, Personnel: { created: 1 } }) },
  };
  assert.deepEqual(byName(dry), expected, formatReport(dry));
  assert.deepEqual(dry.withoutStructure, counts({ Personnel: { created: 1 } }));
  // The teacher of both schools counts in each: the schools' lines add up to more than the run's accounts.
  assert.equal(dry.created, 9);
  // S2's DIR names a structure nobody knows: neither school of the delivery has a local administrator, said as a
  // warning (it was only in the list of ignored records).
  assert.deepEqual(
    dry.withoutAdmin?.map(({ id, ...s }) => s),
    [
      { name: 'CLG - LES CHENES - NANTES', uai: '0720001A', sources: ['aaf'] },
      { name: 'LYC - LES ORMES - NANTES', uai: '0720002B', sources: ['aaf'] },
    ],
  );
  assert.match(
    formatReport(dry),
    /\nAttention : 2 établissements de l’import seraient sans administrateur local : CLG - LES CHENES - NANTES \(0720001A\), LYC - LES ORMES - NANTES \(0720002B\)\. Aucun administrateur n’est désigné, ni par une fonction DIR de la livraison AAF, ni par une nomination\. Nommez-en un [^\n]*« npx trousseau admin --local <identifiant> --structure <UAI ou identifiant> »/,
  );
  assert.match(String(reportView('fr', dry)), /data-import="without-admin">Attention : 2 établissements/, 'the console warns too');
  // The console says the links as the command line does, each number with its agreement (« 0 ajoutés » it said).
  assert.match(String(reportView('fr', dry)), /Liens parent-enfant : 4 ajoutés, 0 retiré\./, 'the console’s links line');
  assert.match(formatReport(dry), /\nLiens parent-enfant : 4 ajoutés, 0 retiré\n/, 'the command line’s');

  const fr = formatReport(dry);
  assert.ok(
    fr.includes(
      '\nÉtablissements (un compte de plusieurs établissements compte dans chacun) :\n' +
        '  CLG - LES CHENES - NANTES (0720001A) — nouveau — 5 créés (2 élèves, 2 parents, 1 enseignant)\n' +
        '  LYC - LES ORMES - NANTES (0720002B) — existant — 4 créés (1 élève, 1 parent, 1 enseignant, 1 personnel)\n' +
        '  Sans établissement — 1 créé (1 personnel)\n',
    ),
    fr,
  );
  const en = formatReport(dry, 'en');
  assert.ok(en.includes('\n  CLG - LES CHENES - NANTES (0720001A) — new — 5 created (2 students, 2 parents, 1 teacher)\n'), en);
  assert.ok(en.includes('\n  Without a school — 1 created (1 staff)\n'), en);

  // The account of no school: a warning made of statements, its examples after a full stop.
  assert.ok(
    fr.includes(
      'aucun établissement ne le compte, aucun publipostage d’établissement ne le choisit. Sa fiche ne le rattache à aucun établissement connu du fichier ou de l’annuaire. ' +
        'Le super administrateur le retrouve dans la console, « Comptes sans établissement ». Par exemple :\n  anne.bertin — Anne BERTIN (Personnel)\n',
    ),
    fr,
  );
  assert.ok(en.includes('Its record attaches it to no school known to the file or the directory. The super admin finds it in the console, “Accounts without a school”. For instance:\n'), en);
  const notice = /<div class="notice notice-warning" data-import="unattached"><p>([^<]*)<\/p>/.exec(String(reportView('fr', dry)))?.[1] ?? '';
  assert.match(notice, /Sa fiche ne le rattache à aucun établissement connu du fichier ou de l’annuaire\.$/, notice);
  assert.doesNotMatch(notice + fr.split('\n').find((l) => l.startsWith('Attention : 1 compte')), /\?/, 'statements, no question');

  // Each file's line adds up to its rows; remarks on rows imported all the same stand apart.
  assert.deepEqual(file(dry, 'EtabEducNat').structures, { created: 1, existing: 1 });
  assert.match(fr, /\n {2}ENT_Complet_20250901_EtabEducNat_0000\.xml — AAF structures — utf-8 — 2 établissements \(1 nouveau, 1 existant\)\n/);
  assert.match(fr, /\n {2}ENT_Complet_20250901_Eleve_0000\.xml — AAF élèves — utf-8 — 3 lignes — 3 créés ; 1 remarque\n/);
  assert.match(fr, /\n {2}ENT_Complet_20250901_PersRelEleve_0000\.xml — AAF responsables — utf-8 — 4 lignes — 3 créés, 1 ignoré\n/);
  assert.match(fr, /\n {2}ENT_Complet_20250901_PersEducNat_0000\.xml — AAF personnels Éducation nationale — utf-8 — 3 lignes — 3 créés ; 1 remarque\n/);
  assert.match(en, /EtabEducNat_0000\.xml — AAF structures — utf-8 — 2 schools \(1 new, 1 existing\)\n/);
  assert.match(en, /Eleve_0000\.xml — AAF élèves — utf-8 — 3 rows — 3 created; 1 note\n/);
  for (const f of dry.files) assert.equal(parts(f), f.rows, `${f.file}: ${JSON.stringify(f)}`);
  assert.deepEqual([file(dry, 'Eleve').notes, file(dry, 'Eleve').ignored, file(dry, 'PersEducNat').notes, file(dry, 'PersRelEleve').ignored], [1, 0, 1, 1]);

  // The console: the same figures, a row per school, each count split by profile.
  const html = String(reportView('fr', dry)).replace(/\s+</g, '<');
  assert.match(html, /<table class="import-structures" data-import="structures"><caption>Comptes de l’import par établissement \(un compte de plusieurs établissements compte dans chacun\)<\/caption>/);
  assert.ok(
    html.includes(
      '<tr data-structure="CLG - LES CHENES - NANTES"><th scope="row"><strong>CLG - LES CHENES - NANTES</strong> (0720001A)<span class="badge badge-warning">nouveau</span></th>' +
        '<td class="num">5<span class="by-profile">2 élèves, 2 parents, 1 enseignant</span></td><td class="num">0</td><td class="num">0</td><td class="num">0</td><td class="num">0</td></tr>',
    ),
    html,
  );
  assert.ok(html.includes('<tr data-structure=""><th scope="row">Sans établissement</th><td class="num">1<span class="by-profile">1 personnel</span></td>'), html);
  assert.ok(html.includes('<tr data-file="ENT_Complet_20250901_Eleve_0000.xml"><td>ENT_Complet_20250901_Eleve_0000.xml</td><td data-label="Format reconnu">AAF élèves</td><td data-label="Encodage">utf-8</td><td class="num" data-label="Lignes">3</td><td data-label="Résultat">3 créés ; 1 remarque</td></tr>'), html);
  const english = String(reportView('en', dry)).replace(/\s+</g, '<');
  assert.ok(english.includes('<td class="num">5<span class="by-profile">2 students, 2 parents, 1 teacher</span></td>'), english);
  assert.ok(english.includes('<th scope="row">Without a school</th>'), english);

  // Confirmed: each school holds what the dry run said it would create, and the account of no school is that one.
  assert.equal(await count(`SELECT count(*) n FROM users`), 0, 'a dry run writes nothing');
  const real = await run(feed(), false);
  assert.deepEqual(byName(real), expected);
  assert.deepEqual(await perSchool(), { 'CLG - LES CHENES - NANTES': 5, 'LYC - LES ORMES - NANTES': 4 });
  assert.equal(real.unattached?.count, 1);
});

test('a later run: who changes, stays, leaves and comes back, school by school', async () => {
  // Emma's first name corrected; Jade missing from the complete delivery (her parent, still hers in the directory, stays).
  const changed = feed({ emma: 'Emmanuelle', without: 'E3' });
  const dry = await run(changed, true);
  const expected = {
    'CLG - LES CHENES - NANTES': { uai: '0720001A', created: false, accounts: counts({ Student: { updated: 1, unchanged: 1 }, Relative: { unchanged: 2 }, Teacher: { unchanged: 1 } }) },
    'LYC - LES ORMES - NANTES': { uai: '0720002B', created: false, accounts: counts({ Student: { preDeleted: 1 }, Relative: { unchanged: 1 }, Teacher: { unchanged: 1 }, Personnel: { unchanged: 1 } }) },
  };
  assert.deepEqual(byName(dry), expected, formatReport(dry));
  assert.deepEqual(dry.withoutStructure, counts({ Personnel: { unchanged: 1 } }));
  const fr = formatReport(dry);
  assert.ok(fr.includes('\n  CLG - LES CHENES - NANTES (0720001A) — existant — 1 modifié (1 élève), 4 inchangés (1 élève, 2 parents, 1 enseignant)\n'), fr);
  assert.ok(fr.includes('\n  LYC - LES ORMES - NANTES (0720002B) — existant — 3 inchangés (1 parent, 1 enseignant, 1 personnel), 1 absent du flux (1 élève)\n'), fr);
  // The pupils' file: its two rows, then apart the pupil absent from it.
  assert.match(fr, /\n {2}ENT_Complet_20250901_Eleve_0000\.xml — [^\n]* — 2 lignes — 1 modifié, 1 inchangé ; 1 remarque, 1 absent du flux \(période de grâce\)\n/);
  assert.match(fr, /\n {2}ENT_Complet_20250901_PersRelEleve_0000\.xml — [^\n]* — 4 lignes — 3 inchangés, 1 ignoré\n/);
  assert.match(fr, /\n {2}ENT_Complet_20250901_EtabEducNat_0000\.xml — [^\n]* — 2 établissements \(2 existants\)\n/);
  for (const f of dry.files) assert.equal(parts(f), f.rows, `${f.file}: ${JSON.stringify(f)}`);
  assert.deepEqual(byName(await run(changed, false)), expected, 'the real run counts as its dry run');

  // Back in the next delivery: restored, in their school.
  const back = await run(feed({ emma: 'Emmanuelle' }), false);
  assert.deepEqual(byName(back)['LYC - LES ORMES - NANTES'].accounts, counts({ Student: { restored: 1 }, Relative: { unchanged: 1 }, Teacher: { unchanged: 1 }, Personnel: { unchanged: 1 } }));
  assert.equal(back.restored, 1);
  assert.equal(back.updated, 0, 'a restored account is counted restored, not updated as well');
  assert.match(formatReport(back), /\n {2}ENT_Complet_20250901_Eleve_0000\.xml — [^\n]* — 3 lignes — 2 inchangés, 1 restauré ; 1 remarque\n/);
  assert.match(String(reportView('fr', back)).replace(/\s+</g, '<'), /<tr data-structure="LYC - LES ORMES - NANTES">(<t[hd][^>]*>.*?<\/t[hd]>){4}<td class="num">1<span class="by-profile">1 élève<\/span><\/td><td class="num">0<\/td><\/tr>/);
});

test('a parent attached to no school of their own counts in their children’s, not among the accounts of no school', async () => {
  // Lina's own attachment is gone (the run gives a parent their children's schools; an unchanged record is not
  // written again): her child's school still counts her, as the console does.
  // (Her import digest kept: a directory changed by hand is otherwise compared in full, and the attachment given back.)
  const [{ hash }] = await q<{ hash: string }>(`SELECT import_hash AS hash FROM users WHERE external_id = 'R2'`);
  assert.ok(hash, 'the run recorded her digest');
  await q(`DELETE FROM user_structures WHERE user_id = (SELECT id FROM users WHERE external_id = 'R2')`);
  await q(`UPDATE users SET import_hash = $1 WHERE external_id = 'R2'`, [hash]);
  const dry = await run(feed({ emma: 'Emmanuelle' }), true);
  assert.equal(dry.updated, 0, `the run leaves her record alone: ${formatReport(dry)}`);
  assert.deepEqual(byName(dry)['CLG - LES CHENES - NANTES'].accounts, counts({ Student: { unchanged: 2 }, Relative: { unchanged: 2 }, Teacher: { unchanged: 1 } }), formatReport(dry));
  assert.deepEqual(dry.withoutStructure, counts({ Personnel: { unchanged: 1 } }));
});

test('a local admin’s run names the schools of their scope only', async () => {
  const [a, b] = (await q<{ id: string }>(`INSERT INTO structures (name, uai) VALUES ('Collège A', '0720010K'), ('Collège B', '0720011L') RETURNING id`)).map((x) => x.id);
  const csv = { name: 'CSV_Eleves.csv', data: Buffer.from('Nom;Prénom;Date de naissance;Classe\r\nPOMMIER;Jade;12/05/2012;6A\r\n') };
  const first = await importFiles(ctx, [csv], { scope: ALL, dryRun: false, structureHint: a });
  assert.equal(first.fatal, null, formatReport(first));
  // The pupil is in another school too.
  await q(`INSERT INTO user_structures (user_id, structure_id) SELECT id, $1 FROM users WHERE last_name = 'POMMIER'`, [b]);
  const local = await importFiles(ctx, [csv], { scope: { kind: 'structures', structureIds: [a] }, dryRun: true, structureHint: a });
  assert.equal(local.fatal, null, formatReport(local));
  assert.deepEqual(byName(local), { 'Collège A': { uai: '0720010K', created: false, accounts: counts({ Student: { unchanged: 1 } }) } });
  assert.equal(local.withoutStructure, undefined);
  assert.equal(local.withoutAdmin, undefined, 'a local admin’s run: they administer the school');
  // The super admin's: the other school of the run's pupil too.
  const all = await importFiles(ctx, [csv], { scope: ALL, dryRun: true, structureHint: a });
  assert.deepEqual(Object.keys(byName(all)), ['Collège A', 'Collège B'], formatReport(all));
});

test('a pupil moving to another school of the run shows in the school she leaves, not only in the one she joins', async () => {
  // Emma goes to the lycée: the collège counted nothing of it (its figures follow memberships after the run).
  const moved = feed({ emma: 'Emmanuelle', emmaAt: ['72002', '2A'] });
  const dry = await run(moved, true);
  const clg = dry.structures.find((x) => x.name === 'CLG - LES CHENES - NANTES')!;
  const lyc = dry.structures.find((x) => x.name === 'LYC - LES ORMES - NANTES')!;
  assert.deepEqual(clg.left, { Student: 1 }, formatReport(dry));
  assert.equal(lyc.left, undefined, 'nobody leaves the lycée');
  assert.equal(lyc.accounts?.Student?.updated, 1, 'she is counted where she goes');
  const fr = formatReport(dry);
  assert.match(fr, /\n {2}CLG - LES CHENES - NANTES \(0720001A\) — existant — [^\n]*, 1 sorti de l’établissement, toujours dans le flux \(1 élève\)\n/, fr);
  assert.match(formatReport(dry, 'en'), /, 1 left the school, still in the feed \(1 student\)\n/);
  const page = String(reportView('fr', dry)).replace(/\s+</g, '<');
  assert.ok(page.includes('<th scope="col" class="num">Sortis (toujours dans le flux)</th>'), 'the console has the column when a school loses accounts');
  assert.match(page, /<tr data-structure="CLG - LES CHENES - NANTES">(<t[hd][^>]*>.*?<\/t[hd]>){6}<td class="num">1<span class="by-profile">1 élève<\/span><\/td><\/tr>/, page);
  // The real run counts as its dry run, and the directory agrees: she is no longer a member of the collège.
  const real = await run(moved, false);
  assert.deepEqual(real.structures.find((x) => x.name === 'CLG - LES CHENES - NANTES')!.left, { Student: 1 });
  assert.equal(await count(`SELECT count(*) AS n FROM user_structures us JOIN users u ON u.id = us.user_id JOIN structures s ON s.id = us.structure_id WHERE u.external_id = 'E2' AND s.uai = '0720001A'`), 0);
  // The same delivery again: nobody leaves, no column.
  const again = await run(moved, true);
  assert.ok(again.structures.every((x) => x.left === undefined), formatReport(again));
  assert.ok(!String(reportView('fr', again)).includes('Sortis (toujours dans le flux)'), 'no column when nobody leaves');
});
