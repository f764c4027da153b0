// CSV imports: the ENT templates (CSV_Eleves, CSV_Enseignants, …) and the ONDE/BE1D extraction of primary schools.
import { parse } from 'csv-parse/sync';
import type { Profile } from '../db/schema.js';
import { foldName } from '../directory/login.js';
import { mergeUser } from './aaf.js';
import { clean, cleanEmail, cleanPhone, decodeText, fold, parseDate } from './text.js';
import { ImportFileError, type ImportBatch, type Source, type UserRecord } from './types.js';

type Field =
  | 'firstName' | 'lastName' | 'usageName' | 'birthDate' | 'classes' | 'level' | 'email' | 'phone' | 'phoneWork'
  | 'title' | 'function' | 'director' | 'childLast' | 'childUsage' | 'childFirst' | 'childClass';

/** Folded header → field. Headers are compared without case, accents, punctuation or the `*` of required columns. */
const ALIASES: Record<string, Field> = {};
const alias = (field: Field, ...names: string[]) => names.forEach((n) => (ALIASES[fold(n)] = field));
alias('firstName', 'prénom', 'prenom', 'firstname', 'first name', 'prénom élève', 'prénom responsable', 'given name');
alias('lastName', 'nom', 'lastname', 'last name', 'nom de famille', 'nom élève', 'nom responsable', 'nom patronymique', 'surname');
alias('usageName', "nom d'usage", 'nom usage', "nom d'usage élève", 'nom usage responsable', "nom d'usage responsable");
alias('birthDate', 'date de naissance', 'date naissance', 'datenaissance', 'naissance', 'birthdate', 'birth date', 'date of birth');
alias('classes', 'classe', 'classes', 'class', 'division');
alias('level', 'niveau', 'level');
alias('email', 'email', 'e-mail', 'mail', 'courriel', 'adresse mail', 'adresse email', 'adresse électronique');
alias('phone', 'téléphone', 'telephone', 'tel', 'téléphone domicile', 'téléphone portable', 'portable', 'mobile', 'phone');
alias('phoneWork', 'telephonetravail', 'téléphone travail', 'téléphone professionnel');
alias('title', 'civilité', 'civilite', 'civilité responsable', 'titre');
alias('function', 'fonction', 'fonctions', 'function');
alias('director', 'directeur', 'directrice');
alias('childLast', "nom de l'élève", 'nom de famille enfant', 'nom enfant', 'nom élève rattaché');
alias('childUsage', "nom d'usage enfant", 'nom usage enfant');
alias('childFirst', "prénom de l'élève", 'prénom enfant');
alias('childClass', "classes de l'élève", "classe de l'élève", 'classes enfants', 'classe enfant', 'classes enfant');

const CHILD_FIELDS = new Set<Field>(['childLast', 'childUsage', 'childFirst', 'childClass']);

const FIELD_LABEL: Record<Field, string> = {
  firstName: 'Prénom', lastName: 'Nom', usageName: "Nom d'usage", birthDate: 'Date de naissance', classes: 'Classes',
  level: 'Niveau', email: 'Courriel', phone: 'Téléphone', phoneWork: 'Téléphone travail', title: 'Civilité',
  function: 'Fonction', director: 'Directeur', childLast: "Nom de l'élève", childUsage: "Nom d'usage de l'élève",
  childFirst: "Prénom de l'élève", childClass: "Classe de l'élève",
};

const REQUIRED: Record<Profile, Field[]> = {
  Student: ['lastName', 'firstName', 'birthDate', 'classes'],
  Teacher: ['lastName', 'firstName'],
  Personnel: ['lastName', 'firstName'],
  Relative: ['lastName', 'firstName'],
  Guest: ['lastName', 'firstName'],
};

export const PROFILE_LABEL: Record<Profile, string> = {
  Student: 'élèves', Teacher: 'enseignants', Personnel: 'personnels', Relative: 'parents', Guest: 'invités',
};

/** Profile from a file name: CSV_Eleves.csv, CSVExtraction-responsables.csv, students.csv… */
export function profileFromName(name: string): Profile | undefined {
  const n = fold(name);
  if (/\b(eleves?|students?|pupils?)\b/.test(n)) return 'Student';
  if (/\b(enseignants?|teachers?|professeurs?|profs?)\b/.test(n)) return 'Teacher';
  if (/\b(personnels?|staff)\b/.test(n)) return 'Personnel';
  if (/\b(parents?|responsables?|relatives?)\b/.test(n)) return 'Relative';
  if (/\b(invites?|guests?|autres?)\b/.test(n)) return 'Guest';
  return undefined;
}

