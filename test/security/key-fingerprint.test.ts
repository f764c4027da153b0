// Finding: two instances started against one database without a shared TROUSSEAU_SECRET each made their own
// key: codes issued by one were refused by the other, and an export on the second silently re-issued codes.
// Now the first start records the key's fingerprint in the database; an instance with another key refuses to
// start, with a message that says what to do.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { loadConfig } from '../../src/config.js';
import { makeContext } from '../../src/context.js';
import { openConfiguredDatabase } from '../../src/db/open.js';
import { buildServer } from '../../src/web/server.js';
import { freshDatabase } from '../helpers/db.js';
import { appPort, startAppProcess } from '../helpers/process.js';
import { createInactiveUser, Client } from '../helpers/web.js';

const KEY_A = 'a1'.repeat(32);
const KEY_B = 'b2'.repeat(32);
let db: Awaited<ReturnType<typeof freshDatabase>>;
const dir = mkdtempSync(join(tmpdir(), 'trousseau-key-'));

before(async () => {
  db = await freshDatabase();
});

after(async () => {
  await db?.close();
  rmSync(dir, { recursive: true, force: true });
});

const configFor = (key: string) => loadConfig({ DATABASE_URL: db.url, TROUSSEAU_SECRET: key, TROUSSEAU_DATA_DIR: dir });

test('two instances on one database: the second, with another key, refuses to start; with the same key it serves codes of the first', async () => {
  const first = await openConfiguredDatabase(configFor(KEY_A), () => {});
  const ctxA = makeContext(configFor(KEY_A), first);
  const appA = await buildServer(ctxA);
  const { code } = await createInactiveUser(first.pool, ctxA.secrets, { login: 'lea.petit', profile: 'Student' });
  try {
    await assert.rejects(openConfiguredDatabase(configFor(KEY_B), () => {}), (e: Error) => {
      assert.equal(e.name, 'KeyMismatchError');
      assert.match(e.message, /TROUSSEAU_SECRET ne correspond pas à la clé de cette base/);
      return true;
    });
    const { rows } = await first.pool.query(`SELECT value FROM instance_settings WHERE name = 'key_fingerprint'`);
    assert.equal(rows.length, 1);
    assert.ok(!rows[0].value.includes(KEY_A), 'the fingerprint is not the key');
    assert.equal(rows[0].value, ctxA.secrets.fingerprint, 'the first key stays recorded');

    // A second instance with the shared key accepts the first one's codes.
    const second = await openConfiguredDatabase(configFor(KEY_A), () => {});
    const appB = await buildServer(makeContext(configFor(KEY_A), second));
    try {
      const c = new Client(appB, '198.51.100.30');
      await c.get('/activation');
      const res = await c.post('/activation', { step: 'code', login: 'lea.petit', code });
      assert.equal(res.statusCode, 200, 'the code issued by the first instance opens step 2 on the second');
    } finally {
      await appB.close();
      await second.close();
    }
  } finally {
    await appA.close();
    await first.close();
  }
});

test('the real server started with another key exits at once with the message', async () => {
  const app = startAppProcess({
    DATABASE_URL: db.url, TROUSSEAU_SECRET: KEY_B, TROUSSEAU_DATA_DIR: dir, PORT: String(await appPort()), TROUSSEAU_DEMO: '0',
  });
  const code = await app.exited();
  assert.equal(code, 1, app.output());
  assert.match(app.output(), /TROUSSEAU_SECRET ne correspond pas à la clé de cette base/);
  assert.doesNotMatch(app.output(), /Trousseau écoute/);
});
