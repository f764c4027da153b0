// `npm start`: database (embedded unless DATABASE_URL), migrations, demo school on first start, HTTP server.
import { startHousekeeping } from './accounts/housekeeping.js';
import { loadConfig } from './config.js';
import { makeContext } from './context.js';
import { openConfiguredDatabase } from './db/open.js';
import { ensureDemo } from './demo/seed.js';
import { startupMessages } from './startup.js';
import { startDropSchedule } from './drop/schedule.js';
import { uploadsRoot } from './import/uploads.js';
import { startMailWorker } from './mail/worker.js';
import { buildServer } from './web/server.js';

/** A second signal during shutdown, or a shutdown stuck this long, ends the process at once. */
const SHUTDOWN_TIMEOUT_MS = 30_000;

async function main() {
  const config = loadConfig();
  const database = await openConfiguredDatabase(config);
  const ctx = makeContext(config, database);
  await ensureDemo(ctx, (m: string) => console.log(m));
  const app = await buildServer(ctx);
  await app.listen({ port: config.port, host: config.host });
  for (const m of startupMessages(config)) (m.level === 'warn' ? console.warn : console.log)(m.text);
  // startupMessages has said whether mail can leave.
  const mailWorker = startMailWorker(ctx, { announceMissingSmtp: false });
  const drop = config.drop.dir ? startDropSchedule(ctx, (m) => console.log(m)) : null;
  if (drop) console.log(`Dossier de dépôt ${config.drop.dir} : « ${config.drop.cron} » (${config.drop.timezone}), prochain passage ${drop.next()?.toISOString()}`);
  const housekeeping = startHousekeeping(database.pool, (m) => console.error(m), undefined, uploadsRoot(config.dataDir));

  // The one shutdown path (SIGTERM, SIGINT), in dependency order: nothing is cut while something still uses it.
  let stopping = false;
  const stop = async (signal: NodeJS.Signals) => {
    if (stopping) {
      console.error(`${signal} reçu pendant l’arrêt : arrêt immédiat.`);
      process.exit(1);
    }
    stopping = true;
    console.log(`${signal} reçu : arrêt en cours…`);
    setTimeout(() => {
      console.error('Arrêt trop long : sortie forcée.');
      process.exit(1);
    }, SHUTDOWN_TIMEOUT_MS).unref();
    try {
      drop?.stop();
      housekeeping.stop();
      // 1. No new job; mails being sent are finished and marked, the others claimed are given back.
      await mailWorker.stop();
      // 2. No new request; those in progress end.
      await app.close();
      // 3. The pool, then PostgreSQL when it is ours.
      await database.close();
      console.log('Trousseau arrêté.');
      process.exit(0);
    } catch (e) {
      console.error(e);
      process.exit(1);
    }
  };
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
  // Ctrl-C in a terminal reaches npm and the app together: the app is already stopping when npm is gone.
  watchParent(() => {
    if (!stopping) void stop('SIGTERM');
  });
}

/**
 * Under `npm start`, a SIGTERM sent to npm kills npm without passing it on: the app would run on, orphaned, holding
 * its port and its database. So when started by an npm script, the app stops as soon as its parent is gone (it
 * is then adopted by another process: its parent pid changes).
 */
function watchParent(onOrphaned: () => void): void {
  if (!process.env.npm_lifecycle_event) return;
  const parent = process.ppid;
  const timer = setInterval(() => {
    if (process.ppid !== parent) {
      clearInterval(timer);
      console.log('npm s’est arrêté : arrêt de Trousseau.');
      onOrphaned();
    }
  }, 500);
  timer.unref();
}

main().catch((e) => {
  console.error(e instanceof Error && e.name === 'KeyMismatchError' ? e.message : e);
  process.exit(1);
});
