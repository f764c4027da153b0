// The HTTP application: Fastify with one plugin per domain area.
import formbody from '@fastify/formbody';
import cookie from '@fastify/cookie';
import multipart from '@fastify/multipart';
import Fastify, { type FastifyInstance } from 'fastify';
import querystring from 'fast-querystring';
import type { AppContext } from '../context.js';

export type RoutePlugin = (app: FastifyInstance, ctx: AppContext) => Promise<void> | void;

// Each domain registers its routes here; order does not matter.
const plugins: Array<() => Promise<{ default: RoutePlugin }>> = [
  () => import('./routes/core.js'),
  () => import('./routes/account.js'),
  () => import('./routes/publipostage.js'),
  () => import('./routes/import-api.js'),
  () => import('./routes/classe.js'),
  () => import('./routes/templates.js'),
  () => import('./routes/doublons.js'),
  () => import('./routes/console.js'),
  () => import('./routes/api-tokens.js'),
  () => import('./routes/console-settings.js'),
  () => import('./routes/console-account-admin.js'),
  () => import('./routes/account-terms.js'),
];

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

export async function buildServer(ctx: AppContext, opts: { logger?: boolean } = {}): Promise<FastifyInstance> {
  const app = Fastify({ logger: opts.logger ?? false, trustProxy: ctx.config.trustProxy, bodyLimit: FORM_BODY_LIMIT });
  await app.register(cookie);
  await app.register(formbody, { parser: parseForm });
  await app.register(multipart, { limits: { fileSize: 200 * 1024 * 1024, files: 200 } });
  app.get('/healthz', async () => ({ ok: true }));
  for (const load of plugins) {
    const plugin = (await load()).default;
    await plugin(app, ctx);
  }
  return app;
}
