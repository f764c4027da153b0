// SIECLE (BEE) exports of a secondary school: ElevesSansAdresses.xml / ElevesAvecAdresses.xml (root BEE_ELEVES),
// ResponsablesAvecAdresses.xml (BEE_RESPONSABLES) and Nomenclature.xml (BEE_NOMENCLATURES), ISO-8859-15.
//
// Each file names its school in PARAMETRES/UAJ. A run may carry the files in any order, so they are read into
// a collector first and turned into accounts once all are read (`siecleToBatch`).
//
// Keys: SIECLE's ELEVE_ID / PERSONNE_ID are stable within the school's base (the INE may arrive later for a
// newcomer), hence `siecle:<UAI>:eleve:<ELEVE_ID>` and `siecle:<UAI>:personne:<PERSONNE_ID>`.
import { foldName } from '../directory/fold.js';
import { refuseSharedKey } from './checks.js';
import { clean, cleanEmail, cleanPhone, parseDate, postalAddress } from './text.js';
import type { ImportCode, ImportMessage } from './messages.js';
import { ImportFileError, rejection, type ClassRef, type GroupRef, type ImportBatch, type UserRecord } from './types.js';
import { child, childrenNamed, childText, streamXml, type XmlNode, type XmlSource } from './xml.js';

export type SiecleKind = 'siecle-eleves' | 'siecle-responsables' | 'siecle-nomenclature';

/** Root element → kind. */
export const SIECLE_ROOTS: Record<string, SiecleKind> = {
  BEE_ELEVES: 'siecle-eleves',
  BEE_RESPONSABLES: 'siecle-responsables',
  BEE_NOMENCLATURES: 'siecle-nomenclature',
};

/** A row of the pupils file (ELEVE) or of the responsables file (PERSONNE). */
interface Row {
  id: string;
  node: XmlNode;
  file: string;
}

interface Link {
  pupil: string;
  person: string;
  legal: boolean;
  /** CODE_PARENTE 70 (« élève lui-même »): the pupil is his own responsable (SELF_PARENTE). */
  self: boolean;
  /** What the file says, for the report: `NIVEAU_RESPONSABILITE 2`, `RESP_LEGAL 0`. */
  level: string | null;
  file: string;
  line: number;
}

interface SiecleSchool {
  uai: string;
  /** ELEVE_ID → its rows, in reading order: one, or the same pupil in two files (ElevesSansAdresses and
   * ElevesAvecAdresses), or two pupils a broken file gave one id (refused: checks.ts refuseSharedKey). */
  pupils: Map<string, Row[]>;
  /** ELEVE_ID → divisions (D) and groups (G) */
  structures: Map<string, { code: string; type: string }[]>;
  /** PERSONNE_ID → its rows, in reading order (as `pupils`). */
  persons: Map<string, Row[]>;
  links: Link[];
  /** `${file}\t${ADRESSE_ID}` → address lines */
  addresses: Map<string, string>;
  /** CODE_MEF → level name (Nomenclature FORMATION) */
  mefs: Map<string, string>;
  elevesFile?: string;
  responsablesFile?: string;
}

export interface SiecleCollector {
  schools: Map<string, SiecleSchool>;
}

export function emptySiecle(): SiecleCollector {
  return { schools: new Map() };
}

const UAI_RE = /^\d{7}[A-Z]$/;

/** The UAI of a file from PARAMETRES/UAJ (SIECLE: its text; STS-web: its CODE attribute). */
export function uaiOf(file: string, params: XmlNode | undefined, rootLine: number): string {
  const uaj = params && child(params, 'UAJ');
  const uai = (uaj?.attrs.CODE ?? uaj?.text ?? '').trim().toUpperCase();
  if (!uai) throw new ImportFileError(file, params?.line ?? rootLine, 'PARAMETRES/UAJ', 'siecleNoUai');
  if (!UAI_RE.test(uai)) throw new ImportFileError(file, uaj!.line, 'PARAMETRES/UAJ', 'siecleBadUai', { uai });
  return uai;
}

