// Writes a run's records to PostgreSQL inside the caller's transaction. The records are staged (stage.ts): the
// whole-run steps (which account each record is, which links the run wants, who is absent) are set-based SQL on
// the staging table, then the records are read back and written per chunk of accounts, so that memory follows
// the chunk, not the run. What to write is decided by the pure functions of plan.ts; this module reads and writes.
import { addressChanges } from '../accounts/profile.js';
import { headOfSchoolKeys, isHeadOfSchool } from '../directory/local-admins.js';
import { UNATTACHED_SQL } from '../directory/unattached.js';
import { setImmediate as nextTurn } from 'node:timers/promises';
import type pg from 'pg';
import { issueActivationCodes } from '../accounts/issue.js';
import type { AppContext } from '../context.js';
import { PROFILES, type Profile } from '../directory/vocabulary.js';
import { foldName } from '../directory/fold.js';
import { BatchLoginAllocator } from '../directory/login.js';
import { renderCopy, sendCopy } from '../db/copy.js';
import { QueuedWrites } from '../db/queued.js';
import { refreshStatistics } from '../db/statistics.js';
import type { Scope } from '../directory/scope.js';
import { type ClassMove, classesKept, classKey, findRenames, type RenameCandidate, type RenameIncoming, type RenamePresent } from './renames.js';
import { ChangeSample, modifiedAccounts } from './changes.js';
import { personKindSql, personName, shownId } from './checks.js';
import { csvKeyParts, isCsvIdKey } from './csv.js';
import { ImportForbiddenError, importPreDeleteSql, importScopeSql, importStructureAllowed } from './scope.js';
import { counts, type FieldChange, feedVouchesForEmail, isMass, MASS_ABSENCE_MIN, pgTextArray, planAttributes, planLinks, planMemberships, planRelations, planUserUpdate, type Link, type ScopeAbsence, type StoredRelation, type StoredUser } from './plan.js';
import { ANALYZE, decodeStaged, ImportStage, recOf, type StageJoin, type StagedChunk, type StagedRow } from './stage.js';
import { rejection, type AdminChange, type ImportReport, type CountsByProfile, type NewClasses, type EmptiedStructure, type FileCounts, type ImportBatch, type ModifiedNote, type ProfileCounts, type Rejection, type RenameNote, type StructureRecord, type StructureReport, type UnattachedAccounts, type UserRecord } from './types.js';

type Client = Pick<pg.PoolClient, 'query'>;

export interface ApplyResult {
  created: number;
  updated: number;
  unchanged: number;
  preDeleted: number;
  restored: number;
  byProfile: Partial<Record<Profile, ProfileCounts>>;
  /** The same counts by the file each record came from (pre-deletions: the file whose scope covered them). */
  byFile: Record<string, FileCounts>;
  /** The structures the records describe or the run creates, with their ids (index.ts puts their accounts on them). */
  structures: (StructureReport & { id: string })[];
  /** The structures each structures file describes (StructureRecord.file): new ones, and those the directory had. */
  structuresByFile: Record<string, { created: number; existing: number }>;
  /** The run's accounts by structure id once it is written (structureAccounts); `none`: in no structure. */
  structureAccounts: { byId: Map<string, { name: string; uai: string | null; accounts: CountsByProfile; left?: StructureReport['left'] }>; none: CountsByProfile };
  relations: ImportReport['relations'];
  rejected: Rejection[];
  renamed: RenameNote[];
  /** Structures most of whose present accounts the run sends to the grace period (ImportReport.emptied). */
  emptied: EmptiedStructure[];
  /** Local administrators the run appoints or removes (ImportReport.adminChanges). */
  adminChanges: AdminChange[];
  /** Classes the run creates, by structure (ImportReport.newClasses). */
  newClasses: NewClasses[];
  /** Accounts a scope would have pre-deleted that the run's pupils name as legal representative: kept (ImportReport.keptNamed). */
  keptNamed: number;
  /** The first ABSENT_SAMPLE accounts the run sends to the grace period (ImportReport.absent). */
  absent?: { login: string; name: string; profile: Profile }[];
  /** Existing accounts the run changes: how many, the first changes.ts MODIFIED_SAMPLE with their changes (ImportReport.modified). */
  modified: { count: number; sample: ModifiedNote[] };
  /** The instant the run wrote: created_at of the accounts it created, absent_since of those it sent away. */
  now: Date;
  /** The run's accounts left in no school (ImportReport.unattached); undefined when there are none. */
  unattached?: UnattachedAccounts;
  /** Each completeness scope's absences and covered accounts, by profile (plan.ts massAbsencesOf). */
  scopeAbsences: ScopeAbsence[];
  /** The accounts of these external ids (after the run, inside its transaction): external id → user id. */
  idsOf: (externalIds: string[]) => Promise<Map<string, string>>;
  /** structure key → structure id */
  structureIds: Map<string, string>;
  /** Tables analyzed within the run's transaction (their statistics count its rows once committed). */
  analyzed: string[];
}

/** Rows per statement of the whole-run steps (unnest arrays). */
const CHUNK = 5000;

/**
 * Runs `sql` once per chunk of rows, the rows passed as one array parameter per column (unnest). Every statement is
 * sent at once (before the returned promise is awaited): the connection runs them in that order.
 */
async function unnestChunks<R extends pg.QueryResultRow = pg.QueryResultRow>(
  client: Client,
  sql: string,
  columns: unknown[][],
  extra: unknown[] = [],
): Promise<R[]> {
  const n = columns[0]?.length ?? 0;
  const sent: Promise<pg.QueryResult<R>>[] = [];
  for (let i = 0; i < n; i += CHUNK) sent.push(client.query<R>(sql, [...columns.map((c) => c.slice(i, i + CHUNK)), ...extra]));
  // Settles once all have run, failing or not: a caller's ROLLBACK sent on the bare connection must come after them.
  const done = await Promise.allSettled(sent);
  const failed = done.find((r) => r.status === 'rejected');
  if (failed) throw failed.reason;
  return done.flatMap((r) => (r.status === 'fulfilled' ? r.value.rows : []));
}

type ExistingUser = StoredUser;

/** The columns of ExistingUser, from `users u`. */
const EXISTING_COLUMNS = `u.id, u.external_id, u.login, u.profile, u.title, u.first_name, u.last_name, u.birth_date, u.email, u.phone, u.ine,
  u.functions, u.mobile, u.address, u.origin, u.source, u.activated_at, coalesce(u.pre_deleted_at, u.absent_since) AS pre_deleted_at`;

/** Assignments that make a staged row an account to create again (its values as staged: a new id, nothing known). */
const AS_FRESH = `user_id = gen_random_uuid(), state = 'fresh', hash = NULL, absent = false, allowed = true`;

/**
 * Which account each staged record still 'fresh' is under its key (`users.external_id` = its external id), with the
 * account's import digest (users.import_hash), whether it is absent, whether the run may touch it (`scope`), and
 * 'crossed' when it is another kind of person (checks.ts PERSON_KIND: rejected by applyBatch). Its placeholders
 * continue `params`. Used by applyBatch, and by the cache's fill (ImportStage.fillHits), which may do it in its
 * own pass over the table; rows it resolved are not fresh any more, and those staged since are.
 */
export function knownAccounts(scope: Scope, params: unknown[]): StageJoin {
  return {
    set: {
      user_id: 'u.id',
      state: `CASE WHEN ${personKindSql('s.profile')} = ${personKindSql('u.profile')} THEN 'known' ELSE 'crossed' END`,
      hash: 'u.import_hash',
      absent: '(u.pre_deleted_at IS NOT NULL OR u.absent_since IS NOT NULL)',
      allowed: importScopeSql(scope, 'u', params),
    },
    table: 'users',
    alias: 'u',
    condition: `s.state = 'fresh' AND u.external_id = s.ext`,
    params,
  };
}

/**
 * Applies `batch` within `opts.scope` (see src/import/scope.ts): outside 'all', every structure must be an
 * existing one of the scope (else ImportForbiddenError, nothing written) and is never renamed; records that
 * match an account the scope may not change are rejected, and links, memberships and pre-deletion never reach
 * such accounts (pre-deletion, account-wide, only reaches accounts wholly inside the scope). No scope ever
 * matches or pre-deletes a super admin. `self`: the account running the import (importFiles' actorId); its own
 * e-mail is never changed by it (reported `applySelfEmail`, the rest of its row applied), as in the console.
 */
