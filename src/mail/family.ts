// "Envoyer aux familles": one mail per legal representative of the selection's pupils, with their own credentials
// in the body (the usual merge mail, merge.ts) and, attached, ONE PDF holding their children's sheets, named
// « Fiche de connexion – Prénom NOM.pdf » (the children's names). Parents without an address are returned, so the
// screen can list them with the PDF of their pack (family.ts). The children's fresh codes and the audit entry commit
// before the mails are queued (their 'family_pack' record is the worker's, when a mail carrying their sheet is accepted);
// the mail run is merge.ts's own. The PDFs are made by the mail worker as it sends each mail (attachments.ts): the
// request only queues, in seconds, whatever the school's size.
import type { AppContext } from '../context.js';
import type { Scope } from '../directory/scope.js';
import { familyLinks, familyPacks, relativesOf, relativesSelection } from '../publipostage/family.js';
import { handOutRows } from '../publipostage/handout.js';
import { selectAccounts } from '../publipostage/select.js';
import type { AccountRow, Selection } from '../publipostage/selection.js';
import { findExistingRun, mailedBy, queueMailMerge, type MailMergeOptions, type MailMergeResult } from './merge.js';
import type { AttachmentSpec } from './attachments.js';

export interface FamilyMailPlan {
  /** Pupils of the selection (as handed out). */
  pupils: AccountRow[];
  /** Their legal representatives the distribution rules keep, in name order. */
  parents: AccountRow[];
  /** parent id -> their children among `pupils`. */
  children: Map<string, AccountRow[]>;
}

/** The selection's pupils and their legal representatives (same structure and distribution filters). */
export async function planFamilyMail(ctx: AppContext, selection: Selection, scope: Scope): Promise<FamilyMailPlan> {
  const pupils = await selectAccounts(ctx, { ...selection, profiles: ['Student'], sort: 'class' }, scope);
  const relatives = await relativesOf(ctx.database.pool, pupils.map((p) => p.id));
  const parents = relatives.length
    ? await selectAccounts(ctx, relativesSelection(selection, relatives), scope)
    : [];
  const links = await familyLinks(ctx.database.pool, [...pupils.map((p) => p.id), ...parents.map((p) => p.id)]);
  const packs = familyPacks([...pupils, ...parents], links);
  return { pupils, parents: packs.map((p) => p.parent), children: new Map(packs.map((p) => [p.parent.id, p.children])) };
}

/** A parent the family mail reaches (merge.ts mailedBy: an address, signing in with a password or elsewhere). */
export const reachable = (parent: AccountRow): boolean => mailedBy('family', parent);

/**
 * The addresses (trimmed, lower case) the plan would mail the packs of more than one family to: parents sharing one
 * whose children differ (two families, or a typing error putting one family's mailbox on another parent). Two parents
 * of the same children sharing theirs are one family's and are not listed. With the number of parents, most first.
 */
export function crossFamilyAddresses(plan: FamilyMailPlan, limit = 5): { email: string; accounts: number }[] {
  const byAddress = new Map<string, AccountRow[]>();
  for (const p of plan.parents.filter(reachable)) {
    const e = p.email!.trim().toLowerCase();
    byAddress.set(e, [...(byAddress.get(e) ?? []), p]);
  }
  const family = (p: AccountRow) => (plan.children.get(p.id) ?? []).map((c) => c.id).sort().join(',');
  return [...byAddress]
    .filter(([, parents]) => new Set(parents.map(family)).size > 1)
    .map(([email, parents]) => ({ email, accounts: parents.length }))
    .sort((a, b) => b.accounts - a.accounts || (a.email < b.email ? -1 : 1))
    .slice(0, limit);
}

export interface FamilyMailResult extends MailMergeResult {
  /** Parents of the selection's pupils with no address: their packs are to be printed. */
  withoutEmailParents: AccountRow[];
}

/**
 * Queues one mail per reachable parent of the selection's pupils (their own credentials, their children's sheets
 * attached). The same form submitted twice gives the same run (merge.ts idempotency), before any code is drawn.
 */
export async function startFamilyMail(
  ctx: AppContext, selection: Selection, scope: Scope, actorId: string | null, opts: MailMergeOptions = {},
): Promise<FamilyMailResult> {
  const runSelection: Selection = { ...selection, sort: 'family' };
  const plan = await planFamilyMail(ctx, selection, scope);
  const withoutEmailParents = plan.parents.filter((p) => !reachable(p));
  const familyOpts: MailMergeOptions = { ...opts, kind: 'family' };
  const existing = await findExistingRun(ctx, runSelection, scope, actorId, familyOpts);
  if (existing) return { ...existing, withoutEmailParents };
  const recipients = plan.parents.filter(reachable);
  const sent = new Set(recipients.flatMap((p) => plan.children.get(p.id)!.map((c) => c.id)));
  // The children's codes are issued and stored now (the sheets the worker makes read them back).
  await handOutRows(ctx, plan.pupils.filter((p) => sent.has(p.id)), {
    selection: runSelection, scope, actorId, action: 'publipostage.family_pack', kind: 'family_pack', details: { via: 'mail' },
    // Recorded by the mail worker, child by child, when the mail carrying the sheet is accepted (worker.ts).
    record: false,
  });
  const attachmentSpecs = new Map<string, AttachmentSpec>(
    recipients.map((parent) => [parent.id, { kind: 'family_pack', childIds: plan.children.get(parent.id)!.map((c) => c.id), scope }]),
  );
  // Every parent goes to the run (its "sans adresse" count); only the reachable ones get a mail (merge.ts).
  const res = await queueMailMerge(ctx, plan.parents, runSelection, scope, actorId, { ...familyOpts, attachmentSpecs });
  return { ...res, withoutEmailParents };
}
