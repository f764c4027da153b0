// Counts in sentences, over HTTP against the real server and Postgres: a count of 0 is said in words (« Aucun… »), not
// as « 0 session en cours a été fermée » or « 0 compte a une adresse » (French reads 0 as singular).
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import type { FastifyInstance } from 'fastify';
import { buildServer } from '../src/web/server.js';
import { testContext } from './helpers/db.js';
import { type Client, createInactiveUser, createUser, signedInClient } from './helpers/web.js';

let ctx: Awaited<ReturnType<typeof testContext>>;
let app: FastifyInstance;
let admin: Client;
let school = '';
let pupil = '';
const text = (html: string) => html.replace(/<[^>]+>/g, ' ').replace(/\s+/g, ' ');

before(async () => {
  ctx = await testContext();
  app = await buildServer(ctx);
  const pool = ctx.database.pool;
  school = (await pool.query(`INSERT INTO structures (name) VALUES ('École des Counts') RETURNING id`)).rows[0].id;
  // One account, without an e-mail address, and never signed in: no session to end.
  pupil = (await createInactiveUser(pool, ctx.secrets, { login: 'lou.sansmail', firstName: 'Lou', lastName: 'Sansmail', profile: 'Student' })).id;
  await pool.query('INSERT INTO user_structures (user_id, structure_id) VALUES ($1, $2)', [pupil, school]);
  admin = await signedInClient(app, pool, await createUser(pool, { login: 'root', superAdmin: true }));
});
after(async () => {
  await app.close();
  await ctx.close();
});

test('publipostage preview: no account with an address is « Aucun compte n’a d’adresse courriel », not « 0 compte a une adresse »', async () => {
  const res = await admin.get(`/console/etablissements/${school}/publipostage/apercu`);
  assert.equal(res.statusCode, 200, res.body);
  const t = text(res.body);
  assert.match(t, /Aucun compte n’a d’adresse courriel : aucun ne peut recevoir ses identifiants par courriel/, t);
  assert.doesNotMatch(t, /\b0 compte a une adresse/, t);
  // The button names stay glued to their guillemets (no-break spaces): no « (« » alone at a line's end.
  assert.match(res.body, /par courriel \(«\u00a0Envoyer par courriel\u00a0»\)/);
  assert.match(res.body, /à distribuer sur papier \(«\u00a0Générer en PDF\u00a0»\)/);
  const en = text((await admin.get(`/console/etablissements/${school}/publipostage/apercu`, { 'accept-language': 'en' })).body);
  assert.match(en, /No account has an email address/, en);
});

test('blocking an account without an open session says so, instead of « 0 session en cours a été fermée »', async () => {
  await admin.get(`/console/utilisateurs/${pupil}/bloquer?etablissement=${school}`);
  const res = await admin.post(`/console/utilisateurs/${pupil}/bloquer`, { etablissement: school });
  assert.equal(res.statusCode, 303, res.body);
  const t = text((await admin.get(res.headers.location as string)).body);
  assert.match(t, /Compte bloqué\. Aucune session n’était ouverte ; ses codes en cours sont annulés\./, t);
  assert.doesNotMatch(t, /\b0 session/, t);
});
