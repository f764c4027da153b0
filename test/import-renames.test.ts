// Likely renames (pure rule): close names, one-to-one matches, activated near-twins kept.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { classesKept, classKey, closeNames, findRenames, type RenameCandidate, type RenameIncoming, type RenamePresent } from '../src/import/renames.js';

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

test('a class keeps its evidence while most of its pupils of before the run stay in it', () => {
  const move = (className: string, stays: boolean) => ({ structureId: 's1', profile: 'Student' as const, className, stays });
  const kept = classesKept([move('CE1', false), move('CE1', false), move('CE1', true), move('CM1 A', true), move('CM1 A', true), move('cm1-a', false), move('CP', true), move('CP', false)]);
  // CE1: promoted in September (2 of 3 moved); CM1 A (folded with cm1-a): 2 of 3 stayed; CP: a tie is no majority.
  assert.deepEqual([...kept], [classKey('s1', 'Student', 'CM1 A')]);
  assert.ok(kept.has(classKey('s1', 'Student', 'cm1 a')), 'class names are folded');
  assert.ok(!kept.has(classKey('s1', 'Teacher', 'CM1 A')), 'per profile');
});

test('September: a class that moved on proves nothing; the birth date and close names, one-to-one, rename', () => {
  // The family confirms a match the class does not: the record and the account name the same parent.
  const stale = (c: RenameCandidate): RenameCandidate => ({ ...c, classStale: true, parents: ['be1d:mère'] });
  const fam = (...a: Parameters<typeof inc>) => ({ ...inc(...a), parents: ['be1d:mère'] });
  // Jade ROUSSEL (CE2 in June) is Jade ROUSSELLE in CM1: renamed only when her old class moved on.
  assert.deepEqual(findRenames([fam('k1', 'Jade', 'ROUSSELLE', '2016-10-21', ['CM1'])], [stale(cand('u1', 'Jade', 'ROUSSEL', '2016-10-21', ['CE2']))]), [
    { key: 'k1', id: 'u1', applied: true },
  ]);
  assert.deepEqual(findRenames([fam('k1', 'Jade', 'ROUSSELLE', '2016-10-21', ['CM1'])], [cand('u1', 'Jade', 'ROUSSEL', '2016-10-21', ['CE2'])]), []);
  // Still the same birth date, close names, same profile and structure.
  assert.deepEqual(findRenames([fam('k1', 'Jade', 'ROUSSELLE', '2016-10-22', ['CM1'])], [stale(cand('u1', 'Jade', 'ROUSSEL', '2016-10-21', ['CE2'], true))]), []);
  assert.deepEqual(findRenames([fam('k1', 'Inès', 'ROUSSELLE', '2016-10-21', ['CM1'])], [stale(cand('u1', 'Jade', 'ROUSSEL', '2016-10-21', ['CE2']))]), []);
  assert.deepEqual(findRenames([fam('k1', 'Jade', 'ROUSSELLE', null, ['CM1'])], [stale(cand('u1', 'Jade', 'ROUSSEL', null, ['CE2']))]), []);
  // One-to-one: two newcomers for one account (not twins of each other: other families) claim it both, neither gets it;
  // the activated account is kept.
  assert.deepEqual(
    findRenames(
      [fam('k1', 'Jade', 'ROUSSELLE', '2016-10-21', ['CM1']), fam('k2', 'Jad', 'ROUSEL', '2016-10-21', ['CM2'])],
      [stale(cand('u1', 'Jade', 'ROUSSEL', '2016-10-21', ['CE2'], true))],
    ),
    [{ key: 'k1', id: 'u1', applied: false }],
  );
  // No parent in common (a pupil who left, a newcomer of another family born the same day), or none known: no guess.
  assert.deepEqual(findRenames([{ ...fam('k1', 'Emma', 'MARTINEZ', '2013-04-02', ['CM1']), parents: ['be1d:autre'] }], [stale(cand('u1', 'Emma', 'MARTIN', '2013-04-02', ['CM2']))]), []);
  assert.deepEqual(findRenames([inc('k1', 'Jade', 'ROUSSELLE', '2016-10-21', ['CM1'])], [stale(cand('u1', 'Jade', 'ROUSSEL', '2016-10-21', ['CE2']))]), []);
  assert.deepEqual(findRenames([fam('k1', 'Jade', 'ROUSSELLE', '2016-10-21', ['CM1'])], [{ ...stale(cand('u1', 'Jade', 'ROUSSEL', '2016-10-21', ['CE2'])), parents: [] }]), []);
});

