// Views of the account pages (sign-in, activation and renewal steps, "Mon compte", forgotten password, terms):
// pure functions of what the routes (account/index.ts) read and checked. Every page works without JavaScript.
import type { CodePurpose } from '../../accounts/activation.js';
import type { AccountDetails } from '../../accounts/profile.js';
import type { AccountLink } from '../../federation/links.js';
import { frenchDate } from '../../publipostage/format.js';
import { checkbox, csrfField, ERROR_SUMMARY_ID, errorSummary, field, formError, requiredLegend, type FieldErrors } from '../forms.js';
import { html, type SafeHtml } from '../html.js';
import { translator, type Lang } from '../i18n/index.js';
import { profileLabel } from '../labels.js';
import type { Notice } from '../layout.js';
import type { PageView, ViewEnv } from '../view.js';

type Form = Record<string, string>;

/** `path` with `params` as its query (none when empty). */
function pathWith(path: string, params: Record<string, string>): string {
  const q = new URLSearchParams(params).toString();
  return q ? `${path}?${q}` : path;
}

/** The two code flows: activation (first password) and renewal (a code from a teacher or an admin). */
export interface CodeFlow {
  purpose: CodePurpose;
  path: string;
  prefix: 'activation' | 'renewal';
}

/**
 * An activation begun from the « aucun compte » page of an identity provider (src/web/federation/index.ts): the
 * provider's answer pending in this browser, linked to the account once activated. Carried through both steps.
 */
export interface PendingLink {
  provider: string;
  label: string;
  token: string;
  minutes: number;
}

function pendingLinkFields(env: ViewEnv, link: PendingLink | undefined): SafeHtml {
  if (!link) return html``;
  const _ = translator(env.lang);
  return html`<p class="notice notice-info" id="pending-link">${_('fed.link.activation', { provider: link.label, minutes: link.minutes })}</p>
<input type="hidden" name="fournisseur" value="${link.provider}">
<input type="hidden" name="jeton" value="${link.token}">`;
}

export interface PasswordStep {
  pendingLink?: PendingLink;
  login: string;
  code: string;
  values: Form;
  errors: FieldErrors;
  /** The account's activation policy (directory/policies.ts): length, e-mail and phone required or not. */
  policy: StepPolicy;
}
export interface StepPolicy {
  min: number;
  emailRequired: boolean;
  phoneRequired: boolean;
  termsVersion: number | null;
  /** The school's own terms of use when they are due (its published version's text), shown on step 2 and accepted there. */
  termsText?: string | null;
}

/**
 * `alert`: a refusal that is not about what was typed (too many attempts, a session that expired), said on the form
 * where it happened like an error (focused, role alert, « Erreur : » in the title) without marking any field invalid.
 * Shared by the sign-in, code, forgotten-password and account views.
 */
function alertOrErrors(env: ViewEnv, alert: string | undefined, error: string | undefined, errors: FieldErrors, labels: Record<string, string>): SafeHtml {
  if (alert) return formError(alert);
  return error ? formError(error) : errorSummary(env, errors, labels);
}

