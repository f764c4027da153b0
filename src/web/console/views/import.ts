// Views of "Importer des utilisateurs" (a school's page) and of the super admin's « Importer un flux académique (AAF) »
// (every school's, /console/import): the upload form, the run's report, the confirmation. Pure functions of the import
// report (src/import/types.ts); console/import.ts receives the files and runs the import.
import type { Profile } from '../../../directory/vocabulary.js';
import type { ImportReport } from '../../../import/index.js';
import { WHOSE } from '../../../import/messages.js';
import {
  absenceScopeText,
  absenceSkippedText,
  fileOutcome,
  formatChanges,
  ignoredListing,
  inChargeCount,
  leftTotal,
  noChildFoundText,
  NEW_CLASSES_SHOWN,
  OUTCOMES,
  outcomeTotals,
  profileNumbers,
  profileSplit,
  rejectedApart,
  relationsText,
  withoutAdminText,
} from '../../../import/report.js';
import { absentShare } from '../../../import/plan.js';
import type { StoredImport } from '../../../import/history.js';
import { type CountsByProfile, ignoredRecords, type Rejection, type StructureReport, uaiAfter } from '../../../import/types.js';
import { parisMoment } from '../../../publipostage/selection.js';
import { csrfField } from '../../forms.js';
import { html, type SafeHtml } from '../../html.js';
import { formatText, importMessageText, mergeText, rejectionText } from '../../import-text.js';
import { translator, type Lang } from '../../i18n/index.js';
import { profileLabel } from '../../labels.js';
import { CSV_TEMPLATES, templateHeader } from '../../../import/csv-templates.js';
import type { ViewEnv } from '../../view.js';
import { dateTime, formatNumber, plural, schoolBase, type School } from '../frame.js';

const PROFILE_ORDER: Profile[] = ['Student', 'Relative', 'Teacher', 'Personnel', 'Guest'];

/**
 * The page an import is made from: a school's « Importer des utilisateurs » (CSV files go to it), or, null, the super
 * admin's import for every school (/console/import: AAF, SIECLE and STS-web files, which name their schools).
 */
export type ImportTarget = School | null;

/** The address of the import page of `school` (null: the one for every school). */
export function importBase(school: ImportTarget): string {
  return school ? `${schoolBase(school.id)}/import` : '/console/import';
}

/** "Appliquer cet import à Collège X ?" — or, when the files touch other structures too, every one named. */
export function confirmQuestion(lang: Lang, school: ImportTarget, r: Pick<ImportReport, 'structures' | 'files'>): string {
  const _ = translator(lang);
  // The page for every school names none: the files' schools, whichever they are (AAF person files without their
  // EtabEducNat name no school the report could list). A school's page takes no AAF file (importFiles' oneSchool).
  if (r.structures.length === 0 && !school) return _('import.confirm.region');
  if (school && r.structures.every((s) => s.name === school.name)) return _('import.confirm.question', { school: school.name });
  const names = r.structures.map((s) => s.name);
  return plural(lang, 'import.confirm.structures', names.length, { list: names.join(', ') });
}

/**
 * The upload form; a super admin may also send SIECLE or STS-web XML and .zip archives (an AAF feed goes to the form
 * for every school). The form for every school (`school` null) takes the files that name their schools (AAF, SIECLE,
 * STS-web: XML, or a .zip of them), not CSV files.
 */
