// Sheets (PDF) and account lists (CSV) answered as downloads, for the console and the API alike.
import type { FastifyReply } from 'fastify';
import type { AppContext } from '../context.js';
import { exportSelection, type ExportRequest } from '../publipostage/generate.js';
import { countSelection } from '../publipostage/select.js';
import { HttpError } from './context.js';
import { attachment } from './input.js';

/**
 * Generates the selection's file (audited, fresh codes issued: generate.ts) and sends it as an attachment with
 * `x-account-count`. A selection of no account is refused with 422 `error.emptySelection` (a page or JSON, as
 * the area answers) before anything is generated or audited: a blank PDF helps nobody, and the screens already
 * disable their buttons at 0. The CLI keeps writing empty files (a nightly export of "new accounts" may be empty).
 */
export async function sendExport(ctx: AppContext, reply: FastifyReply, request: ExportRequest & { via: 'http' }): Promise<FastifyReply> {
  const { total } = await countSelection(ctx, request.selection, request.scope);
  if (total === 0) throw new HttpError(422, 'error.emptySelection');
  const result = await exportSelection(ctx, { ...request, total });
  return reply
    .header('content-disposition', attachment(result.filename))
    .header('cache-control', 'no-store')
    .header('x-account-count', String(result.count))
    .type(result.contentType)
    .send(result.body);
}
