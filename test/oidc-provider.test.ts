// Trousseau as the ENT's OpenID provider (issue #12), end to end: a test "ENT application" (a tiny HTTP server on
// loopback, using the real OIDC client library openid-client) signs a pupil in through Trousseau in real Chromium,
// with PKCE, reads the claims from the ID token and userinfo, refreshes; blocked and external-only accounts get no
// token; a third-party application shows the consent page; applications are registered from the console.
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import { createRequire } from 'node:module';
import type { AddressInfo } from 'node:net';
import { after, before, describe, test } from 'node:test';
import * as oidc from 'openid-client';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { accountClaims } from '../src/oidc/claims.js';
import { registerClient } from '../src/oidc/clients.js';
import { loadSigningKeys, rotateSigningKey } from '../src/oidc/keys.js';
import { purgeExpired } from '../src/accounts/housekeeping.js';
import { setBlocked } from '../src/directory/users.js';
import { changePassword } from '../src/accounts/profile.js';
import { frenchContext, launchBrowser, startApp } from './helpers/browser.js';
import { testContext } from './helpers/db.js';
import { Client, createUser } from './helpers/web.js';
import { buildServer } from '../src/web/server.js';

let ctx: Awaited<ReturnType<typeof testContext>>;
let trousseau: { url: string; close(): Promise<void> };
let browser: Browser;
let adminId: string;
let pupilId: string;
const PASSWORD = 'correct horse battery staple';

/** What the ENT application learnt from one sign-in (or the error it was sent back with). */
interface Outcome {
  error?: string;
  tokens?: oidc.TokenEndpointResponse & oidc.TokenEndpointResponseHelpers;
  idClaims?: oidc.IDToken;
  userinfo?: oidc.UserInfoResponse;
}

/**
 * A tiny ENT application: /login starts an authorization code flow with PKCE (S256), state and nonce; /callback
 * exchanges the code with the client secret (HTTP Basic), checks the ID token and reads userinfo.
 */
class EntApp {
  server!: Server;
  url = '';
  config!: oidc.Configuration;
  outcomes: Outcome[] = [];
  private pending = new Map<string, { verifier: string; nonce: string }>();

  clientId = '';
  secret = '';

  constructor(readonly scope = 'openid profile ent') {}

