// The run's parsed accounts, kept in PostgreSQL rather than in memory (issue #11: a région's 1.5 million accounts
// in flat memory). Parsers fill `batch.users` as before; every so often the run spills it here with COPY, into a
// TEMP table of the run's own transaction (dropped at COMMIT or ROLLBACK: a dry run or a failure leaves nothing).
// Whole-run questions (is X in the run? which structures does it name? which relatives do its pupils name?) are
// set-based SQL on this table; apply.ts then reads it back in chunks, in the order the records were read.
import type pg from 'pg';
import { randomUUID } from 'node:crypto';
import { once } from 'node:events';
import type { Writable } from 'node:stream';
import { finished } from 'node:stream/promises';
import { COPY_PIECE, copyRows, copyStream, copyText } from '../db/copy.js';
import { pgTextArray } from './plan.js';
import type { UserRecord } from './types.js';

type Client = Pick<pg.PoolClient, 'query'>;

/**
 * Accounts per spill and per chunk applied (ImportOptions.chunkSize; tests use tiny ones). About three chunks are
 * alive at once in the pipelined apply (apply.ts), and V8 lets the heap grow to a few times what is alive: 3,000
 * keeps a 1.5-million-account first import under 600 MB.
 */
export const DEFAULT_CHUNK = 3000;

/**
 * One staged record: its columns (`raw`: the digest of an AAF record as read, which the record cache keeps it
 * under, aaf-cache.ts; `hit`: a row the cache gives, filled by fillHits; `named`: what such a record names besides
 * its structures, as JSON: `{c: [[structure, class, level]…], g: [[structure, group]…]}`; such a row's `rec` stays in
 * the cache, recOf, and `rec_md5` is its MD5), then what apply.ts resolves for it (`user_id`, `state`: 'known' under its key,
 * 'aliased' by a merge, 'rekeyed' adopted from a former key or a rename, 'crossed' (rejected) when that account is
 * another kind of person, else 'fresh' to create, under the id drawn
 * when it was staged: a first import rewrites none of its rows to give them ids), and the outcome
 * flags the report is counted from at the end.
 */
const TABLE = `CREATE TEMP TABLE import_stage (
  n bigserial PRIMARY KEY,
  ext text NOT NULL,
  source text NOT NULL,
  profile text NOT NULL,
  file text NOT NULL,
  structures text[] NOT NULL,
  legal text[],
  line integer NOT NULL,
  refs text[] NOT NULL,
  rec text,
  user_id uuid NOT NULL,
  state text NOT NULL DEFAULT 'fresh',
  hash text,
  absent boolean NOT NULL DEFAULT false,
  allowed boolean NOT NULL DEFAULT true,
  changed boolean NOT NULL DEFAULT false,
  touched boolean NOT NULL DEFAULT false,
  restored boolean NOT NULL DEFAULT false,
  raw bytea,
  hit boolean NOT NULL DEFAULT false,
  named text,
  rec_md5 text
) ON COMMIT DROP`;

/**
 * A staged row's record text (SQL, over the staged row `s`). A row the cache gave leaves it in the cache (fillHits:
 * a feed imported again stages thin rows, a fraction of the table a record's text makes), and `rec_md5` its MD5.
 */
export const recOf = (s: string) => `coalesce(${s}.rec, (SELECT c.rec FROM aaf_record_cache c WHERE c.digest = ${s}.raw))`;

/** Wanted parent–child links by external id (AAF pupils' legal representatives, CSV `Childexternalid`, SIECLE). */
const RELATIONS = `CREATE TEMP TABLE import_relations (
  parent text NOT NULL,
  child text NOT NULL,
  file text,
  line integer,
  field text,
  parent_id uuid,
  child_id uuid
) ON COMMIT DROP`;

/**
 * A staged record: the UserRecord minus the columns kept apart, structures as a list. `rec` holds what the
 * record says of its person and nothing of where it was read (file, line are columns): the same person read from
 * another file or line gives the same text, which the run's digest covers (apply.ts).
 */
