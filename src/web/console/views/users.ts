// Views of Console › Utilisateurs: the list, one user's page and its confirmations. Pure functions of the rows,
// the account's details (src/directory/users.ts) and what console/users.ts loaded beside them.
import { formatCode } from '../../../accounts/codes.js';
import { RENEWAL_HOURS } from '../../../accounts/issue.js';
import { functionLabels } from '../../../directory/functions.js';
import { csvKeyParts } from '../../../import/csv.js';
import type { ClassRow, LevelRow } from '../../../directory/structures.js';
import type { RelativeInfo, UserDetails } from '../../../directory/users.js';
import type { AccountRow, Selection } from '../../../publipostage/selection.js';
import { csrfField, errorSummary, field, type FieldErrors } from '../../forms.js';
import { html, type SafeHtml } from '../../html.js';
import { translator, type Lang } from '../../i18n/index.js';
import { profileLabel } from '../../labels.js';

/** The feeds an account may come from, each named on the user page (an ONDE export is not the académie's directory). */
const FEED_SOURCES = ['aaf', 'be1d', 'siecle', 'sts'] as const;
export const isFeedSource = (s: string): s is (typeof FEED_SOURCES)[number] => (FEED_SOURCES as readonly string[]).includes(s);
import type { Notice } from '../../layout.js';
import type { ViewEnv } from '../../view.js';
import { dateOnly, dateTime, plural, schoolBase, type School } from '../frame.js';
import { activeFilters, filterPanel, LIST_PAGE_SIZE, pager, searchField, type PageKeyset } from '../selection.js';
import type { LastDistribution } from '../../../publipostage/tracking.js';
import { handedOut } from '../../tracking-view.js';
import { tickedActions, userHandoutActions } from '../handout.js';
import { accountAdminView, bulkLifecycleLinks, type AccountAdminData } from './account-admin.js';

/** State badges of an account, shared by the user list and the preview table. */
export function stateBadges(lang: Lang, r: Pick<AccountRow, 'activated' | 'codeExpired' | 'code' | 'blocked' | 'preDeleted' | 'isLocalAdmin'>): SafeHtml {
  const _ = translator(lang);
  return html`${
    r.activated
      ? html`<span class="badge badge-success">${_('state.activated')}</span>`
      : r.codeExpired
        ? html`<span class="badge badge-danger">${_('state.codeExpired')}</span>`
        : html`<span class="badge">${_('state.inactive')}</span>`
  }${r.blocked ? html` <span class="badge badge-danger">${_('state.blocked')}</span>` : ''}${r.preDeleted ? html` <span class="badge badge-warning">${_('state.preDeleted')}</span>` : ''}${
    r.isLocalAdmin ? html` <span class="badge badge-info">${_('state.localAdmin')}</span>` : ''
  }`;
}

export const userHref = (id: string, school?: School | null): string => (school ? `/console/utilisateurs/${id}?etablissement=${school.id}` : `/console/utilisateurs/${id}`);

export interface UsersListData {
  school: School;
  selection: Selection;
  /** Filters that could not be read (named on the page, status 400). */
  invalid: string[];
  classes: ClassRow[];
  levels: LevelRow[];
  total: number;
  /** Pre-deleted accounts among total (the list shows them; the school's home page does not count them). */
  preDeleted: number;
  rows: AccountRow[];
  offset: number;
  /** The selection as query parameters (pager, bulk links). */
  params: URLSearchParams;
  /** Cursors of the page's first and last rows: the pager's links page by keyset. */
  keyset?: PageKeyset;
}

