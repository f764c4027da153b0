// The streamed CSV writer (csvChunks, csvRecord) against csv-stringify's (renderCsv): the same bytes, cell for cell,
// whatever the cells hold (separators, quotes, line breaks, formulas, empty values), however the rows are batched
// (a batch larger than csv.ts's slice of 500 is written in several chunks).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parse } from 'csv-parse/sync';
import { stringify } from 'csv-stringify/sync';
import { csvChunks, csvRecord, csvRowOf, renderCsv } from '../src/publipostage/csv.js';
import type { AccountRow, CsvAccountRow } from '../src/publipostage/selection.js';

const HOSTILE = ['', 'plain', 'a;b', 'say "hi"', '"', 'line\nbreak', 'cr\rhere', 'crlf\r\n', ';', '=SUM(A1)', '+33 6', '-1', '@x', '\tlead', 'Éléonore Ŝtěpán', "O'NEILL", 'tail\r', ' spaced '];

function row(i: number, over: Partial<AccountRow> = {}): AccountRow {
  const cell = (k: number) => HOSTILE[(i + k) % HOSTILE.length];
  return {
    id: `00000000-0000-4000-8000-${String(i).padStart(12, '0')}`,
    lastName: cell(0) || 'NOM',
    firstName: cell(1),
    profile: (['Student', 'Relative', 'Teacher', 'Personnel', 'Guest'] as const)[i % 5],
    login: `login.${i}`,
    activated: i % 3 === 0,
    code: i % 3 === 1 ? 'ABCDEFGHJK' : null,
    codeExpiresAt: i % 3 === 1 ? new Date(Date.UTC(2026, 8, 1 + (i % 20))) : null,
    codeExpired: i % 3 === 2,
    email: i % 4 ? `${cell(2)}@example.org` : null,
    birthDate: null,
    ine: i % 2 ? cell(3) : null,
    functions: i % 5 === 2 ? ['ENS', cell(4)] : [],
    mobile: i % 6 === 1 ? cell(5) : null,
    classes: i % 2 ? ['6A', cell(6)] : [],
    groupClass: null,
    structureId: null,
    structureName: cell(7),
    createdAt: new Date(Date.UTC(2024, 8, 1, i % 24)),
    origin: 'feed',
    preDeleted: false,
    blocked: false,
    externalProvider: null,
    isLocalAdmin: false,
    children: i % 5 === 1 ? [{ firstName: cell(8), lastName: cell(9), classes: [cell(10)] }] : [],
    ...over,
  };
}

async function* batches(rows: AccountRow[], size: number): AsyncGenerator<CsvAccountRow[]> {
  for (let i = 0; i < rows.length; i += size) yield rows.slice(i, i + size).map(csvRowOf);
}

test('csvRecord writes each record as csv-stringify does (quotes, doubled quotes, line breaks, CRLF)', () => {
  for (let i = 0; i < HOSTILE.length; i++) {
    const cells = HOSTILE.slice(i).concat(HOSTILE.slice(0, i));
    assert.equal(csvRecord(cells), stringify([cells], { delimiter: ';', record_delimiter: '\r\n', quote_record_delimiter: true }));
  }
});

test('a line break inside a cell is quoted: the file reads back with as many records as rows', () => {
  const rows = [row(5, { lastName: 'line\nbreak', firstName: 'tail\r' }), row(6)];
  // Read as a spreadsheet does: any line break ends an unquoted record.
  const lines = parse(renderCsv(rows), { delimiter: ';', bom: true, record_delimiter: ['\r\n', '\n', '\r'], relax_column_count: true }) as string[][];
  assert.equal(lines.length, 3);
  assert.equal(lines[1][0], 'line\nbreak');
  assert.equal(lines[1][1], 'tail\r');
});

test('the streamed CSV is byte for byte the one-piece CSV, in any batch size', async () => {
  const rows = Array.from({ length: 1103 }, (_, i) => row(i));
  const whole = renderCsv(rows);
  for (const size of [1, 7, 1103]) {
    const parts: Buffer[] = [];
    for await (const chunk of csvChunks(batches(rows, size))) parts.push(chunk);
    assert.ok(Buffer.concat(parts).equals(whole), `batches of ${size}`);
  }
});
