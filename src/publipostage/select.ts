// The selection as SQL: one query for the rows (children, classes and structure joined set-wise for a whole
// selection, looked up by id for each row of a preview page; never one query per account) and one for the counts. Sorting happens in PostgreSQL with the trousseau_fr
// collation (migrations/0003_publipostage.sql), so a preview page and the full PDF agree on the order.
import type { AppContext } from '../context.js';
import type { Queryable } from '../db/index.js';
import { manageableSql, scopeSql, type Scope } from '../directory/scope.js';
import { memberOfStructureSql } from '../directory/users.js';
import { externalOnlyAbsentSql, externalProviderJoin, externalProviderSql } from '../directory/policies.js';
import type { Profile } from '../directory/vocabulary.js';
import { countLeftOut, distributionConditions, mayCarryCode, widened, type LeftOut } from './distribution.js';
import { youngPupilSql } from './young-pupil.js';
import { hasOffset, type AccountRow, type ChildInfo, type CsvAccountRow, type Selection, type SortOrder } from './selection.js';
import { currentHandOutSql } from './tracking.js';

/** Placeholder allocator: values are appended, `$n` returned. */
class Params {
  readonly values: unknown[] = [];
  add(v: unknown): string {
    this.values.push(v);
    return `$${this.values.length}`;
  }
}

const EMPTY_EMAIL = `coalesce(btrim(u.email), '') = ''`;

/** Condition on a class id expression: inside the class/level filter. Null when neither is set. */
function classFilter(sel: Selection, p: Params, classId: string): string | null {
  const parts: string[] = [];
  if (sel.classIds.length) parts.push(`${classId} = ANY(${p.add(sel.classIds)}::uuid[])`);
  if (sel.levelIds.length) parts.push(`${classId} IN (SELECT id FROM classes WHERE level_id = ANY(${p.add(sel.levelIds)}::uuid[]))`);
  return parts.length ? parts.join(' AND ') : null;
}

/**
 * The class a row is filed under (sort by class), as an aggregate over its classes `c` (id, structure_id, name): the
 * first one the caller asked for (class/level filter), else the first one. Only among the classes the scope may see
 * (a local admin's schools, a teacher's classes): the filing class goes into page cursors (cursorOf), which must not
 * name another school's class (a parent with a child in each school); with none visible, no class (sorted last).
 */
function groupClassSql(sel: Selection, scope: Scope, p: Params): string {
  const seen =
    scope.kind === 'structures' ? `c.structure_id = ANY(${p.add(scope.structureIds)}::uuid[])`
    : scope.kind === 'classes' ? `c.id = ANY(${p.add(scope.classIds)}::uuid[])`
    : null;
  const asked = classFilter(sel, p, 'c.id');
  const first = (...conds: Array<string | null>) => {
    const where = conds.filter(Boolean);
    return `min(c.name COLLATE trousseau_fr)${where.length ? ` FILTER (WHERE ${where.join(' AND ')})` : ''}`;
  };
  return asked ? `coalesce(${first(asked, seen)}, ${first(seen)})` : first(seen);
}

/** WHERE conditions on users `u` for a selection within a scope. */
function conditions(sel: Selection, scope: Scope, p: Params): string[] {
  const scopeParams: unknown[] = p.values;
  // A local admin's own school, selected: its accounts are all visible to them (same set as scopeSql's, whose
  // second membership test would only double the work).
  const ownSchool = scope.kind === 'structures' && !!sel.structureId && scope.structureIds.includes(sel.structureId);
  const w: string[] = [ownSchool ? 'NOT u.is_super_admin' : scopeSql(scope, 'u', scopeParams)];
  // `id IN (own UNION parents of)`: each branch is an index lookup from the filter's side, so the cost follows
  // the result (one class of a région: a few ms); `EXISTS (own) OR EXISTS (via child)` scanned every account.
  if (sel.structureId) w.push(memberOfStructureSql(sel.structureId, 'u', p.values));
  if (sel.profiles.length) w.push(`u.profile = ANY(${p.add(sel.profiles)}::text[])`);
  const own = classFilter(sel, p, 'uc.class_id');
  if (own) {
    w.push(`u.id IN (SELECT uc.user_id FROM user_classes uc WHERE ${own}
      UNION SELECT r.parent_id FROM user_classes uc JOIN relations r ON r.child_id = uc.user_id WHERE ${own})`);
  }
  if (sel.userIds.length) w.push(`u.id = ANY(${p.add(sel.userIds)}::uuid[])`);
  if (sel.activation !== 'all') w.push(`u.activated_at IS ${sel.activation === 'active' ? 'NOT ' : ''}NULL`);
  if (sel.email === 'with') w.push(`NOT ${EMPTY_EMAIL}`);
  if (sel.email === 'without') w.push(EMPTY_EMAIL);
  if (sel.localAdmins !== 'all') w.push(`${sel.localAdmins === 'exclude' ? 'NOT ' : ''}EXISTS (SELECT 1 FROM local_admins la WHERE la.user_id = u.id)`);
  // A day reads as its midnight, an instant as itself (selection.ts CalendarMoment), both in Paris time; an instant
  // with its offset (an import's link) as exactly that instant.
  const moment = (v: string) => (hasOffset(v) ? `${p.add(v)}::timestamptz` : `(${p.add(v)}::timestamp AT TIME ZONE 'Europe/Paris')`);
  if (sel.createdBefore) w.push(`u.created_at < ${moment(sel.createdBefore)}`);
  if (sel.createdAfter) w.push(`u.created_at >= ${moment(sel.createdAfter)}`);
  w.push(...distributionConditions(sel));
  if (sel.origin !== 'all') w.push(`u.origin = ${p.add(sel.origin)}`);
  if (sel.distributedBefore !== undefined) w.push(reminderCondition(p.add(sel.distributedBefore)));
  // Every word must match: folded in one of the names ("eleonore" finds "Éléonore", "jean paul" finds "Jean-Paul",
  // in either order; never across the two: "nzo" is in neither MARTIN nor Zoé), or as typed in the login or the email.
  for (const token of (sel.search ?? '').split(/\s+/).filter(Boolean).slice(0, 5)) {
    const t = p.add(token);
    const folded = `trousseau_fold(${t}::text)`;
    w.push(`((${folded} <> '' AND (strpos(trousseau_fold(u.last_name), ${folded}) > 0 OR strpos(trousseau_fold(u.first_name), ${folded}) > 0))
      OR strpos(u.login, lower(${t}::text)) > 0 OR strpos(lower(coalesce(u.email, '')), lower(${t}::text)) > 0)`);
  }
  return w;
}

