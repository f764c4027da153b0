// « Envoyer par courriel » over blocked or pre-deleted accounts (the filters « Bloqués : uniquement », « Pré-suppression :
// en attente »): such an account has no code to hand out (distribution.ts), and the merge mailed it the activation
// letter anyway, its code and link empty — to a parent blocked by the school, the list of their children with it; to a
// pupil who left, « Activez votre compte ». Neither is mailed now, and the confirmation does not promise them a mail.
// Read from the SMTP server's mailbox after the worker ran.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import type { FastifyInstance } from 'fastify';
import { startMailMerge } from '../src/mail/merge.js';
import { startMailWorker } from '../src/mail/worker.js';
import { SelectionSchema } from '../src/publipostage/selection.js';
import { buildServer } from '../src/web/server.js';
import { testContext } from './helpers/db.js';
import { insertSample, SAMPLE_USERS, type Sample } from './helpers/sample.js';
import { startTestSmtp, type TestSmtp } from './helpers/smtp.js';
import { createUser, signedInClient, type Client } from './helpers/web.js';

let ctx: Awaited<ReturnType<typeof testContext>>;
let s: Sample;
let smtp: TestSmtp;
let app: FastifyInstance;
let admin: Client;

before(async () => {
  smtp = await startTestSmtp();
  ctx = await testContext({ TROUSSEAU_PUBLIC_URL: 'https://ent.example.fr', SMTP_URL: smtp.url });
  // Nina (pre-deleted: she left) was given an address; Paul is blocked by the school.
  s = await insertSample(ctx, SAMPLE_USERS.map((u) => (u.key === 'nina' ? { ...u, email: 'nina@example.org' } : u)));
  await ctx.database.pool.query('UPDATE users SET blocked = true WHERE id = $1', [s.users.paul]);
  app = await buildServer(ctx);
  admin = await signedInClient(app, ctx.database.pool, await createUser(ctx.database.pool, { login: 'admin', profile: 'Personnel', superAdmin: true }));
});

after(async () => {
  await app?.close();
  await smtp?.close();
  await ctx?.close();
});

test('the confirmation promises no mail to a blocked or pre-deleted account', async () => {
  for (const query of ['blocked=only', 'preDeletion=pending']) {
    const page = await admin.get(`/console/etablissements/${s.structures.S1}/publipostage/envoi?${query}`);
    assert.equal(page.statusCode, 200);
    assert.match(page.body, /data-mails="0"/, query);
    assert.match(page.body, /data-fact="unusable"/, query);
  }
});

test('a blocked or pre-deleted account gets no mail from a merge, nor a code', async () => {
  const macs = async () => (await ctx.database.pool.query('SELECT activation_code_mac FROM users WHERE id = ANY($1) ORDER BY id', [[s.users.paul, s.users.nina]])).rows;
  const before = await macs();
  const blocked = await startMailMerge(ctx, SelectionSchema.parse({ structureId: s.structures.S1, blocked: 'only' }), { kind: 'all' }, null, { idempotencyKey: 'unusable-merge-000001' });
  const gone = await startMailMerge(ctx, SelectionSchema.parse({ structureId: s.structures.S1, preDeletion: 'pending' }), { kind: 'all' }, null, { idempotencyKey: 'unusable-merge-000002' });
  assert.deepEqual([blocked.selected, blocked.queued, blocked.withoutEmail], [1, 0, 0]);
  assert.deepEqual([gone.selected, gone.queued, gone.withoutEmail], [1, 0, 0]);
  // A mail that would be sent is in the box before a later one: a merge of an ordinary account proves the worker ran.
  await startMailMerge(ctx, SelectionSchema.parse({ userIds: s.users.anne }), { kind: 'all' }, null, { idempotencyKey: 'unusable-merge-000003' });
  const worker = startMailWorker(ctx, { pollMs: 20, log: () => {} });
  await worker.drain();
  await worker.stop();
  assert.deepEqual(smtp.rcptAttempts, ['anne.leroy@ac-test.fr']);
  assert.deepEqual(await macs(), before);
});

test('an account signing in elsewhere, with an address, is neither mailed nor counted as having none', async () => {
  await ctx.database.pool.query(`INSERT INTO federation_links (provider_id, subject, user_id, provider_name) VALUES ('educonnect', 'sub-anne', $1, 'ÉduConnect')`, [s.users.anne]);
  const page = await admin.get(`/console/etablissements/${s.structures.S1}/publipostage/envoi?userIds=${s.users.anne}&external=info`);
  assert.match(page.body, /data-mails="0"/);
  assert.match(page.body, /data-fact="unusable"/);
  const run = await startMailMerge(ctx, SelectionSchema.parse({ userIds: s.users.anne, external: 'info' }), { kind: 'all' }, null, { idempotencyKey: 'unusable-merge-000004' });
  // The run's report offers the PDF of the accounts « sans adresse » (email=without): she is not one of them.
  assert.deepEqual([run.selected, run.queued, run.withoutEmail], [1, 0, 0]);
});
