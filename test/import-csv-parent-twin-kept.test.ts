// A parent's name corrected in the school's CSV after he activated his account (invented files:
// test/fixtures/csv/rename/parent-activated/: « Dupond Marc » in v1, « Dupont Marc » in v2, same two children).
// A parent has no birth date nor class: never renamed (renames.ts); the run creates « Dupont Marc » and keeps the
// activated « Dupond » account, saying so (« ambigu : nouveau compte créé, compte activé conservé (à vérifier dans
// « Gérer les doublons ») »). Importing the same v2 files again must change nothing; it sent the activated account to
// the grace period instead (the near-twin is only looked for when the new account is created), though nobody had
// looked at « Gérer les doublons » yet and the file had not changed.
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { test } from 'node:test';
import { collectInputs, formatReport, importFiles } from '../src/import/index.js';
import { fileContext, sqlReaders } from './helpers/db.js';

const DIR = new URL('./fixtures/csv/rename/parent-activated/', import.meta.url).pathname;
const ctx = await fileContext();
const { q } = sqlReaders(ctx);
const opts = { dryRun: false, scope: { kind: 'all' }, structureHint: 'École des Jumeaux' } as Parameters<typeof importFiles>[2];
const parents = async () =>
  q(`SELECT u.login, u.absent_since IS NOT NULL AS absent,
            (SELECT string_agg(c.first_name, ',' ORDER BY c.first_name) FROM relations r JOIN users c ON c.id = r.child_id WHERE r.parent_id = u.id) AS kids
     FROM users u WHERE u.profile = 'Relative' ORDER BY u.login`);

test('an activated parent kept beside his corrected namesake stays kept when the same files are imported again', async () => {
  await q(`INSERT INTO structures (uai, name) VALUES ('0739901K', 'École des Jumeaux')`);
  const v1 = await importFiles(ctx, collectInputs([join(DIR, 'v1')]), opts);
  assert.equal(v1.fatal, null, formatReport(v1));
  await q(`UPDATE users SET activated_at = now(), password_hash = 'x' WHERE login = 'marc.dupond'`);

  const v2 = await importFiles(ctx, collectInputs([join(DIR, 'v2')]), opts);
  assert.equal(v2.fatal, null, formatReport(v2));
  assert.equal(v2.preDeleted, 0, formatReport(v2));
  assert.deepEqual(v2.renamed?.map((r) => [r.login, r.applied]), [['marc.dupond', false]]);
  const kept = await parents();
  assert.deepEqual(kept, [
    { login: 'marc.dupond', absent: false, kids: 'Léa,Tom' },
    { login: 'marc.dupont', absent: false, kids: 'Léa,Tom' },
  ]);

  const again = await importFiles(ctx, collectInputs([join(DIR, 'v2')]), opts);
  assert.equal(again.fatal, null, formatReport(again));
  assert.deepEqual([again.created, again.updated, again.preDeleted], [0, 0, 0], formatReport(again));
  assert.deepEqual(await parents(), kept);
});
