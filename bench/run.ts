// `npm run bench`: every work of the product next to its baseline, measured in the same run (alternated, both
// warm, medians of BENCH_RUNS = 3), with peak RSS added, time to first byte of streamed downloads and the latency
// another request sees meanwhile (p99, max). On its own embedded PostgreSQL (temporary directory).
//   demo size (2,146 sheets): PDF vs a naive pdfkit loop and vs Chromium's print; sign-in / activation vs argon2;
//   100k and 1M accounts (bench/population.ts): selection filters vs hand-written SQL, CSV vs `psql \copy`, mail
//   merges of a school (queued), PDF;
//   import: the aaf-2013 fixture feed (bench/import.ts) and generated feeds of each size (bench/import-scale.ts).
// BENCH_QUICK=1: 100k only, fewer PDF models, an import of 25k accounts (under 3 minutes). BENCH_SIZES=100k,1M picks sizes.
// `npm run bench -- --markdown` also writes the table into README.md (between the bench markers).
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { startEmbedded } from '../src/db/embedded.js';
import type { Scope } from '../src/directory/scope.js';
import { startFamilyMail } from '../src/mail/family.js';
import { startMailMerge } from '../src/mail/merge.js';
import { renderSheetsPdf, type SheetModel } from '../src/publipostage/pdf.js';
import { countSelection, cursorOf, selectPage } from '../src/publipostage/select.js';
import { SelectionSchema } from '../src/publipostage/selection.js';
import { database, demoRows, serve } from './setup.js';
import { BASELINE_FILTERS, baselineKeysetPage, baselinePreview, CSV_BASELINE_SQL } from './baseline.js';
import { chromiumAvailable, chromiumSheetsPdf, launch } from './chromium.js';
import { FIXTURE_FEED, importWorks } from './import.js';
import { benchImport, type ImportBenchRow } from './import-scale.js';
import { writeReadme } from './markdown.js';
import { compare, download, run, timed, type Work } from './measure.js';
import { naiveSheetsPdf } from './naive.js';
import { populate } from './population.js';
import { productActivations, productSignIns, rawHashes, rawVerifies, signInAccounts } from './signin.js';

const ALL: Scope = { kind: 'all' };
const quick = process.env.BENCH_QUICK === '1';
const RUNS = Number(process.env.BENCH_RUNS ?? 3);
const SIZES = (process.env.BENCH_SIZES ?? (quick ? '100k' : '100k,1M')).split(',').map((s) => s.trim());
// A quick run imports a 25,000-account feed (three rounds in about 40 s); the fixed steps weigh more there than at
// 100k, so its ratios are the pessimistic side of the goals.
const IMPORT_SIZES = quick ? ['25k'] : SIZES;
const count = (label: string) => Number(label.replace(/k$/i, '000').replace(/M$/i, '000000'));

const works: Work[] = [];
const fmt = (n: number | undefined, d = 0) => (n === undefined || Number.isNaN(n) ? '—' : n.toLocaleString('fr-FR', { maximumFractionDigits: d, minimumFractionDigits: d }));

function report(w: Work): void {
  works.push(w);
  const ratio = w.baselineMs ? ` ×${fmt(w.productMs / w.baselineMs, 2)} (${w.baseline} ${fmt(w.baselineMs)} ms)` : '';
  const extra = [
    w.ttfbMs !== undefined ? `1er octet ${fmt(w.ttfbMs)} ms` : '',
    w.rssMb !== undefined ? `RSS +${fmt(w.rssMb)} Mo` : '',
    w.loopP99 !== undefined ? `autre requête p99 ${fmt(w.loopP99)} / max ${fmt(w.loopMax)} ms` : '',
    w.stallMs !== undefined ? `boucle bloquée ${fmt(w.stallMs)} ms au plus, dont CPU ${w.stallCpuMs ? `${fmt(w.stallCpuMs)} ms` : '< 50 ms'}${w.stalls ? ` (${w.stalls})` : ''}` : '',
    w.goal ? `objectif ${w.goal} : ${w.ok ? 'OK' : 'MANQUÉ'}` : '',
    w.note ?? '',
  ].filter(Boolean);
  console.log(`  [${w.size}] ${w.work.padEnd(40)} ${`${fmt(w.productMs, w.productMs < 100 ? 1 : 0)} ms`.padStart(12)}${ratio}${extra.length ? ` | ${extra.join(' | ')}` : ''}`);
}

