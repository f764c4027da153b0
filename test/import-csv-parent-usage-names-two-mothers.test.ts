// Two mothers of one school with the same family name and first name (« Marie DUPONT ») but different usage names
// (MARTIN, BERNARD), each with a child carrying her family name (Léa DUPONT, Tom DUPONT: two families). Keyed by the
// family name since today (csv.ts keyLast), their rows meet under one key, and rows of one key with a child's family
// name in common and no address are read as one person (sameRelative: « siblings »): one account for both mothers,
// linked to both families' children — each mother's password opening the other family's child. Keyed by the usage
// name before, they never met. Two different usage names in one file are two people.
import assert from 'node:assert/strict';
import { mkdtempSync, mkdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { collectInputs, formatReport, importFiles } from '../src/import/index.js';
import { fileContext, sqlReaders } from './helpers/db.js';

const ctx = await fileContext();
const { q } = sqlReaders(ctx);
const opts = { dryRun: false, scope: { kind: 'all' }, structureHint: 'École des Deux Marie' } as Parameters<typeof importFiles>[2];
const dir = mkdtempSync(join(tmpdir(), 'two-mothers-'));
mkdirSync(join(dir, 'v1'));
writeFileSync(join(dir, 'v1', 'CSV_Eleves.csv'), ['Nom;Prénom;Date de naissance;Classe', 'Dupont;Léa;01/02/2016;CE1', 'Dupont;Tom;05/06/2016;CE2'].join('\n') + '\n');
writeFileSync(join(dir, 'v1', 'CSV_Parents.csv'), ["Civilité;Nom;Nom d'usage;Prénom;Nom de l'élève;Prénom de l'élève;Classe de l'élève",
  'Mme;Dupont;Martin;Marie;Dupont;Léa;CE1', 'Mme;Dupont;Bernard;Marie;Dupont;Tom;CE2'].join('\n') + '\n');

test('two mothers of one family name and first name but different usage names keep two accounts', async () => {
  await q(`INSERT INTO structures (uai, name) VALUES ('0739904N', 'École des Deux Marie')`);
  const v1 = await importFiles(ctx, collectInputs([join(dir, 'v1')]), opts);
  assert.equal(v1.fatal, null, formatReport(v1));
  const rows = await q(`SELECT u.last_name, (SELECT string_agg(c.first_name, ',' ORDER BY c.first_name) FROM relations r JOIN users c ON c.id = r.child_id WHERE r.parent_id = u.id) AS kids
                        FROM users u WHERE u.profile = 'Relative' ORDER BY u.last_name`);
  assert.deepEqual(rows, [{ last_name: 'Bernard', kids: 'Tom' }, { last_name: 'Martin', kids: 'Léa' }], formatReport(v1));
});
