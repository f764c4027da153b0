// Users as the admin console sees them: list, details, blocking, contact corrections — always within a Scope.
import type pg from 'pg';
import { normalizeEmail, normalizePhone } from '../accounts/contact.js';
import { withTransaction } from '../accounts/tx.js';
import type { AppContext } from '../context.js';
import { DomainError, type DomainCode, type DomainParams } from '../lib/errors.js';
import type { Profile } from './vocabulary.js';
import { endSignIns } from '../accounts/signins.js';
import { addressChanges } from '../accounts/profile.js';
import { recordAudit } from './audit.js';
import { manageableSql, scopeSql, type Scope } from './scope.js';
import { accountStructuresSql } from './policies.js';
import type { Queryable } from '../db/index.js';

/** A refused directory operation: `code` is its kind, `messageCode`/`params` its message (see DomainError). */
export class DirectoryError extends DomainError {
  constructor(
    readonly code: 'forbidden' | 'not_found' | 'conflict' | 'invalid',
    messageCode: DomainCode,
    params: DomainParams = {},
  ) {
    super(messageCode, params);
    this.name = 'DirectoryError';
  }
}


/** SQL condition "structure column `col` is visible in `scope`" for structure-attached rows (classes, groups…). */
export function visibleStructureSql(scope: Scope, col: string, params: unknown[]): string {
  if (scope.kind === 'structures') {
    params.push(scope.structureIds);
    return `${col} = ANY($${params.length}::uuid[])`;
  }
  return 'true';
}

/**
 * SQL condition "user `u` belongs to the structure" (attached to it, or parent of a student attached to it), as
 * `id IN (own UNION parents of)`: each branch is an index lookup from the structure's side, so the cost follows the
 * school, not the directory (issue #11: `EXISTS (own) OR EXISTS (via child)` scanned every account of a région).
 */
export function memberOfStructureSql(structureId: string, u: string, params: unknown[]): string {
  params.push(structureId);
  const p = `$${params.length}::uuid`;
  return `${u}.id IN (SELECT ms.user_id FROM user_structures ms WHERE ms.structure_id = ${p}
    UNION SELECT mr.parent_id FROM user_structures ms JOIN relations mr ON mr.child_id = ms.user_id WHERE ms.structure_id = ${p})`;
}

/** True when the scope may change accounts (super admin or local admin); teachers and users only read. */
export function canAdminister(scope: Scope): boolean {
  return scope.kind === 'all' || scope.kind === 'structures';
}

/** Throws unless the scope may change accounts. */
export function requireAdminScope(scope: Scope): void {
  if (!canAdminister(scope)) throw new DirectoryError('forbidden', 'directory.adminOnly');
}

/** True when `structureId` is within the scope's structures (super admins see all). */
export function structureInScope(scope: Scope, structureId: string): boolean {
  return scope.kind === 'all' || (scope.kind === 'structures' && scope.structureIds.includes(structureId));
}

/**
 * Throws DirectoryError 'forbidden' (`code`, naming the logins) unless every account of `ids` belongs only to the
 * scope's structures — its own, or for a relative its children's (policies.ts accountStructuresSql). For account-wide
 * acts a local admin may not do to an account another school still has (pre-deletion, deletion, a merge that deletes
 * it): they would take the account from that school too. The 'all' scope always may.
 */
export async function requireWholeAccountsInScope(db: Queryable, scope: Scope, ids: readonly string[], code: 'lifecycle.elsewhere' | 'directory.mergeElsewhere'): Promise<void> {
  if (scope.kind === 'all' || !ids.length) return;
  const held = scope.kind === 'structures' ? scope.structureIds : [];
  const elsewhere = await db.query<{ login: string }>(
    `SELECT u.login FROM users u WHERE u.id = ANY($1::uuid[])
       AND EXISTS (SELECT 1 FROM ${accountStructuresSql('u')} a (structure_id) WHERE NOT (a.structure_id = ANY($2::uuid[])))
     ORDER BY u.login`,
    [ids, held],
  );
  if (elsewhere.rows.length) throw new DirectoryError('forbidden', code, { logins: elsewhere.rows.map((r) => r.login).join(', ') });
}

/**
 * Throws unless every one of these users is visible in the scope (not_found otherwise, as for a missing row)
 * AND changeable by it (forbidden: an account holding admin rights the scope does not cover, see
 * manageableSql). The one check every mutating path of the directory, codes and imports goes through.
 * `lock` takes the rows FOR UPDATE (inside the caller's transaction).
 */