/**
 * Issue #11's goal for exports: other pages stay responsive (the probe's p99 under 100 ms) and the event loop is never
 * blocked more than 100 ms by this process (the CPU part of its longest stall: on the shared 2-core machine the rest
 * is the process waiting for a core, which the probe's max shows).
 */
const RESPONSIVE = 'autre requête p99 < 100 ms, boucle bloquée < 100 ms (CPU)';
const responsive = (w: Pick<Work, 'loopP99' | 'stallCpuMs'>) => w.loopP99! < 100 && (w.stallCpuMs ?? 0) < 100;

async function demo(adminUrl: string, contexts: Array<{ close(): Promise<void> }>) {
  const ctx = await database(adminUrl, 'bench_demo');
  contexts.push(ctx);
  const demoAll = await demoRows(ctx);
  // The naive loop takes 10 to 25 s per run of 2,146 sheets on a busy machine: a quick run compares on a quarter.
  const rows = quick ? demoAll.filter((_, i) => i % 4 === 0) : demoAll;
  console.log(`\nDémo : ${fmt(rows.length)} fiches (${fmt(rows.filter((r) => r.code).length)} avec code et QR)`);
  const size = `démo ${fmt(rows.length)}`;
  for (const model of (quick ? [1] : [1, 2, 8]) as SheetModel[]) {
    const r = await compare(
      RUNS,
      () => timed(() => renderSheetsPdf(ctx, rows, { model })),
      () => timed(() => naiveSheetsPdf(rows, model as 1 | 2 | 8, ctx.config.publicUrl)),
      null,
    );
    report({ size, work: `PDF modèle ${model}`, ...r, baseline: 'boucle pdfkit naïve', goal: '≤ 0,1× naïf', ok: r.productMs <= 0.1 * r.baselineMs! });
  }
  if (quick) console.log('  (BENCH_QUICK : pas de comparaison avec l’impression de Chromium)');
  else if (chromiumAvailable()) {
    const browser = await launch();
    try {
      const r = await compare(RUNS, () => timed(() => renderSheetsPdf(ctx, rows, { model: 1 })), () => timed(() => chromiumSheetsPdf(browser, rows, ctx.config.publicUrl)), null);
      report({ size, work: 'PDF modèle 1', ...r, baseline: 'impression Chromium (HTML)' });
    } finally {
      await browser.close();
    }
  } else console.log('  (Chromium absent : pas de comparaison avec son impression)');

  // Sign-in and activation: the product's functions against raw argon2 with the product's parameters.
  // Enough sign-ins per run that a busy machine's noise (2 cores shared) does not decide the ratio.
  const n = quick ? 32 : 96;
  const acc = await signInAccounts(ctx, n * (RUNS + 1), 'demo');
  let i = 0;
  const s = await compare(RUNS, () => timed(() => productSignIns(ctx, acc.active.slice(0, n))), () => timed(() => rawVerifies(acc.hash, n)), null);
  report({ size: `${n} comptes`, work: 'connexions (mot de passe)', ...s, baseline: 'argon2.verify seul', goal: 'débit ≥ 0,8× argon2', ok: s.baselineMs! / s.productMs >= 0.8 });
  const a = await compare(RUNS, () => timed(() => productActivations(ctx, acc.inactive.slice(i * n, ++i * n))), () => timed(() => rawHashes(n)), null);
  report({ size: `${n} comptes`, work: 'activations', ...a, baseline: 'argon2.hash seul', goal: 'débit ≥ 0,8× argon2', ok: a.baselineMs! / a.productMs >= 0.8 });
}

