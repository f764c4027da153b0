// /federation: signing in with an identity provider (issue #12, Trousseau as a relying party).
//
//   GET  /federation/:p/connexion   start: a flow (state, PKCE, nonce or the SAML request ID) bound to this browser
//   GET  /federation/:p/retour      OIDC callback (code + state)
//   POST /federation/:p/acs         SAML assertion consumer (cross-site POST from the IdP, no CSRF token possible:
//                                   the signed response and its InResponseTo are the proof), then 303 to …/suite
//   GET  /federation/:p/suite       the SAML answer continued in the browser that started the flow (binding cookie)
//   POST /federation/:p/choix       the account chosen among several, or the first sign-in confirmed (terms)
//   POST /federation/:p/associer    an answer that matched no account linked to one the person proves theirs (its
//                                   login and password), from the « aucun compte » page, in the same browser
//   GET  /federation/:p/associer    that page again (its language switched): the browser's pending answer, found by
//                                   its binding cookie — no token in the address
//   GET  /federation/:p/associer/activation  …or the account activated from that page's link (/activation), in the
//                                   same browser, after the answer and within its FLOW_MINUTES
//   GET  /federation/:p/metadata    SAML SP metadata, for the IdP's administrators
//   GET  /federation/:p/deconnexion back from the provider's sign-out (SAML: its LogoutResponse checked)
//   POST /federation/:p/deconnexion the SAML LogoutResponse over HTTP-POST (cross-site, like …/acs)
// Public area: no guard. Matching rules: src/federation/matching.ts.
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { z } from 'zod';
import { randomBytes } from 'node:crypto';
import { recordAudit } from '../../directory/audit.js';
import { termsDue } from '../../directory/policies.js';
import { checkCredentials } from '../../accounts/login.js';
import { normalizeLogin } from '../../accounts/activation.js';
import { normalizeCode } from '../../accounts/codes.js';
import { attemptSucceeded, authLimits, checkAttempt } from '../../accounts/ratelimit.js';
import { completeSignIn, linkProvenAccount, loadCandidates, saveProviderSession, unactivated, type LinkRefusal } from '../../federation/accounts.js';
import { saveFlow, takeFlow, peekFlow, resumeLinkFlow, FLOW_MINUTES, newFlowToken, type ProviderAnswer } from '../../federation/flows.js';
import { matchAccounts, type CandidateAccount } from '../../federation/matching.js';
import { oidcAuthorizationUrl, oidcCallback } from '../../federation/oidc.js';
import type { ProviderConfig } from '../../federation/providers.js';
import { samlAuthorizationUrl, samlMetadata, samlValidate, samlValidateLogoutResponse, type LogoutResponseMessage } from '../../federation/saml.js';
import { sha256 } from '../../lib/crypto.js';
import { safeNext } from '../next.js';
import { typed, type AreaOptions } from '../area.js';
import { startSession } from '../auth.js';
import { HttpError } from '../context.js';
import { checkbox, csrfField, ERROR_SUMMARY_ID, errorSummary, field, formError, requiredLegend, tooMany, type FieldErrors } from '../forms.js';
import { html } from '../html.js';
import { translator } from '../i18n/index.js';
import { text } from '../input.js';
import { profileLabel } from '../labels.js';
import { sendPage } from '../layout.js';
import { SIGNED_OUT } from './sign-in.js';

/** The browser's binding to its flows: a random value in an httpOnly cookie, only its hash stored. */
export const FLOW_COOKIE = 'trousseau_fed';
const BINDING_RE = /^[A-Za-z0-9_-]{43}$/;

const ProviderParams = z.object({ provider: z.string().max(40) });

