// oidc-provider's storage in PostgreSQL (migration 0021), so that several stateless app instances share
// sessions, interactions, codes, tokens and grants. One generic table, `oidc_payloads`, keyed by model name and
// id; the registered applications (model "Client") come from `oidc_clients` instead (src/oidc/clients.ts).
import type { Adapter, AdapterPayload } from 'oidc-provider';
import type { SignInMethod } from '../accounts/signins.js';
import type { Queryable } from '../db/index.js';
import type { Secrets } from '../accounts/secrets.js';
import { signInOfAmr } from './claims.js';
import { clientMetadata } from './clients.js';

/**
 * A payload's strings as jsonb can hold them: a NUL (`state=%00`, `nonce=%00` of an authorization request, kept in its
 * interaction) shown as « � »; stored as given, it failed the request with a 500.
 */
function withoutNul(_key: string, value: unknown): unknown {
  return typeof value === 'string' && value.includes('\u0000') ? value.replaceAll('\u0000', '\uFFFD') : value;
}

/**
 * The adapter class oidc-provider instantiates once per model name (`new Adapter('Session')`…). `issuedFor`: the
 * authorization code or refresh token the request being served exchanges (oidc-provider's request context), of which
 * an access token takes its sign-in method.
 */
export function postgresAdapter(db: Queryable, secrets: Secrets, issuedFor: () => { amr?: unknown } | undefined = () => undefined): new (name: string) => Adapter {
  return class PostgresAdapter implements Adapter {
    constructor(readonly kind: string) {}

    /**
     * `expiresIn`: seconds from now (oidc-provider's unit); payload stored as given, with how its sign-in was made
     * (signed_in_with, migration 0032): its `amr` (sessions, codes, refresh tokens), or for an access token, which has
     * none, the code's or refresh token's it is issued for.
     */
    async upsert(id: string, payload: AdapterPayload, expiresIn: number): Promise<void> {
      if (this.kind === 'Client') throw new Error('clients are registered from the console, not through oidc-provider');
      const signedInWith = signInOfAmr(payload.amr) ?? (this.kind === 'AccessToken' ? signInOfAmr(issuedFor()?.amr) : null);
      await db.query(
        `INSERT INTO oidc_payloads (kind, id, payload, expires_at, uid, grant_id, user_code, signed_in_with)
         VALUES ($1, $2, $3, CASE WHEN $4::int > 0 THEN now() + make_interval(secs => $4::int) END, $5, $6, $7, $8)
         ON CONFLICT (kind, id) DO UPDATE SET payload = $3, expires_at = EXCLUDED.expires_at, uid = $5, grant_id = $6, user_code = $7,
           signed_in_with = $8`,
        [this.kind, id, JSON.stringify(payload, withoutNul), expiresIn ?? 0, payload.uid ?? null, payload.grantId ?? null, payload.userCode ?? null, signedInWith],
      );
    }

    private async findWhere(column: 'id' | 'uid' | 'user_code', value: string): Promise<AdapterPayload | undefined> {
      // A token, code or id with a NUL (`code=%00`) is none of ours, and PostgreSQL text cannot hold it (a 500).
      if (value.includes('\u0000')) return undefined;
      const { rows } = await db.query(
        `SELECT payload, extract(epoch FROM consumed)::bigint AS consumed FROM oidc_payloads
         WHERE kind = $1 AND ${column} = $2 AND (expires_at IS NULL OR expires_at > now())`,
        [this.kind, value],
      );
      if (!rows[0]) return undefined;
      const payload = rows[0].payload as AdapterPayload;
      return rows[0].consumed === null ? payload : { ...payload, consumed: Number(rows[0].consumed) };
    }

    async find(id: string): Promise<AdapterPayload | undefined> {
      // A client_id with a NUL (`/oidc/auth?client_id=%00`, the token request's body, an end_session id_token_hint's
      // `aud`) names no application, and PostgreSQL text cannot hold it: the query failed the request with a 500.
      if (this.kind === 'Client') return id.includes('\u0000') ? undefined : clientMetadata(db, secrets, id);
      return this.findWhere('id', id);
    }

    findByUid(uid: string): Promise<AdapterPayload | undefined> {
      return this.findWhere('uid', uid);
    }

    findByUserCode(userCode: string): Promise<AdapterPayload | undefined> {
      return this.findWhere('user_code', userCode);
    }

    async consume(id: string): Promise<void> {
      await db.query('UPDATE oidc_payloads SET consumed = now() WHERE kind = $1 AND id = $2', [this.kind, id]);
    }

    async destroy(id: string): Promise<void> {
      await db.query('DELETE FROM oidc_payloads WHERE kind = $1 AND id = $2', [this.kind, id]);
    }

    /** Every token of a grant goes with it (whatever the model: codes, access and refresh tokens). */
    async revokeByGrantId(grantId: string): Promise<void> {
      await db.query('DELETE FROM oidc_payloads WHERE grant_id = $1', [grantId]);
    }
  };
}

/** How the sign-in behind the stored row `kind`/`id` was made (signed_in_with), null when not known or not found. */
export async function storedSignIn(db: Queryable, kind: string, id: string): Promise<SignInMethod | null> {
  if (id.includes('\u0000')) return null;
  const { rows } = await db.query('SELECT signed_in_with FROM oidc_payloads WHERE kind = $1 AND id = $2', [kind, id]);
  return (rows[0]?.signed_in_with as SignInMethod | null | undefined) ?? null;
}

/** Housekeeping: rows past their expiry (never read again: `find` ignores them). Returns how many went. */
export async function purgeExpiredOidc(db: Queryable): Promise<number> {
  const r = await db.query('DELETE FROM oidc_payloads WHERE expires_at <= now()');
  return r.rowCount ?? 0;
}
