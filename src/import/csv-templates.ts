// The ENT's CSV templates as Trousseau reads them, offered on the import page: one file per profile, named so that
// its profile is read from the name (csv.ts profileFromName), headed with the labels csv.ts maps (FIELD_LABEL, « * »
// on what REQUIRED asks), one invented example row. A school fills them in a spreadsheet and sends them back.
import type { Profile } from '../directory/vocabulary.js';
import { stringifyCsv } from '../publipostage/csv.js';
import { type Field, FIELD_LABEL, REQUIRED } from './csv.js';

export interface CsvTemplate {
  /** File name, which says the profile (CSV_Eleves.csv…). */
  file: string;
  profile: Profile;
  /** Columns in order; `example` has one cell per column. */
  fields: Field[];
  example: string[];
}

/** In the order an import is best sent: pupils before their parents. */
export const CSV_TEMPLATES: readonly CsvTemplate[] = [
  {
    file: 'CSV_Eleves.csv',
    profile: 'Student',
    fields: ['lastName', 'firstName', 'birthDate', 'classes', 'usageName', 'externalId'],
    example: ['MARTIN', 'Léa', '14/09/2015', 'CM1 A', '', ''],
  },
  {
    file: 'CSV_Parents.csv',
    profile: 'Relative',
    fields: ['title', 'lastName', 'firstName', 'email', 'phone', 'mobile', 'address', 'zipCode', 'city', 'country', 'childLast', 'childFirst', 'childClass'],
    example: ['Mme', 'MARTIN', 'Sophie', 'sophie.martin@example.org', '', '06 12 34 56 78', '3 rue des Lilas', '75011', 'Paris', 'France', 'MARTIN', 'Léa', 'CM1 A'],
  },
  {
    file: 'CSV_Enseignants.csv',
    profile: 'Teacher',
    // ADML, not ONDE's « Directeur »: a « Directeur » column made the file an ONDE extraction (csv.ts isBe1d), its
    // teachers counted as coming from ONDE, not from a CSV file (absence sweeps, « Origine du compte »).
    fields: ['lastName', 'firstName', 'email', 'classes', 'function', 'localAdmin', 'externalId'],
    example: ['DUBOIS', 'Camille', 'camille.dubois@example.org', 'CM1 A', 'Professeur des écoles', 'non', ''],
  },
  {
    file: 'CSV_Personnels.csv',
    profile: 'Personnel',
    fields: ['lastName', 'firstName', 'function', 'email', 'phone', 'externalId'],
    example: ['BERNARD', 'Julien', 'Secrétaire', 'julien.bernard@example.org', '', ''],
  },
  {
    file: 'CSV_Invites.csv',
    profile: 'Guest',
    fields: ['lastName', 'firstName', 'classes', 'email'],
    example: ['PETIT', 'Nadia', 'CM1 A', 'nadia.petit@example.org'],
  },
];

/** A column's header as the template writes it: the label csv.ts reads, « * » when the profile requires it. */
export function templateHeader(t: CsvTemplate, field: Field): string {
  return `${FIELD_LABEL[field]}${REQUIRED[t.profile].includes(field) ? '*' : ''}`;
}

/** The template file: UTF-8 with BOM, ';', CRLF (what a spreadsheet opens and saves back as is). */
export function templateFile(t: CsvTemplate): Buffer {
  return stringifyCsv(
    t.fields.map((f) => templateHeader(t, f)),
    [t.example],
  );
}

/**
 * Whether a row is a template's invented example left in the filled file (its names, and its e-mail at example.org or
 * its birth date, as shipped): never an account — a school that kept it would get a « Léa MARTIN » no one is.
 * `cell`: the row's value of a field (csv.ts), trimmed, or null when empty.
 */
export function isTemplateExample(profile: Profile, cell: (f: Field) => string | null | undefined): boolean {
  const t = CSV_TEMPLATES.find((x) => x.profile === profile);
  if (!t) return false;
  const shipped = (f: Field) => t.example[t.fields.indexOf(f)] ?? '';
  const same = (f: Field) => (cell(f) ?? '') === shipped(f);
  return same('lastName') && same('firstName') && (shipped('email') ? same('email') : same('birthDate'));
}

export function findTemplate(file: string): CsvTemplate | undefined {
  return CSV_TEMPLATES.find((t) => t.file === file);
}
