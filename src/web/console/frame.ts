// The console's one page frame (breadcrumb, title, section tabs and the Imports/Exports sub-tabs) used by every
// tab — home, users, imports/exports, duplicates, templates — the structure lookup ("structure or 404") and
// the console's small formatting helpers.
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { AppContext } from '../../context.js';
import type { Scope } from '../../directory/scope.js';
import { isUuid, structureInScope } from '../../directory/users.js';
import { HttpError } from '../context.js';
import { html, raw, type HtmlValue, type SafeHtml } from '../html.js';
import { formatNumber, plural, pluralKey, t, translator, type Lang, type MessageKey, type PluralBase } from '../i18n/index.js';
import { renderNotice, sendPage, type Notice } from '../layout.js';

export { formatNumber, plural };

export const consoleStyle = html`<link rel="stylesheet" href="/static/console.css">`;
export const consoleScript = html`<script src="/static/console.js" defer></script>`;
/** The duplicates and templates tabs share the class view's stylesheet (comparison and editor styles). */
export const sharedStyle = html`<link rel="stylesheet" href="/static/classe.css">`;
/** …and its script (merge-field buttons of the template editor). */
export const sharedScript = html`<script src="/static/classe.js" defer></script>`;

// ---------------------------------------------------------------------------------------------- wording

const DATE_TIME = {
  fr: new Intl.DateTimeFormat('fr-FR', { dateStyle: 'short', timeStyle: 'short', timeZone: 'Europe/Paris' }),
  en: new Intl.DateTimeFormat('en-GB', { dateStyle: 'short', timeStyle: 'short', timeZone: 'Europe/Paris' }),
};
const DATE = {
  fr: new Intl.DateTimeFormat('fr-FR', { dateStyle: 'short', timeZone: 'Europe/Paris' }),
  en: new Intl.DateTimeFormat('en-GB', { dateStyle: 'short', timeZone: 'Europe/Paris' }),
};
export const dateTime = (lang: Lang, d: Date): string => DATE_TIME[lang].format(d);
export const dateOnly = (lang: Lang, d: Date): string => DATE[lang].format(d);

/** « 15 % » in French (a narrow no-break space: never wrapped apart), « 15% » in English. */
export function percent(lang: Lang, rate: number): string {
  return `${formatNumber(lang, Math.round(rate * 100))}${lang === 'fr' ? '\u202f' : ''}%`;
}

/** A template with `{n}` rendered with the number emphasised. */
export function emphasised(template: string, n: number, lang: Lang): SafeHtml {
  const [before, after] = template.split('{n}');
  return html`${before ?? ''}<strong data-value="${n}">${formatNumber(lang, n)}</strong>${after ?? ''}`;
}

/** Like `plural` but with the number emphasised. */
export function pluralHtml(lang: Lang, key: PluralBase, n: number): SafeHtml {
  return emphasised(t(lang, pluralKey(lang, key, n)), n, lang);
}

// ---------------------------------------------------------------------------------------------- structures

export interface School {
  id: string;
  name: string;
  uai: string | null;
}

/**
 * The structure named in the URL, when the caller's scope administers it; 404 otherwise (never reveals that it
 * exists). The one "structure or 404" of the console.
 */
export async function schoolOr404(ctx: AppContext, scope: Scope, id: string): Promise<School> {
  if (isUuid(id) && structureInScope(scope, id)) {
    const r = await ctx.database.pool.query<School>('SELECT id, name, uai FROM structures WHERE id = $1', [id]);
    if (r.rows[0]) return { id: r.rows[0].id, name: r.rows[0].name, uai: r.rows[0].uai };
  }
  throw new HttpError(404, 'console.schoolNotFound');
}

// ---------------------------------------------------------------------------------------------- page frame

// 'settings': a page of its own under the school (« Paramètres des comptes »), none of the tabs.
export type Section = 'home' | 'users' | 'io' | 'duplicates' | 'templates' | 'settings';
export type IoTab = 'publipostage' | 'import' | 'runs';

