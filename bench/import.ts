// Import rows of the benchmark: the AAF fixture feed (../shared/fixtures/aaf-2013), first import then the
// unchanged re-import. (The 100k / 1M feed-file imports and their COPY baseline belong here too.)
import { existsSync } from 'node:fs';
import type { AppContext } from '../src/context.js';
import { collectInputs, importFiles } from '../src/import/index.js';
import { timed, type Work } from './measure.js';

export async function importWorks(newDatabase: (name: string) => Promise<AppContext>): Promise<Work[]> {
  const feed = new URL('../../shared/fixtures/aaf-2013/', import.meta.url).pathname;
  if (!existsSync(feed)) return [];
  const ctx = await newDatabase('bench_import');
  let n = 0;
  const first = await timed(async () => {
    const r = await importFiles(ctx, collectInputs([feed]), { scope: { kind: 'all' }, dryRun: false });
    n = r.created + r.updated + r.unchanged;
  });
  const again = await timed(() => importFiles(ctx, collectInputs([feed]), { scope: { kind: 'all' }, dryRun: false }));
  const size = `AAF démo (${n.toLocaleString('fr-FR')})`;
  return [
    { size, work: 'import AAF (une transaction)', productMs: first },
    { size, work: 'réimport identique', productMs: again, baseline: 'premier import', baselineMs: first, goal: '≤ 0,3×', ok: again <= 0.3 * first },
  ];
}
