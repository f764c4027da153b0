// Finding: a renewal code (the printed sheet an administrator or a teacher hands to someone who lost the password,
// valid 72 h) stayed valid after the person set a new password another way — in « Mon compte » or with a reset link:
// whoever found the sheet afterwards set the password and took the account. A new password now voids the pending
// renewal code; the renewal itself consumes it, and voids a reset link mailed before, as a password change does.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import type { FastifyInstance } from 'fastify';
import { generateRenewalCode } from '../../src/accounts/renewal.js';
import { buildServer } from '../../src/web/server.js';
import { testContext } from '../helpers/db.js';
import { Client, createUser, signedInClient } from '../helpers/web.js';

const PASSWORD = 'ancienne phrase de passe oubliée';
let ctx: Awaited<ReturnType<typeof testContext>>;
let app: FastifyInstance;
let school = '';
let dir = '';
let ip = 10;

const q = async <T = Record<string, unknown>>(sql: string, params: unknown[] = []) => (await ctx.database.pool.query(sql, params)).rows as T[];

before(async () => {
  ctx = await testContext();
  app = await buildServer(ctx);
  [{ id: school }] = await q<{ id: string }>(`INSERT INTO structures (uai, name) VALUES ('0457001R', 'Collège des Renouveaux') RETURNING id`);
  dir = await createUser(ctx.database.pool, { login: 'direction.renouveaux', password: 'direction-renouveaux-26' });
  await q('INSERT INTO user_structures VALUES ($1, $2)', [dir, school]);
  await q('INSERT INTO local_admins VALUES ($1, $2)', [dir, school]);
});
after(async () => {
  await app?.close();
  await ctx?.close();
});

/** An activated parent of the school with an address, and the renewal code an administrator printed for them. */
async function parentWithSheet(login: string): Promise<{ id: string; code: string }> {
  const id = await createUser(ctx.database.pool, { login, profile: 'Relative', password: PASSWORD, email: `${login}@exemple.test` });
  await q('INSERT INTO user_structures VALUES ($1, $2)', [id, school]);
  const code = await generateRenewalCode(ctx, { kind: 'all' }, id, dir);
  return { id, code };
}

const hashOf = async (id: string) => (await q<{ password_hash: string }>('SELECT password_hash FROM users WHERE id = $1', [id]))[0].password_hash;

/** Whoever holds the sheet tries it: step 1 then step 2 of /renouvellement. */
async function useSheet(login: string, code: string): Promise<{ step1: number; step2: number | null }> {
  const c = new Client(app, `198.51.100.${ip++}`);
  await c.get('/renouvellement');
  const step1 = await c.post('/renouvellement', { step: 'code', login, code });
  if (step1.statusCode !== 200) return { step1: step1.statusCode, step2: null };
  const pw = 'phrase de celui qui a trouvé la fiche';
  const step2 = await c.post('/renouvellement', { step: 'password', login, code, password: pw, confirm: pw });
  return { step1: step1.statusCode, step2: step2.statusCode };
}

async function sheetRefused(id: string, login: string, code: string, who: string) {
  const before = await hashOf(id);
  const r = await useSheet(login, code);
  assert.equal(r.step1, 401, `${who}: the sheet's code is refused like a wrong one (${r.step1}, ${r.step2})`);
  assert.equal(await hashOf(id), before, `${who}: the password is the person's`);
  const [row] = await q<{ renewal_code_mac: string | null }>('SELECT renewal_code_mac FROM users WHERE id = $1', [id]);
  assert.equal(row.renewal_code_mac, null, `${who}: no renewal code is pending`);
}

test('a password changed in « Mon compte » voids the pending renewal code', async () => {
  const { id, code } = await parentWithSheet('lea.renouveaux');
  const self = await signedInClient(app, ctx.database.pool, id);
  await self.get('/mon-compte');
  const changed = await self.post('/mon-compte/mot-de-passe', { current: PASSWORD, password: 'nouvelle phrase choisie par Léa', confirm: 'nouvelle phrase choisie par Léa' });
  assert.equal(changed.statusCode, 303, `password changed: ${changed.statusCode}`);
  await sheetRefused(id, 'lea.renouveaux', code, 'Mon compte');
});

test('a password set with a reset link voids the pending renewal code', async () => {
  const { id, code } = await parentWithSheet('marc.renouveaux');
  const c = new Client(app, '192.0.2.150');
  await c.get('/mot-de-passe-oublie');
  assert.equal((await c.post('/mot-de-passe-oublie', { identifier: 'marc.renouveaux' })).statusCode, 200, 'reset asked');
  const [job] = await q<{ body_text: string }>(`SELECT body_text FROM mail_jobs WHERE kind = 'password_reset' AND user_id = $1`, [id]);
  assert.ok(job, 'a reset mail is queued');
  const token = /reinitialisation\?token=([A-Za-z0-9_-]{43})/.exec(ctx.secrets.decrypt(job.body_text))?.[1] ?? '';
  await c.get(`/reinitialisation?token=${token}`);
  const reset = await c.post('/reinitialisation', { token, password: 'nouvelle phrase choisie par Marc', confirm: 'nouvelle phrase choisie par Marc' });
  assert.equal(reset.statusCode, 303, `password reset: ${reset.statusCode}`);
  await sheetRefused(id, 'marc.renouveaux', code, 'reset link');
});

test('the renewal consumes its code and voids a reset link mailed before; a code printed after a change works', async () => {
  const { id, code } = await parentWithSheet('ines.renouveaux');
  const c = new Client(app, '192.0.2.151');
  await c.get('/mot-de-passe-oublie');
  await c.post('/mot-de-passe-oublie', { identifier: 'ines.renouveaux' });
  const [job] = await q<{ body_text: string }>(`SELECT body_text FROM mail_jobs WHERE kind = 'password_reset' AND user_id = $1`, [id]);
  assert.ok(job, 'a reset mail is queued');
  const token = /reinitialisation\?token=([A-Za-z0-9_-]{43})/.exec(ctx.secrets.decrypt(job.body_text))?.[1] ?? '';

  const used = await useSheet('ines.renouveaux', code);
  assert.deepEqual(used, { step1: 200, step2: 303 }, 'the sheet sets the password');
  assert.equal((await useSheet('ines.renouveaux', code)).step1, 401, 'the code is used once');
  const linked = new Client(app, '192.0.2.152');
  assert.equal((await linked.get(`/reinitialisation?token=${token}`)).statusCode, 400, 'the earlier reset link is void');

  // The rule is about codes pending at the change, not later ones: a sheet printed afterwards works.
  const fresh = await generateRenewalCode(ctx, { kind: 'all' }, id, dir);
  assert.deepEqual(await useSheet('ines.renouveaux', fresh), { step1: 200, step2: 303 }, 'a new sheet works');
});
