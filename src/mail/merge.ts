// "Envoyer par mail": one run per click, one queued mail per selected account that has an address.
// Inactive accounts get their credentials (login, grouped code, expiry, activation link); active ones get
// password-renewal instructions and no code. The worker (src/mail/worker.ts) does the sending.
import { randomUUID } from 'node:crypto';
import { withTransaction } from '../accounts/tx.js';
import type { AppContext } from '../context.js';
import type { Queryable } from '../db/index.js';
import { recordAudit } from '../directory/audit.js';
import type { Scope } from '../directory/scope.js';
import { planFreshCodes, storeFreshCodes, withFreshCode } from '../publipostage/fresh-codes.js';
import { selectAccounts } from '../publipostage/select.js';
import type { AccountRow, Selection } from '../publipostage/selection.js';
import { enqueueMails, type MailJobInput } from './queue.js';
import { MailComposer } from './compose.js';
import { wakeMailWorkers } from './worker.js';

export interface MailMergeResult {
  runId: string;
  queued: number;
  withoutEmail: number;
  selected: number;
}

export interface MailRunReport {
  runId: string;
  createdAt: Date;
  actorName: string | null;
  selected: number;
  withoutEmail: number;
  queued: number;
  sent: number;
  failed: number;
  /** Still to send: waiting, being sent, or waiting for a retry. */
  pending: number;
  failures: Array<{ recipient: string; error: string; login: string | null; name: string | null }>;
}

export type MailRunSummary = Omit<MailRunReport, 'failures'>;

/** Has an address, and something to be told by mail: an account that signs in elsewhere gets no merge mail. */
function hasEmail(row: AccountRow): boolean {
  return !!row.email && row.email.trim() !== '' && !row.externalProvider;
}

/** Structures and classes a run concerns, narrowed from the author's scope by the selection's own filters. */
async function runScope(db: Queryable, selection: Selection, scope: Scope): Promise<{ structureIds: string[] | null; classIds: string[] | null }> {
  switch (scope.kind) {
    case 'all':
      return { structureIds: selection.structureId ? [selection.structureId] : null, classIds: null };
    case 'structures': {
      const narrowed = selection.structureId && scope.structureIds.includes(selection.structureId);
      return { structureIds: narrowed ? [selection.structureId!] : scope.structureIds, classIds: null };
    }
    case 'classes': {
      const picked = selection.classIds.filter((c) => scope.classIds.includes(c));
      const classIds = picked.length ? picked : scope.classIds;
      const res = await db.query('SELECT DISTINCT structure_id FROM classes WHERE id = ANY($1::uuid[])', [classIds]);
      return { structureIds: res.rows.map((r) => r.structure_id as string), classIds };
    }
    case 'self':
      return { structureIds: [], classIds: [] };
  }
}

/** SQL condition on mail_runs `r`: runs whose accounts all lie within what `scope` may see. */
function visibleTo(scope: Scope, params: unknown[]): string {
  switch (scope.kind) {
    case 'all':
      return 'TRUE';
    case 'structures':
      params.push(scope.structureIds);
      return `(cardinality(r.structure_ids) > 0 AND r.structure_ids <@ $${params.length}::uuid[])`;
    case 'classes':
      params.push(scope.classIds);
      return `(cardinality(r.class_ids) > 0 AND r.class_ids <@ $${params.length}::uuid[])`;
    case 'self':
      return 'FALSE';
  }
}

/**
 * Queues the merge for already-selected accounts, in one transaction with the run row and the audit entry.
 * Inactive accounts whose code is missing or expired get a fresh one (a mail with a dead code would be useless).
 */
