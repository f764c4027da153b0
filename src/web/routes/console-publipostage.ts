// Console › Imports/Exports › "Publipostage des comptes": filters, live preview with counters that explain
// themselves, sort and PDF model, "Générer en PDF", "Exporter en CSV", "Envoyer par mail" (through a
// confirmation page that says how many mails go out and offers the PDF of the accounts without an address),
// the mail run report and the list of past runs.
//
// Without JavaScript everything is one GET form: "Filtrer" reloads the page, the three launch buttons submit
// the same fields to their own URL (formaction). console.js only refreshes the preview from
// /api/publipostage/preview as the filters change.
import { randomUUID } from 'node:crypto';
import type { FastifyInstance, FastifyReply, FastifyRequest, RouteShorthandOptions } from 'fastify';
import { formatCode } from '../../accounts/codes.js';
import type { AppContext } from '../../context.js';
import type { Scope } from '../../directory/scope.js';
import { listClasses, listLevels, type ClassRow, type LevelRow } from '../../directory/structures.js';
import { isUuid, structureInScope } from '../../directory/users.js';
import { listMailRuns, mailRunReport, startMailMerge, type MailRunSummary } from '../../mail/merge.js';
import { frenchDate } from '../../publipostage/format.js';
import { describeSelection, exportSelection } from '../../publipostage/generate.js';
import type { SheetModel } from '../../publipostage/pdf.js';
import { countSelection, leftOutOf } from '../../publipostage/select.js';
import type { LeftOut } from '../../publipostage/distribution.js';
import { leftOutList } from './distribution-view.js';
import type { AccountRow, Selection } from '../../publipostage/selection.js';
import { scopeOf } from '../auth.js';
import { csrfField } from '../forms.js';
import { html, type SafeHtml } from '../html.js';
import { translator, type Lang } from '../i18n/index.js';
import { attachment, formValue, queryValue } from './classe.js';
import {
  ConsoleNotFound, dateTime, filterPanel, formatNumber, pager, parseSelection, plural, pluralHtml, schoolBase,
  schoolOr404, scriptMessages, selectionParams, sendConsolePage, loadSelectionScreen, LIST_PAGE_SIZE, type School,
} from './console-shared.js';
import { userHref } from './console-users.js';

const MODELS = ['1', '2', '8'] as const;
type Model = (typeof MODELS)[number];

function modelOf(req: FastifyRequest): Model {
  const m = queryValue(req, 'model');
  return (MODELS as readonly string[]).includes(m) ? (m as Model) : '1';
}

/** Messages console.js needs to redraw the counters and the table in the page's language. */
const SCRIPT_KEYS = [
  'pp.total.one', 'pp.total.other', 'pp.noEmail.one', 'pp.noEmail.other', 'pp.explain.mail.one', 'pp.explain.mail.other',
  'pp.explain.paper.one', 'pp.explain.paper.other', 'pp.explain.active.one', 'pp.explain.active.other', 'pp.explain.none',
  'pager.range', 'pager.prev', 'pager.next', 'state.activated', 'state.codeExpired', 'state.noCode', 'state.blocked', 'state.preDeleted', 'state.localAdmin',
  'col.noEmail', 'pp.loading', 'pp.error', 'filters.none', 'filters.active.one', 'filters.active.other',
  'console.profiles.Student', 'console.profiles.Relative', 'console.profiles.Teacher', 'console.profiles.Personnel', 'console.profiles.Guest',
  'run.status.running', 'run.status.done',
];

interface Counts {
  total: number;
  withoutEmail: number;
  /** Already activated accounts in the selection (they get renewal instructions, no code). */
  active: number;
  /** Who the distribution rules left out, and why. */
  leftOut: LeftOut;
}

async function countAll(ctx: AppContext, sel: Selection, scope: Scope): Promise<Counts> {
  const [c, a, leftOut] = await Promise.all([
    countSelection(ctx, sel, scope),
    sel.activation === 'inactive' ? Promise.resolve({ total: 0 }) : countSelection(ctx, { ...sel, activation: 'active' }, scope),
    leftOutOf(ctx, sel, scope),
  ]);
  return { ...c, active: a.total, leftOut };
}

