// The console's selection filters: query string <-> Selection <-> filter panel, pager. The filter panel is the
// same for "Utilisateurs" and "Publipostage des comptes": one selection model.
import type { FastifyRequest } from 'fastify';
import type { ZodIssue } from 'zod';
import type { AppContext } from '../../context.js';
import { PROFILES } from '../../directory/vocabulary.js';
import type { Scope } from '../../directory/scope.js';
import { listClasses, listLevels, type ClassRow, type LevelRow } from '../../directory/structures.js';
import { cursorOf, selectPage } from '../../publipostage/select.js';
import { hasOffset, parisWallTime, SelectionSchema, type AccountRow, type Selection } from '../../publipostage/selection.js';
import { viewer } from '../context.js';
import { html, type HtmlValue, type SafeHtml } from '../html.js';
import { formatNumber, isMessageKey, plural, t, translator, type Lang } from '../i18n/index.js';
import { profileLabel } from '../labels.js';

/** `userIds` too: a selection of ticked rows (class view) stays that selection in links (mail run report). */
const LIST_KEYS = ['profiles', 'classIds', 'levelIds', 'userIds'] as const;
const VALUE_KEYS = ['activation', 'email', 'localAdmins', 'createdBefore', 'createdAfter', 'preDeletion', 'blocked', 'external', 'origin', 'search', 'sort'] as const;
/** Numeric filters (« Relancer »: days since the last hand-out). */
const NUMBER_KEYS = ['distributedBefore'] as const;
/** Radio filters and their defaults (the distribution defaults of publipostage/distribution.ts for the last three). */
const RADIO_DEFAULTS = { activation: 'all', email: 'all', localAdmins: 'all', origin: 'all', preDeletion: 'not', blocked: 'exclude', external: 'exclude' } as const;
/** The users list is no distribution: it shows every account unless asked otherwise. */
const LISTING_DEFAULTS = { ...RADIO_DEFAULTS, preDeletion: 'all', blocked: 'all', external: 'info' } as const;
const radioDefaults = (listing: boolean): Record<keyof typeof RADIO_DEFAULTS, string> => (listing ? LISTING_DEFAULTS : RADIO_DEFAULTS);

/**
 * The selection a console form submitted (GET query or a posted `selection` string), pinned to the school.
 * Empty fields are ignored (a form sends `createdBefore=` when the date is left blank); an invalid value is
 * dropped and named in `invalid`, so a hand-edited URL still shows a page; `issues` says why, in the same order.
 */
export function parseSelection(query: unknown, structureId: string, listing = false): { selection: Selection; invalid: string[]; issues: ZodIssue[] } {
  const q = (query && typeof query === 'object' ? query : {}) as Record<string, unknown>;
  const raw: Record<string, unknown> = listing ? { preDeletion: 'all', blocked: 'all', external: 'info' } : {};
  for (const k of [...LIST_KEYS, ...VALUE_KEYS, ...NUMBER_KEYS]) {
    const v = q[k];
    const list = (Array.isArray(v) ? v : [v]).filter((x): x is string => typeof x === 'string' && x.trim() !== '');
    if (list.length === 0) continue;
    raw[k] = (LIST_KEYS as readonly string[]).includes(k) ? list.flatMap((x) => x.split(',')) : list[0];
  }
  raw.structureId = structureId;
  const invalid: string[] = [];
  const issues: ZodIssue[] = [];
  for (let i = 0; i < 20; i++) {
    const r = SelectionSchema.safeParse(raw);
    if (r.success) return { selection: r.data, invalid, issues };
    const key = String(r.error.issues[0]?.path[0] ?? '');
    if (!key || key === 'structureId' || !(key in raw)) break;
    invalid.push(key);
    issues.push(r.error.issues[0]);
    delete raw[key];
  }
  return { selection: SelectionSchema.parse(listing ? { structureId, preDeletion: 'all', blocked: 'all', external: 'info' } : { structureId }), invalid, issues };
}

