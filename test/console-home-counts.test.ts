// The console home of a school over HTTP on real PostgreSQL: « Comptes par profil », « Comptes activés au fil des
// semaines »'s funnel and « Comment les comptes se connectent » count the same accounts (the demo collège showed
// Élève 574 in one and 572 in the other), a note says which are left out (pre-deleted accounts, out of the feed),
// and the funnel's steps are each within the previous one: accounts activated with no hand-out recorded (the
// demo's 264 activated for 0 handed out), or handed one only after their activation, are counted apart, in a note.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import type { FastifyInstance } from 'fastify';
import { recordDistribution } from '../src/publipostage/tracking.js';
import { buildServer } from '../src/web/server.js';
import { testContext } from './helpers/db.js';
import { insertClass, insertStructure, insertUser, relate } from './helpers/directory-sample.js';
import { Client, createUser } from './helpers/web.js';

const PASSWORD = 'une phrase de passe solide';
let ctx: Awaited<ReturnType<typeof testContext>>;
let app: FastifyInstance;
let school = '';
let admin: Client;

before(async () => {
  ctx = await testContext();
  app = await buildServer(ctx);
  const pool = ctx.database.pool;
  school = await insertStructure(pool, 'Collège Jean Moulin', '0440099X');
  const cls = await insertClass(pool, school, '6e A');
  const director = await createUser(pool, { login: 'dir.moulin', password: PASSWORD, profile: 'Personnel', firstName: 'Dir', lastName: 'Moulin' });
  await pool.query('INSERT INTO user_structures (user_id, structure_id) VALUES ($1, $2)', [director, school]);
  await pool.query('INSERT INTO local_admins (user_id, structure_id) VALUES ($1, $2)', [director, school]);
  await pool.query(`UPDATE users SET activated_at = now() WHERE id = $1`, [director]);
  const on = { structureIds: [school], classIds: [cls] };
  // Five pupils: two handed a sheet (one of them activated since), one activated with no hand-out recorded,
  // one never reached; and two out of the feed, pre-deleted (one of them activated before it left).
  const handed = [await insertUser(pool, { firstName: 'Ana', lastName: 'Élève', activated: true, ...on }), await insertUser(pool, { firstName: 'Bob', lastName: 'Élève', ...on })];
  const child = await insertUser(pool, { firstName: 'Cid', lastName: 'Élève', activated: true, ...on });
  await insertUser(pool, { firstName: 'Dan', lastName: 'Élève', ...on });
  await insertUser(pool, { firstName: 'Eve', lastName: 'Élève', ...on });
  // Fay, activated ten days ago, handed a sheet only now (a family pack printed again): not activated by it.
  const fay = await insertUser(pool, { firstName: 'Fay', lastName: 'Élève', activated: true, ...on });
  await pool.query(`UPDATE users SET activated_at = now() - interval '10 days' WHERE id = $1`, [fay]);
  for (const first of ['Gone', 'Left']) {
    const id = await insertUser(pool, { firstName: first, lastName: 'Parti', activated: first === 'Gone', ...on });
    await pool.query(`UPDATE users SET absent_since = now() - interval '40 days', pre_deleted_at = now() - interval '3 days' WHERE id = $1`, [id]);
  }
  // A parent attached to no structure, only through the child (as in AAF feeds); a super admin attached to the school.
  const parent = await insertUser(pool, { firstName: 'Paul', lastName: 'Élève', profile: 'Relative', activated: true });
  await relate(pool, parent, child);
  await insertUser(pool, { firstName: 'Sam', lastName: 'Root', profile: 'Personnel', superAdmin: true, activated: true, structureIds: [school] });
  await recordDistribution(pool, { userIds: handed, kind: 'sheet', actorId: director });
  // Ana activated after her sheet (handed two days ago); Fay's sheet came after her activation.
  await pool.query(`UPDATE distribution_events SET at = now() - interval '2 days' WHERE user_id = $1`, [handed[0]]);
  await pool.query(`UPDATE users SET activated_at = now() - interval '1 day' WHERE id = $1`, [handed[0]]);
  await recordDistribution(pool, { userIds: [fay], kind: 'sheet', actorId: director });
  admin = new Client(app);
  assert.equal((await admin.signIn('dir.moulin', PASSWORD)).statusCode, 303);
});

after(async () => {
  await app.close();
  await ctx.close();
});

/** Per profile, the « Comptes » column of the profile table and of the sign-in summary. */
function tables(body: string) {
  const profiles: Record<string, number> = {};
  for (const [, p, v] of body.matchAll(/data-profile-total="(\w+)">([^<]*)</g)) profiles[p] = Number(v.replace(/\D/g, ''));
  const signIn: Record<string, number> = {};
  for (const [, p, v] of body.matchAll(/<tr data-sign-in="(\w+)">.*?<td data-how>.*?<\/td><td class="num">([^<]*)<\/td>/gs)) signIn[p] = Number(v.replace(/\D/g, ''));
  return { profiles, signIn };
}

const funnel = (body: string) => [...body.matchAll(/data-funnel="(\w+)">.*?<span class="bar-value">([^<]*)</gs)].map(([, k, v]) => [k, Number(v)]);