/** The users list: search and sort first, the other filters folded until one is used, a page of rows. */
export function usersListView(env: ViewEnv, o: UsersListData): SafeHtml {
  const { lang } = env;
  const _ = translator(lang);
  const { school, selection, invalid, classes, levels, rows } = o;
  const base = `${schoolBase(school.id)}/utilisateurs`;
  const searchBar = html`<div class="toolbar card">
  <div class="field search-field">${searchField(lang, selection)}</div>
  <div class="field"><label for="f-sort">${_('users.sort')}</label>
    <select id="f-sort" name="sort">${(['alpha', 'profile', 'class', 'family'] as const).map((s) => html`<option value="${s}"${selection.sort === s ? html` selected` : ''}>${_(`sort.${s}`)}</option>`)}</select></div>
  <button type="submit" data-search-submit>${_('users.show')}</button>
</div>`;
  const narrowed = activeFilters(selection, true) - (selection.search?.trim() ? 1 : 0);
  return html`${filterPanel({ req: env, action: base, selection, classes, levels, legend: _('users.filters'), before: searchBar, searchOutside: true, listing: true, open: narrowed > 0 || invalid.length > 0, invalid })}
<p class="result-count" role="status">${plural(lang, 'users.count', o.total)}${o.preDeleted ? html`, ${plural(lang, 'users.count.preDeleted', o.preDeleted)}` : ''}</p>
${
  rows.length === 0
    ? html`<p class="card">${_('users.none')}</p>`
    : html`<form method="post" action="${base}/comptes" class="users-ticked-form">${csrfField(env)}
<div class="table-wrap"><table class="users-table">
  <caption class="visually-hidden">${_('users.caption')}</caption>
  <thead><tr><th scope="col" class="col-check"><span class="visually-hidden">${_('ho.users.ticked')}</span></th><th scope="col">${_('col.lastName')}</th><th scope="col">${_('col.firstName')}</th><th scope="col">${_('col.profile')}</th>
    <th scope="col">${_('col.login')}</th><th scope="col">${_('col.class')}</th><th scope="col">${_('col.email')}</th><th scope="col">${_('col.state')}</th></tr></thead>
  <tbody>${rows.map(
    (r) => html`<tr data-login="${r.login}">
    <td class="col-check"><input type="checkbox" name="ids" value="${r.id}" id="tick-${r.id}"><label for="tick-${r.id}" class="visually-hidden">${_('ho.users.select', { name: `${r.firstName} ${r.lastName}` })}</label></td>
    <td><a href="${userHref(r.id, school)}">${r.lastName}<span class="visually-hidden"> ${r.firstName}</span></a></td><td>${r.firstName}</td><td>${profileLabel(lang, r.profile)}</td>
    <td><code>${r.login}</code></td><td>${r.classes.join(', ')}</td>
    <td>${r.email ? html`<span class="email">${r.email}</span>` : html`<span class="muted">—<span class="visually-hidden"> ${_('col.noEmail')}</span></span>`}</td>
    <td>${stateBadges(lang, r)}</td>
  </tr>`,
  )}</tbody>
</table></div>
${tickedActions(env)}
</form>`
}
${pager(lang, base, o.params, o.offset, LIST_PAGE_SIZE, o.total, o.keyset, rows.length)}
${bulkLifecycleLinks(env, school.id, o.params, o.total)}`;
}

function relatives(lang: Lang, list: RelativeInfo[], school: School | null): SafeHtml {
  const _ = translator(lang);
  return html`<ul class="plain relatives">${list.map(
    (r) => html`<li><a href="${userHref(r.id, school)}">${r.firstName} ${r.lastName}</a>
      <span class="muted">${profileLabel(lang, r.profile)}${r.classes.length ? ` · ${r.classes.join(', ')}` : ''}</span>
      ${r.activated ? html`<span class="badge badge-success">${_('state.activated')}</span>` : html`<span class="badge">${_('state.inactive')}</span>`}</li>`,
  )}</ul>`;
}

export interface UserPageData {
  d: UserDetails;
  /** The school the page is shown under. */
  school: School | null;
  /** The pending activation code, decrypted (null when none or expired). */
  code: AccountRow | null;
  /** The contact form as entered (errors on a refused save), else the account's. */
  contact: { email: string; phone: string; errors: FieldErrors };
  isSelf: boolean;
  admin: AccountAdminData;
  /** Last sheet and mail handed out (publipostage/tracking.ts). */
  last?: LastDistribution;
}