function profileFromHeaders(fields: Set<Field>): Profile | undefined {
  if (fields.has('childFirst') || fields.has('childLast')) return 'Relative';
  if (fields.has('director')) return 'Teacher';
  if (fields.has('function')) return fields.has('classes') ? 'Teacher' : 'Personnel';
  if (fields.has('birthDate') && fields.has('classes') && !fields.has('email') && !fields.has('phone')) return 'Student';
  return undefined;
}

/** ONDE/BE1D extractions are recognised by their headers ("Nom Elève", "Nom responsable", "Directeur"). */
function isBe1d(name: string, headers: string[]): boolean {
  if (/csvextraction|onde|be1d/i.test(name)) return true;
  const h = new Set(headers.map(fold));
  return h.has('nom eleve') || h.has('nom responsable') || h.has('directeur');
}

function detectDelimiter(firstLine: string): string {
  let best = ';';
  let bestCount = 0;
  for (const d of [';', ',', '\t']) {
    let n = 0;
    let quoted = false;
    for (const ch of firstLine) {
      if (ch === '"') quoted = !quoted;
      else if (ch === d && !quoted) n++;
    }
    if (n > bestCount) [best, bestCount] = [d, n];
  }
  return best;
}

function normTitle(t: string | null): string | null {
  if (!t) return null;
  if (/^(mme|madame|mlle|mademoiselle)\.?$/i.test(t)) return t.toLowerCase().startsWith('mlle') ? 'Mlle' : 'Mme';
  if (/^(m|mr|monsieur)\.?$/i.test(t)) return 'M.';
  return t;
}

/** Splits a classes cell: several classes in one cell are separated by `|` (commas occur in class names). */
function splitClasses(v: string | null): string[] {
  return v ? v.split('|').map((x) => clean(x)).filter((x): x is string => !!x) : [];
}

export interface CsvTarget {
  /** Structure key in the batch. */
  key: string;
  /** Database id of the structure: part of derived external ids, so re-imports find the same accounts. */
  id: string;
}

export interface CsvResult {
  source: Source;
  profile: Profile;
  rows: number;
}