/** Rows per page of the console lists. */
export const LIST_PAGE_SIZE = 50;

/**
 * What a filtered list screen of a school needs (users list, publipostage): the selection of the query,
 * the school's classes and levels for the filter panel, the counters and one page of rows.
 */
export async function loadSelectionScreen<C>(ctx: AppContext, req: FastifyRequest, schoolId: string, count: (ctx: AppContext, sel: Selection, scope: Scope) => Promise<C>, listing = false) {
  const { scope } = viewer(req);
  const { selection, invalid } = parseSelection(req.query, schoolId, listing);
  const offset = offsetOf(req);
  const [classes, levels, counts, rows] = await Promise.all([
    listClasses(ctx, scope, schoolId),
    listLevels(ctx, scope, schoolId),
    count(ctx, selection, scope),
    selectPage(ctx, selection, scope, { limit: LIST_PAGE_SIZE, offset, ...keysetOf(req) }),
  ]);
  return { scope, selection, invalid, offset, classes, levels, counts, rows, keyset: pageCursors(selection, rows) };
}

/** The keyset cursor of the query (`after` / `before`, made by pageCursors), if any. */
function keysetOf(req: FastifyRequest): { after?: string; before?: string } {
  const q = (req.query ?? {}) as Record<string, unknown>;
  const cursor = (v: unknown) => (typeof v === 'string' && v.length <= 2000 ? v : undefined);
  return { after: cursor(q.after), before: cursor(q.before) };
}

/** Cursors of a page's last and first rows: the pager's next and previous pages start from them (keyset). */
export function pageCursors(sel: Selection, rows: AccountRow[]): PageKeyset {
  return { next: rows.length ? cursorOf(sel.sort, rows[rows.length - 1]) : null, prev: rows.length ? cursorOf(sel.sort, rows[0]) : null };
}

export interface PageKeyset {
  next: string | null;
  prev: string | null;
}

/** The selection as query parameters (defaults left out), for links and hidden fields. */
export function selectionParams(sel: Selection, listing = false): URLSearchParams {
  const p = new URLSearchParams();
  for (const k of LIST_KEYS) for (const v of sel[k]) p.append(k, v);
  const defaults: Record<string, string> = { ...radioDefaults(listing), sort: 'alpha' };
  for (const k of VALUE_KEYS) {
    const v = sel[k];
    if (typeof v === 'string' && v.trim() !== '' && v !== defaults[k]) p.set(k, k === 'search' ? v.trim() : v);
  }
  for (const k of NUMBER_KEYS) if (sel[k] !== undefined) p.set(k, String(sel[k]));
  return p;
}

/** How many filters narrow the selection (sort aside): shown on the filter panel's summary. */
export function activeFilters(sel: Selection, listing = false): number {
  const defaults = radioDefaults(listing);
  let n = 0;
  if (sel.profiles.length) n++;
  if (sel.classIds.length) n++;
  if (sel.levelIds.length) n++;
  for (const k of Object.keys(defaults) as (keyof typeof RADIO_DEFAULTS)[]) if (sel[k] !== defaults[k]) n++;
  if (sel.createdBefore) n++;
  if (sel.createdAfter) n++;
  if (sel.search?.trim()) n++;
  if (sel.distributedBefore !== undefined) n++;
  return n;
}

export interface FilterPanelOptions {
  /** The request, or a view's env: only its language is read. */
  req: { lang: Lang };
  /** GET target of "Filtrer" (the page itself). */
  action: string;
  selection: Selection;
  classes: ClassRow[];
  levels: LevelRow[];
  /** Title of the panel ("Filtrer la liste à publiposter"). */
  legend: string;
  /** Controls placed before / after the panel inside the same form (search bar; sort, PDF model, action buttons). */
  before?: HtmlValue;
  after?: HtmlValue;
  /** The search field is rendered by the caller (in `before`), not inside the panel. */
  searchOutside?: boolean;
  /** The panel starts unfolded (default true). */
  open?: boolean;
  /** data-* attributes for console.js. */
  live?: { structureId: string; fragment: string };
  invalid?: string[];
  /** The users list (every account by default) rather than a distribution. */
  listing?: boolean;
}

