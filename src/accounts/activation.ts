// One-time codes typed back by users: activation (first sign-in) and admin-issued renewal.
// Every failure looks the same to the caller, so the flows cannot be used to learn which logins exist.

import { passwordReplaced } from './signins.js';
import type { AppContext } from '../context.js';
import { recordAudit } from '../directory/audit.js';
import { externalProviderSql } from '../directory/policies.js';
import { normalizeCode } from './codes.js';
import { ACTIVATION, RENEWAL } from './issue.js';
import { hashPassword } from './passwords.js';
import { withTransaction } from './tx.js';

export type CodePurpose = typeof ACTIVATION | typeof RENEWAL;

export interface CodeHolder {
  id: string;
  login: string;
  email: string | null;
  phone: string | null;
  /** The stored HMAC the code matched: the consuming UPDATE is guarded by it. */
  mac: string;
  /**
   * Signs in only with this external provider (profile_policies): the code matched but cannot be used; the
   * caller says so, naming the provider (activateAccount / renewPassword refuse it anyway).
   */
  externalProvider: string | null;
}

/** Logins are generated in lower case; what people type is trimmed and lowered to match. */
export function normalizeLogin(input: string): string {
  return input.trim().toLowerCase();
}

// The phone offered on the form is the account's, else its mobile (a parent who gave only « Téléphone portable » in
// the school's file: csv.ts keeps it in users.mobile).
const HOLDER_SQL: Record<CodePurpose, string> = {
  activation: `SELECT id, login, email, coalesce(phone, mobile) AS phone, activation_code_mac AS mac, ${externalProviderSql('users')} AS external_provider FROM users
    WHERE login = $1 AND activated_at IS NULL AND activation_code_mac IS NOT NULL AND activation_code_expires_at > now()
      AND NOT blocked AND pre_deleted_at IS NULL`,
  renewal: `SELECT id, login, email, coalesce(phone, mobile) AS phone, renewal_code_mac AS mac, ${externalProviderSql('users')} AS external_provider FROM users
    WHERE login = $1 AND activated_at IS NOT NULL AND renewal_code_mac IS NOT NULL AND renewal_code_expires_at > now()
      AND NOT blocked AND pre_deleted_at IS NULL`,
};

/**
 * The account a (login, code) pair unlocks, or null — whether the login is unknown, the code wrong, expired,
 * already used, or the account blocked, pre-deleted or (for activation) already active.
 */
export async function findCodeHolder(ctx: AppContext, purpose: CodePurpose, login: string, typedCode: string): Promise<CodeHolder | null> {
  const code = normalizeCode(typedCode);
  const l = normalizeLogin(login);
  if (!code || !l) return null;
  const { rows } = await ctx.database.pool.query(HOLDER_SQL[purpose], [l]);
  const row = rows[0];
  if (!row || !ctx.secrets.verify(purpose, code, row.mac)) return null;
  return { id: row.id, login: row.login, email: row.email, phone: row.phone, mac: row.mac, externalProvider: row.external_provider ?? null };
}

export interface ActivationInput {
  password: string;
  /** Null when the structure's policy leaves it optional and none was given. */
  email: string | null;
  phone: string | null;
  /** Version of the structure's terms accepted with the activation (policies.termsDue), if versioned. */
  termsVersion?: number | null;
}

/**
 * Activates the account and consumes its code in one UPDATE guarded by the code's HMAC, so of two
 * concurrent activations with the same code only one succeeds. Returns false when the code is gone.
 */
export async function activateAccount(ctx: AppContext, holder: CodeHolder, input: ActivationInput, ip: string): Promise<boolean> {
  const hash = await hashPassword(input.password);
  // The activation and its audit row commit together: one statement, one round trip (issue #11: the activation's
  // rate against argon2's own; BEGIN/COMMIT around two statements cost a tenth of it on two cores).
  const r = await ctx.database.pool.query(
    `WITH done AS (
       UPDATE users SET password_hash = $3, activated_at = now(), terms_accepted_at = now(), email = $4, phone = $5, terms_version = $6,
         activation_code_enc = NULL, activation_code_mac = NULL, activation_code_expires_at = NULL, updated_at = now(),
         activation_code_used_mac = $2
       WHERE id = $1 AND activation_code_mac = $2 AND activation_code_expires_at > now() AND activated_at IS NULL
         AND NOT blocked AND pre_deleted_at IS NULL AND ${externalProviderSql('users')} IS NULL
       RETURNING id)
     INSERT INTO audit (actor_id, action, details) SELECT id, 'account.activate', $7::jsonb FROM done RETURNING actor_id`,
    [holder.id, holder.mac, hash, input.email || null, input.phone || null, input.termsVersion ?? null, JSON.stringify({ userId: holder.id, login: holder.login, ip })],
  );
  return r.rowCount === 1;
}

/**
 * Sets a new password with a renewal code, consuming the code (guarded like activation), voiding pending reset links
 * and ending every session.
 */
export async function renewPassword(ctx: AppContext, holder: CodeHolder, password: string, ip: string): Promise<boolean> {
  const hash = await hashPassword(password);
  return withTransaction(ctx.database.pool, async (client) => {
    const r = await client.query(
      `UPDATE users SET password_hash = $3, renewal_code_mac = NULL, renewal_code_expires_at = NULL, updated_at = now()
       WHERE id = $1 AND renewal_code_mac = $2 AND renewal_code_expires_at > now() AND NOT blocked AND pre_deleted_at IS NULL
         AND ${externalProviderSql('users')} IS NULL
       RETURNING id`,
      [holder.id, holder.mac, hash],
    );
    if (r.rowCount !== 1) return false;
    await passwordReplaced(client, holder.id);
    await recordAudit(client, holder.id, 'account.renewal', { userId: holder.id, login: holder.login, ip });
    return true;
  });
}

/**
 * The sign-in page accepts an activation or renewal code typed in the password field (as the reference does):
 * when the password check failed and `typed` reads as a code, the flow it unlocks, or null. Same guarantees as
 * findCodeHolder (one answer for every failure).
 */
export async function findCodeTypedAsPassword(ctx: AppContext, login: string, typed: string): Promise<{ purpose: CodePurpose; holder: CodeHolder } | null> {
  if (!normalizeCode(typed)) return null;
  for (const purpose of [ACTIVATION, RENEWAL] as const) {
    const holder = await findCodeHolder(ctx, purpose, login, typed);
    if (holder) return { purpose, holder };
  }
  return null;
}

/**
 * True when `login` names an account already activated (and usable) AND `typedCode` is the activation code it was
 * activated with (migration 0024): the activation page opened from the sheet's QR code then says « compte déjà
 * activé, connectez-vous » instead of a dead end. Any other code is false, as for an unknown login: the answer
 * must not tell who exists and is activated.
 */
export async function isAlreadyActivated(ctx: AppContext, login: string, typedCode: string): Promise<boolean> {
  const l = normalizeLogin(login);
  const code = normalizeCode(typedCode);
  if (!l || !code) return false;
  const r = await ctx.database.pool.query(
    'SELECT activation_code_used_mac AS mac FROM users WHERE login = $1 AND activated_at IS NOT NULL AND NOT blocked AND pre_deleted_at IS NULL',
    [l],
  );
  return ctx.secrets.verify(ACTIVATION, code, r.rows[0]?.mac);
}
