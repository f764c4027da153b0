// "Gérer les doublons": finding accounts that are probably the same person, merging them, or dismissing a pair.
//
// Detection groups accounts in SQL by blocking keys over folded names (trousseau_fold, migration 0005), and only
// draws pairs inside a block, so a 100k-user directory never meets an O(n²) comparison. Keys (all per profile):
//   same names in either order · one name equal and the other within one edit (deletion neighbourhood: strings
//   within one edit share a one-character deletion) · same last name and same first part of a compound first
//   name ("Marie" / "Marie-Anne") · same first name and same email (e.g. a parent's married name) · same INE (a pupil's
//   national number, whatever the names: a pupil moving from the école's feed to the collège's gets a new key there).
// Each candidate is then scored here (0–100) and kept from `minScore` on.
import { endSignIns } from '../accounts/signins.js';
import { withTransaction } from '../accounts/tx.js';
import type { AppContext } from '../context.js';
import type { Profile } from './vocabulary.js';
import { recordAudit } from './audit.js';
import { scopeSql, type Scope } from './scope.js';
import {
  allInScope, DirectoryError, isUuid, memberOfStructureSql, requireAdminScope, requireManageable, requireWholeAccountsInScope, visibleStructureSql,
} from './users.js';

/** Why a pair was proposed; the console translates these. */
export type DuplicateReason =
  | 'same_names'
  | 'swapped_names'
  | 'last_name_typo'
  | 'first_name_typo'
  | 'compound_first_name'
  | 'same_first_name'
  | 'same_birth_date'
  | 'different_birth_date'
  | 'same_email'
  | 'same_ine';

export interface DuplicateSide {
  id: string;
  firstName: string;
  lastName: string;
  login: string;
  profile: Profile;
  birthDate: string | null;
  email: string | null;
  activated: boolean;
  origin: 'feed' | 'manual';
  createdAt: Date;
  structures: string[];
  classes: string[];
}

export interface DuplicatePair {
  score: number;
  reasons: DuplicateReason[];
  /** The account a merge would keep: the activated one, else the older one. */
  keep: DuplicateSide;
  /** The account a merge would delete. */
  drop: DuplicateSide;
}

export const DEFAULT_MIN_SCORE = 50;
/** Accounts sharing one blocking key beyond this are skipped as noise. */
const MAX_BLOCK = 500;

// ---------------------------------------------------------------------------------------------------------
// Scoring (pure)

/** Optimal-string-alignment distance (Levenshtein plus adjacent transpositions), stopping early above `max`. */
export function editDistance(a: string, b: string, max = 2): number {
  if (Math.abs(a.length - b.length) > max) return max + 1;
  let prev2: number[] = [];
  let prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const cur = [i];
    let rowMin = i;
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      let v = Math.min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) v = Math.min(v, prev2[j - 2] + 1);
      cur.push(v);
      rowMin = Math.min(rowMin, v);
    }
    if (rowMin > max) return max + 1;
    prev2 = prev;
    prev = cur;
  }
  return prev[b.length];
}

/** A one-edit difference on names long enough for it to mean a typo rather than another name. */
function isTypo(a: string, b: string): boolean {
  return a !== b && Math.max(a.length, b.length) >= 5 && Math.min(a.length, b.length) >= 4 && editDistance(a, b, 1) <= 1;
}

/** Masculine/feminine forms of one first name (Louis/Louise, Daniel/Danielle, Jean/Jeanne): different people. */
function isGenderVariant(a: string, b: string): boolean {
  const [short, long] = a.length <= b.length ? [a, b] : [b, a];
  return long === `${short}e` || long === `${short}${short.slice(-1)}e`;
}

export interface FoldedPerson {
  fl: string;
  ff: string;
  birthDate: string | null;
  email: string | null;
  /** The pupil's INE, upper case (users.ine, from ENTEleveINE / SIECLE's ID_NATIONAL), or null. */
  ine?: string | null;
}

/** One pupil's national number on both sides: the same person, whatever their names say (a usage name, a new spelling). */
const SAME_INE_BASE = 60;

