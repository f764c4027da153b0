// What was handed out to whom (issue #10): one distribution_events row per account and hand-out, written in the
// same transaction as the audit row of the generation (or, for a mail, when the SMTP server accepted it).
// Read back as "fiche remise le …" / "courriel envoyé le …" and by the "Relancer" selection (select.ts).
import type { Queryable } from '../db/index.js';

/** « Relancer » offers, by default, the accounts handed out more than this many days ago (a school fortnight). */
export const REMIND_DAYS = 15;

/** What was handed out: a sheet (PDF/CSV of credentials), a mail, a renewal sheet, a Word export, a ZIP, a family pack. */
export type DistributionKind = 'sheet' | 'mail' | 'renewal_sheet' | 'word' | 'zip' | 'family_pack';

/**
 * Whether a queued mail of this kind (mail_jobs.kind) hands out credentials and is tracked when sent: the merge
 * mails (mail_inactive / mail_active, any mail_* kind) and family-pack mails (family*), not a password reset
 * (asked for by the user themself) nor a report.
 */
export function isDistributionMail(kind: string): boolean {
  return kind.startsWith('mail_') || kind.startsWith('family');
}

/**
 * Records that each of `userIds` was handed `kind` now, by `actorId` (null: the server, e.g. the CLI). One
 * set-based INSERT over the ids, whatever their number (100,000 is one statement, one parameter).
 * Duplicate ids are recorded once.
 */
export async function recordDistribution(
  client: Queryable,
  { userIds, kind, actorId }: { userIds: string[]; kind: DistributionKind; actorId: string | null },
): Promise<void> {
  if (userIds.length === 0) return;
  // The ids travel as one comma-separated text (an export records 100,000 of them: pg's array literal escapes each
  // element in JavaScript, a join does not); uuid parsing in PostgreSQL still refuses anything else.
  await client.query(
    `INSERT INTO distribution_events (user_id, kind, actor_id)
     SELECT DISTINCT id, $2, $3::uuid FROM unnest(string_to_array($1, ',')::uuid[]) AS t(id)`,
    [userIds.join(','), kind, actorId],
  );
}

/**
 * recordDistribution for the accounts whose ids fill `table` (a temporary table of the transaction, column id, such as
 * select.ts SELECTED_IDS): one INSERT … SELECT in id order, whatever their number. In that order each index entry
 * lands next to the previous one: half the cost of the same rows in the order of a file (by name).
 */
export async function recordDistributionOf(
  client: Queryable,
  table: string,
  { kind, actorId }: { kind: DistributionKind; actorId: string | null },
): Promise<void> {
  await client.query(
    `INSERT INTO distribution_events (user_id, kind, actor_id) SELECT DISTINCT id, $1, $2::uuid FROM ${table} ORDER BY id`,
    [kind, actorId],
  );
}

/** The last hand-out of each kind, per account. */
export interface LastDistribution {
  sheet: Date | null;
  mail: Date | null;
  /** Any kind: the most recent hand-out of all. */
  any: Date | null;
}

/**
 * The last sheet (any printed kind: sheet, renewal sheet, Word, ZIP, family pack) and the last mail of each of
 * `userIds`. Accounts never handed anything are absent from the map.
 */
export async function lastDistributions(db: Queryable, userIds: string[]): Promise<Map<string, LastDistribution>> {
  const out = new Map<string, LastDistribution>();
  if (userIds.length === 0) return out;
  const { rows } = await db.query(
    `SELECT e.user_id,
            max(e.at) FILTER (WHERE e.kind <> 'mail') AS sheet,
            max(e.at) FILTER (WHERE e.kind = 'mail') AS mail,
            max(e.at) AS any
     FROM distribution_events e WHERE e.user_id = ANY($1::uuid[])
     GROUP BY e.user_id`,
    [userIds],
  );
  for (const r of rows) out.set(r.user_id as string, { sheet: r.sheet ?? null, mail: r.mail ?? null, any: r.any ?? null });
  return out;
}
