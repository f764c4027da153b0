// The one normalised shape every importer (AAF, BE1D, ENT CSV, demo) produces and the apply layer consumes.
import type { Origin, Profile } from '../directory/vocabulary.js';
import { importText, type ImportCode, type ImportMessage } from './messages.js';
import type { FieldChange, MassAbsence } from './plan.js';
import type { ImportStage } from './stage.js';

/** Which importer wrote a row (users.source). */
export type Source = 'aaf' | 'be1d' | 'csv' | 'siecle' | 'sts' | 'demo';

export interface StructureRecord {
  /** Key the records use to point at this structure (AAF jointure, or `id:<uuid>` for a resolved one). */
  key: string;
  externalId: string | null;
  uai: string | null;
  name: string;
  origin: Origin;
  /** Known database id (CSV target resolved before parsing). */
  id?: string;
  /** Classes and groups the structure declares, even with nobody in them yet. */
  classes?: string[];
  groups?: string[];
  /** The file describing it (an AAF EtabEducNat file): its report line counts the structures it holds (FileReport.structures). */
  file?: string;
}

export interface ClassRef {
  structure: string;
  name: string;
  level?: string | null;
  /**
   * AAF staff: the attributes that give it (aaf.ts staffRefs, in their order), stored as user_classes.aaf_attributes: a
   * modifyRequest replaces only those it lists. Absent for other records, and for a stored membership no record
   * described so (before migration 0039).
   */
  from?: string[];
}

export interface GroupRef {
  structure: string;
  name: string;
  /** AAF staff: the attributes that give it (user_groups.aaf_attributes), as ClassRef.from. */
  from?: string[];
}

export interface UserRecord {
  externalId: string;
  source: Source;
  origin: Origin;
  profile: Profile;
  title: string | null;
  firstName: string;
  lastName: string;
  /** YYYY-MM-DD */
  birthDate: string | null;
  email: string | null;
  /**
   * `email` is the one the record itself lists (AAF `mail` in an addRequest or a modifyRequest that names it), not
   * the stored address a modifyRequest that does not name it leaves: only such an address is vouched for
   * (plan.ts feedVouchesForEmail). Absent: not said (other formats).
   */
  emailListed?: true;
  phone: string | null;
  /** Pupil's INE (AAF ENTEleveINE, SIECLE). Absent: left as stored. */
  ine?: string | null;
  /** Functions as the feed gives them (AAF ENTPersonFonctions, STS-web). Absent: left as stored. */
  functions?: string[];
  /** Mobile for SMS (AAF ENTPersonMobileSMS, SIECLE). Absent: left as stored. */
  mobile?: string | null;
  /** Postal address, one line per row (SIECLE ADRESSES). Absent: left as stored. */
  address?: string | null;
  /**
   * Local administrator of its structures (CSV `ADML` / `Administrateur local`, ONDE `Directeur`): true, false (the
   * file's column says no), absent (no such column: unchanged).
   */
  localAdmin?: boolean;
  structures: Set<string>;
  classes: ClassRef[];
  /**
   * The file gives no classes at all (a teachers' CSV without a class column: the list kept beside STS-web): the run
   * neither adds nor removes the person's classes. Absent: `classes` is the whole list in the run's structures.
   */
  keepClasses?: true;
  groups: GroupRef[];
  /** Preferred login for a new account (demo `admin`); otherwise allocated from the name. */
  login?: string;
  /**
   * Keys this person may have been stored under before (CSV: the name-built key, when a file now carries an
   * identifier column). A new record adopts such an account instead of creating one.
   */
  formerIds?: string[];
  /** History of a generated account (demo only), applied when it is created. */
  history?: { createdAt: Date; activatedAt: Date | null; passwordHash: string | null; preDeletedAt: Date | null };
  /**
   * The whole list of this child's parents of its source (AAF pupils: legal representatives of
   * ENTElevePersRelEleve / ENTEleveAutoriteParentale; SIECLE pupils whose responsables file is read: level 1): the
   * run links them, and removes the child's links to other parents of that source. Absent: the run leaves the
   * child's parents as they are.
   */
  legal?: string[];
  /**
   * AAF pupils: the people ENTElevePersRelEleve names as « personne en charge » (4th field `2` in a current feed,
   * aaf.ts relativeRoles), not legal representatives: no link, and the report says why they have no account.
   */
  inCharge?: string[];
  /**
   * AAF staff: the structures of `structures` that only their functions name (ENTPersonFonctions `structure$CODE$…`,
   * aaf.ts mapPerson). One that neither the run nor the directory knows is dropped without a « rattachement ignoré »
   * (a DIR function naming it is said instead: no local administration, aaf-settle.ts); a UAI stands for its structure.
   */
  byFunction?: string[];
  /**
   * AAF pupils, modifyRequest: the feed structures (jointures) the stored account is a member of that the replaced
   * attributes no longer name (aaf-settle.ts applyModifies). The record describes them for this account only: its
   * attachments, classes and groups there are removed (apply.ts), as a complete feed would, though the delta does
   * not carry them. Absent: none.
   */
  leftStructures?: string[];
  /** The feed attributes the record's classes and groups came from (AAF: to name them when a structure is unknown). */
  fields?: {
    classes: string;
    groups: string;
    /** A class (`c:structure$name`) or group (`g:…`) another attribute gave first: that attribute. */
    by?: Record<string, string>;
  };
  /**
   * AAF: the digest of the addRequest this record was read from, under which the record cache keeps it
   * (aaf-cache.ts), hex. Only on a record as read and checked: merged or corrected ones have none.
   */
  digest?: string;
  file: string;
  line: number;
}