type Stored = Omit<UserRecord, 'externalId' | 'source' | 'profile' | 'file' | 'line' | 'structures'> & { structures: string[] };

function encode(u: UserRecord): string {
  const { externalId: _e, source: _s, profile: _p, file: _f, line: _l, digest: _d, structures, ...rest } = u;
  // Dates only in a demo account's history: JSON gives them back as strings (decodeStaged).
  return JSON.stringify({ ...rest, structures: [...structures] } satisfies Stored);
}

const date = (v: Date | string | null) => (v === null ? null : new Date(v));

/** The record of a staged row (`rec` plus its columns). */
export function decodeStaged(row: { ext: string; source: string; profile: string; file: string; line: number; rec: string }): UserRecord {
  // The parsed object is completed in place: a copy by spread costs more than the parse itself (a région's chunks).
  const stored = JSON.parse(row.rec) as Stored;
  const structures = stored.structures;
  const u = stored as unknown as UserRecord;
  const h = u.history;
  if (h) u.history = { createdAt: new Date(h.createdAt), activatedAt: date(h.activatedAt), passwordHash: h.passwordHash, preDeletedAt: date(h.preDeletedAt) };
  u.externalId = row.ext;
  u.source = row.source as UserRecord['source'];
  u.profile = row.profile as UserRecord['profile'];
  u.file = row.file;
  u.line = row.line;
  u.structures = new Set(structures);
  return u;
}

export interface StagedRow {
  n: string;
  ext: string;
  source: string;
  profile: string;
  file: string;
  line: number;
  rec: string;
  user_id: string;
  state: 'known' | 'aliased' | 'rekeyed' | 'fresh' | 'crossed';
  hash: string | null;
  /** The run's digest of the record and its links (apply.ts), stored as users.import_hash; null when not hashing. */
  digest: string | null;
  absent: boolean;
}

/** A chunk of staged rows and what the run says around them (ImportStage.readChunk). */
export interface StagedChunk {
  /** The chunk's records in reading order, then the later records of its accounts (import_todo.lead). */
  rows: StagedRow[];
  /** Where the next chunk starts: the last record read in order (not one of the later records pulled in). */
  last: string;
  /** Wanted links (import_relations) with a side among the chunk's accounts. */
  pairs: { parent_id: string; child_id: string }[];
  /** Staged records (any chunk) on the other side of those links. */
  others: { user_id: string; structures: string[]; state: string; n: string }[];
  /** Stored structures of the children, not staged, of the chunk's accounts' links. */
  outsideStructures: { user_id: string; structure_id: string }[];
}

/**
 * What the run names besides its accounts, gathered as records are spilled (small: per structure, not per
 * account): structure keys, classes (`${structure key}\t${name}` → first level given), groups.
 */
export interface StageRefs {
  structures: Set<string>;
  classes: Map<string, string | null>;
  groups: Set<string>;
}

/** Every structure key a record names (its structures, its classes' and groups' structures), sorted, once each. */
function structureKeys(u: UserRecord): string[] {
  const keys = new Set(u.structures);
  for (const c of u.classes) keys.add(c.structure);
  for (const g of u.groups) keys.add(g.structure);
  return [...keys].sort();
}

/** Statistics of the columns statements join and filter on (not of the records' text: slow to sample, never used). */
export const ANALYZE = 'ANALYZE import_stage (n, ext, source, profile, structures, legal, user_id, state, absent)';

const STAGED_COLUMNS = ['ext', 'source', 'profile', 'file', 'structures', 'legal', 'line', 'refs', 'rec', 'user_id', 'raw', 'hit', 'named'];

/** What a record names besides its structures (the `named` column), as StageRefs gathers it. */
interface Named {
  c: [string, string, string | null][];
  g: [string, string][];
}

/**
 * Columns of the staged rows `s` set from the row of `table alias` matching `condition` (without placeholders; one row at
 * most per staged row): `set` maps a column to an SQL expression over `s` and `alias`, whose placeholders are `params`.
 */