/** Scores two folded identities; null when the names are not close enough to call them duplicates. */
export function scorePair(a: FoldedPerson, b: FoldedPerson): { score: number; reasons: DuplicateReason[] } | null {
  let base: number;
  const reasons: DuplicateReason[] = [];
  const sameEmail = a.email !== null && a.email === b.email;
  const sameIne = !!a.ine && a.ine === b.ine;
  if (a.fl === b.fl && a.ff === b.ff) {
    base = 70;
    reasons.push('same_names');
  } else if (a.fl === b.ff && a.ff === b.fl) {
    base = 65;
    reasons.push('swapped_names');
  } else if (a.ff === b.ff && isTypo(a.fl, b.fl)) {
    base = 55;
    reasons.push('last_name_typo');
  } else if (a.fl === b.fl && isTypo(a.ff, b.ff) && !isGenderVariant(a.ff, b.ff)) {
    base = 55;
    reasons.push('first_name_typo');
  } else if (
    a.fl === b.fl && Math.min(a.ff.length, b.ff.length) >= 3 && (a.ff.startsWith(b.ff) || b.ff.startsWith(a.ff)) &&
    !isGenderVariant(a.ff, b.ff)
  ) {
    base = 45;
    reasons.push('compound_first_name');
  } else if (a.ff === b.ff && sameEmail) {
    base = 40;
    reasons.push('same_first_name');
  } else if (sameIne) {
    base = SAME_INE_BASE;
  } else {
    return null;
  }
  let score = base;
  if (sameIne) {
    score += 30;
    reasons.push('same_ine');
  }
  if (a.birthDate && b.birthDate) {
    // Homonyms born on different days are usually two people; twins are kept out by the name rules above.
    if (a.birthDate === b.birthDate) {
      score += 25;
      reasons.push('same_birth_date');
    } else {
      score -= 40;
      reasons.push('different_birth_date');
    }
  }
  if (sameEmail) {
    score += 15;
    reasons.push('same_email');
  }
  return { score: Math.max(0, Math.min(100, score)), reasons };
}

// ---------------------------------------------------------------------------------------------------------
// Detection

/**
 * Probable duplicate pairs among visible users of the same profile where at least one account is not activated,
 * dismissed pairs excluded, best score first (admins only).
 */
