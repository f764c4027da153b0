// "Mon compte": what a signed-in user sees about their own account, and the changes they may make.
import { passwordReplaced } from './signins.js';
import type { AppContext } from '../context.js';
import { recordAudit } from '../directory/audit.js';
import { externalProviderSql } from '../directory/policies.js';
import { hashPassword, verifyPassword } from './passwords.js';
import { withTransaction } from './tx.js';

export interface ChildDetails {
  firstName: string;
  lastName: string;
  classes: string[];
}

export interface AccountDetails {
  id: string;
  login: string;
  firstName: string;
  lastName: string;
  profile: string;
  email: string | null;
  phone: string | null;
  activatedAt: Date | null;
  structures: string[];
  classes: string[];
  adminOf: string[];
  isSuperAdmin: boolean;
  /** False for an account that signs in only through an identity provider (activated there, no Trousseau password). */
  hasPassword: boolean;
  /**
   * The identity provider the account signs in with, as people know it (« EduConnect »): the one it is linked to
   * (federation_links, the first linked), else the one its school's « Paramètres » name; null when none.
   */
  signInProvider: string | null;
  children: ChildDetails[];
}

export async function loadAccountDetails(ctx: AppContext, userId: string): Promise<AccountDetails | null> {
  const { rows } = await ctx.database.pool.query(
    `SELECT u.id, u.login, u.first_name, u.last_name, u.profile, u.email, u.phone, u.activated_at, u.is_super_admin, u.password_hash IS NOT NULL AS has_password,
       coalesce((SELECT fl.provider_name FROM federation_links fl WHERE fl.user_id = u.id ORDER BY fl.created_at, fl.provider_name LIMIT 1),
                ${externalProviderSql('u')}) AS sign_in_provider,
       ARRAY(SELECT s.name FROM user_structures us JOIN structures s ON s.id = us.structure_id WHERE us.user_id = u.id ORDER BY s.name) AS structures,
       ARRAY(SELECT c.name FROM user_classes uc JOIN classes c ON c.id = uc.class_id WHERE uc.user_id = u.id ORDER BY c.name) AS classes,
       ARRAY(SELECT s.name FROM local_admins la JOIN structures s ON s.id = la.structure_id WHERE la.user_id = u.id ORDER BY s.name) AS admin_of,
       COALESCE((SELECT json_agg(json_build_object('firstName', c.first_name, 'lastName', c.last_name,
                   'classes', ARRAY(SELECT cl.name FROM user_classes uc JOIN classes cl ON cl.id = uc.class_id WHERE uc.user_id = c.id ORDER BY cl.name))
                   ORDER BY c.last_name, c.first_name)
                 FROM relations r JOIN users c ON c.id = r.child_id WHERE r.parent_id = u.id AND c.pre_deleted_at IS NULL), '[]') AS children
     FROM users u WHERE u.id = $1`,
    [userId],
  );
  const r = rows[0];
  if (!r) return null;
  return {
    id: r.id,
    login: r.login,
    firstName: r.first_name,
    lastName: r.last_name,
    profile: r.profile,
    email: r.email,
    phone: r.phone,
    activatedAt: r.activated_at,
    structures: r.structures,
    classes: r.classes,
    adminOf: r.admin_of,
    isSuperAdmin: r.is_super_admin,
    hasPassword: r.has_password,
    signInProvider: r.sign_in_provider,
    children: r.children,
  };
}

/**
 * Whether replacing the account's address with `email` asks for its current password: the address changes (its case
 * aside, as reset links see it) and the account has a password. A session alone must not do it — a stolen one would
 * put its own address there, then a reset link mailed to it would take the account for good. An account without a
 * password (signs in only through an identity provider) has none to give, and its address opens no reset link
 * (requestPasswordReset and findResetToken want a password and no provider).
 */
export function emailChangeNeedsPassword(d: Pick<AccountDetails, 'email' | 'hasPassword'>, email: string | null): boolean {
  return d.hasPassword && addressChanges(d.email, email);
}

/** Whether `next` is another address than `current` (null: none); a change of case only is none, as reset links compare them. */
export function addressChanges(current: string | null, next: string | null): boolean {
  return (next ?? '').toLowerCase() !== (current ?? '').toLowerCase();
}

/** Whether `current` is the account's password (false when it has none). */
export async function verifyCurrentPassword(ctx: AppContext, userId: string, current: string): Promise<boolean> {
  const { rows } = await ctx.database.pool.query('SELECT password_hash FROM users WHERE id = $1', [userId]);
  return verifyPassword(rows[0]?.password_hash, current);
}

/**
 * `email` null: none kept (it is optional unless the account's policy requires it, as at activation). The caller has
 * checked the current password when emailChangeNeedsPassword says so.
 */
export async function updateContact(ctx: AppContext, userId: string, email: string | null, phone: string | null): Promise<void> {
  await withTransaction(ctx.database.pool, async (c) => {
    await c.query('UPDATE users SET email = $2, phone = $3, updated_at = now() WHERE id = $1', [userId, email, phone || null]);
    await recordAudit(c, userId, 'account.contact_update', { userId });
  });
}

/**
 * Checks the current password (false when wrong); on success sets the new one, ends the user's other sessions and
 * voids what would set it again behind the person's back: pending reset links and a renewal code not yet used (a
 * printed sheet is a way back in for someone who lost the password; found later, it must not take the account).
 */
export async function changePassword(
  ctx: AppContext, userId: string, current: string, next: string, keepSessionIdHash: string | null,
): Promise<boolean> {
  if (!(await verifyCurrentPassword(ctx, userId, current))) return false;
  const hash = await hashPassword(next);
  await withTransaction(ctx.database.pool, async (c) => {
    await c.query('UPDATE users SET password_hash = $2, updated_at = now() WHERE id = $1', [userId, hash]);
    await passwordReplaced(c, userId, keepSessionIdHash);
    await recordAudit(c, userId, 'account.password_change', { userId });
  });
  return true;
}
