// A pupil merged in "Gérer les doublons" (mergeUsers) keeps the dropped account's key as an alias: a feed that still
// names the pupil under both keys, one per school, stages two records for one account. A relative follows its
// children's structures; when the relative is written in another chunk than the pupil, the pupil's two staged rows
// come back as the other side of the link (ImportStage.readChunk) and both schools must count, as in the digest.
// Before the fix (applyChunk), the last row read won: the relative got one school only with chunkSize 1.
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { mergeUsers } from '../src/directory/duplicates.js';
import { collectInputs, formatReport, importFiles } from '../src/import/index.js';
import { testContext } from './helpers/db.js';
import { aafRecord as rec } from './helpers/aaf-feed.js';


/** An AAF feed: schools 81001 and 81002, pupils (key, school, relatives' keys), relatives' keys. */
function feed(pupils: [string, string, string[]][], relatives: string[]): string {
  const dir = mkdtempSync(join(tmpdir(), 'merged-links-'));
  const file = (kind: string, body: string) =>
    writeFileSync(join(dir, `ENT_Complet_20240901_${kind}_0000.xml`), `<?xml version="1.0" encoding="UTF-8"?>\n<ficAlimMENESR>\n${body}</ficAlimMENESR>\n`);
  file('EtabEducNat', ['81001', '81002'].map((s) => rec('EtabEducNat', s, [['ENTStructureJointure', [s]], ['ENTStructureUAI', [`0${s}X`]],
    ['ENTStructureNomCourant', [`CLG ${s}`]], ['ENTStructureClasses', ['6A$6EME A']]])).join(''));
  file('Eleve', pupils.map(([id, s, rels]) => rec('Eleve', id, [['ENTPersonJointure', [id]], ['sn', ['Martin']], ['givenName', ['Léa']],
    ['ENTPersonDateNaissance', ['01/01/2012']], ['ENTElevePersRelEleve', rels.map((r) => `${r}$10$1$1$0$0`)],
    ['ENTPersonStructRattach', [s]], ['ENTEleveClasses', [`${s}$6A`]]])).join(''));
  file('PersRelEleve', relatives.map((r) => rec('PersRelEleve', r, [['ENTPersonJointure', [r]], ['sn', ['Martin']], ['givenName', ['Paul']]])).join(''));
  return dir;
}

for (const chunkSize of [1, undefined]) {
  test(`a relative of a pupil named under its key and its alias follows both schools (chunkSize ${chunkSize ?? 'default'})`, async () => {
    const ctx = await testContext();
    try {
      const run = async (dir: string) => {
        const r = await importFiles(ctx, collectInputs([dir]), { scope: { kind: 'all' }, dryRun: false, chunkSize });
        assert.equal(r.fatal, null, formatReport(r));
      };
      // The same pupil created twice, once per school, with the relative linked from E1 only (school 81001).
      await run(feed([['E1', '81001', ['R1']], ['E2', '81002', []]], ['R1']));
      const ids = (await ctx.database.pool.query(`SELECT external_id, id FROM users WHERE external_id IN ('E1', 'E2') ORDER BY external_id`)).rows;
      await mergeUsers(ctx, { kind: 'all' }, ids[0].id, ids[1].id, null); // E1 kept, E2 now an alias of it
      // The feed still names both keys, each in its school, both with the relative.
      await run(feed([['E1', '81001', ['R1']], ['E2', '81002', ['R1']]], ['R1']));
      const { rows } = await ctx.database.pool.query(
        `SELECT s.external_id FROM user_structures us JOIN structures s ON s.id = us.structure_id JOIN users u ON u.id = us.user_id
         WHERE u.external_id = 'R1' ORDER BY 1`,
      );
      assert.deepEqual(rows.map((x) => x.external_id), ['81001', '81002']);
    } finally {
      await ctx.close();
    }
  });
}