function addressText(n: XmlNode): string | null {
  return postalAddress(
    ['LIGNE1_ADRESSE', 'LIGNE2_ADRESSE', 'LIGNE3_ADRESSE', 'LIGNE4_ADRESSE'].map((k) => childText(n, k)),
    childText(n, 'CODE_POSTAL'),
    childText(n, 'LIBELLE_POSTAL') ?? childText(n, 'COMMUNE_ETRANGERE'),
    childText(n, 'LL_PAYS'),
  );
}

/**
 * CODE_PARENTE of a responsable who is the pupil himself (« ELEVE LUI-MEME », as GEPI's table of SIECLE's codes
 * names it: lib/global.inc.php): an adult pupil is his own représentant légal. SIECLE makes him a PERSONNE of his own
 * (his names again, under a PERSONNE_ID: another numbering than ELEVE_ID, so the ids never tell) tied to his ELEVE_ID
 * by a RESPONSABLE_ELEVE row at level 1 with this code. The code is the only sure tie: a father may bear his son's
 * names. Such a row makes no parent account (he has his pupil's account) and no link from himself to himself.
 */
const SELF_PARENTE = '70';

/**
 * The division SIECLE keeps its inactive pupils in (« Inactifs »): no class, and a pupil there gets no account (listed
 * as ignored), as a pupil who left. Pix's SIECLE reader never takes it for a division either (1024pix/pix,
 * xml-organization-learner-set.js `updateDivision`) and leaves such pupils out. Compared folded (case, accents).
 */
const INACTIVE_DIVISION = 'inactifs';
const inactiveDivision = (code: string) => foldName(code) === INACTIVE_DIVISION;

/** Whether a RESPONSABLE_ELEVE row makes its person a parent of its pupil: a représentant légal, not the pupil himself. */
const parentLink = (l: Link) => l.legal && !l.self;

/** The rows read under one id, kept all: a second row must not silently replace the first (checks.ts refuseSharedKey). */
const rowsOf = (m: Map<string, Row[]>, id: string) => m.get(id) ?? m.set(id, []).get(id)!;

/**
 * Reads one SIECLE file into the collector. Returns its UAI, the number of records (pupils, persons, MEFs)
 * and the encoding. Throws ImportFileError for malformed XML or a missing UAI.
 */
export async function readSiecle(
  file: string,
  source: XmlSource,
  kind: SiecleKind,
  c: SiecleCollector,
): Promise<{ uai: string; rows: number; encoding: string }> {
  let params: XmlNode | undefined;
  const records: { section: string; node: XmlNode }[] = [];
  const sections: Record<SiecleKind, Set<string>> = {
    'siecle-eleves': new Set(['ELEVES', 'STRUCTURES', 'ADRESSES']),
    'siecle-responsables': new Set(['PERSONNES', 'RESPONSABLES', 'ADRESSES']),
    'siecle-nomenclature': new Set(['MEFS']),
  };
  const wanted = sections[kind];
  const { encoding } = await streamXml(
    file,
    source,
    (p) => (p.length === 2 && p[1] === 'PARAMETRES') || (p.length === 4 && p[1] === 'DONNEES' && wanted.has(p[2])),
    (node, p) => {
      if (p.length === 2) params = node;
      else records.push({ section: p[2], node });
    },
  );
  const uai = uaiOf(file, params, 1);
  let s = c.schools.get(uai);
  if (!s) {
    s = { uai, pupils: new Map(), structures: new Map(), persons: new Map(), links: [], addresses: new Map(), mefs: new Map() };
    c.schools.set(uai, s);
  }
  let rows = 0;
  for (const { section, node } of records) {
    const id = (attr: string) => clean(node.attrs[attr]) ?? childText(node, attr);
    switch (section) {
      case 'ELEVES': {
        rows++;
        const pid = id('ELEVE_ID');
        if (!pid) throw new ImportFileError(file, node.line, 'ELEVE_ID', 'siecleNoStudentId');
        rowsOf(s.pupils, pid).push({ id: pid, node, file });
        break;
      }
      case 'STRUCTURES': {
        const pid = id('ELEVE_ID');
        if (!pid) break;
        const list = s.structures.get(pid) ?? [];
        for (const st of childrenNamed(node, 'STRUCTURE')) {
          const code = childText(st, 'CODE_STRUCTURE');
          if (code) list.push({ code, type: (childText(st, 'TYPE_STRUCTURE') ?? 'D').toUpperCase() });
        }
        s.structures.set(pid, list);
        break;
      }
      case 'PERSONNES': {
        rows++;
        const pid = id('PERSONNE_ID');
        if (!pid) throw new ImportFileError(file, node.line, 'PERSONNE_ID', 'siecleNoPersonId');
        rowsOf(s.persons, pid).push({ id: pid, node, file });
        break;
      }
      case 'RESPONSABLES': {
        const pupil = childText(node, 'ELEVE_ID');
        const person = childText(node, 'PERSONNE_ID');
        if (!pupil || !person) break;
        // NIVEAU_RESPONSABILITE (current exports): 1 = représentant légal, 2 = personne en charge, 3 = contact.
        // Older exports only carry RESP_LEGAL: 1 or 2 = représentant légal, 0 = other.
        const level = childText(node, 'NIVEAU_RESPONSABILITE');
        const old = childText(node, 'RESP_LEGAL');
        const legal = level !== null ? level === '1' : ['1', '2'].includes(old ?? '');
        const said = level !== null ? `NIVEAU_RESPONSABILITE ${level}` : old !== null ? `RESP_LEGAL ${old}` : null;
        s.links.push({ pupil, person, legal, self: childText(node, 'CODE_PARENTE') === SELF_PARENTE, level: said, file, line: node.line });
        break;
      }
      case 'ADRESSES': {
        const aid = id('ADRESSE_ID');
        const text = addressText(node);
        if (aid && text) s.addresses.set(`${file}\t${aid}`, text);
        break;
      }
      case 'MEFS': {
        rows++;
        const code = id('CODE_MEF');
        const level = childText(node, 'FORMATION') ?? childText(node, 'LIBELLE_COURT') ?? childText(node, 'LIBELLE_LONG');
        if (code && level) s.mefs.set(code, level);
        break;
      }
    }
  }
  if (kind === 'siecle-eleves') s.elevesFile ??= file;
  if (kind === 'siecle-responsables') s.responsablesFile ??= file;
  return { uai, rows, encoding };
}