/** A group of radio buttons; `byDefault`, when given, is the value the page starts with, said in its label. */
function radios(name: string, legend: string, current: string, options: Array<[string, string]>, byDefault?: { value: string; lang: Lang }): SafeHtml {
  return html`<fieldset class="filter-group"><legend>${legend}</legend>${options.map(
    ([value, label]) =>
      html`<div class="choice"><input type="radio" id="f-${name}-${value}" name="${name}" value="${value}"${
        current === value ? html` checked` : ''
      }><label for="f-${name}-${value}">${byDefault?.value === value ? t(byDefault.lang, 'filters.byDefault', { label }) : label}</label></div>`,
  )}</fieldset>`;
}

function boxes(name: string, checked: string[], options: Array<[string, string]>, cls = 'choice'): SafeHtml[] {
  return options.map(
    ([value, label]) =>
      html`<div class="${cls}"><input type="checkbox" id="f-${name}-${value}" name="${name}" value="${value}"${
        checked.includes(value) ? html` checked` : ''
      }><label for="f-${name}-${value}">${label}</label></div>`,
  );
}

/**
 * A creation bound's input: a day (type="date"), or the instant an import's link set (type="datetime-local", to the
 * millisecond), so that the filter stays as it is when the form is sent again.
 */
function momentInput(name: 'createdAfter' | 'createdBefore', value: string | undefined): SafeHtml {
  // An import's instant carries its offset, which a datetime-local input cannot hold: shown as Paris wall time (what
  // it reads back as), kept as written only in the hour the autumn change repeats.
  if (value && hasOffset(value)) {
    const wall = parisWallTime(value);
    if (!wall) return html`<input type="text" id="f-${name}" name="${name}" value="${value}" spellcheck="false">`;
    value = wall;
  }
  return value?.includes('T')
    ? html`<input type="datetime-local" step="0.001" id="f-${name}" name="${name}" value="${value}">`
    : html`<input type="date" id="f-${name}" name="${name}" value="${value ?? ''}">`;
}

/** The search input with its label (inside the panel, or in a caller's search bar). */
export function searchField(lang: Lang, sel: Selection): SafeHtml {
  return html`<label for="f-search">${t(lang, 'filters.search')}</label>
      <input type="search" id="f-search" name="search" value="${sel.search ?? ''}" maxlength="100" autocomplete="off" spellcheck="false">`;
}

