// An AAF delta replacing a head of school's ENTPersonFonctions (`<modification name="ENTPersonFonctions"
// operation="replace">`) without her DIR function in school X — she moves to school Y, or stays in X as a teacher —
// takes back the local administration of X the feed gave her (a local administrator creates accounts, renews codes
// and prints the sheets of the whole school), keeps one a person appointed by hand, and takes her out of X when only
// her former function attached her there (user_structures.by_function, migration 0042: the stored account did not say
// which structures came from functions, so the delta laid her new functions over a stored X and she stayed in it).
// A complete feed does the same. Small invented feed, written here.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { formatReport, importFiles, type ImportReport } from '../src/import/index.js';
import { fileContext, sqlReaders } from './helpers/db.js';
import { aafRecord as rec, aafXml as xml } from './helpers/aaf-feed.js';

const ctx = await fileContext();
const { q } = sqlReaders(ctx);

const structuresIn = (table: 'local_admins' | 'user_structures') => async (ext: string) =>
  (
    await q<{ x: string }>(
      `SELECT s.external_id AS x FROM ${table} t JOIN users u ON u.id = t.user_id JOIN structures s ON s.id = t.structure_id
       WHERE u.external_id = $1 ORDER BY 1`,
      [ext],
    )
  ).map((r) => r.x);
const adminOf = structuresIn('local_admins');
const structuresOf = structuresIn('user_structures');
const run = async (files: { name: string; data: Buffer }[], dryRun = false): Promise<ImportReport> => {
  const report = await importFiles(ctx, files, { scope: { kind: 'all' }, dryRun });
  assert.equal(report.fatal, null, formatReport(report));
  assert.deepEqual(report.rejected, [], formatReport(report));
  return report;
};
const snapshot = () =>
  q(`SELECT u.external_id, u.import_hash, u.updated_at::text, u.functions,
            (SELECT array_agg(s.external_id || ':' || us.by_function ORDER BY 1) FROM user_structures us JOIN structures s ON s.id = us.structure_id WHERE us.user_id = u.id) AS s,
            (SELECT array_agg(s.external_id || ':' || la.from_feed ORDER BY 1) FROM local_admins la JOIN structures s ON s.id = la.structure_id WHERE la.user_id = u.id) AS a
     FROM users u WHERE u.external_id LIKE 'F%' ORDER BY 1`);

const etab = (id: string, uai: string, name: string) =>
  rec('EtabEducNat', id, [['ENTStructureJointure', [id]], ['ENTStructureUAI', [uai]], ['ENTStructureNomCourant', [name]]]);
const staff = (id: string, last: string, attach: string[], functions: string[]) =>
  rec('PersEducNat', id, [
    ['ENTPersonJointure', [id]], ['sn', [last]], ['givenName', ['Claire']], ['PersEducNatPresenceDevantEleves', ['N']],
    ['ENTPersonStructRattach', attach], ['ENTPersonFonctions', functions],
  ]);
const DIR = (s: string) => `${s}$DIR$DIRECTION$D0010$DIRECTION CHEF D'ETABLISSEMENT`;
const ENS = (s: string) => `${s}$ENS$ENSEIGNEMENT$L0202$LETTRES MODERNES`;
const modify = (id: string, functions: string[]) =>
  `<modifyRequest>\n<operationalAttributes><attr name="categoriePersonne"><value>PersEducNat</value></attr></operationalAttributes>\n` +
  `<identifier><id>${id}</id></identifier>\n<modifications>\n` +
  `<modification name="ENTPersonFonctions" operation="replace">${functions.map((v) => `<value>${v}</value>`).join('')}</modification>` +
  '\n</modifications>\n</modifyRequest>\n';

