// A teacher of 3C printing a parent's sheet from the class view got « Responsable de : Mathis Girard (4A), Yasmine
// Girard (3C) » (the demo's jerome.girard): the name and class of a pupil the teacher does not teach, which the class
// view's own list (« Enfants : Yasmine Girard ») does not show. A teacher's lists, sheets and files name only the
// children of the teacher's classes, and only those classes for the parent; a local admin's still name every child
// of the school.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { test } from 'node:test';
import { parse } from 'csv-parse/sync';
import type { Scope } from '../src/directory/scope.js';
import { exportSelection, type ExportFormat } from '../src/publipostage/generate.js';
import { selectAccounts, selectPage } from '../src/publipostage/select.js';
import { SelectionSchema } from '../src/publipostage/selection.js';
import { fileContext } from './helpers/db.js';
import { insertSample } from './helpers/sample.js';

const ctx = await fileContext();
const s = await insertSample(ctx);
// Anne teaches 6A: Zoé's class. Paul is the father of Zoé (6A) and Léo (5A).
const anne: Scope = { kind: 'classes', classIds: [s.classes['6A']] };
const marc: Scope = { kind: 'structures', structureIds: [s.structures.S1] };
const paulIn6A = () => SelectionSchema.parse({ classIds: [s.classes['6A']], profiles: ['Relative'] });

async function file(format: ExportFormat, scope: Scope): Promise<Buffer> {
  const r = await exportSelection(ctx, { format, selection: paulIn6A(), scope, actorId: null, via: 'cli', model: 8 });
  if (Buffer.isBuffer(r.body)) return r.body;
  const chunks: Buffer[] = [];
  for await (const c of r.body) chunks.push(c as Buffer);
  return Buffer.concat(chunks);
}

test('a teacher’s rows of a parent name only the children of the teacher’s classes', async () => {
  for (const rows of [await selectAccounts(ctx, paulIn6A(), anne), await selectPage(ctx, paulIn6A(), anne, { limit: 10, offset: 0 })]) {
    const paul = rows.find((r) => r.login === s.logins.paul);
    assert.deepEqual(paul?.children.map((c) => [c.firstName, c.classes]), [['Zoé', ['6A']]]);
    assert.deepEqual(paul?.classes, ['6A']);
  }
  // The school's local admin sees both.
  const paul = (await selectAccounts(ctx, paulIn6A(), marc)).find((r) => r.login === s.logins.paul);
  assert.deepEqual(paul?.children.map((c) => c.firstName), ['Léo', 'Zoé']);
});

test('a teacher’s sheet and CSV of a parent do not name the child of another class', async () => {
  const pdf = execFileSync('pdftotext', ['-', '-'], { input: await file('pdf', anne), encoding: 'utf8' }).replace(/\s+/g, ' ');
  assert.match(pdf, /Responsable de : Zoé MARTIN \(6A\)/);
  assert.doesNotMatch(pdf, /Léo|5A/);
  const rows = parse(await file('csv', anne), { delimiter: ';', bom: true, columns: true }) as Array<Record<string, string>>;
  const paul = rows.find((r) => r.Login === s.logins.paul);
  assert.equal(paul?.Enfants, 'Zoé MARTIN (6A)');
  assert.equal(paul?.Classe, '6A');
});