/**
 * « Relancer »: not activated, and either handed the current code (tracking.ts currentHandOutSql) before the cutoff
 * and nothing since, or handed only a former code (regenerated, replaced since: that sheet is dead, the family needs
 * the new one whatever the date) — as a semi-join and an anti-join on distribution_events (user_id, at), never a
 * per-row scalar subquery.
 */
function reminderCondition(days: string): string {
  const cutoff = `now() - ${days}::int * interval '1 day'`;
  return `(u.activated_at IS NULL
    AND EXISTS (SELECT 1 FROM distribution_events de WHERE de.user_id = u.id AND (de.at < ${cutoff} OR de.at < u.code_issued_at))
    AND NOT EXISTS (SELECT 1 FROM distribution_events de WHERE de.user_id = u.id AND de.at >= ${cutoff} AND ${currentHandOutSql('de', 'u')}))`;
}

const PROFILE_ORDER = ['Student', 'Relative', 'Teacher', 'Personnel', 'Guest'] as const;

/**
 * The sort key of `sort` as SQL expressions over users `u` (with `groupClass` the filing class), most
 * significant first, with the SQL type of each value; ends with the login (unique), so the order is total and
 * a page can start right after a given row (keyset pagination). A missing class sorts last.
 */
function sortKey(sort: SortOrder, groupClass: string): Array<[expr: string, type: string]> {
  const alpha: Array<[string, string]> = [['u.last_name COLLATE trousseau_fr', 'text'], ['u.first_name COLLATE trousseau_fr', 'text'], ['u.login', 'text']];
  if (sort === 'profile') return [[`array_position(ARRAY['${PROFILE_ORDER.join("','")}'], u.profile)`, 'int'], ...alpha];
  if (sort === 'class') return [[`(${groupClass} IS NULL)`, 'boolean'], [`coalesce(${groupClass}, '') COLLATE trousseau_fr`, 'text'], ...alpha];
  // 'family' is ordered by the `fam` CTE's rank first (orderBy); it has no keyset (pages by offset).
  if (sort === 'family') return sortKey('profile', groupClass);
  return alpha;
}

/** ORDER BY for users `u`, with `groupClass` the expression of the filing class. */
function orderBy(sort: SortOrder, groupClass: string, descending = false): string {
  if (sort === 'family') return `fam.rank NULLS LAST, fam.pos NULLS LAST, ${orderBy('profile', groupClass)}`;
  return sortKey(sort, groupClass).map(([e]) => (descending ? `${e} DESC` : e)).join(', ');
}

/** A position in the order of a selection: the sort key of a row (see sortKey), opaque to clients. */
export type PageCursor = string;

/** The cursor of `row` in `sort` order: a page "after" it starts with the next row. */
export function cursorOf(sort: SortOrder, row: Pick<AccountRow, 'lastName' | 'firstName' | 'login' | 'profile' | 'groupClass'>): PageCursor | null {
  // The family order ranks pupils in a CTE of the whole selection: its pages go by offset.
  if (sort === 'family') return null;
  const alpha = [row.lastName, row.firstName, row.login];
  const key =
    sort === 'profile' ? [PROFILE_ORDER.indexOf(row.profile) + 1, ...alpha]
    : sort === 'class' ? [row.groupClass === null, row.groupClass ?? '', ...alpha]
    : alpha;
  return Buffer.from(JSON.stringify(key)).toString('base64url');
}

/** The key values of a cursor made by cursorOf for the same sort; null when it is not one (hand-edited, other sort). */
function parseCursor(sort: SortOrder, cursor: PageCursor): unknown[] | null {
  if (sort === 'family') return null;
  try {
    const key = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
    const types = sortKey(sort, 'NULL').map(([, t]) => t);
    if (!Array.isArray(key) || key.length !== types.length) return null;
    // Values PostgreSQL accepts as they are: no NUL in text, an int within int4 (a forged cursor is no cursor, not a 500).
    const ok = key.every((v, i) =>
      types[i] === 'text' ? typeof v === 'string' && v.length <= 1000 && !v.includes('\u0000')
      : types[i] === 'int' ? Number.isInteger(v) && Math.abs(v) < 2 ** 31
      : typeof v === 'boolean');
    return ok ? key : null;
  } catch {
    return null;
  }
}

/** Whether `cursor` is one cursorOf made for `sort` (a hand-edited or other sort's cursor is not). */
export function isPageCursor(sort: SortOrder, cursor: PageCursor): boolean {
  return parseCursor(sort, cursor) !== null;
}

/** `(key) > (cursor)` (or `<` for a page before it), for users `u`. */
function keysetCondition(sort: SortOrder, groupClass: string, key: unknown[], p: Params, before: boolean): string {
  const k = sortKey(sort, groupClass);
  return `(${k.map(([e]) => e).join(', ')}) ${before ? '<' : '>'} (${k.map(([, t], i) => `${p.add(key[i])}::${t}`).join(', ')})`;
}

/**
 * Family order ("par famille"), a CTE `fam` (id, rank, pos) over the users `src` with their filing classes `cls`:
 * pupils ranked by class then name (pos 0), each of their relatives found in `src` taking the rank of its first
 * pupil (pos 1). Joined as `fam` by orderBy('family'). A row's rank and, for a relative, his children's ids
 * (kids.child_ids) are what pdf.ts needs to start each family on a new page (AccountRow.familyRank, childIds).
 */
