// One AAF person read twice in a run: the outcome is the file's, whatever the size of the batches the run spills
// (chunk size; a record the cache gives also cuts a batch, src/import/aaf-cache.ts). Records of one key are merged
// once staged, each checked as read (src/import/aaf.ts addPerson). Checked at the default chunk size and at tiny
// ones, on copies of the 2D fixture.
import assert from 'node:assert/strict';
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { collectInputs, formatReport, importFiles, type ImportReport } from '../src/import/index.js';
import { testContext } from './helpers/db.js';

const D2 = join(new URL('./fixtures/aaf/', import.meta.url).pathname, '2d');
const root = mkdtempSync(join(tmpdir(), 'trousseau-aaf-cuts-'));
after(() => rmSync(root, { recursive: true, force: true }));

const RECORD = /<addRequest>[\s\S]*?<\/addRequest>/g;
const fileOf = (dir: string, kind: string) => join(dir, `ENT_Complet_20240901_${kind}_0000.xml`);
const recordOf = (text: string, id: string) => text.match(RECORD)!.find((r) => r.includes(`<id>${id}</id>`))!;
let n = 0;
/** A copy of the 2D fixture changed by `edit` (its folder). */
function copy(edit: (dir: string) => void): string {
  const dir = join(root, `c${++n}`);
  cpSync(D2, dir, { recursive: true });
  edit(dir);
  return dir;
}
/** A second file of `kind` holding `records`, after the first in reading order. */
function second(dir: string, kind: string, records: string[]) {
  const head = readFileSync(fileOf(dir, kind), 'utf8');
  writeFileSync(fileOf(dir, kind).replace('_0000.xml', '_0001.xml'), `${head.slice(0, head.indexOf('<addRequest>'))}${records.join('\n')}\n</ficAlimMENESR>\n`);
}

/** Imports `dir` into a fresh database with each chunk size; `check` sees each run's report and database. */
async function eachChunk(dir: string, check: (r: ImportReport, q: <T>(sql: string, p?: unknown[]) => Promise<T[]>) => Promise<void>) {
  for (const chunkSize of [undefined, 1, 2, 6]) {
    const ctx = await testContext();
    try {
      const r = await importFiles(ctx, collectInputs([dir]), { scope: { kind: 'all' }, dryRun: false, chunkSize });
      assert.equal(r.fatal, null, formatReport(r));
      await check(r, async <T>(sql: string, p: unknown[] = []) => (await ctx.database.pool.query(sql, p)).rows as T[]);
    } catch (e) {
      (e as Error).message = `chunks of ${chunkSize ?? 'default'}: ${(e as Error).message}`;
      throw e;
    } finally {
      await ctx.close();
    }
  }
}

test('a teacher at the end of one file and again in the next: structures and classes add up, the later fields win', async () => {
  const dir = copy((d) => {
    const p304 = recordOf(readFileSync(fileOf(d, 'PersEducNat'), 'utf8'), 'P304');
    const again = p304
      .replace('<value>71002</value>', '<value>71001</value>')
      .replace('<attr name="givenName"><value>Sarah</value></attr>', '<attr name="givenName"><value>Sarah</value></attr>\n<attr name="mail"><value>sarah.chevalier@ac-exemple.fr</value></attr>\n<attr name="ENTAuxEnsClasses"><value>71001$6A</value></attr>');
    second(d, 'PersEducNat', [again]);
  });
  await eachChunk(dir, async (r, q) => {
    assert.deepEqual(r.rejected, []);
    // The report's profiles in the directory's order, whatever order the run met them in.
    assert.deepEqual(Object.keys(r.byProfile), ['Student', 'Relative', 'Teacher', 'Personnel']);
    const [p] = await q<{ email: string | null; structures: string[]; classes: string[] | null }>(
      `SELECT u.email,
              (SELECT array_agg(s.external_id ORDER BY s.external_id) FROM user_structures us JOIN structures s ON s.id = us.structure_id WHERE us.user_id = u.id) AS structures,
              (SELECT array_agg(c.name) FROM user_classes uc JOIN classes c ON c.id = uc.class_id WHERE uc.user_id = u.id) AS classes
       FROM users u WHERE external_id = 'P304'`,
    );
    assert.deepEqual(p, { email: 'sarah.chevalier@ac-exemple.fr', structures: ['71001', '71002'], classes: ['6A'] });
  });
});

test('a pupil’s key carried by a relative in a later file, or by a teacher: both records refused, naming each other', async () => {
  const relative = copy((d) => {
    const r205 = recordOf(readFileSync(fileOf(d, 'PersRelEleve'), 'utf8'), 'R205');
    second(d, 'PersRelEleve', [r205.replaceAll('R205', 'E101')]);
  });
  // Found by a newcomer: Paul DURAND, teacher, under Léna ROSSIGNOL's jointure (the pupil was silently left out).
  const teacher = copy((d) => {
    const file = fileOf(d, 'PersEducNat');
    const t = readFileSync(file, 'utf8');
    const p300 = recordOf(t, 'P300');
    writeFileSync(file, t.replace(p300, `${p300}\n${p300.replaceAll('P300', 'E100').replace('Fontaine', 'Durand').replace('Hélène', 'Paul')}`));
  });
  for (const [dir, pupil, other] of [[relative, 'E101', 'ENT_Complet_20240901_PersRelEleve_0001.xml'], [teacher, 'E100', 'ENT_Complet_20240901_PersEducNat_0000.xml']]) {
    await eachChunk(dir, async (r, q) => {
      const shared = r.rejected.filter((x) => x.message?.code === 'rowSharedId');
      assert.deepEqual(shared.map((x) => x.file).sort(), ['ENT_Complet_20240901_Eleve_0000.xml', other]);
      assert.deepEqual(await q(`SELECT 1 FROM users WHERE external_id = $1`, [pupil]), []);
    });
  }
});

test('a pupil listed twice, once born in 2099: that record is refused, the other one gives the pupil and its representatives', async () => {
  const text = readFileSync(fileOf(D2, 'Eleve'), 'utf8');
  const e101 = recordOf(text, 'E101');
  const future = e101.replace('02/11/2011', '02/11/2099').replace(/<attr name="ENTElevePersRelEleve">.*?<\/attr>/, '<attr name="ENTElevePersRelEleve"><value>R205$10$1$1$0$0</value></attr>');
  const parentsOf = (q: <T>(sql: string) => Promise<T[]>) =>
    q<{ p: string }>(`SELECT p.external_id AS p FROM relations r JOIN users p ON p.id = r.parent_id JOIN users c ON c.id = r.child_id WHERE c.external_id = 'E101' ORDER BY 1`);
  const expected = (await (async () => {
    const ctx = await testContext();
    try {
      await importFiles(ctx, collectInputs([D2]), { scope: { kind: 'all' }, dryRun: false });
      return (await parentsOf(async <T>(sql: string) => (await ctx.database.pool.query(sql)).rows as T[])).map((x) => x.p);
    } finally {
      await ctx.close();
    }
  })());
  assert.ok(expected.length > 0 && !expected.includes('R205'));
  for (const order of ['accepted first', 'refused first']) {
    const dir = copy((d) => writeFileSync(fileOf(d, 'Eleve'), text.replace(e101, order === 'accepted first' ? `${e101}\n${future}` : `${future}\n${e101}`)));
    await eachChunk(dir, async (r, q) => {
      assert.deepEqual(r.rejected.map((x) => [x.message?.code, x.field]), [['rowFutureBirth', 'ENTPersonDateNaissance']], order);
      assert.deepEqual((await parentsOf(q)).map((x) => x.p), expected, order);
    });
  }
});
