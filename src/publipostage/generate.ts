// One generation (PDF or CSV) from a selection, for the CLI and the HTTP routes alike: select, audit, render,
// streamed batch by batch from a server-side cursor.
import { Readable } from 'node:stream';
import type { AppContext } from '../context.js';
import { recordAudit } from '../directory/audit.js';
import type { Scope } from '../directory/scope.js';
import { csvChunks } from './csv.js';
import type { CodeBearer } from './fresh-codes.js';
import { handBatch, issueBatch } from './handout.js';
import { loadTemplatesFor, streamSheetsPdf, type SheetModel } from './pdf.js';
import type { TemplateSet } from './templates.js';
import { serialQueries, type Queryable } from '../db/index.js';
import { contentLabel, fileName, type ContentLabel } from './distribution.js';
import { countSelection, SELECTED_IDS, streamCsvSelection, streamSelection } from './select.js';
import type { AccountRow, Selection } from './selection.js';
import { distributionRecorder, type DistributionKind, type DistributionRecorder } from './tracking.js';
import { wordCsvChunks } from './word.js';
import { checkLettersSize, DOCX_TYPE, docxToPdf, inspectDocxTemplate, postalAddresses, renderDocxLetters } from './docx.js';

/** 'word': the CSV for Word's / LibreOffice's mail merge (word.ts); 'docx': letters from a school's model (docx.ts). */
export type ExportFormat = 'pdf' | 'csv' | 'word' | 'docx';

/** The hand-out each format records (tracking.ts): Word CSV and letters are 'word', sheets and lists 'sheet'. */
const distributionKind = (format: ExportFormat): DistributionKind => (format === 'word' || format === 'docx' ? 'word' : 'sheet');

/** Rows fetched from the export cursor at a time: each batch is decrypted and rendered in one go, so it stays small. */
const EXPORT_BATCH = 500;
/**
 * The CSV's batches: a line costs little, and each batch is two round trips to PostgreSQL (its FETCH and its share of
 * the hand-out) that a busy machine makes slow (500 rows: 400 for 100,000 accounts). Reading 5,000 rows (decrypting
 * their codes) holds the event loop a few tens of ms (CPU); csvChunks lets other requests in between its slices of rows.
 */
const CSV_BATCH = 5000;

