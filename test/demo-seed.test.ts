// The demo collège: realistic counts, deterministic, written through the import apply layer.
import assert from 'node:assert/strict';
import { parseUai } from '../src/directory/structures.js';
import argon2 from 'argon2';
import { execFileSync } from 'node:child_process';
import { test } from 'node:test';
import { runWith as runAdmin } from '../src/accounts/admin.js';
import { createDemoSchool, ensureDemo } from '../src/demo/seed.js';
import { exportSelection } from '../src/publipostage/generate.js';
import { SelectionSchema } from '../src/publipostage/selection.js';
import { fileContext, sqlReaders, testContext } from './helpers/db.js';

const ctx = await fileContext();
const { q, count } = sqlReaders(ctx);

test('ensureDemo creates the admin and a realistic collège on an empty database, once', async () => {
  process.env.TROUSSEAU_ADMIN_PASSWORD = 'Mot-de-passe-admin-1';
  const lines: string[] = [];
  await ensureDemo(ctx, (m) => lines.push(m));
  const log = lines.join('\n');
  assert.match(log, /Connectez-vous sur https:\/\/ent\.example\.fr\/connexion avec admin \/ \(mot de passe de TROUSSEAU_ADMIN_PASSWORD\)/);
  assert.doesNotMatch(log, /Mot-de-passe-admin-1/);

  const [admin] = await q<Record<string, unknown>>(`SELECT * FROM users WHERE login = 'admin'`);
  assert.equal(admin.is_super_admin, true);
  assert.ok(admin.activated_at);
  assert.equal(await argon2.verify(admin.password_hash as string, 'Mot-de-passe-admin-1'), true);
  assert.equal(await count(`SELECT count(*) n FROM user_structures WHERE user_id = $1`, [admin.id]), 0);

  assert.equal(await count(`SELECT count(*) n FROM structures`), 1);
  const [s] = await q<Record<string, string>>(`SELECT * FROM structures`);
  assert.equal(s.name, 'Collège Denis Poisson');
  // A UAI the console's « Nouvel établissement » would accept (its key letter checked).
  assert.deepEqual(parseUai(s.uai), { uai: '0900000L' });
  assert.equal(await count(`SELECT count(*) n FROM levels`), 4);
  assert.equal(await count(`SELECT count(*) n FROM classes`), 20);
  const profiles = Object.fromEntries((await q<{ profile: string; n: string }>(`SELECT profile, count(*) n FROM users WHERE login <> 'admin' GROUP BY 1`)).map((r) => [r.profile, Number(r.n)]));
  assert.equal(profiles.Student, 574);
  assert.equal(profiles.Teacher, 46);
  assert.equal(profiles.Personnel, 19);
  assert.equal(profiles.Guest, 6);
  assert.ok(profiles.Relative > 1080 && profiles.Relative < 1200, String(profiles.Relative));
  const total = await count(`SELECT count(*) n FROM users`);

  // Every student has relatives; most have two; some relatives have several children (siblings).
  assert.equal(await count(`SELECT count(*) n FROM users u WHERE profile = 'Student' AND NOT EXISTS (SELECT 1 FROM relations r WHERE r.child_id = u.id)`), 0);
  assert.ok((await count(`SELECT count(*) n FROM (SELECT parent_id FROM relations GROUP BY 1 HAVING count(*) > 1) x`)) > 10);
  assert.equal(await count(`SELECT count(*) n FROM users u WHERE profile = 'Relative' AND NOT EXISTS (SELECT 1 FROM user_structures us WHERE us.user_id = u.id)`), 0);
  // Teachers teach classes; rare letters survive.
  assert.equal(await count(`SELECT count(*) n FROM users u WHERE profile = 'Teacher' AND NOT EXISTS (SELECT 1 FROM user_classes uc WHERE uc.user_id = u.id)`), 0);
  assert.ok((await count(`SELECT count(*) n FROM users WHERE first_name ~ '[ÅåùëçÇœ]' OR last_name ~ '[ÅåùëçÇœ''ı]'`)) > 20);

  // ~15% active (one shared argon2id hash, no code left), about half without e-mail, a couple pre-deleted.
  const active = await count(`SELECT count(*) n FROM users WHERE password_hash IS NOT NULL AND login <> 'admin'`);
  assert.ok(active > total * 0.1 && active < total * 0.2, `${active} / ${total}`);
  assert.equal(await count(`SELECT count(*) n FROM users WHERE activated_at IS NOT NULL AND activation_code_enc IS NOT NULL`), 0);
  assert.equal(await count(`SELECT count(*) n FROM users WHERE activated_at IS NULL AND activation_code_enc IS NULL`), 0);
  // Activated means signed in once (the school home's « Connectés au moins une fois »), never before the activation.
  assert.equal(await count(`SELECT count(*) n FROM users WHERE login <> 'admin' AND (activated_at IS NULL) <> (last_login_at IS NULL)`), 0);
  assert.equal(await count(`SELECT count(*) n FROM users WHERE last_login_at < activated_at`), 0);
  const [hash] = await q<{ password_hash: string }>(`SELECT password_hash FROM users WHERE password_hash IS NOT NULL AND login <> 'admin' LIMIT 1`);
  assert.match(hash.password_hash, /^\$argon2id\$/);
  assert.equal(await argon2.verify(hash.password_hash, 'Mot-de-passe-admin-1'), true);
  const noEmail = await count(`SELECT count(*) n FROM users WHERE email IS NULL`);
  assert.ok(noEmail > total * 0.35 && noEmail < total * 0.65, `${noEmail} / ${total}`);
  assert.equal(await count(`SELECT count(*) n FROM users WHERE pre_deleted_at IS NOT NULL`), 2);
  assert.ok((await count(`SELECT count(DISTINCT date_trunc('month', created_at)) n FROM users`)) > 6);
  assert.ok((await count(`SELECT count(*) n FROM users WHERE origin = 'manual'`)) > 6);
  assert.ok((await count(`SELECT count(*) n FROM users WHERE origin = 'feed'`)) > 1500);

  // The headteacher is local admin of the collège.
  assert.deepEqual(await q(`SELECT u.profile FROM local_admins la JOIN users u ON u.id = la.user_id`), [{ profile: 'Personnel' }]);

  // Second start: nothing more.
  const again: string[] = [];
  await ensureDemo(ctx, (m) => again.push(m));
  assert.equal(again.length, 1);
  assert.match(again[0], /connexion avec admin .*npm run trousseau -- admin/);
  assert.equal(await count(`SELECT count(*) n FROM users`), total);
});

