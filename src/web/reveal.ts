// One-time display of a code after post/redirect/get: the POST stashes the code (encrypted, bound to the
// admin's session, 10 minutes), the GET it redirects to takes it once. A reload finds nothing: the page then
// says the code was already shown instead of silently issuing another one (migration 0013).
import type { FastifyRequest } from 'fastify';
import type { AppContext } from '../context.js';
import { isUuid } from '../directory/users.js';

const TTL_MINUTES = 10;

/** Stores `code` for one later read by this session about `userId`; returns the id to put in the redirect. */
export async function stashCode(ctx: AppContext, req: FastifyRequest, userId: string, code: string): Promise<string> {
  const pool = ctx.database.pool;
  await pool.query('DELETE FROM revealed_codes WHERE expires_at <= now()');
  const r = await pool.query<{ id: string }>(
    `INSERT INTO revealed_codes (session_id_hash, user_id, code_enc, expires_at)
     VALUES ($1, $2, $3, now() + make_interval(mins => $4)) RETURNING id`,
    [req.sessionIdHash ?? '', userId, ctx.secrets.encrypt(code), TTL_MINUTES],
  );
  return r.rows[0].id;
}

/**
 * The stashed code and the account it is for, removed as it is read; null when already read, expired, not this
 * session's, or (when `userId` is given) about another account.
 */
export async function takeCode(ctx: AppContext, req: FastifyRequest, id: string, userId?: string): Promise<{ code: string; userId: string } | null> {
  if (!isUuid(id) || !req.sessionIdHash) return null;
  const r = await ctx.database.pool.query<{ code_enc: string; user_id: string }>(
    `DELETE FROM revealed_codes WHERE id = $1 AND session_id_hash = $2 AND ($3::uuid IS NULL OR user_id = $3) AND expires_at > now()
     RETURNING code_enc, user_id`,
    [id, req.sessionIdHash, userId ?? null],
  );
  return r.rows[0] ? { code: ctx.secrets.decrypt(r.rows[0].code_enc), userId: r.rows[0].user_id } : null;
}
