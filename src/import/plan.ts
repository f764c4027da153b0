// The pure half of applying an import (apply.ts runs it): given the records of a run and what the directory holds
// for them, what to write. No database access here: every function is tested on plain values (test/import-plan.test.ts).
import type { Profile } from '../directory/vocabulary.js';
import type { ProfileCounts, UserRecord } from './types.js';

/** What the directory holds of an account the import may update (columns of `users`). */
export interface StoredUser {
  id: string;
  /** Read to name the account in the report's changes (FieldChange); not written by the import. */
  login?: string;
  external_id: string;
  profile: Profile;
  title: string | null;
  first_name: string;
  last_name: string;
  birth_date: string | null;
  email: string | null;
  phone: string | null;
  ine: string | null;
  functions: string[];
  mobile: string | null;
  address: string | null;
  origin: string;
  source: string;
  activated_at: Date | null;
  /** Absent from the feed (grace period, users.absent_since) or pre-deleted: a record carrying it restores it. */
  pre_deleted_at: Date | null;
}

/**
 * A text[] as a PostgreSQL array literal, so that a list can travel through unnest() as one text per row
 * (unnest flattens a 2-D array). Also a stable form to compare stored and incoming lists.
 */
export function pgTextArray(items: string[]): string {
  return `{${items.map((x) => `"${x.replace(/["\\]/g, '\\$&')}"`).join(',')}}`;
}

/** The columns an import writes on an existing account, as it will write them (`functions` as a text[] literal). */
export type UserUpdate = Omit<StoredUser, 'id' | 'external_id' | 'login' | 'activated_at' | 'pre_deleted_at' | 'functions'> & { functions: string };

/**
 * Whether the record's e-mail address is vouched for by its source (users.email_verified_at): the AAF `mail` of a
 * PersEducNat record (teacher, staff) is the mailbox the académie gives its staff — when the record lists it
 * (emailListed): a delta's modifyRequest that does not name `mail` carries the stored address, which may have been
 * typed by anyone. Other addresses, a relative's from SIECLE or any CSV column, were typed by a secretary;
 * federated sign-in by e-mail ignores them.
 */
export function feedVouchesForEmail(r: UserRecord): boolean {
  return !!r.email && r.emailListed === true && r.source === 'aaf' && (r.profile === 'Teacher' || r.profile === 'Personnel');
}

/**
 * The fields of an existing account after the record: the import owns names, profile, origin and source;
 * optional facts (title, birth date, phone, INE, functions, mobile, address) only fill or correct, never erase;
 * the e-mail fills an empty one, or replaces the school's one while the account is not activated (an activated
 * user's e-mail is theirs). `diff`: whether any column changes; `changes`: which, from what to what.
 */
export function planUserUpdate(r: UserRecord, e: StoredUser): { next: UserUpdate; diff: boolean; changes: FieldChange[] } {
  const next: UserUpdate = {
    profile: r.profile,
    title: r.title ?? e.title,
    first_name: r.firstName,
    last_name: r.lastName,
    birth_date: r.birthDate ?? e.birth_date,
    email: r.email && (!e.email || (!e.activated_at && e.email !== r.email)) ? r.email : e.email,
    phone: r.phone ?? e.phone,
    ine: r.ine ?? e.ine,
    functions: pgTextArray(r.functions ?? e.functions),
    mobile: r.mobile ?? e.mobile,
    address: r.address ?? e.address,
    origin: r.origin,
    source: r.source,
  };
  const stored: UserUpdate = {
    profile: e.profile, title: e.title, first_name: e.first_name, last_name: e.last_name, birth_date: e.birth_date, email: e.email,
    phone: e.phone, ine: e.ine, functions: pgTextArray(e.functions), mobile: e.mobile, address: e.address, origin: e.origin, source: e.source,
  };
  const changes: FieldChange[] = [];
  for (const k of Object.keys(next) as (keyof UserUpdate)[]) {
    if (next[k] === stored[k]) continue;
    // functions travel as an array literal: shown as the list they are.
    const shown = (v: string | null, list: string[]) => (k === 'functions' ? list.join(', ') || null : v);
    changes.push({ field: k, from: shown(stored[k], e.functions), to: shown(next[k], r.functions ?? e.functions) });
  }
  return { next, diff: changes.length > 0, changes };
}

