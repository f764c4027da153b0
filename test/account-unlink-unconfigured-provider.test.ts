// « Mon compte » self-unlink of an identity provider (POST /mon-compte/fournisseurs) keeps an account without a
// Trousseau password from unlinking its last way in. A link to a provider taken out of the configuration
// (TROUSSEAU_FEDERATION_CONFIG) signs no one in: it must not count as the way in that remains.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, test } from 'node:test';
import type { FastifyInstance } from 'fastify';
import { buildServer } from '../src/web/server.js';
import { testContext } from './helpers/db.js';
import { educonnectAndFranceConnect } from './helpers/federation-config.js';
import { createUser, signedInClient } from './helpers/web.js';

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

test('without a password, a link to a provider no longer configured is no way in: the last working link stays', async () => {
  const pool = ctx.database.pool;
  const id = await createUser(pool, { login: `u.${randomBytes(4).toString('hex')}`, profile: 'Relative' });
  await pool.query('UPDATE users SET activated_at = now() WHERE id = $1', [id]);
  for (const [p, name] of [['franceconnect', 'FranceConnect'], ['ancien-idp', 'Ancien fournisseur']]) {
    await pool.query(`INSERT INTO federation_links (provider_id, subject, user_id, provider_name) VALUES ($1, $2, $3, $4)`, [p, `${p}-${id}`, id, name]);
  }
  assert.ok(!ctx.config.federation.has('ancien-idp'));
  const c = await signedInClient(app, pool, id);
  const res = await c.post('/mon-compte/fournisseurs', { providerId: 'franceconnect' });
  assert.equal(res.statusCode, 409, 'FranceConnect is the only configured provider left: unlinking it locks the account out');
  const left = (await pool.query('SELECT provider_id FROM federation_links WHERE user_id = $1 ORDER BY provider_id', [id])).rows.map((r) => r.provider_id);
  assert.deepEqual(left, ['ancien-idp', 'franceconnect']);
});
