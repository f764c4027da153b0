// Account pages: sign-in/out, activation, "Mon compte", forgotten password, renewal code. All work without JavaScript.
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { z } from 'zod';
import { activateAccount, findCodeHolder, findCodeTypedAsPassword, isAlreadyActivated, normalizeLogin, renewPassword, type CodeHolder } from '../../accounts/activation.js';
import { currentTerms, policyForUser, termsDue } from '../../directory/policies.js';
import { formatCode, normalizeCode } from '../../accounts/codes.js';
import { normalizeEmail, normalizePhone } from '../../accounts/contact.js';
import { RENEWAL_HOURS } from '../../accounts/issue.js';
import { checkCredentials } from '../../accounts/login.js';
import { checkPasswordPolicy } from '../../accounts/passwords.js';
import { changePassword, emailChangeNeedsPassword, loadAccountDetails, updateContact, verifyCurrentPassword } from '../../accounts/profile.js';
import { attemptRefunded, attemptSucceeded, authLimits, checkAttempt, checkRate } from '../../accounts/ratelimit.js';
import { findResetToken, requestPasswordReset, resetPassword } from '../../accounts/reset.js';
import { absenceOf } from '../../accounts/lifecycle.js';
import accountTerms from './terms.js';
import { frenchDate } from '../../publipostage/format.js';
import { accountLinks, provenLinkCount, unlinkOwnAccount } from '../../federation/links.js';
import { recordAudit } from '../../directory/audit.js';
import { hasRole, startSession } from '../auth.js';
import { safeNext } from '../next.js';
import { typed, type AreaOptions } from '../area.js';
import { guard, viewer } from '../context.js';
import { tooMany, type FieldErrors } from '../forms.js';
import { html } from '../html.js';
import { isMessageKey, translator, type MessageKey } from '../i18n/index.js';
import { text } from '../input.js';
import { registerNav, sendErrorPage, sendPage, type Notice } from '../layout.js';
import { hasShownProviders, providerButtons, signOut } from '../federation/sign-in.js';
import { viewEnv } from '../view.js';
import { FLOW_MINUTES, markLinkActivation } from '../../federation/flows.js';
import {
  accountView,
  codeView,
  noPasswordText,
  forgotView,
  loginView,
  passwordView,
  resetInvalidView,
  resetView,
  termsView,
  type CodeFlow,
  type PasswordStep,
  type PendingLink,
  type StepPolicy,
} from './views.js';

type Form = Record<string, string>;

// Each route's input: absent fields read as '' (text), at most `max` characters kept.
const LoginQuery = z.object({ next: text(2000), bye: text(10), deja: text(10), login: text(200), expiree: text(10), reauth: text(10) });
const LoginForm = z.object({ login: text(200), password: text(2000), next: text(2000), remember: text(10) });
const CodeQuery = z.object({ login: text(200), code: text(100), fournisseur: text(40), jeton: text(200) });
const TermsQuery = z.object({ login: text(200), code: text(100) });
const CodeForm = z.object({
  login: text(200),
  code: text(100),
  step: text(20),
  password: text(2000),
  confirm: text(2000),
  email: text(320),
  phone: text(40),
  terms: text(10),
  fournisseur: text(40),
  jeton: text(200),
});
type CodeFields = z.infer<typeof CodeForm>;
const OkQuery = z.object({ ok: text(20) });
const ContactForm = z.object({ email: text(320), phone: text(40), contactCurrent: text(2000) });
const PasswordForm = z.object({ current: text(2000), password: text(2000), confirm: text(2000) });
const UnlinkForm = z.object({ providerId: text(40), unlinkCurrent: text(2000) });
const ForgotForm = z.object({ identifier: text(320) });
const TokenQuery = z.object({ token: text(200) });
const ResetForm = z.object({ token: text(200), password: text(2000), confirm: text(2000) });

/** A key returned by a domain rule (password policy) as a catalogue key; the generic "invalid" otherwise. */
const ruleKey = (key: string): MessageKey => (isMessageKey(key) ? key : 'error.badRequest');

/**
 * Errors of a new password and its confirmation, all at once (issue #13: "too short" and "mismatch" in the
 * same answer): an empty field is named as such, then the policy (checkPasswordPolicy), then the mismatch.
 */
/** `min`: the account's minimum length (profile policy, directory/policies.ts); PASSWORD_MIN elsewhere. */
function newPasswordErrors(_: ReturnType<typeof translator>, password: string, confirm: string, login: string, min: number): FieldErrors {
  const errors: FieldErrors = {};
  if (!password) errors.password = _('field.newPasswordRequired');
  else {
    const rule = checkPasswordPolicy(password, password, login, [], min).password;
    if (rule) errors.password = _(ruleKey(rule), { min });
  }
  if (!confirm) errors.confirm = _('field.confirmRequired');
  else if (password !== confirm) errors.confirm = _('password.mismatch');
  return errors;
}

