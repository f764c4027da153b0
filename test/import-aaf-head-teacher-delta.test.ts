// A 2D teacher's classes are the union of ENTAuxEnsClasses, ENTAuxEnsClassesMatieres and ENTAuxEnsClassesPrincipal
// (professeur principal), her groups that of ENTAuxEnsGroupes and ENTAuxEnsGroupesMatieres; a delta's modifyRequest
// replaces only the attributes it lists. The stored classes did not say which attribute gave them: a delta replacing
// her head-teacher class alone kept the former one though she does not teach it (her class view still listed its
// pupils, whose activation sheets she could print: a wrong-hands risk), and a delta replacing her « Matieres » alone
// took the head-teacher class (and the ENTAuxEnsClasses ones) away. Each membership now keeps the attributes that gave
// it (user_classes/user_groups.aaf_attributes, migration 0039).
import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { collectInputs, formatReport, importFiles } from '../src/import/index.js';
import { loadUser } from '../src/web/auth.js';
import { fileContext, fileTempDir, sqlReaders } from './helpers/db.js';

const ctx = await fileContext();
const { q } = sqlReaders(ctx);
const dir = fileTempDir('aaf-head-teacher-');
const put = (sub: string, name: string, body: string) => {
  mkdirSync(join(dir, sub), { recursive: true });
  writeFileSync(join(dir, sub, name), `<?xml version="1.0" encoding="UTF-8"?>\n<ficAlimMENESR>\n${body}\n</ficAlimMENESR>\n`);
};
const modify = (mods: string) => `<modifyRequest>
<operationalAttributes><attr name="categoriePersonne"><value>PersEducNat</value></attr></operationalAttributes>
<identifier><id>HT-P1</id></identifier>
<modifications>
${mods}
</modifications>
</modifyRequest>`;

put('complet', 'ENT_Complet_20250901_EtabEducNat_0000.xml', `<addRequest>
<operationalAttributes><attr name="categorieStructure"><value>EtabEducNat</value></attr></operationalAttributes>
<identifier><id>76001</id></identifier>
<attributes>
<attr name="ENTStructureJointure"><value>76001</value></attr>
<attr name="ENTStructureUAI"><value>0776001B</value></attr>
<attr name="ENTStructureNomCourant"><value>CLG$DES PEUPLIERS$VILLEBOIS</value></attr>
<attr name="ENTStructureClasses"><value>3A$3EME A</value><value>4B$4EME B</value><value>5C$5EME C</value><value>6D$6EME D</value><value>6E$6EME E</value></attr>
<attr name="ENTStructureGroupes"><value>LAT$LATIN</value><value>GRE$GREC</value></attr>
</attributes>
</addRequest>`);
put('complet', 'ENT_Complet_20250901_PersEducNat_0000.xml', `<addRequest>
<operationalAttributes><attr name="categoriePersonne"><value>PersEducNat</value></attr></operationalAttributes>
<identifier><id>HT-P1</id></identifier>
<attributes>
<attr name="ENTPersonJointure"><value>HT-P1</value></attr>
<attr name="sn"><value>Lemaire</value></attr>
<attr name="givenName"><value>Sabine</value></attr>
<attr name="personalTitle"><value>Mme</value></attr>
<attr name="ENTPersonStructRattach"><value>76001</value></attr>
<attr name="ENTPersonFonctions"><value>76001$ENS$ENSEIGNEMENT$L0201$LETTRES CLASSIQUES</value></attr>
<attr name="PersEducNatPresenceDevantEleves"><value>O</value></attr>
<attr name="ENTAuxEnsClasses"><value>76001$6D</value></attr>
<attr name="ENTAuxEnsGroupes"><value>76001$GRE</value></attr>
<attr name="ENTAuxEnsClassesMatieres"><value>76001$3A$020100</value><value>76001$3A$020700</value><value>76001$5C$020100</value></attr>
<attr name="ENTAuxEnsGroupesMatieres"><value>76001$LAT$020500</value></attr>
<attr name="ENTAuxEnsClassesPrincipal"><value>76001$4B</value><value>76001$5C</value></attr>
</attributes>
</addRequest>`);
// A pupil of 4B: the teacher's class view (her scope) reaches her, and her sheets, while 4B is hers.
put('complet', 'ENT_Complet_20250901_Eleve_0000.xml', `<addRequest>
<operationalAttributes><attr name="categoriePersonne"><value>Eleve</value></attr></operationalAttributes>
<identifier><id>HT-E1</id></identifier>
<attributes>
<attr name="ENTPersonJointure"><value>HT-E1</value></attr>
<attr name="sn"><value>Perrin</value></attr>
<attr name="givenName"><value>Lucas</value></attr>
<attr name="ENTPersonDateNaissance"><value>12/03/2012</value></attr>
<attr name="ENTPersonStructRattach"><value>76001</value></attr>
<attr name="ENTEleveClasses"><value>76001$4B</value></attr>
</attributes>
</addRequest>`);
// She is no longer professeur principal of 4B (she never taught it) but of 6E; still of 5C, which she teaches.
put('principal', 'ENT_Delta_20250915_PersEducNat_0000.xml', modify(
  `<modification name="ENTAuxEnsClassesPrincipal" operation="replace"><value>76001$6E</value><value>76001$5C</value></modification>`,
));
// Her subjects change: no longer 5C (of which she stays professeur principal) nor 3A, now 6E; groups: Latin left.
put('matieres', 'ENT_Delta_20250920_PersEducNat_0000.xml', modify(
  `<modification name="ENTAuxEnsClassesMatieres" operation="replace"><value>76001$6E$020100</value></modification>
<modification name="ENTAuxEnsGroupesMatieres" operation="replace"><value/></modification>`,
));
// No longer professeur principal at all: 5C goes (she no longer teaches it), 6E stays (she teaches it).
put('none', 'ENT_Delta_20250925_PersEducNat_0000.xml', modify(
  `<modification name="ENTAuxEnsClassesPrincipal" operation="replace"><value/></modification>`,
));

