// Attack: API tokens created in the console now stop working once their creator is no longer a super admin
// (migration 0030, accounts/api-tokens.ts ISSUER_VALID_SQL): the departed administrator's all-schools import token
// must die with their rights. But 0030 marked as « issued by a person » only the tokens whose created_by was still
// set: a super admin demoted and erased BEFORE the upgrade left created_by NULL (ON DELETE SET NULL), the value of a
// command-line token, so their console token stayed valid for good — exactly the departed admin's token the change
// meant to end. The audit trail still tells them apart (api_token.create: `via`, and the actor, pseudonymised at
// erasure but never dropped).
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { createApiToken, verifyApiToken } from '../../src/accounts/api-tokens.js';
import { eraseAccounts } from '../../src/accounts/lifecycle.js';
import { testContext } from '../helpers/db.js';
import { createUser } from '../helpers/web.js';

const MIGRATIONS = new URL('../../migrations/', import.meta.url).pathname;

let ctx: Awaited<ReturnType<typeof testContext>>;
const q = async <T = Record<string, unknown>>(sql: string, params: unknown[] = []) => (await ctx.database.pool.query(sql, params)).rows as T[];

before(async () => {
  ctx = await testContext();
});
after(async () => {
  await ctx.close();
});

test('upgrading past 0030: a console token whose creator was demoted and erased before the upgrade is refused; a command-line token is not', async () => {
  const pool = ctx.database.pool;
  const [{ id: school }] = await q<{ id: string }>(`INSERT INTO structures (uai, name) VALUES ('0459555E', 'Collège des Ormes') RETURNING id`);
  const issuer = await createUser(pool, { login: 'ancienne.admin', password: 'Mot-de-passe-1234', superAdmin: true });
  const made = await createApiToken(pool, { name: 'Import de la DANE', structures: [], allStructures: true, actorId: issuer, via: 'console' });
  const cli = await createApiToken(pool, { name: 'Import du serveur', structures: [school], actorId: null, via: 'cli' });

  // The database as it was before 0030, then what happened to the departed admin: demoted, erased.
  await q('ALTER TABLE api_tokens DROP COLUMN issued_by_person');
  await q(`DELETE FROM schema_migrations WHERE name >= '0030' AND name < '0032'`);
  await q('UPDATE users SET is_super_admin = false, pre_deleted_at = now() WHERE id = $1', [issuer]);
  assert.equal(await eraseAccounts(pool, [issuer]), 1, 'the departed admin is erased');
  assert.equal((await q<{ created_by: string | null }>('SELECT created_by FROM api_tokens WHERE id = $1', [made.id]))[0].created_by, null, 'created_by is gone');

  // The upgrade: 0030 and 0031, as the migrator runs them (later ones, applied already, are not undone here).
  for (const f of readdirSync(MIGRATIONS).filter((x) => x.endsWith('.sql') && x >= '0030' && x < '0032').sort()) {
    await pool.query(readFileSync(join(MIGRATIONS, f), 'utf8'));
  }

  const gone = await verifyApiToken(pool, made.token, '198.51.100.9');
  assert.equal(gone.ok, false, 'the erased admin’s console token is refused after the upgrade');
  const kept = await verifyApiToken(pool, cli.token, '198.51.100.9');
  assert.equal(kept.ok, true, 'a command-line token keeps working');
});
