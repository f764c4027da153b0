// A mail merge read from the selection's cursor batch by batch (issue #11), and a family mail that queues without
// making its PDFs: the request returns with the count, the worker makes each pack as it sends, the SMTP server
// receives the mails and their attachments.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { formatCode, normalizeCode } from '../src/accounts/codes.js';
import { ACTIVATION } from '../src/accounts/issue.js';
import type { Scope } from '../src/directory/scope.js';
import { setBlocked } from '../src/directory/users.js';
import { startFamilyMail } from '../src/mail/family.js';
import { mailRunReport, startMailMerge } from '../src/mail/merge.js';
import { startMailWorker } from '../src/mail/worker.js';
import { selectAccounts } from '../src/publipostage/select.js';
import { SelectionSchema } from '../src/publipostage/selection.js';
import { testContext } from './helpers/db.js';
import { insertSample, SAMPLE_USERS, type Sample, type SampleUser } from './helpers/sample.js';
import { startTestSmtp, waitFor, type TestSmtp } from './helpers/smtp.js';

const ALL: Scope = { kind: 'all' };
const GROUPED_CODE = /\b[0-9A-Z]{4}-[0-9A-Z]{4}-[0-9A-Z]{2}\b/;
let ctx: Awaited<ReturnType<typeof testContext>>;
let s: Sample;
let smtp: TestSmtp;
let dir: string;

// Nine more inactive parents with an address in 5A's families, half of them with an expired code: more accounts than
// a few batches of 2 hold, and fresh codes to store in several of them.
const EXTRA: SampleUser[] = Array.from({ length: 9 }, (_, i) => ({
  key: `p${i}`, first: `Parent${i}`, last: 'LAMBERT', profile: 'Relative' as const, structure: 'S1' as const, parentOf: ['leo'],
  email: `p${i}@example.org`, expired: i % 2 === 0,
}));

before(async () => {
  smtp = await startTestSmtp();
  ctx = await testContext({ SMTP_URL: smtp.url, TROUSSEAU_PUBLIC_URL: 'https://ent.example.fr' });
  s = await insertSample(ctx, [...SAMPLE_USERS, ...EXTRA]);
  dir = mkdtempSync(join(tmpdir(), 'trousseau-mail-stream-'));
});
after(async () => {
  await ctx.close();
  await smtp.close();
  rmSync(dir, { recursive: true, force: true });
});

test('a merge read two accounts at a time queues every mail once, with working codes, in one run and one audit entry', async () => {
  const selection = SelectionSchema.parse({ structureId: s.structures.S1, profiles: 'Relative' });
  const expected = await selectAccounts(ctx, selection, ALL);
  const reachable = expected.filter((r) => r.email);
  assert.ok(expected.length > 6, 'several batches');
  const res = await startMailMerge(ctx, selection, ALL, null, { batchSize: 2 });
  assert.deepEqual([res.selected, res.withoutEmail, res.queued], [expected.length, expected.length - reachable.length, reachable.length]);
  const run = await ctx.database.pool.query('SELECT selected, without_email, queued FROM mail_runs WHERE id = $1', [res.runId]);
  assert.deepEqual(run.rows[0], { selected: res.selected, without_email: res.withoutEmail, queued: res.queued });
  const audit = await ctx.database.pool.query(`SELECT details FROM audit WHERE action = 'publipostage.mail'`);
  assert.equal(audit.rows.length, 1);
  // The expired codes of p0, p2, p4, p6, p8 were renewed (claire is active: no code).
  assert.equal(audit.rows[0].details.codesIssued, 5);

  const worker = startMailWorker(ctx, { pollMs: 20, log: () => {} });
  try {
    await worker.drain();
  } finally {
    await worker.stop();
  }
  for (const r of reachable.filter((x) => x.activated === false)) {
    const got = smtp.to(r.email!);
    assert.equal(got.length, 1, r.email!);
    const code = normalizeCode((got[0].text ?? '').match(GROUPED_CODE)![0])!;
    const { rows: [u] } = await ctx.database.pool.query('SELECT activation_code_mac, activation_code_expires_at FROM users WHERE id = $1', [r.id]);
    assert.ok(ctx.secrets.verify(ACTIVATION, code, u.activation_code_mac), `${r.email}: the mailed code is the stored one`);
    assert.ok(u.activation_code_expires_at > new Date());
  }
  assert.equal(smtp.to('claire@example.org').length, 1);
  assert.equal((await mailRunReport(ctx, res.runId))!.sent, res.queued);
});

