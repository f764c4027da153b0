// Finding: when a school switched a profile to « fournisseur externe seulement », the password was refused at the
// next sign-in, but whoever was already signed in with it kept going: a password session for its 8 hours, an ENT
// application's OpenID refresh tokens for up to 30 days. Saving such a setting now ends, in its transaction, the
// password sign-ins of exactly the accounts whose password it refuses (every school of the account says
// 'external'): web sessions opened with the password and the OpenID provider's tokens obtained with it. Sessions and
// tokens obtained through the identity provider stay (tokens said so since migration 0032: older ones are revoked);
// the settings page says how many sessions it closed.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import type { FastifyInstance } from 'fastify';
import { endSignIns } from '../../src/accounts/signins.js';
import { savePolicy } from '../../src/directory/policies.js';
import { parseFederation } from '../../src/federation/providers.js';
import { PROFILES } from '../../src/directory/vocabulary.js';
import { buildServer } from '../../src/web/server.js';
import { testContext } from '../helpers/db.js';
import { createUser, sessionFor, signedInClient, type Client } from '../helpers/web.js';

const PASSWORD = 'ancienne phrase de passe du parent';
let ctx: Awaited<ReturnType<typeof testContext>>;
let app: FastifyInstance;
let schoolA = '';
let schoolB = '';
let admin: Client;
const ids: Record<string, string> = {};

const q = async <T = Record<string, unknown>>(sql: string, params: unknown[] = []) => (await ctx.database.pool.query(sql, params)).rows as T[];

before(async () => {
  ctx = await testContext();
  // EduConnect serves the parents of school A (the settings refuse an external-only profile no enabled provider serves).
  ctx.config.federation = parseFederation({ providers: [{ id: 'educonnect', label: 'EduConnect', kind: 'oidc', issuer: 'https://educonnect.example.fr', clientId: 'x', match: ['externalId'] }] });
  app = await buildServer(ctx);
  [{ id: schoolA }] = await q<{ id: string }>(`INSERT INTO structures (uai, name) VALUES ('0457001A', 'Collège des Acacias') RETURNING id`);
  [{ id: schoolB }] = await q<{ id: string }>(`INSERT INTO structures (uai, name) VALUES ('0457002B', 'École des Bouleaux') RETURNING id`);
  ids.admin = await createUser(ctx.database.pool, { login: 'chef.acacias', password: PASSWORD });
  await q('INSERT INTO user_structures (user_id, structure_id) VALUES ($1, $2)', [ids.admin, schoolA]);
  await q('INSERT INTO local_admins (user_id, structure_id) VALUES ($1, $2)', [ids.admin, schoolA]);
  await q(`INSERT INTO federation_enabled (provider_id, structure_id, profile) VALUES ('educonnect', $1, 'Relative')`, [schoolA]);
  admin = await signedInClient(app, ctx.database.pool, ids.admin);
});
after(async () => {
  await app?.close();
  await ctx?.close();
});

/** An activated parent (password set) of one pupil in each of `schools`; the pupils are activated too. */
async function parent(login: string, schools: string[]): Promise<string> {
  const id = await createUser(ctx.database.pool, { login, profile: 'Relative', password: PASSWORD });
  for (const s of schools) {
    const child = await createUser(ctx.database.pool, { login: `${login}.enfant.${s.slice(0, 4)}`, profile: 'Student', password: PASSWORD });
    ids[`${login}.enfant.${s === schoolA ? 'A' : 'B'}`] = child;
    await q('INSERT INTO user_structures (user_id, structure_id) VALUES ($1, $2)', [child, s]);
    await q('INSERT INTO relations (parent_id, child_id) VALUES ($1, $2)', [id, child]);
  }
  return id;
}

/** A web session of `userId`, opened with the password (`provider` null) or through an identity provider. */
async function session(userId: string, provider: string | null = null): Promise<string> {
  const s = await sessionFor(ctx.database.pool, userId);
  if (provider) await q(`INSERT INTO federation_sessions (session_id_hash, provider_id) SELECT id_hash, $2 FROM sessions WHERE user_id = $1 ORDER BY expires_at DESC LIMIT 1`, [userId, provider]);
  return s.cookie;
}
/**
 * A refresh token of an ENT application, as Trousseau's OpenID provider stores it: obtained with the password, through
 * the identity provider, or written before migration 0032 recorded which (null).
 */
const refreshToken = (userId: string, id: string, signedInWith: 'password' | 'provider' | null = null) =>
  q(`INSERT INTO oidc_payloads (kind, id, payload, expires_at, signed_in_with) VALUES ('RefreshToken', $2, jsonb_build_object('accountId', $1::text, 'kind', 'RefreshToken'), now() + interval '30 days', $3)`, [userId, id, signedInWith]);
const tokens = async (userId: string) => (await q<{ n: number }>(`SELECT count(*)::int AS n FROM oidc_payloads WHERE payload->>'accountId' = $1`, [userId]))[0].n;
const token = async (id: string) => (await q('SELECT 1 FROM oidc_payloads WHERE id = $1', [id])).length === 1;
const alive = async (cookie: string) => (await app.inject({ method: 'GET', url: '/mon-compte', headers: { cookie } })).statusCode === 200;

/** The settings form of school A, every profile on codes but `external` (profile → provider). */
function settingsForm(external: Record<string, string>): Record<string, string> {
  const form: Record<string, string> = {};
  for (const p of PROFILES) {
    form[`${p}.signIn`] = external[p] ? 'external' : 'code';
    form[`${p}.provider`] = external[p] ?? '';
    form[`${p}.minPasswordLength`] = p === 'Student' ? '8' : '12';
  }
  return form;
}