/** One user's page: account state and actions, lifecycle and local administration, contact, identity, links. */
export function userView(env: ViewEnv, { d, school, code, contact, isSelf, admin, last }: UserPageData): SafeHtml {
  const { lang } = env;
  const _ = translator(lang);
  const self = `/console/utilisateurs/${d.id}`;
  const keep = school ? html`<input type="hidden" name="etablissement" value="${school.id}">` : '';
  const qs = school ? `?etablissement=${school.id}` : '';
  const labels = { email: _('user.email'), phone: _('user.phone') };

  const accountState = html`<dl class="details">
<dt>${_('user.state')}</dt><dd>${
    d.activated
      ? html`<span class="badge badge-success">${_('state.activated')}</span> ${d.activatedAt ? _('user.activatedAt', { date: dateTime(lang, d.activatedAt) }) : ''}`
      : html`<span class="badge">${_('state.inactive')}</span>`
  }
  ${d.blocked ? html` <span class="badge badge-danger">${_('state.blocked')}</span>` : ''}
  ${d.preDeletedAt ? html` <span class="badge badge-warning">${_('user.preDeletedAt', { date: dateOnly(lang, d.preDeletedAt) })}</span>` : ''}</dd>
${
  !d.activated
    ? html`<dt>${_('col.code')}</dt><dd>${
        code?.code
          ? html`<code class="activation-code" data-activation-code>${formatCode(code.code)}</code>${code.codeExpiresAt ? html` <span class="muted">${_('user.codeUntil', { date: dateOnly(lang, code.codeExpiresAt) })}</span>` : ''}`
          : d.activationCode?.expired
            ? html`<span class="badge badge-danger">${_('state.codeExpired')}</span>`
            : html`<span class="muted">${_('user.noCode')}</span>`
      }</dd>`
    : ''
}
${
  d.renewalCode && !d.renewalCode.expired && d.renewalCode.expiresAt
    ? html`<dt>${_('user.renewalPending')}</dt><dd>${_('user.renewalUntil', { date: dateTime(lang, d.renewalCode.expiresAt) })}</dd>`
    : ''
}
<dt>${_('track.title')}</dt><dd>${handedOut(lang, last)}</dd>
<dt>${_('user.lastLogin')}</dt><dd>${d.lastLoginAt ? dateTime(lang, d.lastLoginAt) : html`<span class="muted">${_('user.never')}</span>`}</dd>
</dl>`;

  // An account the caller may not change (another administrator, manageableSql) is shown, never changed (requireManageable).
  const actions = d.readOnly
    ? html`<p class="notice notice-warning" data-read-only>${_('user.readOnly')}</p>`
    : html`<div class="user-actions">
${
  d.preDeletedAt || d.blocked
    ? html`<p class="action-block hint" data-no-code>${_(d.preDeletedAt ? 'domain.account.preDeleted' : 'domain.account.blocked')}</p>`
    : d.activated
      ? html`<form method="post" action="${self}/renouvellement" class="action-block">${csrfField(env)}${keep}
  <button type="submit">${_('user.renewal.button')}</button>
  <p class="hint">${_('user.renewal.hint', { hours: RENEWAL_HOURS })}</p></form>`
      : html`<p class="action-block"><a class="button button-secondary" href="${self}/activation${qs}">${_('user.activation.button')}</a>
  <span class="hint">${_('user.activation.hint')}</span></p>`
}
${
  // A blocked or pre-deleted account gets no sheet nor mail (handout.ts: « Pas de fiche »): no button leading there.
  d.preDeletedAt || d.blocked ? '' : userHandoutActions(env, d.id, school?.id ?? null, !!d.email?.trim(), d.activated)
}
${
  isSelf
    ? ''
    : d.blocked
      ? html`<p class="action-block"><a class="button button-secondary" href="${self}/debloquer${qs}">${_('user.unblock.button')}</a></p>`
      : html`<p class="action-block"><a class="button button-danger" href="${self}/bloquer${qs}">${_('user.block.button')}</a>
    <span class="hint">${_('user.block.hint')}</span></p>`
}
</div>`;
  return html`<p class="user-subtitle"><span class="badge">${profileLabel(lang, d.profile)}</span> <code>${d.login}</code></p>
<div class="grid grid-2">
  <section class="card" aria-labelledby="account-title"><h2 id="account-title">${_('user.account')}</h2>${accountState}${actions}</section>
  ${accountAdminView(env, d, school, admin)}
  <section class="card" aria-labelledby="contact-title"><h2 id="contact-title">${_('user.contact')}</h2>
    ${errorSummary(env, contact.errors, labels)}
    ${
      d.readOnly
        ? html`<dl class="details"><dt>${labels.email}</dt><dd>${d.email ?? '—'}</dd><dt>${labels.phone}</dt><dd>${d.phone ?? '—'}</dd></dl>`
        : html`<form method="post" action="${self}/coordonnees" novalidate>${csrfField(env)}${keep}
      ${field(env, { name: 'email', label: labels.email, type: 'email', value: contact.email, error: contact.errors.email, autocomplete: 'off', hint: _('user.email.hint') })}
      ${field(env, { name: 'phone', label: labels.phone, type: 'tel', value: contact.phone, error: contact.errors.phone, autocomplete: 'off' })}
      <button type="submit" class="button-secondary">${_('user.contact.save')}</button>
    </form>`
    }
  </section>
  <section class="card" aria-labelledby="identity-title"><h2 id="identity-title">${_('user.identity')}</h2>
    <dl class="details">
      <dt>${_('col.lastName')}</dt><dd>${d.lastName}</dd>
      <dt>${_('col.firstName')}</dt><dd>${d.firstName}</dd>
      ${d.birthDate ? html`<dt>${_('user.birthDate')}</dt><dd>${dateOnly(lang, new Date(`${d.birthDate}T12:00:00Z`))}</dd>` : ''}
      <dt>${_('col.profile')}</dt><dd>${profileLabel(lang, d.profile)}${d.title ? ` · ${d.title}` : ''}</dd>
      ${d.ine ? html`<dt>${_('user.ine')}</dt><dd><code>${d.ine}</code></dd>` : ''}
      ${d.functions.length ? html`<dt>${_('user.functions')}</dt><dd>${functionLabels(d.functions).join(', ')}</dd>` : ''}
      ${d.mobile ? html`<dt>${_('user.mobile')}</dt><dd>${d.mobile}</dd>` : ''}
      <dt>${_('col.login')}</dt><dd><code>${d.login}</code></dd>
      <dt>${_('user.origin')}</dt><dd>${_(d.origin === 'feed' && isFeedSource(d.source) ? `user.source.${d.source}` : `user.origin.${d.origin}`)}${shownExternalId(d.externalId) ? html` <span class="muted">(${shownExternalId(d.externalId)})</span>` : ''}</dd>
      <dt>${_('col.created')}</dt><dd>${dateOnly(lang, d.createdAt)}</dd>
    </dl>
  </section>
  <section class="card" aria-labelledby="links-title"><h2 id="links-title">${_('user.links')}</h2>
    <dl class="details">
      <dt>${_('user.structures')}</dt><dd>${d.structures.length ? d.structures.map((s, i) => html`${i ? ', ' : ''}<a href="${schoolBase(s.id)}">${s.name}</a>`) : html`<span class="muted">—</span>`}</dd>
      ${d.classes.length ? html`<dt>${_('user.classes')}</dt><dd>${d.classes.map((c) => c.name).join(', ')}</dd>` : ''}
      ${d.groups.length ? html`<dt>${_('user.groups')}</dt><dd>${d.groups.map((g) => g.name).join(', ')}</dd>` : ''}
      ${d.adminOf.length ? html`<dt>${_('user.adminOf')}</dt><dd>${d.adminOf.map((s) => s.name).join(', ')}</dd>` : ''}
      ${d.parents.length ? html`<dt>${_('user.parents')}</dt><dd>${relatives(lang, d.parents, school)}</dd>` : ''}
      ${d.children.length ? html`<dt>${_('user.children')}</dt><dd>${relatives(lang, d.children, school)}</dd>` : ''}
    </dl>
  </section>
</div>`;
}

