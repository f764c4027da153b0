// "Exporter pour Word": the CSV a word processor's mail merge (Word « Publipostage », LibreOffice « Mailing »)
// reads without asking anything: UTF-8 with BOM, ';', one header row of field names without spaces or accents
// (Word turns « Code d'activation » into Code_dactivation and LibreOffice keeps the quote), the activation code
// in a `MotDePasse` column as the guides' letters expect, children and classes as plain text.
// Same writer as the CSV export (csv.ts: stringifyCsv), another column profile.
import type { AppContext } from '../context.js';
import { neutralizeCell, stringifyCsv } from './csv.js';
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
