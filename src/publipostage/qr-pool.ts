// Page content streams (QR codes encoded, everything deflated) made on a second core: one long-lived worker thread, shared by every PDF being
// generated, started on first use. Anything going wrong with it (cannot start, crashes) falls back to
// computing in the calling thread: same function, same output, only slower.
import type { Worker } from 'node:worker_threads';
import { siblingModule, spawnModuleWorker } from '../lib/module-worker.js';
import { pageStream, type PageContent } from './qr.js';

/** Below this many sheets (in a batch) a worker round trip is not worth it. */
export const MIN_SHEETS_FOR_WORKER = 48;

let worker: Worker | null | undefined; // undefined: not tried yet; null: unavailable
let nextId = 0;
const pending = new Map<number, { pages: PageContent[]; ok: (b: Uint8Array[]) => void }>();

function spawn(): Worker {
  return spawnModuleWorker(siblingModule(import.meta.url, 'qr-worker'));
}

function inline(pages: PageContent[]): Uint8Array[] {
  return pages.map(pageStream);
}

function giveUp(): void {
  const w = worker;
  worker = null;
  void w?.terminate().catch(() => {});
  for (const [id, p] of pending) {
    pending.delete(id);
    p.ok(inline(p.pages));
  }
}

function getWorker(): Worker | null {
  if (worker !== undefined) return worker;
  try {
    const w = spawn();
    w.on('message', (m: { id: number; buffers?: Uint8Array[]; error?: string }) => {
      const p = pending.get(m.id);
      if (!p) return;
      pending.delete(m.id);
      p.ok(m.buffers ?? inline(p.pages));
      if (!pending.size) w.unref();
    });
    w.on('error', (e) => {
      if (process.env.TROUSSEAU_DEBUG_QR) console.error('qr worker', e);
      giveUp();
    });
    w.on('exit', () => {
      if (worker === w) giveUp();
    });
    w.unref();
    worker = w;
  } catch {
    worker = null;
  }
  return worker;
}

/**
 * The content stream of each page (deflated), made off the calling thread when `offload` (the batch has at
 * least MIN_SHEETS_FOR_WORKER sheets: below that, a round trip to the worker costs more).
 */
export function pageStreams(pages: PageContent[], offload: boolean): Promise<Uint8Array[]> {
  const w = offload ? getWorker() : null;
  if (!w) return Promise.resolve(inline(pages));
  return new Promise((ok) => {
    const id = ++nextId;
    pending.set(id, { pages, ok });
    // Keep the process alive while an answer is due (a CLI awaiting only this would otherwise exit).
    w.ref();
    w.postMessage({ id, pages });
  });
}

/** Whether the worker is up (true), failed (false) or was never needed (undefined). For tests and diagnostics. */
export function qrWorkerState(): boolean | undefined {
  return worker === undefined ? undefined : worker !== null;
}
