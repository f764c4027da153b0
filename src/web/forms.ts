// Accessible form pieces shared by every page: CSRF field, labelled inputs with inline errors, error summary.
import type { FastifyReply } from 'fastify';
import { html, type HtmlValue, type SafeHtml } from './html.js';
import { plural, t, type Lang } from './i18n/index.js';

/**
 * What the form pieces read from the request: its language and CSRF token. A FastifyRequest is one, and so is
 * a view's ViewEnv (src/web/view.ts), so views build forms without the request.
 */
export interface FormEnv {
  lang: Lang;
  csrfToken?: string | null;
}

/**
 * Too many attempts: the Retry-After header, and the wait in words for the page to say on the form where it happened
 * (`alert` of the views: announced, focused, « Erreur : » in the title, what was typed kept), answered with 429.
 */
export function tooMany(req: FormEnv, reply: FastifyReply, seconds: number): string {
  reply.header('retry-after', String(seconds));
  return seconds < 60 ? plural(req.lang, 'error.rateLimitedSeconds', seconds) : plural(req.lang, 'error.rateLimited', Math.ceil(seconds / 60));
}

/** The hidden `_csrf` field every POST form must carry. */
export function csrfField(req: FormEnv): SafeHtml {
  return html`<input type="hidden" name="_csrf" value="${req.csrfToken ?? ''}">`;
}

/** Field errors by field name, already translated. */
export type FieldErrors = Record<string, string>;

export interface FieldOptions {
  name: string;
  label: string;
  type?: 'text' | 'password' | 'email' | 'tel' | 'search' | 'date' | 'number' | 'url';
  value?: string | null;
  error?: string;
  hint?: HtmlValue;
  required?: boolean;
  autocomplete?: string;
  inputmode?: 'text' | 'email' | 'tel' | 'numeric' | 'search';
  autofocus?: boolean;
  spellcheck?: boolean;
  autocapitalize?: 'none' | 'off' | 'sentences' | 'words' | 'characters';
  minlength?: number;
  maxlength?: number;
  autocorrect?: 'off';
  enterkeyhint?: 'next' | 'go' | 'done' | 'send';
  /** Extra class on the input, e.g. `code-input` (monospace, as printed). */
  inputClass?: string;
  /** Marks the field invalid without an error of its own, described by a message elsewhere (a form-level error's id). */
  invalidBy?: string;
  /** Re-fills a password field (only with a value that already passed its checks, on a no-store page). */
  keepPassword?: boolean;
  /** false: neither « * » nor « (facultatif) » — a field asked only in some cases, which its hint says. */
  mark?: false;
}

/**
 * The « Afficher » toggle after a password field: a button that says which field it shows (its visible word first,
 * then the label, visually hidden) and its state (aria-pressed). `hidden` until /static/reveal.js runs: without
 * script there is no button that does nothing.
 */
function revealButton(req: FormEnv, id: string, label: string): SafeHtml {
  return html`<button type="button" class="button-secondary reveal" aria-controls="${id}" aria-pressed="false" hidden>${t(req.lang, 'form.reveal')}<span class="visually-hidden"> ${t(req.lang, 'quote', { text: label })}</span></button>`;
}

export const fieldId = (name: string): string => `f-${name}`;

