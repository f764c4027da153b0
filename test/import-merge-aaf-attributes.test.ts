// Two records of one person in a run (aaf.ts mergeUser: an AAF staff record and another of the same key) keep the AAF
// attributes that gave each class and group (ClassRef.from, user_classes.aaf_attributes): whichever record was read
// first. They were kept only when both records gave some, so an AAF record read before the other lost them — the
// membership then stored without attributes, and the next delta replacing ENTAuxEnsClassesPrincipal alone kept a
// former head-teacher class again.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { mergeUser } from '../src/import/aaf.js';
import type { UserRecord } from '../src/import/types.js';

function teacher(source: 'aaf' | 'sts', classes: UserRecord['classes'], line: number): UserRecord {
  return {
    externalId: 'T1', source, origin: 'feed', profile: 'Teacher', title: null, firstName: 'Anne', lastName: 'MARTIN', birthDate: '1980-01-01',
    email: null, phone: null, structures: new Set(['0776001B']), classes, groups: [], file: `${source}.xml`, line,
  } as UserRecord;
}

for (const aafFirst of [true, false]) {
  test(`a class both records give keeps the AAF attributes (AAF record read ${aafFirst ? 'first' : 'second'})`, () => {
    const aaf = teacher('aaf', [{ structure: '0776001B', name: '3EME A', from: ['ENTAuxEnsClassesPrincipal'] }, { structure: '0776001B', name: '4EME B', from: ['ENTAuxEnsClassesMatieres'] }], 1);
    const other = teacher('sts', [{ structure: '0776001B', name: '3EME A' }], 2);
    const users = new Map<string, UserRecord>();
    for (const r of aafFirst ? [aaf, other] : [other, aaf]) mergeUser(users, r);
    const merged = users.get('T1')!;
    const byName = new Map(merged.classes.map((c) => [c.name, c.from]));
    assert.deepEqual(byName.get('3EME A'), ['ENTAuxEnsClassesPrincipal']);
    assert.deepEqual(byName.get('4EME B'), ['ENTAuxEnsClassesMatieres']);
  });
}

test('a class two AAF records give comes from the attributes of both, in the attributes’ order', () => {
  const a = teacher('aaf', [{ structure: '0776001B', name: '3EME A', from: ['ENTAuxEnsClassesPrincipal'] }], 1);
  const b = teacher('aaf', [{ structure: '0776001B', name: '3EME A', from: ['ENTAuxEnsClassesMatieres'] }], 2);
  const users = new Map<string, UserRecord>();
  mergeUser(users, a);
  mergeUser(users, b);
  assert.deepEqual(users.get('T1')!.classes[0].from, ['ENTAuxEnsClassesMatieres', 'ENTAuxEnsClassesPrincipal']);
});
