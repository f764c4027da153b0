// Per structure and profile: how accounts sign in (Trousseau code, an external identity provider, or both), the
// activation policy (e-mail / phone required, minimum password length), the lifecycle delays; per structure: the
// terms of use version and what teachers may do in their class view (migration 0014). A missing row means the
// defaults below, so a fresh structure behaves as before the settings existed.
import { z } from 'zod';
import type { Queryable } from '../db/index.js';
import { PROFILES, type Profile } from './vocabulary.js';
import type { Role } from './scope.js';
import { recordAudit } from './audit.js';
import { endSignInsOf, passwordOidcRowSql, SIGN_IN_RULES_LOCK } from '../accounts/signins.js';

export type SignIn = 'code' | 'external' | 'both';

export interface ProfilePolicy {
  profile: Profile;
  /** code: activation code and Trousseau password; external: only `provider`; both: either. */
  signIn: SignIn;
  /** Identity provider, named freely ("EduConnect", "FranceConnect", "IdP académique"); null for 'code'. */
  provider: string | null;
  emailRequired: boolean;
  phoneRequired: boolean;
  /** Characters; 8 for pupils, 12 for adults by default (ANSSI-style length over composition rules). */
  minPasswordLength: number;
  /** Days an account absent from a complete feed keeps signing in before it is pre-deleted. */
  graceDays: number;
  /** Days a pre-deleted account waits before it is deleted (personal data erased). */
  deletionDays: number;
}

export const DEFAULT_GRACE_DAYS = 90;
export const DEFAULT_DELETION_DAYS = 90;

export function defaultPolicy(profile: Profile): ProfilePolicy {
  return {
    profile,
    signIn: 'code',
    provider: null,
    emailRequired: false,
    phoneRequired: false,
    minPasswordLength: profile === 'Student' ? 8 : 12,
    graceDays: DEFAULT_GRACE_DAYS,
    deletionDays: DEFAULT_DELETION_DAYS,
  };
}

/** Minimum length for accounts holding admin rights, whatever their profile. */
export const ADMIN_MIN_PASSWORD_LENGTH = 12;

const days = z.coerce.number().int().min(0).max(3650);
/** One profile's settings as a form or an API sends them; an external method needs a provider name. */
export const PolicyInputSchema = z
  .object({
    signIn: z.enum(['code', 'external', 'both']).default('code'),
    provider: z.string().trim().max(80).optional().transform((v) => (v ? v : null)),
    emailRequired: z.boolean().default(false),
    phoneRequired: z.boolean().default(false),
    minPasswordLength: z.coerce.number().int().min(8).max(64),
    graceDays: days.default(DEFAULT_GRACE_DAYS),
    deletionDays: days.default(DEFAULT_DELETION_DAYS),
  })
  .refine((p) => p.signIn === 'code' || !!p.provider, { path: ['provider'], message: 'provider required' });
export type PolicyInput = z.infer<typeof PolicyInputSchema>;

function fromRow(r: Record<string, unknown>): ProfilePolicy {
  return {
    profile: r.profile as Profile,
    signIn: r.sign_in as SignIn,
    provider: (r.provider as string | null) ?? null,
    emailRequired: r.email_required as boolean,
    phoneRequired: r.phone_required as boolean,
    minPasswordLength: r.min_password_length as number,
    graceDays: r.grace_days as number,
    deletionDays: r.deletion_days as number,
  };
}

/** The five profiles' policies of a structure, defaults filled in, in PROFILES order. */
export async function loadPolicies(db: Queryable, structureId: string): Promise<ProfilePolicy[]> {
  const res = await db.query('SELECT * FROM profile_policies WHERE structure_id = $1', [structureId]);
  const byProfile = new Map(res.rows.map((r) => [r.profile as Profile, fromRow(r)]));
  return PROFILES.map((p) => byProfile.get(p) ?? defaultPolicy(p));
}

/**
 * Stores one profile's policy (audited as settings.policy with the new values and the sessions ended). Saved as
 * 'external', it also ends the password sign-ins of the accounts whose password it now refuses (passwordRefusedSql:
 * every structure of the account says 'external' — a parent shared with a school that keeps passwords is not one),
 * in the caller's transaction: their web sessions opened with the password (8 hours) and their applications' tokens
 * obtained with it or of unknown origin (refresh tokens live 30 days, whatever became of the web session), so the
 * setting is not waited out; what was opened through the identity provider stays, web sessions and tokens
 * (endSignInsOf keepProviderSessions). Returns the number of live web sessions ended.
 */
