// Two databases for the AAF record cache's tests (src/import/aaf-cache.ts): `both` imports a delivery into each, the
// second's cache emptied first, and checks that the reports and the directories are the same. Deliveries are copies
// of a generated feed changed as a test needs.
import assert from 'node:assert/strict';
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { collectInputs, formatReport, importFiles, type ImportReport } from '../../src/import/index.js';
import { testContext } from './db.js';

export type Ctx = Awaited<ReturnType<typeof testContext>>;

/** Every `<addRequest>` of an AAF file's text, in order. */
export const RECORD = /<addRequest>[\s\S]*?<\/addRequest>/g;

export const q = async <T = Record<string, unknown>>(ctx: Ctx, sql: string, params: unknown[] = []) => (await ctx.database.pool.query(sql, params)).rows as T[];

/** Imports `dir` as a super admin, in chunks of 97 accounts; the run must not be refused. */
export async function runImport(ctx: Ctx, dir: string, opts: { dryRun?: boolean; partial?: boolean } = {}): Promise<ImportReport> {
  const report = await importFiles(ctx, collectInputs([dir]), { scope: { kind: 'all' }, dryRun: !!opts.dryRun, partial: opts.partial, chunkSize: 97 });
  assert.equal(report.fatal, null, formatReport(report));
  return report;
}

/** Everything an import owns, by external id (ids and logins drawn at random left out, links by external id). */
export const directory = (ctx: Ctx) =>
  q(
    ctx,
    `SELECT u.external_id, u.profile, u.title, u.first_name, u.last_name, u.birth_date, u.email, u.phone, u.mobile, u.ine,
            u.address, u.functions, u.source, u.origin, u.absent_since IS NOT NULL AS absent, u.pre_deleted_at IS NOT NULL AS pre_deleted,
            (SELECT array_agg(s.external_id || '/' || c.name ORDER BY s.external_id, c.name) FROM user_classes uc JOIN classes c ON c.id = uc.class_id
               JOIN structures s ON s.id = c.structure_id WHERE uc.user_id = u.id) AS classes,
            (SELECT array_agg(g.name ORDER BY g.name) FROM user_groups ug JOIN groups g ON g.id = ug.group_id WHERE ug.user_id = u.id) AS groups,
            (SELECT array_agg(s.external_id ORDER BY s.external_id) FROM user_structures us JOIN structures s ON s.id = us.structure_id WHERE us.user_id = u.id) AS structures,
            (SELECT array_agg(p.external_id ORDER BY p.external_id) FROM relations r JOIN users p ON p.id = r.parent_id WHERE r.child_id = u.id) AS parents,
            (SELECT array_agg(s.external_id ORDER BY s.external_id) FROM local_admins la JOIN structures s ON s.id = la.structure_id WHERE la.user_id = u.id) AS admin_of,
            (SELECT array_agg(l.name || '/' || c.name ORDER BY l.name, c.name) FROM classes c JOIN levels l ON l.id = c.level_id
               JOIN user_classes uc ON uc.class_id = c.id WHERE uc.user_id = u.id) AS levels
     FROM users u WHERE u.external_id IS NOT NULL ORDER BY u.external_id`,
  );

/** A report as the person reading it sees it (its duration and the run's instant left out). */
/** A report as two databases can agree on it: their timings, and the ids each gave its structures, left out. */
export const shown = (r: ImportReport) => ({ ...r, durationMs: 0, at: undefined, withoutAdmin: r.withoutAdmin?.map(({ id: _id, ...w }) => w) });

export interface Pair {
  /** The database whose cache is kept from run to run. */
  cached: Ctx;
  /** The database whose cache is emptied before each run: every record read. */
  plain: Ctx;
  /** Imports `dir` into both and checks they agree; returns the cached database's report. */
  both(dir: string, label: string, opts?: { dryRun?: boolean; partial?: boolean }): Promise<ImportReport>;
}

/** Runs `fn` on two fresh databases, after importing `first` into both (unless null); drops them after. */
export async function withPair(first: string | null, fn: (p: Pair) => Promise<void>): Promise<void> {
  const [cached, plain] = await Promise.all([testContext(), testContext()]);
  const both: Pair['both'] = async (dir, label, opts = {}) => {
    await q(plain, 'TRUNCATE aaf_record_cache');
    const [a, b] = [await runImport(cached, dir, opts), await runImport(plain, dir, opts)];
    assert.deepEqual(shown(a), shown(b), `${label}: the reports differ`);
    assert.deepEqual(await directory(cached), await directory(plain), `${label}: the directories differ`);
    return a;
  };
  try {
    if (first) await both(first, 'first import');
    await fn({ cached, plain, both });
  } finally {
    await Promise.all([cached.close(), plain.close()]);
  }
}

/** The files of a folder, sorted. */
export const files = (dir: string) => readdirSync(dir).sort();
/** The name of a delivery's file of an AAF kind (`Eleve`, `PersRelEleve`…). */
export const named = (text: Map<string, string>, kind: string) => [...text.keys()].find((f) => f.includes(`_${kind}_`))!;
/** The jointure of a record's text. */
export const extOf = (rec: string) => /<attr name="ENTPersonJointure"><value>([^<]*)/.exec(rec)![1];

/**
 * A maker of deliveries under `root`: each call copies `from` (default `original`) into a new folder, its files'
 * texts changed by `edit` (file name → text; new names are new files), and returns the folder.
 */
export function deliveries(root: string, original: string) {
  let n = 0;
  return (edit: (text: Map<string, string>) => void, from = original): string => {
    const dir = join(root, `d${++n}`);
    mkdirSync(dir);
    const text = new Map(files(from).map((f) => [f, readFileSync(join(from, f), 'utf8')]));
    edit(text);
    for (const [f, t] of text) writeFileSync(join(dir, f), t);
    return dir;
  };
}
