// Handing sheets out outside the publipostage run (family packs, ZIP of sheets, one user's sheet, the ticked rows
// of the users list): the same rules as exportSelection (generate.ts) — the selection's distribution filters,
// a fresh code for an inactive account whose code is missing or expired — with the audit entry and the
// distribution record (tracking.ts) committed together with the codes, before anything is rendered.
import { withTransaction } from '../accounts/tx.js';
import type { AppContext } from '../context.js';
import { recordAudit } from '../directory/audit.js';
import type { Scope } from '../directory/scope.js';
import type { Queryable } from '../db/index.js';
import { planFreshCodes, storeFreshCodes, withFreshCode, type CodeBearer } from './fresh-codes.js';
import { selectAccounts } from './select.js';
import type { AccountRow, Selection } from './selection.js';
import { recordDistribution, type DistributionKind } from './tracking.js';

export interface HandoutRequest {
  selection: Selection;
  scope: Scope;
  actorId: string | null;
  /** Audit action, e.g. 'publipostage.family_pack'. */
  action: string;
  kind: DistributionKind;
  /** More audit details (model, format…). */
  details?: Record<string, unknown>;
  /**
   * false: codes and audit only, the hand-out is recorded later by whoever delivers it (a family mail's packs, by the
   * mail worker once the SMTP server accepted the mail).
   */
  record?: boolean;
}

/**
 * Selects the accounts of `req.selection` (in its order), issues the fresh codes the sheets need, and records the
 * audit entry (filters, count, codesIssued, details) and the distribution of `kind` to every selected account.
 * Returns the rows as they must be printed (with their fresh codes).
 */
export async function handOut(ctx: AppContext, req: HandoutRequest): Promise<AccountRow[]> {
  return handOutRows(ctx, await selectAccounts(ctx, req.selection, req.scope), req);
}

/** handOut for rows already selected (same selection rules): codes, audit and record in one transaction. */
export async function handOutRows(ctx: AppContext, selected: AccountRow[], req: HandoutRequest): Promise<AccountRow[]> {
  return withTransaction(ctx.database.pool, async (client) => {
    const { rows, issued, recorded } =
      req.record === false ? { ...(await issueBatch(ctx, client, selected)), recorded: null } : await handBatch(ctx, client, selected, req.kind, req.actorId);
    await recorded;
    await recordAudit(client, req.actorId, req.action, {
      filters: req.selection, count: selected.length, codesIssued: issued, ...req.details,
    });
    return rows;
  });
}

/**
 * One batch of selected accounts handed out on `client` (inside the caller's transaction, which also writes the
 * audit row): a fresh code stored for each inactive account whose code is missing or expired (issueBatch), and the
 * hand-out of `kind` recorded for every account (tracking.ts: « fiche remise le … », « Relancer »). Returns the rows
 * as they must be printed (with their fresh codes), how many codes were issued, and the record's statement, to await
 * before committing (a failed one aborts the transaction, and COMMIT would then quietly roll back). Shared by
 * handOutRows and the streamed exports (generate.ts).
 */
export async function handBatch<R extends CodeBearer>(
  ctx: AppContext,
  client: Queryable,
  selected: R[],
  kind: DistributionKind,
  actorId: string | null,
): Promise<{ rows: R[]; issued: number; recorded: Promise<void> }> {
  const { rows, issued } = await issueBatch(ctx, client, selected);
  // Not waited for here: the record's answer is nothing the rows need, and its round trip (a streamed export's
  // hundreds of batches) overlaps the rendering. The caller awaits `recorded` before it commits.
  const recorded = recordDistribution(client, { userIds: selected.map((r) => r.id), kind, actorId });
  recorded.catch(() => {});
  return { rows, issued, recorded };
}

/**
 * handBatch without the record (the CSV export records its whole selection from the ids it kept, tracking.ts
 * distributionRecorder): the fresh codes stored, the rows as they must be printed and how many codes were issued.
 */
export async function issueBatch<R extends CodeBearer>(ctx: AppContext, client: Queryable, selected: R[]): Promise<{ rows: R[]; issued: number }> {
  const planned = planFreshCodes(ctx, selected);
  const stored = await storeFreshCodes(client, planned);
  return { rows: stored.size ? selected.map((r) => (stored.has(r.id) ? withFreshCode(r, planned.get(r.id)!) : r)) : selected, issued: stored.size };
}
