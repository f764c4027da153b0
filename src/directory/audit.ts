// The audit trail: who did what, when, with which parameters.
import type { Queryable } from '../db/index.js';


export async function recordAudit(
  db: Queryable,
  actorId: string | null,
  action: string,
  details: Record<string, unknown> = {},
): Promise<void> {
  await db.query('INSERT INTO audit (actor_id, action, details) VALUES ($1, $2, $3)', [actorId, action, JSON.stringify(details)]);
}