/** A child named on a parent's row (CSV, BE1D): resolved by folded names + class within the structure. */
export interface ChildByName {
  parent: string;
  structure: string;
  lastNames: string[];
  firstName: string;
  className: string;
  /** The row's header naming the child (its first-name column), as rejections say. */
  field: string;
  file: string;
  line: number;
}

export interface Rejection {
  file: string;
  line: number;
  field: string;
  /** French, as the command line prints it. */
  reason: string;
  /** The reason as a message code and parameters (src/import/messages.ts), for the web to translate. Every
   * reader and the apply step set it; a report stored without it shows `reason`. */
  message?: ImportMessage;
  /**
   * The record an ignored entry is about, when one record may give several (AAF: its jointure, for each class, group
   * or attachment left out, and for the record itself): counted once (ignoredRecords). Without it, an entry is a
   * record of its own.
   */
  record?: string;
}

/**
 * How many records of a file (or of the run) the entries of `ImportReport.ignored` are about: a pupil whose class,
 * group and attachment name unknown schools is one record ignored in part, listed with three reasons.
 */
export function ignoredRecords(ignored: Rejection[]): number {
  const keyed = new Set<string>();
  let alone = 0;
  for (const x of ignored) {
    if (x.record === undefined) alone++;
    else keyed.add(`${x.file}\t${x.record}`);
  }
  return alone + keyed.size;
}

/**
 * Codes of a remark on a row imported all the same (FileReport.notes): a class, a group, an attachment or a head of
 * school's function in a structure nobody knows, a malformed e-mail left out, a child a parent's row names that is not
 * found… The row's account is created or updated; the other ignored or rejected entries are rows left out whole.
 */
const NOTE_CODES: ReadonlySet<ImportCode> = new Set<ImportCode>([
  'ignoredAafClass', 'ignoredAafGroup', 'ignoredAafAttachment', 'ignoredAafHeadOfSchool',
  'rowInvalidEmail', 'aafInvalidBirth', 'rowChildIncomplete', 'rowInvalidPrincipalEndOf', 'relativeApart',
  'applySelfEmail', 'applyNoPupilId', 'applyNoRelative', 'applyPupilAmbiguous', 'applyPupilNotFound', 'applyPupilOtherClass',
]);

/** Remarks whose row was imported without one of the links it asks for: a child named that no pupil of the run is. */
const LINK_UNMADE_CODES: ReadonlySet<ImportCode> = new Set<ImportCode>([
  'rowChildIncomplete', 'applyNoPupilId', 'applyPupilAmbiguous', 'applyPupilNotFound', 'applyPupilOtherClass',
]);

/** Whether a remark says a parent-child link the row asks for was not made (LINK_UNMADE_CODES). */
export function isLinkUnmade(x: Rejection): boolean {
  return !!x.message && LINK_UNMADE_CODES.has(x.message.code);
}

/** Whether an ignored or rejected entry is a remark on a row imported all the same (NOTE_CODES), not a row left out. */
export function isNote(x: Rejection): boolean {
  return !!x.message && NOTE_CODES.has(x.message.code);
}