export async function requireManageable(db: Queryable, scope: Scope, userIds: readonly string[], opts: { lock?: boolean } = {}): Promise<void> {
  const ids = [...new Set(userIds)];
  if (!ids.every(isUuid)) throw new DirectoryError('not_found', 'directory.userNotFound');
  const params: unknown[] = [ids];
  const visible = scopeSql(scope, 'u', params);
  const manageable = manageableSql(scope, 'u', params);
  const { rows } = await db.query<{ id: string; manageable: boolean }>(
    `SELECT u.id, ${manageable} AS manageable FROM users u WHERE u.id = ANY($1::uuid[]) AND ${visible}${opts.lock ? ' ORDER BY u.id FOR UPDATE OF u' : ''}`,
    params,
  );
  if (rows.length !== ids.length) throw new DirectoryError('not_found', 'directory.userNotFound');
  if (rows.some((r) => !r.manageable)) throw new DirectoryError('forbidden', 'directory.readOnly');
}

/** Whether every one of these users exists and is visible in the scope (an explicit list is all or nothing). */
export async function allInScope(db: Queryable, scope: Scope, userIds: readonly string[]): Promise<boolean> {
  const ids = [...new Set(userIds)];
  if (!ids.every(isUuid)) return false;
  const params: unknown[] = [ids];
  const { rows } = await db.query<{ n: number }>(
    `SELECT count(*)::int AS n FROM users u WHERE u.id = ANY($1::uuid[]) AND ${scopeSql(scope, 'u', params)}`,
    params,
  );
  return rows[0].n === ids.length;
}

/** Ids are uuids: anything else cannot name a row (and must not reach a ::uuid cast). */
export function isUuid(s: string): boolean {
  return /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i.test(s);
}

export interface RelativeInfo {
  id: string;
  firstName: string;
  lastName: string;
  login: string;
  profile: Profile;
  activated: boolean;
  classes: string[];
}

export interface PendingCode {
  expiresAt: Date | null;
  expired: boolean;
}

export interface UserDetails {
  id: string;
  externalId: string | null;
  /** Feed ids of accounts merged into this one (user_aliases). */
  aliases: string[];
  origin: 'feed' | 'manual';
  source: string;
  profile: Profile;
  title: string | null;
  firstName: string;
  lastName: string;
  birthDate: string | null;
  email: string | null;
  phone: string | null;
  /** Feed data (AAF ENTEleveINE, ENTPersonFonctions, ENTPersonMobileSMS). */
  ine: string | null;
  functions: string[];
  mobile: string | null;
  login: string;
  activated: boolean;
  activatedAt: Date | null;
  termsAcceptedAt: Date | null;
  /** Activation code not used yet (null when none is pending). */
  activationCode: PendingCode | null;
  /** Admin-issued renewal code not used yet. */
  renewalCode: PendingCode | null;
  blocked: boolean;
  isSuperAdmin: boolean;
  /** Visible but not changeable by the caller (manageableSql: another administrator, for a local admin): no action is offered. */
  readOnly: boolean;
  preDeletedAt: Date | null;
  createdAt: Date;
  updatedAt: Date;
  lastLoginAt: Date | null;
  structures: { id: string; name: string; uai: string | null }[];
  classes: { id: string; name: string; structureId: string; levelName: string | null }[];
  groups: { id: string; name: string; structureId: string }[];
  /** Structures this user administers (local admin). */
  adminOf: { id: string; name: string }[];
  parents: RelativeInfo[];
  children: RelativeInfo[];
}

