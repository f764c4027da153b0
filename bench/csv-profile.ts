// Where the CSV export's time goes (dev tool): stages of exportSelection timed apart at one size.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startEmbedded } from '../src/db/embedded.js';
import { streamSelection } from '../src/publipostage/select.js';
import { handBatch } from '../src/publipostage/handout.js';
import { csvCells } from '../src/publipostage/csv.js';
import { exportSelection } from '../src/publipostage/generate.js';
import { SelectionSchema } from '../src/publipostage/selection.js';
import { database } from './setup.js';
import { populate } from './population.js';
import { CSV_BASELINE_SQL } from './baseline.js';
import { run, timed } from './measure.js';

const n = Number(process.argv[2] ?? 100_000);
const dir = mkdtempSync(join(tmpdir(), 'csvprof-'));
const server = await startEmbedded(dir, undefined, true, ['-c', 'fsync=off', '-c', 'synchronous_commit=off', '-c', 'full_page_writes=off']);
const ctx = await database(server.url, 'prof');
try {
  await populate(ctx, n);
  const sel = SelectionSchema.parse({});
  const ALL = { kind: 'all' } as const;
  const copy = `\\copy (${CSV_BASELINE_SQL.replace(/\s+/g, ' ')}) TO '/dev/null' WITH (FORMAT csv, DELIMITER ';', HEADER)`;
  let declared = '';
  let declaredValues: unknown[] = [];
  const stage = async (name: string, fn: () => Promise<unknown>) => {
    const ms = await timed(fn);
    console.log(`${name.padEnd(40)} ${Math.round(ms)} ms`);
  };
  if (process.argv[3] === 'export') {
    for (let i = 0; i < 3; i++) await stage('exportSelection csv (consumed)', async () => {
      const r = await exportSelection(ctx, { format: 'csv', selection: sel, scope: ALL, actorId: null, via: 'cli' });
      for await (const _ of r.body as AsyncIterable<Buffer>);
    });
  } else for (let round = 0; round < 2; round++) {
    console.log(`--- round ${round}`);
    await stage('psql \\copy baseline', () => run('psql', [ctx.url, '-q', '-c', copy]));
    await stage('cursor + toRow', async () => {
      const c = await ctx.database.pool.connect();
      const spy = { query: (q: string, v?: unknown[]) => { if (q.startsWith('DECLARE')) { declared = q; declaredValues = v ?? []; } return c.query(q, v); } };
      await c.query('BEGIN');
      for await (const _ of streamSelection(ctx, spy as never, sel, ALL, 500));
      await c.query('ROLLBACK'); c.release();
    });
    await stage('cursor + toRow + handBatch', async () => {
      const c = await ctx.database.pool.connect();
      await c.query('BEGIN');
      for await (const b of streamSelection(ctx, c, sel, ALL, 500)) await handBatch(ctx, c, b, 'sheet', null);
      await c.query('ROLLBACK'); c.release();
    });
    await stage('cursor + toRow + csvCells', async () => {
      const c = await ctx.database.pool.connect();
      await c.query('BEGIN');
      let k = 0;
      for await (const b of streamSelection(ctx, c, sel, ALL, 500)) for (const r of b) k += csvCells(r).length;
      await c.query('ROLLBACK'); c.release();
    });
    await stage('exportSelection csv (consumed)', async () => {
      const r = await exportSelection(ctx, { format: 'csv', selection: sel, scope: ALL, actorId: null, via: 'cli' });
      for await (const _ of r.body as AsyncIterable<Buffer>);
    });
    if (declared) {
      const sql = declared.replace(/^DECLARE \S+ NO SCROLL CURSOR FOR /, '');
      await stage('query alone (EXPLAIN ANALYZE)', async () => {
        const r = await ctx.database.pool.query(`EXPLAIN (ANALYZE, TIMING OFF) ${sql}`, declaredValues);
        if (round === 1) console.log(r.rows.map((x) => x['QUERY PLAN']).join('\n'));
      });
    }
  }
  console.log(declared.slice(0, 200));
} finally {
  await ctx.close();
  await server.stop();
  rmSync(dir, { recursive: true, force: true });
}
