// A région's complete AAF delivery without one school's records: each kind's share stays small (one scope over every
// school), so the mass-absence guard lets it through, but the report names the school that empties out — a warning,
// not a refusal (a school leaving the ENT reads the same, and the other schools' run must go on).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { formatReport, importFiles, type ImportInput } from '../src/import/index.js';
import { reportView } from '../src/web/console/views/import.js';
import { fileContext, sqlReaders } from './helpers/db.js';
import { aafRecord as rec, aafXml as xml } from './helpers/aaf-feed.js';

const ctx = await fileContext();
const { q } = sqlReaders(ctx);

const run = (files: ImportInput[], dryRun = false) => importFiles(ctx, files, { scope: { kind: 'all' }, dryRun });
const range = (a: number, b: number) => Array.from({ length: b - a + 1 }, (_, i) => a + i);

const NAME = (kind: string) => `ENT_0931001A_Complet_20250901_${kind}_0000.xml`;
const ETAB: ImportInput = {
  name: NAME('EtabEducNat'),
  data: xml(
    rec('EtabEducNat', '93001', [['ENTStructureJointure', ['93001']], ['ENTStructureUAI', ['0931001A']], ['ENTStructureNomCourant', ['CLG$JEAN MOULIN$MONTREUIL']]]) +
      rec('EtabEducNat', '93002', [['ENTStructureJointure', ['93002']], ['ENTStructureUAI', ['0931002B']], ['ENTStructureNomCourant', ['CLG$LES TILLEULS$BAGNOLET']]]),
  ),
};
const teacher = (i: number) => {
  const school = i <= 40 ? '93001' : '93002';
  return rec('PersEducNat', `P${i}`, [['ENTPersonJointure', [`P${i}`]], ['sn', ['Roussel']], ['givenName', [`Prof${i}`]], ['ENTPersonStructRattach', [school]], ['ENTPersonFonctions', [`${school}$ENS$ENSEIGNEMENT$L0201$LETTRES`]]]);
};
const staff = (ids: number[]): ImportInput => ({ name: NAME('PersEducNat'), data: xml(ids.map(teacher).join('')) });

test('a complete feed without one school’s teachers: not refused (12 of 52), but the report names the school that empties out', async () => {
  const first = await run([ETAB, staff(range(1, 52))]);
  assert.equal(first.fatal, null, formatReport(first));
  assert.equal(first.created, 52);
  assert.equal(first.emptied, undefined, 'nothing leaves on a first import');

  const dry = await run([ETAB, staff(range(1, 40))], true);
  assert.equal(dry.fatal, null, formatReport(dry));
  assert.equal(dry.preDeleted, 12);
  assert.equal(dry.massAbsence, undefined, '12 of 52 teachers: under the profile guard');
  assert.equal(dry.emptied?.length, 1);
  assert.deepEqual({ ...dry.emptied![0], name: undefined }, { name: undefined, uai: '0931002B', absent: 12, of: 12 });
  assert.match(formatReport(dry), /\nAttention : CLG - LES TILLEULS - BAGNOLET \(0931002B\) perdrait 12 de ses 12 comptes \(100\u202f%\), absents du flux\. Un établissement manquant dans la livraison, ou qui quitte l’ENT \?/);
  assert.match(formatReport(dry, 'en'), /\nWarning: CLG - LES TILLEULS - BAGNOLET \(0931002B\) would lose 12 of its 12 accounts \(100%\)/);
  const page = String(reportView('fr', dry)).replace(/\s+/g, ' ');
  assert.match(page, /<p class="notice notice-warning" data-import="emptied">Attention : CLG - LES TILLEULS - BAGNOLET \(0931002B\) perdrait 12 de ses 12 comptes \(100 %\)/);
  assert.equal((await q(`SELECT 1 FROM users WHERE absent_since IS NOT NULL`)).length, 0, 'a dry run writes nothing');

  // The real run goes through (the other school's teachers are imported) and says the same, in the present.
  const real = await run([ETAB, staff(range(1, 40))]);
  assert.equal(real.fatal, null, formatReport(real));
  assert.match(formatReport(real), /\nAttention : CLG - LES TILLEULS - BAGNOLET \(0931002B\) perd 12 de ses 12 comptes/);
  assert.equal((await q(`SELECT 1 FROM users WHERE absent_since IS NOT NULL AND external_id LIKE 'P%'`)).length, 12);
  const [audit] = await q<{ details: { emptied?: unknown } }>(`SELECT details FROM audit WHERE action = 'import' ORDER BY id DESC LIMIT 1`);
  assert.deepEqual(audit.details.emptied, [{ name: 'CLG - LES TILLEULS - BAGNOLET', uai: '0931002B', absent: 12, of: 12 }], 'the audit row keeps the warning');
  // A re-import of the same delivery: the 12 are already absent, nothing new empties out.
  const again = await run([ETAB, staff(range(1, 40))]);
  assert.equal(again.emptied, undefined, formatReport(again));
});

test('a school that loses a few accounts (a rentrée) is not named', async () => {
  // Back to all 52, then 5 of Les Tilleuls leave: 5 < 10.
  await run([ETAB, staff(range(1, 52))]);
  const r = await run([ETAB, staff(range(1, 47))], true);
  assert.equal(r.preDeleted, 5);
  assert.equal(r.emptied, undefined);
});

test('the console page of the import report says it in English too', async () => {
  const dry = await run([ETAB, staff(range(1, 40))], true);
  const page = String(reportView('en', dry)).replace(/\s+/g, ' ');
  assert.match(page, /data-import="emptied">Warning: CLG - LES TILLEULS - BAGNOLET \(0931002B\) would lose 12 of its 12 accounts \(100%\), absent from the feed\./);
});
