// SQL trousseau_fold (search, duplicates) and foldKey (logins, import keys) agree on Latin-script names.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { foldKey } from '../src/directory/fold.js';
import { fileContext } from './helpers/db.js';

const ctx = await fileContext();

test('trousseau_fold(x) = foldKey(x) on accents, ligatures, compatibility forms, dashes and special letters', async () => {
  const names = [
    'Léa', 'COLIN', 'Jean-Paul', 'Jean–Paul', 'Jean—Paul', 'Jean‐Paul', 'Jean−Paul', "N'Guessan", 'N’Guessan', 'Anne Marie',
    'BŒUF', 'Œdipe', 'cœur', 'Æsa', 'Ærøskøbing', 'Straße', 'STRASSE', 'ﬁlippa', 'Ĳsselmeer', 'ĳs', 'Ｆｕｌｌ', 'Øystein',
    'Łukasz', 'Đorđe', 'Þór', 'Ðiðrik', 'Kırıkkale', 'Ħal', 'Ŧom', 'Ŋoma', 'ĸra', 'Ştefan', 'Nguyễn', 'Åslög', 'Kù',
    '=HYPERLINK("x")', 'DUPONT-DUPUIS', 'Müller', 'Éloïse', 'Ÿvon', 'Šárka', 'Žoé', '  Noël  ',
  ];
  const { rows } = await ctx.database.pool.query<{ n: string; f: string }>(`SELECT n, trousseau_fold(n) AS f FROM unnest($1::text[]) AS n`, [names]);
  for (const r of rows) assert.equal(r.f, foldKey(r.n), r.n);
});
