// CSV imports: the ENT templates (CSV_Eleves, CSV_Enseignants, …) and the ONDE/BE1D extraction of primary schools.
import { setImmediate as nextTurn } from 'node:timers/promises';
import { parse as csvParser, type Options } from 'csv-parse';
import type { Profile } from '../directory/vocabulary.js';
import { foldName } from '../directory/fold.js';
import { mergeUser } from './aaf.js';
import { datesDiffer, titlesDiffer, twoPeople } from './checks.js';
import { checkEmail, clean, cleanPhone, decodeText, normTitle, parseDate, postalAddress, postalParts, type Encoding } from './text.js';
import type { ImportCode, ImportMessage } from './messages.js';
import { ImportFileError, rejection, type ImportBatch, type MergeNote, type Rejection, type Source, type UserRecord } from './types.js';
import { isTemplateExample } from './csv-templates.js';

export type Field =
  | 'externalId' | 'firstName' | 'lastName' | 'usageName' | 'birthDate' | 'classes' | 'level' | 'email' | 'phone' | 'phoneWork' | 'mobile'
  | 'title' | 'function' | 'director' | 'profile' | 'address' | 'zipCode' | 'city' | 'country' | 'localAdmin'
  | 'childExternalId' | 'childLast' | 'childUsage' | 'childFirst' | 'childClass';

/**
 * Folded header → field. Headers are folded by foldName, so case, accents, punctuation and the `*` of required
 * columns do not matter. French, English, Spanish and Portuguese names: the reference ENT's templates
 * (CSV_Eleves/Students/Alumnos/Alunos…) and its feeder's column aliases.
 */
const ALIASES: Record<string, Field> = {};
const alias = (field: Field, ...names: string[]) => {
  for (const n of names) ALIASES[foldName(n)] = field;
};
alias('externalId', 'id', 'externalid', 'external id', 'id externo', 'identifiant externe');
alias('firstName', 'prénom', 'firstname', 'first name', 'given name', 'prénom élève', 'prénom responsable', 'nombre', 'nome');
alias('lastName', 'nom', 'lastname', 'last name', 'surname', 'nom de famille', 'nom élève', 'nom responsable', 'nom patronymique', 'apellido', 'apellidos', 'sobrenome');
alias('usageName', "nom d'usage", 'nom usage', "nom d'usage élève", 'nom usage responsable', "nom d'usage responsable");
alias('birthDate', 'date de naissance', 'date naissance', 'datenaissance', 'naissance', 'né(e) le', 'birthdate', 'birth date', 'date of birth', 'fecha de nacimiento', 'data de nascimento');
alias('classes', 'classe', 'classes', 'class', 'division', 'libellé classe', 'classe ou regroupement', 'clase', 'turma');
alias('level', 'niveau', 'level');
alias('email', 'email', 'e-mail', 'mail', 'courriel', 'adresse mail', 'adresse email', 'adresse électronique', 'correo electrónico', 'correo');
alias('phone', 'téléphone', 'tel', 'téléphone domicile', 'téléphone fixe', 'phone', 'teléfono', 'telefone');
// A mobile number is kept apart (users.mobile, for SMS), as SIECLE's TEL_PORTABLE and the reference's `mobile`.
alias('mobile', 'téléphone portable', 'tél portable', 'portable', 'mobile', 'téléphone mobile', 'mobile phone', 'celular', 'móvil', 'telemóvel');
alias('phoneWork', 'telephonetravail', 'téléphone travail', 'téléphone professionnel', 'phone work', 'teléfono trabajo', 'telefone trabalho');
alias('title', 'civilité', 'civilité responsable', 'titre');
alias('function', 'fonction', 'fonctions', 'function', 'función', 'função');
alias('director', 'directeur', 'directrice');
alias('localAdmin', 'adml', 'administrateur local', 'admin local', 'local admin', 'local administrator');
alias('profile', 'type', 'profil', 'profile', 'perfil');
alias('address', 'adresse', 'adresse1', 'adresse responsable', 'address', 'dirección', 'endereço');
alias('zipCode', 'cp', 'cp1', 'code postal', 'cp responsable', 'postcode', 'zip code', 'código postal');
alias('city', 'ville', 'commune', 'commune1', 'commune responsable', 'city', 'ciudad', 'cidade');
alias('country', 'pays', 'pays responsable', 'country', 'país');
alias('childExternalId', 'childexternalid', 'child external id', 'childid', 'id enfant', 'identifiant externe enfant', 'id externo hijo', 'id externo filho');
alias('childLast', "nom de l'élève", 'nom de famille enfant', 'nom enfant', 'nom élève rattaché');
alias('childUsage', "nom d'usage enfant", 'nom usage enfant');
alias('childFirst', "prénom de l'élève", 'prénom enfant');
alias('childClass', "classes de l'élève", "classe de l'élève", 'classes enfants', 'classe enfant', 'classes enfant');

/**
 * Headers that name the pupil, read as the child's columns in a parents' file (relativeFile): ONDE's parents'
 * extraction names each child « Nom de famille élève », « Nom d'usage élève », « Prénom élève », « Classes élèves »
 * (the reference's feeder maps them so since its ticket #26572). Read as in a pupils' file, they gave the parent a
 * child's first or usage name and linked no child, silently.
 */
const CHILD_ALIASES: Record<string, Field> = {};
const childAlias = (field: Field, ...names: string[]) => {
  for (const n of names) CHILD_ALIASES[foldName(n)] = field;
};
childAlias('childLast', 'nom élève', 'nom de famille élève', 'nom de famille de l’élève', 'nom élèves');
childAlias('childUsage', "nom d'usage élève", 'nom usage élève');
childAlias('childFirst', 'prénom élève', 'prénom élèves');
childAlias('childClass', 'classe élève', 'classes élève', 'classes élèves', 'classe élèves', 'libellé classe élève');

/**
 * A parents' file, before its columns are mapped: by its name, else (a name that says no profile) by a responsable's
 * or a child's column. A pupils' file listing its pupils' responsables keeps « Prénom élève » as the pupil's.
 */
function isRelativeFile(name: string, headers: string[]): boolean {
  const named = profileFromName(name);
  if (named) return named === 'Relative';
  return headers.some((h) => {
    const f = foldName(h);
    return f.includes('responsable') || (f in ALIASES && CHILD_FIELDS.has(ALIASES[f]));
  });
}