export function uploadForm(env: ViewEnv, school: ImportTarget, superAdmin: boolean): SafeHtml {
  const _ = translator(env.lang);
  // A local admin sends the same kinds of file as a super admin on a school's page (SIECLE and STS-web naming the
  // school's UAI, a .zip): only the AAF, refused to them, goes unmentioned.
  // The super admin is told where the AAF feed goes besides what a school's page takes.
  const [hint, accept] = !school
    ? [_('import.files.hintRegion'), '.xml,.zip']
    : [superAdmin ? `${_('import.files.hint')} ${_('import.files.hintAaf')}` : _('import.files.hint'), '.csv,.txt,.tsv,.xml,.zip'];
  return html`<form method="post" action="${importBase(school)}?_csrf=${env.csrfToken}" enctype="multipart/form-data" class="card import-form" data-once>
<div class="field">
  <label for="f-files">${_('import.files')}</label>
  <p class="hint" id="f-files-hint">${hint}</p>
  <input type="file" id="f-files" name="files" multiple required accept="${accept}" aria-describedby="f-files-hint">
</div>
${school ? csvTemplates(env.lang) : ''}
<div class="field field-check">
  <input type="checkbox" id="f-partial" name="partial" value="1" aria-describedby="f-partial-hint">
  <label for="f-partial">${_('import.partial')}</label>
  <p class="hint" id="f-partial-hint">${_('import.partial.hint')}</p>
</div>
<div class="actions"><button type="submit">${_('import.analyse')}</button></div>
</form>`;
}

