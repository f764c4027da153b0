// /oidc: the OpenID provider's endpoints (discovery, authorization, token, userinfo, JWKS, revocation) and its
// interactions (sign-in through Trousseau's session, consent), as one Fastify plugin.
//
// Mounting: oidc-provider is a Koa application. Its requests are handed to `provider.callback()` from a route-level
// onRequest hook that hijacks the reply — before Fastify parses the body (the provider reads the token request's
// body itself) and before the CSRF check (an application's server posting to /oidc/token has no Trousseau form
// token: client authentication protects that endpoint). That needs no extra dependency (@fastify/middie or
// @fastify/express would do the same with a middleware layer for the whole server). The interaction pages are
// ordinary Fastify routes, more specific than the catch-all, so they get Trousseau's sessions, CSRF and layout.
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { InteractionResults, Provider } from 'oidc-provider';
import { z } from 'zod';
import type { AppContext } from '../context.js';
import { sessionSignIn } from '../accounts/signins.js';
import { recordAudit } from '../directory/audit.js';
import { typed, type AreaOptions } from '../web/area.js';
import { signOut } from '../web/federation/sign-in.js';
import { text } from '../web/input.js';
import { csrfField } from '../web/forms.js';
import { html } from '../web/html.js';
import { isMessageKey, translator } from '../web/i18n/index.js';
import { sendErrorPage, sendPage } from '../web/layout.js';
import { accountClaims, AMR } from './claims.js';
import { findClient, type OidcClient } from './clients.js';
import { buildProvider, OIDC_PREFIX } from './provider.js';

type Interaction = Awaited<ReturnType<Provider['interactionDetails']>>;

/** RP-initiated logout's parameters (OpenID Connect RP-Initiated Logout 1.0 § 2), by GET or POST. */
const EndSession = z.object({
  id_token_hint: text(8000), post_logout_redirect_uri: text(2000), state: text(1000), client_id: text(200),
});
type EndSessionParams = z.infer<typeof EndSession>;

/**
 * Where an application may send the browser after signing out: an https address (http on loopback) of the same
 * origin as one of its registered redirect URIs — the application's own site (Moodle's home beside its
 * /auth/oidc/ callback). An address elsewhere would make the end-session endpoint an open redirect.
 */
export function postLogoutAllowed(client: OidcClient, uri: string): boolean {
  const u = URL.parse(uri);
  if (!u || u.hash || u.username || u.password) return false;
  if (u.protocol !== 'https:' && !(u.protocol === 'http:' && ['localhost', '127.0.0.1', '[::1]'].includes(u.hostname))) return false;
  return client.redirectUris.some((r) => URL.parse(r)?.origin === u.origin);
}

/** The `aud` an ID token names (read unverified, to know which client's keys and rules check it). */
function audienceOf(jwt: string): string | null {
  try {
    const aud = JSON.parse(Buffer.from(jwt.split('.')[1] ?? '', 'base64url').toString('utf8')).aud;
    return typeof aud === 'string' ? aud : Array.isArray(aud) && typeof aud[0] === 'string' ? aud[0] : null;
  } catch {
    return null;
  }
}

const UidParams = z.object({ uid: z.string().regex(/^[A-Za-z0-9_-]{1,100}$/) });

/** Provider built once per app, on first use (see provider.ts); a failed build is retried on the next request. */
function lazyProvider(ctx: AppContext): () => Promise<Provider> {
  let pending: Promise<Provider> | null = null;
  return () => {
    pending ??= buildProvider(ctx).catch((e) => {
      pending = null;
      throw e;
    });
    return pending;
  };
}

/**
 * Whether a sign-in at `openedAt` (seconds since the epoch) answers the interaction's login prompt: made after the
 * interaction began when the application asked for a new one (`prompt=login`), or within its `max_age` seconds (0
 * asks for a new one too). Read from the request's parameters, not from the prompt's reasons: oidc-provider names
 * only the first check that failed (Trousseau's own, trousseau_session, may hide max_age). OpenID Connect Core 1.0
 * § 3.1.2.1.
 */
function recentEnough(d: Interaction, openedAt: number): boolean {
  if (openedAt >= (d.iat ?? Number.POSITIVE_INFINITY)) return true;
  if (promptsLogin(d)) return false;
  if (d.params.max_age === undefined) return true;
  const maxAge = Number(d.params.max_age);
  return Number.isFinite(maxAge) && Date.now() / 1000 - openedAt <= maxAge;
}