function familyCte(src: string, cls: string): string {
  return `fam_s AS (
    SELECT u.id, row_number() OVER (ORDER BY ${orderBy('class', `${cls}.group_class`)}) AS rank
    FROM ${src} u LEFT JOIN ${cls} ON ${cls}.user_id = u.id WHERE u.profile = 'Student'
  ),
  fam AS (
    SELECT id, min(rank) AS rank, min(pos) AS pos FROM (
      SELECT id, rank, 0 AS pos FROM fam_s
      UNION ALL
      SELECT r.parent_id, f.rank, 1 FROM fam_s f JOIN relations r ON r.child_id = f.id
        JOIN ${src} p ON p.id = r.parent_id AND p.profile = 'Relative') x
    GROUP BY id
  )`;
}

/**
 * The schools whose classes a row may name (its own; a relative's children's), as a condition on a class's
 * `structure_id` expression: the selection's school, else the schools of the classes or levels asked for, within
 * the local admin's schools or the schools of the teacher's classes; null when nothing narrows it (super
 * admin, no filter). An account attached to two schools (a teacher in both, a parent with a child in each)
 * never shows the other school's classes in a list, sheet or CSV of one school.
 */
function classSchools(sel: Selection, scope: Scope, p: Params, structureId: string): string | null {
  const of = (classIds: string[], levelIds: string[]) =>
    [
      classIds.length ? `SELECT structure_id FROM classes WHERE id = ANY(${p.add(classIds)}::uuid[])` : '',
      levelIds.length ? `SELECT structure_id FROM levels WHERE id = ANY(${p.add(levelIds)}::uuid[])` : '',
    ].filter(Boolean);
  const conditions: string[] = [];
  if (sel.structureId) conditions.push(`${structureId} = ${p.add(sel.structureId)}::uuid`);
  else if (sel.classIds.length || sel.levelIds.length) conditions.push(`${structureId} IN (${of(sel.classIds, sel.levelIds).join(' UNION ')})`);
  // Never beyond the viewer's scope: a filter naming another school shows nothing of that school's classes or
  // children on the rows the scope lets through (a parent with a child in each school).
  if (scope.kind === 'structures') conditions.push(`${structureId} = ANY(${p.add(scope.structureIds)}::uuid[])`);
  if (scope.kind === 'classes') conditions.push(`${structureId} IN (${of(scope.classIds, [])[0] ?? 'SELECT NULL::uuid'})`);
  return conditions.length ? conditions.join(' AND ') : null;
}

/**
 * For a teacher (scope 'classes'), a condition keeping only the children `childId` of the teacher's classes: a
 * parent's sheet, row or file from the class view names no child (nor class) the teacher does not teach, as the class
 * view's own list does not. Empty for other scopes (a local admin names every child of the school).
 */
function teacherChild(scope: Scope, p: Params, childId: string): string {
  return scope.kind === 'classes'
    ? `AND EXISTS (SELECT 1 FROM user_classes tc WHERE tc.user_id = ${childId} AND tc.class_id = ANY(${p.add(scope.classIds)}::uuid[]))`
    : '';
}

/**
 * CTEs over a set of users `src` (columns id, profile): `${name}_m` their class memberships (own, and the
 * children's for a relative) and `${name}` one row per user with the class names (those of classSchools) and
 * the filing class.
 */
function classesCte(name: string, src: string, sel: Selection, scope: Scope, p: Params, groupOnly = false): string {
  const groupClass = groupClassSql(sel, scope, p);
  const shown = groupOnly ? null : classSchools(sel, scope, p, 'c.structure_id');
  // Only the filing class (paging by class): duplicates do not change a minimum, skip removing them.
  return `${name}_m AS (
    SELECT uc.user_id, uc.class_id FROM ${src} JOIN user_classes uc ON uc.user_id = ${src}.id
    UNION${groupOnly ? ' ALL' : ''}
    SELECT r.parent_id, uc.class_id FROM ${src} JOIN relations r ON r.parent_id = ${src}.id
      JOIN user_classes uc ON uc.user_id = r.child_id
    WHERE ${src}.profile = 'Relative' ${teacherChild(scope, p, 'r.child_id')}
  ),
  ${name} AS (
    SELECT m.user_id, ${groupOnly ? '' : `array_agg(c.name ORDER BY c.name COLLATE trousseau_fr)${shown ? ` FILTER (WHERE ${shown})` : ''} AS names,`}
           ${groupClass} AS group_class
    FROM ${name}_m m JOIN classes c ON c.id = m.class_id
    GROUP BY m.user_id
  )`;
}

/**
 * ORDER BY keys over structures `s` choosing, among a row's schools (its own; a relative's children's), the one its
 * sheet is printed for: its heading, and its letter templates (pdf.ts templates.get(row.structureId)). First a school
 * within the caller's scope (a local admin's schools; for a teacher, the schools of the classes of his scope), then
 * the selection's school, then the first by name. So a parent with a child in another school never gets a sheet
 * headed with that other school when one within the scope exists: a teacher's scope used to prefer no school, the
 * first by name won, and the sheet told the teacher where else the family has a child. Likewise a filter naming a
 * school outside the scope never outranks the scope's own schools.
 */
function structureOrder(sel: Selection, scope: Scope, p: Params): string {
  const keys: string[] = [];
  if (scope.kind === 'structures') keys.push(`s.id = ANY(${p.add(scope.structureIds)}::uuid[]) DESC`);
  if (scope.kind === 'classes') keys.push(`s.id IN (SELECT structure_id FROM classes WHERE id = ANY(${p.add(scope.classIds)}::uuid[])) DESC`);
  if (sel.structureId) keys.push(`s.id = ${p.add(sel.structureId)}::uuid DESC`);
  keys.push(`s.name COLLATE trousseau_fr`);
  return keys.join(', ');
}

/**
 * CTEs giving, for the users of `sel`, the printed structure (st) and the children with their classes (kids), those
 * of classSchools only.
 */