  async start(): Promise<void> {
    this.server = createServer((req, res) => {
      this.handle(req.url ?? '/').then(
        ({ status, location, body }) => {
          res.writeHead(status, { 'content-type': 'text/html; charset=utf-8', ...(location ? { location } : {}) });
          res.end(body);
        },
        (e: Error) => {
          res.writeHead(500, { 'content-type': 'text/plain' });
          res.end(e.message);
        },
      );
    });
    await new Promise<void>((ok) => this.server.listen(0, '127.0.0.1', ok));
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  /** Discovery once Trousseau listens (the issuer is its public URL + /oidc); http allowed: loopback test. */
  async discover(): Promise<void> {
    this.config = await oidc.discovery(new URL(`${trousseau.url}/oidc`), this.clientId, undefined, oidc.ClientSecretBasic(this.secret), {
      execute: [oidc.allowInsecureRequests],
    });
  }

  private async handle(path: string): Promise<{ status: number; location?: string; body: string }> {
    const u = new URL(path, this.url);
    if (u.pathname === '/login') {
      const verifier = oidc.randomPKCECodeVerifier();
      const state = oidc.randomState();
      const nonce = oidc.randomNonce();
      this.pending.set(state, { verifier, nonce });
      const to = oidc.buildAuthorizationUrl(this.config, {
        redirect_uri: `${this.url}/callback`, scope: u.searchParams.get('scope') ?? this.scope, state, nonce,
        code_challenge: await oidc.calculatePKCECodeChallenge(verifier), code_challenge_method: 'S256',
        // Re-authentication asked by the application (OpenID Connect Core § 3.1.2.1).
        ...Object.fromEntries(['prompt', 'max_age'].flatMap((k) => (u.searchParams.has(k) ? [[k, u.searchParams.get(k)!]] : []))),
      });
      return { status: 302, location: to.href, body: '' };
    }
    if (u.pathname === '/callback') {
      const state = u.searchParams.get('state') ?? '';
      const checks = this.pending.get(state);
      if (u.searchParams.get('error') || !checks) {
        this.outcomes.push({ error: u.searchParams.get('error') ?? 'unknown state' });
        return { status: 200, body: `<h1>Refus : ${u.searchParams.get('error')}</h1>` };
      }
      const tokens = await oidc.authorizationCodeGrant(this.config, u, { pkceCodeVerifier: checks.verifier, expectedState: state, expectedNonce: checks.nonce });
      const idClaims = tokens.claims();
      assert.ok(idClaims);
      const userinfo = await oidc.fetchUserInfo(this.config, tokens.access_token, idClaims.sub);
      this.outcomes.push({ tokens, idClaims, userinfo });
      return { status: 200, body: `<h1>Bonjour ${String(userinfo.given_name)}</h1>` };
    }
    return { status: 404, body: 'not found' };
  }

  close(): Promise<void> {
    return new Promise((ok) => this.server.close(() => ok()));
  }
}

let structureId: string;

before(async () => {
  ctx = await testContext();
  trousseau = await startApp(ctx);
  browser = await launchBrowser();
  const pool = ctx.database.pool;
  adminId = await createUser(pool, { login: 'admin', password: PASSWORD, superAdmin: true });
  structureId = (await pool.query(`INSERT INTO structures (uai, name) VALUES ('0750001A', 'Collège Victor Hugo') RETURNING id`)).rows[0].id;
  const cls = (await pool.query(`INSERT INTO classes (structure_id, name) VALUES ($1, '6A') RETURNING id`, [structureId])).rows[0].id;
  pupilId = await createUser(pool, { login: 'lea.dupont', firstName: 'Léa', lastName: 'Dupont', profile: 'Student', password: PASSWORD, email: 'lea@example.org' });
  await pool.query('INSERT INTO user_structures (user_id, structure_id) VALUES ($1, $2)', [pupilId, structureId]);
  await pool.query('INSERT INTO user_classes (user_id, class_id) VALUES ($1, $2)', [pupilId, cls]);
});

after(async () => {
  await browser?.close();
  await trousseau?.close();
  await ctx?.close();
});

/** A registered application with its tiny server started and the provider discovered. */
async function entApp(name: string, firstParty: boolean, scope?: string): Promise<EntApp> {
  const app = new EntApp(scope);
  await app.start();
  const reg = await registerClient(ctx.database.pool, ctx.secrets, {
    name, redirectUris: [`${app.url}/callback`], scopes: ['profile', 'ent', 'email'], firstParty,
  }, adminId);
  app.clientId = reg.clientId;
  app.secret = reg.secret;
  await app.discover();
  return app;
}

/** axe-core's WCAG A/AA violations on the page (its context must bypass CSP: axe is injected inline). */
async function axeViolations(page: Page): Promise<string[]> {
  await page.addScriptTag({ path: createRequire(import.meta.url).resolve('axe-core/axe.min.js') });
  const r = (await page.evaluate(() => (globalThis as unknown as { axe: { run(c: unknown, o: unknown): Promise<unknown> } }).axe.run(document, {
    runOnly: { type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'wcag22aa'] },
  }))) as { violations: Array<{ id: string; nodes: Array<{ target: string[] }> }> };
  return r.violations.map((v) => `${v.id}: ${v.nodes.map((n) => n.target.join(' ')).join(', ')}`);
}

/** Signs in on Trousseau's own sign-in page (the browser was sent there by the authorization request). */
async function trousseauSignIn(page: import('playwright-core').Page, login: string): Promise<void> {
  await page.waitForURL(/\/connexion\?next=%2Foidc%2Finteraction%2F/);
  await page.fill('#f-login', login);
  await page.fill('#f-password', PASSWORD);
  await page.click('main form[action="/connexion"] button[type="submit"]');
}

