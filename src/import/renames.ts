// Likely renames between a school's files: a person whose name was corrected keeps their account.
import { distance } from 'fastest-levenshtein';
import type { Profile } from '../directory/vocabulary.js';
import { foldKey, foldName } from '../directory/fold.js';

/** A person of the run as findRenames compares them. */
interface RenamePerson {
  key: string;
  profile: Profile;
  structureIds: string[];
  firstName: string;
  lastName: string;
  /** YYYY-MM-DD */
  birthDate: string | null;
}

/** Another person of the school, present in the run (a record with an account): a possible twin (findRenames). */
export type RenamePresent = RenamePerson;

/** A record of the run that has no account under its (name-built) key. */
export interface RenameIncoming extends RenamePerson {
  classes: string[];
  /** External ids of the legal representatives the run names for it (import_relations). */
  parents?: string[];
}

/** An account of the same source absent from the run, that a complete run would pre-delete. */
export interface RenameCandidate {
  id: string;
  profile: Profile;
  structureId: string;
  firstName: string;
  lastName: string;
  birthDate: string | null;
  classes: string[];
  activated: boolean;
  /**
   * Its classes no longer hold the pupils they had before the run (classesKept: every class moved on, as in
   * September, or is gone): its class proves nothing, so a rename may be found without it (findRenames).
   */
  classStale?: boolean;
  /** External ids of its legal representatives in the directory. */
  parents?: string[];
}

/** An account of the run's structures that was in a class before the run, and whether its record of the run still is. */
export interface ClassMove {
  structureId: string;
  profile: Profile;
  className: string;
  stays: boolean;
}

export const classKey = (structureId: string, profile: Profile, className: string) => `${structureId}\u0000${profile}\u0000${foldName(className)}`;

/**
 * The classes (classKey) that still hold most of their people of before the run: more of those the run names stay
 * in them than leave. A class whose pupils all moved on (CE1 → CE2 in September, whatever the run puts in a class
 * of that name now) or that the run empties is not kept: it says nothing any more about who a newcomer is.
 */
export function classesKept(moves: ClassMove[]): Set<string> {
  const count = new Map<string, number>();
  for (const m of moves) {
    const k = classKey(m.structureId, m.profile, m.className);
    count.set(k, (count.get(k) ?? 0) + (m.stays ? 1 : -1));
  }
  return new Set([...count].filter(([, n]) => n > 0).map(([k]) => k));
}

/**
 * Close names: after folding (foldKey), at most 2 edits over first and last name together, or one of them equal
 * and the other one edited a little (≤ a third of its length) or extended (Marie → Marie-Claire, a usage name).
 */
export function closeNames(a: { firstName: string; lastName: string }, b: { firstName: string; lastName: string }): boolean {
  const [af, al, bf, bl] = [foldKey(a.firstName), foldKey(a.lastName), foldKey(b.firstName), foldKey(b.lastName)];
  const df = distance(af, bf);
  const dl = distance(al, bl);
  if (df + dl <= 2) return true;
  const near = (x: string, y: string, d: number) => d <= Math.max(2, Math.floor(Math.min(x.length, y.length) / 3)) || x.startsWith(y) || y.startsWith(x);
  return (df === 0 && near(al, bl, dl)) || (dl === 0 && near(af, bf, df));
}

/** Teacher and staff: one adult of the school, whose file (CSV_Enseignants / CSV_Personnels) may change. */
const SCHOOL_ADULTS: readonly Profile[] = ['Teacher', 'Personnel'];

/**
 * The same person under another profile: a teacher now staff (or back) is in the other file of the same school, so
 * under another name-built key. Only between teacher and staff, with the very same names once folded and no birth
 * date contradicting (both given and different): the rule that gives a namesake the account of that name (csv.ts
 * assignNamesakeKeys) whatever the row, and the reference ENT's.
 */
function roleChange(r: RenameIncoming, c: RenameCandidate): boolean {
  return (
    r.profile !== c.profile &&
    SCHOOL_ADULTS.includes(r.profile) &&
    SCHOOL_ADULTS.includes(c.profile) &&
    r.structureIds.includes(c.structureId) &&
    !(r.birthDate && c.birthDate && r.birthDate !== c.birthDate) &&
    foldKey(r.firstName) === foldKey(c.firstName) &&
    foldKey(r.lastName) === foldKey(c.lastName)
  );
}

/**
 * A birth date corrected in the school's file: the very same names once folded, same profile and structure, both
 * dates given and different, and the same class (or a legal representative in common when neither side has a class).
 * A pupil's name-built key holds the date (csv.ts csvNameKey), so a corrected date gave a second account and sent the
 * first to its grace period, its parents' links left ambiguous between the two; the reference ENT's key has no date.
 * Refused when another person of the school, in the run, bears those names (namesakes: findRenames `sameNames`). A
 * class whose pupils moved on (`classStale`, September) proves nothing: a legal representative in common is then
 * asked. Refused too when both sides name their legal representatives and none is in common: a pupil who left and a
 * namesake of another family arriving in her class, born another day, are two children — the newcomer was given the
 * leaver's activated account (test/import-csv-birth-date-namesake.test.ts).
 */
function dateCorrected(r: RenameIncoming, c: RenameCandidate): boolean {
  return (
    r.profile === c.profile &&
    r.structureIds.includes(c.structureId) &&
    !!r.birthDate && !!c.birthDate && r.birthDate !== c.birthDate &&
    foldKey(r.firstName) === foldKey(c.firstName) &&
    foldKey(r.lastName) === foldKey(c.lastName) &&
    !parentsDiffer(r, c) &&
    (r.classes.length || c.classes.length ? (c.classStale ? sharesParent(r, c) : sharesClass(r.classes, c.classes)) : sharesParent(r, c))
  );
}