/**
 * What became of a pupil of the pupils file: an account (`accepted`); a row rejected for a mistake in it
 * (`rejected`: its account, if any, is protected from pre-deletion); its ELEVE_ID given to two people (`refused`:
 * protected too, and nobody can tell whose family the responsables file gives under that id); no account on purpose
 * (`ignored`: left, or in the division « Inactifs »).
 */
type PupilFate = 'accepted' | 'rejected' | 'refused' | 'ignored';

/**
 * Whether a représentant légal of a pupil gets (keeps) an account for that pupil: the pupil is one of the run, even
 * rejected for a mistake in its own row (a typo in a pupil's birth date must not send the parents to the grace period
 * as if the pupil had left: the AAF keeps them likewise, aaf.ts `rejectedPupils`), or not in the pupils file at all
 * but in the directory (`known`: a responsables file imported alone). A pupil who left gets no account, and neither do
 * the parents of that pupil only.
 */
function represents(fate: PupilFate | undefined, known: () => boolean): boolean {
  return fate === undefined ? known() : fate !== 'ignored';
}

export const pupilKey = (uai: string, id: string) => `siecle:${uai}:eleve:${id}`;
export const personKey = (uai: string, id: string) => `siecle:${uai}:personne:${id}`;

/** External ids of pupils named by responsables files but absent from the run: the caller looks them up. */
export function siecleOutsidePupils(c: SiecleCollector): string[] {
  const out = new Set<string>();
  for (const s of c.schools.values()) for (const l of s.links) if (parentLink(l) && !s.pupils.has(l.pupil)) out.add(pupilKey(s.uai, l.pupil));
  return [...out];
}

const lastNameOf = (n: XmlNode) => childText(n, 'NOM_USAGE') ?? childText(n, 'NOM_DE_FAMILLE') ?? childText(n, 'NOM');

/**
 * Turns the collected files into accounts in `batch`, the structure of each UAI being `structureKey(uai)`.
 * Pupils who left (DATE_SORTIE reached) and persons who are no pupil's représentant légal get no account and
 * are listed in `batch.ignored`; an ELEVE_ID or PERSONNE_ID given to two people is refused (checks.ts refuseSharedKey).
 * `known(externalId)`: a pupil already in the directory (responsables imported without the pupils file).
 * `today`: YYYY-MM-DD.
 */
