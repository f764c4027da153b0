// One selection model for preview, PDF, CSV and email alike (filters of "Publipostage des comptes").
// Pure: the schema and the row shape. The SQL lives in select.ts.
import { z } from 'zod';
import { PROFILES } from '../directory/vocabulary.js';
// Refusals are catalogue keys, said in the caller's language (lib/zod-text.ts).
import type { MessageKey } from '../web/i18n/index.js';

const csvList = <T extends z.ZodTypeAny>(item: T) =>
  z.preprocess(
    (v) => (typeof v === 'string' ? (v === '' ? [] : v.split(',').map((s) => s.trim()).filter(Boolean)) : v),
    z.array(item),
  );

/**
 * A calendar day written AAAA-MM-JJ (the value of an <input type="date">); an impossible one such as
 * 2026-02-30 is refused here, before it can reach PostgreSQL.
 */
export const CalendarDate = z
  .string()
  .regex(/^\d{4}-\d{2}-\d{2}$/, 'error.zod.day' satisfies MessageKey)
  .refine(possibleDay, 'error.zod.impossibleDate' satisfies MessageKey);

function possibleDay(v: string): boolean {
  const [y, m, d] = v.slice(0, 10).split('-').map(Number);
  const t = new Date(Date.UTC(y, m - 1, d));
  return y >= 1 && t.getUTCFullYear() === y && t.getUTCMonth() === m - 1 && t.getUTCDate() === d;
}

const MOMENT_RE = /^\d{4}-\d{2}-\d{2}(?:T([01]\d|2[0-3]):[0-5]\d(?::[0-5]\d(?:\.\d{1,3})?)?(?:Z|[+-](?:0\d|1[0-4]):[0-5]\d)?)?$/;

/** An instant that says its offset from UTC (`…+02:00`, `…Z`): exact, even in the hour the autumn change repeats. */
export const hasOffset = (moment: string): boolean => /(?:Z|[+-]\d{2}:\d{2})$/.test(moment);

/**
 * A day (AAAA-MM-JJ: its midnight), or an instant of it to the millisecond, AAAA-MM-JJTHH:MM[:SS[.mmm]] (the value of an
 * <input type="datetime-local">), in Paris time as every date of the selection. The instant is how an import's
 * « Distribuer les identifiants des nouveaux comptes » selects the accounts of that run alone (parisMoment): it then
 * carries its offset (`+02:00`), without which 02:00–03:00 on the last Sunday of October would name two instants.
 */
export const CalendarMoment = z
  .string()
  .regex(MOMENT_RE, 'error.zod.moment' satisfies MessageKey)
  .refine(possibleDay, 'error.zod.impossibleDate' satisfies MessageKey);

const PARIS_MOMENT = new Intl.DateTimeFormat('en-CA', {
  timeZone: 'Europe/Paris', year: 'numeric', month: '2-digit', day: '2-digit', hour: '2-digit', minute: '2-digit', second: '2-digit', hourCycle: 'h23',
});

/** An instant as CalendarMoment writes it in Paris time, to the millisecond, with its offset: `2026-03-04T10:15:23.123+01:00`. */
export function parisMoment(d: Date): string {
  const part = Object.fromEntries(PARIS_MOMENT.formatToParts(d).map((x) => [x.type, x.value]));
  const wall = Date.UTC(+part.year, +part.month - 1, +part.day, +part.hour, +part.minute, +part.second, d.getUTCMilliseconds());
  const offset = Math.round((wall - d.getTime()) / 60_000);
  const hm = `${String(Math.floor(Math.abs(offset) / 60)).padStart(2, '0')}:${String(Math.abs(offset) % 60).padStart(2, '0')}`;
  return `${part.year}-${part.month}-${part.day}T${part.hour}:${part.minute}:${part.second}.${String(d.getUTCMilliseconds()).padStart(3, '0')}${offset < 0 ? '-' : '+'}${hm}`;
}

/**
 * An instant with its offset (parisMoment) as Paris wall time without it, `2026-12-02T00:57:02.762`, when that wall time
 * names this instant alone (not in the hour the autumn change repeats); otherwise null. What a datetime-local input
 * can show and send back for the same accounts.
 */
export function parisWallTime(moment: string): string | null {
  const d = new Date(moment);
  if (!hasOffset(moment) || Number.isNaN(d.getTime())) return null;
  const wall = (x: Date) => parisMoment(x).slice(0, 23);
  const own = wall(d);
  return wall(new Date(d.getTime() - 3_600_000)) === own || wall(new Date(d.getTime() + 3_600_000)) === own ? null : own;
}

