// Accounts that belong to no school (« Comptes sans établissement », console/unattached.ts): no user_structures row
// and, for a parent, no child in one — counted in no school's figures (stats.ts) and chosen by no school's
// publipostage (select.ts). An AAF staff record whose ENTPersonStructRattach is empty and that names no class gets
// such an account (kept: a staff member of the académie may need one); the import report counts them
// (apply.ts unattachedAccounts), a super admin lists them here. Pre-deleted accounts and super admins are left out.
import type { AppContext } from '../context.js';
import type { Profile } from './vocabulary.js';

/** SQL condition on users `u`: an account of no school (the same test as the import report's). */
export const UNATTACHED_SQL = `u.pre_deleted_at IS NULL AND NOT u.is_super_admin
  AND NOT EXISTS (SELECT 1 FROM user_structures us WHERE us.user_id = u.id)
  AND NOT EXISTS (SELECT 1 FROM relations r JOIN user_structures us ON us.user_id = r.child_id WHERE r.parent_id = u.id)`;

export interface UnattachedRow {
  id: string;
  login: string;
  firstName: string;
  lastName: string;
  profile: Profile;
  source: string;
  origin: 'feed' | 'manual';
  createdAt: Date;
}

/** How many accounts belong to no school. */
export async function countUnattached(ctx: AppContext): Promise<number> {
  const r = await ctx.database.pool.query<{ n: number }>(`SELECT count(*)::int AS n FROM users u WHERE ${UNATTACHED_SQL}`);
  return r.rows[0].n;
}

/**
 * One page of the accounts of no school, by name (then login), and how many there are. The accounts are found
 * first (one anti-join of the directory against the memberships), then counted and sorted: left to itself, the
 * planner walked the name index of every account for the first page's 50 (7 s for a million accounts).
 */
export async function listUnattached(ctx: AppContext, page: { limit: number; offset: number }): Promise<{ total: number; rows: UnattachedRow[] }> {
  const r = await ctx.database.pool.query<UnattachedRow & { total: number }>(
    `WITH un AS MATERIALIZED (
       SELECT u.id, u.login, u.first_name, u.last_name, u.profile, u.source, u.origin, u.created_at FROM users u WHERE ${UNATTACHED_SQL})
     SELECT t.total, p.id, p.login, p.first_name AS "firstName", p.last_name AS "lastName", p.profile, p.source, p.origin, p.created_at AS "createdAt"
     FROM (SELECT count(*)::int AS total FROM un) t
     LEFT JOIN LATERAL (SELECT * FROM un ORDER BY un.last_name COLLATE trousseau_fr, un.first_name COLLATE trousseau_fr, un.login LIMIT $1 OFFSET $2) p ON true`,
    [page.limit, page.offset],
  );
  const total = r.rows[0]?.total ?? 0;
  return { total, rows: r.rows.filter((x) => x.id !== null).map(({ total: _, ...row }) => row) };
}