/**
 * A column an import changes on an existing account, with its stored and new values (the report names them);
 * `external_id` when the run takes an account over under the record's key (apply.ts adoptAccounts: the identifier a
 * file now gives, checks.ts shownId).
 */
export interface FieldChange {
  field: keyof UserUpdate | 'external_id';
  from: string | null;
  to: string | null;
}

/** Resolved ids of the structures, classes and groups records name (structure keys → ids). */
export interface MembershipIds {
  structure: (key: string) => string;
  classId: (structureId: string, name: string) => string;
  groupId: (structureId: string, name: string) => string;
}

/**
 * The structures, classes and groups the run wants each account in (user id → ids). Two records may land on one
 * account (an alias left by a merge): their memberships add up. A relative also belongs to the structures of the
 * children the run links them to (`wantedRelations`, `${parentId}\t${childId}`): a child of the run brings the
 * structures the run gives it, a child outside the run those of `childStructs` (its stored ones within reach).
 */
export function planMemberships(
  records: UserRecord[],
  userId: (externalId: string) => string,
  ids: MembershipIds,
  wantedRelations: Set<string>,
  childStructs: Map<string, string[]>,
): {
  structures: Map<string, string[]>;
  classes: Map<string, string[]>;
  groups: Map<string, string[]>;
  attributes: Map<string, string[]>;
  byFunction: Set<string>;
} {
  // Lists, not sets: an account has a handful of each, and a million small sets weigh.
  const structures = new Map<string, string[]>();
  const classes = new Map<string, string[]>();
  const groups = new Map<string, string[]>();
  const attributes = new Map<string, string[]>();
  const listOf = (m: Map<string, string[]>, id: string) => m.get(id) ?? m.set(id, []).get(id)!;
  const put = (list: string[], x: string) => {
    if (!list.includes(x)) list.push(x);
  };
  const from = (id: string, other: string, attrs: string[] | undefined) => {
    if (!attrs) return;
    const k = `${id}\t${other}`;
    const known = attributes.get(k);
    if (!known) attributes.set(k, attrs);
    else attributes.set(k, [...known, ...attrs.filter((x) => !known.includes(x))]);
  };
  const byId = new Map<string, UserRecord>();
  // `${userId}\t${structureId}` of the structures only AAF functions name (UserRecord.byFunction), and of those a
  // record of the account names otherwise (an attachment, a class, another source's record): the latter win.
  const byFunction = new Set<string>();
  const otherwise = new Set<string>();
  for (const r of records) {
    const id = userId(r.externalId);
    byId.set(id, r);
    const list = listOf(structures, id);
    for (const s of r.structures) {
      const sid = ids.structure(s);
      put(list, sid);
      (r.byFunction?.includes(s) ? byFunction : otherwise).add(`${id}\t${sid}`);
    }
    if (r.classes.length) {
      const c = listOf(classes, id);
      for (const x of r.classes) {
        const o = ids.classId(ids.structure(x.structure), x.name);
        put(c, o);
        from(id, o, x.from);
      }
    }
    if (r.groups.length) {
      const g = listOf(groups, id);
      for (const x of r.groups) {
        const o = ids.groupId(ids.structure(x.structure), x.name);
        put(g, o);
        from(id, o, x.from);
      }
    }
  }
  for (const k of wantedRelations) {
    const t = k.indexOf('\t');
    const p = k.slice(0, t);
    const c = k.slice(t + 1);
    if (byId.get(p)?.profile !== 'Relative') continue;
    const list = structures.get(p)!;
    for (const s of byId.has(c) ? structures.get(c)! : childStructs.get(c) ?? []) put(list, s);
  }
  for (const k of otherwise) byFunction.delete(k);
  return { structures, classes, groups, attributes, byFunction };
}

