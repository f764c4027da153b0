// The application as a real child process (`npm start` or `node --import tsx src/main.ts`), its output collected.
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { fileURLToPath } from 'node:url';

export const ROOT = fileURLToPath(new URL('../../', import.meta.url));

export interface AppProcess {
  child: ChildProcess;
  /** stdout and stderr so far, interleaved. */
  output(): string;
  /** Resolves when the output contains `text` (fails after `ms`, or when the process ends first). */
  waitForOutput(text: string, ms?: number): Promise<void>;
  /** Resolves with the exit code (or the signal's name) when the process ends (fails after `ms`). */
  exited(ms?: number): Promise<number | string>;
}

/** Starts the app with `env` added to a clean environment (no inherited DATABASE_URL, SMTP_URL…). */
export function startAppProcess(env: Record<string, string>, via: 'npm' | 'node' = 'node'): AppProcess {
  const base: Record<string, string> = { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '/tmp', LANG: 'C.UTF-8' };
  const child = via === 'npm'
    ? spawn('npm', ['start', '--silent'], { cwd: ROOT, env: { ...base, ...env } })
    : spawn(process.execPath, ['--import', 'tsx', 'src/main.ts'], { cwd: ROOT, env: { ...base, ...env } });
  let out = '';
  child.stdout!.on('data', (d) => (out += d));
  child.stderr!.on('data', (d) => (out += d));
  const done = new Promise<number | string>((ok) => child.on('exit', (code, signal) => ok(code ?? signal ?? -1)));
  const timeout = <T>(p: Promise<T>, ms: number, what: string) =>
    Promise.race([p, new Promise<never>((_, ko) => setTimeout(() => ko(new Error(`${what} (${ms} ms)\n${out}`)), ms).unref())]);
  return {
    child,
    output: () => out,
    async waitForOutput(text, ms = 60_000) {
      const seen = new Promise<void>((ok, ko) => {
        const check = () => {
          if (out.includes(text)) return ok();
          if (child.exitCode !== null || child.signalCode !== null) return ko(new Error(`process ended before « ${text} »\n${out}`));
          setTimeout(check, 50);
        };
        check();
      });
      await timeout(seen, ms, `never printed « ${text} »`);
    },
    exited: (ms = 60_000) => timeout(done, ms, 'process did not exit'),
  };
}

/**
 * A free port for an app started as a child process, drawn below the kernel's ephemeral range (Linux:
 * /proc/sys/net/ipv4/ip_local_port_range, 32768–60999 by default). freePort() (src/db/embedded.ts) takes its ports
 * from that range: an embedded PostgreSQL started by another test file during the seconds the app takes to listen
 * could otherwise be handed the same port (EADDRINUSE).
 */
export async function appPort(): Promise<number> {
  let low = 32768;
  try {
    low = Number(readFileSync('/proc/sys/net/ipv4/ip_local_port_range', 'utf8').trim().split(/\s+/)[0]) || low;
  } catch {
    // not Linux: the default range's start
  }
  const from = Math.max(1024, low - 12_000);
  for (;;) {
    const port = from + Math.floor(Math.random() * (low - from));
    const free = await new Promise<boolean>((ok) => {
      const s = createServer();
      s.once('error', () => ok(false));
      s.listen(port, '127.0.0.1', () => s.close(() => ok(true)));
    });
    if (free) return port;
  }
}
