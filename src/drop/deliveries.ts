// What is waiting in the drop folder, and which of it is complete. Reads the folder; moves nothing.
//
// A delivery is one top-level entry of the drop folder:
//  - a sub-folder (every file under it, e.g. the AAF XML files of one night, or one folder per school of CSV);
//  - a `.zip` file (unpacked by the import);
//  - the loose files lying at the top level, all together.
// It is complete when its sender says so with a marker, or when nothing in it changed for the quiet period:
//  - markers: a file named `.done` or `.ok` (any name ending in `.done`/`.ok`) inside the sub-folder; beside a
//    sub-folder or zip `X`: `X.done`, `X.ok` (for `X.zip` also `X.zip.done`…); for loose files: `.done`/`.ok` at the top;
//  - quiet period: the newest modification inside is at least `quietMs` old (0 disables it: markers only).
// A file still being transferred (`*.part`, `*.filepart`, `*.tmp`, `*.crdownload`: what SFTP/WinSCP/lftp clients
// write before renaming) keeps its delivery incomplete whatever the markers say.
import { lstatSync, readdirSync, type Stats } from 'node:fs';
import { basename, extname, join } from 'node:path';
import type { ImportInput } from '../import/index.js';
import { printable } from '../lib/printable.js';

/** Top-level folders the run writes into; never deliveries. */
export const RESERVED = new Set(['archive', 'rejected']);

const MARKER_RE = /(^|\.)(done|ok)$/i;
const IN_TRANSFER_RE = /\.(part|filepart|tmp|crdownload)$/i;

export type DeliveryKind = 'folder' | 'zip' | 'files';

export interface Delivery {
  /** Entry name in the drop folder (`aaf-2026-11-29`, `ent.zip`), or `fichiers` for the loose files. */
  name: string;
  kind: DeliveryKind;
  /** What the run moves to archive/ or rejected/: the entry itself (or each loose file) and its markers. */
  paths: string[];
  /** The files handed to importFiles (markers and hidden files left out), sorted. */
  inputs: ImportInput[];
  complete: boolean;
  /** How completeness was established, or why the delivery waits (French, for the report). */
  reason: string;
  /** Newest modification inside (ms since epoch). */
  changedAt: number;
  /** Symbolic links found inside, not followed (paths): never imported, said in the run's log. */
  links: string[];
}

export const isMarker = (name: string): boolean => MARKER_RE.test(name);
const hidden = (name: string): boolean => name.startsWith('.');

interface Walked {
  files: string[];
  changedAt: number;
  markers: string[];
  inTransfer: string[];
  links: string[];
}

/**
 * Every file under `path` (or `path` itself), with the newest mtime of files and folders. Symbolic links are listed,
 * never followed: whoever can write into the drop folder must not make the import read a file of the server
 * (`ln -s /etc/… livraison/`), whose report would quote it.
 */
function walk(path: string, st: Stats = lstatSync(path)): Walked {
  const out: Walked = { files: [], changedAt: st.mtimeMs, markers: [], inTransfer: [], links: [] };
  const visit = (p: string, s: Stats) => {
    out.changedAt = Math.max(out.changedAt, s.mtimeMs);
    const name = basename(p);
    if (s.isSymbolicLink()) out.links.push(p);
    else if (s.isDirectory()) {
      // Hidden folders (.git, .Trash…) are not part of what was delivered.
      if (p !== path && hidden(name)) return;
      for (const n of readdirSync(p).sort()) {
        const child = join(p, n);
        visit(child, lstatSync(child));
      }
    } else if (IN_TRANSFER_RE.test(name)) out.inTransfer.push(name);
    else if (isMarker(name)) out.markers.push(name);
    else if (!hidden(name)) out.files.push(p);
  };
  visit(path, st);
  return out;
}

