// Finding: « Mon compte » now asks for the current password before changing the e-mail address (a stolen session
// would put its own address there, then a reset link mailed to it takes the account for good). An administrator's
// session went round it through the console: the user page of the admin's OWN account changed the address with no
// password, and generated a renewal code for it (the same takeover, without even a mailbox). Now the console refuses
// both on one's own account and sends to « Mon compte »; other accounts are changed as before.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import type { FastifyInstance } from 'fastify';
import { buildServer } from '../../src/web/server.js';
import { testContext } from '../helpers/db.js';
import { createUser, signedInClient, type Client } from '../helpers/web.js';

let ctx: Awaited<ReturnType<typeof testContext>>;
let app: FastifyInstance;
let director: string;
let teacher: string;
let console_: Client;

const q = async <T = Record<string, unknown>>(sql: string, params: unknown[] = []) => (await ctx.database.pool.query(sql, params)).rows as T[];
const user = async (id: string) => (await q('SELECT * FROM users WHERE id = $1', [id]))[0];

before(async () => {
  ctx = await testContext();
  const pool = ctx.database.pool;
  const [{ id: school }] = await q<{ id: string }>(`INSERT INTO structures (uai, name) VALUES ('0458001A', 'Collège des Tilleuls') RETURNING id`);
  director = await createUser(pool, { login: 'marc.tilleul', firstName: 'Marc', lastName: 'TILLEUL', password: 'direction-tilleuls-26', email: 'marc.tilleul@exemple.test' });
  teacher = await createUser(pool, { login: 'nina.orme', firstName: 'Nina', lastName: 'ORME', profile: 'Teacher', password: 'enseignante-2026-xy' });
  await q('INSERT INTO user_structures VALUES ($1, $3), ($2, $3)', [director, teacher, school]);
  await q('INSERT INTO local_admins VALUES ($1, $2)', [director, school]);
  app = await buildServer(ctx);
  console_ = await signedInClient(app, pool, director);
});
after(async () => {
  await app?.close();
  await ctx?.close();
});

test('the console does not change one’s own e-mail nor issue one’s own renewal code (no password asked there)', async () => {
  await console_.get(`/console/utilisateurs/${director}`);
  const contact = await console_.post(`/console/utilisateurs/${director}/coordonnees`, { email: 'voleur@exemple.test', phone: '' });
  assert.ok(contact.statusCode >= 400, `own address refused in the console: ${contact.statusCode}`);
  assert.match(contact.body, /Mon compte/, 'the page sends to « Mon compte »');
  assert.equal((await user(director)).email, 'marc.tilleul@exemple.test', 'own address unchanged');

  const renewal = await console_.post(`/console/utilisateurs/${director}/renouvellement`, {});
  assert.ok(renewal.statusCode >= 400, `own renewal code refused: ${renewal.statusCode}`);
  assert.equal((await user(director)).renewal_code_mac, null, 'no renewal code stored for oneself');

  const phone = await console_.post(`/console/utilisateurs/${director}/coordonnees`, { email: 'marc.tilleul@exemple.test', phone: '0612345678' });
  assert.equal(phone.statusCode, 303, `own phone, same address: still saved in the console (${phone.statusCode})`);

  const other = await console_.post(`/console/utilisateurs/${teacher}/coordonnees`, { email: 'nina.orme@exemple.test', phone: '' });
  assert.equal(other.statusCode, 303, 'another account’s address: changed as before');
  assert.equal((await user(teacher)).email, 'nina.orme@exemple.test', 'stored');
  const otherRenewal = await console_.post(`/console/utilisateurs/${teacher}/renouvellement`, {});
  assert.equal(otherRenewal.statusCode, 303, 'another account’s renewal code: issued as before');
});