/** The renewal code stashed by the POST, shown once (`code` null: already shown, say so). */
export function renewalNoticeView(lang: Lang, d: UserDetails, code: string | null, until: Date, renewalUrl: string): Notice {
  const _ = translator(lang);
  if (!code) return { kind: 'info', text: html`<p data-renewal-gone>${_('user.renewal.gone')}</p>` };
  return {
    kind: 'info',
    text: html`<p><strong>${_('user.renewal.for', { name: `${d.firstName} ${d.lastName}` })}</strong></p>
<p class="big-code" data-renewal-code>${formatCode(code)}</p>
<p>${_('user.renewal.valid', { hours: RENEWAL_HOURS, date: dateTime(lang, until) })}</p>
<p>${_('user.renewal.how', { login: d.login, url: renewalUrl })}</p>
<p class="once"><strong>${_('user.renewal.once')}</strong></p>`,
  };
}

/** "Régénérer le code d'activation": it kills a sheet that may already be handed out, so confirm first. */
export function activationConfirmView(env: ViewEnv, d: UserDetails, school: School | null): SafeHtml {
  const _ = translator(env.lang);
  const name = `${d.firstName} ${d.lastName}`;
  return html`<div class="card">
  <p class="lead">${_('user.activation.question', { name, login: d.login })}</p>
  <p>${_('user.activation.consequence')}</p>
  <form method="post" action="/console/utilisateurs/${d.id}/activation">${csrfField(env)}${school ? html`<input type="hidden" name="etablissement" value="${school.id}">` : ''}
    <div class="actions"><button type="submit" class="button-danger" data-confirm-activation>${_('user.activation.confirm')}</button>
    <a href="${userHref(d.id, school)}">${_('console.cancel')}</a></div>
  </form>
</div>`;
}

