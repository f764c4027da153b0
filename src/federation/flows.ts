// Sign-ins under way (table federation_flows, migration 0020): each step's token is single use, expires after
// FLOW_MINUTES and only works in the browser that started the flow (its binding cookie). Only SHA-256 hashes of the
// token and of the binding are stored.
import { randomBytes } from 'node:crypto';
import type { Queryable } from '../db/index.js';
import { sha256 } from '../lib/crypto.js';
import type { ProviderSession } from './accounts.js';
import type { FederatedIdentity } from './matching.js';

export const FLOW_MINUTES = 10;

export const newFlowToken = (): string => randomBytes(32).toString('base64url');

/** What the provider answered: who the person is, and what signing out there will need. */
export interface ProviderAnswer {
  identity: FederatedIdentity;
  session: Omit<ProviderSession, 'providerId'>;
}

export interface Flow {
  /** SHA-256 of the browser's binding cookie (handed on to the next step). */
  bindingHash: string;
  providerId: string;
  codeVerifier: string | null;
  nonce: string | null;
  samlRequestId: string | null;
  next: string;
  answer: ProviderAnswer | null;
  candidates: string[] | null;
  /**
   * 'signin': a sign-in under way; 'link': a provider's answer that matched no account, kept for the person to link
   * it to an account they prove is theirs (links.ts). A token of one kind is never taken for the other.
   */
  purpose: FlowPurpose;
  createdAt: Date;
}

export type FlowPurpose = 'signin' | 'link';

/**
 * Stores a flow step; returns its token (the OIDC `state`, the SAML RelayState, or the choice page's token).
 * `bindingHash`: sha256 of the browser's binding cookie.
 */
export async function saveFlow(
  db: Queryable,
  f: Partial<Omit<Flow, 'createdAt'>> & { providerId: string; bindingHash: string },
  token = newFlowToken(),
): Promise<string> {
  // Housekeeping on the way: abandoned flows go.
  await db.query('DELETE FROM federation_flows WHERE expires_at <= now()');
  await db.query(
    `INSERT INTO federation_flows (state_hash, binding_hash, provider_id, code_verifier, nonce, saml_request_id, next, answer, candidates, expires_at, purpose)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, now() + make_interval(mins => $10), $11)`,
    [sha256(token), f.bindingHash, f.providerId, f.codeVerifier ?? null, f.nonce ?? null, f.samlRequestId ?? null, f.next ?? '/',
      f.answer ? JSON.stringify(f.answer) : null, f.candidates ?? null, FLOW_MINUTES, f.purpose ?? 'signin'],
  );
  return token;
}

function fromRow(r: Record<string, unknown>): Flow {
  return {
    bindingHash: r.binding_hash as string,
    providerId: r.provider_id as string,
    codeVerifier: (r.code_verifier as string | null) ?? null,
    nonce: (r.nonce as string | null) ?? null,
    samlRequestId: (r.saml_request_id as string | null) ?? null,
    next: r.next as string,
    answer: (r.answer as ProviderAnswer | null) ?? null,
    candidates: (r.candidates as string[] | null) ?? null,
    purpose: r.purpose as FlowPurpose,
    createdAt: r.created_at as Date,
  };
}

/**
 * Takes a flow step (deleted: a replayed token finds nothing). `binding`: the browser's cookie, or null where the
 * browser cannot send it (the IdP's cross-site POST to the SAML ACS, which the signed InResponseTo binds instead).
 */
export async function takeFlow(
  db: Queryable, token: string, providerId: string, binding: string | null, purpose: FlowPurpose = 'signin',
): Promise<Flow | null> {
  if (!token) return null;
  const r = await db.query(
    `DELETE FROM federation_flows WHERE state_hash = $1 AND provider_id = $2 AND expires_at > now() AND ($3::text IS NULL OR binding_hash = $3)
       AND purpose = $4
     RETURNING *`,
    [sha256(token), providerId, binding === null ? null : sha256(binding), purpose],
  );
  return r.rows[0] ? fromRow(r.rows[0]) : null;
}

/** Reads a flow step without taking it (the choice page shown again after a form error). */
export async function peekFlow(db: Queryable, token: string, binding: string, purpose: FlowPurpose = 'signin'): Promise<Flow | null> {
  if (!token || !binding) return null;
  const r = await db.query('SELECT * FROM federation_flows WHERE state_hash = $1 AND binding_hash = $2 AND expires_at > now() AND purpose = $3', [
    sha256(token),
    sha256(binding),
    purpose,
  ]);
  return r.rows[0] ? fromRow(r.rows[0]) : null;
}

/**
 * The browser's latest pending answer at `providerId` (a 'link' step, bound to its cookie, still fresh), under a new
 * token returned with it — the « aucun compte » page shown again at an address that carries no secret (its language
 * switched): the binding cookie finds the step, and only the new token's hash is stored, so a copy of the old token
 * (another tab's form) finds nothing. Null when there is none.
 */
export async function resumeLinkFlow(db: Queryable, binding: string, providerId: string): Promise<{ flow: Flow; token: string } | null> {
  if (!binding) return null;
  const token = newFlowToken();
  const r = await db.query(
    `UPDATE federation_flows SET state_hash = $1
     WHERE state_hash = (SELECT state_hash FROM federation_flows WHERE binding_hash = $2 AND provider_id = $3 AND purpose = 'link' AND expires_at > now()
                         ORDER BY created_at DESC LIMIT 1)
     RETURNING *`,
    [sha256(token), sha256(binding), providerId],
  );
  return r.rows[0] ? { flow: fromRow(r.rows[0]), token } : null;
}

/**
 * Records that `userId` was activated from the « aucun compte » page of the pending answer `token` (its activation
 * form carried the token): only that account may then be linked to it (/federation/:p/associer/activation). An
 * account activated otherwise in the same browser — the next person at a shared computer — is not. First one only.
 */
export async function markLinkActivation(db: Queryable, token: string, userId: string): Promise<void> {
  if (!token) return;
  await db.query(
    `UPDATE federation_flows SET candidates = ARRAY[$2::uuid] WHERE state_hash = $1 AND purpose = 'link' AND expires_at > now() AND candidates IS NULL`,
    [sha256(token), userId],
  );
}
