// One import run: detect each file's format, parse everything, apply in ONE transaction (rolled back on dry-run).
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { printable } from '../lib/printable.js';
import { basename, dirname, join } from 'node:path';
import type { AppContext } from '../context.js';
import { PROFILES, type Profile } from '../directory/vocabulary.js';
import type { Scope } from '../directory/scope.js';
import { recordAudit } from '../directory/audit.js';
import { isUuid } from '../directory/users.js';
import { AAF_PROFILES, aafCollector, aafKindFromName, aafNumberingGaps, collectAafRecord, isDeltaFeed, mergeStaged, readAaf, type AafKind } from './aaf.js';
import { settleAaf } from './aaf-settle.js';
import { AafCache, IMPORT_LOCK } from './aaf-cache.js';
import { endRefusedPasswordSignIns } from '../directory/policies.js';
import { applyBatch, knownAccounts, type ApplyResult } from './apply.js';
import { checkPeople } from './checks.js';
import { parseCsv, PROFILE_LABEL, storedNamesakes, type StoredNamesake } from './csv.js';
import { foldName } from '../directory/fold.js';
import { detectFormat, type DetectedFormat } from './formats.js';
import { absentShare, massAbsencesOf } from './plan.js';
import { WHOSE, type ImportMessage } from './messages.js';
import { emptySiecle, readSiecle, siecleOutsidePupils, siecleToBatch } from './siecle.js';
import { assertImportAllowed, ImportForbiddenError } from './scope.js';
import { ImportStage } from './stage.js';
import { readSts, stsToBatch } from './sts.js';
import { ENCODING_LABEL, titleFromFolder } from './text.js';
import { ABSENCE_SCOPE_NAMES, emptyBatch, ignoredRecords, ImportFileError, isNote, uaiAfter, type AbsenceScope, type FileFormat, type FileReport, type ImportBatch, type ImportReport, type Rejection, type Source, type StructureReport, type UserRecord } from './types.js';
import { declaredEncoding, readHead } from './xml.js';
import { unzip, ZIP_LIMITS, zipLimitsFor, type ZipLimits } from './zip.js';
import { sweepUploads, uploadsRoot } from './uploads.js';
import type { Queryable } from '../db/index.js';
import { DIRECTORY_TABLES, refreshStatistics } from '../db/statistics.js';
import { sequenced } from '../db/queued.js';
import { rejectedApart } from './report.js';

export { formatReport } from './report.js';
export { detectFormat } from './formats.js';
export { ImportForbiddenError } from './scope.js';
export type { ImportReport } from './types.js';

export interface ImportInput {
  /** Display name (file name as the user knows it; `archive.zip/fichier.xml` for a member of an archive). */
  name: string;
  path?: string;
  data?: Buffer;
  /** Folder the file comes from (default: the folder of `path`): names the target school of CSV files. */
  folder?: string;
}

export interface ImportOptions {
  dryRun: boolean;
  /**
   * Who the run acts for: `{kind:'all'}` (super admin, CLI, drop folder) or a local admin's or API token's structures. Decides
   * what the run may touch (src/import/scope.ts): a local admin's run stays inside their structures, whatever
   * the files say, and academic feeds are refused (ImportForbiddenError).
   */
  scope: Scope;
  /** Who runs it (audit); the import never changes this account's own e-mail (applyBatch's `self`). */
  actorId?: string | null;
  /** Target structure of CSV files: UAI, external id or name (created if unknown). */
  structureHint?: string;
  /** The files are not the whole picture: nobody gets pre-deleted. */
  partial?: boolean;
  /** The files were uploaded (their folder names nothing): CSV files need `structureHint`. */
  uploaded?: boolean;
  /**
   * The run is a school's own import (the console's school page): files that describe schools across the académie
   * (AAF) are refused whole (`aafNeedsRegion`), before any is read — imported there, a feed would plan changes to every
   * school it names, departures included. The caller's scope is checked first (a local admin's AAF file: forbidden).
   */
  oneSchool?: boolean;
  /**
   * The administrator confirmed that a complete run may send most of a profile's accounts to the grace period
   * (ImportReport.massAbsence); without it such a run is refused (`massAbsence`), nothing written. A number: the
   * accounts the confirmation was given for (the dry run's `preDeleted`, as the console shows it): a run that would
   * send more away (the directory changed since) is refused all the same.
   */
  confirmAbsences?: boolean | number;
  /** Accounts per spill to the staging table and per chunk written (stage.ts DEFAULT_CHUNK; tests use tiny ones). */
  chunkSize?: number;
  /**
   * Stops the run (the command line's Ctrl-C): its running statement is cancelled, the run checks it between files,
   * between pieces of an AAF file and before it commits, and its transaction is rolled back; importFiles then throws
   * the signal's reason, whatever else failed meanwhile (the database going away with the signal).
   */
  signal?: AbortSignal;
}

/** The first word of a name that already says what kind of school it is. */
const SCHOOL_WORD = /^(e|é)cole|^coll(e|è)ge|^lyc(e|é)e|^cit(e|é) scolaire|^ensemble scolaire|^groupe scolaire|^erea|^segpa/i;