export const SelectionSchema = z.object({
  structureId: z.string().uuid().optional(),
  profiles: csvList(z.enum(PROFILES)).default([]),
  /** A relative matches a class when one of their children is in it. */
  classIds: csvList(z.string().uuid()).default([]),
  /** Classes of these levels (ANDed with classIds when both are given). */
  levelIds: csvList(z.string().uuid()).default([]),
  /** Explicit rows ticked in a list (class view). */
  userIds: csvList(z.string().uuid()).default([]),
  /** active = activated_at set (at activation, or carried over from a previous ENT): one definition everywhere. */
  activation: z.enum(['all', 'active', 'inactive']).default('all'),
  email: z.enum(['all', 'with', 'without']).default('all'),
  localAdmins: z.enum(['all', 'only', 'exclude']).default('all'),
  /** Created strictly before this day (Europe/Paris midnight), or this instant (Paris time). */
  createdBefore: CalendarMoment.optional(),
  /** Created on or after this day ("depuis"), or this instant. */
  createdAfter: CalendarMoment.optional(),
  /**
   * Absent from the feed (grace period or pre-deleted): 'not' (default) leaves them out, 'pending' keeps only
   * them. Distribution rules: distribution.ts.
   */
  preDeletion: z.enum(['all', 'pending', 'not']).default('not'),
  /** "Bloqués": left out by default. */
  blocked: z.enum(['exclude', 'only', 'all']).default('exclude'),
  /** Accounts that sign in only with an external provider: left out (default) or given an information sheet. */
  external: z.enum(['exclude', 'info']).default('exclude'),
  origin: z.enum(['all', 'feed', 'manual']).default('all'),
  /** Substring of the name ("Prénom Nom" or "Nom Prénom"), login or email, case-insensitive. */
  search: z.string().max(100).optional(),
  /**
   * 'family' ("par famille"): each pupil (by class, then name) followed by their legal representatives; a parent of
   * several pupils of the selection comes once, after the first; accounts outside any family follow (select.ts).
   */
  sort: z.enum(['alpha', 'profile', 'class', 'family']).default('alpha'),
  /**
   * « Relancer » (issue #10): only accounts handed a sheet or mail (distribution_events, tracking.ts) more than
   * this many days ago and nothing since, still not activated. Absent: no such condition.
   */
  distributedBefore: z.coerce.number().int().min(1).max(3650).optional(),
});
export type Selection = z.infer<typeof SelectionSchema>;
export type SortOrder = Selection['sort'];

export interface ChildInfo {
  firstName: string;
  lastName: string;
  classes: string[];
}

/** One selected account, as every output (preview, PDF, CSV, mail) needs it. */
export interface AccountRow {
  id: string;
  lastName: string;
  firstName: string;
  profile: (typeof PROFILES)[number];
  login: string;
  activated: boolean;
  /**
   * Decrypted activation code (canonical, ungrouped) for an inactive account whose code is still valid;
   * null for active accounts, accounts without a code, and expired codes (see codeExpired): a dead code
   * is never printed, the sheet says it expired instead.
   */
  code: string | null;
  codeExpiresAt: Date | null;
  /** Inactive account whose code has expired (a new one must be issued before it can activate). */
  codeExpired: boolean;
  email: string | null;
  birthDate: string | null;
  /**
   * A pupil of maternelle (young-pupil.ts: by birth date, else by the levels of their classes): the built-in texts
   * of their sheets and mails speak to their parents. Absent: false.
   */
  youngPupil?: boolean;
  /** Person data from the feeds (users.ine / functions / mobile); absent on sample rows. */
  ine?: string | null;
  functions?: string[];
  mobile?: string | null;
  /** Own classes; for a relative, the children's classes. Sorted (French, numeric). */
  classes: string[];
  /**
   * The class the row is filed under when sorting by class: first class inside the class filter, among those the
   * caller's scope sees (a local admin's schools, a teacher's classes: select.ts groupClassSql).
   */
  groupClass: string | null;
  /** The structure printed on the sheet (the selected one when the account belongs to several). */
  structureId: string | null;
  structureName: string;
  createdAt: Date;
  origin: 'feed' | 'manual';
  preDeleted: boolean;
  /** Absent from a complete feed since then (grace period, then pre-deletion); absent on sample rows. */
  absentSince?: Date | null;
  blocked: boolean;
  /**
   * Signs in only with this external provider (profile_policies): no code ever, an information sheet instead.
   * Absent: null.
   */
  externalProvider?: string | null;
  isLocalAdmin: boolean;
  /**
   * Not changeable by the caller (manageableSql: another administrator, for a local admin): its code is never
   * decrypted nor issued by this caller (a sheet would let them activate another administrator's account). Absent: false.
   */
  readOnly?: boolean;
  /** For a relative: the children, with their classes. */
  children: ChildInfo[];
  /**
   * Family order only (select.ts familyCte): the rank of the pupil (of a relative's first pupil in the selection);
   * null for an account outside any family (a relative none of whose children is selected, staff). Absent in other
   * orders. With `childIds`, what pdf.ts paginate needs to start each family on a new page.
   */
  familyRank?: number | null;
  /** Family order only: a relative's children (those `children` lists), by id; [] for anyone else. */
  childIds?: string[];
}

/**
 * One selected account as the CSV export reads it (select.ts streamCsvSelection, csv.ts): the facts and code of
 * AccountRow, and the cells PostgreSQL writes itself instead of the arrays and dates they come from.
 */
export interface CsvAccountRow
  extends Pick<
    AccountRow,
    | 'id' | 'lastName' | 'firstName' | 'profile' | 'login' | 'activated' | 'code' | 'codeExpiresAt' | 'codeExpired' | 'email'
    | 'blocked' | 'preDeleted' | 'externalProvider' | 'readOnly' | 'ine' | 'functions' | 'mobile'
  > {
  /** The classes, sorted and joined as the "Classe" cell reads: "5A, 6A". */
  classesLabel: string;
  /** The creation day, dd/mm/yyyy in Paris (frenchDate). */
  createdDay: string;
  /** The "Enfants" cell (childrenLabel): "Zoé MARTIN (6A), Léo MARTIN (5A)". */
  childrenLabel: string;
}
