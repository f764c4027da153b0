// « Nouvel établissement »: the super admin creates a school in the console (a primary school whose only files are
// ONDE exports), then imports its files there — in real Chromium, from the school list to the accounts in PostgreSQL.
// A mistyped UAI (its key letter), a name or UAI already taken and an empty name are said on the form, nothing
// created; a local admin cannot create one.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import type { FastifyInstance } from 'fastify';
import type { Page } from 'playwright-core';
import { parseUai } from '../src/directory/structures.js';
import { importFiles } from '../src/import/index.js';
import { buildServer } from '../src/web/server.js';
import { type SignedInBrowser, signedInBrowser } from './helpers/browser.js';
import { testContext } from './helpers/db.js';
import { insertStructure } from './helpers/directory-sample.js';
import { Client, createUser } from './helpers/web.js';

const PASSWORD = 'une phrase de passe solide';
let ctx: Awaited<ReturnType<typeof testContext>>;
let ui: SignedInBrowser;
let page: Page;
let app: FastifyInstance;
let school: string;

const q = async <T = Record<string, unknown>>(sql: string, params: unknown[] = []) => (await ctx.database.pool.query(sql, params)).rows as T[];
const structures = async () => (await q<{ name: string; uai: string | null }>(`SELECT name, uai FROM structures ORDER BY name`)).map((s) => `${s.name} ${s.uai ?? '-'}`);

before(async () => {
  ctx = await testContext();
  const pool = ctx.database.pool;
  school = await insertStructure(pool, 'Collège Denis Poisson', '0750654D');
  await createUser(pool, { login: 'sophie.super', password: PASSWORD, superAdmin: true, firstName: 'Sophie', lastName: 'Super' });
  const adminId = await createUser(pool, { login: 'alice.adml', password: PASSWORD, profile: 'Personnel', firstName: 'Alice', lastName: 'Adml' });
  await pool.query('INSERT INTO user_structures (user_id, structure_id) VALUES ($1, $2)', [adminId, school]);
  await pool.query('INSERT INTO local_admins (user_id, structure_id) VALUES ($1, $2)', [adminId, school]);
  ui = await signedInBrowser(ctx, 'sophie.super', PASSWORD, { viewport: { width: 1366, height: 900 } });
  page = ui.page;
  app = await buildServer(ctx);
});

after(async () => {
  await ui?.close();
  await app?.close();
  await ctx?.close();
});

test('UAI: seven digits and the key letter of their remainder by 23 (RNE alphabet without I, O, Q)', () => {
  assert.deepEqual(parseUai(' 0750654d '), { uai: '0750654D' });
  assert.deepEqual(parseUai('0750654E'), { error: 'key', expected: '0750654D' });
  assert.deepEqual(parseUai('075065D'), { error: 'format' });
  assert.deepEqual(parseUai(''), { uai: null });
  // 750,654 = 23 × 32,637 + 3: D; 610,001 = 23 × 26,521 + 18: V (the alphabet skips I, O and Q).
  assert.deepEqual(parseUai('0610001V'), { uai: '0610001V' });
});