/** A rejected row whose reason is a message code: `reason` is its French text. */
export function rejection(file: string, line: number, field: string, code: ImportCode, params?: ImportMessage['params']): Rejection {
  return { file, line, field, reason: importText(code, params), message: { code, ...(params ? { params } : {}) } };
}

/**
 * Everything parsed from one run. `users` holds the records parsed since the last spill: once `stage` is set, the run
 * spills them there (stage.ts) and only small things stay in memory.
 */
export interface ImportBatch {
  structures: Map<string, StructureRecord>;
  users: Map<string, UserRecord>;
  /** The run's staging table (set by importFiles; applyBatch opens one for a batch given whole). */
  stage?: ImportStage;
  /** parent external id → child external id; file/line/field name the cell, reported when the child is unknown. */
  relations: { parent: string; child: string; file?: string; line?: number; field?: string }[];
  childrenByName: ChildByName[];
  /** External ids a delta feed deletes: they get pre-deleted. */
  deletions: string[];
  rejected: Rejection[];
  /** Records read and deliberately left out, with the reason (reported, not errors). */
  ignored: Rejection[];
  /** Rows read as the same person as an earlier row of their file (csv.ts sameRelative): reported, not errors. */
  merged: MergeNote[];
  /** External ids (or prefixes ending in ':') of rejected rows: their accounts must not be pre-deleted. */
  protect: string[];
  /**
   * People of rows rejected because their key names someone else (checks.ts personName: kind of person and folded
   * names) and the structures (keys) of their rows: the run cannot tell their account by its key, so an account of
   * theirs in one of those structures is not pre-deleted either (an identifier pasted on another pupil's row must not
   * send this pupil to the grace period; a namesake in another school of the run is not them).
   */
  protectNames: { name: string; structures: string[] }[];
  /**
   * What this run is complete for: users of `source` with one of `profiles` attached to one of `structures`
   * (structure keys) and absent from the run get pre-deleted. `orphans` also covers such users with no structure.
   */
  scopes: { source: Source; profiles: Set<Profile>; structures: Set<string>; orphans: boolean; file?: string }[];
}

export function emptyBatch(): ImportBatch {
  return { structures: new Map(), users: new Map(), relations: [], childrenByName: [], deletions: [], rejected: [], ignored: [], merged: [], protect: [], protectNames: [], scopes: [] };
}

/**
 * What a file is, from its name and first bytes (`detectFormat` in formats.ts): the importer that reads it,
 * `ignored` for known parts of a delivery that carry no accounts, `unsupported` for anything else (the run fails).
 */
export type FileFormat =
  | 'aaf'
  | 'siecle-eleves'
  | 'siecle-responsables'
  | 'siecle-nomenclature'
  | 'sts-emp'
  | 'csv'
  | 'zip'
  | 'ignored'
  | 'unsupported';

/**
 * An account absent from a complete run that looks like one the run brings (same birth date and class, close
 * name). `applied`: the account was updated under its new name (no creation, no pre-deletion); otherwise the
 * match was ambiguous, a new account was created and the activated one was kept, not pre-deleted.
 */
export interface RenameNote {
  file: string;
  line: number;
  login: string;
  from: string;
  to: string;
  applied: boolean;
}

/**
 * A row read as the same legal representative as an earlier row of its file (a CSV or ONDE/BE1D parent given once
 * per child, without an identifier: csv.ts sameRelative): one account for both. A guess on names and contact data,
 * so it is reported as a warning (`relativeMerged` in messages.ts) with both lines, for the school to check; the
 * file's « N lignes — M créés » differs by these rows.
 */
export interface MergeNote {
  file: string;
  /** Line of the person's first row. */
  first: number;
  /** Line of the row read as them. */
  line: number;
  /** « NOM Prénom » as the row gives them. */
  name: string;
  /** The rows give two postal addresses: the line of the one the account keeps (csv.ts: the first in
   * text order, so that the same rows in another order keep the same). */
  addressKept?: number;
}

/** A merge note as a message code and parameters, for the command line (French) and the web (its catalogue). */
export function mergeMessage(m: MergeNote): ImportMessage {
  return m.addressKept !== undefined
    ? { code: 'relativeMergedAddress', params: { first: m.first, line: m.line, who: m.name, kept: m.addressKept } }
    : { code: 'relativeMerged', params: { first: m.first, line: m.line, who: m.name } };
}

