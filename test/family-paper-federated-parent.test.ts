// The class view's « packs to print » (family-paper) for a parent the family mail cannot reach who signs in with
// FranceConnect (a federation link, no address): the confirmation lists him with his child, as the console does, and
// the console's PDF holds his information sheet beside his child's (relativesSelection: external 'info'). The class
// view's PDF must hold him too, or the child's sheet is printed with no parent to hand it to.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import type { FastifyInstance } from 'fastify';
import { buildServer } from '../src/web/server.js';
import { testContext } from './helpers/db.js';
import { pdfText } from './helpers/pdf.js';
import { insertSample, SAMPLE_USERS, type Sample } from './helpers/sample.js';
import { createUser, signedInClient, type Client } from './helpers/web.js';

let ctx: Awaited<ReturnType<typeof testContext>>;
let s: Sample;
let app: FastifyInstance;
let admin: Client;
const dir = mkdtempSync(join(tmpdir(), 'trousseau-family-paper-fed-'));

before(async () => {
  ctx = await testContext({ SMTP_URL: 'smtp://127.0.0.1:9' });
  s = await insertSample(ctx, [
    ...SAMPLE_USERS,
    { key: 'julie', first: 'Julie', last: 'MARTIN', profile: 'Relative', structure: 'S1', parentOf: ['zoe', 'leo'], active: true },
  ]);
  const pool = ctx.database.pool;
  await pool.query(
    `INSERT INTO federation_links (provider_id, subject, user_id, provider_name, last_login_at) VALUES ('franceconnect', 'fc-julie', $1, 'FranceConnect', now())`,
    [s.users.julie],
  );
  app = await buildServer(ctx);
  admin = await signedInClient(app, pool, await createUser(pool, { login: 'admin', profile: 'Personnel', superAdmin: true }));
});

after(async () => {
  await app?.close();
  await ctx?.close();
  rmSync(dir, { recursive: true, force: true });
});

test('class view: the packs to print hold the FranceConnect parent it lists, beside her child', async () => {
  const url = `/classe/${s.classes['6A']}/eleves`;
  await admin.get(url);
  const confirm = await admin.post(url, { ids: [s.users.zoe], action: 'family-mail' });
  assert.equal(confirm.statusCode, 200);
  assert.match(confirm.body, /data-family-paper>\s*<li>Julie MARTIN/);
  const paper = await admin.post(url, { ids: [s.users.zoe], action: 'family-paper' });
  assert.equal(paper.statusCode, 200, paper.body.slice(0, 300));
  const file = join(dir, 'paper.pdf');
  writeFileSync(file, paper.rawPayload);
  const text = pdfText(file);
  assert.match(text, /Zoé MARTIN/);
  assert.match(text, /Julie MARTIN/);
});
