// How an account reads in the preview table and the CSV export (same columns, same words). Pure.
import { formatCode } from '../accounts/codes.js';
import { PROFILE_LABELS, type Profile } from '../directory/vocabulary.js';
import type { AccountRow, ChildInfo } from './selection.js';

// Built once: toLocaleDateString builds a formatter per call, which costs more than a whole sheet.
const FRENCH_DATE = new Intl.DateTimeFormat('fr-FR', { day: '2-digit', month: '2-digit', year: 'numeric', timeZone: 'Europe/Paris' });

const dateCache = new Map<number, string>();

/** dd/mm/yyyy in Paris time (what a French reader expects on a sheet). */
export function frenchDate(d: Date): string {
  // Paris is a whole number of hours off UTC: the day is the same within a UTC hour.
  const hour = Math.floor(d.getTime() / 3_600_000);
  let s = dateCache.get(hour);
  if (s === undefined) {
    s = FRENCH_DATE.format(d);
    if (dateCache.size > 10_000) dateCache.clear();
    dateCache.set(hour, s);
  }
  return s;
}

/** "Zoé MARTIN (6A)": names as the directory holds them (feeds already upper-case family names). */
export function childLabel(c: ChildInfo): string {
  const name = `${c.firstName} ${c.lastName}`;
  return c.classes.length ? `${name} (${c.classes.join(', ')})` : name;
}

/** "Zoé MARTIN (6A), Léo MARTIN (5A)" */
export function childrenLabel(children: ChildInfo[]): string {
  return children.map(childLabel).join(', ');
}

/** The page the QR code opens, login and code filled in (canonical code: the page accepts any spelling). */
export function activationUrl(publicUrl: string, login: string, code: string): string {
  return `${publicUrl}/activation?login=${encodeURIComponent(login)}&code=${encodeURIComponent(code)}`;
}

/**
 * The "Code d'activation" column: grouped code, or why there is none. `withheld`: the reader is a teacher whose
 * school keeps the « fiches » right (directory/policies.ts teacherMay), who sees no code.
 */
export function codeCell(
  row: Pick<AccountRow, 'activated' | 'code' | 'codeExpired' | 'externalProvider' | 'blocked' | 'preDeleted' | 'readOnly'>,
  withheld = false,
): string {
  // Why there is no code comes first: a code is never shown for these (distribution.ts).
  if (row.externalProvider) return `Connexion ${row.externalProvider}`;
  if (row.blocked) return 'Bloqué';
  if (row.preDeleted) return 'Pré-supprimé';
  if (row.activated) return 'Activé';
  // Its code is never read for this caller (manageableSql): « Aucun code » would send the admin looking for one.
  if (row.readOnly) return 'Géré hors de votre périmètre';
  if (withheld) return 'Code remis par l’établissement';
  if (row.code) return formatCode(row.code);
  return row.codeExpired ? 'Expiré' : 'Aucun code';
}

export const PREVIEW_COLUMNS = ['Nom', 'Prénom', 'Profil', 'Login', "Code d'activation", 'Courriel', 'Classe', 'Date de création'] as const;

/** One preview line, in PREVIEW_COLUMNS order. */
export function previewCells(row: AccountRow): string[] {
  return previewCellsWith(row, row.classes.join(', '), frenchDate(row.createdAt));
}

/**
 * previewCells with the "Classe" and "Date de création" cells already written (`classes`, `createdDay`: the CSV
 * export has PostgreSQL write them).
 */
export function previewCellsWith(
  row: Pick<AccountRow, 'lastName' | 'firstName' | 'profile' | 'login' | 'email'> & Parameters<typeof codeCell>[0],
  classes: string,
  createdDay: string,
): string[] {
  return [row.lastName, row.firstName, PROFILE_LABELS[row.profile].fr, row.login, codeCell(row), row.email ?? '', classes, createdDay];
}

/** What GET /api/publipostage/preview returns per account: the cells, plus ids and states for the UI. */
export interface PreviewRow {
  id: string;
  lastName: string;
  firstName: string;
  profile: Profile;
  profileLabel: string;
  login: string;
  /** Grouped code, "Activé", "Expiré" or "Aucun code". */
  code: string;
  activated: boolean;
  codeExpired: boolean;
  email: string | null;
  classes: string[];
  children: string;
  createdAt: string;
  isLocalAdmin: boolean;
  preDeleted: boolean;
  blocked: boolean;
  externalProvider: string | null;
}

/** A preview line; `withheld` as codeCell's. */
export function previewRow(row: AccountRow, withheld = false): PreviewRow {
  return {
    id: row.id,
    lastName: row.lastName,
    firstName: row.firstName,
    profile: row.profile,
    profileLabel: PROFILE_LABELS[row.profile].fr,
    login: row.login,
    code: codeCell(row, withheld),
    activated: row.activated,
    codeExpired: row.codeExpired,
    email: row.email,
    classes: row.classes,
    children: childrenLabel(row.children),
    createdAt: frenchDate(row.createdAt),
    isLocalAdmin: row.isLocalAdmin,
    preDeleted: row.preDeleted,
    blocked: row.blocked,
    externalProvider: row.externalProvider ?? null,
  };
}
