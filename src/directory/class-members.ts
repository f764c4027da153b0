// The adults of a class as its class view lists them (ONE's "Paramétrage de la classe" shows Enseignants and
// Personnels beside Élèves and Parents): read-only, names and logins, for whoever may open the class.
import type { AppContext } from '../context.js';
import type { Profile } from './vocabulary.js';

export interface ClassMember {
  id: string;
  firstName: string;
  lastName: string;
  login: string;
  activated: boolean;
  email: string | null;
}

/**
 * Teachers or staff attached to the class (user_classes, fed by AAF/STS or the ENT CSV files), blocked and
 * pre-deleted accounts left out, sorted by name. The caller must already have checked it may open the class.
 */
export async function listClassAdults(ctx: AppContext, classId: string, profile: Extract<Profile, 'Teacher' | 'Personnel'>): Promise<ClassMember[]> {
  const r = await ctx.database.pool.query<{ id: string; first_name: string; last_name: string; login: string; activated: boolean; email: string | null }>(
    `SELECT u.id, u.first_name, u.last_name, u.login, u.activated_at IS NOT NULL AS activated, u.email
       FROM users u JOIN user_classes uc ON uc.user_id = u.id
      WHERE uc.class_id = $1 AND u.profile = $2 AND NOT u.blocked AND u.pre_deleted_at IS NULL
      ORDER BY u.last_name COLLATE trousseau_fr, u.first_name COLLATE trousseau_fr`,
    [classId, profile],
  );
  return r.rows.map((x) => ({ id: x.id, firstName: x.first_name, lastName: x.last_name, login: x.login, activated: x.activated, email: x.email }));
}
