// One pass over the drop folder: every complete delivery is imported as one run (a complete feed: absent
// accounts get pre-deleted, scope all, no actor), then moved with its report (text + JSON) to
// archive/<date>/ when imported or rejected/<date>/ when refused, and the super admins get the summary by mail
// (durable queue, src/mail/). A PostgreSQL advisory lock held for the whole pass makes it run at most once at a
// time across every instance sharing the database; a pass that finds the lock taken does nothing.
import { printable } from '../lib/printable.js';
import { existsSync } from 'node:fs';
import { mkdir, rename, writeFile } from 'node:fs/promises';
import { basename, join, relative } from 'node:path';
import type { AppContext } from '../context.js';
import { recordAudit } from '../directory/audit.js';
import { formatReport, importFiles, type ImportReport } from '../import/index.js';
import { formatRejection, needsFixing } from '../import/report.js';
import { enqueueMails } from '../mail/queue.js';
import { wakeMailWorkers } from '../mail/worker.js';
import { scanDropFolder, type Delivery } from './deliveries.js';
import { countFr } from '../lib/french.js';

/** Session-level advisory lock key of a drop pass (the migrator holds 745201, an import 745202). */
export const DROP_LOCK = 745203;
/** An incomplete delivery unchanged this long is reported by mail even when nothing else happened. */
const STUCK_MS = 24 * 3600_000;

export interface DropRunOptions {
  /** The drop folder (default: config.drop.dir). */
  dir?: string;
  /** Clock of the pass: completeness (quiet period) and the archive date. */
  now?: Date;
  log?: (message: string) => void;
}

export interface DeliveryOutcome {
  name: string;
  kind: Delivery['kind'];
  /** archived: imported; rejected: refused whole (nothing written); error: left in place (unexpected failure). */
  outcome: 'archived' | 'rejected' | 'error';
  /** Where it went, relative to the drop folder (`archive/2026-11-30/aaf-nuit`); null when left in place. */
  movedTo: string | null;
  /** Why complete (marker or quiet period). */
  complete: string;
  report: ImportReport | null;
  /** Refusal or failure reason when there is no report to say it. */
  error: string | null;
}

export interface DropRunResult {
  /** busy: another pass holds the lock; nothing was looked at. */
  status: 'done' | 'busy';
  date: string;
  deliveries: DeliveryOutcome[];
  /** Deliveries left for a later pass, with the reason. */
  waiting: Array<{ name: string; reason: string }>;
  /** Mails queued (one per super admin with an address). */
  mailed: number;
}

/** YYYY-MM-DD of `d` in the time zone. */
export function localDate(d: Date, timeZone: string): string {
  return new Intl.DateTimeFormat('en-CA', { timeZone }).format(d);
}

/** `name`, or `name-2`, `name-3`… so that neither it nor its reports exist in `dir`. */
function freeName(dir: string, name: string): string {
  for (let i = 1; ; i++) {
    const n = i === 1 ? name : `${name}-${i}`;
    if (![n, `${n}.rapport.txt`, `${n}.rapport.json`].some((f) => existsSync(join(dir, f)))) return n;
  }
}

/**
 * Moves a delivery to `<drop>/<where>/<date>/<name>` and writes `<name>.rapport.txt` and `<name>.rapport.json`
 * beside it (`name` made unique for the day). Loose files go into a folder `fichiers`; markers travel along.
 */
async function file(drop: string, d: Delivery, o: DeliveryOutcome, date: string): Promise<void> {
  const where = o.outcome === 'archived' ? 'archive' : 'rejected';
  const dest = join(drop, where, date);
  await mkdir(dest, { recursive: true });
  const name = freeName(dest, d.name);
  o.movedTo = relative(drop, join(dest, name));
  if (d.kind === 'files') {
    await mkdir(join(dest, name));
    for (const p of d.paths) await rename(p, join(dest, name, basename(p)));
  } else {
    await rename(d.paths[0], join(dest, name));
    for (const p of d.paths.slice(1)) await rename(p, join(dest, freeName(dest, basename(p))));
  }
  const json = { delivery: d.name, kind: d.kind, outcome: o.outcome, complete: o.complete, movedTo: o.movedTo, error: o.error, report: o.report };
  await writeFile(join(dest, `${name}.rapport.txt`), `${deliveryText(o)}\n`);
  await writeFile(join(dest, `${name}.rapport.json`), `${JSON.stringify(json, null, 2)}\n`);
}