function detailCtes(sel: Selection, scope: Scope, p: Params): string {
  return `st AS (
    SELECT DISTINCT ON (x.user_id) x.user_id, s.id, s.name
    FROM (SELECT us.user_id, us.structure_id FROM sel JOIN user_structures us ON us.user_id = sel.id
          UNION ALL
          SELECT r.parent_id, us.structure_id FROM sel JOIN relations r ON r.parent_id = sel.id
            JOIN user_structures us ON us.user_id = r.child_id
          WHERE sel.profile = 'Relative') x
    JOIN structures s ON s.id = x.structure_id
    ORDER BY x.user_id, ${structureOrder(sel, scope, p)}
  ),
  ${kidsCtes(sel, scope, p, 'json')}`;
}

/**
 * CTEs giving, for the relatives of `sel`, their children with their classes (kids.children), those of
 * classSchools only: as JSON for toRow ('json': ChildInfo[]), or as the CSV's "Enfants" cell ('label': childrenLabel's
 * "Zoé MARTIN (6A), Léo MARTIN (5A)", written by PostgreSQL).
 */
function kidsCtes(sel: Selection, scope: Scope, p: Params, as: 'json' | 'label'): string {
  const childSchool = classSchools(sel, scope, p, 'cs.structure_id');
  const shownClasses = classSchools(sel, scope, p, 'c.structure_id');
  const order = 'ORDER BY k.last_name COLLATE trousseau_fr, k.first_name COLLATE trousseau_fr';
  const children =
    as === 'json'
      ? `json_agg(json_build_object('firstName', k.first_name, 'lastName', k.last_name, 'classes', coalesce(kc.names, '{}'))
             ${order})`
      : `string_agg(k.first_name || ' ' || k.last_name || coalesce(' (' || array_to_string(kc.names, ', ') || ')', ''), ', ' ${order})`;
  return `kin AS (
    -- Only children still present (neither absent from the feed nor pre-deleted), in the selection's schools.
    -- With their names: users is read once for both.
    SELECT r.parent_id, r.child_id, ch.first_name, ch.last_name FROM sel JOIN relations r ON r.parent_id = sel.id
      JOIN users ch ON ch.id = r.child_id AND ch.absent_since IS NULL AND ch.pre_deleted_at IS NULL
    WHERE sel.profile = 'Relative' ${teacherChild(scope, p, 'r.child_id')}
      ${childSchool ? `AND EXISTS (SELECT 1 FROM user_structures cs WHERE cs.user_id = r.child_id AND ${childSchool})` : ''}
  ),
  -- Computed once: inlined, it was planned as an aggregate re-run for each child when the selection is underestimated
  -- (a list of ids: the family mail's 1,199 parents of one school took 1.8 s, 0.3 s materialized).
  kin_cls AS MATERIALIZED (
    SELECT uc.user_id, array_agg(c.name ORDER BY c.name COLLATE trousseau_fr) AS names
    FROM (SELECT DISTINCT child_id FROM kin) k JOIN user_classes uc ON uc.user_id = k.child_id JOIN classes c ON c.id = uc.class_id
    ${shownClasses ? `WHERE ${shownClasses}` : ''}
    GROUP BY uc.user_id
  ),
  kids AS (
    SELECT k.parent_id, ${children} AS children, array_agg(k.child_id) AS child_ids
    FROM kin k LEFT JOIN kin_cls kc ON kc.user_id = k.child_id
    GROUP BY k.parent_id
  )`;
}

/**
 * The same details as classesCte('cls') and detailCtes, as LATERAL subqueries of each row of `sel` (joined as `cls`,
 * `st`, `kids`): for a preview page (tens of rows) each is a few index lookups from the row, so the page costs the
 * same in a collège and in a région. Classes and structures are looked up by id through a LATERAL of their own (LIMIT
 * 1 keeps the planner from flattening it into a join that hashed every structure of the région once per row).
 */
function detailLaterals(sel: Selection, scope: Scope, p: Params): string {
  const groupClass = groupClassSql(sel, scope, p);
  const order = structureOrder(sel, scope, p);
  const shown = classSchools(sel, scope, p, 'c.structure_id');
  const childSchool = classSchools(sel, scope, p, 'cs.structure_id');
  const className = (classId: string) =>
    `CROSS JOIN LATERAL (SELECT c.id, c.name, c.structure_id FROM classes c WHERE c.id = ${classId} LIMIT 1) c`;
  return `LEFT JOIN LATERAL (
    SELECT array_agg(c.name ORDER BY c.name COLLATE trousseau_fr)${shown ? ` FILTER (WHERE ${shown})` : ''} AS names,
           ${groupClass} AS group_class
    FROM (SELECT uc.class_id FROM user_classes uc WHERE uc.user_id = u.id
          UNION
          SELECT uc.class_id FROM relations r JOIN user_classes uc ON uc.user_id = r.child_id
          WHERE r.parent_id = u.id AND u.profile = 'Relative' ${teacherChild(scope, p, 'r.child_id')}) m
    ${className('m.class_id')}
  ) cls ON TRUE
LEFT JOIN LATERAL (
    SELECT s.id, s.name
    FROM (SELECT us.structure_id FROM user_structures us WHERE us.user_id = u.id
          UNION ALL
          SELECT us.structure_id FROM relations r JOIN user_structures us ON us.user_id = r.child_id
          WHERE r.parent_id = u.id AND u.profile = 'Relative') x
    CROSS JOIN LATERAL (SELECT s.id, s.name FROM structures s WHERE s.id = x.structure_id LIMIT 1) s
    ORDER BY ${order} LIMIT 1
  ) st ON TRUE
LEFT JOIN LATERAL (
    -- Only children still present (neither absent from the feed nor pre-deleted), in the selection's schools.
    SELECT json_agg(json_build_object('firstName', k.first_name, 'lastName', k.last_name, 'classes',
             coalesce((SELECT array_agg(c.name ORDER BY c.name COLLATE trousseau_fr) FROM user_classes uc ${className('uc.class_id')}
                       WHERE uc.user_id = k.id${shown ? ` AND ${shown}` : ''}), '{}'))
             ORDER BY k.last_name COLLATE trousseau_fr, k.first_name COLLATE trousseau_fr) AS children,
           array_agg(k.id) AS child_ids
    FROM relations r JOIN users k ON k.id = r.child_id AND k.absent_since IS NULL AND k.pre_deleted_at IS NULL
    WHERE r.parent_id = u.id AND u.profile = 'Relative' ${teacherChild(scope, p, 'r.child_id')}
      ${childSchool ? `AND EXISTS (SELECT 1 FROM user_structures cs WHERE cs.user_id = r.child_id AND ${childSchool})` : ''}
  ) kids ON TRUE`;
}

