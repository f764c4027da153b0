// Writes a parsed batch to PostgreSQL inside the caller's transaction, in set-based statements per chunk of
// accounts. What to write is decided by the pure functions of plan.ts; this module reads and writes.
import { randomUUID } from 'node:crypto';
import { isHeadOfSchool } from '../directory/local-admins.js';
import type pg from 'pg';
import { issueActivationCode } from '../accounts/issue.js';
import type { AppContext } from '../context.js';
import type { Profile } from '../directory/vocabulary.js';
import { foldName } from '../directory/fold.js';
import { LoginAllocator } from '../directory/login.js';
import { copyRows } from '../db/copy.js';
import type { Scope } from '../directory/scope.js';
import { findRenames, type RenameCandidate } from './renames.js';
import { ImportForbiddenError, importPreDeleteSql, importScopeSql, importStructureAllowed } from './scope.js';
import { countOutcomes, counts, pgTextArray, planLinks, planMemberships, planRelations, planUserUpdate, recordHash, type Link, type StoredRelation, type StoredUser } from './plan.js';
import { rejection, type FileCounts, type ImportBatch, type ProfileCounts, type Rejection, type RenameNote, type StructureReport, type UserRecord } from './types.js';

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
  structures: StructureReport[];
  relations: { created: number; removed: number; unresolved: number };
  rejected: Rejection[];
  renamed: RenameNote[];
  /** external id → user id of every account of the batch. */
  userIds: Map<string, string>;
  /** structure key → structure id */
  structureIds: Map<string, string>;
}

const CHUNK = 5000;

/** Runs `sql` once per chunk of rows, the rows passed as one array parameter per column (unnest). */
async function unnestChunks<R extends pg.QueryResultRow = pg.QueryResultRow>(
  client: Client,
  sql: string,
  columns: unknown[][],
  extra: unknown[] = [],
): Promise<R[]> {
  const n = columns[0]?.length ?? 0;
  const out: R[] = [];
  for (let i = 0; i < n; i += CHUNK) {
    const res = await client.query<R>(sql, [...columns.map((c) => c.slice(i, i + CHUNK)), ...extra]);
    out.push(...res.rows);
  }
  return out;
}

/** user_aliases comes with the duplicates feature (a later migration): tolerate its absence. */
async function hasAliases(client: Client): Promise<boolean> {
  const r = await client.query<{ t: string | null }>(`SELECT to_regclass('user_aliases')::text AS t`);
  return r.rows[0].t !== null;
}

type ExistingUser = StoredUser;

/** An account found under a record's key: its digest (users.import_hash), whether it is absent, and its full row once read. */
interface KnownUser {
  id: string;
  hash: string | null;
  absent: boolean;
  full?: ExistingUser;
}

/** The columns of ExistingUser, from `users u`. */
const EXISTING_COLUMNS = `u.id, u.external_id, u.profile, u.title, u.first_name, u.last_name, u.birth_date, u.email, u.phone, u.ine,
  u.functions, u.mobile, u.address, u.origin, u.source, u.activated_at, coalesce(u.pre_deleted_at, u.absent_since) AS pre_deleted_at`;

/**
 * Applies `batch` within `opts.scope` (see src/import/scope.ts): outside 'all', every structure must be an
 * existing one of the scope (else ImportForbiddenError, nothing written) and is never renamed; records that
 * match an account the scope may not change are rejected, and links, memberships and pre-deletion never reach
 * such accounts (pre-deletion, account-wide, only reaches accounts wholly inside the scope). No scope ever
 * matches or pre-deletes a super admin.
 */
