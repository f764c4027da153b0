// ONDE's « Téléphone portable » (invented files: test/fixtures/be1d/telephones/). It was read as one more home phone:
// Sylvie PERRIN, home and mobile given, kept the home number and lost her mobile; nobody's « Mobile (SMS) » (users.mobile)
// was ever filled from a school file. Kept apart, as SIECLE's TEL_PORTABLE and the reference's `mobile`.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { collectInputs, formatReport, importFiles } from '../src/import/index.js';
import { fileContext, sqlReaders } from './helpers/db.js';

const DIR = new URL('./fixtures/be1d/telephones/', import.meta.url).pathname;
const ctx = await fileContext();
const { q } = sqlReaders(ctx);

test('ONDE’s « Téléphone portable » is the mobile number, the home or work number the phone', async () => {
  const opts = { dryRun: false, scope: { kind: 'all' }, structureHint: 'École des Prés' } as Parameters<typeof importFiles>[2];
  const report = await importFiles(ctx, collectInputs([DIR]), opts);
  assert.equal(report.fatal, null, formatReport(report));
  const rows = await q<{ first_name: string; phone: string | null; mobile: string | null }>(`SELECT first_name, phone, mobile FROM users WHERE profile = 'Relative' ORDER BY first_name`);
  assert.deepEqual(rows.map((r) => [r.first_name, r.phone, r.mobile]), [
    ['Hugo', '02 33 00 00 02', '07 98 76 54 32'],
    ['Sylvie', '02 33 00 00 01', '06 12 34 56 78'],
  ]);
  const again = await importFiles(ctx, collectInputs([DIR]), opts);
  assert.deepEqual([again.created, again.updated], [0, 0], formatReport(again));
});
