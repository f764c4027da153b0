// When the drop folder is looked at: a cron expression (TROUSSEAU_DROP_CRON, default every night at 02:00) read in
// TROUSSEAU_DROP_TZ (default Europe/Paris), scheduled with croner. Every instance schedules it; the advisory lock
// in run.ts lets one of them do the work.
import { Cron } from 'croner';
import { existsSync, statSync } from 'node:fs';
import type { AppContext } from '../context.js';
import { runDropFolder, type DropRunResult } from './run.js';

/**
 * The parsed schedule, not running. Accepts standard 5-field cron (`minute hour day month weekday`, with
 * `*`, lists, ranges, steps, names like `mon-fri`) and an optional leading seconds field.
 * Throws an Error naming TROUSSEAU_DROP_CRON and the expression when it is not valid cron.
 */
export function parseDropCron(expression: string, timezone: string): Cron {
  try {
    return new Cron(expression, { timezone, paused: true, mode: '5-or-6-parts' });
  } catch (e) {
    throw new Error(`TROUSSEAU_DROP_CRON : expression cron invalide « ${expression} » (${(e as Error).message}) ; exemple : « 0 2 * * * » (chaque nuit à 2 h)`);
  }
}

/** The next `n` passes after `from`. */
export function nextDropRuns(expression: string, timezone: string, n: number, from: Date): Date[] {
  return parseDropCron(expression, timezone).nextRuns(n, from);
}

export interface DropSchedule {
  /** Next pass, or null when stopped. */
  next(): Date | null;
  /** Runs the scheduled pass now (what the clock does when due), resolving when it is over. */
  trigger(): Promise<void>;
  stop(): void;
}

/**
 * Runs runDropFolder on the configured schedule until stopped. A pass still going when the next one is due is
 * not started twice in this process (croner `protect`); failures are logged, never thrown.
 * Throws at once when the expression is invalid or the drop folder is not configured or missing.
 */
export function startDropSchedule(ctx: AppContext, log: (m: string) => void, onRun?: (r: DropRunResult) => void): DropSchedule {
  const { dir, cron, timezone } = ctx.config.drop;
  if (!dir) throw new Error('Aucun dossier de dépôt configuré (TROUSSEAU_DROP_DIR).');
  // A wrong path is a configuration mistake: say so at start, not in a log line at 2 a.m.
  if (!existsSync(dir) || !statSync(dir).isDirectory()) throw new Error(`TROUSSEAU_DROP_DIR : dossier introuvable « ${dir} »`);
  parseDropCron(cron, timezone);
  const job = new Cron(cron, { timezone, protect: true, mode: '5-or-6-parts', unref: true }, async () => {
    try {
      onRun?.(await runDropFolder(ctx, { log }));
    } catch (e) {
      log(`Dépôt : passage impossible (${(e as Error).message})`);
    }
  });
  return { next: () => job.nextRun(), trigger: () => job.trigger(), stop: () => job.stop() };
}
