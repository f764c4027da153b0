// Who the AAF makes a legal representative: the 4th `$` field of ENTElevePersRelEleve changed meaning.
//  - Older feeds (AAF-VE1301, the aaf-2013 fixture): `1` and `2` are the first and second legal representative, and
//    the deprecated ENTEleveAutoriteParentale lists both;
//  - current feeds: `1` is every legal representative, `2` a « personne en charge » (no parental authority), and
//    ENTEleveAutoriteParentale is no longer filled.
// A `2` is a legal representative only when the same pupil's ENTEleveAutoriteParentale names them; otherwise no
// account, and the report says how many were left out for that reason.
// Small invented feed, written here: one collège, pupils E1–E3, relatives R1–R6.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { legalRepresentatives, relativeRoles } from '../src/import/aaf.js';
import { formatReport, importFiles, type ImportReport } from '../src/import/index.js';
import { reportView } from '../src/web/console/views/import.js';
import { fileContext, sqlReaders } from './helpers/db.js';
import { aafRecord as rec, aafXml as xml } from './helpers/aaf-feed.js';

const ctx = await fileContext();
const { q } = sqlReaders(ctx);

const ids = async (sql: string) => (await q<{ x: string }>(sql)).map((r) => r.x);
const links = () => ids(`SELECT p.external_id || '>' || c.external_id AS x FROM relations r JOIN users p ON p.id = r.parent_id JOIN users c ON c.id = r.child_id ORDER BY 1`);

const NAME = (kind: string) => `ENT_0931001A_Complet_20250901_${kind}_0000.xml`;
const pupil = (id: string, first: string, rel: string[], authority?: string[]) =>
  rec('Eleve', id, [
    ['ENTPersonJointure', [id]], ['sn', ['Perrin']], ['givenName', [first]], ['ENTPersonDateNaissance', ['03/04/2012']],
    ...(authority ? ([['ENTEleveAutoriteParentale', authority]] as [string, string[]][]) : []),
    ['ENTElevePersRelEleve', rel],
    ['ENTPersonStructRattach', ['93001']], ['ENTEleveClasses', ['93001$6A']],
  ]);
const relative = (id: string, first: string) => rec('PersRelEleve', id, [['ENTPersonJointure', [id]], ['sn', ['Perrin']], ['givenName', [first]]]);
const feed = () => [
  { name: NAME('EtabEducNat'), data: xml(rec('EtabEducNat', '93001', [['ENTStructureJointure', ['93001']], ['ENTStructureUAI', ['0931001A']], ['ENTStructureNomCourant', ['CLG$JEAN JAURES$MONTREUIL']], ['ENTStructureClasses', ['6A$6EME A']]])) },
  {
    name: NAME('Eleve'),
    data: xml(
      // Current shape: both parents `1`, a grandmother in charge `2`, no ENTEleveAutoriteParentale.
      pupil('E1', 'Léo', ['R1$20$1$1$1$1', 'R2$10$0$1$1$0', 'R3$39$0$2$1$0']) +
        // Older shape: `1` and `2` are the two legal representatives, ENTEleveAutoriteParentale lists both.
        pupil('E2', 'Inès', ['R4$10$1$1$0$0', 'R5$20$0$2$0$0'], ['R4', 'R5']) +
        // A deprecated attribute left empty, as current feeds deliver it: R6 is in charge, not a legal representative.
        pupil('E3', 'Noé', ['R1$20$1$1$1$1', 'R6$41$0$2$1$0'], ['']),
    ),
  },
  { name: NAME('PersRelEleve'), data: xml(['R1', 'R2', 'R3', 'R4', 'R5', 'R6'].map((r, i) => relative(r, ['Marc', 'Sophie', 'Odette', 'Hugo', 'Lina', 'Yves'][i])).join('')) },
];

test('field rules: `2` is a legal representative only when ENTEleveAutoriteParentale names them', () => {
  const a = (...kv: [string, string[]][]) => new Map(kv);
  const rel = ['A$10$1$1$0$0', 'B$20$0$2$0$0', 'C$90$0$0$1$0'];
  assert.deepEqual(relativeRoles(a(['ENTElevePersRelEleve', rel]), false, 'S'), { legal: ['A'], inCharge: ['B'] });
  assert.deepEqual(relativeRoles(a(['ENTElevePersRelEleve', rel], ['ENTEleveAutoriteParentale', ['A', 'B']]), false, 'S'), { legal: ['A', 'B'], inCharge: [] });
  assert.deepEqual(relativeRoles(a(['ENTElevePersRelEleve', rel], ['ENTEleveAutoriteParentale', ['']]), false, 'S'), { legal: ['A'], inCharge: ['B'] });
  // Named by the authority list but `0`: a contact, as before (the list only confirms a `2`).
  assert.deepEqual(legalRepresentatives(a(['ENTElevePersRelEleve', rel], ['ENTEleveAutoriteParentale', ['C']]), false, 'S'), ['A']);
  // The pupil himself is never his own representative; 1D reads ENTEleveAutoriteParentale alone.
  assert.deepEqual(relativeRoles(a(['ENTElevePersRelEleve', ['S$10$1$1$1$1', 'T$10$1$2$0$0']]), false, 'S'), { legal: [], inCharge: ['T'] });
  assert.deepEqual(relativeRoles(a(['ENTEleveAutoriteParentale', ['A', 'B$x']]), true, 'S'), { legal: ['A', 'B'], inCharge: [] });
  assert.equal(relativeRoles(a(['ENTEleveAutoriteParentale', ['A']]), false, 'S'), undefined);
});

test('a « personne en charge » of a current feed gets no account; the second legal representative of an older feed does', async () => {
  const report: ImportReport = await importFiles(ctx, feed(), { scope: { kind: 'all' }, dryRun: false });
  assert.equal(report.fatal, null, formatReport(report));
  assert.deepEqual(report.rejected, []);
  assert.deepEqual(await ids(`SELECT external_id AS x FROM users WHERE profile = 'Relative' ORDER BY 1`), ['R1', 'R2', 'R4', 'R5']);
  assert.deepEqual(await links(), ['R1>E1', 'R1>E3', 'R2>E1', 'R4>E2', 'R5>E2']);
  // Each left out for what they are, with file and line, and counted in the report.
  const inCharge = report.ignored.filter((x) => x.message?.code === 'ignoredAafInCharge');
  assert.deepEqual(inCharge.map((x) => x.message!.params!.id).sort(), ['R3', 'R6']);
  assert.ok(inCharge.every((x) => x.file === NAME('PersRelEleve') && x.line > 1));
  assert.deepEqual(report.ignored.filter((x) => x.message?.code === 'ignoredAafNotLegal'), []);
  const text = formatReport(report);
  assert.match(text, /2 personnes en charge d’élèves \(ENTElevePersRelEleve, 4ᵉ champ 2\) sans compte/);
  assert.match(formatReport(report, 'en'), /2 people in charge of pupils \(ENTElevePersRelEleve, 4th field 2\) without an account/);
  assert.match(String(reportView('fr', report)), /data-import="inCharge">2 personnes en charge d’élèves/);
  assert.match(String(reportView('en', report)), /data-import="inCharge">2 people in charge of pupils/);

  // Imported again: nothing changes, the same two are left out again.
  const again = await importFiles(ctx, feed(), { scope: { kind: 'all' }, dryRun: false });
  assert.equal(again.created + again.updated, 0, formatReport(again));
  assert.equal(again.ignored.filter((x) => x.message?.code === 'ignoredAafInCharge').length, 2);
});
