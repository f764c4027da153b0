// « Envoyer aux familles » and a parent who signs in with FranceConnect (a federation link: his own account has no
// code to hand out). He is still the children's legal representative, the one who takes their pack: the mail reaches
// him with their sheets attached, and his own part tells him to sign in with FranceConnect. He was left out of the
// family mail (the distribution default for accounts signing in elsewhere), and with him the children's sheets.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import type { Scope } from '../src/directory/scope.js';
import { planFamilyMail, startFamilyMail } from '../src/mail/family.js';
import { startMailWorker, type MailWorker } from '../src/mail/worker.js';
import { SelectionSchema } from '../src/publipostage/selection.js';
import { testContext } from './helpers/db.js';
import { pdfText } from './helpers/pdf.js';
import { insertSample, SAMPLE_USERS, type Sample } from './helpers/sample.js';
import { startTestSmtp, waitFor, type TestSmtp } from './helpers/smtp.js';

const ALL: Scope = { kind: 'all' };
let ctx: Awaited<ReturnType<typeof testContext>>;
let s: Sample;
let smtp: TestSmtp;
let worker: MailWorker;
const dir = mkdtempSync(join(tmpdir(), 'trousseau-family-federated-'));

before(async () => {
  smtp = await startTestSmtp();
  ctx = await testContext({ TROUSSEAU_PUBLIC_URL: 'https://ent.example.fr', SMTP_URL: smtp.url });
  s = await insertSample(ctx, SAMPLE_USERS.map((u) => (u.key === 'paul' ? { ...u, active: true } : u)));
  await ctx.database.pool.query(
    `INSERT INTO federation_links (provider_id, subject, user_id, provider_name, last_login_at) VALUES ('franceconnect', 'fc-paul', $1, 'FranceConnect', now())`,
    [s.users.paul],
  );
  worker = startMailWorker(ctx, { pollMs: 20, log: () => {} });
});

after(async () => {
  await worker?.stop();
  await smtp?.close();
  await ctx?.close();
  rmSync(dir, { recursive: true, force: true });
});

test('a parent who signs in with FranceConnect still receives his children’s pack by mail', async () => {
  const selection = SelectionSchema.parse({ structureId: s.structures.S1, profiles: 'Student' });
  const plan = await planFamilyMail(ctx, selection, ALL);
  assert.ok(plan.parents.some((p) => p.id === s.users.paul), 'Paul is one of the families’ parents');
  const res = await startFamilyMail(ctx, selection, ALL, null, { idempotencyKey: 'family-federated-000001' });
  assert.equal(res.queued >= 1, true);
  await waitFor('the family mail', () => smtp.to('paul.martin@example.org').length === 1);
  const [mail] = smtp.to('paul.martin@example.org');
  const body = mail.text ?? '';
  assert.match(body, /Votre propre compte \(paul\.martin\) se connecte avec FranceConnect/, body);
  assert.match(body, /fiches de connexion à l’ENT de vos enfants/, body);
  // No code of his own: his account has none to hand out.
  assert.doesNotMatch(body, /[0-9A-HJKMNP-TV-Z]{4}-[0-9A-HJKMNP-TV-Z]{4}-[0-9A-HJKMNP-TV-Z]{2}/, body);
  assert.equal(mail.attachments.length, 1);
  const file = join(dir, 'paul.pdf');
  writeFileSync(file, mail.attachments[0].content);
  const text = pdfText(file);
  assert.match(text, /Zoé MARTIN/);
  assert.match(text, /Léo MARTIN/);
});
