import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { dismissDuplicate, editDistance, findDuplicates, mergeUsers, type DuplicatePair } from '../src/directory/duplicates.js';
import type { Scope } from '../src/directory/scope.js';
import { DirectoryError } from '../src/directory/users.js';
import { testContext } from './helpers/db.js';
import { insertUser, relate, sampleDirectory } from './helpers/directory-sample.js';

type Ctx = Awaited<ReturnType<typeof testContext>>;
const ALL: Scope = { kind: 'all' };

function pairOf(pairs: DuplicatePair[], x: string, y: string): DuplicatePair | undefined {
  return pairs.find((p) => (p.keep.id === x && p.drop.id === y) || (p.keep.id === y && p.drop.id === x));
}

test('edit distance counts one typo or one transposition as 1', () => {
  assert.equal(editDistance('lefebvre', 'lefebre'), 1);
  assert.equal(editDistance('dupont', 'dupnot'), 1);
  assert.equal(editDistance('martin', 'martine'), 1);
  assert.equal(editDistance('martin', 'morton'), 2);
  assert.equal(editDistance('abc', 'abcdef', 1), 2);
});

describe('duplicate detection', () => {
  let ctx: Ctx;
  let s: Awaited<ReturnType<typeof sampleDirectory>>;
  const ids: Record<string, string> = {};
  let charlemagneAdmin: Scope;
  let voltaireAdmin: Scope;

  before(async () => {
    ctx = await testContext();
    const pool = ctx.database.pool;
    s = await sampleDirectory(pool);
    charlemagneAdmin = { kind: 'structures', structureIds: [s.structures.charlemagne] };
    voltaireAdmin = { kind: 'structures', structureIds: [s.structures.voltaire] };
    const c = { structureIds: [s.structures.charlemagne] };
    const add = async (key: string, spec: Parameters<typeof insertUser>[1]) => { ids[key] = await insertUser(pool, { ...c, ...spec }); };
    // Exact once accents, case and hyphens are folded.
    await add('exactA', { firstName: 'Éloïse', lastName: 'DUPONT-Durand', activated: true });
    await add('exactB', { firstName: 'eloise', lastName: 'Dupont Durand' });
    // First and last names swapped.
    await add('swapA', { firstName: 'Bertrand', lastName: 'Thomas', activated: true });
    await add('swapB', { firstName: 'Thomas', lastName: 'Bertrand' });
    // One typo in the last name, then in the first name.
    await add('typoLastA', { firstName: 'Nathan', lastName: 'Lefebvre' });
    await add('typoLastB', { firstName: 'Nathan', lastName: 'Lefebre' });
    await add('typoFirstA', { firstName: 'Mathilde', lastName: 'Rousseau' });
    await add('typoFirstB', { firstName: 'Matilde', lastName: 'Rousseau' });
    // Same names without and with the same birth date.
    await add('plainA', { firstName: 'Camille', lastName: 'Girard' });
    await add('plainB', { firstName: 'Camille', lastName: 'Girard' });
    await add('bornA', { firstName: 'Lucas', lastName: 'Fournier', birthDate: '2014-05-05' });
    await add('bornB', { firstName: 'Lucas', lastName: 'Fournier', birthDate: '2014-05-05' });
    // Same names and same email (parents).
    await add('mailA', { firstName: 'Manon', lastName: 'Lambert', profile: 'Relative', email: 'manon@example.fr', activated: true });
    await add('mailB', { firstName: 'Manon', lastName: 'LAMBERT', profile: 'Relative', email: ' Manon@Example.fr ' });
    // Married name: same first name and email only.
    await add('marriedA', { firstName: 'Sophie', lastName: 'Blanc', profile: 'Relative', email: 'sophie.b@example.fr' });
    await add('marriedB', { firstName: 'Sophie', lastName: 'Noir', profile: 'Relative', email: 'sophie.b@example.fr' });
    // Compound first name, same birth date.
    await add('compoundA', { firstName: 'Marie', lastName: 'Chevalier', birthDate: '2014-11-11', activated: true });
    await add('compoundB', { firstName: 'Marie-Anne', lastName: 'Chevalier', birthDate: '2014-11-11' });
    // Not duplicates: other profile, both activated, homonyms born on different days, twins.
    await add('profileA', { firstName: 'Alexis', lastName: 'Mercier' });
    await add('profileB', { firstName: 'Alexis', lastName: 'Mercier', profile: 'Teacher' });
    await add('activeA', { firstName: 'Chloé', lastName: 'Faure', activated: true });
    await add('activeB', { firstName: 'Chloe', lastName: 'Faure', activated: true });
    await add('homonymA', { firstName: 'Adam', lastName: 'Roux', birthDate: '2014-01-01' });
    await add('homonymB', { firstName: 'Adam', lastName: 'Roux', birthDate: '2015-07-07' });
    await add('twinA', { firstName: 'Louis', lastName: 'Garnier', birthDate: '2015-02-02' });
    await add('twinB', { firstName: 'Louise', lastName: 'Garnier', birthDate: '2015-02-02' });
    // A super admin's inactive double.
    await add('rootDouble', { firstName: 'Sam', lastName: 'Root', profile: 'Personnel' });
    // In Voltaire only.
    ids.voltA = await insertUser(pool, { firstName: 'Zoé', lastName: 'Lemaire', structureIds: [s.structures.voltaire] });
    ids.voltB = await insertUser(pool, { firstName: 'Zoe', lastName: 'Lemaire', structureIds: [s.structures.voltaire] });
  });
  after(() => ctx.close());

  test('finds folded, swapped, typo and email pairs, best first, with reasons', async () => {
    const pairs = await findDuplicates(ctx, ALL);
    const exact = pairOf(pairs, ids.exactA, ids.exactB)!;
    assert.ok(exact, 'accents/case/hyphens folded');
    assert.deepEqual(exact.reasons, ['same_names']);
    assert.equal(exact.keep.id, ids.exactA, 'the activated account is the one to keep');
    assert.deepEqual(pairOf(pairs, ids.swapA, ids.swapB)?.reasons, ['swapped_names']);
    assert.deepEqual(pairOf(pairs, ids.typoLastA, ids.typoLastB)?.reasons, ['last_name_typo']);
    assert.deepEqual(pairOf(pairs, ids.typoFirstA, ids.typoFirstB)?.reasons, ['first_name_typo']);
    assert.ok(pairOf(pairs, ids.voltA, ids.voltB));
    assert.ok(pairOf(pairs, ids.rootDouble, s.users.superAdmin), 'a super admin sees doubles of super admins');

    const plain = pairOf(pairs, ids.plainA, ids.plainB)!;
    const born = pairOf(pairs, ids.bornA, ids.bornB)!;
    const mail = pairOf(pairs, ids.mailA, ids.mailB)!;
    assert.ok(born.score > plain.score, 'same birth date boosts');
    assert.ok(born.reasons.includes('same_birth_date'));
    assert.ok(mail.score > plain.score, 'same email boosts');
    assert.ok(mail.reasons.includes('same_email'));
    assert.ok(pairOf(pairs, ids.marriedA, ids.marriedB)?.reasons.includes('same_first_name'));
    assert.deepEqual(pairOf(pairs, ids.compoundA, ids.compoundB)?.reasons, ['compound_first_name', 'same_birth_date']);

    const scores = pairs.map((p) => p.score);
    assert.deepEqual(scores, [...scores].sort((a, b) => b - a), 'sorted by score, best first');
    for (const p of pairs) assert.equal(p.keep.profile, p.drop.profile);
    assert.ok(pairs.every((p) => !(p.keep.activated && p.drop.activated)));
  });

  test('no pair across profiles, between two activated accounts, homonyms born apart or twins', async () => {
    const pairs = await findDuplicates(ctx, ALL, { minScore: 50 });
    assert.equal(pairOf(pairs, ids.profileA, ids.profileB), undefined);
    assert.equal(pairOf(pairs, ids.activeA, ids.activeB), undefined);
    assert.equal(pairOf(pairs, ids.homonymA, ids.homonymB), undefined);
    assert.equal(pairOf(pairs, ids.twinA, ids.twinB), undefined);
    const low = await findDuplicates(ctx, ALL, { minScore: 0 });
    assert.ok(pairOf(low, ids.homonymA, ids.homonymB)?.reasons.includes('different_birth_date'), 'still reachable with a lower threshold');
    assert.equal(pairOf(low, ids.activeA, ids.activeB), undefined);
    assert.equal(pairOf(low, ids.profileA, ids.profileB), undefined);
  });

  test('scope: local admins see their structure only, never super admins; teachers may not', async () => {
    const mine = await findDuplicates(ctx, charlemagneAdmin);
    assert.ok(pairOf(mine, ids.exactA, ids.exactB));
    assert.equal(pairOf(mine, ids.voltA, ids.voltB), undefined);
    assert.equal(pairOf(mine, ids.rootDouble, s.users.superAdmin), undefined);
    const theirs = await findDuplicates(ctx, voltaireAdmin);
    assert.ok(pairOf(theirs, ids.voltA, ids.voltB));
    assert.equal(pairOf(theirs, ids.exactA, ids.exactB), undefined);
    assert.deepEqual(await findDuplicates(ctx, voltaireAdmin, { structureId: s.structures.charlemagne }), []);
    const filtered = await findDuplicates(ctx, ALL, { structureId: s.structures.voltaire });
    assert.ok(filtered.length >= 1 && filtered.every((p) => p.keep.structures.includes('Collège Voltaire')));
    await assert.rejects(findDuplicates(ctx, { kind: 'classes', classIds: [s.classes.cm1a] }), (e) => e instanceof DirectoryError && e.code === 'forbidden');
  });

  test('dismissing hides the pair for good, whatever the argument order', async () => {
    await assert.rejects(dismissDuplicate(ctx, voltaireAdmin, ids.plainB, ids.plainA, null), (e) => e instanceof DirectoryError && e.code === 'not_found');
    await dismissDuplicate(ctx, charlemagneAdmin, ids.plainB, ids.plainA, s.users.director);
    await dismissDuplicate(ctx, charlemagneAdmin, ids.plainA, ids.plainB, s.users.director);
    const { rows } = await ctx.database.pool.query('SELECT user_a < user_b AS ordered FROM duplicate_dismissals');
    assert.deepEqual(rows, [{ ordered: true }]);
    assert.equal(pairOf(await findDuplicates(ctx, ALL, { minScore: 0 }), ids.plainA, ids.plainB), undefined);
    const audit = await ctx.database.pool.query(`SELECT count(*)::int AS n FROM audit WHERE action = 'duplicate.dismiss'`);
    assert.equal(audit.rows[0].n, 1);
  });
});

