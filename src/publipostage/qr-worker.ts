// Worker thread: the content streams of batches of pages (qr-pool.ts), QR codes encoded and everything
// deflated, while the main thread lays out the next batch.
import { parentPort } from 'node:worker_threads';
import { pageStream, type PageContent } from './qr.js';

parentPort!.on('message', (m: { id: number; pages: PageContent[] }) => {
  try {
    parentPort!.postMessage({ id: m.id, buffers: m.pages.map(pageStream) });
  } catch (e) {
    parentPort!.postMessage({ id: m.id, error: (e as Error).message });
  }
});
