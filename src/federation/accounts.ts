// The database side of a federated sign-in: the accounts a provider's answer could be (read for matching.ts), the
// link, activation and terms acceptance of the account the person signs in as, and what signing out needs.
import type pg from 'pg';
import { withTransaction } from '../accounts/tx.js';
import { unlinkable } from '../mail/compose.js';
import { enqueueMail } from '../mail/queue.js';
import type { Queryable } from '../db/index.js';
import { recordAudit } from '../directory/audit.js';
import { accountStructuresSql, termsDue } from '../directory/policies.js';
import type { Profile } from '../directory/vocabulary.js';
import { namesMatch, type CandidateAccount, type FederatedIdentity } from './matching.js';
import type { MatchKey, ProviderConfig } from './providers.js';

/**
 * Every account the identity could match at any step the provider uses (a superset: matching.ts decides). Super
 * admins are never reached (they have no directory identity). Name + birth date candidates are read by birth date
 * among relatives and pupils, names compared after folding in matching.ts.
 */
export async function loadCandidates(db: Queryable, p: ProviderConfig, id: FederatedIdentity): Promise<CandidateAccount[]> {
  const uses = (k: MatchKey): boolean => p.match.includes(k);
  const res = await db.query(
    `SELECT u.id, u.login, u.profile, u.first_name, u.last_name, u.external_id, u.ine, u.email, u.email_verified_at IS NOT NULL AS email_verified,
            to_char(u.birth_date, 'YYYY-MM-DD') AS birth_date,
            u.blocked, u.pre_deleted_at IS NOT NULL AS pre_deleted,
            EXISTS (SELECT 1 FROM federation_enabled fe WHERE fe.provider_id = $1 AND fe.profile = u.profile
                    AND fe.structure_id IN ${accountStructuresSql('u')}) AS enabled,
            EXISTS (SELECT 1 FROM federation_links fl WHERE fl.provider_id = $1 AND fl.subject = $2 AND fl.user_id = u.id) AS linked,
            ARRAY(SELECT s.uai FROM structures s WHERE s.uai IS NOT NULL AND s.id IN ${accountStructuresSql('u')}) AS uais
     FROM users u
     WHERE NOT u.is_super_admin AND (
       u.id IN (SELECT fl.user_id FROM federation_links fl WHERE fl.provider_id = $1 AND fl.subject = $2)
       OR u.external_id = ANY($3::text[]) OR upper(u.ine) = upper($4) OR lower(u.email) = lower($5)
       OR (u.birth_date = $6::date AND u.profile IN ('Relative', 'Student')))
     ORDER BY u.login LIMIT 500`,
    [p.id, id.subject, uses('externalId') ? (id.externalIds ?? []) : [], uses('ine') ? id.ine : null, uses('email') ? id.email : null,
      uses('nameBirthDate') ? id.birthDate : null],
  );
  return res.rows.map((r) => ({
    id: r.id,
    login: r.login,
    profile: r.profile as Profile,
    firstName: r.first_name,
    lastName: r.last_name,
    externalId: r.external_id,
    ine: r.ine,
    email: r.email,
    emailVerified: r.email_verified,
    birthDate: r.birth_date,
    blocked: r.blocked,
    preDeleted: r.pre_deleted,
    enabled: r.enabled,
    linked: r.linked,
    uais: r.uais as string[],
  }));
}

/** Whether these accounts still exist unactivated (the choice page asks for the terms then). */
export async function unactivated(db: Queryable, userIds: string[]): Promise<Set<string>> {
  const r = await db.query('SELECT id FROM users WHERE id = ANY($1::uuid[]) AND activated_at IS NULL', [userIds]);
  return new Set(r.rows.map((x) => x.id as string));
}

export interface CompletedSignIn {
  userId: string;
  /** This sign-in activated the account (first sign-in). */
  activated: boolean;
}