export interface StageJoin {
  set: Record<string, string>;
  table: string;
  alias: string;
  condition: string;
  params: unknown[];
}

export class ImportStage {
  readonly refs: StageRefs = { structures: new Set(), classes: new Map(), groups: new Set() };
  private constructor(
    readonly client: Client,
    readonly chunkSize: number,
  ) {}

  /** Creates the run's tables (inside the caller's transaction). */
  static async open(client: Client, chunkSize = DEFAULT_CHUNK): Promise<ImportStage> {
    // Room for the table in the server's session memory (temp_buffers, 8 MB by default), settable only before
    // the session's first temporary table: a pooled connection that already had one keeps its setting.
    await client.query('SAVEPOINT import_stage_buffers');
    await client.query(`SET LOCAL temp_buffers = '128MB'`).catch(() => client.query('ROLLBACK TO SAVEPOINT import_stage_buffers'));
    await client.query('RELEASE SAVEPOINT import_stage_buffers');
    // The run's whole-run statements sort and hash the staged rows: in memory rather than in temporary files (4 MB by default).
    await client.query(`SET LOCAL work_mem = '64MB'`);
    await client.query('DROP TABLE IF EXISTS pg_temp.import_stage, pg_temp.import_relations, pg_temp.import_todo, pg_temp.import_partners, pg_temp.import_kids, pg_temp.import_gone, pg_temp.import_named, pg_temp.import_stage_next');
    await client.query(TABLE);
    await client.query(RELATIONS);
    await client.query('CREATE INDEX ON import_stage (ext)');
    return new ImportStage(client, Math.max(1, Math.floor(chunkSize)));
  }

  /** The COPY `stream` keeps open while the caller parses on (flush ends it). */
  private open?: { stream: Writable; done: Promise<void> };
  /** COPY text not written yet (a row per line, in reading order): written by pieces of COPY_PIECE characters. */
  private text = '';
  /** Rows the cache gives (`hit`) since the table was opened. */
  private hits = 0;
  /**
   * Whether fillHits looked up the rows' accounts (`accounts`): apply.ts checks them again against the directory,
   * which other transactions may have changed since (an account erased, made another profile).
   */
  resolvedEarly = false;
  /** Rows written since the table was opened: the number (`n`) the next one gets, until fillHits rewrites the table. */
  private written = 0;
  /** The row (`n`) whose level a class of StageRefs took: a row the cache gives may come before it (fillHits). */
  private readonly levelAt = new Map<string, number>();

  private copy(): Writable {
    if (!this.open) {
      const stream = copyStream(this.client, 'import_stage', STAGED_COLUMNS);
      const done = finished(stream);
      done.catch(() => {}); // awaited by flush, or raced by a write waiting for room
      this.open = { stream, done };
    }
    return this.open.stream;
  }

  private append(line: string) {
    this.text += line;
    if (this.text.length > COPY_PIECE) {
      this.copy().write(this.text);
      this.text = '';
    }
  }

  /** Waits while the connection's buffer is full (the server is behind). */
  async room(): Promise<void> {
    const open = this.open;
    if (open?.stream.writableNeedDrain) await Promise.race([once(open.stream, 'drain'), open.done]);
  }

  /**
   * Writes `users` (in their order) into the run's open COPY (opened when needed) and empties the map, then waits
   * only while the connection's buffer is full: PostgreSQL stores them while the caller parses the next ones.
   * Nothing else may be sent on the connection until `flush` (this class's own statements flush first).
   */
  async stream(users: Map<string, UserRecord>): Promise<void> {
    this.push(users);
    await this.room();
  }

  /** Writes `users` into the open COPY now, in their order, and empties the map (`stream` without the wait). */
  push(users: Map<string, UserRecord>): void {
    if (!users.size) return;
    for (const row of this.rows(users)) this.append(`${row.map(copyText).join('\t')}\n`);
    users.clear();
  }

