// API tokens for scripts: created by a super admin (console /jetons, or the CLI's function), stored hashed and
// shown once, accepted on POST /api/import as a bearer (no session, no CSRF) within their structures only,
// refused everywhere else, last use recorded, audited, revocable.
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { after, before, test } from 'node:test';
import type { FastifyInstance } from 'fastify';
import { createApiToken, TokenInputError } from '../src/accounts/api-tokens.js';
import { domainMessage } from '../src/web/errors.js';
import { buildServer } from '../src/web/server.js';
import { testContext } from './helpers/db.js';
import { Client, createUser } from './helpers/web.js';

const FIX = new URL('./fixtures/drop/jules-ferry/', import.meta.url).pathname;
const eleves = { name: 'CSV_Eleves.csv', data: readFileSync(`${FIX}CSV_Eleves.csv`) };

let ctx: Awaited<ReturnType<typeof testContext>>;
let app: FastifyInstance;
let root: Client;
let rootId: string;
let schoolA: string;
let schoolB: string;

const q = async <T = Record<string, unknown>>(sql: string, params: unknown[] = []) => (await ctx.database.pool.query(sql, params)).rows as T[];
const count = async (sql: string, params: unknown[] = []) => Number((await q<{ n: string }>(sql, params))[0].n);
const inSchool = (id: string) => count('SELECT count(*) n FROM user_structures WHERE structure_id = $1', [id]);

function multipart(files: Array<{ name: string; data: Buffer }>): { body: Buffer; type: string } {
  const boundary = '----trousseau-token-boundary';
  const parts: Buffer[] = [];
  for (const f of files) {
    parts.push(Buffer.from(`--${boundary}\r\nContent-Disposition: form-data; name="files"; filename="${f.name}"\r\nContent-Type: text/csv\r\n\r\n`));
    parts.push(f.data, Buffer.from('\r\n'));
  }
  parts.push(Buffer.from(`--${boundary}--\r\n`));
  return { body: Buffer.concat(parts), type: `multipart/form-data; boundary=${boundary}` };
}

/** POST /api/import as a script: the bearer token only (no cookie, no x-csrf-token) unless headers say otherwise. */
function scriptImport(token: string, query: string, files = [eleves], headers: Record<string, string> = {}) {
  const { body, type } = multipart(files);
  return app.inject({
    method: 'POST', url: `/api/import${query}`, payload: body, remoteAddress: '198.51.100.7',
    headers: { 'content-type': type, authorization: `Bearer ${token}`, ...headers },
  });
}

/** Creates a token through the console page and returns it as shown (once). */
async function createInConsole(name: string, structures: string[], all = false): Promise<string> {
  await root.get('/jetons');
  const body = new URLSearchParams({ _csrf: root.csrf!, name });
  for (const s of structures) body.append('structures', s);
  if (all) body.set('all', '1');
  const res = await app.inject({
    method: 'POST', url: '/jetons', payload: body.toString(),
    headers: { cookie: [...root.cookies].map(([k, v]) => `${k}=${v}`).join('; '), 'content-type': 'application/x-www-form-urlencoded' },
  });
  assert.equal(res.statusCode, 200, res.body);
  const m = /data-token-secret>(trs_[0-9a-f]{10}_[A-Za-z0-9_-]{43})</.exec(res.body);
  assert.ok(m, 'the new token is shown');
  return m[1];
}

before(async () => {
  ctx = await testContext();
  [{ id: schoolA }] = await q<{ id: string }>(`INSERT INTO structures (uai, name) VALUES ('0123456A', 'École Jules Ferry') RETURNING id`);
  [{ id: schoolB }] = await q<{ id: string }>(`INSERT INTO structures (uai, name) VALUES ('0999999Z', 'École Voisine') RETURNING id`);
  rootId = await createUser(ctx.database.pool, { login: 'root.admin', password: 'Mot-de-passe-1234', superAdmin: true });
  const localId = await createUser(ctx.database.pool, { login: 'diane.directrice', password: 'Mot-de-passe-1234' });
  await q('INSERT INTO local_admins (user_id, structure_id) VALUES ($1, $2)', [localId, schoolA]);
  app = await buildServer(ctx);
  root = new Client(app);
  assert.equal((await root.signIn('root.admin', 'Mot-de-passe-1234')).statusCode, 303);
});
after(async () => {
  await app.close();
  await ctx.close();
});

