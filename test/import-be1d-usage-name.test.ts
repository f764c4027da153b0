// A parent's usage name given at the next ONDE/BE1D export (invented files: test/fixtures/be1d/usage-name/, from
// be1d-les-cerisiers: v2 gives Agathe BLONDEL the usage name MARCHAND, « Nom usage responsable », nothing else changes).
// The reference ENT keys a relative of a school file by her family name and first name (CsvFeeder
// getRelativeHashMapping: structure + lastName + firstName; the usage name is `surname`, outside the key): she stays
// the same account. A parent has no birth date nor class, so the import never takes her for a rename (renames.ts):
// keyed by her usage name, she got a new account and her own went to the grace period, her login and code with it.
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { test } from 'node:test';
import { collectInputs, formatReport, importFiles } from '../src/import/index.js';
import { fileContext, sqlReaders } from './helpers/db.js';

const DIR = new URL('./fixtures/be1d/usage-name/', import.meta.url).pathname;
const ctx = await fileContext();
const { q } = sqlReaders(ctx);

test('a parent given a usage name at the next ONDE export keeps her account', async () => {
  await q(`INSERT INTO structures (uai, name) VALUES ('0999001C', 'École Les Cerisiers')`);
  const opts = { dryRun: false, scope: { kind: 'all' }, structureHint: '0999001C' } as Parameters<typeof importFiles>[2];
  const v1 = await importFiles(ctx, collectInputs([join(DIR, 'v1')]), opts);
  assert.equal(v1.fatal, null, formatReport(v1));
  const [before] = await q<{ id: string; login: string }>(`SELECT id, login FROM users WHERE first_name = 'Agathe'`);
  assert.ok(before);

  const v2 = await importFiles(ctx, collectInputs([join(DIR, 'v2')]), opts);
  assert.equal(v2.fatal, null, formatReport(v2));
  assert.deepEqual([v2.created, v2.preDeleted], [0, 0], formatReport(v2));
  const after = await q<{ id: string; login: string; last_name: string }>(`SELECT id, login, last_name FROM users WHERE first_name = 'Agathe'`);
  assert.deepEqual(after.map((x) => [x.id, x.login, x.last_name]), [[before.id, before.login, 'MARCHAND']]);
  // Her usage name dropped again (v1): still her account, shown by her family name.
  const back = await importFiles(ctx, collectInputs([join(DIR, 'v1')]), opts);
  assert.deepEqual([back.created, back.preDeleted], [0, 0], formatReport(back));
  assert.deepEqual((await q(`SELECT id, last_name FROM users WHERE first_name = 'Agathe'`)).map((x) => [x.id, x.last_name]), [[before.id, 'BLONDEL']]);
});

test('a parent’s account keyed by her usage name (before the family name keyed parents) is still found', async () => {
  const opts = { dryRun: false, scope: { kind: 'all' }, structureHint: '0999001C' } as Parameters<typeof importFiles>[2];
  const v2 = await importFiles(ctx, collectInputs([join(DIR, 'v2')]), opts);
  assert.equal(v2.fatal, null, formatReport(v2));
  const [agathe] = await q<{ id: string; external_id: string }>(`SELECT id, external_id FROM users WHERE first_name = 'Agathe'`);
  assert.match(agathe.external_id, /:Relative:blondel:agathe:$/);
  await q(`UPDATE users SET external_id = replace(external_id, ':blondel:', ':marchand:') WHERE id = $1`, [agathe.id]);
  const again = await importFiles(ctx, collectInputs([join(DIR, 'v2')]), opts);
  assert.deepEqual([again.created, again.preDeleted], [0, 0], formatReport(again));
  assert.deepEqual((await q(`SELECT id FROM users WHERE first_name = 'Agathe'`)).map((x) => x.id), [agathe.id]);
});
