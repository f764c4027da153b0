// `trousseau admin`: a new password for the super admin `admin` (lost password, first start's output gone).
// The password comes from TROUSSEAU_ADMIN_PASSWORD or is generated and printed once; the account is
// unblocked (and restored, were it pre-deleted: it could not sign in otherwise) and its sessions end.
import { randomBytes } from 'node:crypto';
import { loadConfig } from '../config.js';
import { makeContext, type AppContext } from '../context.js';
import { openConfiguredDatabase } from '../db/open.js';
import { recordAudit } from '../directory/audit.js';
import { hashPassword } from './passwords.js';
import { withTransaction } from './tx.js';

/** Returns the password set, or null when there is no super admin `admin` (run `npm start` first). */
export async function resetSuperAdminPassword(ctx: AppContext, password?: string): Promise<string | null> {
  const chosen = password || randomBytes(12).toString('base64url');
  const hash = await hashPassword(chosen);
  return withTransaction(ctx.database.pool, async (c) => {
    const { rows } = await c.query<{ id: string }>(
      `UPDATE users SET password_hash = $1, blocked = false, pre_deleted_at = NULL, activated_at = coalesce(activated_at, now()), updated_at = now()
        WHERE login = 'admin' AND is_super_admin RETURNING id`,
      [hash],
    );
    if (!rows[0]) return null;
    await c.query('DELETE FROM sessions WHERE user_id = $1', [rows[0].id]);
    await recordAudit(c, null, 'admin.password_reset', { via: 'cli' });
    return chosen;
  });
}

export async function runWith(ctx: AppContext, log: (m: string) => void): Promise<number> {
  const fromEnv = process.env.TROUSSEAU_ADMIN_PASSWORD;
  const set = await resetSuperAdminPassword(ctx, fromEnv);
  if (set === null) {
    log('Aucun compte super-administrateur « admin » : lancez d’abord « npm start », qui le crée.');
    return 1;
  }
  log(`Nouveau mot de passe de admin : ${fromEnv ? '(celui de TROUSSEAU_ADMIN_PASSWORD)' : set}`);
  log(`Connexion : ${ctx.config.publicUrl}/connexion`);
  return 0;
}

export async function run(_args: string[] = []): Promise<number> {
  const config = loadConfig();
  const database = await openConfiguredDatabase(config, (m) => console.error(m));
  try {
    return await runWith(makeContext(config, database), (m) => console.log(m));
  } finally {
    await database.close();
  }
}