export async function applyBatch(
  /** A sequenced connection (db/queued.ts): the run sends writes without waiting for each. */
  client: Client,
  ctx: AppContext,
  batch: ImportBatch,
  opts: { now?: Date; protect?: (externalId: string) => boolean; scope: Scope; chunkSize?: number; self?: string | null },
): Promise<ApplyResult> {
  // A batch given whole (demo seed, admin account) is staged here; importFiles stages as it parses.
  const stage = batch.stage ?? (await ImportStage.open(client, opts.chunkSize));
  await stage.spill(batch.users);
  const scope = opts.scope;
  /** SQL condition on users `u`: an account this run may touch; its values go after `params`. */
  const allowed = (u: string, params: unknown[]) => importScopeSql(scope, u, params);
  const now = opts.now ?? new Date();
  const rejected: Rejection[] = [];
  const byProfile: Partial<Record<Profile, ProfileCounts>> = {};
  const byFile: Record<string, FileCounts> = {};
  // The import keeps users.import_hash right itself: migration 0016's triggers leave its writes alone (until the end of applyBatch).
  await client.query(`SELECT set_config('trousseau.import', 'on', true)`);
  // Who holds local administration before the run: the report names whom it appoints or removes (adminChanges).
  await client.query(`DROP TABLE IF EXISTS import_admins_before; CREATE TEMP TABLE import_admins_before ON COMMIT DROP AS SELECT user_id, structure_id FROM local_admins`);

  // ---- structures ----
  const structureIds = new Map<string, string>();
  const structures: ApplyResult['structures'] = [];
  const structuresByFile: ApplyResult['structuresByFile'] = {};
  /** A structure a file describes, new or not, counted for that file's line. */
  const described = (rec: StructureRecord | undefined, created: boolean) => {
    if (!rec?.file) return;
    const c = structuresByFile[rec.file] ?? { created: 0, existing: 0 };
    structuresByFile[rec.file] = c;
    if (created) c.created++;
    else c.existing++;
  };
  // Structures named by the records still staged (not by those settling or the checks took out: a structure the run
  // names decides which memberships it synchronises).
  const named = new Set(
    (await client.query<{ s: string }>(`SELECT DISTINCT unnest(structures) AS s FROM import_stage`)).rows.map((x) => x.s),
  );
  const referenced = new Set<string>(batch.structures.keys());
  for (const s of named) referenced.add(s);
  for (const c of batch.childrenByName) referenced.add(c.structure);
  for (const key of referenced) {
    const rec = batch.structures.get(key);
    if (rec?.id) {
      if (!importStructureAllowed(scope, rec.id)) throw new ImportForbiddenError('', 'forbiddenStructure', { name: rec.name, uai: '' });
      structureIds.set(key, rec.id);
      described(rec, false);
      continue;
    }
    const ext = rec?.externalId ?? key;
    const uai = rec?.uai ?? null;
    const found = await client.query<{ id: string; external_id: string | null; uai: string | null; name: string }>(
      `SELECT id, external_id, uai, name FROM structures WHERE external_id = $1 OR ($2::text IS NOT NULL AND uai = $2)
       ORDER BY (external_id = $1) DESC NULLS LAST LIMIT 1`,
      [ext, uai],
    );
    const row = found.rows[0];
    // Outside 'all' a run neither creates, renames nor reaches another school, whatever UAI or id it names.
    if (!(row ? importStructureAllowed(scope, row.id) : scope.kind === 'all')) {
      throw new ImportForbiddenError('', 'forbiddenStructure', { name: rec?.name ?? key, uai: uai ? ` (${uai})` : '' });
    }
    if (row) {
      structureIds.set(key, row.id);
      // A known structure only changes when the feed describes it (a bare reference leaves it alone).
      // Only a run with every right ('all') changes one: a school's own files never rename it.
      const renames = rec && scope.kind === 'all' && (row.external_id !== ext || row.uai !== uai || row.name !== rec.name);
      if (renames) {
        await client.query(`UPDATE structures SET external_id = $2, uai = $3, name = $4, origin = $5 WHERE id = $1`, [row.id, ext, uai, rec.name, rec.origin]);
      }
      // A school the run renames is named with its former name (« Collège Jean Moulin, anciennement … »).
      if (rec) structures.push({ id: row.id, name: rec.name, uai, created: false, ...(renames && row.name !== rec.name ? { formerName: row.name } : {}) });
      described(rec, false);
    } else {
      const name = rec?.name ?? `Structure ${key}`;
      const ins = await client.query<{ id: string }>(
        `INSERT INTO structures (external_id, uai, name, origin) VALUES ($1, $2, $3, $4) RETURNING id`,
        [ext, uai, name, rec?.origin ?? 'feed'],
      );
      structureIds.set(key, ins.rows[0].id);
      structures.push({ id: ins.rows[0].id, name, uai, created: true });
      described(rec, true);
    }
  }
  const sid = (key: string) => structureIds.get(key)!;
  const runStructures = [...new Set(structureIds.values())];

  // ---- levels, classes, groups ----
  const classLevel = new Map<string, string | null>(); // `${sid}\t${class}` → level name
  const groupKeys = new Set<string>();
  for (const rec of batch.structures.values()) {
    const s = structureIds.get(rec.key);
    if (!s) continue;
    for (const c of rec.classes ?? []) if (!classLevel.has(`${s}\t${c}`)) classLevel.set(`${s}\t${c}`, null);
    for (const g of rec.groups ?? []) groupKeys.add(`${s}\t${g}`);
  }
  for (const [ref, level] of stage.refs.classes) {
    const t = ref.indexOf('\t');
    if (!named.has(ref.slice(0, t))) continue;
    const k = `${sid(ref.slice(0, t))}\t${ref.slice(t + 1)}`;
    if (!classLevel.get(k)) classLevel.set(k, level);
  }
  for (const ref of stage.refs.groups) {
    const t = ref.indexOf('\t');
    if (named.has(ref.slice(0, t))) groupKeys.add(`${sid(ref.slice(0, t))}\t${ref.slice(t + 1)}`);
  }
  const levelKeys = new Set<string>();
  for (const [k, level] of classLevel) if (level) levelKeys.add(`${k.split('\t')[0]}\t${level}`);
  const split = (keys: Iterable<string>) => {
    const a: string[] = [];
    const b: string[] = [];
    for (const k of keys) {
      const [x, y] = k.split('\t');
      a.push(x);
      b.push(y);
    }
    return [a, b];
  };
  const levelIds = new Map<string, string>();
  if (levelKeys.size) {
    await unnestChunks(client, `INSERT INTO levels (structure_id, name) SELECT * FROM unnest($1::uuid[], $2::text[]) ON CONFLICT DO NOTHING`, split(levelKeys));
    const r = await client.query<{ id: string; structure_id: string; name: string }>(`SELECT id, structure_id, name FROM levels WHERE structure_id = ANY($1)`, [runStructures]);
    for (const x of r.rows) levelIds.set(`${x.structure_id}\t${x.name}`, x.id);
  }
  const classIds = new Map<string, string>();
  /** Names of the classes the run creates, by structure id. */
  const newClassIds = new Map<string, string[]>();
  if (classLevel.size) {
    const [s, n] = split(classLevel.keys());
    const lv = [...classLevel].map(([k, level]) => (level ? levelIds.get(`${k.split('\t')[0]}\t${level}`) ?? null : null));
    // The classes the run creates, said in the report (a dry run shows a misspelt class before it exists).
    const created = await unnestChunks<{ structure_id: string; name: string }>(
      client,
      `INSERT INTO classes (structure_id, name, level_id) SELECT * FROM unnest($1::uuid[], $2::text[], $3::uuid[]) ON CONFLICT DO NOTHING
       RETURNING structure_id, name`,
      [s, n, lv],
    );
    for (const c of created) (newClassIds.get(c.structure_id) ?? newClassIds.set(c.structure_id, []).get(c.structure_id)!).push(c.name);
    // A class keeps its level unless the feed now gives another one.
    await unnestChunks(
      client,
      `UPDATE classes c SET level_id = v.level_id FROM unnest($1::uuid[], $2::text[], $3::uuid[]) AS v(structure_id, name, level_id)
       WHERE c.structure_id = v.structure_id AND c.name = v.name AND v.level_id IS NOT NULL AND c.level_id IS DISTINCT FROM v.level_id`,
      [s, n, lv],
    );
    const r = await client.query<{ id: string; structure_id: string; name: string }>(`SELECT id, structure_id, name FROM classes WHERE structure_id = ANY($1)`, [runStructures]);
    for (const x of r.rows) classIds.set(`${x.structure_id}\t${x.name}`, x.id);
  }
  const groupIds = new Map<string, string>();
  if (groupKeys.size) {
    await unnestChunks(client, `INSERT INTO groups (structure_id, name) SELECT * FROM unnest($1::uuid[], $2::text[]) ON CONFLICT DO NOTHING`, split(groupKeys));
    const r = await client.query<{ id: string; structure_id: string; name: string }>(`SELECT id, structure_id, name FROM groups WHERE structure_id = ANY($1)`, [runStructures]);
    for (const x of r.rows) groupIds.set(`${x.structure_id}\t${x.name}`, x.id);
  }

  // ---- which account each record is (whole run, SQL on the staging table) ----
  // Under its key, with its import digest (users.import_hash) and whether it is absent (rows the cache's fill resolved
  // already are skipped); else under an alias left by a merge ("Gérer les doublons": the feed keeps updating the kept
  // account and does not recreate the dropped one).
  // Rows resolved by the cache's fill, checked again: the directory may have changed since (another transaction erased
  // an account, made it another profile…): those whose account is not what it was go back to 'fresh', looked up below.
  if (stage.resolvedEarly) {
    const rp: unknown[] = [];
    const { set } = knownAccounts(scope, rp);
    const differs = Object.entries(set).map(([k, v]) => `s.${k} IS DISTINCT FROM ${v}`);
    await client.query(
      `UPDATE import_stage s SET ${AS_FRESH}
       WHERE s.state <> 'fresh' AND s.n IN (SELECT s.n FROM import_stage s LEFT JOIN users u ON u.external_id = s.ext
                                            WHERE s.state <> 'fresh' AND (${differs.join(' OR ')}))`,
      rp,
    );
  }
  await stage.update(knownAccounts(scope, []));
  const ap: unknown[] = [];
  await client.query(
    `UPDATE import_stage s SET user_id = u.id,
            state = CASE WHEN ${personKindSql('s.profile')} = ${personKindSql('u.profile')} THEN 'aliased' ELSE 'crossed' END, absent = (coalesce(u.pre_deleted_at, u.absent_since) IS NOT NULL),
            allowed = ${allowed('u', ap)}
     FROM user_aliases a JOIN users u ON u.id = a.user_id WHERE a.external_id = s.ext AND s.state = 'fresh'`,
    ap,
  );
  // A record naming an account outside the run's reach (another school's, another administrator of any school,
  // a super admin) is rejected: not updated, not linked, not pre-deleted, and not created again either. So is a record
  // whose account is another kind of person (a pupil's identifier given to a parent): that account is neither turned
  // into another profile (its credentials would change hands) nor pre-deleted.
  const outside = await client.query<StagedRow & { allowed: boolean; user_id: string }>(
    `DELETE FROM import_stage s WHERE NOT allowed OR state = 'crossed' RETURNING n, ext, source, profile, file, line, ${recOf('s')} AS rec, allowed, user_id`,
  );
  // Rows allowed yet deleted are the crossed ones.
  const crossedRows = outside.rows.filter((x) => x.allowed);
  const crossed = new Set(crossedRows.map((x) => x.user_id));
  // The person of a crossed row keeps an account of theirs that the run would miss (another key, by their names).
  for (const x of crossedRows) {
    const u = decodeStaged(x);
    batch.protectNames.push({ name: personName(u.profile, u.firstName, u.lastName), structures: [...u.structures] });
  }
  const crossedLogins = crossed.size
    ? new Map((await client.query<{ id: string; login: string }>(`SELECT id, login FROM users WHERE id = ANY($1)`, [[...crossed]])).rows.map((x) => [x.id, x.login]))
    : new Map<string, string>();
  for (const x of outside.rows.sort((a, b) => Number(a.n) - Number(b.n))) {
    if (!x.allowed) rejected.push(rejection(x.file, x.line, 'identifiant', 'applyOutOfScope'));
    else rejected.push(rejection(x.file, x.line, 'identifiant', 'applyProfileConflict', { id: shownId(x.ext), login: crossedLogins.get(x.user_id)! }));
  }
  // Records without an account of their key may still be someone already here: under the key a file used before
  // (formerIds), or renamed in the school's file. Such accounts are re-keyed and updated, not created anew.
  const { renamed, keep, formerKeys } = await adoptAccounts(client, batch, structureIds, allowed);
  // New accounts keep the id drawn when they were staged: everything they are linked to is known before they are written.
  const freshCount = Number((await client.query<{ n: string }>(`SELECT count(*) AS n FROM import_stage WHERE state = 'fresh'`)).rows[0].n);
  await client.query(`CREATE INDEX ON import_stage (user_id)`);
  await client.query(ANALYZE);

  // ---- relations by external id (AAF: the pupil names its relatives; CSV Childexternalid; SIECLE) ----
  // Resolved to accounts of the run, else to accounts of the directory the run may touch (a relation reaches the
  // other side's data).
  await stage.addRelations(batch.relations);
  await client.query(`ANALYZE import_relations`);
  // Both sides resolved against the run in one pass, into a new table: cheaper than an UPDATE per side (each would
  // rewrite every row). Hash joins over the run's keys, read once: a lookup per link would read the staged rows at
  // random, slow once they outgrow the session's buffers (a région's feed).
  await client.query(
    `CREATE TEMP TABLE import_links ON COMMIT DROP AS
     WITH keys AS MATERIALIZED (SELECT ext, (array_agg(user_id))[1] AS user_id, (array_agg(profile))[1] AS profile FROM import_stage GROUP BY ext)
     SELECT r.parent, r.child, r.file, r.line, r.field, p.user_id AS parent_id, c.user_id AS child_id, c.user_id IS NOT NULL AS child_staged
     FROM import_relations r LEFT JOIN keys p ON p.ext = r.parent AND p.profile = 'Relative' LEFT JOIN keys c ON c.ext = r.child AND c.profile = 'Student'`,
  );
  await client.query('DROP TABLE import_relations');
  await client.query('ALTER TABLE import_links RENAME TO import_relations');
  // A link goes from a relative to a pupil, whatever its keys name: a key refused in this run (rowSharedId, 'crossed')
  // may still be another kind of person's account, and a pupil must never become another pupil's "parent".
  for (const [side, profile] of [['parent', 'Relative'], ['child', 'Student']] as const) {
    const rp: unknown[] = [];
    const ok = `u.profile = '${profile}' AND ${allowed('u', rp)}`;
    await client.query(
      `UPDATE import_relations r SET ${side}_id = coalesce(
         (SELECT u.id FROM users u WHERE u.external_id = r.${side} AND ${ok}),
         (SELECT u.id FROM user_aliases a JOIN users u ON u.id = a.user_id WHERE a.external_id = r.${side} AND ${ok} LIMIT 1))
       WHERE r.${side}_id IS NULL`,
      rp,
    );
  }
  // A child found in the directory may still be a staged account (a record under another key, an alias).
  await client.query(
    `UPDATE import_relations r SET child_staged = true
     WHERE NOT r.child_staged AND EXISTS (SELECT 1 FROM import_stage s WHERE s.user_id = r.child_id)`,
  );
  let unresolved = 0;
  /** Children the parents' rows name (CSV, ONDE): how many links were looked for, how many found a pupil. */
  const byName = { named: 0, found: 0 };
  const bad = await client.query<{ parent: string; child: string; file: string | null; line: number | null; field: string | null; child_id: string | null }>(
    `DELETE FROM import_relations WHERE parent_id IS NULL OR child_id IS NULL OR parent_id = child_id RETURNING parent, child, file, line, field, child_id`,
  );
  // A link of a row rejected already (the parent's), or to a pupil whose row was (rejected, protect), is not reported
  // again as « no such pupil »: the pupil may well exist, its row said why.
  const refused = new Set([...batch.protect, ...crossedRows.map((x) => x.ext)]);
  /** AAF pupils of the run naming a legal representative with neither an account nor a record of the run. */
  const noRelative: { parent: string; child: string }[] = [];
  for (const rel of bad.rows) {
    unresolved++;
    if (rel.file && !rel.child_id && !refused.has(rel.child) && !refused.has(rel.parent)) {
      rejected.push(rejection(rel.file, rel.line ?? 0, rel.field ?? '', 'applyNoPupilId', { id: shownId(rel.child) }));
    } else if (!rel.file && rel.child_id && rel.parent !== rel.child && !refused.has(rel.child) && !refused.has(rel.parent)) {
      noRelative.push({ parent: rel.parent, child: rel.child });
    }
  }
  // Said on the pupil's record (its first in reading order): a delta making a contact, whose record it does not
  // carry, a legal representative, or a complete feed missing a representative's record. A remark: the pupil is imported.
  if (noRelative.length) {
    const at = new Map(
      (await client.query<{ ext: string; file: string; line: number }>(
        `SELECT DISTINCT ON (ext) ext, file, line FROM import_stage WHERE source = 'aaf' AND profile = 'Student' AND ext = ANY($1) ORDER BY ext, n`,
        [[...new Set(noRelative.map((x) => x.child))]],
      )).rows.map((r) => [r.ext, r]),
    );
    for (const x of noRelative) {
      const where = at.get(x.child);
      if (where) rejected.push(rejection(where.file, where.line, 'ENTElevePersRelEleve', 'applyNoRelative', { id: x.parent }));
    }
  }
  await client.query(`CREATE INDEX ON import_relations (parent_id)`);
  await client.query(`CREATE INDEX ON import_relations (child_id)`);
  await client.query(`ANALYZE import_relations`);

  // ---- per chunk of records, in the order they were read ----
  // A run naming children by name (CSV, BE1D parents) resolves links against the directory as it is written: it
  // compares every account in full, clears the digests of the accounts it touches, and is applied in one chunk
  // (one school's files).
  const hashing = !batch.childrenByName.length;
  const chunkSize = hashing ? stage.chunkSize : Number.MAX_SAFE_INTEGER;
  if (hashing) await digestStaged(client, structureIds, scope);
  // One chunk: an account's records are all in it (no `lead` needed).
  else await client.query(`CREATE TEMP TABLE import_todo ON COMMIT DROP AS SELECT n, NULL::text AS digest, NULL::bigint AS lead FROM import_stage`);
  const runStructSet = new Set(runStructures);
  // Logins are checked against the directory per chunk, candidates only (BatchLoginAllocator): memory follows the chunk.
  const logins = new BatchLoginAllocator(async (candidates) =>
    (await client.query<{ login: string }>('SELECT login FROM users WHERE login = ANY($1::text[])', [candidates])).rows.map((r) => r.login),
  );
  const structureKeys = new Map(
    (await client.query<{ id: string; uai: string | null; external_id: string | null }>('SELECT id, uai, external_id FROM structures WHERE id = ANY($1)', [runStructures]))
      .rows.map((x) => [x.id, [x.uai, x.external_id]]),
  );
  const relCount = { created: 0, removed: 0 };
  const changes = new ChangeSample();
  const left: LeftByStructure = new Map();
  const pupilsLeft: [string, string][] = [];
  // Chunks are pipelined on the connection. Each round reads the following chunk (readChunk: the run's tables, and
  // memberships no chunk writes), allocates this chunk's logins (the allocator remembers the previous chunk's), then
  // sends the previous chunk's writes, held until then with their COPY text rendered (QueuedWrites): PostgreSQL stores
  // them while this chunk is planned here. This chunk's other reads (stored fields, memberships, links) come after them.
  const writes = new QueuedWrites();
  const scopeIds = scope.kind === 'all' ? null : scope.kind === 'structures' ? scope.structureIds : [];
  const read = (after: string) => {
    const p = stage.readChunk(after, chunkSize, scopeIds);
    p.catch(() => {}); // awaited by the next round, unless a chunk fails first
    return p;
  };
  try {
    for (let next = read('0'); ; ) {
      const input = await next;
      if (!input) break;
      next = read(input.last);
      const res = await applyChunk(client, ctx, batch, input, {
        now, scope, hashing, sid, runStructSet, structureKeys, rejected, relCount, changes, left, formerKeys, pupilsLeft,
        self: opts.self ?? null,
        classId: (s, name) => classIds.get(`${s}\t${name}`)!,
        groupId: (s, name) => groupIds.get(`${s}\t${name}`)!,
        structureId: (key) => structureIds.get(key),
        logins,
        writes,
      });
      unresolved += res.unresolved;
      byName.named += res.byName.named;
      byName.found += res.byName.found;
    }
    await writes.settle();
  } catch (e) {
    throw await writes.cause(e);
  }
  // A relative follows his children's structures. A pupil an AAF delta moves to another school leaves the former
  // one (pupilsLeft); her relatives, whom the delta does not carry, leave it too when no other child of theirs is
  // there any more, as the next complete feed would take them out (test/import-aaf-delta-parent-two-schools.test.ts).
  if (pupilsLeft.length) {
    await client.query(
      `DELETE FROM user_structures us USING relations r, unnest($1::uuid[], $2::uuid[]) AS l(child, s), users p
       WHERE r.child_id = l.child AND us.user_id = r.parent_id AND us.structure_id = l.s AND p.id = r.parent_id AND p.profile = 'Relative'
         AND NOT EXISTS (SELECT 1 FROM relations r2 JOIN user_structures c2 ON c2.user_id = r2.child_id
                         WHERE r2.parent_id = r.parent_id AND c2.structure_id = l.s)`,
      [pupilsLeft.map((x) => x[0]), pupilsLeft.map((x) => x[1])],
    );
  }
  // Records not read back (unchanged) still name their local administrators: the few that may (a superset by text,
  // decided exactly by localAdminsWrite).
  if (hashing) {
    const r = await client.query<StagedRow>(
      `SELECT n, ext, source, profile, file, line, rec, user_id FROM (
         SELECT n, ext, source, profile, file, line, ${recOf('s')} AS rec, user_id FROM import_stage s
         WHERE NOT EXISTS (SELECT 1 FROM import_todo t WHERE t.n = s.n) AND profile NOT IN ('Student', 'Relative')) x
       WHERE rec LIKE '%"localAdmin":true%' OR rec ILIKE '%$%dir%'`,
    );
    const ids = new Map(r.rows.map((x) => [x.ext, x.user_id]));
    await localAdminsWrite(client, r.rows.map(decodeStaged), (ext) => ids.get(ext), { sid, structureKeys, runStructSet }, false)();
  }

  // ---- users absent from a complete run enter their grace period (users.absent_since); the daily lifecycle job
  // (src/accounts/lifecycle.ts) pre-deletes them once it is over. Counted as `preDeleted` in the report
  // ("absents du flux (période de grâce)"). ----
  // The accounts this run created count for the planner (ANALYZE sees the transaction's own rows): a directory
  // loaded from empty would otherwise be planned as empty, and the absence check below as nested loops.
  const analyzed = batch.scopes.length ? await refreshStatistics(client, freshCount, ['users', 'user_structures']) : [];
  let preDeleted = 0;
  const preDeletedIds = new Set<string>();
  // Who enters the grace period, named in the report (its first ABSENT_SAMPLE): a count alone tells an administrator
  // nothing to check.
  const absentSample: NonNullable<ApplyResult['absent']> = [];
  /** Sends an account to the grace period (once), counted by profile and named in the sample; false if it was already. */
  const markAbsent = (x: { id: string; profile: Profile; login: string; first_name: string; last_name: string }): boolean => {
    if (preDeletedIds.has(x.id)) return false;
    preDeletedIds.add(x.id);
    if (absentSample.length < ABSENT_SAMPLE) absentSample.push({ login: x.login, name: `${x.first_name} ${x.last_name}`, profile: x.profile });
    counts(byProfile, x.profile).preDeleted++;
    return true;
  };
  const scopeStructureIds = (complete: ImportBatch['scopes'][number]) => [...complete.structures].map((k) => structureIds.get(k)).filter((x): x is string => !!x);
  // The directory's accounts of the scopes' sources and profiles that the run does not name, once for all its scopes
  // (one anti-join with the staged records, not one per scope and half: five more for a région's feed); few on a
  // feed's re-import. Without orphans to find (a school's files), only the accounts of the scopes' structures are read.
  if (batch.scopes.length) {
    const gp: unknown[] = [[...new Set(batch.scopes.map((s) => s.source))], [...new Set(batch.scopes.flatMap((s) => [...s.profiles]))]];
    let within = '';
    if (!batch.scopes.some((s) => s.orphans)) {
      gp.push([...new Set(batch.scopes.flatMap(scopeStructureIds))]);
      within = 'AND EXISTS (SELECT 1 FROM user_structures us WHERE us.user_id = u.id AND us.structure_id = ANY($3))';
    }
    await client.query(
      `CREATE TEMP TABLE import_gone ON COMMIT DROP AS
       SELECT u.id FROM users u WHERE u.source = ANY($1) AND u.profile = ANY($2) AND u.pre_deleted_at IS NULL AND u.absent_since IS NULL
         ${within} AND NOT EXISTS (SELECT 1 FROM import_stage s WHERE s.user_id = u.id)`,
      gp,
    );
    await client.query('ANALYZE import_gone');
    // Accounts the run names as a parent (import_relations: the legal representatives its pupils name; CSV and SIECLE
    // parents are records of the run) though their own records are not in it: a PersRelEleve file left out of a
    // complete delivery. Never pre-deleted by absence: the pupils that name them are here and keep their links. One
    // hash join of the absent with the run's links, whatever the run's size; `covered` is set by the scopes below
    // (those that would have pre-deleted them: the report counts them). Accounts of rejected records are kept as such.
    await client.query(
      `CREATE TEMP TABLE import_named ON COMMIT DROP AS
       SELECT DISTINCT r.parent_id AS id, false AS covered FROM import_relations r JOIN import_gone g ON g.id = r.parent_id
       WHERE NOT EXISTS (SELECT 1 FROM users u WHERE u.id = r.parent_id AND u.external_id = ANY($1::text[]))`,
      [batch.protect.filter((p) => !p.endsWith(':'))],
    );
    await client.query('ANALYZE import_named');
  }
  // `structure id\tperson` (protectNames): only in the structures of the refused row.
  const protectedNames = new Set(batch.protectNames.flatMap((x) => x.structures.map((k) => `${structureIds.get(k)}\t${x.name}`)));
  /** Per scope (batch.scopes' order), the accounts it sends to the grace period by profile. */
  const scopeAbsent = batch.scopes.map(() => new Map<Profile, number>());
  for (const [i, complete] of batch.scopes.entries()) {
    const pp: unknown[] = [complete.source, [...complete.profiles], scopeStructureIds(complete)];
    // Two halves rather than `EXISTS … OR NOT EXISTS …`: each is a plain semi- or anti-join, which PostgreSQL hashes
    // at any size (an OR of subqueries is re-run per account once the tables are known to be large).
    // The accounts the run names (import_named) are marked covered, not returned: never pre-deleted.
    const absent = `FROM import_gone g JOIN users u ON u.id = g.id LEFT JOIN import_named k ON k.id = g.id WHERE u.source = $1 AND u.profile = ANY($2)`;
    const r = await client.query<{ id: string; external_id: string | null; profile: Profile; first_name: string; last_name: string; login: string; structure_ids: string[] | null }>(
      `WITH a AS (
         SELECT u.id, u.external_id, u.profile, u.first_name, u.last_name, u.login, k.id IS NOT NULL AS named ${absent}
           AND EXISTS (SELECT 1 FROM user_structures us WHERE us.user_id = u.id AND us.structure_id = ANY($3))
           AND ${importPreDeleteSql(scope, 'u', pp)}
         ${complete.orphans ? `UNION SELECT u.id, u.external_id, u.profile, u.first_name, u.last_name, u.login, k.id IS NOT NULL ${absent}
           AND NOT EXISTS (SELECT 1 FROM user_structures us WHERE us.user_id = u.id) AND ${importPreDeleteSql(scope, 'u', pp)}` : ''}),
       kept AS (UPDATE import_named k SET covered = true FROM a WHERE a.named AND k.id = a.id AND NOT k.covered)
       SELECT id, external_id, profile, first_name, last_name, login,
              ${protectedNames.size ? '(SELECT array_agg(us.structure_id) FROM user_structures us WHERE us.user_id = a.id)' : 'NULL::uuid[]'} AS structure_ids
       FROM a WHERE NOT named`,
      pp,
    );
    for (const x of r.rows) {
      // A row rejected for a typo must not take the account away; nor may a run that creates an activated
      // account's near-twin (an ambiguous rename).
      if (x.external_id && opts.protect?.(x.external_id)) continue;
      if (x.structure_ids?.some((sid) => protectedNames.has(`${sid}\t${personName(x.profile, x.first_name, x.last_name)}`))) continue;
      if (keep.has(x.id) || crossed.has(x.id)) continue;
      if (!markAbsent(x)) continue;
      if (complete.file) counts(byFile, complete.file).preDeleted++;
      scopeAbsent[i].set(x.profile, (scopeAbsent[i].get(x.profile) ?? 0) + 1);
    }
  }
  const keptNamed = batch.scopes.length
    ? Number((await client.query<{ n: string }>(`SELECT count(*) AS n FROM import_named WHERE covered`)).rows[0].n)
    : 0;
  if (batch.deletions.length) {
    const dp: unknown[] = [batch.deletions];
    const r = await client.query<{ id: string; profile: Profile; login: string; first_name: string; last_name: string }>(
      `SELECT u.id, u.profile, u.login, u.first_name, u.last_name FROM users u
       WHERE u.external_id = ANY($1) AND u.pre_deleted_at IS NULL AND u.absent_since IS NULL AND ${importPreDeleteSql(scope, 'u', dp)}`,
      dp,
    );
    for (const x of r.rows) markAbsent(x);
  }
  if (preDeletedIds.size) {
    await unnestChunks(client, `UPDATE users SET absent_since = $2, import_hash = NULL WHERE id = ANY($1)`, [[...preDeletedIds]], [now]);
    preDeleted = preDeletedIds.size;
  }
  const emptied = preDeleted >= MASS_ABSENCE_MIN ? await emptiedStructures(client, now) : [];
  const adminChanges = await localAdminChanges(client);
  const newClasses = newClassIds.size
    ? (await client.query<{ id: string; name: string }>(`SELECT id, name FROM structures WHERE id = ANY($1::uuid[])`, [[...newClassIds.keys()]])).rows
        .map((x) => ({ structure: x.name, names: newClassIds.get(x.id)!.sort((a, b) => a.localeCompare(b, 'fr')) }))
        .sort((a, b) => a.structure.localeCompare(b.structure, 'fr'))
    : [];

  await client.query(`SELECT set_config('trousseau.import', 'off', true)`);
  const unattached = await unattachedAccounts(client);

  // ---- counts: each record's outcome, by file and profile, once (types.ts ProfileCounts). Created; else restored
  // (back from the grace period); else updated when its fields changed or its account's memberships or relations did
  // (`touched`, possibly by another chunk); else unchanged.
  const totals = { created: 0, updated: 0, unchanged: 0, restored: 0 };
  const outcomes = await client.query<{ file: string; profile: Profile; created: string; updated: string; unchanged: string; restored: string }>(
    `SELECT file, profile,
            count(*) FILTER (WHERE state = 'fresh') AS created,
            count(*) FILTER (WHERE state <> 'fresh' AND (changed OR touched) AND NOT restored) AS updated,
            count(*) FILTER (WHERE state <> 'fresh' AND NOT changed AND NOT touched AND NOT restored) AS unchanged,
            count(*) FILTER (WHERE restored) AS restored
     FROM import_stage GROUP BY file, profile ORDER BY min(n)`,
  );
  for (const x of outcomes.rows) {
    for (const k of ['created', 'updated', 'unchanged', 'restored'] as const) {
      const v = Number(x[k]);
      totals[k] += v;
      counts(byProfile, x.profile)[k] += v;
      counts(byFile, x.file)[k] += v;
    }
  }
  // The accounts behind `updated` (and the restored ones whose record changed), the first named with what changes
  // (fields, memberships, links).
  const modified = totals.updated || totals.restored ? await modifiedAccounts(client, changes) : { count: 0, sample: [] };
  const accountsByStructure = await structureAccounts(client, scope, [...preDeletedIds], hashing, left);
  // What each scope covers: the records of its source and profiles, in its structures (an AAF kind: anywhere), whose
  // accounts existed before the run (not those it creates; updated, unchanged or restored, as the report counts them).
  // Judged per scope, a school emptied out in a run over several schools, or an AAF file left out beside another
  // source's accounts of that profile, shows. An AAF kind's scopes are counted in one pass over the staged records.
  const scopeAbsences: ScopeAbsence[] = [];
  if (batch.scopes.length) {
    const existing = `s.state NOT IN ('fresh', 'crossed')`;
    const anywhere = new Map<string, number>();
    if (batch.scopes.some((c, i) => c.orphans && scopeAbsent[i].size)) {
      const r = await client.query<{ source: string; profile: Profile; n: string }>(
        `SELECT s.source, s.profile, count(*) AS n FROM import_stage s WHERE ${existing} GROUP BY s.source, s.profile`,
      );
      for (const x of r.rows) anywhere.set(`${x.source}\t${x.profile}`, Number(x.n));
    }
    for (const [i, complete] of batch.scopes.entries()) {
      const absent = [...complete.profiles].filter((p) => scopeAbsent[i].get(p));
      if (!absent.length) continue;
      let covered = (p: Profile) => anywhere.get(`${complete.source}\t${p}`) ?? 0;
      if (!complete.orphans) {
        const r = await client.query<{ profile: Profile; n: string }>(
          `SELECT s.profile, count(*) AS n FROM import_stage s
           WHERE ${existing} AND s.source = $1 AND s.profile = ANY($2)
             AND EXISTS (SELECT 1 FROM user_structures us WHERE us.user_id = s.user_id AND us.structure_id = ANY($3))
           GROUP BY s.profile`,
          [complete.source, absent, scopeStructureIds(complete)],
        );
        const n = new Map(r.rows.map((x) => [x.profile, Number(x.n)]));
        covered = (p) => n.get(p) ?? 0;
      }
      for (const profile of absent) scopeAbsences.push({ profile, absent: scopeAbsent[i].get(profile)!, covered: covered(profile), file: complete.file });
    }
  }
  return {
    created: totals.created,
    updated: totals.updated,
    unchanged: totals.unchanged,
    preDeleted,
    restored: totals.restored,
    // In the directory's order of profiles (pupils first), not in the order the run met them: two reports compare.
    byProfile: Object.fromEntries(PROFILES.filter((p) => byProfile[p]).map((p) => [p, byProfile[p]])),
    byFile,
    structures,
    structuresByFile,
    structureAccounts: accountsByStructure,
    relations: { created: relCount.created, removed: relCount.removed, unresolved, ...(byName.named ? { byName } : {}) },
    rejected,
    renamed,
    keptNamed,
    emptied,
    adminChanges,
    newClasses,
    absent: absentSample,
    modified,
    ...(unattached ? { unattached } : {}),
    now,
    scopeAbsences,
    idsOf: async (exts) => new Map((await client.query<{ id: string; external_id: string }>(`SELECT id, external_id FROM users WHERE external_id = ANY($1)`, [exts])).rows.map((x) => [x.external_id, x.id])),
    structureIds,
    analyzed,
  };
}

