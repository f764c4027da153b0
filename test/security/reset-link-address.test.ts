// A password-reset link is a credential mailed to one address. When the account's address is replaced (the old
// mailbox was someone else's: a former partner's, a shared family address, a compromised one — changed by the person
// in « Mon compte » or by an administrator), a link already sitting in the old mailbox must die with it: it used to
// stay valid for its hour and let whoever reads that mailbox set the password.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import type { FastifyInstance } from 'fastify';
import { buildServer } from '../../src/web/server.js';
import { testContext } from '../helpers/db.js';
import { Client, createUser, signedInClient } from '../helpers/web.js';

let ctx: Awaited<ReturnType<typeof testContext>>;
let app: FastifyInstance;
let school: string;
let admin: Client;

const q = async <T = Record<string, unknown>>(sql: string, params: unknown[] = []) => (await ctx.database.pool.query(sql, params)).rows as T[];

before(async () => {
  ctx = await testContext();
  app = await buildServer(ctx);
  [{ id: school }] = await q<{ id: string }>(`INSERT INTO structures (uai, name) VALUES ('0453333C', 'Collège des Tilleuls') RETURNING id`);
  const dir = await createUser(ctx.database.pool, { login: 'nadia.roche', firstName: 'Nadia', lastName: 'ROCHE', password: 'direction-tilleuls-26' });
  await q('INSERT INTO user_structures VALUES ($1, $2)', [dir, school]);
  await q('INSERT INTO local_admins VALUES ($1, $2)', [dir, school]);
  admin = await signedInClient(app, ctx.database.pool, dir);
});
after(async () => {
  await app.close();
  await ctx.close();
});

/** An activated parent of the school with `email`; the reset link mailed to it. */
async function parentWithLink(login: string, email: string): Promise<{ id: string; token: string; hash: string }> {
  const id = await createUser(ctx.database.pool, { login, profile: 'Relative', password: 'ancienne phrase secrète', email });
  await q('INSERT INTO user_structures VALUES ($1, $2)', [id, school]);
  const c = new Client(app, '192.0.2.140');
  await c.get('/mot-de-passe-oublie');
  assert.equal((await c.post('/mot-de-passe-oublie', { identifier: login })).statusCode, 200, 'reset asked');
  const [job] = await q<{ body_text: string }>(`SELECT body_text FROM mail_jobs WHERE kind = 'password_reset' AND user_id = $1`, [id]);
  assert.ok(job, 'a reset mail is queued');
  const token = /reinitialisation\?token=([A-Za-z0-9_-]{43})/.exec(ctx.secrets.decrypt(job.body_text))![1];
  const [{ password_hash: hash }] = await q<{ password_hash: string }>('SELECT password_hash FROM users WHERE id = $1', [id]);
  return { id, token, hash };
}

async function linkRefused(token: string, id: string, hash: string, who: string) {
  const c = new Client(app, '192.0.2.141');
  assert.equal((await c.get(`/reinitialisation?token=${token}`)).statusCode, 400, `${who}: the link's page says it is no longer valid`);
  await c.get('/mot-de-passe-oublie');
  const res = await c.post('/reinitialisation', { token, password: 'phrase du voleur de lien', confirm: 'phrase du voleur de lien' });
  assert.equal(res.statusCode, 400, `${who}: the new password is refused`);
  const [row] = await q<{ password_hash: string }>('SELECT password_hash FROM users WHERE id = $1', [id]);
  assert.equal(row.password_hash, hash, `${who}: the password is unchanged`);
}

test('a reset link mailed to the old address dies when « Mon compte » replaces it', async () => {
  const { id, token, hash } = await parentWithLink('olivia.reset', 'adresse.partagee@exemple.test');
  const self = await signedInClient(app, ctx.database.pool, id);
  const saved = await self.post('/mon-compte/coordonnees', { email: 'olivia.seule@exemple.test', phone: '', contactCurrent: 'ancienne phrase secrète' });
  assert.equal(saved.statusCode, 303, 'address changed');
  await linkRefused(token, id, hash, 'Mon compte');
});

test('a reset link mailed to the old address dies when an administrator replaces it', async () => {
  const { id, token, hash } = await parentWithLink('pierre.reset', 'ancienne.boite@exemple.test');
  const saved = await admin.post(`/console/utilisateurs/${id}/coordonnees`, { email: 'nouvelle.boite@exemple.test', phone: '' });
  assert.equal(saved.statusCode, 303, 'address changed by the admin');
  await linkRefused(token, id, hash, 'console');
});

test('the link still works while the address is the account’s (its case aside)', async () => {
  const { id, token } = await parentWithLink('quentin.reset', 'quentin@exemple.test');
  await q(`UPDATE users SET email = 'Quentin@Exemple.test' WHERE id = $1`, [id]);
  const c = new Client(app, '192.0.2.142');
  assert.equal((await c.get(`/reinitialisation?token=${token}`)).statusCode, 200, 'the form is shown');
  const res = await c.post('/reinitialisation', { token, password: 'nouvelle phrase secrète', confirm: 'nouvelle phrase secrète' });
  assert.equal(res.statusCode, 303, 'the password is set');
});
