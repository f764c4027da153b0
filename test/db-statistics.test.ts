// Planner statistics after bulk writes (db/statistics.ts): an import or the demo seed that fills the directory
// from empty analyzes it at once, instead of leaving PostgreSQL to plan for "a handful of rows" until autovacuum's
// next round (the publipostage selection of the demo school: 10 s before, 45 ms after).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { needsAnalyze, refreshStatistics } from '../src/db/statistics.js';
import { createDemoSchool } from '../src/demo/seed.js';
import { importFiles } from '../src/import/index.js';
import { fileContext } from './helpers/db.js';

const ctx = await fileContext();

/** pg_class's row estimate of a table (below 0: never analyzed) and its true row count. */
async function estimate(table: string): Promise<{ estimated: number; actual: number }> {
  const res = await ctx.database.pool.query(
    `SELECT reltuples::float8 AS estimated, (SELECT count(*)::int FROM ${table}) AS actual FROM pg_class WHERE oid = $1::regclass`,
    [table],
  );
  return res.rows[0];
}

test('autovacuum’s rule: a never-analyzed table, or more than 50 + 10 % of its rows changed', () => {
  assert.equal(needsAnalyze(-1, 1), true);
  assert.equal(needsAnalyze(0, 51), true);
  assert.equal(needsAnalyze(0, 50), false);
  assert.equal(needsAnalyze(100_000, 10_050), false);
  assert.equal(needsAnalyze(100_000, 10_051), true);
});

test('an import filling an empty school leaves the planner the true row counts', async () => {
  const pupils = Array.from({ length: 120 }, (_, i) => `Élève${i};TESTARD;04/05/2015;CM1 A`);
  const csv = Buffer.from(['Prénom*;Nom*;Date de naissance*;Classes*', ...pupils].join('\r\n'), 'utf8');
  const report = await importFiles(ctx, [{ name: 'CSV_Eleves.csv', data: csv }], { dryRun: false, scope: { kind: 'all' }, structureHint: 'École des Statistiques' });
  assert.equal(report.created, 120);
  for (const table of ['users', 'user_classes']) {
    const { estimated, actual } = await estimate(table);
    assert.equal(estimated, actual, table);
  }
  // A small delta afterwards is left to autovacuum.
  assert.deepEqual(await refreshStatistics(ctx.database.pool, 5), []);
});

test('the demo seed leaves the planner the true row counts of every directory table', async () => {
  await createDemoSchool(ctx, { scale: 1, password: 'demo', passwordHash: '$argon2id$test' });
  for (const table of ['users', 'relations', 'user_classes', 'user_structures']) {
    const { estimated, actual } = await estimate(table);
    assert.ok(actual > 500, `${table}: ${actual} rows`);
    assert.equal(estimated, actual, table);
  }
});