/**
 * The run's digest of each staged record (stored as users.import_hash, migration 0016), set-based in PostgreSQL, and
 * the records the run has something to do for (`import_todo`: all but those known under their key, not absent, alone
 * on their account, whose digest equals the stored one). The others are never read back, decoded nor compared
 * (ImportStage.readChunk reads only import_todo): an unchanged feed costs its parsing and a few statements.
 *
 * The digest covers everything that decides what the run writes for the account: the record as the feed gives it
 * (the MD5 of `rec`: fields, memberships by structure key and name, legal representatives; not its file nor its line;
 * a row the cache gave has it computed when filled, stage.ts recOf), the
 * structure ids its keys resolve to (`refs`), the accounts it is linked to (import_relations, both directions) and,
 * for a relative, the structures of its children (a relative follows them: the child's staged structures, else its
 * stored ones within `scope`). Anything else that changes the account's memberships or relations outside an import
 * clears users.import_hash (the migration's triggers).
 */
async function digestStaged(client: Client, structureIds: Map<string, string>, scope: Scope): Promise<void> {
  const keymap = `keymap AS (SELECT * FROM unnest($1::text[], $2::uuid[]) AS m(k, id))`;
  const keys = [[...structureIds.keys()], [...structureIds.values()]];
  // Per account, its partners and (a relative) its children's structures, as digest text: tables of their own,
  // analyzed, so that the digest below streams the staged rows against them. As subqueries, their sizes were
  // guessed (200 rows) and the staged rows, records included, were hashed instead: past memory at a région's size
  // (work_mem), the join went through temporary files.
  await client.query(
    `CREATE TEMP TABLE import_partners ON COMMIT DROP AS
     WITH pairs AS (SELECT DISTINCT parent_id, child_id FROM import_relations)
     SELECT id, string_agg(p, ',' ORDER BY p) AS p
     FROM (SELECT parent_id AS id, 'c:' || child_id AS p FROM pairs UNION ALL SELECT child_id, 'p:' || parent_id FROM pairs) x
     GROUP BY id`,
  );
  await client.query(
    `CREATE TEMP TABLE import_kids ON COMMIT DROP AS
     WITH ${keymap},
     -- The children's structures: from their staged records, else those stored (few: the feed names its pupils).
     staged_structs AS (
       SELECT DISTINCT c.user_id, m.id AS sid FROM import_stage c CROSS JOIN LATERAL unnest(c.structures) AS t(key) JOIN keymap m ON m.k = t.key
       WHERE c.user_id IN (SELECT child_id FROM import_relations WHERE child_staged)),
     kid_structs AS (
       SELECT r.parent_id AS id, ss.sid FROM import_relations r JOIN staged_structs ss ON ss.user_id = r.child_id
       UNION
       SELECT r.parent_id, us.structure_id FROM import_relations r JOIN user_structures us ON us.user_id = r.child_id
       WHERE NOT r.child_staged AND ($3::uuid[] IS NULL OR us.structure_id = ANY($3::uuid[])))
     SELECT id, string_agg(sid::text, ',' ORDER BY sid::text) AS s FROM kid_structs GROUP BY id`,
    [...keys, scope.kind === 'all' ? null : scope.kind === 'structures' ? scope.structureIds : []],
  );
  await client.query('ANALYZE import_partners, import_kids');
  // A narrow table of the records to work on rather than an UPDATE of every staged row (each would be rewritten whole).
  await client.query(
    `CREATE TEMP TABLE import_todo ON COMMIT DROP AS
     WITH ${keymap},
     -- Each list of structure keys records name (a handful per run, not one per record), as digest text.
     refs AS (
       SELECT x.refs, string_agg(t.key || '=' || coalesce(m.id::text, ''), ',' ORDER BY t.key) AS r
       FROM (SELECT DISTINCT refs FROM import_stage) x CROSS JOIN LATERAL unnest(x.refs) AS t(key) LEFT JOIN keymap m ON m.k = t.key
       GROUP BY x.refs),
     -- Two records on one account (an alias left by a merge) add up: both are compared, and read by the same chunk
     -- (ImportStage.readChunk): the later ones name their account's first record (\`lead\`), whose chunk reads them.
     shared AS (SELECT user_id, min(n) AS lead FROM import_stage GROUP BY user_id HAVING count(*) > 1),
     d AS (
       SELECT s.n, s.user_id, s.state, s.absent, s.hash,
              md5(concat_ws(chr(31), s.source, s.profile, coalesce(s.rec_md5, md5(s.rec)), r.r, p.p, CASE WHEN s.profile = 'Relative' THEN k.s END)) AS digest
       FROM import_stage s LEFT JOIN refs r ON r.refs = s.refs LEFT JOIN import_partners p ON p.id = s.user_id LEFT JOIN import_kids k ON k.id = s.user_id)
     SELECT n, digest, CASE WHEN sh.lead <> d.n THEN sh.lead END AS lead FROM d
       LEFT JOIN shared sh ON sh.user_id = d.user_id
     WHERE NOT (state = 'known' AND NOT absent AND hash IS NOT NULL AND hash = digest AND sh.user_id IS NULL)`,
    keys,
  );
  await client.query('CREATE UNIQUE INDEX ON import_todo (n)');
  // A chunk finds its accounts' later records by this index (few rows: merged accounts only).
  await client.query('CREATE INDEX ON import_todo (lead) WHERE lead IS NOT NULL');
  // Without statistics PostgreSQL takes `lead IS NULL` (readChunk) for 0.5 % of the rows, and reads each chunk by
  // joining and sorting the whole table: 90 ms a chunk instead of 15 on 100,000 accounts.
  await client.query('ANALYZE import_todo');
}