  /**
   * Stages the record the cache keeps under `digest` (aaf-cache.ts), read at `file`, `line`: a row (STAGED_COLUMNS)
   * filled from the cache by fillHits. Rows are staged in call order: push what was read before it first.
   */
  hit(digest: string, file: string, line: number): void {
    this.hits++;
    this.written++;
    const row = ['', 'aaf', '', file, '{}', null, line, '{}', null, randomUUID(), `\\x${digest}`, true, null];
    this.append(`${row.map(copyText).join('\t')}\n`);
  }

  /**
   * Notes a class a staged row names (StageRefs.classes): it takes the first level given in reading order, `n`
   * being the row's number (rows read are numbered as they are written, those the cache gives by fillHits).
   */
  private noteClass(k: string, level: string | null, n: number) {
    const { refs, levelAt } = this;
    if (level && (!refs.classes.get(k) || (levelAt.get(k) ?? Number.POSITIVE_INFINITY) > n)) {
      refs.classes.set(k, level);
      levelAt.set(k, n);
    } else if (!refs.classes.has(k)) refs.classes.set(k, null);
  }

  /** Ends the open COPY, if any, once the server has stored its rows (throws its error, if it failed). */
  async flush(): Promise<void> {
    if (this.text) {
      this.copy().write(this.text);
      this.text = '';
    }
    const open = this.open;
    if (!open) return;
    this.open = undefined;
    open.stream.end();
    await open.done;
  }

  /** Cancels the open COPY, if any (a run failing while parsing: the connection is free again for its ROLLBACK). */
  async abort(): Promise<void> {
    this.text = '';
    const open = this.open;
    if (!open) return;
    this.open = undefined;
    open.stream.destroy(new Error('import aborted'));
    await open.done.catch(() => {});
  }

  /**
   * Fills the rows the cache gave (`hit`) from `aaf_record_cache` (aaf-cache.ts), noting what they name (refs).
   * Throws if a row's digest is not in the cache (read under the run's lock, it cannot have changed). `accounts`:
   * the lookup of each row's account (apply.ts knownAccounts), made in the same pass when the table is written anew
   * (most rows come from the cache: a feed imported again), which spares the run a second pass; `params` are those
   * the fill's statement already has, to append the lookup's to.
   */
  async fillHits(accounts?: (params: unknown[]) => StageJoin): Promise<void> {
    await this.flush();
    if (!this.hits) return;
    const c = this.client;
    const from = ['ext', 'source', 'profile', 'structures', 'legal', 'refs', 'named'];
    const set = { ...Object.fromEntries(from.map((k) => [k, `c.${k}`])), rec_md5: 'md5(c.rec)' };
    const fill = { set, table: 'aaf_record_cache', alias: 'c', condition: 's.hit AND c.digest = s.raw', params: [] };
    this.resolvedEarly = (await this.update(fill, accounts)) && !!accounts;
    const lost = await c.query<{ n: string }>(`SELECT count(*) AS n FROM import_stage WHERE hit AND ext = ''`);
    if (Number(lost.rows[0].n)) throw new Error(`import: ${lost.rows[0].n} cached records not found`);
    // Each list the cached rows name, with the first row naming it (noteClass: the first level in reading order).
    const { refs } = this;
    const lists = await c.query<{ named: string; n: string }>(`SELECT named, min(n) AS n FROM import_stage WHERE hit AND named IS NOT NULL GROUP BY named ORDER BY 2`);
    for (const { named, n } of lists.rows) {
      const x = JSON.parse(named) as Named;
      for (const [structure, name, level] of x.c) this.noteClass(`${structure}\t${name}`, level, Number(n));
      for (const [structure, name] of x.g) refs.groups.add(`${structure}\t${name}`);
    }
    for (const { structures } of (await c.query<{ structures: string[] }>(`SELECT DISTINCT structures FROM import_stage WHERE hit`)).rows) {
      for (const k of structures) refs.structures.add(k);
    }
  }