export function siecleToBatch(
  c: SiecleCollector,
  batch: ImportBatch,
  structureKey: (uai: string) => string,
  known: (externalId: string) => boolean,
  today: string,
): void {
  for (const s of c.schools.values()) {
    const key = structureKey(s.uai);
    /** What became of each pupil of the pupils file (PupilFate). */
    const fate = new Map<string, PupilFate>();
    for (const [id, rows] of s.pupils) fate.set(id, addPupil(s, id, rows, key, batch, today));
    /** PERSONNE_IDs given to two people: no account, no link. */
    const refused = new Set<string>();
    for (const [id, rows] of s.persons) if (refuseSharedKey(batch, rows.map((r) => identity(personKey(s.uai, id), 'Relative', r, key)), 'PERSONNE_ID')) refused.add(id);

    // A person gets an account only as représentant légal of a pupil of the run or of the directory.
    const legalOf = new Map<string, string[]>();
    for (const l of s.links) {
      if (!parentLink(l) || !represents(fate.get(l.pupil), () => known(pupilKey(s.uai, l.pupil)))) continue;
      (legalOf.get(l.person) ?? legalOf.set(l.person, []).get(l.person)!).push(l.pupil);
    }
    for (const [pid, rows] of s.persons) {
      if (refused.has(pid)) continue;
      const children = legalOf.get(pid);
      if (!children) {
        const { node: n, file } = rows[0];
        const who = `${lastNameOf(n) ?? '?'} ${childText(n, 'PRENOM') ?? '?'}`;
        const levels = [...new Set(s.links.filter((l) => l.person === pid).map((l) => l.level ?? '?'))];
        const ignored = (code: ImportCode, params: ImportMessage['params'], field = 'NIVEAU_RESPONSABILITE') => batch.ignored.push(rejection(file, n.line, field, code, params));
        if (!s.links.some((l) => l.person === pid)) ignored('ignoredSiecleNoPupil', { who });
        else if (s.links.some((l) => l.person === pid && parentLink(l))) ignored('ignoredSiecleLegalOfAbsent', { who });
        else if (s.links.some((l) => l.person === pid && l.self)) ignored('ignoredSiecleSelf', { who }, 'CODE_PARENTE');
        else ignored('ignoredSiecleNotLegal', { who, levels: levels.join(', ') });
        continue;
      }
      const ext = personKey(s.uai, pid);
      const u = oneRecord(rows.map((r) => personRecord(s, r, ext, key, batch)));
      if (u) batch.users.set(ext, u);
      // A row rejected for a mistake (names missing) still names the person's children, as an AAF pupil still names a
      // relative whose record is rejected: the link to their account stays wanted, not removed from a pupil described
      // whole (describeLegal). Not to a pupil whose ELEVE_ID two people share: which of them has this parent?
      for (const pupil of new Set(children)) if (fate.get(pupil) !== 'refused') batch.relations.push({ parent: ext, child: pupilKey(s.uai, pupil) });
    }

    describeLegal(s, batch, refused);

    // Each file is complete for its profile in its school.
    if (s.elevesFile) batch.scopes.push({ source: 'siecle', profiles: new Set(['Student']), structures: new Set([key]), orphans: false, file: s.elevesFile });
    if (s.responsablesFile) batch.scopes.push({ source: 'siecle', profiles: new Set(['Relative']), structures: new Set([key]), orphans: false, file: s.responsablesFile });
  }
}

/**
 * Each pupil of the run whose school's responsables file was read is described whole (UserRecord.legal, as the AAF's
 * pupils are, aaf.ts legalRepresentatives): its représentants légaux are exactly those the file lists at level 1
 * (RESP_LEGAL 1 or 2 in older files; never the pupil himself, SELF_PARENTE), and apply.ts removes the pupil's link
 * to any other SIECLE parent in this run, whether or not the file still makes that parent a record. A parent moved from NIVEAU_RESPONSABILITE 1 to 3 for all
 * their children is no record of the run any more (a contact gets no account): the rule that a link goes only when
 * the run describes both people kept their links, and with them the children's data, through the grace period.
 * Links of other sources stay (apply.ts `describes`: the parent's source must be the pupil's). Without the
 * responsables file (a pupils file alone) the run says nothing of the parents: `legal` stays unset, links stay.
 */
