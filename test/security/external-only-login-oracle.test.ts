// Finding: the sign-in page's refusal of an external-only account (409, « Ce compte se connecte seulement avec
// EduConnect… ») came for any password, so it told anyone, without a secret, which logins exist and which are
// external-only — where an unknown login and a wrong password get one answer (401), as the forgotten-password and
// code pages do. Now an external-only account gets the answer of an unknown login, whatever the password; the page
// says, for every refused sign-in while it shows a provider's button, to use that button.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import type { FastifyInstance } from 'fastify';
import { savePolicy } from '../../src/directory/policies.js';
import { parseFederation } from '../../src/federation/providers.js';
import { buildServer } from '../../src/web/server.js';
import { testContext } from '../helpers/db.js';
import { Client, createUser } from '../helpers/web.js';

const PASSWORD = 'ancienne phrase de passe du parent';
const CERT = 'MIIBszCCAVmgAwIBAgIUQ2VydGlmaWNhdGUgb2YgYSB0ZXN0IElkUDAKBggqhkjOPQQDAjAAMB4XDTI2MDEwMTAwMDAwMFoXDTM2MDEwMTAwMDAwMFow';
let ctx: Awaited<ReturnType<typeof testContext>>;
let app: FastifyInstance;
let ip = 10;

const q = async <T = Record<string, unknown>>(sql: string, params: unknown[] = []) => (await ctx.database.pool.query(sql, params)).rows as T[];

before(async () => {
  ctx = await testContext();
  ctx.config.federation = parseFederation({
    providers: [{ id: 'educonnect', label: 'EduConnect', kind: 'saml', entryPoint: 'https://educonnect.example.fr/sso', idpCert: CERT, match: ['externalId'] }],
  });
  app = await buildServer(ctx);
  const [{ id: school }] = await q<{ id: string }>(`INSERT INTO structures (uai, name) VALUES ('0457001A', 'Collège des Acacias') RETURNING id`);
  await q(`INSERT INTO federation_enabled (provider_id, structure_id, profile) VALUES ('educonnect', $1, 'Relative')`, [school]);
  await savePolicy(ctx.database.pool, school, 'Relative', {
    signIn: 'external', provider: 'EduConnect', emailRequired: false, phoneRequired: false, minPasswordLength: 12, graceDays: 90, deletionDays: 90,
  }, null);
  const parent = await createUser(ctx.database.pool, { login: 'paul.acacias', profile: 'Relative', password: PASSWORD });
  const child = await createUser(ctx.database.pool, { login: 'paul.acacias.enfant', profile: 'Student' });
  await q('INSERT INTO user_structures (user_id, structure_id) VALUES ($1, $2)', [child, school]);
  await q('INSERT INTO relations (parent_id, child_id) VALUES ($1, $2)', [parent, child]);
});
after(async () => {
  await app?.close();
  await ctx?.close();
});

/** The answer to a sign-in attempt from a fresh browser (and IP): status, the page's error text, a session or not. */
async function signIn(login: string, password: string) {
  const c = new Client(app, `198.51.100.${ip++}`);
  await c.get('/connexion');
  const res = await c.post('/connexion', { login, password });
  const said = /<div[^>]*role="alert"[^>]*>([\s\S]*?)<\/div>/.exec(res.body)?.[1] ?? '';
  const signedIn = (await c.get('/mon-compte')).statusCode === 200;
  return { status: res.statusCode, said, signedIn };
}

test('an external-only login is answered as an unknown one: no oracle on which logins exist', async () => {
  const unknown = await signIn('personne.inconnue', 'un mot de passe quelconque');
  const external = await signIn('paul.acacias', 'un mot de passe quelconque');
  const right = await signIn('paul.acacias', PASSWORD);
  assert.ok(unknown.said.length > 0, `the unknown login is refused with a message: ${unknown.status}`);
  assert.equal(external.status, unknown.status, `same status as an unknown login: ${external.status} vs ${unknown.status}`);
  assert.equal(external.said, unknown.said, `same message as an unknown login: « ${external.said} » vs « ${unknown.said} »`);
  assert.equal(right.status, unknown.status, 'the right password gets the same status: no oracle on the password either');
  assert.equal(right.said, unknown.said, 'the right password gets the same message');
  assert.equal(right.signedIn, false, 'still no session with the right password');
  assert.match(unknown.said, /bouton/, `the refusal points to the provider's button shown on the page: ${unknown.said}`);
  const [audit] = await q<{ n: number }>(`SELECT count(*)::int AS n FROM audit WHERE action = 'auth.login_failed' AND details->>'reason' = 'external'`);
  assert.equal(audit.n, 2, 'the audit log still says why the account was refused');
});
