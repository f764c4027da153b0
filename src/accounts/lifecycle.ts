// Account lifecycle (issue #9): absent from a complete feed -> grace period -> pre-deleted -> deleted.
//
//  - an import that no longer carries an account sets users.absent_since (src/import/apply.ts); during the grace
//    period (profile_policies.grace_days, default 90) the account still signs in and sees a notice with the date;
//  - the daily job pre-deletes it once the grace period is over (locked: no sign-in, no code), then deletes it
//    after deletion_days more (default 90): the row goes (personal data erased, login freed) and the audit rows
//    that named it keep a pseudonym instead (audit.actor_pseudonym, ids and login replaced in details);
//  - an account back in a feed is restored (apply.ts); administrators pre-delete, restore and delete by hand
//    (delete at once only for pre-deleted or never-activated accounts).
// Every statement is idempotent, and the job runs under a transaction-level advisory lock: several instances
// starting it together do it once.
import { randomBytes } from 'node:crypto';
import type { Queryable } from '../db/index.js';
import { recordAudit } from '../directory/audit.js';
import { pruneAafCache } from '../import/aaf-cache.js';
import { accountStructuresSql, DEFAULT_DELETION_DAYS, DEFAULT_GRACE_DAYS } from '../directory/policies.js';
import type { Scope } from '../directory/scope.js';
import { DirectoryError, requireManageable, requireWholeAccountsInScope } from '../directory/users.js';
import { endSignIns } from './signins.js';
import { withTransaction } from './tx.js';
import type pg from 'pg';

/** Arbitrary constant key of the job's advisory lock. */
const LOCK_KEY = 0x7472_0009;

/**
 * SQL: the days of `column` ('grace_days' | 'deletion_days') that apply to account `u`: the longest over its structures,
 * a structure that never saved its « Paramètres » for the profile by the default — one school's 0 days must not cut short
 * the delays of another school that shares the account (a teacher of both, a parent with a child in each).
 */
function delaySql(column: 'grace_days' | 'deletion_days', u: string): string {
  const fallback = column === 'grace_days' ? DEFAULT_GRACE_DAYS : DEFAULT_DELETION_DAYS;
  return `coalesce((SELECT max(coalesce(pp.${column}, ${fallback})) FROM ${accountStructuresSql(u)} acs
                    LEFT JOIN profile_policies pp ON pp.structure_id = acs.structure_id AND pp.profile = ${u}.profile), ${fallback})`;
}

export interface LifecycleResult {
  /** Another instance held the lock: nothing done. */
  skipped: boolean;
  preDeleted: number;
  deleted: number;
}

/**
 * One pass of the job at instant `now` (tests move it): pre-deletes accounts whose grace period ended, deletes
 * those pre-deleted for longer than their deletion delay. Super admins are never touched.
 */
export async function runLifecycle(pool: pg.Pool, now: Date = new Date()): Promise<LifecycleResult> {
  return withTransaction(pool, async (c) => {
    const locked = (await c.query('SELECT pg_try_advisory_xact_lock($1) AS ok', [LOCK_KEY])).rows[0].ok as boolean;
    if (!locked) return { skipped: true, preDeleted: 0, deleted: 0 };
    // Locked FOR UPDATE, as a pre-deletion by hand (applyLifecycleAction): a plain UPDATE's row lock lets a sign-in's
    // key-share lock through (web/auth.ts liveAccount), and its session, inserted after endSignIns below, would come
    // back to life at restoration.
    const pre = await c.query<{ id: string; login: string }>(
      `WITH due AS (SELECT u.id FROM users u
                    WHERE u.absent_since IS NOT NULL AND u.pre_deleted_at IS NULL AND NOT u.is_super_admin
                      AND u.absent_since + make_interval(days => ${delaySql('grace_days', 'u')}) <= $1
                    FOR UPDATE OF u)
       UPDATE users u SET pre_deleted_at = $1, updated_at = $1 FROM due WHERE u.id = due.id
       RETURNING u.id, u.login`,
      [now],
    );
    // What signs a pre-deleted account in ends now (auth and the OpenID provider refuse it anyway, but a restored
    // account would find its old sessions and refresh tokens working again).
    await endSignIns(c, pre.rows.map((r) => r.id));
    const due = await c.query<{ id: string }>(
      `SELECT u.id FROM users u
       WHERE u.pre_deleted_at IS NOT NULL AND NOT u.is_super_admin
         AND u.pre_deleted_at + make_interval(days => ${delaySql('deletion_days', 'u')}) <= $1`,
      [now],
    );
    const deleted = await eraseAccounts(c, due.rows.map((r) => r.id));
    await pruneAafCache(c);
    if (pre.rowCount || deleted) {
      await recordAudit(c, null, 'lifecycle.run', { at: now.toISOString(), preDeleted: pre.rows.map((r) => r.id), deleted });
    }
    return { skipped: false, preDeleted: pre.rowCount ?? 0, deleted };
  });
}