/**
 * Expands folders (recursively, sorted) into files. Hidden files and drop-folder markers are kept: the run lists
 * them as left out (formats.ts NOT_DELIVERED), so a delivery the drop folder filed under rejected/ imports as it is.
 * Hidden folders (.git, .Trashes) are not walked.
 */
export function collectInputs(paths: string[]): ImportInput[] {
  const out: ImportInput[] = [];
  const walk = (p: string, named: boolean) => {
    if (statSync(p).isDirectory()) {
      if (!named && basename(p).startsWith('.')) return;
      for (const f of readdirSync(p).sort()) walk(join(p, f), false);
    } else out.push({ name: printable(basename(p)), path: p });
  };
  for (const p of paths) walk(p, true);
  return out;
}

const AAF_LABEL: Record<string, string> = {
  EtabEducNat: 'AAF structures',
  Eleve: 'AAF élèves',
  PersEducNat: 'AAF personnels Éducation nationale',
  PersRelEleve: 'AAF responsables',
};

const FORMAT_LABEL: Partial<Record<FileFormat, string>> = {
  'siecle-eleves': 'SIECLE élèves',
  'siecle-responsables': 'SIECLE responsables',
  'siecle-nomenclature': 'SIECLE nomenclature (MEF)',
  'sts-emp': 'STS-web personnels',
  zip: 'archive .zip',
  ignored: 'ignoré',
};

/** Every fixed label FileReport.format takes (CSV labels add profile words, csv.ts PROFILE_LABEL): the web translates them. */
export const FORMAT_LABELS_FR: readonly string[] = ['AAF', ...Object.values(AAF_LABEL), ...Object.values(FORMAT_LABEL), 'refusé'];

/** A line of the report for one file, counts to be filled after the run. */
function fileEntry(file: string, kind: FileFormat, format: string, encoding: string | null, rows = 0, reason?: string, reasonMessage?: ImportMessage): FileReport {
  const e: FileReport = { file, kind, format, encoding, rows, created: 0, updated: 0, unchanged: 0, preDeleted: 0, restored: 0, ignored: 0, rejected: 0 };
  if (reason) e.reason = reason;
  if (reasonMessage) e.reasonMessage = reasonMessage;
  return e;
}

/**
 * Every file of the run with its format (what an access check per format needs): `.zip` deliveries unpacked
 * into their members (`archives`: each archive and its number of members). Throws ImportFileError for a file
 * of no supported format or an unreadable archive (the whole run fails, naming the file and why). `unpackInto` gives
 * the private directory an archive's members are unpacked to (zip.ts), made when the first archive comes; without
 * it they are unpacked in memory. `limits`: the caller's (zipLimitsFor: one school's files unpack to no more than an upload).
 */
export async function detectInputs(
  files: ImportInput[],
  unpackInto?: () => Promise<string>,
  limits: ZipLimits = ZIP_LIMITS,
): Promise<{ items: { input: ImportInput; detected: DetectedFormat }[]; archives: { name: string; members: number }[] }> {
  const out: { input: ImportInput; detected: DetectedFormat }[] = [];
  const archives: { name: string; members: number }[] = [];
  // The run's archives together within limits.totalBytes (and limits.runFiles).
  const unpackedBytes = { bytes: 0, files: 0 };
  for (const input of files) {
    const detected = detectFormat(input);
    if (detected.format !== 'zip') {
      out.push({ input, detected });
      continue;
    }
    const members = await unzip(input.name, input, limits, await unpackInto?.(), unpackedBytes);
    archives.push({ name: input.name, members: members.length });
    for (const m of members) {
      const d = detectFormat(m);
      if (d.format === 'zip') throw new ImportFileError(m.name, 0, '', 'archiveInArchive');
      out.push({ input: m, detected: d });
    }
  }
  const bad = out.find((x) => x.detected.format === 'unsupported');
  if (bad) throw new ImportFileError(bad.input.name, 0, '', 'fileRefused', { reasonCode: bad.detected.code ?? 'formatUnknown', ...bad.detected.params });
  return { items: out, archives };
}

/**
 * Each file's line once the run is written, its rows adding up (types.ts FileReport): the outcomes of its records, its
 * rows left out whole (ignored, rejected), its deleteRequests and the structures it describes; the rows left over are
 * those read as the same person as another row (`merged`). The remarks on rows imported all the same (isNote) are
 * counted apart, as are the accounts absent from it.
 */
