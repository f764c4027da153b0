// users.address is one text (text.ts postalAddress); an AAF delta lists only the attributes that changed (a family
// moving within its town: the street). The other parts come from the stored address (postalParts), not nothing:
// the envelope's window keeps its postcode and town. (Found by a review.)
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { collectInputs, formatReport, importFiles } from '../src/import/index.js';
import { testContext } from './helpers/db.js';

let ctx: Awaited<ReturnType<typeof testContext>>;
let tmp: string;
before(async () => {
  ctx = await testContext();
  tmp = mkdtempSync(join(tmpdir(), 'trousseau-review2-address-'));
});
after(async () => {
  await ctx.close();
  rmSync(tmp, { recursive: true, force: true });
});

const address = async (ext: string) => (await ctx.database.pool.query(`SELECT address FROM users WHERE external_id = $1`, [ext])).rows[0]?.address as string | null;
const xml = (body: string) => `<?xml version="1.0" encoding="UTF-8"?>\n<ficAlimMENESR>\n${body}</ficAlimMENESR>\n`;
const person = (cat: string, id: string, attrs: [string, string[]][]) =>
  `<addRequest><operationalAttributes><attr name="categoriePersonne"><value>${cat}</value></attr></operationalAttributes><identifier><id>${id}</id></identifier><attributes>` +
  attrs.map(([n, vs]) => `<attr name="${n}">${vs.map((v) => `<value>${v}</value>`).join('')}</attr>`).join('') +
  '</attributes></addRequest>\n';

test('a delta changing only the street keeps the postcode and the town', async () => {
  const full = mkdtempSync(join(tmp, 'full-'));
  writeFileSync(
    join(full, 'ENT_Complet_20240901_EtabEducNat_0000.xml'),
    xml(`<addRequest><operationalAttributes><attr name="categorieStructure"><value>EtabEducNat</value></attr></operationalAttributes><identifier><id>93001</id></identifier><attributes><attr name="ENTStructureJointure"><value>93001</value></attr><attr name="ENTStructureUAI"><value>0930001A</value></attr><attr name="ENTStructureNomCourant"><value>CLG ADRESSES</value></attr></attributes></addRequest>\n`),
  );
  writeFileSync(
    join(full, 'ENT_Complet_20240901_Eleve_0000.xml'),
    xml(person('Eleve', '9100', [['ENTPersonJointure', ['9100']], ['sn', ['Roux']], ['givenName', ['Jade']], ['ENTPersonDateNaissance', ['01/01/2012']], ['ENTPersonStructRattach', ['93001']], ['ENTElevePersRelEleve', ['9200$10$1$1$0$0']]])),
  );
  writeFileSync(
    join(full, 'ENT_Complet_20240901_PersRelEleve_0000.xml'),
    xml(person('PersRelEleve', '9200', [['ENTPersonJointure', ['9200']], ['sn', ['Roux']], ['givenName', ['Noël']], ['ENTPersonAdresse', ['12 rue des Lilas']], ['ENTPersonCodePostal', ['13090']], ['ENTPersonVille', ['AIX EN PROVENCE']], ['ENTPersonPays', ['FRANCE']]])),
  );
  const r = await importFiles(ctx, collectInputs([full]), { dryRun: false, scope: { kind: 'all' } });
  assert.equal(r.fatal, null, formatReport(r));
  assert.equal(await address('9200'), '12 rue des Lilas\n13090 AIX EN PROVENCE');

  const delta = mkdtempSync(join(tmp, 'delta-'));
  writeFileSync(
    join(delta, 'ENT_Delta_20240902_PersRelEleve_0000.xml'),
    xml(
      `<modifyRequest><operationalAttributes><attr name="categoriePersonne"><value>PersRelEleve</value></attr></operationalAttributes><identifier><id>9200</id></identifier>` +
        `<modifications><modification name="ENTPersonAdresse" operation="replace"><value>4 allée des Cèdres</value></modification></modifications></modifyRequest>\n`,
    ),
  );
  const d = await importFiles(ctx, collectInputs([delta]), { dryRun: false, scope: { kind: 'all' } });
  assert.equal(d.fatal, null, formatReport(d));
  assert.deepEqual(d.rejected, []);
  assert.equal(await address('9200'), '4 allée des Cèdres\n13090 AIX EN PROVENCE');
});