function describeLegal(s: SiecleSchool, batch: ImportBatch, refused: Set<string>): void {
  if (!s.responsablesFile) return;
  const legalOf = new Map<string, Set<string>>();
  /** Pupils naming a PERSONNE_ID two people share: their list is not known, their links stay as they are. */
  const unsure = new Set<string>();
  for (const l of s.links) {
    if (!parentLink(l)) continue;
    if (refused.has(l.person)) unsure.add(l.pupil);
    (legalOf.get(l.pupil) ?? legalOf.set(l.pupil, new Set()).get(l.pupil)!).add(personKey(s.uai, l.person));
  }
  for (const id of s.pupils.keys()) {
    const u = batch.users.get(pupilKey(s.uai, id));
    if (u && !unsure.has(id)) u.legal = [...(legalOf.get(id) ?? [])];
  }
}

/**
 * The pupil of ELEVE_ID `id` from its rows: refused when they are two people (checks.ts refuseSharedKey), else each row mapped
 * (pupilRecord: rejected, ignored, or a record) and the records made one (oneRecord). Returns what became of it.
 */
function addPupil(s: SiecleSchool, id: string, rows: Row[], key: string, batch: ImportBatch, today: string): PupilFate {
  const ext = pupilKey(s.uai, id);
  if (refuseSharedKey(batch, rows.map((r) => identity(ext, 'Student', r, key)), 'ELEVE_ID')) return 'refused';
  const outcomes = rows.map((r) => pupilRecord(s, r, ext, key, batch, today));
  if (outcomes.includes('rejected')) {
    batch.protect.push(ext);
    return 'rejected';
  }
  if (outcomes.includes('ignored')) return 'ignored';
  batch.users.set(ext, oneRecord(outcomes as UserRecord[])!);
  return 'accepted';
}

/**
 * One pupil row as a record, or why it is none: 'rejected' (listed in `batch.rejected`: names missing, a date that
 * does not exist), 'ignored' (listed in `batch.ignored`: DATE_SORTIE reached, division « Inactifs »).
 */
function pupilRecord(s: SiecleSchool, p: Row, ext: string, key: string, batch: ImportBatch, today: string): UserRecord | 'rejected' | 'ignored' {
  const n = p.node;
  const reject = (field: string, code: ImportCode, params?: ImportMessage['params']) => {
    batch.rejected.push(rejection(p.file, n.line, field, code, params));
    return 'rejected' as const;
  };
  const lastName = lastNameOf(n);
  const firstName = childText(n, 'PRENOM');
  if (!lastName) return reject('NOM_DE_FAMILLE', 'rowNoLastName');
  if (!firstName) return reject('PRENOM', 'rowNoFirstName');
  const who = `${lastName} ${firstName}`;
  const exit = childText(n, 'DATE_SORTIE');
  if (exit) {
    const d = parseDate(exit);
    if (!d) return reject('DATE_SORTIE', 'rowInvalidExitOf', { who, value: exit });
    if (d <= today) {
      batch.ignored.push(rejection(p.file, n.line, 'DATE_SORTIE', 'ignoredSiecleLeft', { who, date: exit }));
      return 'ignored';
    }
  }
  // Only in « Inactifs »: set aside. A pupil without any division is imported (at the rentrée some are not placed yet).
  const divisions = (s.structures.get(p.id) ?? []).filter((st) => st.type !== 'G');
  if (divisions.length && divisions.every((st) => inactiveDivision(st.code))) {
    batch.ignored.push(rejection(p.file, n.line, 'CODE_STRUCTURE', 'ignoredSiecleInactive', { who, division: divisions[0].code }));
    return 'ignored';
  }
  let birthDate: string | null = null;
  const rawBirth = childText(n, 'DATE_NAISS');
  if (rawBirth) {
    const d = parseDate(rawBirth);
    if (!d) return reject('DATE_NAISS', 'rowInvalidBirthOf', { who, value: rawBirth });
    birthDate = d;
  }
  const mef = childText(n, 'CODE_MEF');
  const level = mef ? s.mefs.get(mef) ?? null : null;
  const classes: ClassRef[] = [];
  const groups: GroupRef[] = [];
  for (const st of s.structures.get(p.id) ?? []) {
    if (st.type === 'G') groups.push({ structure: key, name: st.code });
    else if (!inactiveDivision(st.code)) classes.push({ structure: key, name: st.code, level });
  }
  const adr = childText(n, 'ADRESSE_ID');
  const u: UserRecord = {
    externalId: ext,
    source: 'siecle',
    origin: 'feed',
    profile: 'Student',
    title: null,
    firstName,
    lastName,
    birthDate,
    email: cleanEmail(childText(n, 'MEL')),
    phone: null,
    ine: childText(n, 'ID_NATIONAL') ?? childText(n, 'INE_BEA'),
    structures: new Set([key]),
    classes,
    groups,
    file: p.file,
    line: n.line,
  };
  if (adr) u.address = s.addresses.get(`${p.file}\t${adr}`) ?? null;
  return u;
}

