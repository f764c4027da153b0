// Audit of the STS-web and AAF readers: a head of school made local admin by the feed (DIR), or a teacher, who is
// absent from the next complete delivery enters the grace period (users.absent_since) and could still sign in with
// every right for months: issue renewal codes (take over accounts), print sheets. Absent, an account keeps its own
// sign-in but holds no right over others' accounts (src/web/auth.ts USER_SQL); back in the feed, it has them again.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import iconv from 'iconv-lite';
import { importFiles, type ImportInput } from '../../src/import/index.js';
import { accountClaims } from '../../src/oidc/claims.js';
import { loadUser } from '../../src/web/auth.js';
import { fileContext, sqlReaders } from '../helpers/db.js';

const ctx = await fileContext();
const { q } = sqlReaders(ctx);

const teachers = (rows: string): ImportInput[] => [
  { name: 'CSV_Enseignants.csv', data: iconv.encode(`Prénom;Nom;Classe;ADML\n${rows}`.replace(/\n/g, '\r\n'), 'latin1') },
];
const run = (rows: string) => importFiles(ctx, teachers(rows), { scope: { kind: 'all' }, dryRun: false, structureHint: 'Collège des Absents' });

test('a local admin and teacher absent from the next complete import keeps signing in, without any right over others; back in the feed, has them again', async () => {
  const both = 'Odile;HAMEL;3A;oui\nYann;LECLERC;4B;non\n';
  assert.equal((await run(both)).created, 2);
  const [odile] = await q<{ id: string }>(`SELECT id FROM users WHERE last_name = 'HAMEL'`);
  const before = await loadUser(ctx.database.pool, odile.id);
  assert.ok(before);
  assert.ok(before.roles.includes('localadmin') && before.roles.includes('teacher'), 'control: the feed made her local admin');
  assert.equal(before.teacherOf.length, 1);

  // The next delivery no longer lists her (she left the school): grace period.
  const gone = await run('Yann;LECLERC;4B;non\n');
  assert.equal(gone.preDeleted, 1);
  const absent = await loadUser(ctx.database.pool, odile.id);
  assert.ok(absent, 'an absent account still signs in to its own account');
  assert.deepEqual(absent.adminOf, []);
  assert.ok(!absent.roles.includes('localadmin'), `roles: ${absent.roles.join(', ')}`);
  assert.deepEqual(absent.teacherOf, []);
  // Nor do the ENT's applications learn her classes through OpenID Connect (a class notebook would open them).
  const claims = await accountClaims(ctx.database.pool, odile.id);
  assert.ok(claims && 'claims' in claims, 'she still signs in to the applications');
  assert.deepEqual(claims.claims.classes, []);
  // Her local-admin row is kept: she is back in the next delivery (a file that forgot her), with her rights.
  assert.equal((await q(`SELECT 1 FROM local_admins WHERE user_id = $1`, [odile.id])).length, 1);
  await run(both);
  const back = await loadUser(ctx.database.pool, odile.id);
  assert.ok(back);
  assert.ok(back.roles.includes('localadmin'));
  assert.equal(back.teacherOf.length, 1);
  const claimsBack = await accountClaims(ctx.database.pool, odile.id);
  assert.ok(claimsBack && 'claims' in claimsBack);
  assert.equal(claimsBack.claims.classes.length, 1);
});
