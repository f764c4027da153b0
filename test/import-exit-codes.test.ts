// Exit codes of `trousseau import` for scripts (report.ts needsFixing): a parents' file delivered without its pupils'
// file leaves every parent-child link unmade, whether the children are named by identifier (« Id enfant »:
// applyNoPupilId) or by name: the input needs fixing (1), though every row is imported. Remarks that lose nothing
// exit 0 (test/unattended-cli.test.ts).
import assert from 'node:assert/strict';
import { mkdtempSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { run as importCli } from '../src/import/cli.js';
import { freshDatabase } from './helpers/db.js';
import { runCli } from './helpers/cli.js';

let database: Awaited<ReturnType<typeof freshDatabase>>;
let dataDir: string;
before(async () => {
  database = await freshDatabase();
  dataDir = mkdtempSync(join(tmpdir(), 'trousseau-exit-data-'));
  await database.pool.query(`INSERT INTO structures (uai, name) VALUES ('0123456A', 'École Jules Ferry')`);
});
after(async () => {
  await database.close();
  rmSync(dataDir, { recursive: true, force: true });
});
const env = () => ({ DATABASE_URL: database.url, TROUSSEAU_SECRET: '11'.repeat(32), TROUSSEAU_DATA_DIR: dataDir, TROUSSEAU_DROP_DIR: '' });
const folder = (files: Record<string, string>) => {
  const d = mkdtempSync(join(tmpdir(), 'trousseau-exit-'));
  mkdirSync(join(d, 'x'));
  for (const [n, t] of Object.entries(files)) writeFileSync(join(d, 'x', n), t);
  return join(d, 'x');
};

test('a parents file whose children are found nowhere, by identifier or by name, exits 1 (links left unmade)', async () => {
  // Three parents, each naming their child by id; the pupils' file was forgotten.
  const byId = folder({ 'CSV_Parents.csv': 'Id;Nom;Prénom;Id enfant\nP1;MARTIN;Karim;E1\nP2;PETIT;Nadia;E2\nP3;DURAND;Anne;E3\n' });
  const r = await runCli(importCli, [byId, '--structure', '0123456A', '--dry-run'], env());
  assert.equal(r.code, 1, r.out + r.err);
  assert.match(r.out, /aucun élève d.identifiant « E1 »/);
  assert.match(r.out, /aucun élève d.identifiant « E3 »/);

  // The same with children named by their names.
  const byName = folder({ 'CSV_Parents.csv': "Nom;Prénom;Nom enfant;Prénom enfant;Classe enfant\nMARTIN;Karim;MARTIN;Léa;CE2 A\nPETIT;Nadia;PETIT;Hugo;CE2 A\n" });
  const r2 = await runCli(importCli, [byName, '--structure', '0123456A', '--dry-run'], env());
  assert.equal(r2.code, 1, r2.out + r2.err);
});
