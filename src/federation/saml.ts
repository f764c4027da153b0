// SAML 2.0 service provider (EduConnect, académie IdPs) with @node-saml/node-saml: SP-initiated Web SSO (AuthnRequest
// over HTTP-Redirect, Response over HTTP-POST), signed assertions required, InResponseTo checked against the one
// request this browser's flow sent (single use), SP metadata for the IdP's administrators, single logout (the IdP's
// LogoutResponse signed and answering the LogoutRequest this browser was sent with).
import { SAML, ValidateInResponseTo, type CacheProvider, type Profile } from '@node-saml/node-saml';
import { SaxesParser } from 'saxes';
import type { Profile as TrousseauProfile } from '../directory/vocabulary.js';
import type { FederatedIdentity } from './matching.js';
import { isCalendarDate } from './oidc.js';
import type { SamlProviderConfig } from './providers.js';

/** Our URLs for a provider, from the public URL of the ENT. */
export function samlUrls(publicUrl: string, p: SamlProviderConfig): { entityId: string; acs: string; metadata: string; logout: string } {
  const base = `${publicUrl}/federation/${p.id}`;
  return { entityId: p.spEntityId ?? `${base}/metadata`, acs: `${base}/acs`, metadata: `${base}/metadata`, logout: `${base}/deconnexion` };
}

/**
 * The request IDs node-saml may save and later expect in InResponseTo. `expected`: the ID this browser's flow sent
 * (null when starting); `sent` receives the ID of a new request. Removing it makes the response single use.
 */
class FlowRequestIds implements CacheProvider {
  sent: string | null = null;
  /** Whether node-saml asked for the expected ID (a message's InResponseTo matched it). */
  answered = false;
  constructor(private expected: string | null) {}
  async saveAsync(key: string, value: string) {
    this.sent = key;
    return { value, createdAt: Date.now() };
  }
  async getAsync(key: string) {
    // node-saml reads the value as the request's creation instant; the flow's own expiry (flows.ts) bounds it.
    if (key !== this.expected) return null;
    this.answered = true;
    return new Date().toISOString();
  }
  async removeAsync(key: string | null) {
    if (key !== this.expected) return null;
    this.expected = null;
    return key;
  }
}

/** How far the IdP's clock may be from ours (NotBefore, NotOnOrAfter). */
export const CLOCK_SKEW_MS = 3 * 60_000;

function client(publicUrl: string, p: SamlProviderConfig, ids: CacheProvider, inResponseTo = ValidateInResponseTo.always, forceAuthn = false): SAML {
  const urls = samlUrls(publicUrl, p);
  return new SAML({
    callbackUrl: urls.acs,
    entryPoint: p.entryPoint,
    issuer: urls.entityId,
    audience: urls.entityId,
    idpCert: p.idpCert,
    ...(p.idpIssuer ? { idpIssuer: p.idpIssuer } : {}),
    // The assertion itself must carry a valid signature by the IdP's key (an unsigned one inside a signed response
    // is refused too); the response envelope may be signed or not, as IdPs differ.
    wantAssertionsSigned: true,
    wantAuthnResponseSigned: false,
    validateInResponseTo: inResponseTo,
    requestIdExpirationPeriodMs: 10 * 60_000,
    // The IdP's clock and ours differ by seconds, sometimes more: without leeway an assertion issued by a clock ahead
    // of ours is « not yet valid » (NotBefore) and the person is refused at random. Three minutes, as Shibboleth's
    // service provider allows by default.
    acceptedClockSkewMs: CLOCK_SKEW_MS,
    cacheProvider: ids,
    identifierFormat: p.nameIdFormat ?? null,
    disableRequestedAuthnContext: true,
    // ForceAuthn: the IdP authenticates the person again rather than answering from its own session.
    forceAuthn,
    ...(p.logoutUrl ? { logoutUrl: p.logoutUrl, logoutCallbackUrl: urls.logout } : {}),
    ...(p.spPrivateKey ? { privateKey: p.spPrivateKey, signatureAlgorithm: 'sha256' as const } : {}),
  });
}

/** The IdP URL to send the browser to, and the AuthnRequest ID its answer must carry. */
export async function samlAuthorizationUrl(publicUrl: string, p: SamlProviderConfig, relayState: string, force = false): Promise<{ url: string; requestId: string }> {
  const ids = new FlowRequestIds(null);
  const url = await client(publicUrl, p, ids, ValidateInResponseTo.always, force).getAuthorizeUrlAsync(relayState, undefined, {});
  if (!ids.sent) throw new Error('node-saml saved no request ID');
  return { url, requestId: ids.sent };
}

/** SP metadata XML (entity ID, ACS, SLO, our certificate when configured). */
export function samlMetadata(publicUrl: string, p: SamlProviderConfig): string {
  return client(publicUrl, p, new FlowRequestIds(null)).generateServiceProviderMetadata(null, p.spCert ?? null);
}