export async function savePolicy(db: Queryable, structureId: string, profile: Profile, input: PolicyInput, actorId: string | null): Promise<number> {
  // The sign-in rules' lock (SIGN_IN_RULES_LOCK), taken by the statement that writes the rule so that it holds until
  // the rule is committed even outside a transaction: a password sign-in checks the rule and inserts its session
  // under the shared lock, so it either ended before (its session is ended below) or reads the rule saved here.
  await db.query(
    `INSERT INTO profile_policies (structure_id, profile, sign_in, provider, email_required, phone_required, min_password_length, grace_days, deletion_days)
     SELECT $1, $2, $3, $4, $5, $6, $7, $8, $9 FROM (SELECT pg_advisory_xact_lock(${SIGN_IN_RULES_LOCK})) AS sign_in_rules_lock
     ON CONFLICT (structure_id, profile) DO UPDATE SET sign_in = $3, provider = $4, email_required = $5, phone_required = $6,
       min_password_length = $7, grace_days = $8, deletion_days = $9, updated_at = now()`,
    [structureId, profile, input.signIn, input.signIn === 'code' ? null : input.provider, input.emailRequired, input.phoneRequired,
      input.minPasswordLength, input.graceDays, input.deletionDays],
  );
  const sessionsEnded =
    input.signIn === 'external'
      ? await endSignInsOf(
          db,
          `SELECT u.id FROM ${structureMembersSql('$1::uuid')} m JOIN users u ON u.id = m.id
           WHERE u.profile = $2 AND ${passwordRefusedSql('u')} IS NOT NULL`,
          [structureId, profile],
          { keepProviderSessions: true },
        )
      : 0;
  await recordAudit(db, actorId, 'settings.policy', { structureId, profile, ...input, sessionsEnded });
  return sessionsEnded;
}

/**
 * After a change of memberships (an import): ends the password sign-ins of the accounts whose password is now refused
 * (passwordRefusedSql), as savePolicy does for the accounts of one structure — a parent whose only child in a school
 * that keeps passwords has left now signs in only with the provider, and neither their password session (8 hours) nor
 * the applications' tokens obtained through one may wait that out: a refresh token (30 days) outlives the web session
 * that obtained it, so the accounts looked at are those holding a live web session opened with the password or a live
 * row of the OpenID provider obtained with it or of unknown origin (passwordOidcRowSql) — the live sign-ins, not the
 * directory: a région's import pays for its signed-in users only —, and nothing when no structure says 'external'.
 * What was opened through the identity provider stays (endSignInsOf keepProviderSessions). Returns the live web
 * sessions ended.
 * Unlike savePolicy it does not take SIGN_IN_RULES_LOCK: the import holds row locks of accounts it renamed, which a
 * sign-in holding the shared lock may be waiting for — a deadlock that would roll the whole import back. A sign-in
 * that read the memberships in the moment before the import commits may keep its session (a window of milliseconds);
 * the OpenID provider refuses it tokens all the same (src/oidc/provider.ts checks the rule at every use).
 */
export async function endRefusedPasswordSignIns(db: Queryable): Promise<number> {
  const external = await db.query(`SELECT 1 FROM profile_policies WHERE sign_in = 'external' LIMIT 1`);
  if (!external.rowCount) return 0;
  // An accountId that is not a uuid (none is: the interaction writes the account's id) must not fail the import.
  return endSignInsOf(
    db,
    `SELECT u.id FROM users u
     WHERE u.id IN (SELECT s.user_id FROM sessions s WHERE s.expires_at > now()
                      AND NOT EXISTS (SELECT 1 FROM federation_sessions fs WHERE fs.session_id_hash = s.id_hash)
                    UNION
                    SELECT CASE WHEN o.payload->>'accountId' ~* '^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$'
                                THEN (o.payload->>'accountId')::uuid END
                    FROM oidc_payloads o WHERE o.payload ? 'accountId' AND (o.expires_at IS NULL OR o.expires_at > now())
                      AND ${passwordOidcRowSql('o')})
       AND ${passwordRefusedSql('u')} IS NOT NULL`,
    [],
    { keepProviderSessions: true },
  );
}

/**
 * SQL: the structures an account `u` belongs to — its own, and for a relative those of its children (a parent is
 * often attached to no structure in the feeds, only through the children).
 */