/** The application asked for a sign-in made now (`prompt=login`, among its space-separated values). */
const promptsLogin = (d: Interaction): boolean => String(d.params.prompt ?? '').split(' ').includes('login');

/** Trousseau's sign-in page, back to the interaction afterwards; `reauth`: the form even with a session open. */
function signInUrl(uid: string, reauth: boolean): string {
  return `/connexion?${new URLSearchParams({ next: `${OIDC_PREFIX}/interaction/${uid}`, ...(reauth ? { reauth: '1' } : {}) }).toString()}`;
}

export default async function oidcArea(root: FastifyInstance, { ctx }: AreaOptions): Promise<void> {
  const provider = lazyProvider(ctx);
  const pool = ctx.database.pool;
  let callback: ((req: IncomingMessage, res: ServerResponse) => Promise<void>) | null = null;

  /** Hands the raw request to oidc-provider with the mount path stripped (it reads it back from originalUrl). */
  async function toProvider(req: FastifyRequest, reply: FastifyReply): Promise<void> {
    const p = await provider();
    callback ??= p.callback() as (req: IncomingMessage, res: ServerResponse) => Promise<void>;
    reply.hijack();
    const raw = req.raw as IncomingMessage & { originalUrl?: string };
    const url = raw.url ?? '/';
    raw.originalUrl = url;
    raw.url = url.slice(OIDC_PREFIX.length) || '/';
    await callback(raw, reply.raw);
  }
  root.route({
    method: ['GET', 'POST', 'OPTIONS', 'DELETE'],
    url: '/*',
    onRequest: toProvider,
    handler: async () => undefined, // never reached: the onRequest hook answered
  });

  const app = typed(root);

  async function details(req: FastifyRequest, reply: FastifyReply, uid: string): Promise<Interaction | null> {
    try {
      const d = await (await provider()).interactionDetails(req.raw, reply.raw);
      return d.uid === uid ? d : null;
    } catch {
      return null; // no or expired interaction cookie, unknown interaction
    }
  }

  /**
   * Ends the interaction: a page that sends the browser on to the provider (meta refresh, and a link). Not a 303:
   * after a form (Trousseau's sign-in, the consent) Chromium applies the page's CSP `form-action 'self'` to every
   * redirect that follows, and the last one goes to the application's origin.
   */
  async function finish(req: FastifyRequest, reply: FastifyReply, result: InteractionResults): Promise<FastifyReply> {
    const to = await (await provider()).interactionResult(req.raw, reply.raw, result, { mergeWithLastSubmission: true });
    const _ = translator(req.lang);
    reply.header('refresh', `0;url=${to}`);
    return sendPage(reply, {
      req, title: _('oidc.continue.title'), narrow: true,
      body: html`<p class="lead">${_('oidc.continue.lead')}</p><p><a class="button" href="${to}" data-oidc-continue>${_('oidc.continue.link')}</a></p>`,
    });
  }

  /** Consent for the scopes the interaction still misses, saved as a grant (oidc-provider's Grant model). */
  async function grantMissing(d: Interaction, accountId: string, allowed: string[]): Promise<string> {
    const { Grant } = await provider();
    const clientId = String(d.params.client_id);
    // The session's earlier grant may be another account's (someone else signed in on this browser before).
    const earlier = d.grantId ? await Grant.find(d.grantId) : undefined;
    const grant = earlier?.accountId === accountId ? earlier : new Grant({ accountId, clientId });
    const pd = d.prompt.details as { missingOIDCScope?: string[]; missingOIDCClaims?: string[]; missingResourceScopes?: Record<string, string[]> };
    // At the login prompt nothing is computed yet: the requested scopes (the provider keeps those the client may have).
    const scopes = (d.prompt.name === 'consent' ? pd.missingOIDCScope ?? [] : String(d.params.scope ?? 'openid').split(' '))
      .filter((s) => allowed.includes(s));
    if (scopes.length) grant.addOIDCScope(scopes.join(' '));
    if (pd.missingOIDCClaims?.length) grant.addOIDCClaims(pd.missingOIDCClaims);
    for (const [indicator, s] of Object.entries(pd.missingResourceScopes ?? {})) grant.addResourceScope(indicator, s.join(' '));
    return grant.save();
  }

  function refuse(req: FastifyRequest, reply: FastifyReply, description: string): Promise<FastifyReply> {
    return finish(req, reply, { error: 'access_denied', error_description: description });
  }

  app.get('/interaction/:uid', { schema: { params: UidParams } }, async (req, reply) => {
    const _ = translator(req.lang);
    const { uid } = req.params;
    const d = await details(req, reply, uid);
    if (!d) return sendErrorPage(req, reply, 400, _('oidc.expired'));
    // Trousseau's own sign-in page, back here afterwards: the sessions are one.
    // An application asking for a new sign-in (prompt=login, max_age) of a browser without a session: the identity
    // providers' buttons ask for one too (their own session may be the previous person's).
    if (!req.user) return reply.redirect(signInUrl(uid, promptsLogin(d) || d.params.max_age !== undefined), 303);
    const user = req.user;
    const client = await findClient(pool, String(d.params.client_id));
    if (!client) return sendErrorPage(req, reply, 400, _('oidc.expired'));
    // The same rules as sign-in and distribution: no code for a blocked, pre-deleted or external-only account — nor
    // for a session opened with a password the account's schools refuse since (a « Paramètres » save or an import
    // made it external-only while it was open: even linked to its provider, it signs in there, not by password).
    const how = req.sessionIdHash ? await sessionSignIn(pool, req.sessionIdHash) : 'password';
    const found = await accountClaims(pool, user.id, how);
    if (!found || 'refused' in found) {
      await recordAudit(pool, user.id, 'oidc.refused', { clientId: client.clientId, reason: found ? found.refused : 'unknown', signIn: how });
      return refuse(req, reply, found ? `account ${found.refused}` : 'account unknown');
    }
    if (d.prompt.name === 'login') {
      // An application asking for a sign-in made now (prompt=login) or within max_age seconds (before a sensitive
      // step, on a classroom's shared computer) gets one: a session opened earlier is not enough, whoever left it
      // open. Its time is the session's, never the interaction's (`auth_time`: the ID token tells the truth).
      const openedAt = req.sessionOpenedAt;
      if (openedAt === null || !recentEnough(d, openedAt)) return reply.redirect(signInUrl(uid, true), 303);
      // How this session was opened goes with the provider's session to its codes and tokens (amr, migration 0032):
      // what a password obtained ends when that password is refused, what the identity provider gave stays.
      const result: InteractionResults = { login: { accountId: user.id, amr: [AMR[how]], ts: Math.floor(openedAt) } };
      if (client.firstParty) result.consent = { grantId: await grantMissing(d, user.id, client.scopes) };
      return finish(req, reply, result);
    }
    if (d.prompt.name !== 'consent' || d.session?.accountId !== user.id) return sendErrorPage(req, reply, 400, _('oidc.expired'));
    if (client.firstParty) return finish(req, reply, { consent: { grantId: await grantMissing(d, user.id, client.scopes) } });
    const scopes = String(d.params.scope ?? 'openid').split(' ').filter((s) => client.scopes.includes(s));
    return sendPage(reply, {
      req,
      title: _('oidc.consent.title', { app: client.name }),
      narrow: true,
      body: html`<p class="lead">${_('oidc.consent.lead', { app: client.name, login: user.login })}</p>
<ul class="oidc-scopes">${scopes.map((s) => {
        const key = `oidc.consent.scope.${s}`;
        return isMessageKey(key) ? html`<li data-scope="${s}">${_(key)}</li>` : '';
      })}</ul>
<div class="actions">
  <form method="post" action="${OIDC_PREFIX}/interaction/${uid}/accepter">${csrfField(req)}<button type="submit">${_('oidc.consent.accept')}</button></form>
  <form method="post" action="${OIDC_PREFIX}/interaction/${uid}/refuser">${csrfField(req)}<button type="submit" class="button-secondary">${_('oidc.consent.deny')}</button></form>
</div>`,
    });
  });

  // ------------------------------------------------------------------------------------ end_session_endpoint
  // RP-initiated logout (OpenID Connect RP-Initiated Logout 1.0), Trousseau's own pages: an application signing its
  // user out (Moodle, Nextcloud: « Se déconnecter ») ends the Trousseau session too — else the next person on a
  // classroom's shared computer clicking « Se connecter avec l'ENT » got the previous pupil's account at once. With an
  // ID token of this very account (id_token_hint) the session ends at once; otherwise the person is asked (a foreign
  // site cannot sign people out). A session opened through an identity provider is ended there too, as
  // « Se déconnecter » does. Advertised by discovery (provider.ts rpInitiatedLogout); these routes answer it.

  /** Checks the request; the account the hint names and where to go afterwards, or null when it is not acceptable. */
  async function endSessionRequest(q: EndSessionParams): Promise<{ sub: string | null; back: string | null } | null> {
    let clientId = q.client_id || null;
    let sub: string | null = null;
    if (q.id_token_hint) {
      const aud = audienceOf(q.id_token_hint);
      if (!aud || (clientId && clientId !== aud)) return null;
      clientId = aud;
      const p = await provider();
      const client = await p.Client.find(clientId);
      if (!client) return null;
      try {
        sub = String((await p.IdToken.validate(q.id_token_hint, client)).payload.sub);
      } catch {
        return null; // not ours, not this client's, or tampered (an expired one is fine: it only names the person)
      }
    }
    let back: string | null = null;
    if (q.post_logout_redirect_uri) {
      const client = clientId ? await findClient(pool, clientId) : null;
      if (!client || !postLogoutAllowed(client, q.post_logout_redirect_uri)) return null;
      const u = new URL(q.post_logout_redirect_uri);
      if (q.state) u.searchParams.set('state', q.state);
      back = u.href;
    }
    return { sub, back };
  }

  async function endSession(req: FastifyRequest, reply: FastifyReply, q: EndSessionParams, confirmed: boolean): Promise<FastifyReply> {
    const _ = translator(req.lang);
    const r = await endSessionRequest(q);
    if (!r) return sendErrorPage(req, reply, 400, _('oidc.logout.invalid'));
    if (req.user && !confirmed && r.sub !== req.user.id) {
      // No ID token of this account: the person says whether to sign out (the form carries what was checked).
      return sendPage(reply, {
        req, title: _('oidc.logout.title'), narrow: true,
        body: html`<p class="lead">${_('oidc.logout.lead', { login: req.user.login })}</p>
<form method="post" action="${OIDC_PREFIX}/session/end/confirm">${csrfField(req)}
  <input type="hidden" name="client_id" value="${q.client_id}"><input type="hidden" name="id_token_hint" value="${q.id_token_hint}">
  <input type="hidden" name="post_logout_redirect_uri" value="${q.post_logout_redirect_uri}"><input type="hidden" name="state" value="${q.state}">
  <button type="submit">${_('oidc.logout.confirm')}</button>
</form>`,
      });
    }
    if (req.user) {
      const away = await signOut(ctx, req, reply, { clientId: q.client_id || audienceOf(q.id_token_hint) });
      if (away) return away;
    }
    const to = r.back ?? '/connexion?bye=1';
    if (!confirmed) return reply.redirect(to, 303);
    // After a form: a page that sends the browser on (form-action 'self' would stop a redirect to the application).
    reply.header('refresh', `0;url=${to}`);
    return sendPage(reply, {
      req, title: _('oidc.logout.continue.title'), narrow: true,
      body: html`<p class="lead">${_('oidc.logout.continue.lead')}</p><p><a class="button" href="${to}">${_('oidc.continue.link')}</a></p>`,
    });
  }

  app.get('/session/end', { schema: { querystring: EndSession } }, (req, reply) => endSession(req, reply, req.query, false));
  // An application may post its form here from its own site (no Trousseau form token: the hint is the proof).
  app.post('/session/end', { config: { crossSitePost: true }, schema: { body: EndSession } }, (req, reply) => endSession(req, reply, req.body, false));
  app.post('/session/end/confirm', { schema: { body: EndSession } }, (req, reply) => endSession(req, reply, req.body, true));

  app.post('/interaction/:uid/accepter', { schema: { params: UidParams } }, async (req, reply) => {
    const _ = translator(req.lang);
    const d = await details(req, reply, req.params.uid);
    if (d?.prompt.name !== 'consent') return sendErrorPage(req, reply, 400, _('oidc.expired'));
    if (!req.user || d.session?.accountId !== req.user.id) {
      return reply.redirect(signInUrl(req.params.uid, false), 303);
    }
    const client = await findClient(pool, String(d.params.client_id));
    if (!client) return sendErrorPage(req, reply, 400, _('oidc.expired'));
    await recordAudit(pool, req.user.id, 'oidc.consent', { clientId: client.clientId, scope: String(d.params.scope ?? '') });
    return finish(req, reply, { consent: { grantId: await grantMissing(d, req.user.id, client.scopes) } });
  });

  app.post('/interaction/:uid/refuser', { schema: { params: UidParams } }, async (req, reply) => {
    const _ = translator(req.lang);
    const d = await details(req, reply, req.params.uid);
    if (!d) return sendErrorPage(req, reply, 400, _('oidc.expired'));
    return refuse(req, reply, 'the user denied the request');
  });
}
