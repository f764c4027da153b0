import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import type { Scope } from '../src/directory/scope.js';
import { countSelection, cursorOf, selectAccounts, selectPage, streamSelection } from '../src/publipostage/select.js';
import { parisWallTime, SelectionSchema } from '../src/publipostage/selection.js';
import { newAccountsLink } from '../src/web/console/views/import.js';
import { testContext } from './helpers/db.js';
import { insertSample, SAMPLE_USERS, type Sample } from './helpers/sample.js';

let ctx: Awaited<ReturnType<typeof testContext>>;
let s: Sample;
const ALL: Scope = { kind: 'all' };

before(async () => {
  ctx = await testContext();
  s = await insertSample(ctx);
});
after(() => ctx.close());

// These tests are about the other filters: the distribution filters are opened (their defaults: distribution.test.ts).
const sel = (input: Record<string, unknown> = {}) => SelectionSchema.parse({ preDeletion: 'all', blocked: 'all', ...input });
/** Keys of the sample users a selection returns, in order. */
async function keys(input: Record<string, unknown>, scope: Scope = ALL): Promise<string[]> {
  const byId = new Map(Object.entries(s.users).map(([k, id]) => [id, k]));
  return (await selectAccounts(ctx, sel(input), scope)).map((r) => byId.get(r.id)!);
}
const sorted = (a: string[]) => [...a].sort();

test('no filter selects everyone, counts agree', async () => {
  const all = await keys({});
  assert.equal(all.length, SAMPLE_USERS.length);
  const withoutEmail = SAMPLE_USERS.filter((u) => !u.email).length;
  // Pre-deleted accounts are in a selection by default (Nina): counted apart too, for the users list's note.
  const preDeleted = SAMPLE_USERS.filter((u) => u.preDeleted).length;
  assert.deepEqual(await countSelection(ctx, sel({}), ALL), { total: SAMPLE_USERS.length, withoutEmail, preDeleted, unmailable: 0 });
});

test('query-string form: comma-separated lists', () => {
  const parsed = SelectionSchema.parse({ profiles: 'Student,Relative', classIds: '', activation: 'inactive' });
  assert.deepEqual(parsed.profiles, ['Student', 'Relative']);
  assert.deepEqual(parsed.classIds, []);
  assert.throws(() => SelectionSchema.parse({ profiles: 'Student,Pirate' }));
});

test('profiles filter', async () => {
  assert.deepEqual(sorted(await keys({ profiles: ['Relative'] })), ['claire', 'paul', 'sophie']);
  assert.deepEqual(sorted(await keys({ profiles: 'Teacher,Guest' })), ['anne', 'guest']);
});

test('classes filter: members and the parents of members', async () => {
  assert.deepEqual(sorted(await keys({ classIds: [s.classes['6A']] })), ['anne', 'claire', 'emile', 'paul', 'zoe']);
  assert.deepEqual(sorted(await keys({ classIds: [s.classes['5A']], profiles: ['Student'] })), ['leo', 'nina']);
  assert.deepEqual(sorted(await keys({ classIds: [s.classes['6B'], s.classes['2NDE1']], profiles: ['Relative'] })), ['sophie']);
});

test('levels filter', async () => {
  assert.deepEqual(sorted(await keys({ levelIds: [s.levels['5EME']] })), ['leo', 'nina', 'paul']);
  assert.deepEqual(sorted(await keys({ levelIds: [s.levels['6EME']], classIds: [s.classes['6B']], profiles: ['Student'] })), ['aslog', 'eckert', 'eclair', 'hugo']);
});

test('explicit user ids', async () => {
  assert.deepEqual(sorted(await keys({ userIds: [s.users.zoe, s.users.marc] })), ['marc', 'zoe']);
});

test('activation filter', async () => {
  assert.deepEqual(sorted(await keys({ activation: 'active' })), ['claire', 'emile', 'marc']);
  const inactive = await keys({ activation: 'inactive' });
  assert.equal(inactive.length, SAMPLE_USERS.length - 3);
  assert.ok(!inactive.includes('emile'));
});

