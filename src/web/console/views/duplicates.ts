// Views of "Gérer les doublons": the paginated list of probable pairs, the side-by-side comparison, the merge
// and dismiss confirmations. Pure functions of the pairs (src/directory/duplicates.ts) and of the two accounts
// console/duplicates.ts loads.
import type { DuplicatePair, DuplicateReason } from '../../../directory/duplicates.js';
import { frenchDate } from '../../../publipostage/format.js';
import { csrfField } from '../../forms.js';
import { html, type HtmlValue, type SafeHtml } from '../../html.js';
import { plural, translator, type Lang } from '../../i18n/index.js';
import { profileLabel } from '../../labels.js';
import type { ViewEnv } from '../../view.js';
import { schoolBase, sharedStyle, type School } from '../frame.js';
import { pager } from '../selection.js';

type Translate = ReturnType<typeof translator>;

/** Pairs per page of the list. */
export const DUPLICATES_PAGE_SIZE = 25;

/** One account as the comparison shows it. */
export interface Side {
  id: string;
  firstName: string;
  lastName: string;
  birthDate: string | null;
  email: string | null;
  login: string;
  profile: string;
  activated: boolean;
  blocked: boolean;
  origin: 'feed' | 'manual';
  source: string;
  createdAt: Date;
  classes: string[];
  /** Parents of a student, children (with classes) of a parent. */
  relatives: string[];
  folded: { fl: string; ff: string; em: string | null; ine: string | null };
}

export const duplicatesBase = (structureId: string): string => `${schoolBase(structureId)}/doublons`;
export const pairUrl = (structureId: string, a: string, b: string): string => `${duplicatesBase(structureId)}/${a}/${b}`;

function reasons(_: Translate, list: DuplicateReason[]): SafeHtml {
  return html`<ul class="plain reasons">${list.map((r) => html`<li>${_(`dup.reason.${r}`)}</li>`)}</ul>`;
}

function activationBadge(_: Translate, s: { activated: boolean }): SafeHtml {
  return s.activated ? html`<span class="badge badge-success">${_('dup.active')}</span>` : html`<span class="badge">${_('dup.inactive')}</span>`;
}

/** The school's probable pairs (`all`, most probable first), one page from `offset`. */
export function duplicatesListView(lang: Lang, school: School, all: DuplicatePair[], offset: number): SafeHtml {
  const _ = translator(lang);
  const pairs = all.slice(offset, offset + DUPLICATES_PAGE_SIZE);
  const who = (s: { firstName: string; lastName: string; login: string; profile: string; activated: boolean; birthDate: string | null }) =>
    html`<strong>${s.lastName} ${s.firstName}</strong><br><code>${s.login}</code> · ${profileLabel(lang, s.profile)}${
      s.birthDate ? html` · ${frenchDate(new Date(`${s.birthDate}T12:00:00Z`))}` : ''
    }<br>${activationBadge(_, s)}`;
  return html`${sharedStyle}
<p class="lead">${_('dup.lead')}</p>
${
  all.length === 0
    ? html`<p class="card">${_('dup.none')}</p>`
    : html`<p>${plural(lang, 'dup.count', all.length)}</p>
<div class="table-wrap"><table class="dup-table">
  <thead><tr><th scope="col">${_('dup.score')}</th><th scope="col">${_('dup.accountA')}</th><th scope="col">${_('dup.accountB')}</th>
    <th scope="col">${_('dup.reasons')}</th><th scope="col"><span class="visually-hidden">${_('dup.actions')}</span></th></tr></thead>
  <tbody>${pairs.map(
    (p) => html`<tr data-pair="${p.keep.id}/${p.drop.id}">
    <td><span class="score">${p.score}</span></td>
    <td>${who(p.keep)}</td>
    <td>${who(p.drop)}</td>
    <td>${reasons(_, p.reasons)}</td>
    <td><a class="button button-secondary" href="${pairUrl(school.id, p.keep.id, p.drop.id)}">${_('dup.compare')}</a></td>
  </tr>`,
  )}</tbody>
</table></div>
${pager(lang, duplicatesBase(school.id), new URLSearchParams(), offset, DUPLICATES_PAGE_SIZE, all.length)}`
}`;
}

