// Views of "Publipostage des comptes": pure functions of typed data (no database), used by the page and by
// the preview fragment the browser fetches as filters change (so the preview's markup exists once, here).
import { formatCode } from '../../../accounts/codes.js';
import type { ClassRow, LevelRow } from '../../../directory/structures.js';
import { frenchDate } from '../../../publipostage/format.js';
import type { AccountRow, Selection } from '../../../publipostage/selection.js';
import { html, type SafeHtml } from '../../html.js';
import { isMessageKey, plural, translator, type Lang } from '../../i18n/index.js';
import { profileLabel } from '../../labels.js';
import { pluralHtml, type School } from '../frame.js';
import { pager, type PageKeyset } from '../selection.js';
import { userHref } from './users.js';
import type { LeftOut } from '../../../publipostage/distribution.js';
import { leftOutList } from '../distribution-view.js';

export interface Counts {
  total: number;
  withoutEmail: number;
  /** With an address, but mailed nothing (blocked, pre-deleted, signing in elsewhere: select.ts countSelection). */
  unmailable: number;
  /** Already activated accounts in the selection (they get renewal instructions, no code). */
  active: number;
  /** Who the distribution rules left out, and why (publipostage/distribution.ts). */
  leftOut: LeftOut;
}

export /** "N comptes sélectionnés au total", "N comptes sans adresse courriel", then what that means for each mode. */
function counters(lang: Lang, c: Counts): SafeHtml {
  const _ = translator(lang);
  const withEmail = c.total - c.withoutEmail - c.unmailable;
  return html`<div class="counters" data-counters role="status" aria-live="polite" aria-atomic="true">
  <p class="counter counter-total" data-counter="total">${pluralHtml(lang, 'pp.total', c.total)}</p>
  <p class="counter counter-noemail" data-counter="withoutEmail">${pluralHtml(lang, 'pp.noEmail', c.withoutEmail)}</p>
  <ul class="explain" data-counter="explain">${
    c.total === 0
      ? html`<li>${_('pp.explain.none')}</li>`
      : html`<li>${withEmail ? pluralHtml(lang, 'pp.explain.mail', withEmail) : _('pp.explain.mail.none')}</li>${c.withoutEmail ? html`<li>${pluralHtml(lang, 'pp.explain.paper', c.withoutEmail)}</li>` : ''}${
          c.active ? html`<li>${pluralHtml(lang, 'pp.explain.active', c.active)}</li>` : ''
        }`
  }</ul>
  ${leftOutList(lang, c.leftOut)}
</div>`;
}

function codeCell(lang: Lang, r: AccountRow): SafeHtml {
  const _ = translator(lang);
  if (r.externalProvider) return html`<span class="badge badge-info">${r.externalProvider}</span>`;
  if (r.activated) return html`<span class="badge badge-success">${_('state.activated')}</span>`;
  // Its code is never read for this caller (manageableSql): say why rather than « Aucun code ».
  if (r.readOnly) return html`<span class="badge">${_('state.outOfScope')}</span>`;
  if (r.code) return html`<code class="activation-code">${formatCode(r.code)}</code>`;
  return r.codeExpired ? html`<span class="badge badge-danger">${_('state.codeExpired')}</span>` : html`<span class="badge">${_('state.noCode')}</span>`;
}

/** An e-mail address that may wrap only before an « @ » or a dot (<wbr>), never in the middle of a word. */
function emailBreaks(email: string): SafeHtml {
  return html`${email.split(/(?=[@.])/).map((part, i) => html`${i ? html`<wbr>` : ''}${part}`)}`;
}

export function previewTable(lang: Lang, rows: AccountRow[], school: School): SafeHtml {
  const _ = translator(lang);
  // A region of its own, focusable: when the table is wider than the page (a phone), it scrolls sideways here, by
  // keyboard too, and a screen reader names it.
  return html`<div class="table-wrap preview-wrap" role="region" aria-label="${_('pp.preview.caption')}" tabindex="0"><table class="preview-table" data-preview>
  <caption class="visually-hidden">${_('pp.preview.caption')}</caption>
  <thead><tr><th scope="col">${_('col.lastName')}</th><th scope="col">${_('col.firstName')}</th><th scope="col">${_('col.profile')}</th>
    <th scope="col">${_('col.login')}</th><th scope="col">${_('col.code')}</th><th scope="col">${_('col.email')}</th>
    <th scope="col">${_('col.class')}</th><th scope="col">${_('col.created')}</th></tr></thead>
  <tbody data-preview-body>${rows.map(
    (r) => html`<tr data-login="${r.login}">
    <td><a href="${userHref(r.id, school)}">${r.lastName}<span class="visually-hidden"> ${r.firstName}</span></a>${r.blocked ? html` <span class="badge badge-danger">${_('state.blocked')}</span>` : ''}${
      r.preDeleted ? html` <span class="badge badge-warning">${_('state.preDeleted')}</span>` : ''
    }${r.isLocalAdmin ? html` <span class="badge badge-info">${_('state.localAdmin')}</span>` : ''}</td>
    <td>${r.firstName}</td><td>${profileLabel(lang, r.profile)}</td><td><code>${r.login}</code></td>
    <td>${codeCell(lang, r)}</td>
    <td class="email">${r.email ? emailBreaks(r.email) : html`<span class="muted">—<span class="visually-hidden"> ${_('col.noEmail')}</span></span>`}</td>
    <td>${r.classes.join(', ')}</td><td>${frenchDate(r.createdAt)}</td>
  </tr>`,
  )}</tbody>
</table></div>`;
}

