// A `.zip` delivery (what académies and SIECLE/STS-web exports hand out) unpacked with yauzl, so that its files are
// imported as one run. An import unpacks it into a private directory of the run (`into`), each member to a numbered
// file read as any file on disk: a région's AAF delivery (2 GB of XML for 1.5 million accounts) never sits in memory
// (issue #11). Entry names never become paths (the files are numbered); names with `..`, absolute or backslashed paths
// are refused anyway (yauzl), and sizes are capped before and while inflating (a zip bomb, or a header that lies
// about its size, fails the run instead of filling the disk or memory). Small archives (.docx) unpack in memory.
import { printable, shownName } from '../lib/printable.js';
import { mkdtemp, open } from 'node:fs/promises';
import type { Readable } from 'node:stream';
import { basename, dirname, join } from 'node:path';
import iconv from 'iconv-lite';
import yauzl from 'yauzl';
import type { Scope } from '../directory/scope.js';
import type { ImportCode, ImportMessage } from './messages.js';
import { ImportFileError } from './types.js';
import { UPLOAD_MAX_FILES } from './uploads.js';

export interface ZipLimits {
  /** Files in one archive. */
  entries: number;
  /** Files of all the run's archives together (a school's: no more than an upload may carry); none: `entries` alone. */
  runFiles?: number;
  /** Bytes of one unpacked file. */
  entryBytes: number;
  /** Bytes of all unpacked files together. */
  totalBytes: number;
}

/** Unpacked to disk: a whole région's AAF delivery (about 2 GB of XML for 1.5 million accounts, in files of a few hundred MB at most). */
export const ZIP_LIMITS: ZipLimits = { entries: 2000, entryBytes: 2 * 2 ** 30, totalBytes: 8 * 2 ** 30 };

/**
 * The limits of a run by `scope`. A région's delivery (super admin, all-schools token, drop folder, command line): ZIP_LIMITS.
 * One school's files (a local admin, a school's token: CSV files of a few megabytes) unpack to no more than an upload may
 * carry (`uploadBytes`, TROUSSEAU_IMPORT_MAX_MB): within ZIP_LIMITS, a few megabytes of zeros sent by one school's
 * administrator wrote gigabytes beside the database (the data directory) while holding every other import (the
 * import lock is taken before unpacking).
 */
export function zipLimitsFor(scope: Scope, uploadBytes: number): ZipLimits {
  if (scope.kind === 'all') return ZIP_LIMITS;
  const bytes = Math.min(uploadBytes, ZIP_LIMITS.totalBytes);
  // Files too (UPLOAD_MAX_FILES): 200 archives of 2,000 empty members each wrote 400,000 files within the bytes.
  return { ...ZIP_LIMITS, runFiles: UPLOAD_MAX_FILES, entryBytes: Math.min(bytes, ZIP_LIMITS.entryBytes), totalBytes: bytes };
}

export interface ZipMember {
  /** `archive.zip/dossier/fichier.xml`: how the report names it. */
  name: string;
  /** The folder the file sits in (inside the archive, else the archive's own name), as for a folder on disk. */
  folder: string;
  /** The member's bytes (unpacked in memory), or the file they were unpacked to (`into`). */
  data?: Buffer;
  path?: string;
}

const mib = (n: number) => `${Math.round(n / 2 ** 20)} Mio`;

/** What an unreadable archive's error says: the zip reader's words; a file system error (disk full…) by its code only, never the server's paths. */
const zipDetail = (e: unknown): string => {
  const err = e as NodeJS.ErrnoException;
  return err.syscall ? `${err.code ?? 'erreur'} (${err.syscall})` : err.message;
};

/**
 * A member's name as its author typed it. Zip names without the UTF-8 flag are CP437 by the spec, but Linux and
 * macOS tools write UTF-8 without the flag, and French Windows writes its OEM code page (CP850): a name that is
 * valid UTF-8 is read as such, any other unflagged name as CP850 (the same letters as CP437 where French uses
 * them, plus À, Â, Ê, Î, Ô…). Folder names name schools (`Name@externalId_UAI`): they must arrive intact.
 */
function memberName(entry: yauzl.Entry): string {
  // A NUL failed the run's audit row (jsonb) with a 500 and stuck the drop folder on the delivery.
  return printable(decodedName(entry));
}

function decodedName(entry: yauzl.Entry): string {
  if (entry.generalPurposeBitFlag & 0x800) return entry.fileName;
  const raw = entry.fileNameRaw;
  if (raw.every((b) => b < 0x80)) return entry.fileName;
  const utf8 = new TextDecoder('utf-8', { fatal: true });
  try {
    return utf8.decode(raw);
  } catch {
    return iconv.decode(raw, 'cp850');
  }
}