/** The public pages and "Mon compte" (its own guard: any signed-in user). Registered without a prefix. */
export default async function accountArea(root: FastifyInstance, { ctx }: AreaOptions): Promise<void> {
  const app = typed(root);
  const pool = ctx.database.pool;
  const limits = authLimits();
  registerNav({ href: '/mon-compte', labelKey: 'nav.account', order: 90 });

  // ------------------------------------------------------------------------------------ rate limits

  /** Counts one credential attempt for this login and this IP; the seconds to wait when over a limit. */
  function attempt(req: FastifyRequest, login: string): Promise<number | null> {
    return checkAttempt(pool, limits, req.ip, normalizeLogin(login));
  }

  /** A successful attempt does not count against the limits. */
  function succeeded(req: FastifyRequest, login: string): Promise<void> {
    return attemptSucceeded(pool, req.ip, normalizeLogin(login));
  }

  /** An attempt that proved no secret of the login (a sheet's code opened from its QR code): only its own cost given back. */
  function refunded(req: FastifyRequest, login: string): Promise<void> {
    return attemptRefunded(pool, req.ip, normalizeLogin(login));
  }

  // ------------------------------------------------------------------------------------ home and terms

  // Home depends on who signs in: admins land on their console, teachers on their classes, others on their account.
  app.get('/', async (req, reply) => {
    const u = req.user;
    const home = !u ? '/connexion' : hasRole(u, 'localadmin') ? '/console' : hasRole(u, 'teacher') ? '/classe' : '/mon-compte';
    return reply.redirect(home, 303);
  });

  app.get('/conditions', { schema: { querystring: TermsQuery } }, async (req, reply) => {
    // Opened from step 2: the way back reopens the activation with the typed login and code (step 1 filled in).
    const { login, code } = req.query;
    const back = login ? `/activation?${new URLSearchParams(code ? { login, code } : { login }).toString()}` : '/activation';
    if (code) reply.header('referrer-policy', 'no-referrer');
    // Signed in (the footer's link): the school's own terms the account accepted, and the way back to its pages.
    if (req.user) {
      const school = await currentTerms(pool, req.user.id);
      return sendPage(reply, { req, ...termsView(viewEnv(req), '/', { schoolText: school?.text ?? null, signedIn: true }) });
    }
    return sendPage(reply, { req, ...termsView(viewEnv(req), back) });
  });

  // ------------------------------------------------------------------------------------ sign-in / sign-out

  /** `error`: wrong credentials, told once for both fields; `errors`: fields left empty. */
  async function loginPage(
    req: FastifyRequest,
    reply: FastifyReply,
    o: { login?: string; next?: string; error?: string; alert?: string; errors?: FieldErrors; notice?: Notice | null; remember?: boolean; reauth?: boolean },
    status = 200,
  ) {
    const next = safeNext(o.next);
    // A new sign-in asked by an application (`reauth`), or the form shown with a session open (only then): the identity
    // provider is asked to authenticate the person again, not to answer from its own open session.
    const providers = await providerButtons(req, ctx, next, !!o.reauth || !!req.user);
    return sendPage(reply, { req, ...loginView(viewEnv(req), { ...o, next, providers }) }, status);
  }

  app.get('/connexion', { schema: { querystring: LoginQuery } }, async (req, reply) => {
    const q = req.query;
    const _ = translator(req.lang);
    // An application asked for a new sign-in (OpenID provider, prompt=login or max_age): the form even with a session
    // open, its login filled in; signing in replaces that session (startSession).
    if (req.user && q.reauth) return loginPage(req, reply, { next: q.next, login: req.user.login, notice: { kind: 'info', text: _('login.reauth') } });
    if (req.user) return reply.redirect(safeNext(q.next), 303);
    // A form sent after the session ended (auth.ts refuseForm): said like an error, focused, before signing in again.
    if (q.expiree) return loginPage(req, reply, { next: q.next, alert: _('login.expired') });
    const notice: Notice | null = q.deja
      ? { kind: 'info', text: _('login.alreadyActivated') }
      : q.bye
        ? { kind: 'success', text: _('login.bye') }
        : q.next
          ? { kind: 'info', text: _('error.unauthenticated') }
          : null;
    return loginPage(req, reply, { next: q.next, notice, login: q.deja ? q.login : undefined, reauth: !!q.reauth });
  });

  app.post('/connexion', { schema: { body: LoginForm } }, async (req, reply) => {
    const _ = translator(req.lang);
    const f = req.body;
    const login = (f.login ?? '').trim();
    const empty: FieldErrors = {};
    if (!login) empty.login = _('field.loginRequired');
    if (!f.password) empty.password = _('field.passwordRequired');
    // Nothing to guess with an empty form: said field by field, not counted as an attempt.
    if (Object.keys(empty).length) return loginPage(req, reply, { login, next: f.next, errors: empty, remember: f.remember === 'on' }, 422);
    const wait = await attempt(req, login);
    if (wait !== null) return loginPage(req, reply, { login, next: f.next, alert: tooMany(req, reply, wait), remember: f.remember === 'on' }, 429);
    const res = await checkCredentials(ctx, login, f.password ?? '');
    if (!res.ok && res.reason === 'invalid') {
      // An activation or renewal code typed as the password: continue to that flow (issue #9).
      const viaCode = await findCodeTypedAsPassword(ctx, login, f.password ?? '');
      if (viaCode) {
        await succeeded(req, login);
        const flow = viaCode.purpose === 'activation' ? ACTIVATION_FLOW : RENEWAL_FLOW;
        if (viaCode.holder.externalProvider) return codePage(req, reply, flow, { login, error: _('external.refused', { provider: viaCode.holder.externalProvider }) }, 409);
        const { holder } = viaCode;
        return passwordPage(req, reply, flow, {
          login: holder.login,
          code: formatCode(normalizeCode(f.password ?? '') ?? ''),
          values: { email: holder.email ?? '', phone: holder.phone ?? '' },
          errors: {},
          policy: await stepPolicy(holder.id),
        });
      }
    }
    if (!res.ok) {
      // An external-only account (its school signs this profile in only with an identity provider) gets the answer of
      // an unknown login, whatever the password: a message of its own would tell anyone, without a secret, which logins
      // exist. The audit keeps the reason; while the page shows a provider's button, every refusal points to it.
      await recordAudit(pool, null, 'auth.login_failed', { login: normalizeLogin(login).slice(0, 100), ip: req.ip, reason: res.reason });
      const hint = res.reason !== 'blocked' && (await hasShownProviders(ctx)) ? ` ${_('login.invalid.providers')}` : '';
      const error = res.reason === 'blocked' ? _('login.blocked') : `${_('login.invalid')}${hint}`;
      return loginPage(req, reply, { login, next: f.next, error, remember: f.remember === 'on' }, 401);
    }
    await succeeded(req, login);
    if (!(await startSession(ctx, req, reply, res.userId, { remember: f.remember === 'on', password: true }))) {
      // Switched to an identity provider by a « Paramètres » saved since checkCredentials read them (or blocked
      // meanwhile): the answer of checkCredentials' own refusals, nothing opened.
      await recordAudit(pool, null, 'auth.login_failed', { login: normalizeLogin(login).slice(0, 100), ip: req.ip, reason: 'external' });
      const hint = (await hasShownProviders(ctx)) ? ` ${_('login.invalid.providers')}` : '';
      return loginPage(req, reply, { login, next: f.next, error: `${_('login.invalid')}${hint}`, remember: f.remember === 'on' }, 401);
    }
    await recordAudit(pool, res.userId, 'auth.login', { ip: req.ip });
    // A new version of the school's terms of use: accepted before anything else (account-terms.ts).
    if (await termsDue(pool, res.userId)) return reply.redirect(`/conditions/accepter?next=${encodeURIComponent(safeNext(f.next))}`, 303);
    return reply.redirect(safeNext(f.next), 303);
  });

  app.post('/deconnexion', async (req, reply) => {
    // Signed in through an identity provider: signed out there too where it allows (issue #12).
    return (await signOut(ctx, req, reply)) ?? reply.redirect('/connexion?bye=1', 303);
  });

  // ------------------------------------------------------------------------------------ code + new password (activation, renewal)

  const ACTIVATION_FLOW: CodeFlow = { purpose: 'activation', path: '/activation', prefix: 'activation' };
  const RENEWAL_FLOW: CodeFlow = { purpose: 'renewal', path: '/renouvellement', prefix: 'renewal' };

  /**
   * A wrong or expired login/code (which of the two is never said), with what to do next: copy them as given, or ask
   * for a new code (WCAG 3.3.3, RGAA 11.11). Retyping cannot fix an expired code.
   */
  function invalidCode(_: ReturnType<typeof translator>, flow: CodeFlow): string {
    return `${_(`${flow.prefix}.invalid`)} ${_(`${flow.prefix}.invalidHelp`, { days: RENEWAL_HOURS / 24 })}`;
  }

  /** Step 1. `error`: wrong or expired login/code, told once for both fields; `errors`: fields left empty. */
  function codePage(req: FastifyRequest, reply: FastifyReply, flow: CodeFlow, o: { login?: string; code?: string; error?: string; alert?: string; errors?: FieldErrors }, status = 200) {
    return sendPage(reply, { req, ...codeView(viewEnv(req), flow, { ...o, pendingLink: pendingLinkOf(req, flow) }) }, status);
  }

  /**
   * An activation begun from an identity provider's « aucun compte » page (its provider and the pending answer's
   * token, in the query or the form): said on both steps, and the account linked once activated — checked by
   * /federation/:p/associer/activation, in the browser holding the answer (its binding cookie), within FLOW_MINUTES.
   */
  function pendingLinkOf(req: FastifyRequest, flow: CodeFlow): PendingLink | undefined {
    if (flow.purpose !== 'activation') return undefined;
    const from = (req.method === 'GET' ? req.query : req.body) as { fournisseur?: string; jeton?: string } | undefined;
    const p = from?.fournisseur ? ctx.config.federation.get(from.fournisseur) : undefined;
    if (!p || !from?.jeton || !/^[A-Za-z0-9_-]{43}$/.test(from.jeton)) return undefined;
    return { provider: p.id, label: p.label, token: from.jeton, minutes: FLOW_MINUTES };
  }

  async function stepPolicy(userId: string): Promise<StepPolicy> {
    const [p, terms] = await Promise.all([policyForUser(pool, userId), termsDue(pool, userId)]);
    return { min: p.minPasswordLength, emailRequired: p.emailRequired, phoneRequired: p.phoneRequired, termsVersion: terms?.version ?? null, termsText: terms?.text ?? null };
  }

  /** The account's minimum password length: the policy its activation step checks (stepPolicy), for every new password. */
  async function minPasswordLength(userId: string): Promise<number> {
    return (await policyForUser(pool, userId)).minPasswordLength;
  }

  function passwordPage(req: FastifyRequest, reply: FastifyReply, flow: CodeFlow, o: PasswordStep, status = 200) {
    return sendPage(reply, { req, ...passwordView(viewEnv(req), flow, { ...o, pendingLink: pendingLinkOf(req, flow) }) }, status);
  }

  async function codeFlowGet(req: FastifyRequest, reply: FastifyReply, flow: CodeFlow, q: z.infer<typeof CodeQuery>) {
    // From the QR code on the sheet: shown as printed; it is checked only when submitted.
    const canonical = q.code ? normalizeCode(q.code) : null;
    const code = canonical ? formatCode(canonical) : (q.code ?? '');
    // The QR code of an account activated since the sheet was printed: say so, and where to go — but only to the
    // holder of the code it was activated with. The pair is counted like a submitted one (a right code gives its
    // attempt back), and any other code gets the page of an unknown login: no oracle on which logins are activated.
    // Checked (and counted) only when the browser itself opened the link (a scanned QR code: Sec-Fetch-Site none) or
    // a client that says nothing: another site's page must not spend the attempts of its visitor's address — a school's
    // one network address — with images pointing here (a GET carries no CSRF token). It gets the form filled in.
    const site = req.headers['sec-fetch-site'];
    const fromElsewhere = site === 'cross-site' || site === 'same-site';
    if (flow.purpose === 'activation' && q.login && q.code && !fromElsewhere) {
      const wait = await attempt(req, q.login);
      if (wait !== null) return codePage(req, reply, flow, { login: q.login, code, alert: tooMany(req, reply, wait) }, 429);
      // The code it was activated with is spent: it proves nothing now (an old sheet found or photographed), so it
      // must not clear the login's counters between guesses at its password — it only costs nothing itself.
      if (await isAlreadyActivated(ctx, q.login, q.code)) {
        await refunded(req, q.login);
        return reply.redirect(`/connexion?deja=1&login=${encodeURIComponent(normalizeLogin(q.login))}`, 303);
      }
      // A sheet still to be used: scanning it costs nothing either.
      if (await findCodeHolder(ctx, flow.purpose, q.login, q.code)) await refunded(req, q.login);
    }
    return codePage(req, reply, flow, { login: q.login ?? '', code });
  }

  async function codeFlowPost(req: FastifyRequest, reply: FastifyReply, flow: CodeFlow, f: CodeFields) {
    const _ = translator(req.lang);
    const login = (f.login ?? '').trim();
    const typed = (f.code ?? '').trim();
    const empty: FieldErrors = {};
    if (!login) empty.login = _('field.loginRequired');
    if (!typed) empty.code = _(`${flow.prefix}.codeRequired`);
    // Nothing to guess with an empty form: said field by field, not counted as an attempt.
    if (Object.keys(empty).length) return codePage(req, reply, flow, { login, code: typed, errors: empty }, 422);
    const wait = await attempt(req, login);
    if (wait !== null) return codePage(req, reply, flow, { login, code: typed, alert: tooMany(req, reply, wait) }, 429);
    const holder = await findCodeHolder(ctx, flow.purpose, login, typed);
    if (!holder) {
      // The code the account was activated with, typed again (the sign-in page's « Activer mon compte », the
      // activation form sent twice): sign in, as the QR code's link says; it gives back only its own attempt.
      if (flow.purpose === 'activation' && (await isAlreadyActivated(ctx, login, typed))) {
        await refunded(req, login);
        return reply.redirect(`/connexion?deja=1&login=${encodeURIComponent(normalizeLogin(login))}`, 303);
      }
      // The other kind of code on this page (an activation sheet's code on « code de renouvellement », or the
      // reverse): it is right, so go on with its own flow, as the sign-in form does with a code typed as the password.
      const other = flow.purpose === 'activation' ? RENEWAL_FLOW : ACTIVATION_FLOW;
      const otherHolder = f.step !== 'password' ? await findCodeHolder(ctx, other.purpose, login, typed) : null;
      if (otherHolder) {
        await succeeded(req, login);
        if (otherHolder.externalProvider) return codePage(req, reply, other, { login, error: _('external.refused', { provider: otherHolder.externalProvider }) }, 409);
        return passwordPage(req, reply, other, {
          login: otherHolder.login,
          code: formatCode(normalizeCode(typed) ?? typed),
          values: { email: otherHolder.email ?? '', phone: otherHolder.phone ?? '' },
          errors: {},
          policy: await stepPolicy(otherHolder.id),
        });
      }
      await recordAudit(pool, null, `account.${flow.prefix}_failed`, { login: normalizeLogin(login).slice(0, 100), ip: req.ip });
      return codePage(req, reply, flow, { login, code: typed, error: invalidCode(_, flow) }, 401);
    }
    await succeeded(req, login);
    // The code is right but the account signs in elsewhere: say where (issue #9).
    if (holder.externalProvider) return codePage(req, reply, flow, { login, error: _('external.refused', { provider: holder.externalProvider }) }, 409);
    const code = formatCode(normalizeCode(typed) ?? typed);
    const policy = await stepPolicy(holder.id);
    if (f.step !== 'password') {
      return passwordPage(req, reply, flow, { login: holder.login, code, values: { email: holder.email ?? '', phone: holder.phone ?? '' }, errors: {}, policy });
    }
    return finishCodeFlow(req, reply, flow, holder, code, f, policy);
  }

  async function finishCodeFlow(req: FastifyRequest, reply: FastifyReply, flow: CodeFlow, holder: CodeHolder, code: string, f: CodeFields, policy: StepPolicy) {
    const _ = translator(req.lang);
    const password = f.password ?? '';
    const errors = newPasswordErrors(_, password, f.confirm ?? '', holder.login, policy.min);
    const values: Form = { email: (f.email ?? '').trim(), phone: (f.phone ?? '').trim(), terms: f.terms === 'on' ? 'on' : '', password, confirm: f.confirm ?? '' };
    let email = '';
    let phone: string | null = null;
    if (flow.purpose === 'activation') {
      // E-mail and phone are required or optional per structure and profile (a six-year-old has no address).
      if (!values.email && policy.emailRequired) errors.email = _('field.emailRequired');
      else if (values.email) email = normalizeEmail(values.email) ?? '';
      if (values.email && !email) errors.email = _('field.emailInvalid');
      phone = normalizePhone(values.phone);
      if (phone === null) errors.phone = _('field.phoneInvalid');
      else if (!phone && policy.phoneRequired) errors.phone = _('field.phoneRequired');
      if (values.terms !== 'on') errors.terms = _('field.termsRequired');
    }
    // no-store (also the default for pages, said here because a kept password may be in this page).
    if (Object.keys(errors).length) return passwordPage(req, reply.header('cache-control', 'no-store'), flow, { login: holder.login, code, values, errors, policy }, 422);
    const done =
      flow.purpose === 'activation'
        ? await activateAccount(ctx, holder, { password, email: email || null, phone, termsVersion: policy.termsVersion }, req.ip)
        : await renewPassword(ctx, holder, password, req.ip);
    // Lost a race with a concurrent use of the same code: same answer as a wrong code.
    if (!done) return codePage(req, reply, flow, { login: holder.login, error: invalidCode(_, flow) }, 401);
    // A school that switched the profile to an identity provider meanwhile: the sign-in page says where to go.
    if (!(await startSession(ctx, req, reply, holder.id, { password: true }))) return reply.redirect('/connexion', 303);
    // Begun from a provider's « aucun compte » page: on to linking the answer pending in this browser.
    const link = pendingLinkOf(req, flow);
    if (link) {
      // Only this account, activated with the pending answer's token, may be linked to it (not one activated otherwise).
      await markLinkActivation(pool, link.token, holder.id);
      return reply.redirect(`/federation/${link.provider}/associer/activation?jeton=${link.token}`, 303);
    }
    return reply.redirect(`/mon-compte?ok=${flow.purpose === 'activation' ? 'activated' : 'password'}`, 303);
  }

  app.get('/activation', { schema: { querystring: CodeQuery } }, (req, reply) => codeFlowGet(req, reply, ACTIVATION_FLOW, req.query));
  app.post('/activation', { schema: { body: CodeForm } }, (req, reply) => codeFlowPost(req, reply, ACTIVATION_FLOW, req.body));
  app.get('/renouvellement', { schema: { querystring: CodeQuery } }, (req, reply) => codeFlowGet(req, reply, RENEWAL_FLOW, req.query));
  app.post('/renouvellement', { schema: { body: CodeForm } }, (req, reply) => codeFlowPost(req, reply, RENEWAL_FLOW, req.body));

  // ------------------------------------------------------------------------------------ Mon compte

  async function accountPage(
    req: FastifyRequest,
    reply: FastifyReply,
    o: { values?: Form; errors?: FieldErrors; alert?: string; form?: 'contact' | 'password'; unlinkChosen?: string } = {},
    status = 200,
  ) {
    const _ = translator(req.lang);
    const d = await loadAccountDetails(ctx, viewer(req).user.id);
    if (!d) return sendErrorPage(req, reply, 404, _('error.notFound'));
    const errors = o.errors ?? {};
    const contactValues = o.form === 'contact' && o.values ? { email: o.values.email ?? '', phone: o.values.phone ?? '' } : { email: d.email ?? '', phone: d.phone ?? '' };
    const policy = await policyForUser(pool, d.id);
    const { ok } = OkQuery.parse(req.query ?? {});
    // Absent from the feed: the grace period's end, said on every visit (issue #9, accounts/lifecycle.ts).
    const absence = await absenceOf(pool, d.id);
    // Just activated: a teacher's or an administrator's work is elsewhere (the class view, the console), one link away.
    const roles = viewer(req).user.roles;
    const next =
      ok !== 'activated'
        ? null
        : roles.includes('localadmin')
          ? { href: '/console', key: 'account.ok.next.console' as const }
          : roles.includes('teacher')
            ? { href: '/classe', key: 'account.ok.next.classe' as const }
            : null;
    const notice: Notice | null =
      ok === 'activated' || ok === 'password' || ok === 'passwordUnlinked' || ok === 'contact' || ok === 'unlink'
        ? { kind: 'success', text: html`${_(`account.ok.${ok}`)}${next ? html` <a href="${next.href}" data-next>${_(next.key)}</a>` : ''}` }
        : absence
          ? { kind: 'info', text: _('account.absent', { date: frenchDate(absence.lockedOn) }) }
          : null;
    const links = await accountLinks(pool, d.id);
    return sendPage(reply, { req, ...accountView(viewEnv(req), d, { errors, alert: o.alert, contactValues, notice, contactPolicy: policy, links, unlinkChosen: o.unlinkChosen }) }, status);
  }

  const signedIn = guard();

  await accountTerms(root, ctx, safeNext);

  app.get('/mon-compte', { preValidation: signedIn, schema: { querystring: OkQuery } }, (req, reply) => accountPage(req, reply));

  app.post('/mon-compte/coordonnees', { preValidation: signedIn, schema: { body: ContactForm } }, async (req, reply) => {
    const _ = translator(req.lang);
    const f = req.body;
    const { user } = viewer(req);
    const values = { email: (f.email ?? '').trim(), phone: (f.phone ?? '').trim() };
    const errors: FieldErrors = {};
    // The activation's rules (finishCodeFlow): e-mail and phone optional unless the account's policy requires them,
    // so an account activated without an e-mail keeps none and can still save its phone.
    const policy = await policyForUser(pool, user.id);
    const email = values.email ? normalizeEmail(values.email) : null;
    if (!values.email && policy.emailRequired) errors.email = _('field.emailRequired');
    else if (values.email && !email) errors.email = _('field.emailInvalid');
    const phone = normalizePhone(values.phone);
    if (phone === null) errors.phone = _('field.phoneInvalid');
    else if (!phone && policy.phoneRequired) errors.phone = _('field.phoneRequired');
    // A new address needs the current password (emailChangeNeedsPassword): a session alone would hand the account to
    // whoever holds it, through a reset link mailed to their own address.
    const d = await loadAccountDetails(ctx, user.id);
    const needsPassword = !!d && !errors.email && emailChangeNeedsPassword(d, email);
    if (needsPassword && !f.contactCurrent) errors.contactCurrent = _('field.currentRequiredForEmail');
    if (Object.keys(errors).length) return accountPage(req, reply, { form: 'contact', values, errors }, 422);
    if (needsPassword) {
      // The current password is a credential: guessing it is limited like sign-in.
      const wait = await attempt(req, user.login);
      if (wait !== null) return accountPage(req, reply, { form: 'contact', values, alert: tooMany(req, reply, wait) }, 429);
      if (!(await verifyCurrentPassword(ctx, user.id, f.contactCurrent))) {
        return accountPage(req, reply, { form: 'contact', values, errors: { contactCurrent: _('field.currentWrong') } }, 422);
      }
      await succeeded(req, user.login);
    }
    await updateContact(ctx, user.id, email, phone);
    return reply.redirect('/mon-compte?ok=contact', 303);
  });

  app.post('/mon-compte/mot-de-passe', { preValidation: signedIn, schema: { body: PasswordForm } }, async (req, reply) => {
    const _ = translator(req.lang);
    const f = req.body;
    const { user } = viewer(req);
    // No Trousseau password (signs in through an identity provider only): nothing to check nor change; said as the page
    // says it (a stale or hand-made form), not « mot de passe actuel incorrect », and no attempt counted.
    const d = await loadAccountDetails(ctx, user.id);
    if (d && !d.hasPassword) return accountPage(req, reply, { alert: noPasswordText(req.lang, d.signInProvider) }, 409);
    // The account's policy (profile, school, admin rights: policyForUser), as the activation's step 2 checks it.
    const errors = newPasswordErrors(_, f.password ?? '', f.confirm ?? '', user.login, await minPasswordLength(user.id));
    if (!f.current) errors.current = _('field.currentRequired');
    if (Object.keys(errors).length) return accountPage(req, reply, { form: 'password', errors }, 422);
    // The current password is a credential: guessing it is limited like sign-in.
    const wait = await attempt(req, user.login);
    if (wait !== null) return accountPage(req, reply, { form: 'password', alert: tooMany(req, reply, wait) }, 429);
    // The links proven by the old password go with it (signins.ts passwordReplaced): said, or the holder finds her
    // provider no longer signs her in with no word why.
    const unlinked = await provenLinkCount(pool, user.id);
    if (!(await changePassword(ctx, user.id, f.current, f.password, req.sessionIdHash))) {
      return accountPage(req, reply, { form: 'password', errors: { current: _('field.currentWrong') } }, 422);
    }
    await succeeded(req, user.login);
    return reply.redirect(`/mon-compte?ok=${unlinked ? 'passwordUnlinked' : 'password'}`, 303);
  });

  // A link to an identity provider undone by the account's holder (federation/links.ts unlinkOwnAccount): the current
  // password asked as an address change asks it (a session alone must not take away a way in, nor leave one someone
  // else made), none for an account without a password; its last way in is kept.
  app.post('/mon-compte/fournisseurs', { preValidation: signedIn, schema: { body: UnlinkForm } }, async (req, reply) => {
    const _ = translator(req.lang);
    const f = req.body;
    const { user } = viewer(req);
    const d = await loadAccountDetails(ctx, user.id);
    if (!d) return sendErrorPage(req, reply, 404, _('error.notFound'));
    const link = (await accountLinks(pool, user.id)).find((l) => l.providerId === f.providerId);
    const errors: FieldErrors = {};
    if (!f.providerId) errors.providerId = _('account.links.choose');
    else if (!link) return accountPage(req, reply, { alert: _('account.links.notFound') }, 409);
    if (d.hasPassword && !f.unlinkCurrent) errors.unlinkCurrent = _('field.currentRequiredForUnlink');
    if (Object.keys(errors).length) return accountPage(req, reply, { errors, unlinkChosen: f.providerId }, 422);
    if (d.hasPassword) {
      // The current password is a credential: guessing it is limited like sign-in.
      const wait = await attempt(req, user.login);
      if (wait !== null) return accountPage(req, reply, { alert: tooMany(req, reply, wait), unlinkChosen: f.providerId }, 429);
      if (!(await verifyCurrentPassword(ctx, user.id, f.unlinkCurrent))) {
        return accountPage(req, reply, { errors: { unlinkCurrent: _('field.currentWrong') }, unlinkChosen: f.providerId }, 422);
      }
      await succeeded(req, user.login);
    }
    const refusal = await unlinkOwnAccount(pool, user.id, f.providerId, req.sessionIdHash, [...ctx.config.federation.keys()]);
    if (refusal === 'lastWay') return accountPage(req, reply, { alert: _('account.links.lastWay', { provider: link?.providerName ?? f.providerId }) }, 409);
    if (refusal) return accountPage(req, reply, { alert: _('account.links.notFound') }, 409);
    return reply.redirect('/mon-compte?ok=unlink', 303);
  });

  // ------------------------------------------------------------------------------------ forgotten password

  function forgotPage(req: FastifyRequest, reply: FastifyReply, o: { sent?: boolean; identifier?: string; alert?: string; errors?: FieldErrors }, status = 200) {
    return sendPage(reply, { req, ...forgotView(viewEnv(req), { ...o, mailOff: !ctx.config.smtpUrl }) }, status);
  }

  app.get('/mot-de-passe-oublie', async (req, reply) => forgotPage(req, reply, {}));

  app.post('/mot-de-passe-oublie', { schema: { body: ForgotForm } }, async (req, reply) => {
    const f = req.body;
    const identifier = (f.identifier ?? '').trim();
    if (!identifier) return forgotPage(req, reply, { errors: { identifier: translator(req.lang)('forgot.identifierRequired') } }, 422);
    // Limits mail flooding of one address as much as guessing; the answer stays the same below the limit.
    const l = normalizeLogin(identifier);
    const perIp = await checkRate(pool, `reset:ip:${req.ip}`, limits.perIp, limits.windowSec);
    const perId = l ? await checkRate(pool, `reset:id:${l}`, limits.perLogin, limits.windowSec) : perIp;
    if (!perIp.allowed || !perId.allowed) return forgotPage(req, reply, { identifier, alert: tooMany(req, reply, Math.max(perIp.retryAfterSec, perId.retryAfterSec)) }, 429);
    const lang = req.lang;
    const _ = translator(lang);
    await requestPasswordReset(
      ctx,
      identifier,
      ({ link, login, firstName, minutes }) => ({
        subject: _('forgot.mailSubject'),
        text: _('forgot.mailText', { firstName, login, link, minutes }),
      }),
      req.ip,
      ({ login, firstName, provider }) => ({
        subject: _('forgot.external.mailSubject', { provider }),
        text: _('forgot.external.mailText', { firstName, login, provider }),
      }),
    );
    return forgotPage(req, reply, { sent: true });
  });

  function resetPage(req: FastifyRequest, reply: FastifyReply, o: { token: string; login: string; min: number; errors?: FieldErrors }, status = 200) {
    return sendPage(reply, { req, ...resetView(viewEnv(req), o) }, status);
  }

  function resetInvalid(req: FastifyRequest, reply: FastifyReply): FastifyReply {
    return sendPage(reply, { req, ...resetInvalidView(viewEnv(req)) }, 400);
  }

  app.get('/reinitialisation', { schema: { querystring: TokenQuery } }, async (req, reply) => {
    // The token is in this URL: keep it out of any Referer, even same-site.
    reply.header('referrer-policy', 'no-referrer');
    const token = req.query.token;
    const target = await findResetToken(ctx, token);
    if (!target) return resetInvalid(req, reply);
    return resetPage(req, reply, { token, login: target.login, min: await minPasswordLength(target.userId) });
  });

  app.post('/reinitialisation', { schema: { body: ResetForm } }, async (req, reply) => {
    const _ = translator(req.lang);
    const f = req.body;
    const token = f.token ?? '';
    const target = await findResetToken(ctx, token);
    if (!target) return resetInvalid(req, reply);
    const min = await minPasswordLength(target.userId);
    const errors = newPasswordErrors(_, f.password ?? '', f.confirm ?? '', target.login, min);
    if (Object.keys(errors).length) return resetPage(req, reply, { token, login: target.login, min, errors }, 422);
    const unlinked = await provenLinkCount(pool, target.userId);
    const userId = await resetPassword(ctx, token, f.password, req.ip);
    if (!userId) return resetInvalid(req, reply);
    if (!(await startSession(ctx, req, reply, userId, { password: true }))) return reply.redirect('/connexion', 303);
    return reply.redirect(`/mon-compte?ok=${unlinked ? 'passwordUnlinked' : 'password'}`, 303);
  });
}