/**
 * Deletes accounts for good: each gets a random pseudonym that replaces its id and login in the audit trail
 * (actor_pseudonym for the rows it wrote; in details, its id wherever written and its login as a JSON string), then
 * the rows are deleted (classes, relations, sessions, mails follow by cascade). Returns how many went. Run inside
 * the caller's transaction. Set-based (a year's leavers at a région's scale): the audit rows naming the accounts
 * are found through `audit_mentions` (migration 0027), and each is rewritten once whatever the number it names.
 */
export async function eraseAccounts(c: Queryable, ids: string[]): Promise<number> {
  if (!ids.length) return 0;
  const rows = (await c.query<{ id: string; login: string; external_id: string | null }>('SELECT id, login, external_id FROM users WHERE id = ANY($1) AND NOT is_super_admin', [ids])).rows;
  if (!rows.length) return 0;
  // Their records as an import last read them (src/import/aaf-cache.ts).
  await pruneAafCache(c, rows.flatMap((u) => (u.external_id ? [u.external_id] : [])));
  const gone = rows.map((u) => u.id);
  const pseudonyms = rows.map(() => `supprime-${randomBytes(6).toString('hex')}`);
  const byId = new Map(rows.map((u, i) => [u.id, pseudonyms[i]]));
  const byLogin = new Map(rows.map((u, i) => [u.login, pseudonyms[i]]));
  await c.query(`UPDATE audit a SET actor_pseudonym = g.p FROM unnest($1::uuid[], $2::text[]) g(id, p) WHERE a.actor_id = g.id`, [gone, pseudonyms]);
  // The index's pending list merged first: each probe below would read all of it.
  await c.query(`SELECT gin_clean_pending_list('audit_mentions_idx'::regclass)`);
  const named = await c.query<{ id: string; details: string }>(AUDIT_NAMING, [[...byId.keys(), ...byLogin.keys()]]);
  for (let i = 0; i < named.rows.length; i += ERASE_BATCH) {
    const batch = named.rows.slice(i, i + ERASE_BATCH);
    const texts = batch.map((r) => pseudonymise(r.details, byId, byLogin));
    await c.query(`UPDATE audit a SET details = x.d::jsonb FROM unnest($1::bigint[], $2::text[]) x(id, d) WHERE a.id = x.id`, [batch.map((r) => r.id), texts]);
  }
  await endSignIns(c, gone);
  await c.query('DELETE FROM user_aliases WHERE user_id = ANY($1)', [gone]);
  await c.query('DELETE FROM users WHERE id = ANY($1)', [gone]);
  return rows.length;
}

/**
 * The audit rows whose details name any of `$1` (ids, logins; `audit_mentions`, migration 0027), with their text.
 * One index probe per name: `audit_mentions(details) && $1` over thousands of names is planned as a scan of the whole
 * trail, the function run on every row.
 */
export const AUDIT_NAMING = `SELECT id, details::text AS details FROM audit WHERE id = ANY(ARRAY(
  SELECT DISTINCT m.id FROM unnest($1::text[]) k(name), LATERAL (SELECT id FROM audit WHERE audit_mentions(details) @> ARRAY[k.name]) m))`;

/** Audit rows rewritten per statement by eraseAccounts. */
const ERASE_BATCH = 1000;

const UUID_IN_TEXT = /[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/g;
const JSON_STRING = /"((?:[^"\\]|\\.)*)"/g;

/**
 * An audit row's details (JSON text) with the erased accounts' ids replaced wherever they are written and their
 * logins where they are a whole JSON string (as `audit_mentions` reads them), by their pseudonyms.
 */
export function pseudonymise(details: string, byId: ReadonlyMap<string, string>, byLogin: ReadonlyMap<string, string>): string {
  return details
    .replace(UUID_IN_TEXT, (id) => byId.get(id) ?? id)
    .replace(JSON_STRING, (whole, s: string) => {
      const p = byLogin.get(s);
      return p === undefined ? whole : JSON.stringify(p);
    });
}

// ---------------------------------------------------------------------------------------------- by hand

export type LifecycleAction = 'pre-delete' | 'restore' | 'delete';

