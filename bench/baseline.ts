// Hand-written SQL the product is compared with: what a DBA would type for the same result, with the same
// default distribution conditions (not blocked, not absent from the feed) and the same order.
import type { Queryable } from '../src/db/index.js';

const DEFAULTS = 'NOT u.blocked AND u.absent_since IS NULL AND u.pre_deleted_at IS NULL';
const ORDER = 'u.last_name COLLATE trousseau_fr, u.first_name COLLATE trousseau_fr, u.login';

/** Accounts of some classes (students, teachers) and the parents of their students. */
const inClasses = (classes: string) => `u.id IN (SELECT uc.user_id FROM user_classes uc WHERE uc.class_id IN (${classes})
  UNION SELECT r.parent_id FROM user_classes uc JOIN relations r ON r.child_id = uc.user_id WHERE uc.class_id IN (${classes}))`;
const inSchool = `u.id IN (SELECT us.user_id FROM user_structures us WHERE us.structure_id = $1
  UNION SELECT r.parent_id FROM user_structures us JOIN relations r ON r.child_id = us.user_id WHERE us.structure_id = $1)`;

export const BASELINE_FILTERS = {
  class: inClasses('$1'),
  level: inClasses('SELECT id FROM classes WHERE level_id = $1'),
  school: inSchool,
  localAdmin: `NOT u.is_super_admin AND ${inSchool}`,
  teacher: `NOT u.is_super_admin AND u.id IN (SELECT uc.user_id FROM user_classes uc JOIN users s ON s.id = uc.user_id AND s.profile = 'Student'
    WHERE uc.class_id = ANY($1::uuid[])
  UNION SELECT r.parent_id FROM user_classes uc JOIN users s ON s.id = uc.user_id AND s.profile = 'Student'
    JOIN relations r ON r.child_id = s.id WHERE uc.class_id = ANY($1::uuid[]))`,
} as const;

/**
 * Per account `u`: classes (a parent's are the children's), school, children with their classes ("Zoé MARTIN (6A)")
 * and the local-admin badge: what a preview row shows.
 */
const DETAILS = `(SELECT array_agg(DISTINCT c.name) FROM (SELECT uc.class_id FROM user_classes uc WHERE uc.user_id = u.id
     UNION ALL SELECT uc.class_id FROM relations r JOIN user_classes uc ON uc.user_id = r.child_id WHERE r.parent_id = u.id) m
     JOIN classes c ON c.id = m.class_id) AS classes,
  (SELECT min(s.name) FROM user_structures us JOIN structures s ON s.id = us.structure_id WHERE us.user_id = u.id) AS school,
  (SELECT json_agg(json_build_object('firstName', k.first_name, 'lastName', k.last_name,
       'classes', (SELECT array_agg(c.name) FROM user_classes uc JOIN classes c ON c.id = uc.class_id WHERE uc.user_id = k.id)))
     FROM relations r JOIN users k ON k.id = r.child_id WHERE r.parent_id = u.id) AS children,
  EXISTS (SELECT 1 FROM local_admins la WHERE la.user_id = u.id) AS local_admin`;

/**
 * Accounts that sign in only through an external provider get no code: left out, as the product's default does (a
 * link to a provider read from its column, users.federated, as one would write it by hand since migration 0036).
 */
const NOT_EXTERNAL = `NOT u.federated
  AND NOT EXISTS (SELECT 1 FROM profile_policies pp JOIN user_structures us ON us.structure_id = pp.structure_id
    WHERE pp.sign_in = 'external' AND pp.profile = u.profile AND us.user_id = u.id)
  AND NOT EXISTS (SELECT 1 FROM profile_policies pp JOIN user_structures us ON us.structure_id = pp.structure_id
    JOIN relations r ON r.child_id = us.user_id WHERE pp.sign_in = 'external' AND pp.profile = 'Relative' AND u.profile = 'Relative' AND r.parent_id = u.id)`;

