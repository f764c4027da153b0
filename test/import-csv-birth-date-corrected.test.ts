// A pupil's birth date corrected in the school's CSV (invented files: test/fixtures/csv/birth-date/: v2 gives Nina
// BERTHIER 23/11/2017 instead of 22/11/2017, nothing else changes). Her name-built key holds the date: she got a second
// account, her own (and its activation code, handed to the family) went to the grace period, and her mother's row,
// naming « BERTHIER Nina (PS de Mme ROCHE) », found two pupils: « plusieurs élèves », no link. The reference ENT's key
// has no date. Same names, same class, one account absent: the date is corrected on the account (renames.ts dateCorrected).
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { test } from 'node:test';
import { collectInputs, formatReport, importFiles } from '../src/import/index.js';
import { fileContext, sqlReaders } from './helpers/db.js';

const DIR = new URL('./fixtures/csv/birth-date/', import.meta.url).pathname;
const ctx = await fileContext();
const { q } = sqlReaders(ctx);
const opts = { dryRun: false, scope: { kind: 'all' }, structureHint: 'École du Parc' } as Parameters<typeof importFiles>[2];
const nina = async () => q<{ id: string; login: string; birth_date: string }>(`SELECT id, login, birth_date::text FROM users WHERE first_name = 'Nina'`);

test('a corrected birth date keeps the pupil’s account and her parent’s link', async () => {
  const v1 = await importFiles(ctx, collectInputs([join(DIR, 'v1')]), opts);
  assert.equal(v1.fatal, null, formatReport(v1));
  const [before] = await nina();
  const v2 = await importFiles(ctx, collectInputs([join(DIR, 'v2')]), opts);
  assert.deepEqual([v2.created, v2.preDeleted, v2.relations.unresolved], [0, 0, 0], formatReport(v2));
  assert.deepEqual(v2.rejected, []);
  assert.deepEqual(await nina(), [{ ...before, birth_date: '2017-11-23' }]);
  const kids = await q<{ first_name: string }>(`SELECT c.first_name FROM relations r JOIN users c ON c.id = r.child_id ORDER BY 1`);
  assert.deepEqual(kids.map((k) => k.first_name), ['Nina', 'Sacha']);
  const again = await importFiles(ctx, collectInputs([join(DIR, 'v2')]), opts);
  assert.deepEqual([again.created, again.updated, again.preDeleted], [0, 0, 0], formatReport(again));
});