/** `providers`: the sign-in buttons of the configured identity providers (src/web/federation/sign-in.ts). */
export function loginView(
  env: ViewEnv,
  o: { login?: string; next: string; error?: string; alert?: string; errors?: FieldErrors; notice?: Notice | null; remember?: boolean; providers?: SafeHtml },
): PageView {
  const _ = translator(env.lang);
  const errors = o.errors ?? {};
  const failed = !!o.error || !!o.alert || Object.keys(errors).length > 0;
  const labels = { login: _('field.login'), password: _('field.password') };
  const invalidBy = o.error ? ERROR_SUMMARY_ID : undefined;
  // A notice says why the visitor is here (« compte déjà activé », signed out, sign in to continue): read first,
  // focused, rather than skipped by a field's autofocus after it. Otherwise the first empty field.
  const notice = failed || !o.notice ? null : { ...o.notice, focus: true };
  const autofocus = !failed && !notice;
  return {
    title: _('login.title'),
    error: failed,
    narrow: true,
    notice,
    body: html`${alertOrErrors(env, o.alert, o.error, errors, labels)}
<form class="card" method="post" action="/connexion" novalidate>
${requiredLegend(env)}
${csrfField(env)}
<input type="hidden" name="next" value="${o.next}">
${field(env, { name: 'login', label: labels.login, value: o.login, required: true, autocomplete: 'username', autocapitalize: 'none', spellcheck: false, autofocus: autofocus && !o.login, error: errors.login, invalidBy })}
${field(env, { name: 'password', label: labels.password, type: 'password', required: true, autocomplete: 'current-password', autofocus: autofocus && !!o.login, error: errors.password, invalidBy })}
${checkbox({ name: 'remember', checked: o.remember === true, label: _('login.remember') })}
<div class="actions"><button type="submit">${_('login.submit')}</button><a href="/mot-de-passe-oublie">${_('login.forgot')}</a></div>
</form>
${o.providers ?? ''}
<div class="card">
<h2>${_('login.firstTime')}</h2>
<p>${_('login.firstTimeHelp')}</p>
<p><a class="button button-secondary" href="/activation">${_('login.activate')}</a></p>
<p class="muted">${_('login.renewalHelp')} <a href="/renouvellement">${_('login.renewal')}</a></p>
</div>`,
  };
}

export function codeView(env: ViewEnv, flow: CodeFlow, o: { login?: string; code?: string; error?: string; alert?: string; errors?: FieldErrors; pendingLink?: PendingLink }): PageView {
  const _ = translator(env.lang);
  const p = flow.prefix;
  const errors = o.errors ?? {};
  const failed = !!o.error || !!o.alert || Object.keys(errors).length > 0;
  const labels = { login: _('field.login'), code: _(`${p}.codeLabel`) };
  const invalidBy = o.error ? ERROR_SUMMARY_ID : undefined;
  // The other language keeps the login; the code only as the sheet's QR code gave it (a refused one is not sent again).
  const again = { ...(o.login ? { login: o.login } : {}), ...(o.code && !failed ? { code: o.code } : {}) };
  // The sheet's QR code filled both fields: the family checks them and goes on (the button has the focus).
  const prefilled = flow.purpose === 'activation' && !failed && !!o.login && !!o.code;
  return {
    title: _(`${p}.title`),
    documentTitle: _(`${p}.titleStep`, { n: 1 }),
    error: failed,
    narrow: true,
    langPath: pathWith(flow.path, again),
    body: html`<p class="steps">${_('steps.one')}</p>
${alertOrErrors(env, o.alert, o.error, errors, labels)}
<p>${prefilled ? _('activation.introPrefilled') : _(`${p}.intro`)}</p>
<form class="card" method="post" action="${flow.path}" novalidate>
${requiredLegend(env)}
${csrfField(env)}
${pendingLinkFields(env, o.pendingLink)}
<input type="hidden" name="step" value="code">
${field(env, { name: 'login', label: labels.login, value: o.login, required: true, autocomplete: 'username', autocapitalize: 'none', spellcheck: false, autofocus: !failed && !o.login, error: errors.login, invalidBy, enterkeyhint: 'next' })}
${field(env, { name: 'code', label: labels.code, value: o.code, required: true, autocomplete: 'one-time-code', autocorrect: 'off', autocapitalize: 'characters', spellcheck: false, enterkeyhint: 'go', inputClass: 'code-input', hint: _(flow.purpose === 'activation' ? 'field.codeHint' : 'field.renewalCodeHint'), autofocus: !failed && !!o.login && !o.code, error: errors.code, invalidBy })}
<div class="actions"><button type="submit"${prefilled ? html` autofocus` : ''}>${_('steps.continue')}</button><a href="/connexion">${_('steps.backToLogin')}</a></div>
</form>`,
  };
}

