// A pupil (or parent) who leaves the school while a present, never-activated account of the school has a close
// name (twins Léa and Léo born the same day, in the same class; parents « Anne Petit » and « Anna Petit ») must be
// sent to the grace period like any absent account. Since the near-twin « kept » rule was extended to accounts that
// already exist (adoptAccounts, « an activated account kept beside its near-twin's new account stays kept »), any
// such departed activated account was kept for good: never absent, never pre-deleted, its password still opening
// the school's ENT after the person left. Only a pair the run that created the new account reported should be kept.
import assert from 'node:assert/strict';
import { mkdtempSync, mkdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { collectInputs, formatReport, importFiles } from '../src/import/index.js';
import { fileContext, sqlReaders } from './helpers/db.js';

const ctx = await fileContext();
const { q } = sqlReaders(ctx);
const opts = { dryRun: false, scope: { kind: 'all' }, structureHint: 'École des Départs' } as Parameters<typeof importFiles>[2];
const dir = mkdtempSync(join(tmpdir(), 'near-twin-'));
const write = (v: string, pupils: string[], parents: string[]) => {
  mkdirSync(join(dir, v));
  writeFileSync(join(dir, v, 'CSV_Eleves.csv'), ['Nom;Prénom;Date de naissance;Classe', ...pupils].join('\n') + '\n');
  writeFileSync(join(dir, v, 'CSV_Parents.csv'), ["Civilité;Nom;Prénom;Nom de l'élève;Prénom de l'élève;Classe de l'élève", ...parents].join('\n') + '\n');
};
write('v1', ['Martin;Léa;01/02/2016;CE1', 'Martin;Léo;01/02/2016;CE1', 'Bernard;Jules;05/06/2016;CE1'],
  ['Mme;Petit;Anne;Bernard;Jules;CE1', 'Mme;Petit;Anna;Martin;Léa;CE1', 'M.;Martin;Paul;Martin;Léo;CE1', 'M.;Martin;Paul;Martin;Léa;CE1']);
// Léo left (his twin sister stays); Jules left, and with him his mother Anne Petit (Anna Petit stays).
write('v2', ['Martin;Léa;01/02/2016;CE1'], ['Mme;Petit;Anna;Martin;Léa;CE1', 'M.;Martin;Paul;Martin;Léa;CE1']);

test('a departed activated account is absent even when a present unused account has a close name', async () => {
  await q(`INSERT INTO structures (uai, name) VALUES ('0739902L', 'École des Départs')`);
  const v1 = await importFiles(ctx, collectInputs([join(dir, 'v1')]), opts);
  assert.equal(v1.fatal, null, formatReport(v1));
  assert.equal(v1.created, 6, formatReport(v1));
  await q(`UPDATE users SET activated_at = now(), password_hash = 'x' WHERE (first_name, last_name) IN (('Léo', 'Martin'), ('Anne', 'Petit'), ('Jules', 'Bernard'))`);

  const v2 = await importFiles(ctx, collectInputs([join(dir, 'v2')]), { ...opts, confirmAbsences: true } as typeof opts);
  assert.equal(v2.fatal, null, formatReport(v2));
  const rows = await q(`SELECT first_name || ' ' || last_name AS who, absent_since IS NOT NULL OR pre_deleted_at IS NOT NULL AS gone
                        FROM users WHERE NOT is_super_admin ORDER BY last_name, first_name`);
  assert.deepEqual(rows, [
    { who: 'Jules Bernard', gone: true },
    { who: 'Léa Martin', gone: false },
    { who: 'Léo Martin', gone: true },
    { who: 'Paul Martin', gone: false },
    { who: 'Anna Petit', gone: false },
    { who: 'Anne Petit', gone: true },
  ], formatReport(v2));
});
