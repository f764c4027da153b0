// Account pages: sign-in/out, activation, "Mon compte", forgotten password, renewal code. All work without JavaScript.
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { z } from 'zod';
import {
  activateAccount, findCodeHolder, findCodeTypedAsPassword, isAlreadyActivated, normalizeLogin, renewPassword, type CodeHolder, type CodePurpose,
} from '../../accounts/activation.js';
import { policyForUser, termsDue } from '../../directory/policies.js';
import { formatCode, normalizeCode } from '../../accounts/codes.js';
import { normalizeEmail, normalizePhone } from '../../accounts/contact.js';
import { checkCredentials } from '../../accounts/login.js';
import { checkPasswordPolicy, PASSWORD_MIN } from '../../accounts/passwords.js';
import { changePassword, loadAccountDetails, updateContact } from '../../accounts/profile.js';
import { attemptSucceeded, authLimits, checkAttempt, checkRate } from '../../accounts/ratelimit.js';
import { findResetToken, requestPasswordReset, resetPassword } from '../../accounts/reset.js';
import { absenceOf } from '../../accounts/lifecycle.js';
import accountTerms from './terms.js';
import { frenchDate } from '../../publipostage/format.js';
import { recordAudit } from '../../directory/audit.js';
import { hasRole, startSession, stopSession } from '../auth.js';
import { typed, type AreaOptions } from '../area.js';
import { guard, viewer } from '../context.js';
import { checkbox, csrfField, ERROR_SUMMARY_ID, errorSummary, field, formError, requiredLegend, type FieldErrors } from '../forms.js';
import { html } from '../html.js';
import { isMessageKey, plural, translator, type MessageKey } from '../i18n/index.js';
import { profileLabel } from '../labels.js';
import { text } from '../input.js';
import { registerNav, sendErrorPage, sendPage, type Notice } from '../layout.js';

type Form = Record<string, string>;

// Each route's input: absent fields read as '' (text), at most `max` characters kept.
const LoginQuery = z.object({ next: text(2000), bye: text(10), deja: text(10), login: text(200) });
const LoginForm = z.object({ login: text(200), password: text(2000), next: text(2000), remember: text(10) });
const CodeQuery = z.object({ login: text(200), code: text(100) });
const TermsQuery = CodeQuery;
const CodeForm = z.object({
  login: text(200), code: text(100), step: text(20), password: text(2000), confirm: text(2000), email: text(320), phone: text(40), terms: text(10),
});
type CodeFields = z.infer<typeof CodeForm>;
const OkQuery = z.object({ ok: text(20) });
const ContactForm = z.object({ email: text(320), phone: text(40) });
const PasswordForm = z.object({ current: text(2000), password: text(2000), confirm: text(2000) });
const ForgotForm = z.object({ identifier: text(320) });
const TokenQuery = z.object({ token: text(200) });
const ResetForm = z.object({ token: text(200), password: text(2000), confirm: text(2000) });

/** Only a same-site path may be a post-sign-in destination (no scheme, no //host, no backslash tricks). */
export function safeNext(next: string | undefined): string {
  if (!next || !/^\/(?![/\\])[^\s\\]*$/.test(next) || /[\u0000-\u001f]/.test(next)) return '/';
  return next;
}

/** A key returned by a domain rule (password policy) as a catalogue key; the generic "invalid" otherwise. */
const ruleKey = (key: string): MessageKey => (isMessageKey(key) ? key : 'error.badRequest');

/**
 * Errors of a new password and its confirmation, all at once (issue #13: "too short" and "mismatch" in the
 * same answer): an empty field is named as such, then the policy (checkPasswordPolicy), then the mismatch.
 */
