import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { Scope } from '../src/directory/scope.js';
import { DirectoryError, getUserDetails, setBlocked, updateUserContact } from '../src/directory/users.js';
import { countSelection, selectPage } from '../src/publipostage/select.js';
import { findCodeHolder } from '../src/accounts/activation.js';
import { applyLifecycleAction } from '../src/accounts/lifecycle.js';
import { enqueueMail } from '../src/mail/queue.js';
import { generateRenewalCode, regenerateActivationCode } from '../src/accounts/renewal.js';
import { SelectionSchema } from '../src/publipostage/selection.js';
import { testContext } from './helpers/db.js';
import { sampleDirectory } from './helpers/directory-sample.js';

type Ctx = Awaited<ReturnType<typeof testContext>>;
const ALL: Scope = { kind: 'all' };

describe('directory users', () => {
  let ctx: Ctx;
  let s: Awaited<ReturnType<typeof sampleDirectory>>;
  let charlemagneAdmin: Scope;
  let voltaireAdmin: Scope;
  let teacher: Scope;
  const names = (rows: { firstName: string }[]) => rows.map((r) => r.firstName);
  /** The console's list (the one selection model: select.ts), a page of rows and the total. */
  async function listUsers(ctx: Ctx, scope: Scope, q: Record<string, unknown> & { limit: number; offset?: number; sort?: string }) {
    const { limit, offset = 0, sort: _sort, ...filters } = q;
    const selection = SelectionSchema.parse(filters);
    const [counts, rows] = await Promise.all([countSelection(ctx, selection, scope), selectPage(ctx, selection, scope, { limit, offset })]);
    return { rows: rows.map((r) => ({ ...r, structures: [r.structureName] })), total: counts.total };
  }

  before(async () => {
    ctx = await testContext();
    s = await sampleDirectory(ctx.database.pool);
    charlemagneAdmin = { kind: 'structures', structureIds: [s.structures.charlemagne] };
    voltaireAdmin = { kind: 'structures', structureIds: [s.structures.voltaire] };
    teacher = { kind: 'classes', classIds: [s.classes.cm1a] };
  });
  after(() => ctx.close());

  test('lists within scope: local admins never see super admins nor other structures', async () => {
    const all = await listUsers(ctx, ALL, { limit: 100 });
    assert.equal(all.total, 9);
    assert.ok(names(all.rows).includes('Sam'));

    const local = await listUsers(ctx, charlemagneAdmin, { limit: 100 });
    assert.deepEqual(names(local.rows), ['Hugo', 'Diane', 'Claire', 'Léa', 'Inès', 'Paul'], 'French alphabetical order by last name');
    assert.equal(local.total, 6);
    assert.deepEqual(await listUsers(ctx, voltaireAdmin, { structureId: s.structures.charlemagne, limit: 10 }), { rows: [], total: 0 });
    assert.deepEqual(names((await listUsers(ctx, voltaireAdmin, { limit: 10 })).rows), ['Jules', 'Victor']);

    const taught = await listUsers(ctx, teacher, { limit: 100 });
    assert.deepEqual(names(taught.rows).sort(), ['Claire', 'Hugo', 'Léa'], 'a teacher sees the class students and their parents');
  });

  test('filters: folded search, profile, class (with parents), activation, email, paging', async () => {
    assert.deepEqual(names((await listUsers(ctx, charlemagneAdmin, { search: 'LEA', limit: 10 })).rows), ['Léa']);
    assert.deepEqual(names((await listUsers(ctx, charlemagneAdmin, { search: 'martin', limit: 10 })).rows).sort(), ['Claire', 'Léa']);
    assert.deepEqual(names((await listUsers(ctx, charlemagneAdmin, { search: 'claire.martin@', limit: 10 })).rows), ['Claire']);
    assert.deepEqual(await listUsers(ctx, charlemagneAdmin, { search: 'martin', limit: 5, offset: 10 }), { rows: [], total: 2 }, 'total past the last page');
    assert.equal((await listUsers(ctx, charlemagneAdmin, { search: 'martin', limit: 1 })).total, 2);
    assert.deepEqual(names((await listUsers(ctx, charlemagneAdmin, { profiles: ['Relative'], limit: 10 })).rows), ['Claire']);
    const cm1a = await listUsers(ctx, charlemagneAdmin, { classIds: [s.classes.cm1a], limit: 10 });
    assert.deepEqual(names(cm1a.rows).sort(), ['Claire', 'Hugo', 'Léa', 'Paul']);
    const inactive = await listUsers(ctx, charlemagneAdmin, { activation: 'inactive', limit: 10 });
    assert.deepEqual(names(inactive.rows), ['Hugo', 'Inès']);
    assert.deepEqual(names((await listUsers(ctx, charlemagneAdmin, { email: 'with', limit: 10 })).rows), ['Claire']);
    const page = await listUsers(ctx, charlemagneAdmin, { limit: 2, offset: 2, sort: 'name' });
    assert.equal(page.total, 6);
    assert.deepEqual(names(page.rows), ['Claire', 'Léa']);
    const lea = (await listUsers(ctx, charlemagneAdmin, { search: 'léa', limit: 1 })).rows[0];
    assert.deepEqual(lea.classes, ['CM1 A']);
    assert.deepEqual(lea.structures, ['École Charlemagne']);
    const diane = (await listUsers(ctx, charlemagneAdmin, { search: 'diane', limit: 1 })).rows[0];
    assert.equal(diane.isLocalAdmin, true);
  });

  test('details: links, relatives, admin rights, pending code; null out of scope', async () => {
    const lea = (await getUserDetails(ctx, charlemagneAdmin, s.users.lea))!;
    assert.equal(lea.lastName, 'Martin');
    assert.equal(lea.birthDate, '2015-03-02');
    assert.equal(lea.activated, true);
    assert.deepEqual(lea.classes.map((c) => [c.name, c.levelName]), [['CM1 A', 'CM1']]);
    assert.deepEqual(lea.groups.map((g) => g.name), ['Chorale']);
    assert.deepEqual(lea.structures.map((x) => x.name), ['École Charlemagne']);
    assert.deepEqual(lea.parents.map((p) => [p.firstName, p.profile]), [['Claire', 'Relative']]);
    const mother = (await getUserDetails(ctx, teacher, s.users.mother))!;
    assert.deepEqual(mother.children.map((c) => [c.firstName, c.classes]), [['Léa', ['CM1 A']]]);
    const hugo = (await getUserDetails(ctx, charlemagneAdmin, s.users.hugo))!;
    assert.equal(hugo.activated, false);
    assert.equal(hugo.activationCode?.expired, false);
    assert.ok(hugo.activationCode?.expiresAt instanceof Date);
    assert.equal(lea.activationCode, null);
    assert.deepEqual((await getUserDetails(ctx, charlemagneAdmin, s.users.director))!.adminOf.map((x) => x.name), ['École Charlemagne']);

    assert.equal(await getUserDetails(ctx, charlemagneAdmin, s.users.superAdmin), null);
    assert.equal(await getUserDetails(ctx, voltaireAdmin, s.users.lea), null);
    assert.equal(await getUserDetails(ctx, teacher, s.users.ines), null);
    assert.equal(await getUserDetails(ctx, charlemagneAdmin, 'not-a-uuid'), null);
    assert.ok(await getUserDetails(ctx, ALL, s.users.superAdmin));
  });

  test('blocking ends the sessions and is audited; scope and self-blocking refused', async () => {
    const pool = ctx.database.pool;
    for (const id of ['h1', 'h2']) {
      await pool.query(`INSERT INTO sessions (id_hash, user_id, csrf, expires_at) VALUES ($1, $2, 'c', now() + interval '1 day')`, [id, s.users.hugo]);
    }
    await pool.query(`INSERT INTO sessions (id_hash, user_id, csrf, expires_at) VALUES ('l1', $1, 'c', now() + interval '1 day')`, [s.users.lea]);
    // An expired one the hourly housekeeping has not removed yet: deleted with the others, not counted as « en cours ».
    await pool.query(`INSERT INTO sessions (id_hash, user_id, csrf, expires_at) VALUES ('h-old', $1, 'c', now() - interval '1 hour')`, [s.users.hugo]);

    await assert.rejects(setBlocked(ctx, voltaireAdmin, s.users.hugo, true, s.users.voltaireAdmin), (e) => e instanceof DirectoryError && e.code === 'not_found');
    await assert.rejects(setBlocked(ctx, teacher, s.users.hugo, true, s.users.teacher), (e) => e instanceof DirectoryError && e.code === 'forbidden');
    await assert.rejects(setBlocked(ctx, charlemagneAdmin, s.users.superAdmin, true, s.users.director), (e) => e instanceof DirectoryError && e.code === 'not_found');
    await assert.rejects(setBlocked(ctx, charlemagneAdmin, s.users.director, true, s.users.director), /propre compte/);
    assert.equal((await pool.query('SELECT 1 FROM sessions WHERE user_id = $1', [s.users.hugo])).rowCount, 3);

    assert.deepEqual(await setBlocked(ctx, charlemagneAdmin, s.users.hugo, true, s.users.director), { sessionsEnded: 2 });
    assert.equal((await pool.query('SELECT 1 FROM sessions WHERE user_id = $1', [s.users.hugo])).rowCount, 0);
    assert.equal((await pool.query('SELECT 1 FROM sessions WHERE user_id = $1', [s.users.lea])).rowCount, 1, 'others keep theirs');
    assert.equal((await getUserDetails(ctx, charlemagneAdmin, s.users.hugo))!.blocked, true);
    await setBlocked(ctx, charlemagneAdmin, s.users.hugo, false, s.users.director);
    assert.equal((await getUserDetails(ctx, charlemagneAdmin, s.users.hugo))!.blocked, false);
    const audit = (await pool.query(`SELECT action, actor_id, details FROM audit WHERE action LIKE 'user.%block' ORDER BY id`)).rows;
    assert.deepEqual(audit.map((a) => [a.action, a.actor_id, a.details.sessionsEnded]), [
      ['user.block', s.users.director, 2],
      ['user.unblock', s.users.director, 0],
    ]);
  });

  test('blocking voids the codes and reset links: a lost sheet found again does not open the account once unblocked', async () => {
    const pool = ctx.database.pool;
    // Inès (never activated) has a printed activation code; Léa (activated) a renewal code and a reset link pending.
    const activation = await regenerateActivationCode(ctx, charlemagneAdmin, s.users.ines, s.users.director);
    const renewal = await generateRenewalCode(ctx, charlemagneAdmin, s.users.lea, s.users.director);
    await pool.query(`INSERT INTO password_resets (token_hash, user_id, expires_at) VALUES ('reset-lea', $1, now() + interval '1 hour')`, [s.users.lea]);
    const login = async (id: string) => (await pool.query('SELECT login FROM users WHERE id = $1', [id])).rows[0].login as string;
    assert.ok(await findCodeHolder(ctx, 'activation', await login(s.users.ines), activation), 'the activation code works before');
    assert.ok(await findCodeHolder(ctx, 'renewal', await login(s.users.lea), renewal), 'the renewal code works before');
    // A mail merge queued before the block carries Inès's code.
    const queued = await enqueueMail(pool, { userId: s.users.ines, kind: 'credentials', recipient: 'ines@example.fr', subject: 'Vos identifiants', text: activation });
    for (const id of [s.users.ines, s.users.lea]) {
      await setBlocked(ctx, charlemagneAdmin, id, true, s.users.director);
      await setBlocked(ctx, charlemagneAdmin, id, false, s.users.director);
    }
    // The console said « Aucun code en cours » while blocked; unblocked, the old sheet opened the account again.
    assert.equal(await findCodeHolder(ctx, 'activation', await login(s.users.ines), activation), null, 'the activation code printed before the block is dead');
    assert.equal(await findCodeHolder(ctx, 'renewal', await login(s.users.lea), renewal), null, 'the renewal code given before the block is dead');
    assert.equal((await pool.query(`SELECT 1 FROM password_resets WHERE token_hash = 'reset-lea' AND used_at IS NULL`)).rowCount, 0, 'the reset link is dead');
    const [job] = (await pool.query('SELECT status, last_error FROM mail_jobs WHERE id = $1', [queued])).rows;
    assert.deepEqual([job.status, job.last_error], ['failed', 'annulé : compte bloqué (ses codes sont annulés)'], 'the queued mail with the code is not sent');
    assert.equal((await getUserDetails(ctx, charlemagneAdmin, s.users.ines))!.activationCode, null, 'no code shown: a new sheet gives a new one');
    assert.equal((await getUserDetails(ctx, charlemagneAdmin, s.users.lea))!.renewalCode, null, 'no renewal code shown');
    // A new code works as before.
    const fresh = await regenerateActivationCode(ctx, charlemagneAdmin, s.users.ines, s.users.director);
    assert.ok(await findCodeHolder(ctx, 'activation', await login(s.users.ines), fresh), 'a code issued after the block works');

    // No code is handed out dead: a blocked or pre-deleted account refuses one, saying what to do first.
    await setBlocked(ctx, charlemagneAdmin, s.users.ines, true, s.users.director);
    await assert.rejects(regenerateActivationCode(ctx, charlemagneAdmin, s.users.ines, s.users.director), /bloqué : aucun code ne l’ouvrirait/);
    await setBlocked(ctx, charlemagneAdmin, s.users.ines, false, s.users.director);
    await applyLifecycleAction(pool, charlemagneAdmin, 'pre-delete', [s.users.lea], s.users.director);
    await assert.rejects(generateRenewalCode(ctx, charlemagneAdmin, s.users.lea, s.users.director), /pré-supprimé : aucun code ne l’ouvrirait/);
    await applyLifecycleAction(pool, charlemagneAdmin, 'restore', [s.users.lea], s.users.director);
    assert.ok(await generateRenewalCode(ctx, charlemagneAdmin, s.users.lea, s.users.director), 'restored, she gets one');
  });

  test('an account blocked before blocking voided codes: unblocked, its old sheet does not open it', async () => {
    const pool = ctx.database.pool;
    const login = (await pool.query('SELECT login FROM users WHERE id = $1', [s.users.ines])).rows[0].login as string;
    const code = await regenerateActivationCode(ctx, charlemagneAdmin, s.users.ines, s.users.director);
    // Blocked by an earlier version, which left the code in place (no migration voided it).
    await pool.query('UPDATE users SET blocked = true WHERE id = $1', [s.users.ines]);
    assert.equal(await findCodeHolder(ctx, 'activation', login, code), null, 'dead while blocked');
    await setBlocked(ctx, charlemagneAdmin, s.users.ines, false, s.users.director);
    assert.equal(await findCodeHolder(ctx, 'activation', login, code), null, 'the sheet printed before the block stays dead, as the unblocking page says');
    assert.equal((await getUserDetails(ctx, charlemagneAdmin, s.users.ines))!.activationCode, null, 'no code shown');
    // Unblocking an account that was not blocked takes nothing away.
    const fresh = await regenerateActivationCode(ctx, charlemagneAdmin, s.users.ines, s.users.director);
    await setBlocked(ctx, charlemagneAdmin, s.users.ines, false, s.users.director);
    assert.ok(await findCodeHolder(ctx, 'activation', login, fresh), 'a code of an account never blocked still works');
  });

  test('an admin corrects an email: validated, audited, scoped', async () => {
    const pool = ctx.database.pool;
    await assert.rejects(updateUserContact(ctx, charlemagneAdmin, s.users.mother, { email: 'claire@@example' }, s.users.director),
      (e) => e instanceof DirectoryError && e.code === 'invalid' && /Adresse électronique invalide/.test(e.message));
    await assert.rejects(updateUserContact(ctx, charlemagneAdmin, s.users.mother, { phone: '=CMD()' }, s.users.director), /téléphone invalide/);
    await assert.rejects(updateUserContact(ctx, voltaireAdmin, s.users.mother, { email: 'x@example.fr' }, null), (e) => e instanceof DirectoryError && e.code === 'not_found');
    const r = await updateUserContact(ctx, charlemagneAdmin, s.users.mother, { email: ' Claire.M@example.fr ', phone: '+33 6 12 34 56 78' }, s.users.director);
    assert.deepEqual(r, { email: 'claire.m@example.fr', phone: '06 12 34 56 78' });
    const row = (await pool.query('SELECT email, phone FROM users WHERE id = $1', [s.users.mother])).rows[0];
    assert.deepEqual(row, r);
    const audit = (await pool.query(`SELECT details FROM audit WHERE action = 'user.contact'`)).rows;
    assert.equal(audit.length, 1);
    assert.equal(audit[0].details.before.email, 'claire.martin@example.fr');
    assert.equal(audit[0].details.after.email, 'claire.m@example.fr');
    assert.deepEqual(await updateUserContact(ctx, charlemagneAdmin, s.users.mother, { phone: '' }, s.users.director), { email: 'claire.m@example.fr', phone: null });
  });
});