test('a super admin creates a school from the list, is told what is wrong on the way, and imports its ONDE pupils there', async () => {
  // One school so far: the super admin still sees the list, with « Nouvel établissement ».
  await page.goto(`${ui.url}/console`);
  assert.equal(await page.textContent('h1'), 'Choisir un établissement');
  await Promise.all([page.waitForURL(/\/console\/etablissements\/nouveau$/), page.click('a[data-new-school]')]);
  assert.equal(await page.textContent('h1'), 'Nouvel établissement');

  // A mistyped key letter: the summary, focused, names the field and the UAI these digits give.
  const before = await structures();
  await page.fill('#f-name', 'École élémentaire Émile Zola');
  await page.fill('#f-uai', '0610001A');
  await Promise.all([page.waitForLoadState('load'), page.click('form[action="/console/etablissements"] button[type="submit"]')]);
  const summary = (await page.textContent('#error-summary'))!;
  assert.match(summary, /UAI.*lettre clé ne correspond pas.*0610001V/s, summary);
  assert.equal(await page.evaluate(() => document.activeElement?.id), 'error-summary', 'the error summary has the focus');
  assert.equal(await page.getAttribute('#f-uai', 'aria-invalid'), 'true');
  assert.equal(await page.inputValue('#f-name'), 'École élémentaire Émile Zola', 'the form comes back as typed');
  // A name another school has (case and accents aside).
  await page.fill('#f-uai', '');
  await page.fill('#f-name', 'college denis POISSON');
  await Promise.all([page.waitForLoadState('load'), page.click('form[action="/console/etablissements"] button[type="submit"]')]);
  assert.match((await page.textContent('#error-summary'))!, /déjà ce nom : « Collège Denis Poisson » \(UAI 0750654D\)\./);
  assert.deepEqual(await structures(), before, 'nothing created');

  // Right: created, and the import page says so.
  await page.fill('#f-name', '  École élémentaire   Émile Zola ');
  await page.fill('#f-uai', '0610001v');
  await Promise.all([page.waitForURL(/\/console\/etablissements\/[0-9a-f-]{36}\/import$|\/import\?cree=1$/), page.click('form[action="/console/etablissements"] button[type="submit"]')]);
  assert.match((await page.textContent('.notice-success'))!, /Établissement « École élémentaire Émile Zola » créé/);
  const [made] = await q<{ id: string; origin: string }>(`SELECT id, origin FROM structures WHERE uai = '0610001V' AND name = 'École élémentaire Émile Zola'`);
  assert.ok(made, 'the school is stored with its UAI upper-cased and its name tidied');
  assert.equal(made.origin, 'manual');
  assert.equal((await q(`SELECT 1 FROM audit WHERE action = 'structure.create' AND details->>'structureId' = $1`, [made.id])).length, 1, 'audited');

  // Its first import: ONDE's pupils, into this school.
  const onde = '"Nom Elève";"Prénom Elève";"Date naissance";"Niveau";"Classe"\n"COLIN";"Léa";"04/05/2017";"CP";"CP A"\n"DIALLO";"Moussa";"12/09/2016";"CE1";"CE1"\n';
  await page.setInputFiles('#f-files', { name: 'CSVExtraction-eleves.csv', mimeType: 'text/csv', buffer: Buffer.from(onde, 'utf8') });
  await Promise.all([page.waitForLoadState('load'), page.click('form.import-form button[type="submit"]')]);
  await Promise.all([page.waitForLoadState('load'), page.click('form[action$="/import/confirmer"] button[type="submit"]')]);
  const pupils = await q<{ name: string; classes: string[] }>(
    `SELECT u.last_name AS name, ARRAY(SELECT c.name FROM user_classes uc JOIN classes c ON c.id = uc.class_id WHERE uc.user_id = u.id) AS classes
     FROM users u JOIN user_structures us ON us.user_id = u.id WHERE us.structure_id = $1 ORDER BY 1`,
    [made.id],
  );
  assert.deepEqual(pupils, [{ name: 'COLIN', classes: ['CP A'] }, { name: 'DIALLO', classes: ['CE1'] }]);

  // The same UAI again: refused, naming the school that has it.
  await page.goto(`${ui.url}/console/etablissements/nouveau?lang=en`);
  await page.fill('#f-name', 'Another name');
  await page.fill('#f-uai', '0610001V');
  await Promise.all([page.waitForLoadState('load'), page.click('form[action="/console/etablissements"] button[type="submit"]')]);
  assert.match((await page.textContent('#error-summary'))!, /This UAI already belongs to “École élémentaire Émile Zola” \(UAI 0610001V\)\./);
  await page.goto(`${ui.url}/console?lang=fr`);
});

