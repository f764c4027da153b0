// Handing sheets out outside the publipostage run (family packs, ZIP of sheets, one user's sheet, the ticked rows
// of the users list): the same rules as exportSelection (generate.ts) — the selection's distribution filters,
// a fresh code for an inactive account whose code is missing or expired — with the audit entry and the
// distribution record (tracking.ts) committed together with the codes, before anything is rendered.
import { withTransaction } from '../accounts/tx.js';
import type { AppContext } from '../context.js';
import { recordAudit } from '../directory/audit.js';
import type { Scope } from '../directory/scope.js';
import { planFreshCodes, storeFreshCodes, withFreshCode } from './fresh-codes.js';
import { loadTemplates, type TemplateSet } from './templates.js';
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
  const planned = planFreshCodes(ctx, selected);
  return withTransaction(ctx.database.pool, async (client) => {
    const stored = await storeFreshCodes(client, planned);
    await recordAudit(client, req.actorId, req.action, {
      filters: req.selection, count: selected.length, codesIssued: stored.size, ...req.details,
    });
    await recordDistribution(client, { userIds: selected.map((r) => r.id), kind: req.kind, actorId: req.actorId });
    return selected.map((r) => (stored.has(r.id) ? withFreshCode(r, planned.get(r.id)!) : r));
  });
}

/** The letter templates of every structure the rows are printed under, loaded once (for many small PDFs). */
export async function templatesOf(ctx: AppContext, rows: readonly AccountRow[]): Promise<Map<string, TemplateSet>> {
  const map = new Map<string, TemplateSet>();
  for (const id of new Set(rows.map((r) => r.structureId ?? ''))) map.set(id, await loadTemplates(ctx, id || null));
  return map;
}