/** A link of an account to something (`other`: structure, class or group id) within a structure. */
export interface Link {
  user_id: string;
  other: string;
  structure_id: string;
  /** A class's or group's AAF attributes (user_classes.aaf_attributes), null when none is known. */
  attrs?: string[] | null;
  /** A structure membership only AAF functions gave (user_structures.by_function, migration 0042). */
  by_function?: boolean;
}

/**
 * The stored links the run keeps whose AAF attributes (user_classes/user_groups.aaf_attributes: ClassRef.from) are
 * not those the run's records give (`attributes`, keyed `${userId}\t${otherId}`), with the attributes to write. Not a
 * change of membership: the report says nothing of it. A link no record of the run gives attributes for keeps its
 * own: only an AAF staff record knows them (its stored memberships without any stay without), and an STS-web or CSV
 * record of the same teacher giving the class too says nothing of which AAF attribute gave it (written NULL, her next
 * AAF delta replacing ENTAuxEnsClassesPrincipal alone kept a former head-teacher class again).
 */
export function planAttributes(have: Link[], want: Set<string>, attributes: Map<string, string[]>): { user_id: string; other: string; attrs: string[] }[] {
  const out: { user_id: string; other: string; attrs: string[] }[] = [];
  for (const h of have) {
    const k = `${h.user_id}\t${h.other}`;
    if (!want.has(k)) continue;
    const attrs = attributes.get(k);
    if (!attrs) continue;
    const stored = h.attrs ?? null;
    if (stored && attrs.length === stored.length && attrs.every((x, i) => x === stored[i])) continue;
    out.push({ user_id: h.user_id, other: h.other, attrs });
  }
  return out;
}

/**
 * Synchronising one kind of membership: `want` holds `${userId}\t${otherId}` keys. Links the run wants and the
 * directory lacks are added; links it holds and the run no longer wants are removed only in the structures the
 * run describes (`runStructures`): memberships elsewhere belong to other sources. An account loses none in a structure
 * `kept` holds for it (`${userId}\t${structureId}`: its records give no list of that kind there,
 * UserRecord.keepClasses). `described` adds structures the run describes for one account only (same keys): an AAF
 * head of school's structures her stored DIR functions named, outside the delivery (apply.ts formerHeadStructures).
 */
export function planLinks(
  have: Link[],
  want: Set<string>,
  runStructures: Set<string>,
  kept?: Set<string>,
  described?: Set<string>,
): { add: string[]; del: Link[] } {
  const haveKeys = new Set(have.map((h) => `${h.user_id}\t${h.other}`));
  const add = [...want].filter((k) => !haveKeys.has(k));
  const del = have.filter(
    (h) =>
      !want.has(`${h.user_id}\t${h.other}`) &&
      (runStructures.has(h.structure_id) || !!described?.has(`${h.user_id}\t${h.structure_id}`)) &&
      !kept?.has(`${h.user_id}\t${h.structure_id}`),
  );
  return { add, del };
}

export interface StoredRelation {
  parent_id: string;
  child_id: string;
  /** users.source of the parent. */
  parent_source: string;
}

/**
 * Parent–child links: `wanted` holds `${parentId}\t${childId}` keys. A stored link is removed only when the run
 * describes both people (`runSet`) and no longer names it, or when `describes(link)` (the run gives the child's
 * whole list of parents of that source: AAF pupils, SIECLE pupils with their responsables file) and the parent is not on it.
 * `unresolved` holds the same keys for the links a parent's row still names but the run could not resolve (a child
 * named by name whose class no longer matches, or matching several pupils: apply.ts `applyPupilOtherClass`,
 * `applyPupilAmbiguous`): the row does name the child, so such a stored link is kept, never removed (nor added).
 */
export function planRelations(
  have: StoredRelation[],
  wanted: Set<string>,
  runSet: Set<string>,
  describes: (x: StoredRelation) => boolean,
  unresolved: ReadonlySet<string> = new Set(),
): { add: string[]; del: StoredRelation[] } {
  const haveKeys = new Set(have.map((x) => `${x.parent_id}\t${x.child_id}`));
  const add = [...wanted].filter((k) => !haveKeys.has(k));
  const del = have.filter((x) => {
    const k = `${x.parent_id}\t${x.child_id}`;
    return !wanted.has(k) && !unresolved.has(k) && ((runSet.has(x.parent_id) && runSet.has(x.child_id)) || describes(x));
  });
  return { add, del };
}

