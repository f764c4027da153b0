// Finding: anyone could keep any login (`admin` included) locked out. The per-login counter kept counting
// attempts from an IP already over its own limit, so ~11 requests per 15 minutes from one machine kept the owner
// out. Now: an IP over its limit counts nothing more; one IP's guesses at a login stop at that IP; guesses
// spread over many IPs meet a growing delay, never a lock; `trousseau admin` gives back an admin that can sign in.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import type { FastifyInstance } from 'fastify';
import { runWith } from '../../src/accounts/admin.js';
import { requestPasswordReset } from '../../src/accounts/reset.js';
import { buildServer } from '../../src/web/server.js';
import { testContext } from '../helpers/db.js';
import { Client, createUser } from '../helpers/web.js';

process.env.TROUSSEAU_RATE_LOGIN_MAX = '5';
process.env.TROUSSEAU_RATE_IP_MAX = '8';
process.env.TROUSSEAU_RATE_WINDOW_SEC = '900';

const PASSWORD = 'Cadenas-Vermeil-Abricot-42';
let ctx: Awaited<ReturnType<typeof testContext>>;
let app: FastifyInstance;

before(async () => {
  ctx = await testContext();
  app = await buildServer(ctx);
  await createUser(ctx.database.pool, { login: 'admin', password: PASSWORD, superAdmin: true, firstName: 'Admin', lastName: 'ENT' });
  await createUser(ctx.database.pool, { login: 'claire.dupont', password: PASSWORD, profile: 'Teacher' });
});

after(async () => {
  await app?.close();
  await ctx?.close();
});

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

test('one IP hammering admin is stopped at its own limit and never keeps the real admin out', async () => {
  const attacker = new Client(app, '203.0.113.66');
  const statuses: number[] = [];
  for (let i = 0; i < 30; i++) statuses.push((await attacker.signIn('admin', `devinette ${i}`)).statusCode);
  assert.deepEqual(statuses.slice(0, 5), [401, 401, 401, 401, 401]);
  assert.ok(statuses.slice(8).every((s) => s === 429), 'the attacker is refused');
  const { rows } = await ctx.database.pool.query(`SELECT hits FROM rate_limits WHERE key = 'auth:login:admin'`);
  assert.ok(rows[0].hits <= 5, `attempts counted against the login from all IPs: ${rows[0].hits}`);

  const owner = new Client(app, '198.51.100.7');
  assert.equal((await owner.signIn('admin', PASSWORD)).statusCode, 303, 'the admin signs in from elsewhere at once');
  // And the attacker's IP is still refused, even with the right password.
  assert.equal((await attacker.signIn('admin', PASSWORD)).statusCode, 429);
});

test('guesses spread over many IPs meet a growing delay of seconds, never a 15-minute lock', async () => {
  const answers: Array<{ status: number; retry?: string }> = [];
  for (let i = 0; i < 12; i++) {
    const r = await new Client(app, `192.0.2.${100 + i}`).signIn('claire.dupont', 'mauvaise phrase');
    answers.push({ status: r.statusCode, retry: r.headers['retry-after'] as string | undefined });
  }
  assert.equal(answers.filter((a) => a.status === 401).length, 6, 'five free attempts and the sixth, then the delay');
  const refused = answers.filter((a) => a.status === 429);
  assert.ok(refused.length > 0);
  for (const a of refused) assert.ok(Number(a.retry) <= 2, `Retry-After ${a.retry} s`);

  await sleep(1100);
  assert.equal((await new Client(app, '198.51.100.8').signIn('claire.dupont', PASSWORD)).statusCode, 303, 'the owner gets in after the delay');
  const { rows } = await ctx.database.pool.query(`SELECT 1 FROM rate_limits WHERE key = 'auth:login:claire.dupont'`);
  assert.equal(rows.length, 0, 'a success forgets the delay');
});

test('`trousseau admin` clears the counters, the pre-deletion and an e-mail set by someone else', async () => {
  const pool = ctx.database.pool;
  // What an attacker could do: set the admin's address, ask for a reset link, pre-delete it, pile up attempts.
  await pool.query(`UPDATE users SET email = 'pirate@example.net' WHERE login = 'admin'`);
  let link = '';
  const mails = await requestPasswordReset(ctx, 'admin', (m) => {
    link = m.link;
    return { subject: 'x', text: m.link };
  }, '203.0.113.66');
  assert.equal(mails, 1);
  await pool.query(`UPDATE users SET pre_deleted_at = now() WHERE login = 'admin'`);
  await pool.query(
    `INSERT INTO rate_limits (key, window_start, hits) VALUES ('auth:login:admin', now(), 40)
     ON CONFLICT (key) DO UPDATE SET hits = 40, window_start = now()`,
  );
  assert.equal((await new Client(app, '198.51.100.9').signIn('admin', PASSWORD)).statusCode, 429);

  const output: string[] = [];
  process.env.TROUSSEAU_ADMIN_PASSWORD = 'Nouvelle-Clef-Admin-Tilleul-7';
  try {
    assert.equal(await runWith(ctx, (m) => output.push(m)), 0);
  } finally {
    delete process.env.TROUSSEAU_ADMIN_PASSWORD;
  }
  assert.ok(output.some((l) => l.includes('pirate@example.net')), 'the removed address is reported');
  assert.ok(output.some((l) => l.includes('pré-supprimé')), 'the pre-deletion is reported');

  const c = new Client(app, '198.51.100.9');
  assert.equal((await c.signIn('admin', 'Nouvelle-Clef-Admin-Tilleul-7')).statusCode, 303, 'the printed password works at once');
  const { rows } = await pool.query(`SELECT email, pre_deleted_at FROM users WHERE login = 'admin'`);
  assert.equal(rows[0].email, null);
  assert.equal(rows[0].pre_deleted_at, null);
  const token = new URL(link).searchParams.get('token')!;
  assert.equal((await new Client(app, '198.51.100.10').get(`/reinitialisation?token=${token}`)).statusCode, 400, 'the reset link sent before is dead');
});
