// ONDE/BE1D import over the shared Emile Zola school: counts computed from the files themselves.
//   CSVExtraction-eleves.csv        247 pupils
//   CSVExtraction-enseignants.csv    14 teachers
//   CSVExtraction-responsables.csv  469 rows; 8 parents appear on two rows each (one per child, no e-mail):
//                                   BEAUMONT Muriel, FERREIRA Stéphanie, GIORGETTA Veronique, JOYEZ Carine,
//                                   JOYEZ Andre, NGUYEN PHU HUNG Patrice, PICOT Thierry, PICOT Christelle.
//                                   Only the PICOTs' two rows share an address (the pseudonymised file gives
//                                   the others two addresses); all 8 name siblings on their rows, and no
//                                   civility or e-mail contradicts. At two addresses, the siblings' other
//                                   parent ties the rows (csv.ts sameRelative): JOYEZ Andre names Cécile and
//                                   Typhaine (so JOYEZ Carine is one person, and he by her), NGUYEN PHU HUNG
//                                   Patrice names Amel and Edwige (GIORGETTA Veronique), she names them for
//                                   him. Nobody ties BEAUMONT Muriel's rows (Laurine, Karim: no other parent,
//                                   born 79 days apart) nor FERREIRA Stéphanie's (James's father is Eric,
//                                   Mélissa's Cyril) → 469 − 6 = 463 accounts; 6 rows named as merged, 2 as
//                                   kept apart (lines 21 and 175).
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { test } from 'node:test';
import { mergeUsers } from '../../src/directory/duplicates.js';
import { collectInputs, formatReport, importFiles } from '../../src/import/index.js';
import { fileContext, FIXTURES, sqlReaders } from '../helpers/db.js';

const BE1D = join(FIXTURES, 'be1d-emile-zola');
const ALL = { kind: 'all' } as const;
const ctx = await fileContext();
const { q, count } = sqlReaders(ctx);

const snapshot = async () =>
  JSON.stringify(await q(`SELECT external_id, login, activation_code_enc, first_name, last_name, email, updated_at, pre_deleted_at FROM users ORDER BY external_id`)) +
  JSON.stringify(await q(`SELECT (SELECT count(*) FROM relations) r, (SELECT count(*) FROM user_classes) c, (SELECT count(*) FROM structures) s`));
const childrenOf = async (id: string) =>
  (await q<{ n: string }>(`SELECT c.last_name || ' ' || c.first_name n FROM relations r JOIN users c ON c.id = r.child_id WHERE r.parent_id = $1 ORDER BY 1`, [id])).map((r) => r.n);

