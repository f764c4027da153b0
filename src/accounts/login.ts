// Password sign-in: the credential check, apart from HTTP.
import type { AppContext } from '../context.js';
import { normalizeLogin } from './activation.js';
import { hashPassword, needsRehash, verifyPassword } from './passwords.js';

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
  // A hash made with other argon2 parameters (earlier demo seed, older default) takes the one set now, while the
  // password is at hand: the compare guards against a concurrent password change.
  if (needsRehash(usable!)) {
    await ctx.database.pool.query('UPDATE users SET password_hash = $2 WHERE id = $1 AND password_hash = $3', [u.id, await hashPassword(password), usable]);
  }
  if (u.blocked) return { ok: false, reason: 'blocked' };
  return { ok: true, userId: u.id };
}
