// Re-importing an unchanged feed skips unchanged accounts by their digest (users.import_hash, migration 0016),
// and any write outside an import clears the digest, so that the next import puts the feed's values back.
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { collectInputs, formatReport, importFiles, type ImportReport } from '../src/import/index.js';
import { fileContext, sqlReaders } from './helpers/db.js';

const D2 = join(new URL('./fixtures/aaf/', import.meta.url).pathname, '2d');
const ctx = await fileContext();
const { q } = sqlReaders(ctx);

const run = async (dryRun = false): Promise<ImportReport> => {
  const report = await importFiles(ctx, collectInputs([D2]), { scope: { kind: 'all' }, dryRun });
  assert.equal(report.fatal, null, formatReport(report));
  return report;
};
const hashOf = async (ext: string) => (await q<{ h: string | null }>(`SELECT import_hash AS h FROM users WHERE external_id = $1`, [ext]))[0].h;
/** Everything an import owns, to compare the directory before and after. */
const snapshot = () =>
  q(`SELECT u.external_id, u.profile, u.first_name, u.last_name, u.email, u.birth_date, u.functions, u.absent_since,
            (SELECT array_agg(c.name ORDER BY c.name) FROM user_classes uc JOIN classes c ON c.id = uc.class_id WHERE uc.user_id = u.id) AS classes,
            (SELECT array_agg(s.external_id ORDER BY s.external_id) FROM user_structures us JOIN structures s ON s.id = us.structure_id WHERE us.user_id = u.id) AS structures,
            (SELECT array_agg(p.external_id ORDER BY p.external_id) FROM relations r JOIN users p ON p.id = r.parent_id WHERE r.child_id = u.id) AS parents
     FROM users u WHERE u.external_id IS NOT NULL ORDER BY u.external_id`);

test('an unchanged feed: every account keeps its digest, nothing is written, the report (and its dry run) says unchanged', async () => {
  const first = await run();
  assert.ok(first.created > 0);
  assert.deepEqual(await q(`SELECT external_id FROM users WHERE source = 'aaf' AND import_hash IS NULL`), []);
  const before = await snapshot();
  const hashes = await q(`SELECT external_id, import_hash, updated_at FROM users ORDER BY external_id`);

  const dry = await run(true);
  const again = await run();
  for (const r of [dry, again]) {
    assert.deepEqual([r.created, r.updated, r.unchanged, r.preDeleted, r.restored], [0, 0, first.created, 0, 0]);
    assert.deepEqual(r.relations, { created: 0, removed: 0, unresolved: first.relations.unresolved });
  }
  assert.deepEqual(dry.files.map((f) => [f.file, f.unchanged, f.ignored]), again.files.map((f) => [f.file, f.unchanged, f.ignored]));
  assert.deepEqual(await snapshot(), before);
  assert.deepEqual(await q(`SELECT external_id, import_hash, updated_at FROM users ORDER BY external_id`), hashes);
});

test('a change made outside an import clears the digest; the next import compares that account and puts the feed back', async () => {
  const [pupil, other] = await q<{ id: string; external_id: string }>(
    `SELECT id, external_id FROM users u WHERE profile = 'Student' AND EXISTS (SELECT 1 FROM relations r WHERE r.child_id = u.id)
       AND EXISTS (SELECT 1 FROM user_classes uc WHERE uc.user_id = u.id) ORDER BY external_id LIMIT 2`,
  );
  const [teacher] = await q<{ id: string; external_id: string }>(`SELECT id, external_id FROM users WHERE profile = 'Teacher' ORDER BY external_id LIMIT 1`);
  const [link] = await q<{ parent_id: string; parent: string }>(
    `SELECT r.parent_id, p.external_id AS parent FROM relations r JOIN users p ON p.id = r.parent_id WHERE r.child_id = $1 LIMIT 1`,
    [other.id],
  );
  const before = await snapshot();

  await q(`UPDATE users SET first_name = 'Modifié' WHERE id = $1`, [pupil.id]);
  await q(`DELETE FROM user_classes WHERE user_id = $1`, [teacher.id]);
  await q(`DELETE FROM relations WHERE parent_id = $1 AND child_id = $2`, [link.parent_id, other.id]);
  // A column the import does not own (sign-in) leaves the digest alone.
  const [untouched] = await q<{ external_id: string }>(`SELECT external_id FROM users WHERE profile = 'Relative' AND id <> $1 ORDER BY external_id LIMIT 1`, [link.parent_id]);
  await q(`UPDATE users SET last_login_at = now() WHERE external_id = $1`, [untouched.external_id]);
  assert.equal(await hashOf(pupil.external_id), null);
  assert.equal(await hashOf(teacher.external_id), null);
  assert.equal(await hashOf(other.external_id), null);
  assert.equal(await hashOf(link.parent), null);
  assert.notEqual(await hashOf(untouched.external_id), null);

  const report = await run();
  assert.equal(report.created, 0);
  assert.equal(report.updated, 4); // the renamed pupil, the teacher's classes, both sides of the link
  assert.equal(report.relations.created, 1);
  assert.deepEqual(await snapshot(), before);
  assert.deepEqual(await q(`SELECT external_id FROM users WHERE source = 'aaf' AND import_hash IS NULL`), []);
});