/** The report of a run (dry or applied): files, structures, counts per profile, links, warnings, ignored and rejected rows. */
export function reportView(lang: Lang, r: ImportReport, superAdmin = false): SafeHtml {
  const _ = translator(lang);
  const n = (v: number) => formatNumber(lang, v);
  const profiles = PROFILE_ORDER.filter((p) => r.byProfile[p]);
  const noChild = noChildFoundText(r, lang);
  return html`<section class="import-report" aria-labelledby="report-title">
<h2 id="report-title">${_(r.dryRun ? 'import.report.dry' : 'import.report.done')}</h2>
<div class="table-wrap"><table class="table-stack">
  <caption class="visually-hidden">${_('import.report.files')}</caption>
  <thead><tr><th scope="col">${_('import.col.file')}</th><th scope="col">${_('import.col.format')}</th><th scope="col">${_('import.col.encoding')}</th><th scope="col" class="num">${_('import.col.rows')}</th>
    <th scope="col">${_('import.col.outcome')}</th></tr></thead>
  <tbody>${r.files.map((f) =>
    f.kind === 'ignored' || f.kind === 'zip'
      ? html`<tr data-file="${f.file}"><td>${f.file}</td><td colspan="4">${formatText(lang, f.format)}${f.kind === 'zip' ? ` — ${plural(lang, 'import.report.members', f.rows)}` : ''}${f.reasonMessage ? html` : ${importMessageText(lang, f.reasonMessage)}` : f.reason ? html` : ${f.reason}` : ''}</td></tr>`
      : html`<tr data-file="${f.file}"><td>${f.file}</td><td data-label="${_('import.col.format')}">${formatText(lang, f.format)}</td><td data-label="${_('import.col.encoding')}">${f.encoding ?? '—'}</td><td class="num" data-label="${_('import.col.rows')}">${n(f.rows)}</td><td data-label="${_('import.col.outcome')}">${fileOutcome(f, lang)}</td></tr>`,
  )}</tbody>
</table></div>
${structuresView(lang, r)}
<div class="table-wrap"><table class="import-counts">
  <caption class="visually-hidden">${_('import.report.accounts')}</caption>
  <thead><tr><th scope="col">${_('home.col.profile')}</th><th scope="col" class="num">${_('import.col.created')}</th><th scope="col" class="num">${_('import.col.updated')}</th>
    <th scope="col" class="num">${_('import.col.unchanged')}</th><th scope="col" class="num">${_('import.col.restored')}</th><th scope="col" class="num">${_('import.col.preDeleted')}</th></tr></thead>
  <tbody>${profiles.map((p) => {
    const c = r.byProfile[p];
    if (!c) return '';
    return html`<tr><th scope="row">${profileLabel(lang, p)}</th><td class="num">${n(c.created)}</td><td class="num">${n(c.updated)}</td>
      <td class="num">${n(c.unchanged)}</td><td class="num">${n(c.restored)}</td><td class="num">${n(c.preDeleted)}</td></tr>`;
  })}</tbody>
  <tfoot><tr><th scope="row">${_('home.total')}</th><td class="num" data-import="created">${n(r.created)}</td><td class="num" data-import="updated">${n(r.updated)}</td>
    <td class="num">${n(r.unchanged)}</td><td class="num">${n(r.restored)}</td><td class="num" data-import="preDeleted">${n(r.preDeleted)}</td></tr></tfoot>
</table></div>
<p>${relationsText(r, lang)}.</p>
${noChild ? html`<p class="notice notice-warning" data-import="no-child-found">${noChild}</p>` : ''}
${(r.absenceScopes ?? []).map((a) => html`<p data-import="absenceScope">${absenceScopeText(a, lang)}</p>`)}
${r.absenceSkipped ? html`<p data-import="absenceSkipped">${absenceSkippedText(r.absenceSkipped, lang)}</p>` : ''}
${(r.massAbsence ?? []).map(
  (m) =>
    html`<p class="notice notice-warning" data-import="massAbsence">${_(r.dryRun ? 'import.report.massAbsence' : 'import.report.massAbsence.done', { absent: n(m.absent), of: n(m.of), share: absentShare(m), whose: WHOSE[lang][m.profile] })}</p>`,
)}
${
  // Any absence a dry run would act on, said where the eye goes (not only in the folded list below): a secretary
  // importing one class at a time without « Import partiel » sends the classes imported before to the grace period.
  // The mass-absence and emptied-school warnings say more when they apply.
  r.dryRun && absentFromFiles(r) && !r.massAbsence?.length && !r.emptied?.length
    ? html`<p class="notice notice-warning" data-import="absentWarning">${plural(lang, 'import.report.absentWarning', absentFromFiles(r))}</p>`
    : ''
}
${r.unchecked?.length ? html`<p class="notice notice-info" data-import="unchecked">${_(r.unchecked.includes('EtabEducNat') ? 'import.report.noEtab' : 'import.report.unchecked', { kinds: r.unchecked.join(', ') })}</p>` : ''}
${r.keptNamed ? html`<p class="notice notice-warning" data-import="keptNamed">${plural(lang, 'import.report.keptNamed', r.keptNamed)}</p>` : ''}
${inChargeCount(r) ? html`<p class="notice notice-info" data-import="inCharge">${plural(lang, 'import.report.inCharge', inChargeCount(r))}</p>` : ''}
${
  r.newClasses?.length
    ? html`<details class="new-classes" data-import="newClasses"><summary>${_('import.report.newClasses', { n: n(r.newClasses.reduce((k, x) => k + x.names.length, 0)) })}</summary>
  <ul>${r.newClasses.slice(0, NEW_CLASSES_SHOWN).map((x) => html`<li>${x.structure}${_('colon')} ${x.names.join(', ')}</li>`)}</ul>
  ${r.newClasses.length > NEW_CLASSES_SHOWN ? html`<p>${_('import.report.more', { n: n(r.newClasses.length - NEW_CLASSES_SHOWN) })}</p>` : ''}</details>`
    : ''
}
${(['appointed', 'revoked'] as const).map((change) => {
  const list = (r.adminChanges ?? []).filter((x) => x.change === change);
  return list.length
    ? html`<div class="notice notice-info" data-import="admins-${change}"><p><strong>${_(`import.report.admins.${change}`, { n: n(list.length) })}</strong></p>
  <ul>${list.map((x) => html`<li><code>${x.login}</code> — ${x.name} (${x.structure})</li>`)}</ul></div>`
    : '';
})}
${withoutAdminText(r, lang) ? html`<p class="notice notice-warning" data-import="without-admin">${withoutAdminText(r, lang)}</p>` : ''}
${(r.emptied ?? []).map(
  (e) =>
    html`<p class="notice notice-warning" data-import="emptied">${_(r.dryRun ? 'import.report.emptied' : 'import.report.emptied.done', { school: `${e.name}${uaiAfter(e.name, e.uai)}`, absent: n(e.absent), of: n(e.of), share: absentShare(e) })}</p>`,
)}
${
  r.unattached
    ? html`<div class="notice notice-warning" data-import="unattached"><p>${plural(lang, r.dryRun ? 'import.report.unattached' : 'import.report.unattached.done', r.unattached.count, {
        profiles: (Object.entries(r.unattached.byProfile) as [Profile, number][]).map(([p, c]) => `${profileLabel(lang, p)}${_('colon')} ${n(c)}`).join(', '),
      })}</p>
  <p>${_('import.report.unattached.examples')}</p>
  <ul>${r.unattached.sample.map((a) => html`<li><code>${a.login}</code> — ${a.name} (${profileLabel(lang, a.profile)})</li>`)}</ul>
  ${r.unattached.count > r.unattached.sample.length ? html`<p>${_('import.report.more', { n: n(r.unattached.count - r.unattached.sample.length) })}</p>` : ''}
  ${
    // Listed there once they exist: a dry run created none, its report says where they will be.
    superAdmin
      ? r.dryRun
        ? html`<p data-import="unattachedLater">${plural(lang, 'import.report.unattached.later', r.unattached.count)}</p>`
        : html`<p><a href="/console/sans-etablissement">${_('import.report.unattached.link')}</a></p>`
      : ''
  }</div>`
    : ''
}
${
  r.merged?.length
    ? html`<div class="notice notice-warning" data-import="merged"><p><strong>${plural(lang, 'import.report.merged', r.merged.length)}</strong></p>
  <ul class="merged">${r.merged.slice(0, 200).map((m) => html`<li><code>${mergeText(lang, m)}</code></li>`)}</ul>
  ${r.merged.length > 200 ? html`<p>${_('import.report.more', { n: n(r.merged.length - 200) })}</p>` : ''}</div>`
    : ''
}
${
  r.absent?.length
    ? html`<details class="absent" data-import="absent"${r.dryRun ? ' open' : ''}><summary>${_('import.report.absent', { n: n(r.preDeleted) })}</summary>
  <ul>${r.absent.map((a) => html`<li><code>${a.login}</code> — ${a.name} (${profileLabel(lang, a.profile)})</li>`)}</ul>
  ${r.preDeleted > r.absent.length ? html`<p>${_('import.report.more', { n: n(r.preDeleted - r.absent.length) })}</p>` : ''}</details>`
    : ''
}
${
  r.modified?.count
    ? html`<details class="modified" data-import="modified"><summary>${_('import.report.modified', { n: n(r.modified.count) })}</summary>
  <ul>${r.modified.sample.map((m) => html`<li><code>${m.login}</code> — ${m.name}${_('colon')} ${formatChanges(m, lang)}</li>`)}</ul>
  ${r.modified.count > r.modified.sample.length ? html`<p>${_('import.report.more', { n: n(r.modified.count - r.modified.sample.length) })}</p>` : ''}</details>`
    : ''
}
${r.ignored.length ? html`<details class="ignored"><summary>${plural(lang, 'import.report.ignored', ignoredRecords(r.ignored))}</summary>${ignoredList(lang, r.ignored)}</details>` : ''}
${rejectedView(lang, r)}
</section>`;
}

