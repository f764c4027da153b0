// The page shell: header (brand, navigation, FR | EN switch, user + sign-out), main content, footer.
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { Role } from '../directory/scope.js';
import { csrfField } from './forms.js';
import { html, sendHtml, type HtmlValue, type SafeHtml } from './html.js';
import { plural, t, type Lang, type MessageKey } from './i18n/index.js';

/** A language's short code as seen, with its name in that language for screen readers. */
const LANG_CODE = {
  fr: html`<span aria-hidden="true">FR</span><span class="visually-hidden">Français</span>`,
  en: html`<span aria-hidden="true">EN</span><span class="visually-hidden">English</span>`,
};

export interface NavItem {
  href: string;
  label: string;
  /** Marks the item as the current page; by default an item is current when the path starts with its href. */
  current?: boolean;
}

export interface TopNavEntry {
  href: string;
  /** i18n key of the label. */
  labelKey: MessageKey;
  /** Shown to users holding one of these roles; every signed-in user when omitted. */
  roles?: Role[];
  /** Lower comes first. */
  order?: number;
}

/**
 * The warning of a page that queues mails when no mail server is configured (SMTP_URL): the worker sends nothing
 * (src/mail/worker.ts) and the mails stay queued. Said before the click, in the same words on every such page.
 */
export function noSmtpWarning(lang: Lang, mails: number, smtpConfigured: boolean): SafeHtml | '' {
  return mails > 0 && !smtpConfigured ? html`<p class="notice notice-warning" data-no-smtp>${t(lang, 'send.noSmtp')}</p>` : '';
}

/**
 * The warning of every mail merge confirmation whose accounts share addresses: one mailbox would receive each of
 * their codes (`shared`: address and number of accounts, most shared first; publipostage/select.ts sharedAddresses,
 * or sharedAddressesOf for ticked rows).
 */
export function sharedAddressWarning(lang: Lang, shared: readonly { email: string; accounts: number }[]): SafeHtml | '' {
  if (!shared.length) return '';
  const list = shared.map((s) => `${s.email} (${plural(lang, 'send.sharedAccounts', s.accounts)})`).join(', ');
  return html`<p class="notice notice-warning" data-shared-addresses>${t(lang, 'send.sharedAddresses', { list })}</p>`;
}

/**
 * The warning of a family mail's confirmation whose parents of different families share an address (mail/family.ts
 * crossFamilyAddresses): one mailbox would receive the children's sheets of each of those families.
 */
export function crossFamilyAddressWarning(lang: Lang, shared: readonly { email: string; accounts: number }[]): SafeHtml | '' {
  if (!shared.length) return '';
  const list = shared.map((s) => `${s.email} (${plural(lang, 'ho.family.sharedParents', s.accounts)})`).join(', ');
  return html`<p class="notice notice-warning" data-shared-addresses>${t(lang, 'ho.family.sharedAddresses', { list })}</p>`;
}

/** « enfant : Hugo Bernard » / « enfants : … »: the children whose sheets a parent's pack holds (family mail confirmations). */
export function packChildrenLabel(lang: Lang, children: readonly { firstName: string; lastName: string }[]): string {
  return plural(lang, 'ho.family.children', children.length, { names: children.map((c) => `${c.firstName} ${c.lastName}`).join(', ') });
}

/** The addresses several of `rows` share (trimmed, lower case), most shared first: sharedAddresses for rows in hand. */
export function sharedAddressesOf(rows: readonly { email?: string | null }[], limit = 5): { email: string; accounts: number }[] {
  const n = new Map<string, number>();
  for (const r of rows) {
    const e = r.email?.trim().toLowerCase();
    if (e) n.set(e, (n.get(e) ?? 0) + 1);
  }
  return [...n]
    .filter(([, k]) => k > 1)
    .map(([email, accounts]) => ({ email, accounts }))
    .sort((a, b) => b.accounts - a.accounts || (a.email < b.email ? -1 : 1))
    .slice(0, limit);
}

// Top navigation is contributed by each route plugin at registration (deduplicated by href).
const topNav = new Map<string, TopNavEntry>();

