// A pupil and a teacher given a usage name at the next ONDE/BE1D export (invented files:
// test/fixtures/be1d/usage-name-pupil-teacher/: v2 gives the pupil Inès GARNIER « Nom d'usage Elève » VASSEUR and the
// director Anne DUPRÉ « Nom usage » MOREAU, nothing else changes). Keyed by the usage name, each got a new account
// and her own went to the grace period (the director's local administration with it): the two names share nothing, so
// no rename is seen. Keyed by the family name, as parents are (import-be1d-usage-name.test.ts), they keep their accounts.
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { test } from 'node:test';
import { collectInputs, formatReport, importFiles } from '../src/import/index.js';
import { fileContext, sqlReaders } from './helpers/db.js';

const DIR = new URL('./fixtures/be1d/usage-name-pupil-teacher/', import.meta.url).pathname;
const ctx = await fileContext();
const { q } = sqlReaders(ctx);
const opts = { dryRun: false, scope: { kind: 'all' }, structureHint: 'École des Acacias' } as Parameters<typeof importFiles>[2];
const people = async () =>
  (await q<{ id: string; login: string; last_name: string }>(`SELECT id, login, last_name FROM users WHERE first_name IN ('Inès', 'Anne') ORDER BY first_name`)).map((x) => [x.id, x.login, x.last_name]);

test('a pupil and a director given a usage name at the next ONDE export keep their accounts', async () => {
  const v1 = await importFiles(ctx, collectInputs([join(DIR, 'v1')]), opts);
  assert.equal(v1.fatal, null, formatReport(v1));
  const before = await people();
  assert.deepEqual(before.map((x) => x[1]), ['anne.dupre', 'ines.garnier']);

  const v2 = await importFiles(ctx, collectInputs([join(DIR, 'v2')]), opts);
  assert.deepEqual([v2.created, v2.updated, v2.preDeleted], [0, 2, 0], formatReport(v2));
  assert.deepEqual(await people(), [[before[0][0], 'anne.dupre', 'MOREAU'], [before[1][0], 'ines.garnier', 'VASSEUR']]);
  assert.deepEqual((await q<{ login: string }>(`SELECT u.login FROM local_admins l JOIN users u ON u.id = l.user_id`)).map((x) => x.login), ['anne.dupre']);

  const back = await importFiles(ctx, collectInputs([join(DIR, 'v1')]), opts);
  assert.deepEqual([back.created, back.preDeleted], [0, 0], formatReport(back));
  assert.deepEqual(await people(), [[before[0][0], 'anne.dupre', 'DUPRÉ'], [before[1][0], 'ines.garnier', 'GARNIER']]);
});

test('accounts keyed by the usage name (before the family name keyed pupils and teachers) are still found', async () => {
  await q(`UPDATE users SET external_id = replace(replace(external_id, ':garnier:', ':vasseur:'), ':dupre:', ':moreau:') WHERE first_name IN ('Inès', 'Anne')`);
  const before = await people();
  const v2 = await importFiles(ctx, collectInputs([join(DIR, 'v2')]), opts);
  assert.deepEqual([v2.created, v2.preDeleted], [0, 0], formatReport(v2));
  assert.deepEqual((await people()).map((x) => x[0]), before.map((x) => x[0]));
  assert.deepEqual((await q<{ external_id: string }>(`SELECT external_id FROM users WHERE first_name IN ('Inès', 'Anne') ORDER BY first_name`)).map((x) => x.external_id.split(':').slice(2).join(':')), [
    'Teacher:dupre:anne:', 'Student:garnier:ines:2015-05-12',
  ]);
  // Re-keyed by the family name: the usage name dropped again still finds them.
  const back = await importFiles(ctx, collectInputs([join(DIR, 'v1')]), opts);
  assert.deepEqual([back.created, back.preDeleted], [0, 0], formatReport(back));
  assert.deepEqual((await people()).map((x) => x[0]), before.map((x) => x[0]));
});
