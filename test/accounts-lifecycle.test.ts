// Account lifecycle (issue #9) on real PostgreSQL: the daily job with a moved clock (grace period per profile ->
// pre-deleted -> deleted with the audit pseudonymised), idempotent and single-instance; an account in its grace
// period signs in and sees the date; an import puts absent accounts in their grace period; administrators
// pre-delete, restore and delete by hand, one account or a whole filter, with confirmation.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { test } from 'node:test';
import { applyLifecycleAction, runLifecycle } from '../src/accounts/lifecycle.js';
import { recordAudit } from '../src/directory/audit.js';
import { savePolicy } from '../src/directory/policies.js';
import { importFiles } from '../src/import/index.js';
import { fileContext } from './helpers/db.js';
import { insertStructure } from './helpers/directory-sample.js';
import { Client, createInactiveUser, createUser, fileServer, signedInClient } from './helpers/web.js';

const PASSWORD = 'une phrase de passe solide';
const DAY = 86_400_000;
const ctx = await fileContext();
const app = await fileServer(ctx);
const q = (sql: string, params: unknown[] = []) => ctx.database.pool.query(sql, params);
const school = await insertStructure(ctx.database.pool, 'Collège Camus', '0690001A');

async function member(login: string, o: { profile?: 'Student' | 'Teacher' | 'Personnel'; password?: string } = {}): Promise<string> {
  const id = await createUser(ctx.database.pool, { login, profile: o.profile ?? 'Student', password: o.password });
  await q('INSERT INTO user_structures (user_id, structure_id) VALUES ($1, $2)', [id, school]);
  return id;
}
const state = async (id: string) => (await q('SELECT absent_since, pre_deleted_at FROM users WHERE id = $1', [id])).rows[0];

test('the job: grace period per profile, then pre-deleted, then deleted; idempotent; audit kept under a pseudonym', async () => {
  const t0 = new Date('2026-07-10T08:00:00Z');
  const pupil = await member('lea.absente');
  const teacher = await member('marc.absent', { profile: 'Teacher', password: PASSWORD });
  await savePolicy(ctx.database.pool, school, 'Student', {
    signIn: 'code', provider: null, emailRequired: false, phoneRequired: false, minPasswordLength: 8, graceDays: 30, deletionDays: 60,
  }, null);
  await q('UPDATE users SET absent_since = $2 WHERE id = ANY($1)', [[pupil, teacher], t0]);
  await recordAudit(ctx.database.pool, teacher, 'account.activate', { userId: teacher, login: 'marc.absent', ip: '203.0.113.5' });

  assert.deepEqual(await runLifecycle(ctx.database.pool, new Date(t0.getTime() + 29 * DAY)), { skipped: false, preDeleted: 0, deleted: 0 });
  const r30 = await runLifecycle(ctx.database.pool, new Date(t0.getTime() + 30 * DAY));
  assert.equal(r30.preDeleted, 1, 'pupils: 30 days of grace');
  assert.ok((await state(pupil)).pre_deleted_at instanceof Date);
  assert.equal((await state(teacher)).pre_deleted_at, null, 'teachers: the default 90 days');
  assert.equal((await runLifecycle(ctx.database.pool, new Date(t0.getTime() + 30 * DAY))).preDeleted, 0, 'idempotent');

  // Day 90: the teacher's grace ends; the pupil, pre-deleted at day 30, is deleted 60 days later.
  assert.deepEqual(await runLifecycle(ctx.database.pool, new Date(t0.getTime() + 89 * DAY)), { skipped: false, preDeleted: 0, deleted: 0 });
  assert.deepEqual(await runLifecycle(ctx.database.pool, new Date(t0.getTime() + 90 * DAY)), { skipped: false, preDeleted: 1, deleted: 1 });
  assert.equal((await q('SELECT count(*)::int n FROM users WHERE id = $1', [pupil])).rows[0].n, 0);
  // Teacher: pre-deleted at day 90, deleted at day 180; its audit rows stay, under a pseudonym.
  assert.equal((await runLifecycle(ctx.database.pool, new Date(t0.getTime() + 180 * DAY))).deleted, 1);
  const audit = (await q(`SELECT actor_id, actor_pseudonym, details FROM audit WHERE action = 'account.activate'`)).rows[0];
  assert.equal(audit.actor_id, null);
  assert.match(audit.actor_pseudonym, /^supprime-[0-9a-f]{12}$/);
  assert.equal(audit.details.userId, audit.actor_pseudonym);
  assert.equal(audit.details.login, audit.actor_pseudonym);
  assert.equal(audit.details.ip, '203.0.113.5');
  assert.ok(!JSON.stringify((await q('SELECT details FROM audit')).rows).includes('marc.absent'), 'the login is gone from the audit trail');
  // The login is free again.
  await member('marc.absent');
});

