// The HTTP application: Fastify, the root plugins (sessions, CSRF, language, static files, errors), then one
// encapsulated plugin per URL area, registered with its prefix and guarded once inside:
//   account (/, /connexion, /activation, /mon-compte…), /classe, /console, /api, /jetons, /oidc, /applications.
import { randomUUID } from 'node:crypto';
import type { DestinationStream } from 'pino';
import cookie from '@fastify/cookie';
import formbody from '@fastify/formbody';
import multipart from '@fastify/multipart';
import Fastify, { LogController, type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify';
import { serializerCompiler, validatorCompiler } from 'fastify-type-provider-zod';
import querystring from 'fast-querystring';
import type { AppContext } from '../context.js';
import accountArea from './account/index.js';
import apiArea from './api/index.js';
import classeArea from './classe/index.js';
import consoleArea from './console/index.js';
import { installCore } from './core.js';
import tokensArea from './tokens/index.js';
import federationArea from './federation/index.js';
import oidcArea from '../oidc/routes.js';
import oidcClientsArea from '../oidc/console.js';

/**
 * One log line per request (Fastify writes two by default): method, path without its query (reset tokens
 * travel there), status, duration, the signed-in login; the request id comes with every line.
 */
class OneLinePerRequest extends LogController {
  incomingRequest(): void {}
  requestCompleted(_err: Error | null | undefined, req: FastifyRequest, reply: FastifyReply): void {
    req.log.info({ method: req.method, url: req.url.split('?')[0], status: reply.statusCode, ms: Math.round(reply.elapsedTime), user: req.user?.login }, 'request');
  }
}

/**
 * Bodies parsed in memory (urlencoded forms, JSON) are limited to what a form needs, on every route and before
 * CSRF is checked: anyone may post to /connexion. Files come only as multipart, which upload routes stream
 * with their own limits.
 */
export const FORM_BODY_LIMIT = 1024 * 1024;
/** Fields in one urlencoded body (the longest form, a class list with its ticked rows, has a few hundred). */
export const FORM_MAX_FIELDS = 2000;

function tooLarge(message: string): Error {
  return Object.assign(new Error(message), { statusCode: 413, code: 'FST_ERR_CTP_BODY_TOO_LARGE' });
}

/** fast-querystring (formbody's own parser) once the field count is known to be bounded. */
function parseForm(body: string): Record<string, unknown> {
  let fields = 1;
  for (let i = body.indexOf('&'); i !== -1; i = body.indexOf('&', i + 1)) {
    if (++fields > FORM_MAX_FIELDS) throw tooLarge('too many form fields');
  }
  return querystring.parse(body);
}

export interface ServerOptions {
  /** Where log lines go (tests capture them); standard output by default. */
  logStream?: DestinationStream;
}

export async function buildServer(ctx: AppContext, opts: ServerOptions = {}): Promise<FastifyInstance> {
  const app = Fastify({
    logger: { level: ctx.config.logLevel, ...(opts.logStream ? { stream: opts.logStream } : {}) },
    logController: new OneLinePerRequest(),
    // Our own ids, never a client's header: the id on an error page must lead to our log line.
    genReqId: () => randomUUID(),
    requestIdHeader: false,
    trustProxy: ctx.config.trustProxy,
    bodyLimit: FORM_BODY_LIMIT,
  });
  app.setValidatorCompiler(validatorCompiler);
  app.setSerializerCompiler(serializerCompiler);
  app.addHook('onRequest', async (req, reply) => {
    reply.header('x-request-id', req.id);
  });
  await app.register(cookie);
  await app.register(formbody, { parser: parseForm });
  await app.register(multipart, { limits: { fileSize: 200 * 1024 * 1024, files: 200 } });
  await installCore(app, ctx);

  await app.register(accountArea, { ctx });
  await app.register(classeArea, { ctx, prefix: '/classe' });
  await app.register(consoleArea, { ctx, prefix: '/console' });
  await app.register(apiArea, { ctx, prefix: '/api' });
  await app.register(tokensArea, { ctx, prefix: '/jetons' });
  await app.register(federationArea, { ctx, prefix: '/federation' });
  // Trousseau as the ENT's OpenID provider (src/oidc/): its endpoints and interactions, and the applications' screen.
  await app.register(oidcArea, { ctx, prefix: '/oidc' });
  await app.register(oidcClientsArea, { ctx, prefix: '/applications' });
  return app;
}
