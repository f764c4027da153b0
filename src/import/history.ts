// The reports of confirmed console imports (migration 0034): kept so that an administrator reads a run's report
// again after leaving its page, and sees a school's last imports. Stored whole, gzipped (a région's run lists
// thousands of ignored records); the last REPORTS_KEPT of each school (or of the runs for every school) are kept.
import { gunzipSync, gzipSync } from 'node:zlib';
import type { Queryable } from '../db/index.js';
import { rejectedApart } from './report.js';
import type { ImportReport } from './types.js';

/** Reports kept per school (and for the runs for every school): older ones are deleted as a new one is saved. */
export const REPORTS_KEPT = 50;

/** One stored run, as the history lists it. */
export interface StoredImport {
  id: string;
  at: Date;
  /** Who confirmed it: « Prénom NOM », null when the account is gone. */
  actor: string | null;
  files: string[];
  created: number;
  updated: number;
  preDeleted: number;
  rejected: number;
}

/** The school (`structureId`) a run belongs to, or null for a super admin's run for every school. */
type Owner = string | null;
const ownerSql = (column: string, p: number) => `${column} IS NOT DISTINCT FROM $${p}::uuid`;

/**
 * Saves a confirmed run's report (in the caller's transaction or not); returns its id. `allSchools`: the run was made
 * with the scope of every school (a super admin's), so its report may name other schools' accounts: read by super
 * admins only.
 */
export async function saveImportReport(db: Queryable, o: { report: ImportReport; actorId: string | null; structureId: Owner; token: string; allSchools: boolean }): Promise<string> {
  const r = o.report;
  // Rows left out only: the remarks on rows imported all the same are no rejections (report.ts rejectedApart).
  const summary = { files: r.files.map((f) => f.file), created: r.created, updated: r.updated, preDeleted: r.preDeleted, rejected: rejectedApart(r).rejected.length };
  const { rows } = await db.query<{ id: string }>(
    `INSERT INTO import_reports (actor_id, structure_id, token, all_schools, summary, report_gz) VALUES ($1, $2, $3, $4, $5, $6) RETURNING id`,
    [o.actorId, o.structureId, o.token, o.allSchools, summary, gzipSync(JSON.stringify(r))],
  );
  await db.query(
    `DELETE FROM import_reports WHERE ${ownerSql('structure_id', 1)}
       AND id NOT IN (SELECT id FROM import_reports WHERE ${ownerSql('structure_id', 1)} ORDER BY at DESC, id LIMIT ${REPORTS_KEPT})`,
    [o.structureId],
  );
  return rows[0].id;
}

/** The last `limit` runs of `structureId` (null: those for every school) `superAdmin` may read, newest first. */
export async function listImportReports(db: Queryable, structureId: Owner, superAdmin: boolean, limit = 10): Promise<StoredImport[]> {
  const { rows } = await db.query(
    `SELECT r.id, r.at, r.summary, CASE WHEN u.id IS NULL THEN NULL ELSE u.first_name || ' ' || u.last_name END AS actor
       FROM import_reports r LEFT JOIN users u ON u.id = r.actor_id
      WHERE ${ownerSql('r.structure_id', 1)} AND ($3 OR NOT r.all_schools) ORDER BY r.at DESC, r.id LIMIT $2`,
    [structureId, limit, superAdmin],
  );
  return rows.map((x) => ({ id: x.id, at: x.at, actor: x.actor, files: x.summary.files ?? [], created: x.summary.created ?? 0, updated: x.summary.updated ?? 0, preDeleted: x.summary.preDeleted ?? 0, rejected: x.summary.rejected ?? 0 }));
}

/**
 * The report `id` of `structureId`'s runs (null: for every school) `superAdmin` may read, or null: another school's,
 * or a super admin's run for a local admin, is not found.
 */
export async function loadImportReport(db: Queryable, id: string, structureId: Owner, superAdmin: boolean): Promise<{ report: ImportReport; at: Date } | null> {
  const { rows } = await db.query<{ report_gz: Buffer; at: Date }>(
    `SELECT report_gz, at FROM import_reports WHERE id = $1 AND ${ownerSql('structure_id', 2)} AND ($3 OR NOT all_schools)`,
    [id, structureId, superAdmin],
  );
  return rows[0] ? { report: JSON.parse(gunzipSync(rows[0].report_gz).toString('utf8')) as ImportReport, at: rows[0].at } : null;
}

/** The report saved for the confirmed upload `token` of `structureId`'s page, if any (a confirmation sent again). */
export async function reportOfToken(db: Queryable, token: string, structureId: Owner): Promise<string | null> {
  const { rows } = await db.query<{ id: string }>(`SELECT id FROM import_reports WHERE token = $1 AND ${ownerSql('structure_id', 2)}`, [token, structureId]);
  return rows[0]?.id ?? null;
}