/** One PERSONNE row as a record, or null when its names are missing (rejected, its account protected). */
function personRecord(s: SiecleSchool, r: Row, ext: string, key: string, batch: ImportBatch): UserRecord | null {
  const { node: n, file } = r;
  const lastName = lastNameOf(n);
  const firstName = childText(n, 'PRENOM');
  if (!lastName || !firstName) {
    batch.rejected.push(lastName ? rejection(file, n.line, 'PRENOM', 'rowNoFirstNameOf', { who: lastName }) : rejection(file, n.line, 'NOM', 'rowNoLastName'));
    batch.protect.push(ext);
    return null;
  }
  const adr = childText(n, 'ADRESSE_ID');
  const u: UserRecord = {
    externalId: ext,
    source: 'siecle',
    origin: 'feed',
    profile: 'Relative',
    title: childText(n, 'LC_CIVILITE'),
    firstName,
    lastName,
    birthDate: null,
    email: cleanEmail(childText(n, 'MEL')),
    phone: cleanPhone(childText(n, 'TEL_PERSONNEL')) ?? cleanPhone(childText(n, 'TEL_PROFESSIONNEL')),
    mobile: cleanPhone(childText(n, 'TEL_PORTABLE')),
    structures: new Set([key]),
    classes: [],
    groups: [],
    file,
    line: n.line,
  };
  if (adr) u.address = s.addresses.get(`${file}\t${adr}`) ?? null;
  return u;
}

/**
 * Who a row says the person is, as a record refuseSharedKey compares (checks.ts twoPeople): names (missing ones count
 * as empty), a person's civility, a pupil's birth date (M. and MME Camille DUPONT under one PERSONNE_ID are two people).
 */
function identity(ext: string, profile: 'Student' | 'Relative', r: Row, key: string): UserRecord {
  const firstName = childText(r.node, 'PRENOM') ?? '';
  const lastName = lastNameOf(r.node) ?? '';
  const title = profile === 'Relative' ? childText(r.node, 'LC_CIVILITE') : null;
  const born = profile === 'Student' ? childText(r.node, 'DATE_NAISS') : null;
  const birthDate = (born && parseDate(born)) || null;
  return { externalId: ext, source: 'siecle', origin: 'feed', profile, title, firstName, lastName, birthDate, email: null, phone: null, structures: new Set([key]), classes: [], groups: [], file: r.file, line: r.node.line };
}

/**
 * One person listed on several rows (the same id and names: ElevesSansAdresses and ElevesAvecAdresses in one delivery):
 * the last row, completed by the earlier ones where it says nothing (as CSV rows of one person complete each other).
 * Null when a row was rejected: the person's account stays as it is (protected).
 */
function oneRecord(records: (UserRecord | null)[]): UserRecord | null {
  if (records.includes(null)) return null;
  let out: UserRecord | undefined;
  for (const u of records as UserRecord[]) {
    if (out) {
      u.title ??= out.title;
      u.birthDate ??= out.birthDate;
      u.email ??= out.email;
      u.phone ??= out.phone;
      u.ine ??= out.ine;
      u.mobile ??= out.mobile;
      u.address ??= out.address;
    }
    out = u;
  }
  return out ?? null;
}
