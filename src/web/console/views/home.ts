// Views of the console's home and structure chooser: pure functions of the directory's figures.
import type { StructureRow } from '../../../directory/structures.js';
import type { StructureHome } from '../../../directory/stats.js';
import { csrfField, errorSummary, field, requiredLegend, type FieldErrors } from '../../forms.js';
import { html, type SafeHtml } from '../../html.js';
import { translator, type Lang } from '../../i18n/index.js';
import { profileLabel } from '../../labels.js';
import type { ViewEnv } from '../../view.js';
import { formatNumber, percent, plural, schoolBase } from '../frame.js';

/**
 * The structures the caller administers (`list`, narrowed by the search `q`; `total` before narrowing), and for the
 * super admin the link to the `unattached` accounts of no school, when there are some, « Nouvel établissement » and
 * the import for every school.
 */
export function chooseView(lang: Lang, total: number, list: StructureRow[], q: string, unattached = 0, superAdmin = false): SafeHtml {
  const _ = translator(lang);
  return html`${unattached ? html`<p class="notice notice-warning" data-unattached><a href="/console/sans-etablissement">${plural(lang, 'unattached.count', unattached)}</a></p>` : ''}${
    // The super admin's two ways in: a school by hand, or the académie's feed for every school (/console/import).
    superAdmin
      ? html`<p class="actions"><a class="button button-secondary" href="/console/etablissements/nouveau" data-new-school>${_('console.newSchool.button')}</a>
  <a class="button button-secondary" href="/console/import" data-region-import>${_('import.region.title')}</a></p>`
      : ''
  }${schoolsView(lang, total, list, q, superAdmin)}`;
}

/**
 * The super admin's « Nouvel établissement » form (name, UAI), as typed, with what is wrong: `errors` by field name,
 * already translated.
 */
export function newSchoolView(env: ViewEnv, form: { name: string; uai: string; errors: FieldErrors }): SafeHtml {
  const _ = translator(env.lang);
  const labels = { name: _('console.newSchool.name'), uai: _('console.newSchool.uai') };
  return html`<section class="card">${errorSummary(env, form.errors, labels)}
  <form method="post" action="/console/etablissements" novalidate>${csrfField(env)}${requiredLegend(env)}
    ${field(env, { name: 'name', label: labels.name, value: form.name, error: form.errors.name, required: true, maxlength: NEW_SCHOOL_NAME_MAX, hint: _('console.newSchool.nameHint'), autocomplete: 'off', autofocus: !Object.keys(form.errors).length })}
    ${field(env, { name: 'uai', label: labels.uai, value: form.uai, error: form.errors.uai, hint: _('console.newSchool.uaiHint'), autocomplete: 'off', spellcheck: false, autocapitalize: 'characters', maxlength: 12, inputClass: 'code-input' })}
    <div class="actions"><button type="submit">${_('console.newSchool.submit')}</button> <a href="/console">${_('console.cancel')}</a></div>
  </form>
</section>`;
}

/** Longest name a school created by hand may have (letters print it in one line). */
export const NEW_SCHOOL_NAME_MAX = 120;

function schoolsView(lang: Lang, total: number, list: StructureRow[], q: string, superAdmin: boolean): SafeHtml {
  const _ = translator(lang);
  return total === 0
    ? html`<p class="card">${_(superAdmin ? 'console.choose.noneSuper' : 'console.choose.none')}</p>`
    : html`${
        total > 8
          ? html`<form method="get" action="/console" class="inline-search" role="search">
  <label for="f-q">${_('console.choose.search')}</label>
  <input type="search" id="f-q" name="q" value="${q}" autocomplete="off">
  <button type="submit" class="button-secondary">${_('console.choose.searchButton')}</button>
</form>`
          : ''
      }
<p class="muted">${plural(lang, 'console.choose.count', list.length)}</p>
<ul class="plain school-list">${list.map(
        (s) => html`<li><a class="card school-card" href="${schoolBase(s.id)}">
  <span class="school-name">${s.name}</span>
  <span class="muted">${s.uai ? html`UAI ${s.uai} · ` : ''}${plural(lang, 'console.choose.accounts', s.userCount)} · ${plural(lang, 'console.choose.classes', s.classCount)}</span>
</a></li>`,
      )}</ul>`;
}

