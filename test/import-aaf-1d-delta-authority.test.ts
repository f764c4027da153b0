// A 1D pupil's legal representatives are her ENTEleveAutoriteParentale. A file is read as 1D once a record carries a
// 1D-only attribute (ENTPersonNom, ENTPersonClasses…): a 1D delta whose modifyRequests change only that attribute (a
// father losing parental authority, a mother given it) carries none, was read as 2D, where the representatives come
// from ENTElevePersRelEleve, absent: the change was dropped unsaid and the father kept his parent's rights.
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { collectInputs, formatReport, importFiles } from '../src/import/index.js';
import { fileContext, sqlReaders } from './helpers/db.js';

const ctx = await fileContext();
const { q } = sqlReaders(ctx);
const ONE_D = new URL('./fixtures/aaf/1d/', import.meta.url).pathname;
const dir = mkdtempSync(join(tmpdir(), 'aaf-1d-authority-'));
const delta = join(dir, 'ENT1D_Delta_20240915_Eleve_0000.xml');
writeFileSync(
  delta,
  `<?xml version="1.0" encoding="UTF-8"?>
<ficAlimMENESR>
<modifyRequest>
<operationalAttributes><attr name="categoriePersonne"><value>Eleve</value></attr></operationalAttributes>
<identifier><id>1D-E1</id></identifier>
<modifications>
<modification name="ENTEleveAutoriteParentale" operation="replace"><value>1D-R1</value></modification>
</modifications>
</modifyRequest>
</ficAlimMENESR>
`,
);
const links = async () =>
  (await q<{ l: string }>(`SELECT p.external_id || '>' || c.external_id AS l FROM relations r JOIN users p ON p.id = r.parent_id JOIN users c ON c.id = r.child_id WHERE c.external_id = '1D-E1' ORDER BY 1`)).map((x) => x.l);

test('a 1D delta changing only a pupil’s ENTEleveAutoriteParentale changes her legal representatives', async () => {
  let r = await importFiles(ctx, collectInputs([ONE_D]), { scope: { kind: 'all' }, dryRun: false });
  assert.equal(r.fatal, null, formatReport(r));
  assert.deepEqual(await links(), ['1D-R1>1D-E1', '1D-R2>1D-E1']);
  r = await importFiles(ctx, collectInputs([delta]), { scope: { kind: 'all' }, dryRun: false });
  assert.equal(r.fatal, null, formatReport(r));
  assert.deepEqual(await links(), ['1D-R1>1D-E1'], formatReport(r));
});