/**
 * Structure id → by profile, the run's accounts whose membership of it the run removes (apply.ts applyChunk's
 * memberships sync, planLinks): still in the feed, no longer in this structure (StructureReport.left).
 */
type LeftByStructure = Map<string, Partial<Record<Profile, number>>>;

/** How many of the accounts a run sends to the grace period its report names. */
export const ABSENT_SAMPLE = 200;

/**
 * The run's accounts by structure once it is written (StructureReport.accounts): each account of its staged records
 * with its outcome (created, else restored, else updated, else unchanged: types.ts ProfileCounts) and each account it
 * sent to the grace period (`absentIds`), counted in every structure it belongs to, by profile; `none`: those in no
 * structure. A parent attached to no structure of their own counts in their children's (as the console counts a
 * school's accounts, policies.ts structureAccountsSql, and finds those of no school, directory/unattached.ts); the run
 * gives a parent their children's structures, so this is the exception, read only when the first count finds such a
 * parent. Outside scope 'all', only the scope's structures are counted (an account also in another school is not
 * named there). An account staged twice (its key and a merge's alias) counts once, by its first record: import_todo's
 * `lead` when the run digests its records (digestStaged), else found by the staged rows' index (one school's files).
 * One grouped statement: a hash join of the staged records with the memberships (aaf-2013: 7 to 22 ms; a generated
 * feed of 100,000 accounts: 0.4 to 0.55 s on two shared cores, where its first import took 135 s and its re-import 26 s).
 */
async function structureAccounts(client: Client, scope: Scope, absentIds: string[], hashing: boolean, left: LeftByStructure): Promise<ApplyResult['structureAccounts']> {
  const params: unknown[] = [absentIds];
  const inScope = (column: string) => {
    if (scope.kind === 'all') return 'true';
    if (params.length < 2) params.push(scope.kind === 'structures' ? scope.structureIds : []);
    return `${column} = ANY($2::uuid[])`;
  };
  const first = hashing
    ? 'NOT EXISTS (SELECT 1 FROM import_todo t WHERE t.n = s.n AND t.lead IS NOT NULL)'
    : 's.n = (SELECT min(d.n) FROM import_stage d WHERE d.user_id = s.user_id)';
  const outcome = `CASE WHEN s.state = 'fresh' THEN 'created' WHEN s.restored THEN 'restored' WHEN s.changed OR s.touched THEN 'updated' ELSE 'unchanged' END`;
  /**
   * The run's accounts (id, profile, outcome: its staged records', then those it sent away) with the structure ids
   * `join` gives each (`join(id)`: a LEFT JOIN of `m`, holding `structure_id`, on the account `id`), where `where(id,
   * profile)` holds.
   */
  const accounts = (join: (id: string) => string, where: (id: string, profile: string) => string = () => 'true') => `
    SELECT s.user_id AS id, s.profile, ${outcome} AS outcome, m.structure_id AS sid
    FROM import_stage s LEFT JOIN ${join('s.user_id')} WHERE ${first} AND ${where('s.user_id', 's.profile')}
    UNION ALL
    SELECT u.id, u.profile::text, 'preDeleted', m.structure_id
    FROM users u LEFT JOIN ${join('u.id')} WHERE u.id = ANY($1::uuid[]) AND ${where('u.id', 'u.profile::text')}`;
  type Row = { kind: 'm' | 'k' | 'x'; sid: string | null; profile: Profile; outcome: keyof ProfileCounts; n: number };
  const rows = (
    await client.query<Row>(
      `SELECT 'm' AS kind, sid, profile, outcome, count(*)::int AS n FROM (${accounts((id) => `user_structures m ON m.user_id = ${id}`)}) x
       WHERE sid IS NULL OR ${inScope('sid')} GROUP BY 2, 3, 4`,
      params,
    )
  ).rows;
  // Parents of no structure of their own: counted in their children's structures instead of none.
  if (rows.some((x) => x.kind === 'm' && x.sid === null && x.profile === 'Relative')) {
    const lone = (id: string, profile: string) => `${profile} = 'Relative' AND NOT EXISTS (SELECT 1 FROM user_structures o WHERE o.user_id = ${id})`;
    const children = (id: string) => `(relations r JOIN user_structures m ON m.user_id = r.child_id) ON r.parent_id = ${id}`;
    rows.push(
      ...(
        await client.query<Row>(
          `WITH kids AS (SELECT DISTINCT x.id, x.profile, x.outcome, x.sid FROM (${accounts(children, lone)}) x
                        WHERE x.sid IS NOT NULL)
           SELECT 'k' AS kind, sid, profile, outcome, count(*)::int AS n FROM kids WHERE ${inScope('sid')} GROUP BY 2, 3, 4
           UNION ALL SELECT 'x', NULL, profile, outcome, count(DISTINCT id)::int FROM kids GROUP BY 3, 4`,
          params,
        )
      ).rows,
    );
  }
  const ids = [...new Set([...rows.map((x) => x.sid).filter((x): x is string => x !== null), ...left.keys()])];
  const named = new Map(
    (await client.query<{ id: string; name: string; uai: string | null }>(`SELECT id, name, uai FROM structures WHERE id = ANY($1::uuid[])`, [ids])).rows.map((x) => [x.id, x]),
  );
  const byId: ApplyResult['structureAccounts']['byId'] = new Map();
  const entry = (sid: string) => byId.get(sid) ?? byId.set(sid, { name: named.get(sid)!.name, uai: named.get(sid)!.uai, accounts: {} }).get(sid)!;
  const none: CountsByProfile = {};
  for (const x of rows) {
    if (x.sid === null) {
      // 'x': the parents counted in their children's structures leave none.
      counts(none, x.profile)[x.outcome] += x.kind === 'x' ? -x.n : x.n;
      continue;
    }
    counts(entry(x.sid).accounts, x.profile)[x.outcome] += x.n;
  }
  // In the directory's order of profiles, as ImportReport.byProfile; none without the profiles left at zero.
  const ordered = (c: CountsByProfile): CountsByProfile =>
    Object.fromEntries(PROFILES.filter((p) => c[p] && Object.values(c[p]).some((n) => n)).map((p) => [p, c[p]]));
  for (const s of byId.values()) s.accounts = ordered(s.accounts);
  // A structure the run's accounts only leave is named too (a collège whose 3e pupils all went to a lycée of the run).
  for (const [sid, byProfile] of left) entry(sid).left = Object.fromEntries(PROFILES.filter((p) => byProfile[p]).map((p) => [p, byProfile[p]]));
  return { byId, none: ordered(none) };
}
/** How many of the run's accounts left in no school its report names. */
export const UNATTACHED_SAMPLE = 10;

/**
 * The run's accounts (its staged records') that belong to no school once it is written: no user_structures row and,
 * for a parent, no child in one (as the console counts a school's accounts, directory/stats.ts, and the publipostage
 * selects them, select.ts). An AAF staff record with an empty ENTPersonStructRattach and no class gets such an
 * account: kept (a staff member of the académie may need one), but counted in no school, so the report says so.
 */