/** A labelled input; the error is tied to it with aria-describedby so screen readers announce it. */
export function field(req: FormEnv, o: FieldOptions): SafeHtml {
  const id = fieldId(o.name);
  const describedBy = [o.invalidBy ?? '', o.hint ? `${id}-hint` : '', o.error ? `${id}-error` : ''].filter(Boolean).join(' ');
  const invalid = !!o.error || !!o.invalidBy;
  const showValue = o.type !== 'password' || o.keepPassword;
  const marker = o.mark === false ? '' : o.required ? html`<span class="req" aria-hidden="true">*</span>` : html`<span class="opt">(${t(req.lang, 'form.optional')})</span>`;
  return html`<div class="field${o.error ? ' field-invalid' : ''}${o.type === 'password' ? ' field-password' : ''}">
  <label for="${id}">${o.label} ${marker}</label>
  ${o.hint ? html`<p class="hint" id="${id}-hint">${o.hint}</p>` : ''}
  ${o.error ? html`<p class="field-error" id="${id}-error">${o.error}</p>` : ''}
  <input id="${id}" name="${o.name}" type="${o.type ?? 'text'}"${o.inputClass ? html` class="${o.inputClass}"` : ''}${showValue ? html` value="${o.value ?? ''}"` : ''}${
    o.required ? html` required` : ''
  }${o.autocomplete ? html` autocomplete="${o.autocomplete}"` : ''}${o.inputmode ? html` inputmode="${o.inputmode}"` : ''}${o.autofocus ? html` autofocus` : ''}${
    o.spellcheck === false ? html` spellcheck="false"` : ''
  }${o.autocapitalize ? html` autocapitalize="${o.autocapitalize}"` : ''}${o.minlength ? html` minlength="${o.minlength}"` : ''}${o.maxlength ? html` maxlength="${o.maxlength}"` : ''}${
    o.autocorrect ? html` autocorrect="${o.autocorrect}"` : ''
  }${o.enterkeyhint ? html` enterkeyhint="${o.enterkeyhint}"` : ''}${describedBy ? html` aria-describedby="${describedBy}"` : ''}${invalid ? html` aria-invalid="true"` : ''}>${
    o.type === 'password' ? revealButton(req, id, o.label) : ''
  }
</div>`;
}

export interface CheckboxOptions {
  name: string;
  label: HtmlValue;
  checked?: boolean;
  error?: string;
  required?: boolean;
  value?: string;
}

/**
 * A checkbox. `required` is announced with aria-required and a "*" (checked on submit by the server): a native
 * `required` would have it reported invalid as soon as the page opens (issue #13).
 */
export function checkbox(o: CheckboxOptions): SafeHtml {
  const id = fieldId(o.name);
  return html`<div class="field field-check${o.error ? ' field-invalid' : ''}">
  ${o.error ? html`<p class="field-error" id="${id}-error">${o.error}</p>` : ''}
  <input id="${id}" name="${o.name}" type="checkbox" value="${o.value ?? 'on'}"${o.checked ? html` checked` : ''}${
    o.required ? html` aria-required="true"` : ''
  }${o.error ? html` aria-invalid="true" aria-describedby="${id}-error"` : ''}>
  <label for="${id}">${o.label}${o.required ? html` <span class="req" aria-hidden="true">*</span>` : ''}</label>
</div>`;
}

/** Explains the "*" of required fields; put once at the top of a form that has some. */
export function requiredLegend(req: FormEnv): SafeHtml {
  return html`<p class="muted required-legend"><span class="req" aria-hidden="true">*</span> ${t(req.lang, 'form.requiredLegend')}</p>`;
}

/** The id of the error summary / form-level error message, focused when the page loads. */
export const ERROR_SUMMARY_ID = 'error-summary';

/**
 * A form-level error (sign-in, code step) that both fields point to with `invalidBy: ERROR_SUMMARY_ID`.
 * Focused on load (tabindex=-1 + autofocus, no script needed) so a screen reader reads it first.
 */
export function formError(message: string): SafeHtml {
  return html`<div class="notice notice-error" role="alert" id="${ERROR_SUMMARY_ID}" tabindex="-1" autofocus>${message}</div>`;
}

/** A list of the form's errors at the top, each linking to its field. */
export function errorSummary(req: FormEnv, errors: FieldErrors, labels: Record<string, string>): SafeHtml {
  const names = Object.keys(errors);
  if (names.length === 0) return html``;
  // Focused on load (tabindex=-1 + autofocus): fields must not ask for autofocus when there are errors.
  return html`<div class="notice notice-error" role="alert" id="${ERROR_SUMMARY_ID}" tabindex="-1" autofocus>
  <p>${t(req.lang, 'form.errorSummary')}</p>
  <ul>${names.map((n) => html`<li><a href="#${fieldId(n)}">${labels[n] ? t(req.lang, 'form.fieldError', { label: labels[n], error: errors[n] }) : errors[n]}</a></li>`)}</ul>
</div>`;
}
