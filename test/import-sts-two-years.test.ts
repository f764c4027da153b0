// Two STS-web exports of one school in a run (last year's left beside this year's, in a folder or an archive): each
// INDIVIDU is one account, and this year's export says what she does. Both describe the same school, unlike two AAF
// records of one person (each with the functions of its own schools, which add up: import-aaf-same-person.test.ts):
// last year's head of school, teaching this year, was made this year's local administrator by her old DIR function,
// and this year's head, who taught last year, was counted as a teacher (class view, pupils' codes).
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { formatReport, importFiles } from '../src/import/index.js';
import { fileContext, sqlReaders } from './helpers/db.js';

const ctx = await fileContext();
const { q } = sqlReaders(ctx);
const THIS_YEAR = readFileSync(new URL('./fixtures/sts/sts_emp_0990001X_2025.xml', import.meta.url));
/** Last year's export, written here: Hélène DURAND (41001) headed the school, Odile LAMBERT (41004) taught. */
const LAST_YEAR = Buffer.from(
  THIS_YEAR.toString('latin1')
    .replace('ANNEE="2025"', 'ANNEE="2024"')
    .replace(/(<INDIVIDU ID="41001"[\s\S]*?<FONCTION>)ENS(<\/FONCTION>)/, '$1DIR$2')
    .replace(/(<INDIVIDU ID="41004"[\s\S]*?<FONCTION>)DIR(<\/FONCTION>)/, '$1ENS$2'),
  'latin1',
);

const people = async () =>
  Object.fromEntries(
    (
      await q<{ id: string; profile: string; functions: string[]; admin: boolean }>(
        `SELECT u.external_id AS id, u.profile, u.functions, EXISTS (SELECT 1 FROM local_admins la WHERE la.user_id = u.id) AS admin
         FROM users u WHERE u.external_id = ANY($1)`,
        [['sts:0990001X:41001', 'sts:0990001X:41004']],
      )
    ).map((x) => [x.id.slice(-5), [x.profile, [...x.functions].sort(), x.admin]]),
  );

test('two years of STS-web exports of one school: this year’s functions, profile and local administrator', async () => {
  // In the order a folder or an archive gives them (by name: last year's first), as a run reads records.
  {
    const files = [{ name: 'sts_emp_0990001X_2024.xml', data: LAST_YEAR }, { name: 'sts_emp_0990001X_2025.xml', data: THIS_YEAR }];
    const report = await importFiles(ctx, files, { scope: { kind: 'all' }, dryRun: false });
    assert.equal(report.fatal, null, formatReport(report));
    assert.deepEqual(
      await people(),
      {
        41001: ['Teacher', ['0990001X$ENS'], false],
        41004: ['Personnel', ['0990001X$DIR'], true],
      },
      `this year's export says who teaches and who heads the school: ${formatReport(report)}`,
    );
    assert.deepEqual(
      report.adminChanges?.map((c) => [c.change, c.name]),
      [['appointed', 'Odile LAMBERT']],
      `only this year's head of school is appointed: ${formatReport(report)}`,
    );
  }
});