/**
 * Links the subject to `userId` (and to `alsoLink`, the other accounts the person chose to link), and on a first
 * sign-in activates the account: no code needed, the remaining activation code consumed, the terms accepted (the
 * version in force), the provider's e-mail kept when the account has none and the provider verified it. Returns null when the account became
 * blocked or pre-deleted meanwhile (refused as at password sign-in).
 */
export async function completeSignIn(
  db: pg.Pool, p: ProviderConfig, id: FederatedIdentity, userId: string, alsoLink: string[], ip: string,
): Promise<CompletedSignIn | null> {
  const terms = await termsDue(db, userId);
  return withTransaction(db, async (client) => {
    const u = await client.query('SELECT activated_at FROM users WHERE id = $1 AND NOT blocked AND pre_deleted_at IS NULL FOR UPDATE', [userId]);
    if (u.rowCount !== 1) return null;
    for (const uid of [userId, ...alsoLink.filter((x) => x !== userId)]) {
      await client.query(
        `INSERT INTO federation_links (provider_id, subject, user_id, provider_name, last_login_at) VALUES ($1, $2, $3::uuid, $4, CASE WHEN $3::uuid = $5::uuid THEN now() END)
         ON CONFLICT (provider_id, subject, user_id) DO UPDATE SET provider_name = $4, last_login_at = CASE WHEN $3::uuid = $5::uuid THEN now() ELSE federation_links.last_login_at END`,
        [p.id, id.subject, uid, p.label, userId],
      );
    }
    const first = u.rows[0].activated_at === null;
    if (first) {
      await client.query(
        `UPDATE users SET activated_at = now(), terms_accepted_at = now(), terms_version = $2, email = coalesce(email, $3),
           activation_code_enc = NULL, activation_code_mac = NULL, activation_code_expires_at = NULL, updated_at = now()
         WHERE id = $1`,
        // Only an address the provider vouches for (an unproven one could be anyone's: the family mail sends there).
        [userId, terms?.version ?? null, id.emailVerified ? id.email : null],
      );
      await recordAudit(client, userId, 'account.activate', { userId, provider: p.id, ip });
    }
    if (alsoLink.length) await recordAudit(client, userId, 'federation.link', { provider: p.id, userIds: [userId, ...alsoLink] });
    await recordAudit(client, userId, 'auth.login', { ip, provider: p.id });
    return { userId, activated: first };
  });
}

/**
 * Why an account the person proved theirs (its password, or its activation) may not be linked to a provider's
 * identity that matched nobody: a super admin (no directory identity, never reached by a provider); a profile the
 * provider said the person is not (SAML affiliation); the provider not enabled for the account's profile in any of its
 * structures (enablement.ts); already linked to another subject at this provider (one person per account there —
 * the administrator unlinks first); blocked, pre-deleted or not activated (`unusable`); proven by an activation only,
 * an identity whose names are not the account's (`names`: the next person at a shared computer activating her own
 * account on the page left open with someone else's pending answer).
 */
export type LinkRefusal = 'superAdmin' | 'profile' | 'notEnabled' | 'linkedElsewhere' | 'unusable' | 'names';

/**
 * Links the provider's identity (`id`, which matched no account) to `userId`, whose owner proved it (`via`):
 * every rule of LinkRefusal checked again under the account's row lock, the link made (federation_links, as
 * completeSignIn does), audited as federation.link with auth.login, in one transaction. The account's address, if
 * it has one, is told (`notice`, queued in the same transaction): whoever else knew the password now has a way in
 * that outlives it, and only the owner can say the link is not theirs (the school undoes it: links.ts).
 * Returns the refusal, or null.
 */