  /** Writes `users` (in their order) to the table and empties the map, once stored. */
  async spill(users: Map<string, UserRecord>): Promise<void> {
    await this.stream(users);
    await this.flush();
  }

  /** The staged columns of `users` (STAGED_COLUMNS), noting what they name besides accounts (refs). */
  private *rows(users: Map<string, UserRecord>): Generator<unknown[]> {
    const { refs } = this;
    for (const u of users.values()) {
      const n = ++this.written;
      for (const s of u.structures) refs.structures.add(s);
      for (const c of u.classes) this.noteClass(`${c.structure}\t${c.name}`, c.level ?? null, n);
      for (const g of u.groups) refs.groups.add(`${g.structure}\t${g.name}`);
      const named: Named | null = u.digest ? { c: u.classes.map((c) => [c.structure, c.name, c.level ?? null]), g: u.groups.map((g) => [g.structure, g.name]) } : null;
      yield [
        u.externalId, u.source, u.profile, u.file, pgTextArray([...u.structures]), u.legal ? pgTextArray(u.legal) : null, u.line, pgTextArray(structureKeys(u)), encode(u), randomUUID(),
        u.digest ? `\\x${u.digest}` : null, false, named && JSON.stringify(named),
      ];
    }
  }

  /** Takes the staged records of `exts` back out of the table (to change them in memory and spill them again). */
  async take(exts: string[]): Promise<UserRecord[]> {
    if (!exts.length) return [];
    await this.flush();
    const r = await this.client.query<StagedRow>(`DELETE FROM import_stage s WHERE ext = ANY($1) RETURNING n, ext, source, profile, file, line, ${recOf('s')} AS rec`, [exts]);
    return r.rows.sort((a, b) => Number(a.n) - Number(b.n)).map(decodeStaged);
  }

  /** Staged records matching an SQL condition on `import_stage` (taken out, as `take`). */
  async takeWhere(condition: string, params: unknown[]): Promise<UserRecord[]> {
    await this.flush();
    const r = await this.client.query<StagedRow>(`DELETE FROM import_stage s WHERE ${condition} RETURNING n, ext, source, profile, file, line, ${recOf('s')} AS rec`, params);
    return r.rows.sort((a, b) => Number(a.n) - Number(b.n)).map(decodeStaged);
  }

  /**
   * The same key spilled twice (two files of one run): its records are taken out, handed to `settle` in reading order
   * (aaf.ts mergeStaged: one person's are merged, two people's refused) and what it returns staged in their place.
   */
  async mergeDuplicates(settle: (records: UserRecord[]) => Map<string, UserRecord>): Promise<void> {
    await this.flush();
    const dup = await this.client.query<{ ext: string }>(`SELECT ext FROM import_stage GROUP BY ext HAVING count(*) > 1`);
    if (!dup.rows.length) return;
    await this.spill(settle(await this.take(dup.rows.map((x) => x.ext))));
  }