/** "N comptes sélectionnés au total", "N comptes sans adresse courriel", then what that means for each mode. */
function counters(lang: Lang, c: Counts): SafeHtml {
  const _ = translator(lang);
  const withEmail = c.total - c.withoutEmail;
  return html`<div class="counters" data-counters role="status" aria-live="polite" aria-atomic="true">
  <p class="counter counter-total" data-counter="total">${pluralHtml(lang, 'pp.total', c.total)}</p>
  <p class="counter counter-noemail" data-counter="withoutEmail">${pluralHtml(lang, 'pp.noEmail', c.withoutEmail)}</p>
  <ul class="explain" data-counter="explain">${c.total === 0
    ? html`<li>${_('pp.explain.none')}</li>`
    : html`<li>${pluralHtml(lang, 'pp.explain.mail', withEmail)}</li>${c.withoutEmail ? html`<li>${pluralHtml(lang, 'pp.explain.paper', c.withoutEmail)}</li>` : ''}${
      c.active ? html`<li>${pluralHtml(lang, 'pp.explain.active', c.active)}</li>` : ''}`}</ul>
  ${leftOutList(lang, c.leftOut)}
</div>`;
}

function codeCell(lang: Lang, r: AccountRow): SafeHtml {
  const _ = translator(lang);
  if (r.externalProvider) return html`<span class="badge badge-info">${r.externalProvider}</span>`;
  if (r.activated) return html`<span class="badge badge-success">${_('state.activated')}</span>`;
  if (r.code) return html`<code class="activation-code">${formatCode(r.code)}</code>`;
  return r.codeExpired ? html`<span class="badge badge-danger">${_('state.codeExpired')}</span>` : html`<span class="badge">${_('state.noCode')}</span>`;
}

function previewTable(lang: Lang, rows: AccountRow[], school: School): SafeHtml {
  const _ = translator(lang);
  return html`<div class="table-wrap preview-wrap"><table class="preview-table" data-preview>
  <caption class="visually-hidden">${_('pp.preview.caption')}</caption>
  <thead><tr><th scope="col">${_('col.lastName')}</th><th scope="col">${_('col.firstName')}</th><th scope="col">${_('col.profile')}</th>
    <th scope="col">${_('col.login')}</th><th scope="col">${_('col.code')}</th><th scope="col">${_('col.email')}</th>
    <th scope="col">${_('col.class')}</th><th scope="col">${_('col.created')}</th></tr></thead>
  <tbody data-preview-body>${rows.map((r) => html`<tr data-login="${r.login}">
    <td><a href="${userHref(r.id, school)}">${r.lastName}</a>${r.blocked ? html` <span class="badge badge-danger">${_('state.blocked')}</span>` : ''}${
      r.preDeleted ? html` <span class="badge badge-warning">${_('state.preDeleted')}</span>` : ''}${
      r.isLocalAdmin ? html` <span class="badge badge-info">${_('state.localAdmin')}</span>` : ''}</td>
    <td>${r.firstName}</td><td>${_(`console.profiles.${r.profile}`)}</td><td><code>${r.login}</code></td>
    <td>${codeCell(lang, r)}</td>
    <td>${r.email ? r.email : html`<span class="muted">—<span class="visually-hidden"> ${_('col.noEmail')}</span></span>`}</td>
    <td>${r.classes.join(', ')}</td><td>${frenchDate(r.createdAt)}</td>
  </tr>`)}</tbody>
</table></div>`;
}

