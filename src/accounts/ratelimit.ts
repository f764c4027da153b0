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

/** Seconds a login waits between attempts once `free` attempts are used: 1, 2, 4… up to this. */
export const MAX_LOGIN_DELAY_SEC = 120;

/**
 * Growing delay rather than a lock (the owner of a login must never be kept out by someone else's guesses):
 * the first `free` + 1 attempts of a window pass, then each one must come at least 1, 2, 4… (at most
 * MAX_LOGIN_DELAY_SEC) seconds after the previous counted one. An attempt made too early is refused and NOT
 * counted, so hammering does not lengthen the wait. One atomic upsert, shared by every instance.
 */
export async function checkDelay(pool: Queryable, key: string, free: number, windowSec: number): Promise<RateResult> {
  // Delay owed after `h` counted attempts (seconds).
  const delay = (h: string) => `make_interval(secs => CASE WHEN ${h} <= $3 THEN 0 ELSE least(power(2, ${h} - $3 - 1), ${MAX_LOGIN_DELAY_SEC}) END)`;
  const expired = 'r.window_start + make_interval(secs => $2) <= now()';
  const due = `coalesce(r.last_hit_at, r.window_start) + ${delay('r.hits')} <= now()`;
  const { rows } = await pool.query(
    `INSERT INTO rate_limits AS r (key, window_start, hits, last_hit_at) VALUES ($1, now(), 1, now())
     ON CONFLICT (key) DO UPDATE SET
       window_start = CASE WHEN ${expired} THEN now() ELSE r.window_start END,
       hits = CASE WHEN ${expired} THEN 1 WHEN ${due} THEN r.hits + 1 ELSE r.hits END,
       last_hit_at = CASE WHEN ${expired} OR ${due} THEN now() ELSE r.last_hit_at END
     RETURNING hits, last_hit_at = now() AS counted,
       GREATEST(0, EXTRACT(EPOCH FROM (last_hit_at + ${delay('hits')} - now())))::float8 AS remaining`,
    [key, windowSec, free],
  );
  const counted = rows[0].counted as boolean;
  return { allowed: counted, hits: rows[0].hits as number, retryAfterSec: Math.max(1, Math.ceil(rows[0].remaining as number)) };
}

/** Forgets a key (a successful sign-in ends the login's delay; `trousseau admin` clears the admin's). */
export async function clearRate(pool: Queryable, ...keys: string[]): Promise<void> {
  await pool.query('DELETE FROM rate_limits WHERE key = ANY($1::text[])', [keys]);
}

/** Drops windows that ended long ago (called opportunistically). */
export async function purgeRates(pool: Queryable, olderThanSec = 86_400): Promise<void> {
  await pool.query('DELETE FROM rate_limits WHERE window_start < now() - make_interval(secs => $1)', [olderThanSec]);
}

export interface AuthLimits {
  /**
   * Attempts per login (sign-in, activation, renewal codes) per window: from one IP, a hard limit; from all IPs
   * together, the attempts before the growing delay starts.
   */
  perLogin: number;
  /** Failed attempts per client IP per window (successes are refunded: a school shares one IP). */
  perIp: number;
  windowSec: number;
}

/** Rate-limit key of a login across all IPs (cleared by `trousseau admin` for the super admin). */
export const loginKey = (login: string): string => `auth:login:${login}`;

/**
 * Counts one credential attempt (sign-in, activation or renewal code, current password) and says how long to
 * wait when it may not be tried now, or null. Order matters:
 *  1. the caller's IP (hard limit per window): an IP over its limit is refused before anything else is counted,
 *     so it cannot go on feeding a login's counter;
 *  2. the login from this IP (hard limit): one machine's guesses stop there, without touching other IPs;
 *  3. the login from all IPs (growing delay, never a lock): a distributed guesser is slowed, the owner waits
 *     at most MAX_LOGIN_DELAY_SEC.
 */
export async function checkAttempt(pool: Queryable, limits: AuthLimits, ip: string, login: string): Promise<number | null> {
  const perIp = await checkRate(pool, `auth:ip:${ip}`, limits.perIp, limits.windowSec);
  if (!perIp.allowed) return perIp.retryAfterSec;
  if (!login) return null;
  const fromIp = await checkRate(pool, `auth:login-ip:${login}:${ip}`, limits.perLogin, limits.windowSec);
  if (!fromIp.allowed) return fromIp.retryAfterSec;
  const all = await checkDelay(pool, loginKey(login), limits.perLogin, limits.windowSec);
  return all.allowed ? null : all.retryAfterSec;
}

/**
 * An attempt that proved nothing about the login's secret (the code an account was activated with, spent, opened from
 * the sheet's QR code; a code still to be used, which sets no password over one): each counter checkAttempt touched
 * gets this one attempt back, and nothing more. Never attemptSucceeded there: it forgets the login's counters, and
 * whoever held an old sheet cleared them between password guesses — unlimited guesses from one address, no growing
 * delay from many.
 */
export async function attemptRefunded(pool: Queryable, ip: string, login: string): Promise<void> {
  await refundRate(pool, `auth:ip:${ip}`);
  if (login) {
    await refundRate(pool, `auth:login-ip:${login}:${ip}`);
    await refundRate(pool, loginKey(login));
  }
}

/** After a successful attempt: the IP gets its attempt back, the login's counters are forgotten. */
export async function attemptSucceeded(pool: Queryable, ip: string, login: string): Promise<void> {
  await refundRate(pool, `auth:ip:${ip}`);
  if (login) await clearRate(pool, `auth:login-ip:${login}:${ip}`, loginKey(login));
}

/** Defaults 10 per login and 50 per IP per 15 minutes; TROUSSEAU_RATE_LOGIN_MAX, _IP_MAX, _WINDOW_SEC override. */
export function authLimits(env: NodeJS.ProcessEnv = process.env): AuthLimits {
  return {
    perLogin: envInt(env, 'TROUSSEAU_RATE_LOGIN_MAX', 10),
    perIp: envInt(env, 'TROUSSEAU_RATE_IP_MAX', 50),
    windowSec: envInt(env, 'TROUSSEAU_RATE_WINDOW_SEC', 900),
  };
}
