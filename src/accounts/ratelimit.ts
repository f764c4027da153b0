// Fixed-window attempt counters in Postgres, so every app instance shares them.
import { envInt } from '../config.js';
import type { Queryable } from '../db/index.js';


export interface RateResult {
  allowed: boolean;
  hits: number;
  /** Seconds until the current window ends. */
  retryAfterSec: number;
}

/**
 * Counts one attempt under `key` and says whether it is within `max` per window of `windowSec` seconds.
 * A single atomic upsert: concurrent attempts on several instances are all counted.
 */
export async function checkRate(pool: Queryable, key: string, max: number, windowSec: number): Promise<RateResult> {
  const { rows } = await pool.query(
    `INSERT INTO rate_limits AS r (key, window_start, hits) VALUES ($1, now(), 1)
     ON CONFLICT (key) DO UPDATE SET
       window_start = CASE WHEN r.window_start + make_interval(secs => $2) <= now() THEN now() ELSE r.window_start END,
       hits = CASE WHEN r.window_start + make_interval(secs => $2) <= now() THEN 1 ELSE r.hits + 1 END
     RETURNING hits, GREATEST(0, EXTRACT(EPOCH FROM (window_start + make_interval(secs => $2) - now())))::float8 AS remaining`,
    [key, windowSec],
  );
  const hits = rows[0].hits as number;
  return { allowed: hits <= max, hits, retryAfterSec: Math.max(1, Math.ceil(rows[0].remaining as number)) };
}

/** Gives back one attempt (a successful sign-in should not use up a shared school IP's allowance). */
export async function refundRate(pool: Queryable, key: string): Promise<void> {
  await pool.query('UPDATE rate_limits SET hits = GREATEST(0, hits - 1) WHERE key = $1', [key]);
}

/** Drops windows that ended long ago (called opportunistically). */
export async function purgeRates(pool: Queryable, olderThanSec = 86_400): Promise<void> {
  await pool.query('DELETE FROM rate_limits WHERE window_start < now() - make_interval(secs => $1)', [olderThanSec]);
}

export interface AuthLimits {
  /** Attempts per login (sign-in, activation, renewal codes) per window. */
  perLogin: number;
  /** Failed attempts per client IP per window (successes are refunded: a school shares one IP). */
  perIp: number;
  windowSec: number;
}

/** Defaults 10 per login and 50 per IP per 15 minutes; TROUSSEAU_RATE_LOGIN_MAX, _IP_MAX, _WINDOW_SEC override. */
export function authLimits(env: NodeJS.ProcessEnv = process.env): AuthLimits {
  return {
    perLogin: envInt(env, 'TROUSSEAU_RATE_LOGIN_MAX', 10),
    perIp: envInt(env, 'TROUSSEAU_RATE_IP_MAX', 50),
    windowSec: envInt(env, 'TROUSSEAU_RATE_WINDOW_SEC', 900),
  };
}