describe('Trousseau as the OpenID provider', () => {
  let ent: EntApp;
  let context: BrowserContext;

  before(async () => {
    ent = await entApp('Cahier de textes', true);
    context = await frenchContext(browser);
  });
  after(async () => {
    await context?.close();
    await ent?.close();
  });

  test('the discovery document names the issuer, PKCE S256, the ENT scopes and claims; one signing key, stored encrypted', async () => {
    const res = await fetch(`${trousseau.url}/oidc/.well-known/openid-configuration`);
    assert.equal(res.status, 200);
    const doc = (await res.json()) as Record<string, unknown>;
    assert.equal(doc.issuer, `${trousseau.url}/oidc`);
    assert.equal(doc.authorization_endpoint, `${trousseau.url}/oidc/auth`);
    assert.deepEqual(doc.code_challenge_methods_supported, ['S256']);
    // Only what registered applications may do: the code flow, a client secret (no implicit, no public clients).
    assert.deepEqual(doc.response_types_supported, ['code']);
    assert.deepEqual(doc.token_endpoint_auth_methods_supported, ['client_secret_basic', 'client_secret_post']);
    for (const s of ['openid', 'profile', 'email', 'ent', 'offline_access']) assert.ok((doc.scopes_supported as string[]).includes(s), s);
    for (const c of ['login', 'ent_profile', 'structures', 'classes']) assert.ok((doc.claims_supported as string[]).includes(c), c);
    const jwks = (await (await fetch(doc.jwks_uri as string)).json()) as { keys: Array<Record<string, unknown>> };
    const keys = (await ctx.database.pool.query('SELECT kid, jwk_enc FROM oidc_keys')).rows;
    assert.equal(keys.length, 1);
    assert.deepEqual(jwks.keys.map((k) => k.kid), [keys[0].kid]);
    assert.equal(jwks.keys[0].d, undefined, 'only the public part is published');
    assert.doesNotMatch(keys[0].jwk_enc, /"d"|"kty"/, 'the private key is encrypted at rest');
  });

  test('a pupil signs in to the ENT application through Trousseau (PKCE), which reads the claims and refreshes', async () => {
    const page = await context.newPage();
    await page.goto(`${ent.url}/login`);
    await trousseauSignIn(page, 'lea.dupont');
    await page.waitForURL(`${ent.url}/callback?**`);
    assert.equal(await page.textContent('h1'), 'Bonjour Léa');
    // A first-party application asks no consent: the flow went on without the consent page (it would wait there).
    assert.equal(await ctx.database.pool.query(`SELECT 1 FROM audit WHERE action = 'oidc.consent'`).then((r) => r.rowCount), 0);

    const { tokens, idClaims, userinfo } = ent.outcomes.at(-1) ?? {};
    assert.ok(tokens && idClaims && userinfo);
    const expected = {
      sub: pupilId, login: 'lea.dupont', preferred_username: 'lea.dupont', given_name: 'Léa', family_name: 'Dupont', name: 'Léa Dupont',
      ent_profile: 'Student', structures: [{ uai: '0750001A', name: 'Collège Victor Hugo' }], classes: [{ name: '6A', uai: '0750001A' }],
    };
    for (const [k, v] of Object.entries(expected)) {
      assert.deepEqual(idClaims[k], v, `ID token ${k}`);
      assert.deepEqual(userinfo[k], v, `userinfo ${k}`);
    }
    assert.equal(idClaims.iss, `${trousseau.url}/oidc`);
    assert.equal(userinfo.email, undefined, 'an address nobody verified is not released');

    // The code was bound to the PKCE challenge, and the grant lives in PostgreSQL.
    const kinds = (await ctx.database.pool.query('SELECT DISTINCT kind FROM oidc_payloads ORDER BY kind')).rows.map((r) => r.kind);
    for (const k of ['AuthorizationCode', 'Grant', 'RefreshToken', 'Session']) assert.ok(kinds.includes(k), k);
    const code = (await ctx.database.pool.query(`SELECT payload, consumed FROM oidc_payloads WHERE kind = 'AuthorizationCode'`)).rows[0];
    assert.equal(code.payload.codeChallengeMethod, 'S256');
    assert.ok(code.consumed, 'the code was used once');

    assert.ok(tokens.refresh_token, 'a refresh token is issued');
    const refreshed = await oidc.refreshTokenGrant(ent.config, tokens.refresh_token);
    assert.ok(refreshed.access_token && refreshed.access_token !== tokens.access_token);
    const again = await oidc.fetchUserInfo(ent.config, refreshed.access_token, pupilId);
    assert.equal(again.login, 'lea.dupont');
    await page.close();
  });

  test('an authorization request without PKCE is refused', async () => {
    const u = new URL(`${trousseau.url}/oidc/auth`);
    u.search = new URLSearchParams({ client_id: ent.clientId, response_type: 'code', scope: 'openid', redirect_uri: `${ent.url}/callback`, state: 'x' }).toString();
    const res = await fetch(u, { redirect: 'manual' });
    const back = new URL(res.headers.get('location') ?? '');
    assert.equal(back.origin + back.pathname, `${ent.url}/callback`);
    assert.equal(back.searchParams.get('error'), 'invalid_request');
    assert.match(back.searchParams.get('error_description') ?? '', /PKCE/);
  });

  test('sessions are shared: signed in to Trousseau, no second sign-in; signed out of Trousseau, asked again', async () => {
    const page = await context.newPage();
    const visited: string[] = [];
    page.on('framenavigated', (f) => { if (f === page.mainFrame()) visited.push(f.url()); });
    // One more scope than granted so far: a first-party application still asks no consent (it would wait there).
    await page.goto(`${ent.url}/login?scope=${encodeURIComponent('openid profile ent email')}`);
    await page.waitForURL(`${ent.url}/callback?**`);
    assert.ok(!visited.some((u) => u.includes('/connexion')), `no sign-in page: ${visited.join(' ')}`);
    assert.ok(visited.some((u) => u.includes('/oidc/interaction/')), 'the consent prompt was answered for the user');

    // Sign out of Trousseau (its header button): the provider's own session no longer counts.
    await page.goto(`${trousseau.url}/mon-compte`);
    await Promise.all([page.waitForURL(/\/connexion/), page.click('form[action="/deconnexion"] button')]);
    await page.goto(`${ent.url}/login`);
    await trousseauSignIn(page, 'lea.dupont');
    await page.waitForURL(`${ent.url}/callback?**`);
    assert.equal(ent.outcomes.at(-1)?.idClaims?.sub, pupilId);
    await page.close();
  });

  test('prompt=login and an expired max_age ask for a new sign-in even with a session open; auth_time is the sign-in’s', async () => {
    const pool = ctx.database.pool;
    const page = await context.newPage();
    // Signed in (earlier tests or now), a session opened ten minutes ago on the classroom's computer.
    await page.goto(`${ent.url}/login`);
    if (page.url().includes('/connexion')) await trousseauSignIn(page, 'lea.dupont');
    await page.waitForURL(`${ent.url}/callback?**`);
    await pool.query(`UPDATE sessions SET created_at = now() - interval '10 minutes' WHERE user_id = $1`, [pupilId]);
    const tenMinutesAgo = Math.floor(Date.now() / 1000) - 600;

    // Within max_age: no sign-in page, and auth_time is the session's opening, not now.
    await page.goto(`${ent.url}/login?max_age=3600`);
    await page.waitForURL(`${ent.url}/callback?**`);
    const kept = ent.outcomes.at(-1)?.idClaims?.auth_time ?? 0;
    assert.ok(Math.abs(kept - tenMinutesAgo) <= 2, `auth_time ${kept}, session opened at ${tenMinutesAgo}`);

    for (const ask of ['prompt=login', 'max_age=60']) {
      await pool.query(`UPDATE sessions SET created_at = now() - interval '10 minutes' WHERE user_id = $1`, [pupilId]);
      const before = Math.floor(Date.now() / 1000);
      await page.goto(`${ent.url}/login?${ask}`);
      await page.waitForURL(/\/connexion\?next=%2Foidc%2Finteraction%2F.*reauth=1/);
      // The form, not a redirect: the login filled in, the reason said.
      assert.equal(await page.inputValue('#f-login'), 'lea.dupont', ask);
      assert.match(await page.textContent('main') ?? '', /demande que vous vous identifiiez de nouveau/, ask);
      await page.fill('#f-password', PASSWORD);
      await page.click('main form[action="/connexion"] button[type="submit"]');
      await page.waitForURL(`${ent.url}/callback?**`);
      const fresh = ent.outcomes.at(-1)!;
      assert.equal(fresh.idClaims?.sub, pupilId, ask);
      assert.ok((fresh.idClaims?.auth_time ?? 0) >= before, `${ask}: auth_time ${fresh.idClaims?.auth_time} ≥ ${before}`);
    }
    // The old session was replaced by the new sign-in.
    const open = await pool.query(`SELECT count(*)::int AS n FROM sessions WHERE user_id = $1 AND created_at < now() - interval '5 minutes'`, [pupilId]);
    assert.equal(open.rows[0].n, 0);
    await page.close();
  });

  test('a blocked account gets no token: its refresh token and access token stop working', async () => {
    const { tokens } = ent.outcomes.at(-1) ?? {};
    assert.ok(tokens?.refresh_token);
    await setBlocked(ctx, { kind: 'all' }, pupilId, true, adminId);
    try {
      await assert.rejects(oidc.refreshTokenGrant(ent.config, tokens.refresh_token), (e: Error & { error?: string }) => e.error === 'invalid_grant');
      await assert.rejects(oidc.fetchUserInfo(ent.config, tokens.access_token, pupilId));
    } finally {
      await setBlocked(ctx, { kind: 'all' }, pupilId, false, adminId);
    }
  });

  test('a new password ends the applications\' access too: refresh and access tokens stop working, the next visit signs in again', async () => {
    // A fresh sign-in (blocking just ended the earlier one's tokens).
    const page = await context.newPage();
    await page.goto(`${ent.url}/login`);
    if (!page.url().startsWith(ent.url)) await trousseauSignIn(page, 'lea.dupont');
    await page.waitForURL(`${ent.url}/callback?**`);
    const { tokens } = ent.outcomes.at(-1) ?? {};
    assert.ok(tokens?.refresh_token && tokens.access_token);
    assert.equal((await oidc.fetchUserInfo(ent.config, tokens.access_token, pupilId)).sub, pupilId, 'valid before');
    // « Mon compte »: the password changed by its owner (whoever had the old one keeps nothing).
    assert.equal(await changePassword(ctx, pupilId, PASSWORD, 'une toute autre phrase', null), true);
    try {
      await assert.rejects(oidc.refreshTokenGrant(ent.config, tokens.refresh_token), (e: Error & { error?: string }) => e.error === 'invalid_grant');
      await assert.rejects(oidc.fetchUserInfo(ent.config, tokens.access_token, pupilId));
      const held = await ctx.database.pool.query(`SELECT kind FROM oidc_payloads WHERE payload->>'accountId' = $1`, [pupilId]);
      assert.deepEqual(held.rows, [], 'nothing the provider held for the account is left');
    } finally {
      assert.equal(await changePassword(ctx, pupilId, 'une toute autre phrase', PASSWORD, null), true);
    }
    await page.close();
  });

  test('an account that signs in only with an external provider gets no code', async () => {
    const pool = ctx.database.pool;
    const parentId = await createUser(pool, { login: 'marc.dupont', firstName: 'Marc', lastName: 'Dupont', profile: 'Relative', password: PASSWORD });
    await pool.query('INSERT INTO relations (parent_id, child_id) VALUES ($1, $2)', [parentId, pupilId]);
    await pool.query(
      `INSERT INTO profile_policies (structure_id, profile, sign_in, provider, min_password_length) VALUES ($1, 'Relative', 'external', 'EduConnect', 12)`,
      [structureId],
    );
    const fresh = await frenchContext(browser);
    const page = await fresh.newPage();
    const before = ent.outcomes.length;
    await page.goto(`${ent.url}/login`);
    // Its password opens no Trousseau session (security/external-only-password.test.ts), answered as an unknown login
    // (nothing tells a guesser the account exists; no provider button on this page to point to).
    await trousseauSignIn(page, 'marc.dupont');
    await page.waitForSelector('[role="alert"]');
    assert.match(await page.textContent('[role="alert"]') ?? '', /Identifiant ou mot de passe incorrect/, 'the answer of an unknown login');
    assert.match(page.url(), /\/connexion$/, 'still on the sign-in page');
    assert.deepEqual(ent.outcomes.slice(before), [], 'the application gets nothing');
    await fresh.close();

    // The pupil, signed in to Trousseau and to the provider already (blocking ended its Trousseau session: signed in
    // again), once its profile turns external-only.
    const pupilPage = await context.newPage();
    await pupilPage.goto(`${ent.url}/login`);
    await trousseauSignIn(pupilPage, 'lea.dupont');
    await pupilPage.waitForURL(`${ent.url}/callback?**`);
    await pool.query(
      `INSERT INTO profile_policies (structure_id, profile, sign_in, provider, min_password_length) VALUES ($1, 'Student', 'external', 'EduConnect', 8)`,
      [structureId],
    );
    try {
      const n = ent.outcomes.length;
      await pupilPage.goto(`${ent.url}/login`);
      await pupilPage.waitForURL(`${ent.url}/callback?**`);
      assert.deepEqual(ent.outcomes.slice(n), [{ error: 'access_denied' }]);
      const audit = await pool.query(`SELECT details FROM audit WHERE action = 'oidc.refused' AND actor_id = $1 ORDER BY id DESC LIMIT 1`, [pupilId]);
      assert.equal(audit.rows[0]?.details.reason, 'external', 'the refusal is audited as external-only');
      // Linked to that provider (a first sign-in through EduConnect, src/federation/), it signs in there as sign-in
      // allows — not with the password of the session still open in this browser (opened before the setting): no code.
      await pool.query(
        `INSERT INTO federation_links (provider_id, subject, user_id, provider_name) VALUES ('educonnect', 'sub-lea', $1, 'EduConnect')`,
        [pupilId],
      );
      const l = ent.outcomes.length;
      await pupilPage.goto(`${ent.url}/login`);
      await pupilPage.waitForURL(`${ent.url}/callback?**`);
      assert.deepEqual(ent.outcomes.slice(l), [{ error: 'access_denied' }], 'linked, but signed in by password: no code');
      // A Trousseau session opened through EduConnect (what src/federation/accounts.ts saveProviderSession records):
      // its applications get a code again, their tokens said obtained through the provider (migration 0032).
      await pool.query(`INSERT INTO federation_sessions (session_id_hash, provider_id) SELECT id_hash, 'educonnect' FROM sessions WHERE user_id = $1`, [pupilId]);
      const m = ent.outcomes.length;
      await pupilPage.goto(`${ent.url}/login`);
      await pupilPage.waitForURL(`${ent.url}/callback?**`);
      assert.equal(ent.outcomes.slice(m)[0]?.idClaims?.sub, pupilId, `a code through EduConnect: ${JSON.stringify(ent.outcomes.slice(m))}`);
      const rt = await pool.query(`SELECT signed_in_with FROM oidc_payloads WHERE kind = 'RefreshToken' AND payload->>'accountId' = $1 ORDER BY expires_at DESC LIMIT 1`, [pupilId]);
      assert.equal(rt.rows[0]?.signed_in_with, 'provider', 'its refresh token says it was obtained through the provider');
      await pupilPage.close();
    } finally {
      await pool.query(`DELETE FROM federation_links WHERE user_id = $1`, [pupilId]);
      await pool.query(`DELETE FROM profile_policies WHERE profile = 'Student'`);
    }
  });
});

