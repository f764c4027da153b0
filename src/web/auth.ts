// Sessions, CSRF, language, roles and scope on each request. Other route plugins rely only on what is exported here.
//
// Sessions live in Postgres (table `sessions`): the cookie carries a random 32-byte token, the table only its
// SHA-256, so a database leak gives no usable session. Lifetime is FIXED at 8 hours from sign-in (a school day):
// simpler to reason about than a sliding window and it bounds a stolen cookie's usefulness.
import { randomBytes, timingSafeEqual } from 'node:crypto';
import { sha256 } from '../lib/crypto.js';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { TokenAction, TokenPrincipal } from '../accounts/api-tokens.js';
import type { AppContext } from '../context.js';
import { scopeSql, type Role, type Scope } from '../directory/scope.js';
import { t, type Lang, type MessageKey } from './i18n/index.js';
import { type ErrorPageOptions, sendErrorPage } from './layout.js';
import { safeNext } from './next.js';
import type { Queryable } from '../db/index.js';
import type pg from 'pg';
import { SIGN_IN_RULES_LOCK } from '../accounts/signins.js';
import { withTransaction } from '../accounts/tx.js';
import { passwordRefusedSql } from '../directory/policies.js';

export interface SessionUser {
  id: string;
  login: string;
  firstName: string;
  lastName: string;
  profile: string;
  roles: Role[];
  /** Structures this user administers (local admin); every structure for a super admin. */
  adminOf: string[];
  /** Classes this user teaches. */
  teacherOf: string[];
}

declare module 'fastify' {
  interface FastifyRequest {
    user: SessionUser | null;
    csrfToken: string | null;
    lang: 'fr' | 'en';
    /** SHA-256 of the session token, when signed in (to end every other session). */
    sessionIdHash: string | null;
    /**
     * When that session was opened (sessions.created_at, seconds since the epoch): the sign-in the OpenID provider
     * reports as `auth_time` and checks `max_age` and `prompt=login` against (src/oidc/routes.ts).
     */
    sessionOpenedAt: number | null;
    /** The token of an `Authorization: Bearer` request (scripts): such a request never has a session. */
    bearer: string | null;
    /** Set by guardOrToken (context.ts) once the bearer token is checked and allows the route's action. */
    apiToken: TokenPrincipal | null;
    /** The request carried a session cookie that no longer opens a session (expired, signed out elsewhere). */
    sessionExpired: boolean;
  }
  interface FastifyContextConfig {
    /** The route accepts an API token for this action (see guardOrToken in context.ts); no CSRF token then. */
    apiToken?: TokenAction;
    /** A cross-site POST authenticated by its own signed content (the SAML ACS): no CSRF token can come with it. */
    crossSitePost?: boolean;
    /**
     * A POST download launched from a GET form's button (post-download.ts): its CSRF token may come in the query
     * string, the form's own fields being shared with GET buttons that must not carry it.
     */
    csrfInQuery?: boolean;
  }
}

export const SESSION_COOKIE = 'trousseau_sid';
export const CSRF_COOKIE = 'trousseau_csrf';
export const LANG_COOKIE = 'lang';
export const SESSION_HOURS = 8;
const TOKEN_RE = /^[A-Za-z0-9_-]{43}$/; // base64url of 32 bytes

export { sha256 };
const newToken = (): string => randomBytes(32).toString('base64url');

// ---------------------------------------------------------------------------------------------- sessions

// An account absent from its feed (users.absent_since: the grace period before pre-deletion) still signs in to its
// own account, but holds no right over others': a head of school or a teacher who left would otherwise go on
// issuing codes and sheets for months (local admin from the feed's DIR, a teacher's classes). A class gives rights to
// its teachers only: staff in a class (an AAF teacher made Personnel by ENTPersonCategorieEnseignant N keeps the
// feed's classes, as the reference ENT keeps her in the class's Personnel group) are listed there, nothing more.
const USER_SQL = `
  SELECT u.id, u.login, u.first_name, u.last_name, u.profile, u.is_super_admin,
    CASE WHEN u.is_super_admin THEN ARRAY(SELECT id::text FROM structures ORDER BY name)
         WHEN u.absent_since IS NOT NULL THEN '{}'::text[]
         ELSE ARRAY(SELECT structure_id::text FROM local_admins WHERE user_id = u.id) END AS admin_of,
    CASE WHEN u.profile = 'Teacher' AND u.absent_since IS NULL THEN ARRAY(SELECT class_id::text FROM user_classes WHERE user_id = u.id)
         ELSE '{}'::text[] END AS teacher_of`;