test('a super admin creates a token in the console: shown once, only its hash stored, audited; local admins have no page', async () => {
  const token = await createInConsole('Import nocturne Jules Ferry', [schoolA]);
  const [row] = await q<Record<string, unknown>>(`SELECT * FROM api_tokens WHERE prefix = $1`, [token.slice(4, 14)]);
  assert.equal(row.secret_hash, createHash('sha256').update(token).digest('hex'));
  assert.ok(!JSON.stringify(row).includes(token.slice(15)), 'the secret is nowhere in the row');
  assert.deepEqual([row.name, row.all_structures, row.structure_ids, row.created_by, row.last_used_at], ['Import nocturne Jules Ferry', false, [schoolA], rootId, null]);
  assert.equal(await count(`SELECT count(*) n FROM audit WHERE action = 'api_token.create' AND actor_id = $1`, [rootId]), 1);

  const list = await root.get('/jetons');
  assert.equal(list.statusCode, 200);
  assert.match(list.body, new RegExp(`trs_${row.prefix}_…`));
  assert.ok(!list.body.includes(token), 'the list never shows the token again');

  const local = new Client(app);
  await local.signIn('diane.directrice', 'Mot-de-passe-1234');
  assert.equal((await local.get('/jetons')).statusCode, 403);

  // Bad input names the field.
  await root.get('/jetons');
  const bad = await root.post('/jetons', { name: ' ' });
  assert.equal(bad.statusCode, 422);
  assert.match(bad.body, /Donnez au jeton un nom/);
  assert.match(bad.body, /Choisissez au moins un établissement|Donnez au jeton un nom/);
  // The refusal is a message code: English from the catalogue, naming the unknown school, no French.
  await root.get('/jetons?lang=en');
  const unknown = await createApiToken(ctx.database.pool, { name: 'x', structures: ['0000000X'], actorId: null, via: 'cli' }).catch((e: unknown) => e);
  assert.ok(unknown instanceof TokenInputError);
  assert.equal(unknown.messageCode, 'token.unknownStructure');
  assert.equal(domainMessage('en', unknown), 'Unknown school: “0000000X”.');
  const badEn = await root.post('/jetons', { name: ' ' });
  assert.equal(badEn.statusCode, 422);
  assert.match(badEn.body, /Give the token a name of 1 to 100 characters/);
  assert.doesNotMatch(badEn.body, /Donnez au jeton/);
  await root.get('/jetons?lang=fr');
});

test('a script imports with the token: no session, no CSRF; last use recorded; the use is audited', async () => {
  const token = await createInConsole('Script ENT', [schoolA]);
  const res = await scriptImport(token, `?structureId=${schoolA}`);
  assert.equal(res.statusCode, 200, res.body);
  assert.equal(res.json().created, 3);
  assert.equal(await inSchool(schoolA), 3);
  assert.equal(res.cookies.length, 0, 'no session or CSRF cookie handed to a script');

  const [row] = await q<{ id: string; last_used_at: Date | null; last_used_ip: string }>(`SELECT id, last_used_at, last_used_ip FROM api_tokens WHERE prefix = $1`, [token.slice(4, 14)]);
  assert.ok(row.last_used_at && Date.now() - row.last_used_at.getTime() < 60_000);
  assert.equal(row.last_used_ip, '198.51.100.7');
  const [use] = await q<{ actor_id: string; details: Record<string, unknown> }>(`SELECT actor_id, details FROM audit WHERE action = 'api_token.import'`);
  assert.equal(use.actor_id, rootId, 'the imports of a token are its creator’s responsibility');
  assert.equal(use.details.tokenId, row.id);
  assert.deepEqual(use.details.files, ['CSV_Eleves.csv']);
  const page = await root.get('/jetons');
  assert.match(page.body, /depuis 198\.51\.100\.7/);

  // A session-authenticated call still needs its CSRF token: the bearer path is the only exemption.
  const { body, type } = multipart([eleves]);
  const cookie = [...root.cookies].map(([k, v]) => `${k}=${v}`).join('; ');
  const noCsrf = await app.inject({ method: 'POST', url: `/api/import?structureId=${schoolA}`, payload: body, headers: { 'content-type': type, cookie } });
  assert.equal(noCsrf.statusCode, 403);
});

