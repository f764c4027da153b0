// Security audit: GET /activation?login=…&code=… (the sheet's QR code) redirected to « compte déjà activé » whenever
// the login was an activated account, WHATEVER the code (src/web/account/index.ts codeFlowGet → isAlreadyActivated,
// which never looked at the code). Anyone, without a session, a CSRF token or any rate limit, learnt which logins
// exist and are activated (logins are prenom.nom: whether a given child is a pupil here), while every other flow
// answers "unknown login", "wrong code" and "already activated" alike. Now only the code the account was activated
// with (its HMAC kept at activation, migration 0024) hears « déjà activé »; any other code gets the page of an
// unknown login, and every try is counted like a submitted code.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import type { FastifyInstance } from 'fastify';
import { formatCode } from '../../src/accounts/codes.js';
import { buildServer } from '../../src/web/server.js';
import { testContext } from '../helpers/db.js';
import { Client, createInactiveUser, createUser } from '../helpers/web.js';

let ctx: Awaited<ReturnType<typeof testContext>>;
let app: FastifyInstance;
let usedCode = '';

before(async () => {
  ctx = await testContext();
  await createUser(ctx.database.pool, { login: 'lea.faure', firstName: 'Léa', lastName: 'FAURE', profile: 'Student', password: 'un-mot-de-passe-solide-2026' });
  app = await buildServer(ctx);
  // Tom activates his account with the code of his sheet, through the two steps of /activation.
  const tom = await createInactiveUser(ctx.database.pool, ctx.secrets, { login: 'tom.faure', firstName: 'Tom', lastName: 'FAURE', profile: 'Student' });
  usedCode = tom.code;
  const c = new Client(app, '198.51.100.50');
  await c.get('/activation');
  assert.equal((await c.post('/activation', { step: 'code', login: 'tom.faure', code: tom.code })).statusCode, 200);
  const done = await c.post('/activation', { step: 'password', login: 'tom.faure', code: tom.code, password: 'Kx7#pq2!zz', confirm: 'Kx7#pq2!zz', terms: 'on', email: '', phone: '' });
  assert.equal(done.statusCode, 303);
});
after(async () => {
  await app.close();
  await ctx.close();
});

const probe = async (ip: string, login: string, code = 'ZZZZ-ZZZZ-ZZ') => {
  const res = await new Client(app, ip).get(`/activation?login=${login}&code=${code}`);
  return { status: res.statusCode, location: res.headers.location ?? null };
};

test('a made-up code tells nothing about whether the login exists and is activated', async () => {
  const unknown = await probe('198.51.100.7', 'personne.inconnue');
  assert.equal(unknown.status, 200);
  for (const login of ['lea.faure', 'tom.faure']) {
    const activated = await probe('198.51.100.7', login);
    assert.deepEqual(activated, unknown, `activated login ${login}: ${JSON.stringify(activated)}; unknown login: ${JSON.stringify(unknown)}`);
  }
});

test('the code the account was activated with still says « compte déjà activé »', async () => {
  assert.deepEqual(await probe('198.51.100.8', 'tom.faure', formatCode(usedCode)), { status: 303, location: '/connexion?deja=1&login=tom.faure' });
});

test('guesses through the QR code link are rate limited as submitted codes are, alike for every login', async () => {
  // 10 tries per login from one IP (authLimits), then 429 — for an activated login and an unknown one alike.
  for (const [ip, login] of [['198.51.100.20', 'lea.faure'], ['198.51.100.21', 'personne.inconnue']]) {
    const answers: number[] = [];
    for (let i = 0; i < 11; i++) answers.push((await probe(ip, login)).status);
    assert.deepEqual(answers, [...Array(10).fill(200), 429], `${login}: ${answers.join(' ')}`);
  }
});