test('the profile table and the sign-in summary count the same accounts; the pre-deleted ones left out are named', async () => {
  const page = await admin.get(`/console/etablissements/${school}`);
  assert.equal(page.statusCode, 200);
  const { profiles, signIn } = tables(page.body);
  // 6 pupils (2 pre-deleted aside), the parent through its child, the director (the super admin never counted).
  assert.deepEqual(profiles, { Student: 6, Relative: 1, Teacher: 0, Personnel: 1, Guest: 0 });
  assert.deepEqual(signIn, profiles);
  // « dont N activé(s) » agrees with N (« 1 activés » read wrong).
  assert.match(page.body, /<p class="lead">\d+ comptes, dont (1 activé|[02-9]\d* activés|1\d+ activés) \(/);
  assert.match(page.body, /data-pre-deleted="2">2 comptes pré-supprimés \(absents du flux, en attente de suppression définitive\) ne sont comptés nulle part sur cette page\./);
  // The whole-school funnel starts from the same accounts.
  assert.equal(funnel(page.body)[0][1], 8);
  // The class bars leave the pre-deleted pupils out too: 3 of 6 activated.
  assert.match(page.body, /3 \/ 6 élèves/);
  const en = await admin.get(`/console/etablissements/${school}`, { 'accept-language': 'en' });
  assert.match(en.body, /2 pre-deleted accounts \(absent from the feed, waiting for final deletion\) are not counted anywhere on this page\./);
});

test('an empty school says it has no account yet, one account is « 1 compte » (« 0 comptes, dont 0 activé » read wrong)', async () => {
  const pool = ctx.database.pool;
  const empty = await insertStructure(pool, 'École vide', '0440098W');
  await pool.query(`INSERT INTO local_admins (user_id, structure_id) SELECT id, $1 FROM users WHERE login = 'dir.moulin'`, [empty]);
  let page = await admin.get(`/console/etablissements/${empty}`);
  assert.match(page.body, /<p class="lead">Aucun compte pour l’instant : importez les fichiers de l’établissement\.<\/p>/);
  assert.match((await admin.get(`/console/etablissements/${empty}`, { 'accept-language': 'en' })).body, /<p class="lead">No account yet: import the school’s files\.<\/p>/);
  await insertUser(pool, { firstName: 'Seule', lastName: 'Élève', structureIds: [empty] });
  page = await admin.get(`/console/etablissements/${empty}`);
  assert.match(page.body, /<p class="lead">1 compte, dont 0 activé \(/);
});

test('the funnel: each step within the previous one, the accounts activated with no hand-out recorded counted apart', async () => {
  const page = await admin.get(`/console/etablissements/${school}?profil=Student`);
  // 6 pupils, 3 handed a sheet, 1 of them (Ana) activated since; Cid, activated with no hand-out recorded, and Fay,
  // activated before hers, said apart.
  assert.deepEqual(funnel(page.body), [['accounts', 6], ['given', 3], ['activated', 1]]);
  assert.match(page.body, /data-funnel-unrecorded="2">2 comptes activés sans remise enregistrée avant leur activation/);
  // The chart still shows every activation.
  assert.match(page.body, /data-activity-desc>[^<]*: 3 au total sur la période/);
  const en = await admin.get(`/console/etablissements/${school}?profil=Student`, { 'accept-language': 'en' });
  assert.match(en.body, /2 accounts activated with no hand-out recorded before their activation/);
  // Nothing activated outside the hand-outs: no note.
  const none = await admin.get(`/console/etablissements/${school}?profil=Guest`);
  assert.doesNotMatch(none.body, /data-funnel-unrecorded/);
});

test('the users list shows the pre-deleted accounts the home page leaves out, and says how many they are', async () => {
  const list = await admin.get(`/console/etablissements/${school}/utilisateurs`);
  assert.equal(list.statusCode, 200);
  // The home page's 6 pupils + 1 parent + 1 director, and the 2 pre-deleted pupils it names apart.
  assert.match(list.body, /role="status">10 utilisateurs correspondent aux filtres, dont 2 pré-supprimés \(absents du flux, en attente de suppression définitive\)</);
  const en = await admin.get(`/console/etablissements/${school}/utilisateurs`, { 'accept-language': 'en' });
  assert.match(en.body, /10 users match the filters, including 2 pre-deleted \(absent from the feed, waiting for final deletion\)/);
  // Each row's link names the person whole for a screen reader's list of links (« Élève » alone, six times, said nothing).
  assert.match(list.body, /<a href="[^"]+">Élève<span class="visually-hidden"> Ana<\/span><\/a>/);
  // Once they are out of the list (a filter), no note.
  const pupils = await admin.get(`/console/etablissements/${school}/utilisateurs?profiles=Relative`);
  assert.match(pupils.body, /role="status">1 utilisateur correspond aux filtres</);
});

test('the reminder filter is described « plus d’un jour » for one day, « plus de 3 jours » for more', async () => {
  const one = await admin.get(`/console/etablissements/${school}/publipostage/envoi?distributedBefore=1`);
  assert.equal(one.statusCode, 200);
  assert.match(one.body, /Relance : remis il y a plus d’un jour, non activés/);
  assert.match((await admin.get(`/console/etablissements/${school}/publipostage/envoi?distributedBefore=3`)).body, /Relance : remis il y a plus de 3 jours, non activés/);
});
