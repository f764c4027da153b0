// The pure plan of an import (src/import/plan.ts): no database here.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { planAttributes, planLinks, planMemberships, planRelations, planUserUpdate, type StoredUser } from '../src/import/plan.js';
import type { UserRecord } from '../src/import/types.js';

const record = (over: Partial<UserRecord> = {}): UserRecord => ({
  externalId: 'aaf-1', source: 'aaf', origin: 'feed', profile: 'Student', title: null, firstName: 'Zoé', lastName: 'Martin',
  birthDate: '2012-03-04', email: null, phone: null, structures: new Set(['S1']), classes: [{ structure: 'S1', name: '6A' }], groups: [],
  file: 'Eleve_0001.xml', line: 5, ...over,
});

const stored = (over: Partial<StoredUser> = {}): StoredUser => ({
  id: 'u1', external_id: 'aaf-1', profile: 'Student', title: null, first_name: 'Zoé', last_name: 'Martin', birth_date: '2012-03-04',
  email: null, phone: null, ine: null, functions: [], mobile: null, address: null, origin: 'feed', source: 'aaf', activated_at: null,
  pre_deleted_at: null, ...over,
});

test('field updates: the feed owns names; optional facts fill, never erase; an activated user keeps their e-mail', () => {
  assert.equal(planUserUpdate(record(), stored()).diff, false);

  const renamed = planUserUpdate(record({ lastName: 'Martin-Durand' }), stored());
  assert.equal(renamed.diff, true);
  assert.equal(renamed.next.last_name, 'Martin-Durand');

  // No phone nor birth date in the file: the stored ones stay.
  const kept = planUserUpdate(record({ phone: null, birthDate: null }), stored({ phone: '0102030405', birth_date: '2012-03-04' }));
  assert.equal(kept.diff, false);
  assert.equal(kept.next.phone, '0102030405');

  // E-mail: fills an empty one, replaces the school's one before activation, never an activated user's.
  assert.equal(planUserUpdate(record({ email: 'a@b.fr' }), stored()).next.email, 'a@b.fr');
  assert.equal(planUserUpdate(record({ email: 'new@b.fr' }), stored({ email: 'old@b.fr' })).next.email, 'new@b.fr');
  const active = planUserUpdate(record({ email: 'new@b.fr' }), stored({ email: 'mine@b.fr', activated_at: new Date() }));
  assert.equal(active.next.email, 'mine@b.fr');
  assert.equal(active.diff, false);

  // Functions compare as lists, absent from the record: left as stored.
  assert.equal(planUserUpdate(record({ functions: ['S1$ENS'] }), stored({ functions: ['S1$ENS'] })).diff, false);
  assert.equal(planUserUpdate(record({ functions: ['S1$DIR'] }), stored({ functions: ['S1$ENS'] })).diff, true);
  assert.equal(planUserUpdate(record(), stored({ functions: ['S1$ENS'] })).next.functions, '{"S1$ENS"}');
});

test('memberships: ids per account, records on one account add up, relatives follow their children', () => {
  const ids = { structure: (k: string) => `sid-${k}`, classId: (s: string, n: string) => `${s}/${n}`, groupId: (s: string, n: string) => `${s}/g/${n}` };
  const pupil = record();
  const alias = record({ externalId: 'aaf-old', structures: new Set(['S2']), classes: [], groups: [{ structure: 'S2', name: 'latin' }] });
  const parent = record({ externalId: 'aaf-p', profile: 'Relative', structures: new Set(), classes: [] });
  const userId = (ext: string) => (ext === 'aaf-p' ? 'p' : 'u1'); // aaf-old is an alias of u1
  const want = planMemberships([pupil, alias, parent], userId, ids, new Set(['p\tu1', 'p\toutside']), new Map([['outside', ['sid-S9']]]));
  assert.deepEqual(want.structures.get('u1'), ['sid-S1', 'sid-S2']);
  assert.deepEqual(want.classes.get('u1'), ['sid-S1/6A']);
  assert.deepEqual(want.groups.get('u1'), ['sid-S2/g/latin']);
  assert.deepEqual([...want.structures.get('p')!].sort(), ['sid-S1', 'sid-S2', 'sid-S9']);
  assert.equal(want.classes.get('p'), undefined);
});

test('memberships only AAF functions give: none when another record of the account names the structure otherwise', () => {
  const ids = { structure: (k: string) => `sid-${k}`, classId: (s: string, n: string) => `${s}/${n}`, groupId: (s: string, n: string) => `${s}/g/${n}` };
  // An AAF head of school in S1 and S2 by her functions only; an STS-web record of her (same account) names S2.
  const aaf = record({ profile: 'Personnel', structures: new Set(['S1', 'S2', 'S3']), classes: [], byFunction: ['S1', 'S2'] });
  const sts = record({ externalId: 'sts-1', source: 'sts', profile: 'Personnel', structures: new Set(['S2']), classes: [] });
  const want = planMemberships([aaf, sts], () => 'u1', ids, new Set(), new Map());
  assert.deepEqual([...want.byFunction], ['u1\tsid-S1']);
});