/** `min`: the account's minimum length (profile policy, directory/policies.ts); PASSWORD_MIN elsewhere. */
function newPasswordErrors(_: ReturnType<typeof translator>, password: string, confirm: string, login: string, min = PASSWORD_MIN): FieldErrors {
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

  function tooMany(req: FastifyRequest, reply: FastifyReply, seconds: number): FastifyReply {
    const _ = translator(req.lang);
    reply.header('retry-after', String(seconds));
    const wait = seconds < 60 ? plural(req.lang, 'error.rateLimitedSeconds', seconds) : plural(req.lang, 'error.rateLimited', Math.ceil(seconds / 60));
    return sendErrorPage(req, reply, 429, wait, _('error.rateLimitedTitle'));
  }

  // ------------------------------------------------------------------------------------ home and terms

  // Home depends on who signs in: admins land on their console, teachers on their classes, others on their account.
  app.get('/', async (req, reply) => {
    const u = req.user;
    const home = !u ? '/connexion' : hasRole(u, 'localadmin') ? '/console' : hasRole(u, 'teacher') ? '/classe' : '/mon-compte';
    return reply.redirect(home, 303);
  });

  app.get('/conditions', { schema: { querystring: TermsQuery } }, async (req, reply) => {
    const _ = translator(req.lang);
    // Opened from step 2: the way back reopens the activation with the typed login and code (step 1 filled in).
    const { login, code } = req.query;
    const back = login ? `/activation?${new URLSearchParams(code ? { login, code } : { login }).toString()}` : '/activation';
    if (code) reply.header('referrer-policy', 'no-referrer');
    return sendPage(reply, {
      req,
      title: _('terms.title'),
      narrow: true,
      body: html`<div class="card">
  <p>${_('terms.intro')}</p>
  <ul>
    <li>${_('terms.personal')}</li>
    <li>${_('terms.secret')}</li>
    <li>${_('terms.respect')}</li>
    <li>${_('terms.data')}</li>
    <li>${_('terms.contact')}</li>
  </ul>
</div>
<p><a href="${back}">${_('terms.back')}</a></p>`,
    });
  });

  // ------------------------------------------------------------------------------------ sign-in / sign-out

  /** `error`: wrong credentials, told once for both fields; `errors`: fields left empty. */
  function loginPage(req: FastifyRequest, reply: FastifyReply, o: { login?: string; next?: string; error?: string; errors?: FieldErrors; notice?: Notice | null; remember?: boolean }, status = 200) {
    const _ = translator(req.lang);
    const errors = o.errors ?? {};
    const failed = !!o.error || Object.keys(errors).length > 0;
    const labels = { login: _('field.login'), password: _('field.password') };
    const invalidBy = o.error ? ERROR_SUMMARY_ID : undefined;
    return sendPage(reply, {
      req,
      title: _('login.title'),
      error: failed,
      narrow: true,
      notice: failed ? null : o.notice,
      body: html`${o.error ? formError(o.error) : errorSummary(req, errors, labels)}
<form class="card" method="post" action="/connexion" novalidate>
  ${requiredLegend(req)}
  ${csrfField(req)}
  <input type="hidden" name="next" value="${safeNext(o.next)}">
  ${field(req, { name: 'login', label: labels.login, value: o.login, required: true, autocomplete: 'username', autocapitalize: 'none', spellcheck: false, autofocus: !failed && !o.login, error: errors.login, invalidBy })}
  ${field(req, { name: 'password', label: labels.password, type: 'password', required: true, autocomplete: 'current-password', autofocus: !failed && !!o.login, error: errors.password, invalidBy })}
  ${checkbox({ name: 'remember', checked: o.remember === true, label: _('login.remember') })}
  <div class="actions"><button type="submit">${_('login.submit')}</button><a href="/mot-de-passe-oublie">${_('login.forgot')}</a></div>
</form>
<div class="card">
  <h2>${_('login.firstTime')}</h2>
  <p>${_('login.firstTimeHelp')}</p>
  <p><a class="button button-secondary" href="/activation">${_('login.activate')}</a></p>
  <p class="muted">${_('login.renewalHelp')} <a href="/renouvellement">${_('login.renewal')}</a></p>
</div>`,
    }, status);
  }

  app.get('/connexion', { schema: { querystring: LoginQuery } }, async (req, reply) => {
    const q = req.query;
    if (req.user) return reply.redirect(safeNext(q.next), 303);
    const _ = translator(req.lang);
    const notice: Notice | null = q.deja ? { kind: 'info', text: _('login.alreadyActivated') }
      : q.bye ? { kind: 'success', text: _('login.bye') } : q.next ? { kind: 'info', text: _('error.unauthenticated') } : null;
    return loginPage(req, reply, { next: q.next, notice, login: q.deja ? q.login : undefined });
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
    if (wait !== null) return tooMany(req, reply, wait);
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
          login: holder.login, code: formatCode(normalizeCode(f.password ?? '') ?? ''), values: { email: holder.email ?? '', phone: holder.phone ?? '' }, errors: {},
          policy: await stepPolicy(holder.id),
        });
      }
    }
    if (!res.ok) {
      await recordAudit(pool, null, 'auth.login_failed', { login: normalizeLogin(login).slice(0, 100), ip: req.ip, reason: res.reason });
      const error = res.reason === 'blocked' ? _('login.blocked') : _('login.invalid');
      return loginPage(req, reply, { login, next: f.next, error, remember: f.remember === 'on' }, 401);
    }
    await succeeded(req, login);
    await startSession(ctx, req, reply, res.userId, { remember: f.remember === 'on' });
    await recordAudit(pool, res.userId, 'auth.login', { ip: req.ip });
    // A new version of the school's terms of use: accepted before anything else (account-terms.ts).
    if (await termsDue(pool, res.userId)) return reply.redirect(`/conditions/accepter?next=${encodeURIComponent(safeNext(f.next))}`, 303);
    return reply.redirect(safeNext(f.next), 303);
  });

  app.post('/deconnexion', async (req, reply) => {
    if (req.user) await recordAudit(pool, req.user.id, 'auth.logout', { ip: req.ip });
    await stopSession(ctx, req, reply);
    return reply.redirect('/connexion?bye=1', 303);
  });

  // ------------------------------------------------------------------------------------ code + new password (activation, renewal)

  interface CodeFlow {
    purpose: CodePurpose;
    path: string;
    prefix: 'activation' | 'renewal';
  }
  const ACTIVATION_FLOW: CodeFlow = { purpose: 'activation', path: '/activation', prefix: 'activation' };
  const RENEWAL_FLOW: CodeFlow = { purpose: 'renewal', path: '/renouvellement', prefix: 'renewal' };

  /** Step 1. `error`: wrong or expired login/code, told once for both fields; `errors`: fields left empty. */
  function codePage(req: FastifyRequest, reply: FastifyReply, flow: CodeFlow, o: { login?: string; code?: string; error?: string; errors?: FieldErrors }, status = 200) {
    const _ = translator(req.lang);
    const p = flow.prefix;
    const errors = o.errors ?? {};
    const failed = !!o.error || Object.keys(errors).length > 0;
    const labels = { login: _('field.login'), code: _(`${p}.codeLabel`) };
    const invalidBy = o.error ? ERROR_SUMMARY_ID : undefined;
    return sendPage(reply, {
      req,
      title: _(`${p}.title`),
      documentTitle: _(`${p}.titleStep`, { n: 1 }),
      error: failed,
      narrow: true,
      body: html`<p class="steps">${_('steps.one')}</p>
${o.error ? formError(o.error) : errorSummary(req, errors, labels)}
<p>${_(`${p}.intro`)}</p>
<form class="card" method="post" action="${flow.path}" novalidate>
  ${requiredLegend(req)}
  ${csrfField(req)}
  <input type="hidden" name="step" value="code">
  ${field(req, { name: 'login', label: labels.login, value: o.login, required: true, autocomplete: 'username', autocapitalize: 'none', spellcheck: false, autofocus: !failed && !o.login, error: errors.login, invalidBy, enterkeyhint: 'next' })}
  ${field(req, { name: 'code', label: labels.code, value: o.code, required: true, autocomplete: 'off', autocorrect: 'off', autocapitalize: 'characters', spellcheck: false, enterkeyhint: 'go', inputClass: 'code-input', hint: _('field.codeHint'), autofocus: !failed && !!o.login && !o.code, error: errors.code, invalidBy })}
  <div class="actions"><button type="submit">${_('steps.continue')}</button><a href="/connexion">${_('steps.backToLogin')}</a></div>
</form>`,
    }, status);
  }

  interface PasswordStep {
    login: string;
    code: string;
    values: Form;
    errors: FieldErrors;
    /** The account's activation policy (directory/policies.ts): length, e-mail and phone required or not. */
    policy: StepPolicy;
  }
  interface StepPolicy {
    min: number;
    emailRequired: boolean;
    phoneRequired: boolean;
    termsVersion: number | null;
  }
  async function stepPolicy(userId: string): Promise<StepPolicy> {
    const [p, terms] = await Promise.all([policyForUser(pool, userId), termsDue(pool, userId)]);
    return { min: p.minPasswordLength, emailRequired: p.emailRequired, phoneRequired: p.phoneRequired, termsVersion: terms?.version ?? null };
  }

  function passwordPage(req: FastifyRequest, reply: FastifyReply, flow: CodeFlow, o: PasswordStep, status = 200) {
    const _ = translator(req.lang);
    const p = flow.prefix;
    const activation = flow.purpose === 'activation';
    const labels: Record<string, string> = {
      password: _('field.newPassword'), confirm: _('field.confirmPassword'), email: _('field.email'), phone: _('field.phone'), terms: _('field.terms'),
    };
    const failed = Object.keys(o.errors).length > 0;
    // A password that passed its checks is given back rather than retyped (the page is no-store; see finishCodeFlow).
    const keepPassword = failed && !o.errors.password && !!o.values.password;
    const keepConfirm = keepPassword && !o.errors.confirm;
    const termsHref = `/conditions?${new URLSearchParams({ login: o.login, code: o.code }).toString()}`;
    return sendPage(reply, {
      req,
      title: _(`${p}.title`),
      documentTitle: _(`${p}.titleStep`, { n: 2 }),
      error: failed,
      narrow: true,
      body: html`<p class="steps">${_('steps.two')}</p>
${errorSummary(req, o.errors, labels)}
<p>${_(`${p}.passwordIntro`, { login: o.login })}</p>
<form class="card" method="post" action="${flow.path}" novalidate>
  ${requiredLegend(req)}
  ${csrfField(req)}
  <input type="hidden" name="step" value="password">
  <input type="hidden" name="login" value="${o.login}">
  <input type="hidden" name="code" value="${o.code}">
  <input type="text" name="username" value="${o.login}" autocomplete="username" hidden>
  ${field(req, { name: 'password', label: labels.password, type: 'password', required: true, autocomplete: 'new-password', error: o.errors.password, hint: _('password.rules', { min: o.policy.min }), minlength: o.policy.min, autofocus: !failed,
    value: keepPassword ? o.values.password : '', keepPassword })}
  ${field(req, { name: 'confirm', label: labels.confirm, type: 'password', required: true, autocomplete: 'new-password', error: o.errors.confirm,
    value: keepConfirm ? o.values.confirm : '', keepPassword: keepConfirm })}
  ${activation ? html`
  ${field(req, { name: 'email', label: labels.email, type: 'email', value: o.values.email, required: o.policy.emailRequired, autocomplete: 'email', inputmode: 'email', error: o.errors.email, hint: _('field.emailHint') })}
  ${field(req, { name: 'phone', label: labels.phone, type: 'tel', value: o.values.phone, required: o.policy.phoneRequired, autocomplete: 'tel', inputmode: 'tel', error: o.errors.phone, hint: _('field.phoneHint') })}
  ${checkbox({ name: 'terms', checked: o.values.terms === 'on', required: true, error: o.errors.terms,
    label: html`${_('field.termsAccept')} <a href="${termsHref}" target="_blank" rel="noopener noreferrer">${_('layout.terms')} <span class="new-tab">${_('field.newTab')}</span></a>` })}` : ''}
  <div class="actions"><button type="submit">${_(`${p}.submit`)}</button></div>
</form>`,
    }, status);
  }

  async function codeFlowGet(req: FastifyRequest, reply: FastifyReply, flow: CodeFlow, q: z.infer<typeof CodeQuery>) {
    // From the QR code on the sheet: shown as printed; it is checked only when submitted.
    const canonical = q.code ? normalizeCode(q.code) : null;
    const code = canonical ? formatCode(canonical) : (q.code ?? '');
    // The QR code of an account activated since the sheet was printed: say so, and where to go.
    if (flow.purpose === 'activation' && q.login && q.code && (await isAlreadyActivated(ctx, q.login))) {
      return reply.redirect(`/connexion?deja=1&login=${encodeURIComponent(normalizeLogin(q.login))}`, 303);
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
    if (wait !== null) return tooMany(req, reply, wait);
    const holder = await findCodeHolder(ctx, flow.purpose, login, typed);
    if (!holder) {
      await recordAudit(pool, null, `account.${flow.prefix}_failed`, { login: normalizeLogin(login).slice(0, 100), ip: req.ip });
      return codePage(req, reply, flow, { login, code: typed, error: _(`${flow.prefix}.invalid`) }, 401);
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
    const done = flow.purpose === 'activation'
      ? await activateAccount(ctx, holder, { password, email: email || null, phone, termsVersion: policy.termsVersion }, req.ip)
      : await renewPassword(ctx, holder, password, req.ip);
    // Lost a race with a concurrent use of the same code: same answer as a wrong code.
    if (!done) return codePage(req, reply, flow, { login: holder.login, error: _(`${flow.prefix}.invalid`) }, 401);
    await startSession(ctx, req, reply, holder.id);
    return reply.redirect(`/mon-compte?ok=${flow.purpose === 'activation' ? 'activated' : 'password'}`, 303);
  }

  app.get('/activation', { schema: { querystring: CodeQuery } }, (req, reply) => codeFlowGet(req, reply, ACTIVATION_FLOW, req.query));
  app.post('/activation', { schema: { body: CodeForm } }, (req, reply) => codeFlowPost(req, reply, ACTIVATION_FLOW, req.body));
  app.get('/renouvellement', { schema: { querystring: CodeQuery } }, (req, reply) => codeFlowGet(req, reply, RENEWAL_FLOW, req.query));
  app.post('/renouvellement', { schema: { body: CodeForm } }, (req, reply) => codeFlowPost(req, reply, RENEWAL_FLOW, req.body));

  // ------------------------------------------------------------------------------------ Mon compte

  async function accountPage(req: FastifyRequest, reply: FastifyReply, o: { values?: Form; errors?: FieldErrors; form?: 'contact' | 'password' } = {}, status = 200) {
    const _ = translator(req.lang);
    const d = await loadAccountDetails(ctx, viewer(req).user.id);
    if (!d) return sendErrorPage(req, reply, 404, _('error.notFound'));
    const errors = o.errors ?? {};
    const contactValues = o.form === 'contact' && o.values ? o.values : { email: d.email ?? '', phone: d.phone ?? '' };
    const { ok } = OkQuery.parse(req.query ?? {});
    // Absent from the feed: the grace period's end, said on every visit (issue #9, accounts/lifecycle.ts).
    const absence = await absenceOf(pool, d.id);
    const notice: Notice | null = ok === 'activated' || ok === 'password' || ok === 'contact'
      ? { kind: 'success', text: _(`account.ok.${ok}`) }
      : absence ? { kind: 'info', text: _('account.absent', { date: frenchDate(absence.lockedOn) }) } : null;
    const list = (items: string[]) => (items.length ? items.join(', ') : '—');
    const labels: Record<string, string> = {
      email: _('field.email'), phone: _('field.phone'), current: _('field.currentPassword'), password: _('field.newPassword'), confirm: _('field.confirmPassword'),
    };
    return sendPage(reply, {
      req,
      title: _('account.title'),
      error: Object.keys(errors).length > 0,
      notice,
      body: html`${errorSummary(req, errors, labels)}
<div class="grid grid-2">
<section class="card" aria-labelledby="h-identity">
  <h2 id="h-identity">${_('account.identity')}</h2>
  <dl class="details">
    <dt>${_('account.name')}</dt><dd>${d.firstName} ${d.lastName}</dd>
    <dt>${_('field.login')}</dt><dd><code>${d.login}</code></dd>
    <dt>${_('account.profile')}</dt><dd>${profileLabel(req.lang, d.profile)}${d.isSuperAdmin ? html` · <span class="badge">${_('account.superAdmin')}</span>` : ''}</dd>
    <dt>${_('account.structures')}</dt><dd>${list(d.structures)}</dd>
    ${d.classes.length ? html`<dt>${_('account.classes')}</dt><dd>${list(d.classes)}</dd>` : ''}
    ${d.adminOf.length ? html`<dt>${_('account.adminOf')}</dt><dd>${list(d.adminOf)}</dd>` : ''}
    ${d.children.length ? html`<dt>${_('account.children')}</dt><dd><ul class="plain">${d.children.map((c) => html`<li>${c.firstName} ${c.lastName}${c.classes.length ? ` (${c.classes.join(', ')})` : ''}</li>`)}</ul></dd>` : ''}
    <dt>${_('field.email')}</dt><dd>${d.email ?? '—'}</dd>
    <dt>${_('field.phone')}</dt><dd>${d.phone ?? '—'}</dd>
  </dl>
</section>
<div>
<section class="card" aria-labelledby="h-contact">
  <h2 id="h-contact">${_('account.contact')}</h2>
  <form method="post" action="/mon-compte/coordonnees" novalidate>
    ${requiredLegend(req)}
    ${csrfField(req)}
    ${field(req, { name: 'email', label: labels.email, type: 'email', value: contactValues.email, required: true, autocomplete: 'email', inputmode: 'email', error: errors.email })}
    ${field(req, { name: 'phone', label: labels.phone, type: 'tel', value: contactValues.phone, autocomplete: 'tel', inputmode: 'tel', error: errors.phone, hint: _('field.phoneHint') })}
    <div class="actions"><button type="submit">${_('account.saveContact')}</button></div>
  </form>
</section>
<section class="card" aria-labelledby="h-password">
  <h2 id="h-password">${_('account.changePassword')}</h2>
  <form method="post" action="/mon-compte/mot-de-passe" novalidate>
    ${requiredLegend(req)}
    ${csrfField(req)}
    <input type="text" name="username" value="${d.login}" autocomplete="username" hidden>
    ${field(req, { name: 'current', label: labels.current, type: 'password', required: true, autocomplete: 'current-password', error: errors.current })}
    ${field(req, { name: 'password', label: labels.password, type: 'password', required: true, autocomplete: 'new-password', error: errors.password, hint: _('password.rules', { min: PASSWORD_MIN }), minlength: PASSWORD_MIN })}
    ${field(req, { name: 'confirm', label: labels.confirm, type: 'password', required: true, autocomplete: 'new-password', error: errors.confirm })}
    <div class="actions"><button type="submit">${_('account.savePassword')}</button></div>
  </form>
</section>
</div>
</div>`,
    }, status);
  }

  const signedIn = guard();

  await accountTerms(root, ctx, safeNext);

  app.get('/mon-compte', { preValidation: signedIn, schema: { querystring: OkQuery } }, (req, reply) => accountPage(req, reply));

  app.post('/mon-compte/coordonnees', { preValidation: signedIn, schema: { body: ContactForm } }, async (req, reply) => {
    const _ = translator(req.lang);
    const f = req.body;
    const values = { email: (f.email ?? '').trim(), phone: (f.phone ?? '').trim() };
    const errors: FieldErrors = {};
    const email = values.email ? normalizeEmail(values.email) : null;
    if (!values.email) errors.email = _('field.emailRequired');
    else if (!email) errors.email = _('field.emailInvalid');
    const phone = normalizePhone(values.phone);
    if (phone === null) errors.phone = _('field.phoneInvalid');
    if (Object.keys(errors).length || !email) return accountPage(req, reply, { form: 'contact', values, errors }, 422);
    await updateContact(ctx, viewer(req).user.id, email, phone);
    return reply.redirect('/mon-compte?ok=contact', 303);
  });

  app.post('/mon-compte/mot-de-passe', { preValidation: signedIn, schema: { body: PasswordForm } }, async (req, reply) => {
    const _ = translator(req.lang);
    const f = req.body;
    const { user } = viewer(req);
    const errors = newPasswordErrors(_, f.password ?? '', f.confirm ?? '', user.login);
    if (!f.current) errors.current = _('field.currentRequired');
    if (Object.keys(errors).length) return accountPage(req, reply, { form: 'password', errors }, 422);
    // The current password is a credential: guessing it is limited like sign-in.
    const wait = await attempt(req, user.login);
    if (wait !== null) return tooMany(req, reply, wait);
    if (!(await changePassword(ctx, user.id, f.current, f.password, req.sessionIdHash))) {
      return accountPage(req, reply, { form: 'password', errors: { current: _('field.currentWrong') } }, 422);
    }
    await succeeded(req, user.login);
    return reply.redirect('/mon-compte?ok=password', 303);
  });

  // ------------------------------------------------------------------------------------ forgotten password

  function forgotPage(req: FastifyRequest, reply: FastifyReply, o: { sent?: boolean; identifier?: string; errors?: FieldErrors }, status = 200) {
    const _ = translator(req.lang);
    const errors = o.errors ?? {};
    const failed = Object.keys(errors).length > 0;
    const labels = { identifier: _('forgot.identifier') };
    return sendPage(reply, {
      req,
      title: _('forgot.title'),
      error: failed,
      narrow: true,
      notice: o.sent ? { kind: 'success', text: _('forgot.sent') } : null,
      body: html`${errorSummary(req, errors, labels)}
<p>${_('forgot.intro')}</p>
<form class="card" method="post" action="/mot-de-passe-oublie" novalidate>
  ${requiredLegend(req)}
  ${csrfField(req)}
  ${field(req, { name: 'identifier', label: labels.identifier, value: o.identifier, required: true, autocomplete: 'username', autocapitalize: 'none', spellcheck: false, autofocus: !o.sent && !failed, error: errors.identifier })}
  <div class="actions"><button type="submit">${_('forgot.submit')}</button><a href="/connexion">${_('steps.backToLogin')}</a></div>
</form>
<p class="muted">${_('forgot.noEmail')} <a href="/renouvellement">${_('login.renewal')}</a></p>`,
    }, status);
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
    if (!perIp.allowed || !perId.allowed) return tooMany(req, reply, Math.max(perIp.retryAfterSec, perId.retryAfterSec));
    const lang = req.lang;
    const _ = translator(lang);
    await requestPasswordReset(ctx, identifier, ({ link, login, firstName, minutes }) => ({
      subject: _('forgot.mailSubject'),
      text: _('forgot.mailText', { firstName, login, link, minutes }),
    }), req.ip, ({ login, firstName, provider }) => ({
      subject: _('forgot.external.mailSubject', { provider }),
      text: _('forgot.external.mailText', { firstName, login, provider }),
    }));
    return forgotPage(req, reply, { sent: true });
  });

  function resetPage(req: FastifyRequest, reply: FastifyReply, o: { token: string; login: string; errors?: FieldErrors }, status = 200) {
    const _ = translator(req.lang);
    const errors = o.errors ?? {};
    const labels = { password: _('field.newPassword'), confirm: _('field.confirmPassword') };
    const failed = Object.keys(errors).length > 0;
    return sendPage(reply, {
      req,
      title: _('reset.title'),
      error: failed,
      narrow: true,
      body: html`${errorSummary(req, errors, labels)}
<p>${_('reset.intro', { login: o.login })}</p>
<form class="card" method="post" action="/reinitialisation" novalidate>
  ${requiredLegend(req)}
  ${csrfField(req)}
  <input type="hidden" name="token" value="${o.token}">
  <input type="text" name="username" value="${o.login}" autocomplete="username" hidden>
  ${field(req, { name: 'password', label: labels.password, type: 'password', required: true, autocomplete: 'new-password', error: errors.password, hint: _('password.rules', { min: PASSWORD_MIN }), minlength: PASSWORD_MIN, autofocus: !failed })}
  ${field(req, { name: 'confirm', label: labels.confirm, type: 'password', required: true, autocomplete: 'new-password', error: errors.confirm })}
  <div class="actions"><button type="submit">${_('reset.submit')}</button></div>
</form>`,
    }, status);
  }

  function resetInvalid(req: FastifyRequest, reply: FastifyReply): FastifyReply {
    const _ = translator(req.lang);
    return sendPage(reply, {
      req,
      title: _('reset.title'),
      error: true,
      narrow: true,
      notice: { kind: 'error', text: _('reset.invalid') },
      body: html`<p><a class="button" href="/mot-de-passe-oublie">${_('reset.again')}</a></p>`,
    }, 400);
  }

  app.get('/reinitialisation', { schema: { querystring: TokenQuery } }, async (req, reply) => {
    // The token is in this URL: keep it out of any Referer, even same-site.
    reply.header('referrer-policy', 'no-referrer');
    const token = req.query.token;
    const target = await findResetToken(ctx, token);
    if (!target) return resetInvalid(req, reply);
    return resetPage(req, reply, { token, login: target.login });
  });

  app.post('/reinitialisation', { schema: { body: ResetForm } }, async (req, reply) => {
    const _ = translator(req.lang);
    const f = req.body;
    const token = f.token ?? '';
    const target = await findResetToken(ctx, token);
    if (!target) return resetInvalid(req, reply);
    const errors = newPasswordErrors(_, f.password ?? '', f.confirm ?? '', target.login);
    if (Object.keys(errors).length) return resetPage(req, reply, { token, login: target.login, errors }, 422);
    const userId = await resetPassword(ctx, token, f.password, req.ip);
    if (!userId) return resetInvalid(req, reply);
    await startSession(ctx, req, reply, userId);
    return reply.redirect('/mon-compte?ok=password', 303);
  });
}