// Blocked and pre-deleted accounts never resolve to a user, whatever sessions remain.
const ACTIVE_USER = `NOT u.blocked AND u.pre_deleted_at IS NULL`;

function toSessionUser(r: Record<string, unknown>): SessionUser {
  const adminOf = r.admin_of as string[];
  const roles: Role[] = [];
  // A super admin administers every structure, so it also holds the local-admin role.
  if (r.is_super_admin) roles.push('superadmin', 'localadmin');
  else if (adminOf.length > 0) roles.push('localadmin');
  if (r.profile === 'Teacher') roles.push('teacher');
  roles.push('user');
  return {
    id: r.id as string,
    login: r.login as string,
    firstName: r.first_name as string,
    lastName: r.last_name as string,
    profile: r.profile as string,
    roles,
    adminOf,
    teacherOf: r.teacher_of as string[],
  };
}

/** The user behind a session token, or null (unknown, expired, blocked, pre-deleted). */
export async function loadSession(pool: Queryable, token: string): Promise<{ user: SessionUser; csrf: string; idHash: string; openedAt: number } | null> {
  if (!TOKEN_RE.test(token)) return null;
  const idHash = sha256(token);
  const { rows } = await pool.query(
    `${USER_SQL}, s.csrf, ${OPENED_AT('s')} FROM sessions s JOIN users u ON u.id = s.user_id
     WHERE s.id_hash = $1 AND s.expires_at > now() AND ${ACTIVE_USER}`,
    [idHash],
  );
  if (rows.length === 0) return null;
  return { user: toSessionUser(rows[0]), csrf: rows[0].csrf as string, idHash, openedAt: rows[0].opened_at as number };
}

/** A sessions row's created_at in seconds since the epoch, as `opened_at`. */
const OPENED_AT = (s: string) => `extract(epoch FROM ${s}.created_at)::float8 AS opened_at`;

/** SessionUser for an account id (e.g. right after sign-in), null when blocked or pre-deleted. */
export async function loadUser(pool: Queryable, userId: string): Promise<SessionUser | null> {
  const { rows } = await pool.query(`${USER_SQL} FROM users u WHERE u.id = $1 AND ${ACTIVE_USER}`, [userId]);
  return rows.length ? toSessionUser(rows[0]) : null;
}

export interface NewSession {
  token: string;
  csrf: string;
  idHash: string;
  expiresAt: Date;
  /** sessions.created_at, seconds since the epoch. */
  openedAt: number;
}

function newSession(userId: string) {
  const token = newToken();
  const csrf = newToken();
  return { token, csrf, idHash: sha256(token), userId };
}

/** Inserts the session `s` (`onlyIf`: a FROM … WHERE its insertion needs); its expiry, none when `onlyIf` refused it. */
async function insertSession(db: Queryable, s: ReturnType<typeof newSession>, onlyIf = ''): Promise<NewSession | null> {
  // Housekeeping on the way, in the same statement (one round trip less per sign-in): this user's expired sessions go.
  const { rows } = await db.query(
    `WITH expired AS (DELETE FROM sessions WHERE user_id = $2 AND expires_at <= now())
     INSERT INTO sessions (id_hash, user_id, csrf, expires_at) SELECT $1, $2, $3, now() + make_interval(hours => $4) ${onlyIf}
     RETURNING expires_at, ${OPENED_AT('sessions')}`,
    [s.idHash, s.userId, s.csrf, SESSION_HOURS],
  );
  return rows.length ? { token: s.token, csrf: s.csrf, idHash: s.idHash, expiresAt: rows[0].expires_at as Date, openedAt: rows[0].opened_at as number } : null;
}

/** A session of `userId` whatever its state (scripts and tests; startSession signs a person in: openSession). */
export async function createSession(pool: Queryable, userId: string): Promise<NewSession> {
  const s = await insertSession(pool, newSession(userId));
  if (!s) throw new Error('session not inserted'); // nothing refuses an insertion without `onlyIf`
  return s;
}

/**
 * The account may hold a session: neither blocked nor pre-deleted, read under a key-share lock of its row (the
 * one the session's foreign key takes anyway). Blocking (setBlocked) locks the row FOR UPDATE, blocks it and ends
 * its sessions in one transaction: an insert that checked the account before waits for that transaction, reads the
 * committed row again (READ COMMITTED re-checks a locked row) and inserts nothing — else its session, inserted
 * after the sessions were ended, came back at unblocking. A key-share lock waits for no plain UPDATE: a long import
 * writing the account does not hold its sign-in back. `also`: a further condition on `u`.
 */
