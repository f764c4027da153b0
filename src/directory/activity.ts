// Activation over time and the distribution funnel of a structure (console home, issue #10): accounts
// activated per week (users.activated_at), narrowed to a profile or a class, and accounts → handed a sheet or
// mail (distribution_events, publipostage/tracking.ts) → activated. The accounts of the home's profile table
// (structureAccountsSql: super admins and pre-deleted accounts never counted).
import type { Queryable } from '../db/index.js';
import { currentHandOutSql } from '../publipostage/tracking.js';
import { structureAccountsSql } from './policies.js';
import type { Profile } from './vocabulary.js';

export interface WeekActivation {
  /** Monday of the week (Europe/Paris), AAAA-MM-JJ. */
  week: string;
  /** Accounts activated during that week. */
  activated: number;
  /** Accounts activated by the end of that week. */
  cumulative: number;
}

export interface ActivityFilter {
  profile?: Profile;
  /** Members of this class (for a relative: one of their children is). */
  classId?: string;
}

export interface Activity {
  weeks: WeekActivation[];
  funnel: Funnel;
}

/**
 * Each step within the previous one: accounts ⊇ handed a sheet or mail ⊇ activated after that. Accounts activated
 * with no hand-out recorded before their activation (before the tracking, a sheet given outside Trousseau, or handed
 * a sheet only once already active) are counted apart.
 */
export interface Funnel {
  accounts: number;
  given: number;
  /** Activated at or after their first hand-out. */
  activated: number;
  /** Activated with no hand-out recorded before the activation: outside the steps. */
  activatedUnrecorded: number;
}

/**
 * The last `weeks` weeks (this one included) of activations and the funnel, for the accounts of `structureId`
 * matching `filter`. One query: the population once, joined to the week series.
 */
export async function structureActivity(db: Queryable, structureId: string, filter: ActivityFilter = {}, weeks = 12): Promise<Activity> {
  const { rows } = await db.query(
    `WITH pop AS MATERIALIZED (
       SELECT u.id, u.activated_at,
              -- Not yet activated: only a hand-out of its current code counts (a sheet of a regenerated code is dead:
              -- users.code_issued_at).
              (SELECT min(de.at) FROM distribution_events de
               WHERE de.user_id = u.id AND (u.activated_at IS NOT NULL OR ${currentHandOutSql('de', 'u')})) AS first_given
       FROM ${structureAccountsSql('$1::uuid')} h JOIN users u ON u.id = h.id
       WHERE ($3::text IS NULL OR u.profile = $3)
         AND ($4::uuid IS NULL
              OR EXISTS (SELECT 1 FROM user_classes uc WHERE uc.user_id = u.id AND uc.class_id = $4)
              OR EXISTS (SELECT 1 FROM relations r JOIN user_classes uc ON uc.user_id = r.child_id
                         WHERE r.parent_id = u.id AND uc.class_id = $4))
     ),
     wk AS (
       SELECT w::date AS week, (w AT TIME ZONE 'Europe/Paris') AS starts, ((w + interval '1 week') AT TIME ZONE 'Europe/Paris') AS ends
       FROM generate_series(date_trunc('week', now() AT TIME ZONE 'Europe/Paris') - ($2::int - 1) * interval '1 week',
                            date_trunc('week', now() AT TIME ZONE 'Europe/Paris'), interval '1 week') AS w
     )
     SELECT to_char(wk.week, 'YYYY-MM-DD') AS week,
            count(p.id) FILTER (WHERE p.activated_at >= wk.starts AND p.activated_at < wk.ends)::int AS activated,
            count(p.id) FILTER (WHERE p.activated_at < wk.ends)::int AS cumulative,
            (SELECT count(*) FROM pop)::int AS accounts,
            (SELECT count(first_given) FROM pop)::int AS given,
            -- Activated after its first hand-out: an account activated before a sheet (a parent's sheet printed
            -- again in a family pack) was not activated by it, and is counted with the unrecorded ones.
            (SELECT count(*) FILTER (WHERE activated_at >= first_given) FROM pop)::int AS given_activated,
            (SELECT count(activated_at) FILTER (WHERE first_given IS NULL OR activated_at < first_given) FROM pop)::int AS unrecorded_activated
     FROM wk LEFT JOIN pop p ON p.activated_at < wk.ends
     GROUP BY wk.week ORDER BY wk.week`,
    [structureId, weeks, filter.profile ?? null, filter.classId ?? null],
  );
  const first = rows[0];
  return {
    weeks: rows.map((r) => ({ week: r.week, activated: r.activated, cumulative: r.cumulative })),
    funnel: {
      accounts: first?.accounts ?? 0,
      given: first?.given ?? 0,
      activated: first?.given_activated ?? 0,
      activatedUnrecorded: first?.unrecorded_activated ?? 0,
    },
  };
}
