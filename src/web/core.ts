// Web core: per-request session/CSRF/language hooks, static files (favicon included), error and 404 handlers.
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, extname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { AppContext } from '../context.js';
import { sha256 } from '../lib/crypto.js';
import { installAuth } from './auth.js';
import { installRequestContext } from './context.js';
import { handleError, handleNotFound } from './errors.js';

const STATIC_DIR = join(dirname(fileURLToPath(import.meta.url)), 'static');
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
    files.set(name, { body, type, etag: `"${sha256(body).slice(0, 16)}"` });
  }
  return files;
}

/** Installed on the root instance (not encapsulated): its hooks and handlers apply to every area. */
export async function installCore(app: FastifyInstance, ctx: AppContext): Promise<void> {
  installRequestContext(app);
  installAuth(app, ctx);
  const files = loadStatic();

  const sendStatic = (name: string) => async (req: FastifyRequest, reply: FastifyReply) => {
    const f = files.get(name);
    if (!f) return reply.callNotFound();
    reply.header('etag', f.etag).header('cache-control', 'public, max-age=3600');
    if (req.headers['if-none-match'] === f.etag) return reply.code(304).send();
    return reply.type(f.type).send(f.body);
  };
  app.get<{ Params: { name: string } }>('/static/:name', (req, reply) => sendStatic(req.params.name)(req, reply));
  // Browsers ask for it on every page whatever the markup says.
  app.get('/favicon.ico', sendStatic('favicon.svg'));
  app.get('/healthz', async () => ({ ok: true }));

  app.setNotFoundHandler(handleNotFound);
  app.setErrorHandler(handleError);
}