const liveAccount = (also = 'TRUE') => `FROM users u WHERE u.id = $2 AND NOT u.blocked AND u.pre_deleted_at IS NULL AND ${also} FOR KEY SHARE OF u`;

/** A session of a live account (liveAccount), null when it is no longer one. */
export function openSession(pool: Queryable, userId: string): Promise<NewSession | null> {
  return insertSession(pool, newSession(userId), liveAccount());
}

/**
 * A session opened with the Trousseau password (or a code that just set it): inserted in one transaction under the
 * shared sign-in rules' lock (SIGN_IN_RULES_LOCK), and only if the account's schools still let its password sign it
 * in (passwordRefusedSql) and it is live (liveAccount) — null otherwise, nothing inserted. The caller checked that rule before hashing the
 * password; a « Paramètres » save that switched the profile to an identity provider meanwhile has either ended this
 * session already (it waited for the lock) or is read here. Sign-ins share the lock: they never wait for each other.
 */
export async function createPasswordSession(pool: Pick<pg.Pool, 'connect'>, userId: string): Promise<NewSession | null> {
  return withTransaction(pool, async (c) => {
    // Its own statement: the rule is then read with a snapshot taken once the lock is held (after any save).
    await c.query('SELECT pg_advisory_xact_lock_shared($1)', [SIGN_IN_RULES_LOCK]);
    return insertSession(c, newSession(userId), liveAccount(`${passwordRefusedSql('u')} IS NULL`));
  });
}

function secureCookies(ctx: AppContext): boolean {
  return ctx.config.publicUrl.startsWith('https:');
}

/**
 * Signs the user in on this response: a fresh session (never reuses the anonymous one: no fixation),
 * the cookie set, last_login_at recorded, and request.user/csrfToken updated for the rest of the request.
 * `password`: opened with the Trousseau password or a code (createPasswordSession's rule check); null when it is refused.
 * The cookie ends with the browser unless `remember` (the "rester connecté" box): a shared classroom computer
 * must not keep the previous pupil signed in. The session itself ends after SESSION_HOURS either way.
 */
export async function startSession(ctx: AppContext, req: FastifyRequest, reply: FastifyReply, userId: string, opts: { remember?: boolean; password?: boolean } = {}): Promise<SessionUser | null> {
  const pool = ctx.database.pool;
  const user = await loadUser(pool, userId);
  if (!user) return null;
  // `password`: refused (null, nothing changed) when the account's schools now sign it in only through a provider.
  const s = opts.password ? await createPasswordSession(pool, userId) : await openSession(pool, userId);
  if (!s) return null;
  if (req.sessionIdHash) await pool.query('DELETE FROM sessions WHERE id_hash = $1', [req.sessionIdHash]);
  await pool.query('UPDATE users SET last_login_at = now() WHERE id = $1', [userId]);
  reply.setCookie(SESSION_COOKIE, s.token, {
    path: '/',
    httpOnly: true,
    sameSite: 'lax',
    secure: secureCookies(ctx),
    ...(opts.remember ? { expires: s.expiresAt } : {}),
  });
  req.user = user;
  req.csrfToken = s.csrf;
  req.sessionIdHash = s.idHash;
  req.sessionOpenedAt = s.openedAt;
  return user;
}

/** Signs out: deletes this session row and clears the cookie. */
export async function stopSession(ctx: AppContext, req: FastifyRequest, reply: FastifyReply): Promise<void> {
  if (req.sessionIdHash) await ctx.database.pool.query('DELETE FROM sessions WHERE id_hash = $1', [req.sessionIdHash]);
  reply.clearCookie(SESSION_COOKIE, { path: '/', httpOnly: true, sameSite: 'lax', secure: secureCookies(ctx) });
  req.user = null;
  req.sessionIdHash = null;
  req.sessionOpenedAt = null;
}

// ---------------------------------------------------------------------------------------------- language

function pickLang(req: FastifyRequest, reply: FastifyReply, secure: boolean): Lang {
  const q = (req.query as Record<string, unknown> | undefined)?.lang;
  if (q === 'fr' || q === 'en') {
    reply.setCookie(LANG_COOKIE, q, { path: '/', sameSite: 'lax', secure, maxAge: 365 * 86_400 });
    return q;
  }
  const c = req.cookies[LANG_COOKIE];
  if (c === 'fr' || c === 'en') return c;
  // Accept-Language: the preferred of fr/en by q-value; French when neither is listed.
  let best: Lang = 'fr';
  let bestQ = -1;
  for (const part of (req.headers['accept-language'] ?? '').split(',')) {
    const [tag, ...ps] = part.trim().toLowerCase().split(';');
    const qv = ps.map((p) => p.trim()).find((p) => p.startsWith('q='));
    const weight = qv ? Number(qv.slice(2)) : 1;
    const l = tag.startsWith('fr') ? 'fr' : tag.startsWith('en') ? 'en' : null;
    if (l && weight > bestQ) {
      best = l;
      bestQ = weight;
    }
  }
  return best;
}

