// A school's « Importer des utilisateurs » takes that school's files only: an AAF feed, which creates and updates every
// school it names (its dry run would plan other schools' departures), is refused there with the way to the import for
// every school (/console/import), as that page refuses CSV files. A local admin's AAF file stays forbidden (403).
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import type { FastifyInstance } from 'fastify';
import { buildServer } from '../src/web/server.js';
import { aafRecord as rec, aafXml as xml } from './helpers/aaf-feed.js';
import { testContext } from './helpers/db.js';
import { insertStructure } from './helpers/directory-sample.js';
import { Client, createUser, multipart } from './helpers/web.js';

let ctx: Awaited<ReturnType<typeof testContext>>;
let app: FastifyInstance;
let school: string;
let superAdmin: Client;
let localAdmin: Client;
const PASSWORD = 'correct horse battery';

const NAME = (kind: string) => `ENT_0931001A_Complet_20250901_${kind}_0000.xml`;
const FEED = () => [
  {
    name: NAME('EtabEducNat'),
    data: xml(
      rec('EtabEducNat', '93001', [['ENTStructureJointure', ['93001']], ['ENTStructureUAI', ['0931001A']], ['ENTStructureNomCourant', ['CLG$JEAN MOULIN$MONTREUIL']]]) +
        rec('EtabEducNat', '93002', [['ENTStructureJointure', ['93002']], ['ENTStructureUAI', ['0931002B']], ['ENTStructureNomCourant', ['CLG$LES TILLEULS$BAGNOLET']]]),
    ),
  },
  { name: NAME('PersEducNat'), data: xml(rec('PersEducNat', 'P1', [['ENTPersonJointure', ['P1']], ['sn', ['Moulin']], ['givenName', ['Jeanne']], ['ENTPersonStructRattach', ['93001']]])) },
];
const count = async (table: string) => Number((await ctx.database.pool.query(`SELECT count(*) AS n FROM ${table}`)).rows[0].n);
const flat = (s: string) => s.replace(/&amp;/g, '&').replace(/\s+/g, ' ');

before(async () => {
  ctx = await testContext();
  app = await buildServer(ctx);
  const pool = ctx.database.pool;
  school = await insertStructure(pool, 'École Denis Poisson', '0750001A');
  const adminId = await createUser(pool, { login: 'admin.poisson', password: PASSWORD, profile: 'Personnel', firstName: 'Alice', lastName: 'Admin' });
  await pool.query('INSERT INTO user_structures (user_id, structure_id) VALUES ($1, $2)', [adminId, school]);
  await pool.query('INSERT INTO local_admins (user_id, structure_id) VALUES ($1, $2)', [adminId, school]);
  await createUser(pool, { login: 'super.admin', password: PASSWORD, superAdmin: true });
  superAdmin = new Client(app);
  assert.equal((await superAdmin.signIn('super.admin', PASSWORD)).statusCode, 303);
  localAdmin = new Client(app);
  assert.equal((await localAdmin.signIn('admin.poisson', PASSWORD)).statusCode, 303);
});

after(async () => {
  await app.close();
  await ctx.close();
});

async function upload(client: Client, url: string, lang = 'fr') {
  await client.get(url);
  const { body, type } = multipart(FEED());
  return app.inject({
    method: 'POST',
    url: `${url}?_csrf=${client.csrf}`,
    headers: { cookie: [...client.cookies].map(([k, v]) => `${k}=${v}`).join('; '), 'content-type': type, 'accept-language': lang },
    payload: body,
  });
}

test('a super admin’s AAF feed on a school’s page: refused (400), naming the file, with the link to the import for every school', async () => {
  const before = { structures: await count('structures'), users: await count('users') };
  const res = await upload(superAdmin, `/console/etablissements/${school}/import`);
  assert.equal(res.statusCode, 400);
  const page = flat(res.body);
  assert.match(page, /data-import="aafElsewhere">« ENT_0931001A_Complet_20250901_EtabEducNat_0000\.xml » est un fichier de l’annuaire académique \(AAF\) : il crée et met à jour tous les établissements qu’il nomme/);
  assert.match(page, /<a href="\/console\/import">Importer ce flux sur la page « Importer un flux académique \(AAF\) »<\/a>/);
  assert.doesNotMatch(page, /name="token"/, 'no dry run to confirm');
  assert.deepEqual({ structures: await count('structures'), users: await count('users') }, before, 'nothing written');

  const en = flat((await upload(superAdmin, `/console/etablissements/${school}/import`, 'en')).body);
  assert.match(en, /is an academic directory \(AAF\) file: it creates and updates every school it names/);

  // The page for every school takes it: its dry run.
  const region = await upload(superAdmin, '/console/import');
  assert.equal(region.statusCode, 303, region.body.slice(0, 500));
  assert.match(String(region.headers.location), /^\/console\/import\/[A-Za-z0-9_-]{32}$/);
});

test('a local admin’s AAF feed on their school’s page stays forbidden (403)', async () => {
  const res = await upload(localAdmin, `/console/etablissements/${school}/import`);
  assert.equal(res.statusCode, 403);
  assert.match(flat(res.body), /son import est réservé aux super-administrateurs/);
});

test('a school’s upload form does not offer AAF files', async () => {
  const form = flat((await superAdmin.get(`/console/etablissements/${school}/import`)).body);
  const hint = /<p class="hint" id="f-files-hint">(.*?)<\/p>/.exec(form)?.[1] ?? '';
  assert.match(hint, /^Fichiers CSV \(modèles de l’ENT, export ONDE ; séparateur point-virgule, virgule ou tabulation\), exports SIECLE/);
  // The same rule as a local admin's: a CSV template's profile is read from its name.
  assert.match(hint, /Le profil d’un modèle CSV se lit dans son nom/);
  assert.doesNotMatch(hint, /fichiers XML de l’annuaire académique/);
  assert.match(hint, /Le flux AAF s’importe sur la page « Importer un flux académique \(AAF\) »/);
});

test('a local admin’s upload form offers the files they may send: CSV, their school’s SIECLE or STS-web exports, a .zip', async () => {
  const form = flat((await localAdmin.get(`/console/etablissements/${school}/import`)).body);
  assert.match(form, /<input type="file" id="f-files" name="files" multiple required accept="\.csv,\.txt,\.tsv,\.xml,\.zip"/);
  const hint = /<p class="hint" id="f-files-hint">(.*?)<\/p>/.exec(form)?.[1] ?? '';
  assert.match(hint, /exports SIECLE \(élèves, responsables, nomenclature\) ou STS-web de l’établissement, ou une archive \.zip/);
  assert.doesNotMatch(hint, /AAF/, 'the feed is not theirs to send');
});
