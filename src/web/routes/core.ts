// Web core: per-request session/CSRF/language hooks, the stylesheet, and HTML error pages.
import { createHash } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, extname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { FastifyError, FastifyInstance } from 'fastify';
import type { AppContext } from '../../context.js';
import { installAuth, isApi } from '../auth.js';
import { t } from '../i18n/index.js';
import { sendErrorPage } from '../layout.js';

const STATIC_DIR = join(dirname(fileURLToPath(import.meta.url)), '../static');
const TYPES: Record<string, string> = {
  '.css': 'text/css; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.woff2': 'font/woff2',
};

interface StaticFile {
  body: Buffer;
  type: string;
  etag: string;
}

/** Files of src/web/static, read once: small, and no path from the URL ever reaches the file system. */
function loadStatic(): Map<string, StaticFile> {
  const files = new Map<string, StaticFile>();
  for (const name of readdirSync(STATIC_DIR)) {
    const type = TYPES[extname(name)];
    if (!type) continue;
    const body = readFileSync(join(STATIC_DIR, name));
    files.set(name, { body, type, etag: `"${createHash('sha256').update(body).digest('hex').slice(0, 16)}"` });
  }
  return files;
}

export default async function core(app: FastifyInstance, ctx: AppContext): Promise<void> {
  installAuth(app, ctx);
  const files = loadStatic();

  app.get<{ Params: { name: string } }>('/static/:name', async (req, reply) => {
    const f = files.get(req.params.name);
    if (!f) return reply.callNotFound();
    reply.header('etag', f.etag).header('cache-control', 'public, max-age=3600');
    if (req.headers['if-none-match'] === f.etag) return reply.code(304).send();
    return reply.type(f.type).send(f.body);
  });

  app.setNotFoundHandler(async (req, reply) => {
    if (isApi(req)) return reply.code(404).send({ error: t(req.lang ?? 'fr', 'error.notFound') });
    return sendErrorPage(req, reply, 404, t(req.lang ?? 'fr', 'error.notFound'));
  });

  app.setErrorHandler(async (err: FastifyError, req, reply) => {
    const status = err.statusCode && err.statusCode >= 400 && err.statusCode < 600 ? err.statusCode : 500;
    if (status >= 500) req.log.error(err);
    // 4xx errors thrown by our own code carry a French message for the user; Fastify's own are technical.
    const own = status < 500 && err.message && !err.code?.startsWith('FST_') && !err.validation;
    const message = own ? err.message : t(req.lang ?? 'fr', status >= 500 ? 'error.internal' : 'error.badRequest');
    if (isApi(req)) return reply.code(status).send({ error: message });
    return sendErrorPage(req, reply, status, message);
  });
}
