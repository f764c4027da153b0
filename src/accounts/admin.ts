// `trousseau admin`: a new password for the super admin `admin` (lost password, first start's output gone);
// `trousseau admin --local <login> --structure <UAI> [--retirer]`: appoints (removes) a local administrator.
// The password comes from TROUSSEAU_ADMIN_PASSWORD or is generated and printed once; the account is
// unblocked (and restored, were it pre-deleted: it could not sign in otherwise) and its sessions end.
import { randomBytes } from 'node:crypto';
import { loadConfig } from '../config.js';
import { makeContext, type AppContext } from '../context.js';
import { openConfiguredDatabase } from '../db/open.js';
import { parseArgs } from 'node:util';
import { recordAudit } from '../directory/audit.js';
import { appointLocalAdmin, removeLocalAdmin } from '../directory/local-admins.js';
import { DirectoryError } from '../directory/users.js';
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

const USAGE = `usage : trousseau admin                                        nouveau mot de passe pour admin
        trousseau admin --local <login> --structure <UAI> [--retirer]   nomme (retire) un administrateur local`;

/** `--local <login> --structure <UAI|id> [--retirer]`, with the server's unrestricted scope. Exit code 0, 1 (refused) or 2 (usage). */
export async function runLocal(ctx: AppContext, args: string[], log: (m: string) => void): Promise<number> {
  let o;
  try {
    o = parseArgs({ args, options: { local: { type: 'string' }, structure: { type: 'string' }, retirer: { type: 'boolean' }, remove: { type: 'boolean' } }, strict: true }).values;
  } catch (e) {
    log(`${(e as Error).message}\n${USAGE}`);
    return 2;
  }
  if (!o.local || !o.structure) {
    log(`--local <login> et --structure <UAI> sont obligatoires\n${USAGE}`);
    return 2;
  }
  const pool = ctx.database.pool;
  const user = (await pool.query('SELECT id, login FROM users WHERE login = $1', [o.local.trim().toLowerCase()])).rows[0];
  if (!user) {
    log(`compte inconnu : « ${o.local} »`);
    return 1;
  }
  const s = (await pool.query('SELECT id, name, uai FROM structures WHERE uai = upper($1) OR id::text = $1', [o.structure.trim()])).rows[0];
  if (!s) {
    log(`établissement inconnu : « ${o.structure} »`);
    return 1;
  }
  const remove = o.retirer || o.remove;
  try {
    const changed = remove
      ? await removeLocalAdmin(pool, { kind: 'all' }, user.id, s.id, null)
      : await appointLocalAdmin(pool, { kind: 'all' }, user.id, s.id, null);
    log(`${user.login} ${remove ? (changed ? 'n’administre plus' : 'n’administrait pas') : changed ? 'administre désormais' : 'administrait déjà'} ${s.name}${s.uai ? ` (${s.uai})` : ''}`);
    return 0;
  } catch (e) {
    if (!(e instanceof DirectoryError)) throw e;
    log(e.message);
    return 1;
  }
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

export async function run(args: string[] = []): Promise<number> {
  if (args.includes('--help') || args.includes('-h')) {
    console.error(USAGE);
    return 0;
  }
  const config = loadConfig();
  const database = await openConfiguredDatabase(config, (m) => console.error(m));
  try {
    const ctx = makeContext(config, database);
    if (args.length) return await runLocal(ctx, args, (m) => console.log(m));
    return await runWith(ctx, (m) => console.log(m));
  } finally {
    await database.close();
  }
}
