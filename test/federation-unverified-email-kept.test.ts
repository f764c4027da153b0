// A first sign-in through a provider activates the account and keeps the provider's address when the account has
// none. Only an address the provider vouches for (email_verified) may be kept: the family mail now reaches parents who
// sign in with a provider, with their children's sheets and codes attached, and an address someone typed at the
// provider unproven (a typo, another person's mailbox) would receive them.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, test } from 'node:test';
import { completeSignIn } from '../src/federation/accounts.js';
import type { FederatedIdentity } from '../src/federation/matching.js';
import { testContext } from './helpers/db.js';
import { educonnectAndFranceConnect } from './helpers/federation-config.js';
import { createInactiveUser } from './helpers/web.js';

let ctx: Awaited<ReturnType<typeof testContext>>;
before(async () => {
  ctx = await testContext();
});
after(async () => {
  await ctx?.close();
});

const identity = (subject: string, email: string, emailVerified: boolean): FederatedIdentity => ({
  subject, externalIds: [], ine: null, email, emailVerified, familyName: 'Durand', usageName: null, givenName: 'Claire', birthDate: null, uais: [], profile: null,
});

test('a first federated sign-in keeps the provider’s address only when the provider verified it', async () => {
  const pool = ctx.database.pool;
  const fc = educonnectAndFranceConnect().get('franceconnect')!;
  const emailOf = async (id: string) => (await pool.query('SELECT email FROM users WHERE id = $1', [id])).rows[0].email as string | null;
  const unproven = await createInactiveUser(pool, ctx.secrets, { login: `p.${randomBytes(3).toString('hex')}`, profile: 'Relative' });
  assert.ok(await completeSignIn(pool, fc, identity('fc-unproven', 'typo@example.org', false), unproven.id, [], '192.0.2.1'));
  assert.equal(await emailOf(unproven.id), null);
  const proven = await createInactiveUser(pool, ctx.secrets, { login: `p.${randomBytes(3).toString('hex')}`, profile: 'Relative' });
  assert.ok(await completeSignIn(pool, fc, identity('fc-proven', 'claire@example.org', true), proven.id, [], '192.0.2.1'));
  assert.equal(await emailOf(proven.id), 'claire@example.org');
});