export async function findDuplicates(
  ctx: AppContext,
  scope: Scope,
  opts: { structureId?: string; minScore?: number; limit?: number } = {},
): Promise<DuplicatePair[]> {
  requireAdminScope(scope);
  const minScore = opts.minScore ?? DEFAULT_MIN_SCORE;
  const limit = Math.max(1, Math.min(opts.limit ?? 500, 5000));
  if (opts.structureId !== undefined) {
    if (!isUuid(opts.structureId)) return [];
    if (scope.kind === 'structures' && !scope.structureIds.includes(opts.structureId)) return [];
  }
  const params: unknown[] = [];
  const where = [scopeSql(scope, 'u', params)];
  if (opts.structureId) where.push(memberOfStructureSql(opts.structureId, 'u', params));

  // Every account emits its blocking keys; accounts sharing a key form a block, and pairs are only drawn
  // inside blocks. Keys are text in the "C" collation so grouping never goes through locale comparisons.
  const rows = await withTransaction(ctx.database.pool, async (client) => {
    await client.query(`SET LOCAL work_mem = '64MB'`);
    return (await client.query(
      `WITH base AS MATERIALIZED (
         SELECT u.id, u.profile, trousseau_fold(u.last_name) AS fl, trousseau_fold(u.first_name) AS ff,
                trousseau_fold(split_part(regexp_replace(btrim(u.first_name), '[[:space:]-]+', ' ', 'g'), ' ', 1)) AS ff1,
                u.birth_date AS bd, nullif(lower(btrim(u.email)), '') AS em, nullif(upper(btrim(u.ine)), '') AS ine,
                u.activated_at IS NULL AS inactive
           FROM users u WHERE ${where.join(' AND ')}
       ),
       keys AS (
         -- same names, in either order
         SELECT id, inactive, profile || '|N|' || least(fl, ff) || '|' || greatest(fl, ff) AS k FROM base WHERE fl <> '' AND ff <> ''
         UNION ALL
         -- same last name, same first part of a compound first name ("Marie" / "Marie-Anne")
         SELECT id, inactive, profile || '|C|' || fl || '|' || ff1 FROM base WHERE fl <> '' AND length(ff1) >= 3 AND ff1 <> ff
         UNION ALL
         SELECT id, inactive, profile || '|C|' || fl || '|' || ff FROM base WHERE fl <> '' AND length(ff) >= 3
         UNION ALL
         -- same first name and email
         SELECT id, inactive, profile || '|M|' || ff || '|' || em FROM base WHERE em IS NOT NULL AND ff <> ''
         UNION ALL
         -- same INE
         SELECT id, inactive, profile || '|I|' || ine FROM base WHERE ine IS NOT NULL
         UNION ALL
         -- one name equal, the other within one edit: both share one of its one-deletion variants (i = 0: itself)
         SELECT b.id, b.inactive, b.profile || '|L|' || b.ff || '|' || CASE WHEN i = 0 THEN b.fl ELSE overlay(b.fl PLACING '' FROM i FOR 1) END
           FROM base b CROSS JOIN LATERAL generate_series(0, length(b.fl)) i WHERE length(b.fl) >= 4 AND b.ff <> ''
         UNION ALL
         SELECT b.id, b.inactive, b.profile || '|F|' || b.fl || '|' || CASE WHEN i = 0 THEN b.ff ELSE overlay(b.ff PLACING '' FROM i FOR 1) END
           FROM base b CROSS JOIN LATERAL generate_series(0, length(b.ff)) i WHERE length(b.ff) >= 4 AND b.fl <> ''
       ),
       -- A block bigger than ${MAX_BLOCK} is noise (test accounts…), not a set of duplicates.
       blocks AS (
         SELECT array_agg(id) AS ids FROM keys GROUP BY k COLLATE "C"
         HAVING count(*) BETWEEN 2 AND ${MAX_BLOCK} AND bool_or(inactive)
       ),
       pairs AS (
         SELECT DISTINCT x AS a, y AS b FROM blocks CROSS JOIN LATERAL unnest(ids) x CROSS JOIN LATERAL unnest(ids) y WHERE x < y
       )
       SELECT p.a, p.b, ba.fl AS a_fl, ba.ff AS a_ff, ba.bd AS a_bd, ba.em AS a_em, ba.ine AS a_ine,
              bb.fl AS b_fl, bb.ff AS b_ff, bb.bd AS b_bd, bb.em AS b_em, bb.ine AS b_ine
         FROM pairs p JOIN base ba ON ba.id = p.a JOIN base bb ON bb.id = p.b
        WHERE (ba.inactive OR bb.inactive)
          AND NOT EXISTS (SELECT 1 FROM duplicate_dismissals d WHERE d.user_a = p.a AND d.user_b = p.b)`,
      params,
    )).rows;
  });

  const scored: { a: string; b: string; score: number; reasons: DuplicateReason[] }[] = [];
  for (const r of rows) {
    const s = scorePair(
      { fl: r.a_fl, ff: r.a_ff, birthDate: r.a_bd, email: r.a_em, ine: r.a_ine },
      { fl: r.b_fl, ff: r.b_ff, birthDate: r.b_bd, email: r.b_em, ine: r.b_ine },
    );
    if (s && s.score >= minScore) scored.push({ a: r.a, b: r.b, ...s });
  }
  scored.sort((p, q) => q.score - p.score || (p.a < q.a ? -1 : p.a > q.a ? 1 : p.b < q.b ? -1 : 1));
  const page = scored.slice(0, limit);
  if (!page.length) return [];

  const sides = await loadSides(ctx, scope, [...new Set(page.flatMap((p) => [p.a, p.b]))]);
  const out: DuplicatePair[] = [];
  for (const p of page) {
    const a = sides.get(p.a);
    const b = sides.get(p.b);
    if (!a || !b) continue;
    const [keep, drop] = keepFirst(a, b);
    out.push({ score: p.score, reasons: p.reasons, keep, drop });
  }
  return out;
}

