// Sends queued mails. Several workers (one per app instance) may share the database: a job is claimed with
// FOR UPDATE SKIP LOCKED under a lease, and every later write is fenced by the attempt number it was claimed with,
// so a job whose lease expired and was taken over elsewhere is never sent or marked by the old owner.
// The one window left is a crash between the SMTP server's acceptance and the 'sent' update: the mail then goes
// out again after the lease, with the same Message-ID so the duplicate is recognisable.
import nodemailer from 'nodemailer';
import type { AppContext } from '../context.js';
import { countFr } from '../lib/french.js';
import { makeAttachments, type AttachmentSpec } from './attachments.js';
import { openAttachments, type MailAttachment } from './queue.js';
import { withTransaction } from '../accounts/tx.js';
import { isDistributionMail, recordDistribution } from '../publipostage/tracking.js';

/** What the worker needs from a nodemailer transporter (tests may pass their own). */
export interface MailTransport {
  sendMail(message: {
    from: string;
    to: string;
    subject: string;
    text: string;
    html?: string;
    messageId: string;
    headers?: Record<string, string>;
    attachments?: Array<{ filename: string; content: Buffer; contentType: string }>;
  }): Promise<unknown>;
  close?(): void;
}

export interface MailWorkerOptions {
  /** Delay between two looks at the queue when it is empty (ms). */
  pollMs?: number;
  /** Jobs claimed per round. */
  batch?: number;
  /** Mails sent at the same time within a round. */
  concurrency?: number;
  /** Overrides the transport built from config.smtpUrl. */
  transport?: MailTransport;
  /** How long a claimed job is reserved for this worker (ms); must exceed one send's worst-case duration. */
  leaseMs?: number;
  /** Retry delay after the n-th failed attempt: backoffMs × 2^n, at most maxBackoffMs. */
  backoffMs?: number;
  maxBackoffMs?: number;
  /** Attempts before a job is marked failed. */
  maxAttempts?: number;
  log?: (message: string) => void;
  /** Say at start that no SMTP server is configured (default true; `npm start` says it among its start messages). */
  announceMissingSmtp?: boolean;
}

export interface MailWorker {
  /**
   * Stops taking jobs; mails being handed to SMTP are finished and marked, the rest of the round is released
   * (back to 'pending', due now); then closes the transport it built.
   */
  stop(): Promise<void>;
  /** Sends round after round until a round finds nothing due, then resolves (later retries are left to polling). */
  drain(): Promise<void>;
  /** Looks at the queue now rather than at the next poll. */
  wake(): void;
}

interface ClaimedJob {
  id: string;
  recipient: string;
  subject: string;
  body_text: string;
  body_html: string | null;
  sealed: boolean;
  attempts: number;
  attachments: Parameters<typeof openAttachments>[0];
  /** Files to make now (attachments.ts), e.g. a family pack's PDF. */
  attachment_spec: AttachmentSpec | null;
  user_id: string | null;
  kind: string;
  /** Who started the run the mail belongs to (tracking: « courriel envoyé le … par … »). */
  actor_id: string | null;
}

/** Why a queued mail was not sent: its account's address is no longer the one it was queued for. */
export const ADDRESS_CHANGED = 'annulé : l’adresse du compte a changé depuis la mise en file (envoyez de nouveau)';
export const CODE_REPLACED = 'annulé : le code d’activation du compte a été remplacé depuis la mise en file (envoyez de nouveau)';

const DEFAULTS = {
  pollMs: 5_000,
  batch: 20,
  concurrency: 4,
  leaseMs: 10 * 60_000,
  backoffMs: 30_000,
  maxBackoffMs: 60 * 60_000,
  maxAttempts: 6,
};

// Workers of this process, so code that just queued mail can have it sent without waiting for a poll.
const running = new Set<MailWorker>();

/** Nudges this process's workers (call after committing enqueued mail). Other instances pick it up at their next poll. */
export function wakeMailWorkers(): void {
  for (const w of running) w.wake();
}

/** Stable per job, so a retry after an ambiguous failure (connection lost after DATA) is recognisable downstream. */
export function messageIdFor(jobId: string): string {
  return `<${jobId}@trousseau>`;
}

export function retryDelayMs(attempts: number, backoffMs: number, maxBackoffMs: number): number {
  return Math.min(backoffMs * 2 ** attempts, maxBackoffMs);
}

/** A 5xx answer to the recipient or the message will not change by retrying; anything else (network, 4xx, auth) may. */
export function isPermanentFailure(err: unknown): boolean {
  const e = err as { code?: string; responseCode?: number };
  if (e.code !== 'EENVELOPE' && e.code !== 'EMESSAGE') return false;
  return e.responseCode === undefined || (e.responseCode >= 500 && e.responseCode < 600);
}

function describe(err: unknown): string {
  const e = err as { code?: string; responseCode?: number; message?: string; response?: string };
  const text = (e.response ?? e.message ?? String(err)).replace(/\s+/g, ' ').trim();
  return [e.code, text].filter(Boolean).join(' : ').slice(0, 500);
}

