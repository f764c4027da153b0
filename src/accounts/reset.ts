// "Mot de passe oublié": a single-use link mailed to the account's address. Only the token's SHA-256 is
// stored, it expires after an hour, and using it ends every session of the account.
import { passwordReplaced } from './signins.js';
import { createHash, randomBytes } from 'node:crypto';
import type { AppContext } from '../context.js';
import { recordAudit } from '../directory/audit.js';
import { unlinkable } from '../mail/compose.js';
import { enqueueMail } from '../mail/queue.js';
import { externalProviderSql } from '../directory/policies.js';
import { normalizeLogin } from './activation.js';
import { hashPassword } from './passwords.js';
import { withTransaction } from './tx.js';

export const RESET_MINUTES = 60;
// One address may serve a few accounts (a parent and a personal one); never more than this many mails.
const MAX_ACCOUNTS_PER_REQUEST = 5;
/**
 * Reset mails one account may receive per hour, whoever asks and from however many IPs: beyond it, requests are
 * answered the same and send nothing (a mailbox is not to be flooded through us).
 */
export const RESET_MAILS_PER_HOUR = 3;

const hashToken = (token: string): string => createHash('sha256').update(token).digest('hex');

export interface ResetMail {
  subject: string;
  text: string;
  html?: string;
}

/** The mail for one account, written by the caller (it knows the language): link and login given. */
export type ResetMailComposer = (o: { link: string; login: string; firstName: string; minutes: number }) => ResetMail;
/** The mail for an account that signs in with an external provider (issue #9): no link, the provider named. */
export type ExternalResetComposer = (o: { login: string; firstName: string; provider: string }) => ResetMail;

/**
 * Looks the identifier up as a login or an email address and mails a reset link to every active account that
 * matches and has an address. Says nothing about what it found: the caller answers the same either way.
 * At most RESET_MAILS_PER_HOUR mails per account per hour. Returns the number of mails queued (for tests and the audit only).
 */
export async function requestPasswordReset(
  ctx: AppContext,
  identifier: string,
  compose: ResetMailComposer,
  ip: string,
  composeExternal?: ExternalResetComposer,
): Promise<number> {
  const id = normalizeLogin(identifier);
  if (!id || id.length > 254) return 0;
  const pool = ctx.database.pool;
  const { rows: found } = await pool.query(
    `SELECT * FROM (SELECT id, login, first_name, email, activated_at, password_hash, ${externalProviderSql('users')} AS provider FROM users
       WHERE (login = $1 OR lower(email) = $1) AND email IS NOT NULL AND email <> '' AND NOT blocked AND pre_deleted_at IS NULL) x
     WHERE x.provider IS NOT NULL OR (x.activated_at IS NOT NULL AND x.password_hash IS NOT NULL)
     ORDER BY login LIMIT ${MAX_ACCOUNTS_PER_REQUEST}`,
    [id],
  );
  // An account that signs in with an external provider gets no link: a mail naming the provider instead.
  const rows = found.filter((u) => !u.provider);
  let queued = 0;
  for (const u of found.filter((x) => x.provider && composeExternal)) {
    const mail = composeExternal!({ login: u.login, firstName: unlinkable(u.first_name), provider: u.provider });
    await withTransaction(pool, async (c) => {
      await c.query('SELECT 1 FROM users WHERE id = $1 FOR UPDATE', [u.id]);
      const recent = await c.query(
        `SELECT count(*)::int AS n FROM mail_jobs WHERE user_id = $1 AND kind = 'password_reset_external' AND created_at > now() - interval '1 hour'`,
        [u.id],
      );
      if (recent.rows[0].n >= RESET_MAILS_PER_HOUR) return;
      queued++;
      await enqueueMail(c, { userId: u.id, kind: 'password_reset_external', recipient: u.email, ...mail });
      await recordAudit(c, null, 'account.password_reset_external', { userId: u.id, login: u.login, provider: u.provider, ip });
    });
  }
  for (const u of rows) {
    const token = randomBytes(32).toString('base64url');
    const link = `${ctx.config.publicUrl}/reinitialisation?token=${token}`;
    const mail = compose({ link, login: u.login, firstName: unlinkable(u.first_name), minutes: RESET_MINUTES });
    await withTransaction(pool, async (c) => {
      // The account row, locked, serialises concurrent requests for it: the count below is exact.
      await c.query('SELECT 1 FROM users WHERE id = $1 FOR UPDATE', [u.id]);
      const recent = await c.query(
        `SELECT count(*)::int AS n FROM password_resets WHERE user_id = $1 AND created_at > now() - interval '1 hour'`,
        [u.id],
      );
      if (recent.rows[0].n >= RESET_MAILS_PER_HOUR) {
        await recordAudit(c, null, 'account.password_reset_capped', { userId: u.id, login: u.login, ip });
        return;
      }
      queued++;
      await c.query(
        `INSERT INTO password_resets (token_hash, user_id, expires_at, email) VALUES ($1, $2, now() + make_interval(mins => $3), $4)`,
        [hashToken(token), u.id, RESET_MINUTES, u.email],
      );
      // Sealed: the link is a credential until used, so it does not sit in clear in the queue.
      await enqueueMail(c, { userId: u.id, kind: 'password_reset', recipient: u.email, ...mail }, { seal: ctx.secrets });
      await recordAudit(c, null, 'account.password_reset_request', { userId: u.id, login: u.login, ip });
    });
  }
  return queued;
}

