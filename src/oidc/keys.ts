// Signing keys of the OpenID provider: generated once, stored in PostgreSQL (oidc_keys, migration 0021) with the
// private part encrypted by the app's key, so every instance of a base signs with the same key and publishes the
// same JWKS. Rotation: rotateSigningKey adds a newer key, which signs from the next start of each instance; the
// older ones stay published (tokens they signed still verify) until retired.
import { generateKeyPairSync, hkdfSync, randomBytes } from 'node:crypto';
import type pg from 'pg';
import type { Secrets } from '../accounts/secrets.js';
import { withTransaction } from '../accounts/tx.js';

/** A private JSON Web Key as oidc-provider's `jwks` wants it. */
export type PrivateJwk = Record<string, unknown> & { kid: string };

/** Advisory lock id: two instances starting together must not both create a first key. */
const KEYS_LOCK = 745_221;

function newKey(): { kid: string; jwk: PrivateJwk } {
  const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const kid = randomBytes(12).toString('base64url');
  return { kid, jwk: { ...privateKey.export({ format: 'jwk' }), kid, alg: 'RS256', use: 'sig' } };
}

async function insertKey(c: pg.PoolClient, secrets: Secrets): Promise<string> {
  const { kid, jwk } = newKey();
  await c.query('INSERT INTO oidc_keys (kid, jwk_enc) VALUES ($1, $2)', [kid, secrets.encrypt(JSON.stringify(jwk))]);
  return kid;
}

/** The keys in service, newest first (the first one signs); creates the first key when there is none. */
export async function loadSigningKeys(pool: pg.Pool, secrets: Secrets): Promise<PrivateJwk[]> {
  return withTransaction(pool, async (c) => {
    await c.query('SELECT pg_advisory_xact_lock($1)', [KEYS_LOCK]);
    let { rows } = await c.query('SELECT jwk_enc FROM oidc_keys WHERE retired_at IS NULL ORDER BY created_at DESC, kid');
    if (rows.length === 0) {
      await insertKey(c, secrets);
      ({ rows } = await c.query('SELECT jwk_enc FROM oidc_keys WHERE retired_at IS NULL ORDER BY created_at DESC, kid'));
    }
    return rows.map((r) => JSON.parse(secrets.decrypt(r.jwk_enc as string)) as PrivateJwk);
  });
}

/** Adds a newer signing key (returns its kid); `retireOlderThanDays` retires keys created that long ago. */
export async function rotateSigningKey(pool: pg.Pool, secrets: Secrets, retireOlderThanDays?: number): Promise<string> {
  return withTransaction(pool, async (c) => {
    await c.query('SELECT pg_advisory_xact_lock($1)', [KEYS_LOCK]);
    const kid = await insertKey(c, secrets);
    if (retireOlderThanDays !== undefined) {
      await c.query(
        `UPDATE oidc_keys SET retired_at = now() WHERE retired_at IS NULL AND kid <> $1 AND created_at < now() - make_interval(days => $2)`,
        [kid, retireOlderThanDays],
      );
    }
    return kid;
  });
}

/**
 * Keys of oidc-provider's own cookies (interaction and session cookies, signed): derived from the app's master key,
 * so every instance sharing a base (and hence TROUSSEAU_SECRET) accepts the others' cookies.
 */
export function cookieKeys(master: Buffer): string[] {
  return [Buffer.from(hkdfSync('sha256', master, 'trousseau', 'oidc-cookie-keys', 32)).toString('base64url')];
}
