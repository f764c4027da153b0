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

async function main() {
  const config = loadConfig();
  const database = await openConfiguredDatabase(config);
  const ctx = makeContext(config, database);
  await ensureDemo(ctx, (m: string) => console.log(m));
  const app = await buildServer(ctx);
  await app.listen({ port: config.port, host: config.host });
  for (const m of startupMessages(config)) (m.level === 'warn' ? console.warn : console.log)(m.text);
  const mailWorker = startMailWorker(ctx);
  const drop = config.drop.dir ? startDropSchedule(ctx, (m) => console.log(m)) : null;
  if (drop) console.log(`Dossier de dépôt ${config.drop.dir} : « ${config.drop.cron} » (${config.drop.timezone}), prochain passage ${drop.next()?.toISOString()}`);
  const housekeeping = startHousekeeping(database.pool, (m) => console.error(m), undefined, uploadsRoot(config.dataDir));
  const stop = async () => {
    drop?.stop();
    housekeeping.stop();
    await app.close();
    await mailWorker.stop();
    await database.close();
    process.exit(0);
  };
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
