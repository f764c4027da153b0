// September (« la rentrée ») in a primary school: every pupil changes class, and a spelling corrected over the
// summer must not give a pupil a second account. Invented ONDE/BE1D files: test/fixtures/be1d/rentree/ (June, then
// September with promoted classes, two CP newcomers, the CM2 gone to collège, ROUSSEL Jade corrected to ROUSSELLE).
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import iconv from 'iconv-lite';
import { collectInputs, formatReport, importFiles, type ImportOptions } from '../src/import/index.js';
import { fileContext, sqlReaders } from './helpers/db.js';

const RENTREE = new URL('./fixtures/be1d/rentree/', import.meta.url).pathname;
const opts = (structureHint: string): ImportOptions => ({ dryRun: false, scope: { kind: 'all' }, structureHint });

const ctx = await fileContext();
const { q } = sqlReaders(ctx);

/** The pupils of a school: `login first last class pre-deleted?`, sorted. */
const pupils = async (school: string) =>
  (
    await q<{ p: string }>(
      `SELECT u.login || ' ' || u.first_name || ' ' || u.last_name || ' ' || coalesce(string_agg(c.name, ','), '-') ||
              CASE WHEN u.absent_since IS NULL THEN '' ELSE ' (absent)' END AS p
       FROM users u JOIN user_structures us ON us.user_id = u.id JOIN structures s ON s.id = us.structure_id
       LEFT JOIN user_classes uc ON uc.user_id = u.id LEFT JOIN classes c ON c.id = uc.class_id
       WHERE s.name = $1 AND u.profile = 'Student' GROUP BY u.id ORDER BY 1`,
      [school],
    )
  ).map((r) => r.p);
/** The account of a pupil of a school, by first name and birth date (logins are the first school's). */
const idOf = async (school: string, firstName: string) =>
  (
    await q<{ id: string }>(
      `SELECT u.id FROM users u JOIN user_structures us ON us.user_id = u.id JOIN structures s ON s.id = us.structure_id
       WHERE s.name = $1 AND u.first_name = $2 AND u.profile = 'Student'`,
      [school, firstName],
    )
  )[0]?.id;

/** The September pupils' file, changed by `edit` (UTF-8 text in, ISO-8859-1 CRLF out, as ONDE writes it). */
const september = (edit: (text: string) => string) => {
  const dir = join(RENTREE, 'septembre');
  const text = iconv.decode(readFileSync(join(dir, 'CSVExtraction-eleves.csv')), 'latin1');
  return [
    { name: 'CSVExtraction-eleves.csv', data: iconv.encode(edit(text), 'latin1') },
    { name: 'CSVExtraction-responsables.csv', data: readFileSync(join(dir, 'CSVExtraction-responsables.csv')) },
  ];
};
const without = (text: string, ...names: string[]) =>
  text
    .split('\r\n')
    .filter((l) => !names.some((n) => l.includes(n)))
    .join('\r\n');

test('September: promoted classes and a corrected name keep every pupil’s account; the family keeps its code', async () => {
  const school = 'École des Tilleuls';
  const june = await importFiles(ctx, collectInputs([join(RENTREE, 'juin')]), opts(school));
  assert.equal(june.fatal, null, formatReport(june));
  assert.equal(june.created, 13, formatReport(june));
  const jade = await idOf(school, 'Jade');
  assert.ok(jade, 'Jade has an account in June');
  const [code] = await q<{ activation_code_enc: string }>(`SELECT activation_code_enc FROM users WHERE id = $1`, [jade]);

  const sept = await importFiles(ctx, collectInputs([join(RENTREE, 'septembre')]), opts(school));
  assert.equal(sept.fatal, null, formatReport(sept));
  // 2 CP newcomers; 10 pupils promoted (Jade renamed among them) and their mother's link; the 2 CM2 pre-deleted.
  assert.deepEqual([sept.created, sept.preDeleted], [2, 2], formatReport(sept));
  assert.deepEqual(sept.renamed, [
    { file: 'CSVExtraction-eleves.csv', line: 10, login: 'jade.roussel', from: 'Jade ROUSSEL', to: 'Jade ROUSSELLE', applied: true },
  ]);
  assert.deepEqual(await pupils(school), [
    'adam.petit Adam PETIT CP',
    'chloe.morel Chloé MOREL CM2 (absent)',
    'hugo.lambert Hugo LAMBERT CM1',
    'ines.caron Inès CARON CM2',
    'jade.roussel Jade ROUSSELLE CM1',
    'lea.girard Léa GIRARD CE1',
    'leo.girard Léo GIRARD CE1',
    'louis.perrin Louis PERRIN CE2',
    'lucas.perrin Lucas PERRIN CE2',
    'maelle.dubois Maëlle DUBOIS CE2',
    'nino.fabre Nino FABRE CE1',
    'noah.roux Noah ROUX CM2 (absent)',
    'tom.bernard Tom BERNARD CM2',
    'zoe.martin Zoé MARTIN CP',
  ]);
  const [after] = await q<{ activation_code_enc: string }>(`SELECT activation_code_enc FROM users WHERE id = $1`, [jade]);
  assert.equal(after.activation_code_enc, code.activation_code_enc, 'the code the family holds still works');
  const mother = await q<{ n: string }>(
    `SELECT c.login n FROM relations r JOIN users p ON p.id = r.parent_id JOIN users c ON c.id = r.child_id WHERE p.login = 'sandrine.roussel'`,
  );
  assert.deepEqual(mother.map((x) => x.n), ['jade.roussel']);
});