/** Parses one CSV file into the batch. Throws ImportFileError for a file-level problem; bad rows are rejected. */
export function parseCsv(file: string, buf: Buffer, target: CsvTarget, batch: ImportBatch): CsvResult {
  const { text } = decodeText(file, buf);
  const headerLine = text.split(/\r?\n/, 1)[0] ?? '';
  if (!headerLine.trim()) throw new ImportFileError(file, 1, '', 'fichier vide : la première ligne doit contenir les en-têtes de colonnes');
  let records: { record: string[]; info: { lines: number } }[];
  try {
    records = parse(text, {
      delimiter: detectDelimiter(headerLine),
      relax_column_count: true,
      // Spreadsheets leave quotes inside unquoted cells (=HYPERLINK("x")): keep them as text.
      relax_quotes: true,
      skip_empty_lines: true,
      info: true,
    }) as unknown as { record: string[]; info: { lines: number } }[];
  } catch (e) {
    const err = e as Error & { lines?: number };
    throw new ImportFileError(file, err.lines ?? 0, '', `CSV mal formé : ${err.message.replace(/^Invalid/, 'invalide')}`);
  }
  const [head, ...rows] = records;
  const headers = head.record.map((h) => h.trim());
  const source: Source = isBe1d(file, headers) ? 'be1d' : 'csv';

  // Column → field; repeated child columns are grouped by position (child 1, 2, 3).
  const columns: { index: number; field: Field; child: number; starred: boolean; header: string }[] = [];
  let child = -1;
  let childSeen = new Set<Field>();
  headers.forEach((h, index) => {
    const field = ALIASES[fold(h)];
    if (!field) return;
    let c = -1;
    if (CHILD_FIELDS.has(field)) {
      if (child < 0 || childSeen.has(field)) {
        child++;
        childSeen = new Set();
      }
      childSeen.add(field);
      c = child;
    }
    columns.push({ index, field, child: c, starred: h.includes('*'), header: h.replace(/\*/g, '').trim() });
  });
  const present = new Set(columns.map((c) => c.field));
  const profile = profileFromName(file) ?? profileFromHeaders(present);
  if (!profile) {
    throw new ImportFileError(file, 1, '', 'profil introuvable : nommez le fichier CSV_Eleves, CSV_Enseignants, CSV_Personnels, CSV_Parents ou CSV_Invites');
  }
  for (const f of REQUIRED[profile]) {
    if (!present.has(f)) throw new ImportFileError(file, 1, FIELD_LABEL[f], `colonne obligatoire « ${FIELD_LABEL[f]} » absente`);
  }
  const required = new Set<Field>(REQUIRED[profile]);
  for (const c of columns) if (c.starred && c.child < 0) required.add(c.field);

  const taken = new Map<string, number>();
  let count = 0;
  for (const { record, info } of rows) {
    if (record.every((v) => !v.trim())) continue;
    count++;
    const line = info.lines;
    const get = (f: Field) => {
      for (const c of columns) if (c.field === f && c.child < 0) {
        const v = clean(record[c.index]);
        if (v) return v;
      }
      return null;
    };
    const getAll = (f: Field) => columns.filter((c) => c.field === f && c.child < 0).flatMap((c) => splitClasses(clean(record[c.index])));
    const header = (f: Field) => columns.find((c) => c.field === f)?.header ?? FIELD_LABEL[f];
    const reject = (field: string, reason: string) => {
      batch.rejected.push({ file, line, field, reason });
      const l = get('usageName') ?? get('lastName');
      const f = get('firstName');
      if (l && f) batch.protect.push(`${source}:${target.id}:${profile}:${foldName(l)}:${foldName(f)}:`);
    };
    let bad = false;
    for (const f of required) {
      if (!get(f)) {
        reject(header(f), 'champ obligatoire vide');
        bad = true;
        break;
      }
    }
    if (bad) continue;
    let birthDate: string | null = null;
    const rawBirth = get('birthDate');
    if (rawBirth) {
      const d = parseDate(rawBirth);
      if (!d) {
        reject(header('birthDate'), `date invalide « ${rawBirth} » (attendu JJ/MM/AAAA)`);
        continue;
      }
      birthDate = d;
    }
    const firstName = get('firstName')!;
    const lastName = get('usageName') ?? get('lastName')!;
    const base = `${source}:${target.id}:${profile}:${foldName(lastName)}:${foldName(firstName)}:${birthDate ?? ''}`;
    // Homonyms without birth date in one file: numbered in file order, which a re-import repeats.
    const n = (taken.get(base) ?? 0) + 1;
    taken.set(base, n);
    const externalId = n === 1 ? base : `${base}#${n}`;
    const level = get('level');
    const u: UserRecord = {
      externalId,
      source,
      origin: source === 'be1d' ? 'feed' : 'manual',
      profile,
      title: normTitle(get('title')),
      firstName,
      lastName,
      birthDate,
      email: cleanEmail(get('email')),
      phone: cleanPhone(get('phone')) ?? cleanPhone(get('phoneWork')),
      structures: new Set([target.key]),
      classes: [...new Set(getAll('classes'))].map((name) => ({ structure: target.key, name, level: profile === 'Student' ? level : null })),
      groups: [],
      file,
      line,
    };
    mergeUser(batch, u);
    if (profile === 'Relative') {
      for (let i = 0; i <= child; i++) {
        const cell = (f: Field) => {
          const c = columns.find((x) => x.field === f && x.child === i);
          return c ? clean(record[c.index]) : null;
        };
        const childFirst = cell('childFirst');
        const lastNames = [cell('childUsage'), cell('childLast')].filter((x): x is string => !!x);
        if (!childFirst && !lastNames.length) continue;
        if (!childFirst || !lastNames.length) {
          batch.rejected.push({ file, line, field: childFirst ? FIELD_LABEL.childLast : FIELD_LABEL.childFirst, reason: `enfant ${i + 1} incomplet : nom et prénom attendus` });
          continue;
        }
        batch.childrenByName.push({ parent: externalId, structure: target.key, lastNames, firstName: childFirst, className: cell('childClass') ?? '', file, line });
      }
    }
  }
  return { source, profile, rows: count };
}