const schools = { name: 'ENT_Complet_20250901_EtabEducNat_0000.xml', data: xml(etab('92001', '0920001A', 'CLG$JEAN MOULIN$NANTERRE') + etab('92002', '0920002B', 'CLG$MARIE CURIE$SCEAUX')) };
const complete = (people: string) => [schools, { name: 'ENT_Complet_20250901_PersEducNat_0000.xml', data: xml(people) }];
const heads =
  // Only her DIR function attaches each to 92001 (an empty ENTPersonStructRattach, as the académie gives it).
  staff('F1', 'AUBRY', [''], [DIR('92001')]) +
  staff('F2', 'BESSON', [''], [DIR('92001')]) +
  // Attached to 92001 and its head: stays in it whatever her functions.
  staff('F3', 'CARON', ['92001'], [DIR('92001')]) +
  // Head of 92001 by her function only, her administration confirmed by a person (granted_by).
  staff('F4', 'DUBOIS', [''], [DIR('92001')]);
const delta = {
  name: 'ENT_Delta_20250915_PersEducNat_0000.xml',
  data: xml(
    // Moves to 92002 as its head; stays in 92001 as a teacher; moves (attached to 92001 still); moves (appointed by hand).
    modify('F1', [DIR('92002')]) + modify('F2', [ENS('92001')]) + modify('F3', [DIR('92002')]) + modify('F4', [DIR('92002')]),
  ),
};

test('a delta replacing a head of school’s functions takes back the feed’s administration of her former school, and her membership only that function gave', async () => {
  await run(complete(heads));
  for (const p of ['F1', 'F2', 'F4']) assert.deepEqual([await structuresOf(p), await adminOf(p)], [['92001'], ['92001']], p);
  assert.deepEqual([await structuresOf('F3'), await adminOf('F3')], [['92001'], ['92001']]);
  // DUBOIS's administration confirmed by the super admin (appointLocalAdmin: from_feed false, granted_by set).
  const [{ id: su }] = await q<{ id: string }>(`INSERT INTO users (login, first_name, last_name, profile, origin) VALUES ('su.f', 'Su', 'Per', 'Personnel', 'manual') RETURNING id`);
  await q(`UPDATE local_admins SET from_feed = false, granted_by = $1 WHERE user_id = (SELECT id FROM users WHERE external_id = 'F4')`, [su]);

  // A dry run writes nothing.
  const before = await snapshot();
  await run([delta], true);
  assert.deepEqual(await snapshot(), before);

  const report = await run([delta]);
  const r = formatReport(report);
  // 1. Administration: the feed's taken back, the one appointed by hand kept.
  assert.deepEqual(await adminOf('F1'), ['92002'], r);
  assert.deepEqual(await adminOf('F2'), [], r);
  assert.deepEqual(await adminOf('F3'), ['92002'], r);
  assert.deepEqual(await adminOf('F4'), ['92001', '92002'], r);
  assert.deepEqual((await q(`SELECT granted_by FROM local_admins la JOIN structures s ON s.id = la.structure_id WHERE s.external_id = '92001' AND la.user_id = (SELECT id FROM users WHERE external_id = 'F4')`)), [{ granted_by: su }]);
  // 2. Membership: out of 92001 when only her former function attached her there.
  assert.deepEqual(await structuresOf('F1'), ['92002'], r);
  assert.deepEqual(await structuresOf('F2'), ['92001'], r);
  assert.deepEqual(await structuresOf('F3'), ['92001', '92002'], r);
  // DUBOIS: the delta describes 92001 (BESSON's and CARON's records name it), which no record of hers names now: she
  // leaves it as a complete feed takes her out of it (below), her administration appointed by hand kept all the same.
  assert.deepEqual(await structuresOf('F4'), ['92002'], r);
  assert.deepEqual(
    report.adminChanges?.map((x) => [x.change, x.name, x.structure]).sort(),
    [
      ['appointed', 'Claire AUBRY', 'CLG - MARIE CURIE - SCEAUX'],
      ['appointed', 'Claire CARON', 'CLG - MARIE CURIE - SCEAUX'],
      ['appointed', 'Claire DUBOIS', 'CLG - MARIE CURIE - SCEAUX'],
      ['revoked', 'Claire AUBRY', 'CLG - JEAN MOULIN - NANTERRE'],
      ['revoked', 'Claire BESSON', 'CLG - JEAN MOULIN - NANTERRE'],
      ['revoked', 'Claire CARON', 'CLG - JEAN MOULIN - NANTERRE'],
    ],
    r,
  );

  // The same delta again changes nothing.
  const after = await snapshot();
  const again = await run([delta]);
  assert.deepEqual(await snapshot(), after, formatReport(again));
  assert.equal(again.updated, 0, formatReport(again));
  assert.equal(again.adminChanges, undefined, formatReport(again));
});