/** An existing account a run changes, named with the changes (ImportReport.modified). */
export interface ModifiedNote {
  login: string;
  /** First and last name as the run writes them. */
  name: string;
  profile: Profile;
  /** Its own fields (names, profile, birth date, e-mail…). */
  changes: FieldChange[];
  /**
   * Its memberships and parent–child links the run adds or removes (structures, classes, groups, children, legal
   * representatives). Absent when none: reports stored before it existed have none either.
   */
  links?: LinkChange[];
}

/** Memberships and links of an account, as ModifiedNote.links names them. */
export const LINK_FIELDS = ['structures', 'classes', 'groups', 'children', 'parents'] as const;
export type LinkField = (typeof LINK_FIELDS)[number];

/**
 * One kind of membership or link of an account the run changes: the names of what it leaves and what it joins (a
 * class move is one of each), the first apply.ts LINKS_SHOWN of each sorted, `more` counting the others. A class or
 * group is named « 6A (Collège X) » when the account's changes of that kind span several structures.
 */
export interface LinkChange {
  field: LinkField;
  removed: string[];
  added: string[];
  /** Names of either list left out (the report stays bounded for a teacher leaving thirty classes). */
  more?: number;
}

/**
 * What became of records or accounts, each counted once: created, else restored (back from the grace period), else
 * updated (fields, memberships or links changed), else unchanged; `preDeleted`: accounts the run sends to the grace
 * period (absent from a complete run, deleted by a delta), which are no records of the run.
 */
export interface ProfileCounts {
  created: number;
  updated: number;
  unchanged: number;
  preDeleted: number;
  restored: number;
}

export type FileCounts = ProfileCounts;

/**
 * One line per file. Its `rows` add up: created + updated + unchanged + restored (its records, each counted once) +
 * ignored + rejected (rows left out whole) + merged + deletions + the structures it describes. `notes` and
 * `preDeleted` stand apart: remarks on rows imported all the same, and accounts absent from it (no rows of it).
 */
export interface FileReport extends FileCounts {
  file: string;
  /** Detected format (machine-readable). */
  kind: FileFormat;
  /** Readable label: « SIECLE élèves », « AAF responsables », « CSV enseignants », « ignoré »… */
  format: string;
  /** Character encoding the file was read with (`iso-8859-15`, `utf-8`, `windows-1252`…); null when not read. */
  encoding: string | null;
  /** Records read (pupils, persons, individuals, rows, MEFs, structures). */
  rows: number;
  /**
   * Records of this file deliberately left out whole (each once, however many entries of ImportReport.ignored it has:
   * ignoredRecords), and rows rejected whole (details in ImportReport.ignored / rejected). Reports stored before
   * `notes` existed counted the records ignored in part here too.
   */
  ignored: number;
  rejected: number;
  /**
   * Remarks on rows imported all the same (isNote: a class or a head of school's function in an unknown structure, a
   * malformed e-mail left out…), listed with the ignored or rejected rows. Absent when none (and from older reports).
   */
  notes?: number;
  /**
   * Rows read as the same person as another row (a parent listed once per child, one person in two files of the
   * delivery): one record for them all. Absent when none.
   */
  merged?: number;
  /** AAF deleteRequests (a delta): rows that send an account to the grace period. Absent when none. */
  deletions?: number;
  /** A structures file (AAF EtabEducNat): the structures it describes, new to the directory or already there. */
  structures?: { created: number; existing: number };
  /** Why a whole file was left out (`ignored` files), in French. */
  reason?: string;
  /** The same reason as a message code and parameters, for the web to translate. */
  reasonMessage?: ImportMessage;
}

/**
 * A structure's UAI as the report writes it after its name, « Collège Victor Hugo (0750099Z) »: nothing when the name
 * already shows it (« Établissement 0750099Z », the name of a school created from its UAI), or when it has none.
 */
export function uaiAfter(name: string, uai: string | null): string {
  return uai && !name.toUpperCase().includes(uai.toUpperCase()) ? ` (${uai})` : '';
}

/** The classes a run creates in one structure (ImportReport.newClasses), names sorted. */
export interface NewClasses {
  structure: string;
  names: string[];
}

/** A local administrator a run appoints or removes (ImportReport.adminChanges). */
export interface AdminChange {
  change: 'appointed' | 'revoked';
  login: string;
  /** First and last name. */
  name: string;
  /** The structure's name. */
  structure: string;
}