export default async function federationArea(root: FastifyInstance, { ctx }: AreaOptions): Promise<void> {
  const app = typed(root);
  const pool = ctx.database.pool;
  const secure = ctx.config.publicUrl.startsWith('https:');
  const cookieOpts = { path: '/federation', httpOnly: true, sameSite: 'lax' as const, secure };

  function provider(id: string): ProviderConfig {
    const p = ctx.config.federation.get(id);
    if (!p) throw new HttpError(404, 'fed.unknown');
    return p;
  }

  /** This browser's binding value (created when starting a flow), or '' when it has none. */
  function binding(req: FastifyRequest): string {
    const b = req.cookies[FLOW_COOKIE];
    return b && BINDING_RE.test(b) ? b : '';
  }

  /** A provider's flow that cannot go on: the reason, and the way back to the sign-in page. */
  function failurePage(req: FastifyRequest, reply: FastifyReply, title: string, message: string, status: number): FastifyReply {
    const _ = translator(req.lang);
    return sendPage(reply, { req, title, error: true, narrow: true, body: html`${formError(message)}<p><a href="/connexion">${_('fed.none.back')}</a></p>` }, status);
  }

  function failed(req: FastifyRequest, reply: FastifyReply, p: ProviderConfig, status = 400): FastifyReply {
    const _ = translator(req.lang);
    return failurePage(req, reply, _('fed.failedTitle'), _('fed.failed', { provider: p.label }), status);
  }

  // ------------------------------------------------------------------------------------ start

  app.get('/:provider/connexion', { schema: { params: ProviderParams, querystring: z.object({ next: text(2000), reauth: text(10) }) } }, async (req, reply) => {
    const p = provider(req.params.provider);
    let bind = binding(req);
    if (!bind) {
      bind = randomBytes(32).toString('base64url');
      reply.setCookie(FLOW_COOKIE, bind, { ...cookieOpts, maxAge: FLOW_MINUTES * 60 });
    }
    const next = safeNext(req.query.next);
    const state = newFlowToken();
    // A new sign-in asked by an application (OpenID provider: prompt=login, max_age), or any sign-in with a session
    // already open (the sign-in page shows its buttons then only for that): the provider authenticates the person
    // again instead of answering from its own single sign-on session, which anyone at that browser would pass.
    const force = !!req.query.reauth || !!req.user;
    try {
      if (p.kind === 'oidc') {
        const start = await oidcAuthorizationUrl(p, `${ctx.config.publicUrl}/federation/${p.id}/retour`, state, force);
        await saveFlow(pool, { providerId: p.id, bindingHash: sha256(bind), codeVerifier: start.codeVerifier, nonce: start.nonce, next }, state);
        return reply.redirect(start.url, 303);
      }
      const start = await samlAuthorizationUrl(ctx.config.publicUrl, p, state, force);
      await saveFlow(pool, { providerId: p.id, bindingHash: sha256(bind), samlRequestId: start.requestId, next }, state);
      return reply.redirect(start.url, 303);
    } catch (e) {
      // The provider cannot be reached (discovery) or is misconfigured: said, and logged for the administrator.
      req.log.error({ err: e, provider: p.id }, 'federation start failed');
      return failed(req, reply, p, 502);
    }
  });

  // ------------------------------------------------------------------------------------ provider answers

  app.get('/:provider/retour', { schema: { params: ProviderParams, querystring: z.object({ state: text(200) }).passthrough() } }, async (req, reply) => {
    const p = provider(req.params.provider);
    if (p.kind !== 'oidc') throw new HttpError(404, 'fed.unknown');
    // Single use and bound to this browser: a replayed or transplanted state finds nothing.
    const flow = await takeFlow(pool, req.query.state, p.id, binding(req));
    if (!flow?.codeVerifier || !flow.nonce) return failed(req, reply, p);
    let answer: ProviderAnswer;
    try {
      const r = await oidcCallback(p, new URL(req.url, ctx.config.publicUrl), { state: req.query.state, codeVerifier: flow.codeVerifier, nonce: flow.nonce });
      answer = { identity: r.identity, session: { idToken: r.idToken, nameId: null, nameIdFormat: null, sessionIndex: null } };
    } catch (e) {
      req.log.warn({ err: e, provider: p.id }, 'OIDC callback refused');
      await recordAudit(pool, null, 'federation.refused', { provider: p.id, ip: req.ip, reason: 'invalid' });
      return failed(req, reply, p);
    }
    return proceed(req, reply, p, flow.bindingHash, flow.next, answer);
  });

  const AcsForm = z.object({ SAMLResponse: text(1_000_000), RelayState: text(200) });
  app.post('/:provider/acs', { config: { crossSitePost: true }, schema: { params: ProviderParams, body: AcsForm } }, async (req, reply) => {
    const p = provider(req.params.provider);
    if (p.kind !== 'saml') throw new HttpError(404, 'fed.unknown');
    // The browser's cookies do not come with the IdP's cross-site POST: the response must answer this flow's request
    // (InResponseTo, signed), and the next step checks the binding in the browser's own GET.
    const flow = await takeFlow(pool, req.body.RelayState, p.id, null);
    if (!flow?.samlRequestId) return failed(req, reply, p);
    let answer: ProviderAnswer;
    try {
      const r = await samlValidate(ctx.config.publicUrl, p, req.body.SAMLResponse, flow.samlRequestId);
      answer = { identity: r.identity, session: { idToken: null, ...r.session } };
    } catch (e) {
      req.log.warn({ err: e, provider: p.id }, 'SAML response refused');
      await recordAudit(pool, null, 'federation.refused', { provider: p.id, ip: req.ip, reason: 'invalid' });
      return failed(req, reply, p);
    }
    const token = await saveFlow(pool, { providerId: p.id, bindingHash: flow.bindingHash, next: flow.next, answer });
    return reply.redirect(`/federation/${p.id}/suite?jeton=${token}`, 303);
  });

  app.get('/:provider/suite', { schema: { params: ProviderParams, querystring: z.object({ jeton: text(200) }) } }, async (req, reply) => {
    const p = provider(req.params.provider);
    const flow = await takeFlow(pool, req.query.jeton, p.id, binding(req));
    if (!flow?.answer || flow.candidates) return failed(req, reply, p);
    return proceed(req, reply, p, flow.bindingHash, flow.next, flow.answer);
  });

  // ------------------------------------------------------------------------------------ matching

  /** Finds the account(s); signs in, asks which account (or the first sign-in's terms), or says whom to contact. */
  async function proceed(req: FastifyRequest, reply: FastifyReply, p: ProviderConfig, bindingHash: string, next: string, answer: ProviderAnswer) {
    const _ = translator(req.lang);
    const outcome = matchAccounts(answer.identity, p.match, await loadCandidates(pool, p, answer.identity));
    if (outcome.kind !== 'match') {
      await recordAudit(pool, null, 'federation.refused', { provider: p.id, ip: req.ip, reason: outcome.kind === 'none' ? 'none' : outcome.reason });
      if (outcome.kind === 'none') {
        // The answer is kept (FLOW_MINUTES, this browser only) for the person to link it to an account they prove is
        // theirs: the académie's feeds carry no parent's birth date, so FranceConnect finds almost no parent.
        const token = await saveFlow(pool, { providerId: p.id, bindingHash, next, answer, purpose: 'link' });
        const bind = binding(req);
        if (bind && sha256(bind) === bindingHash) reply.setCookie(FLOW_COOKIE, bind, { ...cookieOpts, maxAge: FLOW_MINUTES * 60 });
        return nonePage(req, reply, p, token, {}, 403);
      }
      const message = outcome.reason === 'blocked' ? _('fed.blocked') : _('fed.notEnabled', { provider: p.label });
      return failurePage(req, reply, _('fed.failedTitle'), message, 403);
    }
    const ids = outcome.accounts.map((a) => a.id);
    const fresh = await unactivated(pool, ids);
    if (ids.length === 1 && !fresh.has(ids[0])) return finish(req, reply, p, answer, ids[0], [], next);
    const token = await saveFlow(pool, { providerId: p.id, bindingHash, next, answer, candidates: ids });
    return choicePage(req, reply, p, token, outcome.accounts, fresh);
  }

  /**
   * « Aucun compte » : whom to contact, and the form linking the provider's identity to an account of the ENT
   * (`token`: the pending answer's flow step, bound to this browser). `error`: told once for both fields.
   */
  function nonePage(req: FastifyRequest, reply: FastifyReply, p: ProviderConfig, token: string, o: { login?: string; error?: string; errors?: FieldErrors }, status = 200) {
    const _ = translator(req.lang);
    const errors = o.errors ?? {};
    const failed = !!o.error || Object.keys(errors).length > 0;
    const labels = { login: _('field.login'), password: _('field.password') };
    const invalidBy = o.error ? ERROR_SUMMARY_ID : undefined;
    return sendPage(
      reply.header('cache-control', 'no-store'),
      {
        req,
        title: failed ? _('fed.link.title') : _('fed.none.title'),
        narrow: true,
        error: failed,
        // Shown at the provider's callback (its single-use code and state) or at the form's POST: the FR | EN switch
        // opens the GET below, which finds the pending answer by the browser's binding cookie, not by a token.
        langPath: `/federation/${p.id}/associer`,
        body: html`${o.error ? formError(o.error) : errorSummary(req, errors, labels)}
<div class="card" id="federation-none"><p class="lead">${_('fed.none', { provider: p.label })}</p>
${
  // The configuration's own words (« Adressez-vous à … »), written in French: said so on a page in English (WCAG 3.1.2).
  p.contact ? html`<p${req.lang === 'fr' ? '' : html` lang="fr"`} data-contact>${p.contact}</p>` : html`<p>${_('fed.none.contact')}</p>`
}</div>
<form class="card" id="federation-link" method="post" action="/federation/${p.id}/associer" novalidate>
  <h2>${_('fed.link.title')}</h2>
  <p>${_('fed.link.lead', { provider: p.label, minutes: FLOW_MINUTES })}</p>
  ${requiredLegend(req)}
  ${csrfField(req)}
  <input type="hidden" name="jeton" value="${token}">
  ${field(req, { name: 'login', label: labels.login, value: o.login, required: true, autocomplete: 'username', autocapitalize: 'none', spellcheck: false, error: errors.login, invalidBy })}
  ${field(req, { name: 'password', label: labels.password, type: 'password', required: true, autocomplete: 'current-password', error: errors.password, invalidBy })}
  <div class="actions"><button type="submit">${_('fed.link.submit', { provider: p.label })}</button></div>
  <p class="muted">${_('fed.link.notActivated')} <a href="/activation?fournisseur=${p.id}&amp;jeton=${token}">${_('fed.link.activate')}</a></p>
</form>
<p><a href="/connexion">${_('fed.none.back')}</a></p>`,
      },
      status,
    );
  }

  app.get('/:provider/associer', { schema: { params: ProviderParams } }, async (req, reply) => {
    const p = provider(req.params.provider);
    const resumed = await resumeLinkFlow(pool, binding(req), p.id);
    if (!resumed?.flow.answer) return failed(req, reply, p);
    return nonePage(req, reply, p, resumed.token, {});
  });

  const limits = authLimits();
  const LinkForm = z.object({ jeton: text(200), login: text(200), password: text(2000) });
  app.post('/:provider/associer', { schema: { params: ProviderParams, body: LinkForm } }, async (req, reply) => {
    const p = provider(req.params.provider);
    const _ = translator(req.lang);
    const f = req.body;
    // The pending answer: this provider's, still fresh, in the browser that obtained it (its binding cookie). Kept
    // while the person retries; taken (single use) only once an account is linked.
    const flow = await peekFlow(pool, f.jeton, binding(req), 'link');
    if (!flow || flow.providerId !== p.id || !flow.answer) return failed(req, reply, p);
    const login = (f.login ?? '').trim();
    const empty: FieldErrors = {};
    if (!login) empty.login = _('field.loginRequired');
    if (!f.password) empty.password = _('field.passwordRequired');
    if (Object.keys(empty).length) return nonePage(req, reply, p, f.jeton, { login, errors: empty }, 422);
    // The sign-in page's credential check, counted against the same limits (per IP, per login).
    const l = normalizeLogin(login);
    const wait = await checkAttempt(pool, limits, req.ip, l);
    if (wait !== null) return nonePage(req, reply, p, f.jeton, { login, error: tooMany(req, reply, wait) }, 429);
    const res = await checkCredentials(ctx, login, f.password ?? '');
    if (!res.ok) {
      // One answer, whether the login exists or not.
      await recordAudit(pool, null, 'auth.login_failed', { login: l.slice(0, 100), ip: req.ip, reason: res.reason, provider: p.id, link: true });
      // Not the password, and shaped as the letter's activation code or a renewal sheet's code (src/accounts/codes.ts:
      // 10 Crockford symbols, any case, spaces or dashes): pointed to the activation, valid code or not (the same
      // answer). Checked as a password first: a password may have that shape too (ten letters and digits from a
      // generator), and it links. Counted as any password tried: refunding it would let code-shaped guesses run free.
      if (res.reason === 'invalid' && normalizeCode(f.password ?? '')) {
        return nonePage(req, reply, p, f.jeton, { login, errors: { password: _('fed.link.codeTyped') } }, 422);
      }
      const error = res.reason === 'blocked' ? _('login.blocked') : _('fed.link.invalid');
      return nonePage(req, reply, p, f.jeton, { login, error }, 401);
    }
    await attemptSucceeded(pool, req.ip, l);
    const refusal = await linkProvenAccount(pool, p, flow.answer.identity, res.userId, 'password', req.ip, linkNotice(req, p));
    if (refusal) return nonePage(req, reply, p, f.jeton, { login, error: linkRefusalText(req, p, refusal) }, 403);
    // Single use: a concurrent submission of the same step links nothing more (the link above is idempotent).
    const taken = await takeFlow(pool, f.jeton, p.id, binding(req), 'link');
    if (!taken?.answer) return failed(req, reply, p);
    // Opened as a password sign-in is (refused when the account's schools now sign it in only with a provider).
    const user = await startSession(ctx, req, reply, res.userId, { password: true });
    if (!user || !req.sessionIdHash) return failurePage(req, reply, _('fed.failedTitle'), _('fed.blocked'), 403);
    return opened(reply, p, req.sessionIdHash, taken.answer, res.userId, taken.next);
  });

  // The end of an activation begun from the « aucun compte » page (account/index.ts finishCodeFlow): the account
  // just activated in this browser, after the provider's answer and within its time, is linked to it. A GET (a
  // redirect's), guarded by what a forged one cannot have: the step's token, this browser's binding cookie, and a
  // session opened by an activation made since the answer came.
  app.get('/:provider/associer/activation', { schema: { params: ProviderParams, querystring: z.object({ jeton: text(200) }) } }, async (req, reply) => {
    const p = provider(req.params.provider);
    const _ = translator(req.lang);
    const late = () => failurePage(req, reply, _('fed.failedTitle'), _('fed.link.activationLate', { provider: p.label }), 400);
    const user = req.user;
    const flow = user ? await peekFlow(pool, req.query.jeton, binding(req), 'link') : null;
    // The account must be the one activated from this answer's page (its form carried the token: markLinkActivation),
    // not any account activated since in this browser (the next person at a shared computer).
    if (!user || !flow || flow.providerId !== p.id || !flow.answer || req.sessionOpenedAt === null || !flow.candidates?.includes(user.id)) return late();
    const r = await pool.query(`SELECT activated_at >= $2::timestamptz AND activated_at > now() - make_interval(mins => $3) AS fresh FROM users WHERE id = $1`, [
      user.id,
      flow.createdAt,
      FLOW_MINUTES,
    ]);
    if (!r.rows[0]?.fresh || req.sessionOpenedAt < Math.floor(flow.createdAt.getTime() / 1000)) return late();
    const refusal = await linkProvenAccount(pool, p, flow.answer.identity, user.id, 'activation', req.ip, linkNotice(req, p));
    if (refusal) {
      return sendPage(
        reply,
        { req, title: _('fed.failedTitle'), error: true, narrow: true, body: html`${formError(linkRefusalText(req, p, refusal))}<p><a href="/mon-compte">${_('fed.link.toAccount')}</a></p>` },
        403,
      );
    }
    const taken = await takeFlow(pool, req.query.jeton, p.id, binding(req), 'link');
    if (taken?.answer && req.sessionIdHash) await saveProviderSession(pool, req.sessionIdHash, { providerId: p.id, ...taken.answer.session });
    reply.clearCookie(FLOW_COOKIE, cookieOpts);
    return reply.redirect('/mon-compte?ok=activated', 303);
  });

  /** The mail telling the account's address it was linked to `p` (in the language of the page that linked it). */
  function linkNotice(req: FastifyRequest, p: ProviderConfig) {
    const _ = translator(req.lang);
    return ({ firstName, login }: { firstName: string; login: string }) => ({
      subject: _('fed.link.mailSubject', { provider: p.label }),
      text: _('fed.link.mailText', { firstName, login, provider: p.label }),
    });
  }

  function linkRefusalText(req: FastifyRequest, p: ProviderConfig, refusal: LinkRefusal): string {
    const _ = translator(req.lang);
    if (refusal === 'unusable') return _('fed.blocked');
    return _(`fed.link.refused.${refusal}`, { provider: p.label });
  }

  function choicePage(
    req: FastifyRequest,
    reply: FastifyReply,
    p: ProviderConfig,
    token: string,
    accounts: CandidateAccount[],
    fresh: Set<string>,
    o: { chosen?: string; link?: boolean; terms?: boolean; errors?: Record<string, string> } = {},
    status = 200,
  ) {
    const _ = translator(req.lang);
    const errors = o.errors ?? {};
    const several = accounts.length > 1;
    const anyFresh = accounts.some((a) => fresh.has(a.id));
    const line = (a: CandidateAccount) =>
      html`${_('fed.choose.account', { name: `${a.firstName} ${a.lastName}`, login: a.login, profile: profileLabel(req.lang, a.profile) })}${
        fresh.has(a.id) ? html` <span class="muted">— ${_('fed.choose.first')}</span>` : ''
      }`;
    return sendPage(
      reply,
      {
        req,
        title: _('fed.choose.title'),
        narrow: true,
        error: Object.keys(errors).length > 0,
        body: html`${Object.values(errors).length ? formError(Object.values(errors).join(' ')) : ''}
<p>${several ? _('fed.choose.several', { provider: p.label }) : _('fed.choose.one', { provider: p.label })}</p>
<form class="card" method="post" action="/federation/${p.id}/choix" novalidate>
  ${csrfField(req)}
  <input type="hidden" name="jeton" value="${token}">
  ${
    several
      ? html`<fieldset class="field"${errors.account ? html` aria-describedby="${ERROR_SUMMARY_ID}"` : ''}><legend>${_('fed.choose.legend')}</legend>
    ${accounts.map(
      (a, i) => html`<div class="field-check"><input type="radio" id="f-account-${i}" name="account" value="${a.id}"${o.chosen === a.id ? html` checked` : ''}>
      <label for="f-account-${i}">${line(a)}</label></div>`,
    )}
  </fieldset>
  ${checkbox({ name: 'link', checked: o.link === true, label: _('fed.choose.linkAll', { provider: p.label }) })}`
      : html`<input type="hidden" name="account" value="${accounts[0].id}"><p>${line(accounts[0])}</p>`
  }
  ${
    anyFresh
      ? checkbox({
          name: 'terms',
          checked: o.terms === true,
          required: true,
          error: errors.terms,
          label: html`${_('field.termsAccept')} <a href="/conditions" target="_blank" rel="noopener noreferrer">${_('layout.terms')} <span class="new-tab">${_('field.newTab')}</span></a>`,
        })
      : ''
  }
  <div class="actions"><button type="submit">${_('fed.choose.submit')}</button></div>
</form>`,
      },
      status,
    );
  }

  const ChoiceForm = z.object({ jeton: text(200), account: text(100), link: text(10), terms: text(10) });
  app.post('/:provider/choix', { schema: { params: ProviderParams, body: ChoiceForm } }, async (req, reply) => {
    const p = provider(req.params.provider);
    const _ = translator(req.lang);
    const f = req.body;
    const flow = await peekFlow(pool, f.jeton, binding(req));
    if (!flow || flow.providerId !== p.id || !flow.answer || !flow.candidates) return failed(req, reply, p);
    const candidates = flow.candidates;
    const errors: Record<string, string> = {};
    if (!candidates.includes(f.account)) errors.account = _('fed.choose.required');
    const fresh = await unactivated(pool, candidates);
    if (!errors.account && fresh.has(f.account) && f.terms !== 'on') errors.terms = _('field.termsRequired');
    if (Object.keys(errors).length) {
      // Shown again from the stored step: the accounts are those matched, never ones named by the form.
      const accounts = (await loadCandidates(pool, p, flow.answer.identity)).filter((a) => candidates.includes(a.id));
      return choicePage(req, reply, p, f.jeton, accounts, fresh, { chosen: f.account, link: f.link === 'on', terms: f.terms === 'on', errors }, 422);
    }
    const taken = await takeFlow(pool, f.jeton, p.id, binding(req));
    if (!taken?.answer) return failed(req, reply, p);
    return finish(req, reply, p, taken.answer, f.account, f.link === 'on' ? candidates : [], taken.next);
  });

  /** Links, activates on a first sign-in, opens the session; blocked or pre-deleted meanwhile: refused. */
  async function finish(req: FastifyRequest, reply: FastifyReply, p: ProviderConfig, answer: ProviderAnswer, userId: string, alsoLink: string[], next: string) {
    const _ = translator(req.lang);
    const done = await completeSignIn(pool, p, answer.identity, userId, alsoLink, req.ip);
    const user = done ? await startSession(ctx, req, reply, userId) : null;
    if (!done || !user || !req.sessionIdHash) {
      return sendPage(reply, { req, title: _('fed.failedTitle'), error: true, narrow: true, body: html`${formError(_('fed.blocked'))}` }, 403);
    }
    return opened(reply, p, req.sessionIdHash, answer, userId, next, done.activated ? '/mon-compte?ok=activated' : safeNext(next));
  }

  /**
   * A session just opened from `answer`: what signing out at `p` needs kept with it, the flow's cookie dropped, then
   * the school's terms when due (back to `next` afterwards), else `landing`.
   */
  async function opened(reply: FastifyReply, p: ProviderConfig, sessionIdHash: string, answer: ProviderAnswer, userId: string, next: string, landing = safeNext(next)) {
    await saveProviderSession(pool, sessionIdHash, { providerId: p.id, ...answer.session });
    reply.clearCookie(FLOW_COOKIE, cookieOpts);
    if (await termsDue(pool, userId)) return reply.redirect(`/conditions/accepter?next=${encodeURIComponent(safeNext(next))}`, 303);
    return reply.redirect(landing, 303);
  }

  // ------------------------------------------------------------------------------------ metadata, sign-out

  app.get('/:provider/metadata', { schema: { params: ProviderParams } }, async (req, reply) => {
    const p = provider(req.params.provider);
    if (p.kind !== 'saml') throw new HttpError(404, 'fed.unknown');
    return reply.type('application/samlmetadata+xml; charset=utf-8').send(samlMetadata(ctx.config.publicUrl, p));
  });

  // The provider sends the browser back here once signed out there; the local session already ended. A SAML IdP
  // answers with a LogoutResponse (HTTP-Redirect, or HTTP-POST as our metadata advertises: a cross-site POST with no
  // CSRF token possible, its signature is the proof): signed, answering the LogoutRequest of the flow its RelayState
  // names (single use), else the page says the provider's session may still be open.
  async function signedOut(req: FastifyRequest, reply: FastifyReply, p: ProviderConfig, relayState: string, message: LogoutResponseMessage) {
    try {
      if (p.kind !== 'saml') throw new Error('not a SAML provider');
      const flow = await takeFlow(pool, relayState, p.id, null);
      if (!flow?.samlRequestId || flow.next !== SIGNED_OUT) throw new Error('no logout request of ours');
      await samlValidateLogoutResponse(ctx.config.publicUrl, p, message, flow.samlRequestId);
    } catch (e) {
      req.log.warn({ err: e, provider: p.id }, 'SAML LogoutResponse refused');
      const _ = translator(req.lang);
      return failurePage(req, reply, _('fed.signOut.unconfirmed.title'), _('fed.signOut.unconfirmed', { provider: p.label }), 400);
    }
    return reply.redirect(SIGNED_OUT, 303);
  }

  app.get('/:provider/deconnexion', { schema: { params: ProviderParams } }, async (req, reply) => {
    const p = provider(req.params.provider);
    const query = (req.query ?? {}) as Record<string, unknown>;
    if (typeof query.SAMLResponse !== 'string') return reply.redirect(SIGNED_OUT, 303);
    const relay = typeof query.RelayState === 'string' ? query.RelayState : '';
    return signedOut(req, reply, p, relay, { binding: 'redirect', query, rawQuery: req.url.split('?')[1] ?? '' });
  });

  app.post('/:provider/deconnexion', { config: { crossSitePost: true }, schema: { params: ProviderParams, body: AcsForm } }, async (req, reply) =>
    signedOut(req, reply, provider(req.params.provider), req.body.RelayState, { binding: 'post', samlResponse: req.body.SAMLResponse }),
  );
}
