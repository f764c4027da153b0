// Runs every test against real PostgreSQL: an embedded server started here (or TEST_DATABASE_URL),
// with a migrated template database that each test file clones.
//   npm test                      test/**/*.test.ts except test/conformance/ (needs nothing beside the repo)
//   npm run test:conformance      test/conformance/*.test.ts over ../shared/fixtures (real-shaped files)
//   npm test -- test/a.test.ts    only the files named
import { spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { openDatabase, migrate } from '../src/db/index.js';
import { startEmbedded, type EmbeddedServer } from '../src/db/embedded.js';

const TEMPLATE = 'trousseau_template';
/** Folders of test/ that are not part of `npm test`. */
const SEPARATE = new Set(['conformance', 'helpers', 'fixtures']);

function testFiles(dir: string): string[] {
  return readdirSync(dir).filter((f) => f.endsWith('.test.ts')).sort().map((f) => join(dir, f));
}

async function main() {
  let server: EmbeddedServer | undefined;
  let dir: string | undefined;
  let adminUrl = process.env.TEST_DATABASE_URL;
  if (!adminUrl) {
    dir = mkdtempSync(join(tmpdir(), 'trousseau-test-pg-'));
    server = await startEmbedded(dir, undefined, true, ['-c', 'fsync=off', '-c', 'max_connections=300', '-c', 'synchronous_commit=off', '-c', 'full_page_writes=off']);
    adminUrl = server.url;
  }
  const admin = new pg.Client(adminUrl);
  await admin.connect();
  await admin.query(`DROP DATABASE IF EXISTS ${TEMPLATE}`);
  await admin.query(`CREATE DATABASE ${TEMPLATE}`);
  await admin.end();
  const u = new URL(adminUrl);
  u.pathname = `/${TEMPLATE}`;
  const tpl = openDatabase(u.toString(), 1);
  await migrate(tpl.pool);
  await tpl.close();

  const args = process.argv.slice(2);
  const conformance = args[0] === '--conformance';
  const files = conformance
    ? testFiles('test/conformance')
    : args.length
      ? args
      : ['test', ...readdirSync('test', { withFileTypes: true }).filter((d) => d.isDirectory() && !SEPARATE.has(d.name)).map((d) => join('test', d.name))].flatMap(testFiles);
  const code = await new Promise<number>((ok) => {
    const child = spawn(process.execPath, ['--import', 'tsx', '--test', '--test-concurrency=2', ...files], {
      stdio: 'inherit',
      env: { ...process.env, TROUSSEAU_TEST_PG: adminUrl, TROUSSEAU_TEST_TEMPLATE: TEMPLATE },
    });
    child.on('exit', (c) => ok(c ?? 1));
  });
  if (server) await server.stop();
  if (dir) rmSync(dir, { recursive: true, force: true });
  process.exit(code);
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