// Fields of one child named on a parent's row (grouped by position); childExternalId columns stand alone.
const CHILD_FIELDS = new Set<Field>(['childLast', 'childUsage', 'childFirst', 'childClass']);

export const FIELD_LABEL: Record<Field, string> = {
  firstName: 'Prénom', lastName: 'Nom', usageName: "Nom d'usage", birthDate: 'Date de naissance', classes: 'Classes',
  level: 'Niveau', email: 'Courriel', phone: 'Téléphone', phoneWork: 'Téléphone travail', mobile: 'Téléphone portable', title: 'Civilité',
  function: 'Fonction', director: 'Directeur', localAdmin: 'ADML', childLast: "Nom de l'élève", childUsage: "Nom d'usage de l'élève",
  childFirst: "Prénom de l'élève", childClass: "Classe de l'élève", externalId: 'Identifiant externe', profile: 'Profil',
  address: 'Adresse', zipCode: 'Code postal', city: 'Ville', country: 'Pays', childExternalId: "Identifiant externe de l'enfant",
};

// A pupil without a class is accepted: the reference's templates mark the class optional.
export const REQUIRED: Record<Profile, Field[]> = {
  Student: ['lastName', 'firstName', 'birthDate'],
  Teacher: ['lastName', 'firstName'],
  Personnel: ['lastName', 'firstName'],
  Relative: ['lastName', 'firstName'],
  Guest: ['lastName', 'firstName'],
};

/**
 * Columns a file of one profile must have, though a row may leave them empty: without its class column (cut in a
 * spreadsheet; ONDE always exports « Classe », the template stars « Classes* »), a pupils' file took every pupil out
 * of its class — an empty cell says « no class », a missing column said it for everyone. Not teachers: their classes
 * often come from STS-web, and a teachers' list without classes is a real file; it leaves their classes as they are
 * (UserRecord.keepClasses). A file with a Profil column needs them as soon as a row is of that profile.
 */
const FILE_REQUIRED: Partial<Record<Profile, Field[]>> = { Student: ['classes'] };

/** ONDE's own headers (CSVExtraction-eleves / -responsables / -enseignants), to name a missing column as the file would. */
const BE1D_LABEL: Partial<Record<Profile, Partial<Record<Field, string>>>> = {
  Student: { lastName: 'Nom Elève', firstName: 'Prénom Elève', birthDate: 'Date naissance', classes: 'Classe' },
  Relative: { lastName: 'Nom responsable', firstName: 'Prénom responsable' },
  Teacher: { classes: 'Classe' },
};

/** The name of a column a file lacks: ONDE's header for an ONDE file, the ENT template's otherwise. */
function missingLabel(f: Field, source: Source, profile: Profile | undefined): string {
  return (source === 'be1d' && profile && BE1D_LABEL[profile]?.[f]) || FIELD_LABEL[f];
}

/** A yes cell of a flag column (ADML): oui, o, x, 1, yes, y, vrai, true. */
function isYes(v: string | null | undefined): boolean {
  return !!v && /^(oui|o|x|1|yes|y|vrai|true)$/i.test(v.trim());
}

export const PROFILE_LABEL: Record<Profile, string> = {
  Student: 'élèves', Teacher: 'enseignants', Personnel: 'personnels', Relative: 'parents', Guest: 'invités',
};

/**
 * Profile from a file name or a `Type`/`Profil` cell, in the reference's four languages:
 * CSV_Eleves / CSV_Students / CSV_Alumnos / CSV_Alunos, CSVExtraction-responsables, CSV_Padres, CSV_Pais…
 */
export function profileFromName(name: string): Profile | undefined {
  const n = foldName(name.replace(/[._]/g, ' '));
  if (/\b(eleves?|students?|pupils?|alumnos?|alunos?|estudiantes?)\b/.test(n)) return 'Student';
  if (/\b(enseignants?|teachers?|professeurs?|profs?|profesor(es)?|professor(es)?|docentes?)\b/.test(n)) return 'Teacher';
  if (/\b(personnels?|staff|personal|funcionarios?)\b/.test(n)) return 'Personnel';
  if (/\b(parents?|responsables?|relatives?|padres?|madres?|pais|pai|maes?)\b/.test(n)) return 'Relative';
  if (/\b(invites?|guests?|autres?|invitados?|convidados?)\b/.test(n)) return 'Guest';
  return undefined;
}

function profileFromHeaders(fields: Set<Field>): Profile | undefined {
  if (fields.has('childFirst') || fields.has('childLast') || fields.has('childExternalId')) return 'Relative';
  if (fields.has('director')) return 'Teacher';
  if (fields.has('function')) return fields.has('classes') ? 'Teacher' : 'Personnel';
  if (fields.has('birthDate') && fields.has('classes') && !fields.has('email') && !fields.has('phone')) return 'Student';
  return undefined;
}

/**
 * ONDE/BE1D extractions are recognised by their name or headers ("Nom Elève", "Nom responsable", "Directeur"); a file
 * named as one of the ENT's templates (CSV_Enseignants…) is not, whatever columns were added to it (a « Directeur »
 * column to name the school's head, as the teachers' template once had).
 */