/**
 * The run's accounts that belong to no school once it is written (apply.ts unattachedAccounts): how many, by profile,
 * and the first few (UNATTACHED_SAMPLE). Counted in no school of the console, chosen by no school's publipostage: a
 * super admin finds them on « Comptes sans établissement » (console/unattached.ts).
 */
export interface UnattachedAccounts {
  count: number;
  byProfile: Partial<Record<Profile, number>>;
  sample: { login: string; name: string; profile: Profile }[];
}

/** A structure a run empties out (ImportReport.emptied): `absent` of the `of` accounts it had present. */
export interface EmptiedStructure {
  name: string;
  uai: string | null;
  absent: number;
  of: number;
}

/** Counts by profile (each account once: ProfileCounts), in the directory's order of profiles. */
export type CountsByProfile = Partial<Record<Profile, ProfileCounts>>;

export interface StructureReport {
  name: string;
  uai: string | null;
  created: boolean;
  /** The name it had before the run renamed it (a feed describing the school under a new name). */
  formerName?: string;
  /** A school without UAI that took the one its SIECLE or STS-web files name (PARAMETRES/UAJ). */
  uaiAdded?: boolean;
  /**
   * The run's accounts in this structure once it is written (its members; a parent of no structure of their own, in
   * their children's): created, updated, unchanged, restored, sent to the grace period, by profile (apply.ts
   * structureAccounts). An account of several structures counts in each. Absent from reports stored before it existed.
   */
  accounts?: CountsByProfile;
  /**
   * The run's accounts that leave this structure and stay in the feed (a pupil moving to another school of the run, a
   * teacher no longer attached there), by profile: counted in `accounts` of the structures they have after the run,
   * here only. Absent when none leaves it.
   */
  left?: Partial<Record<Profile, number>>;
}

