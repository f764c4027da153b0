// Downloads that change something (sheets, lists, ZIP, Word letters: each issues codes where missing, records
// a hand-out and writes audit) are POSTs carrying the session's CSRF token, like every other change. Session
// cookies are SameSite=Lax, so a browser sends them on a cross-site top-level GET: a link on another site must
// not make a signed-in administrator issue codes. A GET on such a URL changes nothing: the console shows a
// confirmation page whose button posts the same fields (old bookmarks keep working in one more click), the
// JSON API answers 405.
import type { FastifyReply, FastifyRequest } from 'fastify';
import { csrfField, type FormEnv } from './forms.js';
import { html, type SafeHtml } from './html.js';
import { translator } from './i18n/index.js';
import { sendPage } from './layout.js';

/** Route options of a POST download: the token may ride in the action's query string (see postAction). */
export const POST_DOWNLOAD = { config: { csrfInQuery: true } } as const;

/**
 * The `formaction` of a download button inside a GET form (the publipostage filters): the form's fields are the
 * selection, shared with GET buttons that must not carry the token, so the token goes in this action's query.
 */
export function postAction(env: FormEnv, url: string): string {
  return `${url}${url.includes('?') ? '&' : '?'}_csrf=${encodeURIComponent(env.csrfToken ?? '')}`;
}

/** Hidden inputs for every entry of `params` (a selection's query string, a model…). */
export function hiddenFields(params: URLSearchParams): SafeHtml {
  return html`${[...params].map(([k, v]) => html`<input type="hidden" name="${k}" value="${v}">`)}`;
}

/**
 * A one-button POST form sending `params` to `action`. `attrs` goes on the button (its class, a data- hook:
 * trusted markup built by the caller).
 */
export function downloadForm(env: FormEnv, o: { action: string; params: URLSearchParams; label: string; attrs?: SafeHtml }): SafeHtml {
  return html`<form method="post" action="${o.action}" class="inline-form">${csrfField(env)}${hiddenFields(o.params)}<button type="submit"${o.attrs ?? ''}>${o.label}</button></form>`;
}

/** The fields of a query (or posted body) as URLSearchParams, repeated keys kept, the CSRF token left out. */
export function fieldsOf(query: unknown): URLSearchParams {
  const out = new URLSearchParams();
  for (const [k, v] of Object.entries((query && typeof query === 'object' ? query : {}) as Record<string, unknown>)) {
    if (k === '_csrf') continue;
    for (const x of Array.isArray(v) ? v : [v]) if (typeof x === 'string') out.append(k, x);
  }
  return out;
}

/**
 * The answer to a GET on a console download URL: nothing generated, a page asking to confirm with a button that
 * posts the same query fields to the same URL; `back` is where its second link goes.
 */
export function confirmDownloadPage(req: FastifyRequest, reply: FastifyReply, back = '/'): FastifyReply {
  const _ = translator(req.lang);
  const action = req.url.split('?')[0];
  return sendPage(reply.header('cache-control', 'no-store'), {
    req,
    title: _('download.confirm.title'),
    narrow: true,
    body: html`<p class="lead">${_('download.confirm.lead')}</p>
${downloadForm(req, { action, params: fieldsOf(req.query), label: _('download.confirm.button'), attrs: html` data-confirm-download` })}
<p><a href="${back}">${_('download.confirm.back')}</a></p>`,
  });
}