/** Block / unblock confirmation (`path`: the action's URL segment). */
export function blockConfirmView(env: ViewEnv, d: UserDetails, school: School | null, blocked: boolean, path: string): SafeHtml {
  const _ = translator(env.lang);
  const name = `${d.firstName} ${d.lastName}`;
  return html`<div class="card">
  <p class="lead">${_(blocked ? 'user.block.question' : 'user.unblock.question', { name, login: d.login })}</p>
  <p>${_(blocked ? 'user.block.consequence' : d.activated ? 'user.unblock.consequence' : 'user.unblock.consequenceInactive')}</p>
  <form method="post" action="/console/utilisateurs/${d.id}/${path}">${csrfField(env)}${school ? html`<input type="hidden" name="etablissement" value="${school.id}">` : ''}
    <div class="actions"><button type="submit"${blocked ? html` class="button-danger"` : ''}>${_(blocked ? 'user.block.confirm' : 'user.unblock.confirm')}</button>
    <a href="${userHref(d.id, school)}">${_('console.cancel')}</a></div>
  </form>
</div>`;
}

/**
 * The import key worth showing an administrator beside the account's origin: the feed's own identifier (AAF,
 * SIECLE…), or the « Identifiant » column of a CSV or ONDE file (csv.ts csvIdKey), never a key Trousseau built from
 * the names (csvNameKey, which only says what the page already does). Null: nothing to show.
 */
export function shownExternalId(externalId: string | null | undefined): string | null {
  if (!externalId) return null;
  const parts = csvKeyParts(externalId);
  if (!parts) return externalId;
  return 'id' in parts ? parts.id : null;
}