function fileLines(report: ImportReport, res: Pick<ApplyResult, 'byFile' | 'structuresByFile'>, deletes: Map<string, number>): void {
  const byFile = (list: Rejection[]) => {
    const m = new Map<string, Rejection[]>();
    for (const x of list) (m.get(x.file) ?? m.set(x.file, []).get(x.file)!).push(x);
    return m;
  };
  const ignoredOf = byFile(report.ignored);
  const rejectedOf = byFile(report.rejected);
  for (const f of report.files) {
    Object.assign(f, res.byFile[f.file] ?? {});
    const ignored = ignoredOf.get(f.file) ?? [];
    const rejected = rejectedOf.get(f.file) ?? [];
    const whole = ignored.filter((x) => !isNote(x));
    // A record left out whole has no remark of its own: its ignored class or attachment goes with it.
    const left = new Set(whole.map((x) => x.record).filter((x) => x !== undefined));
    f.ignored = ignoredRecords(whole);
    f.rejected = rejected.filter((x) => !isNote(x)).length;
    const notes = ignored.filter((x) => isNote(x) && !(x.record !== undefined && left.has(x.record))).length + rejected.filter(isNote).length;
    if (notes) f.notes = notes;
    const deleted = deletes.get(f.file);
    if (deleted) f.deletions = deleted;
    const structures = res.structuresByFile[f.file];
    if (structures) f.structures = structures;
    if (f.kind === 'zip' || f.kind === 'ignored' || f.kind === 'siecle-nomenclature') continue;
    const merged =
      f.rows - f.created - f.updated - f.unchanged - f.restored - f.ignored - f.rejected - (f.deletions ?? 0) - (structures ? structures.created + structures.existing : 0);
    if (merged > 0) f.merged = merged;
  }
}

/**
 * The run's accounts on the report's structures (StructureReport.accounts), those it names and any other the run's
 * accounts belong to (after them, by name), and in none (ImportReport.withoutStructure).
 */
function structuresCounted(report: ImportReport, reported: Map<string, StructureReport>, counted: ApplyResult['structureAccounts']): void {
  for (const [id, s] of reported) {
    const c = counted.byId.get(id);
    s.accounts = c?.accounts ?? {};
    if (c?.left) s.left = c.left;
  }
  const more = [...counted.byId]
    .filter(([id]) => !reported.has(id))
    .map(([, c]): StructureReport => ({ name: c.name, uai: c.uai, created: false, accounts: c.accounts, ...(c.left ? { left: c.left } : {}) }));
  report.structures.push(...more.sort((a, b) => a.name.localeCompare(b.name, 'fr')));
  if (Object.keys(counted.none).length) report.withoutStructure = counted.none;
}

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
    merged: [],
    keptNamed: 0,
    durationMs: 0,
  };
}

interface Target {
  id: string;
  name: string;
  uai: string | null;
  created: boolean;
  /** The UAI was given to the school by this run's files (StructureReport.uaiAdded). */
  uaiAdded?: boolean;
}


/**
 * The school a SIECLE or STS-web file belongs to, by the UAI it names (PARAMETRES/UAJ); created (named after
 * the file, else « Établissement <UAI> ») when unknown and the scope is 'all'. A hint (the school of the console
 * page, `--structure`) that names another school with another UAI refuses the file. Outside scope 'all' only
 * the scope's structures are looked at and none is created (ImportForbiddenError).
 */
async function resolveSchool(client: Queryable, scope: Scope, file: string, uai: string, name: string | null, hint: string | undefined): Promise<Target> {
  const all = await structuresIn(client, scope);
  const wanted = hint?.trim();
  const hinted = wanted
    ? all.find((s) => s.id === wanted) ?? all.find((s) => s.uai?.toUpperCase() === wanted.toUpperCase()) ?? all.find((s) => s.external_id === wanted) ?? all.find((s) => foldName(s.name) === foldName(wanted))
    : undefined;
  if (hinted?.uai && hinted.uai.toUpperCase() !== uai) {
    // The expected UAI after the name unless the name shows it (« Établissement 0750099Z »): types.ts uaiAfter.
    throw new ImportFileError(file, 0, 'PARAMETRES/UAJ', 'uaiMismatch', { uai, name: hinted.name, expected: uaiAfter(hinted.name, hinted.uai) });
  }
  const found = hinted ?? all.find((s) => s.uai?.toUpperCase() === uai);
  // Accounts of these files are keyed by the UAI they name (`sts:<UAI>:…`, `siecle:<UAI>:…`): outside scope 'all'
  // the receiving school must carry that very UAI, or a school without one would let its admin create accounts
  // in another school's key space, which that school's own feed would later adopt.
  if (scope.kind !== 'all' && found?.uai?.toUpperCase() !== uai) {
    throw new ImportForbiddenError(file, 'forbiddenOtherSchool', { uai });
  }
  if (found && !found.uai) {
    // A school made without UAI (« Nouvel établissement », the UAI left empty) receiving its SIECLE or STS-web files
    // takes the UAI they name, unless another school has it: those files are that other school's.
    const owner = all.find((s) => s.uai?.toUpperCase() === uai);
    if (owner) throw new ImportFileError(file, 0, 'PARAMETRES/UAJ', 'uaiOfAnother', { uai, owner: owner.name, name: found.name });
    await client.query('UPDATE structures SET uai = $1 WHERE id = $2', [uai, found.id]);
    return { id: found.id, name: found.name, uai, created: false, uaiAdded: true };
  }
  if (found) return { id: found.id, name: found.name, uai: found.uai, created: false };
  const created = name ?? `Établissement ${uai}`;
  const r = await client.query<{ id: string }>(`INSERT INTO structures (uai, name, origin) VALUES ($1, $2, 'feed') RETURNING id`, [uai, created]);
  return { id: r.rows[0].id, name: created, uai, created: true };
}

