// The « sans administrateur local » warning after a school's import says what of its files could have named one —
// ONDE's « Directeur : oui », the ENT's ADML column, an AAF or STS-web DIR function — and the command that names one as
// the README writes it (npx trousseau admin), with what --structure takes for that school: its UAI, or its id when it
// has none (a school created in the console). The command it gives works.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { after, before, test } from 'node:test';
import { runLocal } from '../src/accounts/admin.js';
import { formatReport, importFiles } from '../src/import/index.js';
import { reportView } from '../src/web/console/views/import.js';
import { testContext } from './helpers/db.js';
import { insertStructure } from './helpers/directory-sample.js';

let ctx: Awaited<ReturnType<typeof testContext>>;
// ONDE's teachers, none of them « Directeur : oui » (the director's row not in the export yet).
const ONDE_TEACHERS = () => [
  {
    name: 'CSVExtraction-enseignants.csv',
    data: Buffer.from(
      [
        '"Civilité";"Nom usage";"Nom";"Prénom";"Adresse";"CP";"Commune";"Pays";"Courriel";"Téléphone domicile";"Téléphone portable";"Directeur";"Classe"',
        '"MME";;"HAMEL";"Odile";;;;;;;;"non";"CP"',
        '"M.";;"LECLERC";"Yann";;;;;;;;"non";"CM1"',
        '',
      ].join('\r\n'),
    ),
  },
];
const CSV_TEACHERS = () => [{ name: 'CSV_Enseignants.csv', data: readFileSync(new URL('./fixtures/import/CSV_Enseignants.csv', import.meta.url)) }];
const flat = (s: string) => s.replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&amp;/g, '&').replace(/\s+/g, ' ');

before(async () => {
  ctx = await testContext();
});
after(async () => {
  await ctx.close();
});

const run = (files: { name: string; data: Buffer }[], school: string, dryRun = false) =>
  importFiles(ctx, files, { dryRun, scope: { kind: 'all' }, structureHint: school, uploaded: true });

test('ONDE into a school without a UAI: « Directeur : oui », and --structure with its id, which names the administrator', async () => {
  const school = await insertStructure(ctx.database.pool, 'École des Cerisiers');
  const report = await run(ONDE_TEACHERS(), school);
  assert.equal(report.fatal, null);
  assert.deepEqual(report.withoutAdmin, [{ id: school, name: 'École des Cerisiers', uai: null, sources: ['be1d'] }]);
  const text = formatReport(report);
  const warning = /\nAttention : 1 établissement de l’import est sans administrateur local : École des Cerisiers\. ([^\n]*)\n/.exec(text)?.[1] ?? '';
  assert.equal(
    warning,
    `Aucun administrateur n’est désigné, ni par « Directeur : oui » dans le fichier ONDE, ni par une nomination. Nommez-en un depuis la fiche d’un compte de l’établissement (console, « Administration locale ») ou par « npx trousseau admin --local <identifiant> --structure ${school} » (sans UAI, --structure prend l’identifiant de l’établissement, celui de l’adresse de sa page dans la console).`,
    text,
  );
  assert.doesNotMatch(text, /DIR|livraison/);
  assert.match(
    flat(String(reportView('en', report))),
    new RegExp(`data-import="without-admin">Warning: 1 school of the import has no local administrator: École des Cerisiers\\. No administrator is named by “Directeur: oui” in the ONDE file, nor by an appointment\\. [^<]*“npx trousseau admin --local <login> --structure ${school}” \\(without a UAI, --structure takes the school’s id`),
  );
  // The classes the run created, after the school's name: a colon as each language writes it (« : » in French only).
  assert.match(flat(String(reportView('en', report))), /<li>École des Cerisiers: CM1, CP<\/li>/);
  assert.match(flat(String(reportView('fr', report))), /<li>École des Cerisiers : CM1, CP<\/li>/);

  // The command as given, with a teacher the run created: appointed, and the next run warns no more.
  const [{ login }] = (await ctx.database.pool.query<{ login: string }>(`SELECT login FROM users u JOIN user_structures us ON us.user_id = u.id WHERE us.structure_id = $1 AND u.profile = 'Teacher' ORDER BY login LIMIT 1`, [school])).rows;
  const out: string[] = [];
  assert.equal(await runLocal(ctx, ['--local', login, '--structure', school], (m) => out.push(m)), 0, out.join('\n'));
  assert.equal((await run(ONDE_TEACHERS(), school, true)).withoutAdmin, undefined);
});

test('the ENT’s CSV into a school with a UAI: the ADML column, and --structure with its UAI', async () => {
  const school = await insertStructure(ctx.database.pool, 'École Jean Jaurès', '0450001A');
  const report = await run(CSV_TEACHERS(), school, true);
  const text = formatReport(report);
  assert.match(
    text,
    /\nAttention : 1 établissement de l’import serait sans administrateur local : École Jean Jaurès \(0450001A\)\. Aucun administrateur n’est désigné, ni par la colonne ADML \(ou « Administrateur local »\) à « oui » du fichier CSV, ni par une nomination\. Nommez-en un [^\n]* « npx trousseau admin --local <identifiant> --structure 0450001A »\.\n/,
  );
  assert.match(formatReport(report, 'en'), /No administrator is named by the ADML \(or “Administrateur local”\) column set to “oui” in the CSV file, nor by an appointment\. [^\n]*“npx trousseau admin --local <login> --structure 0450001A”\.\n/);
});

test('a report stored before the sources were kept: the files in general, the choice --structure takes', async () => {
  const report = await run(CSV_TEACHERS(), await insertStructure(ctx.database.pool, 'École Ancienne'), true);
  const older = { ...report, withoutAdmin: [{ name: 'École Ancienne', uai: null }, { name: 'École Voisine', uai: null }] };
  assert.match(
    formatReport(older),
    /\nAttention : 2 établissements de l’import seraient sans administrateur local : École Ancienne, École Voisine\. Aucun administrateur n’est désigné, ni par les fichiers de l’import, ni par une nomination\. [^\n]*--structure <UAI ou identifiant> » \(--structure prend l’UAI de l’établissement ou, sans UAI, son identifiant, celui de l’adresse de sa page dans la console\)\.\n/,
  );
});
