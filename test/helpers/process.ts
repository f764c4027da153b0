// The application as a real child process (`npm start` or `node --import tsx src/main.ts`), its output collected.
import { spawn, type ChildProcess } from 'node:child_process';
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
