// Import rows of the benchmark: the AAF fixture feed (../shared/fixtures/aaf-2013), first import then the
// unchanged re-import, each round on a database of its own, medians of `rounds`. (The 100k / 1M feed-file imports
// and their COPY baseline: bench/import-scale.ts.)
import { existsSync } from 'node:fs';
import type { AppContext } from '../src/context.js';
import { collectInputs, importFiles } from '../src/import/index.js';
import { median, timed, type Work } from './measure.js';

/** The shared fixtures' AAF feed, beside the clone (absent from a bare clone: no « AAF démo » rows). */
export const FIXTURE_FEED = new URL('../../shared/fixtures/aaf-2013/', import.meta.url).pathname;

export async function importWorks(newDatabase: (name: string) => Promise<AppContext>, rounds: number): Promise<Work[]> {
  const feed = FIXTURE_FEED;
  // Beside a bare clone the shared fixtures are absent: say so rather than print a table without its « AAF démo » rows.
  if (!existsSync(feed)) {
    console.log(`  (${feed} absent : pas de lignes « AAF démo », seulement les flux générés)`);
    return [];
  }
  let n = 0;
  const firsts: number[] = [];
  const agains: number[] = [];
  for (let i = 0; i < rounds; i++) {
    const ctx = await newDatabase(`bench_import_${i + 1}`);
    firsts.push(
      await timed(async () => {
        const r = await importFiles(ctx, collectInputs([feed]), { scope: { kind: 'all' }, dryRun: false });
        n = r.created + r.updated + r.unchanged;
      }),
    );
    agains.push(await timed(() => importFiles(ctx, collectInputs([feed]), { scope: { kind: 'all' }, dryRun: false })));
  }
  const [first, again] = [median(firsts), median(agains)];
  const size = `AAF démo (${n.toLocaleString('fr-FR')})`;
  return [
    { size, work: 'import AAF (une transaction)', productMs: first },
    { size, work: 'réimport identique', productMs: again, baseline: 'premier import', baselineMs: first, goal: '≤ 0,3×', ok: again <= 0.3 * first },
  ];
}
