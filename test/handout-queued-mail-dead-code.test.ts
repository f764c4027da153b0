// A mail is composed (its activation code sealed in the job) when queued, and recorded as handed out when the SMTP
// server accepts it. A code regenerated between the two makes the queued mail carry a dead code: it must not count
// as the current code's hand-out (users.code_issued_at, migration 0041), or « Relancer » and the funnel skip a family
// that holds only a code that no longer works.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { regenerateActivationCode } from '../src/accounts/renewal.js';
import { enqueueMail } from '../src/mail/queue.js';
import { startMailWorker } from '../src/mail/worker.js';
import { lastDistributions } from '../src/publipostage/tracking.js';
import { testContext } from './helpers/db.js';
import { insertSample, type Sample } from './helpers/sample.js';
import { startTestSmtp, waitFor, type TestSmtp } from './helpers/smtp.js';

let smtp: TestSmtp;
let ctx: Awaited<ReturnType<typeof testContext>>;
let s: Sample;

before(async () => {
  smtp = await startTestSmtp();
  ctx = await testContext({ SMTP_URL: smtp.url, MAIL_FROM: 'ENT Test <ent@example.fr>' });
  s = await insertSample(ctx);
});
after(async () => {
  await ctx.close();
  await smtp.close();
});

test('a mail queued before the code was regenerated, sent after, is no hand-out of the current code', async () => {
  const pool = ctx.database.pool;
  await pool.query(`UPDATE users SET email = 'zoe.martin@example.org' WHERE id = $1`, [s.users.zoe]);
  const job = await enqueueMail(pool, {
    kind: 'mail_inactive', userId: s.users.zoe, recipient: 'zoe.martin@example.org', subject: 'Vos identifiants', text: 'Code : OLD-CODE',
  });
  // Queued a while ago (a large run, a slow SMTP server, a retry), then « Régénérer le code d'activation ».
  await pool.query(`UPDATE mail_jobs SET created_at = now() - interval '1 hour' WHERE id = $1`, [job]);
  await regenerateActivationCode(ctx, { kind: 'all' }, s.users.zoe, s.users.marc);

  const w = startMailWorker(ctx, { pollMs: 20, backoffMs: 10, log: () => {} });
  try {
    await waitFor('job done', async () => (await pool.query(`SELECT status FROM mail_jobs WHERE id = $1`, [job])).rows[0].status !== 'pending'
      && (await pool.query(`SELECT status FROM mail_jobs WHERE id = $1`, [job])).rows[0].status !== 'sending');
  } finally {
    await w.stop();
  }
  assert.equal((await pool.query(`SELECT status FROM mail_jobs WHERE id = $1`, [job])).rows[0].status, 'failed', 'not sent with a dead code');
  const last = (await lastDistributions(pool, [s.users.zoe])).get(s.users.zoe);
  assert.equal(last?.mail ?? null, null, 'the mail carried the former code: not the current code’s hand-out');
});
