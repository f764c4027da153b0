// "Exporter en CSV": what Excel or LibreOffice opens directly, and a word processor's mail merge reads:
// UTF-8 with BOM (Excel otherwise assumes a legacy code page), ';' (the French list separator), CRLF.
import { stringify } from 'csv-stringify/sync';
import { functionLabels } from '../directory/functions.js';
import { childrenLabel, frenchDate, PREVIEW_COLUMNS, previewCells } from './format.js';
import type { AccountRow } from './selection.js';

/** The preview's columns (code in clear for inactive accounts), then what a parents' letter needs, then feed data. */
export const CSV_COLUMNS = [...PREVIEW_COLUMNS, 'Enfants', 'Expiration du code', 'INE', 'Fonctions', 'Mobile'] as const;

/**
 * A cell a spreadsheet would read as a formula (= + - @, or a leading tab / carriage return that some
 * strip before parsing) gets a leading apostrophe: shown as text, never run ("=CMD()" stays "'=CMD()").
 */
export function neutralizeCell(v: string): string {
  return /^[=+\-@\t\r]/.test(v) ? `'${v}` : v;
}

export function csvCells(row: AccountRow): string[] {
  const valid = !row.activated && row.code && row.codeExpiresAt;
  return [
    ...previewCells(row),
    childrenLabel(row.children),
    valid ? frenchDate(row.codeExpiresAt!) : '',
    row.ine ?? '',
    functionLabels(row.functions ?? []).join(', '),
    row.mobile ?? '',
  ].map(neutralizeCell);
}

const OPTIONS = { delimiter: ';', record_delimiter: '\r\n' } as const;

/** The one writer of every CSV profile (this file's columns, Word's in word.ts): BOM, ';', CRLF, one header row. */
export function stringifyCsv(header: readonly string[], records: string[][]): Buffer {
  return Buffer.from(stringify([[...header], ...records], { ...OPTIONS, bom: true }), 'utf8');
}

export function renderCsv(rows: AccountRow[]): Buffer {
  return stringifyCsv(CSV_COLUMNS, rows.map(csvCells));
}

/** The same file as renderCsv, one chunk per batch of rows (the header first): for a streamed export. */
export async function* csvChunks(batches: AsyncIterable<AccountRow[]>): AsyncGenerator<Buffer> {
  yield Buffer.from(stringify([[...CSV_COLUMNS]], { ...OPTIONS, bom: true }), 'utf8');
  for await (const rows of batches) yield Buffer.from(stringify(rows.map(csvCells), OPTIONS), 'utf8');
}