export function passwordView(env: ViewEnv, flow: CodeFlow, o: PasswordStep): PageView {
  const _ = translator(env.lang);
  const p = flow.prefix;
  const activation = flow.purpose === 'activation';
  const labels: Record<string, string> = {
    password: _('field.newPassword'),
    confirm: _('field.confirmPassword'),
    email: _('field.email'),
    phone: _('field.phone'),
    terms: _('field.terms'),
  };
  const failed = Object.keys(o.errors).length > 0;
  // A password that passed its checks is given back rather than retyped (the page is no-store; see finishCodeFlow).
  const keepPassword = failed && !o.errors.password && !!o.values.password;
  const keepConfirm = keepPassword && !o.errors.confirm;
  const termsHref = pathWith('/conditions', { login: o.login, code: o.code });
  const schoolTerms = o.policy.termsText?.trim() || null;
  return {
    title: _(`${p}.title`),
    documentTitle: _(`${p}.titleStep`, { n: 2 }),
    error: failed,
    narrow: true,
    // This step answers a POST: the other language reopens step 1 with the login and the (checked) code filled in.
    langPath: pathWith(flow.path, { login: o.login, code: o.code }),
    body: html`<p class="steps">${_('steps.two')}</p>
${errorSummary(env, o.errors, labels)}
<p>${_(`${p}.passwordIntro`, { login: o.login })}</p>
<form class="card" method="post" action="${flow.path}" novalidate>
${requiredLegend(env)}
${csrfField(env)}
${pendingLinkFields(env, o.pendingLink)}
<input type="hidden" name="step" value="password">
<input type="hidden" name="login" value="${o.login}">
<input type="hidden" name="code" value="${o.code}">
<input type="text" name="username" value="${o.login}" autocomplete="username" hidden>
${field(env, {
  name: 'password',
  label: labels.password,
  type: 'password',
  required: true,
  autocomplete: 'new-password',
  error: o.errors.password,
  hint: _('password.rules', { min: o.policy.min }),
  minlength: o.policy.min,
  autofocus: !failed,
  value: keepPassword ? o.values.password : '',
  keepPassword,
})}
${field(env, {
  name: 'confirm',
  label: labels.confirm,
  type: 'password',
  required: true,
  autocomplete: 'new-password',
  error: o.errors.confirm,
  value: keepConfirm ? o.values.confirm : '',
  keepPassword: keepConfirm,
})}
${
  activation
    ? html`
${field(env, { name: 'email', label: labels.email, type: 'email', value: o.values.email, required: o.policy.emailRequired, autocomplete: 'email', inputmode: 'email', error: o.errors.email, hint: _('field.emailHint') })}
${field(env, { name: 'phone', label: labels.phone, type: 'tel', value: o.values.phone, required: o.policy.phoneRequired, autocomplete: 'tel', inputmode: 'tel', error: o.errors.phone, hint: _('field.phoneHint') })}
${
  schoolTerms
    ? html`<section class="terms-text" aria-labelledby="terms-school-title" data-terms-version="${o.policy.termsVersion ?? ''}">
<h2 id="terms-school-title">${_('field.termsSchool')}</h2>
${schoolTerms.split(/\n\s*\n/).map((t) => html`<p>${t}</p>`)}
</section>`
    : ''
}
${checkbox({
  name: 'terms',
  checked: o.values.terms === 'on',
  required: true,
  error: o.errors.terms,
  // The school's own text is the one accepted (activateAccount records its version): read above, not the built-in one.
  label: schoolTerms
    ? html`${_('field.termsAcceptAbove')}`
    : html`${_('field.termsAccept')} <a href="${termsHref}" target="_blank" rel="noopener noreferrer">${_('layout.terms')} <span class="new-tab">${_('field.newTab')}</span></a>`,
})}`
    : ''
}
<div class="actions"><button type="submit">${_(`${p}.submit`)}</button></div>
</form>`,
  };
}

