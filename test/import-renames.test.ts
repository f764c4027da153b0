// Likely renames (pure rule): close names, one-to-one matches, activated near-twins kept.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { closeNames, findRenames, type RenameCandidate, type RenameIncoming } from '../src/import/renames.js';

const n = (firstName: string, lastName: string) => ({ firstName, lastName });

test('close names: a few edits after folding, or one name kept and the other extended', () => {
  assert.ok(closeNames(n('Lise', 'BEUF'), n('Lise', 'BŒUF')));
  assert.ok(closeNames(n('Ada', 'LOVE'), n('Adda', 'Love')));
  assert.ok(closeNames(n('Marie', 'DURAND'), n('Marie-Claire', 'DURAND')));
  assert.ok(closeNames(n('Inès', 'MARTIN'), n('Ines', 'MARTIN-LEROY')));
  assert.ok(!closeNames(n('Léa', 'COLIN'), n('Théo', 'COLIN')));
  assert.ok(!closeNames(n('Paul', 'DUBOIS'), n('Paula', 'DUPONT')));
});

const inc = (key: string, firstName: string, lastName: string, birthDate: string | null, classes: string[]): RenameIncoming => ({
  key, profile: 'Student', structureIds: ['s1'], firstName, lastName, birthDate, classes,
});
const cand = (id: string, firstName: string, lastName: string, birthDate: string | null, classes: string[], activated = false): RenameCandidate => ({
  id, profile: 'Student', structureId: 's1', firstName, lastName, birthDate, classes, activated,
});

test('a rename needs the same birth date and class and must be one-to-one; else an activated twin is only kept', () => {
  assert.deepEqual(findRenames([inc('k1', 'Lise', 'BŒUF', '2015-02-01', ['CE2'])], [cand('u1', 'Lise', 'BEUF', '2015-02-01', ['ce2'])]), [{ key: 'k1', id: 'u1', applied: true }]);
  // Other birth date, other class, other structure, other profile: no rename.
  assert.deepEqual(findRenames([inc('k1', 'Lise', 'BŒUF', '2015-02-02', ['CE2'])], [cand('u1', 'Lise', 'BEUF', '2015-02-01', ['CE2'])]), []);
  assert.deepEqual(findRenames([inc('k1', 'Lise', 'BŒUF', '2015-02-01', ['CM1'])], [cand('u1', 'Lise', 'BEUF', '2015-02-01', ['CE2'])]), []);
  assert.deepEqual(findRenames([{ ...inc('k1', 'Lise', 'BŒUF', '2015-02-01', ['CE2']), structureIds: ['s2'] }], [cand('u1', 'Lise', 'BEUF', '2015-02-01', ['CE2'], true)]), []);
  // Two newcomers for one absent account: ambiguous; the activated account is kept (once).
  assert.deepEqual(
    findRenames([inc('k1', 'Adda', 'LOVE', '2014-05-05', ['CM1']), inc('k2', 'Ada', 'LOVEL', '2014-05-05', ['CM1'])], [cand('u1', 'Ada', 'LOVE', '2014-05-05', ['CM1'], true)]),
    [{ key: 'k1', id: 'u1', applied: false }],
  );
  // The same, not activated: nothing to keep, it may be pre-deleted.
  assert.deepEqual(findRenames([inc('k1', 'Adda', 'LOVE', '2014-05-05', ['CM1']), inc('k2', 'Ada', 'LOVEL', '2014-05-05', ['CM1'])], [cand('u1', 'Ada', 'LOVE', '2014-05-05', ['CM1'])]), []);
  // A parent (no birth date, no class) is never renamed, but an activated near-twin is kept.
  const parent = { ...inc('k1', 'Marc', 'VERGIER', null, []), profile: 'Relative' as const };
  assert.deepEqual(findRenames([parent], [{ ...cand('u1', 'Marc', 'VERGER', null, [], true), profile: 'Relative' }]), [{ key: 'k1', id: 'u1', applied: false }]);
});
