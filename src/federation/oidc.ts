// OpenID Connect relying party (FranceConnect, an académie's or a région's IdP) with openid-client: authorization
// code + PKCE (S256), state and nonce; discovery or static metadata per provider; identity from the ID token and the
// userinfo claims given_name, family_name, birthdate, email (preferred_username: FranceConnect's usage name).
import * as oidc from 'openid-client';
import type { FederatedIdentity } from './matching.js';
import type { OidcProviderConfig } from './providers.js';

// One discovered configuration per provider configuration object (a test's providers never share an app's cache).
const configs = new WeakMap<OidcProviderConfig, Promise<oidc.Configuration>>();

/** The openid-client Configuration of a provider: discovered once (retried after a failure), or built from `metadata`. */
export function clientConfig(p: OidcProviderConfig): Promise<oidc.Configuration> {
  let c = configs.get(p);
  if (!c) {
    const auth = p.clientSecret ? oidc.ClientSecretPost(p.clientSecret) : oidc.None();
    const metadata = { client_id: p.clientId, ...(p.clientSecret ? { client_secret: p.clientSecret } : {}) };
    c = p.metadata
      ? Promise.resolve(new oidc.Configuration({ issuer: p.issuer, ...p.metadata }, p.clientId, metadata, auth))
      : oidc.discovery(new URL(p.issuer), p.clientId, metadata, auth, p.allowHttp ? { execute: [oidc.allowInsecureRequests] } : undefined);
    c = c.then((config) => {
      if (p.allowHttp && p.metadata) oidc.allowInsecureRequests(config);
      return config;
    });
    c.catch(() => configs.delete(p));
    configs.set(p, c);
  }
  return c;
}

export interface OidcStart {
  url: string;
  codeVerifier: string;
  nonce: string;
}

/** The authorization URL to send the browser to, with the secrets the callback must be checked against. */
export async function oidcAuthorizationUrl(p: OidcProviderConfig, redirectUri: string, state: string, force = false): Promise<OidcStart> {
  const config = await clientConfig(p);
  const codeVerifier = oidc.randomPKCECodeVerifier();
  const nonce = oidc.randomNonce();
  const url = oidc.buildAuthorizationUrl(config, {
    ...p.authorizationParams,
    redirect_uri: redirectUri,
    scope: p.scopes.join(' '),
    code_challenge: await oidc.calculatePKCECodeChallenge(codeVerifier),
    code_challenge_method: 'S256',
    state,
    nonce,
    // `force`: the person authenticates again, whatever session the provider has (OpenID Connect Core § 3.1.2.1).
    ...(force ? { prompt: 'login' } : {}),
  });
  return { url: url.href, codeVerifier, nonce };
}

const str = (v: unknown): string | null => (typeof v === 'string' && v.trim() ? v.trim() : null);

/**
 * Redeems the callback (`currentUrl`: the full URL the provider redirected to) for tokens and reads who the person is.
 * openid-client checks the state, the PKCE verifier, the ID token's signature, issuer, audience, expiry and nonce, and
 * that userinfo's `sub` is the ID token's. Throws on any failure (an error answer from the provider included).
 */
export async function oidcCallback(
  p: OidcProviderConfig, currentUrl: URL, checks: { state: string; codeVerifier: string; nonce: string },
): Promise<{ identity: FederatedIdentity; idToken: string | null }> {
  const config = await clientConfig(p);
  const tokens = await oidc.authorizationCodeGrant(config, currentUrl, {
    pkceCodeVerifier: checks.codeVerifier, expectedState: checks.state, expectedNonce: checks.nonce, idTokenExpected: true,
  });
  const claims = tokens.claims();
  if (!claims) throw new Error('no ID token');
  const info: Record<string, unknown> = { ...claims };
  if (config.serverMetadata().userinfo_endpoint) Object.assign(info, await oidc.fetchUserInfo(config, tokens.access_token, claims.sub));
  const birth = str(info.birthdate);
  return {
    identity: {
      subject: claims.sub,
      externalIds: [],
      ine: null,
      email: str(info.email),
      // Only an address the provider says it verified identifies the person (matching.ts, step `email`): many providers
      // let their users type any address, and OpenID Connect Core § 5.7 warns against trusting it otherwise.
      emailVerified: info.email_verified === true || info.email_verified === 'true',
      familyName: str(info.family_name),
      usageName: str(info.preferred_username),
      givenName: str(info.given_name),
      birthDate: birth && isCalendarDate(birth) ? birth : null,
      uais: [],
      profile: null,
    },
    idToken: tokens.id_token ?? null,
  };
}

/**
 * The provider's end-session URL (RP-initiated logout) when it has one, else null. With a `state`: FranceConnect
 * requires one (its logout refuses a request without it, and the FranceConnect session stayed open); Trousseau does
 * not need it back (the page it returns to only says the person is signed out).
 */
export async function oidcLogoutUrl(p: OidcProviderConfig, idToken: string | null, postLogoutRedirectUri: string): Promise<string | null> {
  const config = await clientConfig(p);
  if (!config.serverMetadata().end_session_endpoint) return null;
  return oidc.buildEndSessionUrl(config, {
    post_logout_redirect_uri: postLogoutRedirectUri, state: oidc.randomState(), ...(idToken ? { id_token_hint: idToken } : {}),
  }).href;
}

/** YYYY-MM-DD naming a day of the calendar (2026-02-30 is not). */
export function isCalendarDate(s: string): boolean {
  const m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(s);
  if (!m) return false;
  const d = new Date(Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3])));
  return d.toISOString().slice(0, 10) === s;
}
