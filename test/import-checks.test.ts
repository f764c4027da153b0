// Rules every importer's records go through (src/import/checks.ts): hostile names, impossible birth dates,
// e-mails — pure, then end to end through a CSV file (rejected with file, line and field, nothing else changed).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { checkPeople, NAME_MAX } from '../src/import/checks.js';
import { formatReport, importFiles } from '../src/import/index.js';
import { emptyBatch, type UserRecord } from '../src/import/types.js';
import { fileContext } from './helpers/db.js';

const person = (over: Partial<UserRecord>): UserRecord => ({
  externalId: 'x', source: 'csv', origin: 'manual', profile: 'Student', title: null, firstName: 'Léa', lastName: 'MARTIN',
  birthDate: '2014-03-02', email: null, phone: null, structures: new Set(), classes: [], groups: [], file: 'CSV_Eleves.csv', line: 2, ...over,
});

test('names lose invisible characters; too long, letterless names and future birth dates reject the record', () => {
  const batch = emptyBatch();
  const add = (ext: string, over: Partial<UserRecord>) => batch.users.set(ext, person({ externalId: ext, ...over }));
  add('rtl', { firstName: 'Ev\u202eil', lastName: 'DU\u200bPONT', line: 2 });
  add('long', { lastName: 'A'.repeat(NAME_MAX + 1), line: 3 });
  add('dashes', { firstName: '---', lastName: '...', line: 4 });
  add('emoji', { firstName: '😀', lastName: '🎉', line: 5, source: 'aaf' });
  add('future', { birthDate: '2099-01-01', line: 6 });
  add('today', { birthDate: '2026-11-29', line: 7 });
  add('mail', { email: 'anne(at)example.org', line: 8, source: 'siecle' });
  checkPeople(batch, '2026-11-29');
  assert.deepEqual([...batch.users.keys()], ['rtl', 'today', 'mail']);
  assert.deepEqual([batch.users.get('rtl')!.firstName, batch.users.get('rtl')!.lastName], ['Evil', 'DUPONT']);
  assert.equal(batch.users.get('mail')!.email, null);
  assert.deepEqual(batch.rejected.map((r) => [r.line, r.field]), [[3, 'Nom'], [4, 'Nom'], [5, 'sn'], [6, 'Date de naissance'], [8, 'MEL']]);
  assert.match(batch.rejected[3].reason, /01\/01\/2099 dans le futur/);
  assert.deepEqual(batch.protect, ['long', 'dashes', 'emoji', 'future'], 'their accounts are not pre-deleted for it');
});

const ctx = await fileContext();

test('a CSV file with a future birth date and a hostile name: those rows are rejected naming line and field, the rest imports', async () => {
  const csv = [
    'Nom;Prénom;Date de naissance;Classe',
    'MARTIN;Léa;02/03/2014;6A',
    'FUTUR;Léo;01/01/2099;6A',
    `${'B'.repeat(150)};Tom;04/05/2014;6A`,
    'LE\u202eNOIR;Zoé;05/06/2014;6A',
  ].join('\n');
  const report = await importFiles(ctx, [{ name: 'CSV_Eleves.csv', data: Buffer.from(csv) }], { scope: { kind: 'all' }, dryRun: false, structureHint: 'École des Contrôles' });
  assert.equal(report.fatal, null, formatReport(report));
  assert.deepEqual(report.rejected.map((r) => `${r.file}:${r.line}:${r.field}`), ['CSV_Eleves.csv:3:Date de naissance', 'CSV_Eleves.csv:4:Nom']);
  const names = (await ctx.database.pool.query<{ n: string }>(`SELECT last_name || ' ' || first_name AS n FROM users ORDER BY 1`)).rows.map((r) => r.n);
  assert.deepEqual(names, ['LENOIR Zoé', 'MARTIN Léa']);
});
