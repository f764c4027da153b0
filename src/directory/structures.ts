// Structures (schools), their levels and classes, as far as the caller's scope reaches.
import type { AppContext } from '../context.js';
import type { Queryable } from '../db/index.js';
import { recordAudit } from './audit.js';
import { foldName } from './fold.js';
import { isUuid } from './users.js';
import type { Scope } from './scope.js';

export interface StructureRow {
  id: string;
  name: string;
  uai: string | null;
  externalId: string | null;
  origin: 'feed' | 'manual';
  /** Accounts attached to the structure. */
  userCount: number;
  classCount: number;
}

export interface ClassRow {
  id: string;
  name: string;
  structureId: string;
  structureName: string;
  levelId: string | null;
  levelName: string | null;
  /** Students in the class. */
  studentCount: number;
}

export interface LevelRow {
  id: string;
  name: string;
  structureId: string;
  classCount: number;
}

/** Natural French order: "6e2" before "6e10", accents ignored. */
export const byName = new Intl.Collator('fr', { numeric: true, sensitivity: 'base' }).compare;

/** SQL condition restricting a structure id column to the scope; teachers and users get their own structures. */
function structureScopeSql(scope: Scope, col: string, params: unknown[]): string {
  switch (scope.kind) {
    case 'all':
      return 'true';
    case 'structures':
      params.push(scope.structureIds);
      return `${col} = ANY($${params.length}::uuid[])`;
    case 'classes':
      params.push(scope.classIds);
      return `${col} IN (SELECT sc.structure_id FROM classes sc WHERE sc.id = ANY($${params.length}::uuid[]))`;
    case 'self':
      params.push(scope.userId);
      return `${col} IN (SELECT su.structure_id FROM user_structures su WHERE su.user_id = $${params.length}::uuid)`;
  }
}

/** SQL condition restricting a class id column to the scope (teachers: their classes; users: their own). */
function classScopeSql(scope: Scope, classCol: string, structureCol: string, params: unknown[]): string {
  switch (scope.kind) {
    case 'classes':
      params.push(scope.classIds);
      return `${classCol} = ANY($${params.length}::uuid[])`;
    case 'self':
      params.push(scope.userId);
      return `${classCol} IN (SELECT uc.class_id FROM user_classes uc WHERE uc.user_id = $${params.length}::uuid)`;
    default:
      return structureScopeSql(scope, structureCol, params);
  }
}

/**
 * Structures visible in the scope, by name. Accounts are counted from the memberships' index alone, the few super
 * admins (users_super_admin_idx) and the pre-deleted accounts (users_pre_deleted_idx: the school's home leaves them out
 * too, stats.ts; the list said 1 769 where the home said 1 767) set aside: joining each membership to its account to
 * test the flags cost a million lookups for a région (3.2 s).
 */
export async function listStructures(ctx: AppContext, scope: Scope): Promise<StructureRow[]> {
  const params: unknown[] = [];
  const { rows } = await ctx.database.pool.query(
    `SELECT s.id, s.name, s.uai, s.external_id, s.origin,
            (SELECT count(*) FROM user_structures us
              WHERE us.structure_id = s.id AND us.user_id NOT IN (SELECT sa.id FROM users sa WHERE sa.is_super_admin)
                AND us.user_id NOT IN (SELECT pd.id FROM users pd WHERE pd.pre_deleted_at IS NOT NULL))::int AS user_count,
            (SELECT count(*) FROM classes c WHERE c.structure_id = s.id)::int AS class_count
       FROM structures s WHERE ${structureScopeSql(scope, 's.id', params)}`,
    params,
  );
  return rows
    .map((r) => ({
      id: r.id, name: r.name, uai: r.uai, externalId: r.external_id, origin: r.origin,
      userCount: r.user_count, classCount: r.class_count,
    }))
    .sort((a, b) => byName(a.name, b.name));
}

/** Classes visible in the scope (optionally of one structure), with level names and student counts, by structure then name. */
export async function listClasses(ctx: AppContext, scope: Scope, structureId?: string): Promise<ClassRow[]> {
  if (structureId !== undefined && !isUuid(structureId)) return [];
  const params: unknown[] = [];
  const where = [classScopeSql(scope, 'c.id', 'c.structure_id', params)];
  if (structureId) {
    params.push(structureId);
    where.push(`c.structure_id = $${params.length}::uuid`);
  }
  const { rows } = await ctx.database.pool.query(
    `SELECT c.id, c.name, c.structure_id, s.name AS structure_name, c.level_id, l.name AS level_name,
            (SELECT count(*) FROM user_classes uc JOIN users u ON u.id = uc.user_id
              WHERE uc.class_id = c.id AND u.profile = 'Student')::int AS student_count
       FROM classes c JOIN structures s ON s.id = c.structure_id LEFT JOIN levels l ON l.id = c.level_id
      WHERE ${where.join(' AND ')}`,
    params,
  );
  return rows
    .map((r) => ({
      id: r.id, name: r.name, structureId: r.structure_id, structureName: r.structure_name,
      levelId: r.level_id, levelName: r.level_name, studentCount: r.student_count,
    }))
    .sort((a, b) => byName(a.structureName, b.structureName) || byName(a.name, b.name));
}