test('a third-party application shows the consent page (what it will receive), then gets the claims', async () => {
  const thirdParty = await entApp('Dictionnaire en ligne', false, 'openid profile');
  const fresh = await browser.newContext({ locale: 'fr-FR', bypassCSP: true });
  try {
    const page = await fresh.newPage();
    await page.goto(`${thirdParty.url}/login`);
    await trousseauSignIn(page, 'lea.dupont');
    // Denied first: the application is told so, and gets nothing.
    await page.waitForURL(/\/oidc\/interaction\/[^/]+$/);
    await page.click('button:text("Refuser")');
    await page.waitForURL(`${thirdParty.url}/callback?**`);
    assert.deepEqual([...thirdParty.outcomes], [{ error: 'access_denied' }]);
    // Asked again at the next attempt (nothing was granted), without signing in again.
    await page.goto(`${thirdParty.url}/login`);
    await page.waitForURL(/\/oidc\/interaction\/[^/]+$/);
    assert.equal(await page.textContent('h1'), 'Autoriser Dictionnaire en ligne ?');
    assert.deepEqual(await page.locator('[data-scope]').evaluateAll((els) => els.map((e) => e.getAttribute('data-scope'))), ['openid', 'profile']);
    assert.deepEqual(await axeViolations(page), []);
    await page.click('button:text("Autoriser")');
    await page.waitForURL(`${thirdParty.url}/callback?**`);
    const last = thirdParty.outcomes.at(-1);
    assert.equal(last?.idClaims?.login, 'lea.dupont');
    assert.equal(last?.userinfo?.ent_profile, undefined, 'only the scopes asked for');
    const consent = await ctx.database.pool.query(`SELECT details FROM audit WHERE action = 'oidc.consent' AND actor_id = $1`, [pupilId]);
    assert.equal(consent.rows[0]?.details.clientId, thirdParty.clientId);
  } finally {
    await fresh.close();
    await thirdParty.close();
  }
});

