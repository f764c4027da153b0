// Likely renames between a school's files: a person whose name was corrected keeps their account.
import { distance } from 'fastest-levenshtein';
import type { Profile } from '../directory/vocabulary.js';
import { foldKey, foldName } from '../directory/fold.js';

/** A record of the run that has no account under its (name-built) key. */
export interface RenameIncoming {
  key: string;
  profile: Profile;
  structureIds: string[];
  firstName: string;
  lastName: string;
  /** YYYY-MM-DD */
  birthDate: string | null;
  classes: string[];
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
 * namesakeKey) whatever the row, and the reference ENT's.
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

const sharesClass = (a: string[], b: string[]) => {
  const set = new Set(a.map(foldName));
  return b.some((c) => set.has(foldName(c)));
};

/**
 * Pairs records with the accounts they likely rename. A rename (`applied`) needs the same profile and structure,
 * the same birth date (known on both sides), the same class (or no class on either side) and close names, and
 * must be one-to-one. Otherwise an ACTIVATED account with a close name and the same birth date or class (or, for
 * people files give neither, e.g. parents, the close name alone) is a
 * near-twin: listed with `applied: false`, so the caller keeps it rather than pre-deleting it in the run that
 * creates its twin. A teacher now staff (or back) with the same names is the same person (roleChange). Source of the rule: issue #14 (identity must not churn on spelling).
 */
export function findRenames(incoming: RenameIncoming[], candidates: RenameCandidate[]): { key: string; id: string; applied: boolean }[] {
  const strict = new Map<string, RenameCandidate[]>();
  const claims = new Map<string, number>();
  for (const r of incoming) {
    const list = candidates.filter(
      (c) =>
        roleChange(r, c) ||
        (c.profile === r.profile &&
        r.structureIds.includes(c.structureId) &&
        !!r.birthDate &&
        c.birthDate === r.birthDate &&
        (r.classes.length || c.classes.length ? sharesClass(r.classes, c.classes) : true) &&
        closeNames(r, c)),
    );
    const ids = [...new Map(list.map((c) => [c.id, c])).values()];
    strict.set(r.key, ids);
    for (const c of ids) claims.set(c.id, (claims.get(c.id) ?? 0) + 1);
  }
  const out: { key: string; id: string; applied: boolean }[] = [];
  const applied = new Set<string>();
  for (const r of incoming) {
    const list = strict.get(r.key)!;
    if (list.length === 1 && claims.get(list[0].id) === 1) {
      out.push({ key: r.key, id: list[0].id, applied: true });
      applied.add(list[0].id);
    }
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
