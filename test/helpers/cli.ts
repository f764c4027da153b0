// Command-line entry points run in the test's process: exit code and what they printed, with an environment of
// their own for the call.
import { mock } from 'node:test';

/**
 * Runs `fn(args)` (a CLI's `run`, e.g. src/import/cli.ts) with `env` added to process.env for the call (restored
 * after), console.log and console.error captured.
 */
export async function runCli(fn: (args: string[]) => Promise<number>, args: string[], env: Record<string, string> = {}): Promise<{ code: number; out: string; err: string }> {
  const saved = { ...process.env };
  Object.assign(process.env, env);
  const out: string[] = [];
  const err: string[] = [];
  const log = mock.method(console, 'log', (...a: unknown[]) => void out.push(a.join(' ')));
  const error = mock.method(console, 'error', (...a: unknown[]) => void err.push(a.join(' ')));
  try {
    return { code: await fn(args), out: out.join('\n'), err: err.join('\n') };
  } finally {
    log.mock.restore();
    error.mock.restore();
    process.env = saved;
  }
}