test('several instances at once: the work is done once', async () => {
  const ids = await Promise.all(['a', 'b', 'c'].map((x) => member(`concurrent.${x}`)));
  await q(`UPDATE users SET absent_since = now() - interval '200 days' WHERE id = ANY($1)`, [ids]);
  const runs = await Promise.all([1, 2, 3, 4].map(() => runLifecycle(ctx.database.pool)));
  assert.equal(runs.reduce((n, r) => n + r.preDeleted, 0), 3);
  assert.ok(runs.every((r) => r.skipped || r.preDeleted === 3 || r.preDeleted === 0));
});

test('an account in its grace period still signs in and sees until when; pre-deleted, it no longer does', async () => {
  const id = await member('nora.grace', { profile: 'Personnel', password: PASSWORD }); // staff: the default 90 days
  await q(`UPDATE users SET absent_since = '2026-09-01T10:00:00Z' WHERE id = $1`, [id]);
  const c = new Client(app);
  assert.equal((await c.signIn('nora.grace', PASSWORD)).statusCode, 303);
  const page = await c.get('/mon-compte');
  assert.equal(page.statusCode, 200);
  assert.match(page.body, /Il reste utilisable jusqu’au 30\/11\/2026/);
  await runLifecycle(ctx.database.pool, new Date('2026-12-01T00:00:00Z'));
  assert.notEqual((await c.get('/mon-compte')).statusCode, 200);
  assert.notEqual((await new Client(app).signIn('nora.grace', PASSWORD)).statusCode, 303);
});

test('a complete import puts the absent account in its grace period, not pre-deleted; back in the feed, restored', async () => {
  const csv = (rows: string[]) => Buffer.from(['Nom;Prénom;Classe;Date de naissance', ...rows].join('\r\n') + '\r\n', 'utf8');
  const opts = { scope: { kind: 'all' as const }, dryRun: false, structureHint: school };
  const first = await importFiles(ctx, [{ name: 'CSV_Eleves.csv', data: csv(['DUPONT;Jade;6A;01/02/2014', 'MARTIN;Noé;6A;03/04/2014']) }], opts);
  assert.equal(first.fatal, null);
  const noe = (await q(`SELECT id FROM users WHERE first_name = 'Noé'`)).rows[0].id;
  const second = await importFiles(ctx, [{ name: 'CSV_Eleves.csv', data: csv(['DUPONT;Jade;6A;01/02/2014']) }], opts);
  assert.equal(second.preDeleted, 1);
  const s = await state(noe);
  assert.ok(s.absent_since instanceof Date);
  assert.equal(s.pre_deleted_at, null);
  const back = await importFiles(ctx, [{ name: 'CSV_Eleves.csv', data: csv(['DUPONT;Jade;6A;01/02/2014', 'MARTIN;Noé;6A;03/04/2014']) }], opts);
  assert.equal(back.restored, 1);
  assert.equal((await state(noe)).absent_since, null);
});

