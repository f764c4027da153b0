// HTTP test helpers: a cookie-keeping client over app.inject(), sessions and account rows made directly in SQL,
// multipart upload bodies.
import { after } from 'node:test';
import type { FastifyInstance, LightMyRequestResponse } from 'fastify';
import type pg from 'pg';
import { issueActivationCode } from '../../src/accounts/issue.js';
import { hashPassword } from '../../src/accounts/passwords.js';
import type { Secrets } from '../../src/accounts/secrets.js';
import type { AppContext } from '../../src/context.js';
import { createSession, SESSION_COOKIE } from '../../src/web/auth.js';
import { buildServer } from '../../src/web/server.js';

/** A browser stand-in: keeps cookies, remembers the last page's CSRF token and sends it with forms. */
export class Client {
  readonly cookies = new Map<string, string>();
  csrf: string | null = null;

  constructor(readonly app: FastifyInstance, readonly ip = '203.0.113.10') {}

  private cookieHeader(): string {
    return [...this.cookies].map(([k, v]) => `${k}=${v}`).join('; ');
  }

  private keep(res: LightMyRequestResponse): LightMyRequestResponse {
    for (const c of res.cookies as Array<{ name: string; value: string; expires?: Date; maxAge?: number }>) {
      const gone = c.value === '' || (c.expires && c.expires.getTime() <= Date.now()) || c.maxAge === 0;
      if (gone) this.cookies.delete(c.name);
      else this.cookies.set(c.name, c.value);
    }
    const m = /name="_csrf" value="([^"]+)"/.exec(res.body);
    if (m) this.csrf = m[1];
    return res;
  }

  async get(url: string, headers: Record<string, string> = {}): Promise<LightMyRequestResponse> {
    return this.keep(await this.app.inject({ method: 'GET', url, remoteAddress: this.ip, headers: { cookie: this.cookieHeader(), ...headers } }));
  }

  /** POSTs a urlencoded form; `_csrf` is added from the last page unless `csrf: false`. */
  /** A form POST; a list value is sent as repeated fields (`ids=a&ids=b`, ticked rows). */
  async post(url: string, form: Record<string, string | string[]>, opts: { csrf?: boolean; headers?: Record<string, string> } = {}): Promise<LightMyRequestResponse> {
    const body = new URLSearchParams(Object.entries(form).flatMap(([k, v]) => (Array.isArray(v) ? v.map((x) => [k, x]) : [[k, v]])));
    if (opts.csrf !== false && !body.has('_csrf') && this.csrf) body.set('_csrf', this.csrf);
    return this.keep(await this.app.inject({
      method: 'POST',
      url,
      remoteAddress: this.ip,
      headers: { cookie: this.cookieHeader(), 'content-type': 'application/x-www-form-urlencoded', ...opts.headers },
      payload: body.toString(),
    }));
  }

  /** Signs in through /connexion; returns the response (303 on success). */
  async signIn(login: string, password: string): Promise<LightMyRequestResponse> {
    await this.get('/connexion');
    return this.post('/connexion', { login, password });
  }
}

export interface NewUser {
  login: string;
  firstName?: string;
  lastName?: string;
  profile?: 'Student' | 'Relative' | 'Teacher' | 'Personnel' | 'Guest';
  password?: string;
  email?: string | null;
  superAdmin?: boolean;
  blocked?: boolean;
}

/** Inserts an account (active with a password when given one); returns its id. */
export async function createUser(pool: pg.Pool, u: NewUser): Promise<string> {
  const hash = u.password ? await hashPassword(u.password) : null;
  const { rows } = await pool.query(
    `INSERT INTO users (login, first_name, last_name, profile, password_hash, activated_at, email, is_super_admin, blocked)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) RETURNING id`,
    [u.login, u.firstName ?? 'Camille', u.lastName ?? 'Martin', u.profile ?? 'Personnel', hash, hash ? new Date() : null,
      u.email ?? null, u.superAdmin ?? false, u.blocked ?? false],
  );
  return rows[0].id;
}

/** Inserts an inactive account holding a fresh activation code; returns its id and the code. */
export async function createInactiveUser(
  pool: pg.Pool, secrets: Secrets, u: NewUser & { days?: number },
): Promise<{ id: string; code: string }> {
  const id = await createUser(pool, { ...u, password: undefined });
  const issued = issueActivationCode(secrets, u.days ?? 90);
  await pool.query(
    'UPDATE users SET activation_code_enc = $2, activation_code_mac = $3, activation_code_expires_at = $4 WHERE id = $1',
    [id, issued.enc, issued.mac, issued.expiresAt],
  );
  return { id, code: issued.code };
}

/** A multipart/form-data body carrying `files` (field `files`) and plain `fields`, as a browser sends it. */
export function multipart(files: Array<{ name: string; data: Buffer }>, fields: Record<string, string> = {}): { body: Buffer; type: string } {
  const boundary = '----trousseau-test-boundary';
  const parts: Buffer[] = [];
  for (const [k, v] of Object.entries(fields)) {
    parts.push(Buffer.from(`--${boundary}\r\nContent-Disposition: form-data; name="${k}"\r\n\r\n${v}\r\n`));
  }
  for (const f of files) {
    parts.push(Buffer.from(`--${boundary}\r\nContent-Disposition: form-data; name="files"; filename="${f.name}"\r\nContent-Type: application/octet-stream\r\n\r\n`));
    parts.push(f.data, Buffer.from('\r\n'));
  }
  parts.push(Buffer.from(`--${boundary}--\r\n`));
  return { body: Buffer.concat(parts), type: `multipart/form-data; boundary=${boundary}` };
}

/** A signed-in session as request headers (cookie + CSRF token), without going through /connexion. */
export interface SessionHeaders {
  cookie: string;
  csrf: string;
}

/** Opens a session for `userId` directly (no password hashing, no rate limit): its cookie header and CSRF token. */
export async function sessionFor(pool: pg.Pool, userId: string): Promise<SessionHeaders & { token: string }> {
  const s = await createSession(pool, userId);
  return { token: s.token, cookie: `${SESSION_COOKIE}=${s.token}`, csrf: s.csrf };
}

/** A Client already signed in as `userId` (see sessionFor). */
export async function signedInClient(app: FastifyInstance, pool: pg.Pool, userId: string): Promise<Client> {
  const s = await sessionFor(pool, userId);
  const c = new Client(app);
  c.cookies.set(SESSION_COOKIE, s.token);
  c.csrf = s.csrf;
  return c;
}

/** The app (buildServer, not listening: app.inject) every test of a file shares, closed after the file's last test. */
export async function fileServer(ctx: AppContext): Promise<FastifyInstance> {
  const app = await buildServer(ctx);
  after(() => app.close());
  return app;
}