function transportFromConfig(url: string, concurrency: number): MailTransport {
  // Pooled so a merge of a thousand mails reuses a few connections; timeouts stay well under the lease.
  return nodemailer.createTransport({
    url,
    pool: true,
    maxConnections: concurrency,
    connectionTimeout: 30_000,
    greetingTimeout: 30_000,
    socketTimeout: 60_000,
  }) as unknown as MailTransport;
}

export function startMailWorker(ctx: AppContext, opts: MailWorkerOptions = {}): MailWorker {
  const o = { ...DEFAULTS, ...Object.fromEntries(Object.entries(opts).filter(([, v]) => v !== undefined)) } as typeof DEFAULTS &
    MailWorkerOptions;
  const log = opts.log ?? ((m: string) => console.log(m));
  const pool = ctx.database.pool;
  const ownTransport = !opts.transport && ctx.config.smtpUrl ? transportFromConfig(ctx.config.smtpUrl, o.concurrency) : undefined;
  const transport = opts.transport ?? ownTransport;

  let stopped = false;
  let timer: NodeJS.Timeout | undefined;
  // A wake-up that arrives during a round must not wait a whole poll: the round may have looked before the commit.
  let wakeRequested = false;
  // One round at a time in this worker: polls, wake-ups and drain() queue up behind each other.
  let chain: Promise<unknown> = Promise.resolve();
  const exclusive = <T>(fn: () => Promise<T>): Promise<T> => {
    const p = chain.then(fn);
    chain = p.catch(() => {});
    return p;
  };

  if (!transport && opts.announceMissingSmtp !== false) log("Courriel : SMTP non configuré (SMTP_URL), les messages restent en file d'attente.");

  async function claim(): Promise<ClaimedJob[]> {
    // The CTE is evaluated once, so LIMIT and SKIP LOCKED hold; a 'sending' row whose lease ran out was abandoned
    // by a crashed or stopped worker and is taken over.
    const res = await pool.query(
      `WITH due AS (
         SELECT id FROM mail_jobs
         WHERE (status = 'pending' OR (status = 'sending' AND locked_until < now())) AND next_attempt_at <= now()
         ORDER BY created_at
         FOR UPDATE SKIP LOCKED
         LIMIT $1)
       UPDATE mail_jobs j
       SET status = 'sending', locked_until = now() + $2 * interval '1 millisecond', attempts = j.attempts + 1
       FROM due WHERE j.id = due.id
       RETURNING j.id, j.recipient, j.subject, j.body_text, j.body_html, j.sealed, j.attempts, j.attachments, j.attachment_spec, j.user_id, j.kind,
         (SELECT r.actor_id FROM mail_runs r WHERE r.id = j.run_id) AS actor_id`,
      [o.batch, o.leaseMs],
    );
    return res.rows as ClaimedJob[];
  }

  /** Gives a claimed job back, untouched (shutdown): another worker, or this one at its next start, sends it now. */
  async function release(job: ClaimedJob): Promise<void> {
    await pool.query(
      `UPDATE mail_jobs SET status = 'pending', locked_until = NULL, attempts = attempts - 1
       WHERE id = $1 AND status = 'sending' AND attempts = $2`,
      [job.id, job.attempts],
    );
  }

  async function sendOne(job: ClaimedJob): Promise<void> {
    // Stopping: what is not yet being sent goes back to the queue rather than waiting for its lease to run out.
    if (stopped) return release(job);
    // Renew the lease right before sending: the round may have spent time on earlier jobs. A mail addressed to an
    // account goes only to the address the account still has (case and spaces aside): one replaced while the mail
    // waited (an administrator correcting someone else's mailbox, an import) must not receive its working code.
    const mine = await pool.query<{ addressed: boolean; code_replaced: boolean }>(
      `UPDATE mail_jobs j SET locked_until = now() + $3 * interval '1 millisecond'
       WHERE id = $1 AND status = 'sending' AND attempts = $2
       RETURNING (j.user_id IS NULL OR EXISTS (SELECT 1 FROM users u WHERE u.id = j.user_id
         AND lower(btrim(u.email)) = lower(btrim(j.recipient)))) AS addressed,
         -- The activation code sealed in the mail when it was queued was replaced since (users.code_issued_at,
         -- migration 0041): sent, it would hand out a dead code and be tracked as the current code's hand-out.
         EXISTS (SELECT 1 FROM users u WHERE u.id = j.user_id AND u.activated_at IS NULL
           AND u.code_issued_at > j.created_at) AS code_replaced`,
      [job.id, job.attempts, o.leaseMs],
    );
    if (mine.rowCount !== 1) return;
    if (!mine.rows[0].addressed) {
      await finish(job, 'failed', ADDRESS_CHANGED);
      return;
    }
    if (mine.rows[0].code_replaced && isDistributionMail(job.kind)) {
      await finish(job, 'failed', CODE_REPLACED);
      return;
    }
    let text: string;
    let html: string | undefined;
    let attachments: MailAttachment[];
    // The accounts whose sheets this mail carries (a family pack's children): handed out when it is accepted.
    let sheetsOf: string[] = [];
    try {
      text = job.sealed ? ctx.secrets.decrypt(job.body_text) : job.body_text;
      html = job.body_html === null ? undefined : job.sealed ? ctx.secrets.decrypt(job.body_html) : job.body_html;
      attachments = openAttachments(job.attachments, job.sealed ? ctx.secrets : null);
    } catch {
      await finish(job, 'failed', 'message illisible : la clé TROUSSEAU_SECRET a changé depuis la mise en file');
      return;
    }
    try {
      // Made here, per mail, not when a whole school was queued (a failure is retried like a failed send).
      if (job.attachment_spec) {
        const made = await makeAttachments(ctx, job.attachment_spec, job.user_id);
        attachments = [...attachments, ...made.files];
        sheetsOf = made.sheetsOf;
      }
      await transport!.sendMail({
        from: ctx.config.mailFrom,
        to: job.recipient,
        subject: job.subject,
        text,
        html,
        messageId: messageIdFor(job.id),
        headers: { 'Auto-Submitted': 'auto-generated' },
        ...(attachments.length ? { attachments } : {}),
      });
    } catch (err) {
      const error = describe(err);
      if (isPermanentFailure(err) || job.attempts >= o.maxAttempts) {
        await finish(job, 'failed', error);
        log(`Courriel ${job.id} : échec définitif après ${countFr(job.attempts, 'tentative', 'tentatives')} (${error})`);
      } else {
        const delay = retryDelayMs(job.attempts, o.backoffMs, o.maxBackoffMs);
        await pool.query(
          `UPDATE mail_jobs SET status = 'pending', locked_until = NULL, last_error = $3,
             next_attempt_at = now() + $4 * interval '1 millisecond'
           WHERE id = $1 AND status = 'sending' AND attempts = $2`,
          [job.id, job.attempts, error, delay],
        );
        log(`Courriel ${job.id} : tentative ${job.attempts} échouée (${error}), nouvel essai dans ${Math.round(delay / 1000)} s`);
      }
      return;
    }
    await finish(job, 'sent', null, sheetsOf);
  }

  async function finish(job: ClaimedJob, status: 'sent' | 'failed', error: string | null, sheetsOf: string[] = []): Promise<void> {
    const mark = (db: Pick<typeof pool, 'query'>) =>
      db.query(
        `UPDATE mail_jobs SET status = $3, locked_until = NULL,
           sent_at = CASE WHEN $3 = 'sent' THEN now() END, last_error = coalesce($4, last_error)
         WHERE id = $1 AND status = 'sending' AND attempts = $2`,
        [job.id, job.attempts, status, error],
      );
    if (status !== 'sent' || !job.user_id || !isDistributionMail(job.kind)) {
      await mark(pool);
      return;
    }
    // Credentials handed out by mail: tracked with the 'sent' mark, only by the worker that still owns the job; the
    // children's sheets it carried (a family pack) too, as sent, never when queued (a mail refused or left without
    // its pack handed nothing out).
    const userId = job.user_id;
    await withTransaction(pool, async (client) => {
      const res = await mark(client);
      if (res.rowCount !== 1) return;
      await recordDistribution(client, { userIds: [userId], kind: 'mail', actorId: job.actor_id });
      await recordDistribution(client, { userIds: sheetsOf, kind: 'family_pack', actorId: job.actor_id });
    });
  }

  /** One claim-and-send round; returns how many jobs were claimed. */
  async function round(): Promise<number> {
    const jobs = await claim();
    let next = 0;
    const lane = async () => {
      while (next < jobs.length) await sendOne(jobs[next++]);
    };
    await Promise.all(Array.from({ length: Math.min(o.concurrency, jobs.length) }, lane));
    return jobs.length;
  }

  async function untilEmpty(): Promise<void> {
    while (!stopped && (await round()) > 0);
  }

  function schedule(delay: number): void {
    if (stopped || !transport) return;
    clearTimeout(timer);
    timer = setTimeout(() => {
      timer = undefined;
      wakeRequested = false;
      exclusive(untilEmpty)
        .catch((e) => log(`Courriel : file d'attente inaccessible (${(e as Error).message})`))
        .finally(() => schedule(wakeRequested ? 0 : o.pollMs));
    }, delay);
    timer.unref();
  }

  const worker: MailWorker = {
    async stop() {
      stopped = true;
      clearTimeout(timer);
      running.delete(worker);
      await chain;
      ownTransport?.close?.();
    },
    async drain() {
      if (!transport) return;
      await exclusive(untilEmpty);
    },
    wake() {
      if (stopped || !transport) return;
      if (timer) schedule(0);
      else wakeRequested = true;
    },
  };
  running.add(worker);
  schedule(0);
  return worker;
}