// ---------------------------------------------------------------------------------------------- request kinds

/** Refusal before any route code runs, answered as the area answers (JSON areas mark requests in onRequest). */
function deny(req: FastifyRequest, reply: FastifyReply, status: number, key: MessageKey, page: ErrorPageOptions = {}): FastifyReply {
  const message = t(req.lang ?? 'fr', key);
  if (req.responseKind === 'json') return reply.code(status).send({ error: message, requestId: req.id });
  return sendErrorPage(req, reply, status, message, page);
}

/** The page a form was sent from (a same-site Referer's path and query), or null: where to go back to. */
function formPage(req: FastifyRequest): string | null {
  const referer = req.headers.referer;
  if (!referer) return null;
  try {
    const u = new URL(referer);
    const host = req.headers.host;
    if (!host || u.host !== host) return null;
    // The form's own token is never copied into a link (post-download.ts puts it in some URLs).
    u.searchParams.delete('_csrf');
    // A same-host Referer may still carry a path such as `//elsewhere.example/` (a link off the site).
    const page = safeNext(u.pathname + u.search);
    return page === '/' ? null : page;
  } catch {
    return null;
  }
}

/**
 * A form whose CSRF token does not match. Its session ended while it was open (the usual case for a family: the
 * page left open for hours): sign in again, told so, then back to the form's page — or, for « Se déconnecter »,
 * simply signed out. Otherwise (the anonymous cookie gone, a forged post): a page whose title names the refusal
 * and whose link reopens the form; reloading the refused POST would send the same stale token again.
 */
function refuseForm(req: FastifyRequest, reply: FastifyReply): FastifyReply {
  if (req.sessionExpired && req.responseKind !== 'json') {
    if (req.routeOptions.url === '/deconnexion') return reply.redirect('/connexion?bye=1', 303);
    const next = formPage(req);
    return reply.redirect(`/connexion?${new URLSearchParams({ expiree: '1', ...(next ? { next } : {}) }).toString()}`, 303);
  }
  return deny(req, reply, 403, 'error.csrf', { title: t(req.lang ?? 'fr', 'error.csrfTitle'), error: true, back: formPage(req) });
}

// ---------------------------------------------------------------------------------------------- CSRF

const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);

function sameToken(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}

/**
 * The token a mutation carries: `_csrf` form field, `x-csrf-token` header, or — for multipart uploads only,
 * whose body is streamed to the handler after this check, and for POST downloads launched from a GET form
 * (route config `csrfInQuery`) — `_csrf` in the form's action query string.
 */
function submittedToken(req: FastifyRequest): string | null {
  const header = req.headers['x-csrf-token'];
  if (typeof header === 'string' && header) return header;
  const body = req.body as Record<string, unknown> | null | undefined;
  if (body && typeof body === 'object' && typeof body._csrf === 'string') return body._csrf;
  if ((req.headers['content-type'] ?? '').startsWith('multipart/form-data') || req.routeOptions.config?.csrfInQuery) {
    const q = (req.query as Record<string, unknown> | undefined)?._csrf;
    if (typeof q === 'string') return q;
  }
  return null;
}

// ---------------------------------------------------------------------------------------------- plugin

