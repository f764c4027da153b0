// Remarks on rows imported all the same (types.ts isNote: a child not found, an e-mail left out) are no rejected rows:
// the console and the command line count and title them apart from the rows left out. A parents' file imported
// without its pupils finds no child at all: said as a warning, with the file to import too.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import type { FastifyInstance } from 'fastify';
import { formatReport, importFiles } from '../src/import/index.js';
import { buildServer } from '../src/web/server.js';
import { testContext } from './helpers/db.js';
import { insertStructure } from './helpers/directory-sample.js';
import { Client, createUser, multipart } from './helpers/web.js';

let ctx: Awaited<ReturnType<typeof testContext>>;
let app: FastifyInstance;
let superAdmin: Client;
const PASSWORD = 'correct horse battery';

const csv = (lines: string[]) => Buffer.from(`${lines.join('\r\n')}\r\n`);
const PUPILS = csv([
  '"Nom Elève";"Nom d\'usage Elève";"Prénom Elève";"Date naissance";"Sexe";"Adresse1";"Cp1";"Commune1";"Pays1";" Cycle";"Niveau";"Classe"',
  '"BLONDEL";;"Rémi";"2017-03-02";"M";;;;;"CYCLE II";"CP";"CP"',
  '"CARON";;"Lina";"2016-01-12";"F";;;;;"CYCLE II";"CE1";"CE1"',
]);
// Two parents, each naming a child (one with a malformed e-mail, imported without it), and a row without a name: rejected.
const PARENTS = csv([
  '"Civilité Responsable";"Nom usage responsable";"Nom responsable";"Prénom responsable";"Adresse responsable";"CP responsable";"Commune responsable";"Pays";"Courriel";"Téléphone domicile";"Téléphone travail";"Numéro de poste";"Téléphone portable";"Nom d\'usage enfant";"Nom de famille enfant";"Prénom enfant";"Classes enfants"',
  '"Mme";;"BLONDEL";"Agathe";"5 rue du Moulin";"99200";"Cerisy";;"agathe.blondel@@exemple";;;;;;"BLONDEL";"Rémi";"CP"',
  '"M.";;"CARON";"Gilles";"8 rue Haute";"99200";"Cerisy";;;;;;;;"CARON";"Lina";"CE1"',
  '"M.";;;;"8 rue Haute";"99200";"Cerisy";;;;;;;;"CARON";"Lina";"CE1"',
]);

before(async () => {
  ctx = await testContext();
  app = await buildServer(ctx);
  await createUser(ctx.database.pool, { login: 'super.admin', password: PASSWORD, superAdmin: true });
  superAdmin = new Client(app);
  assert.equal((await superAdmin.signIn('super.admin', PASSWORD)).statusCode, 303);
});

after(async () => {
  await app.close();
  await ctx.close();
});

/** The dry-run page of `files` uploaded on `school`'s import page, as the console shows it (entities decoded). */
async function consoleDryRun(school: string, files: { name: string; data: Buffer }[], lang = 'fr'): Promise<string> {
  const base = `/console/etablissements/${school}`;
  const headers = { 'accept-language': lang };
  await superAdmin.get(`${base}/import`, headers);
  const { body, type } = multipart(files);
  const up = await app.inject({
    method: 'POST',
    url: `${base}/import?_csrf=${superAdmin.csrf}`,
    headers: { ...headers, cookie: [...superAdmin.cookies].map(([k, v]) => `${k}=${v}`).join('; '), 'content-type': type },
    payload: body,
  });
  assert.equal(up.statusCode, 303, up.body.slice(0, 500));
  const dry = await superAdmin.get(String(up.headers.location), headers);
  assert.equal(dry.statusCode, 200);
  return dry.body.replace(/&amp;/g, '&').replace(/&#39;/g, '’').replace(/\s+/g, ' ');
}

test('a parents file alone: its remarks are counted apart from its one rejected row, and no child found is said', async () => {
  const school = await insertStructure(ctx.database.pool, 'École des Cerisiers');
  const files = [{ name: 'CSVExtraction-responsables.csv', data: PARENTS }];

  const page = await consoleDryRun(school, files);
  assert.match(page, /2 créés, 1 rejeté ; 3 remarques/);
  const rejected = /data-import="rejected">(.*?)<\/div>/.exec(page)?.[1] ?? '';
  assert.match(rejected, /1 ligne rejetée \(le reste est importé\)/);
  assert.match(rejected, /CSVExtraction-responsables\.csv, ligne 4/);
  assert.doesNotMatch(rejected, /introuvable|invalide/, 'the remarks are not under the rejected heading');
  const notes = /data-import="notes">(.*?)<\/div>/.exec(page)?.[1] ?? '';
  assert.match(notes, /3 remarques sur des lignes importées quand même, à vérifier/);
  assert.equal(notes.match(/<li>/g)?.length, 3);
  assert.match(notes, /BLONDEL Rémi \(CP\)/);
  assert.match(page, /data-import="no-child-found">Attention : aucun enfant trouvé pour ces parents \(2 enfants nommés/);
  assert.match(page, /Importez aussi le fichier des élèves/);

  const en = await consoleDryRun(school, files, 'en');
  assert.match(en, /1 row rejected \(the rest is imported\)/);
  assert.match(en, /3 notes on rows imported all the same, to check/);
  assert.match(en, /Warning: no child found for these parents/);

  const report = await importFiles(ctx, files, { dryRun: true, scope: { kind: 'all' }, structureHint: school, uploaded: true });
  assert.equal(report.rejected.length, 4, 'the JSON keeps every entry under `rejected`');
  assert.deepEqual(report.relations.byName, { named: 2, found: 0 });
  const text = formatReport(report);
  assert.match(text, /\nLignes rejetées \(1\) :\n {2}CSVExtraction-responsables\.csv, ligne 4, Nom responsable : champ obligatoire vide\nRemarques sur des lignes importées quand même, à vérifier \(3\) :\n/);
  assert.match(text, /\nAttention : aucun enfant trouvé pour ces parents \(2 enfants nommés, aucun parmi les élèves de l’établissement\)/);
  assert.match(formatReport(report, 'en'), /\nNotes on rows imported all the same, to check \(3\):\n/);
});

test('a parents file with its pupils: children found, no warning, and remarks alone get no rejected heading', async () => {
  const school = await insertStructure(ctx.database.pool, 'École des Platanes');
  const files = [
    { name: 'CSVExtraction-eleves.csv', data: PUPILS },
    { name: 'CSVExtraction-responsables.csv', data: csv(PARENTS.toString().trimEnd().split('\r\n').slice(0, 3)) },
  ];
  const page = await consoleDryRun(school, files);
  assert.doesNotMatch(page, /no-child-found|aucun enfant trouvé/);
  assert.doesNotMatch(page, /data-import="rejected"|lignes? rejetée/);
  assert.match(page, /data-import="notes"><p><strong>1 remarque sur une ligne importée quand même, à vérifier/);
  const report = await importFiles(ctx, files, { dryRun: true, scope: { kind: 'all' }, structureHint: school, uploaded: true });
  assert.deepEqual(report.relations.byName, { named: 2, found: 2 });
  assert.equal(report.relations.created, 2);
  const text = formatReport(report);
  assert.doesNotMatch(text, /Lignes rejetées|aucun enfant trouvé/);
  assert.match(text, /\nRemarques sur des lignes importées quand même, à vérifier \(1\) :\n {2}CSVExtraction-responsables\.csv, ligne 2, Courriel/);
});