async function scale(adminUrl: string, label: string, contexts: Array<{ close(): Promise<void> }>) {
  const ctx = await database(adminUrl, `bench_${label.toLowerCase()}`);
  contexts.push(ctx);
  const g = await timed(async () => Object.assign(ctx, { population: await populate(ctx, count(label)) }));
  const pop = (ctx as unknown as { population: Awaited<ReturnType<typeof populate>> }).population;
  console.log(`\n${label} : ${fmt(pop.structureIds.length * 2500)} comptes générés en ${fmt(g / 1000, 1)} s (bench/population.ts)`);
  const { app, url, cookie, probe } = await serve(ctx);
  contexts.push({ close: () => app.close() });
  try {
    // ---------------------------------------------------------------- selection: counters + first page of 50
    const teacherClasses = (await ctx.database.pool.query(`SELECT id FROM classes WHERE structure_id = $1 ORDER BY name LIMIT 3`, [pop.structureId])).rows.map((r) => r.id as string);
    const filters: Array<[string, Record<string, unknown>, Scope, string, unknown]> = [
      ['une classe', { classIds: [pop.classId] }, ALL, BASELINE_FILTERS.class, pop.classId],
      ['un niveau', { levelIds: [pop.levelId] }, ALL, BASELINE_FILTERS.level, pop.levelId],
      ['un établissement', { structureId: pop.structureId }, ALL, BASELINE_FILTERS.school, pop.structureId],
      ['admin local, sans filtre', { structureId: pop.structureId }, { kind: 'structures', structureIds: [pop.structureId] }, BASELINE_FILTERS.localAdmin, pop.structureId],
      ['enseignant (3 classes), sans filtre', {}, { kind: 'classes', classIds: teacherClasses }, BASELINE_FILTERS.teacher, teacherClasses],
    ];
    for (const [name, input, scope, filter, value] of filters) {
      const sel = SelectionSchema.parse(input);
      // Both sides must show the same thing: same count, same first page.
      const [counts, page, base] = await Promise.all([countSelection(ctx, sel, scope), selectPage(ctx, sel, scope, { limit: 50 }), baselinePreview(ctx.database.pool, filter, value)]);
      if (counts.total !== base.count || page.map((r) => r.id).join() !== base.ids.join()) throw new Error(`aperçu « ${name} » : le SQL écrit à la main ne donne pas les mêmes lignes`);
      let n = 0;
      // Queries of a few milliseconds: more rounds, so that the machine's noise does not decide the ratio.
      const r = await compare(
        Math.max(RUNS, 15),
        () => timed(async () => {
          n = (await Promise.all([countSelection(ctx, sel, scope), selectPage(ctx, sel, scope, { limit: 50 })]))[0].total;
        }),
        () => timed(() => baselinePreview(ctx.database.pool, filter, value)),
        probe,
      );
      report({ size: label, work: `aperçu : ${name} (${fmt(n)})`, ...r, baseline: 'SQL écrit à la main', goal: '≤ 1,5×', ok: r.productMs <= 1.5 * r.baselineMs! });
    }

    // ---------------------------------------------------------------- keyset pagination: « Suivants » deep in the
    // whole directory (the page after its middle row), whose cost must follow the page, not its position.
    const everyone = SelectionSchema.parse({});
    const middle = Math.floor((await countSelection(ctx, everyone, ALL)).total / 2);
    const [row] = await selectPage(ctx, everyone, ALL, { limit: 1, offset: middle - 1 });
    const after = cursorOf(everyone.sort, row)!;
    const key: [string, string, string] = [row.lastName, row.firstName, row.login];
    if ((await selectPage(ctx, everyone, ALL, { limit: 50, after })).map((r) => r.id).join() !== (await baselineKeysetPage(ctx.database.pool, key)).join()) {
      throw new Error('page suivante : le SQL écrit à la main ne donne pas les mêmes lignes');
    }
    const deep = await compare(
      Math.max(RUNS, 15),
      () => timed(() => selectPage(ctx, everyone, ALL, { limit: 50, after })),
      () => timed(() => baselineKeysetPage(ctx.database.pool, key)),
      probe,
    );
    report({ size: label, work: `aperçu : page suivante au ${fmt(middle)}e compte (keyset)`, ...deep, baseline: 'SQL écrit à la main', goal: '≤ 1,5×', ok: deep.productMs <= 1.5 * deep.baselineMs! });

    // ---------------------------------------------------------------- CSV of everything over HTTP vs psql \copy
    const copy = `\\copy (${CSV_BASELINE_SQL.replace(/\s+/g, ' ')}) TO '/dev/null' WITH (FORMAT csv, DELIMITER ';', HEADER)`;
    let bytes = 0;
    const csv = await compare(
      RUNS,
      async () => {
        const d = await download(`${url}/api/publipostage/csv`, cookie);
        bytes = d.bytes;
        return d;
      },
      () => timed(() => run('psql', [ctx.url, '-q', '-c', copy])),
      probe,
      !quick,
    );
    report({
      size: label, work: `CSV de tout (${fmt(bytes / 1e6)} Mo)`, ...csv, baseline: 'psql \\copy mêmes colonnes',
      goal: `≤ 1,5×, 1er octet < 1 s, +300 Mo max, ${RESPONSIVE}`,
      ok: csv.productMs <= 1.5 * csv.baselineMs! && csv.ttfbMs! < 1000 && csv.rssMb! < 300 && responsive(csv),
    });

    // ---------------------------------------------------------------- mail merges of a school: queued (no SMTP here),
    // the time the confirmation takes before the console shows the run; each run starts from an empty queue.
    const school = SelectionSchema.parse({ structureId: pop.structureId });
    for (const [work, start] of [
      ['publipostage par courriel, un établissement', () => startMailMerge(ctx, school, ALL, null)],
      ['courriel aux familles, un établissement', () => startFamilyMail(ctx, school, ALL, null)],
    ] as const) {
      let queued = 0;
      const r = await compare(RUNS, async () => {
        await ctx.database.pool.query('DELETE FROM mail_runs');
        return timed(async () => {
          queued = (await start()).queued;
        });
      }, null, probe, !quick);
      report({ size: label, work: `${work} (${fmt(queued)} courriels)`, ...r, note: 'mis en file (le worker envoie ensuite)' });
    }

    // ---------------------------------------------------------------- PDF over HTTP
    const schoolPdf = await compare(RUNS, () => download(`${url}/api/publipostage/pdf?model=1&structureId=${pop.structureId}`, cookie), null, probe, !quick);
    report({ size: label, work: 'PDF modèle 1, un établissement (2 500)', ...schoolPdf, note: `${fmt(2500 / (schoolPdf.productMs / 1000))} fiches/s` });
    // Every sheet of the size, once (a million: a 2 GB file, about 5 minutes): issue #11's flat memory at a région's size.
    if (!quick) {
      const n = count(label);
      const all = await compare(1, () => download(`${url}/api/publipostage/pdf?model=1`, cookie), null, probe, false);
      report({
        size: label, work: `PDF modèle 1, tout (${fmt(n)})`, ...all, note: `${fmt(n / (all.productMs / 1000))} fiches/s`,
        goal: `1er octet < 1 s, +300 Mo max, ${RESPONSIVE}`, ok: all.ttfbMs! < 1000 && all.rssMb! < 300 && responsive(all),
      });
    }
    // Issue #10: sheets sorted by family within 1.2× the alphabetical ones (when the sort exists).
    if (SelectionSchema.safeParse({ sort: 'family' }).success) {
      const q = `${url}/api/publipostage/pdf?model=1&structureId=${pop.structureId}`;
      const fam = await compare(RUNS, () => download(`${q}&sort=family`, cookie), () => download(q, cookie).then((d) => d.ms), probe);
      report({ size: label, work: 'PDF par famille, un établissement', ...fam, baseline: 'ordre alphabétique', goal: '≤ 1,2×', ok: fam.productMs <= 1.2 * fam.baselineMs! });
    }
  } finally {
    await app.close();
  }
}

