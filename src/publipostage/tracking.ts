// What was handed out to whom (issue #10): one event per account and generation or mail.
// TODO implemented by distrib-b (migration 0019, table distribution_events): this copy is the agreed signature
// only, so the family packs, zips, renewal sheets and one-user actions can call it; the integrator keeps
// distrib-b's version.
import type pg from 'pg';

export type DistributionKind = 'sheet' | 'mail' | 'renewal_sheet' | 'word' | 'zip' | 'family_pack';

/** Records that `userIds` were given `kind` by `actorId` (null: the CLI), inside the caller's transaction when given a client. */
export async function recordDistribution(
  _client: pg.PoolClient | pg.Pool,
  _event: { userIds: string[]; kind: DistributionKind; actorId: string | null },
): Promise<void> {
  // TODO implemented by distrib-b
}