export function accountStructuresSql(u: string): string {
  return `(SELECT us.structure_id FROM user_structures us WHERE us.user_id = ${u}.id
           UNION SELECT us.structure_id FROM relations r JOIN user_structures us ON us.user_id = r.child_id
           WHERE r.parent_id = ${u}.id AND ${u}.profile = 'Relative')`;
}

/**
 * SQL: the ids of the accounts a structure's console home counts (`s`: its id, e.g. '$1'): its members and the
 * relatives of its members (as accountStructuresSql reads them), super admins and pre-deleted accounts (out of the
 * feed, locked, waiting for the purge) left out. The one population of the profile table (stats.ts), the
 * sign-in summary (signInSummary) and the funnel (activity.ts), so that their counts agree;
 * structurePreDeletedSql counts those left out, said in a note.
 */
export function structureAccountsSql(s: string): string {
  return `(SELECT hu.id FROM ${structureMembersSql(s)} hm JOIN users hu ON hu.id = hm.id
           WHERE NOT hu.is_super_admin AND hu.pre_deleted_at IS NULL)`;
}

/** SQL: how many accounts of the structure `s` the console home leaves out as pre-deleted (super admins never counted). */
export function structurePreDeletedSql(s: string): string {
  return `(SELECT count(*) FROM ${structureMembersSql(s)} hm JOIN users hu ON hu.id = hm.id
           WHERE NOT hu.is_super_admin AND hu.pre_deleted_at IS NOT NULL)`;
}

/**
 * The members of structure `s` and the relatives of its members. The relatives are looked up by an array of the
 * members' ids: as a join, the planner hashed the members and read all the relations of the région instead of
 * probing the index for a school's 2,500 (172 ms a query at a million accounts, four queries on a school's home).
 */
function structureMembersSql(s: string): string {
  return `(SELECT us.user_id AS id FROM user_structures us WHERE us.structure_id = ${s}
           UNION SELECT r.parent_id FROM relations r JOIN users rp ON rp.id = r.parent_id AND rp.profile = 'Relative'
             WHERE r.child_id = ANY(ARRAY(SELECT us.user_id FROM user_structures us WHERE us.structure_id = ${s})))`;
}

/**
 * The accounts that sign in only with an external provider by a structure's policy, as a set of (id, profile,
 * provider): the members of a structure whose policy for their profile is 'external', and the relatives of its
 * pupils when its relatives' policy is. The one definition externalProviderSql, externalOnlyAbsentSql and
 * externalProviderJoin test against. Its size follows the policies' reach, not the directory's.
 */
const EXTERNAL_BY_POLICY = `(SELECT us.user_id AS id, pp.profile, pp.provider FROM profile_policies pp JOIN user_structures us ON us.structure_id = pp.structure_id
             WHERE pp.sign_in = 'external'
           UNION ALL
           SELECT r.parent_id, pp.profile, pp.provider FROM profile_policies pp JOIN user_structures us ON us.structure_id = pp.structure_id
             JOIN relations r ON r.child_id = us.user_id
             WHERE pp.sign_in = 'external' AND pp.profile = 'Relative')`;

/**
 * SQL condition "account `u` does not sign in only with an external provider": the test of externalProviderSql
 * written as anti-joins, which the planner estimates well (as a scalar subquery in a WHERE its selectivity is unknown
 * to PostgreSQL, whose plans for the selection's detail joins went quadratic: 20 s for 10,000 rows), against the set
 * of such accounts (EXTERNAL_BY_POLICY) hashed once: a subquery per account over its structures cost 0.85 s for a
 * région's million accounts without any policy, 5.5 s with one school's relatives on EduConnect. A link to a provider
 * is read from `users.federated` (migration 0036, kept by triggers on federation_links): as an anti-join, the
 * planner rescanned federation_links per account whenever it believed the table empty (1.6 s instead of 0.4 s).
 */
export function externalOnlyAbsentSql(u: string): string {
  return `NOT EXISTS (SELECT 1 FROM ${EXTERNAL_BY_POLICY} x WHERE x.id = ${u}.id AND x.profile = ${u}.profile)
          AND NOT ${u}.federated`;
}

/**
 * externalProviderSql over a whole population (counters of a région's selection): `join`, to write after
 * `FROM users u`, joins the accounts of EXTERNAL_BY_POLICY and of federation_links, each set hashed once, and
 * `provider` is the same value as externalProviderSql(u) (the first provider by name, else the first link's). Per
 * account, the subqueries cost 8 s for a million accounts with one school's relatives on EduConnect.
 */