  /**
   * Sets `join.set` on the staged rows `s` that match a row of `join.table` (StageJoin), as `UPDATE import_stage s
   * SET … FROM table alias WHERE condition` does. When half the rows match or more (a feed imported again: every
   * account is known), the table is written anew in one pass instead: an UPDATE writes a second version of each row it
   * sets, and every later pass over the table reads both (twice the table, beyond the session's buffers at a région's
   * size). Then only, `then` (given the params so far, to append its own to) is applied in the same pass, to the rows
   * as `join` leaves them. Returns whether the table was written anew.
   */
  async update(join: StageJoin, then?: (params: unknown[]) => StageJoin): Promise<boolean> {
    await this.flush();
    const c = this.client;
    const { set, alias, condition } = join;
    const from = `${join.table} ${alias}`;
    // Counted on every 64th row of a large table (its numbers are the reading order: spread over the files).
    const last = Number((await c.query<{ n: string | null }>('SELECT max(n) AS n FROM import_stage')).rows[0].n ?? 0);
    const counts = await c.query<{ staged: string; matching: string }>(
      `SELECT count(*) AS staged, count(${alias}.ctid) AS matching FROM import_stage s LEFT JOIN ${from} ON ${condition}
       ${last > 64_000 ? 'WHERE s.n % 64 = 0' : ''}`,
    );
    const { staged, matching } = counts.rows[0];
    if (Number(matching) * 2 < Number(staged) || Number(staged) === 0) {
      const assignments = Object.entries(set).map(([k, v]) => `${k} = ${v}`);
      await c.query(`UPDATE import_stage s SET ${assignments.join(', ')} FROM ${from} WHERE ${condition}`, join.params);
      return false;
    }
    // A table made as the staging table is (TABLE), filled from it: a staged row unmatched keeps its values.
    const columns = (
      await c.query<{ name: string }>(`SELECT attname AS name FROM pg_attribute WHERE attrelid = 'pg_temp.import_stage'::regclass AND attnum > 0 AND NOT attisdropped ORDER BY attnum`)
    ).rows.map((x) => x.name);
    const values = (j: StageJoin) => columns.map((k) => (k in j.set ? `CASE WHEN ${j.alias}.ctid IS NULL THEN s.${k} ELSE ${j.set[k]} END AS ${k}` : `s.${k}`));
    const params = [...join.params];
    let select = `SELECT ${values(join).join(', ')} FROM import_stage s LEFT JOIN ${from} ON ${condition}`;
    if (then) {
      const next = then(params);
      select = `SELECT ${values(next).join(', ')} FROM (${select}) s LEFT JOIN ${next.table} ${next.alias} ON ${next.condition}`;
    }
    await c.query(TABLE.replace('TABLE import_stage', 'TABLE import_stage_next'));
    await c.query(`INSERT INTO import_stage_next (${columns.join(', ')}) ${select}`, params);
    // Rows staged later are numbered after these.
    await c.query(`SELECT setval(pg_get_serial_sequence('import_stage_next', 'n'), (SELECT max(n) FROM import_stage_next))`);
    await c.query('DROP TABLE import_stage');
    await c.query('ALTER TABLE import_stage_next RENAME TO import_stage');
    await c.query('CREATE INDEX ON import_stage (ext)');
    return true;
  }

  /** Planner statistics of the table (never gathered by autovacuum for a temporary table). */
  async analyze(): Promise<void> {
    await this.flush();
    await this.client.query(ANALYZE);
  }

  /** Adds wanted links by external id. */
  async addRelations(rels: { parent: string; child: string; file?: string; line?: number; field?: string }[]): Promise<void> {
    await this.flush();
    if (!rels.length) return;
    await copyRows(this.client, 'import_relations', ['parent', 'child', 'file', 'line', 'field'], rels.map((r) => [r.parent, r.child, r.file ?? null, r.line ?? null, r.field ?? null]));
  }

