// The typed request context every area works with: who is asking (resolved once by the area's guard), with
// which scope, and whether the area answers pages or JSON. Handlers read `viewer(req)` and never `req.user!`.
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { verifyApiToken, type TokenAction } from '../accounts/api-tokens.js';
import type { AppContext } from '../context.js';
import type { Role, Scope } from '../directory/scope.js';
import { hasRole, scopeOf, type SessionUser } from './auth.js';
import type { MessageKey } from './i18n/index.js';

/** The signed-in caller of a guarded route and the widest scope its roles give. */
export interface Viewer {
  user: SessionUser;
  scope: Scope;
}

/** How an area answers, errors included: HTML pages (and redirects to sign in) or JSON. */
export type ResponseKind = 'page' | 'json';

declare module 'fastify' {
  interface FastifyRequest {
    /** Set by the area's guard; null on public routes. */
    viewer: Viewer | null;
    responseKind: ResponseKind;
  }
}

/** Decorates the request once (root instance). */
export function installRequestContext(app: FastifyInstance): void {
  app.decorateRequest('viewer', null);
  app.decorateRequest('responseKind', 'page');
}

/** Marks every route (and 404) of this encapsulated area as JSON. */
export function answerJson(app: FastifyInstance): void {
  app.addHook('onRequest', async (req) => {
    req.responseKind = 'json';
  });
}

/**
 * The guard of an area (one preValidation hook for all its routes: after the root's CSRF check, before the
 * route's schema, so an anonymous caller is sent to sign in rather than told its query is invalid): without a session, 401 (JSON) or a redirect
 * to /connexion?next=… (page); without one of the roles, 403; otherwise the Viewer is resolved once.
 * `guard()` with no role only requires a signed-in user.
 */
export function guard(...roles: Role[]) {
  return async (req: FastifyRequest, reply: FastifyReply): Promise<void> => {
    const user = req.user;
    if (!user) {
      if (req.responseKind === 'json') throw new HttpError(401, 'error.unauthenticated');
      const next = req.method === 'GET' ? req.url : new URL(req.url, 'http://local').pathname;
      await reply.redirect(`/connexion?next=${encodeURIComponent(next)}`, 303);
      return;
    }
    if (roles.length > 0 && !hasRole(user, ...roles)) throw new HttpError(403, 'error.forbidden');
    req.viewer = { user, scope: scopeOf(user) };
  };
}

/**
 * The guard of routes scripts may call: a bearer request must carry a valid, unrevoked API token allowing
 * `action` (401 otherwise; then req.apiToken is set and the handler scopes the work with tokenScope); any other
 * request goes through guard(...roles). The route must also declare `config: { apiToken: action }`.
 */
export function guardOrToken(ctx: AppContext, action: TokenAction, ...roles: Role[]) {
  const byRole = guard(...roles);
  return async (req: FastifyRequest, reply: FastifyReply): Promise<void> => {
    if (req.bearer === null) return byRole(req, reply);
    const check = await verifyApiToken(ctx.database.pool, req.bearer, req.ip);
    if (!check.ok || !check.token.actions.includes(action) || req.routeOptions.config?.apiToken !== action) {
      reply.header('www-authenticate', 'Bearer');
      throw new HttpError(401, 'error.badToken');
    }
    req.apiToken = check.token;
  };
}

/** The Viewer of a guarded route; a route reaching this without a guard is a programming error. */
export function viewer(req: FastifyRequest): Viewer {
  if (!req.viewer) throw new Error(`route ${req.routeOptions.url ?? req.url} has no guard`);
  return req.viewer;
}

/** An HTTP refusal raised by the web layer itself, with a catalogue key (translated by the error handler). */
export class HttpError extends Error {
  constructor(
    readonly statusCode: number,
    readonly key: MessageKey,
    readonly params: Record<string, string | number> = {},
  ) {
    super(key);
    this.name = 'HttpError';
  }
}
