// Uploaded import files live on disk, never in memory: each request streams its files into a fresh folder
// <dataDir>/imports/<token>/ (0700, files 0600), with a cap on the total bytes of the request; the importer
// then reads them from there (AAF streamed, CSV one file at a time). The console keeps a dry run's folder
// until the admin confirms (manifest.json); folders older than UPLOAD_TTL_MS are swept by the hourly
// housekeeping (src/accounts/housekeeping.ts), so abandoned dry runs do not pile up.
import { randomBytes } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { mkdir, readdir, rm, stat } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { FastifyRequest } from 'fastify';
import { NOT_DELIVERED } from './formats.js';
import type { ImportInput } from './index.js';

/** How long an upload waits for its confirmation before the sweep removes it. */
export const UPLOAD_TTL_MS = 60 * 60_000;
/** Files per request (an AAF delivery is about 50). */
export const UPLOAD_MAX_FILES = 200;

/** The request carried more than the allowed bytes (HTTP 413); what was received is already deleted. */
export class UploadTooLargeError extends Error {
  readonly statusCode = 413;
  constructor(readonly maxBytes: number) {
    super(`Envoi trop volumineux : ${Math.floor(maxBytes / (1024 * 1024))} Mo au plus par import.`);
    this.name = 'UploadTooLargeError';
  }
}

/** The request carried empty files (named): HTTP 400, nothing kept, as the command line refuses an empty file. */
export class UploadEmptyError extends Error {
  readonly statusCode = 400;
  constructor(readonly files: string[]) {
    super(`Fichier vide, rien n’a été importé : ${files.join(', ')}.`);
    this.name = 'UploadEmptyError';
  }
}

/** The multipart body could not be read (cut short, no boundary, malformed part): HTTP 400, nothing kept. */
export class UploadMalformedError extends Error {
  readonly statusCode = 400;
  constructor(readonly detail: string) {
    super(`Envoi illisible (${detail}) : renvoyez les fichiers.`);
    this.name = 'UploadMalformedError';
  }
}

export interface ReceivedUpload {
  token: string;
  dir: string;
  /** Named as the user knows them, each on disk as `<i>.bin` in `dir` (a part without a file name is skipped). */
  files: Array<ImportInput & { path: string; size: number }>;
  fields: Record<string, string>;
}

/** The folder uploads go to. */
export function uploadsRoot(dataDir: string): string {
  return join(dataDir, 'imports');
}

/**
 * Streams the multipart files of `req` to a new folder under `root`, refusing (UploadTooLargeError, folder
 * removed) as soon as the request's files together exceed `maxBytes`, a body that cannot be read
 * (UploadMalformedError) and, once read, one with empty files (UploadEmptyError). Other parts are returned as fields.
 */
export async function receiveUploads(req: FastifyRequest, root: string, maxBytes: number): Promise<ReceivedUpload> {
  const token = randomBytes(24).toString('base64url');
  const dir = join(root, token);
  await mkdir(dir, { recursive: true, mode: 0o700 });
  const files: ReceivedUpload['files'] = [];
  const empty: string[] = [];
  const fields: Record<string, string> = {};
  let total = 0;
  try {
    for await (const part of req.parts({ limits: { fileSize: maxBytes + 1, files: UPLOAD_MAX_FILES, fields: 20, fieldSize: 1024 } })) {
      if (part.type !== 'file') {
        if (typeof part.value === 'string') fields[part.fieldname] = part.value;
        continue;
      }
      const path = join(dir, `${files.length}.bin`);
      let size = 0;
      const count = new Transform({
        transform(chunk: Buffer, _enc, done) {
          size += chunk.length;
          total += chunk.length;
          done(total > maxBytes ? new UploadTooLargeError(maxBytes) : null, chunk);
        },
      });
      await pipeline(part.file, count, createWriteStream(path, { mode: 0o600 }));
      if (part.file.truncated) throw new UploadTooLargeError(maxBytes);
      const name = basename(part.filename || '').replace(/[\u0000-\u001f]/g, '').slice(0, 200);
      // An empty drop marker (.done) picked with the files is left out by the run (formats.ts), not an error.
      if (name && (size > 0 || NOT_DELIVERED.test(name))) files.push({ name, path, size });
      else {
        if (name) empty.push(name);
        await rm(path, { force: true });
      }
    }
  } catch (e) {
    await rm(dir, { recursive: true, force: true });
    const status = (e as { statusCode?: number }).statusCode;
    if (e instanceof UploadTooLargeError || status === 413) throw new UploadTooLargeError(maxBytes);
    // Anything else while reading the body is the client's (busboy/@fastify/multipart: unexpected end of form,
    // missing boundary, malformed part header…); an error of our own disk is not, and stays a 500.
    if ((e as NodeJS.ErrnoException).syscall === undefined) throw new UploadMalformedError((e as Error).message);
    throw e;
  }
  if (empty.length) {
    await rm(dir, { recursive: true, force: true });
    throw new UploadEmptyError(empty);
  }
  return { token, dir, files, fields };
}

/** Removes upload folders older than `ttlMs` under `root`; returns how many went. Never throws for a missing root. */
export async function sweepUploads(root: string, ttlMs = UPLOAD_TTL_MS, now = Date.now()): Promise<number> {
  let n = 0;
  for (const name of await readdir(root).catch(() => [] as string[])) {
    const s = await stat(join(root, name)).catch(() => null);
    if (s && now - s.mtimeMs > ttlMs) {
      await rm(join(root, name), { recursive: true, force: true });
      n++;
    }
  }
  return n;
}