/** Everything an admin needs about one user, or null when the user does not exist or is out of scope. */
export async function getUserDetails(ctx: AppContext, scope: Scope, userId: string): Promise<UserDetails | null> {
  if (!isUuid(userId)) return null;
  const pool = ctx.database.pool;
  const params: unknown[] = [userId];
  const visible = scopeSql(scope, 'u', params);
  const { rows } = await pool.query(`SELECT u.*, ${manageableSql(scope, 'u', params)} AS manageable FROM users u WHERE u.id = $1 AND ${visible}`, params);
  const u = rows[0];
  if (!u) return null;

  /** The user's ($1) links of one kind, only those in structures the scope sees: `sql` gets that condition on `col`. */
  const visibleLinks = (col: string, sql: (visible: string) => string) => {
    const p: unknown[] = [userId];
    return pool.query(sql(visibleStructureSql(scope, col, p)), p);
  };
  const structures = await visibleLinks('s.id', (visible) =>
    `SELECT s.id, s.name, s.uai FROM user_structures us JOIN structures s ON s.id = us.structure_id
      WHERE us.user_id = $1 AND ${visible} ORDER BY s.name`);
  const classes = await visibleLinks('c.structure_id', (visible) =>
    `SELECT c.id, c.name, c.structure_id, l.name AS level_name FROM user_classes uc JOIN classes c ON c.id = uc.class_id
       LEFT JOIN levels l ON l.id = c.level_id
      WHERE uc.user_id = $1 AND ${visible} ORDER BY c.name`);
  const groups = await visibleLinks('g.structure_id', (visible) =>
    `SELECT g.id, g.name, g.structure_id FROM user_groups ug JOIN groups g ON g.id = ug.group_id
      WHERE ug.user_id = $1 AND ${visible} ORDER BY g.name`);
  const adminOf = await visibleLinks('s.id', (visible) =>
    `SELECT s.id, s.name FROM local_admins la JOIN structures s ON s.id = la.structure_id
      WHERE la.user_id = $1 AND ${visible} ORDER BY s.name`);
  const aliases = await pool.query('SELECT external_id FROM user_aliases WHERE user_id = $1 ORDER BY merged_at', [userId]);

  const relatives = async (side: 'parent' | 'child'): Promise<RelativeInfo[]> => {
    const [me, other] = side === 'parent' ? ['child_id', 'parent_id'] : ['parent_id', 'child_id'];
    const p: unknown[] = [userId];
    const vis = scopeSql(scope, 'o', p);
    const cs = visibleStructureSql(scope, 'c.structure_id', p);
    const r = await pool.query(
      `SELECT o.id, o.first_name, o.last_name, o.login, o.profile, o.activated_at IS NOT NULL AS activated,
              coalesce((SELECT array_agg(c.name ORDER BY c.name) FROM user_classes uc JOIN classes c ON c.id = uc.class_id
                         WHERE uc.user_id = o.id AND ${cs}), '{}') AS classes
         FROM relations r JOIN users o ON o.id = r.${other}
        WHERE r.${me} = $1 AND ${vis}
        ORDER BY lower(o.last_name), lower(o.first_name)`, p);
    return r.rows.map((x) => ({
      id: x.id, firstName: x.first_name, lastName: x.last_name, login: x.login, profile: x.profile,
      activated: x.activated, classes: x.classes,
    }));
  };

  const now = Date.now();
  const pending = (mac: string | null, expiresAt: Date | null): PendingCode | null =>
    mac ? { expiresAt, expired: expiresAt !== null && expiresAt.getTime() <= now } : null;

  return {
    id: u.id,
    externalId: u.external_id,
    aliases: aliases.rows.map((a) => a.external_id),
    origin: u.origin,
    source: u.source,
    profile: u.profile,
    title: u.title,
    firstName: u.first_name,
    lastName: u.last_name,
    birthDate: u.birth_date,
    email: u.email,
    phone: u.phone,
    ine: u.ine,
    functions: u.functions ?? [],
    mobile: u.mobile,
    login: u.login,
    activated: u.activated_at !== null,
    activatedAt: u.activated_at,
    termsAcceptedAt: u.terms_accepted_at,
    activationCode: pending(u.activation_code_mac, u.activation_code_expires_at),
    renewalCode: pending(u.renewal_code_mac, u.renewal_code_expires_at),
    blocked: u.blocked,
    isSuperAdmin: u.is_super_admin,
    readOnly: !u.manageable,
    preDeletedAt: u.pre_deleted_at,
    createdAt: u.created_at,
    updatedAt: u.updated_at,
    lastLoginAt: u.last_login_at,
    structures: structures.rows.map((s) => ({ id: s.id, name: s.name, uai: s.uai })),
    classes: classes.rows.map((c) => ({ id: c.id, name: c.name, structureId: c.structure_id, levelName: c.level_name })),
    groups: groups.rows.map((g) => ({ id: g.id, name: g.name, structureId: g.structure_id })),
    adminOf: adminOf.rows.map((s) => ({ id: s.id, name: s.name })),
    parents: await relatives('parent'),
    children: await relatives('child'),
  };
}

// ---------------------------------------------------------------------------------------------------------
// Changes

/**
 * Locks a user row the scope may change, or throws not_found (out-of-scope users are reported as missing) or
 * forbidden (visible but read-only, see requireManageable).
 */
async function lockManageableUser(client: pg.PoolClient, scope: Scope, userId: string): Promise<{ login: string; blocked: boolean; email: string | null; phone: string | null }> {
  await requireManageable(client, scope, [userId], { lock: true });
  return (await client.query('SELECT login, blocked, email, phone FROM users WHERE id = $1', [userId])).rows[0];
}

