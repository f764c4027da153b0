// Views of the mail runs ("Envois"): one run's report and a school's past runs. Pure functions of the run
// figures (src/mail/merge.ts); console/runs.ts loads them.
import type { MailRunReport, MailRunSummary } from '../../../mail/merge.js';
import { html, type SafeHtml } from '../../html.js';
import { translator, type Lang } from '../../i18n/index.js';
import { downloadForm } from '../../post-download.js';
import type { ViewEnv } from '../../view.js';
import { dateTime, formatNumber, plural, scriptMessages } from '../frame.js';

const RUN_LABELS = { sent: 'run.sent', failed: 'run.failed', pending: 'run.pending', withoutEmail: 'run.withoutEmail' } as const;

export interface RunReportData {
  run: MailRunReport;
  /** No SMTP server configured while mails are pending: they wait in the queue (src/mail/worker.ts). */
  waiting: boolean;
  /**
   * The PDF of the run's accounts without an address, and (while waiting) of all its accounts, as the POST
   * download's URL and fields (post-download.ts); null when unknown.
   */
  noEmailPdf: PdfLink | null;
  allPdf: PdfLink | null;
}

export interface PdfLink {
  action: string;
  params: URLSearchParams;
}

/** One run: state, progress (polled by console.js while running), counts, failures, the PDFs to print. */
export function runReportView(env: ViewEnv, { run: r, waiting, noEmailPdf, allPdf }: RunReportData): SafeHtml {
  const lang = env.lang;
  const _ = translator(lang);
  const running = r.pending > 0 && !waiting;
  const done = r.sent + r.failed;
  const rate = r.queued ? done / r.queued : 1;
  const stat = (key: keyof typeof RUN_LABELS, n: number, cls: string) =>
    html`<div class="stat ${cls}"><span class="stat-value" data-run="${key}">${formatNumber(lang, n)}</span><span class="stat-label">${_(RUN_LABELS[key])}</span></div>`;
  return html`${scriptMessages(lang, ['run.status.running', 'run.status.done'])}
<div class="card run-report" data-run-status="/api/console/envois/${r.runId}" data-running="${running ? '1' : '0'}">
  <p class="run-meta muted">${_('run.meta', { date: dateTime(lang, r.createdAt), actor: r.actorName ?? '—' })}</p>
  <p class="run-state${waiting ? ' notice notice-error' : ''}" role="status" aria-live="polite" data-run-state${waiting ? html` data-no-smtp` : ''}>${
    waiting ? _('run.status.noSmtp') : running ? _('run.status.running') : _('run.status.done')
  }</p>
  ${allPdf ? html`<p>${downloadForm(env, { ...allPdf, label: plural(lang, 'run.noSmtp.pdf', r.selected), attrs: html` data-all-pdf` })}</p>` : ''}
  <div class="progress" role="progressbar" aria-valuemin="0" aria-valuemax="${r.queued}" aria-valuenow="${done}" aria-label="${_('run.progress')}" data-run-progress>
    <span class="progress-fill" style="width: ${(Math.round(rate * 1000) / 10).toString()}%"></span></div>
  <div class="stats">
    ${stat('sent', r.sent, 'stat-success')}
    ${stat('failed', r.failed, r.failed ? 'stat-danger' : '')}
    ${stat('pending', r.pending, '')}
    ${stat('withoutEmail', r.withoutEmail, '')}
  </div>
  <p>${_('run.summary', { selected: formatNumber(lang, r.selected), queued: formatNumber(lang, r.queued) })}</p>
  ${noEmailPdf ? html`<p>${downloadForm(env, { ...noEmailPdf, label: plural(lang, 'send.noEmailPdf', r.withoutEmail), attrs: html` class="button-secondary" data-no-email-pdf` })}</p>` : ''}
  <p class="run-refresh"><a href="/console/envois/${r.runId}">${_('run.refresh')}</a></p>
</div>
${
  r.failures.length
    ? html`<h2>${_('run.failures')}</h2><div class="table-wrap"><table>
  <thead><tr><th scope="col">${_('run.col.name')}</th><th scope="col">${_('col.login')}</th><th scope="col">${_('run.col.recipient')}</th><th scope="col">${_('run.col.error')}</th></tr></thead>
  <tbody>${r.failures.map((f) => html`<tr><td>${f.name ?? '—'}</td><td>${f.login ? html`<code>${f.login}</code>` : '—'}</td><td>${f.recipient}</td><td>${f.error}</td></tr>`)}</tbody>
</table></div>`
    : ''
}`;
}

/** A school's runs, newest first; `publipostage` is where to start one when there is none. */
export function runsListView(lang: Lang, runs: MailRunSummary[], publipostage: string): SafeHtml {
  const _ = translator(lang);
  return runs.length === 0
    ? html`<p class="card">${_('runs.none')} <a href="${publipostage}">${_('runs.start')}</a></p>`
    : html`<div class="table-wrap"><table class="runs-table">
  <thead><tr><th scope="col">${_('runs.col.date')}</th><th scope="col">${_('runs.col.actor')}</th><th scope="col" class="num">${_('runs.col.selected')}</th>
    <th scope="col" class="num">${_('run.sent')}</th><th scope="col" class="num">${_('run.failed')}</th><th scope="col" class="num">${_('run.pending')}</th>
    <th scope="col" class="num">${_('run.withoutEmail')}</th><th scope="col"><span class="visually-hidden">${_('runs.col.report')}</span></th></tr></thead>
  <tbody>${runs.map(
    (r) => html`<tr>
    <td>${dateTime(lang, r.createdAt)}</td><td>${r.actorName ?? '—'}</td><td class="num">${formatNumber(lang, r.selected)}</td>
    <td class="num">${formatNumber(lang, r.sent)}</td><td class="num">${r.failed ? html`<span class="badge badge-danger">${formatNumber(lang, r.failed)}</span>` : '0'}</td>
    <td class="num">${formatNumber(lang, r.pending)}</td><td class="num">${formatNumber(lang, r.withoutEmail)}</td>
    <td><a href="/console/envois/${r.runId}">${_('runs.open')}</a></td>
  </tr>`,
  )}</tbody>
</table></div>`;
}
