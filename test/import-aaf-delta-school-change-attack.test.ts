// Attacks on the AAF delta school change (commit 3ec2ecf, aaf-settle.ts applyModifies `leftStructures`).
// Invented files: test/fixtures/aaf/school-change/complet (the two collèges) and
// test/fixtures/aaf/school-change-two-modifies/delta (the move, then a second modifyRequest of the same pupil).
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { test } from 'node:test';
import { collectInputs, formatReport, importFiles } from '../src/import/index.js';
import { fileContext, sqlReaders } from './helpers/db.js';

const BASE = new URL('./fixtures/aaf/school-change/', import.meta.url).pathname;
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

test('a delta moving a pupil, then modifying her again (another file of the same delivery), still takes her out of the former school', async () => {
  const full = await importFiles(ctx, collectInputs([join(BASE, 'complet')]), { dryRun: false, scope: { kind: 'all' } });
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
