// API tokens for scripts: a super admin creates one (console or `trousseau jeton`), scoped to structures (or to
// every structure) and to the import action; a script sends it as `Authorization: Bearer <token>` on
// POST /api/import. Nothing else accepts it.
//
// Shape: `trs_<prefix>_<secret>` — prefix: 10 hex chars, unique, finds the row; secret: 32 random bytes in
// base64url. Only the SHA-256 of the whole token is stored, so a database leak gives no usable token; the token
// is shown once. Revoking keeps the row (audit trail); every use records last_used_at and the client address.
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import type { Queryable } from '../db/index.js';
import { recordAudit } from '../directory/audit.js';
import type { Scope } from '../directory/scope.js';
import { isUuid } from '../directory/users.js';
import { DomainError, type DomainCode, type DomainParams } from '../lib/errors.js';

/** The only action a token can carry today (the column leaves room for others). */
export type TokenAction = 'import';

const TOKEN_RE = /^trs_([0-9a-f]{10})_[A-Za-z0-9_-]{43}$/;

const hashToken = (token: string): string => createHash('sha256').update(token).digest('hex');

/** Who a valid token speaks for, as the import route needs it. */
export interface TokenPrincipal {
  id: string;
  name: string;
  prefix: string;
  actions: TokenAction[];
  allStructures: boolean;
  structureIds: string[];
  /** The super admin who created it (null when created from the command line): actor of the imports it runs. */
  createdBy: string | null;
}

export interface ApiTokenRow extends TokenPrincipal {
  createdByLogin: string | null;
  createdAt: Date;
  lastUsedAt: Date | null;
  lastUsedIp: string | null;
  revokedAt: Date | null;
  /** False when the super admin who created it no longer is one (ISSUER_VALID_SQL): the token is refused. */
  issuerValid: boolean;
  /** Names of the structures (in structureIds order, unknown ones left out). */
  structures: Array<{ id: string; name: string; uai: string | null }>;
}

/** Bad input to createApiToken: the field at fault and a message code (French `message` for the command line). */
export class TokenInputError extends DomainError {
  readonly statusCode = 400;
  constructor(
    readonly field: 'name' | 'structures',
    code: Extract<DomainCode, `token.${string}`>,
    params?: DomainParams,
  ) {
    super(code, params);
    this.name = 'TokenInputError';
  }
}

/** The import scope a token gives: every structure, or its own list (see src/directory/scope.ts). */
export function tokenScope(t: Pick<TokenPrincipal, 'allStructures' | 'structureIds'>): Scope {
  return t.allStructures ? { kind: 'all' } : { kind: 'structures', structureIds: t.structureIds };
}

/**
 * SQL (over api_tokens `t`): whether the token's issuer still stands behind it. A token created in the console speaks
 * for its super admin (the imports it runs are theirs): once that person is demoted, blocked, pre-deleted or erased,
 * an all-schools import token in a departed administrator's hands would still rewrite every family's address (then
 * a reset link takes the account). A token created on the server's command line has no issuer to lose.
 */
const ISSUER_VALID_SQL = `(NOT t.issued_by_person OR EXISTS (SELECT 1 FROM users iu WHERE iu.id = t.created_by
  AND iu.is_super_admin AND NOT iu.blocked AND iu.pre_deleted_at IS NULL))`;

export interface NewToken {
  name: string;
  /** Structure ids, UAIs or external ids; ignored when allStructures. */
  structures: string[];
  allStructures?: boolean;
  actorId: string | null;
  /** How it was created, for the audit row. */
  via: 'console' | 'cli';
}

/**
 * Creates a token and returns it in clear (the only time it exists outside the caller's hands) with its row id.
 * Structures may be given by id, UAI or external id; an unknown one throws TokenInputError naming it.
 */
export async function createApiToken(db: Queryable, input: NewToken): Promise<{ id: string; prefix: string; token: string; structureIds: string[] }> {
  const name = input.name.replace(/[\u0000-\u001f]/g, '').trim();
  if (!name || name.length > 100) throw new TokenInputError('name', 'token.name');
  const structureIds: string[] = [];
  if (!input.allStructures) {
    const wanted = [...new Set(input.structures.map((s) => s.trim()).filter(Boolean))];
    if (!wanted.length) throw new TokenInputError('structures', 'token.noStructure');
    const { rows } = await db.query<{ id: string; uai: string | null; external_id: string | null }>(
      'SELECT id, uai, external_id FROM structures',
    );
    for (const w of wanted) {
      const s = rows.find((r) => (isUuid(w) && r.id === w.toLowerCase()) || r.uai?.toUpperCase() === w.toUpperCase() || r.external_id === w);
      if (!s) throw new TokenInputError('structures', 'token.unknownStructure', { value: w });
      if (!structureIds.includes(s.id)) structureIds.push(s.id);
    }
  }
  const prefix = randomBytes(5).toString('hex');
  const token = `trs_${prefix}_${randomBytes(32).toString('base64url')}`;
  const { rows } = await db.query<{ id: string }>(
    `INSERT INTO api_tokens (name, prefix, secret_hash, all_structures, structure_ids, created_by, issued_by_person)
     VALUES ($1, $2, $3, $4, $5::uuid[], $6::uuid, $6::uuid IS NOT NULL) RETURNING id`,
    [name, prefix, hashToken(token), !!input.allStructures, structureIds, input.actorId],
  );
  await recordAudit(db, input.actorId, 'api_token.create', {
    tokenId: rows[0].id, prefix, name, allStructures: !!input.allStructures, structureIds, via: input.via,
  });
  return { id: rows[0].id, prefix, token, structureIds };
}