test('a token of school A cannot import into school B, nor AAF files; a token for every school can', async () => {
  const token = await createInConsole('Script A', [schoolA]);
  const before = await inSchool(schoolB);
  const res = await scriptImport(token, `?structureId=${schoolB}`);
  assert.equal(res.statusCode, 404);
  assert.equal(await inSchool(schoolB), before);
  const xml = await scriptImport(token, `?structureId=${schoolA}`, [{ name: 'ENT_0123456A_Complet_20261130_Eleve_0000.xml', data: Buffer.from('<ficAlimMENESR/>') }]);
  assert.equal(xml.statusCode, 403);
  const [row] = await q<{ id: string }>('SELECT id FROM api_tokens WHERE prefix = $1', [token.slice(4, 14)]);
  assert.deepEqual((await q<{ s: string }>(`SELECT details->>'status' s FROM audit WHERE action = 'api_token.refused' AND details->>'tokenId' = $1 ORDER BY id`, [row.id])).map((r) => r.s), ['404', '403'],
    'reaching outside its structures is audited');
  const noTarget = await scriptImport(token, '');
  assert.equal(noTarget.statusCode, 400);

  // The CLI path: structures by UAI; `--tous` for an académie feed.
  await assert.rejects(createApiToken(ctx.database.pool, { name: 'x', structures: ['0000000X'], actorId: null, via: 'cli' }), (e) => e instanceof TokenInputError && /0000000X/.test(e.message));
  const byUai = await createApiToken(ctx.database.pool, { name: 'Voisine', structures: ['0999999z'], actorId: null, via: 'cli' });
  assert.deepEqual((await q<{ structure_ids: string[] }>('SELECT structure_ids FROM api_tokens WHERE id = $1', [byUai.id]))[0].structure_ids, [schoolB]);
  const all = await createApiToken(ctx.database.pool, { name: 'Académie', structures: [], allStructures: true, actorId: null, via: 'cli' });
  const ok = await scriptImport(all.token, `?structureId=${schoolB}`);
  assert.equal(ok.statusCode, 200, ok.body);
  assert.equal(await inSchool(schoolB), 3);
  const [use] = await q<{ actor_id: string | null }>(`SELECT actor_id FROM audit WHERE action = 'api_token.import' AND details->>'tokenId' = $1`, [all.id]);
  assert.equal(use.actor_id, null, 'created from the command line: no account to blame');
});

test('wrong, malformed or unknown tokens get 401; a known prefix with a wrong secret is audited', async () => {
  const token = await createInConsole('Script B', [schoolB]);
  const forged = `${token.slice(0, -4)}AAAA` === token ? `${token.slice(0, -4)}BBBB` : `${token.slice(0, -4)}AAAA`;
  for (const t of [forged, 'n-importe-quoi', `trs_0000000000_${'A'.repeat(43)}`]) {
    const res = await scriptImport(t, `?structureId=${schoolB}`);
    assert.equal(res.statusCode, 401, t);
    assert.equal(res.headers['www-authenticate'], 'Bearer');
    assert.match(res.json().error, /Jeton d’API absent, invalide ou révoqué/);
  }
  assert.equal(await count(`SELECT count(*) n FROM audit WHERE action = 'api_token.refused' AND details->>'prefix' = $1`, [token.slice(4, 14)]), 1);
  const [row] = await q<{ last_used_at: Date | null }>('SELECT last_used_at FROM api_tokens WHERE prefix = $1', [token.slice(4, 14)]);
  assert.equal(row.last_used_at, null, 'a refused attempt is not a use');
});

test('a token opens nothing but the import: other API routes and pages refuse it, even with a session cookie beside it', async () => {
  const token = await createInConsole('Script C', [schoolA]);
  const bearer = { authorization: `Bearer ${token}` };
  const cookie = [...root.cookies].map(([k, v]) => `${k}=${v}`).join('; ');
  const preview = await app.inject({ method: 'GET', url: '/api/publipostage/preview', headers: bearer });
  assert.equal(preview.statusCode, 401);
  const withSession = await app.inject({ method: 'GET', url: '/api/publipostage/preview', headers: { ...bearer, cookie } });
  assert.equal(withSession.statusCode, 401, 'the super admin’s session beside the token is ignored');
  const consolePage = await app.inject({ method: 'GET', url: '/jetons', headers: { ...bearer, cookie } });
  assert.equal(consolePage.statusCode, 303);
  assert.match(String(consolePage.headers.location), /^\/connexion/);
  const tokensBefore = await count('SELECT count(*) n FROM api_tokens');
  const create = await app.inject({
    method: 'POST', url: '/jetons', payload: `name=Escalade&all=1&_csrf=${root.csrf}`,
    headers: { ...bearer, cookie, 'content-type': 'application/x-www-form-urlencoded' },
  });
  assert.equal(create.statusCode, 403, 'no CSRF exemption outside the import route');
  assert.equal(await count('SELECT count(*) n FROM api_tokens'), tokensBefore);
  // The session alone still works (the cookie was not spoiled by the bearer requests).
  assert.equal((await root.get('/jetons')).statusCode, 200);
});