/**
 * Columns of a row for toRow, over users `u` joined to cls, st and kids. When the selection leaves out accounts that
 * sign in externally (the default), none of its rows has a provider: the per-row lookup is skipped.
 */
const ROW_COLUMNS = (sel: Selection) => `u.id, u.last_name, u.first_name, u.profile, u.login,
  u.activated_at IS NOT NULL AS activated,
  u.activation_code_enc, u.activation_code_expires_at, u.email, u.birth_date, u.created_at, u.origin, u.ine, u.functions, u.mobile,
  u.pre_deleted_at IS NOT NULL AS pre_deleted, u.blocked, u.absent_since,
  ${sel.external === 'exclude' ? 'NULL::text' : externalProviderSql('u')} AS external_provider,
  EXISTS (SELECT 1 FROM local_admins la WHERE la.user_id = u.id) AS is_local_admin, ${youngPupilSql('u')} AS young_pupil,
  cls.names AS classes, cls.group_class, st.id AS structure_id, st.name AS structure_name, kids.children${sel.sort === 'family' ? ', fam.rank AS family_rank, kids.child_ids' : ''}`;

interface Decrypter {
  decrypt(blob: string): string;
}

/** What a row's stored code is worth to whoever prints it (toRow, toCsvRow): facts as mayCarryCode reads them. */
type CodeFacts = Pick<AccountRow, 'activated' | 'readOnly' | 'blocked' | 'preDeleted' | 'externalProvider'>;

/**
 * The code to print from the stored one (`enc`, expiring at `expiresAt`): decrypted when the account may carry a code
 * and it has not expired at `now` (epoch ms); `codeExpiresAt` is null when no code may be printed at all.
 */
function storedCode(enc: string | null, expiresAt: Date | null, facts: CodeFacts, secrets: Decrypter, now: number): Pick<AccountRow, 'code' | 'codeExpired' | 'codeExpiresAt'> {
  const carries = mayCarryCode(facts);
  let code: string | null = null;
  let codeExpired = false;
  if (enc && carries) {
    if (expiresAt && expiresAt.getTime() <= now) codeExpired = true;
    else {
      try {
        code = secrets.decrypt(enc);
      } catch {
        // Encrypted under another key (restored backup): unusable, treated as missing so a new one gets issued.
        code = null;
      }
    }
  }
  return { code, codeExpired, codeExpiresAt: facts.activated || !carries ? null : expiresAt };
}

function toRow(r: Record<string, unknown>, secrets: Decrypter, now: number): AccountRow {
  const activated = r.activated as boolean;
  const readOnly = r.manageable === false;
  const externalProvider = (r.external_provider as string | null) ?? null;
  const facts = { activated, readOnly, blocked: r.blocked as boolean, preDeleted: r.pre_deleted as boolean, externalProvider };
  const { code, codeExpired, codeExpiresAt } = storedCode(
    (r.activation_code_enc as string | null) ?? null,
    (r.activation_code_expires_at as Date | null) ?? null,
    facts,
    secrets,
    now,
  );
  return {
    id: r.id as string,
    lastName: r.last_name as string,
    firstName: r.first_name as string,
    profile: r.profile as AccountRow['profile'],
    login: r.login as string,
    activated,
    code,
    codeExpiresAt,
    codeExpired,
    email: (r.email as string | null) ?? null,
    birthDate: (r.birth_date as string | null) ?? null,
    youngPupil: r.young_pupil === true,
    ine: (r.ine as string | null) ?? null,
    functions: (r.functions as string[] | null) ?? [],
    mobile: (r.mobile as string | null) ?? null,
    classes: (r.classes as string[] | null) ?? [],
    groupClass: (r.group_class as string | null) ?? null,
    structureId: (r.structure_id as string | null) ?? null,
    structureName: (r.structure_name as string | null) ?? '',
    createdAt: r.created_at as Date,
    origin: r.origin as AccountRow['origin'],
    preDeleted: r.pre_deleted as boolean,
    absentSince: (r.absent_since as Date | null) ?? null,
    blocked: r.blocked as boolean,
    externalProvider,
    isLocalAdmin: r.is_local_admin as boolean,
    readOnly,
    children: (r.children as ChildInfo[] | null) ?? [],
    ...(r.family_rank !== undefined ? { familyRank: r.family_rank === null ? null : Number(r.family_rank), childIds: (r.child_ids as string[] | null) ?? [] } : {}),
  };
}

/**
 * The selected accounts in `selection.sort` order, restricted to `scope`. Codes are decrypted for inactive
 * accounts; an expired code is not returned (row.codeExpired is set instead).
 */
export async function selectAccounts(ctx: AppContext, selection: Selection, scope: Scope): Promise<AccountRow[]> {
  return rowsOf(ctx, rowsQuery(selection, scope));
}

/**
 * One page of the selection (preview): only the page's rows are joined and decrypted. With `after` (a cursor
 * of cursorOf), the page starts right after that row, found through the sort key (keyset: the cost does not
 * grow with the position); `before` gives the page ending right before it. Otherwise `offset` rows are skipped.
 * A cursor that is not one of this sort order counts as none (first page).
 */
export async function selectPage(ctx: AppContext, selection: Selection, scope: Scope, page: PageRequest): Promise<AccountRow[]> {
  // A page of the whole directory in index order is read serially thanks to the connections' parallel_setup_cost
  // (db/index.ts SESSION_OPTIONS): one round trip, as every other page.
  return rowsOf(ctx, pageQuery(selection, scope, page));
}

interface PageRequest {
  limit: number;
  offset?: number;
  after?: PageCursor;
  before?: PageCursor;
}

async function rowsOf(ctx: AppContext, query: { sql: string; values: unknown[] }, db: Queryable = ctx.database.pool): Promise<AccountRow[]> {
  const res = await db.query(query.sql, query.values);
  const now = Date.now();
  return res.rows.map((r) => toRow(r, ctx.secrets, now));
}

