// Figures for a structure's home page in the console: accounts and activation per profile and per class.
import type { AppContext } from '../context.js';
import { structureAccountsSql, structurePreDeletedSql } from './policies.js';
import { PROFILES, type Profile } from './vocabulary.js';
import type { Scope } from './scope.js';
import { byName } from './structures.js';
import { isUuid, structureInScope } from './users.js';

export interface ProfileCount {
  profile: Profile;
  total: number;
  activated: number;
}

export interface ClassActivation {
  id: string;
  name: string;
  levelName: string | null;
  students: number;
  activated: number;
  /** activated / students, 0 for an empty class (0..1). */
  rate: number;
}

export interface StructureHome {
  structure: { id: string; name: string; uai: string | null };
  /** Every profile, in PROFILES order, zeros included. */
  profiles: ProfileCount[];
  total: number;
  activated: number;
  /** Pre-deleted accounts (out of the feed, waiting for the purge): left out of every figure, said in a note. */
  preDeleted: number;
  /** Students' activation per class (bar chart), classes in natural name order. */
  classes: ClassActivation[];
}

/** Home-page figures of a structure, or null when it does not exist or the caller does not administer it. */
export async function structureHome(ctx: AppContext, scope: Scope, structureId: string): Promise<StructureHome | null> {
  if (!isUuid(structureId) || !structureInScope(scope, structureId)) return null;
  const pool = ctx.database.pool;
  const s = (await pool.query('SELECT id, name, uai FROM structures WHERE id = $1', [structureId])).rows[0];
  if (!s) return null;

  // Super admins are never counted: a local admin must not even learn how many there are. The accounts of the
  // sign-in summary and of the funnel (structureAccountsSql): members and their relatives, pre-deleted ones aside.
  const byProfile = await pool.query(
    `SELECT u.profile, count(*)::int AS total, count(u.activated_at)::int AS activated
       FROM ${structureAccountsSql('$1::uuid')} h JOIN users u ON u.id = h.id
      GROUP BY u.profile`,
    [structureId],
  );
  const preDeleted = Number((await pool.query(`SELECT ${structurePreDeletedSql('$1::uuid')}::int AS n`, [structureId])).rows[0].n);
  const counts = new Map(byProfile.rows.map((r) => [r.profile as Profile, r]));
  const profiles = PROFILES.map((profile) => ({
    profile,
    total: counts.get(profile)?.total ?? 0,
    activated: counts.get(profile)?.activated ?? 0,
  }));

  const perClass = await pool.query(
    `SELECT c.id, c.name, l.name AS level_name,
            count(u.id)::int AS students, count(u.activated_at)::int AS activated
       FROM classes c
       LEFT JOIN levels l ON l.id = c.level_id
       LEFT JOIN user_classes uc ON uc.class_id = c.id
       LEFT JOIN users u ON u.id = uc.user_id AND u.profile = 'Student' AND u.pre_deleted_at IS NULL
      WHERE c.structure_id = $1
      GROUP BY c.id, c.name, l.name`,
    [structureId],
  );
  const classes = perClass.rows
    .map((r) => ({
      id: r.id,
      name: r.name,
      levelName: r.level_name,
      students: r.students,
      activated: r.activated,
      rate: r.students ? r.activated / r.students : 0,
    }))
    .sort((a, b) => byName(a.name, b.name));

  return {
    structure: { id: s.id, name: s.name, uai: s.uai },
    profiles,
    total: profiles.reduce((n, p) => n + p.total, 0),
    activated: profiles.reduce((n, p) => n + p.activated, 0),
    preDeleted,
    classes,
  };
}