/** Adds an entry to the header navigation, e.g. registerNav({ href: '/console', labelKey: 'nav.console', roles: ['localadmin'] }). */
export function registerNav(entry: TopNavEntry): void {
  topNav.set(entry.href, entry);
}

export interface Notice {
  kind: 'success' | 'error' | 'info';
  text: HtmlValue;
  /**
   * Focused on load (tabindex=-1 + autofocus, id NOTICE_ID), so a screen reader reads it before the form: a notice
   * that says why the visitor is on the page (sign-in after « compte déjà activé »), or that a form worked (forgotten
   * password sent, Mon compte saved). The page's fields then ask for no autofocus.
   */
  focus?: boolean;
}

/** The id of a notice focused on load (Notice.focus). */
export const NOTICE_ID = 'notice';

export interface LayoutOptions {
  req: FastifyRequest;
  /** Page title: in <title> and, unless `heading` is false, as the page's <h1>. */
  title: string;
  body: HtmlValue;
  /** Secondary navigation (tabs) shown under the title, e.g. the sections of the console. */
  nav?: NavItem[];
  notice?: Notice | null;
  heading?: boolean;
  /** Narrow column for simple forms (sign-in, activation). */
  narrow?: boolean;
  /** The <title> when it says more than the <h1> (step, class…); `title` otherwise. */
  documentTitle?: string;
  /** The page reports an error: the <title> starts with "Erreur : " (RGAA 8.6 / WCAG 3.3.1). */
  error?: boolean;
  /**
   * The address (path and query) that shows this page again, which the FR | EN switch opens in the other language:
   * the request's own URL by default. A page that answers a sent form gives it (activation step 2 → step 1 filled in,
   * Mon compte after a POST → /mon-compte): its URL is the form's action, which a GET does not answer the same way.
   */
  langPath?: string;
}

function pathOf(req: FastifyRequest): string {
  return new URL(req.url, 'http://local').pathname;
}

/** The current URL (or the page's own `langPath`) with `lang` set, so switching language keeps the page. */
function langHref(req: FastifyRequest, lang: Lang, langPath?: string): string {
  const u = new URL(langPath ?? req.url, 'http://local');
  u.searchParams.set('lang', lang);
  // A POST download's error page has its form's CSRF token in the URL (post-download.ts): never copied into a link.
  u.searchParams.delete('_csrf');
  return u.pathname + u.search;
}

function isCurrent(path: string, href: string): boolean {
  return path === href || (href !== '/' && path.startsWith(href.endsWith('/') ? href : `${href}/`));
}

function navList(items: NavItem[], path: string, cls: string, label: string): SafeHtml {
  if (items.length === 0) return html``;
  return html`<nav class="${cls}" aria-label="${label}"><ul>${items.map((i) => {
    const current = i.current ?? isCurrent(path, i.href);
    return html`<li><a href="${i.href}"${current ? html` aria-current="page"` : ''}>${i.label}</a></li>`;
  })}</ul></nav>`;
}

export function renderNotice(n: Notice | null | undefined): SafeHtml {
  if (!n) return html``;
  const focus = n.focus ? html` id="${NOTICE_ID}" tabindex="-1" autofocus` : '';
  return html`<div class="notice notice-${n.kind}" role="${n.kind === 'error' ? 'alert' : 'status'}"${focus}>${n.text}</div>`;
}

function documentTitle(o: LayoutOptions, lang: Lang): string {
  const title = o.documentTitle ?? o.title;
  return o.error ? t(lang, 'form.errorTitle', { title }) : title;
}

