// An administrator undoes an account's link to an identity provider (a parent who picked a namesake's account, a
// name and birth date shared by two people): the stored link otherwise handed the account to that person at every
// sign-in for good, with no way out of it but SQL.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import type { FastifyInstance } from 'fastify';
import { loadCandidates } from '../src/federation/accounts.js';
import { matchAccounts, type FederatedIdentity } from '../src/federation/matching.js';
import { buildServer } from '../src/web/server.js';
import { testContext } from './helpers/db.js';
import { educonnectAndFranceConnect } from './helpers/federation-config.js';
import { insertStructure, insertUser, relate } from './helpers/directory-sample.js';
import { sessionFor, signedInClient } from './helpers/web.js';

let ctx: Awaited<ReturnType<typeof testContext>>;
let app: FastifyInstance;
let s1: string;
let s2: string;
let localAdmin: string;
let otherAdmin: string;
let parent: string;

before(async () => {
  ctx = await testContext();
  ctx.config.federation = educonnectAndFranceConnect();
  app = await buildServer(ctx);
  const pool = ctx.database.pool;
  s1 = await insertStructure(pool, 'Collège Jean Moulin', '0750001A');
  s2 = await insertStructure(pool, 'Lycée Victor Hugo', '0750002B');
  localAdmin = await insertUser(pool, { firstName: 'Marc', lastName: 'BLANC', profile: 'Personnel', activated: true, structureIds: [s1], adminOf: [s1] });
  otherAdmin = await insertUser(pool, { firstName: 'Anne', lastName: 'NOIR', profile: 'Personnel', activated: true, structureIds: [s2], adminOf: [s2] });
  const child = await insertUser(pool, { firstName: 'Léo', lastName: 'MOREAU', structureIds: [s1] });
  parent = await insertUser(pool, { firstName: 'Claire', lastName: 'MOREAU', profile: 'Relative', birthDate: '1982-06-07', activated: true });
  await relate(pool, parent, child);
  await pool.query(`INSERT INTO federation_enabled (provider_id, structure_id, profile) VALUES ('franceconnect', $1, 'Relative')`, [s1]);
  // Linked at FranceConnect to someone else (the wrong Claire picked this account).
  await pool.query(`INSERT INTO federation_links (provider_id, subject, user_id, provider_name, last_login_at) VALUES ('franceconnect', 'fc-other-claire', $1, 'FranceConnect', now())`, [parent]);
});

after(async () => {
  await app?.close();
  await ctx?.close();
});

const who: FederatedIdentity = {
  subject: 'fc-other-claire', externalIds: [], ine: null, email: null, emailVerified: false, familyName: 'Durand', usageName: null,
  givenName: 'Claire', birthDate: '1990-01-01', uais: [], profile: null,
};

test('the user page lists the account’s provider links; « Délier » removes the link, closes its sessions, and the next sign-in is matched afresh', async () => {
  const pool = ctx.database.pool;
  const fc = ctx.config.federation.get('franceconnect')!;
  assert.equal(matchAccounts(who, fc.match, await loadCandidates(pool, fc, who)).kind, 'match', 'the link signs the other Claire in');
  const parentSession = await sessionFor(pool, parent);
  const admin = await signedInClient(app, pool, localAdmin);
  const page = await admin.get(`/console/utilisateurs/${parent}?etablissement=${s1}`);
  assert.equal(page.statusCode, 200);
  assert.match(page.body, /data-fed-link="franceconnect"/);
  assert.match(page.body, /FranceConnect : relié le/);
  const done = await admin.post(`/console/utilisateurs/${parent}/federation`, { providerId: 'franceconnect', etablissement: s1 });
  assert.equal(done.statusCode, 303, done.body);
  assert.match((await admin.get(done.headers.location as string)).body, /Lien avec le fournisseur d’identité supprimé/);
  assert.equal((await pool.query('SELECT count(*)::int AS n FROM federation_links WHERE user_id = $1', [parent])).rows[0].n, 0);
  assert.ok(parentSession.token);
  assert.equal((await pool.query('SELECT count(*)::int AS n FROM sessions WHERE user_id = $1', [parent])).rows[0].n, 0, 'the account’s sessions are closed');
  assert.equal((await pool.query(`SELECT count(*)::int AS n FROM audit WHERE action = 'federation.unlink' AND actor_id = $1`, [localAdmin])).rows[0].n, 1);
  assert.equal(matchAccounts(who, fc.match, await loadCandidates(pool, fc, who)).kind, 'none', 'matched afresh: not this account');
  assert.equal((await pool.query('SELECT federated FROM users WHERE id = $1', [parent])).rows[0].federated, false);
});

test('an administrator of another school may not unlink the account', async () => {
  const pool = ctx.database.pool;
  await pool.query(`INSERT INTO federation_links (provider_id, subject, user_id, provider_name) VALUES ('franceconnect', 'fc-claire', $1, 'FranceConnect')`, [parent]);
  const other = await signedInClient(app, pool, otherAdmin);
  const r = await other.post(`/console/utilisateurs/${parent}/federation`, { providerId: 'franceconnect' });
  assert.ok(r.statusCode === 404 || r.statusCode === 403, String(r.statusCode));
  assert.equal((await pool.query('SELECT count(*)::int AS n FROM federation_links WHERE user_id = $1', [parent])).rows[0].n, 1);
});