export function externalProviderJoin(u: string): { join: string; provider: string } {
  return {
    join: `LEFT JOIN (SELECT x.id, x.profile, min(x.provider) AS provider FROM ${EXTERNAL_BY_POLICY} x GROUP BY x.id, x.profile) ext_p
             ON ext_p.id = ${u}.id AND ext_p.profile = ${u}.profile
           LEFT JOIN (SELECT DISTINCT ON (fl.user_id) fl.user_id, fl.provider_name FROM federation_links fl
                      ORDER BY fl.user_id, fl.created_at, fl.provider_name) ext_f ON ext_f.user_id = ${u}.id`,
    provider: 'coalesce(ext_p.provider, ext_f.provider_name)',
  };
}

/**
 * SQL expression: the provider name when account `u` signs in ONLY with an external provider in one of its
 * structures (its code could never be used), or has signed in with one (federation_links, migration 0020: issue #12),
 * else null. 'both' keeps codes.
 */
export function externalProviderSql(u: string): string {
  // The same set as externalOnlyAbsentSql's and externalProviderJoin's: PostgreSQL pushes `x.id = u.id` into both of
  // its branches (index lookups of the account's structures, of its children's).
  return `coalesce((SELECT min(x.provider) FROM ${EXTERNAL_BY_POLICY} x WHERE x.id = ${u}.id AND x.profile = ${u}.profile),
          (SELECT fl.provider_name FROM federation_links fl WHERE fl.user_id = ${u}.id ORDER BY fl.created_at, fl.provider_name LIMIT 1))`;
}

/**
 * SQL expression: the provider account `u` must sign in with INSTEAD of its Trousseau password, or null when its
 * password works. Only when EVERY structure of the account (accountStructuresSql: a parent's through the children)
 * says 'external' for its profile — a structure without a row is 'code' —, so that one school's « Paramètres »
 * never lock out an account another school lets sign in with a password (a parent with children in both, a
 * teacher of both). A link to a provider (federation_links) is not a refusal: 'both' keeps the password. The
 * provider named is the first by name of those structures'.
 */
export function passwordRefusedSql(u: string): string {
  return `(SELECT CASE WHEN bool_and(coalesce(pp.sign_in, 'code') = 'external') THEN min(pp.provider) END
           FROM ${accountStructuresSql(u)} acs LEFT JOIN profile_policies pp ON pp.structure_id = acs.structure_id AND pp.profile = ${u}.profile)`;
}

/**
 * The policy that applies to one account: over its structures, the strictest (e-mail/phone required if any
 * structure requires them, the longest minimum, the longest delays; a structure without a saved row by the defaults)
 * and an external-only provider when one says so.
 * Accounts holding admin rights need ADMIN_MIN_PASSWORD_LENGTH at least.
 */
export async function policyForUser(db: Queryable, userId: string): Promise<ProfilePolicy & { isAdmin: boolean }> {
  const res = await db.query(
    `SELECT u.profile, u.is_super_admin OR EXISTS (SELECT 1 FROM local_admins la WHERE la.user_id = u.id) AS is_admin,
            ${externalProviderSql('u')} AS external_provider,
            (SELECT json_agg(pp.*) FROM profile_policies pp WHERE pp.profile = u.profile AND pp.structure_id IN ${accountStructuresSql('u')}) AS rows,
            -- A structure of the account that never saved its « Paramètres » for the profile: its defaults count too.
            EXISTS (SELECT 1 FROM ${accountStructuresSql('u')} acs WHERE NOT EXISTS (
              SELECT 1 FROM profile_policies dp WHERE dp.structure_id = acs.structure_id AND dp.profile = u.profile)) AS some_default
     FROM users u WHERE u.id = $1`,
    [userId],
  );
  const r = res.rows[0];
  if (!r) throw new Error(`unknown account ${userId}`);
  const base = defaultPolicy(r.profile as Profile);
  // The strictest over every structure of the account: one without a saved row by its defaults (a school's lower
  // minimum or shorter delays never replace those of another school that kept the defaults).
  const rows = [...((r.rows as Record<string, unknown>[] | null) ?? []).map(fromRow), ...(r.some_default && r.rows ? [base] : [])];
  const merged: ProfilePolicy = rows.length
    ? {
        profile: base.profile,
        signIn: r.external_provider ? 'external' : rows.some((x) => x.signIn === 'both') ? 'both' : 'code',
        provider: (r.external_provider as string | null) ?? rows.find((x) => x.provider)?.provider ?? null,
        emailRequired: rows.some((x) => x.emailRequired),
        phoneRequired: rows.some((x) => x.phoneRequired),
        minPasswordLength: Math.max(...rows.map((x) => x.minPasswordLength)),
        graceDays: Math.max(...rows.map((x) => x.graceDays)),
        deletionDays: Math.max(...rows.map((x) => x.deletionDays)),
      }
    : base;
  const isAdmin = r.is_admin as boolean;
  if (isAdmin) merged.minPasswordLength = Math.max(merged.minPasswordLength, ADMIN_MIN_PASSWORD_LENGTH);
  return { ...merged, isAdmin };
}