function isBe1d(name: string, headers: string[]): boolean {
  if (/csvextraction|onde|be1d/i.test(name)) return true;
  if (/^csv[ _-]/i.test(name.split(/[\\/]/).pop() ?? name) && profileFromName(name)) return false;
  const h = new Set(headers.map(foldName));
  return h.has('nom-eleve') || h.has('nom-responsable') || h.has('directeur');
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


/** Splits a classes cell: several classes in one cell are separated by `|` (commas occur in class names). */
function splitClasses(v: string | null): string[] {
  return v ? v.split('|').map((x) => clean(x)).filter((x): x is string => !!x) : [];
}

export interface CsvTarget {
  /** Structure key in the batch. */
  key: string;
  /** Database id of the structure: part of derived external ids, so re-imports find the same accounts. */
  id: string;
  /** The structure's adults stored under name keys, by key without its `#n` (storedNamesakes). */
  namesakes?: Map<string, StoredNamesake[]>;
}

/**
 * An adult's account (parent, teacher, staff, guest) stored under a name key (csvNameKey, `#n` for the second
 * homonym on): what a row of that name is compared with (assignNamesakeKeys).
 */
export interface StoredNamesake {
  key: string;
  title: string | null;
  email: string | null;
  /** YYYY-MM-DD */
  birthDate: string | null;
  /** The children linked to the account (a parent), folded `last first` (childIdentity). */
  children: Set<string>;
  /** Folded first street line and postcode of its postal address, as a row's (RelativeRow.address). */
  address: string | null;
  /** The keys of accounts merged into it (« Gérer les doublons »: user_aliases), which a re-import maps to it. */
  aliases: string[];
  /** The name it is shown by (users.last_name: the usage name, else the family name), folded. */
  shown?: string;
}

/** A child as assignNamesakeKeys compares children: both names, folded (the same child, not one of the same family name). */
const childIdentity = (lastName: string, firstName: string) => `${foldName(lastName)} ${foldName(firstName)}`;

/**
 * The adults of structure `structureId` stored under name keys (ONDE and CSV files without identifiers), pre-deleted
 * ones included (a key of theirs is not free), by key without `#n`: parseCsv gives each adult of a file the stored
 * account of that name that is them (assignNamesakeKeys).
 */
export async function storedNamesakes(db: { query: (sql: string, params: unknown[]) => Promise<{ rows: unknown[] }> }, structureId: string): Promise<Map<string, StoredNamesake[]>> {
  const r = await db.query(
    `SELECT u.external_id AS key, u.last_name, u.title, u.email, u.birth_date::text AS birth_date, u.address,
            ARRAY(SELECT json_build_array(c.last_name, c.first_name) FROM relations rl JOIN users c ON c.id = rl.child_id WHERE rl.parent_id = u.id) AS children,
            ARRAY(SELECT a.external_id FROM user_aliases a WHERE a.user_id = u.id) AS aliases
     FROM users u WHERE u.profile <> 'Student' AND (u.external_id LIKE $1 OR u.external_id LIKE $2)`,
    [`csv:${structureId}:%`, `be1d:${structureId}:%`],
  );
  const out = new Map<string, StoredNamesake[]>();
  for (const x of r.rows as { key: string; last_name: string | null; title: string | null; email: string | null; birth_date: string | null; address: string | null; children: [string, string][]; aliases: string[] }[]) {
    if (isCsvIdKey(x.key)) continue;
    const base = namesakeBase(x.key);
    const entry = { key: x.key, title: x.title, email: x.email, birthDate: x.birth_date, children: new Set(x.children.map(([l, f]) => childIdentity(l, f))), address: foldedAddress(x.address), aliases: x.aliases, shown: foldName(x.last_name ?? '') };
    (out.get(base) ?? out.set(base, []).get(base)!).push(entry);
  }
  return out;
}

/** A stored postal address (text.ts postalParts) as a row's is compared: first street line and postcode, folded; null without a street. */
function foldedAddress(address: string | null): string | null {
  const parts = address ? postalParts(address) : null;
  return parts?.street.length && parts.postcode ? `${foldStreet(parts.street[0])} ${foldName(parts.postcode)}` : null;
}

/**
 * Abbreviated street types written out: La Poste's (AFNOR NF Z 10-011: AV, BD, CHE, IMP, PL, RTE…) and the usual
 * hand-typed ones (av., bd, pl., r., ch.).
 */
const STREET_TYPES: Readonly<Record<string, string>> = {
  all: 'allee', av: 'avenue', ave: 'avenue', bd: 'boulevard', bld: 'boulevard', bvd: 'boulevard', ch: 'chemin', che: 'chemin', chem: 'chemin',
  crs: 'cours', fg: 'faubourg', imp: 'impasse', lot: 'lotissement', pass: 'passage', pl: 'place', r: 'rue', res: 'residence', rte: 'route',
  sq: 'square', st: 'saint', ste: 'sainte',
};

/**
 * A street line as two addresses are compared: folded (foldName), abbreviations written out, so one parent's rows
 * typed apart (« 12 pl. de la Mairie », « 12 place de la Mairie ») give one address.
 */
function foldStreet(street: string): string {
  return foldName(street).split('-').map((w) => STREET_TYPES[w] ?? w).join('-');
}

/**
 * The keys of the adults met for the first time in a file (`pending`, in file order), among their namesakes: each the
 * stored account they agree with best, else the first key neither stored nor taken. Numbering namesakes by file order
 * alone swapped two people's accounts (and their sign-in, and a director's local administration) whenever a delivery
 * listed them the other way round. Never the same person: two civilities or two birth dates given and different.
 * Agreeing: the same e-mail, the same street address, a child in common (both names: a family name alone is often the
 * parent's own); among equals, the same name shown (a usage name or none: it changes with a marriage); else the lowest
 * key, as file order gave it. Nothing else is evidence: an e-mail or an address may change between deliveries, primary
 * classes come back every year under the same names (a director landed on her departed colleague's account who had had
 * her new class), most namesakes share a civility. A namesake who left is still taken for a newcomer of that name
 * with nothing to tell them apart, as file order did. Given best agreement first, whole file read: taken in file order,
 * a newcomer listed before a stored parent of her name (agreeing with nothing) was given that parent's activated
 * account, with its e-mail, and the parent a new one beside it.
 */
function assignNamesakeKeys(pending: PendingAdult[], stored: ReadonlyMap<string, StoredNamesake[]> | undefined, claimed: Set<string>): void {
  const byBase = new Map<string, PendingAdult[]>();
  for (const p of pending) (byBase.get(p.base) ?? byBase.set(p.base, []).get(p.base)!).push(p);
  const order = new Map(pending.map((p, i) => [p, i]));
  // A parent's account stored under her usage name's key (made before the family name keyed parents) is hers too: the
  // group of her family name looks there as well, so one stored account may be looked at by two groups (the newcomer
  // whose family name is that usage name, and her). Best agreement first over every group at once: settled group
  // by group, a newcomer listed first took the other mother's activated account agreeing with nothing
  // (test/import-csv-parent-usage-key-taken.test.ts).
  const groups = [...byBase].map(([base, people]) => {
    const alts = [...new Set(people.map((p) => p.alt).filter((a): a is string => !!a && a !== base))];
    return { base, people, namesakes: [...(stored?.get(base) ?? []), ...alts.flatMap((a) => stored?.get(a) ?? [])] };
  });
  const pairs: { p: PendingAdult; i: number; key: string; score: number }[] = [];
  for (const { base, people } of groups) {
    for (const p of people) {
      const { row } = p;
      // The accounts of her family name's key, and those of her own usage name's key only: another person of the group
      // (Claire MARTIN beside Claire DUPONT née MARTIN) was offered the account keyed by a usage name she does not
      // bear, and with nothing to tell them apart each took the other's (test/import-csv-usage-key-namesakes.test.ts).
      const own = [...(stored?.get(base) ?? []), ...(p.alt && p.alt !== base ? (stored?.get(p.alt) ?? []) : [])];
      for (const x of own) {
        if (claimed.has(x.key) || titlesDiffer(x.title, row.title) || datesDiffer(x.birthDate, row.birthDate)) continue;
        const sameAddress = !!x.address && x.address === row.address;
        const sameChild = [...row.children].some((c) => x.children.has(c));
        // The name shown (a usage name, or none) only breaks a tie: it changes with a marriage, as an e-mail may.
        const sameShown = !!x.shown && x.shown === row.shown;
        pairs.push({ p, i: order.get(p)!, key: x.key, score: (sameEmail(x.email, row.email) ? 8 : 0) + (sameAddress ? 6 : 0) + (sameChild ? 4 : 0) + (sameShown ? 1 : 0) });
      }
    }
  }
  pairs.sort((a, b) => b.score - a.score || a.i - b.i || keyOrder(a.key) - keyOrder(b.key));
  for (const { p, key } of pairs) {
    if (p.slot.key || p.slot.former || claimed.has(key)) continue;
    claimed.add(key);
    if (namesakeBase(key) === p.base) p.slot.key = key;
    else p.slot.former = key;
  }
  for (const { base, people, namesakes } of groups) {
    const storedKeys = new Set(namesakes.map((x) => x.key));
    for (const p of people) {
      for (let n = 1; !p.slot.key; n++) {
        const key = n === 1 ? base : `${base}#${n}`;
        if (!storedKeys.has(key) && !claimed.has(key)) {
          p.slot.key = key;
          claimed.add(key);
        }
      }
    }
  }
}

/** Position of a homonym's key: `base` 1, `base#2` 2… */
const keyOrder = (key: string) => Number(/#(\d+)$/.exec(key)?.[1] ?? 1);

export interface CsvResult {
  source: Source;
  /** Profiles of the rows: the file name's, or those a `Type`/`Profil` column gives. */
  profiles: Set<Profile>;
  rows: number;
  encoding: Encoding;
}

/** Account key of a row that carries the file's own identifier (`externalid`/`Id` column), per structure. */
export function csvIdKey(source: Source, structureId: string, id: string): string {
  return `${source}:${structureId}:id:${id}`;
}

/**
 * Account key built from the names (no identifier column): folded like logins, so spelling variants agree. A pupil's
 * holds the birth date (required in the pupils' files: it tells namesakes apart); an adult's does not, as the date is
 * optional in the adults' templates and a file that fills it in later must find the same accounts.
 */
export function csvNameKey(source: Source, structureId: string, profile: Profile, lastName: string, firstName: string, birthDate: string | null): string {
  return `${source}:${structureId}:${profile}:${foldName(lastName)}:${foldName(firstName)}:${profile === 'Student' ? (birthDate ?? '') : ''}`;
}

/**
 * The key an adult given with a birth date had before adults' keys left the date out (csvNameKey): their accounts
 * are found under it once (a former key), then re-keyed. None for a pupil or without a date.
 */
function datedAdultKey(source: Source, structureId: string, profile: Profile, lastName: string, firstName: string, birthDate: string | null): string[] {
  return profile !== 'Student' && birthDate ? [`${csvNameKey(source, structureId, profile, lastName, firstName, null)}${birthDate}`] : [];
}

/** Whether an account key is a file's own identifier (csvIdKey) rather than built from the names (csvNameKey). */
export function isCsvIdKey(key: string): boolean {
  return key.split(':', 3)[2] === 'id';
}

/**
 * What a key of csvIdKey or csvNameKey holds: the file's identifier, or the profile and folded family name a name-built
 * key starts with; null for a key not made here (AAF, SIECLE…, or none).
 */
export function csvKeyParts(key: string | null | undefined): { id: string } | { profile: string; lastName: string } | null {
  const [source, , third, ...rest] = (key ?? '').split(':');
  if ((source !== 'csv' && source !== 'be1d') || third === undefined) return null;
  if (third === 'id') return rest.length ? { id: rest.join(':') } : null;
  return rest.length >= 2 ? { profile: third, lastName: rest[0] } : null;
}

/** A name-built key without the `#n` that tells namesakes apart (slot keys of assignNamesakeKeys). */
const namesakeBase = (key: string) => key.replace(/#\d+$/, '');

/** What a parent's row says about who they are, beyond the names (compared by sameRelative). */
interface RelativeRow {
  /** Civility as normTitle gives it (M., Mme, Mlle…); null when the row has none. */
  title: string | null;
  email: string | null;
  /** YYYY-MM-DD, optional in the parents' files. */
  birthDate: string | null;
  /** Folded street line + postcode. */
  address: string | null;
  /** Folded family names of the children named on the row. */
  childNames: Set<string>;
  /** The children named on the row, folded `last first` (childIdentity), every family name they are given under. */
  children: Set<string>;
  /**
   * The usage name the row gives beside the family name that keys the parent (folded), null without one: two rows of
   * one key giving two different usage names are two people (two mothers « Marie DUPONT », épouses MARTIN and
   * BERNARD), never one account (test/import-csv-parent-usage-names-two-mothers.test.ts).
   */
  usage?: string | null;
  /** The name the row shows (the usage name, else the family name), folded: the tie-break among namesakes. */
  shown?: string;
}

/** An account key given once the whole file is read (assignNamesakeKeys); '' until then. */
interface KeySlot {
  key: string;
  /**
   * The stored account's key when it is under the usage name's (PendingAdult.alt): the account is found under it
   * once (a former key) and re-keyed by the family name, so a later export dropping the usage name still finds it.
   */
  former?: string;
}

/** An adult met for the first time in the file, keyed by name: `row` is what their rows say (completed by later ones). */
interface PendingAdult {
  base: string;
  /** A parent's key built from her usage name, as before the family name keyed her: her stored account may be under it. */
  alt?: string;
  row: RelativeRow;
  slot: KeySlot;
}

/** A relative seen earlier in the file under the same name: its first row, completed by the rows read as them. */
interface SeenRelative extends RelativeRow {
  slot: KeySlot;
  /** Line of the person's first row: the report names it beside each row read as the same person. */
  line: number;
}

/** Two e-mails given and the same, case aside (as mail servers read the domain). */
function sameEmail(a: string | null, b: string | null): boolean {
  return !!a && !!b && a.toLowerCase() === b.toLowerCase();
}

/** Two e-mails given and different: two people. */
function emailsDiffer(a: string | null, b: string | null): boolean {
  return !!a && !!b && !sameEmail(a, b);
}

/**
 * The legal representatives a file names for each child: child (childIdentity) → the parents (childIdentity of their
 * names) of every row naming that child. Read before the rows are (sameRelative looks ahead: a co-parent's rows may
 * come later).
 */
type CoParents = Map<string, Set<string>>;

/**
 * Same person (a parent given once per child, as ONDE extractions and hand-made files do)? Names already match
 * within the structure (`self`: that name, childIdentity). 'same', 'apart' (two accounts, to be said: the rows name
 * siblings but give two addresses, and nothing else ties them), or 'other'. Never when the rows contradict each
 * other — two civilities, two e-mails or two birth dates, given and different —: a father and a mother who share a
 * first name (Camille, Dominique) and a home are two accounts, and a merge would hand one of them the other's
 * credentials. Otherwise the same e-mail, or the same postal address (abbreviations aside: foldStreet). Two addresses
 * are two people unless a child is named on both, or another parent of the file names a child of each row (the
 * siblings' other parent: JOYEZ Andre for JOYEZ Carine in the Emile Zola file). ONDE gives a parent's children on one
 * row: two rows are two records, and a family name in common is not enough — BEAUMONT Muriel's « children », born
 * 79 days apart at two addresses, are two mothers', and one account would have shown each mother the other's child.
 * Without two addresses to compare, children of one family name (siblings) are enough. The reference ENT merges on
 * the names alone; this is stricter. Rule: issue #14 (name and e-mail or address), and the contradictions from the
 * audit of the BE1D import (the father DUMONT Camille lost his account to the mother's, silently).
 */
function sameRelative(a: SeenRelative, row: RelativeRow, self: string, coParents: CoParents): 'same' | 'apart' | 'other' {
  if (titlesDiffer(a.title, row.title) || emailsDiffer(a.email, row.email) || datesDiffer(a.birthDate, row.birthDate)) return 'other';
  if (a.usage && row.usage && a.usage !== row.usage) return 'other';
  if (sameEmail(a.email, row.email)) return 'same';
  const siblings = [...row.childNames].some((n) => a.childNames.has(n));
  if (!a.address || !row.address) return siblings ? 'same' : 'other';
  if (a.address === row.address || sharedFamily(a.children, row.children, self, coParents)) return 'same';
  return siblings ? 'apart' : 'other';
}

/** A child named in both sets, or another parent (not `self`) naming a child of each. */
function sharedFamily(a: ReadonlySet<string>, b: ReadonlySet<string>, self: string, coParents: CoParents): boolean {
  for (const x of a) {
    if (b.has(x)) return true;
    for (const p of coParents.get(x) ?? []) {
      if (p !== self && [...b].some((y) => coParents.get(y)?.has(p))) return true;
    }
  }
  return false;
}

/** A later row read as `seen`'s person completes what the earlier rows left empty, for the next rows to compare. */
function completeRelative(seen: SeenRelative, row: RelativeRow): void {
  seen.title ??= row.title;
  seen.email ??= row.email;
  seen.birthDate ??= row.birthDate;
  seen.address ??= row.address;
  seen.usage ??= row.usage;
  for (const n of row.childNames) seen.childNames.add(n);
  for (const c of row.children) seen.children.add(c);
}

/** Characters handed to the CSV parser, and rows read into the batch, between two turns of the event loop. */
const PARSE_SLICE = 64 * 1024;
const ROWS_PER_TURN = 500;

/**
 * csv-parse's records of `text`, fed by slices with a turn of the event loop between two (an import runs in the
 * server: a school's file is some 50 ms of parsing). Same records and errors as csv-parse/sync's parse.
 */
async function parseRecords(text: string, options: Options): Promise<Array<{ record: string[]; info: { lines: number } }>> {
  const records: Array<{ record: string[]; info: { lines: number } }> = [];
  const parser = csvParser(options);
  let failed: Error | null = null;
  parser.on('readable', () => {
    for (let r = parser.read(); r !== null; r = parser.read()) records.push(r);
  });
  parser.on('error', (e) => (failed ??= e));
  const ended = new Promise<void>((ok) => parser.on('end', ok).on('error', () => ok()));
  for (let at = 0, end = 0; at < text.length && !failed; at = end) {
    if (at) await nextTurn();
    // A slice never ends between the two halves of a surrogate pair (each half alone would become U+FFFD).
    end = Math.min(text.length, at + PARSE_SLICE);
    const last = text.charCodeAt(end - 1);
    if (end < text.length && last >= 0xd800 && last <= 0xdbff) end--;
    parser.write(text.slice(at, end));
  }
  if (!failed) parser.end();
  await ended;
  if (failed) throw failed;
  return records;
}

/**
 * The line (from 1) where the quote left open at the end of `text` opens, as csv-parse with relax_quotes reads it: a
 * quote opens a field only at its start; inside, `""` is a quote and `"` closes. Undefined if every quote closes.
 */
export function unclosedQuoteLine(text: string, delimiter: string): number | undefined {
  let line = 1;
  let openedAt = 0;
  let fieldStart = true;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (openedAt) {
      if (c === '"') {
        if (text[i + 1] === '"') i++;
        else openedAt = 0;
      } else if (c === '\n' || (c === '\r' && text[i + 1] !== '\n')) line++;
      continue;
    }
    if (c === '\n' || c === '\r') {
      if (c === '\n' || text[i + 1] !== '\n') line++;
      fieldStart = true;
    } else if (c === '"' && fieldStart) openedAt = line;
    else fieldStart = text.startsWith(delimiter, i);
  }
  return openedAt || undefined;
}

/** Parses one CSV file into the batch. Throws ImportFileError for a file-level problem; bad rows are rejected. */
export async function parseCsv(file: string, buf: Buffer, target: CsvTarget, batch: ImportBatch): Promise<CsvResult> {
  const { text, encoding } = decodeText(file, buf);
  const headerLine = text.split(/\r\n|\n|\r/, 1)[0] ?? '';
  if (!headerLine.trim()) throw new ImportFileError(file, 1, '', 'csvEmpty');
  let records: { record: string[]; info: { lines: number } }[];
  try {
    records = await parseRecords(text, {
      delimiter: detectDelimiter(headerLine),
      relax_column_count: true,
      // Spreadsheets leave quotes inside unquoted cells (=HYPERLINK("x")): keep them as text.
      relax_quotes: true,
      skip_empty_lines: true,
      info: true,
    });
  } catch (e) {
    const err = e as Error & { lines?: number; code?: string };
    // csv-parse finds an unclosed quote at the end of the file, and counts the lines of the quoted field its own way
    // (beyond the file's last line): named at the line the quote opens on, where it is to be fixed.
    const opened = err.code === 'CSV_QUOTE_NOT_CLOSED' ? unclosedQuoteLine(text, detectDelimiter(headerLine)) : undefined;
    if (opened) throw new ImportFileError(file, opened, '', 'csvMalformed', { detail: `guillemet ouvert ligne ${opened} jamais fermé` });
    throw new ImportFileError(file, err.lines ?? 0, '', 'csvMalformed', { detail: err.message.replace(/^Invalid/, 'invalide') });
  }
  const [head, ...rows] = records;
  const headers = head.record.map((h) => h.trim());
  const source: Source = isBe1d(file, headers) ? 'be1d' : 'csv';

  // Column → field; repeated child columns are grouped by position (child 1, 2, 3); every Childexternalid column
  // names one more child.
  const columns: { index: number; field: Field; child: number; starred: boolean; header: string }[] = [];
  let child = -1;
  let childSeen = new Set<Field>();
  const relativeFile = isRelativeFile(file, headers);
  headers.forEach((h, index) => {
    const field = (relativeFile ? CHILD_ALIASES[foldName(h)] : undefined) ?? ALIASES[foldName(h)];
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
  const fileProfile = profileFromName(file) ?? (present.has('profile') ? undefined : profileFromHeaders(present));
  if (!fileProfile && !present.has('profile')) {
    throw new ImportFileError(file, 1, '', 'csvNoProfile');
  }
  /** The file is refused (line 1, named as its kind of file heads it) when it lacks one of `fields`. */
  const requireColumns = (fields: readonly Field[], profile: Profile | undefined) => {
    const missing = fields.find((f) => !present.has(f));
    if (!missing) return;
    const column = missingLabel(missing, source, profile);
    throw new ImportFileError(file, 1, column, 'csvMissingColumn', { column });
  };
  requireColumns(fileProfile ? [...REQUIRED[fileProfile], ...(FILE_REQUIRED[fileProfile] ?? [])] : ['lastName', 'firstName'], fileProfile);
  // Starred columns are required, except a pupil's class (the French template stars it, the reference does not
  // require it).
  const starred = columns.filter((c) => c.starred && c.child < 0).map((c) => c.field);

  /** A cell of the row, cleaned; a field given in several columns (Adresse1, Adresse2…): the first filled. */
  const cellOf = (record: string[], f: Field) => {
    for (const c of columns) if (c.field === f && c.child < 0) {
      const v = clean(record[c.index]);
      if (v) return v;
    }
    return null;
  };
  /** The children a parent's row names, by position; `incomplete`: the positions given without both names. */
  const namedChildren = (record: string[]) => {
    const children: { lastNames: string[]; firstName: string; className: string; field: string }[] = [];
    const incomplete: { n: number; first: boolean }[] = [];
    for (let i = 0; i <= child; i++) {
      const column = (f: Field) => columns.find((x) => x.field === f && x.child === i);
      const cell = (f: Field) => {
        const c = column(f);
        return c ? clean(record[c.index]) : null;
      };
      const childFirst = cell('childFirst');
      const lastNames = [cell('childUsage'), cell('childLast')].filter((x): x is string => !!x);
      if (!childFirst && !lastNames.length) continue;
      if (!childFirst || !lastNames.length) incomplete.push({ n: i + 1, first: !!childFirst });
      else children.push({ lastNames, firstName: childFirst, className: cell('childClass') ?? '', field: column('childFirst')?.header ?? FIELD_LABEL.childFirst });
    }
    return { children, incomplete };
  };
  const identities = (children: { lastNames: string[]; firstName: string }[]) =>
    new Set(children.flatMap((c) => c.lastNames.map((l) => childIdentity(l, c.firstName))));
  const coParents: CoParents = new Map();
  if (child >= 0) {
    for (const [i, { record }] of rows.entries()) {
      if (i % ROWS_PER_TURN === ROWS_PER_TURN - 1) await nextTurn();
      const last = cellOf(record, 'usageName') ?? cellOf(record, 'lastName');
      const first = cellOf(record, 'firstName');
      if (!last || !first) continue;
      for (const c of identities(namedChildren(record).children)) (coParents.get(c) ?? coParents.set(c, new Set()).get(c)!).add(childIdentity(last, first));
    }
  }

  const taken = new Map<string, number>();
  const relatives = new Map<string, SeenRelative[]>();
  /** Adults' keys given to a person of this file. */
  const claimed = new Set<string>();
  /** Adults keyed by name, met for the first time: keyed once the file is read. */
  const pending: PendingAdult[] = [];
  /** Remarks on namesakes kept apart, with both people's keys (given after the last row). */
  const aparts: { remark: Rejection; first: KeySlot; second: KeySlot }[] = [];
  /** What each row writes (its account, its links), once its key is known. */
  const tails: (() => void)[] = [];
  /** The postal address each account keeps among this file's rows, with its line (several rows of one person: the
   * first in text order). */
  const kept = new Map<string, { address: string; line: number }>();
  /** Rows read as an earlier row's person whose addresses differ: told which line's address is kept, once all are read. */
  const addressNotes: { note: MergeNote; key: KeySlot }[] = [];
  const profiles = new Set<Profile>();
  let count = 0;
  for (const [i, { record, info }] of rows.entries()) {
    if (i % ROWS_PER_TURN === ROWS_PER_TURN - 1) await nextTurn();
    if (record.every((v) => !v.trim())) continue;
    count++;
    const line = info.lines;
    const get = (f: Field) => cellOf(record, f);
    const getAll = (f: Field) => columns.filter((c) => c.field === f && c.child < 0).flatMap((c) => splitClasses(clean(record[c.index])));
    const header = (f: Field) => columns.find((c) => c.field === f)?.header ?? FIELD_LABEL[f];
    const ownId = get('externalId');
    const rowProfile = fileProfile ?? profileFromName(get('profile') ?? '');
    const reject = (field: string, code: ImportCode, params?: ImportMessage['params']) => {
      batch.rejected.push(rejection(file, line, field, code, params));
      // A row rejected for a typo must not take the account away.
      if (ownId) batch.protect.push(csvIdKey(source, target.id, ownId));
      const f = get('firstName');
      for (const l of new Set([get('lastName'), get('usageName')])) {
        if (l && f && rowProfile) batch.protect.push(csvNameKey(source, target.id, rowProfile, l, f, null));
      }
    };
    if (!rowProfile) {
      reject(header('profile'), 'rowUnknownProfile', { value: get('profile') ?? '' });
      continue;
    }
    const profile = rowProfile;
    // A file whose Profil column names pupils needs their class column as a pupils' file does (FILE_REQUIRED): without
    // it, every pupil of the file was taken out of its class.
    if (!fileProfile) requireColumns(FILE_REQUIRED[profile] ?? [], profile);
    let bad = false;
    for (const f of new Set<Field>([...REQUIRED[profile], ...starred.filter((x) => profile !== 'Student' || x !== 'classes')])) {
      if (!get(f)) {
        if (present.has(f)) reject(header(f), 'rowEmptyField');
        else reject(missingLabel(f, source, profile), 'rowMissingColumn', { column: missingLabel(f, source, profile) });
        bad = true;
        break;
      }
    }
    if (bad) continue;
    if (isTemplateExample(profile, get)) {
      reject(header('lastName'), 'rowTemplateExample', { name: `${get('firstName')} ${get('lastName')}` });
      continue;
    }
    let birthDate: string | null = null;
    const rawBirth = get('birthDate');
    if (rawBirth) {
      const d = parseDate(rawBirth);
      if (!d) {
        reject(header('birthDate'), 'rowInvalidDate', { value: rawBirth });
        continue;
      }
      birthDate = d;
    }
    profiles.add(profile);
    const firstName = get('firstName')!;
    const lastName = get('usageName') ?? get('lastName')!;
    // A person is keyed by the family name (« Nom », ONDE « Nom Elève », « Nom responsable »), not the usage name,
    // which an export adds, changes or drops (marriage, divorce, a pupil given a parent's name) while they stay the
    // same person, as the reference ENT keys a relative of a school file (CsvFeeder getRelativeHashMapping: structure,
    // lastName, firstName). Shown by the usage name. Pupils and teachers too: keyed by the usage name, a pupil or a
    // director given one at the next ONDE export got a new account and her own went to the grace period (renames.ts
    // sees no rename between two names that share nothing). An account keyed by the usage name before is found under it.
    const keyLast = get('lastName') ?? lastName;
    const usageKey = keyLast !== lastName ? csvNameKey(source, target.id, profile, lastName, firstName, birthDate) : undefined;
    // A bad e-mail is a rejected field, not a bounce later: the row is imported without it.
    const mail = checkEmail(get('email'));
    if (mail.invalid) batch.rejected.push(rejection(file, line, header('email'), 'rowInvalidEmail', { value: mail.invalid }));
    // Street and postcode; a postcode alone (the whole village) tells nobody apart.
    const address = get('address') ? [foldStreet(get('address')!), get('zipCode') && foldName(get('zipCode')!)].filter(Boolean).join(' ') : null;
    // Every address column (Adresse, Adresse1…), one line each, commas kept.
    const street = columns.filter((c) => c.field === 'address' && c.child < 0).map((c) => record[c.index]);
    const postal = postalAddress(street, get('zipCode'), get('city'), get('country'));

    // Children named on a parent's row, by position.
    const { children, incomplete } = profile === 'Relative' ? namedChildren(record) : { children: [], incomplete: [] };
    for (const x of incomplete) batch.rejected.push(rejection(file, line, x.first ? FIELD_LABEL.childLast : FIELD_LABEL.childFirst, 'rowChildIncomplete', { n: x.n }));
    const childNames = new Set(children.flatMap((c) => c.lastNames.map(foldName)));

    let slot: KeySlot;
    let formerIds: string[] | undefined;
    /** This row read as an earlier row's person (batch.merged), and whether their postal addresses differ (folded). */
    let merging: { note: MergeNote; addressDiffers: boolean } | undefined;
    if (ownId) {
      slot = { key: csvIdKey(source, target.id, ownId) };
      // The same people imported before without an identifier column keep their accounts.
      formerIds = [csvNameKey(source, target.id, profile, keyLast, firstName, birthDate), ...datedAdultKey(source, target.id, profile, keyLast, firstName, birthDate)];
      if (usageKey) formerIds.push(usageKey, ...datedAdultKey(source, target.id, profile, lastName, firstName, birthDate));
    } else {
      const base = csvNameKey(source, target.id, profile, keyLast, firstName, birthDate);
      const dated = [...datedAdultKey(source, target.id, profile, keyLast, firstName, birthDate), ...(usageKey ? datedAdultKey(source, target.id, profile, lastName, firstName, birthDate) : [])];
      if (dated.length) formerIds = dated;
      const kids = identities(children);
      const row: RelativeRow = { title: normTitle(get('title')), email: mail.email, birthDate, address, childNames, children: kids, usage: usageKey ? foldName(lastName) : null, shown: foldName(lastName) };
      const self = childIdentity(lastName, firstName);
      const verdicts = (profile === 'Relative' ? (relatives.get(base) ?? []) : []).map((r) => ({ r, v: sameRelative(r, row, self, coParents) }));
      const same = verdicts.find((x) => x.v === 'same')?.r;
      // Kept apart on their addresses alone: said, for the school to merge them (« Gérer les doublons ») if they are one person.
      const apart = same ? undefined : verdicts.find((x) => x.v === 'apart')?.r;
      if (same) {
        slot = same.slot;
        completeRelative(same, row);
        // Never silent: two rows, one account; the report names both lines and the person (a warning, not a rejection).
        // Two postal addresses for one person (a move, a child's record not updated): the account keeps one, said
        // (addressKept, once the rows are written below).
        merging = { note: { file, first: same.line, line, name: `${lastName} ${firstName}` }, addressDiffers: !!same.address && !!row.address && same.address !== row.address };
        batch.merged.push(merging.note);
      } else if (profile !== 'Student') {
        // An adult's account among the stored ones of that name, whatever the order the file lists namesakes in: given
        // once every row is read (assignNamesakeKeys), as a namesake listed later may be the one a stored account is.
        slot = { key: '' };
        const seen: SeenRelative = { slot, line, ...row, childNames: new Set(childNames), children: new Set(kids) };
        pending.push({ base, ...(usageKey ? { alt: usageKey } : {}), row: seen, slot });
        if (profile === 'Relative') (relatives.get(base) ?? relatives.set(base, []).get(base)!).push(seen);
        if (apart) {
          const remark = rejection(file, line, header('address'), 'relativeApart', { first: apart.line, line, who: `${lastName} ${firstName}` });
          batch.rejected.push(remark);
          aparts.push({ remark, first: apart.slot, second: slot });
        }
      } else {
        // Pupils of one name and birth date in one file: numbered in file order, which a re-import repeats.
        const n = (taken.get(base) ?? 0) + 1;
        taken.set(base, n);
        slot = { key: n === 1 ? base : `${base}#${n}` };
        if (usageKey) formerIds = [n === 1 ? usageKey : `${usageKey}#${n}`];
      }
    }
    // The account is written once the keys are given (after the last row), in file order.
    tails.push(() => {
      const externalId = slot.key;
      const level = get('level');
      // Earlier rows of the same person complete this one; another person under that key (twoPeople) does not.
      const earlier = batch.users.get(externalId);
      const prev = earlier && !twoPeople(earlier, { ...earlier, profile, firstName, lastName }) ? earlier : undefined;
      // One person's rows giving two postal addresses (merged): the first in text order, whatever the order of the
      // rows, so that a file listing them the other way round next time changes nothing. None in this file: an
      // earlier file's (a later file's address replaces an earlier file's, as any field).
      // Another person under that key (twoPeople) starts afresh.
      let mine = prev ? kept.get(externalId) : undefined;
      if (postal && (!mine || postal < mine.address)) mine = { address: postal, line };
      if (mine) kept.set(externalId, mine);
      else kept.delete(externalId);
      const address = mine?.address ?? prev?.address;
      if (merging?.addressDiffers) addressNotes.push({ note: merging.note, key: slot });
      const mobile = cleanPhone(get('mobile')) ?? prev?.mobile;
      const u: UserRecord = {
        externalId,
        source,
        origin: source === 'be1d' ? 'feed' : 'manual',
        profile,
        title: normTitle(get('title')) ?? prev?.title ?? null,
        firstName,
        lastName,
        birthDate: birthDate ?? prev?.birthDate ?? null,
        email: mail.email ?? prev?.email ?? null,
        phone: cleanPhone(get('phone')) ?? cleanPhone(get('phoneWork')) ?? prev?.phone ?? null,
        // No mobile column, or an empty cell: left as stored (plan.ts fills, never erases).
        ...(mobile ? { mobile } : {}),
        ...(get('function') ? { functions: [get('function')!] } : {}),
        // The postal address, for letters sent in window envelopes (address-block.ts); none given: left as stored.
        ...(address ? { address } : {}),
        // "ADML" / "Administrateur local": oui, o, x, 1, yes, vrai make the person a local admin of the school; so does
        // ONDE's "Directeur" (the head of a primary school, as the AAF's function DIR makes a collège's). Another value
        // says they are not (a feed's administration is taken back: apply.ts localAdminsWrite); no such column, nothing.
        // An earlier row of the same person that gave it keeps it (one teacher on two rows, the ADML cell filled once).
        ...(present.has('localAdmin') || present.has('director') ? { localAdmin: isYes(get('localAdmin')) || isYes(get('director')) || prev?.localAdmin === true } : {}),
        structures: new Set([target.key]),
        classes: [...new Set(getAll('classes'))].map((name) => ({ structure: target.key, name, level: profile === 'Student' ? level : null })),
        // A teachers' list without class column: their classes are left as stored, not emptied. Not staff: their file
        // has no such column, and a teacher who moved to it leaves her classes (import-role-change.test.ts).
        ...(profile === 'Teacher' && !present.has('classes') ? { keepClasses: true as const } : {}),
        groups: [],
        formerIds: slot.former ? [...(formerIds ?? []), slot.former] : formerIds,
        file,
        line,
      };
      mergeUser(batch.users, u);
      if (profile !== 'Relative') return;
      for (const c of columns) {
        if (c.field !== 'childExternalId') continue;
        const id = clean(record[c.index]);
        if (id) batch.relations.push({ parent: externalId, child: csvIdKey(source, target.id, id), file, line, field: c.header });
      }
      for (const c of children) batch.childrenByName.push({ parent: externalId, structure: target.key, ...c, file, line });
    });
  }
  assignNamesakeKeys(pending, target.namesakes, claimed);
  // Namesakes kept apart whom the school has merged since (« Gérer les doublons »: the keys of one account): no remark
  // asking for that merge again, at every import.
  const account = new Map<string, string>();
  for (const xs of target.namesakes?.values() ?? []) for (const x of xs) for (const k of [x.key, ...x.aliases]) account.set(k, x.key);
  const one = (a: string, b: string) => (account.get(a) ?? a) === (account.get(b) ?? b);
  for (const { remark, first, second } of aparts) if (one(first.former ?? first.key, second.former ?? second.key)) batch.rejected.splice(batch.rejected.indexOf(remark), 1);
  for (const [i, tail] of tails.entries()) {
    if (i % ROWS_PER_TURN === ROWS_PER_TURN - 1) await nextTurn();
    tail();
  }
  for (const { note, key } of addressNotes) note.addressKept = kept.get(key.key)?.line;
  if (!profiles.size && fileProfile) profiles.add(fileProfile);
  return { source, profiles, rows: count, encoding };
}