/**
 * The SQL of the whole selection, for selectAccounts and streamSelection (its rows go through toRow); with
 * `afterHead` (streamQuery; not for the class and family orders), only the rows after the last of the CTE `head`.
 */
function rowsQuery(selection: Selection, scope: Scope, p = new Params(), afterHead = false): { sql: string; values: unknown[] } {
  // `sel`: the accounts to return. Everything else is joined to it set-wise (hash joins reading each table
  // once), never per row.
  const where = conditions(selection, scope, p);
  if (afterHead) {
    const key = sortKey(selection.sort, 'NULL').map(([e]) => e).join(', ');
    where.push(`(${key}) > (SELECT ${key} FROM head u ORDER BY ${orderBy(selection.sort, 'NULL', true)} LIMIT 1)`);
  }
  const family = selection.sort === 'family';
  const sql = `WITH sel AS MATERIALIZED (SELECT u.* FROM users u WHERE ${where.join('\n  AND ')}),
  ${classesCte('cls', 'sel', selection, scope, p)},
  ${detailCtes(selection, scope, p)}${family ? `,\n  ${familyCte('sel', 'cls')}` : ''}
SELECT ${ROW_COLUMNS(selection)}, ${manageableSql(scope, 'u', p.values)} AS manageable
FROM sel u
LEFT JOIN cls ON cls.user_id = u.id${family ? '\nLEFT JOIN fam ON fam.id = u.id' : ''}
LEFT JOIN st ON st.user_id = u.id
LEFT JOIN kids ON kids.parent_id = u.id
ORDER BY ${orderBy(selection.sort, 'cls.group_class')}`;
  return { sql, values: p.values };
}

/** The columns of users `u` that ROW_COLUMNS, detailLaterals, manageableSql and the sort keys read. */
const PAGE_USER_COLUMNS = `u.id, u.last_name, u.first_name, u.profile, u.login, u.activated_at, u.activation_code_enc,
  u.activation_code_expires_at, u.email, u.birth_date, u.created_at, u.origin, u.ine, u.functions, u.mobile, u.pre_deleted_at,
  u.blocked, u.absent_since, u.is_super_admin`;

/**
 * The SQL of selectPage: `sel`, the page's rows (filters, order, then keyset or offset) with only the columns a row
 * shows carried through the sort (not whole rows), then each row's details (detailLaterals).
 */
function pageQuery(selection: Selection, scope: Scope, mode: PageRequest, p = new Params()): { sql: string; values: unknown[] } {
  const where = conditions(selection, scope, p);
  const family = selection.sort === 'family';
  let sel: string;
  if (family) {
    // Paging by family needs every matching pupil's rank first (no keyset: by offset).
    sel = `hit AS MATERIALIZED (SELECT ${PAGE_USER_COLUMNS} FROM users u WHERE ${where.join('\n  AND ')}),
  ${classesCte('hit_cls', 'hit', selection, scope, p, true)},
  ${familyCte('hit', 'hit_cls')},
  sel AS MATERIALIZED (SELECT u.* FROM hit u LEFT JOIN fam ON fam.id = u.id
      ORDER BY ${orderBy('family', 'NULL')} LIMIT ${p.add(mode.limit)} OFFSET ${p.add(mode.offset ?? 0)})`;
  } else {
    const cursor = mode.after ?? mode.before;
    const key = cursor ? parseCursor(selection.sort, cursor) : null;
    const before = !mode.after && !!mode.before;
    const page = (groupClass: string) =>
      `ORDER BY ${orderBy(selection.sort, groupClass, before && !!key)} LIMIT ${p.add(mode.limit)}${key ? '' : ` OFFSET ${p.add(mode.offset ?? 0)}`}`;
    if (selection.sort !== 'class') {
      if (key) where.push(keysetCondition(selection.sort, 'NULL', key, p, before));
      sel = `sel AS MATERIALIZED (SELECT ${PAGE_USER_COLUMNS} FROM users u WHERE ${where.join('\n  AND ')} ${page('NULL')})`;
    } else {
      // Paging by class needs every matching account's filing class first.
      sel = `hit AS MATERIALIZED (SELECT ${PAGE_USER_COLUMNS} FROM users u WHERE ${where.join('\n  AND ')}),
  ${classesCte('hit_cls', 'hit', selection, scope, p, true)},
  sel AS MATERIALIZED (SELECT u.* FROM hit u LEFT JOIN hit_cls cls ON cls.user_id = u.id
      ${key ? `WHERE ${keysetCondition('class', 'cls.group_class', key, p, before)}` : ''} ${page('cls.group_class')})`;
    }
  }
  const sql = `WITH ${sel}
SELECT ${ROW_COLUMNS(selection)}, ${manageableSql(scope, 'u', p.values)} AS manageable
FROM sel u${family ? '\nLEFT JOIN fam ON fam.id = u.id' : ''}
${detailLaterals(selection, scope, p)}
ORDER BY ${orderBy(selection.sort, 'cls.group_class')}`;
  return { sql, values: p.values };
}

/**
 * The selection in `selection.sort` order, `batchSize` accounts at a time, read through a server-side cursor
 * (DECLARE … CURSOR) on `client`, which must be inside a transaction. The query is selectAccounts' (details
 * joined set-wise: hash joins reading each table once, as a hand-written export would), but PostgreSQL keeps
 * the result and the next batch is fetched only when the consumer asks: memory stays flat in this process
 * whatever the selection's size.
 */
export async function* streamSelection(
  ctx: AppContext,
  client: Queryable,
  selection: Selection,
  scope: Scope,
  batchSize = 1000,
): AsyncGenerator<AccountRow[]> {
  const toRows = (rows: Record<string, unknown>[]) => {
    const now = Date.now();
    return rows.map((r) => toRow(r, ctx.secrets, now));
  };
  if (selection.sort === 'class' || selection.sort === 'family') yield* cursorBatches(client, rowsQuery(selection, scope), batchSize, 'object', toRows);
  else yield* cursorBatches(client, streamQuery(selection, scope, batchSize), batchSize, 'object', toRows, true);
}

