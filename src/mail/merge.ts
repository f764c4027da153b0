// "Envoyer par mail": one run per confirmation, one queued mail per selected account that has an address.
// Runs never step on each other's codes: a confirmation form carries an idempotency key (submitting it twice
// gives the same run), a selection has one run at a time (a second one while the first still sends gives the
// first), and runs are queued one after the other, a fresh code being stored only where no other run stored
// one meanwhile (that account's mail then comes from the other run, with its working code).
// Inactive accounts get their credentials (login, grouped code, expiry, activation link); active ones get
// password-renewal instructions and no code. The worker (src/mail/worker.ts) does the sending.
// A run reads its selection from a server-side cursor (select.ts streamSelection), MAIL_BATCH accounts at a time:
// codes, composed and sealed mails, the run row and the audit entry all go in one transaction, and memory holds one
// batch whatever the selection's size (a région's parents are one run).
import { setImmediate as nextTurn } from 'node:timers/promises';
import { createHash, randomUUID } from 'node:crypto';
import { withTransaction } from '../accounts/tx.js';
import type { AppContext } from '../context.js';
import { serialQueries, type Queryable } from '../db/index.js';
import { recordAudit } from '../directory/audit.js';
import type { Scope } from '../directory/scope.js';
import { mayCarryCode } from '../publipostage/distribution.js';
import { planFreshCodes, storeFreshCodes, withFreshCode } from '../publipostage/fresh-codes.js';
import { streamSelection } from '../publipostage/select.js';
import type { AccountRow, Selection } from '../publipostage/selection.js';
import type { AttachmentSpec } from './attachments.js';
import { enqueueMails, type MailJobInput } from './queue.js';
import { MailComposer } from './compose.js';
import { wakeMailWorkers } from './worker.js';

/** Composing time (ms) between two turns of the event loop. */
const YIELD_MS = 10;

export interface MailMergeResult {
  runId: string;
  queued: number;
  withoutEmail: number;
  selected: number;
  /** Set when no new run was made: the form was already submitted, or this selection's run is still sending. */
  existing?: 'same-form' | 'in-progress';
}

export interface MailMergeOptions {
  /** The confirmation form's key (hidden field): the same key never makes two runs. */
  idempotencyKey?: string;
  /** Files the worker makes when it sends the mail, per account id (family packs: mail/family.ts, attachments.ts). */
  attachmentSpecs?: ReadonlyMap<string, AttachmentSpec>;
  /** Accounts read from the selection's cursor and queued at a time (default MAIL_BATCH; tests use a tiny one). */
  batchSize?: number;
  /**
   * 'family': the family mail of the selection's pupils (mail/family.ts), a run apart from the merge of the same
   * selection (one running never stands for the other).
   */
  kind?: 'family';
}

/** Accounts per batch of a run: composed, sealed and inserted in one go (one multi-row INSERT per 1,000 mails). */
export const MAIL_BATCH = 500;

/** Accepted shape of an idempotency key (a UUID or any base64url token of 16–64 chars). */
export const IDEMPOTENCY_KEY = /^[A-Za-z0-9_-]{16,64}$/;

// Advisory lock taken by every run while it stores its codes and queues its mails: runs queue one after the other
// (a région's run holds it for the time of reading its selection once).
const MAIL_RUN_LOCK = 745_202;

/**
 * Same accounts, same key: the selection and the author's scope (the same filters select other accounts for a
 * local admin than for a super admin), keys sorted, hashed.
 */
export function selectionKey(selection: Selection, scope: Scope, kind: MailMergeOptions['kind'] = undefined): string {
  const sorted = (v: unknown): unknown =>
    Array.isArray(v) ? v.map(sorted) : v && typeof v === 'object'
      ? Object.fromEntries(Object.entries(v as Record<string, unknown>).sort(([a], [b]) => a.localeCompare(b)).map(([k, x]) => [k, sorted(x)]))
      : v;
  // A family mail (its parents, their children's packs) is not the same run as the merge of the same pupils.
  return createHash('sha256').update(JSON.stringify(sorted(kind ? { selection, scope, kind } : { selection, scope }))).digest('hex');
}

