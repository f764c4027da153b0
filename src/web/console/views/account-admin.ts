// The user page's "Cycle de vie" and "Administration locale" block (issue #9), a pure function of the account,
// its absence from the feed and the schools it administers (console/account-admin.ts loads them).
import type { LifecycleAction } from '../../../accounts/lifecycle.js';
import type { AccountLink } from '../../../federation/links.js';
import { structureInScope, type UserDetails } from '../../../directory/users.js';
import type { Scope } from '../../../directory/scope.js';
import { frenchDate } from '../../../publipostage/format.js';
import { csrfField } from '../../forms.js';
import { html, type SafeHtml } from '../../html.js';
import { plural, translator, type MessageKey } from '../../i18n/index.js';
import type { ViewEnv } from '../../view.js';
import { schoolBase, type School } from '../frame.js';
import type { AccountRow } from '../../../publipostage/selection.js';

export const userBase = (id: string): string => `/console/utilisateurs/${id}`;
export const LIFECYCLE_ACTIONS: readonly LifecycleAction[] = ['pre-delete', 'restore', 'delete'];

export interface AccountAdminData {
  /** Since when the feed no longer lists the account (null: present). */
  absentSince: Date | null;
  /** Schools of the caller's the account administers, and who appointed it there by hand (null: a feed, the command line…). */
  adminOf: Array<{ id: string; name: string; grantedBy: string | null }>;
  /** The caller's scope (which schools it may appoint in) and whether the account is the caller's own. */
  scope: Scope;
  isSelf: boolean;
  /** The caller's account: an administration they appointed themselves is theirs to take back (local-admins.ts). */
  viewerId: string;
  /** The account's links to identity providers (federation/links.ts), each one the caller may undo. */
  links: AccountLink[];
}

export function accountAdminView(env: ViewEnv, d: UserDetails, school: School | null, a: AccountAdminData): SafeHtml {
  const { absentSince: absent, adminOf, scope, isSelf, viewerId } = a;
  // A read-only account (a peer administrator…): only the administrations the caller appointed, to take back.
  const mineToUndo = adminOf.filter((s) => s.grantedBy === viewerId && structureInScope(scope, s.id));
  if (d.readOnly && !mineToUndo.length) return html``;
  const _ = translator(env.lang);
  const qs = school ? `&etablissement=${school.id}` : '';
  // The page's school, kept across a « Nommer » / « Retirer » (the page comes back under it, with its notice).
  const keep = school ? html`<input type="hidden" name="etablissement" value="${school.id}">` : '';
  const link = (x: LifecycleAction, cls: string) => html`<a class="button ${cls}" href="${userBase(d.id)}/cycle?action=${x}${qs}" data-cycle="${x}">${_(`cycle.${x}.button`)}</a>`;
  const lifecycle = html`<section class="card" aria-labelledby="cycle-title" data-lifecycle><h2 id="cycle-title">${_('cycle.title')}</h2>
  <p>${d.preDeletedAt ? _('cycle.state.preDeleted', { date: frenchDate(d.preDeletedAt) }) : absent ? _('cycle.state.absent', { date: frenchDate(absent) }) : _('cycle.state.present')}</p>
  <p class="actions">${d.preDeletedAt || absent ? link('restore', 'button-secondary') : ''}
    ${!d.preDeletedAt && !isSelf ? link('pre-delete', 'button-secondary') : ''}
    ${(d.preDeletedAt || !d.activated) && !isSelf ? link('delete', 'button-danger') : ''}</p>
  ${!d.preDeletedAt && d.activated ? html`<p class="hint">${_('cycle.delete.hint')}</p>` : ''}
</section>`;

  const mine = d.readOnly ? [] : d.structures.filter((s) => structureInScope(scope, s.id) && !adminOf.some((x) => x.id === s.id));
  const canAdmin = d.profile !== 'Student' && d.profile !== 'Relative';
  const removable = (s: { id: string; grantedBy: string | null }) => (d.readOnly ? s.grantedBy === viewerId : true) && structureInScope(scope, s.id);
  const local =
    canAdmin || adminOf.length
      ? html`<section class="card" aria-labelledby="admin-title" data-local-admin><h2 id="admin-title">${_('localAdmin.title')}</h2>
  ${d.readOnly ? html`<p class="hint">${_('localAdmin.undoHint')}</p>` : ''}
  ${
    adminOf.length
      ? html`<ul class="plain">${adminOf.map(
          (s) =>
            html`<li data-admin-of="${s.id}">${s.name}${
              removable(s)
                ? html` <form method="post" action="${userBase(d.id)}/administration" class="inline">${csrfField(env)}${keep}<input type="hidden" name="op" value="remove"><input type="hidden" name="structureId" value="${s.id}">
      <button type="submit" class="button-link">${_('localAdmin.remove')}</button></form>`
                : ''
            }</li>`,
        )}</ul>`
      : html`<p class="muted">${_('localAdmin.none')}</p>`
  }
  ${
    canAdmin && mine.length
      ? html`<form method="post" action="${userBase(d.id)}/administration">${csrfField(env)}${keep}<input type="hidden" name="op" value="appoint">
    <label for="f-admin-structure">${_('localAdmin.appoint.label')}</label>
    <select id="f-admin-structure" name="structureId">${mine.map((s) => html`<option value="${s.id}">${s.name}</option>`)}</select>
    <button type="submit" class="button-secondary">${_('localAdmin.appoint')}</button></form>`
      : ''
  }
</section>`
      : '';
  const links = a.links.length
    ? html`<section class="card" aria-labelledby="fed-links-title" data-fed-links><h2 id="fed-links-title">${_('fedLinks.title')}</h2>
  <ul class="plain">${a.links.map(
    (l) => html`<li data-fed-link="${l.providerId}">${_('fedLinks.item', { provider: l.providerName, date: frenchDate(l.createdAt) })}${
      l.lastLoginAt ? html` (${_('fedLinks.last', { date: frenchDate(l.lastLoginAt) })})` : ''
    } <form method="post" action="${userBase(d.id)}/federation" class="inline">${csrfField(env)}${keep}<input type="hidden" name="providerId" value="${l.providerId}">
      <button type="submit" class="button-link" aria-describedby="fed-links-hint">${_('fedLinks.unlink')}</button></form></li>`,
  )}</ul>
  <p class="hint" id="fed-links-hint">${_('fedLinks.hint')}</p>
</section>`
    : '';
  return d.readOnly ? html`${local}` : html`${lifecycle}${links}${local}`;
}