export async function queueMailMerge(
  ctx: AppContext,
  rows: AccountRow[],
  selection: Selection,
  scope: Scope,
  actorId: string | null,
): Promise<MailMergeResult> {
  const now = new Date();
  const runId = randomUUID();
  const recipients = rows.filter(hasEmail);
  const withoutEmail = rows.length - recipients.length;

  // Everything is composed before the transaction opens: it stays short, and never waits for a second
  // pool connection (template loading) while holding one.
  const issued = planFreshCodes(ctx, recipients, now);
  const composer = new MailComposer(ctx);
  const jobs: Array<MailJobInput & { userId: string }> = [];
  for (const r of recipients) {
    const fresh = issued.get(r.id);
    const mail = await composer.compose(fresh ? withFreshCode(r, fresh) : r);
    jobs.push({ runId, userId: r.id, kind: mail.kind, recipient: r.email!.trim(), subject: mail.subject, text: mail.text, html: mail.html });
  }

  const queued = await withTransaction(ctx.database.pool, async (client) => {
    // An account activated since the selection keeps no new code and gets no mail with a dead one.
    let kept = jobs;
    if (issued.size) {
      const renewed = await storeFreshCodes(client, issued);
      kept = jobs.filter((j) => !issued.has(j.userId) || renewed.has(j.userId));
    }
    const where = await runScope(client, selection, scope);
    await client.query(
      `INSERT INTO mail_runs (id, actor_id, filters, selected, without_email, queued, structure_ids, class_ids)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8)`,
      [runId, actorId, JSON.stringify(selection), rows.length, withoutEmail, kept.length, where.structureIds, where.classIds],
    );
    // Sealed: the bodies carry activation codes and family details.
    await enqueueMails(client, kept, { seal: ctx.secrets });
    await recordAudit(client, actorId, 'publipostage.mail', {
      runId,
      filters: selection,
      selected: rows.length,
      withoutEmail,
      queued: kept.length,
      codesIssued: kept.filter((j) => issued.has(j.userId)).length,
    });
    return kept.length;
  });
  wakeMailWorkers();
  return { runId, queued, withoutEmail, selected: rows.length };
}

/** Selects the accounts (same filters as the preview and the PDF) and queues one mail per account with an address. */
export async function startMailMerge(ctx: AppContext, selection: Selection, scope: Scope, actorId: string | null): Promise<MailMergeResult> {
  const rows = await selectAccounts(ctx, selection, scope);
  return queueMailMerge(ctx, rows, selection, scope, actorId);
}

const COUNTS = `
  count(j.id) FILTER (WHERE j.status = 'sent')::int AS sent,
  count(j.id) FILTER (WHERE j.status = 'failed')::int AS failed,
  count(j.id) FILTER (WHERE j.status IN ('pending', 'sending'))::int AS pending`;

function summary(r: Record<string, unknown>): MailRunSummary {
  return {
    runId: r.id as string,
    createdAt: r.created_at as Date,
    actorName: (r.actor_name as string | null) ?? null,
    selected: r.selected as number,
    withoutEmail: r.without_email as number,
    queued: r.queued as number,
    sent: r.sent as number,
    failed: r.failed as number,
    pending: r.pending as number,
  };
}

const RUN_SELECT = `
  SELECT r.id, r.created_at, r.selected, r.without_email, r.queued,
         CASE WHEN a.id IS NULL THEN NULL ELSE a.first_name || ' ' || upper(a.last_name) END AS actor_name, ${COUNTS}
  FROM mail_runs r
  LEFT JOIN users a ON a.id = r.actor_id
  LEFT JOIN mail_jobs j ON j.run_id = r.id`;

/** Where a run stands; null when it does not exist or lies outside `scope` (when given). */
export async function mailRunReport(ctx: AppContext, runId: string, scope?: Scope): Promise<MailRunReport | null> {
  const params: unknown[] = [runId];
  const visible = scope ? visibleTo(scope, params) : 'TRUE';
  const res = await ctx.database.pool.query(`${RUN_SELECT} WHERE r.id = $1 AND ${visible} GROUP BY r.id, a.id`, params);
  if (!res.rows.length) return null;
  const failures = await ctx.database.pool.query(
    `SELECT j.recipient, coalesce(j.last_error, '') AS error, u.login,
            CASE WHEN u.id IS NULL THEN NULL ELSE u.first_name || ' ' || upper(u.last_name) END AS name
     FROM mail_jobs j LEFT JOIN users u ON u.id = j.user_id
     WHERE j.run_id = $1 AND j.status = 'failed'
     ORDER BY u.last_name, u.first_name, j.recipient`,
    [runId],
  );
  return {
    ...summary(res.rows[0]),
    failures: failures.rows.map((f) => ({ recipient: f.recipient, error: f.error, login: f.login ?? null, name: f.name ?? null })),
  };
}

/** The latest runs `scope` may see, newest first, with their progress. */
export async function listMailRuns(ctx: AppContext, scope: Scope, limit = 20): Promise<MailRunSummary[]> {
  const params: unknown[] = [];
  const visible = visibleTo(scope, params);
  params.push(Math.max(1, Math.min(limit, 200)));
  const res = await ctx.database.pool.query(
    `${RUN_SELECT} WHERE ${visible} GROUP BY r.id, a.id ORDER BY r.created_at DESC, r.id LIMIT $${params.length}`,
    params,
  );
  return res.rows.map(summary);
}