export interface ConsolePageOptions {
  req: FastifyRequest;
  title: string;
  school?: School | null;
  section?: Section;
  ioTab?: IoTab;
  /** Extra breadcrumb steps between the school and the page. */
  crumbs?: Array<{ href: string; label: string }>;
  /** Secondary tabs under the section tabs (templates: one per profile). */
  subTabs?: { label: string; items: Array<{ href: string; label: string; current: boolean }> };
  /**
   * What the admin's action came to: an error or success notice has focus on load (Notice.focus), so a screen reader
   * says it rather than starting again at the breadcrumb; an `info` notice is read in its place.
   */
  notice?: Notice | null;
  lead?: HtmlValue;
  body: HtmlValue;
  narrow?: boolean;
}

function tabs(items: Array<{ href: string; label: string; current: boolean }>, cls: string, label: string): SafeHtml {
  return html`<nav class="${cls}" aria-label="${label}"><ul>${items.map((i) => html`<li><a href="${i.href}"${i.current ? html` aria-current="page"` : ''}>${i.label}</a></li>`)}</ul></nav>`;
}

export function schoolBase(id: string): string {
  return `/console/etablissements/${id}`;
}

/** Breadcrumb, <h1>, the school's section tabs and (Imports/Exports) its sub-tabs, then the notice and body. */
export function sendConsolePage(reply: FastifyReply, o: ConsolePageOptions, status = 200): FastifyReply {
  const _ = translator(o.req.lang);
  const s = o.school;
  const base = s ? schoolBase(s.id) : '';
  const crumbs: Array<{ href: string; label: string }> = [{ href: '/console', label: _('console.crumb') }];
  if (s) crumbs.push({ href: base, label: s.name });
  crumbs.push(...(o.crumbs ?? []));
  const sections = s
    ? tabs(
        [
          { href: base, label: _('console.nav.home'), current: o.section === 'home' },
          { href: `${base}/utilisateurs`, label: _('console.nav.users'), current: o.section === 'users' },
          { href: `${base}/publipostage`, label: _('console.nav.io'), current: o.section === 'io' },
          { href: `${base}/doublons`, label: _('console.nav.duplicates'), current: o.section === 'duplicates' },
          { href: `${base}/modeles`, label: _('console.nav.templates'), current: o.section === 'templates' },
        ],
        'subnav console-sections',
        _('console.nav.label', { school: s.name }),
      )
    : '';
  const io =
    s && o.section === 'io'
      ? tabs(
          [
            { href: `${base}/publipostage`, label: _('console.io.publipostage'), current: o.ioTab === 'publipostage' },
            { href: `${base}/import`, label: _('console.io.import'), current: o.ioTab === 'import' },
            { href: `${base}/envois`, label: _('console.io.runs'), current: o.ioTab === 'runs' },
          ],
          'pill-tabs console-tabs',
          _('console.nav.io'),
        )
      : '';
  return sendPage(
    reply,
    {
      req: o.req,
      title: s && !o.title.includes(s.name) ? `${o.title} — ${s.name}` : o.title,
      // A form sent back refused (400, 403, 422…): its <title> says so first (RGAA 8.6), as the account pages' do; so
      // does a refusal said after a redirect (the users list's « Cochez au moins un compte », ?ok=none).
      error: status >= 400 || o.notice?.kind === 'error',
      heading: false,
      narrow: o.narrow,
      body: html`${consoleStyle}
<nav class="crumbs" aria-label="${_('console.crumbs')}"><ol>${crumbs.map((c) => html`<li><a href="${c.href}">${c.label}</a></li>`)}<li aria-current="page">${o.title}</li></ol></nav>
<h1>${o.title}</h1>
${sections}
${io}
${o.subTabs ? tabs(o.subTabs.items, 'pill-tabs console-tabs profile-tabs', o.subTabs.label) : ''}
${renderNotice(o.notice && o.notice.kind !== 'info' ? { focus: true, ...o.notice } : o.notice)}
${o.lead ? html`<p class="lead">${o.lead}</p>` : ''}
${o.body}
${consoleScript}`,
    },
    status,
  );
}

/** Messages the browser script needs (French or English), handed over in a JSON data block (not executed). */
export function scriptMessages(lang: Lang, keys: MessageKey[]): SafeHtml {
  const data: Record<string, string> = {};
  for (const k of keys) data[k] = t(lang, k);
  // `<` escaped so the JSON can never close the element.
  const json = JSON.stringify({ lang, messages: data }).replace(/</g, '\\u003c');
  return html`<script type="application/json" id="console-data">${raw(json)}</script>`;
}
