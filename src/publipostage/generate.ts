// One generation (PDF or CSV) from a selection, for the CLI and the HTTP routes alike: select, audit, render,
// streamed batch by batch from a server-side cursor.
import { Readable } from 'node:stream';
import type { AppContext } from '../context.js';
import { recordAudit } from '../directory/audit.js';
import type { Scope } from '../directory/scope.js';
import { csvChunks } from './csv.js';
import { planFreshCodes, storeFreshCodes, withFreshCode } from './fresh-codes.js';
import { loadTemplatesFor, streamSheetsPdf, type SheetModel } from './pdf.js';
import type { TemplateSet } from './templates.js';
import type { Queryable } from '../db/index.js';
import { contentLabel, fileName, type ContentLabel } from './distribution.js';
import { countSelection, streamSelection } from './select.js';
import type { AccountRow, Selection } from './selection.js';

export type ExportFormat = 'pdf' | 'csv';

/** Rows fetched from the export cursor at a time: each batch is decrypted and rendered in one go, so it stays small. */
const EXPORT_BATCH = 500;

export interface ExportRequest {
  format: ExportFormat;
  selection: Selection;
  scope: Scope;
  /** Null for the server-side CLI. */
  actorId: string | null;
  model?: SheetModel;
  via: 'cli' | 'http';
}

export interface ExportResult {
  count: number;
  filename: string;
  contentType: string;
  body: Readable | Buffer;
}

/** What a selection holds (classes and levels by name, profiles, states), for file names and confirmations. */
export async function describeSelection(ctx: AppContext, selection: Selection): Promise<ContentLabel> {
  const names = async (table: 'classes' | 'levels', ids: string[]) =>
    ids.length
      ? (await ctx.database.pool.query(`SELECT name FROM ${table} WHERE id = ANY($1::uuid[]) ORDER BY name COLLATE trousseau_fr`, [ids])).rows.map((r) => r.name as string)
      : [];
  return contentLabel(selection, { classes: await names('classes', selection.classIds), levels: await names('levels', selection.levelIds) });
}

/** 2025-09-01 in Paris, for file names. */
export function today(): string {
  return new Intl.DateTimeFormat('en-CA', { timeZone: 'Europe/Paris' }).format(new Date());
}

/**
 * Streams the accounts of a selection in batches, giving a fresh code to inactive ones whose code is missing or
 * expired (a printed dead code is a dead end), then writes the audit entry (publipostage.pdf / publipostage.csv
 * with the filters, the count, the codes issued and the model). All of it in one transaction, held while the
 * file is written: the codes of each batch are stored before the batch is rendered and commit together with
 * the audit row once the last one is read; a file abandoned before that (reader gone, error) rolls back, so no
 * code is handed out without its trace. The transaction holds the row locks of the codes it renewed until then.
 */
async function* handedOut(
  ctx: AppContext,
  req: ExportRequest,
  model: SheetModel,
  /** Called with each batch before it is yielded, on the export's connection (e.g. loading its templates). */
  prepare?: (client: Queryable, rows: AccountRow[]) => Promise<void>,
): AsyncGenerator<AccountRow[]> {
  const client = await ctx.database.pool.connect();
  let committed = false;
  try {
    await client.query('BEGIN');
    let count = 0;
    let issued = 0;
    for await (const selected of streamSelection(ctx, client, req.selection, req.scope, EXPORT_BATCH)) {
      const planned = planFreshCodes(ctx, selected);
      const stored = await storeFreshCodes(client, planned);
      count += selected.length;
      issued += stored.size;
      await prepare?.(client, selected);
      yield selected.map((r) => (stored.has(r.id) ? withFreshCode(r, planned.get(r.id)!) : r));
    }
    await recordAudit(client, req.actorId, `publipostage.${req.format}`, {
      filters: req.selection,
      count,
      codesIssued: issued,
      ...(req.format === 'pdf' ? { model } : {}),
      via: req.via,
    });
    await client.query('COMMIT');
    committed = true;
  } finally {
    if (!committed) await client.query('ROLLBACK').catch(() => {});
    client.release();
  }
}

/**
 * The file of a selection (handedOut: codes, audit), as a stream that reads the selection as it is written:
 * the first bytes leave at once and memory stays flat whatever the selection's size. `count` is counted
 * beforehand (the x-account-count header); the audit row holds the number actually written.
 */
export async function exportSelection(ctx: AppContext, req: ExportRequest): Promise<ExportResult> {
  const model = req.model ?? 1;
  const [{ total }, label] = await Promise.all([countSelection(ctx, req.selection, req.scope), describeSelection(ctx, req.selection)]);
  if (req.format === 'csv') {
    const body = Readable.from(csvChunks(handedOut(ctx, req, model)));
    return { count: total, filename: fileName('comptes', label, today(), 'csv'), contentType: 'text/csv; charset=utf-8', body };
  }
  const templates = new Map<string, TemplateSet>();
  const rows = handedOut(ctx, req, model, (client, batch) => loadTemplatesFor(client, batch, templates));
  // Sheets speak to the families in the language of their letter texts (French), whatever the language of the
  // administrator's console: labels, letter and the PDF's declared language must agree for screen readers.
  const body = await streamSheetsPdf(ctx, rows, { model, sort: req.selection.sort, templates });
  return { count: total, filename: fileName('fiches', label, today(), 'pdf'), contentType: 'application/pdf', body };
}
