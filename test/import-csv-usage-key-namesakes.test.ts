// Two teachers named Claire whose family name is MARTIN: one shown by her usage name DUPONT (her account keyed
// `…:dupont:claire:` before the family name keyed teachers), the other without one (`…:martin:claire:`). Keyed by the
// family name now, both fall in group « martin », and every stored account of that group or of a usage name in it was
// offered to either person: with nothing to tell them apart (no e-mail), file order gave Mme DUPONT née MARTIN her
// colleague's account and her colleague hers — each one's password opening the other's ENT. A stored account reached
// through a usage name's key belongs only to a person bearing that usage name (csv.ts assignNamesakeKeys).
import assert from 'node:assert/strict';
import { mkdtempSync, mkdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { collectInputs, formatReport, importFiles } from '../src/import/index.js';
import { fileContext, sqlReaders } from './helpers/db.js';

const ctx = await fileContext();
const { q } = sqlReaders(ctx);
const opts = { dryRun: false, scope: { kind: 'all' }, structureHint: 'École des Homonymes' } as Parameters<typeof importFiles>[2];
const dir = mkdtempSync(join(tmpdir(), 'usage-namesakes-'));
mkdirSync(join(dir, 'v1'));
writeFileSync(join(dir, 'v1', 'CSV_Eleves.csv'), ['Nom;Prénom;Date de naissance;Classe', 'Petit;Léo;01/02/2016;CE1'].join('\n') + '\n');
writeFileSync(join(dir, 'v1', 'CSV_Enseignants.csv'), ["Civilité;Nom;Nom d'usage;Prénom;Classe", 'Mme;Martin;Dupont;Claire;CE1', 'Mme;Martin;;Claire;CM1'].join('\n') + '\n');

const teachers = async () => q<{ id: string; login: string; last_name: string }>(`SELECT id, login, last_name FROM users WHERE profile = 'Teacher' ORDER BY last_name`);

test('two teachers of one family name, one under a usage name keyed before, keep their own accounts', async () => {
  await q(`INSERT INTO structures (uai, name) VALUES ('0739904N', 'École des Homonymes')`);
  const v1 = await importFiles(ctx, collectInputs([join(dir, 'v1')]), opts);
  assert.equal(v1.fatal, null, formatReport(v1));
  const before = await teachers();
  assert.deepEqual(before.map((x) => x.last_name), ['Dupont', 'Martin']);
  // As keyed before the family name keyed teachers: Mme DUPONT by her usage name, her colleague by her name; activated.
  await q(`UPDATE users SET external_id = regexp_replace(external_id, ':martin:claire:.*$', ':dupont:claire:'), activated_at = now(), password_hash = 'x' WHERE id = $1`, [before[0].id]);
  await q(`UPDATE users SET external_id = regexp_replace(external_id, ':martin:claire:.*$', ':martin:claire:'), activated_at = now(), password_hash = 'y' WHERE id = $1`, [before[1].id]);

  const again = await importFiles(ctx, collectInputs([join(dir, 'v1')]), opts);
  assert.equal(again.fatal, null, formatReport(again));
  assert.deepEqual([again.created, again.preDeleted], [0, 0], formatReport(again));
  assert.deepEqual(await teachers(), before, formatReport(again));
});