test('a revoked token stops working at once and shows as revoked', async () => {
  const token = await createInConsole('Script D', [schoolA]);
  assert.equal((await scriptImport(token, `?structureId=${schoolA}&dryRun=true`)).statusCode, 200);
  const [{ id }] = await q<{ id: string }>('SELECT id FROM api_tokens WHERE prefix = $1', [token.slice(4, 14)]);
  await root.get('/jetons');
  const revoke = await root.post(`/jetons/${id}/revoquer`, {});
  assert.equal(revoke.statusCode, 303);
  const after = await scriptImport(token, `?structureId=${schoolA}&dryRun=true`);
  assert.equal(after.statusCode, 401);
  const [row] = await q<{ revoked_at: Date | null; revoked_by: string }>('SELECT revoked_at, revoked_by FROM api_tokens WHERE id = $1', [id]);
  assert.ok(row.revoked_at);
  assert.equal(row.revoked_by, rootId);
  assert.equal(await count(`SELECT count(*) n FROM audit WHERE action = 'api_token.revoke' AND details->>'tokenId' = $1`, [id]), 1);
  assert.equal(await count(`SELECT count(*) n FROM audit WHERE action = 'api_token.refused' AND details->>'tokenId' = $1 AND details->>'reason' = 'revoked'`, [id]), 1);
  const page = await root.get('/jetons?revoque=1');
  assert.match(page.body, /Jeton révoqué/);
  assert.match(page.body, new RegExp(`data-token="${token.slice(4, 14)}"[\\s\\S]*?Révoqué le`));
});

test('a token stops working once its creator is no longer a super admin (demoted, blocked, pre-deleted, erased); a command-line token has no creator to lose', async () => {
  const issuer = await createUser(ctx.database.pool, { login: 'ancien.admin', password: 'Mot-de-passe-1234', superAdmin: true });
  const made = await createApiToken(ctx.database.pool, { name: 'Import du départ', structures: [], allStructures: true, actorId: issuer, via: 'console' });
  const cli = await createApiToken(ctx.database.pool, { name: 'Import du serveur', structures: [schoolA], actorId: null, via: 'cli' });
  const tries = async (token: string) => (await scriptImport(token, `?structureId=${schoolA}&dryRun=true`)).statusCode;
  assert.equal(await tries(made.token), 200, 'works while its creator is a super admin');

  for (const [change, undo] of [
    ['UPDATE users SET is_super_admin = false WHERE id = $1', 'UPDATE users SET is_super_admin = true WHERE id = $1'],
    ['UPDATE users SET blocked = true WHERE id = $1', 'UPDATE users SET blocked = false WHERE id = $1'],
    ['UPDATE users SET pre_deleted_at = now() WHERE id = $1', 'UPDATE users SET pre_deleted_at = NULL WHERE id = $1'],
  ]) {
    await q(change, [issuer]);
    assert.equal(await tries(made.token), 401, `refused after: ${change}`);
    if (change.includes('is_super_admin')) {
      const page = await root.get('/jetons');
      assert.match(page.body, new RegExp(`data-token="${made.prefix}"[\\s\\S]*?data-issuer-gone`), 'the console says why it is inactive');
    }
    await q(undo, [issuer]);
    assert.equal(await tries(made.token), 200, `works again after: ${undo}`);
  }
  assert.ok(
    (await count(`SELECT count(*) n FROM audit WHERE action = 'api_token.refused' AND details->>'tokenId' = $1 AND details->>'reason' = 'issuer'`, [made.id])) >= 3,
    'each refusal is audited with its reason',
  );
  // Erased: created_by becomes NULL, as a command-line token's, yet the token stays refused.
  await q('DELETE FROM users WHERE id = $1', [issuer]);
  assert.equal((await q<{ created_by: string | null }>('SELECT created_by FROM api_tokens WHERE id = $1', [made.id]))[0].created_by, null, 'creator erased');
  assert.equal(await tries(made.token), 401, 'refused once its creator is erased');
  assert.equal(await tries(cli.token), 200, 'a command-line token keeps working');
});