const memberships = async () => ({
  classes: (await q<{ x: string }>(`SELECT c.name AS x FROM users u JOIN user_classes uc ON uc.user_id = u.id JOIN classes c ON c.id = uc.class_id WHERE u.external_id = 'HT-P1' ORDER BY 1`)).map((r) => r.x),
  groups: (await q<{ x: string }>(`SELECT g.name AS x FROM users u JOIN user_groups ug ON ug.user_id = u.id JOIN groups g ON g.id = ug.group_id WHERE u.external_id = 'HT-P1' ORDER BY 1`)).map((r) => r.x),
});
/** The class names her class view reaches (SessionUser.teacherOf). */
const classView = async () => {
  const [{ id }] = await q<{ id: string }>(`SELECT id FROM users WHERE external_id = 'HT-P1'`);
  const user = await loadUser(ctx.database.pool, id);
  const ids = user?.teacherOf ?? [];
  return (await q<{ name: string }>(`SELECT name FROM classes WHERE id = ANY($1::uuid[]) ORDER BY 1`, [ids])).map((r) => r.name);
};
/** Everything the teacher's memberships are made of, to compare before and after a run changing nothing. */
const snapshot = async () =>
  q(`SELECT uc.class_id::text AS x, uc.aaf_attributes::text AS a FROM users u JOIN user_classes uc ON uc.user_id = u.id WHERE u.external_id = 'HT-P1'
     UNION ALL SELECT ug.group_id::text, ug.aaf_attributes::text FROM users u JOIN user_groups ug ON ug.user_id = u.id WHERE u.external_id = 'HT-P1'
     UNION ALL SELECT import_hash, updated_at::text FROM users WHERE external_id = 'HT-P1' ORDER BY 1, 2`);

const run = async (d: string, dryRun = false) => {
  const r = await importFiles(ctx, collectInputs([join(dir, d)]), { dryRun, scope: { kind: 'all' } });
  assert.equal(r.fatal, null, formatReport(r));
  assert.deepEqual(r.rejected, [], formatReport(r));
  return r;
};

/** Each class and group of hers with the attributes that give it (user_classes/user_groups.aaf_attributes). */
const attributes = async () =>
  Object.fromEntries(
    (await q<{ x: string; a: string[] | null }>(
      `SELECT c.name AS x, uc.aaf_attributes AS a FROM users u JOIN user_classes uc ON uc.user_id = u.id JOIN classes c ON c.id = uc.class_id WHERE u.external_id = 'HT-P1'
       UNION ALL SELECT g.name, ug.aaf_attributes FROM users u JOIN user_groups ug ON ug.user_id = u.id JOIN groups g ON g.id = ug.group_id WHERE u.external_id = 'HT-P1'`,
    )).map((r) => [r.x, r.a]),
  );
