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
import { translator } from '../i18n/index.js';
import { IdParams } from '../input.js';
import { viewEnv } from '../view.js';
import { schoolBase, schoolOr404, sendConsolePage, type School } from './frame.js';
import { parseSelection, selectionParams } from './selection.js';
import { type PdfLink, runReportView, runsListView } from './views/runs.js';

const RunParams = z.object({ runId: z.string().max(100) });

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
    const r = await pool.query(`SELECT s.id, s.name, s.uai, m.filters FROM mail_runs m LEFT JOIN structures s ON s.id = m.structure_ids[1] WHERE m.id = $1`, [runId]);
    const row = r.rows[0];
    if (!row) return { school: null, filters: null };
    const school = row.id && structureInScope(scope, row.id) ? { id: row.id, name: row.name, uai: row.uai } : null;
    return { school, filters: row.filters };
  }

  app.get('/envois/:runId', { schema: { params: RunParams } }, async (req, reply) => {
    const _ = translator(req.lang);
    const { scope } = viewer(req);
    const r = await runOr404(ctx, scope, req.params.runId);
    const { school, filters } = await runContext(scope, r.runId);
    // Without SMTP_URL the worker sends nothing (src/mail/worker.ts): the mails wait in the queue, and the page
    // says so and what to do, rather than "Envoi en cours…" for ever.
    const waiting = r.pending > 0 && !ctx.config.smtpUrl;
    let noEmailPdf: PdfLink | null = null;
    let allPdf: PdfLink | null = null;
    if (school && filters) {
      const { selection } = parseSelection(Object.fromEntries(Object.entries(filters).map(([k, v]) => [k, Array.isArray(v) ? v.map(String) : String(v ?? '')])), school.id);
      const action = `${ppBase(school.id)}/pdf`;
      if (r.withoutEmail > 0) noEmailPdf = { action, params: selectionParams({ ...selection, email: 'without' }) };
      if (waiting) allPdf = { action, params: selectionParams(selection) };
    }
    return sendConsolePage(reply, {
      req,
      title: _('run.title'),
      school,
      section: school ? 'io' : undefined,
      ioTab: 'runs',
      crumbs: school ? [{ href: `${schoolBase(school.id)}/envois`, label: _('console.io.runs') }] : [],
      body: runReportView(viewEnv(req), { run: r, waiting, noEmailPdf, allPdf }),
    });
  });

  app.get('/etablissements/:id/envois', { schema: { params: IdParams } }, async (req, reply) => {
    const _ = translator(req.lang);
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
      body: runsListView(req.lang, runs, ppBase(school.id)),
    });
  });
}