test('September with twins: a corrected name is never matched by a guess when the pupil has a twin; their activated accounts are kept', async () => {
  const school = 'École des Jumeaux';
  assert.equal((await importFiles(ctx, collectInputs([join(RENTREE, 'juin')]), opts(school))).created, 13);
  const ids = new Map<string, string>();
  for (const first of ['Louis', 'Lucas', 'Léa', 'Léo', 'Jade']) ids.set(first, (await idOf(school, first))!);
  await q(`UPDATE users SET activated_at = now(), password_hash = 'hash' WHERE id = ANY($1)`, [[...ids.values()]]);
  // Louis and Léo have left; Lucas's family name and Léa's were corrected over the summer.
  const files = september((t) => without(t, '"Louis"', '"Léo"').replace('"PERRIN";;"Lucas"', '"PERIN";;"Lucas"').replace('"GIRARD";;"Léa"', '"GIRAUD";;"Léa"'));
  const sept = await importFiles(ctx, files, opts(school));
  assert.equal(sept.fatal, null, formatReport(sept));
  // Lucas PERIN is close to Lucas PERRIN only, but Lucas has a twin (Louis, same birth date and family name): no
  // guess, a new account, and the activated one is kept. Léa GIRAUD is close to both Léa and Léo GIRARD: ambiguous.
  // Jade ROUSSELLE has no twin: renamed.
  assert.deepEqual(
    sept.renamed.map((x) => [x.from, x.to, x.applied]).sort(),
    [
      ['Jade ROUSSEL', 'Jade ROUSSELLE', true],
      ['Lucas PERRIN', 'Lucas PERIN', false],
      ['Léa GIRARD', 'Léa GIRAUD', false],
      ['Léo GIRARD', 'Léa GIRAUD', false],
    ],
    formatReport(sept),
  );
  // 2 CP newcomers + Lucas PERIN + Léa GIRAUD; nobody's activated account goes to another child.
  assert.equal(sept.created, 4, formatReport(sept));
  const live = await q<{ first_name: string; last_name: string; absent: boolean }>(
    `SELECT first_name, last_name, absent_since IS NOT NULL AS absent FROM users WHERE id = ANY($1) ORDER BY first_name`,
    [[...ids.values()]],
  );
  assert.deepEqual(
    live.map((x) => `${x.first_name} ${x.last_name}${x.absent ? ' (absent)' : ''}`).sort(),
    ['Jade ROUSSELLE', 'Louis PERRIN (absent)', 'Lucas PERRIN', 'Léa GIRARD', 'Léo GIRARD'],
  );
});