async function unattachedAccounts(client: Client): Promise<UnattachedAccounts | undefined> {
  const r = await client.query<{ login: string; first_name: string; last_name: string; profile: Profile; n: number }>(
    `WITH x AS (
       SELECT DISTINCT u.id, u.login, u.first_name, u.last_name, u.profile FROM import_stage s JOIN users u ON u.id = s.user_id
       WHERE u.absent_since IS NULL AND ${UNATTACHED_SQL})
     SELECT login, first_name, last_name, profile, (count(*) OVER (PARTITION BY profile))::int AS n FROM x
     ORDER BY login`,
  );
  if (!r.rows.length) return undefined;
  const byProfile: Partial<Record<Profile, number>> = {};
  for (const p of PROFILES) {
    const row = r.rows.find((x) => x.profile === p);
    if (row) byProfile[p] = row.n;
  }
  const sample = r.rows.slice(0, UNATTACHED_SAMPLE).map((x) => ({ login: x.login, name: `${x.first_name} ${x.last_name}`, profile: x.profile }));
  return { count: r.rows.length, byProfile, sample };
}

/** What a chunk needs of the whole run. */
interface ChunkContext {
  now: Date;
  scope: Scope;
  /** Records' digests are computed and compared (not in runs naming children by name). */
  hashing: boolean;
  sid: (key: string) => string;
  structureId: (key: string) => string | undefined;
  classId: (structureId: string, name: string) => string;
  groupId: (structureId: string, name: string) => string;
  runStructSet: Set<string>;
  /** structure id → its UAI and external id (heads of school). */
  structureKeys: Map<string, (string | null)[]>;
  rejected: Rejection[];
  relCount: { created: number; removed: number };
  /** What the run changes on the first accounts it changes (ImportReport.modified, named once the run is written). */
  changes: ChangeSample;
  /** The run's accounts that lose a structure (StructureReport.left), counted as the chunks plan it. */
  left: LeftByStructure;
  /** Accounts adoptAccounts took over under a record's key: user id → the key they had. */
  formerKeys: Map<string, string>;
  /** Pupils an AAF modifyRequest takes out of structures (UserRecord.leftStructures): [pupil id, structure id]. */
  pupilsLeft: [string, string][];
  logins: BatchLoginAllocator;
  /** The writes whose outcome the chunk does not need: held until the next chunk has its logins, then not waited for. */
  writes: QueuedWrites;
  /** The account running the import: its e-mail is never changed by it (applyBatch's `self`). */
  self: string | null;
}