test('email filter', async () => {
  assert.deepEqual(sorted(await keys({ email: 'with' })), ['anne', 'claire', 'emile', 'marc', 'paul']);
  const without = await keys({ email: 'without' });
  assert.equal(without.length, SAMPLE_USERS.length - 5);
  const { preDeleted: _, ...counts } = await countSelection(ctx, sel({ email: 'without' }), ALL);
  assert.deepEqual(counts, { total: without.length, withoutEmail: without.length, unmailable: 0 });
});

test('local admins filter', async () => {
  assert.deepEqual(await keys({ localAdmins: 'only' }), ['marc']);
  assert.ok(!(await keys({ localAdmins: 'exclude' })).includes('marc'));
  assert.equal((await keys({ localAdmins: 'exclude' })).length, SAMPLE_USERS.length - 1);
});

test('creation date filters: before (exclusive) and since (inclusive)', async () => {
  assert.deepEqual(sorted(await keys({ createdBefore: '2023-01-01' })), ['marc', 'nina']);
  assert.deepEqual(sorted(await keys({ createdAfter: '2025-01-01' })), ['guest']);
  assert.deepEqual(sorted(await keys({ createdAfter: '2023-09-01', createdBefore: '2024-01-01' })), ['claire', 'emile']);
  assert.deepEqual(sorted(await keys({ createdAfter: '2024-09-05' })), ['guest', 'hostile', 'jules', 'sophie']);
});

test('pre-deletion and origin filters', async () => {
  assert.deepEqual(await keys({ preDeletion: 'pending' }), ['nina']);
  assert.equal((await keys({ preDeletion: 'not' })).length, SAMPLE_USERS.length - 1);
  assert.deepEqual(sorted(await keys({ origin: 'manual' })), ['guest', 'marc']);
  assert.equal((await keys({ origin: 'feed' })).length, SAMPLE_USERS.length - 2);
});

test('search on names, login and email; LIKE wildcards are literal', async () => {
  assert.deepEqual(sorted(await keys({ search: 'martin' })), ['leo', 'paul', 'zoe']);
  assert.deepEqual(await keys({ search: 'Zoé MAR' }), ['zoe']);
  assert.deepEqual(await keys({ search: 'ac-test' }), ['marc', 'anne']);
  assert.deepEqual(await keys({ search: '%' }), []);
  // A word matches within one name, never across the two: « nzo » is in neither MARTIN nor Zoé.
  assert.deepEqual(await keys({ search: 'nzo' }), []);
  assert.deepEqual(await keys({ search: 'tinzo' }), []);
});

test('structure filter: its accounts and the parents of its students', async () => {
  assert.deepEqual(sorted(await keys({ structureId: s.structures.S2 })), ['hostile', 'jules', 'sophie']);
});

test('scope: a teacher sees the students of their classes and those students’ parents only', async () => {
  const teacher: Scope = { kind: 'classes', classIds: [s.classes['6A']] };
  assert.deepEqual(sorted(await keys({}, teacher)), ['claire', 'emile', 'paul', 'zoe']);
  // Asking for more than the scope gives no more.
  assert.deepEqual(sorted(await keys({ classIds: [s.classes['5A']] }, teacher)), ['paul']);
  assert.deepEqual((await countSelection(ctx, sel({}), teacher)).total, 4);
});

test('scope: a local admin sees only their structure', async () => {
  const admin: Scope = { kind: 'structures', structureIds: [s.structures.S2] };
  assert.deepEqual(sorted(await keys({}, admin)), ['hostile', 'jules', 'sophie']);
  assert.deepEqual(await keys({ structureId: s.structures.S1 }, admin), []);
  // Their own school selected: the same accounts (the scope's test is then implied by the school's), and never a super admin.
  assert.deepEqual(sorted(await keys({ structureId: s.structures.S2 }, admin)), ['hostile', 'jules', 'sophie']);
  const root = await ctx.database.pool.query(
    `INSERT INTO users (profile, first_name, last_name, login, is_super_admin) VALUES ('Personnel', 'Root', 'ADMIN', 'root.scope', true) RETURNING id`);
  await ctx.database.pool.query(`INSERT INTO user_structures (user_id, structure_id) VALUES ($1, $2)`, [root.rows[0].id, s.structures.S2]);
  try {
    assert.deepEqual(sorted(await keys({ structureId: s.structures.S2 }, admin)), ['hostile', 'jules', 'sophie']);
    assert.equal((await selectAccounts(ctx, sel({ structureId: s.structures.S2 }), ALL)).some((r) => r.login === 'root.scope'), true);
  } finally {
    await ctx.database.pool.query(`DELETE FROM users WHERE id = $1`, [root.rows[0].id]);
  }
  assert.deepEqual(await keys({}, { kind: 'self', userId: s.users.anne }), ['anne']);
});