/** The text report of one delivery: what it was, where it went, then the import report. */
export function deliveryText(o: DeliveryOutcome): string {
  const head = [
    `Livraison : ${o.name} (${o.kind === 'folder' ? 'dossier' : o.kind === 'zip' ? 'archive zip' : 'fichiers isolés'}, ${o.complete})`,
    o.outcome === 'error' ? 'Erreur : laissée en place pour le prochain passage'
      : `${o.outcome === 'archived' ? 'Importée' : 'Refusée'}, ${o.movedTo ? `rangée dans ${o.movedTo}` : 'laissée en place'}`,
    ...(o.report && o.error && !o.movedTo ? [`Motif : ${o.error}`] : []),
  ];
  return [...head, '', o.report ? formatReport(o.report, 'fr') : `Motif : ${o.error}`].join('\n');
}

/** Subject and body of the mail to the super admins. */
export function dropMail(r: DropRunResult, dir: string): { subject: string; text: string } {
  const n = (k: DeliveryOutcome['outcome']) => r.deliveries.filter((d) => d.outcome === k).length;
  const parts = [
    n('archived') && countFr(n('archived'), 'importée', 'importées'),
    n('rejected') && countFr(n('rejected'), 'refusée', 'refusées'),
    n('error') && `${n('error')} en erreur`,
    r.waiting.length && `${r.waiting.length} en attente`,
  ].filter(Boolean);
  // Remarks on rows imported all the same are in the reports below, not worth « À vérifier » (report.ts needsFixing).
  const problem = n('rejected') + n('error') > 0 || r.deliveries.some((d) => !!d.report && needsFixing(d.report));
  const subject = `[Trousseau] ${problem ? 'À vérifier — ' : ''}dépôt du ${r.date} : ${parts.join(', ') || 'rien à importer'}`;
  const body = [
    `Passage du dossier de dépôt ${dir} (${r.date}).`,
    '',
    ...r.deliveries.flatMap((d) => [deliveryText(d), '', '—'.repeat(40), '']),
    ...(r.waiting.length ? ['Livraisons incomplètes, laissées pour le prochain passage :', ...r.waiting.map((w) => `  ${w.name} — ${w.reason}`), ''] : []),
    'Les rapports complets (texte et JSON) sont rangés à côté des fichiers.',
  ];
  return { subject, text: body.join('\n') };
}

async function importDelivery(ctx: AppContext, drop: string, d: Delivery, date: string): Promise<DeliveryOutcome> {
  const base: Omit<DeliveryOutcome, 'outcome'> = { name: d.name, kind: d.kind, movedTo: null, complete: d.reason, report: null, error: null };
  let o: DeliveryOutcome;
  if (!d.inputs.length) o = { ...base, outcome: 'rejected', error: 'livraison vide : aucun fichier à importer' };
  else {
    try {
      // A delivery is the académie's (or the school's) whole picture: complete-feed semantics, every structure.
      const report = await importFiles(ctx, d.inputs, { dryRun: false, actorId: null, scope: { kind: 'all' } });
      o = { ...base, outcome: report.fatal ? 'rejected' : 'archived', report, error: report.fatal ? formatRejection(report.fatal) : null };
    } catch (e) {
      // Not a refusal of the files (database down, a bug): keep them for the next pass rather than hide them.
      return { ...base, outcome: 'error', error: (e as Error).message };
    }
  }
  try {
    await file(drop, d, o, date);
  } catch (e) {
    // Imported (or refused) but not filed away (permissions, disk full): the next pass sees it again, and
    // re-importing the same files changes nothing.
    o.movedTo = null;
    o.error = `${o.error ? `${o.error} ; ` : ''}impossible de la ranger (${(e as Error).message}), laissée en place`;
  }
  return o;
}