/** What signing out at the IdP needs, kept with the session. */
export interface SamlSession {
  nameId: string;
  nameIdFormat: string;
  sessionIndex: string | null;
}

/**
 * Checks a posted SAMLResponse: signature of the assertion by the IdP's certificate, issuer, audience, time
 * conditions, and InResponseTo = `requestId` (the request of this flow). Throws on any failure.
 */
export async function samlValidate(
  publicUrl: string, p: SamlProviderConfig, samlResponse: string, requestId: string,
): Promise<{ identity: FederatedIdentity; session: SamlSession }> {
  const { profile } = await client(publicUrl, p, new FlowRequestIds(requestId)).validatePostResponseAsync({ SAMLResponse: samlResponse });
  if (!profile) throw new Error('no assertion');
  return { identity: mapAttributes(p, profile), session: { nameId: profile.nameID, nameIdFormat: profile.nameIDFormat, sessionIndex: profile.sessionIndex ?? null } };
}

function first(v: unknown): string | null {
  const x = Array.isArray(v) ? v[0] : v;
  return typeof x === 'string' && x.trim() ? x.trim() : null;
}
function all(v: unknown): string[] {
  return (Array.isArray(v) ? v : [v]).filter((x): x is string => typeof x === 'string' && !!x.trim()).map((x) => x.trim());
}

interface ParsedAttribute {
  $?: { Name?: string; FriendlyName?: string };
}

/**
 * The assertion's attributes by Name and by FriendlyName. EduConnect (a Shibboleth IdP) names them by OID
 * (`urn:oid:1.3.6.1.4.1.20326.10.999.1.7`) and gives the name people know as FriendlyName
 * (`FrEduCtPersonAffiliation`); node-saml keys them by Name only, so a configuration written with the known names
 * read nothing and nobody was ever matched. A Name wins over another attribute's FriendlyName.
 */
function assertionAttributes(profile: Profile): Map<string, unknown> {
  const byName = new Map(Object.entries((profile.attributes ?? {}) as Record<string, unknown>));
  const assertion = (profile.getAssertion?.() as { Assertion?: { AttributeStatement?: Array<{ Attribute?: ParsedAttribute[] }> } } | undefined)?.Assertion;
  for (const statement of assertion?.AttributeStatement ?? []) {
    for (const at of statement.Attribute ?? []) {
      const name = at.$?.Name;
      const friendly = at.$?.FriendlyName;
      if (name && friendly && byName.has(name) && !byName.has(friendly)) byName.set(friendly, byName.get(name));
    }
  }
  return byName;
}

/**
 * The directory identifiers an attribute's values give. EduConnect's FrEduCtRefId is one value per directory record
 * the person has, `{AAF}<académie>|<…>|<jointure>`: the jointure is our users.external_id (import/aaf.ts
 * ENTPersonJointure); a value from another source (`{SIECLE}…`) names no record of ours. A plain value (an IdP
 * sending the jointure itself) is the identifier.
 */
export function directoryIds(values: string[]): string[] {
  const ids = new Set<string>();
  for (const v of values) {
    const vector = /^\{([^}]*)\}(.*)$/.exec(v);
    if (!vector) {
      ids.add(v);
      continue;
    }
    const parts = vector[2].split('|');
    const jointure = parts[parts.length - 1]?.trim();
    if (vector[1].toUpperCase() === 'AAF' && parts.length === 3 && jointure) ids.add(jointure);
  }
  return [...ids];
}

/**
 * The identity an assertion states, read through the provider's attribute map (providers.ts), each attribute by its
 * Name or its FriendlyName. EduConnect dates may come as YYYY-MM-DD or DD/MM/YYYY; an affiliation value outside the
 * map gives no profile restriction.
 */
export function mapAttributes(p: SamlProviderConfig, profile: Profile): FederatedIdentity {
  const a = p.attributes;
  const values = assertionAttributes(profile);
  const attr = (name: string | undefined): unknown => (name ? values.get(name) : undefined);
  const subject = a.subject ? first(attr(a.subject)) : profile.nameID;
  if (!subject) throw new Error('no subject');
  let birth = first(attr(a.birthDate));
  const fr = birth ? /^(\d{2})\/(\d{2})\/(\d{4})$/.exec(birth) : null;
  if (fr) birth = `${fr[3]}-${fr[2]}-${fr[1]}`;
  let profileOf: TrousseauProfile | null = null;
  if (a.profile) {
    for (const v of all(attr(a.profile.attribute))) profileOf ??= a.profile.values[v] ?? null;
  }
  return {
    subject,
    externalIds: directoryIds(all(attr(a.externalId))),
    ine: first(attr(a.ine)),
    email: first(attr(a.email)),
    // A signed attribute the configuration names as the person's mailbox at the IdP (the académie's own: `ctemail`).
    emailVerified: true,
    familyName: first(attr(a.familyName)),
    usageName: null,
    givenName: first(attr(a.givenName)),
    birthDate: birth && isCalendarDate(birth) ? birth : null,
    uais: all(attr(a.uai)).map((u) => u.toUpperCase()),
    profile: profileOf,
  };
}