test('by hand: pre-delete, restore, delete at once only a never-activated or pre-deleted account; audited; scope enforced', async () => {
  const admin = await member('cpe.camus', { profile: 'Personnel', password: PASSWORD });
  await q('INSERT INTO local_admins (user_id, structure_id) VALUES ($1, $2)', [admin, school]);
  const active = await member('ines.active', { password: PASSWORD });
  const fresh = (await createInactiveUser(ctx.database.pool, ctx.secrets, { login: 'tom.nouveau', profile: 'Student' })).id;
  await q('INSERT INTO user_structures (user_id, structure_id) VALUES ($1, $2)', [fresh, school]);
  const c = await signedInClient(app, ctx.database.pool, admin);

  // Confirmation page, then the action.
  const confirm = await c.get(`/console/utilisateurs/${active}/cycle?action=delete&etablissement=${school}`);
  assert.equal(confirm.statusCode, 200);
  assert.match(confirm.body, /C’est définitif/);
  const refused = await c.post(`/console/utilisateurs/${active}/cycle`, { action: 'delete', etablissement: school });
  assert.equal(refused.statusCode, 409);
  assert.match(refused.body, /Pré-supprimez-le d’abord/);
  assert.equal((await q('SELECT count(*)::int n FROM users WHERE id = $1', [active])).rows[0].n, 1);

  const preDeleted = await c.post(`/console/utilisateurs/${active}/cycle`, { action: 'pre-delete', etablissement: school });
  assert.equal(preDeleted.statusCode, 303);
  // Said on the page it comes back to, as a block is.
  assert.match((await c.get(String(preDeleted.headers.location))).body, /Compte pré-supprimé : il ne se connecte plus\./, 'the page confirms the pre-deletion');
  assert.ok((await state(active)).pre_deleted_at instanceof Date);
  // Restoring a blocked account promises no access: it stays blocked.
  assert.match((await c.get(`/console/utilisateurs/${active}/cycle?action=restore&etablissement=${school}`)).body, /retrouve l’accès à son compte/);
  await q('UPDATE users SET blocked = true WHERE id = $1', [active]);
  const blockedRestore = (await c.get(`/console/utilisateurs/${active}/cycle?action=restore&etablissement=${school}`)).body;
  assert.match(blockedRestore, /n’est plus pré-supprimé, mais son compte reste bloqué/);
  assert.doesNotMatch(blockedRestore, /retrouve l’accès/);
  await q('UPDATE users SET blocked = false WHERE id = $1', [active]);
  assert.equal((await c.post(`/console/utilisateurs/${active}/cycle`, { action: 'restore', etablissement: school })).statusCode, 303);
  assert.equal((await state(active)).pre_deleted_at, null);
  assert.equal((await c.post(`/console/utilisateurs/${fresh}/cycle`, { action: 'delete', etablissement: school })).statusCode, 303);
  assert.equal((await q('SELECT count(*)::int n FROM users WHERE id = $1', [fresh])).rows[0].n, 0, 'never activated: deleted at once');
  const actions = (await q(`SELECT action FROM audit WHERE actor_id = $1 ORDER BY id`, [admin])).rows.map((r) => r.action);
  assert.deepEqual(actions, ['account.pre_delete', 'account.restore', 'account.delete']);

  // Another school's account: not found for this local admin; a super admin is never touched.
  const other = (await q(`INSERT INTO structures (name) VALUES ('Ailleurs') RETURNING id`)).rows[0].id;
  const outsider = await createUser(ctx.database.pool, { login: 'hors.perimetre', profile: 'Student' });
  await q('INSERT INTO user_structures (user_id, structure_id) VALUES ($1, $2)', [outsider, other]);
  assert.equal((await c.post(`/console/utilisateurs/${outsider}/cycle`, { action: 'pre-delete' })).statusCode, 404);
  await assert.rejects(applyLifecycleAction(ctx.database.pool, { kind: 'structures', structureIds: [school] }, 'pre-delete', [outsider], admin));
  assert.equal((await state(outsider)).pre_deleted_at, null);
});

test('in bulk from the users list: every account of the filter, after a confirmation that counts them', async () => {
  const admin = (await q(`SELECT id FROM users WHERE login = 'cpe.camus'`)).rows[0].id;
  const ids = await Promise.all(['x', 'y'].map((k) => member(`bulk.${k}`)));
  const c = await signedInClient(app, ctx.database.pool, admin);
  const list = await c.get(`/console/etablissements/${school}/utilisateurs?search=bulk.`);
  assert.match(list.body, /data-bulk-action="pre-delete"/);
  const confirm = await c.get(`/console/etablissements/${school}/utilisateurs/cycle?search=bulk.&action=pre-delete`);
  assert.match(confirm.body, /2 comptes seront pré-supprimés/);
  const selection = /name="selection" value="([^"]*)"/.exec(confirm.body)![1].replace(/&amp;/g, '&');
  // A stale count (the selection changed): nothing done.
  assert.equal((await c.post(`/console/etablissements/${school}/utilisateurs/cycle`, { action: 'pre-delete', selection, count: '3' })).statusCode, 409);
  assert.equal((await state(ids[0])).pre_deleted_at, null);
  const done = await c.post(`/console/etablissements/${school}/utilisateurs/cycle`, { action: 'pre-delete', selection, count: '2' });
  assert.equal(done.statusCode, 303);
  for (const id of ids) assert.ok((await state(id)).pre_deleted_at instanceof Date);
});