/** `mailOff`: no mail server configured (config.smtpUrl), so no link can leave: said before the form and after it. */
export function forgotView(env: ViewEnv, o: { sent?: boolean; mailOff?: boolean; identifier?: string; alert?: string; errors?: FieldErrors }): PageView {
  const _ = translator(env.lang);
  const errors = o.errors ?? {};
  const failed = !!o.alert || Object.keys(errors).length > 0;
  const labels = { identifier: _('forgot.identifier') };
  return {
    title: _('forgot.title'),
    error: failed,
    narrow: true,
    // The answer to the form, on a page titled as before: focused, so a screen reader says at once that it worked.
    notice: o.sent ? (o.mailOff ? { kind: 'info', text: _('forgot.sentMailOff'), focus: true } : { kind: 'success', text: _('forgot.sent'), focus: true }) : null,
    body: html`${alertOrErrors(env, o.alert, undefined, errors, labels)}
<p>${_('forgot.intro')}</p>
${o.mailOff && !o.sent ? html`<p class="notice" data-mail-off>${_('forgot.mailOff')} <a href="/renouvellement">${_('login.renewal')}</a></p>` : ''}
<form class="card" method="post" action="/mot-de-passe-oublie" novalidate>
${requiredLegend(env)}
${csrfField(env)}
${field(env, { name: 'identifier', label: labels.identifier, value: o.identifier, required: true, autocomplete: 'username', autocapitalize: 'none', spellcheck: false, autofocus: !o.sent && !failed, error: errors.identifier })}
<div class="actions"><button type="submit">${_('forgot.submit')}</button><a href="/connexion">${_('steps.backToLogin')}</a></div>
</form>
<p class="muted">${_('forgot.noEmail')} <a href="/renouvellement">${_('login.renewal')}</a></p>`,
  };
}

/** `min`: the account's minimum password length (its policy, as at activation). */
export function resetView(env: ViewEnv, o: { token: string; login: string; min: number; errors?: FieldErrors }): PageView {
  const _ = translator(env.lang);
  const errors = o.errors ?? {};
  const labels = { password: _('field.newPassword'), confirm: _('field.confirmPassword') };
  const failed = Object.keys(errors).length > 0;
  return {
    title: _('reset.title'),
    error: failed,
    narrow: true,
    // After a refused POST the URL has lost the link's token: the other language opens the link again.
    langPath: pathWith('/reinitialisation', { token: o.token }),
    body: html`${errorSummary(env, errors, labels)}
<p>${_('reset.intro', { login: o.login })}</p>
<form class="card" method="post" action="/reinitialisation" novalidate>
${requiredLegend(env)}
${csrfField(env)}
<input type="hidden" name="token" value="${o.token}">
<input type="text" name="username" value="${o.login}" autocomplete="username" hidden>
${field(env, { name: 'password', label: labels.password, type: 'password', required: true, autocomplete: 'new-password', error: errors.password, hint: _('password.rules', { min: o.min }), minlength: o.min, autofocus: !failed })}
${field(env, { name: 'confirm', label: labels.confirm, type: 'password', required: true, autocomplete: 'new-password', error: errors.confirm })}
<div class="actions"><button type="submit">${_('reset.submit')}</button></div>
</form>`,
  };
}

export function resetInvalidView(env: ViewEnv): PageView {
  const _ = translator(env.lang);
  return {
    title: _('reset.title'),
    error: true,
    narrow: true,
    notice: { kind: 'error', text: _('reset.invalid') },
    body: html`<p><a class="button" href="/mot-de-passe-oublie">${_('reset.again')}</a></p>`,
  };
}