export interface ImportReport {
  dryRun: boolean;
  /** Set when a whole file was refused: nothing was written. */
  fatal: Rejection | null;
  files: FileReport[];
  created: number;
  updated: number;
  unchanged: number;
  preDeleted: number;
  restored: number;
  rejected: Rejection[];
  /** Records the run read and deliberately did not import (e.g. an AAF relative no pupil names as legal representative). */
  ignored: Rejection[];
  structures: StructureReport[];
  byProfile: Partial<Record<Profile, ProfileCounts>>;
  /**
   * Parent-child links added, removed, and named by the files but not made (a child or parent not found). `byName`: the
   * children the parents' rows name (CSV, ONDE), how many were looked for and how many found a pupil — none found is a
   * parents' file imported without its pupils (noChildFound). Absent when no row names a child (and from older reports).
   */
  relations: { created: number; removed: number; unresolved: number; byName?: { named: number; found: number } };
  /** Likely renames found by the run (CSV, ONDE/BE1D). */
  renamed: RenameNote[];
  /** Rows read as an earlier row's legal representative (one account). Optional: reports stored before it existed (console) have none. */
  merged?: MergeNote[];
  /**
   * Accounts the run's absence step would have pre-deleted (absent from a complete run) but kept, because a pupil of
   * the run names them as legal representative (apply.ts): their own record is missing, a sign that the delivery is
   * incomplete (a PersRelEleve file left out). Optional: a dry run's report stored before it existed (console) has none.
   */
  keptNamed?: number;
  /**
   * The first accounts (apply.ts ABSENT_SAMPLE) the run sends to the grace period, absent from a complete run or
   * deleted by a delta: who to check. Optional: reports stored before it existed (console) have none.
   */
  absent?: { login: string; name: string; profile: Profile }[];
  /**
   * Profiles most of whose accounts the complete run sends to the grace period (plan.ts massAbsencesOf): a dry run
   * reports them, a real run is refused unless `confirmAbsences` (a confirmed run still lists them). Optional:
   * reports stored before it existed (console) have none.
   */
  massAbsence?: MassAbsence[];
  /** The run was told to send them away all the same (ImportOptions.confirmAbsences): a dry run says they will go. */
  absencesConfirmed?: boolean;
  /**
   * Structures most of whose accounts the run sends to the grace period (apply.ts emptiedStructures: 10 or more, over
   * half of the accounts they had present), largest first: a warning, not a refusal — a région's feed without one
   * school's records reads exactly as a school leaving the ENT, and refusing the nightly run would block every other
   * school. Optional, as above.
   */
  emptied?: EmptiedStructure[];
  /**
   * The run's structures (those its files describe) that have no local administrator once it is written, by name: a
   * super admin's run only (a local admin administers theirs). An AAF delivery gives one by a head of school's DIR
   * function; aaf-2013's 15 DIR functions all name structures outside it, so its 10 schools have none, which only the
   * list of ignored records said. Optional, as above.
   */
  withoutAdmin?: Array<{
    name: string;
    uai: string | null;
    /** The structure's id: what `trousseau admin --structure` takes for a school without a UAI. Absent from older reports. */
    id?: string;
    /**
     * The sources of the run's files that import into it (an AAF delivery, ONDE `be1d`, the ENT's `csv`, `siecle`,
     * `sts`): the warning says how each names a local administrator. Absent from older reports.
     */
    sources?: Source[];
  }>;
  /**
   * Local administrators the run appoints (CSV `ADML` / « Administrateur local », a director in the feed) or removes
   * (a feed that no longer gives the function): rights over other people's accounts, always said. Optional, as above.
   */
  adminChanges?: AdminChange[];
  /** Classes the run creates, by structure (a dry run shows a misspelt class before it exists). Optional, as above. */
  newClasses?: NewClasses[];
  /**
   * Existing accounts the run changes — their fields (names, profile, birth date, e-mail…), their structures, classes,
   * groups or parent–child links: the accounts behind `updated` (records: an account staged twice counts once here),
   * how many, and the first apply.ts MODIFIED_SAMPLE in reading order with what changes. Optional, as above.
   */
  modified?: { count: number; sample: ModifiedNote[] };
  /**
   * Kinds of a complete AAF delivery (its EtabEducNat read) with no file in the run: their accounts' absence is not
   * looked for (only kinds delivered are), so none of them enters the grace period; `['EtabEducNat']` when a run
   * (not partial, not a delta) carries AAF persons without it: nobody's absence is looked for. Optional, as above.
   */
  unchecked?: string[];
  /**
   * Where the complete run looked for absent accounts: only accounts of these sources and profiles, in these
   * structures, may enter the grace period (a CSV import does not touch the feed's accounts, nor an AAF feed a CSV
   * import's). Optional, as above; absent when none was looked for (partial run, delta).
   */
  absenceScopes?: AbsenceScope[];
  /** Why no absence was looked for at all: a partial run (--partiel) or a delta. Optional, as above. */
  absenceSkipped?: 'partial' | 'delta';
  /** Accounts of the run left in no school (a warning: they are kept). Optional, as above; absent when there are none. */
  unattached?: UnattachedAccounts;
  /**
   * The run's accounts in no structure, counted as StructureReport.accounts are (beside the structures' lines, every
   * account of the run is counted once at least). Optional, as above; absent when there are none.
   */
  withoutStructure?: CountsByProfile;
  /**
   * When the run wrote (ISO): the `created_at` of every account it created, so the publipostage can select exactly
   * them (console « Distribuer les identifiants des nouveaux comptes »). Absent from a dry run and older reports.
   */
  at?: string;
  durationMs: number;
}

/** One completeness scope of a run (ImportReport.absenceScopes): those of one source over the same structures merged. */
export interface AbsenceScope {
  source: Source;
  /** In the directory's order. */
  profiles: Profile[];
  /** Its structures' names, the first ABSENCE_SCOPE_NAMES (more are counted only). */
  structures: string[];
  structureCount: number;
  /** Accounts in no structure too (a complete AAF delivery). */
  orphans: boolean;
}

/** Structure names an AbsenceScope keeps (a région's feed covers hundreds: counted, not listed). */
export const ABSENCE_SCOPE_NAMES = 3;

/** A whole file refused: the run stops and nothing is written. `reason` is the French text of `code`. */
export class ImportFileError extends Error {
  readonly reason: string;
  constructor(
    readonly file: string,
    readonly line: number,
    readonly field: string,
    readonly code: ImportCode,
    readonly params?: ImportMessage['params'],
  ) {
    const reason = importText(code, params);
    super(`${file}:${line}${field ? `:${field}` : ''} — ${reason}`);
    this.reason = reason;
    this.name = 'ImportFileError';
  }

  get rejection(): Rejection {
    return { file: this.file, line: this.line, field: this.field, reason: this.reason, message: { code: this.code, ...(this.params ? { params: this.params } : {}) } };
  }
}