export interface PreviewData {
  school: School;
  counts: Counts;
  rows: AccountRow[];
  /** The page's URL and the selection as query parameters, for the pager's links. */
  base: string;
  params: URLSearchParams;
  offset: number;
  limit: number;
  /** Cursors of the page's rows, for the pager's keyset links (console/selection.ts pageCursors). */
  keyset?: PageKeyset;
}

/**
 * The parts of the page a filter change refreshes, each marked data-fragment: the counters (kept in view by
 * the page's layout) and the table with its pager. The page renders them in place; the fragment route sends
 * them together and console.js swaps each one by name.
 */
export function previewParts(lang: Lang, d: PreviewData): { counters: SafeHtml; table: SafeHtml } {
  return {
    counters: html`<div data-fragment="counters" data-total="${d.counts.total}">${counters(lang, d.counts)}</div>`,
    table: html`<div data-fragment="table">${previewTable(lang, d.rows, d.school)}
  ${pager(lang, d.base, d.params, d.offset, d.limit, d.counts.total, d.keyset, d.rows.length)}</div>`,
  };
}

export /** The filters in words, for the confirmation page ("Profils : Élève · Classes : 6e A · Comptes non activés"). */
function describe(lang: Lang, sel: Selection, classes: ClassRow[], levels: LevelRow[]): string[] {
  const _ = translator(lang);
  const colon = `${_('colon')} `;
  const out: string[] = [];
  if (sel.profiles.length) out.push(`${_('filters.profiles')}${colon}${sel.profiles.map((p) => profileLabel(lang, p)).join(', ')}`);
  if (sel.levelIds.length)
    out.push(
      `${_('filters.levels')}${colon}${levels
        .filter((l) => sel.levelIds.includes(l.id))
        .map((l) => l.name)
        .join(', ')}`,
    );
  if (sel.classIds.length)
    out.push(
      `${_('filters.classes')}${colon}${classes
        .filter((c) => sel.classIds.includes(c.id))
        .map((c) => c.name)
        .join(', ')}`,
    );
  for (const k of ['activation', 'email', 'localAdmins', 'origin'] as const) {
    const key = `filters.${k}.${sel[k]}`;
    if (sel[k] !== 'all' && isMessageKey(key)) out.push(_(key));
  }
  // The distribution filters, when not at their defaults (publipostage/distribution.ts).
  if (sel.preDeletion !== 'not') out.push(`${_('filters.preDeletion')}${colon}${_(`filters.preDeletion.${sel.preDeletion}`)}`);
  if (sel.blocked !== 'exclude') out.push(`${_('filters.blocked')}${colon}${_(`filters.blocked.${sel.blocked}`)}`);
  if (sel.external !== 'exclude') out.push(`${_('filters.external')}${colon}${_(`filters.external.${sel.external}`)}`);
  if (sel.createdAfter) out.push(`${_('filters.createdAfter')} ${momentText(lang, sel.createdAfter)}`);
  if (sel.createdBefore) out.push(`${_('filters.createdBefore')} ${momentText(lang, sel.createdBefore)}`);
  if (sel.search?.trim()) out.push(`${_('filters.search')}${colon}${_('quote', { text: sel.search.trim() })}`);
  if (sel.distributedBefore !== undefined) out.push(plural(lang, 'remind.describe', sel.distributedBefore));
  return out;
}

/** A selection's day or instant (selection.ts CalendarMoment) as read: « 04/03/2026 », « 04/03/2026 10:15:23,123 ». */
export function momentText(lang: Lang, v: string): string {
  const [day, instant] = v.split('T');
  const d = day.split('-').reverse().join('/');
  if (!instant) return d;
  // An import's instant says its offset (selection.ts parisMoment): « 25/10/2026 02:30:00,000 (UTC+02:00) ».
  const offset = /(Z|[+-]\d{2}:\d{2})$/.exec(instant)?.[1];
  const time = offset ? instant.slice(0, -offset.length) : instant;
  return `${d} ${lang === 'fr' ? time.replace('.', ',') : time}${offset ? ` (UTC${offset === 'Z' ? '' : offset})` : ''}`;
}
