// A parent keyed by her usage name before today's change (« Marie MARTIN », family name DUPONT: key `…:martin:marie:`)
// is found under that key by her family name's group (csv.ts assignNamesakeKeys, `alt`). Each family name's group
// is settled apart, in file order: a NEWCOMER « Marie MARTIN » (her family name MARTIN) listed before her in the
// parents' file is settled first, alone in group « martin », and took the stored `…:martin:marie:` account — the
// other mother's activated account, her password and e-mail — agreeing with nothing (no child in common), because
// the account's true owner, who agrees with it (her child), was in another group. Before, both were in one group
// and the best agreement won.
import assert from 'node:assert/strict';
import { mkdtempSync, mkdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { collectInputs, formatReport, importFiles } from '../src/import/index.js';
import { fileContext, sqlReaders } from './helpers/db.js';

const ctx = await fileContext();
const { q } = sqlReaders(ctx);
const opts = { dryRun: false, scope: { kind: 'all' }, structureHint: 'École des Usages' } as Parameters<typeof importFiles>[2];
const dir = mkdtempSync(join(tmpdir(), 'usage-key-'));
const write = (v: string, parents: string[]) => {
  mkdirSync(join(dir, v));
  writeFileSync(join(dir, v, 'CSV_Eleves.csv'), ['Nom;Prénom;Date de naissance;Classe', 'Martin;Léa;01/02/2016;CE1', 'Bernard;Tom;05/06/2016;CE1'].join('\n') + '\n');
  writeFileSync(join(dir, v, 'CSV_Parents.csv'), ["Civilité;Nom;Nom d'usage;Prénom;Courriel;Nom de l'élève;Prénom de l'élève;Classe de l'élève", ...parents].join('\n') + '\n');
};
const mother = 'Mme;Dupont;Martin;Marie;marie.martin@example.org;Martin;Léa;CE1';
write('v1', [mother]);
write('v2', ['Mme;Martin;;Marie;;Bernard;Tom;CE1', mother]);

test('a newcomer whose family name is a stored parent’s usage name does not take that parent’s account', async () => {
  await q(`INSERT INTO structures (uai, name) VALUES ('0739903M', 'École des Usages')`);
  const v1 = await importFiles(ctx, collectInputs([join(dir, 'v1')]), opts);
  assert.equal(v1.fatal, null, formatReport(v1));
  const [marie] = await q<{ id: string; external_id: string }>(`SELECT id, external_id FROM users WHERE profile = 'Relative'`);
  // As keyed before the family name keyed parents (by her usage name), and activated.
  await q(`UPDATE users SET external_id = replace(external_id, ':dupont:', ':martin:'), activated_at = now(), password_hash = 'x' WHERE id = $1`, [marie.id]);

  const v2 = await importFiles(ctx, collectInputs([join(dir, 'v2')]), opts);
  assert.equal(v2.fatal, null, formatReport(v2));
  const rows = await q(`SELECT u.id = $1 AS hers, u.email,
                               (SELECT string_agg(c.first_name, ',') FROM relations r JOIN users c ON c.id = r.child_id WHERE r.parent_id = u.id) AS kids
                        FROM users u WHERE u.profile = 'Relative' ORDER BY kids`, [marie.id]);
  assert.deepEqual(rows, [
    { hers: true, email: 'marie.martin@example.org', kids: 'Léa' },
    { hers: false, email: null, kids: 'Tom' },
  ], formatReport(v2));
});