export interface ResetTarget {
  userId: string;
  login: string;
}

/**
 * A link is good only while the address it was mailed to is still the account's: once the person or an administrator
 * replaces it (the old mailbox was someone else's), a link waiting there must not set the password.
 */
const SAME_ADDRESS = (r: string, u: string) => `${r}.email IS NOT NULL AND lower(${u}.email) = lower(${r}.email)`;

/**
 * The account a reset token opens, or null when unknown, used, expired, mailed to an address the account no longer
 * has, or the account is blocked/pre-deleted.
 */
export async function findResetToken(ctx: AppContext, token: string): Promise<ResetTarget | null> {
  if (!/^[A-Za-z0-9_-]{43}$/.test(token)) return null;
  const { rows } = await ctx.database.pool.query(
    `SELECT u.id, u.login FROM password_resets r JOIN users u ON u.id = r.user_id
     WHERE r.token_hash = $1 AND r.used_at IS NULL AND r.expires_at > now() AND NOT u.blocked AND u.pre_deleted_at IS NULL
       AND ${SAME_ADDRESS('r', 'u')} AND ${externalProviderSql('u')} IS NULL`,
    [hashToken(token)],
  );
  return rows[0] ? { userId: rows[0].id, login: rows[0].login } : null;
}

/**
 * Sets the new password and consumes the token in one transaction (a second use finds it used, a replaced address
 * finds it void), voids the
 * account's other pending links and its renewal code not yet used (a printed sheet found later must not set the
 * password again) and ends all its sessions; marks the address the link was mailed to verified when it
 * is still the account's (users.email_verified_at: the OpenID provider releases only verified addresses). Returns the account id, or null when the token is no longer valid.
 */
export async function resetPassword(ctx: AppContext, token: string, password: string, ip: string): Promise<string | null> {
  const target = await findResetToken(ctx, token);
  if (!target) return null;
  const hash = await hashPassword(password);
  return withTransaction(ctx.database.pool, async (c) => {
    // The address is checked again under the account's lock: a change committed since findResetToken wins.
    const used = await c.query(
      `UPDATE password_resets r SET used_at = now() FROM (SELECT id, email FROM users WHERE id = $2 FOR UPDATE) u
       WHERE r.token_hash = $1 AND r.user_id = u.id AND r.used_at IS NULL AND r.expires_at > now() AND ${SAME_ADDRESS('r', 'u')}
       RETURNING r.user_id, r.email`,
      [hashToken(token), target.userId],
    );
    if (used.rowCount !== 1) return null;
    const userId = used.rows[0].user_id as string;
    // The link was read in the mailbox it was sent to: that address, if still the account's, is now verified.
    await c.query(
      `UPDATE users SET password_hash = $2, updated_at = now(),
         email_verified_at = CASE WHEN $3::text IS NOT NULL AND lower(email) = lower($3) THEN now() ELSE email_verified_at END
       WHERE id = $1`,
      [userId, hash, used.rows[0].email],
    );
    await passwordReplaced(c, userId);
    await recordAudit(c, userId, 'account.password_reset', { userId, login: target.login, ip });
    return userId;
  });
}
