// Periodic clean-up: what has expired goes, what is alive stays.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { purgeExpired } from '../src/accounts/housekeeping.js';
import { createSession } from '../src/web/auth.js';
import { fileContext } from './helpers/db.js';

const ctx = await fileContext();

test('expired sessions, old reset links and old attempt windows are purged; live ones stay', async () => {
  const q = (sql: string, p: unknown[] = []) => ctx.database.pool.query(sql, p);
  const { rows: [u] } = await q(`INSERT INTO users (profile, first_name, last_name, login) VALUES ('Relative', 'Anne', 'Roux', 'anne.roux') RETURNING id`);
  await q(`INSERT INTO sessions (id_hash, user_id, csrf, expires_at) VALUES ('dead', $1, 'c', now() - interval '1 minute'), ('live', $1, 'c', now() + interval '1 hour')`, [u.id]);
  await q(`INSERT INTO password_resets (token_hash, user_id, expires_at) VALUES ('old', $1, now() - interval '2 days'), ('recent', $1, now() - interval '1 hour'), ('valid', $1, now() + interval '1 hour')`, [u.id]);
  await q(`INSERT INTO rate_limits (key, window_start, hits) VALUES ('auth:ip:old', now() - interval '2 days', 3), ('auth:ip:now', now(), 1)`);

  assert.deepEqual(await purgeExpired(ctx.database.pool), { sessions: 1, resets: 1 });
  assert.deepEqual((await q('SELECT id_hash FROM sessions')).rows.map((r) => r.id_hash), ['live']);
  assert.deepEqual((await q('SELECT token_hash FROM password_resets ORDER BY 1')).rows.map((r) => r.token_hash), ['recent', 'valid']);
  assert.deepEqual((await q('SELECT key FROM rate_limits')).rows.map((r) => r.key), ['auth:ip:now']);
  assert.deepEqual(await purgeExpired(ctx.database.pool), { sessions: 0, resets: 0 }, 'idempotent');
});

test('a new session clears its owner’s expired sessions, not the live ones nor anyone else’s', async () => {
  const q = (sql: string, p: unknown[] = []) => ctx.database.pool.query(sql, p);
  const { rows: [u, other] } = await q(`INSERT INTO users (profile, first_name, last_name, login) VALUES ('Relative', 'Léa', 'Roux', 'lea.roux'), ('Relative', 'Tom', 'Roux', 'tom.roux') RETURNING id`);
  await q(`INSERT INTO sessions (id_hash, user_id, csrf, expires_at) VALUES ('lea-dead', $1, 'c', now() - interval '1 minute'),
    ('lea-live', $1, 'c', now() + interval '1 hour'), ('tom-dead', $2, 'c', now() - interval '1 minute')`, [u.id, other.id]);
  const s = await createSession(ctx.database.pool, u.id);
  assert.ok(s.expiresAt.getTime() > Date.now());
  const left = (await q(`SELECT id_hash FROM sessions WHERE id_hash <> $1 AND user_id IN ($2, $3) ORDER BY 1`, [s.idHash, u.id, other.id])).rows.map((r) => r.id_hash);
  assert.deepEqual(left, ['lea-live', 'tom-dead']);
  assert.equal((await q(`SELECT user_id FROM sessions WHERE id_hash = $1`, [s.idHash])).rows[0].user_id, u.id);
});