/** The filters in words, for the confirmation page ("Profils : Élève · Classes : 6e A · Comptes non activés"). */
function describe(lang: Lang, sel: Selection, classes: ClassRow[], levels: LevelRow[]): string[] {
  const _ = translator(lang);
  const colon = lang === 'fr' ? ' : ' : ': ';
  const out: string[] = [];
  if (sel.profiles.length) out.push(`${_('filters.profiles')}${colon}${sel.profiles.map((p) => _(`console.profiles.${p}`)).join(', ')}`);
  if (sel.levelIds.length) out.push(`${_('filters.levels')}${colon}${levels.filter((l) => sel.levelIds.includes(l.id)).map((l) => l.name).join(', ')}`);
  if (sel.classIds.length) out.push(`${_('filters.classes')}${colon}${classes.filter((c) => sel.classIds.includes(c.id)).map((c) => c.name).join(', ')}`);
  for (const k of ['activation', 'email', 'localAdmins', 'origin'] as const) if (sel[k] !== 'all') out.push(_(`filters.${k}.${sel[k]}`));
  if (sel.preDeletion !== 'not') out.push(`${_('filters.preDeletion')}${colon}${_(`filters.preDeletion.${sel.preDeletion}`)}`);
  if (sel.blocked !== 'exclude') out.push(`${_('filters.blocked')}${colon}${_(`filters.blocked.${sel.blocked}`)}`);
  if (sel.external !== 'exclude') out.push(`${_('filters.external')}${colon}${_(`filters.external.${sel.external}`)}`);
  if (sel.createdAfter) out.push(`${_('filters.createdAfter')} ${sel.createdAfter.split('-').reverse().join('/')}`);
  if (sel.createdBefore) out.push(`${_('filters.createdBefore')} ${sel.createdBefore.split('-').reverse().join('/')}`);
  if (sel.search?.trim()) out.push(`${_('filters.search')}${colon}« ${sel.search.trim()} »`);
  return out;
}

