import assert from 'node:assert/strict';
import { test } from 'node:test';
import { foldName } from '../src/directory/fold.js';
import { baseLogin, LoginAllocator } from '../src/directory/login.js';

test('login folding table', () => {
  const table: [string, string, string][] = [
    ['Kù', 'Long', 'ku.long'],
    ['Åslög', 'Frazier', 'aslog.frazier'],
    ['Léonore', 'Ray', 'leonore.ray'],
    ['Jean-Paul', 'FONTAINE', 'jean-paul.fontaine'],
    ['Anne Marie', "D'Arc", 'anne-marie.darc'],
    ['Zoé', 'DUPONT-DUPUIS', 'zoe.dupont-dupuis'],
    ['Øystein', 'Ærøskøbing', 'oystein.aeroskobing'],
    ['Chloé', 'Œuvray', 'chloe.oeuvray'],
    ['Ştefan', 'Müller', 'stefan.muller'],
    ['=CMD()', 'Nom', 'cmd.nom'],
  ];
  for (const [f, l, want] of table) assert.equal(baseLogin(f, l), want, `${f} ${l}`);
  assert.equal(foldName('  É  '), 'e');
});

test('collisions are suffixed 2, 3… across all logins', () => {
  const a = new LoginAllocator(new Set(['lea.colin', 'lea.colin3']));
  assert.equal(a.allocate('Léa', 'Colin'), 'lea.colin2');
  assert.equal(a.allocate('Lea', 'COLIN'), 'lea.colin4');
  assert.equal(a.allocate('Théo', 'Colin'), 'theo.colin');
  assert.equal(a.allocate('Theo', 'Colin'), 'theo.colin2');
});
