// Bulk writes with COPY … FROM STDIN (pg-copy-streams): several times cheaper than INSERT … unnest for rows that
// cannot conflict (new accounts and their links). Values travel in COPY's text format.
import { Readable, type Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { setImmediate as nextTurn } from 'node:timers/promises';
import type pg from 'pg';
import { from as copyFrom } from 'pg-copy-streams';

/** A value in COPY text format: NULL as \N; backslash, tab, newline and carriage return escaped. */
export function copyText(v: unknown): string {
  if (v === null || v === undefined) return '\\N';
  if (v instanceof Date) return isoText(v);
  if (typeof v === 'boolean') return v ? 't' : 'f';
  const s = String(v);
  return /[\\\t\n\r]/.test(s) ? s.replace(/[\\\t\n\r]/g, (c) => (c === '\\' ? '\\\\' : c === '\t' ? '\\t' : c === '\n' ? '\\n' : '\\r')) : s;
}

const isoCache = new Map<number, string>();
/** A Date as ISO text; the rows of a batch share a few instants (the run's `now`, a code's expiry): remembered by value. */
function isoText(d: Date): string {
  const t = d.getTime();
  let iso = isoCache.get(t);
  if (iso === undefined) {
    if (isoCache.size >= 64) isoCache.clear();
    iso = d.toISOString();
    isoCache.set(t, iso);
  }
  return iso;
}

/**
 * Characters of a piece of COPY text (copyLines, the import's staging). A piece is a string of many rows that
 * becomes one Buffer when written: 64 KB of text with a character beyond Latin-1 (« NGUYỄN ») is a two-byte string
 * of 128 KB, in V8's large-object space, allocated and copied anew for each piece (0.85 s for the 57 MB of staged
 * rows of a feed of 100,000 accounts, 0.17 s by pieces of 32 K characters).
 */
export const COPY_PIECE = 1 << 15;

/** `rows` as COPY text, in pieces of about COPY_PIECE characters (one value per column, in the COPY's column order). */
export function* copyLines(rows: Iterable<unknown[]>): Generator<string> {
  let buf = '';
  for (const row of rows) {
    buf += `${row.map(copyText).join('\t')}\n`;
    if (buf.length > COPY_PIECE) {
      yield buf;
      buf = '';
    }
  }
  if (buf) yield buf;
}

/** `COPY table (columns) FROM STDIN` on `client`: the stream to write copyLines into; it finishes once the server has stored them. */
export function copyStream(client: Pick<pg.PoolClient, 'query'>, table: string, columns: string[]): Writable {
  return client.query(copyFrom(`COPY ${table} (${columns.join(', ')}) FROM STDIN`));
}

/**
 * Writes `rows` (one value per column, in `columns` order) into `table` with one COPY, inside the caller's
 * transaction. Rows violating a constraint fail the whole statement (use it for rows that cannot conflict).
 */
export async function copyRows(client: Pick<pg.PoolClient, 'query'>, table: string, columns: string[], rows: Iterable<unknown[]>): Promise<void> {
  // The event loop turns after each piece: the stream would otherwise pull a dozen pieces in one go, and
  // `rows` may compute as it goes (an import's new accounts: codes encrypted, logins allocated).
  async function* turning() {
    for (const piece of copyLines(rows)) {
      yield piece;
      await nextTurn();
    }
  }
  await sendCopy(client, table, columns, turning());
}

/**
 * `rows` as COPY text (copyLines' pieces), rendered ahead of their turn on the connection (sendCopy). The event loop
 * turns every few pieces: a chunk of new accounts is some tens of milliseconds of CPU.
 */
export async function renderCopy(rows: Iterable<unknown[]>): Promise<string[]> {
  const pieces: string[] = [];
  for (const piece of copyLines(rows)) {
    if (pieces.push(piece) % 4 === 0) await nextTurn();
  }
  return pieces;
}

/** `COPY table (columns) FROM STDIN` of COPY text pieces (copyLines'); resolves once the server has stored them. */
export function sendCopy(client: Pick<pg.PoolClient, 'query'>, table: string, columns: string[], pieces: Iterable<string> | AsyncIterable<string>): Promise<void> {
  return pipeline(Readable.from(pieces), copyStream(client, table, columns));
}