test('the family mail returns once queued: no PDF made nor mail sent before the worker runs, then each parent gets theirs', async () => {
  smtp.messages.length = 0;
  const selection = SelectionSchema.parse({ structureId: s.structures.S1, classIds: s.classes['6A'], profiles: 'Student' });
  // No worker runs: startFamilyMail must not wait for any sending.
  const res = await startFamilyMail(ctx, selection, ALL, null, { idempotencyKey: 'family-stream-test-0001', batchSize: 1 });
  assert.equal(res.queued, 2);
  const jobs = await ctx.database.pool.query(`SELECT status, attachments, attachment_spec FROM mail_jobs WHERE run_id = $1`, [res.runId]);
  assert.deepEqual(jobs.rows.map((j) => [j.status, j.attachments]), [['pending', null], ['pending', null]]);
  await new Promise((r) => setTimeout(r, 100));
  assert.equal(smtp.messages.length, 0);

  const worker = startMailWorker(ctx, { pollMs: 20, log: () => {} });
  try {
    await waitFor('two family mails', () => smtp.messages.length >= 2);
  } finally {
    await worker.stop();
  }
  const [paul] = smtp.to('paul.martin@example.org');
  assert.equal(paul.attachments.length, 1);
  assert.equal(paul.attachments[0].filename, 'Fiche de connexion – Zoé MARTIN.pdf');
  const file = join(dir, 'paul.pdf');
  writeFileSync(file, paul.attachments[0].content);
  const text = execFileSync('pdftotext', ['-layout', file, '-'], { encoding: 'utf8' });
  assert.match(text, /Zoé MARTIN/);
  // The sheet carries Zoé's code as stored (issued or kept when the mail was queued).
  const [zoe] = await selectAccounts(ctx, SelectionSchema.parse({ userIds: s.users.zoe }), ALL);
  assert.ok(text.includes(formatCode(zoe.code!)), 'the code in the attached sheet');
  assert.equal(smtp.to('claire@example.org')[0].attachments[0].filename, 'Fiche de connexion – Émile DURAND.pdf');
});

test('a family mail sent after a relation was removed leaves that child’s sheet out (the recipient is no longer the parent)', async () => {
  smtp.messages.length = 0;
  const selection = SelectionSchema.parse({ structureId: s.structures.S1, classIds: s.classes['6A'], profiles: 'Student' });
  const res = await startFamilyMail(ctx, selection, ALL, null, { idempotencyKey: 'family-stream-test-0002', batchSize: 1 });
  assert.equal(res.queued, 2);
  // While the mails wait in the queue, Paul stops being Zoé's représentant légal.
  const removed = await ctx.database.pool.query('DELETE FROM relations WHERE parent_id = $1 AND child_id = $2', [s.users.paul, s.users.zoe]);
  assert.equal(removed.rowCount, 1);
  const worker = startMailWorker(ctx, { pollMs: 20, log: () => {} });
  try {
    await waitFor('two family mails', () => smtp.messages.length >= 2);
  } finally {
    await worker.stop();
    await ctx.database.pool.query('INSERT INTO relations (parent_id, child_id) VALUES ($1, $2)', [s.users.paul, s.users.zoe]);
  }
  assert.deepEqual(smtp.to('paul.martin@example.org')[0].attachments.map((a) => a.filename), []);
  assert.equal(smtp.to('claire@example.org')[0].attachments[0].filename, 'Fiche de connexion – Émile DURAND.pdf');
});

test('a family mail sent after the child was blocked leaves her sheet out: her voided code is not sent', async () => {
  smtp.messages.length = 0;
  const selection = SelectionSchema.parse({ structureId: s.structures.S1, classIds: s.classes['6A'], profiles: 'Student' });
  const res = await startFamilyMail(ctx, selection, ALL, null, { idempotencyKey: 'family-stream-test-0003', batchSize: 1 });
  assert.equal(res.queued, 2);
  const [before] = await selectAccounts(ctx, SelectionSchema.parse({ userIds: s.users.zoe }), ALL);
  assert.ok(before.code, 'Zoé had a code when the mail was queued');
  // While the mail waits, Zoé's account is blocked (her sheet went astray): her code is voided.
  await setBlocked(ctx, ALL, s.users.zoe, true, null);
  const worker = startMailWorker(ctx, { pollMs: 20, log: () => {} });
  try {
    await waitFor('two family mails', () => smtp.messages.length >= 2);
  } finally {
    await worker.stop();
    await setBlocked(ctx, ALL, s.users.zoe, false, null);
  }
  // Paul's own credentials still go (his mail is not the blocked account's); Zoé's sheet does not.
  const [paul] = smtp.to('paul.martin@example.org');
  assert.match(paul.text ?? '', /paul\.martin/);
  assert.deepEqual(paul.attachments.map((a) => a.filename), []);
  const mails = smtp.messages.map((m) => `${m.text ?? ''}`).join('\n');
  assert.ok(!mails.includes(formatCode(before.code!)), 'the voided code is in no mail');
  assert.equal(smtp.to('claire@example.org')[0].attachments[0].filename, 'Fiche de connexion – Émile DURAND.pdf');
});