/** The stored idempotency key: per author, so another user's key never designates this user's run. */
function formKey(actorId: string | null, opts: MailMergeOptions): string | null {
  const k = opts.idempotencyKey;
  return k && IDEMPOTENCY_KEY.test(k) ? `${actorId ?? 'system'}:${k}` : null;
}

/** The run a key or a selection already has, as a result; null when a new run may start. */
async function existingRun(db: Queryable, key: string | null, selKey: string): Promise<MailMergeResult | null> {
  const { rows } = await db.query(
    `SELECT r.id, r.queued, r.selected, r.without_email, r.idempotency_key = $1 AS same_form FROM mail_runs r
      WHERE r.idempotency_key = $1
         OR (r.selection_key = $2 AND EXISTS (SELECT 1 FROM mail_jobs j WHERE j.run_id = r.id AND j.status IN ('pending', 'sending')))
      ORDER BY (r.idempotency_key = $1) DESC NULLS LAST, r.created_at DESC LIMIT 1`,
    [key, selKey],
  );
  const r = rows[0];
  if (!r) return null;
  return { runId: r.id, queued: r.queued, selected: r.selected, withoutEmail: r.without_email, existing: r.same_form ? 'same-form' : 'in-progress' };
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
export function hasEmail(row: AccountRow): boolean {
  return !!row.email && row.email.trim() !== '' && !row.externalProvider;
}

/**
 * Whether a merge mail could serve this account: not blocked nor pre-deleted (no code can be handed out for it,
 * distribution.ts, and none can sign in), and either activated (renewal instructions) or able to carry a code. A
 * blocked parent was mailed the activation letter with an empty code and the list of their children; a pupil who
 * left, « Activez votre compte ».
 */
export function mayBeMailed(row: AccountRow): boolean {
  return !row.blocked && !row.preDeleted && (row.activated || mayCarryCode(row));
}

/**
 * Whether a run of `kind` mails this account. A family mail also reaches a parent who signs in elsewhere
 * (FranceConnect): he has no code of his own, but he takes his children's pack (compose.ts tells him how he signs in).
 */
export function mailedBy(kind: MailMergeOptions['kind'], row: AccountRow): boolean {
  if (kind === 'family' && row.externalProvider) return !!row.email?.trim() && !row.blocked && !row.preDeleted;
  return hasEmail(row) && mayBeMailed(row);
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
 * Queues the merge for already-selected accounts (family mail: mail/family.ts), in one transaction with the run row
 * and the audit entry. Inactive accounts whose code is missing or expired get a fresh one (a mail with a dead
 * code would be useless).
 */
export async function queueMailMerge(
  ctx: AppContext,
  rows: AccountRow[],
  selection: Selection,
  scope: Scope,
  actorId: string | null,
  opts: MailMergeOptions = {},
): Promise<MailMergeResult> {
  const size = opts.batchSize ?? MAIL_BATCH;
  async function* batches(): AsyncGenerator<AccountRow[]> {
    for (let i = 0; i < rows.length; i += size) yield rows.slice(i, i + size);
  }
  return queueRun(ctx, () => batches(), selection, scope, actorId, opts);
}

/**
 * Selects the accounts (same filters as the preview and the PDF) and queues one mail per account with an address;
 * gives the existing run instead when the form was already submitted or the selection's run is still sending.
 * The selection is read through a server-side cursor, `opts.batchSize` accounts at a time.
 */
export async function startMailMerge(
  ctx: AppContext, selection: Selection, scope: Scope, actorId: string | null, opts: MailMergeOptions = {},
): Promise<MailMergeResult> {
  // The common double click ends here, before any code is drawn; the transaction checks again under the lock.
  const existing = await existingRun(ctx.database.pool, formKey(actorId, opts), selectionKey(selection, scope, opts.kind));
  if (existing) return existing;
  return queueRun(ctx, (client) => streamSelection(ctx, client, selection, scope, opts.batchSize ?? MAIL_BATCH), selection, scope, actorId, opts);
}

/**
 * One run, in one transaction on one connection: under the run lock, the existing run if any; otherwise the run
 * row, then batch after batch of `source` (read on that connection: a cursor, or rows in memory), the fresh codes
 * stored, the mails composed (templates read on the same connection: a run never waits for a second one while
 * holding its own) and sealed in the queue; then the run's counts and the audit entry. Wakes the workers once
 * committed.
 */
async function queueRun(
  ctx: AppContext,
  source: (client: Queryable) => AsyncIterable<AccountRow[]>,
  selection: Selection,
  scope: Scope,
  actorId: string | null,
  opts: MailMergeOptions,
): Promise<MailMergeResult> {
  const runId = randomUUID();
  const key = formKey(actorId, opts);
  const selKey = selectionKey(selection, scope, opts.kind);
  const outcome = await withTransaction(ctx.database.pool, async (connection): Promise<MailMergeResult> => {
    // The cursor's next FETCH is sent while this batch's mails are written (streamSelection).
    const client = serialQueries(connection);
    await client.query('SELECT pg_advisory_xact_lock($1)', [MAIL_RUN_LOCK]);
    const existing = await existingRun(client, key, selKey);
    if (existing) return existing;
    const where = await runScope(client, selection, scope);
    // The jobs reference the run: its row first, its counts once the selection is read.
    await client.query(
      `INSERT INTO mail_runs (id, actor_id, filters, structure_ids, class_ids, idempotency_key, selection_key)
       VALUES ($1, $2, $3, $4, $5, $6, $7)`,
      [runId, actorId, JSON.stringify(selection), where.structureIds, where.classIds, key, selKey],
    );
    const composer = new MailComposer(ctx, client);
    let selected = 0;
    let queued = 0;
    let withoutEmail = 0;
    let codesIssued = 0;
    for await (const rows of source(client)) {
      const now = new Date();
      const recipients = rows.filter((r) => mailedBy(opts.kind, r));
      selected += rows.length;
      // Only those without an address (the run's « sans adresse », whose PDF its report offers with email=without): an
      // account with one that gets no mail (blocked, pre-deleted, signing in elsewhere) is not of them.
      withoutEmail += rows.filter((r) => !r.email?.trim()).length;
      const issued = planFreshCodes(ctx, recipients, now);
      // An account activated since the selection, or given a code by another run meanwhile, keeps its code and
      // gets no mail from this run (never a mail with a code that another mail has killed).
      const renewed = issued.size ? await storeFreshCodes(client, issued, { onlyIfDead: true }) : new Set<string>();
      const jobs: MailJobInput[] = [];
      let turn = performance.now();
      for (const r of recipients) {
        const fresh = issued.get(r.id);
        if (fresh && !renewed.has(r.id)) continue;
        // Other requests get a turn every YIELD_MS of composing (a batch's mails are some 100 ms of CPU: issue #11).
        if (performance.now() - turn > YIELD_MS) {
          await nextTurn();
          turn = performance.now();
        }
        const mail = await composer.compose(fresh ? withFreshCode(r, fresh) : r);
        jobs.push({
          runId, userId: r.id, kind: mail.kind, recipient: r.email!.trim(), subject: mail.subject, text: mail.text, html: mail.html,
          attachmentSpec: opts.attachmentSpecs?.get(r.id),
        });
      }
      // Sealed: the bodies carry activation codes and family details.
      await enqueueMails(client, jobs, { seal: ctx.secrets });
      queued += jobs.length;
      codesIssued += renewed.size;
    }
    await client.query('UPDATE mail_runs SET selected = $2, without_email = $3, queued = $4 WHERE id = $1', [runId, selected, withoutEmail, queued]);
    await recordAudit(client, actorId, 'publipostage.mail', { runId, filters: selection, selected, withoutEmail, queued, codesIssued });
    return { runId, queued, withoutEmail, selected };
  });
  if (!outcome.existing) wakeMailWorkers();
  return outcome;
}

/** The run this form (or this selection, still sending) already made, if any: checked before drawing any code. */
export function findExistingRun(
  ctx: AppContext, selection: Selection, scope: Scope, actorId: string | null, opts: MailMergeOptions = {},
): Promise<MailMergeResult | null> {
  return existingRun(ctx.database.pool, formKey(actorId, opts), selectionKey(selection, scope, opts.kind));
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
