// Password sign-in: the credential check, apart from HTTP.
import type { AppContext } from '../context.js';
import { normalizeLogin } from './activation.js';
import { verifyPassword } from './passwords.js';

export type SignInResult = { ok: true; userId: string } | { ok: false; reason: 'invalid' | 'blocked' };

/**
 * 'invalid' for an unknown login, a wrong password, an account without password (not activated) or pre-deleted (one answer
 * for all); 'blocked' only once the password is proven right, so it reveals nothing to a guesser.
 */
export async function checkCredentials(ctx: AppContext, login: string, password: string): Promise<SignInResult> {
  const l = normalizeLogin(login);
  const { rows } = l
    ? await ctx.database.pool.query(
        'SELECT id, password_hash, blocked, pre_deleted_at FROM users WHERE login = $1',
        [l],
      )
    : { rows: [] };
  const u = rows[0];
  const usable = u && !u.pre_deleted_at ? (u.password_hash as string | null) : null;
  if (!(await verifyPassword(usable, password))) return { ok: false, reason: 'invalid' };
  if (u.blocked) return { ok: false, reason: 'blocked' };
  return { ok: true, userId: u.id };
}
