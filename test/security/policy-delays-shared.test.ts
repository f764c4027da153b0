// Security review: an account absent from the feed waits its grace period, then its deletion delay, « the longest over
// its structures » (accounts/lifecycle.ts delaySql, profile_policies). But only structures with a saved « Paramètres »
// row counted: a school that never saved its settings (the default 90 + 90 days) did not, so one school's local admin
// setting 0 + 0 days for a profile had the accounts it SHARES with other schools pre-deleted at the next daily pass
// and erased at the one after — a teacher who also teaches in another school (read-only to that admin), a parent with a
// child there — whatever those schools keep. policyForUser (e-mail/phone required, minimum password length) merged
// the saved rows alone the same way: one school's lower minimum replaced another's default.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { runLifecycle } from '../../src/accounts/lifecycle.js';
import { policyForUser } from '../../src/directory/policies.js';
import { PROFILES } from '../../src/directory/vocabulary.js';
import { fileContext, sqlReaders } from '../helpers/db.js';
import { createUser, fileServer, signedInClient } from '../helpers/web.js';

const ctx = await fileContext();
const app = await fileServer(ctx);
const pool = ctx.database.pool;
const { q } = sqlReaders(ctx);
const DAY = 86_400_000;

const [{ id: schoolA }] = await q<{ id: string }>(`INSERT INTO structures (uai, name) VALUES ('0451234K', 'Collège Les Tilleuls') RETURNING id`);
const [{ id: schoolB }] = await q<{ id: string }>(`INSERT INTO structures (uai, name) VALUES ('0457777X', 'Lycée Voltaire') RETURNING id`);
const [{ id: classA }] = await q<{ id: string }>(`INSERT INTO classes (structure_id, name) VALUES ($1, '4A') RETURNING id`, [schoolA]);
const [{ id: classB }] = await q<{ id: string }>(`INSERT INTO classes (structure_id, name) VALUES ($1, '2C') RETURNING id`, [schoolB]);
// A teacher of both schools, activated, gone from the académie's feed yesterday.
const teacher = await createUser(pool, { login: 'sarah.klein', firstName: 'Sarah', lastName: 'KLEIN', profile: 'Teacher', password: 'professeure-2-ecoles' });
await q('INSERT INTO user_structures VALUES ($1, $2), ($1, $3)', [teacher, schoolA, schoolB]);
await q('INSERT INTO user_classes VALUES ($1, $2), ($1, $3)', [teacher, classA, classB]);
const yesterday = new Date(Date.now() - DAY);
await q('UPDATE users SET absent_since = $2 WHERE id = $1', [teacher, yesterday]);
// A's head of school, local admin of A only.
const head = await createUser(pool, { login: 'paul.renard', firstName: 'Paul', lastName: 'RENARD', password: 'directeur-tilleuls-2026' });
await q('INSERT INTO user_structures VALUES ($1, $2)', [head, schoolA]);
await q('INSERT INTO local_admins VALUES ($1, $2)', [head, schoolA]);
const director = await signedInClient(app, pool, head);

test('A’s « Paramètres » at 0 days do not shorten the grace period of a teacher B shares (B keeps its 90 days)', async () => {
  // A's head saves A's settings: teachers 0 days of grace, 0 days before deletion; the rest as offered.
  const form: Record<string, string> = {};
  for (const p of PROFILES) {
    form[`${p}.signIn`] = 'code';
    form[`${p}.minPasswordLength`] = p === 'Teacher' ? '8' : '12';
    form[`${p}.graceDays`] = p === 'Teacher' ? '0' : '90';
    form[`${p}.deletionDays`] = p === 'Teacher' ? '0' : '90';
  }
  const saved = await director.post(`/console/etablissements/${schoolA}/parametres`, form);
  assert.equal(saved.statusCode, 303, saved.body.slice(0, 300));

  const now = new Date();
  await runLifecycle(pool, now);
  const [after] = await q<{ pre_deleted_at: Date | null }>('SELECT pre_deleted_at FROM users WHERE id = $1', [teacher]);
  assert.ok(after, 'the teacher still exists');
  assert.equal(after.pre_deleted_at, null, 'B (never saved: 90 days) still has its teacher in her grace period');
  await runLifecycle(pool, new Date(now.getTime() + 60_000));
  assert.equal((await q('SELECT 1 FROM users WHERE id = $1', [teacher])).length, 1, 'and she is not erased a minute later');
});

test('the policy of a shared account is the strictest of all its schools, defaults of schools without settings included', async () => {
  // Another teacher of both schools, present: A asks 8 characters of its teachers, B keeps the default (12).
  const other = await createUser(pool, { login: 'ines.roy', firstName: 'Inès', lastName: 'ROY', profile: 'Teacher', password: 'professeure-deux-2026' });
  await q('INSERT INTO user_structures VALUES ($1, $2), ($1, $3)', [other, schoolA, schoolB]);
  assert.equal((await policyForUser(pool, other)).minPasswordLength, 12, 'B’s default minimum');
  assert.equal((await policyForUser(pool, other)).graceDays, 90, 'B’s default grace period');
  // Control: a teacher of A alone follows A's settings.
  const own = await createUser(pool, { login: 'hugo.petit', firstName: 'Hugo', lastName: 'PETIT', profile: 'Teacher', password: 'professeur-tilleuls-26' });
  await q('INSERT INTO user_structures VALUES ($1, $2)', [own, schoolA]);
  assert.equal((await policyForUser(pool, own)).minPasswordLength, 8);
  assert.equal((await policyForUser(pool, own)).graceDays, 0);
});