/** "Mon compte": identity, contact form (`contactValues` as typed, or the account's), password change. */
/** `contactPolicy`: the account's policy (directory/policies.ts), the activation's rules for e-mail, phone and password length. */
export function accountView(
  env: ViewEnv,
  d: AccountDetails,
  o: {
    errors: FieldErrors;
    alert?: string;
    contactValues: { email: string; phone: string };
    notice: Notice | null;
    contactPolicy: { emailRequired: boolean; phoneRequired: boolean; minPasswordLength: number };
    /** The account's links to identity providers (federation/links.ts), each one the holder may undo. */
    links: AccountLink[];
    /** The provider chosen in the unlink form sent back with an error. */
    unlinkChosen?: string;
  },
): PageView {
  const _ = translator(env.lang);
  const { errors, contactValues, contactPolicy } = o;
  const list = (items: string[]) => (items.length ? items.join(', ') : '—');
  const labels: Record<string, string> = {
    email: _('field.email'),
    phone: _('field.phone'),
    contactCurrent: _('field.currentPassword'),
    current: _('field.currentPassword'),
    password: _('field.newPassword'),
    confirm: _('field.confirmPassword'),
    providerId: _('account.links.legend'),
    unlinkCurrent: _('field.currentPassword'),
  };
  const failed = !!o.alert || Object.keys(errors).length > 0;
  return {
    title: _('account.title'),
    error: failed,
    // Also after a POST to /mon-compte/coordonnees or /mon-compte/mot-de-passe, which a GET does not answer.
    langPath: '/mon-compte',
    // A form's success (activated, saved) is read first, like an error would be; an error, when any, has the focus.
    notice: o.notice && !failed && o.notice.kind === 'success' ? { ...o.notice, focus: true } : o.notice,
    body: html`${alertOrErrors(env, o.alert, undefined, errors, labels)}
<div class="grid grid-2">
<section class="card" aria-labelledby="h-identity">
  <h2 id="h-identity">${_('account.identity')}</h2>
  <dl class="details">
    <dt>${_('account.name')}</dt><dd>${d.firstName} ${d.lastName}</dd>
    <dt>${_('field.login')}</dt><dd><code>${d.login}</code></dd>
    <dt>${_('account.profile')}</dt><dd>${profileLabel(env.lang, d.profile)}${d.isSuperAdmin ? html` · <span class="badge">${_('account.superAdmin')}</span>` : ''}</dd>
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
    ${contactPolicy.emailRequired || contactPolicy.phoneRequired ? requiredLegend(env) : ''}
    ${csrfField(env)}
    ${field(env, { name: 'email', label: labels.email, type: 'email', value: contactValues.email, required: contactPolicy.emailRequired, autocomplete: 'email', inputmode: 'email', error: errors.email, hint: _('field.emailHint') })}
    ${field(env, { name: 'phone', label: labels.phone, type: 'tel', value: contactValues.phone, required: contactPolicy.phoneRequired, autocomplete: 'tel', inputmode: 'tel', error: errors.phone, hint: _('field.phoneHint') })}
    ${
      d.hasPassword &&
      html`<input type="text" name="username" value="${d.login}" autocomplete="username" hidden>
    ${field(env, { name: 'contactCurrent', label: labels.contactCurrent, type: 'password', autocomplete: 'current-password', error: errors.contactCurrent, hint: _('field.contactCurrentHint'), mark: false })}`
    }
    <div class="actions"><button type="submit">${_('account.saveContact')}</button></div>
  </form>
</section>
${
  d.hasPassword
    ? passwordSection(env, d, o)
    : html`<section class="card" aria-labelledby="h-password">
  <h2 id="h-password">${_('account.password')}</h2>
  <p data-no-password>${noPasswordText(env.lang, d.signInProvider)}</p>
</section>`
}
${linksSection(env, d, o)}
</div>
</div>`,
  };
}

/**
 * What « Mon compte » says instead of the password form to an account that has no Trousseau password (it signs in
 * through an identity provider only): there is nothing to change here, its password is the provider's.
 */
export function noPasswordText(lang: Lang, provider: string | null): string {
  const _ = translator(lang);
  return provider ? _('account.noPassword', { provider }) : _('account.noPasswordAnyProvider');
}

/**
 * « Fournisseurs d’identité associés »: each link and since when, and the form undoing one (POST
 * /mon-compte/fournisseurs), which asks the current password as an address change does (an account without one has
 * none to give). Nothing when the account has no link.
 */
