// "Exporter pour Word": the CSV a word processor's mail merge (Word « Publipostage », LibreOffice « Mailing »)
// reads without asking anything: UTF-8 with BOM, ';', one header row of field names without spaces or accents
// (Word turns « Code d'activation » into Code_dactivation and LibreOffice keeps the quote), the activation code
// in a `MotDePasse` column as the guides' letters expect, children and classes as plain text.
// Same writer as the CSV export (csv.ts: stringifyCsv), another column profile.
import type { AppContext } from '../context.js';
import { csvRecord, neutralizeCell, stringifyCsv } from './csv.js';
import { codeCell, frenchDate } from './format.js';
import { PROFILE_LABELS } from '../directory/vocabulary.js';
import type { AccountRow } from './selection.js';
import { fieldsFor } from './templates.js';

/** Merge field names as Word shows them in « Insérer un champ de fusion ». ASCII letters only. */
export const WORD_COLUMNS = [
  'Nom', 'Prenom', 'Profil', 'Identifiant', 'MotDePasse', 'ExpirationCode', 'Etat', 'Classes', 'Enfants',
  'Etablissement', 'AdresseENT', 'LienActivation', 'Courriel', 'DateNaissance',
] as const;

/** One line of the Word CSV, in WORD_COLUMNS order. */
export function wordCells(row: AccountRow, ctx: Pick<AppContext, 'config'>): string[] {
  const f = fieldsFor(row, ctx);
  return [
    row.lastName,
    row.firstName,
    PROFILE_LABELS[row.profile].fr,
    row.login,
    f.code,
    f.date_expiration,
    // Why MotDePasse is empty (« Activé », « Expiré »…), blank when it carries a code.
    f.code ? '' : codeCell(row),
    row.classes.join(', '),
    f.enfants,
    row.structureName,
    f.url,
    f.lien_activation,
    row.email ?? '',
    row.birthDate ? frenchDate(new Date(`${row.birthDate}T12:00:00Z`)) : '',
  ].map(neutralizeCell);
}

export function renderWordCsv(rows: AccountRow[], ctx: Pick<AppContext, 'config'>): Buffer {
  return stringifyCsv(WORD_COLUMNS, rows.map((r) => wordCells(r, ctx)));
}

/** Rows written between two turns of the event loop (as csv.ts csvChunks). */
const SLICE = 500;

/**
 * The same file as renderWordCsv, streamed: the header (with its BOM), then one chunk per slice of SLICE rows of each
 * batch, the event loop turning between two slices. The export reads the selection batch by batch from its cursor
 * (generate.ts): `trousseau publipostage --format word` has no school to bound it, and a région's accounts held whole,
 * then written as one string, took gigabytes.
 */
export async function* wordCsvChunks(batches: AsyncIterable<AccountRow[]>, ctx: Pick<AppContext, 'config'>): AsyncGenerator<Buffer> {
  yield stringifyCsv(WORD_COLUMNS, []);
  for await (const rows of batches) {
    for (let start = 0; start < rows.length; start += SLICE) {
      if (start) await new Promise((turn) => setImmediate(turn));
      let text = '';
      for (let i = start; i < Math.min(start + SLICE, rows.length); i++) text += csvRecord(wordCells(rows[i], ctx));
      yield Buffer.from(text, 'utf8');
    }
  }
}