test('key rotation: a newer key signs, the older stays published until retired; expired provider rows are purged', async () => {
  const pool = ctx.database.pool;
  const [first] = await loadSigningKeys(pool, ctx.secrets);
  const kid = await rotateSigningKey(pool, ctx.secrets);
  assert.deepEqual((await loadSigningKeys(pool, ctx.secrets)).map((k) => k.kid), [kid, first.kid]);
  await pool.query(`UPDATE oidc_keys SET created_at = now() - interval '3 days' WHERE kid = $1`, [first.kid]);
  const third = await rotateSigningKey(pool, ctx.secrets, 2);
  assert.deepEqual((await loadSigningKeys(pool, ctx.secrets)).map((k) => k.kid), [third, kid]);

  await pool.query(`INSERT INTO oidc_payloads (kind, id, payload, expires_at) VALUES ('Session', 'old', '{}', now() - interval '1 second'), ('Session', 'live', '{}', now() + interval '1 hour')`);
  await purgeExpired(pool);
  assert.deepEqual((await pool.query(`SELECT id FROM oidc_payloads WHERE id IN ('old', 'live')`)).rows.map((r) => r.id), ['live']);
});

test('e-mail is released only once verified; changing the address withdraws it', async () => {
  const pool = ctx.database.pool;
  const id = await createUser(pool, { login: 'prof.martin', profile: 'Teacher', email: 'prof@example.org' });
  const claims = async () => {
    const r = await accountClaims(pool, id);
    assert.ok(r && 'claims' in r);
    return r.claims;
  };
  assert.equal((await claims()).email, undefined);
  await pool.query('UPDATE users SET email_verified_at = now() WHERE id = $1', [id]);
  assert.deepEqual([(await claims()).email, (await claims()).email_verified], ['prof@example.org', true]);
  await pool.query(`UPDATE users SET email = 'autre@example.org' WHERE id = $1`, [id]);
  assert.equal((await claims()).email, undefined);
});