/** Every token, newest first, revoked ones included. */
export async function listApiTokens(db: Queryable): Promise<ApiTokenRow[]> {
  const { rows } = await db.query(
    `SELECT t.*, u.login AS created_by_login, ${ISSUER_VALID_SQL} AS issuer_valid,
       coalesce((SELECT json_agg(json_build_object('id', s.id, 'name', s.name, 'uai', s.uai) ORDER BY array_position(t.structure_ids, s.id))
                 FROM structures s WHERE s.id = ANY(t.structure_ids)), '[]') AS structures
     FROM api_tokens t LEFT JOIN users u ON u.id = t.created_by
     ORDER BY t.created_at DESC, t.prefix`,
  );
  return rows.map((r) => ({
    ...principal(r),
    createdByLogin: r.created_by_login as string | null,
    createdAt: r.created_at as Date,
    lastUsedAt: r.last_used_at as Date | null,
    lastUsedIp: r.last_used_ip as string | null,
    revokedAt: r.revoked_at as Date | null,
    issuerValid: r.issuer_valid as boolean,
    structures: r.structures as ApiTokenRow['structures'],
  }));
}

function principal(r: Record<string, unknown>): TokenPrincipal {
  return {
    id: r.id as string,
    name: r.name as string,
    prefix: r.prefix as string,
    actions: r.actions as TokenAction[],
    allStructures: r.all_structures as boolean,
    structureIds: r.structure_ids as string[],
    createdBy: r.created_by as string | null,
  };
}

/** Revokes a token given by id or prefix; false when there is no such live token. Audited. */
export async function revokeApiToken(db: Queryable, idOrPrefix: string, actorId: string | null, via: 'console' | 'cli'): Promise<boolean> {
  const key = idOrPrefix.trim().toLowerCase();
  const byId = isUuid(key);
  const { rows } = await db.query<{ id: string; prefix: string; name: string }>(
    `UPDATE api_tokens SET revoked_at = now(), revoked_by = $2
     WHERE ${byId ? 'id = $1::uuid' : 'prefix = $1'} AND revoked_at IS NULL RETURNING id, prefix, name`,
    [byId ? key : key.replace(/^trs_/, '').slice(0, 10), actorId],
  );
  if (!rows[0]) return false;
  await recordAudit(db, actorId, 'api_token.revoke', { tokenId: rows[0].id, prefix: rows[0].prefix, name: rows[0].name, via });
  return true;
}

export type TokenCheck = { ok: true; token: TokenPrincipal } | { ok: false; reason: 'malformed' | 'unknown' | 'revoked' | 'issuer' };

/**
 * Checks a presented token: well-formed, known prefix, same hash (constant-time), not revoked, its issuer still a
 * super admin (ISSUER_VALID_SQL). A valid token's use is recorded (last_used_at, last_used_ip). A known prefix with a
 * wrong secret, a revoked token or one whose issuer lost the rights is audited
 * (`api_token.refused`): someone holds an old or forged token.
 */
export async function verifyApiToken(db: Queryable, presented: string, ip: string | null): Promise<TokenCheck> {
  const m = TOKEN_RE.exec(presented);
  if (!m) return { ok: false, reason: 'malformed' };
  const { rows } = await db.query(`SELECT t.*, ${ISSUER_VALID_SQL} AS issuer_valid FROM api_tokens t WHERE t.prefix = $1`, [m[1]]);
  const row = rows[0];
  if (!row) return { ok: false, reason: 'unknown' };
  const same = timingSafeEqual(Buffer.from(hashToken(presented), 'hex'), Buffer.from(row.secret_hash as string, 'hex'));
  if (!same || row.revoked_at || !row.issuer_valid) {
    const reason = !same ? 'unknown' : row.revoked_at ? 'revoked' : 'issuer';
    await recordAudit(db, null, 'api_token.refused', { tokenId: row.id, prefix: row.prefix, reason, ip });
    return { ok: false, reason };
  }
  await db.query('UPDATE api_tokens SET last_used_at = now(), last_used_ip = $2 WHERE id = $1', [row.id, ip]);
  return { ok: true, token: principal(row) };
}
