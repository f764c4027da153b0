// Sign-in and activation throughput against raw argon2 with the same parameters, at the same concurrency:
// what the product adds around the hash (lookup, rehash check, the activation's transaction and audit row).
import argon2 from 'argon2';
import { findCodeHolder, activateAccount } from '../src/accounts/activation.js';
import { issueActivationCode } from '../src/accounts/issue.js';
import { checkCredentials } from '../src/accounts/login.js';
import { hashPassword } from '../src/accounts/passwords.js';
import type { AppContext } from '../src/context.js';

const PASSWORD = 'correct horse battery staple 42';
/** Concurrent requests: the libuv thread pool (4) computes the hashes. */
const CONCURRENCY = 8;

async function all<T>(items: T[], fn: (x: T) => Promise<unknown>): Promise<void> {
  let next = 0;
  await Promise.all(Array.from({ length: CONCURRENCY }, async () => {
    while (next < items.length) await fn(items[next++]);
  }));
}

/** `n` active accounts (product hash) and `n` inactive ones with a code; returns their logins and codes. */
export async function signInAccounts(ctx: AppContext, n: number, tag: string): Promise<{ active: string[]; inactive: Array<{ login: string; code: string }>; hash: string }> {
  const hash = await hashPassword(PASSWORD);
  const active = Array.from({ length: n }, (_, i) => `bench.${tag}.actif${i}`);
  await ctx.database.pool.query(
    `INSERT INTO users (profile, first_name, last_name, login, password_hash, activated_at) SELECT 'Teacher', 'Banc', 'ESSAI', l, $2, now() FROM unnest($1::text[]) l`,
    [active, hash],
  );
  const inactive = Array.from({ length: n }, (_, i) => ({ login: `bench.${tag}.inactif${i}`, code: issueActivationCode(ctx.secrets, 30) }));
  await ctx.database.pool.query(
    `INSERT INTO users (profile, first_name, last_name, login, activation_code_enc, activation_code_mac, activation_code_expires_at)
     SELECT 'Teacher', 'Banc', 'ESSAI', l, e, m, x FROM unnest($1::text[], $2::text[], $3::text[], $4::timestamptz[]) AS v(l, e, m, x)`,
    [inactive.map((a) => a.login), inactive.map((a) => a.code.enc), inactive.map((a) => a.code.mac), inactive.map((a) => a.code.expiresAt)],
  );
  return { active, inactive: inactive.map((a) => ({ login: a.login, code: a.code.code })), hash };
}

export async function productSignIns(ctx: AppContext, logins: string[]): Promise<void> {
  await all(logins, async (l) => {
    if (!(await checkCredentials(ctx, l, PASSWORD)).ok) throw new Error(`sign-in refused: ${l}`);
  });
}

export async function rawVerifies(hash: string, n: number): Promise<void> {
  await all(Array.from({ length: n }, (_, i) => i), async () => {
    if (!(await argon2.verify(hash, PASSWORD))) throw new Error('argon2.verify');
  });
}

export async function productActivations(ctx: AppContext, accounts: Array<{ login: string; code: string }>): Promise<void> {
  await all(accounts, async (a) => {
    const holder = await findCodeHolder(ctx, 'activation', a.login, a.code);
    if (!holder || !(await activateAccount(ctx, holder, { password: PASSWORD, email: null, phone: null }, '127.0.0.1'))) throw new Error(`activation refused: ${a.login}`);
  });
}

export async function rawHashes(n: number): Promise<void> {
  await all(Array.from({ length: n }, (_, i) => i), () => hashPassword(PASSWORD));
}
