// What part of the directory a caller may see. Resolved once per request from roles.
export type Scope =
  | { kind: 'all' } // super admin
  // local admin of these structures; `userId`: that admin's own account (none for an API token), see manageableSql
  | { kind: 'structures'; structureIds: string[]; userId?: string }
  | { kind: 'classes'; classIds: string[] } // teacher: these classes' students and their parents
  | { kind: 'self'; userId: string };

export type Role = 'superadmin' | 'localadmin' | 'teacher' | 'user';

/**
 * SQL condition restricting the users aliased `u` to what a scope may see; its values are appended to
 * `params` (placeholders numbered after the ones already there). Outside the 'all' scope a super admin's
 * account is never visible (except one's own, in 'self').
 *  - structures: accounts attached to them, and the parents of students attached to them;
 *  - classes: students of those classes and their parents.
 */
export function scopeSql(scope: Scope, u: string, params: unknown[]): string {
  const p = (v: unknown) => {
    params.push(v);
    return `$${params.length}`;
  };
  switch (scope.kind) {
    case 'all':
      return 'TRUE';
    case 'self':
      return `${u}.id = ${p(scope.userId)}`;
    // `id IN (… UNION …)` rather than `EXISTS … OR EXISTS …`: the set is built from the scope's side through
    // indexes, so a school's or a class's accounts cost the same in a région of a million accounts.
    case 'structures': {
      const ids = p(scope.structureIds);
      return `(NOT ${u}.is_super_admin AND ${u}.id IN (
        SELECT sc_us.user_id FROM user_structures sc_us WHERE sc_us.structure_id = ANY(${ids}::uuid[])
        UNION SELECT sc_r.parent_id FROM user_structures sc_us JOIN relations sc_r ON sc_r.child_id = sc_us.user_id
          WHERE sc_us.structure_id = ANY(${ids}::uuid[])))`;
    }
    case 'classes': {
      const ids = p(scope.classIds);
      return `(NOT ${u}.is_super_admin AND ${u}.id IN (
        SELECT sc_uc.user_id FROM user_classes sc_uc JOIN users sc_c ON sc_c.id = sc_uc.user_id AND sc_c.profile = 'Student'
          WHERE sc_uc.class_id = ANY(${ids}::uuid[])
        UNION SELECT sc_r.parent_id FROM user_classes sc_uc JOIN users sc_c ON sc_c.id = sc_uc.user_id AND sc_c.profile = 'Student'
          JOIN relations sc_r ON sc_r.child_id = sc_c.id WHERE sc_uc.class_id = ANY(${ids}::uuid[])))`;
    }
  }
}

/**
 * SQL condition "the scope may CHANGE user `u`" (block, contact, codes, merge, import): an account holding admin
 * rights — a local admin of any school, its own included, or a super admin — is managed by a super admin only, so it
 * stays read-only to a local admin even when it is visible (their e-mail, a reset link, a renewal code or a merge would
 * hand them the account and its rights, the audit then naming the victim); so does, for a local admin, a teacher of
 * a class outside their structures (the class view hands that class's families their codes). The one exception is
 * the local admin's own account (Scope `userId`), which stays as changeable as any account of their structures.
 * Visibility itself is scopeSql's; combine both. 'all' changes anyone; teachers ('classes') and 'self' change no
 * account holding admin rights.
 */
export function manageableSql(scope: Scope, u: string, params: unknown[]): string {
  switch (scope.kind) {
    case 'all':
      return 'TRUE';
    case 'structures': {
      params.push(scope.structureIds);
      const ids = `$${params.length}::uuid[]`;
      // Another administrator, of another school or of the caller's own: no. The caller's own rights: yes.
      let own = 'FALSE';
      if (scope.userId) {
        params.push(scope.userId);
        own = `${u}.id = $${params.length}::uuid`;
      }
      // A teacher's classes count whatever the account's state (an absent teacher gets them back on returning to
      // the feed: web/auth.ts USER_SQL), so taking the account over never pays off later either.
      return `(NOT ${u}.is_super_admin AND NOT EXISTS (SELECT 1 FROM local_admins mg_la
        WHERE mg_la.user_id = ${u}.id AND NOT (${own} AND mg_la.structure_id = ANY(${ids})))
        AND NOT (${u}.profile = 'Teacher' AND EXISTS (SELECT 1 FROM user_classes mg_uc JOIN classes mg_c ON mg_c.id = mg_uc.class_id
          WHERE mg_uc.user_id = ${u}.id AND NOT (mg_c.structure_id = ANY(${ids})))))`;
    }
    case 'classes':
    case 'self':
      return `(NOT ${u}.is_super_admin AND NOT EXISTS (SELECT 1 FROM local_admins mg_la WHERE mg_la.user_id = ${u}.id))`;
  }
}
