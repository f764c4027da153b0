// The durable mail queue: a row in mail_jobs per message, sent later by the worker (src/mail/worker.ts).
// Enqueueing is a plain INSERT so it joins the caller's transaction: the mail exists iff the caller commits.
import { randomUUID } from 'node:crypto';
import type { Secrets } from '../accounts/secrets.js';
import type { Queryable } from '../db/index.js';
import type { AttachmentSpec } from './attachments.js';


export interface MailJobInput {
  userId?: string | null;
  runId?: string | null;
  kind: string;
  recipient: string;
  subject: string;
  text: string;
  html?: string;
  /** Files sent with the mail, sealed with the bodies (family packs queued before migration 0023 still carry theirs). */
  attachments?: MailAttachment[];
  /** Files the worker makes when it sends the mail (a family pack's PDF: attachments.ts); no secret in it. */
  attachmentSpec?: AttachmentSpec;
}

export interface MailAttachment {
  filename: string;
  contentType: string;
  content: Buffer;
}

/** As stored in mail_jobs.attachments: content in base64, sealed when the job is. */
interface StoredAttachment {
  filename: string;
  contentType: string;
  content: string;
}

/** The attachments of a claimed job, opened (throws when a sealed one cannot be decrypted). */
export function openAttachments(stored: StoredAttachment[] | null, sealed: Pick<Secrets, 'decrypt'> | null): MailAttachment[] {
  return (stored ?? []).map((a) => ({
    filename: a.filename,
    contentType: a.contentType,
    content: Buffer.from(sealed ? sealed.decrypt(a.content) : a.content, 'base64'),
  }));
}

export interface EnqueueOptions {
  /** Encrypt the bodies at rest (they carry an activation code or a reset link); the worker opens them. */
  seal?: Secrets;
}

// Rows per INSERT: keeps the statement under PostgreSQL's 65535 parameter limit.
const CHUNK = 1000;
const COLUMNS = 11;

/** Queues several mails (multi-row INSERTs); returns the job ids in input order. */
export async function enqueueMails(db: Queryable, jobs: MailJobInput[], opts: EnqueueOptions = {}): Promise<string[]> {
  const ids: string[] = [];
  for (let start = 0; start < jobs.length; start += CHUNK) {
    const chunk = jobs.slice(start, start + CHUNK);
    const params: unknown[] = [];
    const tuples = chunk.map((job, i) => {
      const seal = opts.seal;
      // Ids made here so the result order is certain (RETURNING order is not promised).
      const id = randomUUID();
      ids.push(id);
      params.push(
        id,
        job.runId ?? null,
        job.userId ?? null,
        job.kind,
        job.recipient.trim(),
        job.subject,
        seal ? seal.encrypt(job.text) : job.text,
        job.html === undefined ? null : seal ? seal.encrypt(job.html) : job.html,
        seal !== undefined,
        job.attachments?.length
          ? JSON.stringify(job.attachments.map((a): StoredAttachment => {
            const b64 = a.content.toString('base64');
            return { filename: a.filename, contentType: a.contentType, content: seal ? seal.encrypt(b64) : b64 };
          }))
          : null,
        job.attachmentSpec ? JSON.stringify(job.attachmentSpec) : null,
      );
      const b = i * COLUMNS;
      const p = (k: number) => `$${b + k}`;
      return `(${p(1)}::uuid, ${p(2)}::uuid, ${p(3)}::uuid, ${p(4)}, ${p(5)}, ${p(6)}, ${p(7)}, ${p(8)}, ${p(9)}::boolean, ${p(10)}::jsonb, ${p(11)}::jsonb)`;
    });
    await db.query(
      `INSERT INTO mail_jobs (id, run_id, user_id, kind, recipient, subject, body_text, body_html, sealed, attachments, attachment_spec)
       VALUES ${tuples.join(', ')}`,
      params,
    );
  }
  return ids;
}

/** Queues one mail (pending, due now) and returns its job id. `db` may be a PoolClient inside a transaction. */
export async function enqueueMail(db: Queryable, job: MailJobInput, opts: EnqueueOptions = {}): Promise<string> {
  const [id] = await enqueueMails(db, [job], opts);
  return id;
}
