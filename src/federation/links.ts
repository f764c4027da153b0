// An account's links to identity providers (federation_links, made at a first sign-in: accounts.ts completeSignIn),
// as the console's user page shows them, and their removal by an administrator: a link made to the wrong account
// (a parent who picked a namesake's account among several, a name and birth date shared by two people) otherwise
// handed it to that person at every sign-in for good — the stored link comes before any directory key (matching.ts).
import type pg from 'pg';
import { endSignIns } from '../accounts/signins.js';
import { withTransaction } from '../accounts/tx.js';
import type { Queryable } from '../db/index.js';
import { recordAudit } from '../directory/audit.js';
import type { Scope } from '../directory/scope.js';
import { DirectoryError, requireManageable } from '../directory/users.js';

export interface AccountLink {
  providerId: string;
  /** The provider's label when linked (« EduConnect »). */
  providerName: string;
  createdAt: Date;
  lastLoginAt: Date | null;
}

/** The account's links, one per provider (a subject's several rows at one provider are one link to undo). */
export async function accountLinks(db: Queryable, userId: string): Promise<AccountLink[]> {
  const { rows } = await db.query(
    `SELECT provider_id, max(provider_name) AS provider_name, min(created_at) AS created_at, max(last_login_at) AS last_login_at
     FROM federation_links WHERE user_id = $1 GROUP BY provider_id ORDER BY min(created_at), provider_id`,
    [userId],
  );
  return rows.map((r) => ({ providerId: r.provider_id, providerName: r.provider_name, createdAt: r.created_at, lastLoginAt: r.last_login_at }));
}

/**
 * Removes the account's link to `providerId` (requireManageable: the caller's scope, not read-only) and ends every
 * sign-in of the account — web sessions, OpenID provider sessions and tokens: whoever signed in through the link may
 * have been someone else. The next sign-in at that provider is matched afresh. Audited in the same transaction.
 * Returns the number of links removed (0: none); throws DirectoryError outside the scope.
 */
export async function unlinkAccount(pool: pg.Pool, scope: Scope, userId: string, providerId: string, actorId: string): Promise<number> {
  return withTransaction(pool, async (c) => {
    await requireManageable(c, scope, [userId], { lock: true });
    const r = await c.query('DELETE FROM federation_links WHERE user_id = $1 AND provider_id = $2 RETURNING subject', [userId, providerId]);
    if (!r.rowCount) throw new DirectoryError('not_found', 'directory.userNotFound');
    await endSignIns(c, userId);
    await recordAudit(c, actorId, 'federation.unlink', { userId, provider: providerId, subjects: r.rows.map((x) => x.subject) });
    return r.rowCount;
  });
}

/**
 * How many of the account's links rest on its password or its letter's code (federation_links.proven_by): those its
 * next password change, reset or renewal undoes (signins.ts passwordReplaced), read before it to say so.
 */
export async function provenLinkCount(db: Queryable, userId: string): Promise<number> {
  const { rows } = await db.query('SELECT count(*)::int AS n FROM federation_links WHERE user_id = $1 AND proven_by IS NOT NULL', [userId]);
  return rows[0].n;
}

/** Why an account's own unlinking was refused: no such link (a stale form), or it is the account's last way in. */
export type OwnUnlinkRefusal = 'notFound' | 'lastWay';

/**
 * The account's holder removes its own link to `providerId` (« Mon compte »; the caller has re-authenticated them
 * where the page asks it). Refused when the account has no Trousseau password and this is its last link: it could
 * no longer sign in. The account's other sign-ins end (`keepSessionIdHash`, the page's own, stays): one may have
 * come through a link the holder did not make. Audited as the console's unlinking is. Returns the refusal, or null.
 */
export async function unlinkOwnAccount(
  pool: pg.Pool, userId: string, providerId: string, keepSessionIdHash: string | null, configured: readonly string[],
): Promise<OwnUnlinkRefusal | null> {
  return withTransaction(pool, async (c) => {
    const u = await c.query('SELECT password_hash IS NOT NULL AS has_password FROM users WHERE id = $1 FOR UPDATE', [userId]);
    if (!u.rows[0]) return 'notFound';
    // Only a link to a provider still configured (`configured`: TROUSSEAU_FEDERATION_CONFIG) is a way in: one to a
    // provider taken out of the configuration signs no one in, and left alone it would lock the account out.
    const others = await c.query(
      'SELECT count(DISTINCT provider_id)::int AS n FROM federation_links WHERE user_id = $1 AND provider_id <> $2 AND provider_id = ANY($3::text[])',
      [userId, providerId, [...configured]],
    );
    const r = await c.query('SELECT subject FROM federation_links WHERE user_id = $1 AND provider_id = $2', [userId, providerId]);
    if (!r.rowCount) return 'notFound';
    if (!u.rows[0].has_password && others.rows[0].n === 0) return 'lastWay';
    await c.query('DELETE FROM federation_links WHERE user_id = $1 AND provider_id = $2', [userId, providerId]);
    await endSignIns(c, userId, keepSessionIdHash);
    await recordAudit(c, userId, 'federation.unlink', { userId, provider: providerId, subjects: r.rows.map((x) => x.subject), self: true });
    return null;
  });
}
