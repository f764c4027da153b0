// Finding (attacker's lead, 1/12): a « Paramètres » save ends the password sign-ins it refuses, but an import could
// leave an account refused too — a parent whose only child in a school that keeps passwords has left (moved to the
// other school by the feed) now belongs, through the children, to external-only schools alone — and their password
// session (8 hours) and the ENT applications' tokens (30 days) lived on. An import now ends them in its transaction
// (endRefusedPasswordSignIns): web sessions opened with the password and the account's OpenID tokens; sessions opened
// through the identity provider stay, a dry run ends nothing, a parent still in the other school keeps his.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { after, before, test } from 'node:test';
import { savePolicy } from '../../src/directory/policies.js';
import { importFiles } from '../../src/import/index.js';
import { testContext } from '../helpers/db.js';
import { createUser, sessionFor } from '../helpers/web.js';

const TPL = new URL('../fixtures/import/', import.meta.url).pathname;
const PASSWORD = 'phrase de passe du parent 2026';
let ctx: Awaited<ReturnType<typeof testContext>>;
let schoolA = '';
let schoolB = '';

const q = async <T = Record<string, unknown>>(sql: string, params: unknown[] = []) => (await ctx.database.pool.query(sql, params)).rows as T[];
const sessions = async (userId: string) => (await q<{ n: number }>('SELECT count(*)::int AS n FROM sessions WHERE user_id = $1 AND expires_at > now()', [userId]))[0].n;
const tokens = async (userId: string) => (await q<{ n: number }>(`SELECT count(*)::int AS n FROM oidc_payloads WHERE payload->>'accountId' = $1`, [userId]))[0].n;

/** An activated parent of one pupil in each school of `schools`; returns the parent's id and the pupils'. */
async function parent(login: string, schools: string[]): Promise<{ id: string; children: string[] }> {
  const id = await createUser(ctx.database.pool, { login, profile: 'Relative', password: PASSWORD });
  const children: string[] = [];
  for (const [i, s] of schools.entries()) {
    const child = await createUser(ctx.database.pool, { login: `${login}.enfant${i}`, profile: 'Student', password: PASSWORD });
    await q('INSERT INTO user_structures (user_id, structure_id) VALUES ($1, $2)', [child, s]);
    await q('INSERT INTO relations (parent_id, child_id) VALUES ($1, $2)', [id, child]);
    children.push(child);
  }
  // Signed in with the password, and an ENT application holding a refresh token obtained through that session.
  await sessionFor(ctx.database.pool, id);
  await q(`INSERT INTO oidc_payloads (kind, id, payload, expires_at) VALUES ('RefreshToken', $2, jsonb_build_object('accountId', $1::text), now() + interval '30 days')`, [id, `rt-${login}`]);
  return { id, children };
}

/** School A's pupils file, imported for real or as a dry run (any run of any school ends what is now refused). */
const importA = (dryRun: boolean) =>
  importFiles(ctx, [{ name: 'CSV_Eleves.csv', data: readFileSync(`${TPL}CSV_Eleves.csv`) }], { scope: { kind: 'all' }, dryRun, structureHint: schoolA, partial: true });

before(async () => {
  ctx = await testContext();
  [{ id: schoolA }] = await q<{ id: string }>(`INSERT INTO structures (uai, name) VALUES ('0458001A', 'Collège des Cèdres') RETURNING id`);
  [{ id: schoolB }] = await q<{ id: string }>(`INSERT INTO structures (uai, name) VALUES ('0458002B', 'École des Charmes') RETURNING id`);
  // School A's parents sign in with EduConnect only; school B keeps passwords.
  await savePolicy(ctx.database.pool, schoolA, 'Relative', { signIn: 'external', provider: 'EduConnect', emailRequired: false, phoneRequired: false, minPasswordLength: 12, graceDays: 90, deletionDays: 90 }, null);
});
after(async () => {
  await ctx?.close();
});

test('an import ends the password sign-ins of a parent it leaves in external-only schools; a dry run does not; others keep theirs', async () => {
  const leaving = await parent('parent.demenage', [schoolA, schoolB]);
  const staying = await parent('parent.reste', [schoolA, schoolB]);
  const provider = await parent('parent.educonnect', [schoolA, schoolB]);
  // This one signed in through EduConnect: a session the rule allows.
  await q(`INSERT INTO federation_sessions (session_id_hash, provider_id) SELECT id_hash, 'educonnect' FROM sessions WHERE user_id = $1`, [provider.id]);
  // The feed moves the pupils of two of them from school B to school A: those parents now belong to A alone.
  await q('UPDATE user_structures SET structure_id = $1 WHERE user_id = ANY($2::uuid[])', [schoolA, [leaving.children[1], provider.children[1]]]);
  assert.equal(await sessions(leaving.id), 1, 'signed in with the password before the run');

  const dry = await importA(true);
  assert.equal(dry.fatal, null, 'dry run');
  assert.equal(await sessions(leaving.id), 1, 'a dry run ends nothing');
  assert.equal(await tokens(leaving.id), 1, 'a dry run ends no token');

  const run = await importA(false);
  assert.equal(run.fatal, null, `import: ${JSON.stringify(run.fatal)}`);
  assert.equal(await sessions(leaving.id), 0, 'the refused password session is ended');
  assert.equal(await tokens(leaving.id), 0, 'and the applications’ tokens');
  assert.equal(await sessions(staying.id), 1, 'a parent still in the school that keeps passwords keeps his session');
  assert.equal(await tokens(staying.id), 1, 'and his tokens');
  assert.equal(await sessions(provider.id), 1, 'a session opened through EduConnect stays');
  const [audit] = await q<{ details: { sessionsEnded?: number } }>(`SELECT details FROM audit WHERE action = 'import' AND details->>'dryRun' = 'false' ORDER BY at DESC LIMIT 1`);
  assert.equal(audit?.details.sessionsEnded, 1, 'the import’s audit row says how many sessions it ended');
});