/** Accounts a run sends to the grace period for being absent from its files (not those an AAF delta deletes). */
const absentFromFiles = (r: ImportReport): number => r.preDeleted - r.files.reduce((k, f) => k + (f.deletions ?? 0), 0);

/**
 * The rows left out (an error box: « N lignes rejetées ») and apart the remarks on rows imported all the same (a
 * warning: a child not found, an e-mail left out), each list with its own count (report.ts rejectedApart).
 */
function rejectedView(lang: Lang, r: ImportReport): SafeHtml {
  const _ = translator(lang);
  const n = (v: number) => formatNumber(lang, v);
  const { rejected, notes } = rejectedApart(r);
  const list = (items: Rejection[], kind: string) =>
    html`<ul class="${kind}">${items.slice(0, 200).map((x) => html`<li><code>${rejectionText(lang, x)}</code></li>`)}</ul>
  ${items.length > 200 ? html`<p>${_('import.report.more', { n: n(items.length - 200) })}</p>` : ''}`;
  return html`${
    rejected.length
      ? html`<div class="notice notice-error" data-import="rejected"><p><strong>${plural(lang, 'import.report.rejected', rejected.length)}</strong></p>
  ${list(rejected, 'rejected')}</div>`
      : ''
  }
${
  notes.length
    ? html`<div class="notice notice-warning" data-import="notes"><p><strong>${plural(lang, 'import.report.notes', notes.length)}</strong></p>
  ${list(notes, 'notes')}</div>`
    : ''
}`;
}

