// Console › Imports/Exports › "Envois": the report of one mail run (progress polled from /api/console/envois/:id,
// failures, the PDF of the accounts without an address) and the list of a school's past runs.
import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import type { AppContext } from '../../context.js';
import type { Scope } from '../../directory/scope.js';
import { isUuid, structureInScope } from '../../directory/users.js';
import { listMailRuns, mailRunReport } from '../../mail/merge.js';
import { typed } from '../area.js';
import { HttpError, viewer } from '../context.js';
import { html } from '../html.js';
import { translator } from '../i18n/index.js';
import { IdParams } from '../input.js';
import { dateTime, formatNumber, plural, schoolBase, schoolOr404, scriptMessages, sendConsolePage, type School } from './frame.js';
import { parseSelection, selectionParams } from './selection.js';

const RunParams = z.object({ runId: z.string().max(100) });
const RUN_LABELS = { sent: 'run.sent', failed: 'run.failed', pending: 'run.pending', withoutEmail: 'run.withoutEmail' } as const;

/** A mail run the scope may see, with its counts and failures; 404 otherwise. */
export async function runOr404(ctx: AppContext, scope: Scope, runId: string): Promise<NonNullable<Awaited<ReturnType<typeof mailRunReport>>>> {
  const report = isUuid(runId) ? await mailRunReport(ctx, runId, scope) : null;
  if (!report) throw new HttpError(404, 'run.notFound');
  return report;
}

