// Worker thread: one school's Word letters (docx.ts renderDocxLetters), made here because docxtemplater's render,
// the QR images and the archive are synchronous work of seconds that the server's event loop must not carry.
import { parentPort } from 'node:worker_threads';
import type { AppContext } from '../context.js';
import { DomainError } from '../lib/errors.js';
import { renderDocxLettersHere, type DocxAnswer, type DocxJob } from './docx.js';

parentPort!.once('message', async (job: DocxJob) => {
  let answer: DocxAnswer;
  try {
    const ctx = { config: { publicUrl: job.publicUrl } } as Pick<AppContext, 'config'>;
    const docx = await renderDocxLettersHere(ctx, Buffer.from(job.content.buffer, job.content.byteOffset, job.content.byteLength), job.name, job.rows, job.addresses);
    answer = { docx };
  } catch (e) {
    answer = e instanceof DomainError ? { domain: { code: e.messageCode, params: e.params } } : { message: (e as Error).message };
  }
  parentPort!.postMessage(answer);
});