/** A structure's home: accounts and activation per profile, activation rate per class, shortcuts. */
export function homeView(lang: Lang, home: StructureHome): SafeHtml {
  const _ = translator(lang);
  const school = home.structure;
  const base = schoolBase(school.id);
  const rate = (a: number, t: number) => (t ? a / t : 0);
  const students = home.profiles.find((p) => p.profile === 'Student');
  const inactiveStudents = students ? students.total - students.activated : 0;
  const bar = (r: number, label: string) =>
    html`<span class="bar" aria-hidden="true"><span class="bar-fill" style="width: ${(Math.round(r * 1000) / 10).toString()}%"></span></span><span class="bar-value">${label}</span>`;

  const profileTable = html`<div class="table-wrap"><table class="stats-table">
  <caption>${_('home.profiles.caption')}</caption>
  <thead><tr><th scope="col">${_('home.col.profile')}</th><th scope="col" class="num">${_('home.col.accounts')}</th>
  <th scope="col" class="num">${_('home.col.activated')}</th><th scope="col" class="num">${_('home.col.inactive')}</th>
  <th scope="col">${_('home.col.rate')}</th></tr></thead>
  <tbody>${home.profiles.map(
    (p) => html`<tr>
  <th scope="row"><a href="${base}/utilisateurs?profiles=${p.profile}">${profileLabel(lang, p.profile)}</a></th>
  <td class="num" data-profile-total="${p.profile}">${formatNumber(lang, p.total)}</td>
  <td class="num" data-profile-activated="${p.profile}">${formatNumber(lang, p.activated)}</td>
  <td class="num">${
    p.total - p.activated > 0
      ? html`<a href="${base}/publipostage?profiles=${p.profile}&amp;activation=inactive" title="${_('home.distribute', { profile: profileLabel(lang, p.profile) })}">${formatNumber(lang, p.total - p.activated)}</a>`
      : '0'
  }</td>
  <td class="rate-cell">${p.total ? bar(rate(p.activated, p.total), percent(lang, rate(p.activated, p.total))) : html`<span class="muted">—</span>`}</td>
  </tr>`,
  )}</tbody>
  <tfoot><tr><th scope="row">${_('home.total')}</th><td class="num" data-total>${formatNumber(lang, home.total)}</td>
  <td class="num" data-total-activated>${formatNumber(lang, home.activated)}</td><td class="num">${formatNumber(lang, home.total - home.activated)}</td>
  <td class="rate-cell">${home.total ? bar(rate(home.activated, home.total), percent(lang, rate(home.activated, home.total))) : ''}</td></tr></tfoot>
</table></div>`;

  const chart = home.classes.length
    ? html`<figure class="card chart" aria-labelledby="chart-title">
  <figcaption id="chart-title"><h2>${_('home.chart.title')}</h2><p class="muted">${_('home.chart.hint')}</p></figcaption>
  <table class="bar-chart">
  <thead class="visually-hidden"><tr><th scope="col">${_('home.chart.class')}</th><th scope="col">${_('home.chart.rate')}</th><th scope="col">${_('home.chart.action')}</th></tr></thead>
  <tbody>${home.classes.map(
    (c) => html`<tr data-class="${c.name}">
    <th scope="row"><a href="${base}/utilisateurs?classIds=${c.id}&amp;profiles=Student">${c.name}</a></th>
    <td class="bar-cell">${bar(c.rate, plural(lang, 'home.chart.value', c.students, { activated: formatNumber(lang, c.activated), rate: percent(lang, c.rate) }))}</td>
    <td class="chart-action">${
      c.students - c.activated > 0
        ? html`<a href="${base}/publipostage?profiles=Student&amp;classIds=${c.id}&amp;activation=inactive">${plural(lang, 'home.chart.sheets', c.students - c.activated)}</a>`
        : html`<span class="badge badge-success">${_('home.chart.done')}</span>`
    }</td>
  </tr>`,
  )}</tbody>
  </table>
</figure>`
    : html`<p class="card">${_('home.chart.none')}</p>`;

  return html`<p class="lead">${
    home.total
      ? plural(lang, 'home.summary', home.activated, {
          total: plural(lang, 'console.choose.accounts', home.total),
          rate: percent(lang, rate(home.activated, home.total)),
        })
      : _('home.summary.empty')
  }</p>
<div class="home-grid">
  <section aria-labelledby="profiles-title"><h2 id="profiles-title">${_('home.profiles.title')}</h2>${profileTable}${
    home.preDeleted ? html`<p class="muted" data-pre-deleted="${home.preDeleted}">${plural(lang, 'home.preDeleted', home.preDeleted)}</p>` : ''
  }</section>
  <section class="shortcuts" aria-labelledby="shortcuts-title"><h2 id="shortcuts-title">${_('home.shortcuts')}</h2>
    <ul class="plain">
      ${
        inactiveStudents > 0
          ? html`<li><a class="card shortcut" href="${base}/publipostage?profiles=Student&amp;activation=inactive&amp;sort=class">
        <strong>${_('home.shortcut.distribute')}</strong><span class="muted">${plural(lang, 'home.shortcut.distribute.hint', inactiveStudents)}</span></a></li>`
          : ''
      }
      <li><a class="card shortcut" href="${base}/publipostage"><strong>${_('console.io.publipostage')}</strong><span class="muted">${_('home.shortcut.publipostage.hint')}</span></a></li>
      <li><a class="card shortcut" href="${base}/utilisateurs"><strong>${_('console.nav.users')}</strong><span class="muted">${_('home.shortcut.users.hint')}</span></a></li>
      <li><a class="card shortcut" href="${base}/import"><strong>${_('console.io.import')}</strong><span class="muted">${_('home.shortcut.import.hint')}</span></a></li>
      <li><a class="card shortcut" href="${base}/doublons"><strong>${_('console.nav.duplicates')}</strong><span class="muted">${_('home.shortcut.duplicates.hint')}</span></a></li>
    </ul>
  </section>
</div>
${chart}`;
}
