// What one import run may touch, decided from the DETECTED format (file content, never its name) and the
// caller's scope. importFiles calls assertImportAllowed for every file before parsing it, and applyBatch keeps
// every read and write inside the scope (importScopeSql, importPreDeleteSql, importStructureAllowed).
//
// Rules (issue #7):
//  - academic feeds (AAF `ficAlimMENESR`) describe their own structures and people across a whole académie:
//    super admins (scope 'all': console, API, CLI, system jobs) only;
//  - a local admin ('structures') imports school files into one of their structures; the run never creates,
//    renames or reads another structure, and never matches, updates, links or pre-deletes an account they may
//    not change (manageableSql: outside their structures, or another administrator, of any school), and pre-deletes
//    only accounts wholly inside their structures;
//  - no import, whoever runs it, ever matches, updates or pre-deletes a super admin.
import { manageableSql, scopeSql, type Scope } from '../directory/scope.js';
import type { FileFormat } from './types.js';
import { importText, type ImportCode, type ImportMessage } from './messages.js';

/**
 * Formats that carry structures and people across a whole académie: super admins only. School files (CSV,
 * ONDE/BE1D, SIECLE, STS-web) land in one school, which must be in the caller's scope.
 */
const ACADEMIC_FEEDS: ReadonlySet<FileFormat> = new Set(['aaf']);

/** A run refused because the caller's scope does not allow it (HTTP 403); nothing was written. */
export class ImportForbiddenError extends Error {
  /** French text of the refusal (the command line prints it); the web translates `messageCode`. */
  readonly reason: string;
  /** academic_feed: an AAF file from a local admin; scope: anything else beyond the caller's scope. */
  readonly code: 'academic_feed' | 'scope';
  constructor(
    readonly file: string,
    readonly messageCode: ImportCode,
    readonly params: ImportMessage['params'] = {},
  ) {
    const reason = importText(messageCode, params);
    super(file ? `${file} : ${reason}` : reason);
    this.reason = reason;
    this.code = messageCode === 'forbiddenAcademicFeed' ? 'academic_feed' : 'scope';
    this.name = 'ImportForbiddenError';
  }
}

/** Throws ImportForbiddenError unless `scope` may import a file of `format` (detected from its content). */
export function assertImportAllowed(format: FileFormat, scope: Scope, file: string): void {
  if (scope.kind === 'all') return;
  if (scope.kind !== 'structures') throw new ImportForbiddenError(file, 'forbiddenNotAdmin');
  if (ACADEMIC_FEEDS.has(format)) {
    throw new ImportForbiddenError(file, 'forbiddenAcademicFeed');
  }
}

/** Whether a run in `scope` may write into structure `structureId` (an existing one; only 'all' creates). */
export function importStructureAllowed(scope: Scope, structureId: string): boolean {
  return scope.kind === 'all' || (scope.kind === 'structures' && scope.structureIds.includes(structureId));
}

/**
 * SQL condition "an import in `scope` may match, update, link or pre-delete user `u`": never a super admin;
 * otherwise visible in the scope and changeable by it.
 */
export function importScopeSql(scope: Scope, u: string, params: unknown[]): string {
  return `(NOT ${u}.is_super_admin AND ${scopeSql(scope, u, params)} AND ${manageableSql(scope, u, params)})`;
}

/**
 * SQL condition "an import in `scope` may pre-delete user `u`": importScopeSql, and outside 'all' an account
 * wholly inside the scope (pre-deletion is account-wide: an account also attached to another school stays,
 * that school still has it).
 */
export function importPreDeleteSql(scope: Scope, u: string, params: unknown[]): string {
  const base = importScopeSql(scope, u, params);
  if (scope.kind === 'all') return base;
  params.push(scope.kind === 'structures' ? scope.structureIds : []);
  return `(${base} AND NOT EXISTS (SELECT 1 FROM user_structures pd_us
    WHERE pd_us.user_id = ${u}.id AND NOT (pd_us.structure_id = ANY($${params.length}::uuid[]))))`;
}