function linksSection(env: ViewEnv, d: AccountDetails, o: { errors: FieldErrors; links: AccountLink[]; unlinkChosen?: string }): SafeHtml {
  if (!o.links.length) return html``;
  const _ = translator(env.lang);
  const { errors, links } = o;
  const several = links.length > 1;
  return html`<section class="card" aria-labelledby="h-links" data-fed-links>
  <h2 id="h-links">${_('account.links')}</h2>
  <ul class="plain">${links.map((l) => html`<li data-fed-link="${l.providerId}">${_('account.links.item', { provider: l.providerName, date: frenchDate(l.createdAt) })}</li>`)}</ul>
  <form method="post" action="/mon-compte/fournisseurs" novalidate>
    ${d.hasPassword || several ? requiredLegend(env) : ''}
    ${csrfField(env)}
    ${
      several
        ? html`<fieldset class="field"${errors.providerId ? html` aria-describedby="f-providerId-error"` : ''}><legend>${_('account.links.legend')} <span class="req" aria-hidden="true">*</span></legend>
    ${errors.providerId ? html`<p class="field-error" id="f-providerId-error">${errors.providerId}</p>` : ''}
    ${links.map(
      (
        l,
        i,
      ) => html`<div class="field-check"><input type="radio" id="f-providerId${i ? `-${i}` : ''}" name="providerId" value="${l.providerId}"${o.unlinkChosen === l.providerId ? html` checked` : ''}>
      <label for="f-providerId${i ? `-${i}` : ''}">${l.providerName}</label></div>`,
    )}
  </fieldset>`
        : html`<input type="hidden" name="providerId" value="${links[0].providerId}">`
    }
    ${
      d.hasPassword &&
      html`<input type="text" name="username" value="${d.login}" autocomplete="username" hidden>
    ${field(env, { name: 'unlinkCurrent', label: _('field.currentPassword'), type: 'password', required: true, autocomplete: 'current-password', error: errors.unlinkCurrent })}`
    }
    <p class="hint" id="h-links-hint">${_('account.links.hint')}</p>
    <div class="actions"><button type="submit" class="button-secondary" aria-describedby="h-links-hint">${
      several ? _('account.links.unlinkChosen') : _('account.links.unlink', { provider: links[0].providerName })
    }</button></div>
  </form>
</section>`;
}

/** The password change form of « Mon compte ». */
function passwordSection(env: ViewEnv, d: AccountDetails, o: { errors: FieldErrors; contactPolicy: { minPasswordLength: number } }): SafeHtml {
  const _ = translator(env.lang);
  const { errors, contactPolicy } = o;
  const labels = { current: _('field.currentPassword'), password: _('field.newPassword'), confirm: _('field.confirmPassword') };
  return html`<section class="card" aria-labelledby="h-password">
  <h2 id="h-password">${_('account.changePassword')}</h2>
  <form method="post" action="/mon-compte/mot-de-passe" novalidate>
    ${requiredLegend(env)}
    ${csrfField(env)}
    <input type="text" name="username" value="${d.login}" autocomplete="username" hidden>
    ${field(env, { name: 'current', label: labels.current, type: 'password', required: true, autocomplete: 'current-password', error: errors.current })}
    ${field(env, { name: 'password', label: labels.password, type: 'password', required: true, autocomplete: 'new-password', error: errors.password, hint: _('password.rules', { min: contactPolicy.minPasswordLength }), minlength: contactPolicy.minPasswordLength })}
    ${field(env, { name: 'confirm', label: labels.confirm, type: 'password', required: true, autocomplete: 'new-password', error: errors.confirm })}
    <div class="actions"><button type="submit">${_('account.savePassword')}</button></div>
  </form>
</section>`;
}

/**
 * The terms of use; `back` reopens the activation where it was left. Signed in: the school's own text (`schoolText`,
 * the one its activation or sign-in accepted) before the built-in rules, and the way back to the account's pages.
 */
export function termsView(env: ViewEnv, back: string, o: { schoolText?: string | null; signedIn?: boolean } = {}): PageView {
  const _ = translator(env.lang);
  const school = o.schoolText?.trim();
  return {
    title: _('terms.title'),
    narrow: true,
    body: html`${
      school
        ? html`<section class="card terms-text" aria-labelledby="terms-school-title">
  <h2 id="terms-school-title">${_('field.termsSchool')}</h2>
  ${school.split(/\n\s*\n/).map((t) => html`<p>${t}</p>`)}
</section>`
        : ''
    }<div class="card">
  <p>${_('terms.intro')}</p>
  <ul>
    <li>${_('terms.personal')}</li>
    <li>${_('terms.secret')}</li>
    <li>${_('terms.respect')}</li>
    <li>${_('terms.data')}</li>
    <li>${_('terms.contact')}</li>
  </ul>
</div>
<p><a href="${back}">${o.signedIn ? _('terms.backHome') : _('terms.back')}</a></p>`,
  };
}