/** Levels visible in the scope (optionally of one structure), with their class counts. */
export async function listLevels(ctx: AppContext, scope: Scope, structureId?: string): Promise<LevelRow[]> {
  if (structureId !== undefined && !isUuid(structureId)) return [];
  const params: unknown[] = [];
  const where: string[] = [];
  if (scope.kind === 'classes' || scope.kind === 'self') {
    // Only the levels of the classes the caller may see.
    where.push(`l.id IN (SELECT c.level_id FROM classes c WHERE ${classScopeSql(scope, 'c.id', 'c.structure_id', params)})`);
  } else {
    where.push(structureScopeSql(scope, 'l.structure_id', params));
  }
  if (structureId) {
    params.push(structureId);
    where.push(`l.structure_id = $${params.length}::uuid`);
  }
  const { rows } = await ctx.database.pool.query(
    `SELECT l.id, l.name, l.structure_id, (SELECT count(*) FROM classes c WHERE c.level_id = l.id)::int AS class_count
       FROM levels l WHERE ${where.join(' AND ')}`,
    params,
  );
  return rows
    .map((r) => ({ id: r.id, name: r.name, structureId: r.structure_id, classCount: r.class_count }))
    .sort((a, b) => byName(a.name, b.name));
}

/** The letters of a UAI's key: 23, without I, O and Q. */
const UAI_KEY_LETTERS = 'ABCDEFGHJKLMNPRSTUVWXYZ';

/**
 * A UAI (numéro d'immatriculation des établissements, 7 digits and a key letter) as typed, upper-cased, or why not:
 * `'format'` (not 7 digits and a letter), `{ expected }` (the key letter is not the remainder of the 7 digits by 23
 * in the RNE's alphabet of 23 letters: a mistyped digit). Empty input: null (no UAI: a school of the ENT only).
 */
export function parseUai(input: string): { uai: string | null } | { error: 'format' } | { error: 'key'; expected: string } {
  const v = input.replace(/\s+/g, '').toUpperCase();
  if (!v) return { uai: null };
  if (!/^\d{7}[A-Z]$/.test(v)) return { error: 'format' };
  const expected = withUaiKey(v.slice(0, 7));
  return v === expected ? { uai: v } : { error: 'key', expected };
}

/** The UAI of 7 digits with its key letter (the remainder by 23 in the RNE's alphabet): `0900000` → `0900000L`. */
export function withUaiKey(digits: string): string {
  return `${digits}${UAI_KEY_LETTERS[Number(digits) % 23]}`;
}

/**
 * A school's name as typed, tidied: control and format characters removed (an escape sequence, a right-to-left
 * override, zero-width spaces: invisible on the form, they flip or hide the name on letters and lists, or make a
 * twin of another school's name that folds apart from it), white space (line breaks, tabs included) collapsed.
 */
export function tidySchoolName(input: string): string {
  // Line breaks and tabs are white space (« École\nJules Ferry » keeps its space), the rest goes.
  return input.replace(/\s+/g, ' ').replace(/[\p{Cc}\p{Cf}]/gu, '').replace(/ {2,}/g, ' ').trim();
}

/**
 * Why a new structure cannot be created: its name or UAI is another structure's (`same`), or is what an import
 * finds another structure by before its name (`key`: the name is another's UAI or external id, the UAI another's
 * external id or name — index.ts resolveTarget looks a school up by id, UAI, external id, then folded name); the
 * other structure's name and UAI.
 */
export type NewStructureConflict = { field: 'name' | 'uai'; reason: 'same' | 'key'; name: string; uai: string | null };

/**
 * Creates a school by hand (the super admin's « Nouvel établissement »: a primary school whose only files are ONDE
 * exports, before its first import in the console), origin 'manual', audited `structure.create`. `uai` is already
 * checked (parseUai), the name tidied (tidySchoolName). Refused when the import would then confuse it with another
 * structure (NewStructureConflict): returns the conflict, nothing written.
 */
export async function createStructure(
  db: Queryable,
  actorId: string,
  input: { name: string; uai: string | null },
): Promise<{ id: string } | { conflict: NewStructureConflict }> {
  const name = tidySchoolName(input.name);
  const uai = input.uai?.toUpperCase() ?? null;
  // Compared as the import finds a school (foldName for names): a région holds a few thousand structures.
  const all = (await db.query<{ name: string; uai: string | null; external_id: string | null }>(`SELECT name, uai, external_id FROM structures`)).rows;
  const upper = (x: string | null) => x?.trim().toUpperCase() ?? null;
  const checks: [NewStructureConflict['field'], NewStructureConflict['reason'], (x: (typeof all)[number]) => boolean][] = [
    ['uai', 'same', (x) => !!uai && upper(x.uai) === uai],
    ['uai', 'key', (x) => !!uai && (upper(x.external_id) === uai || upper(x.name) === uai)],
    ['name', 'same', (x) => foldName(x.name) === foldName(name)],
    ['name', 'key', (x) => upper(x.uai) === name.toUpperCase() || x.external_id?.trim() === name],
  ];
  for (const [field, reason, clash] of checks) {
    const other = all.find(clash);
    if (other) return { conflict: { field, reason, name: other.name, uai: other.uai } };
  }
  const r = await db.query<{ id: string }>(`INSERT INTO structures (uai, name, origin) VALUES ($1, $2, 'manual') RETURNING id`, [uai, name]);
  await recordAudit(db, actorId, 'structure.create', { structureId: r.rows[0].id, name, uai });
  return { id: r.rows[0].id };
}
