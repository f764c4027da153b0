// One measured import in its own process, so that its peak RSS is its own: `tsx bench/import-child.ts <db url> <feed dir>`.
// Prints one JSON line: { ms, maxRssMb, created, updated, unchanged, preDeleted, ignored, rejected }.
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadConfig } from '../src/config.js';
import { makeContext } from '../src/context.js';
import { openDatabase } from '../src/db/index.js';
import { collectInputs, importFiles } from '../src/import/index.js';

const [url, dir] = process.argv.slice(2);
const db = openDatabase(url, 2);
const config = loadConfig({ TROUSSEAU_SECRET: '42'.repeat(32), TROUSSEAU_DATA_DIR: join(tmpdir(), 'trousseau-bench'), TROUSSEAU_PUBLIC_URL: 'https://ent.example.fr' });
const ctx = makeContext(config, db);
const t = performance.now();
const r = await importFiles(ctx, collectInputs([dir]), { scope: { kind: 'all' }, dryRun: false });
const ms = performance.now() - t;
await db.close();
if (r.fatal) throw new Error(`${r.fatal.file}:${r.fatal.line} ${r.fatal.reason}`);
console.log(
  JSON.stringify({
    ms,
    cpuMs: (process.cpuUsage().user + process.cpuUsage().system) / 1000,
    maxRssMb: process.resourceUsage().maxRSS / 1024,
    created: r.created,
    updated: r.updated,
    unchanged: r.unchanged,
    preDeleted: r.preDeleted,
    ignored: r.ignored.length,
    rejected: r.rejected.length,
  }),
);
process.exit(0);
