// A provider identity linked to an account from the « aucun compte » page rests on what proved the account the
// person's: its password (or its letter's code). Whoever else knew that password — a former partner, a child, the
// person who read it over a shoulder — could link their own FranceConnect identity to the account; the owner then
// changing the password (or the school giving a renewal code, a reset link) ended every session and token, yet the
// link stayed and kept signing that other person in at every FranceConnect sign-in, the stored link coming before
// any other key (matching.ts). An account without an address was not even told. The password replaced, such links go;
// a link the provider's own answer matched (a first sign-in) stays.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, test } from 'node:test';
import type { FastifyInstance } from 'fastify';
import { loadCandidates } from '../../src/federation/accounts.js';
import { matchAccounts, type FederatedIdentity } from '../../src/federation/matching.js';
import { buildServer } from '../../src/web/server.js';
import { testContext } from '../helpers/db.js';
import { insertStructure, insertUser, relate } from '../helpers/directory-sample.js';
import { educonnectAndFranceConnect, pendingFederationAnswer } from '../helpers/federation-config.js';
import { Client, createUser } from '../helpers/web.js';

let ctx: Awaited<ReturnType<typeof testContext>>;
let app: FastifyInstance;
const PASSWORD = 'Un-Mot-De-Passe-2026';
const NEW_PASSWORD = 'une toute nouvelle phrase de passe';

before(async () => {
  ctx = await testContext();
  ctx.config.federation = educonnectAndFranceConnect();
  app = await buildServer(ctx);
});

after(async () => {
  await app?.close();
  await ctx?.close();
});

const q = async (sql: string, params: unknown[] = []) => (await ctx.database.pool.query(sql, params)).rows;

function identity(subject: string): FederatedIdentity {
  return { subject, externalIds: [], ine: null, email: null, emailVerified: false, familyName: 'Intrus', usageName: null, givenName: 'Eve', birthDate: '1980-02-02', uais: [], profile: null };
}

/** A parent with a password and no address, in a school where FranceConnect is enabled for parents. */
async function parent(): Promise<{ id: string; login: string }> {
  const pool = ctx.database.pool;
  const s = await insertStructure(pool, `Collège ${randomBytes(3).toString('hex')}`);
  const child = await insertUser(pool, { firstName: 'Léa', lastName: 'NOM', structureIds: [s] });
  const login = `p.${randomBytes(4).toString('hex')}`;
  const id = await createUser(pool, { login, profile: 'Relative', password: PASSWORD });
  await relate(pool, id, child);
  await pool.query(`INSERT INTO federation_enabled (provider_id, structure_id, profile) VALUES ('franceconnect', $1, 'Relative')`, [s]);
  return { id, login };
}

/** Someone who knows the password links their own FranceConnect identity from the « aucun compte » page. */
async function linkWithPassword(login: string, subject: string): Promise<void> {
  const { c, token } = await pendingFederationAnswer(app, ctx.database.pool, identity(subject), { ip: '198.51.100.66' });
  const res = await c.post('/federation/franceconnect/associer', { jeton: token, login, password: PASSWORD });
  assert.equal(res.statusCode, 303);
}

/** Whom the next FranceConnect sign-in of `subject` opens (as /federation/franceconnect/retour decides). */
async function signsInAs(subject: string): Promise<string[]> {
  const p = ctx.config.federation.get('franceconnect')!;
  const outcome = matchAccounts(identity(subject), p.match, await loadCandidates(ctx.database.pool, p, identity(subject)));
  return outcome.kind === 'match' ? outcome.accounts.map((a) => a.id) : [];
}

test('the owner changing the password in « Mon compte » undoes the link someone else made with the old one', async () => {
  const { id, login } = await parent();
  await linkWithPassword(login, 'fc-intruder');
  assert.deepEqual(await signsInAs('fc-intruder'), [id]);
  const owner = new Client(app);
  assert.equal((await owner.signIn(login, PASSWORD)).statusCode, 303);
  await owner.get('/mon-compte');
  const changed = await owner.post('/mon-compte/mot-de-passe', { current: PASSWORD, password: NEW_PASSWORD, confirm: NEW_PASSWORD });
  assert.equal(changed.statusCode, 303);
  // Said to the holder: her provider no longer signs her in, and how to link it again.
  assert.equal(changed.headers.location, '/mon-compte?ok=passwordUnlinked');
  const page = await owner.get(changed.headers.location as string);
  assert.match(page.body, /Votre mot de passe a été changé\. Les fournisseurs d’identité associés à votre compte avec l’ancien mot de passe ou le code du courrier en sont déliés/);
  assert.deepEqual(await signsInAs('fc-intruder'), [], 'the old password no longer opens the account through FranceConnect');
  assert.deepEqual(await q('SELECT subject FROM federation_links WHERE user_id = $1', [id]), []);
  const audit = await q("SELECT details FROM audit WHERE action = 'federation.unlink' AND actor_id = $1", [id]);
  assert.equal(audit.length, 1);
  assert.equal(audit[0].details.reason, 'password_replaced');
});

test('a link the provider’s own answer made (a first sign-in) stays when the password changes', async () => {
  const { id, login } = await parent();
  await q(`INSERT INTO federation_links (provider_id, subject, user_id, provider_name) VALUES ('franceconnect', 'fc-matched', $1, 'FranceConnect')`, [id]);
  const owner = new Client(app);
  assert.equal((await owner.signIn(login, PASSWORD)).statusCode, 303);
  await owner.get('/mon-compte');
  const changed = await owner.post('/mon-compte/mot-de-passe', { current: PASSWORD, password: NEW_PASSWORD, confirm: NEW_PASSWORD });
  assert.equal(changed.statusCode, 303);
  assert.equal(changed.headers.location, '/mon-compte?ok=password', 'nothing unlinked, nothing said of it');
  assert.deepEqual(await signsInAs('fc-matched'), [id]);
});
