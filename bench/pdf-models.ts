// `npx tsx bench/pdf-models.ts [sheets]`: the PDF goal of issue #11 on its own — the demo collège's sheets
// (default 537, a quarter, as BENCH_QUICK; 2146 for all) in models 1, 2 and 8 against the naive pdfkit loop
// (bench/naive.ts), and model 1 against Chromium's print of the same sheets as HTML (bench/chromium.ts) when
// Chromium is installed. Product and baseline alternated, both warm, medians of BENCH_RUNS (default 5); the
// process's CPU time (both threads) is printed too, as the wall-clock time of a shared machine is noisy (not for
// Chromium, which works in processes of its own).
import { cpus, loadavg } from 'node:os';
import { renderSheetsPdf, type SheetModel } from '../src/publipostage/pdf.js';
import { chromiumAvailable, chromiumSheetsPdf, launch } from './chromium.js';
import { median } from './measure.js';
import { naiveSheetsPdf } from './naive.js';
import { demoRows, standalone } from './setup.js';

const RUNS = Number(process.env.BENCH_RUNS ?? 5);

/** Wall-clock and CPU time (user + system, every thread of the process) of `fn`, ms. */
async function measure(fn: () => Promise<unknown>): Promise<{ ms: number; cpu: number }> {
  const c = process.cpuUsage();
  const t = performance.now();
  await fn();
  const u = process.cpuUsage(c);
  return { ms: performance.now() - t, cpu: (u.user + u.system) / 1000 };
}

async function compare(name: string, product: () => Promise<unknown>, baseline: () => Promise<unknown>, label: string, cpu = true): Promise<void> {
  await product();
  await baseline();
  const p: Array<{ ms: number; cpu: number }> = [];
  const b: Array<{ ms: number; cpu: number }> = [];
  for (let i = 0; i < RUNS; i++) {
    // Which one starts alternates too.
    if (i % 2) b.push(await measure(baseline));
    p.push(await measure(product));
    if (!(i % 2)) b.push(await measure(baseline));
  }
  const [pm, bm, pc, bc] = [median(p.map((r) => r.ms)), median(b.map((r) => r.ms)), median(p.map((r) => r.cpu)), median(b.map((r) => r.cpu))];
  console.log(
    `  ${name.padEnd(14)} ${pm.toFixed(0).padStart(6)} ms  ${label} ${bm.toFixed(0)} ms  ×${(pm / bm).toFixed(3)}` +
      (cpu ? `   | CPU ${pc.toFixed(0)} ms contre ${bc.toFixed(0)} ms  ×${(pc / bc).toFixed(3)}` : ''),
  );
}

standalone('pdf', async (ctx) => {
  const sheets = Number(process.argv[2] ?? 537);
  const all = await demoRows(ctx);
  // Every n-th row, as bench/run.ts's quick run does.
  const step = Math.max(1, Math.floor(all.length / sheets));
  const rows = all.filter((_, i) => i % step === 0).slice(0, sheets);
  console.log(`Démo : ${rows.length} fiches (${rows.filter((r) => r.code).length} avec code et QR), médianes de ${RUNS} (${cpus().length} cœurs, charge ${loadavg().map((l) => l.toFixed(1)).join(' / ')})`);
  for (const model of [1, 2, 8] as SheetModel[]) {
    await compare(`PDF modèle ${model}`, () => renderSheetsPdf(ctx, rows, { model }), () => naiveSheetsPdf(rows, model as 1 | 2 | 8, ctx.config.publicUrl), 'boucle pdfkit naïve');
  }
  if (chromiumAvailable()) {
    const browser = await launch();
    try {
      await compare('PDF modèle 1', () => renderSheetsPdf(ctx, rows, { model: 1 }), () => chromiumSheetsPdf(browser, rows, ctx.config.publicUrl), 'impression Chromium', false);
    } finally {
      await browser.close();
    }
  } else console.log('  (Chromium absent : pas de comparaison avec son impression)');
  console.log(`  charge en fin de mesure ${loadavg().map((l) => l.toFixed(1)).join(' / ')}`);
});
