// Pupils of « école maternelle »: cycle 1 (Code de l'éducation, D311-10: petite, moyenne and grande section) and the
// toute petite section (children from 2, L113-1), children of 2 to 5 who do not read yet. The built-in texts of their
// sheets and mails (templates.ts) and the notes a sheet prints itself (pdf.ts) speak to their parents, in « vous », of
// « votre enfant », instead of to the pupil in « tu »; a school's own text is printed as written. The selection
// (select.ts) reads the rule below as its column young_pupil (AccountRow.youngPupil).

/**
 * The level names of maternelle, in capitals: ONDE's « Niveau » (TPS, PS, MS, GS), the same as an AAF 1D feed's
 * ENTEleveNiveau or a CSV file's « Niveau » column may spell them. Compared with the stored name trimmed, in capitals.
 */
export const MATERNELLE_LEVELS = ['TPS', 'PS', 'MS', 'GS', 'TOUTE PETITE SECTION', 'PETITE SECTION', 'MOYENNE SECTION', 'GRANDE SECTION'] as const;

const PARIS_YEAR_MONTH = new Intl.DateTimeFormat('en-CA', { timeZone: 'Europe/Paris', year: 'numeric', month: '2-digit' });

/** The calendar year the school year of `now` started in (Paris time): from September on, this year; before, the last. */
export function schoolYearStart(now: Date): number {
  const part = Object.fromEntries(PARIS_YEAR_MONTH.formatToParts(now).map((x) => [x.type, x.value]));
  return Number(part.month) >= 9 ? Number(part.year) : Number(part.year) - 1;
}

/**
 * The latest birth date of a pupil of élémentaire in the school year of `now` (AAAA-MM-JJ): 31 December of the year its
 * CP pupils were born. French pupils are placed by calendar year of birth: a child enters CP at the rentrée of the
 * year they turn 6 (born in 2019: CP in September 2025, even when 6 only in November), and nobody repeats a year of
 * maternelle (D321-6). So a pupil born after this day is in maternelle. (Being under 6 on 1 September is not the
 * rule: a third of every CP is.)
 */
export function lastElementaryBirthDay(now: Date): string {
  return `${schoolYearStart(now) - 6}-12-31`;
}

/**
 * Whether the account of users alias `u` is a pupil of maternelle, as a boolean SQL expression (over `u`'s profile,
 * birth_date and id):
 *  1. a Student whose birth date is known: born after lastElementaryBirthDay (the pupil's own fact);
 *  2. a Student without a birth date: one of their classes has a level of MATERNELLE_LEVELS;
 *  3. anyone else: false.
 * The birth date comes first because a level is stored per class, not per pupil: a class takes the level of the
 * first of its pupils an import reads (import/apply.ts), so in a class mixing GS and CP pupils (common in village
 * schools) it is wrong for part of the class, whereas a birth date places each pupil. ONDE and the CSV templates always
 * give pupils a birth date; the levels decide for pupils without one.
 * Cost: a comparison per row; the lookup of levels (user_classes → classes → levels, by primary keys) only for pupils
 * without a birth date, and stops at the first match; no table is scanned. Measured on the benchmark's 100,000 accounts,
 * whose pupils have no birth date (the worst case): ~12 µs a pupil, +0.55 s for its 45,000 pupils, within the noise of a
 * whole-selection query (~7 s); nothing measurable on a preview page.
 */
export function youngPupilSql(u: string, now: Date = new Date()): string {
  const levels = MATERNELLE_LEVELS.map((l) => `'${l}'`).join(', ');
  return `CASE WHEN ${u}.profile <> 'Student' THEN false
    WHEN ${u}.birth_date IS NOT NULL THEN ${u}.birth_date > DATE '${lastElementaryBirthDay(now)}'
    ELSE EXISTS (SELECT 1 FROM user_classes yuc JOIN classes yc ON yc.id = yuc.class_id JOIN levels yl ON yl.id = yc.level_id
                 WHERE yuc.user_id = ${u}.id AND upper(btrim(yl.name)) IN (${levels})) END`;
}
