// A teacher in both deliveries of an académie: a collège of the 2D delivery and an école of the 1D delivery, imported
// apart (aaf-settle.ts: « staff may be in a 1D and a 2D delivery imported apart, and no membership records which one
// gave it »). A 2D delta changing her discipline in the collège (ENTPersonStructRattach, ENTPersonFonctions and ENTAuxEnsClasses
// replaced by the collège's: the 2D delivery knows nothing of the école) took her out of the école, its class and its groups
// (the staff « leftStructures » of applyModifies: every structure a stored function named, the 1D one included),
// though the next 2D complete feed leaves her there: her class view of the école gone until the next 1D feed.
import assert from 'node:assert/strict';
import { mkdtempSync, mkdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { collectInputs, formatReport, importFiles } from '../src/import/index.js';
import { fileContext, sqlReaders } from './helpers/db.js';

const ctx = await fileContext();
const { q } = sqlReaders(ctx);
const ALL = { kind: 'all' } as const;
const dir = mkdtempSync(join(tmpdir(), 'aaf-1d2d-'));
const put = (sub: string, name: string, body: string) => {
  mkdirSync(join(dir, sub), { recursive: true });
  writeFileSync(join(dir, sub, name), `<?xml version="1.0" encoding="UTF-8"?>\n<ficAlimMENESR>\n${body}\n</ficAlimMENESR>\n`);
};
const etab = (id: string, uai: string, name: string, classes: string) => `<addRequest>
<operationalAttributes><attr name="categorieStructure"><value>EtabEducNat</value></attr></operationalAttributes>
<identifier><id>${id}</id></identifier>
<attributes>
<attr name="ENTStructureJointure"><value>${id}</value></attr>
<attr name="ENTStructureUAI"><value>${uai}</value></attr>
<attr name="ENTStructureNomCourant"><value>${name}</value></attr>
<attr name="ENTStructureClasses"><value>${classes}</value></attr>
</attributes>
</addRequest>`;
const teacher2d = (fonction: string) => `<addRequest>
<operationalAttributes><attr name="categoriePersonne"><value>PersEducNat</value></attr></operationalAttributes>
<identifier><id>TD-P1</id></identifier>
<attributes>
<attr name="ENTPersonJointure"><value>TD-P1</value></attr>
<attr name="sn"><value>Mercier</value></attr>
<attr name="givenName"><value>Hélène</value></attr>
<attr name="personalTitle"><value>Mme</value></attr>
<attr name="ENTPersonStructRattach"><value>74001</value></attr>
<attr name="ENTPersonFonctions"><value>${fonction}</value></attr>
<attr name="ENTAuxEnsClasses"><value>74001$4A</value></attr>
</attributes>
</addRequest>`;
put('2d', 'ENT_Complet_20250901_EtabEducNat_0000.xml', etab('74001', '0774001L', 'CLG$LES ORMEAUX$VILLEBOIS', '4A$4EME A'));
put('2d', 'ENT_Complet_20250901_PersEducNat_0000.xml', teacher2d('74001$ENS$ENSEIGNEMENT$L0422$ANGLAIS'));
put('1d', 'ENT_Complet_20250902_EtabEducNat_0000.xml', etab('74501', '0774501E', 'EC$LES TILLEULS$VILLEBOIS', 'CM1$CM1'));
put('1d', 'ENT_Complet_20250902_PersEducNat_0000.xml', `<addRequest>
<operationalAttributes><attr name="categoriePersonne"><value>PersEducNat</value></attr></operationalAttributes>
<identifier><id>TD-P1</id></identifier>
<attributes>
<attr name="ENTPersonJointure"><value>TD-P1</value></attr>
<attr name="ENTPersonNom"><value>Mercier</value></attr>
<attr name="ENTPersonPrenom"><value>Hélène</value></attr>
<attr name="ENTPersonCivilite"><value>Mme</value></attr>
<attr name="ENTPersonStructRattach"><value>74501</value></attr>
<attr name="ENTPersonFonctions"><value>74501$ENS$ENSEIGNEMENT</value></attr>
<attr name="ENTPersonClasses"><value>74501$CM1</value></attr>
</attributes>
</addRequest>`);
put('delta', 'ENT_Delta_20250915_PersEducNat_0000.xml', `<modifyRequest>
<operationalAttributes><attr name="categoriePersonne"><value>PersEducNat</value></attr></operationalAttributes>
<identifier><id>TD-P1</id></identifier>
<modifications>
<modification name="ENTPersonStructRattach" operation="replace"><value>74001</value></modification>
<modification name="ENTPersonFonctions" operation="replace"><value>74001$ENS$ENSEIGNEMENT$L0426$ESPAGNOL</value></modification>
<modification name="ENTAuxEnsClasses" operation="replace"><value>74001$4A</value></modification>
</modifications>
</modifyRequest>`);
put('2d-apres', 'ENT_Complet_20251001_EtabEducNat_0000.xml', etab('74001', '0774001L', 'CLG$LES ORMEAUX$VILLEBOIS', '4A$4EME A'));
put('2d-apres', 'ENT_Complet_20251001_PersEducNat_0000.xml', teacher2d('74001$ENS$ENSEIGNEMENT$L0426$ESPAGNOL'));

const where = async () => ({
  structures: (await q<{ x: string }>(`SELECT s.external_id AS x FROM users u JOIN user_structures us ON us.user_id = u.id JOIN structures s ON s.id = us.structure_id WHERE u.external_id = 'TD-P1' ORDER BY 1`)).map((r) => r.x),
  classes: (await q<{ x: string }>(`SELECT s.external_id || '$' || c.name AS x FROM users u JOIN user_classes uc ON uc.user_id = u.id JOIN classes c ON c.id = uc.class_id JOIN structures s ON s.id = c.structure_id WHERE u.external_id = 'TD-P1' ORDER BY 1`)).map((r) => r.x),
});

const run = async (d: string) => {
  const r = await importFiles(ctx, collectInputs([join(dir, d)]), { dryRun: false, scope: ALL });
  assert.equal(r.fatal, null, formatReport(r));
  return r;
};

test('a 2D delta changing a teacher’s discipline leaves her in her 1D école, as the 2D complete feed does', async () => {
  await run('2d');
  await run('1d');
  assert.deepEqual(await where(), { structures: ['74001', '74501'], classes: ['74001$4A', '74501$CM1'] });
  // Control: the 2D complete feed saying the same as the delta leaves her in the école.
  await run('2d-apres');
  assert.deepEqual(await where(), { structures: ['74001', '74501'], classes: ['74001$4A', '74501$CM1'] }, 'the 2D complete feed');
  // The 1D feed again (her stored functions the école's), then the 2D delta.
  await run('1d');
  const delta = await run('delta');
  assert.deepEqual(await where(), { structures: ['74001', '74501'], classes: ['74001$4A', '74501$CM1'] }, formatReport(delta));
});
