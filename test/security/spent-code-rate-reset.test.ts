// Security audit: the sheet's QR code link `GET /activation?login=…&code=…` with the code an account was ACTIVATED
// with (spent, kept as an HMAC to say « compte déjà activé », migration 0024) counted as a successful credential
// attempt (attemptSucceeded): it cleared the login's counters — the hard limit per login from one IP and the growing
// delay across every IP. Whoever held an old, used sheet (left in a schoolbag, a photo of it in the class group chat)
// could open that link between password guesses and guess the account's password without end: 10 guesses, the link,
// 10 more, from one machine; and from many addresses the delay meant to slow a distributed guesser never grew.
// A spent code now only gives back the attempt it cost itself: the counters stay as the guesses left them.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import type { FastifyInstance } from 'fastify';
import { formatCode } from '../../src/accounts/codes.js';
import { buildServer } from '../../src/web/server.js';
import { testContext } from '../helpers/db.js';
import { Client, createInactiveUser } from '../helpers/web.js';

let ctx: Awaited<ReturnType<typeof testContext>>;
let app: FastifyInstance;
let usedCode = '';
const PASSWORD = 'Kx7#pq2!zz-solide';

before(async () => {
  ctx = await testContext();
  app = await buildServer(ctx);
  const tom = await createInactiveUser(ctx.database.pool, ctx.secrets, { login: 'tom.faure', firstName: 'Tom', lastName: 'FAURE', profile: 'Student' });
  usedCode = formatCode(tom.code);
  const c = new Client(app, '198.51.100.50');
  await c.get('/activation');
  assert.equal((await c.post('/activation', { step: 'code', login: 'tom.faure', code: tom.code })).statusCode, 200);
  const done = await c.post('/activation', { step: 'password', login: 'tom.faure', code: tom.code, password: PASSWORD, confirm: PASSWORD, terms: 'on', email: '', phone: '' });
  assert.equal(done.statusCode, 303);
});
after(async () => {
  await app.close();
  await ctx.close();
});

async function guess(c: Client, password: string): Promise<number> {
  await c.get('/connexion');
  return (await c.post('/connexion', { login: 'tom.faure', password })).statusCode;
}

const hits = async (key: string): Promise<number | null> =>
  ((await ctx.database.pool.query<{ hits: number }>('SELECT hits FROM rate_limits WHERE key = $1', [key])).rows[0]?.hits ?? null);

test('the spent activation code between guesses does not give one machine more guesses at the password', async () => {
  const thief = new Client(app, '198.51.100.60');
  // 10 attempts per login from one address (authLimits): 9 guesses, then the old sheet's link as the 10th.
  for (let i = 0; i < 9; i++) assert.equal(await guess(thief, `mauvais-${i}`), 401);
  // The old sheet's QR code still says « déjà activé » (its purpose)…
  const link = await thief.get(`/activation?login=tom.faure&code=${usedCode}`);
  assert.equal(link.statusCode, 303);
  assert.equal(link.headers.location, '/connexion?deja=1&login=tom.faure');
  // …it costs nothing itself, but gives no fresh series of guesses either: one more, then the limit.
  assert.deepEqual([await guess(thief, 'mauvais-9'), await guess(thief, 'mauvais-10')], [401, 429]);
  assert.equal(await guess(thief, PASSWORD), 429, 'even the right password waits for the window (nothing was reset)');
});

test("the spent activation code does not wipe the login's growing delay built up across addresses", async () => {
  await ctx.database.pool.query(`DELETE FROM rate_limits`);
  // A distributed guesser: one wrong password from each of 10 addresses (the delay's free attempts).
  for (let i = 0; i < 10; i++) assert.equal(await guess(new Client(app, `203.0.113.${100 + i}`), `faux-${i}`), 401);
  const before = await hits('auth:login:tom.faure');
  assert.equal(before, 10);
  const link = await new Client(app, '203.0.113.200').get(`/activation?login=tom.faure&code=${usedCode}`, { 'sec-fetch-site': 'none' });
  assert.equal(link.statusCode, 303);
  const afterLink = await hits('auth:login:tom.faure');
  assert.notEqual(afterLink, null, 'the login delay row was deleted by the spent code');
  assert.ok(afterLink! >= before, `the delay counter went down from ${before} to ${afterLink}`);
});

test('the owner scanning the used sheet is not charged for it, and still signs in', async () => {
  await ctx.database.pool.query(`DELETE FROM rate_limits`);
  const owner = new Client(app, '198.51.100.70');
  for (let i = 0; i < 3; i++) {
    const r = await owner.get(`/activation?login=tom.faure&code=${usedCode}`);
    assert.equal(r.statusCode, 303);
  }
  assert.equal(await hits('auth:ip:198.51.100.70'), 0);
  assert.equal((await owner.signIn('tom.faure', PASSWORD)).statusCode, 303);
});