/**
 * The IdP's single logout URL for this session (a signed LogoutRequest when we have a key, `relayState` to come back
 * with the answer) and the ID of that LogoutRequest, which the IdP's LogoutResponse must answer
 * (samlValidateLogoutResponse); null without a logout URL.
 */
export async function samlLogoutUrl(
  publicUrl: string, p: SamlProviderConfig, s: SamlSession, relayState: string,
): Promise<{ url: string; requestId: string } | null> {
  if (!p.logoutUrl) return null;
  const profile: Profile = { issuer: p.idpIssuer ?? '', nameID: s.nameId, nameIDFormat: s.nameIdFormat, ...(s.sessionIndex ? { sessionIndex: s.sessionIndex } : {}) };
  const ids = new FlowRequestIds(null);
  const url = await client(publicUrl, p, ids).getLogoutUrlAsync(profile, relayState, {});
  if (!ids.sent) throw new Error('node-saml saved no logout request ID');
  return { url, requestId: ids.sent };
}

/** The IdP's LogoutResponse as it came: HTTP-Redirect (the query, parsed and raw for the signed octets) or HTTP-POST. */
export type LogoutResponseMessage =
  | { binding: 'redirect'; query: Record<string, unknown>; rawQuery: string }
  | { binding: 'post'; samlResponse: string };

/**
 * Checks the IdP's LogoutResponse: signed by the IdP's certificate (HTTP-Redirect: SigAlg and Signature over the
 * query; HTTP-POST: the whole message), issuer when configured, status Success, and InResponseTo = `requestId`, the
 * LogoutRequest this sign-out sent. node-saml checks a redirect's signature only when there is one and its
 * InResponseTo only when present, and a posted LogoutResponse's signature only: the rest is required here.
 * Throws on any failure.
 */
export async function samlValidateLogoutResponse(publicUrl: string, p: SamlProviderConfig, message: LogoutResponseMessage, requestId: string): Promise<void> {
  const ids = new FlowRequestIds(requestId);
  // A posted message's InResponseTo is looked for on a <Response> only: checked below, on the LogoutResponse.
  const saml = client(publicUrl, p, ids, message.binding === 'redirect' ? ValidateInResponseTo.always : ValidateInResponseTo.never);
  if (message.binding === 'redirect') {
    const fields = Object.fromEntries(Object.entries(message.query).filter((e): e is [string, string] => typeof e[1] === 'string'));
    if (!fields.SAMLResponse) throw new Error('no SAMLResponse');
    if (!fields.Signature || !fields.SigAlg) throw new Error('unsigned LogoutResponse');
    await saml.validateRedirectAsync(fields, message.rawQuery);
    if (!ids.answered) throw new Error('LogoutResponse without InResponseTo');
    return;
  }
  const { loggedOut } = await saml.validatePostResponseAsync({ SAMLResponse: message.samlResponse });
  if (!loggedOut) throw new Error('not a LogoutResponse');
  // The signature checked covers the whole document (its root): its attributes and status can be read from it.
  const facts = logoutResponseFacts(Buffer.from(message.samlResponse, 'base64').toString('utf8'));
  if (facts.inResponseTo !== requestId) throw new Error('InResponseTo is not valid');
  if (facts.status !== SUCCESS) throw new Error(`bad status: ${facts.status}`);
}

const SUCCESS = 'urn:oasis:names:tc:SAML:2.0:status:Success';
const PROTOCOL = 'urn:oasis:names:tc:SAML:2.0:protocol';

/** The root LogoutResponse's InResponseTo and its top-level StatusCode (saml-core §3.2.2). */
function logoutResponseFacts(xml: string): { inResponseTo: string | null; status: string | null } {
  const parser = new SaxesParser({ xmlns: true });
  const path: string[] = [];
  let inResponseTo: string | null = null;
  let status: string | null = null;
  parser.on('opentag', (tag) => {
    const name = tag.uri === PROTOCOL ? tag.local : `{${tag.uri}}${tag.local}`;
    if (path.length === 0) {
      if (name !== 'LogoutResponse') throw new Error('not a LogoutResponse');
      inResponseTo = tag.attributes.InResponseTo?.value ?? null;
    } else if (name === 'StatusCode' && path.join('/') === 'LogoutResponse/Status') status = tag.attributes.Value?.value ?? null;
    path.push(name);
  });
  parser.on('closetag', () => void path.pop());
  parser.write(xml).close();
  return { inResponseTo, status };
}
