// « Envoyer par courriel » (sorted « par famille ») and « Envoyer aux familles » over the same filters are two different
// runs: the pupils' own mails, and their parents' mails with the packs. The family mail was taken for the pupils' run
// still sending (the same selection key) and sent nothing to the families; the page showed the pupils' run instead.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import type { Scope } from '../src/directory/scope.js';
import { startFamilyMail } from '../src/mail/family.js';
import { startMailMerge } from '../src/mail/merge.js';
import { startMailWorker } from '../src/mail/worker.js';
import { SelectionSchema } from '../src/publipostage/selection.js';
import { testContext } from './helpers/db.js';
import { insertSample, SAMPLE_USERS, type Sample } from './helpers/sample.js';
import { startTestSmtp, type TestSmtp } from './helpers/smtp.js';

const ALL: Scope = { kind: 'all' };
let ctx: Awaited<ReturnType<typeof testContext>>;
let s: Sample;
let smtp: TestSmtp;

before(async () => {
  smtp = await startTestSmtp();
  ctx = await testContext({ TROUSSEAU_PUBLIC_URL: 'https://ent.example.fr', SMTP_URL: smtp.url });
  s = await insertSample(ctx, SAMPLE_USERS.map((u) => (u.key === 'zoe' ? { ...u, email: 'zoe@example.org' } : u)));
});

after(async () => {
  await smtp?.close();
  await ctx?.close();
});

test('a family mail while the same pupils’ own merge is still sending is a run of its own, and reaches the parents', async () => {
  const selection = SelectionSchema.parse({ structureId: s.structures.S1, profiles: 'Student', classIds: s.classes['6A'], sort: 'family' });
  const pupils = await startMailMerge(ctx, selection, ALL, null, { idempotencyKey: 'run-key-pupils-000001' });
  assert.equal(pupils.queued, 2);
  const families = await startFamilyMail(ctx, selection, ALL, null, { idempotencyKey: 'run-key-family-000001' });
  assert.equal(families.existing, undefined);
  assert.notEqual(families.runId, pupils.runId);
  assert.equal(families.queued, 2);
  const worker = startMailWorker(ctx, { pollMs: 20, log: () => {} });
  await worker.drain();
  await worker.stop();
  assert.deepEqual(smtp.rcptAttempts.sort(), ['claire@example.org', 'emile@example.org', 'paul.martin@example.org', 'zoe@example.org']);
  assert.equal(smtp.to('paul.martin@example.org')[0].attachments.length, 1);
  // And the other way round: the pupils' merge while the families' is sending is not taken for it.
  smtp.messages.length = 0;
  smtp.rcptAttempts.length = 0;
  const families2 = await startFamilyMail(ctx, selection, ALL, null, { idempotencyKey: 'run-key-family-000002' });
  const pupils2 = await startMailMerge(ctx, selection, ALL, null, { idempotencyKey: 'run-key-pupils-000002' });
  assert.equal(pupils2.existing, undefined);
  assert.notEqual(pupils2.runId, families2.runId);
  // The same family mail again while it sends: the same run (nothing drawn twice).
  const again = await startFamilyMail(ctx, selection, ALL, null, { idempotencyKey: 'run-key-family-000003' });
  assert.equal(again.runId, families2.runId);
  assert.equal(again.existing, 'in-progress');
});
