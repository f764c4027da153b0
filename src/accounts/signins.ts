// Ending what signs an account in, everywhere at once: after a password change, reset or renewal, and when an
// account is blocked, whoever held the old password (or a session) keeps no access — neither to Trousseau's pages
// nor, through its OpenID provider, to the ENT's applications (whose refresh tokens lived 30 days on).
import type { Queryable } from '../db/index.js';
import { recordAudit } from '../directory/audit.js';

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
  // A provider identity linked by proving the old password or the letter's code (the « aucun compte » page,
  // federation_links.proven_by, migration 0040) was a way in for whoever knew them: it goes with them. Links the
  // provider's own answer matched (directory keys, a first sign-in) stay.
  const unlinked = await db.query('DELETE FROM federation_links WHERE user_id = $1 AND proven_by IS NOT NULL RETURNING provider_id, subject', [userId]);
  if (unlinked.rowCount) {
    await recordAudit(db, userId, 'federation.unlink', {
      userId, reason: 'password_replaced', links: unlinked.rows.map((r) => ({ provider: r.provider_id, subject: r.subject })),
    });
  }
  await endSignIns(db, userId, keepSessionIdHash);
}

/** How a sign-in was made: with the Trousseau password (or a code that set it), or through an identity provider. */
export type SignInMethod = 'password' | 'provider';

/**
 * How the web session `idHash` was opened: through an identity provider when it has a federation_sessions row
 * (src/federation/accounts.ts saveProviderSession, written before the browser is sent on), else with the password.
 */
export async function sessionSignIn(db: Queryable, idHash: string): Promise<SignInMethod> {
  const r = await db.query('SELECT 1 FROM federation_sessions WHERE session_id_hash = $1', [idHash]);
  return r.rowCount ? 'provider' : 'password';
}

/**
 * SQL condition on an oidc_payloads row `o`: what a refused password must not keep — an authorization code, an access
 * or refresh token (an interaction) obtained with the password, or whose origin is not known (signed_in_with NULL:
 * written before migration 0032). Grants stay: they record consent, give nothing alone, and the tokens obtained
 * through the identity provider need theirs (one grant serves both). So do the provider's sessions: one gives nothing
 * alone either (src/oidc/provider.ts: its `amr` must be the live Trousseau session's, whose password is checked), and
 * a refresh token obtained through the identity provider without offline_access dies with the browser's session,
 * which a password sign-in in the same browser since has labelled the password's.
 */
export const passwordOidcRowSql = (o: string): string => `${o}.kind NOT IN ('Grant', 'Session') AND ${o}.signed_in_with IS DISTINCT FROM 'provider'`;

/**
 * endSignIns for a set of accounts written as SQL (`accounts`: a query whose one column is `id`; its parameters
 * `params`), in one statement: the ids never travel through Node, so a school's thousands of parents cost one round
 * trip. `keepSessionIdHash`: that web session stays (the caller's own, as endSignIns). `keepProviderSessions`: what
 * was opened through an identity provider stays — the web sessions with a federation_sessions row
 * (src/federation/accounts.ts) and the OpenID provider's rows obtained through one (signed_in_with 'provider',
 * migration 0032) with the grants they need —, only what the Trousseau password opened ends (passwordOidcRowSql: the
 * rows whose origin is not known go too). Without it, all the OpenID provider's rows of these accounts go. Run in the
 * caller's transaction; returns the live web sessions ended.
 */
export async function endSignInsOf(
  db: Queryable,
  accounts: string,
  params: unknown[],
  opts: { keepProviderSessions?: boolean; keepSessionIdHash?: string | null } = {},
): Promise<number> {
  const p = [...params];
  let keep = opts.keepProviderSessions ? 'AND NOT EXISTS (SELECT 1 FROM federation_sessions fs WHERE fs.session_id_hash = s.id_hash)' : '';
  const keepTokens = opts.keepProviderSessions ? `AND ${passwordOidcRowSql('o')}` : '';
  if (opts.keepSessionIdHash) {
    p.push(opts.keepSessionIdHash);
    keep += ` AND s.id_hash <> $${p.length}`;
  }
  const r = await db.query<{ live: number }>(
    `WITH acc AS MATERIALIZED (${accounts}),
     ended AS (DELETE FROM sessions s WHERE s.user_id IN (SELECT id FROM acc) ${keep} RETURNING s.expires_at),
     tokens AS (DELETE FROM oidc_payloads o WHERE o.payload ? 'accountId' AND o.payload->>'accountId' IN (SELECT id::text FROM acc) ${keepTokens})
     SELECT count(*) FILTER (WHERE expires_at > now())::int AS live FROM ended`,
    p,
  );
  return r.rows[0].live;
}
