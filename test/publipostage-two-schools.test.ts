// An account attached to two schools (a teacher in both, a parent with a child in each, a pupil enrolled twice):
// a list, sheet or Word CSV of one school — asked for by structure, within a local admin's scope or from a class
// — names that school's classes only, never the other's.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { test } from 'node:test';
import { parse } from 'csv-parse/sync';
import type { Scope } from '../src/directory/scope.js';
import { exportSelection, type ExportFormat } from '../src/publipostage/generate.js';
import { selectAccounts, selectPage } from '../src/publipostage/select.js';
import { SelectionSchema } from '../src/publipostage/selection.js';
import { fileContext } from './helpers/db.js';
import { addSecondSchool, insertSample } from './helpers/sample.js';

const ctx = await fileContext();
const s = await insertSample(ctx);
await addSecondSchool(ctx, s);

async function file(format: ExportFormat, selection: Record<string, unknown>, scope: Scope): Promise<Buffer> {
  const r = await exportSelection(ctx, { format, selection: SelectionSchema.parse(selection), scope, actorId: null, via: 'cli', model: 8 });
  if (Buffer.isBuffer(r.body)) return r.body;
  const chunks: Buffer[] = [];
  for await (const c of r.body) chunks.push(c as Buffer);
  return Buffer.concat(chunks);
}
const csv = (b: Buffer) => parse(b, { delimiter: ';', bom: true, columns: true }) as Array<Record<string, string>>;
const byLogin = (rows: Array<Record<string, string>>, column: string) => new Map(rows.map((r) => [r[column], r]));

const ALL: Scope = { kind: 'all' };
const marcScope = (): Scope => ({ kind: 'structures', structureIds: [s.structures.S1] });

test('Word CSV of one school: its classes only, for the teacher, the pupil and the parent (children included)', async () => {
  for (const [selection, scope] of [
    [{ structureId: s.structures.S1 }, ALL],
    [{}, marcScope()],
    [{ structureId: s.structures.S1 }, marcScope()],
  ] as const) {
    const rows = byLogin(csv(await file('word', selection, scope)), 'Identifiant');
    const what = JSON.stringify({ selection, scope: scope.kind });
    assert.equal(rows.get(s.logins.anne)?.Classes, '6A', what);
    assert.equal(rows.get(s.logins.zoe)?.Classes, '6A', what);
    assert.equal(rows.get(s.logins.sophie)?.Classes, '6A', what);
    assert.equal(rows.get(s.logins.sophie)?.Enfants, 'Zoé MARTIN (6A)', what);
    assert.equal(rows.get(s.logins.sophie)?.Etablissement, 'Collège Jean Moulin', what);
  }
  // The other school's export names its own class, and the super admin's whole export both.
  const s2 = byLogin(csv(await file('word', { structureId: s.structures.S2 }, ALL)), 'Identifiant');
  assert.equal(s2.get(s.logins.anne)?.Classes, '2NDE1');
  assert.equal(s2.get(s.logins.sophie)?.Enfants, 'Zoé MARTIN (2NDE1), Jules VERNE (2NDE1)');
  const everything = byLogin(csv(await file('word', {}, ALL)), 'Identifiant');
  assert.equal(everything.get(s.logins.anne)?.Classes, '2NDE1, 6A');
});

test('the CSV export and the PDF sheets of one school do not name the other school’s class', async () => {
  const rows = byLogin(csv(await file('csv', { structureId: s.structures.S1 }, ALL)), 'Login');
  assert.equal(rows.get(s.logins.anne)?.Classe, '6A');
  assert.equal(rows.get(s.logins.sophie)?.Enfants, 'Zoé MARTIN (6A)');
  const local = byLogin(csv(await file('csv', {}, marcScope())), 'Login');
  assert.equal(local.get(s.logins.zoe)?.Classe, '6A');
  const pdf = execFileSync('pdftotext', ['-', '-'], { input: await file('pdf', { structureId: s.structures.S1 }, ALL), encoding: 'utf8' });
  assert.match(pdf, /Anne/);
  assert.doesNotMatch(pdf, /2NDE1/);
});

test('a class (the class view, a class filter): the classes of that class’s school only', async () => {
  // The class view's selection: the class, the teacher's scope (which spans both schools here).
  const teacher: Scope = { kind: 'classes', classIds: [s.classes['6A'], s.classes['2NDE1']] };
  const rows = await selectAccounts(ctx, SelectionSchema.parse({ classIds: [s.classes['6A']], profiles: ['Student', 'Relative'] }), teacher);
  const sophie = rows.find((r) => r.login === s.logins.sophie);
  assert.deepEqual(sophie?.classes, ['6A']);
  // Her other child, Jules, is in the other school: not named in this class's lists.
  assert.deepEqual(sophie?.children.map((c) => [c.firstName, c.classes]), [['Zoé', ['6A']]]);
  assert.deepEqual(rows.find((r) => r.login === s.logins.zoe)?.classes, ['6A']);
  const word = byLogin(csv(await file('word', { classIds: s.classes['6A'] }, ALL)), 'Identifiant');
  assert.equal(word.get(s.logins.anne)?.Classes, '6A');
});

test('a filter naming the other school never shows a local admin or a teacher that school’s classes or children', async () => {
  const teacher: Scope = { kind: 'classes', classIds: [s.classes['6A']] };
  for (const scope of [marcScope(), teacher]) {
    for (const selection of [{ structureId: s.structures.S2 }, { classIds: s.classes['2NDE1'] }, { profiles: 'Relative' }]) {
      const what = JSON.stringify({ selection, scope: scope.kind });
      const parsed = SelectionSchema.parse(selection);
      // The preview's page query and the export's whole-selection query.
      const page = await selectPage(ctx, parsed, scope, { limit: 50 });
      const all = await selectAccounts(ctx, parsed, scope);
      for (const rows of [page, all]) {
        for (const r of rows) {
          assert.ok(!r.classes.includes('2NDE1'), `${what}: ${r.login} shows 2NDE1`);
          assert.ok(!r.children.some((c) => c.firstName === 'Jules' || c.classes.includes('2NDE1')), `${what}: ${r.login}'s children`);
        }
      }
    }
  }
  const sheets = csv(await file('csv', { structureId: s.structures.S2 }, marcScope()));
  assert.ok(sheets.every((r) => !r.Classe.includes('2NDE1') && !r.Enfants.includes('Jules')));
});