test('the demo’s legal representatives have postal addresses: the window-envelope block shows on their sheet', async () => {
  // Every parent has one, SIECLE-shaped: upper case, the town « code postal + commune » last.
  assert.equal(await count(`SELECT count(*) n FROM users WHERE profile = 'Relative' AND (address IS NULL OR address = '')`), 0);
  assert.equal(await count(`SELECT count(*) n FROM users WHERE profile = 'Relative' AND address !~ '\\n\\d{5} [A-ZÀ-Ü -]+$'`), 0);
  // Brothers and sisters' parents mostly share a home; a few live apart.
  const homes = await count(`SELECT count(DISTINCT address) n FROM users WHERE profile = 'Relative'`);
  const relatives = await count(`SELECT count(*) n FROM users WHERE profile = 'Relative'`);
  assert.ok(homes < relatives * 0.75 && homes > relatives * 0.3, `${homes} / ${relatives}`);
  assert.equal(await count(`SELECT count(*) n FROM users WHERE profile <> 'Relative' AND address IS NOT NULL`), 0);

  // The publipostage's « Adresse postale pour enveloppe à fenêtre », 1 sheet per page: name and address in the window.
  const [parent] = await q<{ id: string; first_name: string; last_name: string; address: string }>(
    `SELECT id, first_name, last_name, address FROM users WHERE profile = 'Relative' AND activated_at IS NULL ORDER BY login LIMIT 1`,
  );
  const file = await exportSelection(ctx, {
    format: 'pdf', model: 1, addressBlock: true, selection: SelectionSchema.parse({ userIds: [parent.id] }), scope: { kind: 'all' }, actorId: null, via: 'cli',
  });
  const chunks: Buffer[] = [];
  for await (const c of file.body as AsyncIterable<Buffer>) chunks.push(c);
  const pdf = Buffer.concat(chunks);
  // The window of a DL/C5 envelope: 45 × 100 mm, 20 mm from the right edge and 50 mm from the top (points at 72 dpi).
  const mm = 72 / 25.4;
  const crop = (x: number, y: number, w: number, h: number) =>
    execFileSync('pdftotext', ['-r', '72', '-x', String(Math.round(x * mm)), '-y', String(Math.round(y * mm)), '-W', String(Math.round(w * mm)), '-H', String(Math.round(h * mm)), '-', '-'], { input: pdf, encoding: 'utf8' });
  const window = crop(90, 50, 100, 45).replace(/\f/g, '').trim();
  assert.equal(window, [`${parent.first_name} ${parent.last_name}`, ...parent.address.split('\n')].join('\n'));
});

