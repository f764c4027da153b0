// An AAF delta moving the only child a parent has in a school (invented files: test/fixtures/aaf/parent-two-schools/).
// PT-R1 is the legal representative of PT-E1 (first collège) and PT-E2 (second). A delta moves PT-E2 to the first
// collège: PT-E2 leaves the second (test/import-aaf-delta-school-change.test.ts), but his father, whom the delta does
// not carry, stayed attached to a school where he has no child any more (its directory, its counts and its parents'
// sheets list him), until the next complete feed takes him out (« établissement retiré »). A relative follows his
// children's structures (apply.ts): the delta should give the same final state as the complete feed.
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { test } from 'node:test';
import { collectInputs, formatReport, importFiles } from '../src/import/index.js';
import { fileContext, sqlReaders } from './helpers/db.js';

const DIR = new URL('./fixtures/aaf/parent-two-schools/', import.meta.url).pathname;
const ctx = await fileContext();
const { q } = sqlReaders(ctx);
const ALL = { kind: 'all' } as const;
const structuresOf = async (ext: string) =>
  (await q<{ x: string }>(`SELECT s.external_id AS x FROM users u JOIN user_structures us ON us.user_id = u.id JOIN structures s ON s.id = us.structure_id WHERE u.external_id = $1 ORDER BY 1`, [ext])).map((r) => r.x);

test('a delta moving a parent’s only child of a school takes the parent out of that school too', async () => {
  const full = await importFiles(ctx, collectInputs([join(DIR, 'complet')]), { dryRun: false, scope: ALL });
  assert.equal(full.fatal, null, formatReport(full));
  assert.deepEqual(await structuresOf('PT-R1'), ['73001', '73002']);

  const delta = await importFiles(ctx, collectInputs([join(DIR, 'delta')]), { dryRun: false, scope: ALL });
  assert.equal(delta.fatal, null, formatReport(delta));
  assert.deepEqual(await structuresOf('PT-E2'), ['73001']);
  assert.deepEqual(await structuresOf('PT-R1'), ['73001'], formatReport(delta));
  assert.deepEqual(await structuresOf('PT-E1'), ['73001']);

  // The complete feed of the next month says the same: nothing left to change.
  const after = await importFiles(ctx, collectInputs([join(DIR, 'complet-apres')]), { dryRun: false, scope: ALL });
  assert.equal(after.fatal, null, formatReport(after));
  assert.deepEqual([after.created, after.updated, after.preDeleted], [0, 0, 0], formatReport(after));
  assert.deepEqual(await structuresOf('PT-R1'), ['73001']);
});

test('the dry run of that delta leaves the father in both schools', async () => {
  const full = await importFiles(ctx, collectInputs([join(DIR, 'complet')]), { dryRun: false, scope: ALL });
  assert.equal(full.fatal, null, formatReport(full));
  assert.deepEqual(await structuresOf('PT-R1'), ['73001', '73002']);
  const delta = await importFiles(ctx, collectInputs([join(DIR, 'delta')]), { dryRun: true, scope: ALL });
  assert.equal(delta.fatal, null, formatReport(delta));
  // A dry run writes nothing.
  assert.deepEqual(await structuresOf('PT-R1'), ['73001', '73002']);
});
