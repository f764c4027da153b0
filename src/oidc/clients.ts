// The ENT's applications that sign their users in with Trousseau (OpenID Connect clients), registered by a super
// admin from the console: client id, secret (shown once, kept encrypted: oidc-provider compares it in clear),
// redirect URIs, allowed scopes, first-party flag (no consent asked). Table oidc_clients, migration 0021.
import { randomBytes } from 'node:crypto';
import { z } from 'zod';
import type pg from 'pg';
import type { Secrets } from '../accounts/secrets.js';
import { withTransaction } from '../accounts/tx.js';
import type { Queryable } from '../db/index.js';
import { recordAudit } from '../directory/audit.js';
import { DomainError } from '../lib/errors.js';
import { SCOPES } from './claims.js';

export interface OidcClient {
  clientId: string;
  name: string;
  redirectUris: string[];
  scopes: string[];
  firstParty: boolean;
  createdAt: Date;
}

/**
 * A redirect URI an application may be sent back to: absolute https, or http on loopback (an application
 * running beside Trousseau, tests); no fragment (OAuth 2.0 forbids it).
 */
export function validRedirectUri(uri: string): boolean {
  const u = URL.parse(uri);
  if (!u || u.hash || u.username || u.password) return false;
  if (u.protocol === 'https:') return true;
  return u.protocol === 'http:' && (u.hostname === 'localhost' || u.hostname === '127.0.0.1' || u.hostname === '[::1]');
}

export const ClientInputSchema = z.object({
  name: z.string().trim().min(1).max(120),
  /** One per line in the form. */
  redirectUris: z.array(z.string().trim().max(2000)).min(1).max(20),
  scopes: z.array(z.enum(SCOPES)).max(SCOPES.length),
  firstParty: z.boolean(),
});
export type ClientInput = z.infer<typeof ClientInputSchema>;

/**
 * Registers an application; returns its client id and the secret in clear (shown once, never again). openid is
 * always allowed; a redirect URI that is not absolute https (or http on loopback) is refused
 * (DomainError 'oidc.redirectUri'). The audit row is written in the same transaction.
 */
export async function registerClient(
  pool: pg.Pool, secrets: Secrets, input: ClientInput, actorId: string,
): Promise<{ clientId: string; secret: string }> {
  const bad = input.redirectUris.find((u) => !validRedirectUri(u));
  if (bad !== undefined) throw new DomainError('oidc.redirectUri', { value: bad });
  const clientId = `ent-${randomBytes(9).toString('base64url')}`;
  const secret = randomBytes(32).toString('base64url');
  const scopes = [...new Set(['openid', ...input.scopes])];
  await withTransaction(pool, async (c) => {
    await c.query(
      `INSERT INTO oidc_clients (client_id, name, secret_enc, redirect_uris, scopes, first_party, created_by)
       VALUES ($1, $2, $3, $4, $5, $6, $7)`,
      [clientId, input.name, secrets.encrypt(secret), input.redirectUris, scopes, input.firstParty, actorId],
    );
    await recordAudit(c, actorId, 'oidc.client_register', { clientId, name: input.name, redirectUris: input.redirectUris, scopes, firstParty: input.firstParty });
  });
  return { clientId, secret };
}

/** Removes an application: its tokens stop working at once (their rows go too). Audited in the same transaction. */
export async function deleteClient(pool: pg.Pool, clientId: string, actorId: string): Promise<boolean> {
  return withTransaction(pool, async (c) => {
    const r = await c.query('DELETE FROM oidc_clients WHERE client_id = $1 RETURNING name', [clientId]);
    if (r.rowCount !== 1) return false;
    await c.query(`DELETE FROM oidc_payloads WHERE payload->>'clientId' = $1`, [clientId]);
    await recordAudit(c, actorId, 'oidc.client_delete', { clientId, name: r.rows[0].name });
    return true;
  });
}

function fromRow(r: Record<string, unknown>): OidcClient {
  return {
    clientId: r.client_id as string,
    name: r.name as string,
    redirectUris: r.redirect_uris as string[],
    scopes: r.scopes as string[],
    firstParty: r.first_party as boolean,
    createdAt: r.created_at as Date,
  };
}

export async function listClients(db: Queryable): Promise<OidcClient[]> {
  const { rows } = await db.query('SELECT * FROM oidc_clients ORDER BY name, client_id');
  return rows.map(fromRow);
}

/** A registered application, or null. */
export async function findClient(db: Queryable, clientId: string): Promise<OidcClient | null> {
  if (clientId.includes('\u0000')) return null; // names no application, and PostgreSQL text cannot hold it (a 500)
  const { rows } = await db.query('SELECT * FROM oidc_clients WHERE client_id = $1', [clientId]);
  return rows[0] ? fromRow(rows[0]) : null;
}

/**
 * oidc-provider's client metadata for a registered application (undefined when unknown): confidential web
 * application, authorization code (+ PKCE, required provider-wide) and refresh tokens, secret sent with HTTP Basic
 * or in the body.
 */
export async function clientMetadata(db: Queryable, secrets: Secrets, clientId: string): Promise<Record<string, unknown> | undefined> {
  const { rows } = await db.query('SELECT * FROM oidc_clients WHERE client_id = $1', [clientId]);
  const r = rows[0];
  if (!r) return undefined;
  return {
    client_id: r.client_id,
    client_name: r.name,
    client_secret: secrets.decrypt(r.secret_enc),
    redirect_uris: r.redirect_uris,
    scope: (r.scopes as string[]).join(' '),
    grant_types: ['authorization_code', 'refresh_token'],
    response_types: ['code'],
    token_endpoint_auth_method: 'client_secret_basic',
  };
}
