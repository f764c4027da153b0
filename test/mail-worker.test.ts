// The durable queue and its worker against a real SMTP server and real PostgreSQL.
import assert from 'node:assert/strict';
import nodemailer from 'nodemailer';
import { after, before, beforeEach, describe, it } from 'node:test';
import { makeContext, type AppContext } from '../src/context.js';
import { openDatabase } from '../src/db/index.js';
import { enqueueMail, enqueueMails } from '../src/mail/queue.js';
import { startMailWorker, type MailTransport, type MailWorker, type MailWorkerOptions } from '../src/mail/worker.js';
import { testContext } from './helpers/db.js';
import { startTestSmtp, waitFor, type TestSmtp } from './helpers/smtp.js';

let smtp: TestSmtp;
let ctx: AppContext & { close(): Promise<void> };
const workers: MailWorker[] = [];
const logs: string[] = [];

function worker(opts: MailWorkerOptions = {}, on: AppContext = ctx): MailWorker {
  const w = startMailWorker(on, { pollMs: 20, backoffMs: 10, log: (m) => logs.push(m), ...opts });
  workers.push(w);
  return w;
}

async function stopWorkers() {
  await Promise.all(workers.splice(0).map((w) => w.stop()));
}

async function job(id: string) {
  const r = await ctx.database.pool.query('SELECT * FROM mail_jobs WHERE id = $1', [id]);
  return r.rows[0];
}

const mail = (to: string, n = 0) => ({ kind: 'test', recipient: to, subject: `Sujet ${n}`, text: `Corps ${n}`, html: `<p>Corps ${n}</p>` });

before(async () => {
  smtp = await startTestSmtp();
  ctx = await testContext({ SMTP_URL: smtp.url, MAIL_FROM: 'ENT Test <ent@example.fr>' });
});

after(async () => {
  await stopWorkers();
  await ctx.close();
  await smtp.close();
});

beforeEach(async () => {
  await stopWorkers();
  await ctx.database.pool.query('DELETE FROM mail_jobs');
  smtp.messages.length = 0;
  smtp.rcptAttempts.length = 0;
});

