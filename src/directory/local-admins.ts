// Local administrators (table local_admins, issue #9): a super admin appoints or removes them for any structure; a
// local admin only for its own structures, and only over an account they may change (requireManageable: never one
// that already administers a school, theirs included — removing a peer's rights would hand the peer to them — but
// their own), so nobody gains a right the caller does not hold. The one exception: a local admin takes back an
// administration they appointed themselves (local_admins.granted_by, migration 0033) — the colleague is then as
// before the appointment, and still read-only to them if another school's administration remains. Imports set them too (CSV `ADML` column, AAF function DIR),
// within the import's scope (src/import/apply.ts).
import type { Queryable } from '../db/index.js';
import { recordAudit } from './audit.js';
import type { Scope } from './scope.js';
import { DirectoryError, requireManageable, structureInScope } from './users.js';

/**
 * Function code of a head of school in AAF ENTPersonFonctions ("<structure>$DIR$DIRECTION$…", the structure named
 * by its jointure or its UAI): made local admin of that structure by an import.
 */
export const HEAD_OF_SCHOOL_FUNCTION = 'DIR';

/** The structures (UAI or jointure, upper case) that `functions` ("<structure>$CODE$label…") name with DIR. */
export function headOfSchoolKeys(functions: readonly string[]): string[] {
  return functions.flatMap((f) => {
    const [s, code] = f.split('$');
    return s?.trim() && code?.trim().toUpperCase() === HEAD_OF_SCHOOL_FUNCTION ? [s.trim().toUpperCase()] : [];
  });
}

/** True when one of `functions` ("<structure>$CODE$label…") names one of `structureKeys` (UAI, jointure) with DIR. */
export function isHeadOfSchool(functions: readonly string[], structureKeys: ReadonlyArray<string | null>): boolean {
  const keys = new Set(structureKeys.filter((k): k is string => !!k).map((k) => k.toUpperCase()));
  return headOfSchoolKeys(functions).some((k) => keys.has(k));
}

async function check(db: Queryable, scope: Scope, userId: string, structureId: string): Promise<{ login: string; profile: string }> {
  if (!structureInScope(scope, structureId)) throw new DirectoryError('forbidden', 'localAdmin.notYourSchool');
  await requireManageable(db, scope, [userId]);
  return account(db, userId);
}

async function account(db: Queryable, userId: string): Promise<{ login: string; profile: string }> {
  const r = (await db.query('SELECT login, profile FROM users WHERE id = $1', [userId])).rows[0];
  if (!r) throw new DirectoryError('not_found', 'directory.userNotFound');
  return r;
}

/** Whether `actorId` appointed `userId` local admin of `structureId`, a structure of `scope` (migration 0033). */
export async function grantedBy(db: Queryable, scope: Scope, userId: string, structureId: string, actorId: string): Promise<boolean> {
  if (!structureInScope(scope, structureId)) return false;
  return !!(await db.query('SELECT 1 FROM local_admins WHERE user_id = $1 AND structure_id = $2 AND granted_by = $3', [userId, structureId, actorId])).rowCount;
}

/**
 * Makes `userId` a local administrator of `structureId`. The account must belong to the structure and not be a
 * pupil or a parent; the caller's scope must hold the structure and may change the account. Idempotent; audited.
 */
export async function appointLocalAdmin(db: Queryable, scope: Scope, userId: string, structureId: string, actorId: string | null): Promise<boolean> {
  const u = await check(db, scope, userId, structureId);
  const member = (await db.query('SELECT 1 FROM user_structures WHERE user_id = $1 AND structure_id = $2', [userId, structureId])).rowCount;
  if (!member) throw new DirectoryError('invalid', 'localAdmin.notMember', { login: u.login });
  if (u.profile === 'Student' || u.profile === 'Relative') throw new DirectoryError('invalid', 'localAdmin.pupil');
  // Appointed by hand, it stays whatever the feeds say (migration 0025): a feed's row becomes the administrator's —
  // a super admin's doing only. The one feed's row a local admin reaches here is their own (requireManageable): a head
  // of school leaving would otherwise « appoint » herself and keep the school once the feed no longer names her.
  const r = await db.query(
    `INSERT INTO local_admins (user_id, structure_id, granted_by) VALUES ($1, $2, $3)
     ON CONFLICT (user_id, structure_id) DO UPDATE SET from_feed = false, granted_by = $3 WHERE local_admins.from_feed AND $4::boolean`,
    [userId, structureId, actorId, scope.kind === 'all'],
  );
  if (r.rowCount) await recordAudit(db, actorId, 'admin.local.appoint', { userId, login: u.login, structureId });
  return (r.rowCount ?? 0) > 0;
}

/**
 * Removes `userId`'s administration of `structureId` (same checks as appointing, except for one the caller appointed
 * themselves: grantedBy). Idempotent; audited.
 */
export async function removeLocalAdmin(db: Queryable, scope: Scope, userId: string, structureId: string, actorId: string | null): Promise<boolean> {
  const u = actorId && (await grantedBy(db, scope, userId, structureId, actorId)) ? await account(db, userId) : await check(db, scope, userId, structureId);
  const r = await db.query('DELETE FROM local_admins WHERE user_id = $1 AND structure_id = $2', [userId, structureId]);
  if (r.rowCount) await recordAudit(db, actorId, 'admin.local.remove', { userId, login: u.login, structureId });
  // The removed admin's sessions carry its old rights (SessionUser is resolved per request: nothing to end).
  return (r.rowCount ?? 0) > 0;
}

/** The structures `userId` administers, with names and who appointed them by hand (for the user page). */
export async function localAdminOf(db: Queryable, userId: string): Promise<Array<{ id: string; name: string; uai: string | null; grantedBy: string | null }>> {
  return (
    await db.query(
      `SELECT s.id, s.name, s.uai, la.granted_by AS "grantedBy" FROM local_admins la JOIN structures s ON s.id = la.structure_id WHERE la.user_id = $1 ORDER BY s.name`,
      [userId],
    )
  ).rows;
}
