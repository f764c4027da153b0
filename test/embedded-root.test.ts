// As root, the embedded PostgreSQL runs as an unprivileged user, who must traverse the folders above its data and
// binaries: a private folder (mktemp -d, mode 700) is refused at once with a sentence naming it, instead of the
// package's spawn failing with EACCES as an unhandled error event.
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { startEmbedded } from '../src/db/embedded.js';

test('as root, a data folder under a private folder is refused naming the folder', { skip: process.getuid?.() !== 0 && 'not root' }, async () => {
  const closed = mkdtempSync(join(tmpdir(), 'trousseau-private-'));
  try {
    const data = join(closed, 'data', 'pg');
    await assert.rejects(startEmbedded(data), (e: Error) => {
      assert.match(e.message, /ne peut pas traverser/);
      assert.ok(e.message.includes(closed), e.message);
      return true;
    });
    assert.equal(existsSync(join(data, 'PG_VERSION')), false, 'nothing initialised');
  } finally {
    rmSync(closed, { recursive: true, force: true });
  }
});