/** The count and the first page of 50 (alphabetical) of a filter, with the preview's columns; the page's ids. */
export async function baselinePreview(db: Queryable, filter: string, value: unknown): Promise<{ count: number; ids: string[] }> {
  const where = `${filter} AND ${DEFAULTS} AND ${NOT_EXTERNAL}`;
  const [count, page] = await Promise.all([
    db.query(`SELECT count(*)::int AS n FROM users u WHERE ${where}`, [value]),
    db.query(`SELECT u.id, u.last_name, u.first_name, u.login, u.profile, u.email, u.activation_code_enc, ${DETAILS}
      FROM (SELECT * FROM users u WHERE ${where} ORDER BY ${ORDER} LIMIT 50) u ORDER BY ${ORDER}`, [value]),
  ]);
  return { count: count.rows[0].n, ids: page.rows.map((r) => r.id as string) };
}

/**
 * The page of 50 (alphabetical, the preview's columns) of every account right after the row whose sort key is
 * `key` (last name, first name, login): keyset pagination as one writes it by hand, a row comparison the name index
 * answers. The page's ids.
 */
export async function baselineKeysetPage(db: Queryable, key: [string, string, string]): Promise<string[]> {
  const res = await db.query(
    `SELECT u.id, u.last_name, u.first_name, u.login, u.profile, u.email, u.activation_code_enc, ${DETAILS}
      FROM (SELECT * FROM users u WHERE ${DEFAULTS} AND ${NOT_EXTERNAL}
              AND (${ORDER}) > ($1::text, $2::text, $3::text) ORDER BY ${ORDER} LIMIT 50) u ORDER BY ${ORDER}`,
    key,
  );
  return res.rows.map((r) => r.id as string);
}

/**
 * The CSV export's columns, in its order (csv.ts CSV_COLUMNS): names, profile, login, code as stored (the product
 * decrypts it), e-mail, classes — a parent's are the children's — sorted, creation day, children still present with
 * their classes, code expiry day, INE, functions, mobile; for the same accounts (the default distribution conditions),
 * in the same order. Written set-wise, as one would by hand: classes and children aggregated once by a hash of all
 * rows, then joined (a first version looked them up with subqueries per account: 2.3× slower at 100k, which made
 * the product look faster than `psql \copy`).
 */
export const CSV_BASELINE_SQL = `WITH cls AS (
  SELECT m.user_id, string_agg(c.name, ', ' ORDER BY c.name COLLATE trousseau_fr) AS classes
  FROM (SELECT uc.user_id, uc.class_id FROM user_classes uc
        UNION SELECT r.parent_id, uc.class_id FROM relations r JOIN user_classes uc ON uc.user_id = r.child_id) m
  JOIN classes c ON c.id = m.class_id GROUP BY m.user_id),
own AS (
  SELECT uc.user_id, string_agg(c.name, ', ' ORDER BY c.name COLLATE trousseau_fr) AS classes
  FROM user_classes uc JOIN classes c ON c.id = uc.class_id GROUP BY uc.user_id),
kids AS (
  SELECT r.parent_id, string_agg(k.first_name || ' ' || k.last_name || coalesce(' (' || o.classes || ')', ''), ', '
           ORDER BY k.last_name COLLATE trousseau_fr, k.first_name COLLATE trousseau_fr) AS children
  FROM relations r JOIN users k ON k.id = r.child_id AND k.absent_since IS NULL AND k.pre_deleted_at IS NULL
  LEFT JOIN own o ON o.user_id = k.id GROUP BY r.parent_id)
SELECT u.last_name, u.first_name, u.profile, u.login,
  CASE WHEN u.activated_at IS NULL THEN u.activation_code_enc ELSE 'Activé' END AS code, u.email, cls.classes,
  to_char(u.created_at AT TIME ZONE 'Europe/Paris', 'DD/MM/YYYY') AS created, kids.children,
  to_char(u.activation_code_expires_at AT TIME ZONE 'Europe/Paris', 'DD/MM/YYYY') AS expires, u.ine, array_to_string(u.functions, ', '), u.mobile
FROM users u LEFT JOIN cls ON cls.user_id = u.id LEFT JOIN kids ON kids.parent_id = u.id
WHERE ${DEFAULTS} ORDER BY ${ORDER}`;