/** Writes one chunk of staged records: new accounts, field updates, memberships, relations, local admins. */
async function applyChunk(client: Client, ctx: AppContext, batch: ImportBatch, input: StagedChunk, cc: ChunkContext): Promise<{ unresolved: number; byName: { named: number; found: number } }> {
  const { now, sid, rejected, writes } = cc;
  const { rows } = input;
  let unresolved = 0;
  const named = { named: 0, found: 0 };
  const records = rows.map(decodeStaged);
  // The JSON text is not needed once decoded: let it go while the chunk waits on the connection (memory at région scale).
  for (const r of rows) r.rec = '';
  const rowOf = new Map(rows.map((r) => [r.ext, r]));
  const userIds = new Map(rows.map((r) => [r.ext, r.user_id]));
  const recById = new Map(records.map((r) => [userIds.get(r.externalId)!, r]));
  const freshIds = new Set(rows.filter((r) => r.state === 'fresh').map((r) => r.user_id));
  const fresh = records.filter((_, i) => rows[i].state === 'fresh');
  // Logins first, asked about before the previous chunk's writes are sent (the allocator remembers that chunk's
  // logins): its writes then run in PostgreSQL while this chunk is planned here.
  const loginOf = fresh.length ? await cc.logins.allocate(fresh) : [];
  writes.send();

  // ---- the links the run wants that reach this chunk's accounts, and what the run says of their other side ----
  const chunkIds = [...recById.keys()];
  const wantedRelations = new Set(input.pairs.map((x) => `${x.parent_id}\t${x.child_id}`));
  /** Accounts of the run in other chunks: their structures (structure keys), whether they are new and not written yet. */
  const inRun = new Map<string, { structures: string[]; fresh: boolean; later: boolean }>();
  const last = Number(input.last);
  for (const x of input.others) {
    const seen = inRun.get(x.user_id);
    const other = { structures: x.structures, fresh: x.state === 'fresh', later: Number(x.n) > last };
    // An account staged twice (its key and the alias a merge left) is both records: their structures add up, as in
    // its digest (digestStaged), whatever order the rows come in.
    if (seen) inRun.set(x.user_id, { structures: [...new Set([...seen.structures, ...other.structures])], fresh: seen.fresh || other.fresh, later: seen.later || other.later });
    else inRun.set(x.user_id, other);
  }

  // ---- memberships the run wants ----
  const outsideChildren = new Set<string>();
  const childStructs = new Map<string, string[]>();
  for (const k of wantedRelations) {
    const [p, c] = k.split('\t');
    if (recById.get(p)?.profile !== 'Relative' || recById.has(c)) continue;
    const other = inRun.get(c);
    if (other) childStructs.set(c, [...new Set(other.structures.map(cc.structureId).filter((x): x is string => !!x))]);
    else outsideChildren.add(c);
  }
  // A relative follows the children's structures, only those the run may write into (readChunk: within the scope).
  for (const x of input.outsideStructures) {
    if (outsideChildren.has(x.user_id)) (childStructs.get(x.user_id) ?? childStructs.set(x.user_id, []).get(x.user_id)!).push(x.structure_id);
  }
  // The plans and digests of a chunk are some 100 ms of CPU: the event loop turns between their pieces (the import
  // runs in the server, whose other requests wait meanwhile).
  await nextTurn();
  const want = planMemberships(records, (ext) => userIds.get(ext)!, { structure: sid, classId: cc.classId, groupId: cc.groupId }, wantedRelations, childStructs);
  await nextTurn();

  // ---- which accounts the run compares in full (digestStaged: unchanged records are not read back at all) ----
  const dirty = new Set<string>(rows.map((r) => r.user_id)); // user ids the run compares in full (new ones included)

  // ---- new accounts ----
  if (fresh.length) {
    // An account generated as already active has used its code: it gets none.
    const codes = issueActivationCodes(ctx.secrets, ctx.config.activationCodeDays, fresh.filter((r) => !r.history?.activatedAt).length, now);
    await nextTurn();
    let nextCode = 0;
    // New accounts cannot conflict (fresh ids, logins checked, keys unknown): one COPY.
    const newRows = function* () {
      for (const [i, r] of fresh.entries()) {
        const login = loginOf[i];
        const h = r.history;
        const code = h?.activatedAt ? null : codes[nextCode++];
        yield [
          userIds.get(r.externalId), r.externalId, r.origin, r.source, r.profile, r.title, r.firstName, r.lastName, r.birthDate, r.email, r.phone, login,
          code?.enc ?? null, code?.mac ?? null, code?.expiresAt ?? null,
          h?.createdAt ?? now, h?.createdAt ?? now, h?.activatedAt ?? null, h?.activatedAt ?? null, h?.passwordHash ?? null, h?.preDeletedAt ?? null,
          r.ine ?? null, pgTextArray(r.functions ?? []), r.mobile ?? null, r.address ?? null, rowOf.get(r.externalId)!.digest,
          feedVouchesForEmail(r) ? now : null,
        ];
      }
    };
    const userColumns = [
      'id', 'external_id', 'origin', 'source', 'profile', 'title', 'first_name', 'last_name', 'birth_date', 'email', 'phone', 'login',
      'activation_code_enc', 'activation_code_mac', 'activation_code_expires_at',
      'created_at', 'updated_at', 'activated_at', 'terms_accepted_at', 'password_hash', 'pre_deleted_at',
      'ine', 'functions', 'mobile', 'address', 'import_hash', 'email_verified_at',
    ];
    // Rendered now, while PostgreSQL stores the previous chunk: sent, ready, once the next chunk has its logins.
    const pieces = await renderCopy(newRows());
    writes.hold(() => sendCopy(client, 'users', userColumns, pieces));
  }

  // ---- field updates (pure plan: planUserUpdate), accounts compared in full only ----
  const changed = new Set<string>(rows.filter((r) => r.state === 'rekeyed').map((r) => r.ext));
  const restored = new Set<string>();
  const aliasRestored: string[] = [];
  for (const r of rows) {
    if (r.state === 'aliased' && r.absent) {
      restored.add(r.ext);
      aliasRestored.push(r.user_id);
    }
  }
  const compare = records.filter((r) => {
    const row = rowOf.get(r.externalId)!;
    return (row.state === 'known' || row.state === 'rekeyed') && dirty.has(row.user_id);
  });
  /** [user id, UAI or jointure]: the DIR functions of AAF accounts before the run (formerHeadStructures below). */
  const formerHeads: [string, string][] = [];
  if (compare.length) {
    const stored = await client.query<ExistingUser>(`SELECT ${EXISTING_COLUMNS} FROM users u WHERE u.id = ANY($1)`, [compare.map((r) => userIds.get(r.externalId))]);
    const byId = new Map(stored.rows.map((x) => [x.id, x]));
    const upd: unknown[][] = Array.from({ length: 17 }, () => []);
    for (const r of compare) {
      const row = rowOf.get(r.externalId)!;
      const e = byId.get(row.user_id)!;
      // The structures an AAF head of school directed before this record: outside the run's (one the delivery does
      // not carry, a school without jointure named by its UAI), her administration is taken back there too.
      if (r.source === 'aaf') for (const k of headOfSchoolKeys(e.functions ?? [])) formerHeads.push([e.id, k]);
      // One's own address is changed in « Mon compte », where the current password is asked: a stolen admin session
      // must not put its address on the account by importing its own row (then take it with a reset link). The
      // row is imported but that field, reported; no digest, so the next run compares and reports it again.
      const own = row.user_id === cc.self && addressChanges(e.email, planUserUpdate(r, e).next.email);
      if (own) cc.rejected.push(rejection(row.file, row.line, 'courriel', 'applySelfEmail'));
      const { next, diff, changes } = planUserUpdate(own ? { ...r, email: e.email } : r, e);
      if (e.pre_deleted_at) restored.add(r.externalId);
      // Who changes, and how: a dry run shows it before anything is written (a corrected name, a new e-mail, an
      // identifier the file now gives).
      const former = row.state === 'rekeyed' ? cc.formerKeys.get(e.id) : undefined;
      const key = former !== undefined ? keyChange(former, r.externalId) : [];
      cc.changes.field(e.id, [...key, ...changes]);
      if (diff) changed.add(r.externalId);
      const hash = own ? null : row.digest;
      // Nothing to write unless a field changed, the account comes back, or its digest is to be recorded.
      if (!diff && !e.pre_deleted_at && (!hash || hash === row.hash)) continue;
      [e.id, next.profile, next.title, next.first_name, next.last_name, next.birth_date, next.email, next.phone, next.origin, next.source, diff,
        next.ine, next.functions, next.mobile, next.address, hash, feedVouchesForEmail(r) && next.email === r.email].forEach((v, k) => {
        upd[k].push(v);
      });
    }
    if (upd[0].length) {
      writes.hold(() => client.query(
        `UPDATE users u SET profile = v.profile, title = v.title, first_name = v.first_name, last_name = v.last_name,
                birth_date = v.birth_date, email = v.email, phone = v.phone, origin = v.origin, source = v.source,
                ine = v.ine, functions = v.functions::text[], mobile = v.mobile, address = v.address, import_hash = v.hash,
                pre_deleted_at = NULL, absent_since = NULL, updated_at = CASE WHEN v.diff THEN $18::timestamptz ELSE u.updated_at END,
                -- a changed address loses its verification (trigger of migration 0021) unless the feed vouches for it
                email_verified_at = CASE WHEN v.vouched AND (u.email_verified_at IS NULL OR u.email IS DISTINCT FROM v.email)
                                         THEN $18::timestamptz ELSE u.email_verified_at END
         FROM unnest($1::uuid[], $2::text[], $3::text[], $4::text[], $5::text[], $6::date[], $7::text[], $8::text[], $9::text[], $10::text[], $11::bool[],
                     $12::text[], $13::text[], $14::text[], $15::text[], $16::text[], $17::bool[])
              AS v(id, profile, title, first_name, last_name, birth_date, email, phone, origin, source, diff, ine, functions, mobile, address, hash, vouched)
         WHERE u.id = v.id`,
        [...upd, now],
      ));
    }
  }
  if (aliasRestored.length) writes.hold(() => client.query(`UPDATE users SET pre_deleted_at = NULL, absent_since = NULL, import_hash = NULL WHERE id = ANY($1)`, [aliasRestored]));

  // ---- memberships sync (pure plan: planLinks), accounts compared in full ----
  const touched = new Set<string>(); // user ids whose memberships or relations changed
  const syncIds = chunkIds.filter((id) => dirty.has(id));
  const kinds = [
    // Structures with whether only AAF functions gave them (user_structures.by_function, migration 0042).
    { table: 'user_structures', col: 'structure_id', field: 'structures' as const, want: want.structures, attributes: false,
      have: `SELECT user_id, structure_id AS other, structure_id, by_function FROM user_structures WHERE user_id = ANY($1)` },
    // Classes and groups with the AAF attributes that give them (ClassRef.from, migration 0039).
    { table: 'user_classes', col: 'class_id', field: 'classes' as const, want: want.classes, attributes: true,
      have: `SELECT uc.user_id, uc.class_id AS other, c.structure_id, uc.aaf_attributes AS attrs FROM user_classes uc JOIN classes c ON c.id = uc.class_id WHERE uc.user_id = ANY($1)` },
    { table: 'user_groups', col: 'group_id', field: 'groups' as const, want: want.groups, attributes: true,
      have: `SELECT ug.user_id, ug.group_id AS other, g.structure_id, ug.aaf_attributes AS attrs FROM user_groups ug JOIN groups g ON g.id = ug.group_id WHERE ug.user_id = ANY($1)` },
  ];
  /** The AAF attributes of a wanted class or group (`${userId}\t${otherId}`), as a text[] literal, or null. */
  const attrsOf = (k: string) => {
    const a = want.attributes.get(k);
    return a ? pgTextArray(a) : null;
  };
  // An account keeps its classes in a structure where a record of it gives none (a teachers' CSV without class
  // column) and no other record of it gives the whole list (an account staged twice, its key and a merge's alias:
  // STS-web beside that list). Keyed `${userId}\t${structureId}`.
  const keptClasses = new Set<string>();
  const listed = new Set<string>();
  for (const r of records) {
    for (const k of r.structures) (r.keepClasses ? keptClasses : listed).add(`${userIds.get(r.externalId)!}\t${sid(k)}`);
  }
  for (const k of listed) keptClasses.delete(k);
  // A structure an AAF head of school's DIR function named (`structure$DIR$…`, by jointure or UAI) is described by her
  // record even outside the delivery (a lycée only the directory knows, a school made by hand or by SIECLE): once the
  // feed no longer gives the function there, nor an attachment, class or group, she leaves it. Without this, a former
  // head of school stayed a member of the school her DIR function had named (counted in it, chosen by its
  // publipostage, listed in its console) once her administration was taken back (localAdminsWrite). Only DIR: other
  // functions outside the delivery may be another delivery's (1D and 2D imported apart), whose memberships would
  // then come and go with each run.
  // Keyed `${userId}\t${structureId}`, as planLinks reads it; localAdminsWrite takes her administration back there.
  // Not a structure she administers by hand (local_admins not from_feed: hers whatever the feed says, and
  // localAdminsWrite takes back only a feed's): she stayed its administrator outside its members.
  const formerHeadStructures = new Set<string>();
  if (formerHeads.length) {
    const found = await client.query<{ u: string; s: string }>(
      `SELECT DISTINCT h.u, s.id AS s FROM unnest($1::uuid[], $2::text[]) AS h(u, k) JOIN structures s ON upper(s.uai) = h.k OR upper(s.external_id) = h.k
       WHERE NOT EXISTS (SELECT 1 FROM local_admins la WHERE la.user_id = h.u AND la.structure_id = s.id AND NOT la.from_feed)`,
      [formerHeads.map((x) => x[0]), formerHeads.map((x) => x[1])],
    );
    for (const x of found.rows) formerHeadStructures.add(`${x.u}\t${x.s}`);
  }
  // The structures an AAF pupil's modifyRequest takes her out of (UserRecord.leftStructures, aaf-settle.ts
  // applyModifies: her attachment, classes or groups replaced by another school's) are described by her record
  // though the delta does not carry them: her memberships there are synchronised too, i.e. removed. Same keys.
  const describedFor = new Set(formerHeadStructures);
  const leaving = records.flatMap((r) => (r.leftStructures ?? []).map((k) => [userIds.get(r.externalId)!, k] as const));
  if (leaving.length) {
    const found = await client.query<{ u: string; s: string }>(
      `SELECT DISTINCT h.u, s.id AS s FROM unnest($1::uuid[], $2::text[]) AS h(u, k) JOIN structures s ON s.external_id = h.k`,
      [leaving.map((x) => x[0]), leaving.map((x) => x[1])],
    );
    for (const x of found.rows) describedFor.add(`${x.u}\t${x.s}`);
    const pupils = new Set(records.filter((r) => r.profile === 'Student').map((r) => userIds.get(r.externalId)!));
    for (const x of found.rows) if (pupils.has(x.u)) cc.pupilsLeft.push([x.u, x.s]);
  }
  const isNew = (id: string) => freshIds.has(id);
  const newIds = syncIds.filter(isNew);
  const oldIds = syncIds.filter((id) => !isNew(id));
  for (const k of kinds) {
    // A new account's links are all new: one COPY.
    const structures = k.field === 'structures';
    const byFunction = (key: string) => want.byFunction.has(key);
    const links = function* () {
      for (const id of newIds) {
        for (const o of k.want.get(id) ?? []) {
          yield k.attributes ? [id, o, attrsOf(`${id}\t${o}`)] : structures ? [id, o, byFunction(`${id}\t${o}`)] : [id, o];
        }
      }
    };
    if (newIds.length) {
      const pieces = await renderCopy(links());
      const columns = k.attributes ? ['user_id', k.col, 'aaf_attributes'] : structures ? ['user_id', k.col, 'by_function'] : ['user_id', k.col];
      writes.hold(() => sendCopy(client, k.table, columns, pieces));
    }
    if (!oldIds.length) continue;
    const have = (await client.query<Link>(k.have, [oldIds])).rows;
    const wanted = new Set<string>();
    for (const id of oldIds) for (const o of k.want.get(id) ?? []) wanted.add(`${id}\t${o}`);
    const { add, del } = planLinks(have, wanted, cc.runStructSet, k.field === 'classes' ? keptClasses : undefined, describedFor);
    if (add.length && structures) {
      writes.hold(() => unnestChunks(
        client,
        `INSERT INTO user_structures (user_id, structure_id, by_function) SELECT * FROM unnest($1::uuid[], $2::uuid[], $3::bool[]) ON CONFLICT DO NOTHING`,
        [...split2(add), add.map(byFunction)],
      ));
    } else if (add.length && !k.attributes) {
      writes.hold(() => unnestChunks(client, `INSERT INTO ${k.table} (user_id, ${k.col}) SELECT * FROM unnest($1::uuid[], $2::uuid[]) ON CONFLICT DO NOTHING`, split2(add)));
    }
    if (add.length && k.attributes) {
      writes.hold(() => unnestChunks(
        client,
        `INSERT INTO ${k.table} (user_id, ${k.col}, aaf_attributes) SELECT v.u, v.o, v.a::text[] FROM unnest($1::uuid[], $2::uuid[], $3::text[]) AS v(u, o, a) ON CONFLICT DO NOTHING`,
        [...split2(add), add.map(attrsOf)],
      ));
    }
    // A class or group kept whose attributes change (a head-teacher class she now teaches too; the first complete
    // feed after migration 0039): written, not reported (her memberships are the same).
    const retag = k.attributes ? planAttributes(have, wanted, want.attributes) : [];
    if (retag.length) {
      writes.hold(() => unnestChunks(
        client,
        `UPDATE ${k.table} t SET aaf_attributes = v.a::text[] FROM unnest($1::uuid[], $2::uuid[], $3::text[]) AS v(u, o, a) WHERE t.user_id = v.u AND t.${k.col} = v.o`,
        [retag.map((x) => x.user_id), retag.map((x) => x.other), retag.map((x) => pgTextArray(x.attrs))],
      ));
    }
    // A structure kept that a function alone gives now, or no longer (an attachment to the school of her function
    // added or taken away; the first AAF run after migration 0042): written, not reported (her memberships are the same).
    const flip = structures ? have.filter((h) => wanted.has(`${h.user_id}\t${h.other}`) && !!h.by_function !== byFunction(`${h.user_id}\t${h.other}`)) : [];
    if (flip.length) {
      writes.hold(() => unnestChunks(
        client,
        `UPDATE user_structures t SET by_function = v.f FROM unnest($1::uuid[], $2::uuid[], $3::bool[]) AS v(u, o, f) WHERE t.user_id = v.u AND t.structure_id = v.o`,
        [flip.map((x) => x.user_id), flip.map((x) => x.other), flip.map((x) => !x.by_function)],
      ));
    }
    if (del.length) {
      writes.hold(() => unnestChunks(
        client,
        `DELETE FROM ${k.table} t USING unnest($1::uuid[], $2::uuid[]) AS v(u, o) WHERE t.user_id = v.u AND t.${k.col} = v.o`,
        [del.map((d) => d.user_id), del.map((d) => d.other)],
      ));
    }
    for (const a of add) {
      const t = a.indexOf('\t');
      touched.add(a.slice(0, t));
      cc.changes.link(a.slice(0, t), k.field, '+', a.slice(t + 1));
    }
    for (const d of del) {
      touched.add(d.user_id);
      cc.changes.link(d.user_id, k.field, '-', d.other);
      if (k.field === 'structures') {
        const profile = recById.get(d.user_id)!.profile;
        const byProfile = cc.left.get(d.other) ?? cc.left.set(d.other, {}).get(d.other)!;
        byProfile[profile] = (byProfile[profile] ?? 0) + 1;
      }
    }
  }

  // ---- children named on parents' rows (CSV, BE1D): folded names + class, within the structure (one chunk) ----
  const runSet = new Set(chunkIds);
  // Links a parent's row names but could not make (`parent\tchild` for each pupil the mention may be): a remark
  // « lien non créé » is not the parent no longer naming the child, so planRelations keeps such stored links (the
  // reference ENT only ever adds CSV parents' links). A pupil moved class in the pupils' file while the parents' file
  // still gives the former class lost both parents otherwise.
  const unresolvedRelations = new Set<string>();
  const keepUnresolved = (parent: string, candidates: { id: string }[]) => {
    for (const x of candidates) unresolvedRelations.add(`${parent}\t${x.id}`);
  };
  if (batch.childrenByName.length) {
    // The pupils this chunk wrote are among those to find.
    writes.send();
    const sids = [...new Set(batch.childrenByName.map((c) => sid(c.structure)))];
    const r = await client.query<{ id: string; structure_id: string; last_name: string; first_name: string; external_id: string | null; classes: string[] }>(
      `SELECT u.id, us.structure_id, u.last_name, u.first_name, u.external_id,
              coalesce(array_agg(c.name) FILTER (WHERE c.structure_id = us.structure_id), '{}') AS classes
       FROM users u JOIN user_structures us ON us.user_id = u.id
       LEFT JOIN user_classes uc ON uc.user_id = u.id LEFT JOIN classes c ON c.id = uc.class_id
       WHERE u.profile = 'Student' AND us.structure_id = ANY($1)
       GROUP BY u.id, us.structure_id`,
      [sids],
    );
    /** `classes`: folded, to compare; `classNames`: as stored, to name them. */
    const byName = new Map<string, { id: string; classes: Set<string>; classNames: string[] }[]>();
    for (const x of r.rows) {
      const entry = { id: x.id, classes: new Set(x.classes.map(foldName)), classNames: x.classes };
      // A pupil of a school file is shown by her usage name and keyed by her family name (csv.ts csvNameKey): a
      // parent's row naming her by the family name alone (« Nom de famille enfant », the template's « Nom de l'élève »)
      // finds her too.
      const parts = csvKeyParts(x.external_id);
      const family = parts && 'profile' in parts && parts.profile === 'Student' ? parts.lastName : undefined;
      for (const last of new Set([foldName(x.last_name), ...(family ? [family] : [])])) {
        const k = `${x.structure_id}\t${last}\t${foldName(x.first_name)}`;
        (byName.get(k) ?? byName.set(k, []).get(k)!).push(entry);
      }
    }
    for (const c of batch.childrenByName) {
      const parent = userIds.get(c.parent);
      if (!parent) continue;
      named.named++;
      const s = sid(c.structure);
      const seen = new Map<string, { id: string; classes: Set<string>; classNames: string[] }>();
      for (const ln of c.lastNames) for (const x of byName.get(`${s}\t${foldName(ln)}\t${foldName(c.firstName)}`) ?? []) seen.set(x.id, x);
      let candidates = [...seen.values()];
      const who = `${c.lastNames[0]} ${c.firstName}${c.className ? ` (${c.className})` : ''}`;
      if (c.className && candidates.length) {
        // The class the row gives must be the pupil's (a pupil without a class cannot contradict it): a namesake in
        // another class is another child, and linking them would show a parent someone else's child. ONDE and the
        // ENT's templates name the child by names and class, as the reference matches them.
        const inClass = candidates.filter((x) => !x.classes.size || x.classes.has(foldName(c.className)));
        if (!inClass.length) {
          unresolved++;
          const elsewhere = [...new Set(candidates.flatMap((x) => [...x.classNames]))].join(', ');
          rejected.push(rejection(c.file, c.line, c.field, 'applyPupilOtherClass', { who, classes: elsewhere }));
          keepUnresolved(parent, candidates);
          continue;
        }
        candidates = inClass;
      }
      if (candidates.length === 1) {
        named.found++;
        wantedRelations.add(`${parent}\t${candidates[0].id}`);
        runSet.add(candidates[0].id);
        dirty.add(candidates[0].id);
      } else {
        unresolved++;
        rejected.push(rejection(c.file, c.line, c.field, candidates.length ? 'applyPupilAmbiguous' : 'applyPupilNotFound', { who }));
        keepUnresolved(parent, candidates);
      }
    }
  }

  // ---- relations sync (pure plan: planRelations): links of the accounts compared in full ----
  const relIds = chunkIds.filter((id) => dirty.has(id) && !isNew(id));
  const relHave = relIds.length
    ? (await client.query<StoredRelation>(
        `SELECT DISTINCT r.parent_id, r.child_id, p.source AS parent_source FROM relations r JOIN users p ON p.id = r.parent_id
         WHERE r.parent_id = ANY($1) OR r.child_id = ANY($1)`,
        [relIds],
      )).rows
    : [];
  // Links between two skipped accounts are as the last import left them: only those of a compared account are
  // planned (by the chunk of either side: writes below are idempotent, counts are of rows written).
  // A link to a new account of a later chunk waits for that chunk (the account does not exist yet).
  const relWanted = new Set([...wantedRelations].filter((k) => {
    const pair = k.split('\t');
    return pair.some((id) => dirty.has(id)) && !pair.some((id) => inRun.get(id)?.fresh && inRun.get(id)?.later);
  }));
  // Whether the stored links' other sides are in the run, and which children the run describes whole (AAF pupils,
  // SIECLE pupils whose responsables file is read: UserRecord.legal).
  const described = new Map<string, string>(); // child id → its source
  const ends = [...new Set(relHave.flatMap((x) => [x.parent_id, x.child_id]))].filter((id) => !recById.has(id));
  if (ends.length) {
    for (const x of (await client.query<{ user_id: string }>(`SELECT user_id FROM import_stage WHERE user_id = ANY($1)`, [ends])).rows) runSet.add(x.user_id);
  }
  const childIds = [...new Set(relHave.map((x) => x.child_id))];
  if (childIds.length) {
    const r = await client.query<{ user_id: string; source: string }>(`SELECT user_id, source FROM import_stage WHERE user_id = ANY($1) AND legal IS NOT NULL`, [childIds]);
    for (const x of r.rows) described.set(x.user_id, x.source);
  }
  const describes = (x: StoredRelation) => described.get(x.child_id) === x.parent_source;
  const { add: relAdd, del: relDel } = planRelations(relHave, relWanted, runSet, describes, unresolvedRelations);
  // A link of a new account of this chunk cannot exist yet, nor be planned by another chunk (an earlier chunk
  // leaves it to this one, a later one finds it stored): one COPY. The others as before (INSERT … ON CONFLICT DO
  // NOTHING), counting the rows written.
  const relCopy: string[][] = [];
  const relInsert: string[][] = [];
  for (const k of relAdd) {
    const pair = k.split('\t');
    if (pair.some((id) => recById.has(id) && isNew(id))) relCopy.push(pair);
    else relInsert.push(pair);
  }
  const addedPairs: string[][] = [...relCopy];
  if (relCopy.length) {
    const pieces = await renderCopy(relCopy);
    writes.hold(() => sendCopy(client, 'relations', ['parent_id', 'child_id'], pieces));
  }
  if (relInsert.length) {
    const r = await unnestChunks<{ parent_id: string; child_id: string }>(
      client,
      `INSERT INTO relations (parent_id, child_id) SELECT * FROM unnest($1::uuid[], $2::uuid[]) ON CONFLICT DO NOTHING RETURNING parent_id, child_id`,
      [relInsert.map((x) => x[0]), relInsert.map((x) => x[1])],
    );
    for (const x of r) addedPairs.push([x.parent_id, x.child_id]);
  }
  const removed = relDel.length
    ? await unnestChunks<{ parent_id: string; child_id: string }>(
        client,
        `DELETE FROM relations r USING unnest($1::uuid[], $2::uuid[]) AS v(p, c) WHERE r.parent_id = v.p AND r.child_id = v.c RETURNING r.parent_id, r.child_id`,
        [relDel.map((x) => x.parent_id), relDel.map((x) => x.child_id)],
      )
    : [];
  cc.relCount.created += addedPairs.length;
  cc.relCount.removed += removed.length;
  for (const [p, c] of addedPairs) touched.add(p).add(c);
  for (const x of removed) touched.add(x.parent_id).add(x.child_id);
  // Each side the report counts « modifié » (an account of the run, not new) names the other.
  const reported = (id: string) => (recById.has(id) ? !isNew(id) : inRun.has(id) ? !inRun.get(id)!.fresh : runSet.has(id));
  const linkNote = (p: string, c: string, op: '+' | '-') => {
    if (reported(p)) cc.changes.link(p, 'children', op, c);
    if (reported(c)) cc.changes.link(c, 'parents', op, p);
  };
  for (const [p, c] of addedPairs) linkNote(p, c, '+');
  for (const x of removed) linkNote(x.parent_id, x.child_id, '-');

  // Accounts this run changed without recording their digest (links to people outside the run, runs naming
  // children by name) are compared in full next time.
  // When hashing, touched accounts are this chunk's or the other side of a link the run wants (`inRun` when in the run).
  const stale = cc.hashing ? [...touched].filter((id) => !recById.has(id) && !inRun.has(id)) : [...new Set([...chunkIds, ...touched])];
  if (stale.length) writes.hold(() => unnestChunks(client, `UPDATE users SET import_hash = NULL WHERE id = ANY($1) AND import_hash IS NOT NULL`, [stale]));

  // ---- outcomes, counted at the end of the run (touched may reach an account of another chunk) ----
  // What held writes send is computed now: they keep nothing else of the chunk while it waits (the next chunk's plan).
  const flag = (column: 'changed' | 'restored', exts: Set<string>) => {
    const ns = [...exts].map((e) => rowOf.get(e)!.n);
    if (ns.length) writes.hold(() => client.query(`UPDATE import_stage SET ${column} = true WHERE n = ANY($1::bigint[])`, [ns]));
  };
  flag('changed', changed);
  flag('restored', restored);
  const touchedOld = [...touched].filter((id) => !(recById.has(id) && isNew(id)) && !(inRun.get(id)?.fresh));
  if (touchedOld.length) writes.hold(() => unnestChunks(client, `UPDATE import_stage SET touched = true WHERE user_id = ANY($1) AND state <> 'fresh'`, [touchedOld]));

  writes.hold(localAdminsWrite(client, records, (ext) => userIds.get(ext), cc, true, formerHeadStructures));
  return { unresolved, byName: named };
}

