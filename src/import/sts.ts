// STS-web export `sts_emp_<UAI>_<année>.xml` (root STS_EDT): the school's teachers and staff (INDIVIDUS),
// the MEF nomenclature, and the timetable structure (DIVISIONS and GROUPES, each with SERVICES naming
// the ENSEIGNANTS). Teachers join the classes and groups they teach, and the classes of which they are
// professeur principal while that lasts (principalClasses).
//
// Key: `sts:<UAI>:<INDIVIDU ID>` for TYPE="epp", `sts:<UAI>:<TYPE>:<ID>` for another TYPE (stsKey).
// Teacher or staff: Teacher when FONCTION is ENS or DOC (the AAF rule) or when the person teaches a service.
// Without FONCTION (on leave: onDuty), no class or group.
import { mergeUser } from './aaf.js';
import { clean, parseDate } from './text.js';
import type { ImportCode, ImportMessage } from './messages.js';
import { ImportFileError, rejection, type ImportBatch, type UserRecord } from './types.js';
import { uaiOf } from './siecle.js';
import { child, childrenNamed, childText, streamXml, type XmlNode, type XmlSource } from './xml.js';

export interface StsFile {
  file: string;
  uai: string;
  /** DENOM_PRINC + DENOM_COMPL of PARAMETRES/UAJ (« COLLEGE JEAN MOULIN »), when given. */
  schoolName: string | null;
  rows: number;
  encoding: string;
  individuals: XmlNode[];
  divisions: XmlNode[];
  groups: XmlNode[];
  /** MEF code → short label (level name) */
  mefs: Map<string, string>;
}

/** Reads one STS-web file. Throws ImportFileError for malformed XML or a missing UAI. */
export async function readSts(file: string, source: XmlSource): Promise<StsFile> {
  let params: XmlNode | undefined;
  const individuals: XmlNode[] = [];
  const divisions: XmlNode[] = [];
  const groups: XmlNode[] = [];
  const mefs = new Map<string, string>();
  const { encoding } = await streamXml(
    file,
    source,
    (p) =>
      (p.length === 2 && p[1] === 'PARAMETRES') ||
      (p.length === 4 && p[1] === 'NOMENCLATURES' && p[2] === 'MEFS') ||
      (p.length === 4 && p[1] === 'DONNEES' && p[2] === 'INDIVIDUS') ||
      (p.length === 5 && p[1] === 'DONNEES' && p[2] === 'STRUCTURE' && (p[3] === 'DIVISIONS' || p[3] === 'GROUPES')),
    (node, p) => {
      if (p.length === 2) params = node;
      else if (p[2] === 'MEFS') {
        const label = childText(node, 'LIBELLE_COURT') ?? childText(node, 'LIBELLE_LONG');
        if (node.attrs.CODE && label) mefs.set(node.attrs.CODE.trim(), label);
      } else if (p[2] === 'INDIVIDUS') individuals.push(node);
      else if (p[3] === 'DIVISIONS') divisions.push(node);
      else groups.push(node);
    },
  );
  const uai = uaiOf(file, params, 1);
  const uaj = child(params!, 'UAJ')!;
  const schoolName = clean([childText(uaj, 'DENOM_PRINC'), childText(uaj, 'DENOM_COMPL')].filter(Boolean).join(' '));
  return { file, uai, schoolName, rows: individuals.length, encoding, individuals, divisions, groups, mefs };
}

const TITLES: Record<string, string> = { '1': 'M.', '2': 'Mme', '3': 'Mlle' };

/** An ENSEIGNANT of a service: its ID and TYPE (null when the element has none). */
interface TeacherRef {
  id: string;
  type: string | null;
}

/** The ENSEIGNANTS of every SERVICE of a division or group. */
function teachersOf(n: XmlNode): TeacherRef[] {
  const refs: TeacherRef[] = [];
  for (const services of childrenNamed(n, 'SERVICES')) {
    for (const service of childrenNamed(services, 'SERVICE')) {
      for (const list of childrenNamed(service, 'ENSEIGNANTS')) {
        for (const t of childrenNamed(list, 'ENSEIGNANT')) {
          const id = clean(t.attrs.ID);
          if (id) refs.push({ id, type: typeOf(t) });
        }
      }
    }
  }
  return refs;
}

/** The TYPE of an INDIVIDU or ENSEIGNANT, in lower case; null when absent. */
function typeOf(n: XmlNode): string | null {
  return clean(n.attrs.TYPE)?.toLowerCase() ?? null;
}

