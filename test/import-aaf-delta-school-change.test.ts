// An AAF delta moving a pupil to another school of the académie (invented files: test/fixtures/aaf/school-change/).
// The modifyRequest replaces ENTPersonStructRattach, ENTEleveClasses and ENTEleveGroupes: « replace » means the
// pupil's classes and groups are now those listed, as a complete feed would say it (the reference ENT removes a
// pupil's classes, groups and attachments that its record no longer lists). Found on aaf-2013: a delta moving
// pupil 2605692 from 52006$RUS1TERM (group 52006$206) to 52007$TS1 left her in both schools, both classes and the
// old group: the former school's teachers still saw her in their class view. An attacker's case: a second
// modifyRequest of the same pupil in the delivery (test/fixtures/aaf/school-change-two-modifies/delta) lost the move.
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { test } from 'node:test';
import { collectInputs, formatReport, importFiles } from '../src/import/index.js';
import { fileContext, sqlReaders } from './helpers/db.js';

const DIR = new URL('./fixtures/aaf/school-change/', import.meta.url).pathname;
const TWO = new URL('./fixtures/aaf/school-change-two-modifies/', import.meta.url).pathname;
const ctx = await fileContext();
const { q } = sqlReaders(ctx);

const of = async (sql: string, ext: string) => (await q<{ x: string }>(sql, [ext])).map((r) => r.x);
const structuresOf = (ext: string) =>
  of(`SELECT s.external_id AS x FROM users u JOIN user_structures us ON us.user_id = u.id JOIN structures s ON s.id = us.structure_id
      WHERE u.external_id = $1 ORDER BY 1`, ext);
const classesOf = (ext: string) =>
  of(`SELECT s.external_id || '$' || c.name AS x FROM users u JOIN user_classes uc ON uc.user_id = u.id JOIN classes c ON c.id = uc.class_id
      JOIN structures s ON s.id = c.structure_id WHERE u.external_id = $1 ORDER BY 1`, ext);
const groupsOf = (ext: string) =>
  of(`SELECT s.external_id || '$' || g.name AS x FROM users u JOIN user_groups ug ON ug.user_id = u.id JOIN groups g ON g.id = ug.group_id
      JOIN structures s ON s.id = g.structure_id WHERE u.external_id = $1 ORDER BY 1`, ext);

test('an AAF delta moving a pupil to another school replaces her classes and groups: she leaves the former school', async () => {
  const full = await importFiles(ctx, collectInputs([join(DIR, 'complet')]), { dryRun: false, scope: { kind: 'all' } });
  assert.equal(full.fatal, null, formatReport(full));
  assert.deepEqual(await structuresOf('SC-E1'), ['73001']);
  assert.deepEqual(await classesOf('SC-E1'), ['73001$4A']);
  assert.deepEqual(await groupsOf('SC-E1'), ['73001$ESP4']);

  const delta = await importFiles(ctx, collectInputs([join(DIR, 'delta')]), { dryRun: false, scope: { kind: 'all' } });
  assert.equal(delta.fatal, null, formatReport(delta));
  assert.deepEqual(delta.rejected, []);
  // The new school, class and no group: nothing left of the former school.
  assert.deepEqual(await classesOf('SC-E1'), ['73002$4C'], formatReport(delta));
  assert.deepEqual(await groupsOf('SC-E1'), [], formatReport(delta));
  assert.deepEqual(await structuresOf('SC-E1'), ['73002'], formatReport(delta));
});

test('a delta moving a pupil, then modifying her again (another file of the same delivery), still takes her out of the former school', async () => {
  // The complete feed again: she is back in the former school only.
  const full = await importFiles(ctx, collectInputs([join(DIR, 'complet')]), { dryRun: false, scope: { kind: 'all' } });
  assert.equal(full.fatal, null, formatReport(full));
  assert.deepEqual(await structuresOf('SC-E1'), ['73001']);

  const delta = await importFiles(ctx, collectInputs([join(TWO, 'delta')]), { dryRun: false, scope: { kind: 'all' } });
  assert.equal(delta.fatal, null, formatReport(delta));
  assert.deepEqual(delta.rejected, []);
  // The second modifyRequest changes only her first name: the move the first one made stands.
  assert.deepEqual(await classesOf('SC-E1'), ['73002$4C'], formatReport(delta));
  assert.deepEqual(await groupsOf('SC-E1'), [], formatReport(delta));
  assert.deepEqual(await structuresOf('SC-E1'), ['73002'], formatReport(delta));
});