/**
 * Local administrators the feed names: a CSV `ADML` column or ONDE's « Directeur » (UserRecord.localAdmin), or the
 * head of school in AAF/STS-web (function DIR for the structure's UAI, users.functions), marked as the feed's
 * (local_admins.from_feed, migration 0025). With `revoke` (the records compared in full: read back because they
 * changed), a feed's administration that a record no longer gives, in the run's structures, is taken back: the ADML
 * « oui » removed from a teacher's row, a head of school no longer DIR. So is one in a structure `formerHeads` holds
 * for the account (`${userId}\t${structureId}`: the structures an AAF head of school's DIR functions named before the
 * run, applyChunk's formerHeadStructures), though the run does not describe it: a DIR function may name a structure
 * outside the delivery, by jointure or UAI (a school made by hand, a SIECLE one), which no later run describes. One
 * appointed by hand always stays, and unchanged records give theirs again. The run's structures are already within
 * its scope (`formerHeads` are AAF's: scope 'all' only);
 * pupils and parents never are. The rows are picked now; the returned function sends them.
 */
function localAdminsWrite(
  client: Client,
  records: UserRecord[],
  userId: (ext: string) => string | undefined,
  cc: Pick<ChunkContext, 'sid' | 'structureKeys' | 'runStructSet'>,
  revoke: boolean,
  formerHeads: ReadonlySet<string> = new Set(),
): () => Promise<unknown> {
  const admins: string[][] = [[], []];
  const compared: string[] = [];
  for (const r of records) {
    const id = userId(r.externalId);
    if (!id || r.profile === 'Student' || r.profile === 'Relative') continue;
    // Only a record that speaks of it takes a feed's administration back: a CSV without an ADML column says nothing.
    if (r.localAdmin !== undefined || r.source === 'aaf' || r.source === 'sts') compared.push(id);
    for (const key of r.structures) {
      if (!r.localAdmin && !isHeadOfSchool(r.functions ?? [], cc.structureKeys.get(cc.sid(key)) ?? [])) continue;
      admins[0].push(id);
      admins[1].push(cc.sid(key));
    }
  }
  return async () => {
    if (revoke && compared.length) {
      await client.query(
        `DELETE FROM local_admins la WHERE la.from_feed AND la.user_id = ANY($1::uuid[])
           AND (la.structure_id = ANY($2::uuid[]) OR EXISTS (
             SELECT 1 FROM unnest($5::uuid[], $6::uuid[]) AS h(u, s) WHERE h.u = la.user_id AND h.s = la.structure_id))
           AND NOT EXISTS (SELECT 1 FROM unnest($3::uuid[], $4::uuid[]) AS g(u, s) WHERE g.u = la.user_id AND g.s = la.structure_id)`,
        [compared, [...cc.runStructSet], ...admins, ...split2(formerHeads)],
      );
    }
    if (admins[0].length) {
      await unnestChunks(client, `INSERT INTO local_admins (user_id, structure_id, from_feed) SELECT *, true FROM unnest($1::uuid[], $2::uuid[]) ON CONFLICT DO NOTHING`, admins);
      // One appointed by hand that the feed now gives too is no longer the appointer's alone to take back
      // (local_admins.granted_by, migration 0033): a deputy who named the future head of school first would otherwise
      // take her administration back, then hold her account. A separate UPDATE: the rows may repeat a pair.
      await unnestChunks(
        client,
        `UPDATE local_admins la SET granted_by = NULL FROM unnest($1::uuid[], $2::uuid[]) AS g(u, s)
          WHERE la.user_id = g.u AND la.structure_id = g.s AND la.granted_by IS NOT NULL`,
        admins,
      );
    }
  };
}

/** `a\tb` keys → two columns. */
function split2(keys: Iterable<string>): string[][] {
  const a: string[] = [];
  const b: string[] = [];
  for (const k of keys) {
    const t = k.indexOf('\t');
    a.push(k.slice(0, t));
    b.push(k.slice(t + 1));
  }
  return [a, b];
}

/**
 * Whether the account `e`, found under a former key of the record `r` (formerIds), is that person's to adopt. A CSV's
 * former keys are built from the record's own names (csv.ts csvNameKey): they name this person. An STS-web former key
 * (`sts:<UAI>:<ID>`, made before the INDIVIDU's TYPE counted: sts.ts stsKey) names whoever had that ID under any TYPE,
 * perhaps an epp person who has left: adopted only when it is the same person (checks.ts personName: kind of person
 * and folded names), never handed to another with their activation and their classes.
 */
function mayAdopt(r: UserRecord, e: ExistingUser): boolean {
  return r.source !== 'sts' || personName(r.profile, r.firstName, r.lastName) === personName(e.profile, e.first_name, e.last_name);
}

/**
 * STS-web records of a TYPE other than epp (`open`, with formerIds) whose former key `sts:<UAI>:<ID>` (sts.ts stsKey)
 * is, in this run, also the key of the epp record of that ID, which has matched the account under it ('known'). When
 * that account bears this record's person (mayAdopt) and not the epp one's, it was this person's, made before the TYPE
 * counted: the epp person would take it over, renamed, activated by someone else, with its classes. The epp record is
 * made a new account instead (a fresh id) and this record's is that account: returned, to be adopted (re-keyed).
 */
async function reclaimFormerAccounts(client: Client, open: UserRecord[]): Promise<{ ext: string; account: ExistingUser }[]> {
  const byFormer = new Map(open.filter((r) => r.source === 'sts').flatMap((r) => (r.formerIds ?? []).map((f) => [f, r] as const)));
  if (!byFormer.size) return [];
  const rows = (
    await client.query<ExistingUser & { staged: StagedRow }>(
      `SELECT ${EXISTING_COLUMNS}, json_build_object('n', s.n, 'ext', s.ext, 'source', s.source, 'profile', s.profile, 'file', s.file, 'line', s.line, 'rec', s.rec) AS staged
       FROM import_stage s JOIN users u ON u.id = s.user_id WHERE s.state = 'known' AND s.source = 'sts' AND s.ext = ANY($1)`,
      [[...byFormer.keys()]],
    )
  ).rows;
  const out: { ext: string; account: ExistingUser; n: string }[] = [];
  for (const row of rows) {
    const r = byFormer.get(row.staged.ext)!;
    if (mayAdopt(r, row) && !mayAdopt(decodeStaged(row.staged), row)) out.push({ ext: r.externalId, account: row, n: String(row.staged.n) });
  }
  if (out.length) {
    await client.query(`UPDATE import_stage SET ${AS_FRESH} WHERE n = ANY($1::bigint[])`, [out.map((x) => x.n)]);
  }
  return out;
}

/**
 * STS-web records (`open`: none of them placed yet) whose former key (formerIds) lives on as an alias: its account was
 * merged into another (directory/duplicates.ts mergeUsers), which a record under that key reached through the alias.
 * Such a record is staged as 'aliased' to the kept account, as one under the alias itself would be, when that account
 * is the same person (mayAdopt); the alias takes the record's key, under which the next runs find it directly.
 * Returns the keys of the records so placed.
 */
async function followFormerAliases(client: Client, open: UserRecord[], allowed: (u: string, params: unknown[]) => string): Promise<string[]> {
  const sts = open.filter((r) => r.source === 'sts' && r.formerIds?.length);
  if (!sts.length) return [];
  const ap: unknown[] = [null];
  const rows = await unnestChunks<ExistingUser & { alias: string }>(
    client,
    `SELECT a.external_id AS alias, ${EXISTING_COLUMNS} FROM user_aliases a JOIN users u ON u.id = a.user_id WHERE a.external_id = ANY($1) AND ${allowed('u', ap)}`,
    [[...new Set(sts.flatMap((r) => r.formerIds!))]],
    ap.slice(1),
  );
  const byAlias = new Map(rows.map((x) => [x.alias, x]));
  const placed: { ext: string; alias: string; id: string; absent: boolean }[] = [];
  for (const r of sts) {
    const alias = r.formerIds!.find((f) => byAlias.has(f) && !placed.some((x) => x.alias === f) && mayAdopt(r, byAlias.get(f)!));
    if (alias) placed.push({ ext: r.externalId, alias, id: byAlias.get(alias)!.id, absent: !!byAlias.get(alias)!.pre_deleted_at });
  }
  if (!placed.length) return [];
  await client.query(
    `UPDATE import_stage s SET user_id = v.id, state = 'aliased', absent = v.absent
     FROM unnest($1::uuid[], $2::text[], $3::bool[]) AS v(id, ext, absent) WHERE s.ext = v.ext`,
    [placed.map((x) => x.id), placed.map((x) => x.ext), placed.map((x) => x.absent)],
  );
  await client.query(`UPDATE user_aliases a SET external_id = v.ext FROM unnest($1::text[], $2::text[]) AS v(alias, ext) WHERE a.external_id = v.alias`, [
    placed.map((x) => x.alias),
    placed.map((x) => x.ext),
  ]);
  return placed.map((x) => x.ext);
}

/**
 * Finds the accounts of staged records that have none under their key (CSV/BE1D; STS-web by former key only): by a
 * former key (formerIds, mayAdopt; STS-web also taken back from the epp record of its ID, reclaimFormerAccounts, or
 * through an alias, followFormerAliases), then — for name-keyed records of a complete CSV/BE1D run — by a likely
 * rename (renames.ts). Adopted accounts are re-keyed to the record's key and staged as 'rekeyed'; `keep` holds
 * activated near-twins that must not be pre-deleted.
 */
