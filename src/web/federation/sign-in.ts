// What the account pages show and do for identity providers: one button per enabled provider on the sign-in page,
// and, on sign-out, the provider's own sign-out when the session was opened there (SAML: the LogoutRequest's ID kept
// in a flow, for the IdP's LogoutResponse to answer).
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { AppContext } from '../../context.js';
import { providerSession } from '../../federation/accounts.js';
import { newFlowToken, saveFlow } from '../../federation/flows.js';
import { enabledProviders } from '../../federation/enablement.js';
import { oidcLogoutUrl } from '../../federation/oidc.js';
import type { SamlProviderConfig } from '../../federation/providers.js';
import { samlLogoutUrl, type SamlSession } from '../../federation/saml.js';
import { recordAudit } from '../../directory/audit.js';
import { sha256 } from '../../lib/crypto.js';
import { stopSession } from '../auth.js';
import { html, type SafeHtml } from '../html.js';
import { translator } from '../i18n/index.js';
import { sendPage } from '../layout.js';

/**
 * The sign-in page's provider buttons ("Se connecter avec EduConnect"), in the configuration's order, for the
 * providers enabled for some profile somewhere (federation_enabled): a provider no account may use offers nothing
 * but a dead end. None: nothing.
 */
export async function providerButtons(req: FastifyRequest, ctx: AppContext, next: string, reauth = false): Promise<SafeHtml> {
  const providers = await shownProviders(ctx);
  if (providers.length === 0) return html``;
  const _ = translator(req.lang);
  // `reauth`: an application asked for a new sign-in (src/oidc/routes.ts): the provider is asked for one too.
  const params = new URLSearchParams([...(next && next !== '/' ? [['next', next]] : []), ...(reauth ? [['reauth', '1']] : [])]);
  const q = params.size ? `?${params.toString()}` : '';
  return html`<section class="card federation" aria-labelledby="federation-title">
  <h2 id="federation-title">${_('fed.buttons')}</h2>
  <ul class="provider-buttons">${providers.map((p) => html`<li><a class="button button-secondary" data-provider="${p.id}" href="/federation/${p.id}/connexion${q}">${_('fed.button', { provider: p.label })}</a></li>`)}</ul>
</section>`;
}

/** The configured providers the sign-in page shows a button for (providerButtons), in the configuration's order. */
async function shownProviders(ctx: AppContext) {
  const configured = [...ctx.config.federation.values()];
  if (configured.length === 0) return [];
  const enabled = await enabledProviders(
    ctx.database.pool,
    configured.map((p) => p.id),
  );
  return configured.filter((p) => enabled.has(p.id));
}

/** Whether the sign-in page shows a provider's button (the refusal of a password sign-in then points to them). */
export async function hasShownProviders(ctx: AppContext): Promise<boolean> {
  return (await shownProviders(ctx)).length > 0;
}

/**
 * Where to send the browser after the local session ends: the provider's sign-out (OIDC end_session_endpoint, SAML
 * single logout) when this session was opened there and the provider supports it, else null. Call before ending the
 * session (its row carries what the provider needs). A provider that cannot be reached leaves only the local sign-out.
 */
export async function providerSignOutUrl(ctx: AppContext, req: FastifyRequest): Promise<{ url: string; label: string } | null> {
  if (!req.sessionIdHash) return null;
  const s = await providerSession(ctx.database.pool, req.sessionIdHash);
  const p = s ? ctx.config.federation.get(s.providerId) : undefined;
  if (!s || !p) return null;
  try {
    const url =
      p.kind === 'oidc'
        ? await oidcLogoutUrl(p, s.idToken, `${ctx.config.publicUrl}/connexion?bye=1`)
        : s.nameId && s.nameIdFormat
          ? await samlSignOut(ctx, p, { nameId: s.nameId, nameIdFormat: s.nameIdFormat, sessionIndex: s.sessionIndex })
          : null;
    return url ? { url, label: p.label } : null;
  } catch (e) {
    req.log.warn({ err: e, provider: p.id }, 'provider sign-out unavailable');
    return null;
  }
}

/**
 * The IdP's single logout URL, its LogoutRequest's ID kept in a flow (federation_flows) whose token is the RelayState
 * the IdP sends back with its LogoutResponse: a cross-site POST (the binding node-saml's metadata advertises)
 * carries no Lax cookie, so the RelayState is what ties the answer to this request (GET …/deconnexion).
 */
async function samlSignOut(ctx: AppContext, p: SamlProviderConfig, session: SamlSession): Promise<string | null> {
  const token = newFlowToken();
  const slo = await samlLogoutUrl(ctx.config.publicUrl, p, session, token);
  if (!slo) return null;
  await saveFlow(ctx.database.pool, { providerId: p.id, bindingHash: sha256(token), samlRequestId: slo.requestId, next: SIGNED_OUT }, token);
  return slo.url;
}

/** Where a flow of single logout leads (and how /deconnexion tells it from a sign-in's flow). */
export const SIGNED_OUT = '/connexion?bye=1';

/**
 * The page after the local sign-out that sends the browser on to the provider's sign-out. Not a redirect of the
 * sign-out form's POST: the pages' CSP (form-action 'self') forbids a form from landing on another site; the Refresh
 * header starts a new navigation (no script needed), the link is there if it does not.
 */
export function sendProviderSignOut(req: FastifyRequest, reply: FastifyReply, away: { url: string; label: string }): FastifyReply {
  const _ = translator(req.lang);
  reply.header('refresh', `0;url=${away.url}`);
  return sendPage(reply, {
    req,
    title: _('fed.signOut.title'),
    narrow: true,
    body: html`<p>${_('fed.signOut', { provider: away.label })}</p><p><a class="button" href="${away.url}">${_('fed.signOut.go', { provider: away.label })}</a></p>`,
  });
}

/**
 * Signs the browser out (« Se déconnecter », an application's end_session): the sign-out audited with `details` when
 * an account was signed in, the local session ended, then, when it was opened at a provider that allows it, the page
 * sending the browser to sign out there too — that reply; else null, for the caller to answer.
 */
export async function signOut(ctx: AppContext, req: FastifyRequest, reply: FastifyReply, details: Record<string, unknown> = {}): Promise<FastifyReply | null> {
  if (req.user) await recordAudit(ctx.database.pool, req.user.id, 'auth.logout', { ip: req.ip, ...details });
  // Read before the session ends: its row carries what the provider needs.
  const away = await providerSignOutUrl(ctx, req);
  await stopSession(ctx, req, reply);
  return away ? sendProviderSignOut(req, reply, away) : null;
}
