// What Trousseau tells the ENT's applications about a user (ID token and userinfo claims), and who gets no
// token at all. Scopes:
//   openid          sub (the account's uuid: stable across renames, unlike the login)
//   profile         name, given_name, family_name, preferred_username and login (the Trousseau login)
//   email           email and email_verified — only for an address with a verification date (users.email_verified_at,
//                   migration 0021: cleared whenever the address changes; set by a reset link read in the mailbox,
//                   or by an AAF import for the académie mailbox of a teacher or staff member, import/plan.ts
//                   feedVouchesForEmail); an unverified address is never released
//   ent             ent_profile (Student, Relative, Teacher, Personnel, Guest: users.profile), structures
//                   ([{ uai, name }]: the account's own, and a parent's through the children, as distribution rules
//                   count them) and classes ([{ name, uai }])
//   offline_access  refresh tokens (issued to every registered application anyway, see provider.ts)
import type { SignInMethod } from '../accounts/signins.js';
import type { Queryable } from '../db/index.js';
import { accountStructuresSql, passwordRefusedSql } from '../directory/policies.js';

export const SCOPES = ['openid', 'profile', 'email', 'ent', 'offline_access'] as const;
export type Scope = (typeof SCOPES)[number];

/** Claims per scope, as oidc-provider's `claims` configuration wants them. */
export const SCOPE_CLAIMS: Record<Exclude<Scope, 'offline_access'>, string[]> = {
  openid: ['sub'],
  profile: ['name', 'given_name', 'family_name', 'preferred_username', 'login'],
  email: ['email', 'email_verified'],
  ent: ['ent_profile', 'structures', 'classes'],
};

export interface EntClaims {
  sub: string;
  name: string;
  given_name: string;
  family_name: string;
  preferred_username: string;
  login: string;
  email?: string;
  email_verified?: boolean;
  ent_profile: string;
  structures: Array<{ uai: string | null; name: string }>;
  classes: Array<{ name: string; uai: string | null }>;
}

/**
 * How the sign-in behind the provider's session was made, as oidc-provider carries it from the login interaction to
 * the session, the authorization codes and the refresh tokens (`amr`, RFC 8176; not released to applications: no
 * scope names it): 'pwd' for the Trousseau password, 'fed' for an identity provider (the value Microsoft's provider
 * uses for a federated sign-in). Stored per row as oidc_payloads.signed_in_with (migration 0032).
 */
export const AMR: Record<SignInMethod, string> = { password: 'pwd', provider: 'fed' };

/** The sign-in method an `amr` says, null when it says none (rows written before migration 0032). */
export function signInOfAmr(amr: unknown): SignInMethod | null {
  if (!Array.isArray(amr)) return null;
  if (amr.includes(AMR.password)) return 'password';
  return amr.includes(AMR.provider) ? 'provider' : null;
}

/** Why an account gets no code or token: the sign-in rules (blocked, pre-deleted) and the distribution rules
 *  (signs in only with an external provider: src/directory/policies.ts), or null when it may have one. */
export type Refusal = 'blocked' | 'preDeleted' | 'external';

const ACCOUNT_SQL = `
  SELECT u.id, u.login, u.first_name, u.last_name, u.profile, u.email, u.email_verified_at, u.blocked, u.pre_deleted_at,
    ${passwordRefusedSql('u')} AS external_provider,
    EXISTS (SELECT 1 FROM federation_links fl WHERE fl.user_id = u.id) AS federated,
    COALESCE((SELECT json_agg(json_build_object('uai', s.uai, 'name', s.name) ORDER BY s.name)
              FROM structures s WHERE s.id IN ${accountStructuresSql('u')}), '[]') AS structures,
    COALESCE((SELECT json_agg(json_build_object('name', c.name, 'uai', s.uai) ORDER BY s.name, c.name)
              FROM user_classes uc JOIN classes c ON c.id = uc.class_id JOIN structures s ON s.id = c.structure_id
              -- Absent from its feed (grace period): no class, as the class view has none (web/auth.ts USER_SQL).
              WHERE uc.user_id = u.id AND u.absent_since IS NULL), '[]') AS classes
  FROM users u WHERE u.id = $1`;

/**
 * The refusal that applies to an account row (first of blocked, pre-deleted, external-only) signed in by `how`.
 * External-only is the sign-in page's rule (passwordRefusedSql: every structure of the account says so for its
 * profile — a parent or a teacher shared with a school that keeps passwords signs in with one, and its applications
 * get tokens: one school's « Paramètres » do not shut another's users out of the ENT). An external-only account
 * linked to its identity provider (federation_links, src/federation/) and signed in there gets tokens; signed in with
 * its password — a session or a token obtained before its schools refused it (a « Paramètres » save, an import) —,
 * or in a way not known (`how` null: tokens older than migration 0032), it gets none, as the sign-in page refuses
 * that password; one never linked has no way in but a password it must not use.
 */
function refusalOf(r: Record<string, unknown>, how: SignInMethod | null): Refusal | null {
  if (r.blocked) return 'blocked';
  if (r.pre_deleted_at) return 'preDeleted';
  if (r.external_provider && !(r.federated && how === 'provider')) return 'external';
  return null;
}

/**
 * An account's claims, or a refusal; null when no such account (`userId` not a uuid included). `how`: how the
 * session or the token asking was signed in (null: not known, taken as the password's).
 * Checked on every use (interaction, code and refresh token exchanges, userinfo): blocking an account stops its
 * applications at their next refresh, and so does a password its schools now refuse.
 */
export async function accountClaims(db: Queryable, userId: string, how: SignInMethod | null = null): Promise<{ claims: EntClaims } | { refused: Refusal } | null> {
  if (!/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i.test(userId)) return null;
  const { rows } = await db.query(ACCOUNT_SQL, [userId]);
  const r = rows[0];
  if (!r) return null;
  const refused = refusalOf(r, how);
  if (refused) return { refused };
  const verified = !!r.email && !!r.email_verified_at;
  return {
    claims: {
      sub: r.id,
      name: `${r.first_name} ${r.last_name}`,
      given_name: r.first_name,
      family_name: r.last_name,
      preferred_username: r.login,
      login: r.login,
      ...(verified ? { email: r.email as string, email_verified: true } : {}),
      ent_profile: r.profile,
      structures: r.structures,
      classes: r.classes,
    },
  };
}