async function adoptAccounts(
  client: Client,
  batch: ImportBatch,
  structureIds: Map<string, string>,
  /** The run's scope condition (importScopeSql): only accounts it may touch are adopted. */
  allowed: (u: string, params: unknown[]) => string,
): Promise<{ renamed: RenameNote[]; keep: Set<string>; formerKeys: Map<string, string> }> {
  const keep = new Set<string>();
  /** user id → the key an adopted account had (the report shows the identifier a file now gives). */
  const formerKeys = new Map<string, string>();
  // Open records of the school files (one school's files: a small set).
  let open = (
    await client.query<StagedRow>(`SELECT n, ext, source, profile, file, line, rec FROM import_stage WHERE state = 'fresh' AND source IN ('csv', 'be1d', 'sts') ORDER BY n`)
  ).rows.map(decodeStaged).filter((r) => r.source !== 'sts' || r.formerIds?.length);
  // A run of school files looks for near-twins even when every record has its account (kept, below).
  if (!open.length && !batch.scopes.some((s) => s.source === 'csv' || s.source === 'be1d')) return { renamed: [], keep, formerKeys };
  // An account is claimed when a record of the run is it (by key or by alias).
  const unclaimed = `NOT EXISTS (SELECT 1 FROM import_stage cl WHERE cl.user_id = u.id OR cl.ext = u.external_id)`;
  const claimed = new Set<string>();
  const adopted: { id: string; ext: string; absent: boolean }[] = [];
  const adopt = (r: UserRecord, e: ExistingUser) => {
    claimed.add(e.id);
    adopted.push({ id: e.id, ext: r.externalId, absent: !!e.pre_deleted_at });
    formerKeys.set(e.id, e.external_id);
  };
  const former = [...new Set(open.flatMap((r) => r.formerIds ?? []))];
  if (former.length) {
    for (const x of await reclaimFormerAccounts(client, open)) {
      const r = open.find((o) => o.externalId === x.ext)!;
      adopt(r, x.account);
    }
    const fp: unknown[] = [null];
    const rows = await unnestChunks<ExistingUser>(client, `SELECT ${EXISTING_COLUMNS} FROM users u WHERE u.external_id = ANY($1) AND ${unclaimed} AND ${allowed('u', fp)}`, [former], fp.slice(1));
    const byExt = new Map(rows.map((x) => [x.external_id, x]));
    const reclaimed = new Set(adopted.map((x) => x.ext));
    for (const r of open) {
      if (reclaimed.has(r.externalId)) continue;
      const e = (r.formerIds ?? []).map((f) => byExt.get(f)).find((x) => x && !claimed.has(x.id) && mayAdopt(r, x));
      if (e) adopt(r, e);
    }
    const done = new Set(adopted.map((x) => x.ext));
    for (const ext of await followFormerAliases(client, open.filter((r) => !done.has(r.externalId)), allowed)) done.add(ext);
    open = open.filter((r) => !done.has(r.externalId));
  }

  // Likely renames: only name-keyed records, only among accounts this run would otherwise pre-delete.
  // STS-web records are keyed by the file's own ID: never matched to another account by their names.
  const named = open.filter((r) => r.source !== 'sts' && !isCsvIdKey(r.externalId));
  const scopes = batch.scopes.filter((s) => s.source === 'csv' || s.source === 'be1d');
  const renamed: RenameNote[] = [];
  if (scopes.length) {
    const sids = [...new Set(scopes.flatMap((s) => [...s.structures].map((k) => structureIds.get(k)!)))];
    const rp: unknown[] = [[...new Set(scopes.map((s) => s.source))], sids];
    const rows = (
      await client.query<ExistingUser & { login: string; structure_id: string; classes: string[] }>(
        `SELECT ${EXISTING_COLUMNS}, u.login, us.structure_id,
                coalesce(array_agg(c.name) FILTER (WHERE c.id IS NOT NULL), '{}') AS classes
         FROM users u JOIN user_structures us ON us.user_id = u.id
         LEFT JOIN user_classes uc ON uc.user_id = u.id
         LEFT JOIN classes c ON c.id = uc.class_id AND c.structure_id = us.structure_id
         WHERE u.source = ANY($1) AND us.structure_id = ANY($2) AND u.pre_deleted_at IS NULL
           AND NOT EXISTS (SELECT 1 FROM import_stage cl WHERE cl.ext = u.external_id)
           AND ${allowed('u', rp)}
         GROUP BY u.id, us.structure_id`,
        rp,
      )
    ).rows;
    const taken = rows.length
      ? new Set((await client.query<{ user_id: string }>(`SELECT user_id FROM import_stage WHERE user_id = ANY($1)`, [[...new Set(rows.map((x) => x.id))]])).rows.map((x) => x.user_id))
      : new Set<string>();
    const free = rows.filter((x) =>
      !claimed.has(x.id) && !taken.has(x.id) &&
      scopes.some((s) => s.source === x.source && s.profiles.has(x.profile) && [...s.structures].some((k) => structureIds.get(k) === x.structure_id)),
    );
    if (free.length) {
      // The people of the school the run names under their own key: where they were in class before the run and
      // whether they still are (a class whose pupils moved on proves nothing: classesKept), and who may be a twin.
      const mine = new Set(named.map((r) => r.externalId));
      const staged = (
        await client.query<StagedRow & { old_classes: { structure_id: string; name: string }[]; active: boolean; created_at: Date | null }>(
          `SELECT s.ext, s.source, s.profile, s.file, s.line, s.rec,
                  EXISTS (SELECT 1 FROM users a WHERE a.id = s.user_id AND a.activated_at IS NOT NULL) AS active,
                  (SELECT a.created_at FROM users a WHERE a.id = s.user_id) AS created_at,
                  coalesce((SELECT json_agg(json_build_object('structure_id', c.structure_id, 'name', c.name))
                            FROM user_classes uc JOIN classes c ON c.id = uc.class_id
                            WHERE uc.user_id = s.user_id AND c.structure_id = ANY($2)), '[]') AS old_classes
           FROM import_stage s WHERE s.source = ANY($1) AND s.structures && $3::text[]`,
          [rp[0], sids, [...structureIds].filter(([, id]) => sids.includes(id)).map(([k]) => k)],
        )
      ).rows;
      const moves: ClassMove[] = [];
      const present: RenamePresent[] = [];
      /** Present records whose account is not activated: an activated near-twin of theirs is kept (below). */
      const unused: RenameIncoming[] = [];
      /** When the account of such a record was created (an unused near-twin counts only if made after the other's activation). */
      const unusedSince = new Map<string, Date>();
      for (const row of staged) {
        const r = decodeStaged(row);
        const sIds = [...r.structures].map((k) => structureIds.get(k)!);
        if (!mine.has(r.externalId)) present.push({ key: r.externalId, profile: r.profile, structureIds: sIds, firstName: r.firstName, lastName: r.lastName, birthDate: r.birthDate });
        if (!mine.has(r.externalId) && !row.active && r.source !== 'sts') {
          unused.push({ key: r.externalId, profile: r.profile, structureIds: sIds, firstName: r.firstName, lastName: r.lastName, birthDate: r.birthDate, classes: r.classes.map((c) => c.name) });
          if (row.created_at) unusedSince.set(r.externalId, new Date(row.created_at));
        }
        const now = new Set(r.classes.map((c) => classKey(structureIds.get(c.structure)!, r.profile, c.name)));
        for (const c of row.old_classes) {
          moves.push({ structureId: c.structure_id, profile: r.profile, className: c.name, stays: !!r.keepClasses || now.has(classKey(c.structure_id, r.profile, c.name)) });
        }
      }
      const kept = classesKept(moves);
      // Their legal representatives, by external id: in the directory for the accounts, named by the run for the records.
      const parentsOf = new Map(
        (
          await client.query<{ child: string; parents: string[] }>(
            `SELECT r.child_id::text AS child, array_agg(p.external_id) AS parents FROM relations r JOIN users p ON p.id = r.parent_id
             WHERE r.child_id = ANY($1) AND p.external_id IS NOT NULL GROUP BY r.child_id
             UNION ALL
             SELECT child, array_agg(parent) FROM import_relations WHERE child = ANY($2) GROUP BY child`,
            [[...new Set(free.map((x) => x.id))], named.map((r) => r.externalId)],
          )
        ).rows.map((x) => [x.child, x.parents]),
      );
      const candidates: RenameCandidate[] = free.map((x) => ({
        id: x.id, profile: x.profile, structureId: x.structure_id, firstName: x.first_name, lastName: x.last_name,
        birthDate: x.birth_date, classes: x.classes, activated: !!x.activated_at,
        classStale: x.classes.length > 0 && !x.classes.some((c) => kept.has(classKey(x.structure_id, x.profile, c))),
        parents: parentsOf.get(x.id) ?? [],
      }));
      // Parents' rows name their children by name (CSV, BE1D): by structure and folded names.
      const namedBy = new Map<string, string[]>();
      for (const c of batch.childrenByName) {
        for (const ln of c.lastNames) {
          const k = `${c.structure}\t${foldName(ln)}\t${foldName(c.firstName)}`;
          (namedBy.get(k) ?? namedBy.set(k, []).get(k)!).push(c.parent);
        }
      }
      const incoming = named.map((r) => ({
        key: r.externalId, profile: r.profile, structureIds: [...r.structures].map((k) => structureIds.get(k)!),
        firstName: r.firstName, lastName: r.lastName, birthDate: r.birthDate, classes: r.classes.map((c) => c.name),
        parents: [
          ...(parentsOf.get(r.externalId) ?? []),
          ...[...r.structures].flatMap((k) => namedBy.get(`${k}\t${foldName(r.lastName)}\t${foldName(r.firstName)}`) ?? []),
        ],
      }));
      const byId = new Map(free.map((x) => [x.id, x]));
      const byKey = new Map(named.map((r) => [r.externalId, r]));
      for (const m of findRenames(incoming, candidates, present)) {
        const r = byKey.get(m.key)!;
        const e = byId.get(m.id)!;
        if (m.applied) adopt(r, e);
        else keep.add(e.id);
        // A teacher now staff under the same names is no rename: the report's changed records say the profile.
        if (m.applied && e.first_name === r.firstName && e.last_name === r.lastName) continue;
        renamed.push({
          file: r.file, line: r.line, login: e.login, applied: m.applied,
          from: `${e.first_name} ${e.last_name}`, to: `${r.firstName} ${r.lastName}`,
        });
      }
      // An activated account kept beside the new account of its near-twin (the run that created it said « compte
      // activé conservé, à vérifier dans Gérer les doublons ») stays kept while that twin's account is unused and the
      // school has not merged them: the same files imported again change nothing
      // (test/import-csv-parent-twin-kept.test.ts). Never adopted: only kept.
      // Only a twin account created after the kept one was activated: the run that creates a near-twin keeps an
      // ACTIVATED account only. Twins (Léa and Léo born the same day) or close-named parents whose accounts existed
      // before the departed one was activated are two people: the one who left is absent as anyone else
      // (test/import-csv-near-twin-departed.test.ts); kept, his password opened the school's ENT for good.
      const left = candidates.filter((c) => c.activated && !claimed.has(c.id) && !keep.has(c.id));
      if (unused.length && left.length) {
        for (const m of findRenames(unused, left, present)) {
          const since = unusedSince.get(m.key);
          const activatedAt = byId.get(m.id)?.activated_at;
          if (since && activatedAt && since.getTime() > new Date(activatedAt).getTime()) keep.add(m.id);
        }
      }
    }
  }
  if (adopted.length) {
    // Compared in full (no digest), counted as updated, and known by the record's key from now on.
    await client.query(
      `UPDATE import_stage s SET user_id = v.id, state = 'rekeyed', hash = NULL, absent = v.absent, changed = true
       FROM unnest($1::uuid[], $2::text[], $3::bool[]) AS v(id, ext, absent) WHERE s.ext = v.ext`,
      [adopted.map((x) => x.id), adopted.map((x) => x.ext), adopted.map((x) => x.absent)],
    );
    await client.query(`UPDATE users u SET external_id = v.e FROM unnest($1::uuid[], $2::text[]) AS v(id, e) WHERE u.id = v.id`, [
      adopted.map((x) => x.id),
      adopted.map((x) => x.ext),
    ]);
  }
  return { renamed, keep, formerKeys };
}

/**
 * The identifier change of an account taken over under a record's key, as the report shows it: the identifiers the
 * files give (checks.ts shownId: a CSV `Id`, an ELEVE_ID, an STS-web ID), none for a key built from names — nothing
 * to show when neither key is one (a rename, a teacher now staff: their names and profile say it).
 */
function keyChange(former: string, key: string): FieldChange[] {
  const shown = (k: string) => (shownId(k) === k ? null : shownId(k));
  const from = shown(former);
  const to = shown(key);
  return from === to ? [] : [{ field: 'external_id', from, to }];
}

/**
 * The structures most of whose accounts this run sent to the grace period (those whose `absent_since` is the run's
 * `now`), counted among the accounts each had present before the run (neither absent already nor pre-deleted), every
 * profile and source together: plan.ts isMass (10 or more, over half). What the per-scope check (massAbsencesOf) cannot
 * see: an AAF kind is one scope over a whole région, where one school's missing records are a small share.
 */
async function emptiedStructures(client: Client, now: Date): Promise<EmptiedStructure[]> {
  const r = await client.query<{ name: string; uai: string | null; absent: number; of: number }>(
    `WITH hit AS (SELECT DISTINCT us.structure_id FROM users u JOIN user_structures us ON us.user_id = u.id WHERE u.absent_since = $1)
     SELECT s.name, s.uai, count(*) FILTER (WHERE u.absent_since = $1)::int AS absent, count(*)::int AS of
     FROM hit JOIN structures s ON s.id = hit.structure_id
       JOIN user_structures us ON us.structure_id = s.id JOIN users u ON u.id = us.user_id
     WHERE u.pre_deleted_at IS NULL AND (u.absent_since IS NULL OR u.absent_since = $1)
     GROUP BY s.id, s.name, s.uai
     ORDER BY absent DESC, s.name`,
    [now],
  );
  return r.rows.filter((x) => isMass(x.absent, x.of));
}

/**
 * The local administrators the run appointed (an ADML column, a director's function in the feed) or removed (a feed
 * that no longer gives the function), against import_admins_before; by structure, then login. Rights to other
 * people's accounts must never change without the report saying so.
 */
async function localAdminChanges(client: Client): Promise<AdminChange[]> {
  const r = await client.query<AdminChange>(
    `SELECT x.change, u.login, u.first_name || ' ' || u.last_name AS name, s.name AS structure
     FROM (SELECT 'appointed' AS change, * FROM (SELECT user_id, structure_id FROM local_admins EXCEPT SELECT user_id, structure_id FROM import_admins_before) a
           UNION ALL
           SELECT 'revoked', * FROM (SELECT user_id, structure_id FROM import_admins_before EXCEPT SELECT user_id, structure_id FROM local_admins) b) x
     JOIN users u ON u.id = x.user_id JOIN structures s ON s.id = x.structure_id
     ORDER BY x.change, s.name, u.login`,
  );
  return r.rows;
}