/**
 * rowsQuery for a cursor whose first rows leave at once: rowsQuery joins and sorts the whole selection before its
 * first row (1.5 s for 100,000 accounts, ~15 s for a région). Its first `head` rows are a preview page (pageQuery:
 * the index on names gives them without sorting the selection, their details row by row); then, in the same
 * statement (one snapshot: nobody renamed in between is lost or printed twice), rowsQuery's rows after the last
 * of them. Not for the class and family orders, which need every row's filing class or rank first.
 */
function streamQuery(selection: Selection, scope: Scope, head: number): { sql: string; values: unknown[] } {
  const p = new Params();
  const first = pageQuery(selection, scope, { limit: head }, p).sql;
  const rest = rowsQuery(selection, scope, p, true).sql;
  // A MATERIALIZED CTE is read in the order it was written; Append returns its branches one after the other.
  const sql = `WITH head AS MATERIALIZED (${first})
(SELECT * FROM head u ORDER BY ${orderBy(selection.sort, 'NULL')})
UNION ALL
(${rest})`;
  return { sql, values: p.values };
}

/**
 * `query` through a server-side cursor on `client` (inside a transaction), `batchSize` rows at a time (as objects or
 * arrays: pg's rowMode), each batch mapped by `map`.
 */
async function* cursorBatches<T, R>(
  client: Queryable,
  query: { sql: string; values: unknown[] },
  batchSize: number,
  rowMode: 'object' | 'array',
  map: (rows: T[]) => R[],
  /** Ask for the second batch only once the first is handed back (streamQuery: the second is the slow one). */
  lazySecond = false,
): AsyncGenerator<R[]> {
  const name = `selection_${++cursors}`;
  await client.query(`DECLARE ${name} NO SCROLL CURSOR FOR ${query.sql}`, query.values);
  const text = `FETCH ${batchSize} FROM ${name}`;
  const fetch = (): Promise<{ rows: T[] }> =>
    (rowMode === 'array' ? client.query({ text, rowMode: 'array' }) : client.query(text)) as unknown as Promise<{ rows: T[] }>;
  // The next batch is asked for before this one is handed over: PostgreSQL produces it while this process
  // decrypts and renders the current one (queries on one connection run in order, so the consumer's own
  // statements on `client` simply queue behind it).
  // With lazySecond, the consumer's statements on the first batch (its codes, its hand-out) do not queue behind the
  // second batch, which joins and sorts the rest of the selection: the first pages leave first.
  let next: Promise<{ rows: T[] }> | null = fetch();
  let first = lazySecond;
  try {
    while (next) {
      const res: { rows: T[] } = await next;
      const more = res.rows.length === batchSize;
      next = more && !first ? fetch() : null;
      if (!res.rows.length) break;
      yield map(res.rows);
      if (first && more) next = fetch();
      first = false;
    }
  } finally {
    // A consumer that stops early: the prefetched batch is dropped, then the cursor closed.
    await next?.catch(() => {});
    await client.query(`CLOSE ${name}`).catch(() => {});
  }
}
let cursors = 0;

/**
 * The temporary table (one column, id) where streamCsvSelection keeps the ids of the accounts it selected, for the
 * rest of the transaction (dropped at its end): the cursor reads the accounts from it, and the hand-out of the
 * very same accounts is recorded from it (tracking.ts distributionRecorder).
 */
export const SELECTED_IDS = 'selected_ids';

/**
 * The CSV export's SQL over the accounts of SELECTED_IDS: the details and order of rowsQuery, but only what the CSV's
 * cells need (no structure, no local-admin badge), with PostgreSQL writing the cells it can as they read: the classes
 * ("5A, 6A"), the children (childrenLabel), the creation day (frenchDate's dd/mm/yyyy in Paris). Read as arrays, in
 * this order: see toCsvRow. `sel` carries only the columns read (PAGE_USER_COLUMNS), not whole rows.
 */
function csvRowsQuery(selection: Selection, scope: Scope): { sql: string; values: unknown[] } {
  const p = new Params();
  const family = selection.sort === 'family';
  const sql = `WITH sel AS MATERIALIZED (SELECT ${PAGE_USER_COLUMNS} FROM ${SELECTED_IDS} x JOIN users u ON u.id = x.id),
  ${classesCte('cls', 'sel', selection, scope, p)},
  ${kidsCtes(selection, scope, p, 'label')}${family ? `,\n  ${familyCte('sel', 'cls')}` : ''}
SELECT u.id, u.last_name, u.first_name, u.profile, u.login, u.activated_at IS NOT NULL,
  u.activation_code_enc, extract(epoch FROM u.activation_code_expires_at) * 1000, u.email,
  array_to_string(cls.names, ', '), to_char(u.created_at AT TIME ZONE 'Europe/Paris', 'DD/MM/YYYY'), kids.children,
  u.ine, u.functions, u.mobile, u.pre_deleted_at IS NOT NULL, u.blocked,
  ${selection.external === 'exclude' ? 'NULL::text' : externalProviderSql('u')}, ${manageableSql(scope, 'u', p.values)}
FROM sel u
LEFT JOIN cls ON cls.user_id = u.id${family ? '\nLEFT JOIN fam ON fam.id = u.id' : ''}
LEFT JOIN kids ON kids.parent_id = u.id
ORDER BY ${orderBy(selection.sort, 'cls.group_class')}`;
  return { sql, values: p.values };
}

/** One array row of csvRowsQuery. */
function toCsvRow(r: unknown[], secrets: Decrypter, now: number): CsvAccountRow {
  const activated = r[5] as boolean;
  const externalProvider = (r[17] as string | null) ?? null;
  const facts = { activated, readOnly: r[18] === false, blocked: r[16] as boolean, preDeleted: r[15] as boolean, externalProvider };
  // The expiry as epoch milliseconds (numeric text): a Date is made only for the accounts that have one.
  const expiresAt = r[7] === null ? null : new Date(Number(r[7]));
  return {
    id: r[0] as string,
    lastName: r[1] as string,
    firstName: r[2] as string,
    profile: r[3] as AccountRow['profile'],
    login: r[4] as string,
    ...facts,
    ...storedCode(r[6] as string | null, expiresAt, facts, secrets, now),
    email: r[8] as string | null,
    classesLabel: (r[9] as string | null) ?? '',
    createdDay: r[10] as string,
    childrenLabel: (r[11] as string | null) ?? '',
    ine: r[12] as string | null,
    functions: (r[13] as string[] | null) ?? [],
    mobile: r[14] as string | null,
  };
}

