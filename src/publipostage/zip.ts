// "Une fiche par compte (ZIP)": one PDF per account, each named « Fiche de connexion – Prénom NOM.pdf », for
// people who must pass sheets on through another messaging system (the guides: a teacher saving and renaming
// each pupil's sheet by hand). Built with yazl; namesakes' files carry their logins.
import type { Readable } from 'node:stream';
import { setImmediate } from 'node:timers/promises';
import yazl from 'yazl';
import type { AppContext } from '../context.js';
import { loadTemplatesFor, renderSheetsPdf } from './pdf.js';
import type { AccountRow } from './selection.js';
import type { TemplateSet } from './templates.js';

/** Characters no file system or mail client takes in a name (and controls), replaced by a space. */
const UNSAFE = /[\\/:*?"<>|\u0000-\u001f\u007f]+/g;

/** A name part made safe for any file system: NFC, no forbidden characters, spaces collapsed, at most `max` characters. */
function safePart(s: string, max: number): string {
  return s.normalize('NFC').replace(UNSAFE, ' ').replace(/\s+/g, ' ').trim().slice(0, max);
}

/** `Fiche de connexion – Zoé MARTIN.pdf` (the wording); `suffix` tells namesakes apart: « (zoe.martin2) ». */
export function sheetFileName(p: Pick<AccountRow, 'firstName' | 'lastName'>, suffix = ''): string {
  const name = safePart(`${p.firstName} ${p.lastName.toUpperCase()}`, 150);
  return `Fiche de connexion – ${name || 'compte'}${suffix}.pdf`;
}

/**
 * One name per row, in order. Namesakes (compared case-insensitively, as file systems may) each carry their login,
 * « (zoe.martin2) », not a number: whoever passes the sheets on can tell which goes to which family. A name still taken
 * (the same account twice) gets « (2) », « (3) »… after it.
 */
export function uniqueSheetNames(rows: ReadonlyArray<Pick<AccountRow, 'firstName' | 'lastName' | 'login'>>): string[] {
  const plain = rows.map((r) => sheetFileName(r).toLowerCase());
  const count = new Map<string, number>();
  for (const p of plain) count.set(p, (count.get(p) ?? 0) + 1);
  const taken = new Set<string>();
  return rows.map((r, i) => {
    const login = count.get(plain[i])! > 1 ? safePart(r.login, 60) : '';
    const own = login ? ` (${login})` : '';
    let name = sheetFileName(r, own);
    for (let n = 2; taken.has(name.toLowerCase()); n++) name = sheetFileName(r, `${own} (${n})`);
    taken.add(name.toLowerCase());
    return name;
  });
}

/**
 * The ZIP of one single-sheet PDF per row (rows as handed out: handout.ts), as a stream written while it is read:
 * the sheets are rendered one at a time, the event loop yielded between two accounts (a whole school is thousands
 * of PDFs: other requests keep being served), and the archive never sits whole in memory. The templates are loaded
 * before the stream is returned (a failure there is an ordinary error); a failure later destroys the stream.
 */
export async function zipSheets(ctx: AppContext, rows: readonly AccountRow[]): Promise<Readable> {
  const templates = new Map<string, TemplateSet>();
  await loadTemplatesFor(ctx.database.pool, rows, templates);
  const names = uniqueSheetNames(rows);
  const zip = new yazl.ZipFile();
  const out = zip.outputStream as Readable;
  void (async () => {
    for (let i = 0; i < rows.length; i++) {
      if (out.destroyed) return;
      const pdf = await renderSheetsPdf(ctx, [rows[i]], { model: 1, templates });
      // PDFs are already compressed: stored, not deflated again.
      zip.addBuffer(pdf, names[i], { compress: false, mtime: new Date() });
      await setImmediate();
    }
    zip.end();
  })().catch((e: Error) => out.destroy(e));
  return out;
}
