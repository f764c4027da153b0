// One import run: detect each file's format, parse everything, apply in ONE transaction (rolled back on dry-run).
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { basename, dirname, extname, join } from 'node:path';
import type { AppContext } from '../context.js';
import type { Profile } from '../db/schema.js';
import { recordAudit } from '../directory/audit.js';
import { AAF_PROFILES, aafKindFromName, collectAafRecord, isDeltaFeed, readAaf, type AafCollector } from './aaf.js';
import { applyBatch } from './apply.js';
import { parseCsv, PROFILE_LABEL } from './csv.js';
import { foldName } from '../directory/fold.js';
import { ENCODING_LABEL, titleFromFolder } from './text.js';
import { emptyBatch, ImportFileError, type FileReport, type ImportReport, type Source, type StructureReport } from './types.js';
import type { Queryable } from '../db/index.js';

export { formatReport } from './report.js';
export type { ImportReport } from './types.js';

export interface ImportInput {
  /** Display name (file name as the user knows it). */
  name: string;
  path?: string;
  data?: Buffer;
}

export interface ImportOptions {
  dryRun: boolean;
  actorId?: string | null;
  /** Target structure of CSV files: UAI, external id or name (created if unknown). */
  structureHint?: string;
  /** The files are not the whole picture: nobody gets pre-deleted. */
  partial?: boolean;
}

/** Expands folders (recursively, sorted) into files. */
export function collectInputs(paths: string[]): ImportInput[] {
  const out: ImportInput[] = [];
  const walk = (p: string) => {
    if (statSync(p).isDirectory()) {
      for (const f of readdirSync(p).sort()) walk(join(p, f));
    } else out.push({ name: basename(p), path: p });
  };
  for (const p of paths) walk(p);
  return out;
}

type Kind = 'xml' | 'csv' | 'ignored';

function kindOf(input: ImportInput): Kind {
  const ext = extname(input.name).toLowerCase();
  if (ext === '.xml') return 'xml';
  if (ext === '.csv' || ext === '.txt' || ext === '.tsv') return 'csv';
  if (ext !== '') return 'ignored';
  const head = (input.data ?? readFileSync(input.path!)).subarray(0, 64).toString('latin1').replace(/^\uFEFF|^ï»¿/, '').trimStart();
  return head.startsWith('<') ? 'xml' : 'csv';
}

const AAF_LABEL: Record<string, string> = {
  EtabEducNat: 'AAF structures',
  Eleve: 'AAF élèves',
  PersEducNat: 'AAF personnels Éducation nationale',
  PersRelEleve: 'AAF responsables',
};

function emptyReport(dryRun: boolean): ImportReport {
  return {
    dryRun,
    fatal: null,
    files: [],
    created: 0,
    updated: 0,
    unchanged: 0,
    preDeleted: 0,
    restored: 0,
    rejected: [],
    ignored: [],
    structures: [],
    byProfile: {},
    relations: { created: 0, removed: 0, unresolved: 0 },
    renamed: [],
    durationMs: 0,
  };
}

interface Target {
  id: string;
  name: string;
  uai: string | null;
  created: boolean;
}


/**
 * A folder named as the reference ENT names its import folders, `Name@externalId_UAI`
 * (`Ecole Jules Ferry@4321_0750001A`): the structure's name, external id and UAI.
 */
export function structureFromFolder(folder: string): { name: string; externalId: string; uai: string } | undefined {
  const m = /^(.+)@([^@]+)_(\d{7}[A-Za-z])$/.exec(folder.trim());
  return m ? { name: m[1].trim(), externalId: m[2].trim(), uai: m[3].toUpperCase() } : undefined;
}

/**
 * The structure CSV files go to: the hint (UAI, external id or name); else the one a `Name@externalId_UAI` folder
 * names (found by UAI or external id, created otherwise); else one named after the folder.
 */
async function resolveTarget(client: Queryable, hint: string | undefined, folderName: string, source: Source): Promise<Target> {
  const all = (await client.query<{ id: string; name: string; uai: string | null; external_id: string | null }>('SELECT id, name, uai, external_id FROM structures')).rows;
  const origin = source === 'be1d' ? 'feed' : 'manual';
  const named = hint?.trim() ? undefined : structureFromFolder(folderName);
  if (named) {
    const found = all.find((s) => s.uai?.toUpperCase() === named.uai) ?? all.find((s) => s.external_id === named.externalId);
    if (found) return { id: found.id, name: found.name, uai: found.uai, created: false };
    const r = await client.query<{ id: string }>(`INSERT INTO structures (external_id, uai, name, origin) VALUES ($1, $2, $3, $4) RETURNING id`, [
      named.externalId,
      named.uai,
      named.name,
      origin,
    ]);
    return { id: r.rows[0].id, name: named.name, uai: named.uai, created: true };
  }
  const title = titleFromFolder(folderName);
  const wanted = hint?.trim() || (title ? `École ${title}` : 'École importée');
  const found =
    all.find((s) => s.id === wanted) ??
    all.find((s) => s.uai?.toUpperCase() === wanted.toUpperCase()) ??
    all.find((s) => s.external_id === wanted) ??
    all.find((s) => foldName(s.name) === foldName(wanted));
  if (found) return { id: found.id, name: found.name, uai: found.uai, created: false };
  const isUai = /^\d{7}[A-Za-z]$/.test(wanted);
  const uai = isUai ? wanted.toUpperCase() : null;
  const name = isUai ? `Établissement ${uai}` : wanted;
  const r = await client.query<{ id: string }>(`INSERT INTO structures (uai, name, origin) VALUES ($1, $2, $3) RETURNING id`, [uai, name, origin]);
  return { id: r.rows[0].id, name, uai, created: true };
}