/** Installs the per-request hooks (language, session, CSRF). Called once by the web core plugin. */
export function installAuth(app: FastifyInstance, ctx: AppContext): void {
  const secure = secureCookies(ctx);
  app.decorateRequest('user', null);
  app.decorateRequest('csrfToken', null);
  app.decorateRequest('lang', 'fr');
  app.decorateRequest('sessionIdHash', null);
  app.decorateRequest('sessionOpenedAt', null);
  app.decorateRequest('bearer', null);
  app.decorateRequest('apiToken', null);
  app.decorateRequest('sessionExpired', false);

  app.addHook('onRequest', async (req, reply) => {
    req.lang = pickLang(req, reply, secure);
    const bearer = /^Bearer +(\S+)$/i.exec(req.headers.authorization ?? '');
    if (bearer) {
      // A script: the token is its only credential. Any session cookie that came along is ignored, so a token
      // never borrows a session's rights (and a session never skips CSRF by adding a bogus bearer).
      req.bearer = bearer[1];
      return;
    }
    const token = req.cookies[SESSION_COOKIE];
    if (token) {
      const s = await loadSession(ctx.database.pool, token);
      if (s) {
        req.user = s.user;
        req.csrfToken = s.csrf;
        req.sessionIdHash = s.idHash;
        req.sessionOpenedAt = s.openedAt;
        return;
      }
      req.sessionExpired = true;
      reply.clearCookie(SESSION_COOKIE, { path: '/', httpOnly: true, sameSite: 'lax', secure });
    }
    // Anonymous forms (sign-in, activation, forgotten password) use a double-submit cookie.
    let anon = req.cookies[CSRF_COOKIE];
    if (!anon || !TOKEN_RE.test(anon)) {
      anon = newToken();
      reply.setCookie(CSRF_COOKIE, anon, { path: '/', httpOnly: true, sameSite: 'lax', secure });
    }
    req.csrfToken = anon;
  });

  // After body parsing, before any route handler or guard.
  app.addHook('preValidation', async (req, reply) => {
    if (SAFE_METHODS.has(req.method)) return;
    // Browsers never add an Authorization header on their own (cross-site, it needs a CORS preflight we do not
    // answer), so a bearer request cannot be forged by another site; requireRoleOrToken checks the token.
    if (req.bearer !== null && req.routeOptions.config?.apiToken) return;
    if (req.routeOptions.config?.crossSitePost) return;
    const expected = req.user ? req.csrfToken : req.cookies[CSRF_COOKIE];
    const got = submittedToken(req);
    if (!expected || !got || !sameToken(expected, got)) return refuseForm(req, reply);
  });

  // Defence in depth for every HTML page; referrer kept in-site so reset tokens in URLs do not leak.
  app.addHook('onSend', async (_req, reply, payload) => {
    reply.header('x-content-type-options', 'nosniff');
    // Served over https (public URL): browsers must never come back over plain http (cookie theft, downgrade).
    if (secure) reply.header('strict-transport-security', 'max-age=31536000');
    if (!reply.hasHeader('referrer-policy')) reply.header('referrer-policy', 'same-origin');
    const type = String(reply.getHeader('content-type') ?? '');
    if (type.startsWith('text/html')) {
      reply.header('x-frame-options', 'DENY');
      reply.header(
        'content-security-policy',
        "default-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'; script-src 'self'; " + "object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'",
      );
      if (!reply.hasHeader('cache-control')) reply.header('cache-control', 'no-store');
    }
    return payload;
  });
}

// ---------------------------------------------------------------------------------------------- guards

/** Whether the user holds the role (a super admin also holds 'localadmin'; everyone signed in holds 'user'). */
export function hasRole(user: SessionUser | null, ...roles: Role[]): boolean {
  return !!user && roles.some((r) => user.roles.includes(r));
}

/** The widest scope the user's roles give (super admin > local admin > teacher > self). */
export function scopeOf(user: SessionUser): Scope {
  if (user.roles.includes('superadmin')) return { kind: 'all' };
  if (user.roles.includes('localadmin')) return { kind: 'structures', structureIds: user.adminOf, userId: user.id };
  if (user.roles.includes('teacher')) return { kind: 'classes', classIds: user.teacherOf };
  return { kind: 'self', userId: user.id };
}

/**
 * Whether `user` may see one account: itself always; a super admin everything; a local admin the accounts
 * attached to its structures (and the parents of their students) but never a super admin's; a teacher the
 * students of its classes and those students' parents.
 */
export async function canSeeUser(pool: Queryable, user: SessionUser, targetUserId: string): Promise<boolean> {
  if (targetUserId === user.id) return true;
  if (!/^[0-9a-f-]{36}$/i.test(targetUserId)) return false;
  if (user.roles.includes('superadmin')) {
    const r = await pool.query('SELECT 1 FROM users WHERE id = $1', [targetUserId]);
    return r.rowCount === 1;
  }
  // Union of every role's scope: a local admin who also teaches sees both.
  const params: unknown[] = [targetUserId];
  const conds: string[] = [];
  if (user.roles.includes('localadmin')) conds.push(scopeSql({ kind: 'structures', structureIds: user.adminOf }, 'u', params));
  if (user.roles.includes('teacher')) conds.push(scopeSql({ kind: 'classes', classIds: user.teacherOf }, 'u', params));
  if (conds.length === 0) return false;
  const r = await pool.query(`SELECT 1 FROM users u WHERE u.id = $1 AND (${conds.join(' OR ')})`, params);
  return r.rowCount === 1;
}
