// `npx tsx bench/family.ts`: issue #10's goal on its own, "family-sorted PDF of the demo school within 1.2× the
// alphabetical one" — the demo collège's sheets (model 1, the whole school) through exportSelection, as the
// console downloads them (select, fresh codes, tracking, audit, render), sort=family and sort=alpha alternated,
// both warm, medians of BENCH_RUNS (default 5). Also the SELECT alone, to tell the query from the rendering.
import { cpus, loadavg } from 'node:os';
import type { Readable } from 'node:stream';
import { createDemoSchool } from '../src/demo/seed.js';
import { exportSelection } from '../src/publipostage/generate.js';
import { selectAccounts } from '../src/publipostage/select.js';
import { SelectionSchema } from '../src/publipostage/selection.js';
import { median, timed } from './measure.js';
import { standalone } from './setup.js';

const RUNS = Number(process.env.BENCH_RUNS ?? 5);
const ALL = { kind: 'all' } as const;

standalone('family', async (ctx) => {
  await createDemoSchool(ctx, { scale: 1, password: 'bench', passwordHash: '$argon2id$bench' });
  const alpha = SelectionSchema.parse({});
  const family = SelectionSchema.parse({ sort: 'family' });
  const n = (await selectAccounts(ctx, alpha, ALL)).length;
  const pdf = (selection: typeof alpha) => timed(async () => {
    const r = await exportSelection(ctx, { format: 'pdf', selection, scope: ALL, actorId: null, model: 1, via: 'cli' });
    for await (const chunk of r.body as Readable) void chunk;
  });
  const select = (selection: typeof alpha) => timed(() => selectAccounts(ctx, selection, ALL));
  const times = { pdfFamily: [] as number[], pdfAlpha: [] as number[], selFamily: [] as number[], selAlpha: [] as number[] };
  // Warm both, then alternate (which one starts alternates too).
  await pdf(family);
  await pdf(alpha);
  for (let i = 0; i < RUNS; i++) {
    const order = i % 2 ? ['alpha', 'family'] : ['family', 'alpha'];
    for (const o of order) {
      if (o === 'family') {
        times.pdfFamily.push(await pdf(family));
        times.selFamily.push(await select(family));
      } else {
        times.pdfAlpha.push(await pdf(alpha));
        times.selAlpha.push(await select(alpha));
      }
    }
  }
  const m = Object.fromEntries(Object.entries(times).map(([k, v]) => [k, median(v)])) as Record<keyof typeof times, number>;
  console.log(`Démo : ${n} comptes, PDF modèle 1, médianes de ${RUNS} (${cpus().length} cœurs, charge ${loadavg().map((l) => l.toFixed(1)).join(' / ')})`);
  console.log(`  PDF par famille   ${m.pdfFamily.toFixed(0)} ms   alphabétique ${m.pdfAlpha.toFixed(0)} ms   ×${(m.pdfFamily / m.pdfAlpha).toFixed(2)} (objectif ≤ 1,2× : ${m.pdfFamily <= 1.2 * m.pdfAlpha ? 'OK' : 'MANQUÉ'})`);
  console.log(`  SELECT par famille ${m.selFamily.toFixed(0)} ms   alphabétique ${m.selAlpha.toFixed(0)} ms   ×${(m.selFamily / m.selAlpha).toFixed(2)}`);
});