/**
 * An administrator's pre-deletion, restoration or deletion of accounts `ids`, all of which `scope` must be allowed
 * to change (requireManageable: DirectoryError otherwise, nothing done). Pre-deletion and deletion are account-wide:
 * outside the 'all' scope they are refused (DirectoryError 'forbidden', nothing done) for an account another
 * structure still has — its own, or for a relative its children's (accountStructuresSql) — as an import never
 * pre-deletes one (import/scope.ts importPreDeleteSql): a local admin would otherwise lock out or erase the
 * teacher or the parent of another school. Deletion is refused (DirectoryError 'conflict', nothing done) for an
 * account neither pre-deleted nor never activated. Audited per account (account.pre_delete / account.restore /
 * account.delete). Returns how many accounts changed.
 */
export async function applyLifecycleAction(
  pool: pg.Pool,
  scope: Scope,
  action: LifecycleAction,
  ids: string[],
  actorId: string,
): Promise<number> {
  // Ids compare lower case (a UUID may be typed in capitals: the self-check must still see the caller's own).
  const unique = [...new Set(ids.map((id) => id.toLowerCase()))];
  if (!unique.length) return 0;
  if (unique.includes(actorId) && action !== 'restore') throw new DirectoryError('forbidden', 'lifecycle.self');
  return withTransaction(pool, async (c) => {
    // The rights are checked in the transaction that acts, with the accounts' rows locked FOR UPDATE: two actions on
    // the same accounts (another admin's, a block) run one after the other, each checking what the other left. The
    // memberships the check reads (local_admins, classes, structures) are those committed when it starts: a right
    // granted or taken back by a transaction still running is not waited for. The lock also serves pre-deletion,
    // as in setBlocked: a plain UPDATE's row lock does not conflict with the key-share lock a sign-in inserts its
    // session under (web/auth.ts liveAccount), which would insert it after endSignIns below — a session that came
    // back to life at restoration. Locked, the sign-in waits, re-reads the row, inserts nothing.
    await requireManageable(c, scope, unique, { lock: true });
    if (action !== 'restore') await requireWholeAccountsInScope(c, scope, unique, 'lifecycle.elsewhere');
    if (action === 'pre-delete') {
      const r = await c.query<{ id: string; login: string }>(
        `UPDATE users SET pre_deleted_at = now(), updated_at = now() WHERE id = ANY($1) AND pre_deleted_at IS NULL AND NOT is_super_admin RETURNING id, login`,
        [unique],
      );
      await endSignIns(c, r.rows.map((x) => x.id));
      for (const x of r.rows) await recordAudit(c, actorId, 'account.pre_delete', { userId: x.id, login: x.login });
      return r.rowCount ?? 0;
    }
    if (action === 'restore') {
      const r = await c.query<{ id: string; login: string }>(
        `UPDATE users SET pre_deleted_at = NULL, absent_since = NULL, updated_at = now()
         WHERE id = ANY($1) AND (pre_deleted_at IS NOT NULL OR absent_since IS NOT NULL) RETURNING id, login`,
        [unique],
      );
      for (const x of r.rows) await recordAudit(c, actorId, 'account.restore', { userId: x.id, login: x.login });
      return r.rowCount ?? 0;
    }
    const r = await c.query<{ id: string; login: string; ok: boolean }>(
      `SELECT id, login, pre_deleted_at IS NOT NULL OR (activated_at IS NULL AND password_hash IS NULL) AS ok FROM users WHERE id = ANY($1) FOR UPDATE`,
      [unique],
    );
    const refused = r.rows.filter((x) => !x.ok);
    if (refused.length) {
      throw new DirectoryError('conflict', 'lifecycle.activated', { logins: refused.map((x) => x.login).join(', ') });
    }
    // The audit entry is written before the erasure, so it is pseudonymised with the rest.
    for (const x of r.rows) await recordAudit(c, actorId, 'account.delete', { userId: x.id, login: x.login });
    return eraseAccounts(c, r.rows.map((x) => x.id));
  });
}

/** The grace notice of an account absent from the feed: until when it still signs in; null when present. */
export async function absenceOf(db: Queryable, userId: string): Promise<{ absentSince: Date; lockedOn: Date } | null> {
  const r = (
    await db.query(
      `SELECT u.absent_since, u.absent_since + make_interval(days => ${delaySql('grace_days', 'u')}) AS locked_on
       FROM users u WHERE u.id = $1 AND u.absent_since IS NOT NULL AND u.pre_deleted_at IS NULL`,
      [userId],
    )
  ).rows[0];
  return r ? { absentSince: r.absent_since, lockedOn: r.locked_on } : null;
}
