// The event loop's stalls seen from inside the process, and what they were made of: a stall is the lateness of
// a 10 ms timer. For each one over the threshold: its wall time, the main thread's CPU time meanwhile and its
// time spent runnable but waiting for a core (Linux /proc/<pid>/task/<pid>/schedstat: run and run-queue wait,
// in ns), and the garbage collection pauses inside it (perf_hooks 'gc' entries). A stall that is mostly CPU is
// our code (or its GC); one that is mostly run-queue wait is the machine's other processes (2 shared cores);
// the rest is the thread sleeping in a synchronous call (disk, a lock).
import { readFileSync } from 'node:fs';
import { constants, monitorEventLoopDelay, PerformanceObserver } from 'node:perf_hooks';

export interface Stall {
  /** When it ended, ms after the watch started. */
  atMs: number;
  wallMs: number;
  /** Main thread on a core meanwhile (NaN where schedstat is missing). */
  cpuMs: number;
  /** Main thread runnable but not running (descheduled: other processes had the cores). */
  waitMs: number;
  /** Garbage collection pauses that began inside the stall, and how much of it was major (mark-compact). */
  gcMs: number;
  majorGcMs: number;
  /** What the caller said it was doing (e.g. how far a document was). */
  label?: string;
}

export interface StallReport {
  /** monitorEventLoopDelay's max and p99, ms. */
  maxMs: number;
  p99Ms: number;
  /** Stalls over the threshold, in order. */
  stalls: Stall[];
  /** The longest stall caused by this process itself: its CPU time (ours or our GC's), ms. */
  maxCpuMs: number;
}

const SCHEDSTAT = `/proc/${process.pid}/task/${process.pid}/schedstat`;

/** Main thread's [run, run-queue wait] so far, ms; NaN when unavailable (not Linux, no schedstat). */
function sched(): [number, number] {
  try {
    const [run, wait] = readFileSync(SCHEDSTAT, 'latin1').split(' ').map(Number);
    return [run / 1e6, wait / 1e6];
  } catch {
    return [Number.NaN, Number.NaN];
  }
}

/**
 * Watches the event loop until stop(): stalls longer than `thresholdMs` with their make-up. `label`, when given, is
 * called at the end of each stall (keep it cheap).
 */
export function watchStalls(opts: { thresholdMs?: number; label?: () => string } = {}): { stop(): StallReport } {
  const threshold = opts.thresholdMs ?? 50;
  const tick = 10;
  const t0 = performance.now();
  const histogram = monitorEventLoopDelay({ resolution: 10 });
  histogram.enable();
  const gcs: Array<{ start: number; ms: number; major: boolean }> = [];
  const observer = new PerformanceObserver((list) => {
    for (const e of list.getEntries()) {
      if (e.duration < 1) continue;
      const kind = (e as unknown as { detail?: { kind?: number } }).detail?.kind;
      gcs.push({ start: e.startTime, ms: e.duration, major: kind === constants.NODE_PERFORMANCE_GC_MAJOR });
    }
  });
  observer.observe({ entryTypes: ['gc'] });
  const raw: Array<{ from: number; to: number; cpuMs: number; waitMs: number; label?: string }> = [];
  let last = performance.now();
  let [run, wait] = sched();
  const timer = setInterval(() => {
    const now = performance.now();
    const [r, w] = sched();
    if (now - last - tick > threshold) raw.push({ from: last, to: now, cpuMs: r - run, waitMs: w - wait, label: opts.label?.() });
    last = now;
    run = r;
    wait = w;
  }, tick);
  timer.unref();
  return {
    stop(): StallReport {
      clearInterval(timer);
      histogram.disable();
      // GC entries are delivered after the fact: read those still queued before attributing them.
      for (const e of observer.takeRecords?.() ?? []) {
        if (e.duration < 1) continue;
        const kind = (e as unknown as { detail?: { kind?: number } }).detail?.kind;
        gcs.push({ start: e.startTime, ms: e.duration, major: kind === constants.NODE_PERFORMANCE_GC_MAJOR });
      }
      observer.disconnect();
      const stalls = raw.map((s): Stall => {
        const inside = gcs.filter((g) => g.start >= s.from && g.start < s.to);
        return {
          atMs: s.to - t0, wallMs: s.to - s.from - tick, cpuMs: s.cpuMs, waitMs: s.waitMs,
          gcMs: inside.reduce((n, g) => n + g.ms, 0), majorGcMs: inside.filter((g) => g.major).reduce((n, g) => n + g.ms, 0), label: s.label,
        };
      });
      return {
        maxMs: histogram.max / 1e6,
        p99Ms: histogram.percentile(99) / 1e6,
        stalls,
        maxCpuMs: stalls.reduce((m, s) => Math.max(m, Number.isNaN(s.cpuMs) ? s.wallMs : s.cpuMs), 0),
      };
    },
  };
}

/** The `n` longest stalls, one line each: "740 ms (CPU 90, attente d'un cœur 610, GC 12 dont majeur 0) à 12,3 s". */
export function describeStalls(stalls: Stall[], n = 5): string {
  const f = (v: number) => (Number.isNaN(v) ? '?' : Math.round(v).toString());
  return [...stalls]
    .sort((a, b) => b.wallMs - a.wallMs)
    .slice(0, n)
    .map((s) => `${f(s.wallMs)} ms (CPU ${f(s.cpuMs)}, attente d'un cœur ${f(s.waitMs)}, GC ${f(s.gcMs)} dont majeur ${f(s.majorGcMs)}) à ${(s.atMs / 1000).toFixed(1)} s${s.label ? ` ${s.label}` : ''}`)
    .join(' ; ');
}