export async function applyBatch(
  client: Client,
  ctx: AppContext,
  batch: ImportBatch,
  opts: { now?: Date; protect?: (externalId: string) => boolean; scope: Scope },
): Promise<ApplyResult> {
  const scope = opts.scope;
  /** SQL condition on users `u`: an account this run may touch; its values go after `params`. */
  const allowed = (u: string, params: unknown[]) => importScopeSql(scope, u, params);
  const now = opts.now ?? new Date();
  const rejected: Rejection[] = [];
  const byProfile: Partial<Record<Profile, ProfileCounts>> = {};
  const byFile: Record<string, FileCounts> = {};
  // The import keeps users.import_hash right itself: migration 0016's triggers leave its writes alone (until the end of applyBatch).
  await client.query(`SELECT set_config('trousseau.import', 'on', true)`);

  // ---- structures ----
  const structureIds = new Map<string, string>();
  const structures: StructureReport[] = [];
  const referenced = new Set<string>(batch.structures.keys());
  for (const u of batch.users.values()) for (const s of u.structures) referenced.add(s);
  for (const c of batch.childrenByName) referenced.add(c.structure);
  for (const key of referenced) {
    const rec = batch.structures.get(key);
    if (rec?.id) {
      if (!importStructureAllowed(scope, rec.id)) throw new ImportForbiddenError('', 'forbiddenStructure', { name: rec.name, uai: '' });
      structureIds.set(key, rec.id);
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
      if (rec && scope.kind === 'all' && (row.external_id !== ext || row.uai !== uai || row.name !== rec.name)) {
        await client.query(`UPDATE structures SET external_id = $2, uai = $3, name = $4, origin = $5 WHERE id = $1`, [row.id, ext, uai, rec.name, rec.origin]);
      }
      if (rec) structures.push({ name: rec.name, uai, created: false });
    } else {
      const name = rec?.name ?? `Structure ${key}`;
      const ins = await client.query<{ id: string }>(
        `INSERT INTO structures (external_id, uai, name, origin) VALUES ($1, $2, $3, $4) RETURNING id`,
        [ext, uai, name, rec?.origin ?? 'feed'],
      );
      structureIds.set(key, ins.rows[0].id);
      structures.push({ name, uai, created: true });
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
  for (const u of batch.users.values()) {
    for (const c of u.classes) {
      const k = `${sid(c.structure)}\t${c.name}`;
      if (!classLevel.get(k)) classLevel.set(k, c.level ?? null);
    }
    for (const g of u.groups) groupKeys.add(`${sid(g.structure)}\t${g.name}`);
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
  if (classLevel.size) {
    const [s, n] = split(classLevel.keys());
    const lv = [...classLevel].map(([k, level]) => (level ? levelIds.get(`${k.split('\t')[0]}\t${level}`) ?? null : null));
    await unnestChunks(
      client,
      `INSERT INTO classes (structure_id, name, level_id) SELECT * FROM unnest($1::uuid[], $2::text[], $3::uuid[]) ON CONFLICT DO NOTHING`,
      [s, n, lv],
    );
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

  // ---- users ----
  // Every record's account, if any, with its import digest (users.import_hash): a record whose digest is unchanged
  // is skipped below (no field comparison, no membership or relation query). Full rows are read only for the others.
  let records = [...batch.users.values()];
  const ep: unknown[] = [null]; // $1: the external ids
  const knownRows = await unnestChunks<KnownUser & { external_id: string; allowed: boolean }>(
    client,
    `SELECT u.id, u.external_id, u.import_hash AS hash, (u.pre_deleted_at IS NOT NULL OR u.absent_since IS NOT NULL) AS absent,
            ${allowed('u', ep)} AS allowed
     FROM users u WHERE u.external_id = ANY($1)`,
    [records.map((r) => r.externalId)],
    ep.slice(1),
  );
  const existing = new Map<string, KnownUser>(knownRows.map((r) => [r.external_id, { id: r.id, hash: r.hash, absent: r.absent }]));
  const userIds = new Map<string, string>();
  for (const r of knownRows) userIds.set(r.external_id, r.id);

  // Accounts merged away by an admin ("Gérer les doublons") leave their external id as an alias of the kept
  // account: the feed keeps updating that one's memberships and does not recreate the dropped one.
  const aliased = new Map<string, { id: string; pre_deleted_at: Date | null }>();
  const unknown = records.filter((r) => !existing.has(r.externalId)).map((r) => r.externalId);
  const outside = new Map<string, string>(); // external id → user id of an account this run may not touch
  for (const r of knownRows) if (!r.allowed) outside.set(r.external_id, r.id);
  if (unknown.length && (await hasAliases(client))) {
    const ap: unknown[] = [null];
    const rows = await unnestChunks<{ alias: string; id: string; pre_deleted_at: Date | null; allowed: boolean }>(
      client,
      `SELECT a.external_id AS alias, u.id, coalesce(u.pre_deleted_at, u.absent_since) AS pre_deleted_at, ${allowed('u', ap)} AS allowed
       FROM user_aliases a JOIN users u ON u.id = a.user_id WHERE a.external_id = ANY($1)`,
      [unknown],
      ap.slice(1),
    );
    for (const x of rows) {
      if (!x.allowed) outside.set(x.alias, x.id);
      aliased.set(x.alias, x);
      userIds.set(x.alias, x.id);
    }
  }
  // A record naming an account outside the run's reach (another school's, an administrator beyond the scope,
  // a super admin) is rejected: not updated, not linked, not pre-deleted, and not created again either.
  if (outside.size) {
    records = records.filter((r) => {
      if (!outside.has(r.externalId)) return true;
      rejected.push(rejection(r.file, r.line, 'identifiant', 'applyOutOfScope'));
      existing.delete(r.externalId);
      aliased.delete(r.externalId);
      userIds.delete(r.externalId);
      return false;
    });
  }
  // Records without an account of their key may still be someone already here: under the key a file used before
  // (formerIds), or renamed in the school's file. Such accounts are re-keyed and updated, not created anew.
  const reKeyed: { id: string; externalId: string }[] = [];
  const { renamed, keep } = await adoptAccounts(client, batch, records, existing, aliased, structureIds, reKeyed, allowed);
  for (const x of reKeyed) userIds.set(x.externalId, x.id);
  // New accounts get their id here, so that everything they are linked to is known before they are written.
  const fresh = records.filter((r) => !existing.has(r.externalId) && !aliased.has(r.externalId));
  const created = new Set<string>();
  for (const r of fresh) {
    userIds.set(r.externalId, randomUUID());
    created.add(r.externalId);
  }

  // ---- relations by external id (AAF: the student names its relatives) ----
  let unresolved = 0;
  const wantedRelations = new Set<string>(); // `${parentId}\t${childId}`
  const missingExt = new Set<string>();
  for (const rel of batch.relations) {
    if (!userIds.has(rel.parent)) missingExt.add(rel.parent);
    if (!userIds.has(rel.child)) missingExt.add(rel.child);
  }
  if (missingExt.size) {
    // Only accounts the run may touch can be linked (a relation reaches the other side's data).
    const mp: unknown[] = [[...missingExt]];
    const ok = allowed('u', mp);
    const r = await client.query<{ id: string; external_id: string }>(
      (await hasAliases(client))
        ? `SELECT u.id, u.external_id FROM users u WHERE u.external_id = ANY($1) AND ${ok}
           UNION ALL SELECT a.user_id, a.external_id FROM user_aliases a JOIN users u ON u.id = a.user_id WHERE a.external_id = ANY($1) AND ${ok}`
        : `SELECT u.id, u.external_id FROM users u WHERE u.external_id = ANY($1) AND ${ok}`,
      mp,
    );
    for (const x of r.rows) userIds.set(x.external_id, x.id);
  }
  for (const rel of batch.relations) {
    const p = userIds.get(rel.parent);
    const c = userIds.get(rel.child);
    if (p && c && p !== c) wantedRelations.add(`${p}\t${c}`);
    else {
      unresolved++;
      if (rel.file && !c) {
        const id = rel.child.slice(rel.child.indexOf(':id:') + 4);
        rejected.push(rejection(rel.file, rel.line ?? 0, rel.field ?? '', 'applyNoPupilId', { id }));
      }
    }
  }

  // ---- memberships the run wants ----
  const recById = new Map(records.map((r) => [userIds.get(r.externalId)!, r]));
  const outsideChildren = new Set<string>();
  for (const k of wantedRelations) {
    const [p, c] = k.split('\t');
    if (recById.get(p)?.profile === 'Relative' && !recById.has(c)) outsideChildren.add(c);
  }
  const childStructs = new Map<string, string[]>();
  if (outsideChildren.size) {
    // A relative follows the children's structures, only those the run may write into.
    const r = await unnestChunks<{ user_id: string; structure_id: string }>(
      client,
      `SELECT user_id, structure_id FROM user_structures WHERE user_id = ANY($1) AND ($2::uuid[] IS NULL OR structure_id = ANY($2::uuid[]))`,
      [[...outsideChildren]],
      [scope.kind === 'all' ? null : scope.kind === 'structures' ? scope.structureIds : []],
    );
    for (const x of r) (childStructs.get(x.user_id) ?? childStructs.set(x.user_id, []).get(x.user_id)!).push(x.structure_id);
  }
  const want = planMemberships(records, (ext) => userIds.get(ext)!, {
    structure: sid,
    classId: (s, name) => classIds.get(`${s}\t${name}`)!,
    groupId: (s, name) => groupIds.get(`${s}\t${name}`)!,
  }, wantedRelations, childStructs);

  // ---- which accounts have nothing to do: unchanged digest, untouched since, not absent ----
  // A run naming children by name (CSV, BE1D parents) resolves links against the directory as it is written: it
  // compares every account in full and clears the digests of the accounts it touches.
  const hashing = !batch.childrenByName.length;
  const partners = new Map<string, string[]>();
  if (hashing) {
    for (const k of wantedRelations) {
      const [p, c] = k.split('\t');
      (partners.get(p) ?? partners.set(p, []).get(p)!).push(`c:${c}`);
      (partners.get(c) ?? partners.set(c, []).get(c)!).push(`p:${p}`);
    }
  }
  const hashes = new Map<string, string>(); // external id → digest to store
  const dirty = new Set<string>(); // user ids the run compares in full (new ones included)
  for (const r of records) {
    const id = userIds.get(r.externalId)!;
    const h = hashing ? recordHash(r, {
      structures: want.structures.get(id) ?? [], classes: want.classes.get(id) ?? [], groups: want.groups.get(id) ?? [], relations: partners.get(id) ?? [],
    }) : null;
    if (h) hashes.set(r.externalId, h);
    const e = existing.get(r.externalId);
    if (!h || !e || e.full || e.absent || e.hash !== h) dirty.add(id);
  }
  partners.clear();

  // ---- new accounts ----
  if (fresh.length) {
    const taken = new Set((await client.query<{ login: string }>('SELECT login FROM users')).rows.map((r) => r.login));
    const logins = new LoginAllocator(taken);
    // New accounts cannot conflict (fresh ids, logins checked, keys unknown): one COPY.
    const rows = function* () {
      for (const r of fresh) {
        let login: string;
        if (r.login && !taken.has(r.login)) {
          taken.add(r.login);
          login = r.login;
        } else login = logins.allocate(r.firstName, r.lastName);
        const h = r.history;
        // An account generated as already active has used its code: it gets none.
        const code = h?.activatedAt ? null : issueActivationCode(ctx.secrets, ctx.config.activationCodeDays, now);
        yield [
          userIds.get(r.externalId), r.externalId, r.origin, r.source, r.profile, r.title, r.firstName, r.lastName, r.birthDate, r.email, r.phone, login,
          code?.enc ?? null, code?.mac ?? null, code?.expiresAt ?? null,
          h?.createdAt ?? now, h?.createdAt ?? now, h?.activatedAt ?? null, h?.activatedAt ?? null, h?.passwordHash ?? null, h?.preDeletedAt ?? null,
          r.ine ?? null, pgTextArray(r.functions ?? []), r.mobile ?? null, r.address ?? null, hashes.get(r.externalId) ?? null,
        ];
      }
    };
    await copyRows(client, 'users', [
      'id', 'external_id', 'origin', 'source', 'profile', 'title', 'first_name', 'last_name', 'birth_date', 'email', 'phone', 'login',
      'activation_code_enc', 'activation_code_mac', 'activation_code_expires_at',
      'created_at', 'updated_at', 'activated_at', 'terms_accepted_at', 'password_hash', 'pre_deleted_at',
      'ine', 'functions', 'mobile', 'address', 'import_hash',
    ], rows());
  }

  // ---- field updates (pure plan: planUserUpdate), accounts compared in full only ----
  const changed = new Set<string>();
  const restored = new Set<string>();
  const aliasRestored: string[] = [];
  for (const r of records) {
    const a = aliased.get(r.externalId);
    if (a?.pre_deleted_at) {
      restored.add(r.externalId);
      aliasRestored.push(a.id);
    }
  }
  const compare = records.filter((r) => existing.has(r.externalId) && dirty.has(existing.get(r.externalId)!.id));
  for (let i = 0; i < compare.length; i += CHUNK) {
    const part = compare.slice(i, i + CHUNK);
    const missing = part.filter((r) => !existing.get(r.externalId)!.full).map((r) => existing.get(r.externalId)!.id);
    if (missing.length) {
      const rows = await client.query<ExistingUser>(`SELECT ${EXISTING_COLUMNS} FROM users u WHERE u.id = ANY($1)`, [missing]);
      const byId = new Map(rows.rows.map((x) => [x.id, x]));
      for (const r of part) {
        const e = existing.get(r.externalId)!;
        e.full ??= byId.get(e.id);
      }
    }
    const upd: unknown[][] = Array.from({ length: 16 }, () => []);
    for (const r of part) {
      const e = existing.get(r.externalId)!.full!;
      const { next, diff } = planUserUpdate(r, e);
      if (e.pre_deleted_at) restored.add(r.externalId);
      if (diff) changed.add(r.externalId);
      const hash = hashes.get(r.externalId) ?? null;
      // Nothing to write unless a field changed, the account comes back, or its digest is to be recorded.
      if (!diff && !e.pre_deleted_at && (!hash || hash === existing.get(r.externalId)!.hash)) continue;
      [e.id, next.profile, next.title, next.first_name, next.last_name, next.birth_date, next.email, next.phone, next.origin, next.source, diff,
        next.ine, next.functions, next.mobile, next.address, hash].forEach((v, k) => {
        upd[k].push(v);
      });
    }
    if (upd[0].length) {
      await client.query(
        `UPDATE users u SET profile = v.profile, title = v.title, first_name = v.first_name, last_name = v.last_name,
                birth_date = v.birth_date, email = v.email, phone = v.phone, origin = v.origin, source = v.source,
                ine = v.ine, functions = v.functions::text[], mobile = v.mobile, address = v.address, import_hash = v.hash,
                pre_deleted_at = NULL, absent_since = NULL, updated_at = CASE WHEN v.diff THEN $17::timestamptz ELSE u.updated_at END
         FROM unnest($1::uuid[], $2::text[], $3::text[], $4::text[], $5::text[], $6::date[], $7::text[], $8::text[], $9::text[], $10::text[], $11::bool[],
                     $12::text[], $13::text[], $14::text[], $15::text[], $16::text[])
              AS v(id, profile, title, first_name, last_name, birth_date, email, phone, origin, source, diff, ine, functions, mobile, address, hash)
         WHERE u.id = v.id`,
        [...upd, now],
      );
    }
  }
  compare.length = 0;

  for (const x of reKeyed) changed.add(x.externalId);
  if (aliasRestored.length) await client.query(`UPDATE users SET pre_deleted_at = NULL, absent_since = NULL, import_hash = NULL WHERE id = ANY($1)`, [aliasRestored]);
  if (reKeyed.length) {
    await client.query(`UPDATE users u SET external_id = v.e FROM unnest($1::uuid[], $2::text[]) AS v(id, e) WHERE u.id = v.id`, [
      reKeyed.map((x) => x.id),
      reKeyed.map((x) => x.externalId),
    ]);
  }

  // ---- memberships sync (pure plan: planLinks), per chunk of accounts compared in full ----
  const batchIds = [...recById.keys()];
  const touched = new Set<string>(); // user ids whose memberships or relations changed
  const runStructSet = new Set(runStructures);
  const syncIds = batchIds.filter((id) => dirty.has(id));
  const kinds = [
    { table: 'user_structures', col: 'structure_id', want: want.structures,
      have: `SELECT user_id, structure_id AS other, structure_id FROM user_structures WHERE user_id = ANY($1)` },
    { table: 'user_classes', col: 'class_id', want: want.classes,
      have: `SELECT uc.user_id, uc.class_id AS other, c.structure_id FROM user_classes uc JOIN classes c ON c.id = uc.class_id WHERE uc.user_id = ANY($1)` },
    { table: 'user_groups', col: 'group_id', want: want.groups,
      have: `SELECT ug.user_id, ug.group_id AS other, g.structure_id FROM user_groups ug JOIN groups g ON g.id = ug.group_id WHERE ug.user_id = ANY($1)` },
  ];
  const isNew = (id: string) => created.has(recById.get(id)!.externalId);
  const newIds = syncIds.filter(isNew);
  const oldIds = syncIds.filter((id) => !isNew(id));
  for (const k of kinds) {
    // A new account's links are all new: one COPY.
    const links = function* () {
      for (const id of newIds) for (const o of k.want.get(id) ?? []) yield [id, o];
    };
    if (newIds.length) await copyRows(client, k.table, ['user_id', k.col], links());
    for (let i = 0; i < oldIds.length; i += CHUNK) {
      const ids = oldIds.slice(i, i + CHUNK);
      const have = (await client.query<Link>(k.have, [ids])).rows;
      const wanted = new Set<string>();
      for (const id of ids) for (const o of k.want.get(id) ?? []) wanted.add(`${id}\t${o}`);
      const { add, del } = planLinks(have, wanted, runStructSet);
      if (add.length) await unnestChunks(client, `INSERT INTO ${k.table} (user_id, ${k.col}) SELECT * FROM unnest($1::uuid[], $2::uuid[]) ON CONFLICT DO NOTHING`, split(add));
      if (del.length) {
        await unnestChunks(
          client,
          `DELETE FROM ${k.table} t USING unnest($1::uuid[], $2::uuid[]) AS v(u, o) WHERE t.user_id = v.u AND t.${k.col} = v.o`,
          [del.map((d) => d.user_id), del.map((d) => d.other)],
        );
      }
      for (const a of add) touched.add(a.slice(0, a.indexOf('\t')));
      for (const d of del) touched.add(d.user_id);
    }
  }

  // ---- children named on parents' rows (CSV, BE1D): folded names + class, within the structure ----
  const runSet = new Set(batchIds);
  if (batch.childrenByName.length) {
    const sids = [...new Set(batch.childrenByName.map((c) => sid(c.structure)))];
    const r = await client.query<{ id: string; structure_id: string; last_name: string; first_name: string; classes: string[] }>(
      `SELECT u.id, us.structure_id, u.last_name, u.first_name,
              coalesce(array_agg(c.name) FILTER (WHERE c.structure_id = us.structure_id), '{}') AS classes
       FROM users u JOIN user_structures us ON us.user_id = u.id
       LEFT JOIN user_classes uc ON uc.user_id = u.id LEFT JOIN classes c ON c.id = uc.class_id
       WHERE u.profile = 'Student' AND us.structure_id = ANY($1)
       GROUP BY u.id, us.structure_id`,
      [sids],
    );
    const byName = new Map<string, { id: string; classes: Set<string> }[]>();
    for (const x of r.rows) {
      const k = `${x.structure_id}\t${foldName(x.last_name)}\t${foldName(x.first_name)}`;
      (byName.get(k) ?? byName.set(k, []).get(k)!).push({ id: x.id, classes: new Set(x.classes.map(foldName)) });
    }
    for (const c of batch.childrenByName) {
      const parent = userIds.get(c.parent)!;
      const s = sid(c.structure);
      const seen = new Map<string, { id: string; classes: Set<string> }>();
      for (const ln of c.lastNames) for (const x of byName.get(`${s}\t${foldName(ln)}\t${foldName(c.firstName)}`) ?? []) seen.set(x.id, x);
      let candidates = [...seen.values()];
      const inClass = c.className ? candidates.filter((x) => x.classes.has(foldName(c.className))) : candidates;
      if (inClass.length) candidates = inClass;
      const who = `${c.lastNames[0]} ${c.firstName}${c.className ? ` (${c.className})` : ''}`;
      if (candidates.length === 1) {
        wantedRelations.add(`${parent}\t${candidates[0].id}`);
        runSet.add(candidates[0].id);
        dirty.add(candidates[0].id);
      } else {
        unresolved++;
        rejected.push(rejection(c.file, c.line, "Prénom de l'élève", candidates.length ? 'applyPupilAmbiguous' : 'applyPupilNotFound', { who }));
      }
    }
  }

  // ---- relations sync (pure plan: planRelations): links of the accounts compared in full ----
  const relIds = batchIds.filter((id) => dirty.has(id) && !created.has(recById.get(id)!.externalId));
  const relHave = relIds.length
    ? await unnestChunks<StoredRelation>(
        client,
        `SELECT r.parent_id, r.child_id, p.source AS parent_source FROM relations r JOIN users p ON p.id = r.parent_id
         WHERE r.parent_id = ANY($1) OR r.child_id = ANY($1)`,
        [relIds],
      )
    : [];
  // The same link may come back from both of its sides' chunks.
  const relSeen = new Set<string>();
  const relHaveUnique = relHave.filter((x) => {
    const k = `${x.parent_id}\t${x.child_id}`;
    return !relSeen.has(k) && !!relSeen.add(k);
  });
  // Links between two skipped accounts are as the last import left them: only those of a compared account are planned.
  const relWanted = new Set([...wantedRelations].filter((k) => {
    const t = k.indexOf('\t');
    return dirty.has(k.slice(0, t)) || dirty.has(k.slice(t + 1));
  }));
  const describedIds = new Set([...(batch.describedChildren ?? [])].map((e) => userIds.get(e)).filter((x): x is string => !!x));
  const describes = (x: StoredRelation) => describedIds.has(x.child_id) && recById.get(x.child_id)?.source === x.parent_source;
  const { add: relAdd, del: relDel } = planRelations(relHaveUnique, relWanted, runSet, describes);
  // Links of a new account cannot exist yet: one COPY; the others as before (INSERT … ON CONFLICT DO NOTHING).
  const newIdSet = new Set(newIds);
  const relAddNew = relAdd.filter((k) => k.split('\t').some((id) => newIdSet.has(id)));
  const relAddOld = relAdd.filter((k) => !k.split('\t').some((id) => newIdSet.has(id)));
  if (relAddNew.length) await copyRows(client, 'relations', ['parent_id', 'child_id'], relAddNew.map((k) => k.split('\t')));
  if (relAddOld.length) await unnestChunks(client, `INSERT INTO relations (parent_id, child_id) SELECT * FROM unnest($1::uuid[], $2::uuid[]) ON CONFLICT DO NOTHING`, split(relAddOld));
  if (relDel.length) {
    await unnestChunks(
      client,
      `DELETE FROM relations r USING unnest($1::uuid[], $2::uuid[]) AS v(p, c) WHERE r.parent_id = v.p AND r.child_id = v.c`,
      [relDel.map((x) => x.parent_id), relDel.map((x) => x.child_id)],
    );
  }
  for (const k of relAdd) for (const id of k.split('\t')) touched.add(id);
  for (const x of relDel) {
    touched.add(x.parent_id);
    touched.add(x.child_id);
  }
  // Accounts this run changed without recording their digest (links to people outside the run, runs naming
  // children by name) are compared in full next time.
  const stale = [...touched].filter((id) => !recById.has(id) || !hashes.has(recById.get(id)!.externalId));
  if (stale.length) await unnestChunks(client, `UPDATE users SET import_hash = NULL WHERE id = ANY($1) AND import_hash IS NOT NULL`, [stale]);
  if (!hashing && batchIds.length) await unnestChunks(client, `UPDATE users SET import_hash = NULL WHERE id = ANY($1) AND import_hash IS NOT NULL`, [batchIds]);

  // ---- local administrators the feed names: a CSV `ADML` column (UserRecord.localAdmin), or the head of school in
  // AAF (function DIR for the structure's UAI, users.functions). Added only: an import never removes one (an admin
  // appointed by hand stays). The run's structures are already within its scope; pupils and parents never are.
  {
    const keys = new Map(
      (await client.query<{ id: string; uai: string | null; external_id: string | null }>('SELECT id, uai, external_id FROM structures WHERE id = ANY($1)', [runStructures]))
        .rows.map((x) => [x.id, [x.uai, x.external_id]]),
    );
    const admins: string[][] = [[], []];
    for (const r of records) {
      const id = userIds.get(r.externalId);
      if (!id || r.profile === 'Student' || r.profile === 'Relative') continue;
      for (const key of r.structures) {
        if (!r.localAdmin && !isHeadOfSchool(r.functions ?? [], keys.get(sid(key)) ?? [])) continue;
        admins[0].push(id);
        admins[1].push(sid(key));
      }
    }
    if (admins[0].length) {
      await unnestChunks(client, `INSERT INTO local_admins (user_id, structure_id) SELECT * FROM unnest($1::uuid[], $2::uuid[]) ON CONFLICT DO NOTHING`, admins);
    }
  }

  // ---- users absent from a complete run enter their grace period (users.absent_since); the daily lifecycle job
  // (src/accounts/lifecycle.ts) pre-deletes them once it is over. Counted as `preDeleted` in the report
  // ("absents du flux (période de grâce)"). ----
  let preDeleted = 0;
  const preDeletedIds = new Set<string>();
  for (const complete of batch.scopes) {
    const sids = [...complete.structures].map((k) => structureIds.get(k)).filter((x): x is string => !!x);
    const pp: unknown[] = [complete.source, [...complete.profiles], batchIds, sids, complete.orphans];
    const r = await client.query<{ id: string; external_id: string | null; profile: Profile }>(
      `SELECT u.id, u.external_id, u.profile FROM users u
       WHERE u.source = $1 AND u.profile = ANY($2) AND u.pre_deleted_at IS NULL AND u.absent_since IS NULL AND NOT (u.id = ANY($3))
         AND (EXISTS (SELECT 1 FROM user_structures us WHERE us.user_id = u.id AND us.structure_id = ANY($4))
              OR ($5 AND NOT EXISTS (SELECT 1 FROM user_structures us WHERE us.user_id = u.id)))
         AND ${importPreDeleteSql(scope, 'u', pp)}`,
      pp,
    );
    for (const x of r.rows) {
      // A row rejected for a typo must not take the account away; nor may a run that creates an activated
      // account's near-twin (an ambiguous rename).
      if (x.external_id && opts.protect?.(x.external_id)) continue;
      if (keep.has(x.id)) continue;
      if (preDeletedIds.has(x.id)) continue;
      preDeletedIds.add(x.id);
      counts(byProfile, x.profile).preDeleted++;
      if (complete.file) counts(byFile, complete.file).preDeleted++;
    }
  }
  if (batch.deletions.length) {
    const dp: unknown[] = [batch.deletions];
    const r = await client.query<{ id: string; profile: Profile }>(
      `SELECT u.id, u.profile FROM users u WHERE u.external_id = ANY($1) AND u.pre_deleted_at IS NULL AND u.absent_since IS NULL AND ${importPreDeleteSql(scope, 'u', dp)}`,
      dp,
    );
    for (const x of r.rows) {
      if (preDeletedIds.has(x.id)) continue;
      preDeletedIds.add(x.id);
      counts(byProfile, x.profile).preDeleted++;
    }
  }
  if (preDeletedIds.size) {
    await unnestChunks(client, `UPDATE users SET absent_since = $2, import_hash = NULL WHERE id = ANY($1)`, [[...preDeletedIds]], [now]);
    preDeleted = preDeletedIds.size;
  }

  await client.query(`SELECT set_config('trousseau.import', 'off', true)`);

  // ---- counts ----
  const totals = countOutcomes(records, (ext) => userIds.get(ext), { created, changed, restored, touched }, byProfile, byFile);
  return {
    created: totals.created,
    updated: totals.updated,
    unchanged: totals.unchanged,
    preDeleted,
    restored: restored.size,
    byProfile,
    byFile,
    structures,
    relations: { created: relAdd.length, removed: relDel.length, unresolved },
    rejected,
    renamed,
    userIds,
    structureIds,
  };
}

/**
 * Finds the accounts of records that have none under their key: by a former key (formerIds), then — for name-keyed
 * CSV/BE1D records of a complete run — by a likely rename (renames.ts). Adopted accounts enter `existing` under
 * the record's key and are listed in `reKeyed`; `keep` holds activated near-twins that must not be pre-deleted.
 */
async function adoptAccounts(
  client: Client,
  batch: ImportBatch,
  records: UserRecord[],
  existing: Map<string, KnownUser>,
  aliased: Map<string, { id: string }>,
  structureIds: Map<string, string>,
  reKeyed: { id: string; externalId: string }[],
  /** The run's scope condition (importScopeSql): only accounts it may touch are adopted. */
  allowed: (u: string, params: unknown[]) => string,
): Promise<{ renamed: RenameNote[]; keep: Set<string> }> {
  const keep = new Set<string>();
  const inBatch = new Set(records.map((r) => r.externalId));
  const claimed = new Set([...existing.values(), ...aliased.values()].map((e) => e.id));
  const adopt = (r: UserRecord, e: ExistingUser) => {
    existing.set(r.externalId, { id: e.id, hash: null, absent: !!e.pre_deleted_at, full: e });
    claimed.add(e.id);
    reKeyed.push({ id: e.id, externalId: r.externalId });
  };
  let open = records.filter((r) => !existing.has(r.externalId) && !aliased.has(r.externalId));
  const former = [...new Set(open.flatMap((r) => r.formerIds ?? []))].filter((x) => !inBatch.has(x));
  if (former.length) {
    const fp: unknown[] = [null];
    const rows = await unnestChunks<ExistingUser>(client, `SELECT ${EXISTING_COLUMNS} FROM users u WHERE u.external_id = ANY($1) AND ${allowed('u', fp)}`, [former], fp.slice(1));
    const byExt = new Map(rows.map((x) => [x.external_id, x]));
    for (const r of open) {
      const e = (r.formerIds ?? []).map((f) => byExt.get(f)).find((x) => x && !claimed.has(x.id));
      if (e) adopt(r, e);
    }
    open = open.filter((r) => !existing.has(r.externalId));
  }

  // Likely renames: only name-keyed records, only among accounts this run would otherwise pre-delete.
  const named = open.filter((r) => (r.source === 'csv' || r.source === 'be1d') && !r.formerIds);
  const scopes = batch.scopes.filter((s) => s.source === 'csv' || s.source === 'be1d');
  if (!named.length || !scopes.length) return { renamed: [], keep };
  const sids = [...new Set(scopes.flatMap((s) => [...s.structures].map((k) => structureIds.get(k)!)))];
  const rp: unknown[] = [[...new Set(scopes.map((s) => s.source))], sids, [...inBatch]];
  const rows = (
    await client.query<ExistingUser & { login: string; structure_id: string; classes: string[] }>(
      `SELECT ${EXISTING_COLUMNS}, u.login, us.structure_id,
              coalesce(array_agg(c.name) FILTER (WHERE c.id IS NOT NULL), '{}') AS classes
       FROM users u JOIN user_structures us ON us.user_id = u.id
       LEFT JOIN user_classes uc ON uc.user_id = u.id
       LEFT JOIN classes c ON c.id = uc.class_id AND c.structure_id = us.structure_id
       WHERE u.source = ANY($1) AND us.structure_id = ANY($2) AND u.pre_deleted_at IS NULL AND NOT (u.external_id = ANY($3))
         AND ${allowed('u', rp)}
       GROUP BY u.id, us.structure_id`,
      rp,
    )
  ).rows.filter((x) =>
    !claimed.has(x.id) &&
    scopes.some((s) => s.source === x.source && s.profiles.has(x.profile) && [...s.structures].some((k) => structureIds.get(k) === x.structure_id)),
  );
  if (!rows.length) return { renamed: [], keep };
  const candidates: RenameCandidate[] = rows.map((x) => ({
    id: x.id, profile: x.profile, structureId: x.structure_id, firstName: x.first_name, lastName: x.last_name,
    birthDate: x.birth_date, classes: x.classes, activated: !!x.activated_at,
  }));
  const incoming = named.map((r) => ({
    key: r.externalId, profile: r.profile, structureIds: [...r.structures].map((k) => structureIds.get(k)!),
    firstName: r.firstName, lastName: r.lastName, birthDate: r.birthDate, classes: r.classes.map((c) => c.name),
  }));
  const byId = new Map(rows.map((x) => [x.id, x]));
  const byKey = new Map(named.map((r) => [r.externalId, r]));
  const renamed: RenameNote[] = [];
  for (const m of findRenames(incoming, candidates)) {
    const r = byKey.get(m.key)!;
    const e = byId.get(m.id)!;
    if (m.applied) adopt(r, e);
    else keep.add(e.id);
    renamed.push({
      file: r.file, line: r.line, login: e.login, applied: m.applied,
      from: `${e.first_name} ${e.last_name}`, to: `${r.firstName} ${r.lastName}`,
    });
  }
  return { renamed, keep };
}

export type { UserRecord };