export function layout(o: LayoutOptions): SafeHtml {
  const { req } = o;
  const lang = req.lang ?? 'fr';
  const user = req.user;
  const path = pathOf(req);
  const top: NavItem[] = user
    ? [...topNav.values()]
        .filter((e) => !e.roles || e.roles.some((r) => user.roles.includes(r)))
        .sort((a, b) => (a.order ?? 100) - (b.order ?? 100))
        .map((e) => ({ href: e.href, label: t(lang, e.labelKey) }))
    : [];
  const other: Lang = lang === 'fr' ? 'en' : 'fr';
  const fullName = user ? `${user.firstName} ${user.lastName}` : '';
  return html`<!doctype html>
<html lang="${lang}">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${documentTitle(o, lang)} — ${t(lang, 'app.name')}</title>
<link rel="stylesheet" href="/static/app.css">
<script src="/static/reveal.js" defer></script>
<link rel="icon" href="/favicon.ico" type="image/svg+xml">
</head>
<body>
<a class="skip-link" href="#main">${t(lang, 'layout.skip')}</a>
<header class="topbar">
  <div class="wrap topbar-inner">
    <a class="brand" href="/"><span class="brand-mark" aria-hidden="true">T</span> ${t(lang, 'app.name')}</a>
    ${navList(top, path, 'topnav', t(lang, 'layout.nav'))}
    <div class="topbar-tools">
      <p class="lang-switch"><span class="visually-hidden">${t(lang, 'layout.lang')}</span> ${
        // Each language named in itself to a screen reader (« Français », « English »), the short codes and the bar
        // between them only seen: « F R barre verticale E N » told nothing.
        lang === 'fr'
          ? html`<strong aria-current="true">${LANG_CODE.fr}</strong> <span aria-hidden="true">|</span> <a href="${langHref(req, other, o.langPath)}" hreflang="en" lang="en">${LANG_CODE.en}</a>`
          : html`<a href="${langHref(req, other, o.langPath)}" hreflang="fr" lang="fr">${LANG_CODE.fr}</a> <span aria-hidden="true">|</span> <strong aria-current="true">${LANG_CODE.en}</strong>`
      }</p>
      ${
        user
          ? html`<span class="who" title="${user.login}">${fullName}</span>
      <form class="logout" method="post" action="/deconnexion">${csrfField(req)}<button type="submit" class="button-link">${t(lang, 'layout.logout')}</button></form>`
          : html`<a class="signin" href="/connexion">${t(lang, 'layout.login')}</a>`
      }
    </div>
  </div>
</header>
<main id="main" class="wrap${o.narrow ? ' narrow' : ''}" tabindex="-1">
${o.heading === false ? '' : html`<h1>${o.title}</h1>`}
${o.nav ? navList(o.nav, path, 'subnav', o.title) : ''}
${renderNotice(o.notice)}
${o.body}
</main>
<footer class="site-footer"><div class="wrap">${t(lang, 'layout.footer')} · <a href="/conditions">${t(lang, 'layout.terms')}</a></div></footer>
</body>
</html>`;
}

/** Sends a complete page. */
export function sendPage(reply: FastifyReply, o: LayoutOptions, status = 200): FastifyReply {
  return sendHtml(reply, layout(o), status);
}

export interface ErrorPageOptions {
  /** A title of its own that names the refusal: the <title> then starts with « Erreur : ». */
  title?: string;
  error?: boolean;
  /** A same-site page to go back to (the form that was refused), offered before the link home. */
  back?: string | null;
}

/**
 * What a page title says of an error message: its first clause (a reason after « : » is left to the page) without
 * its full stop. « Paramètre « login » invalide : caractère nul… » → « Paramètre « login » invalide ».
 */
export function errorHeadline(message: string): string {
  const head = message.split(/\s?:\s/)[0].trim() || message.trim();
  return head.replace(/\.$/, '');
}

/**
 * A short error page (HTML) with a link home. Without a title of its own, the page is headed « Erreur » and its
 * <title> says what happened: « Erreur : Page introuvable — Trousseau » (errorHeadline of the message).
 */
export function sendErrorPage(req: FastifyRequest, reply: FastifyReply, status: number, message: string, o: ErrorPageOptions = {}): FastifyReply {
  const lang = req.lang ?? 'fr';
  return sendPage(
    reply,
    {
      req,
      title: o.title ?? t(lang, 'error.title'),
      ...(o.title ? { error: o.error } : { documentTitle: errorHeadline(message), error: true }),
      narrow: true,
      // The request id matches the log line of this request (every 5xx is logged with its stack).
      body: html`<p class="lead">${message}</p>${o.back ? html`<p><a class="button" href="${o.back}" data-back>${t(lang, 'error.backToForm')}</a></p>` : ''}<p><a href="/">${t(lang, 'error.back')}</a></p>
<p class="muted request-id" data-request-id="${req.id}">${t(req.lang ?? 'fr', 'error.requestId', { id: req.id })}</p>`,
    },
    status,
  );
}
