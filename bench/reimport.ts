// `npx tsx bench/reimport.ts`: issue #11's goal at the demo size on its own, "re-importing an unchanged feed costs
// ≤ 0.3× the first import" — the aaf-2013 fixture feed (2,224 accounts, as bench/import.ts), each round on a database
// of its own: first import, then the same files again; one round to warm up first (npm run bench measures in a warm
// process), medians of BENCH_RUNS (default 7). Also the process's CPU time of each, and a digest of the re-import's
// report (without its duration and date) to tell that a change left the result as it was.
// SQL_LOG=1: PostgreSQL's log is printed (every statement with its duration: log_min_duration_statement = 0), the
// re-imports between `SELECT 'reimport-start'` and `SELECT 'reimport-end'`; SQL_EXPLAIN=<ms>: the plans of statements
// slower than that, with their actual times (auto_explain). CPU_PROF=<file.cpuprofile>: a CPU profile of
// the re-imports (all rounds but the warm-up), for Chrome's DevTools.
import { createHash } from 'node:crypto';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { Session } from 'node:inspector/promises';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { startEmbedded } from '../src/db/embedded.js';
import { collectInputs, importFiles } from '../src/import/index.js';
import type { ImportReport } from '../src/import/types.js';
import { median } from './measure.js';
import { database } from './setup.js';

const RUNS = Number(process.env.BENCH_RUNS ?? 7);
const feed = new URL('../../shared/fixtures/aaf-2013/', import.meta.url).pathname;
const ALL = { kind: 'all' } as const;

async function main() {
  if (!existsSync(feed)) throw new Error(`${feed} : flux de démonstration absent`);
  const dir = mkdtempSync(join(tmpdir(), 'trousseau-bench-reimport-'));
  const log = process.env.SQL_LOG;
  const explain = process.env.SQL_EXPLAIN;
  const logFlags = log ? ['-c', 'log_min_duration_statement=0', '-c', 'log_line_prefix=%m [%p] '] : [];
  if (explain) logFlags.push('-c', 'shared_preload_libraries=auto_explain', '-c', `auto_explain.log_min_duration=${explain}`, '-c', 'auto_explain.log_analyze=on');
  const server = await startEmbedded(dir, undefined, !log && !explain, ['-c', 'fsync=off', '-c', 'synchronous_commit=off', '-c', 'full_page_writes=off', ...logFlags]);
  const contexts: { close(): Promise<void> }[] = [];
  const cpu = async (fn: () => Promise<ImportReport>) => {
    const c0 = process.cpuUsage();
    const t0 = performance.now();
    const report = await fn();
    const ms = performance.now() - t0;
    const c = process.cpuUsage(c0);
    return { ms, cpuMs: (c.user + c.system) / 1000, report };
  };
  try {
    const firsts: number[] = [];
    const agains: number[] = [];
    const firstCpu: number[] = [];
    const againCpu: number[] = [];
    const digests = new Set<string>();
    let accounts = 0;
    const prof = process.env.CPU_PROF;
    const session = prof ? new Session() : undefined;
    if (session) {
      session.connect();
      await session.post('Profiler.enable');
      await session.post('Profiler.setSamplingInterval', { interval: 200 });
    }
    for (let i = 0; i <= RUNS; i++) {
      const ctx = await database(server.url, `bench_reimport_${i}`);
      contexts.push(ctx);
      const run = () => importFiles(ctx, collectInputs([feed]), { scope: ALL, dryRun: false });
      const first = await cpu(run);
      if (log) await ctx.database.pool.query(`SELECT 'reimport-start'`);
      if (session && i) await session.post('Profiler.start');
      const again = await cpu(run);
      if (session && i) {
        const { profile } = await session.post('Profiler.stop');
        writeFileSync(RUNS > 1 ? prof!.replace(/(\.cpuprofile)?$/, `-${i}.cpuprofile`) : prof!, JSON.stringify(profile));
      }
      if (log) await ctx.database.pool.query(`SELECT 'reimport-end'`);
      accounts = first.report.created;
      const { durationMs: _d, at: _a, ...rest } = again.report;
      digests.add(createHash('sha256').update(JSON.stringify(rest)).digest('hex').slice(0, 12));
      console.log(`${i ? `tour ${i}` : 'chauffe'} : premier import ${first.ms.toFixed(0)} ms (CPU ${first.cpuMs.toFixed(0)}), réimport ${again.ms.toFixed(0)} ms (CPU ${again.cpuMs.toFixed(0)}), ${again.report.unchanged} inchangés`);
      if (!i) continue;
      firsts.push(first.ms);
      agains.push(again.ms);
      firstCpu.push(first.cpuMs);
      againCpu.push(again.cpuMs);
      await ctx.close();
      contexts.pop();
    }
    const [f, a] = [median(firsts), median(agains)];
    console.log(
      `AAF démo (${accounts} comptes), médianes de ${RUNS} (${cpus().length} cœurs, charge ${loadavg().map((l) => l.toFixed(1)).join(' / ')}) :\n` +
        `  premier import ${f.toFixed(0)} ms (CPU ${median(firstCpu).toFixed(0)} ms)\n` +
        `  réimport identique ${a.toFixed(0)} ms (CPU ${median(againCpu).toFixed(0)} ms) : ×${(a / f).toFixed(2)} (objectif ≤ 0,3× : ${a <= 0.3 * f ? 'OK' : 'MANQUÉ'})\n` +
        `  rapport du réimport : ${[...digests].join(', ')}`,
    );
  } finally {
    for (const c of contexts.reverse()) await c.close().catch(() => {});
    await server.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

main().then(
  () => process.exit(0),
  (e) => {
    console.error(e);
    process.exit(1);
  },
);