test('`trousseau admin` gives admin a new password, unblocks it and ends its sessions', async () => {
  const [admin] = await q<{ id: string }>(`SELECT id FROM users WHERE login = 'admin'`);
  await ctx.database.pool.query('UPDATE users SET blocked = true WHERE id = $1', [admin.id]);
  await ctx.database.pool.query(`INSERT INTO sessions (id_hash, user_id, csrf, expires_at) VALUES ('x', $1, 'y', now() + interval '1 hour')`, [admin.id]);
  const saved = process.env.TROUSSEAU_ADMIN_PASSWORD;
  delete process.env.TROUSSEAU_ADMIN_PASSWORD;
  const lines: string[] = [];
  try {
    assert.equal(await runAdmin(ctx, (m) => lines.push(m)), 0);
  } finally {
    process.env.TROUSSEAU_ADMIN_PASSWORD = saved;
  }
  const password = /mot de passe de admin : (\S+)$/.exec(lines[0])?.[1];
  assert.ok(password, lines.join('\n'));
  const [after] = await q<{ password_hash: string; blocked: boolean }>(`SELECT password_hash, blocked FROM users WHERE id = $1`, [admin.id]);
  assert.equal(await argon2.verify(after.password_hash, password), true);
  assert.equal(after.blocked, false);
  assert.equal(await count(`SELECT count(*) n FROM sessions WHERE user_id = $1`, [admin.id]), 0);
  assert.equal(await count(`SELECT count(*) n FROM audit WHERE action = 'admin.password_reset'`), 1);
});

test('createDemoSchool is deterministic and scales by structures', async () => {
  const a = await createDemoSchool(ctx, { seed: 7, scale: 2, password: 'x', passwordHash: 'not-a-real-hash' });
  assert.equal(a.structures, 2);
  assert.equal(a.students, 2 * 574);
  assert.equal(a.teachers, 92);
  // Same seed, same school: already there, nothing new.
  const users = await count(`SELECT count(*) n FROM users`);
  const b = await createDemoSchool(ctx, { seed: 7, scale: 2, password: 'x', passwordHash: 'not-a-real-hash' });
  assert.deepEqual({ ...b, password: '' }, { ...a, password: '' });
  assert.equal(await count(`SELECT count(*) n FROM users`), users);
  assert.equal(await count(`SELECT count(*) - count(DISTINCT login) n FROM users`), 0);
});

test('without TROUSSEAU_ADMIN_PASSWORD a generated password is printed; TROUSSEAU_DEMO=0 skips the school', async () => {
  const other = await testContext();
  const saved = { ...process.env };
  try {
    delete process.env.TROUSSEAU_ADMIN_PASSWORD;
    process.env.TROUSSEAU_DEMO = '0';
    const lines: string[] = [];
    await ensureDemo(other, (m) => lines.push(m));
    const m = /Connectez-vous sur https:\/\/ent\.example\.fr\/connexion avec admin \/ (\S+)$/.exec(lines.join('\n'));
    assert.ok(m, lines.join('\n'));
    const [admin] = (await other.database.pool.query(`SELECT password_hash FROM users WHERE login = 'admin' AND is_super_admin`)).rows;
    assert.equal(await argon2.verify(admin.password_hash, m[1]), true);
    assert.equal(Number((await other.database.pool.query('SELECT count(*) n FROM structures')).rows[0].n), 0);
  } finally {
    process.env = saved;
    await other.close();
  }
});