test('Emile Zola: 247 pupils, 14 teachers, 463 parents (6 given once per child, 2 namesakes at two addresses), every child linked', async () => {
  const report = await importFiles(ctx, collectInputs([BE1D]), { dryRun: false, scope: ALL } as Parameters<typeof importFiles>[2]);
  assert.equal(report.fatal, null, formatReport(report));
  // The two namesakes kept apart are remarks on their second rows, not rows left out.
  assert.deepEqual(
    report.rejected.map((r) => [r.file, r.line, r.field, r.message?.code, r.message?.params?.first]),
    [['CSVExtraction-responsables.csv', 21, 'Adresse responsable', 'relativeApart', 20], ['CSVExtraction-responsables.csv', 175, 'Adresse responsable', 'relativeApart', 174]],
  );
  const created = (n: number) => ({ created: n, updated: 0, unchanged: 0, restored: 0, preDeleted: 0 });
  assert.deepEqual(report.structures, [{ name: 'École Emile Zola', uai: null, created: true, accounts: { Student: created(247), Relative: created(463), Teacher: created(14) } }]);
  assert.deepEqual(
    report.files.map((f) => [f.format, f.encoding, f.rows]),
    [['ONDE/BE1D élèves', 'ISO-8859-1', 247], ['ONDE/BE1D enseignants', 'ISO-8859-1', 14], ['ONDE/BE1D parents', 'ISO-8859-1', 469]],
  );
  // The parents' line adds up: 463 accounts and the 6 rows of a parent given once per child; the 2 kept apart are remarks.
  assert.match(formatReport(report), /\n {2}CSVExtraction-responsables\.csv — ONDE\/BE1D parents — ISO-8859-1 — 469 lignes — 463 créés, 6 lignes regroupées avec une autre \(même personne\) ; 2 remarques\n/, formatReport(report));
  assert.equal(await count(`SELECT count(*) n FROM users WHERE profile = 'Student' AND source = 'be1d' AND origin = 'feed'`), 247);
  assert.equal(await count(`SELECT count(*) n FROM users WHERE profile = 'Teacher'`), 14);
  assert.equal(await count(`SELECT count(*) n FROM users WHERE profile = 'Relative'`), 463);
  // Only the two namesakes kept apart are numbered.
  assert.deepEqual((await q<{ login: string }>(`SELECT login FROM users WHERE login ~ '[0-9]$' ORDER BY login`)).map((r) => r.login), ['muriel.beaumont2', 'stephanie.ferreira2']);
  assert.equal(report.relations.unresolved, 0);
  assert.equal(await count(`SELECT count(*) n FROM relations`), 491);
  assert.equal(report.relations.created, 491);
  // The 6 rows read as an earlier row's parent are named in the report (csv.ts sameRelative): 469 rows, 463 parents.
  assert.deepEqual(
    report.merged?.map((m) => [m.file, m.first, m.line, m.name]),
    ([[202, 203, 'GIORGETTA Veronique'], [251, 252, 'JOYEZ Carine'],
      [253, 254, 'JOYEZ Andre'], [343, 344, 'NGUYEN PHU HUNG Patrice'], [368, 369, 'PICOT Thierry'], [370, 371, 'PICOT Christelle']] as const)
      .map(([first, line, name]) => ['CSVExtraction-responsables.csv', first, line, name]),
  );

  // A parent given on two rows, one per child: one account, both children.
  for (const [last, first, kids] of [
    ['PICOT', 'Thierry', ['PICOT Hugo', 'PICOT Rémy']],
    ['JOYEZ', 'Carine', ['JOYEZ Cécile', 'JOYEZ Typhaine']],
    ['NGUYEN PHU HUNG', 'Patrice', ['NGUYEN PHU HUNG Amel', 'NGUYEN PHU HUNG Edwige']],
  ] as const) {
    const rows = await q<{ id: string }>(`SELECT id FROM users WHERE last_name = $1 AND first_name = $2`, [last, first]);
    assert.equal(rows.length, 1, `${first} ${last}`);
    assert.deepEqual(await childrenOf(rows[0].id), kids);
  }
  // Two rows of one name at two addresses, nothing else tying them: two accounts, one child each.
  for (const [last, first, kids] of [
    ['BEAUMONT', 'Muriel', [['BEAUMONT Laurine'], ['BEAUMONT Karim']]],
    ['FERREIRA', 'Stéphanie', [['FERREIRA James'], ['FERREIRA Mélissa']]],
  ] as const) {
    const rows = await q<{ id: string }>(`SELECT id FROM users WHERE last_name = $1 AND first_name = $2 ORDER BY login`, [last, first]);
    assert.deepEqual(await Promise.all(rows.map((r) => childrenOf(r.id))), kids, `${first} ${last}`);
  }

  const [elea] = await q<Record<string, string>>(`SELECT * FROM users WHERE last_name = 'CAILLET' AND first_name = 'Eléa'`);
  assert.equal(elea.birth_date, '2006-09-27');
  assert.equal(elea.login, 'elea.caillet');
  const [corinne] = await q<Record<string, string>>(`SELECT * FROM users WHERE last_name = 'ADJIBEL' AND first_name = 'Corinne'`);
  assert.equal(corinne.title, 'Mme');
  assert.deepEqual(await childrenOf(corinne.id), ['DRAHONNET Cassandra', 'MARTINEZ Alexandre', 'MARTINEZ Marjolaine']);
  const [jp] = await q<Record<string, string>>(`SELECT * FROM users WHERE last_name = 'FONTAINE'`);
  assert.equal(jp.login, 'jean-paul.fontaine');

  // Same folder again: nothing changes.
  const before = await snapshot();
  const again = await importFiles(ctx, collectInputs([BE1D]), { dryRun: false, scope: ALL } as Parameters<typeof importFiles>[2]);
  assert.deepEqual([again.created, again.updated, again.preDeleted, again.unchanged], [0, 0, 0, 724]);
  assert.equal(await snapshot(), before);
});