export async function importFiles(ctx: AppContext, files: ImportInput[], opts: ImportOptions): Promise<ImportReport> {
  const started = Date.now();
  const report = emptyReport(opts.dryRun);
  const batch = emptyBatch();
  const client = await ctx.database.pool.connect();
  try {
    await client.query('BEGIN');
    // One import at a time: logins are allocated against the whole table.
    await client.query('SELECT pg_advisory_xact_lock(745202)');

    const aaf: AafCollector = { batch, feedStructures: new Set(), kinds: new Set() };
    let delta = false;
    const csvTargets = new Map<string, Target>();
    const csvScopes = new Map<string, { source: Source; profiles: Set<Profile>; structures: Set<string>; orphans: boolean }>();

    for (const input of files) {
      const kind = kindOf(input);
      if (kind === 'ignored') {
        report.files.push({ file: input.name, format: 'ignoré', rows: 0 });
        continue;
      }
      if (kind === 'xml') {
        const byName = aafKindFromName(input.name);
        if (byName === 'ignored') {
          report.files.push({ file: input.name, format: 'ignoré', rows: 0 });
          continue;
        }
        if (isDeltaFeed(input.name)) delta = true;
        const entry: FileReport = { file: input.name, format: byName ? AAF_LABEL[byName] : 'AAF', rows: 0 };
        let anyKind: string | undefined;
        await readAaf(input.name, input, (r) => {
          const k = collectAafRecord(aaf, input.name, r);
          if (k !== 'ignored') {
            entry.rows++;
            anyKind ??= k;
          }
        });
        if (!byName) entry.format = anyKind ? AAF_LABEL[anyKind] : 'ignoré';
        report.files.push(entry);
        continue;
      }
      // CSV: every folder gets one target structure (or all go to the hinted one).
      const buf = input.data ?? readFileSync(input.path!);
      const folder = input.path ? basename(dirname(input.path)) : '';
      const source: Source = /csvextraction|onde|be1d/i.test(input.name + folder) ? 'be1d' : 'csv';
      const tkey = opts.structureHint ? '' : folder;
      let target = csvTargets.get(tkey);
      if (!target) {
        target = await resolveTarget(client, opts.structureHint, folder, source);
        csvTargets.set(tkey, target);
        report.structures.push({ name: target.name, uai: target.uai, created: target.created });
      }
      const key = `id:${target.id}`;
      batch.structures.set(key, { key, id: target.id, externalId: null, uai: target.uai, name: target.name, origin: 'manual' });
      const res = parseCsv(input.name, buf, { key, id: target.id }, batch);
      const labels = [...res.profiles].map((p) => PROFILE_LABEL[p]).join(', ');
      report.files.push({ file: input.name, format: `${res.source === 'be1d' ? 'ONDE/BE1D' : 'CSV'} ${labels}`, rows: res.rows, encoding: ENCODING_LABEL[res.encoding] });
      const sk = `${res.source}\t${key}`;
      const scope = csvScopes.get(sk) ?? { source: res.source, profiles: new Set<Profile>(), structures: new Set([key]), orphans: false };
      for (const p of res.profiles) scope.profiles.add(p);
      csvScopes.set(sk, scope);
    }

    if (!opts.partial) {
      batch.scopes.push(...csvScopes.values());
      const profiles = new Set<Profile>();
      for (const k of aaf.kinds) if (k !== 'EtabEducNat' && k !== 'ignored') AAF_PROFILES[k].forEach((p) => profiles.add(p));
      // A complete AAF delivery always carries its EtabEducNat file: without it, the run may be a few files
      // picked by hand, and absence proves nothing.
      if (!delta && profiles.size && aaf.feedStructures.size) {
        batch.scopes.push({ source: 'aaf', profiles, structures: new Set(aaf.feedStructures), orphans: true });
      }
    }

    const protect = new Set(batch.protect.filter((p) => !p.endsWith(':')));
    const prefixes = batch.protect.filter((p) => p.endsWith(':'));
    const res = await applyBatch(client, ctx, batch, {
      protect: (ext) => protect.has(ext) || prefixes.some((p) => ext.startsWith(p)),
    });
    report.created = res.created;
    report.updated = res.updated;
    report.unchanged = res.unchanged;
    report.preDeleted = res.preDeleted;
    report.restored = res.restored;
    report.byProfile = res.byProfile;
    report.relations = res.relations;
    report.renamed = res.renamed;
    report.rejected = [...batch.rejected, ...res.rejected];
    report.ignored = batch.ignored;
    const seen = new Set(report.structures.map((s) => s.name));
    report.structures.push(...res.structures.filter((s: StructureReport) => !seen.has(s.name)));
    report.durationMs = Date.now() - started;
    await recordAudit(client, opts.actorId ?? null, 'import', {
      files: report.files.map((f) => f.file),
      dryRun: opts.dryRun,
      created: report.created,
      updated: report.updated,
      unchanged: report.unchanged,
      preDeleted: report.preDeleted,
      restored: report.restored,
      rejected: report.rejected.length,
    });
    await client.query(opts.dryRun ? 'ROLLBACK' : 'COMMIT');
    return report;
  } catch (e) {
    await client.query('ROLLBACK').catch(() => {});
    if (e instanceof ImportFileError) {
      const failed = emptyReport(opts.dryRun);
      failed.files = report.files;
      failed.fatal = { file: e.file, line: e.line, field: e.field, reason: e.reason };
      failed.rejected = [failed.fatal];
      failed.durationMs = Date.now() - started;
      return failed;
    }
    throw e;
  } finally {
    client.release();
  }
}
