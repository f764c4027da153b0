// Family packs (« Fiches famille », « PDF par famille ») over the real-shaped schools: each family starts on a new page
// (2 or 8 sheets a page), read back page by page with pdftotext. Who the class's pupils and their legal representatives
// are is counted from the files apart from the importer:
//   be1d-emile-zola CM2: 24 pupils, 48 parents (the HACQUES sisters Thelma and Chaima share both parents; MALGUY
//     Lisbeth, a third parent of LE GARRERES Alexandre, also has Anastacia in CE2; LARDEAU Genevieve, ROSIELLO
//     Gilles and both LE GARRERES have a child in another class, Raphaël in CE1, Esra in PS).
//   aaf-2013 52001$1S3: 11 pupils, 16 legal representatives (ENTElevePersRelEleve field 4 = 1 or 2), 3 of them with a
//     child in another class; no two pupils of one class share a representative in this feed (30 representatives have
//     two children, always in different classes), so the whole school's export is checked too.
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { parse } from 'csv-parse/sync';
import iconv from 'iconv-lite';
import { readAaf } from '../../src/import/aaf.js';
import { collectInputs, formatReport, importFiles } from '../../src/import/index.js';
import { familySelection } from '../../src/publipostage/family.js';
import { exportSelection } from '../../src/publipostage/generate.js';
import { handOut } from '../../src/publipostage/handout.js';
import { renderSheetsPdf, type SheetModel } from '../../src/publipostage/pdf.js';
import { SelectionSchema } from '../../src/publipostage/selection.js';
import { fileContext, fileTempDir, FIXTURES, sqlReaders } from '../helpers/db.js';
import { pdfPages, pdfText } from '../helpers/pdf.js';

const ALL = { kind: 'all' } as const;
const ctx = await fileContext();
const tmp = fileTempDir('trousseau-family-pages-');
const { q } = sqlReaders(ctx);

let saved = 0;
const save = (pdf: Buffer) => {
  const file = join(tmp, `f${++saved}.pdf`);
  writeFileSync(file, pdf);
  return file;
};

/** The be1d CSV rows (ISO-8859-1, `;`, quoted), header apart. */
const csvRows = (name: string): string[][] =>
  parse(iconv.decode(readFileSync(join(FIXTURES, 'be1d-emile-zola', name)), 'latin1'), { delimiter: ';', relax_column_count: true }).slice(1);

/**
 * Reads a family-order PDF page by page: the accounts of each page (by the login printed), every one once, and no
 * page holding two families (connected by the relations between the printed accounts). Returns the accounts printed
 * and the number of pages.
 */
async function checkPages(file: string, perPage: number): Promise<{ printed: string[]; pages: number }> {
  const byLogin = new Map((await q<{ login: string; id: string }>(`SELECT login, id FROM users`)).map((r) => [r.login, r.id]));
  const pages: string[][] = [];
  for (let p = 1; p <= pdfPages(file); p++) {
    const ids = [...pdfText(file, p).matchAll(/Identifiant : (\S+)/g)].map((m) => byLogin.get(m[1])!);
    assert.ok(ids.length >= 1 && ids.length <= perPage && ids.every(Boolean), `page ${p}: ${ids.length} sheets`);
    pages.push(ids);
  }
  const printed = pages.flat();
  assert.equal(new Set(printed).size, printed.length, 'every sheet once');
  // Families: connected components of the relations between the printed accounts.
  const root = new Map(printed.map((id) => [id, id]));
  const find = (x: string): string => (root.get(x) === x ? x : find(root.get(x)!));
  for (const r of await q<{ p: string; c: string }>(`SELECT parent_id AS p, child_id AS c FROM relations WHERE parent_id = ANY($1) AND child_id = ANY($1)`, [printed])) {
    root.set(find(r.p), find(r.c));
  }
  for (const [i, ids] of pages.entries()) {
    const families = new Set(ids.map(find));
    assert.equal(families.size, 1, `page ${i + 1} holds ${families.size} families`);
  }
  // (A family may come back further on: a younger sibling in a later class, whose parents were printed with the elder;
  // a parent of two households' children, printed with the first.)
  return { printed, pages: pages.length };
}

const names = async (ids: string[]) =>
  (await q<{ n: string }>(`SELECT last_name || ' ' || first_name AS n FROM users WHERE id = ANY($1)`, [ids])).map((r) => r.n).sort();
const classPdf = async (classId: string, model: SheetModel) => {
  const pupils = (await q<{ id: string }>(`SELECT user_id AS id FROM user_classes uc JOIN users u ON u.id = uc.user_id WHERE class_id = $1 AND u.profile = 'Student'`, [classId])).map((r) => r.id);
  const base = SelectionSchema.parse({ classIds: [classId], userIds: pupils, profiles: ['Student'], sort: 'alpha' });
  const rows = await handOut(ctx, {
    selection: await familySelection(ctx.database.pool, base, pupils), scope: ALL, actorId: null, action: 'publipostage.family_pack', kind: 'family_pack',
  });
  return save(await renderSheetsPdf(ctx, rows, { model, sort: 'family' }));
};