test('links: added when missing, removed only in the structures the run describes', () => {
  const have = [
    { user_id: 'u1', other: 'c1', structure_id: 'S1' },
    { user_id: 'u1', other: 'c2', structure_id: 'S1' },
    { user_id: 'u1', other: 'c9', structure_id: 'S9' },
  ];
  const { add, del } = planLinks(have, new Set(['u1\tc1', 'u1\tc3']), new Set(['S1']));
  assert.deepEqual(add, ['u1\tc3']);
  assert.deepEqual(del.map((d) => d.other), ['c2']); // c9 belongs to a structure the run does not describe
  assert.deepEqual(planLinks(have.slice(0, 1), new Set(['u1\tc1']), new Set(['S1'])), { add: [], del: [] });
  // An account whose file gives no classes in a structure loses none there, and gains those it is given.
  assert.deepEqual(planLinks(have, new Set(['u1\tc3']), new Set(['S1']), new Set(['u1\tS1'])), { add: ['u1\tc3'], del: [] });
  // Kept in another structure only: S1's list stands.
  assert.deepEqual(planLinks(have, new Set(['u1\tc3']), new Set(['S1', 'S9']), new Set(['u1\tS9'])).del.map((d) => d.other), ['c1', 'c2']);
});

test('attributes of AAF staff classes: each kept link whose attributes differ is rewritten; one the run gives none for keeps its own', () => {
  const teacher = record({
    profile: 'Teacher',
    classes: [{ structure: 'S1', name: '6A', from: ['ENTAuxEnsClassesMatieres', 'ENTAuxEnsClassesPrincipal'] }, { structure: 'S1', name: '6B' }],
  });
  const ids = { structure: (k: string) => `id-${k}`, classId: (s: string, n: string) => `${s}/${n}`, groupId: (s: string, n: string) => `${s}/g/${n}` };
  const want = planMemberships([teacher], () => 'u1', ids, new Set(), new Map());
  assert.deepEqual([...want.attributes], [['u1\tid-S1/6A', ['ENTAuxEnsClassesMatieres', 'ENTAuxEnsClassesPrincipal']]]);
  const wanted = new Set(want.classes.get('u1')!.map((o) => `u1\t${o}`));
  const have = [
    { user_id: 'u1', other: 'id-S1/6A', structure_id: 'id-S1', attrs: ['ENTAuxEnsClassesPrincipal'] },
    { user_id: 'u1', other: 'id-S1/6B', structure_id: 'id-S1', attrs: ['ENTAuxEnsClasses'] },
    // Not wanted: planLinks removes it, no attributes to write.
    { user_id: 'u1', other: 'id-S1/6C', structure_id: 'id-S1', attrs: ['ENTAuxEnsClassesPrincipal'] },
  ];
  // 6B: no attribute in the run (an STS-web or CSV record of her giving the class too): the stored ones stay.
  assert.deepEqual(planAttributes(have, wanted, want.attributes), [{ user_id: 'u1', other: 'id-S1/6A', attrs: ['ENTAuxEnsClassesMatieres', 'ENTAuxEnsClassesPrincipal'] }]);
  const same = [{ ...have[0], attrs: ['ENTAuxEnsClassesMatieres', 'ENTAuxEnsClassesPrincipal'] }, { ...have[1], attrs: null }];
  assert.deepEqual(planAttributes(same, wanted, want.attributes), []);
});

test('relations: removed when the run describes both people, or gives the child its whole list of parents of that source', () => {
  const have = [
    { parent_id: 'p1', child_id: 'c1', parent_source: 'aaf' }, // still named
    { parent_id: 'p2', child_id: 'c1', parent_source: 'aaf' }, // no longer named; c1 describes its AAF parents
    { parent_id: 'p3', child_id: 'c1', parent_source: 'csv' }, // another source's parent: stays
    { parent_id: 'p4', child_id: 'c2', parent_source: 'csv' }, // both in the run, no longer named
    { parent_id: 'p5', child_id: 'c3', parent_source: 'csv' }, // the parent is not in the run: stays
  ];
  const runSet = new Set(['p1', 'c1', 'p4', 'c2', 'c3']);
  const described = new Map([['c1', 'aaf']]);
  const { add, del } = planRelations(have, new Set(['p1\tc1', 'p6\tc3']), runSet, (x) => described.get(x.child_id) === x.parent_source);
  assert.deepEqual(add, ['p6\tc3']);
  assert.deepEqual(del.map((x) => `${x.parent_id}\t${x.child_id}`), ['p2\tc1', 'p4\tc2']);
});