/** Both sides name their legal representatives (external ids) and none is in common: two families. */
const parentsDiffer = (r: RenameIncoming, c: RenameCandidate) => !!r.parents?.length && !!c.parents?.length && !sharesParent(r, c);

const sharesClass = (a: string[], b: string[]) => {
  const set = new Set(a.map(foldName));
  return b.some((c) => set.has(foldName(c)));
};

/** A legal representative both name (external ids, known on both sides). */
const sharesParent = (r: RenameIncoming, c: RenameCandidate) => !!r.parents?.some((p) => c.parents?.includes(p));

/** Same birth date (known) and the same last name or close names: twins, or siblings born the same day (Louis and Lucas, Léa and Léo). */
function twins(a: { firstName: string; lastName: string; birthDate: string | null }, b: { firstName: string; lastName: string; birthDate: string | null }): boolean {
  return !!a.birthDate && a.birthDate === b.birthDate && (foldKey(a.lastName) === foldKey(b.lastName) || closeNames(a, b));
}

/**
 * Pairs records with the accounts they likely rename. A rename (`applied`) needs the same profile and structure,
 * the same birth date (known on both sides), close names, and the same class (or no class on either side), and
 * must be one-to-one. The class is not asked of an account whose classes moved on (`classStale`: in September every
 * pupil changes class, and a name corrected over the summer would otherwise give the pupil a second account, a new
 * activation code to the family); such a match stands only if the record and the account share a legal
 * representative (a pupil who left in June and a newcomer born the same day with a close name, Emma MARTIN and Emma
 * MARTINEZ, are two families: the leaver's password or printed code must not open the newcomer's account) and
 * neither side has a twin in the school — another person, in the run or absent from it, born the same day with the
 * same last name or a close name: twins are never told apart by a guess. Otherwise an ACTIVATED account with a close name and the same birth date or class
 * (or, for people files give neither, e.g. parents, the close name alone) is a
 * near-twin: listed with `applied: false`, so the caller keeps it rather than pre-deleting it in the run that
 * creates its twin. A teacher now staff (or back) with the same names is the same person (roleChange). Source of the rule: issue #14 (identity must not churn on spelling).
 */
export function findRenames(
  incoming: RenameIncoming[],
  candidates: RenameCandidate[],
  present: RenamePresent[] = [],
): { key: string; id: string; applied: boolean }[] {
  const strict = new Map<string, RenameCandidate[]>();
  const claims = new Map<string, number>();
  /** Matches that the class did not confirm. */
  const classless = new Set<string>();
  /** Another person of the school in the run under the same names (folded): a corrected date is then no proof. */
  const sameNames = (r: RenameIncoming, c: RenameCandidate) =>
    [...incoming.filter((o) => o.key !== r.key), ...present.filter((o) => o.key !== r.key)].some(
      (o) => o.profile === r.profile && o.structureIds.includes(c.structureId) && foldKey(o.firstName) === foldKey(r.firstName) && foldKey(o.lastName) === foldKey(r.lastName),
    );
  for (const r of incoming) {
    const list = candidates.filter((c) => {
      if (roleChange(r, c)) return true;
      if (dateCorrected(r, c)) return !sameNames(r, c);
      if (c.profile !== r.profile || !r.structureIds.includes(c.structureId) || !r.birthDate || c.birthDate !== r.birthDate || !closeNames(r, c)) return false;
      if (r.classes.length || c.classes.length ? sharesClass(r.classes, c.classes) : true) return true;
      if (!c.classStale) return false;
      classless.add(`${r.key}\u0000${c.id}`);
      return true;
    });
    const ids = [...new Map(list.map((c) => [c.id, c])).values()];
    strict.set(r.key, ids);
    for (const c of ids) claims.set(c.id, (claims.get(c.id) ?? 0) + 1);
  }
  // A match the class did not confirm is refused when either side has a twin in the school.
  const twinned = (r: RenameIncoming, c: RenameCandidate) => {
    const school = (p: { profile: Profile }, structureIds: string[]) => p.profile === r.profile && structureIds.includes(c.structureId);
    const others = [
      ...candidates.filter((o) => o.id !== c.id && school(o, [o.structureId])),
      ...incoming.filter((o) => o.key !== r.key && school(o, o.structureIds)),
      ...present.filter((o) => o.key !== r.key && school(o, o.structureIds)),
    ];
    return others.some((o) => twins(o, r) || twins(o, c));
  };
  const out: { key: string; id: string; applied: boolean }[] = [];
  const applied = new Set<string>();
  for (const r of incoming) {
    const list = strict.get(r.key)!;
    if (list.length !== 1 || claims.get(list[0].id) !== 1) continue;
    if (classless.has(`${r.key}\u0000${list[0].id}`) && (!sharesParent(r, list[0]) || twinned(r, list[0]))) continue;
    out.push({ key: r.key, id: list[0].id, applied: true });
    applied.add(list[0].id);
  }
  const kept = new Set<string>();
  for (const r of incoming) {
    if (out.some((o) => o.key === r.key)) continue;
    for (const c of candidates) {
      if (!c.activated || applied.has(c.id) || kept.has(c.id)) continue;
      if (c.profile !== r.profile || !r.structureIds.includes(c.structureId) || !closeNames(r, c)) continue;
      const sameBirth = !!r.birthDate && c.birthDate === r.birthDate;
      const noFacts = !r.birthDate && !c.birthDate && !r.classes.length && !c.classes.length;
      if (sameBirth || noFacts || sharesClass(r.classes, c.classes)) {
        out.push({ key: r.key, id: c.id, applied: false });
        kept.add(c.id);
      }
    }
  }
  return out;
}
