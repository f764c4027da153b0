// Where each configured provider may be used: per structure and profile (table federation_enabled, migration 0020),
// set by a super admin in the console. An account signs in with a provider only when the provider is enabled for its
// profile in one of its structures (a relative's: its children's).
import type pg from 'pg';
import { withTransaction } from '../accounts/tx.js';
import { recordAudit } from '../directory/audit.js';
import type { Queryable } from '../db/index.js';
import { PROFILES, type Profile } from '../directory/vocabulary.js';

/** "structureId:profile" pairs where `providerId` is enabled. */
export async function loadEnablement(db: Queryable, providerId: string): Promise<Set<string>> {
  const r = await db.query('SELECT structure_id, profile FROM federation_enabled WHERE provider_id = $1', [providerId]);
  return new Set(r.rows.map((x) => `${x.structure_id}:${x.profile}`));
}

/** Which of `providerIds` are enabled for some profile of some structure: the ones the sign-in page offers. */
export async function enabledProviders(db: Queryable, providerIds: string[]): Promise<Set<string>> {
  if (!providerIds.length) return new Set();
  const r = await db.query('SELECT DISTINCT provider_id FROM federation_enabled WHERE provider_id = ANY($1::text[])', [providerIds]);
  return new Set(r.rows.map((x) => x.provider_id as string));
}

/**
 * Replaces where `providerId` is enabled, over the structures listed in `structureIds` only (pairs of other
 * structures stay as they are). `pairs`: "structureId:profile". Audited as federation.enablement.
 */
export async function saveEnablement(
  pool: pg.Pool, providerId: string, structureIds: string[], pairs: string[], actorId: string | null,
): Promise<void> {
  const listed = new Set(structureIds);
  const rows = pairs
    .map((p) => p.split(':'))
    .filter(([s, prof]) => listed.has(s) && (PROFILES as readonly string[]).includes(prof)) as Array<[string, Profile]>;
  await withTransaction(pool, async (client) => {
    await client.query('DELETE FROM federation_enabled WHERE provider_id = $1 AND structure_id = ANY($2::uuid[])', [providerId, structureIds]);
    await client.query(
      `INSERT INTO federation_enabled (provider_id, structure_id, profile)
       SELECT $1, s, p FROM unnest($2::uuid[], $3::text[]) AS x(s, p) JOIN structures st ON st.id = x.s ON CONFLICT DO NOTHING`,
      [providerId, rows.map((r) => r[0]), rows.map((r) => r[1])],
    );
    await recordAudit(client, actorId, 'federation.enablement', { providerId, structures: structureIds.length, enabled: rows.length });
  });
}

/** Enables a provider for these profiles in every structure (set-up scripts and tests). */
export async function enableEverywhere(db: Queryable, providerId: string, profiles: readonly Profile[]): Promise<void> {
  await db.query(
    `INSERT INTO federation_enabled (provider_id, structure_id, profile)
     SELECT $1, s.id, p FROM structures s CROSS JOIN unnest($2::text[]) AS p ON CONFLICT DO NOTHING`,
    [providerId, profiles],
  );
}
