// Codes an administrator hands out by hand: a renewal code for an active account that lost its password
// ("Générer un code de renouvellement"), or a fresh activation code for an account not yet activated.
// Each change commits with its audit row in one transaction.
import type { AppContext } from '../context.js';
import { recordAudit } from '../directory/audit.js';
import type { Scope } from '../directory/scope.js';
import { externalProviderOf } from '../directory/policies.js';
import { DirectoryError, requireManageable } from '../directory/users.js';
import { DomainError, type DomainCode, type DomainParams } from '../lib/errors.js';
import { issueActivationCode, issueRenewalCode, RENEWAL_HOURS } from './issue.js';
import { withTransaction } from './tx.js';
import type { Queryable } from '../db/index.js';

/** The account is not in the state the operation needs (HTTP 409). */
export class AccountStateError extends DomainError {
  constructor(code: DomainCode, params: DomainParams = {}) {
    super(code, params);
    this.name = 'AccountStateError';
  }
}

/**
 * An account that signs in only with an external provider (profile_policies) has no Trousseau credentials to
 * renew or activate: refused with a message naming the provider.
 */
export async function refuseExternal(ctx: AppContext, userId: string): Promise<void> {
  const provider = await externalProviderOf(ctx.database.pool, userId);
  if (provider) {
    throw new AccountStateError('account.external', { provider });
  }
}

/**
 * A code for an account that no code opens (findCodeHolder: blocked or pre-deleted) would be handed out dead: refused
 * with what to do first. Locked row, in the caller's transaction.
 */
async function refuseUnusable(client: Queryable, userId: string): Promise<void> {
  const u = (await client.query<{ blocked: boolean; pre: boolean }>('SELECT blocked, pre_deleted_at IS NOT NULL AS pre FROM users WHERE id = $1', [userId])).rows[0];
  if (u?.pre) throw new AccountStateError('account.preDeleted');
  if (u?.blocked) throw new AccountStateError('account.blocked');
}

/**
 * New renewal code for an ACTIVE account, valid 72 hours; only its HMAC is stored (purpose 'renewal'), so the
 * returned canonical code (format it with formatCode) must be shown to the admin once. Replaces any previous one.
 * The account must be one `scope` may change (requireManageable: DirectoryError not_found / forbidden);
 * AccountStateError('account.notActivated') for an account not yet activated; DirectoryError selfRenewal for one's own.
 */
export async function generateRenewalCode(ctx: AppContext, scope: Scope, userId: string, actorId: string): Promise<string> {
  // Not for oneself: a session alone would set the password (« Mon compte » asks the current one to change it).
  if (actorId === userId) throw new DirectoryError('invalid', 'directory.selfRenewal');
  const issued = issueRenewalCode(ctx.secrets);
  return withTransaction(ctx.database.pool, async (client) => {
    await requireManageable(client, scope, [userId], { lock: true });
    await refuseExternal(ctx, userId);
    await refuseUnusable(client, userId);
    const r = await client.query(
      `UPDATE users SET renewal_code_mac = $2, renewal_code_expires_at = $3, updated_at = now()
       WHERE id = $1 AND activated_at IS NOT NULL RETURNING login`,
      [userId, issued.mac, issued.expiresAt],
    );
    if (r.rowCount !== 1) throw new AccountStateError('account.notActivated');
    await recordAudit(client, actorId, 'account.renewal_code', { userId, login: r.rows[0].login, hours: RENEWAL_HOURS });
    return issued.code;
  });
}

/**
 * Replaces the activation code of an account NOT yet activated (the old one stops working); returns the new code.
 * The account must be one `scope` may change (requireManageable); AccountStateError('account.alreadyActivated')
 * for an activated account.
 */
export async function regenerateActivationCode(ctx: AppContext, scope: Scope, userId: string, actorId: string): Promise<string> {
  const issued = issueActivationCode(ctx.secrets, ctx.config.activationCodeDays);
  return withTransaction(ctx.database.pool, async (client) => {
    await requireManageable(client, scope, [userId], { lock: true });
    await refuseExternal(ctx, userId);
    await refuseUnusable(client, userId);
    const r = await client.query(
      `UPDATE users SET activation_code_enc = $2, activation_code_mac = $3, activation_code_expires_at = $4, updated_at = now()
       WHERE id = $1 AND activated_at IS NULL RETURNING login`,
      [userId, issued.enc, issued.mac, issued.expiresAt],
    );
    if (r.rowCount !== 1) throw new AccountStateError('account.alreadyActivated');
    await recordAudit(client, actorId, 'account.activation_code', { userId, login: r.rows[0].login });
    return issued.code;
  });
}
