// Sheets (PDF) and account lists (CSV) answered as downloads, for the console and the API alike.
import type { FastifyReply } from 'fastify';
import type { AppContext } from '../context.js';
import { exportSelection, type ExportRequest } from '../publipostage/generate.js';
import { selectionIsEmpty } from '../publipostage/select.js';
import { HttpError } from './context.js';
import { attachment } from './input.js';

/**
 * Generates the selection's file (audited, fresh codes issued: generate.ts) and sends it as an attachment with
 * `x-account-count`. A selection of no account is refused with 422 `error.emptySelection` (a page or JSON, as
 * the area answers) before anything is generated or audited: a blank PDF helps nobody, and the screens already
 * disable their buttons at 0. The CLI keeps writing empty files (a nightly export of "new accounts" may be empty).
 */
export async function sendExport(ctx: AppContext, reply: FastifyReply, request: ExportRequest & { via: 'http' }): Promise<FastifyReply> {
  // Emptiness first (one row found), the count beside the export's first reads (exportSelection): a région's count is a
  // scan of every account, which delayed the first byte of its PDF past a second.
  if (await selectionIsEmpty(ctx, request.selection, request.scope)) throw new HttpError(422, 'error.emptySelection');
  const result = await exportSelection(ctx, request);
  return reply
    .header('content-disposition', attachment(result.filename))
    .header('cache-control', 'no-store')
    .header('x-account-count', String(result.count))
    .type(result.contentType)
    .send(result.body);
}
