// The HTTP application: Fastify with one plugin per domain area.
import formbody from '@fastify/formbody';
import cookie from '@fastify/cookie';
import multipart from '@fastify/multipart';
import Fastify, { type FastifyInstance } from 'fastify';
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

export async function buildServer(ctx: AppContext, opts: { logger?: boolean } = {}): Promise<FastifyInstance> {
  const app = Fastify({ logger: opts.logger ?? false, trustProxy: ctx.config.trustProxy, bodyLimit: 50 * 1024 * 1024 });
  await app.register(cookie);
  await app.register(formbody);
  await app.register(multipart, { limits: { fileSize: 200 * 1024 * 1024, files: 200 } });
  app.get('/healthz', async () => ({ ok: true }));
  for (const load of plugins) {
    const plugin = (await load()).default;
    await plugin(app, ctx);
  }
  return app;
}