/**
 * Blocks or unblocks an account (admins only, not oneself). Blocking ends every session of the user in the
 * same transaction, and voids its activation and renewal codes and pending reset links: an account is blocked
 * because a sheet or a mail went astray, and unblocking must not bring the lost code back (the console shows no code
 * while blocked; a new sheet or « Générer » gives a fresh one). Returns the number of sessions ended.
 */
export async function setBlocked(ctx: AppContext, scope: Scope, userId: string, blocked: boolean, actorId: string | null): Promise<{ sessionsEnded: number }> {
  requireAdminScope(scope);
  if (blocked && actorId === userId) throw new DirectoryError('invalid', 'directory.selfBlock');
  return withTransaction(ctx.database.pool, async (client) => {
    const u = await lockManageableUser(client, scope, userId);
    await client.query('UPDATE users SET blocked = $2, updated_at = now() WHERE id = $1', [userId, blocked]);
    let sessionsEnded = 0;
    if (blocked) sessionsEnded = await endSignIns(client, userId);
    // On unblocking too: an account blocked by an earlier version kept its codes (no migration voided them), and its
    // lost sheet opened it again though the page said the code from before the block no longer works. A blocked
    // account is given none since (refuseUnusable, mayCarryCode): nothing else is taken away.
    if (blocked || u.blocked) {
      await client.query(
        `UPDATE users SET activation_code_enc = NULL, activation_code_mac = NULL, activation_code_expires_at = NULL,
           renewal_code_mac = NULL, renewal_code_expires_at = NULL
         WHERE id = $1 AND (activation_code_mac IS NOT NULL OR renewal_code_mac IS NOT NULL)`,
        [userId],
      );
      await client.query('UPDATE password_resets SET used_at = now() WHERE user_id = $1 AND used_at IS NULL', [userId]);
    }
    // Its mails not yet sent carry those codes (a mail merge queued before the block): not sent, said in the run's
    // failures. One already being sent goes.
    if (blocked) {
      await client.query(`UPDATE mail_jobs SET status = 'failed', last_error = 'annulé : compte bloqué (ses codes sont annulés)' WHERE user_id = $1 AND status = 'pending'`, [userId]);
    }
    await recordAudit(client, actorId, blocked ? 'user.block' : 'user.unblock', {
      userId, login: u.login, wasBlocked: u.blocked, sessionsEnded,
    });
    return { sessionsEnded };
  });
}

/**
 * An admin corrects a user's email and/or phone (undefined = unchanged, '' = cleared). Validated; audited with
 * the old and new values. Returns the stored values.
 */
export async function updateUserContact(
  ctx: AppContext,
  scope: Scope,
  userId: string,
  change: { email?: string | null; phone?: string | null },
  actorId: string | null,
): Promise<{ email: string | null; phone: string | null }> {
  requireAdminScope(scope);
  let email: string | null | undefined;
  if (change.email !== undefined) {
    const v = (change.email ?? '').trim();
    email = v === '' ? null : normalizeEmail(v);
    if (email === null && v !== '') throw new DirectoryError('invalid', 'directory.invalidEmail', { value: v.slice(0, 80) });
  }
  let phone: string | null | undefined;
  if (change.phone !== undefined) {
    const v = normalizePhone(change.phone ?? '');
    if (v === null) throw new DirectoryError('invalid', 'directory.invalidPhone', { value: (change.phone ?? '').slice(0, 40) });
    phone = v === '' ? null : v;
  }
  return withTransaction(ctx.database.pool, async (client) => {
    const u = await lockManageableUser(client, scope, userId);
    const next = { email: email === undefined ? u.email : email, phone: phone === undefined ? u.phone : phone };
    if (next.email === u.email && next.phone === u.phone) return next;
    // One's own address is changed in « Mon compte », where the current password is asked (emailChangeNeedsPassword):
    // a stolen admin session must not put its own address there, then take the account by a reset link.
    if (actorId === userId && addressChanges(u.email, next.email)) {
      throw new DirectoryError('invalid', 'directory.selfContact');
    }
    await client.query('UPDATE users SET email = $2, phone = $3, updated_at = now() WHERE id = $1', [userId, next.email, next.phone]);
    await recordAudit(client, actorId, 'user.contact', {
      userId, login: u.login, before: { email: u.email, phone: u.phone }, after: next,
    });
    return next;
  });
}
