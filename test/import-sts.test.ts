// STS-web `sts_emp_<UAI>_<année>.xml`: teachers and staff of the school named by the UAI, functions, classes and
// groups from the timetable services, levels from the MEF, with SIECLE into the same school.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import iconv from 'iconv-lite';
import { collectInputs, formatReport, importFiles } from '../src/import/index.js';
import { testContext } from './helpers/db.js';

const STS = new URL('./fixtures/sts/', import.meta.url).pathname;
const SIECLE = new URL('./fixtures/siecle/', import.meta.url).pathname;
const FILE = 'sts_emp_0990001X_2025.xml';
const ALL = { kind: 'all' } as const;
let ctx: Awaited<ReturnType<typeof testContext>>;

before(async () => {
  ctx = await testContext();
});
after(async () => {
  await ctx.close();
});

const q = async <T = Record<string, unknown>>(sql: string, params: unknown[] = []) => (await ctx.database.pool.query(sql, params)).rows as T[];
const count = async (sql: string, params: unknown[] = []) => Number((await q<{ n: string }>(sql, params))[0].n);
const user = async (last: string, first: string) => (await q<Record<string, unknown> & { id: string }>(`SELECT * FROM users WHERE last_name = $1 AND first_name = $2`, [last, first]))[0];
const classesOf = async (id: string) =>
  q<{ name: string; level: string | null }>(
    `SELECT c.name, l.name AS level FROM user_classes uc JOIN classes c ON c.id = uc.class_id LEFT JOIN levels l ON l.id = c.level_id WHERE uc.user_id = $1 ORDER BY 1`,
    [id],
  );
const groupsOf = async (id: string) => (await q<{ name: string }>(`SELECT g.name FROM user_groups ug JOIN groups g ON g.id = ug.group_id WHERE ug.user_id = $1 ORDER BY 1`, [id])).map((r) => r.name);

test('teachers and staff of the school named by its UAI, with functions, classes, groups and levels', async () => {
  const report = await importFiles(ctx, collectInputs([STS]), { scope: ALL, dryRun: false });
  assert.equal(report.fatal, null, formatReport(report));
  assert.deepEqual(report.structures, [{ name: 'COLLEGE DES TILLEULS', uai: '0990001X', created: true }]);
  const [f] = report.files;
  assert.deepEqual([f.kind, f.format, f.encoding, f.rows, f.created, f.rejected], ['sts-emp', 'STS-web personnels', 'iso-8859-15', 6, 5, 1]);

  assert.equal(await count(`SELECT count(*) n FROM users WHERE profile = 'Teacher' AND source = 'sts' AND origin = 'feed'`), 3);
  assert.equal(await count(`SELECT count(*) n FROM users WHERE profile = 'Personnel' AND source = 'sts'`), 2);

  const helene = await user('DURAND', 'Hélène');
  assert.equal(helene.profile, 'Teacher');
  assert.equal(helene.title, 'Mme');
  assert.equal(helene.birth_date, '1979-04-18');
  assert.equal(helene.external_id, 'sts:0990001X:41001');
  assert.deepEqual(helene.functions, ['0990001X$ENS']);
  // French in 6A (also professeure principale there), Latin in the 6LATIN group.
  assert.deepEqual(await classesOf(helene.id), [{ name: '6A', level: '6EME' }]);
  assert.deepEqual(await groupsOf(helene.id), ['6LATIN']);
  assert.deepEqual(await classesOf((await user('NGUYEN', 'Paul')).id), [{ name: '5B', level: '5EME' }, { name: '6A', level: '6EME' }]);

  // DOC is a teacher without a service; DIR and EDU are staff.
  const martine = await user('BŒUF', 'Martine');
  assert.deepEqual([martine.profile, martine.functions], ['Teacher', ['0990001X$DOC']]);
  assert.deepEqual([(await user('LAMBERT', 'Odile')).profile, (await user('ROCHE', 'Yann')).profile], ['Personnel', 'Personnel']);

  // A division nobody teaches yet still exists.
  assert.equal(await count(`SELECT count(*) n FROM classes WHERE name = '4C'`), 1);

  // An impossible date rejects the row, named by file, line and field.
  assert.equal(report.rejected.length, 1);
  const lines = iconv.decode(readFileSync(join(STS, FILE)), 'iso-8859-15').split('\n');
  const line = lines.findIndex((l) => l.includes('ID="41006"')) + 1;
  assert.deepEqual(report.rejected[0], {
    file: FILE, line, field: 'DATE_NAISSANCE', reason: 'MOREL Inès : date de naissance invalide « 1980-02-31 »',
    message: { code: 'rowInvalidBirthOf', params: { who: 'MOREL Inès', value: '1980-02-31' } },
  });
});

test('SIECLE and STS-web of one UAI land in one school; re-import changes nothing; a departure is pre-deleted', async () => {
  const both = await importFiles(ctx, collectInputs([SIECLE, STS]), { scope: ALL, dryRun: false });
  assert.equal(both.fatal, null, formatReport(both));
  assert.equal(await count(`SELECT count(*) n FROM structures`), 1);
  assert.deepEqual([both.created, both.updated, both.unchanged], [9, 0, 5]);
  // Pupils and teachers share the classes.
  assert.equal(await count(`SELECT count(*) n FROM classes WHERE name = '6A'`), 1);
  assert.equal(await count(`SELECT count(*) n FROM user_classes uc JOIN classes c ON c.id = uc.class_id WHERE c.name = '6A'`), 3 + 2);

  const text = iconv.decode(readFileSync(join(STS, FILE)), 'iso-8859-15');
  const v2 = text.replace(/<INDIVIDU ID="41005"[\s\S]*?<\/INDIVIDU>\r\n/, '');
  const report = await importFiles(ctx, [{ name: FILE, data: iconv.encode(v2, 'iso-8859-15') }], { scope: ALL, dryRun: false });
  assert.equal(report.fatal, null, formatReport(report));
  assert.deepEqual([report.files[0].created, report.files[0].updated, report.files[0].unchanged, report.files[0].preDeleted], [0, 0, 4, 1]);
  assert.ok((await user('ROCHE', 'Yann')).absent_since);
  assert.equal((await user('COQUELICOT', 'Léa')).absent_since, null, 'an STS-web file covers teachers and staff only');
});
