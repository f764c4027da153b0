// Who receives what: the one place that decides which accounts a distribution (preview, PDF, CSV, mail, class
// view, CLI) selects by default, which of them may carry a code, why the others were left out, and what the
// generated files are called. Pure, except the SQL fragments the selection query (select.ts) embeds.
//
// Rules (issue #9):
//  - by default a selection leaves out blocked accounts, accounts absent from the feed (grace period or
//    pre-deleted) and accounts that sign in only with an external provider (profile_policies, migration 0014);
//    the filters "Bloqués" (exclude/only/all), "Pré-suppression" (not/pending/all) and "Connexion externe"
//    (exclude/info) change that, and the preview counts who was left out and why;
//  - a code is printed, exported or mailed only when it can work: never for a blocked, pre-deleted or
//    externally-authenticated account (nor for a read-only one, see select.ts);
//  - an externally-authenticated account selected with external=info gets an information sheet naming its
//    provider and the ENT address instead of a code.
import { externalOnlyAbsentSql } from '../directory/policies.js';
import type { Profile } from '../directory/vocabulary.js';
import { countFr } from '../lib/french.js';
import { PROFILE_LABELS } from '../directory/vocabulary.js';
import type { AccountRow, Selection } from './selection.js';

/** SQL conditions (on users `u`) for the distribution filters of `sel` (no parameters: the values are fixed words). */
export function distributionConditions(sel: Pick<Selection, 'blocked' | 'preDeletion' | 'external'>, u = 'u'): string[] {
  const w: string[] = [];
  if (sel.blocked === 'exclude') w.push(`NOT ${u}.blocked`);
  if (sel.blocked === 'only') w.push(`${u}.blocked`);
  if (sel.preDeletion === 'not') w.push(`${u}.absent_since IS NULL AND ${u}.pre_deleted_at IS NULL`);
  if (sel.preDeletion === 'pending') w.push(`(${u}.absent_since IS NOT NULL OR ${u}.pre_deleted_at IS NOT NULL)`);
  if (sel.external === 'exclude') w.push(externalOnlyAbsentSql(u));
  return w;
}

/** The selection with every distribution filter opened up: the population the "left out" counts come from. */
export function widened(sel: Selection): Selection {
  return { ...sel, blocked: 'all', preDeletion: 'all', external: 'info' };
}

export type LeftOutReason = 'blocked' | 'absent' | 'external';

/** What the distribution needs to know of an account to decide whether a selection keeps it. */
export interface DistributionFacts {
  blocked: boolean;
  /** Absent from the feed: in its grace period or pre-deleted. */
  absent: boolean;
  /** Signs in only with this provider. */
  provider: string | null;
}

/** Why `sel` leaves this account out (first reason in the order blocked, absent, external), or null when it keeps it. */
export function leftOutReason(sel: Pick<Selection, 'blocked' | 'preDeletion' | 'external'>, f: DistributionFacts): LeftOutReason | null {
  if ((sel.blocked === 'exclude' && f.blocked) || (sel.blocked === 'only' && !f.blocked)) return 'blocked';
  if ((sel.preDeletion === 'not' && f.absent) || (sel.preDeletion === 'pending' && !f.absent)) return 'absent';
  if (sel.external === 'exclude' && f.provider) return 'external';
  return null;
}

export interface LeftOut {
  blocked: number;
  absent: number;
  /** Per profile and provider: "412 parents se connectent avec EduConnect : pas de fiche". */
  external: Array<{ profile: Profile; provider: string; count: number }>;
}

/** Sums groups of accounts (facts + profile + count) into the left-out counters of `sel`. */
export function countLeftOut(sel: Selection, groups: Array<DistributionFacts & { profile: Profile; count: number }>): LeftOut {
  const out: LeftOut = { blocked: 0, absent: 0, external: [] };
  for (const g of groups) {
    const why = leftOutReason(sel, g);
    if (why === 'blocked' || why === 'absent') out[why] += g.count;
    else if (why === 'external') {
      const hit = out.external.find((e) => e.profile === g.profile && e.provider === g.provider);
      if (hit) hit.count += g.count;
      else out.external.push({ profile: g.profile, provider: g.provider!, count: g.count });
    }
  }
  out.external.sort((a, b) => b.count - a.count || a.provider.localeCompare(b.provider));
  return out;
}

/** True when a code may be printed, exported or mailed for this account (it could be used to activate). */
export function mayCarryCode(r: Pick<AccountRow, 'activated' | 'blocked' | 'preDeleted' | 'externalProvider' | 'readOnly'>): boolean {
  return !r.activated && !r.blocked && !r.preDeleted && !r.externalProvider && !r.readOnly;
}

const PLURAL_FR: Record<Profile, string> = { Student: 'élèves', Relative: 'parents', Teacher: 'enseignants', Personnel: 'personnels', Guest: 'invités' };