/** Queues the summary to every active super admin with an e-mail address; returns how many. */
async function mailSuperAdmins(ctx: AppContext, r: DropRunResult, dir: string): Promise<number> {
  const { rows } = await ctx.database.pool.query<{ id: string; email: string }>(
    `SELECT id, email FROM users WHERE is_super_admin AND NOT blocked AND pre_deleted_at IS NULL AND coalesce(email, '') <> '' ORDER BY login`,
  );
  if (!rows.length) return 0;
  const { subject, text } = dropMail(r, dir);
  // Sealed at rest: a report names people (rejected rows).
  await enqueueMails(ctx.database.pool, rows.map((u) => ({ userId: u.id, kind: 'drop-report', recipient: u.email, subject, text })), { seal: ctx.secrets });
  wakeMailWorkers();
  return rows.length;
}

/**
 * One pass over the drop folder (see the top of this file). Resolves with what was done; `status: 'busy'` when
 * another pass (here or on another instance) holds the lock. Throws only when the folder cannot be read.
 */
export async function runDropFolder(ctx: AppContext, opts: DropRunOptions = {}): Promise<DropRunResult> {
  const dir = opts.dir ?? ctx.config.drop.dir;
  if (!dir) throw new Error('Aucun dossier de dépôt configuré (TROUSSEAU_DROP_DIR).');
  const now = opts.now ?? new Date();
  const log = opts.log ?? (() => {});
  const date = localDate(now, ctx.config.drop.timezone);
  const result: DropRunResult = { status: 'done', date, deliveries: [], waiting: [], mailed: 0 };
  const lock = await ctx.database.pool.connect();
  try {
    const { rows } = await lock.query<{ ok: boolean }>('SELECT pg_try_advisory_lock($1) AS ok', [DROP_LOCK]);
    if (!rows[0].ok) {
      log('Dépôt : un autre passage est en cours, rien à faire.');
      return { ...result, status: 'busy' };
    }
    try {
      const scan = scanDropFolder(dir, { now: now.getTime(), quietMs: ctx.config.drop.quietMinutes * 60_000 });
      const found = scan.deliveries;
      // Never followed (deliveries.ts): said as the links inside a delivery are, so that a delivery made as a link is not lost silently.
      if (scan.links.length) log(`Dépôt : ${countFr(scan.links.length, 'lien symbolique non suivi', 'liens symboliques non suivis')} à la racine du dossier, ${scan.links.length === 1 ? 'non importé' : 'non importés'} : ${scan.links.map(printable).join(', ')}`);
      for (const d of found) {
        if (!d.complete) {
          result.waiting.push({ name: d.name, reason: d.reason });
          continue;
        }
        // Never followed (deliveries.ts walk): said, so that a file delivered as a link is not lost silently.
        if (d.links.length) log(`Dépôt : ${d.name} — ${countFr(d.links.length, 'lien symbolique non suivi', 'liens symboliques non suivis')}, non importés : ${d.links.map(printable).join(', ')}`);
        const o = await importDelivery(ctx, dir, d, date);
        result.deliveries.push(o);
        log(`Dépôt : ${d.name} — ${o.outcome === 'archived' ? 'importée' : o.outcome === 'rejected' ? 'refusée' : 'erreur'}${o.error ? ` (${o.error})` : ''}`);
        // Feeds build on each other: after an unexpected failure, later deliveries wait for the next pass.
        if (o.outcome === 'error') {
          for (const rest of found.slice(found.indexOf(d) + 1)) result.waiting.push({ name: rest.name, reason: 'après une livraison en erreur' });
          break;
        }
      }
      // Waiting alone is normal (a transfer under way) and would mail at every pass of a frequent schedule; a
      // delivery stuck for a day is not.
      const stuck = found.some((d) => !d.complete && now.getTime() - d.changedAt >= STUCK_MS);
      if (result.deliveries.length || stuck) result.mailed = await mailSuperAdmins(ctx, result, dir);
      if (result.deliveries.length) {
        await recordAudit(ctx.database.pool, null, 'drop.run', {
          dir,
          deliveries: result.deliveries.map((d) => ({ name: d.name, outcome: d.outcome, movedTo: d.movedTo, created: d.report?.created ?? 0, preDeleted: d.report?.preDeleted ?? 0 })),
          waiting: result.waiting.map((w) => w.name),
          mailed: result.mailed,
        });
      }
      return result;
    } finally {
      await lock.query('SELECT pg_advisory_unlock($1)', [DROP_LOCK]);
    }
  } finally {
    lock.release();
  }
}