/** Link of the users list to act on every account of its current filter (`params`: the list's selection). */
export function bulkLifecycleLinks(env: ViewEnv, schoolId: string, params: URLSearchParams, total: number): SafeHtml {
  if (!total) return html``;
  const _ = translator(env.lang);
  return html`<p class="bulk-actions" data-bulk>${_('cycle.bulk.label')} ${LIFECYCLE_ACTIONS.map((a) => {
    const p = new URLSearchParams(params);
    p.set('action', a);
    return html`<a href="${schoolBase(schoolId)}/utilisateurs/cycle?${p.toString()}" data-bulk-action="${a}">${_(`cycle.${a}.button`)}</a> `;
  })}</p>`;
}

/** Confirmation of one account's pre-delete / restore / delete. */
export function lifecycleConfirmView(env: ViewEnv, row: Pick<AccountRow, 'id' | 'firstName' | 'lastName' | 'login' | 'blocked'>, action: LifecycleAction, school: School | null): SafeHtml {
  const _ = translator(env.lang);
  const back = `${userBase(row.id)}${school ? `?etablissement=${school.id}` : ''}`;
  // A blocked account restored stays blocked: « retrouve l’accès » would promise what it does not do.
  const key: MessageKey = action === 'restore' && row.blocked ? 'cycle.restore.leadBlocked' : `cycle.${action}.lead`;
  return html`<div class="card"><p data-confirm>${_(key, { name: `${row.firstName} ${row.lastName}`, login: row.login })}</p>
<form method="post" action="${userBase(row.id)}/cycle">${csrfField(env)}<input type="hidden" name="action" value="${action}">
${school ? html`<input type="hidden" name="etablissement" value="${school.id}">` : ''}
<div class="actions"><button type="submit" class="${action === 'restore' ? '' : 'button-danger'}">${_(`cycle.${action}.confirm`)}</button> <a href="${back}">${_('cycle.back')}</a></div></form></div>`;
}

/** Confirmation of a lifecycle action on every account of a users-list filter (`params`), the first 30 named. */
export function bulkLifecycleConfirmView(
  env: ViewEnv,
  school: School,
  action: LifecycleAction,
  /** Accounts the filter selects (the count the post checks: the selection must not have moved). */
  total: number,
  targets: { acting: Array<Pick<AccountRow, 'firstName' | 'lastName' | 'login'>>; skipped: number },
  params: URLSearchParams,
): SafeHtml {
  const _ = translator(env.lang);
  const back = `${schoolBase(school.id)}/utilisateurs?${params.toString()}`;
  const rows = targets.acting;
  return html`<div class="card">${targets.skipped ? html`<p class="notice notice-info" data-skipped="${targets.skipped}">${plural(env.lang, 'cycle.bulk.skipped', targets.skipped)}</p>` : ''}
<p data-confirm data-count="${rows.length}">${plural(env.lang, `cycle.bulk.${action}`, rows.length)}</p>
<ul class="confirm-list">${rows.slice(0, 30).map((r) => html`<li>${r.firstName} ${r.lastName} (<code>${r.login}</code>)</li>`)}${rows.length > 30 ? html`<li>…</li>` : ''}</ul>
<form method="post" action="${schoolBase(school.id)}/utilisateurs/cycle">${csrfField(env)}<input type="hidden" name="action" value="${action}">
<input type="hidden" name="selection" value="${params.toString()}"><input type="hidden" name="count" value="${total}">
<div class="actions">${rows.length ? html`<button type="submit" class="${action === 'restore' ? '' : 'button-danger'}">${plural(env.lang, `cycle.bulk.${action}.confirm`, rows.length)}</button> ` : ''}<a href="${back}">${_('cycle.back')}</a></div></form></div>`;
}
