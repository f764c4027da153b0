// /api/publipostage: preview of a selection (GET), connection sheets (PDF) and account list (CSV) (POST with the
// session's x-csrf-token header: they issue codes), each within the caller's scope (super admin: all; local
// admin: their structures; teacher: their classes' students and parents).
// The selection comes as query parameters (SelectionSchema: lists comma-separated, e.g. profiles=Student,Relative);
// an invalid one (unknown value, impossible date) is a 400 naming the parameter; a PDF or CSV of no account is a
// 422 (src/web/downloads.ts); a teacher whose school withholds the "sheets" right gets a 403, as in the class view,
// and a preview without codes.
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { z } from 'zod';
import type { AppContext } from '../../context.js';
import { teacherMay } from '../../directory/policies.js';
import { allInScope } from '../../directory/users.js';
import { previewRow } from '../../publipostage/format.js';
import type { ExportFormat } from '../../publipostage/generate.js';
import type { SheetModel } from '../../publipostage/pdf.js';
import { countSelection, cursorOf, isPageCursor, leftOutOf, selectPage } from '../../publipostage/select.js';
import { leftOutLines } from '../console/distribution-view.js';
import { SelectionSchema, type Selection } from '../../publipostage/selection.js';
import { typed } from '../area.js';
import { HttpError, viewer } from '../context.js';
import { sendExport } from '../downloads.js';

const PreviewQuery = SelectionSchema.extend({
  limit: z.coerce.number().int().min(1).max(500).default(50),
  offset: z.coerce.number().int().min(0).default(0),
  /** Keyset pagination: the page right after (before) the row of this cursor (`next` / `prev` of a response). */
  after: z.string().max(2000).optional(),
  before: z.string().max(2000).optional(),
});
/** Query parameters every page of the web layer may carry (the language switch), beside a route's own. */
const WEB_PARAMS = { lang: z.string().max(10).optional() };
const PdfQuery = SelectionSchema.extend({ model: z.enum(['1', '2', '8']).default('1') });

export default async function publipostageApi(root: FastifyInstance, ctx: AppContext): Promise<void> {
  const app = typed(root);

  /** Explicitly named accounts must all be visible to the caller, else 404 (never says which exist). */
  async function checkNamed(req: FastifyRequest, selection: Selection): Promise<void> {
    if (selection.userIds.length && !(await allInScope(ctx.database.pool, viewer(req).scope, selection.userIds))) {
      throw new HttpError(404, 'error.accountNotFound');
    }
  }

  // Strict as the downloads: an unknown filter (the command line's `classes=`) ignored would preview the whole scope.
  app.get('/preview', { schema: { querystring: PreviewQuery.extend(WEB_PARAMS).strict() } }, async (req, reply) => {
    const { limit, offset, after, before, ...selection } = req.query;
    // One direction per page: `before` would otherwise be dropped without a word.
    if (after !== undefined && before !== undefined) throw new HttpError(400, 'error.pageCursorBoth');
    for (const [field, cursor] of [
      ['after', after],
      ['before', before],
    ] as const) {
      if (cursor !== undefined && !isPageCursor(selection.sort, cursor)) throw new HttpError(400, 'error.pageCursor', { field });
    }
    await checkNamed(req, selection);
    const { scope } = viewer(req);
    // One row more than the page says whether there is another page on its far side.
    const backwards = !after && !!before;
    const [counts, rows, leftOut, sheets] = await Promise.all([
      countSelection(ctx, selection, scope),
      selectPage(ctx, selection, scope, { limit: limit + 1, offset, after, before }),
      leftOutOf(ctx, selection, scope),
      sheetsAllowed(req, selection),
    ]);
    const beyond = rows.length > limit;
    const page = beyond ? (backwards ? rows.slice(1) : rows.slice(0, limit)) : rows;
    // Before the page: rows skipped by offset, the row of an `after` cursor, or the extra row of a page before one.
    const hasPrev = backwards ? beyond : !!after || offset > 0;
    // After it: the extra row, or the row of a `before` cursor.
    const hasNext = backwards || beyond;
    return reply.header('cache-control', 'no-store').send({
      ...counts,
      leftOut,
      leftOutLines: leftOutLines(req.lang ?? 'fr', leftOut),
      limit,
      offset,
      // Codes only for whoever may hand them out (the class view's rule: codeCell).
      rows: page.map((r) => previewRow(r, !sheets)),
      // Cursors of the page's last and first rows: `?after=next` is the following page, found through the sort key.
      next: hasNext && page.length ? cursorOf(selection.sort, page[page.length - 1]) : null,
      prev: hasPrev && page.length ? cursorOf(selection.sort, page[0]) : null,
    });
  });

  /**
   * Whether the caller may have this selection's sheets and see its codes: a teacher only where the school grants
   * them the "sheets" right, as in the class view. Checked over the classes the request may reach: those asked for
   * when all are the teacher's (every row is then visible through one of them), else every class of the teacher.
   */
  async function sheetsAllowed(req: FastifyRequest, selection: Selection): Promise<boolean> {
    const { user, scope } = viewer(req);
    if (scope.kind !== 'classes') return true;
    const asked = selection.classIds.length > 0 && selection.classIds.every((id) => scope.classIds.includes(id));
    return teacherMay(ctx.database.pool, user, 'sheets', asked ? selection.classIds : scope.classIds);
  }

  async function download(req: FastifyRequest, reply: FastifyReply, format: ExportFormat, selection: Selection, model: SheetModel) {
    await checkNamed(req, selection);
    const { user, scope } = viewer(req);
    if (!(await sheetsAllowed(req, selection))) throw new HttpError(403, 'classe.forbidden');
    return sendExport(ctx, reply, { format, selection, scope, actorId: user.id, model, via: 'http' });
  }
  // POST (session's x-csrf-token header; the selection stays in the query): each issues codes and records a
  // hand-out (post-download.ts). A GET changes nothing: 405.
  // Strict: a filter name the API does not know (`classes=6A` for `classIds`) is a 400, never ignored — ignored, it
  // would hand out the codes of every account the rest of the selection matches. `lang` is the web layer's own.
  app.post('/pdf', { schema: { querystring: PdfQuery.extend(WEB_PARAMS).strict() } }, async (req, reply) => {
    const { lang: _lang, ...query } = req.query;
    const { model, ...selection } = query;
    return download(req, reply, 'pdf', selection, Number(model) as SheetModel);
  });
  app.post('/csv', { schema: { querystring: SelectionSchema.extend(WEB_PARAMS).strict() } }, async (req, reply) => {
    const { lang: _lang, ...selection } = req.query;
    return download(req, reply, 'csv', selection, 1);
  });
  for (const path of ['/pdf', '/csv']) {
    app.get(path, async (_req, reply) => {
      reply.header('allow', 'POST');
      throw new HttpError(405, 'download.postOnly');
    });
  }
}