test('rows carry code, classes, children, structure; expired codes are not returned', async () => {
  const rows = await selectAccounts(ctx, sel({}), ALL);
  const by = new Map(rows.map((r) => [r.id, r]));
  const zoe = by.get(s.users.zoe)!;
  assert.equal(zoe.code, s.codes.zoe);
  assert.equal(zoe.activated, false);
  assert.deepEqual(zoe.classes, ['6A']);
  assert.equal(zoe.structureName, 'Collège Jean Moulin');
  const paul = by.get(s.users.paul)!;
  assert.deepEqual(paul.children, [
    { firstName: 'Léo', lastName: 'MARTIN', classes: ['5A'] },
    { firstName: 'Zoé', lastName: 'MARTIN', classes: ['6A'] },
  ]);
  assert.deepEqual(paul.classes, ['5A', '6A']);
  assert.equal(paul.structureName, 'Collège Jean Moulin');
  const emile = by.get(s.users.emile)!;
  assert.equal(emile.activated, true);
  assert.equal(emile.code, null);
  const hugo = by.get(s.users.hugo)!;
  assert.equal(hugo.code, null);
  assert.equal(hugo.codeExpired, true);
  assert.ok(hugo.codeExpiresAt && hugo.codeExpiresAt < new Date());
  assert.equal(by.get(s.users.guest)!.code, null);
  assert.equal(by.get(s.users.guest)!.codeExpired, false);
  assert.equal(by.get(s.users.marc)!.isLocalAdmin, true);
  assert.equal(by.get(s.users.nina)!.preDeleted, true);
});

test('alphabetical order is French: accents sort with their base letter', async () => {
  const order = await keys({ profiles: ['Student'], structureId: s.structures.S1 });
  // DURAND < Eckert < Éclair < MARTIN Léo < MARTIN Zoé < PETIT < ROUX < Ŝtěpán
  assert.deepEqual(order, ['emile', 'eckert', 'eclair', 'leo', 'zoe', 'hugo', 'nina', 'aslog']);
});

test('sort by profile, then name', async () => {
  const order = await keys({ sort: 'profile', structureId: s.structures.S1, profiles: ['Relative', 'Teacher', 'Student', 'Personnel'] });
  const profiles = order.map((k) => SAMPLE_USERS.find((u) => u.key === k)!.profile);
  assert.deepEqual([...new Set(profiles)], ['Student', 'Relative', 'Teacher', 'Personnel']);
  assert.deepEqual(order.slice(8), ['claire', 'paul', 'anne', 'marc']);
});

test('sort by class, then name; parents filed with their children, inside the class filter', async () => {
  const order = await keys({ sort: 'class', structureId: s.structures.S1 });
  // 5A: Léo, Paul (children 5A+6A -> 5A first), Nina ; 6A: Claire, Émile, Anne, Zoé ; 6B: … ; no class last.
  assert.deepEqual(order, ['leo', 'paul', 'nina', 'claire', 'emile', 'anne', 'zoe', 'eckert', 'eclair', 'hugo', 'aslog', 'marc', 'guest']);
  const rows = await selectAccounts(ctx, sel({ sort: 'class', classIds: [s.classes['6A']] }), ALL);
  const paul = rows.find((r) => r.id === s.users.paul)!;
  assert.equal(paul.groupClass, '6A', 'filed under the class asked for');
});

