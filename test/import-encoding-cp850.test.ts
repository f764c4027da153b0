// Single-byte encodings told apart by whether each byte above 0x7F reads as a letter of the case its neighbours ask
// for (text.ts frenchness). CP850 (Excel « CSV (MS-DOS) ») from Mac Roman and Windows-1252: Mac Roman's capital Ç
// (0x82) is CP850's é, and Windows-1252's ellipsis (0x85) CP850's à — a first version weighed letters alone and took
// both for CP850 (review). ISO-8859-15 from Windows-1252 and Mac Roman: its œ (0xBD) is ½ and Ω in them. Capitals
// starting a name (Émile, Ève, Œillet) fit either reading's case.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import iconv from 'iconv-lite';
import { formatReport, importFiles } from '../src/import/index.js';
import { decodeText, detectEncoding } from '../src/import/text.js';
import { fileContext } from './helpers/db.js';

const ctx = await fileContext();

const names = async (school: string) =>
  (
    await ctx.database.pool.query(
      `SELECT u.last_name || ' ' || u.first_name AS n FROM users u JOIN user_structures us ON us.user_id = u.id JOIN structures s ON s.id = us.structure_id WHERE s.name = $1 ORDER BY 1`,
      [school],
    )
  ).rows.map((r) => r.n as string);

/** Users of a school as `login first last`, sorted. */
const logins = async (school: string) =>
  (
    await ctx.database.pool.query(
      `SELECT u.login || ' ' || u.first_name || ' ' || u.last_name AS p FROM users u JOIN user_structures us ON us.user_id = u.id JOIN structures s ON s.id = us.structure_id WHERE s.name = $1 ORDER BY 1`,
      [school],
    )
  ).rows.map((r) => r.p as string);

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

test('ISO-8859-15 whose only letters beyond Latin-1 are Œ œ (and æ): « Bœuf », not « B½uf » nor « BΩuf »', async () => {
  const texts = [
    'Nom;Prénom;Date de naissance;Classe\nBŒUF;Lætitia;01/02/2014;CM1\nBœuf;Paul;03/04/2014;CM1\nCœur;Zoé;05/06/2014;CM2\n',
    // Small enough for jschardet's models to tie: it ranked Mac Roman first.
    'Nom;Prenom\nBœuf;Léa\n',
    'Nom;Prenom\nBŒUF;Marie\nCœur;Lætitia\nBœuf;Léa\n',
    'Nom;Prénom;Date de naissance;Classe\nBŒUF;Léa;01/02/2014;CM1\nCœur;Léa;03/04/2014;CM2\n',
  ];
  for (const text of texts) assert.deepEqual(decodeText('CSV_Eleves.csv', iconv.encode(text, 'iso-8859-15')), { text, encoding: 'iso-8859-15' }, text);
  const data = iconv.encode(texts[3].replace(/\n/g, '\r\n'), 'iso-8859-15');
  const r = await importFiles(ctx, [{ name: 'CSV_Eleves.csv', data }], { dryRun: false, scope: { kind: 'all' }, structureHint: 'École Œ' });
  assert.equal(r.fatal, null, formatReport(r));
  assert.deepEqual(await logins('École Œ'), ['lea.boeuf Léa BŒUF', 'lea.coeur Léa Cœur']);
});

test('Windows-1252 with ½ ¼ outside words, or a real œ (0x9C): still Windows-1252', () => {
  const texts = [
    'Nom;Prénom;Date de naissance;Classe;Observations\nMARTIN;Léa;01/02/2014;CM1;1½ h de soutien\nDURAND;Paul;03/04/2014;CM1;tarif ¼\n',
    'Nom;Prénom;Date de naissance;Classe\nBœuf;Zoé;01/02/2014;CM1\nCœur;Lætitia;03/04/2014;CM1\n',
  ];
  for (const text of texts) assert.deepEqual(decodeText('CSV_Eleves.csv', iconv.encode(text, 'windows-1252')), { text, encoding: 'windows-1252' }, text);
});

test('names starting with a capital (Émile, Ève, Œillet): each encoding read as itself', () => {
  // Such a capital's byte is a small letter in another encoding (Mac Roman's É 0x83 is Windows-1252's ƒ, its È 0xE9
  // Windows-1252's é); the case wanted there was the next letter's, so the wrong reading won.
  const text = 'Nom;Prenom;Classe\nÉbrard;Émile;CE1\nŒillet;Ève;CE1\nÉvrard;Élodie;CE2\n';
  for (const encoding of ['macintosh', 'windows-1252', 'iso-8859-15'] as const) assert.equal(detectEncoding(iconv.encode(text, encoding)).encoding, encoding);
  assert.equal(detectEncoding(iconv.encode(text.replace('Œillet', 'Oeillet'), 'cp850')).encoding, 'cp850');
});
