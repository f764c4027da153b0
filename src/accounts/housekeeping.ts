// Periodic clean-up of what expires: sessions, attempt counters, reset links, abandoned import uploads. Every
// app instance runs it; the statements are idempotent, so two instances doing it at once only repeat each other.
import { sweepUploads } from '../import/uploads.js';
import { purgeRates } from './ratelimit.js';
import type { Queryable } from '../db/index.js';
import { runLifecycle } from './lifecycle.js';
import { purgeExpiredOidc } from '../oidc/adapter.js';
import type pg from 'pg';
import { countFr } from '../lib/french.js';

/** The account lifecycle job (grace period over -> pre-deleted -> deleted) runs once a day. */
export const LIFECYCLE_EVERY_MS = 24 * 3_600_000;


export interface Purged {
  sessions: number;
  resets: number;
}

/** Deletes expired sessions, reset links a day past their expiry, attempt windows over a day old, expired OpenID provider rows. */
export async function purgeExpired(pool: Queryable): Promise<Purged> {
  const sessions = await pool.query('DELETE FROM sessions WHERE expires_at <= now()');
  const resets = await pool.query(`DELETE FROM password_resets WHERE expires_at < now() - interval '1 day'`);
  await purgeRates(pool);
  await purgeExpiredOidc(pool);
  return { sessions: sessions.rowCount ?? 0, resets: resets.rowCount ?? 0 };
}

/**
 * Runs purgeExpired now and then every `everyMs` (default hourly), and sweeps the import uploads under
 * `uploadsDir` (dry runs never confirmed, src/import/uploads.ts) when given; the account lifecycle job
 * (src/accounts/lifecycle.ts) runs now and then daily (idempotent, one instance at a time under an advisory
 * lock). Errors are logged, never thrown.
 */
export function startHousekeeping(pool: pg.Pool, log: (m: string) => void, everyMs = 3_600_000, uploadsDir?: string): { stop(): void } {
  const run = () =>
    Promise.all([purgeExpired(pool), uploadsDir ? sweepUploads(uploadsDir) : 0]).catch((e: Error) => log(`Nettoyage périodique : ${e.message}`));
  const lifecycle = () =>
    runLifecycle(pool)
      .then((r) => {
        if (r.preDeleted || r.deleted) log(`Cycle de vie des comptes : ${countFr(r.preDeleted, 'pré-supprimé', 'pré-supprimés')}, ${countFr(r.deleted, 'supprimé', 'supprimés')}`);
      })
      .catch((e: Error) => log(`Cycle de vie des comptes : ${e.message}`));
  void run();
  void lifecycle();
  const timer = setInterval(run, everyMs);
  timer.unref();
  const daily = setInterval(lifecycle, LIFECYCLE_EVERY_MS);
  daily.unref();
  return {
    stop: () => {
      clearInterval(timer);
      clearInterval(daily);
    },
  };
}