test('erasing many accounts at once: every audit row naming them is rewritten, found by the index; other names stay', async () => {
  const gone = await Promise.all(Array.from({ length: 40 }, (_, i) => member(`efface.eleve${i}`)));
  const kept = await member('efface.eleve1x');
  const admin = await member('efface.admin', { profile: 'Personnel' });
  await recordAudit(ctx.database.pool, gone[0], 'account.activate', { userId: gone[0], login: 'efface.eleve0' });
  await recordAudit(ctx.database.pool, admin, 'account.renew', { userId: gone[1], login: 'efface.eleve1', other: kept, otherLogin: 'efface.eleve1x' });
  await recordAudit(ctx.database.pool, admin, 'note', { url: `/console/utilisateurs/${gone[2]}`, byLogin: { 'efface.eleve3': 2 } });
  await recordAudit(ctx.database.pool, null, 'lifecycle.run', { preDeleted: gone });
  // A long text names nobody: kept out of the index (an index entry holds 2.7 kB at most; the insert failed).
  await recordAudit(ctx.database.pool, admin, 'templates.save', { body: randomBytes(4000).toString('hex'), userId: gone[5] });
  // A trail the size where the planner would rather scan: the lookup must still probe the index.
  await q(`INSERT INTO audit (action, details) SELECT 'filler', jsonb_build_object('userId', gen_random_uuid(), 'login', 'x' || g) FROM generate_series(1, 5000) g`);
  await q('ANALYZE audit');
  const { AUDIT_NAMING, eraseAccounts } = await import('../src/accounts/lifecycle.js');
  const logins = gone.map((_, i) => `efface.eleve${i}`);
  const plan = (await q(`EXPLAIN ${AUDIT_NAMING}`, [[...gone, ...logins]])).rows.map((r) => r['QUERY PLAN']).join('\n');
  assert.match(plan, /audit_mentions_idx/, plan);

  await q('UPDATE users SET pre_deleted_at = now() WHERE id = ANY($1)', [gone]);
  assert.equal(await eraseAccounts(ctx.database.pool, gone), 40);
  const rows = (await q(`SELECT action, actor_id, actor_pseudonym, details, details::text AS t FROM audit WHERE action <> 'filler' ORDER BY id`)).rows;
  const byAction = (a: string) => rows.filter((r) => r.action === a).at(-1)!;
  const activate = byAction('account.activate');
  assert.equal(activate.actor_id, null);
  assert.equal(activate.details.userId, activate.actor_pseudonym, 'the actor and the id in details: one pseudonym per account');
  const renew = byAction('account.renew');
  assert.equal(renew.actor_id, admin, 'the author, not erased, stays');
  assert.match(renew.details.userId, /^supprime-/);
  assert.equal(renew.details.login, renew.details.userId);
  assert.equal(renew.details.other, kept, 'an account not erased stays named');
  assert.equal(renew.details.otherLogin, 'efface.eleve1x', 'a login extending an erased one stays');
  assert.match(byAction('templates.save').details.userId, /^supprime-/, 'beside a long text');
  const note = byAction('note');
  assert.match(note.details.url, /^\/console\/utilisateurs\/supprime-[0-9a-f]{12}$/, 'an id inside a string');
  assert.match(Object.keys(note.details.byLogin)[0], /^supprime-/, 'a login as a key');
  const run = byAction('lifecycle.run');
  assert.equal(run.details.preDeleted.length, 40);
  assert.ok(run.details.preDeleted.every((p: string) => /^supprime-[0-9a-f]{12}$/.test(p)));
  assert.equal(new Set(run.details.preDeleted).size, 40);
  const all = rows.map((r) => r.t).join('\n');
  for (const id of gone) assert.ok(!all.includes(id), `${id} is gone from the trail`);
  for (const l of logins) assert.ok(!all.includes(`"${l}"`), `${l} is gone from the trail`);
  assert.equal((await q('SELECT count(*)::int n FROM users WHERE id = ANY($1)', [gone])).rows[0].n, 0);
  assert.equal((await q('SELECT count(*)::int n FROM users WHERE id = $1', [kept])).rows[0].n, 1);
});