export async function linkProvenAccount(
  db: pg.Pool,
  p: ProviderConfig,
  id: FederatedIdentity,
  userId: string,
  via: 'password' | 'activation',
  ip: string,
  notice?: (account: { firstName: string; login: string }) => { subject: string; text: string },
): Promise<LinkRefusal | null> {
  return withTransaction(db, async (client) => {
    const r = await client.query(
      `SELECT u.profile, u.is_super_admin, u.email, u.first_name, u.last_name, u.login, u.blocked OR u.pre_deleted_at IS NOT NULL OR u.activated_at IS NULL AS unusable,
              EXISTS (SELECT 1 FROM federation_enabled fe WHERE fe.provider_id = $2 AND fe.profile = u.profile
                      AND fe.structure_id IN ${accountStructuresSql('u')}) AS enabled,
              EXISTS (SELECT 1 FROM federation_links fl WHERE fl.provider_id = $2 AND fl.user_id = u.id AND fl.subject <> $3) AS linked_elsewhere
       FROM users u WHERE u.id = $1 FOR UPDATE OF u`,
      [userId, p.id, id.subject],
    );
    const u = r.rows[0];
    const refusal: LinkRefusal | null = !u
      ? 'unusable'
      : u.is_super_admin
        ? 'superAdmin'
        : u.unusable
          ? 'unusable'
          : id.profile && id.profile !== u.profile
            ? 'profile'
            : !u.enabled
              ? 'notEnabled'
              : u.linked_elsewhere
                ? 'linkedElsewhere'
                : // An activation proves only that the letter's code was typed in this browser — by whoever sat there next,
                  // on the page left open with someone else's pending answer: the provider must name the account's owner
                  // (a provider giving no name proves nobody: its person links with the new password instead).
                  via === 'activation' && !namesMatch(id, { firstName: u.first_name, lastName: u.last_name })
                  ? 'names'
                  : null;
    if (refusal) {
      await recordAudit(client, userId, 'federation.link_refused', { provider: p.id, subject: id.subject, via, reason: refusal, ip });
      return refusal;
    }
    // Marked as resting on the proof (`via`): the link goes when the password is replaced (signins.ts passwordReplaced).
    await client.query(
      `INSERT INTO federation_links (provider_id, subject, user_id, provider_name, last_login_at, proven_by) VALUES ($1, $2, $3, $4, now(), $5)
       ON CONFLICT (provider_id, subject, user_id) DO UPDATE SET provider_name = $4, last_login_at = now(), proven_by = $5`,
      [p.id, id.subject, userId, p.label, via],
    );
    await recordAudit(client, userId, 'federation.link', { provider: p.id, subject: id.subject, userIds: [userId], via, ip });
    await recordAudit(client, userId, 'auth.login', { ip, provider: p.id });
    const email = (u.email as string | null)?.trim();
    if (email && notice) {
      await enqueueMail(client, { userId, kind: 'federation_link', recipient: email, ...notice({ firstName: unlinkable(u.first_name), login: u.login }) });
    }
    return null;
  });
}

/** What signing out at the provider needs, kept with the Trousseau session (deleted with it). */
export interface ProviderSession {
  providerId: string;
  idToken: string | null;
  nameId: string | null;
  nameIdFormat: string | null;
  sessionIndex: string | null;
}

export async function saveProviderSession(db: Queryable, sessionIdHash: string, s: ProviderSession): Promise<void> {
  await db.query(
    `INSERT INTO federation_sessions (session_id_hash, provider_id, id_token, name_id, name_id_format, session_index) VALUES ($1, $2, $3, $4, $5, $6)
     ON CONFLICT (session_id_hash) DO NOTHING`,
    [sessionIdHash, s.providerId, s.idToken, s.nameId, s.nameIdFormat, s.sessionIndex],
  );
}

export async function providerSession(db: Queryable, sessionIdHash: string): Promise<ProviderSession | null> {
  const r = await db.query('SELECT * FROM federation_sessions WHERE session_id_hash = $1', [sessionIdHash]);
  const x = r.rows[0];
  return x ? { providerId: x.provider_id, idToken: x.id_token, nameId: x.name_id, nameIdFormat: x.name_id_format, sessionIndex: x.session_index } : null;
}