/**
 * An STS-web person's key. STS-web numbers its INDIVIDUs per TYPE: `epp` (people of the national staff database) and
 * `local` (created in STS-web by the school) may both have a small ID such as 100, two people (GEPI stores the TYPE
 * next to the ID). TYPE epp, or none, keeps the key used before TYPE counted, `sts:<UAI>:<ID>`: those accounts keep
 * their key. Another TYPE gets `sts:<UAI>:<TYPE>:<ID>`; its account made before is under `sts:<UAI>:<ID>`, which the
 * record names as former key (formerIds): apply.ts adoptAccounts re-keys it when it is the same person.
 */
export function stsKey(uai: string, id: string, type: string | null = null): string {
  return type === null || type === 'epp' ? `sts:${uai}:${id}` : `sts:${uai}:${type}:${id}`;
}

/**
 * Who the ENSEIGNANTS of a file are, by key (stsKey): an ENSEIGNANT with a TYPE is the INDIVIDU of that ID and TYPE;
 * without one, the only INDIVIDU of that ID, and nobody when several TYPEs share it (a class given to the wrong one of
 * two people would hand over its pupils' sheets).
 */
function teacherKeys(f: StsFile): (t: TeacherRef) => string | null {
  const keys = new Map<string, Set<string>>();
  for (const n of f.individuals) {
    const id = clean(n.attrs.ID);
    if (id) (keys.get(id) ?? keys.set(id, new Set()).get(id)!).add(stsKey(f.uai, id, typeOf(n)));
  }
  return (t) => {
    if (t.type !== null) return stsKey(f.uai, t.id, t.type);
    const same = keys.get(t.id);
    return same?.size === 1 ? [...same][0] : null;
  };
}

/**
 * The classes of which an INDIVIDU is professeur principal on `today` (YYYY-MM-DD, the run's day): its PROF_PRINC
 * without DATE_FIN or ending today or later. An ended one stays in the export (a PP replaced during the year, with
 * DATE_FIN in the past) and must not keep the class: a teacher prints the sheets and renewal codes of their class.
 * SACoche's STS-web import counts someone as principal teacher only while DATE_FIN ≥ today; so does this one.
 * A DATE_FIN that cannot be read proves nothing: no class, reported through `invalid` (the field, the raw value).
 */
export function principalClasses(n: XmlNode, today: string, invalid: (pp: XmlNode, code: string, value: string) => void): string[] {
  const out: string[] = [];
  for (const pp of childrenNamed(n, 'PROFS_PRINC').flatMap((x) => childrenNamed(x, 'PROF_PRINC'))) {
    const code = clean(childText(pp, 'CODE_STRUCTURE'));
    if (!code) continue;
    const rawEnd = childText(pp, 'DATE_FIN');
    if (rawEnd) {
      const end = parseDate(rawEnd);
      if (!end) {
        invalid(pp, code, rawEnd);
        continue;
      }
      if (end < today) continue;
    }
    out.push(code);
  }
  return out;
}

/**
 * Whether an INDIVIDU of FONCTION `fn` (null: none) holds its post in the school, and so joins the classes and groups
 * of its services and PROF_PRINC. SACoche explains that individuals without FONCTION are on long sick leave, maternity
 * leave or retiring, their services left over in the timetable, to be ignored: someone away must not get a class whose
 * pupils' and parents' sheets and renewal codes a teacher prints. GEPI still imports them as teachers: they keep their
 * account (not sent to the grace period while away, as a complete file would do to someone it left out), with the
 * profile the code gave before (Teacher when their services say so, else Personnel) and no function.
 */
export function onDuty(fn: string | null): boolean {
  return fn !== null;
}

/**
 * Turns one STS-web file into accounts of the structure `key`; the file is complete for teachers and staff there.
 * `today` (YYYY-MM-DD, Europe/Paris: index.ts) is the run's day, against which PROF_PRINC dates are read.
 */