test('preview page: same order as the full selection, paged', async () => {
  for (const sort of ['alpha', 'profile', 'class'] as const) {
    const full: string[] = (await selectAccounts(ctx, sel({ sort }), ALL)).map((r) => r.id);
    const p1: string[] = (await selectPage(ctx, sel({ sort }), ALL, { limit: 5, offset: 0 })).map((r) => r.id);
    const p2: string[] = (await selectPage(ctx, sel({ sort }), ALL, { limit: 5, offset: 5 })).map((r) => r.id);
    assert.deepEqual([...p1, ...p2], full.slice(0, 10), sort);
  }
  const page = await selectPage(ctx, sel({ profiles: ['Relative'] }), ALL, { limit: 10, offset: 0 });
  assert.equal(page.find((r) => r.id === s.users.paul)!.children.length, 2);
});

test('a preview page carries the same rows as the full selection (details read per row there, set-wise here)', async () => {
  // A parent of children in two structures and a pupil in two classes: the filing class and the printed school
  // depend on the filter and the scope.
  await ctx.database.pool.query(`INSERT INTO user_structures (user_id, structure_id) VALUES ($1, $2)`, [s.users.leo, s.structures.S2]);
  await ctx.database.pool.query(`INSERT INTO user_classes (user_id, class_id) VALUES ($1, $2)`, [s.users.leo, s.classes['2NDE1']]);
  await ctx.database.pool.query(`INSERT INTO relations (parent_id, child_id) VALUES ($1, $2)`, [s.users.paul, s.users.jules]);
  try {
    const scopes: Scope[] = [ALL, { kind: 'structures', structureIds: [s.structures.S2] }, { kind: 'classes', classIds: [s.classes['2NDE1'], s.classes['5A']] }];
    for (const sort of ['alpha', 'profile', 'class', 'family'] as const) {
      for (const input of [{ sort }, { sort, external: 'info' }, { sort, classIds: [s.classes['2NDE1']] }, { sort, structureId: s.structures.S2 }, { sort, levelIds: [s.levels['5EME']] }]) {
        for (const scope of scopes) {
          const full = await selectAccounts(ctx, sel(input), scope);
          const page = await selectPage(ctx, sel(input), scope, { limit: 100 });
          assert.deepEqual(page, full, `${JSON.stringify(input)} ${scope.kind}`);
        }
      }
    }
  } finally {
    await ctx.database.pool.query(`DELETE FROM relations WHERE parent_id = $1 AND child_id = $2`, [s.users.paul, s.users.jules]);
    await ctx.database.pool.query(`DELETE FROM user_classes WHERE user_id = $1 AND class_id = $2`, [s.users.leo, s.classes['2NDE1']]);
    await ctx.database.pool.query(`DELETE FROM user_structures WHERE user_id = $1 AND structure_id = $2`, [s.users.leo, s.structures.S2]);
  }
});

test('keyset pages: after/before a row’s cursor walk the whole selection in its order, in every sort', async () => {
  for (const sort of ['alpha', 'profile', 'class'] as const) {
    // The class filter files parents under their children's class and leaves some accounts without one (last).
    for (const input of [{ sort }, { sort, profiles: ['Student', 'Relative', 'Teacher'] }]) {
      const full = await selectAccounts(ctx, sel(input), ALL);
      const walked: string[] = [];
      let after: string | undefined;
      for (let i = 0; i < 100; i++) {
        const page = await selectPage(ctx, sel(input), ALL, { limit: 3, after });
        walked.push(...page.map((r) => r.id));
        if (page.length < 3) break;
        after = cursorOf(sort, page[page.length - 1]) ?? undefined;
      }
      assert.deepEqual(walked, full.map((r) => r.id), sort);
      // Backwards: the page before the 7th row is rows 4–6.
      const back = await selectPage(ctx, sel(input), ALL, { limit: 3, before: cursorOf(sort, full[6]) ?? undefined });
      assert.deepEqual(back.map((r) => r.id), full.slice(3, 6).map((r) => r.id), `${sort} before`);
    }
    // A cursor of another sort order (or a hand-edited one) is no cursor: the first page.
    const firstPage: string[] = (await selectPage(ctx, sel({ sort }), ALL, { limit: 2 })).map((r) => r.id);
    const first = await selectPage(ctx, sel({ sort }), ALL, { limit: 2, after: 'bm90IGEgY3Vyc29y' });
    assert.deepEqual(first.map((r) => r.id), firstPage);
    // Forged keys PostgreSQL would refuse (NUL in text, out of int4, 1e308): no cursor either, never an error.
    const forged = (key: unknown[]) => Buffer.from(JSON.stringify(key)).toString('base64url');
    const texts = ['\u0000', 'a', 'b'];
    for (const key of [texts, [1e308, ...texts], [4_000_000_000, ...texts], [true, '\u0000', ...texts]]) {
      const page = await selectPage(ctx, sel({ sort }), ALL, { limit: 2, after: forged(key) });
      assert.deepEqual(page.map((r) => r.id), firstPage, `${sort} ${JSON.stringify(key)}`);
    }
  }
});

