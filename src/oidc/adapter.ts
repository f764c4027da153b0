// oidc-provider's storage in PostgreSQL (migration 0021), so that several stateless app instances share
// sessions, interactions, codes, tokens and grants. One generic table, `oidc_payloads`, keyed by model name and
// id; the registered applications (model "Client") come from `oidc_clients` instead (src/oidc/clients.ts).
import type { Adapter, AdapterPayload } from 'oidc-provider';
import type { Queryable } from '../db/index.js';
import type { Secrets } from '../accounts/secrets.js';
import { clientMetadata } from './clients.js';

/**
 * A payload's strings as jsonb can hold them: a NUL (`state=%00`, `nonce=%00` of an authorization request, kept in its
 * interaction) shown as « � »; stored as given, it failed the request with a 500.
 */
function withoutNul(_key: string, value: unknown): unknown {
  return typeof value === 'string' && value.includes('\u0000') ? value.replaceAll('\u0000', '\uFFFD') : value;
}

/** The adapter class oidc-provider instantiates once per model name (`new Adapter('Session')`…). */
export function postgresAdapter(db: Queryable, secrets: Secrets): new (name: string) => Adapter {
  return class PostgresAdapter implements Adapter {
    constructor(readonly kind: string) {}

    /** `expiresIn`: seconds from now (oidc-provider's unit); payload stored as given. */
    async upsert(id: string, payload: AdapterPayload, expiresIn: number): Promise<void> {
      if (this.kind === 'Client') throw new Error('clients are registered from the console, not through oidc-provider');
      await db.query(
        `INSERT INTO oidc_payloads (kind, id, payload, expires_at, uid, grant_id, user_code)
         VALUES ($1, $2, $3, CASE WHEN $4::int > 0 THEN now() + make_interval(secs => $4::int) END, $5, $6, $7)
         ON CONFLICT (kind, id) DO UPDATE SET payload = $3, expires_at = EXCLUDED.expires_at, uid = $5, grant_id = $6, user_code = $7`,
        [this.kind, id, JSON.stringify(payload, withoutNul), expiresIn ?? 0, payload.uid ?? null, payload.grantId ?? null, payload.userCode ?? null],
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
      if (this.kind === 'Client') return clientMetadata(db, secrets, id);
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

/** Housekeeping: rows past their expiry (never read again: `find` ignores them). Returns how many went. */
export async function purgeExpiredOidc(db: Queryable): Promise<number> {
  const r = await db.query('DELETE FROM oidc_payloads WHERE expires_at <= now()');
  return r.rowCount ?? 0;
}
