// Trousseau as the ENT's OpenID provider: oidc-provider configured for the ENT's applications (authorization code
// + PKCE, refresh tokens, userinfo, ID token with the scopes' claims), storage and keys in PostgreSQL, sign-in
// through Trousseau's own session (src/oidc/interactions.ts).
//
// The provider is built on first use, not at start-up: the issuer is TROUSSEAU_PUBLIC_URL + /oidc, which tests
// only know once the server listens; the signing keys come from the database; and oidc-provider (whose v9 prints
// an "unsupported runtime" warning on Node 20, where it runs — URL.parse is there since 20.18) is only loaded
// when someone uses it.
import type { Configuration, FindAccount, KoaContextWithOIDC, Provider } from 'oidc-provider';
import { sessionSignIn, type SignInMethod } from '../accounts/signins.js';
import type { AppContext } from '../context.js';
import type { Queryable } from '../db/index.js';
import { loadSession, SESSION_COOKIE } from '../web/auth.js';
import { postgresAdapter, storedSignIn } from './adapter.js';
import { accountClaims, SCOPE_CLAIMS, SCOPES, signInOfAmr } from './claims.js';
import { cookieKeys, loadSigningKeys } from './keys.js';

/** Where the provider is mounted (its issuer is publicUrl + OIDC_PREFIX). */
export const OIDC_PREFIX = '/oidc';

/** Lifetimes in seconds. The provider's session matches Trousseau's (8 h from sign-in). */
export const TTL = {
  AccessToken: 3600,
  AuthorizationCode: 60,
  IdToken: 3600,
  RefreshToken: 30 * 86_400,
  Grant: 30 * 86_400,
  Interaction: 3600,
  Session: 8 * 3600,
} as const;

export function issuerOf(ctx: AppContext): string {
  return `${ctx.config.publicUrl}${OIDC_PREFIX}`;
}

/**
 * Trousseau's signed-in account behind the request's session cookie and how that session was opened (null when none,
 * blocked or pre-deleted).
 */
async function trousseauSignIn(app: AppContext, ctx: KoaContextWithOIDC): Promise<{ userId: string; how: SignInMethod; openedAt: number } | null> {
  const token = ctx.cookies.get(SESSION_COOKIE);
  if (!token) return null;
  const s = await loadSession(app.database.pool, token);
  return s ? { userId: s.user.id, how: await sessionSignIn(app.database.pool, s.idHash), openedAt: s.openedAt } : null;
}

/**
 * How the sign-in behind what asks for the account was made: the code's or refresh token's `amr`, the access token's
 * stored method (it has no `amr`: migration 0032), or, at the authorization endpoint, the provider session's `amr`.
 * Null when not known (issued before migration 0032), which the rules take as the password's.
 */
async function signInBehind(db: Queryable, ctx: KoaContextWithOIDC, token: Parameters<FindAccount>[2]): Promise<SignInMethod | null> {
  if (!token) return signInOfAmr(ctx.oidc?.session?.amr);
  if (token.kind === 'AccessToken') return storedSignIn(db, token.kind, token.jti);
  return signInOfAmr((token as { amr?: unknown }).amr);
}