test('streamSelection: the same rows as selectAccounts, in batches, through a cursor in a transaction', async () => {
  for (const sort of ['alpha', 'profile', 'class'] as const) {
    const full = await selectAccounts(ctx, sel({ sort }), ALL);
    const client = await ctx.database.pool.connect();
    try {
      await client.query('BEGIN');
      const batches: string[][] = [];
      for await (const b of streamSelection(ctx, client, sel({ sort }), ALL, 4)) batches.push(b.map((r) => r.id));
      await client.query('COMMIT');
      assert.deepEqual(batches.flat(), full.map((r) => r.id), sort);
      assert.ok(batches.length > 2 && batches.slice(0, -1).every((b) => b.length === 4), 'batches of 4');
    } finally {
      client.release();
    }
  }
});

test('the import report’s « new accounts » link selects its run to the millisecond, even in the hour the autumn DST change repeats', async () => {
  // 02:30 in Paris happens twice on 2026-10-25: at 00:30 UTC (summer time) and at 01:30 UTC (winter time).
  const pool = ctx.database.pool;
  const ids: string[] = [];
  for (const at of ['2026-10-25T00:30:00.000Z', '2026-10-25T01:30:00.000Z']) {
    const { rows } = await pool.query(
      `INSERT INTO users (profile, first_name, last_name, login, created_at) VALUES ('Student', 'Heure', 'Double', $1, $2) RETURNING id`,
      [`dst.${at.slice(11, 13)}`, at],
    );
    await pool.query('INSERT INTO user_structures (user_id, structure_id) VALUES ($1, $2)', [rows[0].id, s.structures.S1]);
    ids.push(rows[0].id);
  }
  try {
    for (const [i, at] of ['2026-10-25T00:30:00.000Z', '2026-10-25T01:30:00.000Z'].entries()) {
      const link = new URL(newAccountsLink(s.structures.S1, at), 'http://x');
      const rows = await selectAccounts(ctx, SelectionSchema.parse(Object.fromEntries(link.searchParams)), { kind: 'all' });
      assert.deepEqual(rows.map((r) => r.id), [ids[i]], `${at}: ${link.search}`);
    }
    // A day or an instant typed without an offset still reads as Paris time.
    assert.equal(SelectionSchema.parse({ createdAfter: '2026-10-25T02:30' }).createdAfter, '2026-10-25T02:30');
    assert.throws(() => SelectionSchema.parse({ createdAfter: '2026-10-25+02:00' }));
    // Shown in a form as Paris wall time, but not in the hour the autumn change repeats (it names two instants there).
    assert.equal(parisWallTime('2026-12-02T00:57:02.762+01:00'), '2026-12-02T00:57:02.762');
    assert.equal(parisWallTime('2026-10-25T02:30:00.000+02:00'), null);
    assert.equal(parisWallTime('2026-10-25T02:30:00.000+01:00'), null);
    assert.equal(parisWallTime('2026-10-25T03:30:00.000+01:00'), '2026-10-25T03:30:00.000');
  } finally {
    await pool.query('DELETE FROM users WHERE id = ANY($1::uuid[])', [ids]);
  }
});
