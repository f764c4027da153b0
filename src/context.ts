// What every request handler, importer and generator needs, built once at start-up.
import { Secrets } from './accounts/secrets.js';
import type { Config } from './config.js';
import type { Database } from './db/index.js';

export interface AppContext {
  config: Config;
  database: Database;
  secrets: Secrets;
}

export function makeContext(config: Config, database: Database): AppContext {
  return { config, database, secrets: new Secrets(config.secretKey) };
}