export interface ExportRequest {
  format: ExportFormat;
  selection: Selection;
  scope: Scope;
  /** Null for the server-side CLI. */
  actorId: string | null;
  model?: SheetModel;
  via: 'cli' | 'http';
  /** 'pdf', one sheet per page: print each account's postal address for a window envelope (address-block.ts). */
  addressBlock?: boolean;
  /** For 'docx': the model, and the LibreOffice binary when the letters are wanted as PDF. */
  letters?: { name: string; content: Buffer; soffice: string | null };
  /**
   * The selection's size when the caller has just counted it: not counted a second time (a région's count is a scan
   * of every account; without it, exportSelection counts beside the file's first reads).
   */
  total?: number;
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
  const school = selection.structureId
    ? (await ctx.database.pool.query<{ uai: string | null; name: string }>('SELECT uai, name FROM structures WHERE id = $1', [selection.structureId])).rows[0]
    : undefined;
  return contentLabel(selection, { classes: await names('classes', selection.classIds), levels: await names('levels', selection.levelIds), school: school ? (school.uai ?? school.name) : undefined });
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
function handedOut(
  ctx: AppContext,
  req: ExportRequest,
  model: SheetModel,
  /** Called with each batch before it is yielded, on the export's connection (e.g. loading its templates). */
  prepare?: (client: Queryable, rows: AccountRow[]) => Promise<void>,
): AsyncGenerator<AccountRow[]> {
  return handedOutFrom(ctx, req, model, (client) => streamSelection(ctx, client, req.selection, req.scope, EXPORT_BATCH), prepare);
}

/**
 * handedOut over the batches `read` gives on the export's connection (the CSV's lighter rows: streamCsvSelection).
 * With `recorder` (made once the first batch is read), the hand-out is recorded by its steps instead of batch by batch.
 */
async function* handedOutFrom<R extends CodeBearer>(
  ctx: AppContext,
  req: ExportRequest,
  model: SheetModel,
  read: (client: Queryable) => AsyncIterable<R[]>,
  prepare?: (client: Queryable, rows: R[]) => Promise<void>,
  recorder?: (client: Queryable, kind: DistributionKind) => Promise<DistributionRecorder>,
): AsyncGenerator<R[]> {
  const connection = await ctx.database.pool.connect();
  // The cursor's next FETCH is sent while this batch's codes and hand-outs are written (streamSelection).
  const client = serialQueries(connection);
  let committed = false;
  try {
    await client.query('BEGIN');
    let count = 0;
    let issued = 0;
    let recorded: Promise<void> = Promise.resolve();
    let steps: DistributionRecorder | undefined;
    for await (const selected of read(client)) {
      // The previous batch's record has answered (a failure stops the file here, before more is handed out).
      await recorded;
      // Fresh codes and what was handed out, committed with the audit row (« fiche remise le … », « Relancer »).
      let batch: { rows: R[]; issued: number };
      if (recorder) {
        batch = await issueBatch(ctx, client, selected);
        steps ??= await recorder(client, distributionKind(req.format));
        // Not waited for here (as handBatch's record): PostgreSQL writes it while this batch is rendered.
        recorded = steps.step(count + selected.length);
        recorded.catch(() => {});
      } else {
        const handed = await handBatch(ctx, client, selected, distributionKind(req.format), req.actorId);
        recorded = handed.recorded;
        batch = handed;
      }
      count += selected.length;
      issued += batch.issued;
      await prepare?.(client, selected);
      yield batch.rows;
    }
    await recorded;
    await steps?.finish();
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
    connection.release();
  }
}

/**
 * The file of a selection (handedOut: codes, audit), as a stream that reads the selection as it is written:
 * the first bytes leave at once and memory stays flat whatever the selection's size. `count` (the x-account-count
 * header) is counted while the file's first rows are read; the audit row holds the number actually written.
 */
export async function exportSelection(ctx: AppContext, req: ExportRequest): Promise<ExportResult> {
  // A broken model is refused (400 naming the field) before any code is issued or anything recorded.
  if (req.format === 'docx') {
    if (!req.letters) throw new Error("exportSelection : format 'docx' sans modèle (letters)");
    inspectDocxTemplate(req.letters.content, req.letters.name);
  }
  const model = req.model ?? 1;
  // Counted beside the file's first reads (the header needs it, the first byte need not wait for it).
  const counted = req.total !== undefined ? Promise.resolve(req.total) : countSelection(ctx, req.selection, req.scope).then((c) => c.total);
  counted.catch(() => {});
  const label = await describeSelection(ctx, req.selection);
  if (req.format === 'word') {
    // Streamed as the CSV (word.ts wordCsvChunks): the command line exports any selection, a région's included.
    const rows = handedOut(ctx, req, model);
    const first = rows.next();
    first.catch(() => {});
    const body = Readable.from(wordCsvChunks(resumed(first, rows), ctx));
    body.on('close', () => void rows.return(undefined).catch(() => {}));
    return { count: await countOr(counted, body), filename: `${['publipostage-word', ...label.parts, today()].join('-')}.csv`, contentType: 'text/csv; charset=utf-8', body };
  }
  if (req.format === 'docx') {
    // Too many letters for one document: refused (422) before any code is issued.
    checkLettersSize(req.letters!.content, req.letters!.name, await counted);
    // A school's letters, not a région's directory: built in memory from the whole selection.
    const rows: AccountRow[] = [];
    for await (const batch of handedOut(ctx, req, model)) rows.push(...batch);
    const letters = req.letters!;
    const docx = await renderDocxLetters(ctx, letters.content, letters.name, rows, await postalAddresses(ctx.database.pool, rows.map((r) => r.id)));
    const base = ['lettres', ...label.parts, today()].join('-');
    if (letters.soffice) return { count: rows.length, filename: `${base}.pdf`, contentType: 'application/pdf', body: await docxToPdf(letters.soffice, docx, letters.name) };
    return { count: rows.length, filename: `${base}.docx`, contentType: DOCX_TYPE, body: docx };
  }
  if (req.format === 'csv') {
    // The file's accounts are kept in SELECTED_IDS by streamCsvSelection, and their hand-out recorded from there in id
    // order, a range of it per batch: half the cost of one INSERT per batch in the file's order (tracking.ts).
    const rows = handedOutFrom(
      ctx,
      req,
      model,
      // The selected ids are written once the count is known: both scan the whole selection, and on two cores the
      // count (its parallel workers) shared them with the writing, which held back the header, hence the first byte
      // (a région's million over HTTP, three alternated pairs of medians of 3: 819–897 ms instead of 981–1,107 ms).
      (client) => afterCount(counted, () => streamCsvSelection(ctx, client, req.selection, req.scope, CSV_BATCH)),
      undefined,
      (client, kind) => distributionRecorder(client, SELECTED_IDS, { kind, actorId: req.actorId }),
    );
    // Its first batch asked for now (transaction, selection, first rows under way while the count runs): a stream pulls
    // only once the reply is sent. Whatever ends the stream (read to the end, reader gone) ends the export (rolled
    // back unless complete): `rows` may be suspended at its first batch, before the stream ever reads it.
    const first = rows.next();
    first.catch(() => {});
    const body = Readable.from(csvChunks(resumed(first, rows)));
    body.on('close', () => void rows.return(undefined).catch(() => {}));
    return { count: await countOr(counted, body), filename: fileName('comptes', label, today(), 'csv'), contentType: 'text/csv; charset=utf-8', body };
  }
  const templates = new Map<string, TemplateSet>();
  // Sheets speak to the families in the language of their letter texts (French), whatever the language of the
  // administrator's console: labels, letter and the PDF's declared language must agree for screen readers.
  const addresses = new Map<string, string>();
  const rows = handedOut(ctx, req, model, async (client, batch) => {
    await loadTemplatesFor(client, batch, templates);
    if (req.addressBlock && model === 1) for (const [id, a] of await postalAddresses(client, batch.map((r) => r.id))) addresses.set(id, a);
  });
  const body = await streamSheetsPdf(ctx, rows, { model, sort: req.selection.sort, templates, addresses: req.addressBlock && model === 1 ? addresses : undefined });
  return { count: await countOr(counted, body), filename: fileName('fiches', label, today(), 'pdf'), contentType: 'application/pdf', body };
}

/** The batches of `read()`, started once `counted` is settled (its failure ends them). */
async function* afterCount<T>(counted: Promise<number>, read: () => AsyncGenerator<T>): AsyncGenerator<T> {
  await counted;
  yield* read();
}

/** `first` (a batch already asked of `batches`), then the rest of `batches`. */
async function* resumed<T>(first: Promise<IteratorResult<T>>, batches: AsyncGenerator<T>): AsyncGenerator<T> {
  const r = await first;
  if (r.done) return;
  yield r.value;
  for (let next = await batches.next(); !next.done; next = await batches.next()) yield next.value;
}

/** The count, or the file's stream destroyed (its export rolled back) when counting fails. */
async function countOr(counted: Promise<number>, body: Readable): Promise<number> {
  try {
    return await counted;
  } catch (e) {
    body.destroy();
    throw e;
  }
}
