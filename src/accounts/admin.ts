// `trousseau admin`: a new password for the super admin `admin` (lost password, first start's output gone);
// `trousseau admin --local <login> --structure <UAI|id> [--retirer]`: appoints (removes) a local administrator.
// The password comes from TROUSSEAU_ADMIN_PASSWORD or is generated and printed once. The account is put back
// in a state where it can sign in, whatever was done to it: unblocked, no pre-deletion, its attempt counters
// forgotten, its sessions ended, and its e-mail address removed with every pending reset link (an address
// set by someone else would hand them the account through "mot de passe oublié"; the admin sets it again in
// "Mon compte").
import { passwordReplaced } from './signins.js';
import { randomBytes } from 'node:crypto';
import { loadConfig } from '../config.js';
import type { AppContext } from '../context.js';
import { withCommandContext } from '../db/open.js';
import { parseArgs } from 'node:util';
import { recordAudit } from '../directory/audit.js';
import { appointLocalAdmin, removeLocalAdmin } from '../directory/local-admins.js';
import { DirectoryError } from '../directory/users.js';
import { hashPassword } from './passwords.js';
import { clearRate, loginKey } from './ratelimit.js';
import { withTransaction } from './tx.js';

export interface SuperAdminReset {
  password: string;
  /** The address removed from the account, if it had one. */
  removedEmail: string | null;
  /** Whether the account was pre-deleted. */
  wasPreDeleted: boolean;
}

/** Returns what was done, or null when there is no super admin `admin` (run `npm start` first). */
export async function resetSuperAdmin(ctx: AppContext, password?: string): Promise<SuperAdminReset | null> {
  const chosen = password || randomBytes(12).toString('base64url');
  const hash = await hashPassword(chosen);
  return withTransaction(ctx.database.pool, async (c) => {
    const { rows } = await c.query<{ id: string; email: string | null; pre_deleted_at: Date | null }>(
      `UPDATE users u SET password_hash = $1, blocked = false, pre_deleted_at = NULL, email = NULL,
          activated_at = coalesce(u.activated_at, now()), updated_at = now()
        FROM users old WHERE old.id = u.id AND u.login = 'admin' AND u.is_super_admin
        RETURNING u.id, old.email, old.pre_deleted_at`,
      [hash],
    );
    const u = rows[0];
    if (!u) return null;
    await passwordReplaced(c, u.id);
    await clearRate(c, loginKey('admin'));
    await c.query("DELETE FROM rate_limits WHERE key LIKE 'auth:login-ip:admin:%'");
    const removedEmail = u.email || null;
    await recordAudit(c, null, 'admin.password_reset', { via: 'cli', removedEmail, wasPreDeleted: !!u.pre_deleted_at });
    return { password: chosen, removedEmail, wasPreDeleted: !!u.pre_deleted_at };
  });
}

const USAGE = `usage : trousseau admin                                        nouveau mot de passe pour admin
        trousseau admin --local <login> --structure <UAI|id> [--retirer]   nomme (retire) un administrateur local (établissement : son UAI, ou son identifiant, visible dans l’adresse de sa page de la console, s’il n’en a pas)`;

/** `--local <login> --structure <UAI|id> [--retirer]`, with the server's unrestricted scope. Exit code 0, 1 (refused) or 2 (usage). */
export async function runLocal(ctx: AppContext, args: string[], log: (m: string) => void): Promise<number> {
  let o: { local?: string; structure?: string; retirer?: boolean; remove?: boolean };
  try {
    o = parseArgs({ args, options: { local: { type: 'string' }, structure: { type: 'string' }, retirer: { type: 'boolean' }, remove: { type: 'boolean' } }, strict: true }).values;
  } catch (e) {
    log(`${(e as Error).message}\n${USAGE}`);
    return 2;
  }
  if (!o.local || !o.structure) {
    log(`--local <login> et --structure <UAI|id> sont obligatoires\n${USAGE}`);
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
  const done = await resetSuperAdmin(ctx, fromEnv);
  if (done === null) {
    log('Aucun compte super-administrateur « admin » : lancez d’abord « npm start », qui le crée.');
    return 1;
  }
  log(`Nouveau mot de passe de admin : ${fromEnv ? '(celui de TROUSSEAU_ADMIN_PASSWORD)' : done.password}`);
  if (done.wasPreDeleted) log('Le compte était pré-supprimé : il est rétabli.');
  if (done.removedEmail) log(`Adresse électronique retirée du compte : ${done.removedEmail} (à ressaisir dans « Mon compte »).`);
  log(`Connexion : ${ctx.config.publicUrl}/connexion`);
  return 0;
}

export async function run(args: string[] = []): Promise<number> {
  if (args.includes('--help') || args.includes('-h')) {
    // Asked for: the usage is the answer (stdout, as every command's), not an error.
    console.log(USAGE);
    return 0;
  }
  return withCommandContext(loadConfig(), (ctx) => (args.length ? runLocal(ctx, args, (m) => console.log(m)) : runWith(ctx, (m) => console.log(m))));
}
