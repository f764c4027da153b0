// Codes an administrator hands out by hand: a renewal code for an active account that lost its password
// ("Générer un code de renouvellement"), or a fresh activation code for an account not yet activated.
import type { AppContext } from '../context.js';
import { recordAudit } from '../directory/audit.js';
import type { Scope } from '../directory/scope.js';
import { externalProviderOf } from '../directory/policies.js';
import { requireManageable } from '../directory/users.js';
import { issueActivationCode, issueRenewalCode, RENEWAL_HOURS } from './issue.js';

/** The account is not in the state the operation needs (message in French, for the admin). */
export class AccountStateError extends Error {
  readonly statusCode = 409;
}

/**
 * An account that signs in only with an external provider (profile_policies) has no Trousseau credentials to
 * renew or activate: refused with a message naming the provider.
 */
export async function refuseExternal(ctx: AppContext, userId: string): Promise<void> {
  const provider = await externalProviderOf(ctx.database.pool, userId);
  if (provider) {
    throw new AccountStateError(`Ce compte se connecte avec ${provider} : pas de code ni de mot de passe Trousseau. Son mot de passe se gère chez ${provider}.`);
  }
}

/**
 * New renewal code for an ACTIVE account, valid 72 hours; only its HMAC is stored (purpose 'renewal'), so the
 * returned canonical code (format it with formatCode) must be shown to the admin once. Replaces any previous one.
 * The account must be one `scope` may change (requireManageable: DirectoryError not_found / forbidden).
 */
export async function generateRenewalCode(ctx: AppContext, scope: Scope, userId: string, actorId: string): Promise<string> {
  await requireManageable(ctx.database.pool, scope, [userId]);
  await refuseExternal(ctx, userId);
  const issued = issueRenewalCode(ctx.secrets);
  const r = await ctx.database.pool.query(
    `UPDATE users SET renewal_code_mac = $2, renewal_code_expires_at = $3, updated_at = now()
     WHERE id = $1 AND activated_at IS NOT NULL RETURNING login`,
    [userId, issued.mac, issued.expiresAt],
  );
  if (r.rowCount !== 1) {
    throw new AccountStateError('Ce compte n’est pas encore activé : générez plutôt un nouveau code d’activation.');
  }
  await recordAudit(ctx.database.pool, actorId, 'account.renewal_code', { userId, login: r.rows[0].login, hours: RENEWAL_HOURS });
  return issued.code;
}

/**
 * Replaces the activation code of an account NOT yet activated (the old one stops working); returns the new code.
 * The account must be one `scope` may change (requireManageable).
 */
export async function regenerateActivationCode(ctx: AppContext, scope: Scope, userId: string, actorId: string): Promise<string> {
  await requireManageable(ctx.database.pool, scope, [userId]);
  await refuseExternal(ctx, userId);
  const issued = issueActivationCode(ctx.secrets, ctx.config.activationCodeDays);
  const r = await ctx.database.pool.query(
    `UPDATE users SET activation_code_enc = $2, activation_code_mac = $3, activation_code_expires_at = $4, updated_at = now()
     WHERE id = $1 AND activated_at IS NULL RETURNING login`,
    [userId, issued.enc, issued.mac, issued.expiresAt],
  );
  if (r.rowCount !== 1) {
    throw new AccountStateError('Ce compte est déjà activé : générez plutôt un code de renouvellement du mot de passe.');
  }
  await recordAudit(ctx.database.pool, actorId, 'account.activation_code', { userId, login: r.rows[0].login });
  return issued.code;
}
