// « Envoyer aux familles » when parents of two families share an address (a typing error, a relative's mailbox): one
// mailbox would receive the children's sheets of both families. The confirmation pages (console and class view) say
// so before anything is sent, as the mail merge's confirmation does; two parents of the same children sharing theirs
// are one family and raise no warning.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import type { FastifyInstance } from 'fastify';
import { buildServer } from '../src/web/server.js';
import { testContext } from './helpers/db.js';
import { insertSample, SAMPLE_USERS, type Sample } from './helpers/sample.js';
import { createUser, signedInClient, type Client } from './helpers/web.js';

let ctx: Awaited<ReturnType<typeof testContext>>;
let s: Sample;
let app: FastifyInstance;
let admin: Client;
let teacher: Client;

before(async () => {
  ctx = await testContext({ SMTP_URL: 'smtp://127.0.0.1:9' });
  s = await insertSample(ctx, [
    ...SAMPLE_USERS,
    // Julie shares Paul's address (their children Zoé and Léo); Marie, Lina's mother, was given it too.
    { key: 'julie', first: 'Julie', last: 'MARTIN', profile: 'Relative', structure: 'S1', parentOf: ['zoe', 'leo'], email: ' Paul.Martin@example.org' },
    { key: 'lina', first: 'Lina', last: 'BENALI', profile: 'Student', structure: 'S1', classes: ['6A'] },
    { key: 'marie', first: 'Marie', last: 'BENALI', profile: 'Relative', structure: 'S1', parentOf: ['lina'], email: 'paul.martin@example.org' },
    // Jean shares Claire's address, both Émile's parents: one family.
    { key: 'jean', first: 'Jean', last: 'DURAND', profile: 'Relative', structure: 'S1', parentOf: ['emile'], email: 'claire@example.org' },
  ]);
  app = await buildServer(ctx);
  const pool = ctx.database.pool;
  admin = await signedInClient(app, pool, await createUser(pool, { login: 'admin', profile: 'Personnel', superAdmin: true }));
  teacher = await signedInClient(app, pool, s.users.anne);
});

after(async () => {
  await app?.close();
  await ctx?.close();
});

const warning = (body: string) => /<p class="notice notice-warning" data-shared-addresses>([^<]*)<\/p>/.exec(body)?.[1] ?? null;

test('console: the family mail’s confirmation names an address two families share, not one a couple shares', async () => {
  const page = await admin.get(`/console/etablissements/${s.structures.S1}/publipostage/familles?profiles=Student&classIds=${s.classes['6A']}`);
  assert.equal(page.statusCode, 200);
  assert.match(page.body, /data-mails="5"/);
  const text = warning(page.body);
  assert.ok(text, 'a warning');
  assert.match(text, /paul\.martin@example\.org \(3 parents\)/);
  assert.doesNotMatch(text, /claire@/);
  // Léo's and Zoé's class only (5A: Léo, Nina pre-deleted): Paul and Julie share theirs, one family, no warning.
  const fiveA = await admin.get(`/console/etablissements/${s.structures.S1}/publipostage/familles?profiles=Student&classIds=${s.classes['5A']}`);
  assert.equal(warning(fiveA.body), null);
});

test('class view: the teacher’s « Envoyer aux familles » confirmation says the same', async () => {
  await teacher.get(`/classe/${s.classes['6A']}/eleves`);
  const page = await teacher.post(`/classe/${s.classes['6A']}/eleves`, { ids: [s.users.zoe, s.users.lina, s.users.emile], action: 'family-mail' });
  assert.equal(page.statusCode, 200);
  const text = warning(page.body);
  assert.ok(text, 'a warning');
  assert.match(text, /paul\.martin@example\.org \(3 parents\)/);
  const couple = await teacher.post(`/classe/${s.classes['6A']}/eleves`, { ids: [s.users.zoe, s.users.emile], action: 'family-mail' });
  assert.equal(couple.statusCode, 200);
  assert.equal(warning(couple.body), null);
});
