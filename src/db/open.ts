// Opens the configured database: DATABASE_URL, or the private embedded server under data/.
import { join } from 'node:path';
import type { Config } from '../config.js';
import { makeContext, type AppContext } from '../context.js';
import { checkKeyFingerprint } from '../accounts/key-fingerprint.js';
import { Secrets } from '../accounts/secrets.js';
import { reclaimEmbedded, startEmbedded } from './embedded.js';
import { migrate, openDatabase, type Database } from './index.js';

export async function openConfiguredDatabase(config: Config, log = (m: string) => console.log(m)): Promise<Database> {
  let url = config.databaseUrl;
  let stopEmbedded: (() => Promise<void>) | undefined;
  if (!url) {
    // Already running for a live Trousseau process (the CLI while the app is up): reused. Left behind by a crash:
    // stopped, then started anew below, owned by this process.
    url = await reclaimEmbedded(join(config.dataDir, 'pg'), log);
  }
  if (!url) {
    const dir = join(config.dataDir, 'pg');
    log(`PostgreSQL embarqué : ${dir}`);
    const server = await startEmbedded(dir);
    url = server.url;
    stopEmbedded = server.stop;
  }
  const database = openDatabase(url);
  // The pool first, then the server it talks to: stopping PostgreSQL under open connections is what made
  // every shutdown print "connexion inactive perdue".
  const close = async () => {
    await database.close();
    if (stopEmbedded) await stopEmbedded();
  };
  try {
    const applied = await migrate(database.pool);
    if (applied.length) log(`migrations appliquées : ${applied.join(', ')}`);
    await checkKeyFingerprint(database.pool, new Secrets(config.secretKey));
  } catch (e) {
    await close();
    throw e;
  }
  return { ...database, close };
}


/**
 * A `trousseau …` command's run: `use` gets the configured database's context, then the database is closed. The
 * database's own messages go to stderr, as stdout is the command's output (a PDF on `-o -`, a list).
 */
export async function withCommandContext<T>(config: Config, use: (ctx: AppContext) => Promise<T>): Promise<T> {
  const database = await openConfiguredDatabase(config, (m) => console.error(m));
  try {
    return await use(makeContext(config, database));
  } finally {
    await database.close();
  }
}