const complete = {
  '3A': ['ENTAuxEnsClassesMatieres'],
  '4B': ['ENTAuxEnsClassesPrincipal'],
  '5C': ['ENTAuxEnsClassesMatieres', 'ENTAuxEnsClassesPrincipal'],
  '6D': ['ENTAuxEnsClasses'],
  GRE: ['ENTAuxEnsGroupes'],
  LAT: ['ENTAuxEnsGroupesMatieres'],
};

test('a complete feed gives her the classes of every attribute, the head-teacher ones included', async () => {
  const r = await run('complet');
  assert.deepEqual(await memberships(), { classes: ['3A', '4B', '5C', '6D'], groups: ['GRE', 'LAT'] }, formatReport(r));
  assert.deepEqual(await attributes(), complete);
  assert.deepEqual(await classView(), ['3A', '4B', '5C', '6D']);
  // A pupil's class says no attribute (a pupil's modifyRequest replaces all her classes).
  assert.deepEqual(await q(`SELECT uc.aaf_attributes FROM users u JOIN user_classes uc ON uc.user_id = u.id WHERE u.external_id = 'HT-E1'`), [{ aaf_attributes: null }]);
});

test('a delta replacing only her head-teacher classes removes the former one she does not teach, keeps those she teaches', async () => {
  // A dry run writes nothing.
  await run('principal', true);
  assert.deepEqual((await memberships()).classes, ['3A', '4B', '5C', '6D']);
  const r = await run('principal');
  assert.deepEqual(await memberships(), { classes: ['3A', '5C', '6D', '6E'], groups: ['GRE', 'LAT'] }, formatReport(r));
  // 4B is no longer hers: her class view does not reach its pupils (nor their sheets).
  assert.deepEqual(await classView(), ['3A', '5C', '6D', '6E']);
});

test('the same delta again changes nothing', async () => {
  const before = await snapshot();
  const r = await run('principal');
  assert.deepEqual(await snapshot(), before, formatReport(r));
  assert.equal(r.byProfile.Teacher?.updated ?? 0, 0, formatReport(r));
});

test('a delta replacing only her « Matieres » keeps her head-teacher class and her ENTAuxEnsClasses/Groupes ones', async () => {
  const r = await run('matieres');
  // 3A goes (no longer taught); 5C stays (professeur principal); 6D stays (ENTAuxEnsClasses); GRE stays (ENTAuxEnsGroupes).
  assert.deepEqual(await memberships(), { classes: ['5C', '6D', '6E'], groups: ['GRE'] }, formatReport(r));
  const before = await snapshot();
  const again = await run('matieres');
  assert.deepEqual(await snapshot(), before, formatReport(again));
  assert.equal(again.byProfile.Teacher?.updated ?? 0, 0, formatReport(again));
});

test('a delta emptying her head-teacher classes keeps the classes she teaches', async () => {
  const r = await run('none');
  assert.deepEqual(await memberships(), { classes: ['6D', '6E'], groups: ['GRE'] }, formatReport(r));
  assert.deepEqual(await classView(), ['6D', '6E']);
});

test('the complete feed again sets everything back', async () => {
  const r = await run('complet');
  assert.deepEqual(await memberships(), { classes: ['3A', '4B', '5C', '6D'], groups: ['GRE', 'LAT'] }, formatReport(r));
  const before = await snapshot();
  const again = await run('complet');
  assert.deepEqual(await snapshot(), before, formatReport(again));
});

test('memberships stored before migration 0039 (no attributes) get them from the next complete feed, reported unchanged', async () => {
  // As after the migration: no attributes, and a digest the new records' text no longer matches.
  await q(`UPDATE user_classes SET aaf_attributes = NULL WHERE user_id = (SELECT id FROM users WHERE external_id = 'HT-P1')`);
  await q(`UPDATE user_groups SET aaf_attributes = NULL WHERE user_id = (SELECT id FROM users WHERE external_id = 'HT-P1')`);
  await q(`UPDATE users SET import_hash = 'before-0039' WHERE external_id = 'HT-P1'`);
  const r = await run('complet');
  assert.deepEqual(await attributes(), complete, formatReport(r));
  assert.equal(r.byProfile.Teacher?.unchanged, 1, formatReport(r));
});
