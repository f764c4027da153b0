// Worker thread: encodes the QR codes of batches of pages (qr-pool.ts) while the main thread lays out text.
import { parentPort } from 'node:worker_threads';
import { qrPageStream, type QrPlacement } from './qr.js';

parentPort!.on('message', (m: { id: number; pages: QrPlacement[][] }) => {
  try {
    parentPort!.postMessage({ id: m.id, buffers: m.pages.map(qrPageStream) });
  } catch (e) {
    parentPort!.postMessage({ id: m.id, error: (e as Error).message });
  }
});
