// What was handed out to whom (issue #10): one distribution_events row per account and hand-out, written in the
// same transaction as the audit row of the generation (or, for a mail, when the SMTP server accepted it).
// Read back as "fiche remise le …" / "courriel envoyé le …" and by the "Relancer" selection (select.ts), counting
// only the hand-outs of the account's current code (currentHandOutSql: users.code_issued_at, migration 0041).
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

/** Records a streamed export's hand-out in steps (distributionRecorder). */
export interface DistributionRecorder {
  /** Records the share of the accounts that matches `read` of them having been read (read: a running total). */
  step(read: number): Promise<void>;
  /** Records whatever is left: after it, every account of the table is recorded exactly once. */
  finish(): Promise<void>;
}

/**
 * recordDistribution for the accounts whose ids fill `table` (a temporary table of the transaction, column id, written
 * in id order, such as select.ts SELECTED_IDS), in steps a streamed export takes as it reads them: each step is one
 * INSERT … SELECT of the next range of the table's pages, so PostgreSQL writes the record while this process renders
 * the rows, and each index entry lands next to the previous one (in id order: half the cost of the same rows in the
 * order of a file, by name). Steps are proportional to the rows read, whatever their order in the file.
 */
export async function distributionRecorder(
  client: Queryable,
  table: string,
  { kind, actorId }: { kind: DistributionKind; actorId: string | null },
): Promise<DistributionRecorder> {
  const { rows } = await client.query(
    `SELECT count(*)::float8 AS n, ceil(pg_relation_size('${table}') / current_setting('block_size')::float8)::int AS pages FROM ${table}`,
  );
  const total = Number(rows[0].n);
  const pages = Number(rows[0].pages);
  let done = 0;
  // Pages [from, to) of the table (to null: to its end), as a TID range (read as such since PostgreSQL 14).
  const insert = (from: number, to: number | null) =>
    client.query(
      `INSERT INTO distribution_events (user_id, kind, actor_id)
       SELECT DISTINCT id, $1, $2::uuid FROM ${table}
       WHERE ctid >= $3::tid${to === null ? '' : ' AND ctid < $4::tid'}
       ORDER BY id`,
      [kind, actorId, `(${from},0)`, ...(to === null ? [] : [`(${to},0)`])],
    );
  return {
    async step(read: number) {
      const to = Math.min(pages, Math.floor((pages * read) / Math.max(total, 1)));
      if (to <= done) return;
      await insert(done, to);
      done = to;
    },
    async finish() {
      await insert(done, null);
      done = pages;
    },
  };
}

/** The last hand-out of each kind, per account. */
export interface LastDistribution {
  /** Hand-outs of the current code (at or after users.code_issued_at): the account's credentials as they work. */
  sheet: Date | null;
  mail: Date | null;
  /** Any kind: the most recent hand-out of the current code. */
  any: Date | null;
  /** The last sheet and mail handed out before the current code was issued: they carry a dead code (history only). */
  formerSheet: Date | null;
  formerMail: Date | null;
}

/**
 * Whether distribution_events `e` handed out the current code of users `u`: a row older than the code (regenerated by
 * an administrator, renewed, replaced by a fresh one) gave a code that no longer works — the family never got the
 * new one, and « Relancer » must offer it. The rows stay, read as a former code's hand-outs.
 */
export function currentHandOutSql(e: string, u: string): string {
  return `(${u}.code_issued_at IS NULL OR ${e}.at >= ${u}.code_issued_at)`;
}

/**
 * The last sheet (any printed kind: sheet, renewal sheet, Word, ZIP, family pack) and the last mail of each of
 * `userIds`, of the current code and of former ones. Accounts never handed anything are absent from the map.
 */
export async function lastDistributions(db: Queryable, userIds: string[]): Promise<Map<string, LastDistribution>> {
  const out = new Map<string, LastDistribution>();
  if (userIds.length === 0) return out;
  const current = currentHandOutSql('e', 'u');
  const { rows } = await db.query(
    `SELECT e.user_id,
            max(e.at) FILTER (WHERE e.kind <> 'mail' AND ${current}) AS sheet,
            max(e.at) FILTER (WHERE e.kind = 'mail' AND ${current}) AS mail,
            max(e.at) FILTER (WHERE ${current}) AS any,
            max(e.at) FILTER (WHERE e.kind <> 'mail' AND NOT ${current}) AS former_sheet,
            max(e.at) FILTER (WHERE e.kind = 'mail' AND NOT ${current}) AS former_mail
     FROM distribution_events e JOIN users u ON u.id = e.user_id
     WHERE e.user_id = ANY($1::uuid[])
     GROUP BY e.user_id`,
    [userIds],
  );
  for (const r of rows) {
    out.set(r.user_id as string, {
      sheet: r.sheet ?? null,
      mail: r.mail ?? null,
      any: r.any ?? null,
      formerSheet: r.former_sheet ?? null,
      formerMail: r.former_mail ?? null,
    });
  }
  return out;
}
