// A parent's row naming a pupil by her family name alone when the pupils' file gives her a usage name (invented files:
// test/fixtures/be1d/child-family-name/: Inès GARNIER, « Nom d'usage Elève » VASSEUR; her father's row leaves
// « Nom d'usage enfant » empty and gives « Nom de famille enfant » GARNIER, her mother's gives both). The pupil is
// shown by her usage name and children were looked up by the shown name only: « élève introuvable », no link for the
// father. Her family name (her account's key, csv.ts csvNameKey) finds her as well.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { collectInputs, formatReport, importFiles } from '../src/import/index.js';
import { fileContext, sqlReaders } from './helpers/db.js';

const DIR = new URL('./fixtures/be1d/child-family-name/', import.meta.url).pathname;
const ctx = await fileContext();
const { q } = sqlReaders(ctx);

test('a pupil with a usage name is found by her family name on a parent’s row', async () => {
  const opts = { dryRun: false, scope: { kind: 'all' }, structureHint: 'École des Saules' } as Parameters<typeof importFiles>[2];
  const report = await importFiles(ctx, collectInputs([DIR]), opts);
  assert.equal(report.fatal, null, formatReport(report));
  assert.deepEqual(report.rejected, [], formatReport(report));
  assert.deepEqual([report.relations.created, report.relations.unresolved], [3, 0]);
  const links = await q<{ p: string; c: string }>(
    `SELECT p.first_name p, c.last_name || ' ' || c.first_name c FROM relations r JOIN users p ON p.id = r.parent_id JOIN users c ON c.id = r.child_id ORDER BY 1`,
  );
  assert.deepEqual(links.map((x) => [x.p, x.c]), [['Claire', 'VASSEUR Inès'], ['Odile', 'FONTAINE Jules'], ['Rémi', 'VASSEUR Inès']]);
  const again = await importFiles(ctx, collectInputs([DIR]), opts);
  assert.deepEqual([again.created, again.updated, again.preDeleted, again.relations.created, again.relations.removed], [0, 0, 0, 0, 0], formatReport(again));
});