/** A structure's name, its UAI unless the name shows it, and a badge when the run creates or renames it. */
function structureName(lang: Lang, s: StructureReport): SafeHtml {
  const _ = translator(lang);
  return html`<strong>${s.name}</strong>${uaiAfter(s.name, s.uai)}${s.created ? html` <span class="badge badge-warning">${_('import.report.newStructure')}</span>` : ''}${s.formerName ? html` <span class="badge badge-warning">${_('import.report.renamedStructure', { former: s.formerName })}</span>` : ''}${s.uaiAdded ? html` <span class="badge badge-warning">${_('import.report.uaiAdded')}</span>` : ''}`;
}

/**
 * The structures the run touches with its accounts in each (StructureReport.accounts: created, updated, unchanged,
 * pre-deleted, restored, each split by profile), and those in none: a dry run shows every school's figures before
 * anything is written. A report stored before the counts existed names its structures only.
 */
function structuresView(lang: Lang, r: ImportReport): SafeHtml | '' {
  const _ = translator(lang);
  const n = (v: number) => formatNumber(lang, v);
  if (!r.structures.length && !r.withoutStructure) return '';
  if (r.structures.some((s) => !s.accounts)) {
    return html`<p>${_('import.report.structures')} ${r.structures.map((s, i) => html`${i ? ', ' : ''}${structureName(lang, s)}`)}</p>`;
  }
  const cells = (c: CountsByProfile) => {
    const totals = outcomeTotals(c);
    return OUTCOMES.map((k) => html`<td class="num">${n(totals[k])}${totals[k] ? html`<span class="by-profile">${profileSplit(c, k, lang)}</span>` : ''}</td>`);
  };
  // Accounts the run takes out of a school while they stay in the feed (StructureReport.left): a column only when any.
  const leaving = r.structures.some((s) => leftTotal(s));
  const leftCell = (s?: StructureReport) => {
    if (!leaving) return '';
    const total = s ? leftTotal(s) : 0;
    return html`<td class="num">${n(total)}${total ? html`<span class="by-profile">${profileNumbers(s?.left ?? {}, lang)}</span>` : ''}</td>`;
  };
  return html`<div class="table-wrap"><table class="import-structures" data-import="structures">
  <caption>${_('import.report.byStructure')}</caption>
  <thead><tr><th scope="col">${_('import.col.structure')}</th><th scope="col" class="num">${_('import.col.created')}</th><th scope="col" class="num">${_('import.col.updated')}</th>
    <th scope="col" class="num">${_('import.col.unchanged')}</th><th scope="col" class="num">${_('import.col.restored')}</th><th scope="col" class="num">${_('import.col.preDeleted')}</th>${leaving ? html`<th scope="col" class="num">${_('import.col.left')}</th>` : ''}</tr></thead>
  <tbody>${r.structures.map((s) => html`<tr data-structure="${s.name}"><th scope="row">${structureName(lang, s)}</th>${cells(s.accounts ?? {})}${leftCell(s)}</tr>`)}
  ${r.withoutStructure ? html`<tr data-structure=""><th scope="row">${_('import.report.withoutStructure')}</th>${cells(r.withoutStructure)}${leftCell()}</tr>` : ''}</tbody>
</table></div>`;
}