/** The report's line of a profile or file (created, updated, unchanged, pre-deleted, restored), made on first use. */
export function counts<K extends string>(r: Partial<Record<K, ProfileCounts>>, p: K): ProfileCounts {
  const known = r[p];
  if (known) return known;
  const made: ProfileCounts = { created: 0, updated: 0, unchanged: 0, preDeleted: 0, restored: 0 };
  r[p] = made;
  return made;
}

/** A profile most of whose known accounts a complete run would send to the grace period (ImportReport.massAbsence). */
export interface MassAbsence {
  profile: Profile;
  /** Accounts the run sends to the grace period, absent from its files. */
  absent: number;
  /** The profile's accounts the run covered: those it carries that existed before it (updated, unchanged, restored) and the absent. */
  of: number;
}

/**
 * Below this many accounts sent away, a profile is never a mass absence: a small school's few staff leaving is
 * ordinary, and the grace period restores them if they come back.
 */
export const MASS_ABSENCE_MIN = 10;
/**
 * More than this share of a profile's accounts sent away is not a school year's turnover (a collège loses its 3e, a
 * quarter; a lycée a third) but a file missing from the delivery: an AAF PersEducNat_0000 left out with _0001 kept
 * (numbering may start at either, aaf.ts aafNumberingGaps) sends every staff member of the first file away.
 */
export const MASS_ABSENCE_SHARE = 0.5;

/**
 * A completeness scope's absences for one profile (apply.ts ApplyResult.scopeAbsences): the accounts it sends to the
 * grace period and those of its source, profile and structures the run carries that existed before it.
 */
export interface ScopeAbsence {
  profile: Profile;
  absent: number;
  covered: number;
  /** The file whose completeness implied the absences (the scope's). */
  file?: string;
}

/** `absent` of `of` accounts is a mass absence: MASS_ABSENCE_MIN or more, and more than MASS_ABSENCE_SHARE of them. */
export const isMass = (absent: number, of: number) => absent >= MASS_ABSENCE_MIN && absent > MASS_ABSENCE_SHARE * of;

/**
 * The mass absences of a run, judged per completeness scope (one school's CSV file of a profile, a SIECLE or STS-web
 * file, an AAF kind): a school emptied out in a run over several schools, or an AAF file left out in a run that also
 * carries another source's accounts of that profile, is not hidden by the rest of the run. A profile's scopes taken
 * together count too (several small schools each under MASS_ABSENCE_MIN). Largest first, each with the file to name.
 */
export function massAbsencesOf(scopes: ScopeAbsence[]): (MassAbsence & { file?: string })[] {
  const out: (MassAbsence & { file?: string })[] = [];
  const total = new Map<Profile, { absent: number; of: number; file?: string; most: number }>();
  for (const s of scopes) {
    const of = s.absent + s.covered;
    if (isMass(s.absent, of)) out.push({ profile: s.profile, absent: s.absent, of, file: s.file });
    const t = total.get(s.profile) ?? { absent: 0, of: 0, most: -1 };
    t.absent += s.absent;
    t.of += of;
    if (s.absent > t.most) Object.assign(t, { most: s.absent, file: s.file });
    total.set(s.profile, t);
  }
  for (const [profile, t] of total) {
    if (!out.some((m) => m.profile === profile) && isMass(t.absent, t.of)) out.push({ profile, absent: t.absent, of: t.of, file: t.file });
  }
  return out.sort((a, b) => b.absent - a.absent);
}

/** The share of a profile's (or a structure's) accounts a run sends away, in whole percent (massAbsence's, emptied's wording). */
export function absentShare(m: { absent: number; of: number; profile?: Profile }): number {
  // « 542 sur 544 (100 %) » would read as everyone: a share short of all stays under 100.
  return Math.min(Math.round((100 * m.absent) / m.of), m.absent < m.of ? 99 : 100);
}
