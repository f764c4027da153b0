// « Fiche remise le … » after « Envoyer aux familles »: a child's sheet counts as handed out when the mail carrying it
// was accepted by the SMTP server, not when the mail was queued. A parent's address refused, or a child's sheet left
// out of the pack at sending (blocked meanwhile), hands nothing out to that child: « Relancer » and the class view must
// not take it for delivered. Read from the SMTP server's mailbox and distribution_events.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import type { Scope } from '../src/directory/scope.js';
import { startFamilyMail } from '../src/mail/family.js';
import { startMailWorker } from '../src/mail/worker.js';
import { SelectionSchema } from '../src/publipostage/selection.js';
import { testContext } from './helpers/db.js';
import { insertSample, SAMPLE_USERS, type Sample } from './helpers/sample.js';
import { startTestSmtp, type TestSmtp } from './helpers/smtp.js';
import { createUser } from './helpers/web.js';

const ALL: Scope = { kind: 'all' };
let ctx: Awaited<ReturnType<typeof testContext>>;
let s: Sample;
let smtp: TestSmtp;

before(async () => {
  smtp = await startTestSmtp();
  ctx = await testContext({ TROUSSEAU_PUBLIC_URL: 'https://ent.example.fr', SMTP_URL: smtp.url });
  s = await insertSample(ctx, [
    ...SAMPLE_USERS,
    // Hugo's mother: her mailbox does not exist. Eva's father: Eva is blocked while the mail waits in the queue.
    { key: 'marie', first: 'Marie', last: 'PETIT', profile: 'Relative', structure: 'S1', parentOf: ['hugo'], email: 'marie.petit@example.org' },
    { key: 'rene', first: 'René', last: 'ÉCLAIR', profile: 'Relative', structure: 'S1', parentOf: ['eclair'], email: 'rene@example.org' },
  ]);
});

after(async () => {
  await smtp?.close();
  await ctx?.close();
});

test('family mail: the children whose sheets reached a parent are recorded as handed out, by the run’s author, and only they', async () => {
  const pool = ctx.database.pool;
  const actor = await createUser(pool, { login: 'admin', profile: 'Personnel', superAdmin: true });
  smtp.refuseRcpt('marie.petit@example.org', 550);
  const res = await startFamilyMail(ctx, SelectionSchema.parse({ structureId: s.structures.S1, profiles: 'Student' }), ALL, actor, {
    idempotencyKey: 'family-tracking-000001',
  });
  assert.equal(res.queued, 4);
  await pool.query('UPDATE users SET blocked = true WHERE id = $1', [s.users.eclair]);
  const worker = startMailWorker(ctx, { pollMs: 20, log: () => {} });
  await worker.drain();
  await worker.stop();

  // Paul's pack (Zoé, Léo), Claire's (Émile) and René's mail without Eva's sheet left; Marie's was refused.
  assert.deepEqual(smtp.messages.map((m) => m.to && 'text' in m.to ? m.to.text : '').sort(), ['claire@example.org', 'paul.martin@example.org', 'rene@example.org']);
  assert.equal(smtp.to('rene@example.org')[0].attachments.length, 0);
  const kid = (id: string) => Object.keys(s.users).find((k) => s.users[k] === id);
  const packs = await pool.query(`SELECT user_id, actor_id FROM distribution_events WHERE kind = 'family_pack'`);
  assert.deepEqual(packs.rows.map((r) => kid(r.user_id)).sort(), ['emile', 'leo', 'zoe']);
  assert.ok(packs.rows.every((r) => r.actor_id === actor));
  const mails = await pool.query(`SELECT user_id FROM distribution_events WHERE kind = 'mail'`);
  assert.deepEqual(mails.rows.map((r) => kid(r.user_id)).sort(), ['claire', 'paul', 'rene']);
  // The codes were still issued and audited when queued (the sheets the worker made read them back).
  const audit = await pool.query(`SELECT details FROM audit WHERE action = 'publipostage.family_pack'`);
  assert.equal(audit.rows.length, 1);
  assert.equal(audit.rows[0].details.count, 5);
});

test('family mail: a child who left the school while the mail waited is not in the pack it attaches', async () => {
  const pool = ctx.database.pool;
  smtp.messages.length = 0;
  await pool.query('DELETE FROM distribution_events');
  const res = await startFamilyMail(ctx, SelectionSchema.parse({ userIds: [s.users.zoe, s.users.leo] }), ALL, null, {
    idempotencyKey: 'family-tracking-000002',
  });
  assert.equal(res.queued, 1);
  // Zoé is missing from the feed (grace period), Léo stays.
  await pool.query('UPDATE users SET absent_since = now() WHERE id = $1', [s.users.zoe]);
  const worker = startMailWorker(ctx, { pollMs: 20, log: () => {} });
  await worker.drain();
  await worker.stop();
  const [mail] = smtp.to('paul.martin@example.org');
  assert.deepEqual(
    mail.attachments.map((a) => a.filename),
    ['Fiche de connexion – Léo MARTIN.pdf'],
  );
  const packs = await pool.query(`SELECT user_id FROM distribution_events WHERE kind = 'family_pack'`);
  assert.deepEqual(packs.rows.map((r) => r.user_id), [s.users.leo]);
});
