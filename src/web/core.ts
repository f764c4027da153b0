// Web core: per-request session/CSRF/language hooks, static files (favicon included), error and 404 handlers.
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, extname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { AppContext } from '../context.js';
import { sha256 } from '../lib/crypto.js';
import { installAuth } from './auth.js';
import { HttpError, installRequestContext } from './context.js';
import { handleError, handleNotFound } from './errors.js';
import { t } from './i18n/index.js';

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

/**
 * The first field of a parsed query, form or JSON body whose name or value holds a NUL (`%00`, `\u0000`), else null.
 * No field means one, and PostgreSQL text cannot hold it: a search, a login or an address with one reached the
 * database and failed the request with a 500 (an anonymous `/activation?login=%00` among them).
 */
function nulField(v: unknown, field = '', depth = 0): string | null {
  if (typeof v === 'string') return v.includes('\u0000') ? field : null;
  if (v === null || typeof v !== 'object' || depth > 8) return null;
  for (const [k, x] of Object.entries(v)) {
    const name = field || k;
    if (k.includes('\u0000')) return name;
    const found = nulField(x, name, depth + 1);
    if (found !== null) return found;
  }
  return null;
}

/** Installed on the root instance (not encapsulated): its hooks and handlers apply to every area. */
export async function installCore(app: FastifyInstance, ctx: AppContext): Promise<void> {
  installRequestContext(app);
  installAuth(app, ctx);
  const files = loadStatic();
  // Before any route's schema and handler (multipart fields are read by their handlers: src/import/uploads.ts; an id in
  // the URL stays a 404 of its lookup, input.ts IdParams).
  app.addHook('preValidation', async (req) => {
    for (const part of [req.query, req.body]) {
      const field = nulField(part);
      if (field !== null) throw new HttpError(400, 'error.invalidParam', { field, reason: t(req.lang, 'error.nulChar') });
    }
  });

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