test('a local admin never pre-deletes nor deletes an account another school still has (its teacher, a parent of its pupils)', async () => {
  const admin = (await q(`SELECT id FROM users WHERE login = 'cpe.camus'`)).rows[0].id;
  const c = await signedInClient(app, ctx.database.pool, admin);
  const other = (await q(`INSERT INTO structures (name) VALUES ('Lycée voisin') RETURNING id`)).rows[0].id;
  // A teacher of both schools, never activated (deleted at once otherwise), and a parent of a pupil of each.
  const shared = (await createInactiveUser(ctx.database.pool, ctx.secrets, { login: 'prof.partage', profile: 'Teacher' })).id;
  await q('INSERT INTO user_structures (user_id, structure_id) VALUES ($1, $2), ($1, $3)', [shared, school, other]);
  const here = await member('eleve.ici');
  const there = await createUser(ctx.database.pool, { login: 'eleve.voisin', profile: 'Student' });
  await q('INSERT INTO user_structures (user_id, structure_id) VALUES ($1, $2)', [there, other]);
  const parent = await createUser(ctx.database.pool, { login: 'parent.partage', profile: 'Relative', password: PASSWORD });
  await q('INSERT INTO relations (parent_id, child_id) VALUES ($1, $2), ($1, $3)', [parent, here, there]);

  for (const [id, action] of [[shared, 'delete'], [shared, 'pre-delete'], [parent, 'pre-delete']] as const) {
    const r = await c.post(`/console/utilisateurs/${id}/cycle`, { action, etablissement: school });
    assert.equal(r.statusCode, 403, `${action} ${id}`);
    assert.match(r.body, /aussi rattaché à un établissement que vous n’administrez pas/);
  }
  assert.equal((await q('SELECT count(*)::int n FROM users WHERE id = $1', [shared])).rows[0].n, 1, 'the other school keeps its teacher');
  assert.equal((await state(shared)).pre_deleted_at, null);
  assert.equal((await state(parent)).pre_deleted_at, null);
  // In bulk too: the filter holding the shared teacher is refused whole, nothing done.
  const confirm = await c.get(`/console/etablissements/${school}/utilisateurs/cycle?search=prof.partage&action=pre-delete`);
  const selection = /name="selection" value="([^"]*)"/.exec(confirm.body)![1].replace(/&amp;/g, '&');
  const bulk = await c.post(`/console/etablissements/${school}/utilisateurs/cycle`, { action: 'pre-delete', selection, count: '1' });
  assert.equal(bulk.statusCode, 403);
  assert.equal((await state(shared)).pre_deleted_at, null);
  // Nor himself, his id typed in capitals.
  await assert.rejects(applyLifecycleAction(ctx.database.pool, { kind: 'structures', structureIds: [school] }, 'pre-delete', [admin.toUpperCase()], admin), /votre propre compte/);
  // The super admin (every school) still pre-deletes it, and what signs it in ends: its sessions and what the OpenID
  // provider holds for it (a restored account found its old refresh tokens working again).
  await q(`INSERT INTO oidc_payloads (kind, id, payload) VALUES ('RefreshToken', 'rt-partage', jsonb_build_object('accountId', $1::text))`, [parent]);
  assert.equal(await applyLifecycleAction(ctx.database.pool, { kind: 'all' }, 'pre-delete', [parent], admin), 1);
  assert.equal((await q(`SELECT count(*)::int n FROM oidc_payloads WHERE id = 'rt-partage'`)).rows[0].n, 0);
  // Restoring is no loss to the other school.
  assert.equal((await c.post(`/console/utilisateurs/${parent}/cycle`, { action: 'restore', etablissement: school })).statusCode, 303);
  assert.equal((await state(parent)).pre_deleted_at, null);
});

test('unblocking a never-activated account promises no password: its code died with the block', async () => {
  const admin = await member('cpe.bloch', { profile: 'Personnel', password: PASSWORD });
  await q('INSERT INTO local_admins (user_id, structure_id) VALUES ($1, $2)', [admin, school]);
  const fresh = (await createInactiveUser(ctx.database.pool, ctx.secrets, { login: 'zoe.nouvelle', profile: 'Student' })).id;
  await q('INSERT INTO user_structures (user_id, structure_id) VALUES ($1, $2)', [fresh, school]);
  const c = await signedInClient(app, ctx.database.pool, admin);
  assert.equal((await c.post(`/console/utilisateurs/${fresh}/bloquer`, { etablissement: school })).statusCode, 303);
  const unblock = (await c.get(`/console/utilisateurs/${fresh}/debloquer?etablissement=${school}`)).body;
  assert.match(unblock, /pourra être activé avec un nouveau code : celui d’avant le blocage ne fonctionne plus/, 'what unblocking gives back');
  assert.doesNotMatch(unblock, /avec son mot de passe/, 'no password to speak of');
});