/** The external provider an account must sign in with, or null when Trousseau credentials work for it. */
export async function externalProviderOf(db: Queryable, userId: string): Promise<string | null> {
  const res = await db.query(`SELECT ${externalProviderSql('u')} AS p FROM users u WHERE u.id = $1`, [userId]);
  return (res.rows[0]?.p as string | null) ?? null;
}

// ---------------------------------------------------------------------------------------------- per structure

export const TEACHER_RIGHTS = ['sheets', 'renewal', 'block', 'mail'] as const;
export type TeacherRight = (typeof TEACHER_RIGHTS)[number];
/**
 * What teachers may do in their class view unless the structure says otherwise: sheets (printed or mailed) and
 * renewal codes, not block.
 */
export const DEFAULT_TEACHER_RIGHTS: TeacherRight[] = ['sheets', 'renewal', 'mail'];

export interface StructureSettings {
  /** 0: no versioned terms (the built-in text accepted at activation). */
  termsVersion: number;
  termsText: string | null;
  teacherRights: TeacherRight[];
}

export async function loadStructureSettings(db: Queryable, structureId: string): Promise<StructureSettings> {
  const r = (await db.query('SELECT * FROM structure_settings WHERE structure_id = $1', [structureId])).rows[0];
  if (!r) return { termsVersion: 0, termsText: null, teacherRights: [...DEFAULT_TEACHER_RIGHTS] };
  return { termsVersion: r.terms_version, termsText: r.terms_text ?? null, teacherRights: r.teacher_rights as TeacherRight[] };
}

/**
 * Stores the teachers' rights and the terms; changing the text with `newVersion` bumps the version, so every
 * account of the structure accepts again at its next sign-in.
 */
export async function saveStructureSettings(
  db: Queryable,
  structureId: string,
  input: { teacherRights: TeacherRight[]; termsText: string | null; newVersion: boolean },
  actorId: string | null,
): Promise<StructureSettings> {
  const rights = TEACHER_RIGHTS.filter((r) => input.teacherRights.includes(r));
  const r = (
    await db.query(
      `INSERT INTO structure_settings (structure_id, teacher_rights, terms_text, terms_version)
       VALUES ($1, $2, $3, CASE WHEN $4 THEN 1 ELSE 0 END)
       ON CONFLICT (structure_id) DO UPDATE SET teacher_rights = $2, terms_text = $3,
         terms_version = structure_settings.terms_version + CASE WHEN $4 THEN 1 ELSE 0 END, updated_at = now()
       RETURNING *`,
      [structureId, rights, input.termsText?.trim() || null, input.newVersion],
    )
  ).rows[0];
  await recordAudit(db, actorId, 'settings.structure', { structureId, teacherRights: rights, termsVersion: r.terms_version });
  return { termsVersion: r.terms_version, termsText: r.terms_text ?? null, teacherRights: r.teacher_rights };
}

/**
 * Whether a caller may use `right` as a teacher over every class of `classIds`: each class's school grants it to
 * its teachers (structure_settings, defaults when unset) or is one the caller administers (`adminOf`); a super
 * admin always may. The one check of the class view and of the publipostage API (a school's refusal must hold
 * at every door).
 */
export async function teacherMay(db: Queryable, caller: { roles: readonly Role[]; adminOf: readonly string[] }, right: TeacherRight, classIds: readonly string[]): Promise<boolean> {
  return (await heldRights(db, caller, [right], classIds)).has(right);
}

/**
 * The rights of TEACHER_RIGHTS a caller holds over these classes, as teacherMay says of each: what the class view
 * offers (an action the school refuses is not shown, rather than refused once clicked).
 */