describe('merging duplicates', () => {
  let ctx: Ctx;
  let s: Awaited<ReturnType<typeof sampleDirectory>>;
  before(async () => {
    ctx = await testContext();
    s = await sampleDirectory(ctx.database.pool);
  });
  after(() => ctx.close());

  test('keeps the activated account even when passed the other way round, moves every link, deletes the other', async () => {
    const pool = ctx.database.pool;
    const { charlemagne, voltaire } = s.structures;
    const active = await insertUser(pool, {
      firstName: 'Emma', lastName: 'Robert', activated: true, externalId: 'AAF-KEEP',
      structureIds: [charlemagne], classIds: [s.classes.cm1a], groupIds: [s.groups.chorale],
    });
    const inactive = await insertUser(pool, {
      firstName: 'Emma', lastName: 'ROBERT', externalId: 'AAF-DROP', birthDate: '2015-04-04', email: 'emma@example.fr', phone: '06 12 34 56 78',
      structureIds: [charlemagne, voltaire], classIds: [s.classes.cm1a, s.classes.sixieme], groupIds: [s.groups.chorale],
    });
    const p1 = await insertUser(pool, { firstName: 'Père', lastName: 'Robert', profile: 'Relative', structureIds: [charlemagne] });
    const p2 = await insertUser(pool, { firstName: 'Mère', lastName: 'Robert', profile: 'Relative', structureIds: [charlemagne] });
    await relate(pool, p1, active);
    await relate(pool, p1, inactive);
    await relate(pool, p2, inactive);
    const other = await insertUser(pool, { firstName: 'Emma', lastName: 'Robertt', structureIds: [charlemagne] });
    await pool.query('INSERT INTO duplicate_dismissals (user_a, user_b) VALUES (least($1::uuid, $2::uuid), greatest($1::uuid, $2::uuid))', [inactive, other]);

    const result = await mergeUsers(ctx, ALL, inactive, active, s.users.superAdmin);
    assert.deepEqual(result, { keptId: active, droppedId: inactive, swapped: true });

    assert.equal((await pool.query('SELECT 1 FROM users WHERE id = $1', [inactive])).rowCount, 0);
    const kept = (await pool.query('SELECT * FROM users WHERE id = $1', [active])).rows[0];
    assert.equal(kept.external_id, 'AAF-KEEP');
    assert.equal(kept.email, 'emma@example.fr');
    assert.equal(kept.phone, '06 12 34 56 78');
    assert.equal(kept.birth_date, '2015-04-04');
    const list = async (sql: string) => (await pool.query(sql, [active])).rows.map((r) => Object.values(r)[0]).sort();
    assert.deepEqual(await list('SELECT structure_id FROM user_structures WHERE user_id = $1'), [charlemagne, voltaire].sort());
    assert.deepEqual(await list('SELECT class_id FROM user_classes WHERE user_id = $1'), [s.classes.cm1a, s.classes.sixieme].sort());
    assert.deepEqual(await list('SELECT group_id FROM user_groups WHERE user_id = $1'), [s.groups.chorale]);
    assert.deepEqual(await list('SELECT parent_id FROM relations WHERE child_id = $1'), [p1, p2].sort());
    const alias = (await pool.query('SELECT user_id FROM user_aliases WHERE external_id = $1', ['AAF-DROP'])).rows[0];
    assert.equal(alias.user_id, active, 'the dropped feed id maps to the kept account');
    const dismissed = await pool.query('SELECT 1 FROM duplicate_dismissals WHERE $1 IN (user_a, user_b) AND $2 IN (user_a, user_b)', [active, other]);
    assert.equal(dismissed.rowCount, 1, 'dismissals follow the kept account');
    const audit = (await pool.query(`SELECT actor_id, details FROM audit WHERE action = 'user.merge'`)).rows;
    assert.equal(audit.length, 1);
    assert.equal(audit[0].actor_id, s.users.superAdmin);
    assert.equal(audit[0].details.dropped.externalId, 'AAF-DROP');
    assert.equal(audit[0].details.swapped, true);
  });

  test('relatives: children and local-admin rights move (a super admin’s merge); a kept account without feed id adopts the dropped one', async () => {
    const pool = ctx.database.pool;
    const { charlemagne } = s.structures;
    const keep = await insertUser(pool, { firstName: 'Nadia', lastName: 'Simon', profile: 'Relative', structureIds: [charlemagne] });
    const drop = await insertUser(pool, { firstName: 'Nadia', lastName: 'Simon', profile: 'Relative', externalId: 'AAF-NADIA', structureIds: [charlemagne], adminOf: [charlemagne] });
    await relate(pool, keep, s.users.lea);
    await relate(pool, drop, s.users.lea);
    await relate(pool, drop, s.users.hugo);
    // An account holding admin rights is read-only to a local admin, even of its own school: only a super admin merges it.
    const local: Scope = { kind: 'structures', structureIds: [charlemagne], userId: s.users.director };
    await assert.rejects(mergeUsers(ctx, local, keep, drop, s.users.director), (e) => e instanceof DirectoryError && e.code === 'forbidden' && /lecture seule/.test(e.message));
    const r = await mergeUsers(ctx, ALL, keep, drop, s.users.superAdmin);
    assert.deepEqual(r, { keptId: keep, droppedId: drop, swapped: false });
    const children = (await pool.query('SELECT child_id FROM relations WHERE parent_id = $1', [keep])).rows.map((x) => x.child_id).sort();
    assert.deepEqual(children, [s.users.lea, s.users.hugo].sort());
    const kept = (await pool.query('SELECT external_id FROM users WHERE id = $1', [keep])).rows[0];
    assert.equal(kept.external_id, 'AAF-NADIA');
    assert.equal((await pool.query('SELECT 1 FROM local_admins WHERE user_id = $1', [keep])).rowCount, 1);
  });

  test('a local admin never merges away an account another school still has, nor into it: 403, nothing changes', async () => {
    const pool = ctx.database.pool;
    const { charlemagne, voltaire } = s.structures;
    // A teacher of both schools, never activated, and the local admin's own activated account (same names).
    const shared = await insertUser(pool, { firstName: 'Yves', lastName: 'Marin', profile: 'Teacher', structureIds: [charlemagne, voltaire] });
    const own = await insertUser(pool, { firstName: 'Yves', lastName: 'Marin', profile: 'Teacher', activated: true, structureIds: [charlemagne] });
    const local: Scope = { kind: 'structures', structureIds: [charlemagne] };
    for (const [keep, drop] of [[own, shared], [shared, own]]) {
      await assert.rejects(mergeUsers(ctx, local, keep, drop, own), (e) => e instanceof DirectoryError && e.code === 'forbidden' && /aussi rattaché à un établissement que vous n’administrez pas/.test(e.message));
    }
    assert.equal((await pool.query('SELECT count(*)::int AS n FROM users WHERE id = ANY($1::uuid[])', [[shared, own]])).rows[0].n, 2);
    assert.equal((await pool.query('SELECT count(*)::int AS n FROM user_structures WHERE user_id = $1 AND structure_id = $2', [own, voltaire])).rows[0].n, 0, 'not in the other school');
    // The super admin (every school) still merges them.
    assert.equal((await mergeUsers(ctx, ALL, own, shared, null)).droppedId, shared);
  });

  test('refuses two activated accounts (in French), other profiles, and users out of scope; nothing changes', async () => {
    const pool = ctx.database.pool;
    const { charlemagne } = s.structures;
    const a = await insertUser(pool, { firstName: 'Rose', lastName: 'Leroy', activated: true, structureIds: [charlemagne] });
    const b = await insertUser(pool, { firstName: 'Rose', lastName: 'Leroy', activated: true, structureIds: [charlemagne] });
    await assert.rejects(mergeUsers(ctx, ALL, a, b, null), (e) => e instanceof DirectoryError && e.code === 'conflict' && /déjà activés/.test(e.message));
    const t = await insertUser(pool, { firstName: 'Rose', lastName: 'Leroy', profile: 'Teacher', structureIds: [charlemagne] });
    await assert.rejects(mergeUsers(ctx, ALL, a, t, null), (e) => e instanceof DirectoryError && /même profil/.test(e.message));
    const c = await insertUser(pool, { firstName: 'Rose', lastName: 'Leroy', structureIds: [charlemagne] });
    await assert.rejects(mergeUsers(ctx, { kind: 'structures', structureIds: [s.structures.voltaire] }, a, c, null), (e) => e instanceof DirectoryError && e.code === 'not_found');
    await assert.rejects(mergeUsers(ctx, { kind: 'classes', classIds: [s.classes.cm1a] }, a, c, null), (e) => e instanceof DirectoryError && e.code === 'forbidden');
    const left = await pool.query('SELECT count(*)::int AS n FROM users WHERE id = ANY($1::uuid[])', [[a, b, t, c]]);
    assert.equal(left.rows[0].n, 4);
  });
});