export function stsToBatch(f: StsFile, batch: ImportBatch, key: string, today: string): void {
  const classesOf = new Map<string, Set<string>>();
  const groupsOf = new Map<string, Set<string>>();
  const add = (m: Map<string, Set<string>>, ext: string, name: string) => (m.get(ext) ?? m.set(ext, new Set()).get(ext)!).add(name);
  const levelOf = new Map<string, string | null>();
  const keyOf = teacherKeys(f);
  const teaching = (n: XmlNode) => teachersOf(n).map(keyOf).filter((k): k is string => k !== null);
  for (const d of f.divisions) {
    const code = clean(d.attrs.CODE);
    if (!code) continue;
    // MEFS_APPARTENANCE lists MEF (or MEF_APPARTENANCE) elements by CODE.
    const mef = childrenNamed(d, 'MEFS_APPARTENANCE').flatMap((m) => m.children).map((m) => f.mefs.get(m.attrs.CODE?.trim() ?? '')).find(Boolean);
    levelOf.set(code, mef ?? null);
    for (const ext of teaching(d)) add(classesOf, ext, code);
  }
  for (const g of f.groups) {
    const code = clean(g.attrs.CODE);
    if (code) for (const ext of teaching(g)) add(groupsOf, ext, code);
  }

  for (const n of f.individuals) {
    const id = clean(n.attrs.ID);
    if (!id) throw new ImportFileError(f.file, n.line, 'INDIVIDU/ID', 'stsNoId');
    const ext = stsKey(f.uai, id, typeOf(n));
    // Keyed without its TYPE before (stsKey): that account is this person's when the names agree (apply.ts mayAdopt).
    const formerIds = ext === stsKey(f.uai, id) ? [] : [stsKey(f.uai, id)];
    const reject = (field: string, code: ImportCode, params?: ImportMessage['params']) => {
      batch.rejected.push(rejection(f.file, n.line, field, code, params));
      batch.protect.push(ext, ...formerIds);
    };
    const lastName = childText(n, 'NOM_USAGE') ?? childText(n, 'NOM_PATRONYMIQUE');
    const firstName = childText(n, 'PRENOM');
    if (!lastName) { reject('NOM_USAGE', 'rowNoLastName'); continue; }
    if (!firstName) { reject('PRENOM', 'rowNoFirstNameOf', { who: lastName }); continue; }
    let birthDate: string | null = null;
    const rawBirth = childText(n, 'DATE_NAISSANCE');
    if (rawBirth) {
      const d = parseDate(rawBirth);
      if (!d) { reject('DATE_NAISSANCE', 'rowInvalidBirthOf', { who: `${lastName} ${firstName}`, value: rawBirth }); continue; }
      birthDate = d;
    }
    const fn = childText(n, 'FONCTION')?.toUpperCase() ?? null;
    const served = { classes: classesOf.get(ext) ?? new Set<string>(), groups: groupsOf.get(ext) ?? new Set<string>() };
    // The profile reads what the file lists (services, PROF_PRINC ended or not, for a person on leave too): only
    // memberships follow the dates and the FONCTION.
    const teaches = served.classes.size > 0 || served.groups.size > 0 || childrenNamed(n, 'PROFS_PRINC').some((x) => childrenNamed(x, 'PROF_PRINC').length > 0);
    const classes = new Set<string>();
    const groups = new Set<string>();
    if (onDuty(fn)) {
      for (const code of served.classes) classes.add(code);
      for (const code of served.groups) groups.add(code);
      const who = `${lastName} ${firstName}`;
      const principal = principalClasses(n, today, (pp, code, value) =>
        // The person is imported, without that class (as an invalid e-mail is left out: checks.ts).
        batch.rejected.push(rejection(f.file, pp.line, 'PROF_PRINC/DATE_FIN', 'rowInvalidPrincipalEndOf', { who, value, class: code })),
      );
      for (const code of principal) classes.add(code);
    }
    const u: UserRecord = {
      externalId: ext,
      source: 'sts',
      origin: 'feed',
      profile: fn === 'ENS' || fn === 'DOC' || teaches ? 'Teacher' : 'Personnel',
      title: TITLES[childText(n, 'CIVILITE') ?? ''] ?? null,
      firstName,
      lastName,
      birthDate,
      email: null,
      phone: null,
      // Same shape as the AAF's ENTPersonFonctions: `UAI$code`.
      functions: fn ? [`${f.uai}$${fn}`] : [],
      structures: new Set([key]),
      classes: [...classes].map((name) => ({ structure: key, name, level: levelOf.get(name) ?? null })),
      groups: [...groups].map((name) => ({ structure: key, name })),
      ...(formerIds.length ? { formerIds } : {}),
      file: f.file,
      line: n.line,
    };
    // Not `set`: a second INDIVIDU under this key would silently replace the first (its account renamed, given the
    // other's classes). The same person listed twice is merged; two people (checks.ts twoPeople) are both kept for the
    // run to refuse once staged (aaf.ts mergeStaged, refuseSharedKey), each naming the other, as AAF and CSV are.
    mergeUser(batch.users, u);
  }
  // Divisions and groups of the timetable exist even before anyone joins them.
  const rec = batch.structures.get(key);
  if (rec) {
    rec.classes = [...new Set([...(rec.classes ?? []), ...levelOf.keys()])];
    rec.groups = [...new Set([...(rec.groups ?? []), ...f.groups.map((g) => clean(g.attrs.CODE)).filter((x): x is string => !!x)])];
  }
  batch.scopes.push({ source: 'sts', profiles: new Set(['Teacher', 'Personnel']), structures: new Set([key]), orphans: false, file: f.file });
}
