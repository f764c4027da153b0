// GET /activation?login=…&code=… (the sheet's QR code) checks the pair and counts it as a credential attempt of the
// caller's IP (rate limits shared with sign-in: 50 failures per IP per 15 minutes). A GET needs no CSRF token, so any
// web page could make its visitors' browsers send such pairs — 50 <img> tags — and a school's network shares one
// address: one pupil opening that page kept the whole school out of sign-in, activation and « Mon compte » for the
// window, again and again. A request another site starts (Sec-Fetch-Site: cross-site or same-site) now only shows the
// form filled in, checking and counting nothing; the QR code scanned (Sec-Fetch-Site: none), the browser's own
// navigation and scripts without the header are checked and counted as before.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import type { FastifyInstance } from 'fastify';
import { formatCode } from '../../src/accounts/codes.js';
import { buildServer } from '../../src/web/server.js';
import { testContext } from '../helpers/db.js';
import { Client, createInactiveUser, createUser } from '../helpers/web.js';

let ctx: Awaited<ReturnType<typeof testContext>>;
let app: FastifyInstance;
let tomCode = '';

before(async () => {
  ctx = await testContext();
  await createUser(ctx.database.pool, { login: 'lea.faure', firstName: 'Léa', lastName: 'FAURE', profile: 'Student', password: 'un-mot-de-passe-solide-2026' });
  tomCode = (await createInactiveUser(ctx.database.pool, ctx.secrets, { login: 'tom.faure', firstName: 'Tom', lastName: 'FAURE', profile: 'Student' })).code;
  app = await buildServer(ctx);
});
after(async () => {
  await app.close();
  await ctx.close();
});

const CROSS_SITE_IMAGE = { 'sec-fetch-site': 'cross-site', 'sec-fetch-mode': 'no-cors', 'sec-fetch-dest': 'image' };

test('another site’s page cannot spend a school network’s sign-in attempts through the activation link', async () => {
  const school = '198.51.100.90';
  // A page elsewhere, opened once behind the school's address: 60 images pointing at the activation link.
  for (let i = 0; i < 60; i++) {
    const res = await new Client(app, school).get(`/activation?login=eleve${i}.inconnu&code=ZZZZ-ZZZZ-ZZ`, CROSS_SITE_IMAGE);
    assert.equal(res.statusCode, 200, `image ${i}: the form, nothing refused`);
  }
  // Léa, in the same school, signs in.
  const lea = new Client(app, school);
  const res = await lea.signIn('lea.faure', 'un-mot-de-passe-solide-2026');
  assert.equal(res.statusCode, 303, `Léa signs in (${res.statusCode}: ${res.headers['retry-after'] ?? ''})`);
});

test('a cross-site link still opens the form filled in; a link the browser opened itself (scanned QR code) is still counted', async () => {
  const page = await new Client(app, '198.51.100.91').get(`/activation?login=tom.faure&code=${formatCode(tomCode)}`, { 'sec-fetch-site': 'cross-site', 'sec-fetch-mode': 'navigate', 'sec-fetch-dest': 'document' });
  assert.equal(page.statusCode, 200);
  assert.match(page.body, new RegExp(`value="${formatCode(tomCode)}"`), 'the code is in the form');
  // Guesses with the header of a scanned QR code (none) are counted: 10 per login from one IP, then 429.
  const answers: number[] = [];
  for (let i = 0; i < 11; i++) answers.push((await new Client(app, '198.51.100.92').get('/activation?login=lea.faure&code=ZZZZ-ZZZZ-ZZ', { 'sec-fetch-site': 'none' })).statusCode);
  assert.deepEqual(answers, [...Array(10).fill(200), 429]);
});