/** The ignored records as the command line lists them (report.ts ignoredListing), in the console's language. */
function ignoredList(lang: Lang, ignored: Rejection[]): SafeHtml {
  const _ = translator(lang);
  const { items, left } = ignoredListing(ignored, (m) => importMessageText(lang, m));
  const li = items.map((it) => {
    if ('record' in it) return html`<li><code>${rejectionText(lang, it.record)}</code></li>`;
    const some = it.examples.map(({ record, who }) => html`<li><code>${rejectionText(lang, { ...record, message: undefined, reason: who })}</code></li>`);
    return html`<li data-ignored-group>${_('import.report.ignoredGroup', { reason: it.reason, n: formatNumber(lang, it.count) })}<ul>${some}</ul></li>`;
  });
  return html`<ul>${li}</ul>${left > 0 ? html`<p>${_('import.report.more', { n: formatNumber(lang, left) })}</p>` : ''}`;
}

/** The notice of a refused run: the file (line, field) and the reason, in the request's language. */
export function fatalNotice(lang: Lang, fatal: Rejection): SafeHtml {
  const _ = translator(lang);
  return html`<p><strong>${_('import.fatal')}</strong></p><p><code>${rejectionText(lang, fatal)}</code></p>`;
}

/**
 * The notice of CSV files sent to the import for every school: refused (they name no school), with the way to the
 * school list, where each school's « Importer des utilisateurs » takes them.
 */
export function csvElsewhereNotice(lang: Lang, fatal: Rejection): SafeHtml {
  const _ = translator(lang);
  return html`<p><strong>${_('import.fatal')}</strong></p><p data-import="csvElsewhere">${_('import.region.csv', { file: fatal.file })}</p>
<p><a href="/console">${_('import.region.csvLink')}</a></p>`;
}

/**
 * The notice of an AAF feed sent to a school's import page: refused (it touches every school it names), with the way
 * to the import for every school, which takes it.
 */
export function aafElsewhereNotice(lang: Lang, fatal: Rejection): SafeHtml {
  const _ = translator(lang);
  return html`<p><strong>${_('import.fatal')}</strong></p><p data-import="aafElsewhere">${_('import.school.aaf', { file: fatal.file })}</p>
<p><a href="${importBase(null)}">${_('import.school.aafLink')}</a></p>`;
}

/** The dry run's report and the form applying exactly those files (`token`: the pending upload). */
export function confirmView(env: ViewEnv, o: { school: ImportTarget; token: string; report: ImportReport; partial: boolean; absencesError?: boolean; superAdmin?: boolean }): SafeHtml {
  const { lang } = env;
  const _ = translator(lang);
  return html`${reportView(lang, o.report, o.superAdmin)}
<form method="post" action="${importBase(o.school)}/confirmer" class="card confirm-import" data-once>${csrfField(env)}
  <input type="hidden" name="token" value="${o.token}">
  <p data-confirm-question>${confirmQuestion(lang, o.school, o.report)}${o.partial ? html` <strong>${_('import.confirm.partial')}</strong>` : ''}</p>
  ${
    o.report.massAbsence?.length
      ? // Required as forms.ts checkboxes are (aria-required, checked by the server: a native required is announced
        // invalid as soon as the page opens); left unticked, the page comes back with the error, the upload kept.
        html`<div class="field field-check${o.absencesError ? ' field-invalid' : ''}">
    ${o.absencesError ? html`<p class="field-error" id="f-absences-error">${_('import.confirm.absences.missing')}</p>` : ''}
    <input type="checkbox" id="f-absences" name="absences" value="${o.report.preDeleted}" aria-required="true" aria-describedby="${o.absencesError ? 'f-absences-error ' : ''}f-absences-hint"${o.absencesError ? html` aria-invalid="true"` : ''}>
    <label for="f-absences">${plural(lang, 'import.confirm.absences', o.report.preDeleted)} <span class="req" aria-hidden="true">*</span></label>
    <p class="hint" id="f-absences-hint">${_('import.confirm.absences.hint')}</p>
  </div>`
      : ''
  }
  <div class="actions"><button type="submit">${_('import.confirm')}</button>
    <a href="${importBase(o.school)}">${_('console.cancel')}</a></div>
</form>`;
}