export async function buildProvider(app: AppContext): Promise<Provider> {
  const { default: OidcProvider, interactionPolicy } = await import('oidc-provider');
  const pool = app.database.pool;
  const keys = await loadSigningKeys(pool, app.secrets);

  // Sessions are Trousseau's: the provider's own session only counts while the Trousseau session of the same
  // account is alive (signing out of Trousseau, or signing in as someone else, asks for the login again), and says
  // how that session was opened (`amr`, given by the interaction: src/oidc/routes.ts), which codes and tokens carry.
  const policy = interactionPolicy.base();
  policy.get('login')?.checks.add(
    new interactionPolicy.Check('trousseau_session', 'the Trousseau session ended, belongs to another account, was opened otherwise, or the account is refused', async (ctx) => {
      const accountId = ctx.oidc.session?.accountId;
      if (!accountId) return interactionPolicy.Check.NO_NEED_TO_PROMPT; // no_session asks already
      // Refused since (blocked, pre-deleted, external-only — its password refused since the provider's session was
      // signed in with it, by a « Paramètres » save or an import: findAccount found nothing): the interaction says so.
      if (!ctx.oidc.account) return interactionPolicy.Check.REQUEST_PROMPT;
      const t = await trousseauSignIn(app, ctx);
      if (t?.userId !== accountId) return interactionPolicy.Check.REQUEST_PROMPT;
      // Signed out and in again otherwise (with the password after the identity provider, or the reverse, or before
      // migration 0032: no `amr`): the login is given again, so that the codes say how this session was opened.
      if (signInOfAmr(ctx.oidc.session?.amr) !== t.how) return interactionPolicy.Check.REQUEST_PROMPT;
      // Signed in again the same way: the login is given again too, so that auth_time is that sign-in's (routes.ts).
      return ctx.oidc.session?.loginTs === Math.floor(t.openedAt) ? interactionPolicy.Check.NO_NEED_TO_PROMPT : interactionPolicy.Check.REQUEST_PROMPT;
    }),
  );

  const configuration: Configuration = {
    // An access token takes its sign-in method from the code or refresh token exchanged (the request's context).
    adapter: postgresAdapter(pool, app.secrets, () => {
      const e = OidcProvider.ctx?.oidc?.entities;
      return e?.RefreshToken ?? e?.AuthorizationCode;
    }),
    clients: [],
    jwks: { keys },
    cookies: { keys: cookieKeys(app.config.secretKey) },
    scopes: [...SCOPES],
    claims: SCOPE_CLAIMS,
    // The ID token carries the claims of the granted scopes too (not only userinfo): the ENT's applications
    // often read it alone.
    conformIdTokenClaims: false,
    // Checked on every use: interaction, code and refresh token exchanges, userinfo. A blocked, pre-deleted or
    // external-only account is "not found": oidc-provider then refuses the grant (invalid_grant) or the token. An
    // external-only account linked to its provider is found only for what was signed in there: a token obtained with
    // the password before its schools refused it (a « Paramètres » save, an import) stops at its next use.
    async findAccount(ctx, sub, token) {
      const found = await accountClaims(pool, sub, await signInBehind(pool, ctx, token));
      if (!found || 'refused' in found) return undefined;
      return { accountId: sub, claims: () => ({ ...found.claims }) };
    },
    interactions: { url: (_ctx, interaction) => `${OIDC_PREFIX}/interaction/${interaction.uid}`, policy },
    features: {
      devInteractions: { enabled: false },
      revocation: { enabled: true },
      // end_session_endpoint in discovery; Trousseau's own routes answer it (routes.ts: the Trousseau session ends).
      rpInitiatedLogout: { enabled: true },
    },
    // What the registered applications may do, and nothing more in the discovery document: code flow only (no
    // implicit or hybrid), clients authenticated by their secret (clients.ts registers client_secret_basic).
    responseTypes: ['code'],
    clientAuthMethods: ['client_secret_basic', 'client_secret_post'],
    pkce: { required: () => true },
    // Every registered application may refresh (offline_access is not needed: it would force a consent prompt).
    issueRefreshToken: async (_ctx, client) => client.grantTypeAllowed('refresh_token'),
    ttl: { ...TTL },
    clientBasedCORS: () => false,
    renderError: async (ctx, out) => {
      ctx.type = 'html';
      ctx.set('content-security-policy', "default-src 'none'; frame-ancestors 'none'");
      const esc = (s: unknown) => String(s ?? '').replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
      ctx.body = `<!doctype html><html lang="fr"><meta charset="utf-8"><title>Erreur de connexion</title>
<main><h1>Connexion impossible / Sign-in failed</h1><p><code>${esc(out.error)}</code> ${esc(out.error_description)}</p>
<p><a href="/">Trousseau</a></p></main></html>`;
    },
  };
  const provider = new OidcProvider(issuerOf(app), configuration);
  // Behind the reverse proxy TROUSSEAU_TRUST_PROXY names, X-Forwarded-Proto says the request came over https.
  provider.proxy = app.config.trustProxy !== false;
  return provider;
}
