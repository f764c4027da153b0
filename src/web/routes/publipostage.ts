// Publipostage API: preview of a selection, connection sheets (PDF) and account list (CSV), each within the
// caller's scope (super admin: all; local admin: their structures; teacher: their classes' students and parents).
// The selection comes as query parameters (SelectionSchema: lists comma-separated, e.g. profiles=Student,Relative).
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { z } from 'zod';
import type { AppContext } from '../../context.js';
import { previewRow } from '../../publipostage/format.js';
import { exportSelection, type ExportFormat } from '../../publipostage/generate.js';
import type { SheetModel } from '../../publipostage/pdf.js';
import { countSelection, leftOutOf, selectPage } from '../../publipostage/select.js';
import { leftOutLines } from './distribution-view.js';
import { SelectionSchema, type Selection } from '../../publipostage/selection.js';
import { allInScope } from '../../directory/users.js';
import { requireRole, scopeOf } from '../auth.js';

const PageSchema = z.object({
  limit: z.coerce.number().int().min(1).max(500).default(50),
  offset: z.coerce.number().int().min(0).default(0),
});
const ModelSchema = z.object({ model: z.enum(['1', '2', '8']).default('1') });

const MESSAGES = {
  fr: { invalid: (field: string, msg: string) => `Paramètre « ${field} » invalide : ${msg}` },
  en: { invalid: (field: string, msg: string) => `Invalid parameter “${field}”: ${msg}` },
};
const NOT_FOUND = { fr: 'Compte introuvable.', en: 'Account not found.' };

/** Parses the query with `schema`, or answers 400 naming the parameter. */
function parse<T extends z.ZodTypeAny>(schema: T, req: FastifyRequest, reply: FastifyReply): z.infer<T> | undefined {
  const res = schema.safeParse(req.query ?? {});
  if (res.success) return res.data;
  const issue = res.error.issues[0];
  void reply.code(400).send({ error: MESSAGES[req.lang ?? 'fr'].invalid(String(issue.path[0] ?? ''), issue.message) });
  return undefined;
}

export default async function publipostageRoutes(app: FastifyInstance, ctx: AppContext): Promise<void> {
  const guard = { preHandler: requireRole('superadmin', 'localadmin', 'teacher') };

  /** The selection of the query; explicitly named accounts must all be visible to the caller, else 404. */
  async function selectionOf(req: FastifyRequest, reply: FastifyReply): Promise<Selection | undefined> {
    const selection: Selection | undefined = parse(SelectionSchema, req, reply);
    if (!selection) return undefined;
    if (selection.userIds.length && !(await allInScope(ctx.database.pool, scopeOf(req.user!), selection.userIds))) {
      void reply.code(404).send({ error: NOT_FOUND[req.lang ?? 'fr'] });
      return undefined;
    }
    return selection;
  }

  app.get('/api/publipostage/preview', guard, async (req, reply) => {
    const selection = await selectionOf(req, reply);
    if (!selection) return reply;
    const page = parse(PageSchema, req, reply);
    if (!page) return reply;
    const scope = scopeOf(req.user!);
    const [counts, rows, leftOut] = await Promise.all([
      countSelection(ctx, selection, scope), selectPage(ctx, selection, scope, page), leftOutOf(ctx, selection, scope),
    ]);
    return reply.header('cache-control', 'no-store').send({
      ...counts, leftOut, leftOutLines: leftOutLines(req.lang ?? 'fr', leftOut), limit: page.limit, offset: page.offset, rows: rows.map(previewRow),
    });
  });

  const download = (format: ExportFormat) => async (req: FastifyRequest, reply: FastifyReply) => {
    const selection = await selectionOf(req, reply);
    if (!selection) return reply;
    const m = format === 'pdf' ? parse(ModelSchema, req, reply) : { model: '1' as const };
    if (!m) return reply;
    const result = await exportSelection(ctx, {
      format,
      selection,
      scope: scopeOf(req.user!),
      actorId: req.user!.id,
      model: Number(m.model) as SheetModel,
      lang: req.lang,
      via: 'http',
    });
    return reply
      .header('content-disposition', `attachment; filename="${result.filename}"`)
      .header('cache-control', 'no-store')
      .header('x-account-count', String(result.count))
      .type(result.contentType)
      .send(result.body);
  };
  app.get('/api/publipostage/pdf', guard, download('pdf'));
  app.get('/api/publipostage/csv', guard, download('csv'));
}