/** The filter panel of ONE's "Publipostage des comptes", as one GET form that works without JavaScript. */
export function filterPanel(o: FilterPanelOptions): SafeHtml {
  const lang = o.req.lang;
  const _ = translator(lang);
  const sel = o.selection;
  const n = activeFilters(sel, o.listing);
  // What the page starts with, said « (par défaut) » beside it.
  const defaults = radioDefaults(!!o.listing);
  // Classes grouped by level, in the natural order listClasses gives.
  const groups = new Map<string, ClassRow[]>();
  for (const c of o.classes) {
    const key = c.levelName ?? '';
    groups.set(key, [...(groups.get(key) ?? []), c]);
  }
  const levelLabel = (name: string) => (name ? name : _('filters.classes.noLevel'));
  return html`<form method="get" action="${o.action}" class="filters-form" id="filters"${
    o.live ? html` data-live-preview data-structure="${o.live.structureId}" data-fragment-url="${o.live.fragment}"` : ''
  }>
${o.before ?? ''}
<details class="card filter-panel"${o.open === false ? '' : html` open`}>
  <summary><span class="filter-title">${o.legend}</span>
    <span class="badge${n ? ' badge-active' : ''}" data-filter-count>${n ? plural(lang, 'filters.active', n) : _('filters.none')}</span></summary>
  ${
    o.invalid?.length
      ? html`<p class="notice notice-error" role="alert">${_('filters.invalid', {
          fields: o.invalid
            .map((k) => {
              const key = `filters.name.${k}`;
              return isMessageKey(key) ? _(key) : k;
            })
            .join(', '),
        })}</p>`
      : ''
  }
  <div class="filter-grid">
    ${o.searchOutside ? '' : html`<div class="field filter-search">${searchField(lang, sel)}</div>`}
    <fieldset class="filter-group"><legend>${_('filters.profiles')} <span class="muted">${_('filters.profiles.hint')}</span></legend>
      ${boxes(
        'profiles',
        sel.profiles,
        PROFILES.map((p) => [p, profileLabel(lang, p)]),
      )}
    </fieldset>
    ${
      o.levels.length
        ? html`<fieldset class="filter-group"><legend>${_('filters.levels')}</legend>
      ${boxes(
        'levelIds',
        sel.levelIds,
        o.levels.map((l) => [l.id, l.name]),
      )}</fieldset>`
        : ''
    }
    ${radios('activation', _('filters.activation'), sel.activation, [
      ['all', _('filters.activation.all')],
      ['inactive', _('filters.activation.inactive')],
      ['active', _('filters.activation.active')],
    ])}
    ${radios('email', _('filters.email'), sel.email, [
      ['all', _('filters.email.all')],
      ['with', _('filters.email.with')],
      ['without', _('filters.email.without')],
    ])}
    ${radios('localAdmins', _('filters.localAdmins'), sel.localAdmins, [
      ['all', _('filters.localAdmins.all')],
      ['only', _('filters.localAdmins.only')],
      ['exclude', _('filters.localAdmins.exclude')],
    ])}
    <fieldset class="filter-group"><legend>${_('filters.created')}</legend>
      <div class="field"><label for="f-createdAfter">${_('filters.createdAfter')}</label>
        ${momentInput('createdAfter', sel.createdAfter)}</div>
      <div class="field"><label for="f-createdBefore">${_('filters.createdBefore')}</label>
        ${momentInput('createdBefore', sel.createdBefore)}</div>
    </fieldset>
    <fieldset class="filter-group"><legend>${_('remind.filter')}</legend>
      <div class="field"><label for="f-distributedBefore">${_('remind.days')}</label>
        <input type="number" id="f-distributedBefore" name="distributedBefore" min="1" max="3650" inputmode="numeric" value="${sel.distributedBefore ?? ''}" aria-describedby="f-distributedBefore-hint">
        <p class="hint" id="f-distributedBefore-hint">${_('remind.hint')}</p></div>
    </fieldset>
    ${radios(
      'preDeletion',
      _('filters.preDeletion'),
      sel.preDeletion,
      [
        ['not', _('filters.preDeletion.not')],
        ['pending', _('filters.preDeletion.pending')],
        ['all', _('filters.preDeletion.all')],
      ],
      { value: defaults.preDeletion, lang },
    )}
    ${radios(
      'blocked',
      _('filters.blocked'),
      sel.blocked,
      [
        ['exclude', _('filters.blocked.exclude')],
        ['only', _('filters.blocked.only')],
        ['all', _('filters.blocked.all')],
      ],
      { value: defaults.blocked, lang },
    )}
    ${radios(
      'external',
      _('filters.external'),
      sel.external,
      [
        ['exclude', _('filters.external.exclude')],
        ['info', _('filters.external.info')],
      ],
      { value: defaults.external, lang },
    )}
    ${radios('origin', _('filters.origin'), sel.origin, [
      ['all', _('filters.origin.all')],
      ['feed', _('filters.origin.feed')],
      ['manual', _('filters.origin.manual')],
    ])}
    ${
      o.classes.length
        ? html`<fieldset class="filter-group filter-classes"><legend>${_('filters.classes')} <span class="muted">${_('filters.classes.hint')}</span></legend>
      ${[...groups].map(
        ([level, list]) => html`<div class="class-row"><span class="class-level">${levelLabel(level)}</span>
        <div class="chips">${boxes(
          'classIds',
          sel.classIds,
          list.map((c) => [c.id, c.name]),
          'chip',
        )}</div></div>`,
      )}
    </fieldset>`
        : ''
    }
  </div>
  <div class="actions filter-actions">
    <button type="submit" class="button-secondary" data-filter-submit>${_('filters.apply')}</button>
    <a href="${o.action}">${_('filters.reset')}</a>
  </div>
</details>
${o.after ?? ''}
</form>`;
}