function decide(walked: Walked, markers: string[], now: number, quietMs: number): { complete: boolean; reason: string } {
  if (walked.inTransfer.length) return { complete: false, reason: `transfert en cours (${walked.inTransfer.join(', ')})` };
  if (markers.length) return { complete: true, reason: `marqueur ${markers.join(', ')}` };
  const quietFor = now - walked.changedAt;
  if (quietMs > 0 && quietFor >= quietMs) return { complete: true, reason: `inchangée depuis ${Math.floor(quietFor / 60_000)} min` };
  return {
    complete: false,
    reason: quietMs > 0
      ? `ni marqueur .done/.ok, ni ${Math.round(quietMs / 60_000)} min sans modification (dernière il y a ${Math.floor(quietFor / 60_000)} min)`
      : 'pas de marqueur .done/.ok',
  };
}

/** What the drop folder holds: its deliveries, and the symbolic links at its top level (never followed, no delivery). */
export interface DropScan {
  deliveries: Delivery[];
  /** Paths of the links at the top level, said in the run's log as those inside a delivery are. */
  links: string[];
}

/**
 * The deliveries of the drop folder `dir`, oldest first (by newest modification, then name). `now` and `quietMs`
 * (ms) decide completeness as described at the top of this file. A missing folder is an error (config mistake).
 */
export function scanDropFolder(dir: string, opts: { now: number; quietMs: number }): DropScan {
  const names = readdirSync(dir).sort();
  const taken = new Set<string>();
  const out: Delivery[] = [];
  const links: string[] = [];
  const siblings = (entry: string): string[] => {
    const stem = entry.slice(0, entry.length - extname(entry).length);
    const found = names.filter((n) => n !== entry && isMarker(n) && [entry, stem].some((s) => s && n.toLowerCase().startsWith(`${s.toLowerCase()}.`) && isMarker(n.slice(s.length))));
    for (const n of found) taken.add(n);
    return found;
  };
  // Sub-folders and zips first, so their sibling markers are not taken for loose files.
  for (const name of names) {
    if (RESERVED.has(name) || hidden(name)) continue;
    const path = join(dir, name);
    const st = lstatSync(path);
    // A symbolic link at the top is no delivery (never followed, see walk): listed for the log.
    if (st.isSymbolicLink()) {
      links.push(path);
      continue;
    }
    const kind: DeliveryKind | null = st.isDirectory() ? 'folder' : extname(name).toLowerCase() === '.zip' ? 'zip' : null;
    if (!kind) continue;
    taken.add(name);
    const walked = walk(path, st);
    const beside = siblings(name);
    for (const m of beside) walked.changedAt = Math.max(walked.changedAt, lstatSync(join(dir, m)).mtimeMs);
    const { complete, reason } = decide(walked, [...walked.markers, ...beside], opts.now, opts.quietMs);
    out.push({
      name: printable(name),
      kind,
      paths: [path, ...beside.map((m) => join(dir, m))],
      inputs: kind === 'zip' ? [{ name: printable(name), path }] : walked.files.map((p) => ({ name: printable(basename(p)), path: p })),
      complete,
      reason,
      changedAt: walked.changedAt,
      links: walked.links,
    });
  }
  const loose = names.filter((n) => !taken.has(n) && !RESERVED.has(n) && lstatSync(join(dir, n)).isFile());
  const looseFiles = loose.filter((n) => !isMarker(n) && !hidden(n));
  if (looseFiles.length || loose.some((n) => IN_TRANSFER_RE.test(n))) {
    const walked: Walked = { files: [], changedAt: 0, markers: [], inTransfer: [], links: [] };
    for (const n of loose) {
      const w = walk(join(dir, n));
      walked.changedAt = Math.max(walked.changedAt, w.changedAt);
      walked.files.push(...w.files);
      walked.markers.push(...w.markers);
      walked.inTransfer.push(...w.inTransfer);
    }
    const { complete, reason } = decide(walked, walked.markers, opts.now, opts.quietMs);
    out.push({
      name: 'fichiers',
      kind: 'files',
      paths: loose.filter((n) => !hidden(n) || isMarker(n)).map((n) => join(dir, n)),
      inputs: walked.files.map((p) => ({ name: printable(basename(p)), path: p })),
      complete,
      reason,
      changedAt: walked.changedAt,
      links: walked.links,
    });
  }
  return { deliveries: out.sort((a, b) => a.changedAt - b.changedAt || a.name.localeCompare(b.name)), links };
}