test('mid-year, classes keep their pupils: a corrected name in another class is still no rename', async () => {
  const school = 'École du Milieu';
  assert.equal((await importFiles(ctx, collectInputs([join(RENTREE, 'juin')]), opts(school))).created, 13);
  // The June file again, Jade moved to CM1 and her name corrected: the CE2 kept Hugo, so her class still counts.
  const dir = join(RENTREE, 'juin');
  const text = iconv
    .decode(readFileSync(join(dir, 'CSVExtraction-eleves.csv')), 'latin1')
    .replace('"ROUSSEL";;"Jade";"2016-10-21";"F";;;;;"CYCLE II";"CE2";"CE2"', '"ROUSSELLE";;"Jade";"2016-10-21";"F";;;;;"CYCLE III";"CM1";"CM1"');
  const report = await importFiles(ctx, [{ name: 'CSVExtraction-eleves.csv', data: iconv.encode(text, 'latin1') }], opts(school));
  assert.equal(report.fatal, null, formatReport(report));
  assert.deepEqual([report.created, report.renamed.length], [1, 0], formatReport(report));
});

test('the ENT’s CSV template, September: the same rule (name-built keys of csv: records), confirmed by a parent the account and the record share', async () => {
  const school = 'École du Modèle';
  const eleves = (rows: string) => ({ name: 'CSV_Eleves.csv', data: iconv.encode(`Prénom*;Nom*;Date de naissance*;Classes*\r\n${rows}`, 'latin1') });
  const parents = (child: string, className: string) => ({
    name: 'CSV_Parents.csv',
    data: iconv.encode(`Nom*;Prénom*;Nom de l'élève;Prénom de l'élève;Classes de l'élève\r\nLEFEBVRE;Hélène;${child};Anaïs;${className}\r\n`, 'latin1'),
  });
  const june = await importFiles(ctx, [eleves('Anaïs;LEFEBVRE;12/03/2017;CE1\r\nBastien;COLIN;01/09/2017;CE1\r\nCamille;NOËL;20/11/2016;CE2\r\n'), parents('LEFEBVRE', 'CE1')], opts(school));
  assert.equal(june.created, 4, formatReport(june));
  const anais = await idOf(school, 'Anaïs');
  const sept = await importFiles(ctx, [eleves('Anaïs;LEFÈVRE;12/03/2017;CE2\r\nBastien;COLIN;01/09/2017;CE2\r\nCamille;NOËL;20/11/2016;CM1\r\n'), parents('LEFÈVRE', 'CE2')], opts(school));
  assert.deepEqual([sept.created, sept.preDeleted], [0, 0], formatReport(sept));
  assert.deepEqual(sept.renamed.map((x) => [x.from, x.to, x.applied]), [['Anaïs LEFEBVRE', 'Anaïs LEFÈVRE', true]]);
  assert.equal(await idOf(school, 'Anaïs'), anais, 'one account for Anaïs');
});

test('September without a parent to confirm it: a pupil who left and a newcomer born the same day with a close name are two children', async () => {
  // Emma MARTIN left in June (her family activated her account), Emma MARTINEZ arrives: nothing but the birth date
  // and the names ties them, and the leaver's password must not open the newcomer's account.
  const school = 'École des Départs';
  const eleves = (rows: string) => [{ name: 'CSV_Eleves.csv', data: iconv.encode(`Prénom*;Nom*;Date de naissance*;Classes*\r\n${rows}`, 'latin1') }];
  const june = await importFiles(ctx, eleves('Emma;MARTIN;02/04/2013;CM2\r\nLucas;BLANC;05/06/2014;CM1\r\nZoé;NOIR;07/08/2014;CM1\r\n'), opts(school));
  assert.equal(june.created, 3, formatReport(june));
  const leaver = await idOf(school, 'Emma');
  await ctx.database.pool.query(`UPDATE users SET activated_at = now(), password_hash = 'x' WHERE id = $1`, [leaver]);
  const sept = await importFiles(ctx, eleves('Emma;MARTINEZ;02/04/2013;CM1\r\nLucas;BLANC;05/06/2014;CM2\r\nZoé;NOIR;07/08/2014;CM2\r\n'), opts(school));
  assert.equal(sept.created, 1, `the newcomer gets an account of her own: ${formatReport(sept)}`);
  assert.ok(!sept.renamed.some((x) => x.applied), `no rename applied: ${JSON.stringify(sept.renamed)}`);
  const r = await ctx.database.pool.query(`SELECT id, last_name FROM users WHERE first_name = 'Emma' AND last_name IN ('MARTIN', 'MARTINEZ') ORDER BY last_name`);
  assert.deepEqual(r.rows.map((x) => x.last_name), ['MARTIN', 'MARTINEZ'], 'two accounts');
  assert.equal(r.rows[0].id, leaver, 'the leaver keeps hers');
});
