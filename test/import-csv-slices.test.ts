// The CSV reader parses a large file by slices, the event loop turning between two (src/import/csv.ts parseCsv: an
// import runs in the server): every row arrives whole, quoted cells and line ends cut by a slice boundary included,
// and a file broken far from its start is still refused at its line.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseCsv } from '../src/import/csv.js';
import { emptyBatch, ImportFileError } from '../src/import/types.js';
import { loopTurnsDuring } from './helpers/event-loop.js';

const TARGET = { key: 'id:ecole', id: '6f1c1a52-3c1e-4c55-9a57-3b2f4e0c9d10' };
const ROWS = 6000; // ~300 KB: several slices of 64k characters and of 500 rows

function file(tail = ''): Buffer {
  const lines = ['Nom*;Prénom*;Date de naissance*;Classes*'];
  // Every fifth row has a quoted cell holding the separator and doubled quotes: some fall across a slice boundary.
  for (let i = 0; i < ROWS; i++) lines.push(`MARTIN-${i};${i % 5 ? `Zoé ${i}` : `"Zoé; dite ""Zaza"" ${i}"`};0${1 + (i % 9)}/03/2015;CE1`);
  return Buffer.from(`${lines.join('\r\n')}\r\n${tail}`, 'utf8');
}

test('a file of many slices gives every row whole, the event loop turning meanwhile', async () => {
  const batch = emptyBatch();
  const { result: res, turns } = await loopTurnsDuring(() => parseCsv('CSV_Eleves.csv', file(), TARGET, batch));
  assert.equal(res.rows, ROWS);
  assert.deepEqual(batch.rejected, []);
  const users = [...batch.users.values()];
  assert.equal(users.length, ROWS);
  const names = new Set(users.map((u) => `${u.lastName}|${u.firstName}`));
  for (const i of [0, 1, 1234, 2500, ROWS - 1]) assert.ok(names.has(`MARTIN-${i}|${i % 5 ? `Zoé ${i}` : `Zoé; dite "Zaza" ${i}`}`), `row ${i}`);
  // A turn per slice of characters and per 500 rows (a synchronous parse gives none).
  assert.ok(turns >= 10, `turns of the event loop during the parse: ${turns}`);
});

test('a quote left open far into a large file is refused naming the file', async () => {
  await assert.rejects(parseCsv('CSV_Eleves.csv', file('DURAND;"Sans fin;01/01/2015;CE1\r\n'), TARGET, emptyBatch()), (e: unknown) => {
    assert.ok(e instanceof ImportFileError);
    assert.equal(e.file, 'CSV_Eleves.csv');
    return true;
  });
});

test('a character of two UTF-16 units across a slice boundary arrives whole', async () => {
  const header = 'Nom*;Prénom*;Date de naissance*;Classes*\r\n';
  // The name's 𝔘 starts on the last unit of the first slice of 64k characters.
  const pad = 64 * 1024 - 1 - header.length;
  const name = `${'A'.repeat(pad)}𝔘LRICH`;
  const batch = emptyBatch();
  await parseCsv('CSV_Eleves.csv', Buffer.from(`${header}${name};Zoé;01/03/2015;CE1\r\nMARTIN;Léo;02/03/2015;CE1\r\n`, 'utf8'), TARGET, batch);
  assert.deepEqual(batch.rejected, []);
  const users = [...batch.users.values()];
  assert.equal(users.length, 2);
  assert.ok(users.some((u) => u.lastName.endsWith('𝔘LRICH') && !u.lastName.includes('\ufffd')), users.map((u) => u.lastName.slice(-8)).join(', '));
});