test('twins are never told apart by a guess: a match the class did not confirm is refused when either side has a twin', () => {
  // The family confirms a match the class does not: the record and the account name the same parent.
  const stale = (c: RenameCandidate): RenameCandidate => ({ ...c, classStale: true, parents: ['be1d:mère'] });
  const fam = (...a: Parameters<typeof inc>) => ({ ...inc(...a), parents: ['be1d:mère'] });
  const here = (key: string, firstName: string, lastName: string, birthDate: string): RenamePresent => ({
    key, profile: 'Student', structureIds: ['s1'], firstName, lastName, birthDate,
  });
  // Louis has left, Lucas's family name corrected: Lucas PERIN is close to Lucas PERRIN only, but Lucas has a twin.
  assert.deepEqual(
    findRenames(
      [fam('k1', 'Lucas', 'PERIN', '2017-05-09', ['CE2'])],
      [stale(cand('u1', 'Louis', 'PERRIN', '2017-05-09', ['CE1'], true)), stale(cand('u2', 'Lucas', 'PERRIN', '2017-05-09', ['CE1'], true))],
    ),
    [{ key: 'k1', id: 'u2', applied: false }],
  );
  // Léo is in the run under his own name; Léa's corrected name is close to hers (and to his): no guess either.
  assert.deepEqual(
    findRenames([fam('k1', 'Léa', 'GIRAUD', '2018-03-14', ['CE1'])], [stale(cand('u1', 'Léa', 'GIRARD', '2018-03-14', ['CP']))], [here('k2', 'Léo', 'GIRARD', '2018-03-14')]),
    [],
  );
  // Léa and Léo both corrected: each is close to both accounts, ambiguous; both activated accounts are kept.
  assert.deepEqual(
    findRenames(
      [fam('k1', 'Léa', 'GIRAUD', '2018-03-14', ['CE1']), fam('k2', 'Léo', 'GIRAUD', '2018-03-14', ['CE1'])],
      [stale(cand('u1', 'Léa', 'GIRARD', '2018-03-14', ['CP'], true)), stale(cand('u2', 'Léo', 'GIRARD', '2018-03-14', ['CP'], true))],
    ),
    [
      { key: 'k1', id: 'u1', applied: false },
      { key: 'k1', id: 'u2', applied: false },
    ],
  );
  // Someone of the same birth date but another family and a far name is no twin: the rename stands.
  assert.deepEqual(
    findRenames([fam('k1', 'Jade', 'ROUSSELLE', '2016-10-21', ['CM1'])], [stale(cand('u1', 'Jade', 'ROUSSEL', '2016-10-21', ['CE2']))], [here('k2', 'Hugo', 'LAMBERT', '2016-10-21')]),
    [{ key: 'k1', id: 'u1', applied: true }],
  );
  // A twin in another school or of another profile does not count.
  assert.deepEqual(
    findRenames(
      [fam('k1', 'Léa', 'GIRAUD', '2018-03-14', ['CE1'])],
      [stale(cand('u1', 'Léa', 'GIRARD', '2018-03-14', ['CP']))],
      [{ ...here('k2', 'Léo', 'GIRARD', '2018-03-14'), structureIds: ['s2'] }, { ...here('k3', 'Léo', 'GIRARD', '2018-03-14'), profile: 'Teacher' }],
    ),
    [{ key: 'k1', id: 'u1', applied: true }],
  );
  // The class confirms a match (mid-year, same class): twins or not, the rule is the one before.
  assert.deepEqual(
    findRenames([fam('k1', 'Léa', 'GIRAUD', '2018-03-14', ['CP'])], [cand('u1', 'Léa', 'GIRARD', '2018-03-14', ['CP'])], [here('k2', 'Léo', 'GIRARD', '2018-03-14')]),
    [{ key: 'k1', id: 'u1', applied: true }],
  );
});

test('a birth date corrected under the very same names and class renames; not with a namesake in the run', () => {
  assert.deepEqual(findRenames([inc('k1', 'Nina', 'BERTHIER', '2017-11-23', ['PS'])], [cand('u1', 'Nina', 'Berthier', '2017-11-22', ['PS'])]), [{ key: 'k1', id: 'u1', applied: true }]);
  // Another class, or close names only: no proof.
  assert.deepEqual(findRenames([inc('k1', 'Nina', 'BERTHIER', '2017-11-23', ['MS'])], [cand('u1', 'Nina', 'BERTHIER', '2017-11-22', ['PS'])]), []);
  assert.deepEqual(findRenames([inc('k1', 'Nina', 'BERTIER', '2017-11-23', ['PS'])], [cand('u1', 'Nina', 'BERTHIER', '2017-11-22', ['PS'])]), []);
  // Another Nina BERTHIER of the school in the run: two namesakes, no guess.
  const other: RenamePresent = { key: 'k2', profile: 'Student', structureIds: ['s1'], firstName: 'Nina', lastName: 'BERTHIER', birthDate: '2016-01-05' };
  assert.deepEqual(findRenames([inc('k1', 'Nina', 'BERTHIER', '2017-11-23', ['PS'])], [cand('u1', 'Nina', 'BERTHIER', '2017-11-22', ['PS'])], [other]), []);
});

test('a corrected birth date is no proof between two families, nor in a class that moved on without a parent in common', () => {
  const lea = (parents: string[]) => ({ ...inc('k1', 'Léa', 'MARTIN', '2019-07-07', ['CP']), parents });
  const leaver = (parents: string[], classStale = false): RenameCandidate => ({ ...cand('u1', 'Léa', 'MARTIN', '2019-03-01', ['CP'], true), parents, classStale });
  // Same names, same class, another date: the same pupil unless the parents say otherwise.
  assert.deepEqual(findRenames([lea([])], [leaver(['csv:mère'])]), [{ key: 'k1', id: 'u1', applied: true }]);
  assert.deepEqual(findRenames([lea(['csv:mère'])], [leaver(['csv:mère'])]), [{ key: 'k1', id: 'u1', applied: true }]);
  assert.deepEqual(findRenames([lea(['csv:père-autre'])], [leaver(['csv:mère'])]).filter((m) => m.applied), []);
  // September: the class's name proves nothing; a parent in common does.
  assert.deepEqual(findRenames([lea([])], [leaver(['csv:mère'], true)]).filter((m) => m.applied), []);
  assert.deepEqual(findRenames([lea(['csv:mère'])], [leaver(['csv:mère'], true)]), [{ key: 'k1', id: 'u1', applied: true }]);
});