/** "412 parents se connectent avec EduConnect : pas de fiche" (French; the console translates through its catalogue). */
export function externalSentence(e: { profile: Profile; provider: string; count: number }): string {
  const who = e.count === 1 ? PROFILE_LABELS[e.profile].fr.toLowerCase() : PLURAL_FR[e.profile];
  return `${e.count} ${who} ${e.count === 1 ? 'se connecte' : 'se connectent'} avec ${e.provider} : pas de fiche`;
}

/** A safe file-name part: accents folded, anything but letters, digits and '-' dropped ("6e A" -> "6eA"). */
export function slug(s: string): string {
  return s.normalize('NFD').replace(/[\u0300-\u036f]/g, '').replace(/[^A-Za-z0-9-]+/g, '').slice(0, 30);
}

/** What a selection holds, in words and as file-name parts: classes (or levels), profiles, the special states. */
export interface ContentLabel {
  parts: string[];
  /** "6A · élèves" */
  text: string;
  /** The same in English, for a page shown in English: "6A · students". */
  textEn: string;
}

const PLURAL_EN: Record<Profile, string> = { Student: 'students', Relative: 'parents', Teacher: 'teachers', Personnel: 'staff', Guest: 'guests' };

/**
 * Label of a selection's content from the names of its classes / levels (the caller resolves them): at most
 * three classes are named, more read "12-classes". `school` (its UAI, else its name) opens the file name of a
 * selection that names no class or level: a whole school's `fiches-2026-09-02.pdf` said nothing of whose it was, and
 * a région administrator's downloads of two schools took the same name.
 */
export function contentLabel(sel: Selection, names: { classes: string[]; levels: string[]; school?: string }): ContentLabel {
  const parts: string[] = [];
  const words: string[] = [];
  const wordsEn: string[] = [];
  const named = names.classes.length ? names.classes : names.levels;
  // A name that keeps no Latin letter or digit (« Σχολείο ») slugs to nothing: no empty part (« fiches--eleves »).
  const school = names.school ? slug(names.school) : '';
  if (!named.length && school) parts.push(school);
  if (named.length > 3) {
    parts.push(`${named.length}-${names.classes.length ? 'classes' : 'niveaux'}`);
    words.push(`${named.length} ${names.classes.length ? 'classes' : 'niveaux'}`);
    wordsEn.push(`${named.length} ${names.classes.length ? 'classes' : 'levels'}`);
  } else if (named.length) {
    parts.push(...named.map(slug).filter(Boolean));
    words.push(named.join(', '));
    wordsEn.push(named.join(', '));
  }
  if (sel.profiles.length && sel.profiles.length < 5) {
    parts.push(...sel.profiles.map((p) => PLURAL_FR[p]).map(slug));
    words.push(sel.profiles.map((p) => PLURAL_FR[p]).join(', '));
    wordsEn.push(sel.profiles.map((p) => PLURAL_EN[p]).join(', '));
  }
  const add = (part: string, word: string, en: string) => {
    parts.push(part);
    words.push(word);
    wordsEn.push(en);
  };
  if (sel.activation !== 'all') {
    if (sel.activation === 'inactive') add('non-actives', 'comptes non activés', 'accounts not activated');
    else add('actives', 'comptes activés', 'activated accounts');
  }
  if (sel.blocked === 'only') add('bloques', 'comptes bloqués', 'blocked accounts');
  if (sel.preDeletion === 'pending') add('absents', 'absents du flux', 'missing from the feed');
  if (sel.email === 'without') add('sans-courriel', 'sans courriel', 'without an email address');
  // Accounts that sign in elsewhere are left out unless asked for (their sheet then says how they sign in): a file
  // holding them says so, or it is taken for the usual one.
  if (sel.external === 'info') add('avec-connexion-externe', 'avec les comptes à connexion externe', 'with the accounts signing in elsewhere');
  if (sel.distributedBefore !== undefined) {
    const days = sel.distributedBefore;
    add('relance', `relance (remis il y a plus ${days === 1 ? 'd’un jour' : `de ${days} jours`})`, `reminder (handed out more than ${days} ${days === 1 ? 'day' : 'days'} ago)`);
  }
  if (sel.userIds.length) {
    const n = sel.userIds.length;
    add(`${n}-comptes`, countFr(n, 'compte choisi', 'comptes choisis'), `${n} ${n === 1 ? 'account' : 'accounts'} chosen`);
  }
  return { parts, text: words.join(' · ') || 'tous les comptes', textEn: wordsEn.join(' · ') || 'all accounts' };
}

/** `fiches-6A-eleves-2026-09-02.pdf`: kind, content parts, the day (Paris), extension. */
export function fileName(kind: 'fiches' | 'comptes', label: ContentLabel, day: string, ext: 'pdf' | 'csv'): string {
  return [kind, ...label.parts, day].join('-') + `.${ext}`;
}