export function registerPublipostage(app: FastifyInstance, ctx: AppContext, guard: RouteShorthandOptions): void {
  const pool = ctx.database.pool;
  const ppBase = (id: string) => `${schoolBase(id)}/publipostage`;

  // ------------------------------------------------------------------------------------------ the screen

  app.get<{ Params: { id: string } }>('/console/etablissements/:id/publipostage', guard, async (req, reply) => {
    const lang = req.lang;
    const _ = translator(lang);
    const school = await schoolOr404(ctx, req, req.params.id);
    const { selection, invalid, offset, classes, levels, counts, rows } = await loadSelectionScreen(ctx, req, school.id, countAll);
    const model = modelOf(req);
    const base = ppBase(school.id);
    const params = selectionParams(selection);
    if (model !== '1') params.set('model', model);

    const launch = html`<div class="card launch-bar">
  <div class="field"><label for="f-sort">${_('pp.sort')}</label>
    <select id="f-sort" name="sort">${(['alpha', 'profile', 'class'] as const).map((s) => html`<option value="${s}"${selection.sort === s ? html` selected` : ''}>${_(`sort.${s}`)}</option>`)}</select>
    <p class="hint">${_('pp.sort.hint')}</p></div>
  <div class="field"><label for="f-model">${_('pp.model')}</label>
    <select id="f-model" name="model">${MODELS.map((m) => html`<option value="${m}"${model === m ? html` selected` : ''}>${_(`pp.model.${m}`)}</option>`)}</select>
    <p class="hint">${_('pp.model.hint')}</p></div>
  <div class="launch"><p class="launch-label" id="launch-label">${_('pp.launch')}</p>
    <div class="launch-buttons" role="group" aria-labelledby="launch-label">
      <button type="submit" formaction="${base}/pdf" data-launch="pdf">${_('pp.pdf')}</button>
      <button type="submit" formaction="${base}/csv" class="button-secondary" data-launch="csv">${_('pp.csv')}</button>
      <button type="submit" formaction="${base}/envoi" class="button-secondary" data-launch="mail">${_('pp.mail')}</button>
    </div></div>
</div>`;

    return sendConsolePage(reply, {
      req,
      title: _('console.io.publipostage'),
      school,
      section: 'io',
      ioTab: 'publipostage',
      lead: _('pp.lead'),
      body: html`${scriptMessages(lang, SCRIPT_KEYS)}
${filterPanel({ req, action: base, selection, classes, levels, legend: _('pp.filters'), after: launch, live: { structureId: school.id }, invalid })}
<section class="preview" aria-labelledby="preview-title" data-preview-section>
  <h2 id="preview-title">${_('pp.preview')}</h2>
  ${counters(lang, counts)}
  <p class="preview-status muted" data-preview-status aria-live="polite"></p>
  ${previewTable(lang, rows, school)}
  ${pager(lang, base, params, offset, LIST_PAGE_SIZE, counts.total)}
</section>`,
    });
  });

  // ------------------------------------------------------------------------------------------ downloads

  for (const format of ['pdf', 'csv'] as const) {
    app.get<{ Params: { id: string } }>(`/console/etablissements/:id/publipostage/${format}`, guard, async (req, reply) => {
      const school = await schoolOr404(ctx, req, req.params.id);
      const { selection } = parseSelection(req.query, school.id);
      const result = await exportSelection(ctx, {
        format,
        selection,
        scope: scopeOf(req.user!),
        actorId: req.user!.id,
        model: Number(modelOf(req)) as SheetModel,
        lang: req.lang,
        via: 'http',
      });
      return reply
        .header('content-disposition', attachment(result.filename))
        .header('cache-control', 'no-store')
        .header('x-account-count', String(result.count))
        .type(result.contentType)
        .send(result.body);
    });
  }

  // ------------------------------------------------------------------------------------------ "Envoyer par mail"

  app.get<{ Params: { id: string } }>('/console/etablissements/:id/publipostage/envoi', guard, async (req, reply) => {
    const lang = req.lang;
    const _ = translator(lang);
    const school = await schoolOr404(ctx, req, req.params.id);
    const scope = scopeOf(req.user!);
    const { selection } = parseSelection(req.query, school.id);
    const model = modelOf(req);
    const [classes, levels, c] = await Promise.all([
      listClasses(ctx, scope, school.id),
      listLevels(ctx, scope, school.id),
      countAll(ctx, selection, scope),
    ]);
    const base = ppBase(school.id);
    const params = selectionParams(selection);
    const back = new URLSearchParams(params);
    if (model !== '1') back.set('model', model);
    const noEmailPdf = new URLSearchParams(params);
    noEmailPdf.set('email', 'without');
    noEmailPdf.set('model', model);
    const mails = c.total - c.withoutEmail;
    const filters = describe(lang, selection, classes, levels);
    const content = await describeSelection(ctx, selection);
    return sendConsolePage(reply, {
      req,
      title: _('send.title'),
      school,
      section: 'io',
      ioTab: 'publipostage',
      crumbs: [{ href: `${base}?${back}`, label: _('console.io.publipostage') }],
      body: html`<div class="card send-confirm">
  <p class="send-headline" data-mails="${mails}">${mails ? pluralHtml(lang, 'send.mails', mails) : _('send.noMails')}</p>
  <p class="send-content" data-content>${_('send.content', { label: content.text })}</p>
  ${leftOutList(lang, c.leftOut)}
  <ul class="send-facts">
    <li data-fact="total">${pluralHtml(lang, 'pp.total', c.total)}</li>
    <li data-fact="withoutEmail">${pluralHtml(lang, 'send.withoutEmail', c.withoutEmail)}${c.withoutEmail
      ? html` <a class="button button-secondary button-small" href="${`${base}/pdf?${noEmailPdf}`}" data-no-email-pdf>${plural(lang, 'send.noEmailPdf', c.withoutEmail)}</a>`
      : ''}</li>
    ${c.active ? html`<li>${pluralHtml(lang, 'pp.explain.active', c.active)}</li>` : ''}
    ${c.total - c.active > 0 && mails ? html`<li>${_('send.codes')}</li>` : ''}
  </ul>
  <p class="muted">${filters.length ? html`${_('send.filters')} ${filters.join(' · ')}` : _('send.noFilter')}</p>
  ${mails
    ? html`<form method="post" action="${base}/envoi" data-once>${csrfField(req)}
    <input type="hidden" name="selection" value="${params.toString()}">
    <input type="hidden" name="idem" value="${randomUUID()}">
    <div class="actions"><button type="submit">${plural(lang, 'send.confirm', mails)}</button>
      <a href="${`${base}?${back}`}">${_('send.back')}</a></div>
  </form>`
    : html`<p><a href="${`${base}?${back}`}">${_('send.back')}</a></p>`}
</div>`,
    });
  });

  app.post<{ Params: { id: string } }>('/console/etablissements/:id/publipostage/envoi', guard, async (req, reply) => {
    const school = await schoolOr404(ctx, req, req.params.id);
    const fields: Record<string, string[]> = {};
    for (const [k, v] of new URLSearchParams(formValue(req, 'selection'))) (fields[k] ??= []).push(v);
    const { selection } = parseSelection(fields, school.id);
    // The form's key: submitting it again (double click, back and resubmit) gives the same run.
    const run = await startMailMerge(ctx, selection, scopeOf(req.user!), req.user!.id, { idempotencyKey: formValue(req, 'idem') });
    return reply.redirect(`/console/envois/${run.runId}`, 303);
  });

  // ------------------------------------------------------------------------------------------ mail runs

  /** The run's school (first structure it concerns, if the caller administers it) and its filters. */
  async function runContext(req: FastifyRequest, runId: string): Promise<{ school: School | null; filters: Record<string, unknown> | null }> {
    const r = await pool.query(
      `SELECT s.id, s.name, s.uai, m.filters FROM mail_runs m LEFT JOIN structures s ON s.id = m.structure_ids[1] WHERE m.id = $1`,
      [runId],
    );
    const row = r.rows[0];
    if (!row) return { school: null, filters: null };
    const school = row.id && structureInScope(scopeOf(req.user!), row.id) ? { id: row.id, name: row.name, uai: row.uai } : null;
    return { school, filters: row.filters };
  }

  async function reportOr404(req: FastifyRequest, runId: string) {
    const report = isUuid(runId) ? await mailRunReport(ctx, runId, scopeOf(req.user!)) : null;
    if (!report) throw new ConsoleNotFound(translator(req.lang)('run.notFound'));
    return report;
  }

  const runJson = (r: MailRunSummary) => ({
    runId: r.runId, selected: r.selected, withoutEmail: r.withoutEmail, queued: r.queued, sent: r.sent, failed: r.failed, pending: r.pending,
  });

  app.get<{ Params: { runId: string } }>('/api/console/envois/:runId', guard, async (req, reply) => {
    const report = await reportOr404(req, req.params.runId);
    return reply.header('cache-control', 'no-store').send(runJson(report));
  });

  app.get<{ Params: { runId: string } }>('/console/envois/:runId', guard, async (req, reply: FastifyReply) => {
    const lang = req.lang;
    const _ = translator(lang);
    const r = await reportOr404(req, req.params.runId);
    const { school, filters } = await runContext(req, r.runId);
    const running = r.pending > 0;
    const done = r.sent + r.failed;
    const rate = r.queued ? done / r.queued : 1;
    let noEmailPdf: string | null = null;
    if (school && filters && r.withoutEmail > 0) {
      const { selection } = parseSelection(
        Object.fromEntries(Object.entries(filters).map(([k, v]) => [k, Array.isArray(v) ? v.map(String) : String(v ?? '')])),
        school.id,
      );
      const p = selectionParams({ ...selection, email: 'without' });
      noEmailPdf = `${ppBase(school.id)}/pdf?${p}`;
    }
    const stat = (key: string, n: number, cls: string) =>
      html`<div class="stat ${cls}"><span class="stat-value" data-run="${key}">${formatNumber(lang, n)}</span><span class="stat-label">${_(`run.${key}`)}</span></div>`;
    return sendConsolePage(reply, {
      req,
      title: _('run.title'),
      school,
      section: school ? 'io' : undefined,
      ioTab: 'runs',
      crumbs: school ? [{ href: `${schoolBase(school.id)}/envois`, label: _('console.io.runs') }] : [],
      body: html`${scriptMessages(lang, SCRIPT_KEYS)}
<div class="card run-report" data-run-status="/api/console/envois/${r.runId}" data-running="${running ? '1' : '0'}">
  <p class="run-meta muted">${_('run.meta', { date: dateTime(lang, r.createdAt), actor: r.actorName ?? '—' })}</p>
  <p class="run-state" role="status" aria-live="polite" data-run-state>${running ? _('run.status.running') : _('run.status.done')}</p>
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

  app.get<{ Params: { id: string } }>('/console/etablissements/:id/envois', guard, async (req, reply) => {
    const lang = req.lang;
    const _ = translator(lang);
    const school = await schoolOr404(ctx, req, req.params.id);
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
