// CP850 (Excel « CSV (MS-DOS) ») is told from Mac Roman and Windows-1252 by whether each byte above 0x7F reads as a
// letter of the case its neighbours ask for (text.ts frenchness): Mac Roman's capital Ç (0x82) is CP850's é, and
// Windows-1252's ellipsis (0x85) CP850's à — a first version weighed letters alone and took both for CP850 (review).
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import iconv from 'iconv-lite';
import { formatReport, importFiles } from '../src/import/index.js';
import { detectEncoding } from '../src/import/text.js';
import { testContext } from './helpers/db.js';

let ctx: Awaited<ReturnType<typeof testContext>>;
before(async () => {
  ctx = await testContext();
});
after(async () => {
  await ctx.close();
});

const names = async (school: string) =>
  (
    await ctx.database.pool.query(
      `SELECT u.last_name || ' ' || u.first_name AS n FROM users u JOIN user_structures us ON us.user_id = u.id JOIN structures s ON s.id = us.structure_id WHERE s.name = $1 ORDER BY 1`,
      [school],
    )
  ).rows.map((r) => r.n as string);

test('Mac Roman (Excel for Mac « CSV Macintosh »), capitals with Ç: still read as Mac Roman', async () => {
  const text = 'Nom;Prénom;Date de naissance;Classe\nÇELIK;François;01/02/2014;6A\nÇAKIR;Ömer;03/04/2013;6A\nÇETIN;Noël;05/06/2013;6A\n';
  const data = iconv.encode(text, 'macintosh');
  assert.equal(detectEncoding(data).encoding, 'macintosh');
  const r = await importFiles(ctx, [{ name: 'CSV_Eleves.csv', data }], { dryRun: false, scope: { kind: 'all' }, structureHint: 'École Mac' });
  assert.equal(r.fatal, null, formatReport(r));
  assert.deepEqual(await names('École Mac'), ['ÇAKIR Ömer', 'ÇELIK François', 'ÇETIN Noël']);
});

test('Windows-1252 without lowercase accents but with an ellipsis (Excel AutoCorrect): not CP850', () => {
  const data = iconv.encode('Nom;Prenom;Date de naissance;Classe;Observations\r\nMARTIN;Paul;01/02/2014;6A;PAI… voir infirmerie\r\n', 'windows-1252');
  assert.notEqual(detectEncoding(data).encoding, 'cp850');
});

test('Mac Roman whose only accents are capital Ç surnames: not Windows-1252 (« ‚ELIK »)', () => {
  const data = iconv.encode('Prenom*;Nom*;Date de naissance*;Classes*\r\nAli;ÇELIK;13/08/2014;CP A\r\nEmre;ÇAKIR;02/01/2013;CE1 B\r\n', 'macintosh');
  assert.equal(detectEncoding(data).encoding, 'macintosh');
});
