// A pupil merged in "Gérer les doublons" (mergeUsers) from two records of two schools keeps the dropped record's key
// as an alias: a feed naming both keys, one per school, stages two records for one account. The account's
// memberships are planned from both records whatever the chunk size: before the fix, with chunks of 1, each record
// was applied by its own chunk and the account kept the school (class, group) of the last one only, while the
// relative's digest, which follows both schools, let the next run skip it as unchanged.
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { mergeUsers } from '../src/directory/duplicates.js';
import { collectInputs, formatReport, importFiles, type ImportReport } from '../src/import/index.js';
import { testContext } from './helpers/db.js';
import { aafRecord as rec } from './helpers/aaf-feed.js';

type Ctx = Awaited<ReturnType<typeof testContext>>;


const SCHOOLS: [string, string, string][] = [['81001', '6A', 'LAT6'], ['81002', '5B', 'ESP5']]; // school, class, group

/**
 * An AAF feed of schools 81001 and 81002: pupils (key, school index) named by relative R1, another pupil P1 in each
 * school with relative R2 (accounts around the merged one, so that chunks of 1 split the run), relatives R1, R2.
 */
function feed(pupils: [string, number][]): string {
  const dir = mkdtempSync(join(tmpdir(), 'merged-chunks-'));
  const file = (kind: string, body: string) =>
    writeFileSync(join(dir, `ENT_Complet_20240901_${kind}_0000.xml`), `<?xml version="1.0" encoding="UTF-8"?>\n<ficAlimMENESR>\n${body}</ficAlimMENESR>\n`);
  file('EtabEducNat', SCHOOLS.map(([s, c, g]) => rec('EtabEducNat', s, [['ENTStructureJointure', [s]], ['ENTStructureUAI', [`0${s}X`]],
    ['ENTStructureNomCourant', [`CLG ${s}`]], ['ENTStructureClasses', [`${c}$${c}`]], ['ENTStructureGroupes', [`${g}$${g}`]]])).join(''));
  const pupil = (id: string, first: string, school: number, rel: string) => {
    const [s, c, g] = SCHOOLS[school];
    return rec('Eleve', id, [['ENTPersonJointure', [id]], ['sn', ['Martin']], ['givenName', [first]], ['ENTPersonDateNaissance', ['01/01/2012']],
      ['ENTElevePersRelEleve', [`${rel}$10$1$1$0$0`]], ['ENTPersonStructRattach', [s]], ['ENTEleveClasses', [`${s}$${c}`]], ['ENTEleveGroupes', [`${s}$${g}`]]]);
  };
  const named = pupils.map(([id, school]) => pupil(id, 'Léa', school, 'R1'));
  // P2 between the first and the others: their records are apart in reading order.
  file('Eleve', [pupil('P1', 'Jean', 0, 'R2'), named[0], pupil('P2', 'Zoé', 1, 'R2'), ...named.slice(1)].join(''));
  file('PersRelEleve', ['R1', 'R2'].map((r) => rec('PersRelEleve', r, [['ENTPersonJointure', [r]], ['sn', ['Martin']], ['givenName', ['Paul']]])).join(''));
  return dir;
}

const run = async (ctx: Ctx, dir: string, chunkSize: number | undefined): Promise<ImportReport> => {
  const r = await importFiles(ctx, collectInputs([dir]), { scope: { kind: 'all' }, dryRun: false, chunkSize });
  assert.equal(r.fatal, null, formatReport(r));
  return r;
};
const outcome = (r: ImportReport) => ({
  counts: [r.created, r.updated, r.unchanged, r.preDeleted, r.restored],
  relations: r.relations,
  files: r.files.map((f) => [f.file.replace(/.*\//, ''), f.rows, f.created, f.updated, f.unchanged, f.preDeleted, f.restored]),
});
/** Each account's memberships, by external ids and names. */
const directory = async (ctx: Ctx) =>
  (
    await ctx.database.pool.query(
      `SELECT u.external_id, u.import_hash IS NOT NULL AS hashed,
              (SELECT array_agg(s.external_id ORDER BY s.external_id) FROM user_structures us JOIN structures s ON s.id = us.structure_id WHERE us.user_id = u.id) AS structures,
              (SELECT array_agg(s.external_id || '/' || c.name ORDER BY s.external_id, c.name) FROM user_classes uc JOIN classes c ON c.id = uc.class_id JOIN structures s ON s.id = c.structure_id WHERE uc.user_id = u.id) AS classes,
              (SELECT array_agg(g.name ORDER BY g.name) FROM user_groups ug JOIN groups g ON g.id = ug.group_id WHERE ug.user_id = u.id) AS groups,
              (SELECT array_agg(p.external_id ORDER BY p.external_id) FROM relations r JOIN users p ON p.id = r.parent_id WHERE r.child_id = u.id) AS parents
       FROM users u WHERE u.external_id IS NOT NULL ORDER BY u.external_id`,
    )
  ).rows;

/** Imports E1 (81001) and E2 (81002), merges E2 into E1, then imports twice a feed naming both keys. */
async function scenario(chunkSize: number | undefined) {
  const ctx = await testContext();
  try {
    await run(ctx, feed([['E1', 0], ['E2', 1]]), chunkSize);
    const ids = (await ctx.database.pool.query(`SELECT external_id, id FROM users WHERE external_id IN ('E1', 'E2') ORDER BY external_id`)).rows;
    await mergeUsers(ctx, { kind: 'all' }, ids[0].id, ids[1].id, null); // E1 kept, E2 now an alias of it
    const dir = feed([['E1', 0], ['E2', 1]]);
    const first = await run(ctx, dir, chunkSize);
    const afterFirst = await directory(ctx);
    const second = await run(ctx, dir, chunkSize);
    return { first, second, afterFirst, afterSecond: await directory(ctx) };
  } finally {
    await ctx.close();
  }
}

test('a pupil merged from two schools and named under its key and its alias keeps both schools, chunk by chunk', async () => {
  const [chunked, whole] = await Promise.all([scenario(1), scenario(undefined)]);
  const e1 = chunked.afterFirst.find((x) => x.external_id === 'E1');
  assert.deepEqual(
    { structures: e1.structures, classes: e1.classes, groups: e1.groups, parents: e1.parents },
    { structures: ['81001', '81002'], classes: ['81001/6A', '81002/5B'], groups: ['ESP5', 'LAT6'], parents: ['R1'] },
  );
  const r1 = chunked.afterFirst.find((x) => x.external_id === 'R1');
  assert.deepEqual(r1.structures, ['81001', '81002']);
  // Nothing was to change after the merge (the merge gave E1 both schools): the first re-import changes nothing either.
  assert.equal(chunked.first.updated, 0, formatReport(chunked.first));
  // The second identical re-import keeps both schools and says every record unchanged.
  assert.deepEqual(chunked.afterSecond, chunked.afterFirst);
  assert.deepEqual([chunked.second.created, chunked.second.updated, chunked.second.unchanged], [0, 0, 6], formatReport(chunked.second));
  // Chunks of 1 write and report what one chunk does.
  assert.deepEqual(chunked.afterFirst, whole.afterFirst);
  assert.deepEqual(chunked.afterSecond, whole.afterSecond);
  assert.deepEqual(outcome(chunked.first), outcome(whole.first));
  assert.deepEqual(outcome(chunked.second), outcome(whole.second));
});