/**
 * The selection as streamSelection gives it (same accounts, order, cursor, batches), in the CSV export's shape
 * (CsvAccountRow): a région's export reads and allocates only what its cells need. The selected ids are first kept in
 * SELECTED_IDS in id order (on `client`, inside a transaction, which must hold no such table yet), where the caller
 * records the hand-out of exactly the accounts of the file.
 */
export async function* streamCsvSelection(
  ctx: AppContext,
  client: Queryable,
  selection: Selection,
  scope: Scope,
  batchSize = 1000,
): AsyncGenerator<CsvAccountRow[]> {
  const p = new Params();
  const where = conditions(selection, scope, p);
  await client.query(`CREATE TEMP TABLE ${SELECTED_IDS} (id uuid) ON COMMIT DROP`);
  // In id order: the hand-out is recorded from it range by range (tracking.ts distributionRecorder).
  await client.query(`INSERT INTO ${SELECTED_IDS} SELECT u.id FROM users u WHERE ${where.join('\n  AND ')} ORDER BY u.id`, p.values);
  yield* cursorBatches(client, csvRowsQuery(selection, scope), batchSize, 'array', (rows: unknown[][]) => {
    const now = Date.now();
    return rows.map((r) => toCsvRow(r, ctx.secrets, now));
  });
}

/**
 * Who the distribution filters of `selection` leave out (blocked, absent from the feed, external sign-in), among
 * the accounts the other filters match: the preview's "left out" counters.
 */
export async function leftOutOf(ctx: AppContext, selection: Selection, scope: Scope): Promise<LeftOut> {
  const p = new Params();
  const where = conditions(widened(selection), scope, p).join('\n  AND ');
  const external = externalProviderJoin('u');
  const res = await ctx.database.pool.query(
    `SELECT x.blocked, x.absent, x.provider, x.profile, count(*)::int AS count FROM (
       SELECT u.blocked, (u.absent_since IS NOT NULL OR u.pre_deleted_at IS NOT NULL) AS absent, ${external.provider} AS provider, u.profile
       FROM users u ${external.join} WHERE ${where}) x
     GROUP BY 1, 2, 3, 4`,
    p.values,
  );
  return countLeftOut(selection, res.rows.map((r) => ({ blocked: r.blocked, absent: r.absent, provider: r.provider ?? null, profile: r.profile as Profile, count: r.count })));
}

/**
 * Whether the selection holds no account: what a download checks before anything else (422), at the cost of finding
 * one row when there are some (counting a région's million is a scan, left to run beside the export: generate.ts).
 */
export async function selectionIsEmpty(ctx: AppContext, selection: Selection, scope: Scope): Promise<boolean> {
  const p = new Params();
  const where = conditions(selection, scope, p).join('\n  AND ');
  const res = await ctx.database.pool.query(`SELECT NOT EXISTS (SELECT 1 FROM users u WHERE ${where}) AS empty`, p.values);
  return res.rows[0].empty as boolean;
}

/**
 * The addresses several accounts of a selection share, most shared first (at most `limit`), with their number of
 * accounts: a mail merge sends each account's code in a mail of its own, so a shared mailbox receives every one of
 * them (a data error between adults — the ENT's CSV templates give one address to all nine —, or a family's parents).
 */
export async function sharedAddresses(ctx: AppContext, selection: Selection, scope: Scope, limit = 5): Promise<{ email: string; accounts: number }[]> {
  const p = new Params();
  const where = conditions(selection, scope, p).join('\n  AND ');
  const res = await ctx.database.pool.query<{ email: string; accounts: number }>(
    `SELECT lower(btrim(u.email)) AS email, count(*)::int AS accounts FROM users u WHERE ${where} AND NOT ${EMPTY_EMAIL}
      GROUP BY 1 HAVING count(*) > 1 ORDER BY 2 DESC, 1 LIMIT ${Math.max(1, Math.floor(limit))}`,
    p.values,
  );
  return res.rows;
}

/**
 * "N comptes sélectionnés au total", "N comptes sans adresse courriel", and `unmailable`: accounts with an address a
 * merge mails nothing (mail/merge.ts hasEmail, mayBeMailed): blocked, pre-deleted, or signing in elsewhere.
 */
export async function countSelection(
  ctx: AppContext,
  selection: Selection,
  scope: Scope,
): Promise<{ total: number; withoutEmail: number; preDeleted: number; unmailable: number }> {
  const p = new Params();
  const where = conditions(selection, scope, p).join('\n  AND ');
  // Only where the selection can hold them (by default it leaves them all out: no extra work).
  const unusable = [
    ...(selection.blocked === 'exclude' ? [] : ['u.blocked']),
    ...(selection.preDeletion === 'not' ? [] : ['u.pre_deleted_at IS NOT NULL']),
    ...(selection.external === 'exclude' ? [] : [`NOT (${externalOnlyAbsentSql('u')})`]),
  ];
  const res = await ctx.database.pool.query(
    `SELECT count(*)::int AS total, count(*) FILTER (WHERE ${EMPTY_EMAIL})::int AS without_email,
            count(*) FILTER (WHERE u.pre_deleted_at IS NOT NULL)::int AS pre_deleted,
            ${unusable.length ? `count(*) FILTER (WHERE NOT ${EMPTY_EMAIL} AND (${unusable.join(' OR ')}))::int` : '0'} AS unmailable
     FROM users u WHERE ${where}`,
    p.values,
  );
  const r = res.rows[0];
  return { total: r.total, withoutEmail: r.without_email, preDeleted: r.pre_deleted, unmailable: r.unmailable };
}
