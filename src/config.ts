// Runtime configuration, read once from the environment.
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { loadFederation, type Providers } from './federation/providers.js';

export interface Config {
  /** External PostgreSQL; when absent the app starts its own embedded server. */
  databaseUrl?: string;
  dataDir: string;
  port: number;
  host: string;
  /** Public address of the ENT, printed on sheets and in mails. */
  publicUrl: string;
  /** 32-byte key encrypting activation codes at rest. */
  secretKey: Buffer;
  activationCodeDays: number;
  smtpUrl?: string;
  mailFrom: string;
  /**
   * Whom to believe for X-Forwarded-For (the client IP that per-IP rate limits count): nobody by default,
   * since a client could otherwise pick a fresh IP per attempt. Behind a reverse proxy set
   * TROUSSEAU_TRUST_PROXY to its address(es) (`127.0.0.1`, `10.0.0.0/8,…`), or `true` to trust any.
   */
  trustProxy: boolean | string;
  /** pino level of the HTTP log (LOG_LEVEL): fatal, error, warn, info, debug, trace or silent. */
  logLevel: string;
  /** Whether TROUSSEAU_PUBLIC_URL was set (sheets print localhost otherwise: the start log warns). */
  publicUrlSet: boolean;
  /** Most bytes one import request may upload, all files together (TROUSSEAU_IMPORT_MAX_MB, default 500 MB). */
  importMaxBytes: number;
  /** Unattended import of a drop folder (src/drop/README.md); `dir` null: not configured. */
  drop: DropConfig;
  /** Identity providers accounts may sign in with (TROUSSEAU_FEDERATION_CONFIG, src/federation/providers.ts). */
  federation: Providers;
}

const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'];

function parseLogLevel(v: string | undefined): string {
  if (v === undefined || v === '') return 'info';
  if (!LOG_LEVELS.includes(v)) throw new Error(`LOG_LEVEL doit valoir ${LOG_LEVELS.join(', ')} (reçu « ${v} »)`);
  return v;
}

export interface DropConfig {
  /** TROUSSEAU_DROP_DIR: the folder the académie's files are dropped into. */
  dir: string | null;
  /** TROUSSEAU_DROP_CRON: when to look at it (5-field cron, read in `timezone`). */
  cron: string;
  /** TROUSSEAU_DROP_QUIET_MINUTES: a delivery without marker is complete after this long unchanged; 0 = markers only. */
  quietMinutes: number;
  /** TROUSSEAU_DROP_TZ: time zone of the cron expression and of the archive/<date>/ folders. */
  timezone: string;
}

function parseTrustProxy(v: string | undefined): boolean | string {
  if (v === undefined || v === '' || v === 'false' || v === '0') return false;
  return v === 'true' ? true : v;
}

/** A positive integer setting, or its default when unset; anything else stops the start with its name. */
export function envInt(env: NodeJS.ProcessEnv, name: string, dflt: number): number {
  const v = env[name];
  if (v === undefined || v === '') return dflt;
  const n = Number(v);
  if (!Number.isInteger(n) || n <= 0) throw new Error(`${name} doit être un entier positif (reçu « ${v} »)`);
  return n;
}

/** The key comes from TROUSSEAU_SECRET (64 hex chars) or a file created once under the data dir. */
function loadSecret(env: NodeJS.ProcessEnv, dataDir: string): Buffer {
  const hex = env.TROUSSEAU_SECRET;
  if (hex) {
    if (!/^[0-9a-fA-F]{64}$/.test(hex)) throw new Error('TROUSSEAU_SECRET doit contenir 64 caractères hexadécimaux');
    return Buffer.from(hex, 'hex');
  }
  const file = resolve(dataDir, 'secret.key');
  if (!existsSync(file)) {
    mkdirSync(dirname(file), { recursive: true });
    writeFileSync(file, randomBytes(32).toString('hex'), { mode: 0o600 });
  }
  return Buffer.from(readFileSync(file, 'utf8').trim(), 'hex');
}

function loadDrop(env: NodeJS.ProcessEnv): DropConfig {
  const quiet = env.TROUSSEAU_DROP_QUIET_MINUTES;
  const quietMinutes = quiet === undefined || quiet === '' ? 60 : Number(quiet);
  if (!Number.isInteger(quietMinutes) || quietMinutes < 0) {
    throw new Error(`TROUSSEAU_DROP_QUIET_MINUTES doit être un entier positif ou nul (reçu « ${quiet} »)`);
  }
  const timezone = env.TROUSSEAU_DROP_TZ || 'Europe/Paris';
  try {
    new Intl.DateTimeFormat('en-CA', { timeZone: timezone });
  } catch {
    throw new Error(`TROUSSEAU_DROP_TZ : fuseau horaire inconnu « ${timezone} » (exemple : Europe/Paris)`);
  }
  return {
    dir: env.TROUSSEAU_DROP_DIR ? resolve(env.TROUSSEAU_DROP_DIR) : null,
    cron: env.TROUSSEAU_DROP_CRON?.trim() || '0 2 * * *',
    quietMinutes,
    timezone,
  };
}

export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  const dataDir = resolve(env.TROUSSEAU_DATA_DIR ?? './data');
  const port = envInt(env, 'PORT', 3000);
  // Loopback unless told otherwise: the demo start must not expose a school's accounts to the network.
  const host = env.HOST || '127.0.0.1';
  return {
    databaseUrl: env.DATABASE_URL || undefined,
    dataDir,
    port,
    host,
    publicUrl: (env.TROUSSEAU_PUBLIC_URL ?? `http://localhost:${port}`).replace(/\/$/, ''),
    secretKey: loadSecret(env, dataDir),
    activationCodeDays: envInt(env, 'TROUSSEAU_ACTIVATION_DAYS', 90),
    smtpUrl: env.SMTP_URL || undefined,
    mailFrom: env.MAIL_FROM ?? 'Trousseau <no-reply@trousseau.local>',
    trustProxy: parseTrustProxy(env.TROUSSEAU_TRUST_PROXY),
    logLevel: parseLogLevel(env.LOG_LEVEL),
    publicUrlSet: !!env.TROUSSEAU_PUBLIC_URL,
    drop: loadDrop(env),
    importMaxBytes: envInt(env, 'TROUSSEAU_IMPORT_MAX_MB', 500) * 1024 * 1024,
    federation: loadFederation(env.TROUSSEAU_FEDERATION_CONFIG || undefined),
  };
}