test('parents switched to EduConnect only: their password sessions and tokens end, provider sessions and other accounts stay', async () => {
  ids.only = await parent('paul.acacias', [schoolA]);
  ids.linked = await parent('lea.acacias', [schoolA]);
  await q(`INSERT INTO federation_links (provider_id, subject, user_id, provider_name) VALUES ('educonnect', 'sub-lea', $1, 'EduConnect')`, [ids.linked]);
  ids.shared = await parent('sam.partage', [schoolA, schoolB]);
  ids.elsewhere = await parent('eva.bouleaux', [schoolB]);
  const c = {
    only1: await session(ids.only),
    only2: await session(ids.only),
    linkedPassword: await session(ids.linked),
    linkedProvider: await session(ids.linked, 'educonnect'),
    shared: await session(ids.shared),
    elsewhere: await session(ids.elsewhere),
    pupil: await session(ids['paul.acacias.enfant.A']),
  };
  for (const [k, id] of Object.entries({ only: ids.only, linked: ids.linked, shared: ids.shared, elsewhere: ids.elsewhere })) await refreshToken(id, `rt-${k}`);
  await refreshToken(ids.linked, 'rt-linked-password', 'password');
  await refreshToken(ids.linked, 'rt-linked-educonnect', 'provider');
  for (const [k, cookie] of Object.entries(c)) assert.ok(await alive(cookie), `${k}: signed in before the setting`);

  await admin.get(`/console/etablissements/${schoolA}/parametres`);
  const saved = await admin.post(`/console/etablissements/${schoolA}/parametres`, settingsForm({ Relative: 'EduConnect' }));
  assert.equal(saved.statusCode, 303, `saved: ${saved.body.slice(0, 300)}`);
  const shown = await admin.get(saved.headers.location as string);
  assert.match(shown.body, /Paramètres enregistrés\. 3 sessions fermées : ouvertes par mot de passe/, 'the page says how many sessions were closed');

  assert.ok(!(await alive(c.only1)) && !(await alive(c.only2)), 'both password sessions of the EduConnect-only parent ended');
  assert.equal(await tokens(ids.only), 0, 'its application tokens are revoked');
  assert.ok(!(await alive(c.linkedPassword)), 'the linked parent’s password session ended');
  assert.ok(await alive(c.linkedProvider), 'the linked parent’s EduConnect session stays');
  assert.ok(!(await token('rt-linked')), 'the linked parent’s token of unknown origin is revoked (older than migration 0032: taken as the password’s)');
  assert.ok(!(await token('rt-linked-password')), 'and the one obtained with the password');
  assert.ok(await token('rt-linked-educonnect'), 'the one obtained through EduConnect stays, as its session does');
  assert.ok(await alive(c.shared), 'a parent shared with a school that keeps passwords stays signed in');
  assert.equal(await tokens(ids.shared), 1, 'and keeps its tokens');
  assert.ok(await alive(c.elsewhere), 'a parent of another school only stays signed in');
  assert.equal(await tokens(ids.elsewhere), 1, 'and keeps its tokens');
  assert.ok(await alive(c.pupil), 'a pupil (another profile) stays signed in');
  const audit = await q<{ details: Record<string, unknown> }>(`SELECT details FROM audit WHERE action = 'settings.policy' AND details->>'profile' = 'Relative' ORDER BY at DESC LIMIT 1`);
  assert.equal(audit[0]?.details.sessionsEnded, 3, 'the audit row records the sessions ended');
});

test('saved again, or in English: nothing more to close, said as such; a profile on codes says nothing', async () => {
  const again = await admin.post(`/console/etablissements/${schoolA}/parametres?lang=en`, settingsForm({ Relative: 'EduConnect' }));
  assert.equal(again.statusCode, 303, 'saved again');
  const shown = await admin.get(`${again.headers.location as string}&lang=en`);
  assert.match(shown.body, /Settings saved\. No session opened with a password was left to end\./, 'English, and none this time');
  const fr = await admin.get(`/console/etablissements/${schoolA}/parametres?ok=1&fermees=1&lang=fr`);
  assert.match(fr.body, /1 session fermée : ouverte par mot de passe/, 'French singular');
  const codes = await admin.post(`/console/etablissements/${schoolA}/parametres`, settingsForm({}));
  assert.doesNotMatch(codes.headers.location as string, /fermees/, 'no profile on external: no count');
});

test('savePolicy itself ends them (the API other callers use), and endSignIns still ends one account', async () => {
  const pupil = ids['eva.bouleaux.enfant.B'];
  const cookie = await session(pupil);
  await refreshToken(pupil, 'rt-pupil');
  const ended = await savePolicy(ctx.database.pool, schoolB, 'Student', { signIn: 'external', provider: 'EduConnect', emailRequired: false, phoneRequired: false, minPasswordLength: 8, graceDays: 90, deletionDays: 90 }, null);
  assert.equal(ended, 1, 'the pupil’s live session');
  assert.ok(!(await alive(cookie)), 'its session ended');
  assert.equal(await tokens(pupil), 0, 'its tokens revoked');
  const admin2 = await session(ids.admin);
  assert.equal(await endSignIns(ctx.database.pool, ids.admin), 2, 'endSignIns by id is unchanged');
  assert.ok(!(await alive(admin2)), 'ended');
});