test('a complete feed does the same', async () => {
  // Back to the heads of 92001 (DUBOIS administers 92001 by hand still), then the complete feed of after the move.
  await run(complete(heads));
  const report = await run(complete(staff('F1', 'AUBRY', [''], [DIR('92002')]) + staff('F2', 'BESSON', [''], [ENS('92001')]) + staff('F3', 'CARON', ['92001'], [DIR('92002')]) + staff('F4', 'DUBOIS', [''], [DIR('92002')])));
  const r = formatReport(report);
  assert.deepEqual([await structuresOf('F1'), await adminOf('F1')], [['92002'], ['92002']], r);
  assert.deepEqual([await structuresOf('F2'), await adminOf('F2')], [['92001'], []], r);
  assert.deepEqual([await structuresOf('F3'), await adminOf('F3')], [['92001', '92002'], ['92002']], r);
  assert.deepEqual([await structuresOf('F4'), await adminOf('F4')], [['92002'], ['92001', '92002']], r);
  // Imported again: nothing changes.
  const before = await snapshot();
  const again = await run(complete(staff('F1', 'AUBRY', [''], [DIR('92002')]) + staff('F2', 'BESSON', [''], [ENS('92001')]) + staff('F3', 'CARON', ['92001'], [DIR('92002')]) + staff('F4', 'DUBOIS', [''], [DIR('92002')])));
  assert.deepEqual(await snapshot(), before, formatReport(again));
  assert.equal(again.updated, 0, formatReport(again));
});

test('memberships stored before migration 0042 get by_function from the next complete feed; a delta not replacing her functions keeps them', async () => {
  const people = staff('F5', 'ESNAULT', [''], [DIR('92001')]) + staff('F6', 'FABRE', ['92001'], [ENS('92002')]);
  await run(complete(people));
  const flags = async () =>
    (await q<{ x: string }>(
      `SELECT u.external_id || ':' || s.external_id || ':' || us.by_function AS x FROM user_structures us JOIN users u ON u.id = us.user_id
       JOIN structures s ON s.id = us.structure_id WHERE u.external_id IN ('F5', 'F6') ORDER BY 1`,
    )).map((r) => r.x);
  const expected = ['F5:92001:true', 'F6:92001:false', 'F6:92002:true'];
  assert.deepEqual(await flags(), expected);
  // As after the migration: every membership false, the digests of AAF staff with functions cleared.
  await q(`UPDATE user_structures SET by_function = false`);
  await q(`UPDATE users SET import_hash = NULL WHERE source = 'aaf' AND profile IN ('Teacher', 'Personnel') AND cardinality(functions) > 0`);
  const r = await run(complete(people));
  assert.deepEqual(await flags(), expected, formatReport(r));
  assert.equal(r.updated, 0, `not a change of her memberships: ${formatReport(r)}`);
  // A delta giving her a new first name only: her functions stay, and so do the schools they name.
  const d = await run([{ name: 'ENT_Delta_20250916_PersEducNat_0000.xml', data: xml(
    `<modifyRequest>\n<operationalAttributes><attr name="categoriePersonne"><value>PersEducNat</value></attr></operationalAttributes>\n` +
      `<identifier><id>F5</id></identifier>\n<modifications>\n<modification name="givenName" operation="replace"><value>Clara</value></modification>\n</modifications>\n</modifyRequest>\n`,
  ) }]);
  assert.equal(d.updated, 1, formatReport(d));
  assert.deepEqual([await structuresOf('F5'), await adminOf('F5')], [['92001'], ['92001']], formatReport(d));
  assert.deepEqual(await flags(), expected);
});