test('an account whose digest is unchanged is not compared at all (a change hidden from the triggers stays)', async () => {
  const [pupil] = await q<{ id: string; external_id: string }>(`SELECT id, external_id FROM users WHERE profile = 'Student' ORDER BY external_id LIMIT 1`);
  const client = await ctx.database.pool.connect();
  try {
    await client.query('BEGIN');
    await client.query(`SELECT set_config('trousseau.import', 'on', true)`);
    await client.query(`UPDATE users SET first_name = 'Caché' WHERE id = $1`, [pupil.id]);
    await client.query('COMMIT');
  } finally {
    client.release();
  }
  const report = await run();
  assert.equal(report.updated, 0);
  assert.equal((await q<{ f: string }>(`SELECT first_name AS f FROM users WHERE id = $1`, [pupil.id]))[0].f, 'Caché');
  // Once the digest is cleared, the feed's value comes back.
  await q(`UPDATE users SET import_hash = NULL WHERE id = $1`, [pupil.id]);
  assert.equal((await run()).updated, 1);
  assert.notEqual((await q<{ f: string }>(`SELECT first_name AS f FROM users WHERE id = $1`, [pupil.id]))[0].f, 'Caché');
});

test("a change in a child's school alone reaches its relatives: their digest covers the structures they follow", async () => {
  // E101 moves from school 71001 to 71002; nothing else changes, R200 (its parent, also E100's in 71001) included.
  const dir = mkdtempSync(join(tmpdir(), 'trousseau-aaf-moved-'));
  try {
    for (const f of readdirSync(D2)) {
      let xml = readFileSync(join(D2, f), 'utf8');
      if (f.includes('_Eleve_')) {
        const at = xml.indexOf('<id>E101</id>');
        const end = xml.indexOf('</addRequest>', at);
        const moved = xml
          .slice(at, end)
          .replace('<attr name="ENTPersonStructRattach"><value>71001</value></attr>', '<attr name="ENTPersonStructRattach"><value>71002</value></attr>')
          .replace('<value>71001$5B</value>', '<value>71002$5B</value>');
        assert.notEqual(moved, xml.slice(at, end));
        xml = xml.slice(0, at) + moved + xml.slice(end);
      }
      writeFileSync(join(dir, f), xml);
    }
    const schoolsOf = async (ext: string) =>
      (await q<{ s: string }>(
        `SELECT s.external_id AS s FROM users u JOIN user_structures us ON us.user_id = u.id JOIN structures s ON s.id = us.structure_id
         WHERE u.external_id = $1 ORDER BY 1`,
        [ext],
      )).map((x) => x.s);
    assert.deepEqual(await schoolsOf('R200'), ['71001']);
    const hash = await hashOf('R200');
    const moved = await importFiles(ctx, collectInputs([dir]), { scope: { kind: 'all' }, dryRun: false });
    assert.equal(moved.fatal, null, formatReport(moved));
    assert.deepEqual(await schoolsOf('E101'), ['71002']);
    assert.deepEqual(await schoolsOf('R200'), ['71001', '71002']);
    assert.notEqual(await hashOf('R200'), hash);
    // And back: the relative leaves the school with the child.
    await run();
    assert.deepEqual(await schoolsOf('R200'), ['71001']);
    assert.equal(await hashOf('R200'), hash);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
