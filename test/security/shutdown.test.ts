// Finding: SIGTERM in the middle of a mail run. The embedded PostgreSQL package's own signal handler stopped
// the database and exited before the app had drained its mail worker: delivered mails stayed unmarked and went
// out again ten minutes later; under `npm start` the app was left running, orphaned; the shutdown printed
// "connexion inactive perdue" three times. Now one handler stops in order: no new job (the mails being sent are
// finished and marked, the other claims released), HTTP server closed, pool closed, PostgreSQL stopped.
import assert from 'node:assert/strict';
import { chmodSync, existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { embeddedUrl, startEmbedded } from '../../src/db/embedded.js';
import { openDatabase } from '../../src/db/index.js';
import { enqueueMails } from '../../src/mail/queue.js';
import { appPort, startAppProcess } from '../helpers/process.js';
import { startTestSmtp, waitFor, type TestSmtp } from '../helpers/smtp.js';

const parent = mkdtempSync(join(tmpdir(), 'trousseau-shutdown-'));
chmodSync(parent, 0o755); // run as root, PostgreSQL runs as its own user and must reach its directory
const dataDir = join(parent, 'data');
const pgDir = join(dataDir, 'pg');
let smtp: TestSmtp | undefined;

after(async () => {
  await smtp?.close();
  rmSync(parent, { recursive: true, force: true });
});

const refusedConnection = (port: number) =>
  new Promise<boolean>((ok) => {
    const s = connect(port, '127.0.0.1');
    s.once('connect', () => {
      s.destroy();
      ok(false);
    });
    s.once('error', () => ok(true));
  });

test('SIGTERM to `npm start` during a mail run: sent mails are marked, the rest released, everything stops, quietly', async () => {
  smtp = await startTestSmtp({ dataDelayMs: 400 });
  const port = await appPort();
  const app = startAppProcess({
    TROUSSEAU_DATA_DIR: dataDir, PORT: String(port), TROUSSEAU_DEMO: '0', TROUSSEAU_SECRET: '5e'.repeat(32),
    TROUSSEAU_ADMIN_PASSWORD: 'Arret-Propre-Sapin-Bleu-3', SMTP_URL: smtp.url,
  }, 'npm');
  try {
    await app.waitForOutput('Trousseau écoute', 120_000);
    // Twenty mails in the app's queue, through its own embedded server.
    const pgPort = readFileSync(join(pgDir, 'postmaster.pid'), 'utf8').split('\n')[3];
    const db = openDatabase(embeddedUrl(pgDir, pgPort), 1);
    await enqueueMails(db.pool, Array.from({ length: 20 }, (_, i) => ({
      kind: 'test', recipient: `destinataire${i}@example.fr`, subject: `Message ${i}`, text: `Bonjour ${i}`,
    })));
    await db.close();
    await waitFor('a first mail delivered', () => smtp!.messages.length >= 1, 1200);
    assert.ok(smtp.messages.length < 20, 'the run is still going');

    // To npm only, as `kill <pid of npm start>` does: npm 11 dies of it without passing it on.
    app.child.kill('SIGTERM');
    await app.exited(60_000);
    // The app writes on the same pipe as npm did: its last words still arrive.
    await waitFor('the app stopped', () => app.output().includes('Trousseau arrêté'), 2400).catch(() => {});
  } finally {
    if (app.child.exitCode === null && app.child.signalCode === null) app.child.kill('SIGKILL');
  }
  const out = app.output();
  assert.match(out, /Trousseau arrêté/, out);
  assert.doesNotMatch(out, /connexion inactive perdue/);
  assert.ok(await refusedConnection(port), 'nothing listens on the HTTP port any more (no orphan)');
  await waitFor('PostgreSQL stopped', () => !existsSync(join(pgDir, 'postmaster.pid')), 400);

  // The queue as the app left it.
  const server = await startEmbedded(pgDir);
  const db = openDatabase(server.url, 1);
  try {
    const { rows } = await db.pool.query(`SELECT id, status, attempts, locked_until FROM mail_jobs`);
    const received = new Set(smtp.messages.map((m) => m.messageId));
    assert.equal(rows.filter((r) => r.status === 'sending').length, 0, 'no job left claimed');
    for (const r of rows) {
      const delivered = received.has(`<${r.id}@trousseau>`);
      assert.equal(r.status, delivered ? 'sent' : 'pending', `job ${r.id}: delivered ${delivered}, status ${r.status}`);
      if (!delivered) assert.equal(r.attempts, 0, 'a released job keeps its attempts');
    }
    assert.ok(rows.some((r) => r.status === 'pending'), 'some mails were given back to the queue');
  } finally {
    await db.close();
    await server.stop();
  }
});
