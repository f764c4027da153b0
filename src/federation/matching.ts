// Which Trousseau account(s) a person signed in at an identity provider is: pure decision over rows the caller read
// (accounts.ts). Order (issue #12): a stored link (provider + subject); a key shared with the directory (AAF
// jointure = users.external_id, INE for pupils, a vouched-for e-mail address); for FranceConnect-type providers, family name +
// given name + birth date against relatives and pupils, names folded as logins are (directory/fold.ts).
import { foldName } from '../directory/fold.js';
import type { Profile } from '../directory/vocabulary.js';
import type { MatchKey } from './providers.js';

/** What a provider said about the person (OIDC claims or mapped SAML attributes); absent fields are null. */
export interface FederatedIdentity {
  /** Stable identifier at the provider (OIDC `sub`, SAML NameID or a configured attribute). */
  subject: string;
  /**
   * The person's directory identifiers (AAF jointure) the provider gives: several when the person has several
   * directory records (EduConnect's FrEduCtRefId, one `{AAF}…|…|<jointure>` per record: a parent of children in two
   * académies' feeds).
   */
  externalIds: string[];
  ine: string | null;
  email: string | null;
  /**
   * The provider vouches for `email` (OpenID Connect `email_verified: true`; a SAML IdP's signed attribute, which the
   * configuration names as the person's own mailbox). An address a provider lets its users type without proving it is
   * no key: whoever typed a teacher's address there would sign in as the teacher (matching step `email`).
   */
  emailVerified: boolean;
  familyName: string | null;
  /** Usage name when the provider sends one beside the birth name (FranceConnect `preferred_username`). */
  usageName: string | null;
  /** Given names, possibly several ("Marie Claire"). */
  givenName: string | null;
  /** YYYY-MM-DD. */
  birthDate: string | null;
  /** UAI of the structures the provider places the person in (FrEduCtEleveUAI, FrEduRne). */
  uais: string[];
  /** The profile an affiliation attribute gives (FrEduCtPersonAffiliation); null: any. */
  profile: Profile | null;
}

/** One account as matching needs it (read by accounts.ts). */
export interface CandidateAccount {
  id: string;
  login: string;
  profile: Profile;
  firstName: string;
  lastName: string;
  externalId: string | null;
  ine: string | null;
  email: string | null;
  /** The address is vouched for: proven by a link read in its mailbox (reset), or the académie's own mailbox given
   * by the AAF feed for a teacher or staff member (users.email_verified_at). A typed address is not: whoever holds
   * the same address at a provider would sign in as the account of the person who typed it. */
  emailVerified: boolean;
  /** YYYY-MM-DD or null. */
  birthDate: string | null;
  blocked: boolean;
  preDeleted: boolean;
  /** The provider is enabled for this account's profile in one of its structures (enablement.ts). */
  enabled: boolean;
  /** Already linked to this subject at this provider. */
  linked: boolean;
  /** UAIs of the account's structures (a relative's: its children's). */
  uais: string[];
}

export type MatchStep = 'link' | MatchKey;

export type MatchOutcome =
  | { kind: 'none' }
  /** The person was found, but may not sign in this way: every account found is blocked, or the provider is not
   * enabled for any of them. */
  | { kind: 'refused'; reason: 'blocked' | 'notEnabled'; step: MatchStep }
  /** One account (signs in), or several (the person picks one or links them). */
  | { kind: 'match'; step: MatchStep; accounts: CandidateAccount[] };

const sameText = (a: string | null, b: string | null): boolean => !!a && !!b && a.trim().toLowerCase() === b.trim().toLowerCase();

/**
 * Whether the directory's given name is the provider's given names or their first ones, word by word after folding:
 * FranceConnect sends every given name of the civil registry ("Jean Pierre Marie") where the school knows "Jean-Pierre".
 */
export function givenNameMatches(directory: string, provider: string): boolean {
  const d = foldName(directory);
  const p = foldName(provider);
  return !!d && (p === d || p.startsWith(`${d}-`));
}

/** The provider's family name (birth or usage name) and given name(s) are the account's, folded. */
export function namesMatch(id: Pick<FederatedIdentity, 'familyName' | 'usageName' | 'givenName'>, a: { firstName: string; lastName: string }): boolean {
  if (!id.givenName) return false;
  const last = foldName(a.lastName);
  const names = [id.familyName, id.usageName].filter((n): n is string => !!n).map(foldName);
  return !!last && names.includes(last) && givenNameMatches(a.firstName, id.givenName);
}

/** Family name (birth or usage name) + given name + birth date, folded; only relatives and pupils. */
function nameBirthDateMatches(id: FederatedIdentity, a: CandidateAccount): boolean {
  if (!id.birthDate || !id.givenName || a.birthDate !== id.birthDate) return false;
  if (a.profile !== 'Relative' && a.profile !== 'Student') return false;
  return namesMatch(id, a);
}

const STEP_TEST: Record<MatchKey, (id: FederatedIdentity, a: CandidateAccount) => boolean> = {
  // The AAF jointure / feed identifier is compared exactly: it is an opaque key.
  externalId: (id, a) => !!a.externalId && (id.externalIds ?? []).includes(a.externalId),
  ine: (id, a) => a.profile === 'Student' && sameText(id.ine, a.ine),
  email: (id, a) => id.emailVerified && a.emailVerified && sameText(id.email, a.email),
  nameBirthDate: nameBirthDateMatches,
};

/**
 * The accounts the person signs in as. `keys`: the provider's configured match keys (tried in MATCH_KEYS order after
 * the stored link); `accounts`: every account any step could pick (a superset is fine). Pre-deleted accounts never
 * match (as at password sign-in); the first step that finds someone decides: its usable accounts (enabled, not
 * blocked) match, or the person is refused with the reason. When the provider gives the person's structures (UAI)
 * and several accounts match, those in these structures are kept if any.
 */
export function matchAccounts(id: FederatedIdentity, keys: readonly MatchKey[], accounts: readonly CandidateAccount[]): MatchOutcome {
  const live = accounts.filter((a) => !a.preDeleted && (!id.profile || a.profile === id.profile));
  const steps: Array<[MatchStep, (a: CandidateAccount) => boolean]> = [['link', (a) => a.linked]];
  for (const k of ['externalId', 'ine', 'email', 'nameBirthDate'] as const) {
    if (keys.includes(k)) steps.push([k, (a) => STEP_TEST[k](id, a)]);
  }
  for (const [step, test] of steps) {
    const hits = (step === 'link' ? accounts.filter((a) => !a.preDeleted) : live).filter(test);
    if (hits.length === 0) continue;
    let usable = hits.filter((a) => a.enabled && !a.blocked);
    if (usable.length === 0) return { kind: 'refused', reason: hits.some((a) => a.enabled && a.blocked) ? 'blocked' : 'notEnabled', step };
    if (usable.length > 1 && id.uais.length > 0) {
      const inPlace = usable.filter((a) => a.uais.some((u) => id.uais.includes(u.toUpperCase())));
      if (inPlace.length > 0) usable = inPlace;
    }
    return { kind: 'match', step, accounts: usable.sort((a, b) => a.login.localeCompare(b.login)) };
  }
  return { kind: 'none' };
}