/** The structures a run in `scope` may look at (all of them for 'all'). */
async function structuresIn(client: Queryable, scope: Scope) {
  const ids = scope.kind === 'structures' ? scope.structureIds : null;
  return (await client.query<{ id: string; name: string; uai: string | null; external_id: string | null }>(
    'SELECT id, name, uai, external_id FROM structures WHERE $1::uuid[] IS NULL OR id = ANY($1::uuid[])',
    [ids],
  )).rows;
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
 * names (found by UAI or external id, created otherwise); else one named after the folder. Only the structures
 * of `scope` are looked at, and only scope 'all' creates one (ImportForbiddenError otherwise).
 */
async function resolveTarget(client: Queryable, scope: Scope, file: string, hint: string | undefined, folderName: string, source: Source): Promise<Target> {
  if (scope.kind !== 'all' && !hint?.trim()) throw new ImportForbiddenError(file, 'forbiddenNeedStructure');
  const all = await structuresIn(client, scope);
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
  // A folder already named for a school (« Ecole Renoir », « Collège Brassens ») keeps its name as it is.
  const wanted = hint?.trim() || (title ? (SCHOOL_WORD.test(title) ? title : `École ${title}`) : 'École importée');
  const found =
    all.find((s) => s.id === wanted) ??
    all.find((s) => s.uai?.toUpperCase() === wanted.toUpperCase()) ??
    all.find((s) => s.external_id === wanted) ??
    all.find((s) => foldName(s.name) === foldName(wanted));
  if (found) return { id: found.id, name: found.name, uai: found.uai, created: false };
  if (scope.kind !== 'all') throw new ImportForbiddenError(file, 'forbiddenStructureNotFound', { name: wanted });
  // A structure id names one that exists: an unknown one (a stale link, a typo) is refused, not made a school named by it.
  if (isUuid(wanted)) throw new ImportFileError(file, 0, 'structureId', 'csvStructureUnknown', { id: wanted });
  const isUai = /^\d{7}[A-Za-z]$/.test(wanted);
  const uai = isUai ? wanted.toUpperCase() : null;
  const name = isUai ? `Établissement ${uai}` : wanted;
  const r = await client.query<{ id: string }>(`INSERT INTO structures (uai, name, origin) VALUES ($1, $2, $3) RETURNING id`, [uai, name, origin]);
  return { id: r.rows[0].id, name, uai, created: true };
}

/**
 * The run's completeness scopes as its report says them (ImportReport.absenceScopes): one per source and set of
 * structures (a school's CSV files give one scope per file and profile), named by the structures' names.
 */
function absenceScopes(batch: ImportBatch): AbsenceScope[] {
  const merged = new Map<string, { source: Source; profiles: Set<Profile>; structures: string[]; orphans: boolean }>();
  for (const s of batch.scopes) {
    const structures = [...s.structures].sort();
    const key = `${s.source}\t${s.orphans}\t${structures.join('\t')}`;
    const m = merged.get(key) ?? merged.set(key, { source: s.source, profiles: new Set(), structures, orphans: s.orphans }).get(key)!;
    for (const p of s.profiles) m.profiles.add(p);
  }
  return [...merged.values()].map((m) => ({
    source: m.source,
    profiles: PROFILES.filter((p) => m.profiles.has(p)),
    structures: m.structures.slice(0, ABSENCE_SCOPE_NAMES).map((k) => batch.structures.get(k)?.name ?? k),
    structureCount: m.structures.length,
    orphans: m.orphans,
  }));
}

export async function importFiles(ctx: AppContext, files: ImportInput[], opts: ImportOptions): Promise<ImportReport> {
  const started = Date.now();
  const report = emptyReport(opts.dryRun);
  const batch = emptyBatch();
  const connection = await ctx.database.pool.connect();
  // A connection the server cuts while no statement runs emits 'error' (an embedded PostgreSQL in the command's
  // process group gets the terminal's Ctrl-C too, and shuts down): without a listener, the process would die on it
  // with a stack trace. The run learns it from its next statement, which fails.
  const lost = () => {};
  connection.on('error', lost);
  // Statements in call order even when not awaited one by one (apply.ts pipelines its chunks).
  const client = sequenced(connection);
  const { signal } = opts;
  let committing = false;
  let backend: number | undefined;
  // Whatever statement runs when the signal comes is cancelled from another connection: the transaction is then
  // aborted, every later statement fails, and the run rolls back. Not once the COMMIT is sent: too late to stop.
  const cancel = () => {
    if (backend && !committing) ctx.database.pool.query('SELECT pg_cancel_backend($1)', [backend]).catch(() => {});
  };
  signal?.addEventListener('abort', cancel, { once: true });
  let staged: ImportStage | undefined;
  // The run's archives are unpacked here, one file per member, removed when the run ends (zip.ts). Under the data
  // directory, not /tmp: a tmpfs there (Debian's default) would hold a région's delivery in memory again. Beside the
  // uploads, whose sweep (an hour) removes what a killed process left: the server's housekeeping runs it, and so does
  // every run that unpacks (a command-line-only install has no housekeeping).
  let unpacked: string | undefined;
  const unpackInto = async () => {
    if (unpacked) return unpacked;
    const root = uploadsRoot(ctx.config.dataDir);
    await mkdir(root, { recursive: true, mode: 0o700 });
    await sweepUploads(root);
    unpacked = await mkdtemp(join(root, 'zip-'));
    return unpacked;
  };
  try {
    if (signal) backend = (await client.query<{ pid: number }>('SELECT pg_backend_pid() AS pid')).rows[0].pid;
    await client.query('BEGIN');
    // One import at a time: logins are allocated against the whole table.
    await client.query('SELECT pg_advisory_xact_lock($1)', [IMPORT_LOCK]);

    const aaf = aafCollector(batch);
    // Parsed accounts go to the run's staging table as they come (stage.ts): checked first (checks.ts), once each.
    // A pupil the checks reject still names its legal representatives (they get their accounts).
    const stage = await ImportStage.open(client, opts.chunkSize);
    staged = stage;
    batch.stage = stage;
    const today = new Intl.DateTimeFormat('en-CA', { timeZone: 'Europe/Paris' }).format(new Date());
    // `open`: left in the stage's open COPY (PostgreSQL stores them while the AAF reading goes on), flushed before
    // anything else is sent on the connection.
    /** Checks what was parsed since the last spill: a pupil the checks reject still names its legal representatives. */
    const checked = () => {
      // SIECLE pupils carry `legal` too (siecle.ts describeLegal), but their links are already in batch.relations.
      for (const u of checkPeople(batch, today)) if (u.source === 'aaf' && u.legal?.length) aaf.rejectedPupils.push({ externalId: u.externalId, legal: u.legal });
    };
    const spill = async (open = false) => {
      checked();
      await (open ? stage.stream(batch.users) : stage.spill(batch.users));
    };
    /** AAF records read before (aaf-cache.ts), read when the run meets its first AAF file. */
    let cache: AafCache | undefined;
    const aafFiles = new Map<AafKind, string>();
    /** The AAF files read, by name: a complete delivery's numbering is checked for gaps. */
    const aafNames: string[] = [];
    let delta = false;
    const csvTargets = new Map<string, Target>();
    const namesakesByStructure = new Map<string, Promise<Map<string, StoredNamesake[]>>>();
    /** A school's stored name-keyed adults, read once per run (csv.ts storedNamesakes). */
    const namesakesOf = (id: string) => namesakesByStructure.get(id) ?? namesakesByStructure.set(id, storedNamesakes(client, id)).get(id)!;
    const csvScopes = new Map<string, { source: Source; profiles: Set<Profile>; structures: Set<string>; orphans: boolean; file?: string }>();
    const siecle = emptySiecle();
    /** The structures the report names (report.structures), by id: their accounts are put on them once the run is written. */
    const reported = new Map<string, StructureReport>();
    /** Names a structure in the report (once: a school's SIECLE and CSV files name the same). */
    const reportStructure = (id: string, s: StructureReport) => {
      if (reported.has(id) || report.structures.some((x) => x.name === s.name)) return;
      reported.set(id, s);
      report.structures.push(s);
    };
    /** The sources of the files that import into each structure (by id): how a local administrator could come (withoutAdmin). */
    const sourcesOf = new Map<string, Set<Source>>();
    const sourced = (key: string, source: Source) => {
      const id = key.replace(/^id:/, '');
      (sourcesOf.get(id) ?? sourcesOf.set(id, new Set()).get(id)!).add(source);
    };
    const schools = new Map<string, Target>(); // UAI → structure of SIECLE / STS-web files
    const school = async (file: string, uai: string, name: string | null) => {
      let t = schools.get(uai);
      if (!t) {
        t = await resolveSchool(client, opts.scope, file, uai, name, opts.structureHint);
        schools.set(uai, t);
        reportStructure(t.id, { name: t.name, uai: t.uai, created: t.created, ...(t.uaiAdded ? { uaiAdded: true } : {}) });
        const key = `id:${t.id}`;
        batch.structures.set(key, { key, id: t.id, externalId: null, uai: t.uai, name: t.name, origin: 'feed' });
      }
      return `id:${t.id}`;
    };

    const { items, archives } = await detectInputs(files, unpackInto, zipLimitsFor(opts.scope, ctx.config.importMaxBytes));
    // Uploaded CSV files name no school (their folder is the upload's): without a target they are refused before any
    // file is read, not after a région's AAF delivery sent with them.
    const homeless = opts.uploaded && !opts.structureHint?.trim() ? items.find((x) => x.detected.format === 'csv') : undefined;
    if (homeless) throw new ImportFileError(homeless.input.name, 0, 'structureId', 'csvNeedsStructure');
    const feed = opts.oneSchool ? items.find((x) => x.detected.format === 'aaf') : undefined;
    if (feed) {
      assertImportAllowed('aaf', opts.scope, feed.input.name);
      throw new ImportFileError(feed.input.name, 0, '', 'aafNeedsRegion');
    }
    for (const a of archives) report.files.push(fileEntry(a.name, 'zip', FORMAT_LABEL.zip!, null, a.members));
    for (const { input, detected } of items) {
      signal?.throwIfAborted();
      const { format } = detected;
      if (format !== 'aaf') await stage.flush();
      if (format === 'ignored') {
        report.files.push(fileEntry(input.name, 'ignored', FORMAT_LABEL.ignored!, null, 0, detected.reason, detected.code && { code: detected.code }));
        continue;
      }
      if (format === 'siecle-eleves' || format === 'siecle-responsables' || format === 'siecle-nomenclature') {
        assertImportAllowed(format, opts.scope, input.name);
        const r = await readSiecle(input.name, input, format, siecle);
        sourced(await school(input.name, r.uai, null), 'siecle');
        report.files.push(fileEntry(input.name, format, FORMAT_LABEL[format]!, r.encoding, r.rows));
        continue;
      }
      if (format === 'sts-emp') {
        assertImportAllowed(format, opts.scope, input.name);
        const f = await readSts(input.name, input);
        const key = await school(input.name, f.uai, f.schoolName);
        sourced(key, 'sts');
        stsToBatch(f, batch, key, today);
        report.files.push(fileEntry(input.name, format, FORMAT_LABEL[format]!, f.encoding, f.rows));
        continue;
      }
      if (format === 'aaf') {
        // The gate runs on the detected format, before anything is parsed.
        assertImportAllowed('aaf', opts.scope, input.name);
        const byName = aafKindFromName(input.name);
        if (byName) aafNames.push(input.name);
        if (isDeltaFeed(input.name)) delta = true;
        const entry = fileEntry(input.name, 'aaf', byName ? AAF_LABEL[byName] : 'AAF', declaredEncoding(readHead(input, 200)));
        let anyKind: AafKind | undefined;
        /** A record of kind `k` read or given by the cache: counted for the file and its kind. */
        const counted = (k: AafKind) => {
          entry.rows++;
          anyKind ??= k;
          if (!aafFiles.has(k)) aafFiles.set(k, input.name);
        };
        if (!cache) {
          await stage.flush();
          cache = await AafCache.load(client);
        }
        // The records of other formats not spilled yet stay out of the AAF's spills: a later CSV file completes
        // them with its rows of the same people (csv.ts), which it finds in the batch. (The last records of an
        // earlier AAF file stay: they are spilled in reading order with this file's.)
        const pending = new Map<string, UserRecord>();
        for (const [k, u] of batch.users) {
          if (u.source === 'aaf') continue;
          pending.set(k, u);
          batch.users.delete(k);
        }
        // A record the cache gives is staged in its place among the others: those read before it go first.
        const records = cache.forFile(
          () => aaf.oneD.has(input.name),
          (digest, line, kind) => {
            counted(kind);
            // collectAafRecord's part for a record read.
            aaf.kinds.add(kind);
            checked();
            stage.push(batch.users);
            stage.hit(digest, input.name, line);
          },
        );
        await readAaf(
          input.name,
          input,
          (r) => {
            const k = collectAafRecord(aaf, input.name, r);
            if (k !== 'ignored') counted(k);
          },
          () => {
            signal?.throwIfAborted();
            return batch.users.size >= stage.chunkSize ? spill(true) : stage.room();
          },
          { cache: records },
        );
        // Their keys are not AAF keys (csv:, siecle:, sts:…): none is taken meanwhile.
        for (const [k, u] of pending) batch.users.set(k, u);
        if (!byName) entry.format = anyKind ? AAF_LABEL[anyKind] : 'ignoré';
        report.files.push(entry);
        continue;
      }
      // CSV: every folder gets one target structure (or all go to the hinted one).
      const buf = input.data ?? readFileSync(input.path!);
      const folder = input.folder ?? (input.path ? basename(dirname(input.path)) : '');
      const source: Source = /csvextraction|onde|be1d/i.test(input.name + folder) ? 'be1d' : 'csv';
      assertImportAllowed('csv', opts.scope, input.name);
      const tkey = opts.structureHint ? '' : folder;
      let target = csvTargets.get(tkey);
      if (!target) {
        target = await resolveTarget(client, opts.scope, input.name, opts.structureHint, folder, source);
        csvTargets.set(tkey, target);
        reportStructure(target.id, { name: target.name, uai: target.uai, created: target.created });
      }
      const key = `id:${target.id}`;
      batch.structures.set(key, { key, id: target.id, externalId: null, uai: target.uai, name: target.name, origin: 'manual' });
      const res = await parseCsv(input.name, buf, { key, id: target.id, namesakes: await namesakesOf(target.id) }, batch);
      sourced(key, res.source);
      const labels = [...res.profiles].map((p) => PROFILE_LABEL[p]).join(', ');
      report.files.push(fileEntry(input.name, 'csv', `${res.source === 'be1d' ? 'ONDE/BE1D' : 'CSV'} ${labels}`, ENCODING_LABEL[res.encoding], res.rows));
      for (const profile of res.profiles) {
        // One completeness scope per file and profile, so that pre-deletions are counted on the file that implied them.
        const sk = `${res.source}\t${key}\t${profile}`;
        const scope = csvScopes.get(sk) ?? { source: res.source, profiles: new Set<Profile>(), structures: new Set([key]), orphans: false, file: input.name };
        scope.profiles.add(profile);
        csvScopes.set(sk, scope);
      }
    }

    // A complete AAF delivery (below: not partial, no delta, its EtabEducNat file read) pre-deletes every account of
    // its kinds that it does not carry: a numbered file left out (…_0001, _0003 without _0002) would take thousands
    // of accounts away. The run is refused (nothing written: the transaction is rolled back), naming the missing files,
    // once its files are read and before it is settled or applied; a partial run or a delta computes no absence and passes.
    if (!opts.partial && !delta && !aaf.delta && aaf.feedStructures.size) {
      const gaps = aafNumberingGaps(aafNames);
      if (gaps.length) {
        const count = gaps.reduce((n, g) => n + g.count, 0);
        const named = gaps.flatMap((g) => g.missing).slice(0, 10);
        const missing = `${named.join(', ')}${count > named.length ? ` … (+${count - named.length})` : ''}`;
        throw new ImportFileError(gaps[0].missing[0], 0, '', 'aafMissingFile', { kind: gaps.map((g) => g.kind).join(', '), missing });
      }
    }

    // Everything parsed so far is staged, the records the cache gives filled in (with their accounts, when that
    // rewrites the table: apply's lookup then skips them) and what the run read as is cached, before anything changes
    // it; the same person read twice (two files) becomes one record.
    await spill();
    await stage.fillHits((params) => knownAccounts(opts.scope, params));
    if (cache && !opts.dryRun) await cache.store(client);
    await stage.mergeDuplicates((records) => mergeStaged(batch, records));
    await stage.analyze();
    if (aaf.kinds.size) await settleAaf(client, aaf, () => spill());
    // A delta (by its name, or because it modifies or deletes) only carries changes: absence proves nothing.
    if (aaf.delta) delta = true;

    // SIECLE files of a school are read in any order; accounts are made once all are read.
    if (siecle.schools.size) {
      const outside = siecleOutsidePupils(siecle);
      const known = new Set(
        outside.length
          ? (await client.query<{ external_id: string }>(`SELECT external_id FROM users WHERE external_id = ANY($1) AND pre_deleted_at IS NULL`, [outside])).rows.map((r) => r.external_id)
          : [],
      );
      const key = (uai: string) => `id:${schools.get(uai)!.id}`;
      siecleToBatch(siecle, batch, key, (ext) => known.has(ext), today);
      await spill();
    }

    if (opts.partial) batch.scopes.length = 0;
    else {
      batch.scopes.push(...csvScopes.values());
      // A complete AAF delivery always carries its EtabEducNat file: without it, the run may be a few files
      // picked by hand, and absence proves nothing.
      if (!delta && aaf.feedStructures.size) {
        for (const k of aaf.kinds) {
          if (k === 'EtabEducNat' || k === 'ignored') continue;
          batch.scopes.push({ source: 'aaf', profiles: new Set(AAF_PROFILES[k]), structures: new Set(aaf.feedStructures), orphans: true, file: aafFiles.get(k) });
        }
        // Only the kinds delivered are checked: said, since a kind's file left out looks like nobody leaving.
        const unchecked = (Object.keys(AAF_PROFILES) as AafKind[]).filter((k) => !aaf.kinds.has(k));
        if (unchecked.length) report.unchecked = unchecked;
      } else if (!delta && [...aaf.kinds].some((k) => k in AAF_PROFILES)) {
        // Persons without the EtabEducNat file: not a complete delivery, nobody's absence is looked for; said, since
        // an administrator would otherwise believe departures were handled (report.ts: its own sentence).
        report.unchecked = ['EtabEducNat'];
      }
    }

    if (batch.scopes.length) report.absenceScopes = absenceScopes(batch);
    else if (opts.partial || delta) report.absenceSkipped = opts.partial ? 'partial' : 'delta';

    const protect = new Set(batch.protect.filter((p) => !p.endsWith(':')));
    const prefixes = batch.protect.filter((p) => p.endsWith(':'));
    const res = await applyBatch(client, ctx, batch, {
      protect: (ext) => protect.has(ext) || prefixes.some((p) => ext.startsWith(p)),
      scope: opts.scope,
      self: opts.actorId ?? null,
    });
    batch.stage = undefined;
    report.created = res.created;
    report.updated = res.updated;
    report.unchanged = res.unchanged;
    report.preDeleted = res.preDeleted;
    report.restored = res.restored;
    report.byProfile = res.byProfile;
    report.relations = res.relations;
    report.renamed = res.renamed;
    report.keptNamed = res.keptNamed;
    if (res.emptied.length) report.emptied = res.emptied;
    if (res.adminChanges.length) report.adminChanges = res.adminChanges;
    if (res.newClasses.length) report.newClasses = res.newClasses;
    report.absent = res.absent;
    report.modified = res.modified;
    if (res.unattached) report.unattached = res.unattached;
    if (!opts.dryRun) report.at = res.now.toISOString();
    // A complete run that would empty out a profile is refused unless confirmed (plan.ts massAbsencesOf): nothing is
    // written (the transaction is rolled back below). The file named is the one whose absence counts most.
    // Judged per scope (a school's file, an AAF kind), not over the whole run: another school or source of the run does
    // not hide one emptied out. A run without completeness scopes (partial, delta) has none to judge.
    const mass = massAbsencesOf(res.scopeAbsences);
    if (mass.length) report.massAbsence = mass.map(({ profile, absent, of }) => ({ profile, absent, of }));
    const confirmed = opts.confirmAbsences === true || (typeof opts.confirmAbsences === 'number' && report.preDeleted <= opts.confirmAbsences);
    // A dry run told the departures are confirmed says they will happen, not that the run will be refused.
    if (mass.length && confirmed) report.absencesConfirmed = true;
    if (mass.length && !opts.dryRun && !confirmed) {
      const { profile, absent, of, file = '' } = mass[0];
      throw new ImportFileError(file, 0, '', 'massAbsence', { absent, of, share: absentShare(mass[0]), whose: WHOSE.fr[profile], whoseEn: WHOSE.en[profile] });
    }
    // In file and line order: the checks run when a batch is spilled, the readers as they read (stable sort).
    const fileOrder = new Map(report.files.map((f, i) => [f.file, i]));
    const place = (x: { file: string }) => fileOrder.get(x.file) ?? report.files.length;
    report.rejected = [...batch.rejected, ...res.rejected].sort((a, b) => place(a) - place(b) || a.line - b.line);
    report.ignored = batch.ignored;
    report.merged = batch.merged;
    fileLines(report, res, aaf.deletes);
    for (const { id, ...s } of res.structures) reportStructure(id, s);
    structuresCounted(report, reported, res.structureAccounts);
    if (opts.scope.kind === 'all' && reported.size) {
      const { rows } = await client.query<{ id: string; name: string; uai: string | null }>(
        `SELECT s.id, s.name, s.uai FROM structures s WHERE s.id = ANY($1::uuid[])
           AND NOT EXISTS (SELECT 1 FROM local_admins la WHERE la.structure_id = s.id)`,
        [[...reported.keys()]],
      );
      // A structure no school file names is an AAF delivery's (the only other reader that describes structures).
      const sources = (id: string): Source[] => [...(sourcesOf.get(id) ?? (aafNames.length || aafFiles.size ? ['aaf' as const] : []))].sort();
      if (rows.length) report.withoutAdmin = rows.map((s) => ({ ...s, sources: sources(s.id) })).sort((a, b) => a.name.localeCompare(b.name, 'fr'));
    }
    // Accounts the run leaves in external-only schools alone (a parent whose child in a school keeping passwords left)
    // lose the password sign-ins they hold, as a « Paramètres » save would end them.
    const sessionsEnded = opts.dryRun ? 0 : await endRefusedPasswordSignIns(client);
    report.durationMs = Date.now() - started;
    // Rows left out, and remarks on rows imported all the same (report.ts rejectedApart), counted apart.
    const { rejected, notes } = rejectedApart(report);
    await recordAudit(client, opts.actorId ?? null, 'import', {
      ...(sessionsEnded ? { sessionsEnded } : {}),
      files: report.files.map((f) => f.file),
      dryRun: opts.dryRun,
      created: report.created,
      updated: report.updated,
      unchanged: report.unchanged,
      preDeleted: report.preDeleted,
      restored: report.restored,
      keptNamed: report.keptNamed,
      merged: batch.merged.length,
      rejected: rejected.length,
      notes: notes.length,
      // Who confirmed that most of a profile's accounts leave, and which (a run refused without it writes nothing).
      ...(report.massAbsence ? { massAbsence: report.massAbsence } : {}),
      // Schools the run empties out (a warning the run went on after): who to ask about them later.
      ...(report.emptied ? { emptied: report.emptied } : {}),
      // Accounts the run leaves in no school: how many, by profile (the console lists them for the super admin).
      ...(report.unattached ? { unattached: report.unattached.byProfile } : {}),
    });
    signal?.throwIfAborted();
    committing = true;
    await client.query(opts.dryRun ? 'ROLLBACK' : 'COMMIT');
    // A first import fills the tables from empty: statistics now, not at autovacuum's next round (db/statistics.ts).
    // Tables the run analyzed itself (apply.ts, before its absence check) already count its rows.
    const stale = DIRECTORY_TABLES.filter((t) => !res.analyzed.includes(t));
    if (!opts.dryRun && !signal?.aborted) await refreshStatistics(client, report.created + report.updated + report.preDeleted + report.restored + report.relations.created + report.relations.removed, stale);
    return report;
  } catch (e) {
    await staged?.abort();
    await client.query('ROLLBACK').catch(() => {});
    // Stopped: whatever failed was the signal's doing (a cancelled statement, a connection cut).
    if (signal?.aborted && !committing) throw signal.reason;
    if (e instanceof ImportFileError) {
      const failed = emptyReport(opts.dryRun);
      failed.files = report.files;
      failed.fatal = e.rejection;
      // A refused file that the detection had not listed yet (unsupported, unreadable archive) is named too; a file
      // missing from the delivery is named by the message only.
      if (e.code !== 'aafMissingFile' && !failed.files.some((f) => f.file === e.file)) failed.files.push(fileEntry(e.file, 'unsupported', 'refusé', null, 0, e.reason, e.rejection.message));
      failed.rejected = [failed.fatal];
      failed.durationMs = Date.now() - started;
      return failed;
    }
    throw e;
  } finally {
    signal?.removeEventListener('abort', cancel);
    connection.removeListener('error', lost);
    connection.release();
    if (unpacked) await rm(unpacked, { recursive: true, force: true });
  }
}
