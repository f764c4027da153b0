// A 2D teacher's classes and groups as the AAF gives them today: ENTAuxEnsClassesMatieres and ENTAuxEnsGroupesMatieres
// (`structure$CLASSE$matière`, one value per subject taught there) and the class she is professeur principal of,
// ENTAuxEnsClassesPrincipal (`structure$CLASSE`). The reference ENT takes a teacher's classes and groups from the
// « Matieres » attributes (PersEducNat.json: ENTAuxEnsClasses is its « oldclasses », unused) and makes her head
// teacher of the ENTAuxEnsClassesPrincipal ones. Only ENTAuxEnsClasses and ENTAuxEnsGroupes were read: a feed leaving
// them empty gave the teacher no class nor group (no class view, no sheets of her pupils), and a professeur principal
// who does not teach her class was not in it. A modification of her head-teacher class alone must not take her other
// classes away.
import assert from 'node:assert/strict';
import { mkdtempSync, mkdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { collectInputs, formatReport, importFiles } from '../src/import/index.js';
import { fileContext, sqlReaders } from './helpers/db.js';

const ctx = await fileContext();
const { q } = sqlReaders(ctx);
const dir = mkdtempSync(join(tmpdir(), 'aaf-matieres-'));
const put = (sub: string, name: string, body: string) => {
  mkdirSync(join(dir, sub), { recursive: true });
  writeFileSync(join(dir, sub, name), `<?xml version="1.0" encoding="UTF-8"?>\n<ficAlimMENESR>\n${body}\n</ficAlimMENESR>\n`);
};
put('complet', 'ENT_Complet_20250901_EtabEducNat_0000.xml', `<addRequest>
<operationalAttributes><attr name="categorieStructure"><value>EtabEducNat</value></attr></operationalAttributes>
<identifier><id>75001</id></identifier>
<attributes>
<attr name="ENTStructureJointure"><value>75001</value></attr>
<attr name="ENTStructureUAI"><value>0775001A</value></attr>
<attr name="ENTStructureNomCourant"><value>CLG$LES CHARMES$VILLEBOIS</value></attr>
<attr name="ENTStructureClasses"><value>3A$3EME A</value><value>4B$4EME B</value><value>5C$5EME C</value></attr>
<attr name="ENTStructureGroupes"><value>LAT$LATIN</value></attr>
</attributes>
</addRequest>`);
put('complet', 'ENT_Complet_20250901_PersEducNat_0000.xml', `<addRequest>
<operationalAttributes><attr name="categoriePersonne"><value>PersEducNat</value></attr></operationalAttributes>
<identifier><id>MT-P1</id></identifier>
<attributes>
<attr name="ENTPersonJointure"><value>MT-P1</value></attr>
<attr name="sn"><value>Garnier</value></attr>
<attr name="givenName"><value>Odile</value></attr>
<attr name="personalTitle"><value>Mme</value></attr>
<attr name="ENTPersonStructRattach"><value>75001</value></attr>
<attr name="ENTPersonFonctions"><value>75001$ENS$ENSEIGNEMENT$L0201$LETTRES CLASSIQUES</value></attr>
<attr name="PersEducNatPresenceDevantEleves"><value>O</value></attr>
<attr name="ENTAuxEnsClasses"><value/></attr>
<attr name="ENTAuxEnsGroupes"><value/></attr>
<attr name="ENTAuxEnsClassesMatieres"><value>75001$3A$020100</value><value>75001$3A$020700</value><value>75999$2B$020100</value></attr>
<attr name="ENTAuxEnsGroupesMatieres"><value>75001$LAT$020500</value></attr>
<attr name="ENTAuxEnsClassesPrincipal"><value>75001$4B</value></attr>
</attributes>
</addRequest>`);
put('delta', 'ENT_Delta_20250915_PersEducNat_0000.xml', `<modifyRequest>
<operationalAttributes><attr name="categoriePersonne"><value>PersEducNat</value></attr></operationalAttributes>
<identifier><id>MT-P1</id></identifier>
<modifications>
<modification name="ENTAuxEnsClassesPrincipal" operation="replace"><value>75001$5C</value></modification>
</modifications>
</modifyRequest>`);

const memberships = async () => ({
  classes: (await q<{ x: string }>(`SELECT c.name AS x FROM users u JOIN user_classes uc ON uc.user_id = u.id JOIN classes c ON c.id = uc.class_id WHERE u.external_id = 'MT-P1' ORDER BY 1`)).map((r) => r.x),
  groups: (await q<{ x: string }>(`SELECT g.name AS x FROM users u JOIN user_groups ug ON ug.user_id = u.id JOIN groups g ON g.id = ug.group_id WHERE u.external_id = 'MT-P1' ORDER BY 1`)).map((r) => r.x),
});

const run = async (d: string) => {
  const r = await importFiles(ctx, collectInputs([join(dir, d)]), { dryRun: false, scope: { kind: 'all' } });
  assert.equal(r.fatal, null, formatReport(r));
  assert.deepEqual(r.rejected, [], formatReport(r));
  return r;
};

test('a teacher is in the classes and groups of her subjects (« Matieres ») and in the class she is professeur principal of', async () => {
  const r = await run('complet');
  assert.deepEqual(await memberships(), { classes: ['3A', '4B'], groups: ['LAT'] }, formatReport(r));
  // A class of a structure the feed does not carry: said, naming the attribute that gives it (ENTAuxEnsClasses is empty).
  assert.deepEqual(
    r.ignored.map((i) => [i.field, i.message?.code, i.message?.params?.structure, i.message?.params?.name]),
    [['ENTAuxEnsClassesMatieres', 'ignoredAafClass', '75999', '2B']],
    formatReport(r),
  );
});

test('a delta replacing only her head-teacher class keeps the classes she teaches', async () => {
  const r = await run('delta');
  const m = await memberships();
  // 4B, her former head-teacher class, goes: she does not teach it (test/import-aaf-head-teacher-delta.test.ts).
  assert.deepEqual(m.classes, ['3A', '5C'], formatReport(r));
  assert.deepEqual(m.groups, ['LAT']);
});