export default async function runs(root: FastifyInstance, ctx: AppContext): Promise<void> {
  const app = typed(root);
  const pool = ctx.database.pool;
  const ppBase = (id: string) => `${schoolBase(id)}/publipostage`;

  /** The run's school (first structure it concerns, if the caller administers it) and its filters. */
  async function runContext(scope: Scope, runId: string): Promise<{ school: School | null; filters: Record<string, unknown> | null }> {
    const r = await pool.query(
      `SELECT s.id, s.name, s.uai, m.filters FROM mail_runs m LEFT JOIN structures s ON s.id = m.structure_ids[1] WHERE m.id = $1`,
      [runId],
    );
    const row = r.rows[0];
    if (!row) return { school: null, filters: null };
    const school = row.id && structureInScope(scope, row.id) ? { id: row.id, name: row.name, uai: row.uai } : null;
    return { school, filters: row.filters };
  }

  app.get('/envois/:runId', { schema: { params: RunParams } }, async (req, reply) => {
    const lang = req.lang;
    const _ = translator(lang);
    const { scope } = viewer(req);
    const r = await runOr404(ctx, scope, req.params.runId);
    const { school, filters } = await runContext(scope, r.runId);
    // Without SMTP_URL the worker sends nothing (src/mail/worker.ts): the mails wait in the queue, and the page
    // says so and what to do, rather than "Envoi en cours…" for ever.
    const waiting = r.pending > 0 && !ctx.config.smtpUrl;
    const running = r.pending > 0 && !waiting;
    const done = r.sent + r.failed;
    const rate = r.queued ? done / r.queued : 1;
    let noEmailPdf: string | null = null;
    let allPdf: string | null = null;
    if (school && filters) {
      const { selection } = parseSelection(
        Object.fromEntries(Object.entries(filters).map(([k, v]) => [k, Array.isArray(v) ? v.map(String) : String(v ?? '')])),
        school.id,
      );
      if (r.withoutEmail > 0) noEmailPdf = `${ppBase(school.id)}/pdf?${selectionParams({ ...selection, email: 'without' })}`;
      if (waiting) allPdf = `${ppBase(school.id)}/pdf?${selectionParams(selection)}`;
    }
    const stat = (key: keyof typeof RUN_LABELS, n: number, cls: string) =>
      html`<div class="stat ${cls}"><span class="stat-value" data-run="${key}">${formatNumber(lang, n)}</span><span class="stat-label">${_(RUN_LABELS[key])}</span></div>`;
    return sendConsolePage(reply, {
      req,
      title: _('run.title'),
      school,
      section: school ? 'io' : undefined,
      ioTab: 'runs',
      crumbs: school ? [{ href: `${schoolBase(school.id)}/envois`, label: _('console.io.runs') }] : [],
      body: html`${scriptMessages(lang, ['run.status.running', 'run.status.done'])}
<div class="card run-report" data-run-status="/api/console/envois/${r.runId}" data-running="${running ? '1' : '0'}">
  <p class="run-meta muted">${_('run.meta', { date: dateTime(lang, r.createdAt), actor: r.actorName ?? '—' })}</p>
  <p class="run-state${waiting ? ' notice notice-error' : ''}" role="status" aria-live="polite" data-run-state${waiting ? html` data-no-smtp` : ''}>${
    waiting ? _('run.status.noSmtp') : running ? _('run.status.running') : _('run.status.done')}</p>
  ${allPdf ? html`<p><a class="button" href="${allPdf}" data-all-pdf>${plural(lang, 'run.noSmtp.pdf', r.selected)}</a></p>` : ''}
  <div class="progress" role="progressbar" aria-valuemin="0" aria-valuemax="${r.queued}" aria-valuenow="${done}" aria-label="${_('run.progress')}" data-run-progress>
    <span class="progress-fill" style="width: ${(Math.round(rate * 1000) / 10).toString()}%"></span></div>
  <div class="stats">
    ${stat('sent', r.sent, 'stat-success')}
    ${stat('failed', r.failed, r.failed ? 'stat-danger' : '')}
    ${stat('pending', r.pending, '')}
    ${stat('withoutEmail', r.withoutEmail, '')}
  </div>
  <p>${_('run.summary', { selected: formatNumber(lang, r.selected), queued: formatNumber(lang, r.queued) })}</p>
  ${noEmailPdf ? html`<p><a class="button button-secondary" href="${noEmailPdf}">${plural(lang, 'send.noEmailPdf', r.withoutEmail)}</a></p>` : ''}
  <p class="run-refresh"><a href="/console/envois/${r.runId}">${_('run.refresh')}</a></p>
</div>
${r.failures.length ? html`<h2>${_('run.failures')}</h2><div class="table-wrap"><table>
  <thead><tr><th scope="col">${_('run.col.name')}</th><th scope="col">${_('col.login')}</th><th scope="col">${_('run.col.recipient')}</th><th scope="col">${_('run.col.error')}</th></tr></thead>
  <tbody>${r.failures.map((f) => html`<tr><td>${f.name ?? '—'}</td><td>${f.login ? html`<code>${f.login}</code>` : '—'}</td><td>${f.recipient}</td><td>${f.error}</td></tr>`)}</tbody>
</table></div>` : ''}`,
    });
  });

  app.get('/etablissements/:id/envois', { schema: { params: IdParams } }, async (req, reply) => {
    const lang = req.lang;
    const _ = translator(lang);
    const school = await schoolOr404(ctx, viewer(req).scope, req.params.id);
    // Runs about this school only: the caller administers it, so this never widens its scope.
    const runs = await listMailRuns(ctx, { kind: 'structures', structureIds: [school.id] }, 100);
    return sendConsolePage(reply, {
      req,
      title: _('console.io.runs'),
      school,
      section: 'io',
      ioTab: 'runs',
      lead: _('runs.lead'),
      body: runs.length === 0
        ? html`<p class="card">${_('runs.none')} <a href="${ppBase(school.id)}">${_('runs.start')}</a></p>`
        : html`<div class="table-wrap"><table class="runs-table">
  <thead><tr><th scope="col">${_('runs.col.date')}</th><th scope="col">${_('runs.col.actor')}</th><th scope="col" class="num">${_('runs.col.selected')}</th>
    <th scope="col" class="num">${_('run.sent')}</th><th scope="col" class="num">${_('run.failed')}</th><th scope="col" class="num">${_('run.pending')}</th>
    <th scope="col" class="num">${_('run.withoutEmail')}</th><th scope="col"><span class="visually-hidden">${_('runs.col.report')}</span></th></tr></thead>
  <tbody>${runs.map((r) => html`<tr>
    <td>${dateTime(lang, r.createdAt)}</td><td>${r.actorName ?? '—'}</td><td class="num">${formatNumber(lang, r.selected)}</td>
    <td class="num">${formatNumber(lang, r.sent)}</td><td class="num">${r.failed ? html`<span class="badge badge-danger">${formatNumber(lang, r.failed)}</span>` : '0'}</td>
    <td class="num">${formatNumber(lang, r.pending)}</td><td class="num">${formatNumber(lang, r.withoutEmail)}</td>
    <td><a href="/console/envois/${r.runId}">${_('runs.open')}</a></td>
  </tr>`)}</tbody>
</table></div>`,
    });
  });
}
