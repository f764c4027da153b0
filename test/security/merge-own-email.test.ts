// Attack: an administrator's own e-mail is changed only in « Mon compte » (current password asked): the console
// refuses it (directory.selfContact) and an import leaves the importer's own address alone (import-own-account.test.ts),
// so that a stolen admin session cannot put its own address on the account and then take it for good with a reset
// link. « Gérer les doublons » went round it: the stolen session gives any inactive account of the school the same
// profile and names as the admin's (an account it may change: its address set freely), then merges it into the
// admin's own, activated account — the merge fills the kept account's empty address from the dropped one. A reset
// link asked for the admin's login is then mailed to the intruder.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import type { FastifyInstance } from 'fastify';
import { buildServer } from '../../src/web/server.js';
import { testContext } from '../helpers/db.js';
import { Client, createUser, signedInClient } from '../helpers/web.js';

let ctx: Awaited<ReturnType<typeof testContext>>;
let app: FastifyInstance;
let school: string;
let head: string;
let stolen: Client;

const q = async <T = Record<string, unknown>>(sql: string, params: unknown[] = []) => (await ctx.database.pool.query(sql, params)).rows as T[];
const emailOf = async (id: string) => (await q<{ email: string | null }>('SELECT email FROM users WHERE id = $1', [id]))[0]?.email ?? null;

before(async () => {
  ctx = await testContext();
  [{ id: school }] = await q<{ id: string }>(`INSERT INTO structures (uai, name) VALUES ('0459321B', 'Collège des Platanes') RETURNING id`);
  // The head of school: activated, local admin, no address on file (as in import-own-account.test.ts).
  head = await createUser(ctx.database.pool, { login: 'odile.platane', firstName: 'Odile', lastName: 'PLATANE', password: 'direction-platanes-26' });
  await q('INSERT INTO user_structures VALUES ($1, $2)', [head, school]);
  await q('INSERT INTO local_admins VALUES ($1, $2)', [head, school]);
  app = await buildServer(ctx);
  stolen = await signedInClient(app, ctx.database.pool, head);
});
after(async () => {
  await app.close();
  await ctx.close();
});

test('a stolen admin session cannot put its own address on the account by merging a duplicate into it', async () => {
  // Any inactive Personnel account of the school (here a fresh one), given the intruder's address through the
  // console — allowed: it is not the admin's own account.
  const decoy = await createUser(ctx.database.pool, { login: 'odile.platane2', firstName: 'Odile', lastName: 'PLATANE' });
  await q('INSERT INTO user_structures VALUES ($1, $2)', [decoy, school]);
  await stolen.get(`/console/utilisateurs/${decoy}`);
  const set = await stolen.post(`/console/utilisateurs/${decoy}/coordonnees`, { email: 'intrus@exemple.test', phone: '' });
  assert.equal(set.statusCode, 303, `the decoy's address is set: ${set.statusCode} ${set.body.slice(0, 200)}`);
  assert.equal(await emailOf(decoy), 'intrus@exemple.test', 'the decoy carries the intruder’s address');

  // Merged into the admin's own account (kept: the activated one).
  await stolen.get(`/console/etablissements/${school}/doublons/${head}/${decoy}/fusionner`);
  const merged = await stolen.post(`/console/etablissements/${school}/doublons/${head}/${decoy}/fusionner`, { keep: head });
  assert.ok(merged.statusCode === 303 || merged.statusCode >= 400, `merge answered: ${merged.statusCode}`);
  assert.notEqual(await emailOf(head), 'intrus@exemple.test', 'the admin’s own address is not set by a merge the admin runs');

  // So no reset link for the admin's login reaches the intruder's mailbox.
  const c = new Client(app, '192.0.2.150');
  await c.get('/mot-de-passe-oublie');
  await c.post('/mot-de-passe-oublie', { identifier: 'odile.platane' });
  const mails = await q<{ recipient: string }>(`SELECT recipient FROM mail_jobs WHERE kind = 'password_reset' AND user_id = $1`, [head]);
  assert.ok(!mails.some((m) => m.recipient === 'intrus@exemple.test'), `no reset link mailed to the intruder: ${JSON.stringify(mails)}`);
});

test('a merge of two other accounts still fills the kept one’s empty address', async () => {
  const keep = await createUser(ctx.database.pool, { login: 'remi.saule', firstName: 'Rémi', lastName: 'SAULE', password: 'agent-saule-2026-x' });
  const drop = await createUser(ctx.database.pool, { login: 'remi.saule2', firstName: 'Rémi', lastName: 'SAULE', email: 'remi.saule@exemple.test' });
  await q('INSERT INTO user_structures VALUES ($1, $3), ($2, $3)', [keep, drop, school]);
  await stolen.get(`/console/etablissements/${school}/doublons/${keep}/${drop}/fusionner`);
  const res = await stolen.post(`/console/etablissements/${school}/doublons/${keep}/${drop}/fusionner`, { keep });
  assert.equal(res.statusCode, 303, `merged: ${res.statusCode}`);
  assert.equal(await emailOf(keep), 'remi.saule@exemple.test', 'the kept account gets the dropped one’s address');
});
