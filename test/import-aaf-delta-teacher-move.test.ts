// An AAF delta transferring a teacher to another collège of the académie (invented files: test/fixtures/aaf/teacher-move/).
// Her modifyRequest replaces ENTPersonStructRattach, ENTPersonFonctions, ENTAuxEnsClasses and ENTAuxEnsGroupes, as
// the pupils' move does (test/import-aaf-delta-school-change.test.ts). The complete feed of the next month
// (complet-apres) leaves her in the second collège only; the delta left her in both, still a teacher of the first
// one's class 4A and group ESP4: her class view, the pupils' codes and the families' sheets of a school she left
// (web/auth.ts teacherOf reads the Teacher profile and class membership).
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { test } from 'node:test';
import { collectInputs, formatReport, importFiles } from '../src/import/index.js';
import { fileContext, sqlReaders } from './helpers/db.js';

const DIR = new URL('./fixtures/aaf/teacher-move/', import.meta.url).pathname;
const ctx = await fileContext();
const { q } = sqlReaders(ctx);
const ALL = { kind: 'all' } as const;

const memberships = async (ext: string) => ({
  structures: (await q<{ x: string }>(`SELECT s.external_id AS x FROM users u JOIN user_structures us ON us.user_id = u.id JOIN structures s ON s.id = us.structure_id WHERE u.external_id = $1 ORDER BY 1`, [ext])).map((r) => r.x),
  classes: (await q<{ x: string }>(`SELECT s.external_id || '$' || c.name AS x FROM users u JOIN user_classes uc ON uc.user_id = u.id JOIN classes c ON c.id = uc.class_id JOIN structures s ON s.id = c.structure_id WHERE u.external_id = $1 ORDER BY 1`, [ext])).map((r) => r.x),
  groups: (await q<{ x: string }>(`SELECT s.external_id || '$' || g.name AS x FROM users u JOIN user_groups ug ON ug.user_id = u.id JOIN groups g ON g.id = ug.group_id JOIN structures s ON s.id = g.structure_id WHERE u.external_id = $1 ORDER BY 1`, [ext])).map((r) => r.x),
  functions: (await q<{ functions: string[] }>(`SELECT functions FROM users WHERE external_id = $1`, [ext]))[0].functions,
});

test('a delta transferring a teacher to another collège leaves her where the next complete feed does: the former school, class and group gone', async () => {
  const full = await importFiles(ctx, collectInputs([join(DIR, 'complet')]), { dryRun: false, scope: ALL });
  assert.equal(full.fatal, null, formatReport(full));
  assert.deepEqual(await memberships('TM-P1'), { structures: ['73001'], classes: ['73001$4A'], groups: ['73001$ESP4'], functions: ['73001$ENS$ENSEIGNEMENT$L0422$ANGLAIS'] });

  const delta = await importFiles(ctx, collectInputs([join(DIR, 'delta')]), { dryRun: false, scope: ALL });
  assert.equal(delta.fatal, null, formatReport(delta));
  assert.deepEqual(delta.rejected, []);
  const afterDelta = await memberships('TM-P1');

  const after = await importFiles(ctx, collectInputs([join(DIR, 'complet-apres')]), { dryRun: false, scope: ALL });
  assert.equal(after.fatal, null, formatReport(after));
  const afterComplete = await memberships('TM-P1');
  assert.deepEqual(afterComplete, { structures: ['73002'], classes: ['73002$4C'], groups: [], functions: ['73002$ENS$ENSEIGNEMENT$L0422$ANGLAIS'] });
  assert.deepEqual(afterDelta, afterComplete, formatReport(delta));
  // The complete feed after the delta finds nothing left to change.
  assert.equal(after.updated, 0, formatReport(after));
});
