import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { Scope } from '../src/directory/scope.js';
import { structureHome } from '../src/directory/stats.js';
import { listClasses, listLevels, listStructures } from '../src/directory/structures.js';
import { testContext } from './helpers/db.js';
import { insertClass, insertUser, sampleDirectory } from './helpers/directory-sample.js';

type Ctx = Awaited<ReturnType<typeof testContext>>;
const ALL: Scope = { kind: 'all' };

describe('structures and their figures', () => {
  let ctx: Ctx;
  let s: Awaited<ReturnType<typeof sampleDirectory>>;
  let charlemagneAdmin: Scope;
  let teacher: Scope;

  before(async () => {
    ctx = await testContext();
    s = await sampleDirectory(ctx.database.pool);
    charlemagneAdmin = { kind: 'structures', structureIds: [s.structures.charlemagne] };
    teacher = { kind: 'classes', classIds: [s.classes.cm1a] };
    // "CM1 10" sorts after "CM1 9" (natural order), an empty class shows a zero rate.
    const c9 = await insertClass(ctx.database.pool, s.structures.charlemagne, 'CM1 9');
    await insertClass(ctx.database.pool, s.structures.charlemagne, 'CM1 10');
    for (const activated of [true, true, false]) {
      await insertUser(ctx.database.pool, { firstName: 'É', lastName: 'Lève', activated, structureIds: [s.structures.charlemagne], classIds: [c9] });
    }
  });
  after(() => ctx.close());

  test('home figures: accounts and activated per profile, activation rate per class', async () => {
    const home = (await structureHome(ctx, charlemagneAdmin, s.structures.charlemagne))!;
    assert.equal(home.structure.name, 'École Charlemagne');
    assert.deepEqual(home.profiles.map((p) => [p.profile, p.total, p.activated]), [
      ['Student', 6, 3],
      ['Relative', 1, 1],
      ['Teacher', 1, 1],
      ['Personnel', 1, 1], // the super admin attached to the school is not counted
      ['Guest', 0, 0],
    ]);
    assert.equal(home.total, 9);
    assert.equal(home.activated, 6);
    assert.deepEqual(home.classes.map((c) => [c.name, c.levelName, c.students, c.activated, Math.round(c.rate * 100)]), [
      ['CM1 9', null, 3, 2, 67],
      ['CM1 10', null, 0, 0, 0],
      ['CM1 A', 'CM1', 2, 1, 50], // the teacher of CM1 A is not a student
      ['CM2 B', 'CM2', 1, 0, 0],
    ]);
    assert.equal(await structureHome(ctx, { kind: 'structures', structureIds: [s.structures.voltaire] }, s.structures.charlemagne), null);
    assert.equal(await structureHome(ctx, teacher, s.structures.charlemagne), null);
    assert.equal(await structureHome(ctx, ALL, '00000000-0000-4000-8000-000000000000'), null);
    assert.ok(await structureHome(ctx, ALL, s.structures.voltaire));
  });

  test('structures, classes and levels as far as the scope reaches', async () => {
    assert.deepEqual((await listStructures(ctx, ALL)).map((x) => x.name), ['Collège Voltaire', 'École Charlemagne']);
    const mine = await listStructures(ctx, charlemagneAdmin);
    assert.deepEqual(mine.map((x) => [x.name, x.uai, x.classCount]), [['École Charlemagne', '0750001A', 4]]);
    assert.deepEqual((await listStructures(ctx, teacher)).map((x) => x.name), ['École Charlemagne']);
    // Accounts per school, super admins and pre-deleted accounts aside (as the school's home: one of each is attached to
    // Charlemagne): as a join of every membership to its account would count them, without that join.
    const pre = await ctx.database.pool.query(
      `UPDATE users SET pre_deleted_at = now() WHERE id = (SELECT us.user_id FROM user_structures us JOIN users u ON u.id = us.user_id JOIN structures s ON s.id = us.structure_id
         WHERE s.name = 'École Charlemagne' AND NOT u.is_super_admin ORDER BY u.login LIMIT 1) RETURNING id`,
    );
    assert.equal(pre.rowCount, 1, 'a pre-deleted account in Charlemagne');
    const expected = await ctx.database.pool.query(
      `SELECT s.name, count(u.id) FILTER (WHERE NOT u.is_super_admin AND u.pre_deleted_at IS NULL)::int AS n, bool_or(u.is_super_admin) AS has_super
         FROM structures s LEFT JOIN user_structures us ON us.structure_id = s.id LEFT JOIN users u ON u.id = us.user_id
        GROUP BY s.name ORDER BY s.name`,
    );
    assert.ok(expected.rows.some((r) => r.has_super), 'a super admin is attached to a school');
    assert.deepEqual((await listStructures(ctx, ALL)).map((x) => [x.name, x.userCount]), expected.rows.map((r) => [r.name, r.n]));
    assert.deepEqual(
      (await listStructures(ctx, charlemagneAdmin)).map((x) => x.userCount),
      [expected.rows.find((r) => r.name === 'École Charlemagne')!.n],
      'the pre-deleted account is not counted',
    );
    await ctx.database.pool.query('UPDATE users SET pre_deleted_at = NULL WHERE id = $1', [pre.rows[0].id]);

    const classes = await listClasses(ctx, charlemagneAdmin);
    assert.deepEqual(classes.map((c) => [c.name, c.levelName, c.studentCount]), [
      ['CM1 9', null, 3], ['CM1 10', null, 0], ['CM1 A', 'CM1', 2], ['CM2 B', 'CM2', 1],
    ]);
    assert.deepEqual((await listClasses(ctx, charlemagneAdmin, s.structures.voltaire)), []);
    assert.deepEqual((await listClasses(ctx, ALL, s.structures.voltaire)).map((c) => c.name), ['6e1']);
    assert.deepEqual((await listClasses(ctx, teacher)).map((c) => c.name), ['CM1 A']);
    assert.deepEqual((await listClasses(ctx, { kind: 'self', userId: s.users.ines })).map((c) => c.name), ['CM2 B']);

    assert.deepEqual((await listLevels(ctx, charlemagneAdmin)).map((l) => [l.name, l.classCount]), [['CM1', 1], ['CM2', 1]]);
    assert.deepEqual(await listLevels(ctx, { kind: 'structures', structureIds: [s.structures.voltaire] }), []);
    assert.deepEqual((await listLevels(ctx, teacher)).map((l) => l.name), ['CM1']);
  });

  // Last: it fills the directory with families of no school.
  test("a school's accounts: its relatives are probed in the relations' index, not read from all of them", async () => {
    const { structureAccountsSql } = await import('../src/directory/policies.js');
    const pool = ctx.database.pool;
    const accounts = async () =>
      (await pool.query(`SELECT u.login FROM ${structureAccountsSql('$1::uuid')} h JOIN users u ON u.id = h.id ORDER BY u.login`, [s.structures.charlemagne])).rows.map((r) => r.login);
    const before = await accounts();
    assert.ok(before.length > 0);
    // A région's relations, none of them this school's: the planner would rather read them all than probe.
    await pool.query(`INSERT INTO users (profile, first_name, last_name, login)
      SELECT CASE WHEN g % 2 = 0 THEN 'Student' ELSE 'Relative' END, 'A', 'B', 'famille' || g FROM generate_series(1, 40000) g`);
    await pool.query(`INSERT INTO relations (parent_id, child_id)
      SELECT p.id, c.id FROM users p JOIN users c ON c.login = 'famille' || (substr(p.login, 8)::int + 1) WHERE p.login LIKE 'famille%' AND p.profile = 'Relative'`);
    await pool.query('ANALYZE');
    assert.deepEqual(await accounts(), before);
    const plan = (await pool.query(`EXPLAIN SELECT count(*) FROM ${structureAccountsSql('$1::uuid')} h`, [s.structures.charlemagne])).rows.map((r) => r['QUERY PLAN']).join('\n');
    assert.match(plan, /(Index (Only )?Scan using|Bitmap Index Scan on) relations_child\w*/, plan);
    assert.doesNotMatch(plan, /Seq Scan on relations/, plan);
  });
});
