// One generation (PDF or CSV) from a selection, for the CLI and the HTTP routes alike: select, audit, render.
import type { Readable } from 'node:stream';
import type { AppContext } from '../context.js';
import { recordAudit } from '../directory/audit.js';
import type { Scope } from '../directory/scope.js';
import { renderCsv } from './csv.js';
import { withTransaction } from '../accounts/tx.js';
import { planFreshCodes, storeFreshCodes, withFreshCode } from './fresh-codes.js';
import { streamSheetsPdf, type SheetModel } from './pdf.js';
import { contentLabel, fileName, type ContentLabel } from './distribution.js';
import { selectAccounts } from './select.js';
import type { Selection } from './selection.js';
import { recordDistribution } from './tracking.js';
import { renderWordCsv } from './word.js';
import { DOCX_TYPE, docxToPdf, inspectDocxTemplate, postalAddresses, renderDocxLetters } from './docx.js';

/** 'word': the CSV for Word's / LibreOffice's mail merge (word.ts); 'docx': letters from a school's model (docx.ts). */
export type ExportFormat = 'pdf' | 'csv' | 'word' | 'docx';

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
 * Selects the accounts, gives a fresh code to inactive ones whose code is missing or expired (a printed dead
 * code is a dead end), writes the audit entry (publipostage.pdf / publipostage.csv with the filters, the
 * count, the codes issued and the model), then renders. The PDF is a stream; the CSV a buffer.
 */
export async function exportSelection(ctx: AppContext, req: ExportRequest): Promise<ExportResult> {
  // A broken model is refused (400 naming the field) before any code is issued or anything recorded.
  if (req.format === 'docx') {
    if (!req.letters) throw new Error("exportSelection : format 'docx' sans modèle (letters)");
    inspectDocxTemplate(req.letters.content, req.letters.name);
  }
  const selected = await selectAccounts(ctx, req.selection, req.scope);
  const model = req.model ?? 1;
  // Fresh codes and the audit row commit together: no code handed out without its trace.
  const planned = planFreshCodes(ctx, selected);
  const { rows } = await withTransaction(ctx.database.pool, async (client) => {
    const stored = await storeFreshCodes(client, planned);
    await recordAudit(client, req.actorId, `publipostage.${req.format}`, {
      filters: req.selection,
      count: selected.length,
      codesIssued: stored.size,
      ...(req.format === 'pdf' ? { model } : {}),
      via: req.via,
    });
    // What was handed out, with the audit row: "fiche remise le …" and the "Relancer" selection read it.
    await recordDistribution(client, { userIds: selected.map((r) => r.id), kind: req.format === 'word' || req.format === 'docx' ? 'word' : 'sheet', actorId: req.actorId });
    return { rows: selected.map((r) => (stored.has(r.id) ? withFreshCode(r, planned.get(r.id)!) : r)), issued: stored.size };
  });
  const label = await describeSelection(ctx, req.selection);
  if (req.format === 'docx' && req.letters) {
    const docx = await renderDocxLetters(ctx, req.letters.content, req.letters.name, rows, await postalAddresses(ctx.database.pool, rows.map((r) => r.id)));
    const base = ['lettres', ...label.parts, today()].join('-');
    if (req.letters.soffice) return { count: rows.length, filename: `${base}.pdf`, contentType: 'application/pdf', body: await docxToPdf(req.letters.soffice, docx) };
    return { count: rows.length, filename: `${base}.docx`, contentType: DOCX_TYPE, body: docx };
  }
  if (req.format === 'word') {
    return { count: rows.length, filename: `${['publipostage-word', ...label.parts, today()].join('-')}.csv`, contentType: 'text/csv; charset=utf-8', body: renderWordCsv(rows, ctx) };
  }
  if (req.format === 'csv') {
    return { count: rows.length, filename: fileName('comptes', label, today(), 'csv'), contentType: 'text/csv; charset=utf-8', body: renderCsv(rows) };
  }
  // Sheets speak to the families in the language of their letter texts (French), whatever the language of the
  // administrator's console: labels, letter and the PDF's declared language must agree for screen readers.
  const addresses = req.addressBlock && model === 1 ? await postalAddresses(ctx.database.pool, rows.map((r) => r.id)) : undefined;
  const body = await streamSheetsPdf(ctx, rows, { model, sort: req.selection.sort, addresses });
  return { count: rows.length, filename: fileName('fiches', label, today(), 'pdf'), contentType: 'application/pdf', body };
}