test('an account merged away by an admin is not recreated: its feed id updates the kept account', async () => {
  const [dropped] = await q<Record<string, string>>(`SELECT * FROM users WHERE last_name = 'CAILLET' AND first_name = 'Eléa'`);
  const parents = await count(`SELECT count(*) n FROM relations WHERE child_id = $1`, [dropped.id]);
  const [kept] = await q<Record<string, string>>(
    `INSERT INTO users (profile, first_name, last_name, login) VALUES ('Student', 'Elea', 'Caillet', 'elea.caillet2') RETURNING *`,
  );
  await q(`INSERT INTO user_structures (user_id, structure_id) SELECT $1, structure_id FROM user_structures WHERE user_id = $2`, [kept.id, dropped.id]);
  await q(`DELETE FROM users WHERE id = $1`, [dropped.id]);
  await q(`INSERT INTO user_aliases (external_id, user_id) VALUES ($1, $2)`, [dropped.external_id, kept.id]);
  const users = await count(`SELECT count(*) n FROM users`);
  const report = await importFiles(ctx, collectInputs([BE1D]), { dryRun: false, scope: ALL } as Parameters<typeof importFiles>[2]);
  assert.equal(report.fatal, null);
  assert.deepEqual([report.created, report.preDeleted], [0, 0], formatReport(report));
  assert.equal(await count(`SELECT count(*) n FROM users`), users);
  const [after] = await q<Record<string, unknown>>(`SELECT * FROM users WHERE id = $1`, [kept.id]);
  assert.deepEqual([after.first_name, after.login, after.pre_deleted_at], ['Elea', 'elea.caillet2', null]);
  assert.ok(parents > 0);
  assert.equal(await count(`SELECT count(*) n FROM relations WHERE child_id = $1`, [kept.id]), parents);
  assert.deepEqual(report.rejected.map((r) => r.message?.code), ['relativeApart', 'relativeApart']);
});

test('two namesakes kept apart that the school merges (« Gérer les doublons ») stay one account at the next import', async () => {
  const [keep, drop] = await q<{ id: string }>(`SELECT id FROM users WHERE last_name = 'BEAUMONT' AND first_name = 'Muriel' ORDER BY login`);
  await mergeUsers(ctx, ALL, keep.id, drop.id, null);
  assert.deepEqual(await childrenOf(keep.id), ['BEAUMONT Karim', 'BEAUMONT Laurine']);
  const users = await count(`SELECT count(*) n FROM users`);
  const report = await importFiles(ctx, collectInputs([BE1D]), { dryRun: false, scope: ALL } as Parameters<typeof importFiles>[2]);
  assert.equal(report.fatal, null);
  assert.deepEqual([report.created, report.preDeleted], [0, 0], formatReport(report));
  assert.equal(await count(`SELECT count(*) n FROM users`), users);
  assert.equal(await count(`SELECT count(*) n FROM users WHERE last_name = 'BEAUMONT' AND first_name = 'Muriel'`), 1);
  assert.deepEqual(await childrenOf(keep.id), ['BEAUMONT Karim', 'BEAUMONT Laurine']);
});