/** The rows of bench/import-scale.ts as works: first import vs COPY of the same rows, unchanged re-import vs first. */
function importScaleWorks(size: string, r: ImportBenchRow): Work[] {
  const rss = Math.max(r.first.maxRssMb, r.again.maxRssMb);
  return [
    { size, work: `import AAF généré (${fmt(r.accounts)} comptes)`, productMs: r.first.ms, baseline: 'COPY des mêmes lignes', baselineMs: r.copyMs,
      rssMb: rss, goal: '≤ 1,5× COPY, RSS < 600 Mo', ok: r.first.ms <= 1.5 * r.copyMs && rss < 600, note: `CPU ${fmt(r.first.cpuMs)} ms` },
    { size, work: 'réimport identique', productMs: r.again.ms, baseline: 'premier import', baselineMs: r.first.ms,
      goal: '≤ 0,3×', ok: r.again.ms <= 0.3 * r.first.ms, note: `CPU ${fmt(r.again.cpuMs)} ms` },
  ];
}

async function main() {
  const markdown = process.argv.includes('--markdown');
  const started = Date.now();
  const dir = mkdtempSync(join(tmpdir(), 'trousseau-bench-pg-'));
  console.log(`PostgreSQL embarqué… (${cpus().length} cœurs, Node ${process.version}${quick ? ', BENCH_QUICK' : ''}, médianes de ${RUNS})`);
  const server = await startEmbedded(dir, undefined, true, ['-c', 'fsync=off', '-c', 'synchronous_commit=off', '-c', 'full_page_writes=off']);
  const contexts: Array<{ close(): Promise<void> }> = [];
  try {
    await demo(server.url, contexts);
    for (const size of SIZES) await scale(server.url, size, contexts);
    console.log('\nImport');
    for (const w of await importWorks(async (name) => {
      const c = await database(server.url, name);
      contexts.push(c);
      return c;
    }, RUNS)) report(w);
    // Generated AAF feeds (bench/aaf-feed.ts), each import in a process of its own (its peak RSS), vs COPY.
    for (const size of IMPORT_SIZES) for (const w of importScaleWorks(size, await benchImport(server.url, count(size), RUNS))) report(w);
  } finally {
    for (const c of contexts.reverse()) await c.close().catch(() => {});
    await server.stop();
    rmSync(dir, { recursive: true, force: true });
  }
  const conditions = `${cpus().length} cœurs (${cpus()[0]?.model.trim()}, charge moyenne ${loadavg().map((l) => fmt(l, 1)).join(' / ')}), Node ${process.version}, ${new Date().toISOString().slice(0, 10)}${quick ? ', BENCH_QUICK=1' : ''}${process.env.BENCH_SIZES ? `, BENCH_SIZES=${process.env.BENCH_SIZES}` : ''}, médianes de ${RUNS}, en ${fmt((Date.now() - started) / 1000)} s${existsSync(FIXTURE_FEED) ? '' : ' (sans ../shared/fixtures : pas de lignes « AAF démo »)'}`;
  console.log(`\nTerminé : ${conditions}`);
  if (markdown) {
    writeReadme(new URL('../README.md', import.meta.url).pathname, works, conditions);
    console.log('README.md : tableau des performances mis à jour');
  }
}

main().then(
  () => process.exit(0),
  (e) => {
    console.error(e);
    process.exit(1);
  },
);
