// Ending what signs an account in, everywhere at once: after a password change, reset or renewal, and when an
// account is blocked, whoever held the old password (or a session) keeps no access — neither to Trousseau's pages
// nor, through its OpenID provider, to the ENT's applications (whose refresh tokens lived 30 days on).
import type { Queryable } from '../db/index.js';

/**
 * Transaction-level advisory lock between what decides whether an account's password may sign it in (a school's
 * « Paramètres », savePolicy: exclusive) and the insertion of a session opened with that password (shared,
 * web/auth.ts createSession with `password`): a sign-in that checked the old rule cannot insert its session after
 * the save ended the refused ones. Shared holders never wait for each other. (The migrator holds 745201, an import
 * 745202, a drop pass 745203.)
 */
export const SIGN_IN_RULES_LOCK = 745204;

/**
 * Ends the web sessions of `userId` (one id or several: a pre-deletion, an erasure; all but `keepSessionIdHash`, the
 * caller's own when it changes its own password)
 * and everything Trousseau's OpenID provider holds for the account: its sessions at the provider, grants,
 * authorization codes, access and refresh tokens (oidc_payloads rows whose payload names it as `accountId`,
 * migration 0029). An application then gets `invalid_grant` on refresh and must sign the user in again. Run in the
 * caller's transaction. Returns the number of live web sessions ended: expired ones the housekeeping has not removed
 * yet are deleted too, but were no longer « en cours » (« 1 session en cours a été fermée »).
 */
export async function endSignIns(db: Queryable, userId: string | readonly string[], keepSessionIdHash: string | null = null): Promise<number> {
  const ids = typeof userId === 'string' ? [userId] : [...userId];
  if (!ids.length) return 0;
  return endSignInsOf(db, 'SELECT unnest($1::uuid[]) AS id', [ids], { keepSessionIdHash });
}

/**
 * After the account's password is replaced (« Mon compte », a reset link, a renewal code, the admin's CLI reset): ends
 * its sign-ins (endSignIns, but `keepSessionIdHash`) and voids what would set the password again behind the person's
 * back — pending reset links and a renewal code not yet used (a printed sheet is a way back in for someone who lost
 * the password; found later, it must not take the account). In the caller's transaction.
 */
export async function passwordReplaced(db: Queryable, userId: string, keepSessionIdHash: string | null = null): Promise<void> {
  await db.query('UPDATE users SET renewal_code_mac = NULL, renewal_code_expires_at = NULL WHERE id = $1 AND renewal_code_mac IS NOT NULL', [userId]);
  await db.query('UPDATE password_resets SET used_at = now() WHERE user_id = $1 AND used_at IS NULL', [userId]);
  await endSignIns(db, userId, keepSessionIdHash);
}

/**
 * endSignIns for a set of accounts written as SQL (`accounts`: a query whose one column is `id`; its parameters
 * `params`), in one statement: the ids never travel through Node, so a school's thousands of parents cost one round
 * trip. `keepSessionIdHash`: that web session stays (the caller's own, as endSignIns). `keepProviderSessions`: the web sessions opened through an identity provider (those with a federation_sessions
 * row, src/federation/accounts.ts) stay — only those opened with the Trousseau password end. The OpenID provider's
 * rows of these accounts all go (they do not record which Trousseau session signed them in): an application signs the
 * person in again, through the provider. Run in the caller's transaction; returns the live web sessions ended.
 */
export async function endSignInsOf(
  db: Queryable,
  accounts: string,
  params: unknown[],
  opts: { keepProviderSessions?: boolean; keepSessionIdHash?: string | null } = {},
): Promise<number> {
  const p = [...params];
  let keep = opts.keepProviderSessions ? 'AND NOT EXISTS (SELECT 1 FROM federation_sessions fs WHERE fs.session_id_hash = s.id_hash)' : '';
  if (opts.keepSessionIdHash) {
    p.push(opts.keepSessionIdHash);
    keep += ` AND s.id_hash <> $${p.length}`;
  }
  const r = await db.query<{ live: number }>(
    `WITH acc AS MATERIALIZED (${accounts}),
     ended AS (DELETE FROM sessions s WHERE s.user_id IN (SELECT id FROM acc) ${keep} RETURNING s.expires_at),
     tokens AS (DELETE FROM oidc_payloads o WHERE o.payload ? 'accountId' AND o.payload->>'accountId' IN (SELECT id::text FROM acc))
     SELECT count(*) FILTER (WHERE expires_at > now())::int AS live FROM ended`,
    p,
  );
  return r.rows[0].live;
}
