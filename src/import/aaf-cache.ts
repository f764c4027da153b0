// The AAF records a run has read before, as it staged them (issue #11: a région's feed imported again the next day
// is mostly the same records). The fast scanner hands each `<addRequest>` whole (xml-scan.ts XmlEvents.whole); one
// whose text was read and staged before is not parsed, mapped nor checked again: its staged row is copied from
// `aaf_record_cache` (stage.ts fillHits), and everything after (merges, settling, links, absence, the digests of
// apply.ts) runs on it as on a row just read. The cache is a pure function of its key — the record's text, the
// code that reads it and the one thing of its file it depends on. It is written by the run's transaction (a dry
// run or a failed one keeps nothing) and is only a cache: emptied, the next run reads every record again. It holds
// people's data: an erased account's entries go with it (accounts/lifecycle.ts), and entries naming nobody in the
// directory are dropped by the lifecycle run (pruneAafCache).
import crypto, { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type pg from 'pg';
import type { AafRecordCache, PersonKind } from './aaf.js';

type Client = Pick<pg.PoolClient, 'query'>;

/**
 * The code a cached row depends on: every module of src/import and src/directory (parsing, mapping, checks, name
 * folding, the staged form), src/db/copy.ts (how staged values are written into COPY), the installed libraries (package-lock.json: transliteration, decoding) and Node's
 * version (its Unicode tables: `\p{…}` in the checks), read when this module is loaded, as the code that runs is.
 * Any change to them gives other keys: rows cached by another version are never taken (and are replaced as their
 * people's records are read again).
 */
const CODE = code();
function code(): string {
  const h = createHash('sha256').update(`trousseau aaf-cache 1\n${process.version}\n`);
  const here = dirname(fileURLToPath(import.meta.url));
  const modules: [string, (name: string) => boolean][] = [
    [here, () => true],
    [join(here, '..', 'directory'), () => true],
    [join(here, '..', 'db'), (name) => name.startsWith('copy.')],
  ];
  for (const [dir, wanted] of modules) {
    for (const f of readdirSync(dir, { withFileTypes: true }).filter((x) => x.isFile() && wanted(x.name)).map((x) => x.name).sort()) {
      h.update(`${f}\n`);
      h.update(readFileSync(join(dir, f)));
    }
  }
  const lock = join(here, '..', '..', 'package-lock.json');
  if (existsSync(lock)) h.update(readFileSync(lock));
  return h.digest('hex');
}

/**
 * SHA-256 of `data` in hex, in one call: no hash object nor Buffer per record (a région's million records each
 * left native memory that only a major collection freed: +190 MB of peak RSS). `crypto.hash` is Node ≥ 20.12.
 */
const oneShot = (crypto as unknown as { hash?: (algorithm: string, data: string, encoding: 'hex') => string }).hash;
const sha256 = oneShot ? (data: string) => oneShot('sha256', data, 'hex') : (data: string) => createHash('sha256').update(data).digest('hex');

/**
 * What in a record's text may change what an earlier record of its file decided: a record listing one of the
 * 1D-only attributes makes its file 1D (aaf.ts ONE_D_ONLY, c.oneD). Such records are never cached, so a file's 1D
 * state only changes on records read in full. Looser than the reader (a value holding such a name also matches):
 * it only leaves records out.
 */
const ONE_D = `["'](?:ENTPerson(?:Nom|Prenom|Civilite|Mail|Classes|Groupes)|ENTEleveNiveau|ENTPersRelEleve(?:Eleve|TelMobile))["']`;

/**
 * What keeps a record's text out of the cache (digestOf), looked for in one pass from its second character: a
 * comment, CDATA or processing instruction (`<!`, `<?`), another addRequest, a 1D-only attribute (ONE_D).
 */
const UNCACHED = new RegExp(`<(?:[!?]|addRequest)|${ONE_D}`, 'g');

/** Bytes of a digest (SHA-256, truncated: 128 bits), given as hex (32 characters). */
const SIZE = 16;
/** Bytes of an entry of the sorted index: the digest, then the record's kind (KINDS). */
const ENTRY = SIZE + 1;
/** The AAF kind of a cached record, by its index in the entry's last byte (from its profile, KIND_SQL). */
const KINDS: PersonKind[] = ['Eleve', 'PersEducNat', 'PersRelEleve'];
const KIND_SQL = `CASE profile WHEN 'Student' THEN '\\x00'::bytea WHEN 'Relative' THEN '\\x02'::bytea ELSE '\\x01'::bytea END`;

/** The digests the cache holds when the run starts, sorted, with their kind (a région: 1.5 million, 26 MB). */
export class AafCache {
  /** Where the entries whose digest starts with each 16-bit prefix begin (the last: `size`), to search only those. */
  private readonly starts = new Uint32Array(65537);

  private constructor(
    private readonly sorted: Buffer,
    readonly size: number,
  ) {
    let e = 0;
    for (let p = 0; p < 65536; p++) {
      this.starts[p] = e;
      while (e < size && sorted.readUInt16BE(e * ENTRY) === p) e++;
    }
    this.starts[65536] = size;
  }

  /** Reads the cache's digests (inside the run's transaction, after its lock). */
  static async load(client: Client): Promise<AafCache> {
    const r = await client.query<{ all: Buffer | null }>(`SELECT string_agg(digest || ${KIND_SQL}, ''::bytea ORDER BY digest) AS all FROM aaf_record_cache WHERE length(digest) = ${SIZE}`);
    const all = r.rows[0].all ?? Buffer.alloc(0);
    return new AafCache(all, all.length / ENTRY);
  }

  /**
   * The digest `text` (a whole addRequest of a file whose earlier records made it 1D or not) is cached under; null
   * when it may not be cached: it holds a comment, CDATA, a processing instruction or another addRequest (the
   * scanner cut it at the first `</addRequest>`: only such text is one whole element, the one read), or a 1D-only
   * attribute (ONE_D).
   */
  digestOf(text: string, oneD: boolean): string | null {
    UNCACHED.lastIndex = 1;
    if (UNCACHED.test(text)) return null;
    return sha256(`${CODE}${oneD ? '1' : '2'}${text}`).slice(0, 2 * SIZE);
  }

  /** The kind of the record the cache held under `digest` when the run started, if it held one (binary search). */
  kindOf(hex: string): PersonKind | undefined {
    // From the Buffer pool: no memory of its own to free.
    const digest = Buffer.from(hex, 'hex');
    const prefix = digest.readUInt16BE(0);
    let lo = this.starts[prefix];
    let hi = this.starts[prefix + 1] - 1;
    while (lo <= hi) {
      const mid = (lo + hi) >>> 1;
      const c = digest.compare(this.sorted, mid * ENTRY, mid * ENTRY + SIZE);
      if (c === 0) return KINDS[this.sorted[mid * ENTRY + SIZE]];
      if (c < 0) hi = mid - 1;
      else lo = mid + 1;
    }
    return undefined;
  }

  /**
   * What readAaf asks for one file: `oneD` tells whether its earlier records made it 1D; `take` stages the record
   * of a digest the cache holds (stage.ts hit).
   */
  forFile(oneD: () => boolean, take: (digest: string, line: number, kind: PersonKind) => void): AafRecordCache {
    return {
      digestOf: (text) => this.digestOf(text, oneD()),
      hit: (digest, line) => {
        const kind = this.kindOf(digest);
        if (!kind) return false;
        take(digest, line, kind);
        return true;
      },
    };
  }

  /**
   * Keeps the rows the run staged as read (`import_stage.raw`, not given by the cache) and drops its people's other
   * entries (their records changed: those texts will not come again). Before anything changes staged rows (merges,
   * settling): the cache holds records as read and checked.
   */
  async store(client: Client): Promise<void> {
    await client.query(
      `INSERT INTO aaf_record_cache (digest, ext, source, profile, structures, legal, refs, rec, named)
       SELECT raw, ext, source, profile, structures, legal, refs, rec, named FROM import_stage WHERE raw IS NOT NULL AND NOT hit
       ON CONFLICT (digest) DO NOTHING`,
    );
    if (!this.size) return;
    await client.query(
      `DELETE FROM aaf_record_cache c USING (SELECT DISTINCT ext FROM import_stage WHERE raw IS NOT NULL AND NOT hit) n
       WHERE c.ext = n.ext AND NOT EXISTS (SELECT 1 FROM import_stage s WHERE s.ext = c.ext AND s.raw = c.digest)`,
    );
  }
}

/** The advisory lock an import run holds for its whole transaction (one run at a time: src/import/index.ts). */
export const IMPORT_LOCK = 745202;

/**
 * Drops cached records: those of `exts` (accounts being erased), else those of no account in the directory (read by
 * a run that did not import them, or left by an erasure). Only while no import runs (a run reads the cache's
 * digests when it starts and counts on their rows): otherwise nothing is dropped, the next lifecycle run will.
 * Inside the caller's transaction. Returns how many entries went.
 */
export async function pruneAafCache(client: Pick<pg.PoolClient, 'query'>, exts?: string[]): Promise<number> {
  if (exts && !exts.length) return 0;
  if (!(await client.query<{ ok: boolean }>('SELECT pg_try_advisory_xact_lock($1) AS ok', [IMPORT_LOCK])).rows[0].ok) return 0;
  const r = exts
    ? await client.query('DELETE FROM aaf_record_cache WHERE ext = ANY($1)', [exts])
    : await client.query('DELETE FROM aaf_record_cache c WHERE NOT EXISTS (SELECT 1 FROM users u WHERE u.external_id = c.ext)');
  return r.rowCount ?? 0;
}