test('a local admin can neither open the form nor create a school; an empty name is said (422)', async () => {
  const adml = new Client(app);
  assert.equal((await adml.signIn('alice.adml', PASSWORD)).statusCode, 303);
  assert.equal((await adml.get('/console/etablissements/nouveau')).statusCode, 403);
  await adml.get('/console');
  const count = (await structures()).length;
  assert.equal((await adml.post('/console/etablissements', { name: 'École pirate', uai: '' })).statusCode, 403);
  const sup = new Client(app);
  assert.equal((await sup.signIn('sophie.super', PASSWORD)).statusCode, 303);
  await sup.get('/console/etablissements/nouveau');
  const empty = await sup.post('/console/etablissements', { name: '   ', uai: 'abc' });
  assert.equal(empty.statusCode, 422);
  assert.match(empty.body, /Indiquez le nom de l’établissement/);
  assert.match(empty.body, /sept chiffres suivis d’une lettre/);
  assert.equal((await structures()).length, count, 'nothing created');
});

test('a UAI or a name an import would take for another school’s is refused (409); control and invisible characters are taken out, a name without letters refused (422)', async () => {
  // A school of the feed known by its jointure, which happens to read as a UAI (no UAI of its own).
  await q(`INSERT INTO structures (name, external_id, origin) VALUES ('École de la Jointure', '0610002W', 'feed')`);
  const sup = new Client(app);
  assert.equal((await sup.signIn('sophie.super', PASSWORD)).statusCode, 303);
  const create = async (name: string, uai: string) => {
    await sup.get('/console/etablissements/nouveau');
    return sup.post('/console/etablissements', { name, uai });
  };
  const before = await structures();
  // That jointure as the new school's UAI: `trousseau import --structure 0610002W` (a script, the drop folder's
  // habit) would then import into the new school instead.
  const uai = await create('École Neuve', '0610002W');
  assert.equal(uai.statusCode, 409, 'a UAI that is another school’s jointure');
  assert.match(uai.body, /Cet UAI est déjà l’identifiant ou le nom de l’établissement « École de la Jointure »/);
  // Another school's UAI as a name: an import naming the new school would land in that one.
  const name = await create(' 0750654d ', '');
  assert.equal(name.statusCode, 409, 'a name that is another school’s UAI');
  assert.match(name.body, /Ce nom est déjà l’UAI ou l’identifiant de l’établissement « Collège Denis Poisson » \(UAI 0750654D\)/);
  // Only zero-width spaces: empty. Nothing letter-like: said.
  const invisible = await create('\u200b\u200b\u2060', '');
  assert.equal(invisible.statusCode, 422, 'an invisible name');
  assert.match(invisible.body, /Indiquez le nom de l’établissement/);
  const noLetter = await create('!!! ---', '');
  assert.equal(noLetter.statusCode, 422, 'a name without letters');
  assert.match(noLetter.body, /Le nom doit contenir des lettres ou des chiffres/);
  // « Collège Denis Poisson » with a zero-width space for its space: folded apart from it, looking the same.
  const twin = await create('Collège Denis\u200bPoisson', '');
  assert.equal(twin.statusCode, 303, 'taken as « Collège DenisPoisson »');
  assert.deepEqual((await structures()).filter((x) => !before.includes(x)), ['Collège DenisPoisson -'], 'no look-alike stored');
  // Control and format characters (a bell, a right-to-left override, a zero-width joiner) are taken out.
  const made = await create('École\u0007 des\u202e \u200b\r\nArts\u200d', '');
  assert.equal(made.statusCode, 303);
  assert.deepEqual(await q(`SELECT name FROM structures WHERE name LIKE 'École%Arts%'`), [{ name: 'École des Arts' }]);
  // The jointure still leads an import to its school.
  const run = await importFiles(ctx, [{ name: 'CSV_Enseignants.csv', data: Buffer.from('Prénom;Nom\nAnne;VIDAL\n') }], { dryRun: true, scope: { kind: 'all' }, structureHint: '0610002W' });
  assert.deepEqual(run.structures.map((x) => x.name), ['École de la Jointure']);
});