test('applications are registered from the console by a super admin only; the secret is shown once and stored encrypted', async () => {
  const app = await buildServer(ctx);
  try {
    const pool = ctx.database.pool;
    const teacher = await createUser(pool, { login: 'local.admin', password: PASSWORD });
    await pool.query('INSERT INTO local_admins (user_id, structure_id) VALUES ($1, $2)', [teacher, structureId]);
    const local = new Client(app);
    await local.signIn('local.admin', PASSWORD);
    assert.equal((await local.get('/applications')).statusCode, 403);

    const admin = new Client(app);
    await admin.signIn('admin', PASSWORD);
    const form = await admin.get('/applications');
    assert.equal(form.statusCode, 200);
    assert.match(form.body, /data-issuer>https:\/\/ent\.example\.fr\/oidc|data-issuer>http:\/\/127\.0\.0\.1:\d+\/oidc/);

    const bad = await admin.post('/applications', { name: 'Pronote', redirectUris: 'http://pronote.example.fr/cb', firstParty: '1' });
    assert.equal(bad.statusCode, 422);
    assert.match(bad.body, /Adresse de retour refusée/);

    const body = new URLSearchParams({ name: 'Pronote', redirectUris: 'https://pronote.example.fr/cb\r\nhttps://pronote.example.fr/cb2', firstParty: '1' });
    body.append('scopes', 'profile');
    body.append('scopes', 'ent');
    body.set('_csrf', admin.csrf ?? '');
    const res = await app.inject({
      method: 'POST', url: '/applications', payload: body.toString(),
      headers: { 'content-type': 'application/x-www-form-urlencoded', cookie: [...admin.cookies].map(([k, v]) => `${k}=${v}`).join('; ') },
    });
    assert.equal(res.statusCode, 200);
    const clientId = /data-client-id>([^<]+)</.exec(res.body)?.[1];
    const secret = /data-client-secret>([^<]+)</.exec(res.body)?.[1];
    assert.ok(clientId && secret);
    const row = (await pool.query('SELECT * FROM oidc_clients WHERE client_id = $1', [clientId])).rows[0];
    assert.deepEqual([row.name, row.redirect_uris, row.scopes, row.first_party], ['Pronote', ['https://pronote.example.fr/cb', 'https://pronote.example.fr/cb2'], ['openid', 'profile', 'ent'], true]);
    assert.ok(!row.secret_enc.includes(secret));
    assert.equal(ctx.secrets.decrypt(row.secret_enc), secret);
    const audit = await pool.query(`SELECT actor_id, details FROM audit WHERE action = 'oidc.client_register' AND details->>'clientId' = $1`, [clientId]);
    assert.equal(audit.rows[0]?.actor_id, adminId);

    // The screen in Chromium, with a refused address, passes axe.
    const context = await browser.newContext({ locale: 'fr-FR', bypassCSP: true });
    try {
      const page = await context.newPage();
      await page.goto(`${trousseau.url}/connexion`);
      await page.fill('#f-login', 'admin');
      await page.fill('#f-password', PASSWORD);
      await Promise.all([page.waitForURL(/\/console/), page.click('main form[action="/connexion"] button[type="submit"]')]);
      await page.click('a[href="/applications"]');
      await page.fill('#f-name', 'ENT');
      await page.fill('#f-redirectUris', 'ftp://ent.example.fr/cb');
      await page.click('form[action="/applications"] button[type="submit"]');
      await page.waitForSelector('#f-redirectUris[aria-invalid="true"]');
      assert.deepEqual(await axeViolations(page), []);
    } finally {
      await context.close();
    }

    const list = await admin.get('/applications');
    assert.ok(list.body.includes(clientId));
    assert.ok(!list.body.includes(secret), 'the secret is never shown again');

    // Deleted: gone with an audit row; its grants and tokens go with it.
    await pool.query(`INSERT INTO oidc_payloads (kind, id, payload) VALUES ('Grant', 'g1', $1)`, [JSON.stringify({ clientId })]);
    const del = await admin.post(`/applications/${clientId}/supprimer`, {});
    assert.equal(del.statusCode, 303);
    assert.equal((await pool.query('SELECT 1 FROM oidc_clients WHERE client_id = $1', [clientId])).rowCount, 0);
    assert.equal((await pool.query(`SELECT 1 FROM oidc_payloads WHERE id = 'g1'`)).rowCount, 0);
    assert.equal((await pool.query(`SELECT 1 FROM audit WHERE action = 'oidc.client_delete' AND details->>'clientId' = $1`, [clientId])).rowCount, 1);
    // Deleting it again (or any unknown id): 404, no second audit row.
    assert.equal((await admin.post(`/applications/${clientId}/supprimer`, {})).statusCode, 404);
    assert.equal((await pool.query(`SELECT 1 FROM audit WHERE action = 'oidc.client_delete' AND details->>'clientId' = $1`, [clientId])).rowCount, 1);
  } finally {
    await app.close();
  }
});
