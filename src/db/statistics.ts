// Planner statistics after a bulk write (an import, the demo seed). Autovacuum analyzes a table once more than
// 50 + 10 % of its rows changed, but only on its next round (autovacuum_naptime, a minute by default, later on a
// busy server); until then a table loaded from empty still counts as never analyzed and PostgreSQL plans its
// joins for a handful of rows: nested loops over the whole school. Measured on the demo collège (1,767 accounts,
// bench/family.ts): the publipostage selection took 10 s right after the seed and 45 ms once analyzed — and the
// first thing done after a school's first import is usually printing its sheets. So the writer analyzes at once
// what autovacuum would analyze soon anyway, by autovacuum's own rule: no extra work on a small delta.
import type { Queryable } from './index.js';

/** The directory tables an import or the demo seed fills, which every selection joins. */
export const DIRECTORY_TABLES = ['structures', 'classes', 'users', 'user_structures', 'user_classes', 'relations'] as const;

/**
 * Autovacuum's analyze rule (autovacuum_analyze_threshold 50 + autovacuum_analyze_scale_factor 0.1, PostgreSQL's
 * defaults): `reltuples` is pg_class's row estimate, below 0 for a table never analyzed.
 */
export function needsAnalyze(reltuples: number, changedRows: number): boolean {
  return reltuples < 0 || changedRows > 50 + 0.1 * reltuples;
}

/**
 * ANALYZE each of `tables` that `changedRows` written rows (inserted, updated or deleted, summed over the write)
 * would make autovacuum analyze; run after the write committed. Returns the tables analyzed.
 */
export async function refreshStatistics(db: Queryable, changedRows: number, tables: readonly string[] = DIRECTORY_TABLES): Promise<string[]> {
  if (changedRows <= 0) return [];
  const res = await db.query<{ relname: string; reltuples: number }>(
    `SELECT relname, reltuples::float8 AS reltuples FROM pg_class WHERE oid = ANY($1::text[]::regclass[])`,
    [[...tables]],
  );
  const stale = res.rows.filter((r) => needsAnalyze(r.reltuples, changedRows)).map((r) => r.relname);
  // Identifiers from the fixed list above (pg_class's own names), not from input.
  if (stale.length) await db.query(`ANALYZE ${stale.map((t) => `"${t}"`).join(', ')}`);
  return stale;
}
