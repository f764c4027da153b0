// Password sign-in: the credential check, apart from HTTP.
import type { AppContext } from '../context.js';
import { passwordRefusedSql } from '../directory/policies.js';
import { normalizeLogin } from './activation.js';
import { hashPassword, needsRehash, verifyPassword } from './passwords.js';

export type SignInResult =
  | { ok: true; userId: string }
  | { ok: false; reason: 'invalid' | 'blocked' }
  | { ok: false; reason: 'external'; provider: string };

/**
 * 'invalid' for an unknown login, a wrong password, an account without password (not activated) or pre-deleted (one answer
 * for all); 'blocked' only once the password is proven right, so it reveals nothing to a guesser. 'external' for an
 * account whose structures all say it signs in only with an identity provider (passwordRefusedSql: its « Paramètres »),
 * whatever the password typed — right, wrong or none kept — and after the same work: its password must not open
 * Trousseau (nor, through it, the OpenID provider's applications), and the answer tells nothing about it.
 */
export async function checkCredentials(ctx: AppContext, login: string, password: string): Promise<SignInResult> {
  const l = normalizeLogin(login);
  const { rows } = l
    ? await ctx.database.pool.query(
        `SELECT id, password_hash, blocked, pre_deleted_at, ${passwordRefusedSql('users')} AS external_provider FROM users WHERE login = $1`,
        [l],
      )
    : { rows: [] };
  const u = rows[0];
  if (u && !u.pre_deleted_at && u.external_provider) {
    await verifyPassword(null, password); // the time any other answer takes; the hash is not looked at
    return { ok: false, reason: 'external', provider: u.external_provider as string };
  }
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
