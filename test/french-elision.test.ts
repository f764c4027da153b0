// "de" before a first name elides only before a vowel sound: a Y before a vowel is a consonant ("de Youssef").
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { de } from '../src/lib/french.js';

test('de() elides before vowels, mute h and a Y sounding as a vowel, not before a consonant Y', () => {
  const table: Array<[string, string]> = [
    ['Anaïs Martin', 'd’Anaïs Martin'],
    ['Émile Roux', 'd’Émile Roux'],
    ['Hugo Petit', 'd’Hugo Petit'], // h taken as mute, as for most first names
    ['Œdipe Roi', 'd’Œdipe Roi'],
    ['Ulysse Blanc', 'd’Ulysse Blanc'],
    ['Yves Morel', 'd’Yves Morel'],
    ['Ylona Faure', 'd’Ylona Faure'],
    ['Youssef Bernard', 'de Youssef Bernard'],
    ['Yasmine Girard', 'de Yasmine Girard'],
    ['Yann Leroy', 'de Yann Leroy'],
    ['Yohan Bourgeois', 'de Yohan Bourgeois'],
    ['Zoé Lambert', 'de Zoé Lambert'],
    ['Jean Moulin', 'de Jean Moulin'],
  ];
  for (const [name, expected] of table) assert.equal(de(name), expected, name);
});

test('de() keeps the article of school names', () => {
  assert.equal(de('École Jules Ferry'), 'de l’École Jules Ferry');
  assert.equal(de('Établissement régional'), 'de l’Établissement régional');
  assert.equal(de('Collège Denis Poisson'), 'du Collège Denis Poisson');
});