describe('mail queue', () => {
  it('enqueues inside the caller transaction: nothing on rollback, one pending job on commit', async () => {
    const client = await ctx.database.pool.connect();
    try {
      await client.query('BEGIN');
      await enqueueMail(client, mail('annule@example.fr'));
      await client.query('ROLLBACK');
      await client.query('BEGIN');
      const id = await enqueueMail(client, { ...mail('garde@example.fr'), userId: null, runId: null });
      await client.query('COMMIT');
      const rows = (await ctx.database.pool.query('SELECT id, status, recipient, attempts FROM mail_jobs')).rows;
      assert.deepEqual(rows, [{ id, status: 'pending', recipient: 'garde@example.fr', attempts: 0 }]);
    } finally {
      client.release();
    }
  });

  it('sends a queued mail with a stable Message-ID, the configured sender, text and HTML', async () => {
    const id = await enqueueMail(ctx.database.pool, mail('eleve@example.fr', 1));
    const w = worker();
    await waitFor('mail received', () => smtp.messages.length === 1);
    await w.drain();
    const m = smtp.messages[0];
    assert.equal(m.messageId, `<${id}@trousseau>`);
    assert.equal(m.subject, 'Sujet 1');
    assert.equal(m.text?.trim(), 'Corps 1');
    assert.match(String(m.html), /<p>Corps 1<\/p>/);
    assert.match(String((Array.isArray(m.from) ? m.from[0] : m.from)?.text), /ent@example\.fr/);
    const row = await job(id);
    assert.equal(row.status, 'sent');
    assert.equal(row.attempts, 1);
    assert.ok(row.sent_at instanceof Date);
    assert.equal(row.locked_until, null);
  });

  it('sealed bodies are encrypted at rest and sent in clear', async () => {
    const id = await enqueueMail(ctx.database.pool, { ...mail('scelle@example.fr'), text: 'Code : MXTT-GF5E-AB' }, { seal: ctx.secrets });
    const stored = await job(id);
    assert.equal(stored.sealed, true);
    assert.doesNotMatch(stored.body_text, /MXTT/);
    assert.doesNotMatch(stored.body_html, /Corps/);
    await worker().drain();
    assert.equal(smtp.messages.length, 1);
    assert.match(smtp.messages[0].text ?? '', /Code : MXTT-GF5E-AB/);
    assert.match(String(smtp.messages[0].html), /Corps 0/);
  });

  it('a temporary refusal (451) is retried after a backoff and delivered exactly once', async () => {
    const id = await enqueueMail(ctx.database.pool, mail('parent@example.fr'));
    smtp.failRcptOnce('parent@example.fr');
    // A long backoff: after the refusal the job must wait, not be retried at once.
    const slow = worker({ backoffMs: 60_000, pollMs: 60_000 });
    await slow.drain();
    let row = await job(id);
    assert.equal(row.status, 'pending');
    assert.equal(row.attempts, 1);
    assert.match(row.last_error, /451/);
    const wait = (await ctx.database.pool.query('SELECT extract(epoch FROM next_attempt_at - now()) AS s FROM mail_jobs WHERE id = $1', [id])).rows[0].s;
    assert.ok(Number(wait) > 60, `retry scheduled ${wait}s ahead`);
    await slow.drain();
    assert.equal(smtp.messages.length, 0, 'not retried before it is due');
    await slow.stop();

    // Time passes: the job becomes due and a polling worker delivers it.
    await ctx.database.pool.query('UPDATE mail_jobs SET next_attempt_at = now() WHERE id = $1', [id]);
    worker();
    await waitFor('retried mail delivered', async () => (await job(id)).status === 'sent');
    assert.equal(smtp.to('parent@example.fr').length, 1);
    assert.deepEqual(smtp.rcptAttempts, ['parent@example.fr', 'parent@example.fr']);
    row = await job(id);
    assert.equal(row.attempts, 2);
  });

  it('with the SMTP server down, mails wait and go out once it is back', async () => {
    await smtp.stop();
    const ids = await enqueueMails(ctx.database.pool, [mail('a@example.fr', 1), mail('b@example.fr', 2)]);
    const w = worker({ backoffMs: 60_000 });
    await w.drain();
    for (const id of ids) {
      const row = await job(id);
      assert.equal(row.status, 'pending');
      assert.equal(row.attempts, 1);
      assert.ok(row.last_error, 'the connection error is kept');
    }
    await w.stop();
    await smtp.start();
    await ctx.database.pool.query('UPDATE mail_jobs SET next_attempt_at = now()');
    worker();
    await waitFor('both delivered', async () => (await ctx.database.pool.query("SELECT count(*)::int AS n FROM mail_jobs WHERE status = 'sent'")).rows[0].n === 2);
    assert.equal(smtp.to('a@example.fr').length, 1);
    assert.equal(smtp.to('b@example.fr').length, 1);
  });

  it('retries on its own with a short backoff while the server is down, then delivers once', async () => {
    await smtp.stop();
    const id = await enqueueMail(ctx.database.pool, mail('c@example.fr'));
    worker({ backoffMs: 5, maxAttempts: 1000 });
    await waitFor('two failed attempts', async () => (await job(id)).attempts >= 2);
    await smtp.start();
    await waitFor('delivered', async () => (await job(id)).status === 'sent');
    assert.equal(smtp.to('c@example.fr').length, 1);
  });

  it('a permanent refusal (550) fails at once; repeated temporary refusals fail after maxAttempts', async () => {
    smtp.refuseRcpt('inconnu@example.fr', 550);
    smtp.refuseRcpt('pleine@example.fr', 452);
    const [perm, temp] = await enqueueMails(ctx.database.pool, [mail('inconnu@example.fr'), mail('pleine@example.fr')]);
    worker({ backoffMs: 1, maxAttempts: 3 });
    await waitFor('both settled', async () => (await job(perm)).status === 'failed' && (await job(temp)).status === 'failed');
    const p = await job(perm);
    assert.equal(p.attempts, 1);
    assert.match(p.last_error, /550/);
    const t = await job(temp);
    assert.equal(t.attempts, 3);
    assert.match(t.last_error, /452/);
    assert.equal(smtp.messages.length, 0);
  });

  it('two workers on two connection pools deliver each mail exactly once', async () => {
    const n = 60;
    await enqueueMails(ctx.database.pool, Array.from({ length: n }, (_, i) => mail(`dest${i}@example.fr`, i)));
    // A second "instance": its own pool on the same database, its own SMTP connections.
    const url = (ctx.database.pool as unknown as { options: { connectionString: string } }).options.connectionString;
    const other = makeContext(ctx.config, openDatabase(url, 3));
    const sentBy = [0, 0];
    const counting = (i: number): MailTransport => {
      const t = nodemailer.createTransport(smtp.url);
      return {
        sendMail: async (m) => {
          sentBy[i]++;
          return t.sendMail(m);
        },
        close: () => t.close(),
      };
    };
    const transports = [counting(0), counting(1)];
    try {
      const a = worker({ batch: 4, concurrency: 2, transport: transports[0] });
      const b = worker({ batch: 4, concurrency: 2, transport: transports[1] }, other);
      await Promise.all([a.drain(), b.drain()]);
      await waitFor('all sent', async () => (await ctx.database.pool.query("SELECT count(*)::int AS n FROM mail_jobs WHERE status = 'sent'")).rows[0].n === n);
      await stopWorkers();
    } finally {
      for (const t of transports) t.close?.();
      await other.database.close();
    }
    assert.ok(sentBy[0] > 0 && sentBy[1] > 0, `both workers took part (${sentBy})`);
    assert.equal(sentBy[0] + sentBy[1], n);
    assert.equal(smtp.messages.length, n);
    assert.equal(new Set(smtp.messages.map((m) => m.messageId)).size, n);
    const attempts = (await ctx.database.pool.query('SELECT max(attempts)::int AS m FROM mail_jobs')).rows[0].m;
    assert.equal(attempts, 1, 'no job was claimed twice');
  });

  it('after a crash, jobs left "sending" are taken over once their lease has expired, never before', async () => {
    const [expired, leased] = await enqueueMails(ctx.database.pool, [mail('expire@example.fr'), mail('occupe@example.fr')]);
    // As a crashed worker leaves them: claimed (attempts = 1), lease over for one, still running for the other.
    await ctx.database.pool.query(
      `UPDATE mail_jobs SET status = 'sending', attempts = 1,
         locked_until = CASE WHEN id = $1 THEN now() - interval '1 minute' ELSE now() + interval '1 hour' END`,
      [expired],
    );
    const w = worker();
    await w.drain();
    await w.drain();
    assert.equal(smtp.to('expire@example.fr').length, 1);
    assert.equal(smtp.to('occupe@example.fr').length, 0, 'a job under a live lease belongs to its worker');
    assert.equal((await job(expired)).status, 'sent');
    assert.equal((await job(expired)).attempts, 2);
    assert.equal((await job(leased)).status, 'sending');
  });

  it('stopping and restarting the worker mid-run sends every mail exactly once', async () => {
    const n = 30;
    await enqueueMails(ctx.database.pool, Array.from({ length: n }, (_, i) => mail(`r${i}@example.fr`, i)));
    const first = worker({ batch: 3, concurrency: 1 });
    await waitFor('some sent', () => smtp.messages.length >= 5);
    await first.stop();
    const sending = (await ctx.database.pool.query("SELECT count(*)::int AS n FROM mail_jobs WHERE status = 'sending'")).rows[0].n;
    assert.equal(sending, 0, 'stop() finishes the round it claimed');
    await worker().drain();
    assert.equal(smtp.messages.length, n);
    assert.equal(new Set(smtp.messages.map((m) => m.messageId)).size, n);
  });

  it('without SMTP configured, jobs stay pending and this is said once', async () => {
    const bare = await testContext();
    try {
      await enqueueMail(bare.database.pool, mail('x@example.fr'));
      const before = logs.length;
      const w = worker({}, bare);
      await w.drain();
      await w.stop();
      const rows = (await bare.database.pool.query('SELECT status, attempts FROM mail_jobs')).rows;
      assert.deepEqual(rows, [{ status: 'pending', attempts: 0 }]);
      assert.equal(logs.slice(before).filter((l) => /SMTP non configuré/.test(l)).length, 1);
    } finally {
      await bare.close();
    }
  });
});
