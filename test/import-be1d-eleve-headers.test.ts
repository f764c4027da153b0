// ONDE's parents' extraction naming each child « Nom de famille élève », « Nom d'usage élève », « Prénom élève »,
// « Classes élèves » (invented files: test/fixtures/be1d/onde-eleve-headers/), as the reference ENT's feeder reads it
// since its ticket #26572 (ProfileColumnsMapper: nomdefamilleeleve, nomdusageeleve, prenomeleve, classeseleves →
// the child's columns of a relative). Read as the parent's own name columns, the children were linked to nobody
// (0 link, nothing said) and GARNIER Rémi was shown and logged in under his daughter's usage name (remi.vasseur).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { collectInputs, formatReport, importFiles } from '../src/import/index.js';
import { fileContext, sqlReaders } from './helpers/db.js';

const DIR = new URL('./fixtures/be1d/onde-eleve-headers/', import.meta.url).pathname;
const ctx = await fileContext();
const { q } = sqlReaders(ctx);

test('a parents’ extraction naming children « … élève » links them, and the parent keeps his own name', async () => {
  const opts = { dryRun: false, scope: { kind: 'all' }, structureHint: 'École des Tilleuls' } as Parameters<typeof importFiles>[2];
  const report = await importFiles(ctx, collectInputs([DIR]), opts);
  assert.equal(report.fatal, null, formatReport(report));
  assert.deepEqual(report.rejected, []);
  assert.equal(report.relations.unresolved, 0);
  assert.equal(report.relations.created, 3, formatReport(report));
  const parents = await q<{ n: string; login: string; kids: string }>(
    `SELECT u.last_name || ' ' || u.first_name n, u.login,
            (SELECT string_agg(c.last_name || ' ' || c.first_name, ', ' ORDER BY c.first_name) FROM relations r JOIN users c ON c.id = r.child_id WHERE r.parent_id = u.id) kids
     FROM users u WHERE u.profile = 'Relative' ORDER BY 1`,
  );
  assert.deepEqual(parents.map((p) => [p.n, p.login, p.kids]), [
    ['GARNIER Rémi', 'remi.garnier', 'VASSEUR Inès, GARNIER Noé'],
    ['ROUSSEL Hélène', 'helene.roussel', 'ROUSSEL Léon'],
  ]);
  const again = await importFiles(ctx, collectInputs([DIR]), opts);
  assert.deepEqual([again.created, again.updated, again.preDeleted, again.relations.created, again.relations.removed], [0, 0, 0, 0, 0], formatReport(again));
});