  /**
   * The next chunk of staged rows after `after` (row order) the run has something to do for (`import_todo`, apply.ts
   * digestStaged: unchanged records are not read back), at most `limit`, resolved, with their digest; and what the
   * run says around them: the wanted links reaching them (import_relations), the staged records on the other side of
   * those links, and the stored structures, within `scopeIds` (null: all), of their links' children that the run
   * does not stage (`import_relations.child_staged`, apply.ts). Null after the last chunk.
   *
   * An account staged twice (its key and a merge's alias) is read whole by the chunk of its first record: its later
   * records (`import_todo.lead`, apply.ts digestStaged) come with it and are skipped in reading order. Its
   * memberships are planned from all its records; chunks that split them each wrote one record's memberships only.
   *
   * Its two statements are sent together and read only the run's tables and the memberships of accounts the run
   * does not write: a chunk can be read while the previous one's writes are still queued on the connection.
   */
  readChunk(after: string, limit: number, scopeIds: string[] | null): Promise<StagedChunk | null> {
    // Both tables from `after` on (`s.n > $1` too): a merge join would otherwise read the staged rows from the first
    // one at every chunk, a cost growing with the run (quadratic over a région's feed). The chunk's accounts as one
    // array (`= ANY` of it uses the indexes on import_relations and import_stage).
    const chunk = `chunk AS (SELECT array_agg(user_id) AS ids FROM (
      SELECT s.user_id FROM import_todo t JOIN import_stage s ON s.n = t.n WHERE t.n > $1 AND s.n > $1 AND t.lead IS NULL ORDER BY t.n LIMIT $2) x)`;
    const pairs = `pairs AS (
      SELECT r.parent_id, r.child_id FROM import_relations r WHERE r.parent_id = ANY((SELECT ids FROM chunk)::uuid[])
      UNION SELECT r.parent_id, r.child_id FROM import_relations r WHERE r.child_id = ANY((SELECT ids FROM chunk)::uuid[]))`;
    const c = this.client;
    const queries = Promise.all([
      // The records in order (first records of their accounts), then the later records of the same accounts.
      c.query<StagedRow & { later: boolean }>(
        `WITH first AS (
           SELECT s.n, ext, source, profile, file, line, ${recOf('s')} AS rec, user_id, state, hash, t.digest, absent
           FROM import_todo t JOIN import_stage s ON s.n = t.n WHERE t.n > $1 AND s.n > $1 AND t.lead IS NULL ORDER BY t.n LIMIT $2)
         SELECT *, false AS later FROM first
         UNION ALL
         SELECT s.n, ext, source, profile, file, line, ${recOf('s')}, user_id, state, hash, t.digest, absent, true
         FROM import_todo t JOIN import_stage s ON s.n = t.n WHERE t.lead = ANY((SELECT array_agg(n) FROM first)::bigint[])
         ORDER BY later, n`,
        [after, limit],
      ),
      // One statement for the rest (the chunk and its links computed once): a row per link ('p': parent, child), per
      // staged record on the other side ('o': user id, structures, state, n), per structure of a child not staged
      // ('k': user id, structure id).
      c.query<{ kind: 'p' | 'o' | 'k'; a: string; b: string | null; structures: string[] | null; state: string | null; n: string | null }>(
        `WITH ${chunk}, ${pairs},
         others AS (SELECT array_agg(id) AS ids FROM (
           SELECT parent_id AS id FROM pairs UNION SELECT child_id FROM pairs EXCEPT SELECT unnest(ids) FROM chunk) x),
         kids AS (SELECT array_agg(r.child_id) AS ids FROM import_relations r
           WHERE r.parent_id = ANY((SELECT ids FROM chunk)::uuid[]) AND NOT r.child_staged)
         SELECT 'p' AS kind, parent_id AS a, child_id::text AS b, NULL::text[] AS structures, NULL AS state, NULL::bigint AS n FROM pairs
         UNION ALL
         SELECT 'o', user_id, NULL, structures, state, n FROM import_stage WHERE user_id = ANY((SELECT ids FROM others)::uuid[])
         UNION ALL
         SELECT 'k', user_id, structure_id::text, NULL, NULL, NULL FROM user_structures
         WHERE user_id = ANY((SELECT ids FROM kids)::uuid[]) AND ($3::uuid[] IS NULL OR structure_id = ANY($3::uuid[]))`,
        [after, limit, scopeIds],
      ),
    ]);
    // Queued behind the open COPY, if any, which flush ends.
    return Promise.all([this.flush(), queries]).then(([, [rows, around]]) => {
      if (!rows.rows.length) return null;
      let last = '';
      for (const x of rows.rows) if (!x.later) last = x.n;
      const out: StagedChunk = { rows: rows.rows, last, pairs: [], others: [], outsideStructures: [] };
      for (const x of around.rows) {
        if (x.kind === 'p') out.pairs.push({ parent_id: x.a, child_id: x.b! });
        else if (x.kind === 'o') out.others.push({ user_id: x.a, structures: x.structures!, state: x.state!, n: x.n! });
        else out.outsideStructures.push({ user_id: x.a, structure_id: x.b! });
      }
      return out;
    });
  }
}