/** The account to keep first: the activated one, else the older one. */
function keepFirst(a: DuplicateSide, b: DuplicateSide): [DuplicateSide, DuplicateSide] {
  if (a.activated !== b.activated) return a.activated ? [a, b] : [b, a];
  return a.createdAt.getTime() <= b.createdAt.getTime() ? [a, b] : [b, a];
}

async function loadSides(ctx: AppContext, scope: Scope, ids: string[]): Promise<Map<string, DuplicateSide>> {
  const params: unknown[] = [ids];
  const cs = visibleStructureSql(scope, 'c.structure_id', params);
  const ss = visibleStructureSql(scope, 's.id', params);
  const { rows } = await ctx.database.pool.query(
    `SELECT u.id, u.first_name, u.last_name, u.login, u.profile, u.birth_date, u.email, u.activated_at IS NOT NULL AS activated,
            u.origin, u.created_at,
            coalesce((SELECT array_agg(s.name ORDER BY s.name) FROM user_structures us JOIN structures s ON s.id = us.structure_id
                       WHERE us.user_id = u.id AND ${ss}), '{}') AS structures,
            coalesce((SELECT array_agg(c.name ORDER BY c.name) FROM user_classes uc JOIN classes c ON c.id = uc.class_id
                       WHERE uc.user_id = u.id AND ${cs}), '{}') AS classes
       FROM users u WHERE u.id = ANY($1::uuid[])`,
    params,
  );
  return new Map(rows.map((r) => [r.id, {
    id: r.id, firstName: r.first_name, lastName: r.last_name, login: r.login, profile: r.profile,
    birthDate: r.birth_date, email: r.email, activated: r.activated, origin: r.origin, createdAt: r.created_at,
    structures: r.structures, classes: r.classes,
  }]));
}

// ---------------------------------------------------------------------------------------------------------
// Merge and dismiss

export interface MergeResult {
  keptId: string;
  droppedId: string;
  /** True when the caller's keep/drop were inverted because only the "drop" account was activated. */
  swapped: boolean;
}

/**
 * Merges `dropId` into `keepId` in one transaction (admins only, both users in scope, same profile).
 * The activated account is always the one kept: if only `dropId` is activated the roles are swapped (see
 * `swapped`); both activated is refused. Both accounts must be ones the caller may change (requireManageable:
 * outside 'all', an account administering any school but the caller's own is read-only), so a local admin's merge
 * moves no one else's local-admin rights; super admins are never merged. Any such pair may be merged, proposed by
 * findDuplicates or not. Structures, classes, groups, relations (both directions), local-admin
 * rights, aliases and dismissals move to the kept account without duplicates; its empty email, phone, birth
 * date and title are filled from the dropped one (the email never when the kept account is the caller's own). The dropped external id becomes the kept one's when it has
 * none, else an alias (user_aliases) so a feed re-import maps it to the kept account. Then the dropped
 * account is deleted and the merge audited.
 */