export function teacherRightsOver(db: Queryable, caller: { roles: readonly Role[]; adminOf: readonly string[] }, classIds: readonly string[]): Promise<Set<TeacherRight>> {
  return heldRights(db, caller, TEACHER_RIGHTS, classIds);
}

/** Which of `rights` the caller holds over every class of `classIds` (teacherMay's rule), in one query. */
async function heldRights(db: Queryable, caller: { roles: readonly Role[]; adminOf: readonly string[] }, rights: readonly TeacherRight[], classIds: readonly string[]): Promise<Set<TeacherRight>> {
  if (caller.roles.includes('superadmin') || !classIds.length) return new Set(rights);
  const r = await db.query<{ right: TeacherRight }>(
    `SELECT w.r AS right FROM unnest($4::text[]) w(r)
      WHERE NOT EXISTS (SELECT 1 FROM classes c LEFT JOIN structure_settings ss ON ss.structure_id = c.structure_id
                         WHERE c.id = ANY($1::uuid[]) AND NOT (c.structure_id = ANY($2::uuid[]))
                           AND NOT (coalesce(ss.teacher_rights, $3::text[]) @> ARRAY[w.r]))`,
    [classIds, caller.adminOf, DEFAULT_TEACHER_RIGHTS, rights],
  );
  return new Set(r.rows.map((x) => x.right));
}

/** The highest versioned terms of account `u`'s structures, with the version it accepted (null when none is versioned). */
async function schoolTerms(db: Queryable, userId: string): Promise<{ version: number; text: string | null; accepted: number } | null> {
  const r = (
    await db.query(
      `SELECT ss.terms_version, ss.terms_text, u.terms_version AS accepted FROM users u
       JOIN structure_settings ss ON ss.structure_id IN ${accountStructuresSql('u')}
       WHERE u.id = $1 AND ss.terms_version > 0 ORDER BY ss.terms_version DESC LIMIT 1`,
      [userId],
    )
  ).rows[0];
  return r ? { version: r.terms_version, text: r.terms_text ?? null, accepted: r.accepted ?? 0 } : null;
}

/**
 * The terms version account `u` must have accepted: the highest of its structures' (0 when none is versioned).
 * The sign-in flow asks again when users.terms_version is lower.
 */
export async function termsDue(db: Queryable, userId: string): Promise<{ version: number; text: string | null } | null> {
  const t = await schoolTerms(db, userId);
  return t && t.accepted < t.version ? { version: t.version, text: t.text } : null;
}

/** The school terms account `u` is bound by, accepted or not: the highest version of its structures' (null when none is versioned). */
export async function currentTerms(db: Queryable, userId: string): Promise<{ version: number; text: string | null } | null> {
  const t = await schoolTerms(db, userId);
  return t && { version: t.version, text: t.text };
}

/** Records that the account accepted terms `version`. */
export async function acceptTerms(db: Queryable, userId: string, version: number): Promise<void> {
  await db.query('UPDATE users SET terms_version = greatest(coalesce(terms_version, 0), $2), terms_accepted_at = now() WHERE id = $1', [userId, version]);
  await recordAudit(db, userId, 'account.terms', { userId, version });
}

/**
 * Per profile: how accounts of the structure sign in and how many of them have (activated / signed in at least once).
 * The accounts of the home's profile table (structureAccountsSql): the two tables agree.
 */
export async function signInSummary(
  db: Queryable,
  structureId: string,
): Promise<Array<{ profile: Profile; signIn: SignIn; provider: string | null; total: number; activated: number; signedIn: number }>> {
  const policies = await loadPolicies(db, structureId);
  const res = await db.query(
    `SELECT u.profile, count(*)::int AS total, count(*) FILTER (WHERE u.activated_at IS NOT NULL)::int AS activated,
            count(*) FILTER (WHERE u.last_login_at IS NOT NULL)::int AS signed_in
     FROM ${structureAccountsSql('$1::uuid')} h JOIN users u ON u.id = h.id
     GROUP BY u.profile`,
    [structureId],
  );
  const counts = new Map(res.rows.map((r) => [r.profile as Profile, r]));
  return policies.map((p) => ({
    profile: p.profile,
    signIn: p.signIn,
    provider: p.provider,
    total: counts.get(p.profile)?.total ?? 0,
    activated: counts.get(p.profile)?.activated ?? 0,
    signedIn: counts.get(p.profile)?.signed_in ?? 0,
  }));
}
