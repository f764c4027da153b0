// How the benchmark measures: product and baseline alternated in the same run (both warm), medians; peak RSS
// added during a work (this process: the server and the product's code), the latency another request sees
// meanwhile (GET /healthz every 20 ms over a real socket: the event loop's delay as a user would feel it), and the
// event loop's longest stall seen from inside (bench/stalls.ts), with the part of it this process spent on a core:
// on 2 shared cores a stall is often the process waiting for a core, not our code running.
import { execFile } from 'node:child_process';
import { describeStalls, watchStalls, type Stall } from './stalls.js';

export interface Work {
  /** 100k, 1M, démo… */
  size: string;
  work: string;
  productMs: number;
  baseline?: string;
  baselineMs?: number;
  /** Peak RSS of this process above its level before the work, MB (product runs only). */
  rssMb?: number;
  /** Time to the first byte of a streamed response, ms. */
  ttfbMs?: number;
  /** Latency of the probe requests during the product runs, ms. */
  loopP99?: number;
  loopMax?: number;
  /** Longest event-loop stall seen in this process during the product runs, and its CPU time (the rest: waiting for a core), ms. */
  stallMs?: number;
  stallCpuMs?: number;
  /** The longest stalls, described (bench/stalls.ts), for the console. */
  stalls?: string;
  /** Goal, e.g. "≤ 1.5×", and whether it is met. */
  goal?: string;
  ok?: boolean;
  note?: string;
}

export const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length ? (s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2) : Number.NaN;
};

/** Peak RSS above the starting level, sampled every 10 ms while `fn` runs. */
async function withRss<T>(fn: () => Promise<T>): Promise<{ value: T; rssMb: number }> {
  global.gc?.();
  const start = process.memoryUsage.rss();
  let peak = start;
  const timer = setInterval(() => {
    peak = Math.max(peak, process.memoryUsage.rss());
  }, 10);
  try {
    const value = await fn();
    peak = Math.max(peak, process.memoryUsage.rss());
    return { value, rssMb: (peak - start) / 1e6 };
  } finally {
    clearInterval(timer);
  }
}

/** Latencies of GET `url` sent every 20 ms (one at a time) while `fn` runs. */
export async function withProbe<T>(url: string | null, fn: () => Promise<T>): Promise<{ value: T; lat: number[] }> {
  const lat: number[] = [];
  if (!url) return { value: await fn(), lat };
  let running = true;
  const loop = (async () => {
    while (running) {
      const t = performance.now();
      await fetch(url).then((r) => r.arrayBuffer()).catch(() => {});
      lat.push(performance.now() - t);
      await new Promise((ok) => setTimeout(ok, 20));
    }
  })();
  try {
    return { value: await fn(), lat };
  } finally {
    running = false;
    await loop;
  }
}

const p99 = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length ? s[Math.min(s.length - 1, Math.floor(s.length * 0.99))] : Number.NaN;
};

export interface Run {
  ms: number;
  ttfbMs?: number;
}

/**
 * Product and baseline alternated `n` times after one warm-up run of each (not counted), which comes first changing
 * from round to round; medians. Both run under
 * the same watch (RSS sampling, probe requests), whose figures are the product's; a baseline of null measures the
 * product alone.
 */
export async function compare(
  n: number,
  product: () => Promise<Run | number>,
  baseline: (() => Promise<Run | number>) | null,
  probeUrl: string | null,
  warm = true,
): Promise<Pick<Work, 'productMs' | 'baselineMs' | 'rssMb' | 'ttfbMs' | 'loopP99' | 'loopMax' | 'stallMs' | 'stallCpuMs' | 'stalls'>> {
  const asRun = (r: Run | number): Run => (typeof r === 'number' ? { ms: r } : r);
  if (warm) {
    await product();
    if (baseline) await baseline();
  }
  const mine: Run[] = [];
  const base: number[] = [];
  let rss = 0;
  const lat: number[] = [];
  const stalls: Stall[] = [];
  let stallMs = 0;
  let stallCpuMs = 0;
  // Under the same watch as the product (probe requests served by this process, RSS sampling): a 5 ms query
  // measured beside a probe request and its baseline measured bare would not be compared fairly.
  const runBaseline = async () => {
    if (baseline) base.push(asRun((await withRss(() => withProbe(probeUrl, baseline))).value.value).ms);
  };
  for (let i = 0; i < n; i++) {
    // Every other round, the baseline first: whichever runs second finds caches the first warmed (the more so when
    // `warm` is false, as in BENCH_QUICK=1 for the longest works).
    if (i % 2 === 1) await runBaseline();
    const watch = probeUrl ? watchStalls() : null;
    const r = await withRss(() => withProbe(probeUrl, product));
    const seen = watch?.stop();
    if (seen) {
      stallMs = Math.max(stallMs, seen.maxMs);
      stallCpuMs = Math.max(stallCpuMs, seen.maxCpuMs);
      stalls.push(...seen.stalls);
    }
    rss = Math.max(rss, r.rssMb);
    mine.push(asRun(r.value.value));
    lat.push(...r.value.lat);
    if (i % 2 === 0) await runBaseline();
  }
  const ttfb = mine.map((r) => r.ttfbMs).filter((x): x is number => x !== undefined);
  return {
    productMs: median(mine.map((r) => r.ms)),
    baselineMs: baseline ? median(base) : undefined,
    rssMb: rss,
    ttfbMs: ttfb.length ? median(ttfb) : undefined,
    loopP99: lat.length ? p99(lat) : undefined,
    loopMax: lat.length ? Math.max(...lat) : undefined,
    ...(probeUrl ? { stallMs, stallCpuMs, stalls: describeStalls(stalls, 2) } : {}),
  };
}

/** Wall time of an async function, ms. */
export async function timed(fn: () => Promise<unknown>): Promise<number> {
  const t = performance.now();
  await fn();
  return performance.now() - t;
}

/** Runs a program; resolves with its stdout. */
export function run(cmd: string, args: string[], env: NodeJS.ProcessEnv = process.env): Promise<string> {
  return new Promise((ok, ko) => {
    execFile(cmd, args, { env, maxBuffer: 1 << 20 }, (e, stdout, stderr) => (e ? ko(new Error(`${cmd}: ${stderr || e.message}`)) : ok(stdout)));
  });
}

/** POST `url` with curl (another process, as a browser would): time to first byte and total, ms; bytes. */
export async function download(url: string, session: { cookie: string; csrf: string }): Promise<Run & { bytes: number; status: number }> {
  // A POST with the session's CSRF header: the downloads issue codes (src/web/post-download.ts).
  const out = await run('curl', ['-s', '-o', '/dev/null', '-X', 'POST', '-H', `x-csrf-token: ${session.csrf}`, '-b', session.cookie, '-w', '%{http_code} %{time_starttransfer} %{time_total} %{size_download}', url]);
  const [status, first, total, bytes] = out.trim().split(' ').map(Number);
  if (status !== 200) throw new Error(`POST ${url}: HTTP ${status}`);
  return { status, ttfbMs: first * 1000, ms: total * 1000, bytes };
}
