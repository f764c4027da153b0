// Worker thread: the content streams of batches of pages (qr-pool.ts), QR codes encoded and everything
// deflated, while the main thread lays out the next batch.
import { setPriority } from 'node:os';
import { parentPort } from 'node:worker_threads';
import { pageStream, type PageContent } from './qr.js';

// Below the main thread's priority (Linux: a thread's nice value is its own, so pid 0 names this thread only): on two
// cores, a région's PDF keeps this thread, the main one and PostgreSQL busy, and the scheduler then gave the main
// thread's turns to this one — other requests waited (issue #11: their p99 during the export). The main thread waits
// for this one's pages anyway, so the export loses nothing when it yields. Elsewhere (macOS, BSD) pid 0 is the whole
// process: left as it is, as when refused.
if (process.platform === 'linux') {
  try {
    setPriority(10);
  } catch {}
}

parentPort!.on('message', (m: { id: number; pages: PageContent[] }) => {
  try {
    parentPort!.postMessage({ id: m.id, buffers: m.pages.map(pageStream) });
  } catch (e) {
    parentPort!.postMessage({ id: m.id, error: (e as Error).message });
  }
});