/** The console's « PDF par famille » of a whole school, pupils and parents (streamed export). */
const exportPdf = async (structureId: string, model: SheetModel) => {
  const e = await exportSelection(ctx, {
    format: 'pdf', model, selection: SelectionSchema.parse({ structureId, profiles: 'Student,Relative', sort: 'family' }), scope: ALL, actorId: null, via: 'cli',
  });
  const chunks: Buffer[] = [];
  for await (const c of e.body as AsyncIterable<Buffer>) chunks.push(c);
  return save(Buffer.concat(chunks));
};

test('be1d-emile-zola CM2: one family a page, every pupil and parent of the class once', async () => {
  const r = await importFiles(ctx, collectInputs([join(FIXTURES, 'be1d-emile-zola')]), { dryRun: false, scope: ALL });
  assert.equal(r.fatal, null, formatReport(r));
  // From the files: CM2's pupils, and the parents whose rows name a CM2 child (child columns by 4, from the 14th).
  const pupils = csvRows('CSVExtraction-eleves.csv').filter((c) => c[15] === 'CM2').map((c) => `${c[0] || c[1]} ${c[2]}`);
  const parents = new Set<string>();
  for (const c of csvRows('CSVExtraction-responsables.csv')) {
    for (let i = 13; i + 3 < c.length + 1; i += 4) if (c[i + 3] === 'CM2' && (c[i] || c[i + 1])) parents.add(`${c[2]} ${c[3]}`);
  }
  assert.equal(pupils.length, 24);
  assert.equal(parents.size, 48);
  const [{ id }] = await q<{ id: string }>(`SELECT c.id FROM classes c JOIN structures s ON s.id = c.structure_id WHERE s.name = 'École Emile Zola' AND c.name = 'CM2'`);
  for (const [model, pages] of [[2, 46], [8, 23]] as const) {
    // 8 a page: a page a pupil, the HACQUES sisters on one with their parents. 2 a page: one for each of the 2 pupils
    // with one parent, two for each of the 19 with two, the HACQUES sisters, and the 2 pupils with three parents
    // (LE GARRERES Alexandre, OULLADJI Clément).
    const got = await checkPages(await classPdf(id, model), model);
    assert.deepEqual(await names(got.printed), [...pupils, ...parents].sort(), `model ${model}`);
    assert.equal(got.pages, pages, `model ${model}`);
  }
  // The whole school as the console exports it, 8 a page: siblings in two classes (ROSIELLO Raphaël CE1 and Morad
  // CM2…), a parent of two households' children (MALGUY Lisbeth: Anastacia CE2, LE GARRERES Alexandre CM2). The 247
  // pupils and 463 parents the be1d-emile-zola test counts.
  const [{ sid }] = await q<{ sid: string }>(`SELECT id AS sid FROM structures WHERE name = 'École Emile Zola'`);
  assert.equal((await checkPages(await exportPdf(sid, 8), 8)).printed.length, 247 + 463);
});

test('aaf-2013 1S3 of 52001, and the whole school 52001 in the console’s « PDF par famille »: one family a page', async () => {
  const AAF = join(FIXTURES, 'aaf-2013');
  const r = await importFiles(ctx, collectInputs([AAF]), { dryRun: false, scope: ALL });
  assert.equal(r.fatal, null, formatReport(r));
  // From the files: each pupil's class and legal representatives.
  const classOf = new Map<string, string>();
  const reps = new Map<string, string[]>();
  await readAaf('eleve', { path: join(AAF, 'FULL_ENTTSSERVICES_Complet_20130117_Eleve_0001.xml') }, (rec) => {
    const id = rec.attrs.get('ENTPersonJointure')![0];
    classOf.set(id, rec.attrs.get('ENTEleveClasses')![0]);
    reps.set(id, (rec.attrs.get('ENTElevePersRelEleve') ?? []).map((v) => v.split('$')).filter((f) => f[3] === '1' || f[3] === '2').map((f) => f[0]));
  });
  const expected = (pupils: string[]) => [...new Set([...pupils, ...pupils.flatMap((p) => reps.get(p)!)])].sort();
  const externalIds = async (ids: string[]) => (await q<{ x: string }>(`SELECT external_id AS x FROM users WHERE id = ANY($1)`, [ids])).map((x) => x.x).sort();
  const s1S3 = [...classOf].filter(([, c]) => c === '52001$1S3').map(([p]) => p);
  assert.equal(s1S3.length, 11);
  assert.equal(expected(s1S3).length, 11 + 16);
  const [{ id }] = await q<{ id: string }>(`SELECT c.id FROM classes c JOIN structures s ON s.id = c.structure_id WHERE s.external_id = '52001' AND c.name = '1S3'`);
  // A page a pupil (8 a page); 2 a page: one for each of the 6 pupils with one representative, two for the 5 with two.
  for (const [model, pages] of [[2, 16], [8, 11]] as const) {
    const got = await checkPages(await classPdf(id, model), model);
    assert.deepEqual(await externalIds(got.printed), expected(s1S3), `model ${model}`);
    assert.equal(got.pages, pages, `model ${model}`);
  }
  // The whole school, pupils and parents, as the console exports it (its pupils' siblings are all in other schools).
  const school = [...classOf].filter(([, c]) => c.startsWith('52001$')).map(([p]) => p);
  const [{ sid }] = await q<{ sid: string }>(`SELECT id AS sid FROM structures WHERE external_id = '52001'`);
  assert.deepEqual(await externalIds((await checkPages(await exportPdf(sid, 8), 8)).printed), expected(school));
});
