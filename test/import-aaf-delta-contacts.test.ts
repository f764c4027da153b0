// An AAF delta modifying relatives (invented files: test/fixtures/aaf/delta-contacts/). The académie's deltas carry
// every PersRelEleve record that changed, a pupil's mere contacts' (4th `$` field of ENTElevePersRelEleve 0) as well
// as her legal representatives'. A contact has no account (the complete feed lists her record as ignored: aaf-2013
// holds 881 legal representatives among 9,967 relatives), so her modifyRequest has nothing to change: it is ignored as
// her addRequest was, not a rejected row (which makes `trousseau import` exit 1, « à corriger », every night a
// delta comes in, for a file nobody can fix).
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { test } from 'node:test';
import { collectInputs, formatReport, importFiles } from '../src/import/index.js';
import { needsFixing } from '../src/import/report.js';
import { fileContext, sqlReaders } from './helpers/db.js';

const DIR = new URL('./fixtures/aaf/delta-contacts/', import.meta.url).pathname;
const ctx = await fileContext();
const { q } = sqlReaders(ctx);

test('a delta modifying a mere contact (no account) ignores that record as the complete feed does; the legal representative is updated', async () => {
  const full = await importFiles(ctx, collectInputs([join(DIR, 'complet')]), { dryRun: false, scope: { kind: 'all' } });
  assert.equal(full.fatal, null, formatReport(full));
  assert.deepEqual(full.ignored.map((x) => [x.file, x.line, x.message?.code]), [['ENT_Complet_20250901_PersRelEleve_0000.xml', 14, 'ignoredAafNotLegal']]);
  assert.deepEqual((await q(`SELECT external_id FROM users WHERE profile = 'Relative'`)).map((r) => r.external_id), ['DC-R1']);

  const delta = await importFiles(ctx, collectInputs([join(DIR, 'delta')]), { dryRun: false, scope: { kind: 'all' } });
  assert.equal(delta.fatal, null, formatReport(delta));
  assert.deepEqual(delta.rejected, [], formatReport(delta));
  assert.equal(needsFixing(delta), false, formatReport(delta));
  assert.deepEqual(delta.ignored.map((x) => [x.file, x.line, x.message?.code, x.message?.params?.id]), [['ENT_Delta_20250915_PersRelEleve_0000.xml', 11, 'ignoredAafModifyNoAccount', 'DC-R2']]);
  const [file] = delta.files;
  assert.deepEqual([file.rows, file.updated, file.ignored, file.rejected], [2, 1, 1, 0], JSON.stringify(file));
  assert.deepEqual(await q(`SELECT external_id, email FROM users WHERE profile = 'Relative'`), [{ external_id: 'DC-R1', email: 'sophie.lefevre@example.fr' }]);
});

// The same delivery as a complete feed would give DC-R2 an account linked to DC-E1 (her record is in every complete
// PersRelEleve file); the delta does not carry it, and a contact's record is not kept: DC-E1 is left without any
// legal representative until the next complete feed. The run can say so: which pupil names whom, where.
test('a delta making a contact without account a legal representative names the link it cannot make (pupil, file, line, id)', async () => {
  const delta = await importFiles(ctx, collectInputs([join(DIR, 'promotion')]), { dryRun: false, scope: { kind: 'all' } });
  assert.equal(delta.fatal, null, formatReport(delta));
  assert.equal(delta.relations.unresolved, 1);
  assert.deepEqual(
    delta.rejected.map((x) => [x.file, x.line, x.field, x.message?.code, x.message?.params?.id]),
    [['ENT_Delta_20251006_Eleve_0000.xml', 5, 'ENTElevePersRelEleve', 'applyNoRelative', 'DC-R2']],
    formatReport(delta),
  );
  assert.match(formatReport(delta), /ENT_Delta_20251006_Eleve_0000\.xml, ligne 5, ENTElevePersRelEleve : .*DC-R2/);
  assert.deepEqual(await q(`SELECT count(*)::int AS n FROM relations`), [{ n: 0 }]);
});
