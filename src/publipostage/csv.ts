// "Exporter en CSV": what Excel or LibreOffice opens directly, and a word processor's mail merge reads:
// UTF-8 with BOM (Excel otherwise assumes a legacy code page), ';' (the French list separator), CRLF.
import { stringify } from 'csv-stringify/sync';
import { functionLabels } from '../directory/functions.js';
import { childrenLabel, frenchDate, PREVIEW_COLUMNS, previewCellsWith } from './format.js';
import type { AccountRow, CsvAccountRow } from './selection.js';

/** The preview's columns (code in clear for inactive accounts), then what a parents' letter needs, then feed data. */
export const CSV_COLUMNS = [...PREVIEW_COLUMNS, 'Enfants', 'Expiration du code', 'INE', 'Fonctions', 'Mobile'] as const;

/**
 * A cell a spreadsheet would read as a formula (= + - @, or a leading tab / carriage return that some
 * strip before parsing) gets a leading apostrophe: shown as text, never run ("=CMD()" stays "'=CMD()").
 */
export function neutralizeCell(v: string): string {
  return /^[=+\-@\t\r]/.test(v) ? `'${v}` : v;
}

/** The CSV's cells of an account: the preview's (previewCells, same words), then the parents' letter's and the feed's. */
export function csvCells(row: AccountRow): string[] {
  return csvRowCells(csvRowOf(row));
}

/** An AccountRow in the export's shape: its classes, creation day and children written as their cells read. */
export function csvRowOf(row: AccountRow): CsvAccountRow {
  return { ...row, classesLabel: row.classes.join(', '), createdDay: frenchDate(row.createdAt), childrenLabel: childrenLabel(row.children) };
}

/** csvCells of a row in the export's shape (streamCsvSelection gives them with these cells written by PostgreSQL). */
export function csvRowCells(row: CsvAccountRow): string[] {
  const valid = !row.activated && row.code && row.codeExpiresAt;
  return [
    ...previewCellsWith(row, row.classesLabel, row.createdDay),
    row.childrenLabel,
    valid ? frenchDate(row.codeExpiresAt!) : '',
    row.ine ?? '',
    row.functions?.length ? functionLabels(row.functions).join(', ') : '',
    row.mobile ?? '',
  ].map(neutralizeCell);
}

// quote_record_delimiter: a cell holding a bare CR or LF is quoted too (csv-stringify only quotes a whole CRLF when a
// record delimiter is set), so a spreadsheet never splits a record on a line break inside a name.
const OPTIONS = { delimiter: ';', record_delimiter: '\r\n', quote_record_delimiter: true } as const;

/** The one writer of every CSV profile (this file's columns, Word's in word.ts): BOM, ';', CRLF, one header row. */
export function stringifyCsv(header: readonly string[], records: string[][]): Buffer {
  return Buffer.from(stringify([[...header], ...records], { ...OPTIONS, bom: true }), 'utf8');
}

export function renderCsv(rows: AccountRow[]): Buffer {
  return stringifyCsv(CSV_COLUMNS, rows.map(csvCells));
}

// What makes csv-stringify quote a cell with OPTIONS: the delimiter, the quote, or a line break (\r or \n).
const NEEDS_QUOTES = /[;"\r\n]/;

/**
 * One record as csv-stringify writes it with OPTIONS (quoted only when it holds ';', '"', CR or LF, quotes doubled,
 * CRLF after), without its per-call option handling and per-cell casting: a 100,000-row export spent more time
 * there than in building the cells. test/publipostage-csv-stream.test.ts holds both to the same bytes.
 */
export function csvRecord(cells: readonly string[]): string {
  let line = '';
  for (let i = 0; i < cells.length; i++) {
    const v = cells[i];
    if (i) line += ';';
    line += NEEDS_QUOTES.test(v) ? `"${v.replace(/"/g, '""')}"` : v;
  }
  return line + '\r\n';
}

/** Rows written between two turns of the event loop. */
const SLICE = 500;

/**
 * The same file as renderCsv, one chunk per slice of SLICE rows (the header first): for a streamed export. Between
 * two slices the event loop turns (setImmediate), so other requests are served during a large batch.
 */
export async function* csvChunks(batches: AsyncIterable<CsvAccountRow[]>): AsyncGenerator<Buffer> {
  yield Buffer.from(stringify([[...CSV_COLUMNS]], { ...OPTIONS, bom: true }), 'utf8');
  for await (const rows of batches) {
    for (let start = 0; start < rows.length; start += SLICE) {
      if (start) await new Promise((turn) => setImmediate(turn));
      let text = '';
      for (let i = start; i < Math.min(start + SLICE, rows.length); i++) text += csvRecord(csvRowCells(rows[i]));
      yield Buffer.from(text, 'utf8');
    }
  }
}
