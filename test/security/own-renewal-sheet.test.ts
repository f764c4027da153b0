// Finding: « Fiches de renouvellement » (publipostage and class view) drew a renewal code for every activated account of
// the selection, the caller's own included, where a user's page refuses it (generateRenewalCode: « not for oneself »).
// A stolen session of a local admin printed a renewal sheet of the admin's own account, then set its password at
// /renouvellement without knowing the current one (« Mon compte » asks for it): the account and its rights taken for good.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { fileContext } from '../helpers/db.js';
import { Client, createUser, fileServer, signedInClient } from '../helpers/web.js';

const ctx = await fileContext();
const app = await fileServer(ctx);
const pool = ctx.database.pool;
const q = async <T = Record<string, unknown>>(sql: string, params: unknown[] = []) => (await pool.query(sql, params)).rows as T[];

const [{ id: school }] = await q<{ id: string }>(`INSERT INTO structures (uai, name) VALUES ('0457002S', 'Collège des Fiches') RETURNING id`);
const dir = await createUser(pool, { login: 'direction.fiches', password: 'direction-fiches-2026' });
const pupil = await createUser(pool, { login: 'zoe.fiches', profile: 'Student', password: 'zoe-fiches-2026' });
for (const id of [dir, pupil]) await q('INSERT INTO user_structures VALUES ($1, $2)', [id, school]);
await q('INSERT INTO local_admins VALUES ($1, $2)', [dir, school]);

const base = `/console/etablissements/${school}/publipostage/renouvellement`;
const renewalCode = async (id: string) => (await q<{ mac: string | null }>('SELECT renewal_code_mac AS mac FROM users WHERE id = $1', [id]))[0].mac;

test("a local admin's renewal sheets never hold the admin's own account", async () => {
  const thief = await signedInClient(app, pool, dir);
  const alone = await thief.post(base, { selection: `userIds=${dir}`, format: 'csv' });
  assert.equal(alone.statusCode, 422, `a selection of oneself alone is empty (${alone.statusCode})`);
  assert.equal(await renewalCode(dir), null, 'no renewal code was drawn for the admin');

  const both = await thief.post(base, { selection: `userIds=${dir}&userIds=${pupil}`, format: 'csv' });
  assert.equal(both.statusCode, 200, `the other accounts still get theirs (${both.statusCode})`);
  assert.match(both.body, /zoe\.fiches/, 'the pupil is in the file');
  assert.doesNotMatch(both.body, /direction\.fiches/, 'the admin is not');
  assert.equal(both.headers['x-account-count'], '1', 'one code drawn');
  assert.equal(await renewalCode(dir), null, 'still no renewal code for the admin');
  assert.notEqual(await renewalCode(pupil), null, "the pupil's code is stored");

  // Nothing for /renouvellement to take: the admin's password is still the one only its holder knows.
  const c = new Client(app, '198.51.100.77');
  await c.get('/connexion');
  assert.equal((await c.post('/connexion', { login: 'direction.fiches', password: 'direction-fiches-2026' })).statusCode, 303, 'the admin signs in as before');
});

test("a PDF of the admin's own renewal sheet is refused as empty", async () => {
  const admin = await signedInClient(app, pool, dir);
  const posted = await admin.post(base, { selection: `userIds=${dir}`, format: 'pdf' });
  assert.equal(posted.statusCode, 422, `and the PDF of oneself is refused as empty (${posted.statusCode})`);
  assert.equal(await renewalCode(dir), null, 'no renewal code for the admin');
});

test("the confirmation page counts the accounts the sheets will hold, the caller's own left out", async () => {
  // It counted the admin's own account: « 1 compte recevra un code » and a button, for a file refused as empty.
  const admin = await signedInClient(app, pool, dir);
  const alone = await admin.get(`${base}?userIds=${dir}`);
  assert.equal(alone.statusCode, 200, `the page is shown (${alone.statusCode})`);
  assert.match(alone.body, /data-renewal-count="0"/, 'no account of the selection can be given a code');
  assert.doesNotMatch(alone.body, /data-renewal-form/, 'no button to draw none');
  const both = await admin.get(`${base}?userIds=${dir},${pupil}`);
  assert.match(both.body, /data-renewal-count="1"/, 'the pupil only');
});