/**
 * Unpacks every file of the archive (directories skipped), sorted by name. What an operating system or a drop folder
 * leaves among the files (`__MACOSX/._x.xml`, `.DS_Store`, `Thumbs.db`, `livraison.done`) is a member like any other:
 * the run lists it as left out by its name (formats.ts NOT_DELIVERED), as beside the files, and never reads it.
 * Throws ImportFileError naming the archive (and the member) when it is unreadable, encrypted, or too big.
 * `into`: an existing private directory (the caller removes it) where the archive gets a directory of its own and
 * member n is written there as file `n`; the members then have `path`, else `data`. `used`: the bytes the run's
 * earlier archives unpacked, counted against `limits.totalBytes` with this one's (the cap is the run's, not each
 * archive's), and increased by them; `used.files` likewise against `limits.runFiles`.
 */
export async function unzip(
  file: string,
  source: { path?: string; data?: Buffer },
  limits: ZipLimits = ZIP_LIMITS,
  into?: string,
  used: { bytes: number; files?: number } = { bytes: 0 },
): Promise<ZipMember[]> {
  const fail = (code: ImportCode, params?: ImportMessage['params']): never => {
    throw new ImportFileError(file, 0, '', code, params);
  };
  let zip: yauzl.ZipFile;
  try {
    const opts = { lazyEntries: true, autoClose: false, validateEntrySizes: true, strictFileNames: true };
    zip = source.data ? await yauzl.fromBufferPromise(source.data, opts) : await yauzl.openPromise(source.path!, opts);
  } catch (e) {
    return fail('zipUnreadable', { detail: zipDetail(e) });
  }
  const archive = basename(file).replace(/\.zip$/i, '');
  const out: ZipMember[] = [];
  let total = used.bytes;
  // Its own directory: two archives of a run both have a member 1.
  const dir = into ? await mkdtemp(join(into, 'a')) : undefined;
  try {
    const entries: yauzl.Entry[] = await new Promise((resolve, reject) => {
      const list: yauzl.Entry[] = [];
      zip.on('entry', (entry: yauzl.Entry) => {
        list.push(entry);
        if (list.length > limits.entries) return reject(new ImportFileError(file, 0, '', 'zipTooManyFiles', { max: limits.entries }));
        zip.readEntry();
      });
      zip.on('end', () => resolve(list));
      zip.on('error', reject);
      zip.readEntry();
    });
    const named = entries.map((entry) => ({ entry, fileName: memberName(entry) }));
    // The run's archives together, before any is written (limits.runFiles).
    const files = named.filter((x) => !x.fileName.endsWith('/')).length;
    if (limits.runFiles !== undefined && (used.files ?? 0) + files > limits.runFiles) fail('zipTooManyFiles', { max: limits.runFiles });
    used.files = (used.files ?? 0) + files;
    for (const { entry, fileName } of named.sort((a, b) => (a.fileName < b.fileName ? -1 : a.fileName > b.fileName ? 1 : 0))) {
      if (fileName.endsWith('/')) continue;
      // Shown capped (a member may be named with 65,535 bytes): kept whole to be read, unpacked and filed.
      const member = shownName(fileName);
      const invalid = yauzl.validateFileName(fileName);
      if (invalid) fail('zipBadName', { member, detail: invalid });
      if (entry.isEncrypted()) fail('zipEncrypted', { member });
      // Declared sizes first (cheap), then the real count while inflating: headers can lie.
      if (entry.uncompressedSize > limits.entryBytes) fail('zipMemberTooBig', { member, size: mib(entry.uncompressedSize), max: mib(limits.entryBytes) });
      if (total + entry.uncompressedSize > limits.totalBytes) fail('zipTooBig', { max: mib(limits.totalBytes) });
      const chunks: Buffer[] = [];
      let size = 0;
      const path = dir ? join(dir, String(out.length + 1)) : undefined;
      // The file first: the stream must be read from as soon as it is open (its size check errors as it flows).
      const sink = path ? await open(path, 'wx', 0o600) : undefined;
      let stream: Readable | undefined;
      try {
        stream = await zip.openReadStreamPromise(entry);
        for await (const chunk of stream as AsyncIterable<Buffer>) {
          size += chunk.length;
          if (size > limits.entryBytes || total + size > limits.totalBytes) fail('zipMemberOverflow', { member, max: mib(Math.min(limits.entryBytes, limits.totalBytes)) });
          if (sink) await sink.write(chunk);
          else chunks.push(chunk);
        }
      } finally {
        stream?.destroy();
        await sink?.close();
      }
      total += size;
      used.bytes = total;
      const folder = dirname(fileName);
      const where = path ? { path } : { data: Buffer.concat(chunks) };
      out.push({ name: shownName(`${basename(file)}/${fileName}`), folder: folder === '.' ? archive : basename(folder), ...where });
    }
  } catch (e) {
    if (e instanceof ImportFileError) throw e;
    return fail('zipUnreadable', { detail: zipDetail(e) });
  } finally {
    zip.close();
  }
  return out;
}
