// A credentials mail is queued for the account's address of the moment; the worker sends it later (at once with a
// working SMTP server, hours later when the server is missing or refuses for a while: retries back off up to an hour).
// When the address is replaced meanwhile — an administrator correcting a wrong one (someone else's mailbox, the one
// address the ENT's templates give to everyone), an import rewriting it — the mail still went to the OLD address,
// carrying the account's working activation code (and, for a family mail, the children's sheets): whoever read that
// mailbox activated the account. A mail addressed to an account is sent only while that address is still the account's.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import type { FastifyInstance } from 'fastify';
import { findCodeHolder } from '../../src/accounts/activation.js';
import { startMailWorker, type MailTransport } from '../../src/mail/worker.js';
import { buildServer } from '../../src/web/server.js';
import { testContext } from '../helpers/db.js';
import { insertSample, type Sample } from '../helpers/sample.js';
import { type Client, signedInClient } from '../helpers/web.js';

let ctx: Awaited<ReturnType<typeof testContext>>;
let app: FastifyInstance;
let s: Sample;
let admin: Client;

const q = async <T = Record<string, unknown>>(sql: string, params: unknown[] = []) => (await ctx.database.pool.query(sql, params)).rows as T[];

before(async () => {
  ctx = await testContext();
  app = await buildServer(ctx);
  s = await insertSample(ctx);
  admin = await signedInClient(app, ctx.database.pool, s.users.marc);
});
after(async () => {
  await app.close();
  await ctx.close();
});

/** Sends what is queued with a transport that keeps every message; returns them. */
async function sendQueued(): Promise<Array<{ to: string; text: string }>> {
  const sent: Array<{ to: string; text: string }> = [];
  const transport: MailTransport = {
    async sendMail(m) {
      sent.push({ to: m.to, text: m.text });
    },
  };
  const worker = startMailWorker(ctx, { transport, pollMs: 60_000, log: () => {} });
  await worker.drain();
  await worker.stop();
  return sent;
}

test('a credentials mail queued before an administrator replaces the address never reaches the old mailbox', async () => {
  const school = s.structures.S1;
  // Paul's sheet is mailed (« Envoyer par courriel » on his page): queued, not sent yet (no worker running).
  await admin.get(`/console/utilisateurs/${s.users.paul}`);
  const queued = await admin.post(`/console/utilisateurs/${s.users.paul}/courriel`, { etablissement: school, idem: 'queued-before-the-fix-0001' });
  assert.equal(queued.statusCode, 303, 'mail queued');
  const [job] = await q<{ recipient: string; status: string }>(`SELECT recipient, status FROM mail_jobs WHERE user_id = $1`, [s.users.paul]);
  assert.deepEqual([job.recipient, job.status], ['paul.martin@example.org', 'pending'], 'the mail waits for the old address');

  // The address was someone else's: the administrator puts Paul's own.
  const saved = await admin.post(`/console/utilisateurs/${s.users.paul}/coordonnees`, { etablissement: school, email: 'paul.vrai@example.org', phone: '' });
  assert.equal(saved.statusCode, 303, 'address replaced');

  const sent = await sendQueued();
  const code = s.codes.paul;
  assert.ok(await findCodeHolder(ctx, 'activation', s.logins.paul, code), 'Paul’s code still works (it was never handed out)');
  assert.deepEqual(
    sent.filter((m) => m.to === 'paul.martin@example.org').map((m) => m.to),
    [],
    'nothing goes to the address the account no longer has',
  );
  const [after] = await q<{ status: string; last_error: string | null }>(`SELECT status, last_error FROM mail_jobs WHERE user_id = $1`, [s.users.paul]);
  assert.equal(after.status, 'failed', 'the mail is cancelled, and said so in the run’s failures');
  assert.match(after.last_error ?? '', /adresse/, 'the reason names the address change');
});

test('a credentials mail queued before an import-like rewrite of the address is cancelled too; a change of case is no change', async () => {
  await admin.get(`/console/utilisateurs/${s.users.claire}`);
  // Claire (activated) gets a mail; her address is then rewritten outside the console (an import).
  const queued = await admin.post(`/console/utilisateurs/${s.users.claire}/courriel`, { etablissement: s.structures.S1, idem: 'queued-before-the-fix-0002' });
  assert.equal(queued.statusCode, 303, 'mail queued');
  await q(`UPDATE users SET email = 'CLAIRE@Example.org ' WHERE id = $1`, [s.users.claire]);
  // A teacher's mail queued while her address stays hers.
  await admin.get(`/console/utilisateurs/${s.users.anne}`);
  assert.equal((await admin.post(`/console/utilisateurs/${s.users.anne}/courriel`, { etablissement: s.structures.S1, idem: 'queued-before-the-fix-0003' })).statusCode, 303);
  await q(`UPDATE users SET email = 'autre.anne@ac-test.fr' WHERE id = $1`, [s.users.anne]);

  const sent = await sendQueued();
  assert.deepEqual(sent.map((m) => m.to).sort(), ['claire@example.org'], 'Claire’s mail goes (same address, other case); Anne’s old address gets nothing');
  assert.ok(!sent.some((m) => m.text.includes(s.codes.anne.slice(0, 4))), 'Anne’s code is in no mail sent');
});
