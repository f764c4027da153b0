// The « aucun compte » page's « Activer mon compte » carries the pending provider answer into the activation form,
// and whatever account is activated with that form is linked to the answer's identity. On a shared computer (a CDI,
// a school's hall) the page is left open by whoever got the answer — on purpose or not — and the next person, who
// comes to activate her own account with her letter, types her login and code there: her account was tied to the
// first person's FranceConnect identity, who from then on signed in as her with FranceConnect. The identity and
// the account then name two different people: the link is refused when the provider's names are not the account's
// (compared as the name + birth date matching does); the account stays activated, and its owner, if the identity is
// hers, links it with her new password from the « aucun compte » page.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, test } from 'node:test';
import type { FastifyInstance } from 'fastify';
import type { FederatedIdentity } from '../../src/federation/matching.js';
import { buildServer } from '../../src/web/server.js';
import { testContext } from '../helpers/db.js';
import { insertStructure, insertUser, relate } from '../helpers/directory-sample.js';
import { educonnectAndFranceConnect, pendingFederationAnswer } from '../helpers/federation-config.js';
import { type Client, createInactiveUser } from '../helpers/web.js';

let ctx: Awaited<ReturnType<typeof testContext>>;
let app: FastifyInstance;

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

function identity(subject: string, familyName: string, givenName: string): FederatedIdentity {
  return { subject, externalIds: [], ine: null, email: null, emailVerified: false, familyName, usageName: null, givenName, birthDate: '1979-03-04', uais: [], profile: null };
}

/** The browser left with a pending FranceConnect answer of `who`, open on « Activer mon compte ». */
async function leftOpen(who: FederatedIdentity): Promise<{ c: Client; token: string }> {
  const { c, token } = await pendingFederationAnswer(app, ctx.database.pool, who);
  await c.get(`/activation?fournisseur=franceconnect&jeton=${token}`);
  return { c, token };
}

/** A parent (her names as the school knows them) with her letter's code, FranceConnect enabled for parents. */
async function parentWithLetter(firstName: string, lastName: string): Promise<{ id: string; login: string; code: string }> {
  const pool = ctx.database.pool;
  const s = await insertStructure(pool, `École ${randomBytes(3).toString('hex')}`);
  await pool.query(`INSERT INTO federation_enabled (provider_id, structure_id, profile) VALUES ('franceconnect', $1, 'Relative')`, [s]);
  const child = await insertUser(pool, { firstName: 'Inès', lastName, structureIds: [s] });
  const login = `${firstName}.${lastName}.${randomBytes(2).toString('hex')}`.toLowerCase();
  const a = await createInactiveUser(pool, ctx.secrets, { login, profile: 'Relative', firstName, lastName });
  await relate(pool, a.id, child);
  return { id: a.id, login, code: a.code };
}

async function activateThere(c: Client, token: string, login: string, code: string) {
  const extra = { fournisseur: 'franceconnect', jeton: token };
  assert.equal((await c.post('/activation', { login, code, step: 'code', ...extra })).statusCode, 200);
  const done = await c.post('/activation', {
    login, code, step: 'password', password: 'Sa-Phrase-De-Passe-2026', confirm: 'Sa-Phrase-De-Passe-2026', email: '', phone: '', terms: 'on', ...extra,
  });
  assert.equal(done.statusCode, 303);
  return c.get(done.headers.location as string);
}

test('the next person activating her own account on the page left open is not linked to the previous person’s identity', async () => {
  const { c, token } = await leftOpen(identity('fc-eve', 'Intrus', 'Eve'));
  const sofia = await parentWithLetter('Sofia', 'Benali');
  const res = await activateThere(c, token, sofia.login, sofia.code);
  assert.equal(res.statusCode, 403);
  assert.deepEqual(await q('SELECT subject FROM federation_links WHERE user_id = $1', [sofia.id]), []);
  assert.notEqual((await q('SELECT activated_at FROM users WHERE id = $1', [sofia.id]))[0].activated_at, null, 'activated all the same');
  assert.equal((await q("SELECT count(*)::int AS n FROM audit WHERE action = 'federation.link_refused' AND actor_id = $1", [sofia.id]))[0].n, 1);
});

test('the same person (FranceConnect’s given names and usage name beside the school’s spelling) is linked', async () => {
  const who: FederatedIdentity = { ...identity('fc-sofia', 'Martin', 'Sofia Amel'), usageName: 'Benali' };
  const { c, token } = await leftOpen(who);
  const sofia = await parentWithLetter('Sofia', 'BENALI');
  const res = await activateThere(c, token, sofia.login, sofia.code);
  assert.equal(res.statusCode, 303);
  assert.equal(res.headers.location, '/mon-compte?ok=activated');
  assert.deepEqual(await q('SELECT subject FROM federation_links WHERE user_id = $1', [sofia.id]), [{ subject: 'fc-sofia' }]);
});

test('an identity without names proves nobody’s: not linked by an activation either', async () => {
  const { c, token } = await leftOpen({ ...identity('fc-nameless', '', ''), familyName: null, givenName: null });
  const sofia = await parentWithLetter('Sofia', 'Haddad');
  const res = await activateThere(c, token, sofia.login, sofia.code);
  assert.equal(res.statusCode, 403);
  assert.deepEqual(await q('SELECT subject FROM federation_links WHERE user_id = $1', [sofia.id]), []);
});