/** Where an applied run's new accounts are (console/import.ts newAccounts): by school in the caller's scope, and none. */
export interface NewAccounts {
  schools: { id: string; name: string; n: number }[];
  /** New accounts of no school: only the super admin's « Comptes sans établissement » shows them. */
  unattached: number;
}

/**
 * The publipostage of `schoolId` narrowed to the accounts the run created, not yet activated: all of them were written
 * at the run's instant (ImportReport.at), so the window [at, at + 1 ms) in Paris time holds them and no other (imports
 * take turns, apply.ts writes every new account with the run's `now`).
 */
export function newAccountsLink(schoolId: string, at: string): string {
  const t = new Date(at);
  const p = new URLSearchParams({ activation: 'inactive', createdAfter: parisMoment(t), createdBefore: parisMoment(new Date(t.getTime() + 1)) });
  return `${schoolBase(schoolId)}/publipostage?${p}`;
}

/**
 * The applied run's report and what comes next: the sheets of the accounts it created — the one school's publipostage
 * when they are all in one, else one link per school; those of no school on the super admin's list.
 */
export function doneView(lang: Lang, school: ImportTarget, report: ImportReport, next: NewAccounts, superAdmin: boolean, savedHref?: string): SafeHtml {
  const _ = translator(lang);
  const at = report.at;
  const one = next.schools.length === 1 ? next.schools[0] : null;
  return html`${reportView(lang, report, superAdmin)}
${
  at && next.schools.length > 1
    ? html`<div class="card" data-import="next"><p>${_('import.next.schools')}</p>
  <ul>${next.schools.map((s) => html`<li><a href="${newAccountsLink(s.id, at)}">${plural(lang, 'import.next.school', s.n, { school: s.name })}</a></li>`)}</ul></div>`
    : ''
}
${superAdmin && next.unattached ? html`<p data-import="nextUnattached"><a href="/console/sans-etablissement">${plural(lang, 'import.next.unattached', next.unattached)}</a></p>` : ''}
<p class="actions">${at && one ? html`<a class="button" href="${newAccountsLink(one.id, at)}">${_('import.next.publipostage')}</a>` : ''}
  <a href="${importBase(school)}">${_('import.again')}</a></p>
${savedHref ? html`<p class="hint" data-import="saved">${_('import.history.saved')} <a href="${savedHref}">${_('import.history.link')}</a></p>` : ''}`;
}

/** The last confirmed runs of this page (import/history.ts), newest first, each linking to its report; none: nothing. */
export function historyView(lang: Lang, school: ImportTarget, runs: StoredImport[]): SafeHtml | '' {
  if (!runs.length) return '';
  const _ = translator(lang);
  const n = (v: number) => formatNumber(lang, v);
  return html`<section class="card" aria-labelledby="import-history-title" data-import="history"><h2 id="import-history-title">${_('import.history.title')}</h2>
  <ul>${runs.map(
    (r) => html`<li><a href="${importBase(school)}/rapports/${r.id}">${dateTime(lang, r.at)}</a>${r.actor ? html` — ${r.actor}` : ''} — ${r.files.join(', ')}
    <span class="muted">${_('import.history.counts', { created: n(r.created), updated: n(r.updated), preDeleted: n(r.preDeleted), rejected: n(r.rejected) })}</span></li>`,
  )}</ul></section>`;
}

/** The ENT's CSV templates to download, each with its columns (« * »: required), under the file field. */
function csvTemplates(lang: Lang): SafeHtml {
  const _ = translator(lang);
  return html`<details class="csv-templates">
  <summary>${_('import.templates')}</summary>
  <p class="hint">${_('import.templates.hint')}</p>
  <ul>${CSV_TEMPLATES.map(
    (t) => html`<li><a href="/console/modeles-csv/${t.file}" download>${t.file}</a> (${profileLabel(lang, t.profile)}) :
    <span class="muted">${t.fields.map((f) => templateHeader(t, f)).join(' ; ')}</span></li>`,
  )}</ul>
</details>`;
}
