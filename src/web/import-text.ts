// Import refusals in the request's language: the message codes of src/import/messages.ts through the catalogue
// (src/web/i18n/import-errors.ts), laid out as the command line prints them (`fichier.csv, ligne 12, Date : raison`).
import type { ImportMessage } from '../import/messages.js';
import { renderImportMessage } from '../import/messages.js';
import type { ImportForbiddenError } from '../import/scope.js';
import { rejectionLine } from '../import/report.js';
import { mergeMessage, type MergeNote, type Rejection } from '../import/types.js';
import { IMPORT_FORMAT_EN } from './i18n/import-errors.js';
import { t, type Lang } from './i18n/index.js';

export function importMessageText(lang: Lang, m: ImportMessage): string {
  return renderImportMessage(m, (code, params) => t(lang, `importError.${code}`, params));
}

/** One refused file or row, or a record left out; one without a code keeps its French `reason`. */
export function rejectionText(lang: Lang, r: Rejection): string {
  const reason = r.message ? importMessageText(lang, r.message) : r.reason;
  return rejectionLine(r, reason, lang);
}

/** A row read as an earlier row's legal representative (a warning): `fichier.csv — lignes 20 et 21 : …`. */
export function mergeText(lang: Lang, m: MergeNote): string {
  return `${m.file} — ${importMessageText(lang, mergeMessage(m))}`;
}

/** A run refused for the caller's scope: `fichier : raison`. */
export function forbiddenText(lang: Lang, e: ImportForbiddenError): string {
  const reason = importMessageText(lang, { code: e.messageCode, params: e.params });
  return e.file ? `${e.file}${t(lang, 'colon')} ${reason}` : reason;
}

/** A file's format label (« AAF élèves », « CSV élèves, parents », « ignoré ») in the request's language. */
export function formatText(lang: Lang, format: string): string {
  if (lang === 'fr') return format;
  const whole = IMPORT_FORMAT_EN[format];
  if (whole) return whole;
  const csv = /^(CSV|ONDE\/BE1D) (.+)$/.exec(format);
  if (!csv) return format;
  return `${csv[1]} ${csv[2]
    .split(', ')
    .map((w) => IMPORT_FORMAT_EN[w] ?? w)
    .join(', ')}`;
}
