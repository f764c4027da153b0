// « Relancer » then « Envoyer aux familles »: the reminder (and the page's other filters) choose the PUPILS; their
// legal representatives are whoever can take the pack, activated or not, handed something lately or not. Read back as
// the family gets it: the mail the SMTP server received (its attached PDF read with pdftotext and zbarimg), and the
// console's PDF of the packs of the parents without an address.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import type { FastifyInstance } from 'fastify';
import type { Scope } from '../src/directory/scope.js';
import { startFamilyMail } from '../src/mail/family.js';
import { startMailWorker, type MailWorker } from '../src/mail/worker.js';
import { activationUrl } from '../src/publipostage/format.js';
import { selectAccounts } from '../src/publipostage/select.js';
import { SelectionSchema } from '../src/publipostage/selection.js';
import { buildServer } from '../src/web/server.js';
import { testContext } from './helpers/db.js';
import { pdfQrCodes, pdfText } from './helpers/pdf.js';
import { insertSample, SAMPLE_USERS, type Sample } from './helpers/sample.js';
import { startTestSmtp, waitFor, type TestSmtp } from './helpers/smtp.js';
import { createUser, signedInClient, type Client } from './helpers/web.js';

const URL_BASE = 'https://ent.example.fr';
const ALL: Scope = { kind: 'all' };
let ctx: Awaited<ReturnType<typeof testContext>>;
let s: Sample;
let smtp: TestSmtp;
let worker: MailWorker;
let app: FastifyInstance;
let admin: Client;
const dir = mkdtempSync(join(tmpdir(), 'trousseau-family-reminder-'));

before(async () => {
  smtp = await startTestSmtp();
  ctx = await testContext({ TROUSSEAU_PUBLIC_URL: URL_BASE, SMTP_URL: smtp.url });
  // Paul MARTIN (an address) activated his own account long ago; Julie MARTIN (no address) too, last week she was
  // handed her own sheet again. Their children Zoé (6A) and Léo (5A) were handed their sheets three weeks ago and have
  // not activated: the reminder's pupils.
  s = await insertSample(ctx, [
    ...SAMPLE_USERS.map((u) => (u.key === 'paul' ? { ...u, active: true } : u)),
    { key: 'julie', first: 'Julie', last: 'MARTIN', profile: 'Relative', structure: 'S1', parentOf: ['zoe', 'leo'], active: true },
  ]);
  const pool = ctx.database.pool;
  await pool.query(`INSERT INTO distribution_events (user_id, kind, at) SELECT unnest($1::uuid[]), 'sheet', now() - interval '21 days'`, [
    [s.users.zoe, s.users.leo, s.users.paul, s.users.julie],
  ]);
  await pool.query(`INSERT INTO distribution_events (user_id, kind, at) VALUES ($1, 'sheet', now() - interval '7 days')`, [s.users.julie]);
  worker = startMailWorker(ctx, { pollMs: 20, log: () => {} });
  app = await buildServer(ctx);
  admin = await signedInClient(app, pool, await createUser(pool, { login: 'admin', profile: 'Personnel', password: 'une phrase de passe solide', superAdmin: true }));
});

after(async () => {
  await worker?.stop();
  await app?.close();
  await smtp?.close();
  await ctx?.close();
  rmSync(dir, { recursive: true, force: true });
});

test('the console’s packs for the parents without an address hold every parent it lists, whatever the page’s filters', async () => {
  const base = `/console/etablissements/${s.structures.S1}/publipostage`;
  const query = `profiles=Student&distributedBefore=15&activation=inactive&createdAfter=2024-01-01`;
  const page = await admin.get(`${base}/familles?${query}`);
  assert.equal(page.statusCode, 200);
  assert.match(page.body, /data-family-paper>\s*<li>Julie MARTIN/);
  const paper = await admin.post(`${base}/familles/pdf`, { selection: query });
  assert.equal(paper.statusCode, 200);
  assert.match(String(paper.headers['content-disposition']), /-2-eleves-1-parents-/);
  const file = join(dir, 'paper.pdf');
  writeFileSync(file, paper.rawPayload);
  const text = pdfText(file);
  assert.match(text, /Julie MARTIN/);
  assert.match(text, /Zoé MARTIN/);
  assert.match(text, /Léo MARTIN/);
  assert.doesNotMatch(text, /Paul/);
});

test('a reminder mailed to the families reaches the activated parent with the children’s pack', async () => {
  // The packs printed above were a hand-out (the pupils are no longer due for a reminder): forgotten.
  await ctx.database.pool.query(`DELETE FROM distribution_events WHERE at > now() - interval '1 hour'`);
  const selection = SelectionSchema.parse({ structureId: s.structures.S1, profiles: 'Student', distributedBefore: 15, activation: 'inactive' });
  const res = await startFamilyMail(ctx, selection, ALL, null, { idempotencyKey: 'family-reminder-000001' });
  assert.equal(res.queued, 1);
  assert.deepEqual(res.withoutEmailParents.map((p) => p.login), [s.logins.julie]);
  await waitFor('the family mail', () => smtp.to('paul.martin@example.org').length === 1);
  const [mail] = smtp.to('paul.martin@example.org');
  assert.equal(mail.attachments.length, 1);
  const file = join(dir, 'paul.pdf');
  writeFileSync(file, mail.attachments[0].content);
  const text = pdfText(file);
  assert.match(text, /Zoé MARTIN/);
  assert.match(text, /Léo MARTIN/);
  const children = await selectAccounts(ctx, SelectionSchema.parse({ userIds: [s.users.zoe, s.users.leo], sort: 'class' }), ALL);
  const [leo, zoe] = children;
  assert.deepEqual(pdfQrCodes(file, 1), [activationUrl(URL_BASE, leo.login, leo.code!)]);
  assert.deepEqual(pdfQrCodes(file, 2), [activationUrl(URL_BASE, zoe.login, zoe.code!)]);
});