export async function mergeUsers(ctx: AppContext, scope: Scope, keepId: string, dropId: string, actorId: string | null): Promise<MergeResult> {
  requireAdminScope(scope);
  if (keepId === dropId) throw new DirectoryError('invalid', 'directory.mergeSelf');
  if (!isUuid(keepId) || !isUuid(dropId)) throw new DirectoryError('not_found', 'directory.userNotFound');
  return withTransaction(ctx.database.pool, async (client) => {
    // Both accounts must be ones the caller may change (visible, and holding no admin right but, for a local admin,
    // their own): the kept one inherits the dropped one's local-admin rights, which are then the caller's own or a
    // super admin's to move. Locked in id order so two concurrent merges of the same pair cannot deadlock.
    await requireManageable(client, scope, [keepId, dropId], { lock: true });
    // The dropped account is deleted and the kept one inherits its schools: both must be the caller's schools' alone
    // (a local admin would otherwise delete another school's teacher, or enter that school by merging it into his own).
    await requireWholeAccountsInScope(client, scope, [keepId, dropId], 'directory.mergeElsewhere');
    const { rows } = await client.query(`SELECT u.* FROM users u WHERE u.id = ANY($1::uuid[])`, [[keepId, dropId]]);
    let keep = rows.find((r) => r.id === keepId);
    let drop = rows.find((r) => r.id === dropId);
    if (!keep || !drop) throw new DirectoryError('not_found', 'directory.userNotFound');
    const keepActive = keep.activated_at !== null;
    const dropActive = drop.activated_at !== null;
    if (keepActive && dropActive) {
      throw new DirectoryError('conflict', 'directory.mergeBothActive');
    }
    if (keep.profile !== drop.profile) throw new DirectoryError('invalid', 'directory.mergeProfiles');
    const swapped = dropActive && !keepActive;
    if (swapped) [keep, drop] = [drop, keep];
    // A super admin has no feed identity (migration 0007): it neither disappears in a merge nor takes one over.
    if (drop.is_super_admin || keep.is_super_admin) throw new DirectoryError('forbidden', 'directory.mergeSuperAdmin');
    const k = keep.id as string;
    const d = drop.id as string;

    // With whether only AAF functions gave each (migration 0042): held by both, a function alone only if for both.
    await client.query(
      `INSERT INTO user_structures AS t (user_id, structure_id, by_function) SELECT $1, structure_id, by_function FROM user_structures WHERE user_id = $2
       ON CONFLICT (user_id, structure_id) DO UPDATE SET by_function = t.by_function AND EXCLUDED.by_function`,
      [k, d],
    );
    // Classes and groups with the AAF attributes that gave them (migration 0039): copied bare, the kept account's
    // next AAF delta could no longer tell a former head-teacher class from one she teaches. Held by both: either's.
    for (const [table, col] of [['user_classes', 'class_id'], ['user_groups', 'group_id']]) {
      await client.query(
        `INSERT INTO ${table} AS t (user_id, ${col}, aaf_attributes) SELECT $1, ${col}, aaf_attributes FROM ${table} WHERE user_id = $2
         ON CONFLICT (user_id, ${col}) DO UPDATE SET aaf_attributes = CASE
           WHEN t.aaf_attributes IS NULL OR EXCLUDED.aaf_attributes IS NULL THEN coalesce(t.aaf_attributes, EXCLUDED.aaf_attributes)
           ELSE t.aaf_attributes || ARRAY(SELECT x FROM unnest(EXCLUDED.aaf_attributes) x WHERE x <> ALL (t.aaf_attributes)) END`,
        [k, d],
      );
    }
    // A local administration moves as it was given (migrations 0025, 0033): a feed's stays the feed's to take back
    // (copied bare, it became one appointed by hand, kept for good after the head of school left). Held by both, it
    // is the feed's only if both were, and the appointer's only if both name the same one.
    await client.query(
      `INSERT INTO local_admins (user_id, structure_id, from_feed, granted_by) SELECT $1, structure_id, from_feed, granted_by FROM local_admins WHERE user_id = $2
       ON CONFLICT (user_id, structure_id) DO UPDATE SET from_feed = local_admins.from_feed AND EXCLUDED.from_feed,
         granted_by = CASE WHEN local_admins.granted_by IS NOT DISTINCT FROM EXCLUDED.granted_by THEN local_admins.granted_by END`,
      [k, d],
    );
    await client.query('INSERT INTO relations (parent_id, child_id) SELECT $1, child_id FROM relations WHERE parent_id = $2 AND child_id <> $1 ON CONFLICT DO NOTHING', [k, d]);
    await client.query('INSERT INTO relations (parent_id, child_id) SELECT parent_id, $1 FROM relations WHERE child_id = $2 AND parent_id <> $1 ON CONFLICT DO NOTHING', [k, d]);
    // A pair dismissed with the dropped account stays dismissed with the kept one.
    await client.query(
      `INSERT INTO duplicate_dismissals (user_a, user_b, dismissed_at)
       SELECT least($1::uuid, o), greatest($1::uuid, o), t FROM (
         SELECT CASE WHEN user_a = $2 THEN user_b ELSE user_a END AS o, dismissed_at AS t
           FROM duplicate_dismissals WHERE user_a = $2 OR user_b = $2) x
        WHERE o <> $1 ON CONFLICT DO NOTHING`,
      [k, d],
    );
    await client.query('UPDATE user_aliases SET user_id = $1 WHERE user_id = $2', [k, d]);

    let aliasAdded = false;
    let adoptedExternalId = false;
    if (drop.external_id) {
      await client.query('UPDATE users SET external_id = NULL WHERE id = $1', [d]);
      if (keep.external_id) {
        await client.query(
          `INSERT INTO user_aliases (external_id, user_id, merged_by) VALUES ($1, $2, $3)
           ON CONFLICT (external_id) DO UPDATE SET user_id = EXCLUDED.user_id, merged_at = now(), merged_by = EXCLUDED.merged_by`,
          [drop.external_id, k, actorId],
        );
        aliasAdded = true;
      } else {
        await client.query('UPDATE users SET external_id = $2, origin = $3, source = $4 WHERE id = $1', [k, drop.external_id, drop.origin, drop.source]);
        adoptedExternalId = true;
      }
    }
    // Still present somewhere (the dropped account was not pre-deleted): the kept one is no longer leaving.
    // One's own address is changed in « Mon compte », where the current password is asked (as updateUserContact's
    // directory.selfContact and an import's `self`): a merge into the caller's own account never fills it, or a stolen
    // admin session would give a duplicate its address, merge it in, then take the account with a reset link.
    const ownAccount = actorId !== null && actorId === k;
    await client.query(
      `UPDATE users k SET
          email = CASE WHEN coalesce(btrim(k.email), '') = '' AND NOT $3::boolean THEN d.email ELSE k.email END,
          phone = CASE WHEN coalesce(btrim(k.phone), '') = '' THEN d.phone ELSE k.phone END,
          birth_date = coalesce(k.birth_date, d.birth_date),
          title = coalesce(k.title, d.title),
          pre_deleted_at = CASE WHEN d.pre_deleted_at IS NULL THEN NULL ELSE k.pre_deleted_at END,
          updated_at = now()
         FROM users d WHERE k.id = $1 AND d.id = $2`,
      [k, d, ownAccount],
    );
    await endSignIns(client, d);
    await client.query('DELETE FROM users WHERE id = $1', [d]);
    await recordAudit(client, actorId, 'user.merge', {
      kept: { id: k, login: keep.login, externalId: adoptedExternalId ? drop.external_id : keep.external_id },
      dropped: {
        id: d, login: drop.login, externalId: drop.external_id, firstName: drop.first_name, lastName: drop.last_name,
        email: drop.email, birthDate: drop.birth_date, activated: drop.activated_at !== null,
      },
      swapped, aliasAdded, adoptedExternalId,
    });
    return { keptId: k, droppedId: d, swapped };
  });
}

/** Marks a pair as "not duplicates" for good (admins only, both users in scope); idempotent. */
export async function dismissDuplicate(ctx: AppContext, scope: Scope, a: string, b: string, actorId: string | null): Promise<void> {
  requireAdminScope(scope);
  if (a === b) throw new DirectoryError('invalid', 'directory.pairSame');
  await withTransaction(ctx.database.pool, async (client) => {
    if (!(await allInScope(client, scope, [a, b]))) throw new DirectoryError('not_found', 'directory.userNotFound');
    const ins = await client.query(
      'INSERT INTO duplicate_dismissals (user_a, user_b) VALUES (least($1::uuid, $2::uuid), greatest($1::uuid, $2::uuid)) ON CONFLICT DO NOTHING',
      [a, b],
    );
    if (ins.rowCount) await recordAudit(client, actorId, 'duplicate.dismiss', { userA: a, userB: b });
  });
}