/**
 * "Précédents / Suivants" links keeping the selection. With `keyset` (pageCursors of the page shown), the links
 * carry the cursor of the page's last (first) row: the next page is read from there through the sort key, at
 * the same cost however far it is; `offset` then only numbers the rows shown.
 */
export function pager(lang: Lang, base: string, params: URLSearchParams, offset: number, limit: number, total: number, keyset?: PageKeyset, shown?: number): SafeHtml {
  const _ = translator(lang);
  // A page of no rows in a selection that has some (a cursor past the last row, hand-edited or of a list that has
  // shrunk since): neither range nor cursor to page from, so it says so and leads back to the first page.
  if (shown === 0 && total > 0) {
    const p = new URLSearchParams(params);
    for (const k of ['offset', 'after', 'before']) p.delete(k);
    const s = p.toString();
    return html`<nav class="pager" aria-label="${_('pager.label')}" data-pager data-offset="0" data-limit="${limit}" data-total="${total}">
  <p class="pager-range" data-pager-range data-pager-empty>${_('pager.empty')}</p>
  <p class="pager-links"><a href="${s ? `${base}?${s}` : base}" data-offset="0" rel="first">${_('pager.first')}</a></p>
</nav>`;
  }
  const cursorFor = (o: number): [string, string] | null => (!keyset || o <= 0 ? null : o > offset ? (keyset.next ? ['after', keyset.next] : null) : keyset.prev ? ['before', keyset.prev] : null);
  const link = (o: number) => {
    const p = new URLSearchParams(params);
    if (o > 0) p.set('offset', String(o));
    else p.delete('offset');
    const c = cursorFor(o);
    if (c) p.set(c[0], c[1]);
    const s = p.toString();
    return s ? `${base}?${s}` : base;
  };
  const cursorAttr = (o: number) => {
    const c = cursorFor(o);
    return c ? html` data-${c[0]}="${c[1]}"` : '';
  };
  const first = total === 0 ? 0 : offset + 1;
  const last = Math.min(total, offset + limit);
  return html`<nav class="pager" aria-label="${_('pager.label')}" data-pager data-offset="${offset}" data-limit="${limit}" data-total="${total}">
  <p class="pager-range" data-pager-range>${total === 0 ? '' : _('pager.range', { first: formatNumber(lang, first), last: formatNumber(lang, last), total: formatNumber(lang, total) })}</p>
  <p class="pager-links">
    ${offset > 0 ? html`<a href="${link(Math.max(0, offset - limit))}" data-offset="${Math.max(0, offset - limit)}"${cursorAttr(Math.max(0, offset - limit))} rel="prev">${_('pager.prev')}</a>` : html`<span class="muted" aria-disabled="true">${_('pager.prev')}</span>`}
    ${last < total ? html`<a href="${link(offset + limit)}" data-offset="${offset + limit}"${cursorAttr(offset + limit)} rel="next">${_('pager.next')}</a>` : html`<span class="muted" aria-disabled="true">${_('pager.next')}</span>`}
  </p>
</nav>`;
}

/** Non-negative integer from the query (offset), 0 otherwise. */
export function offsetOf(req: FastifyRequest): number {
  const v = (req.query as Record<string, unknown> | undefined)?.offset;
  const n = typeof v === 'string' ? Number(v) : 0;
  return Number.isInteger(n) && n >= 0 && n < 10_000_000 ? n : 0;
}
