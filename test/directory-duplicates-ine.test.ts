// « Gérer les doublons » pairs two pupil accounts bearing the same INE whatever their names: the CM2 pupil of the
// école's feed who comes back in the collège's under another key (a new account) and a usage name (« Léa DURAND »
// then « Léa MARTIN-DURAND »), or a spelling the collège corrected. Names alone did not pair them, so the family kept
// two accounts, the activated one bound for deletion at the end of its grace period.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { findDuplicates, scorePair } from '../src/directory/duplicates.js';
import { testContext } from './helpers/db.js';
import { insertStructure, insertUser } from './helpers/directory-sample.js';

let ctx: Awaited<ReturnType<typeof testContext>>;
before(async () => {
  ctx = await testContext();
});
after(async () => {
  await ctx?.close();
});

test('two pupils with one INE and unrelated names are proposed as one, before name-only matches', async () => {
  const pool = ctx.database.pool;
  const s = await insertStructure(pool, 'Collège Jean Moulin');
  const at = { structureIds: [s], birthDate: '2014-03-02' };
  const ecole = await insertUser(pool, { ...at, firstName: 'Léa', lastName: 'DURAND', activated: true, externalId: 'aaf1d:1001' });
  const college = await insertUser(pool, { ...at, firstName: 'Léa', lastName: 'MARTIN-DURAND', externalId: 'aaf2d:2001' });
  // Namesakes by one letter, a different INE: not the same pupil because of an INE, only perhaps by their names.
  const other = await insertUser(pool, { ...at, firstName: 'Lena', lastName: 'DURAND', externalId: 'aaf2d:2002' });
  await pool.query(`UPDATE users SET ine = v.ine FROM (VALUES ($1::uuid, '123456789AB'), ($2::uuid, '123456789ab '), ($3::uuid, '987654321ZZ')) v(id, ine) WHERE users.id = v.id`, [
    ecole,
    college,
    other,
  ]);
  const pairs = await findDuplicates(ctx, { kind: 'all' });
  const byIne = pairs.find((p) => [p.keep.id, p.drop.id].sort().join() === [ecole, college].sort().join());
  assert.ok(byIne, JSON.stringify(pairs.map((p) => [p.keep.lastName, p.drop.lastName, p.reasons])));
  assert.deepEqual(byIne.reasons, ['same_ine', 'same_birth_date']);
  assert.equal(byIne.keep.id, ecole, 'the activated account is the one kept');
  assert.equal(pairs[0], byIne, 'the surest pair first');
});

test('the same INE adds to a names match; no INE on one side changes nothing', () => {
  const lea = { fl: 'durand', ff: 'lea', birthDate: '2014-03-02', email: null };
  assert.deepEqual(scorePair({ ...lea, ine: '123456789AB' }, { ...lea, ine: '123456789AB' }), { score: 100, reasons: ['same_names', 'same_ine', 'same_birth_date'] });
  assert.deepEqual(scorePair({ ...lea, ine: '123456789AB' }, { ...lea, ine: null }), { score: 95, reasons: ['same_names', 'same_birth_date'] });
  assert.equal(scorePair({ ...lea, ine: '123456789AB' }, { ...lea, fl: 'martin', ine: '987654321ZZ' }), null);
});

test('the comparison page of a pair proposed by its INE gives the list’s score and « Même INE », not « not a probable duplicate »', async () => {
  const { buildServer } = await import('../src/web/server.js');
  const { createUser, signedInClient } = await import('./helpers/web.js');
  const pool = ctx.database.pool;
  const app = await buildServer(ctx);
  try {
    const s = await insertStructure(pool, 'Collège Lucie Aubrac');
    const at = { structureIds: [s], birthDate: '2014-05-06' };
    const a = await insertUser(pool, { ...at, firstName: 'Noé', lastName: 'PETIT', activated: true, externalId: 'aaf1d:3001' });
    const b = await insertUser(pool, { ...at, firstName: 'Noé', lastName: 'BERNARD-PETIT', externalId: 'aaf2d:4001' });
    await pool.query(`UPDATE users SET ine = '555666777CD' WHERE id = ANY($1::uuid[])`, [[a, b]]);
    const admin = await createUser(pool, { login: 'dup.admin', superAdmin: true, password: 'x' });
    const c = await signedInClient(app, pool, admin);
    const page = await c.get(`/console/etablissements/${s}/doublons/${a}/${b}`);
    assert.equal(page.statusCode, 200);
    assert.doesNotMatch(page.body, /pas détectés comme doublons probables/);
    assert.match(page.body, /Même INE/);
  } finally {
    await app.close();
  }
});