/** The two accounts field by field, differences marked; `keeper` is the one a merge keeps. */
function compareTable(lang: Lang, a: Side, b: Side, keeper: Side): SafeHtml {
  const _ = translator(lang);
  const list = (xs: string[]) => (xs.length ? xs.join(', ') : '—');
  const date = (d: string | null) => (d ? frenchDate(new Date(`${d}T12:00:00Z`)) : '—');
  const line = (label: string, f: (s: Side) => HtmlValue, text: (s: Side) => string) => {
    const differ = text(a) !== text(b);
    return html`<tr${differ ? html` class="differs"` : ''}><th scope="row">${label}${differ ? html` <span class="visually-hidden">(${_('dup.differs')})</span>` : ''}</th><td>${f(a)}</td><td>${f(b)}</td></tr>`;
  };
  const plain = (label: string, text: (s: Side) => string) => line(label, text, text);
  return html`<div class="table-wrap"><table class="compare-table">
  <thead><tr><th scope="col"><span class="visually-hidden">${_('dup.field')}</span></th>${[a, b].map(
    (s) => html`<th scope="col">${s.firstName} ${s.lastName}${s.id === keeper.id ? html` <span class="badge badge-success">${_('dup.kept')}</span>` : ''}</th>`,
  )}</tr></thead>
  <tbody>
    ${plain(_('dup.f.lastName'), (s) => s.lastName)}
    ${plain(_('dup.f.firstName'), (s) => s.firstName)}
    ${plain(_('dup.f.birthDate'), (s) => date(s.birthDate))}
    ${plain(_('dup.f.email'), (s) => s.email ?? '—')}
    ${line(
      _('dup.f.login'),
      (s) => html`<code>${s.login}</code>`,
      (s) => s.login,
    )}
    ${plain(_('dup.f.profile'), (s) => profileLabel(lang, s.profile))}
    ${line(
      _('dup.f.activation'),
      (s) => html`${activationBadge(_, s)}${s.blocked ? html` <span class="badge badge-danger">${_('dup.blocked')}</span>` : ''}`,
      (s) => `${s.activated}/${s.blocked}`,
    )}
    ${plain(_('dup.f.classes'), (s) => list(s.classes))}
    ${plain(_('dup.f.relatives'), (s) => list(s.relatives))}
    ${plain(_('dup.f.origin'), (s) => `${_(`dup.origin.${s.origin}`)} (${s.source})`)}
    ${plain(_('dup.f.createdAt'), (s) => frenchDate(s.createdAt))}
  </tbody>
</table></div>`;
}

/** The comparison, its score and reasons (`score` null when the pair is not a probable duplicate), the actions. */
export function compareView(lang: Lang, school: School, a: Side, b: Side, keeper: Side, score: { score: number; reasons: DuplicateReason[] } | null): SafeHtml {
  const _ = translator(lang);
  const url = pairUrl(school.id, a.id, b.id);
  return html`${sharedStyle}
<p class="lead">${score ? html`${_('dup.score')} : <strong class="score">${score.score}</strong>` : _('dup.noScore')}</p>
${score && reasons(_, score.reasons)}
${compareTable(lang, a, b, keeper)}
<div class="actions">
  <a class="button" href="${url}/fusionner">${_('dup.merge')}</a>
  <a class="button button-secondary" href="${url}/ignorer">${_('dup.dismiss')}</a>
  <a href="${duplicatesBase(school.id)}">${_('dup.backToList')}</a>
</div>`;
}

/**
 * The merge confirmation: neither account activated, the admin picks the one kept; one activated, it is kept;
 * both activated (`bothActive`), no form, only the way back.
 */
export function mergeView(env: ViewEnv, school: School, a: Side, b: Side, keeper: Side): SafeHtml {
  const _ = translator(env.lang);
  const url = pairUrl(school.id, a.id, b.id);
  const other = keeper.id === a.id ? b : a;
  const name = (s: Side) => `${s.firstName} ${s.lastName} (${s.login})`;
  if (a.activated && b.activated) {
    return html`${sharedStyle}${compareTable(env.lang, a, b, keeper)}<p><a href="${url}">${_('dup.backToPair')}</a></p>`;
  }
  const choice = !a.activated && !b.activated;
  return html`${sharedStyle}${compareTable(env.lang, a, b, keeper)}
<form method="post" action="${url}/fusionner" class="card">
  ${csrfField(env)}
  ${
    choice
      ? html`<fieldset><legend>${_('dup.merge.choose')}</legend>${[keeper, other].map(
          (s) => html`<div class="field field-check">
      <input type="radio" id="keep-${s.id}" name="keep" value="${s.id}"${s.id === keeper.id ? html` checked` : ''}>
      <label for="keep-${s.id}">${name(s)} — ${_('dup.f.createdAt')} ${frenchDate(s.createdAt)}</label></div>`,
        )}</fieldset>`
      : html`<input type="hidden" name="keep" value="${keeper.id}">
      <p>${_('dup.merge.keepActive', { kept: name(keeper), dropped: name(other) })}</p>`
  }
  <p>${_('dup.merge.explain')}</p>
  <p><strong>${_('dup.merge.irreversible')}</strong></p>
  <div class="actions"><button type="submit" class="button-danger">${_('dup.merge.confirm')}</button> <a href="${url}">${_('classe.cancel')}</a></div>
</form>`;
}

/** "Ignorer définitivement": the two accounts and the confirmation. */
export function dismissView(env: ViewEnv, school: School, a: Side, b: Side, keeper: Side): SafeHtml {
  const _ = translator(env.lang);
  const url = pairUrl(school.id, a.id, b.id);
  return html`${sharedStyle}${compareTable(env.lang, a, b, keeper)}
<form method="post" action="${url}/ignorer" class="card">
  ${csrfField(env)}
  <p>${_('dup.dismiss.explain', { a: `${a.firstName} ${a.lastName}`, b: `${b.firstName} ${b.lastName}` })}</p>
  <div class="actions"><button type="submit">${_('dup.dismiss.confirm')}</button> <a href="${url}">${_('classe.cancel')}</a></div>
</form>`;
}
