// Local administrators (issue #9) on real PostgreSQL: the CLI, the user page (super admin anywhere, a local admin
// only for its own schools and never over an account with rights beyond them), and the imports that name them
// (CSV `ADML` column, AAF head of school: function DIR).
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import type { FastifyInstance } from 'fastify';
import { runLocal } from '../src/accounts/admin.js';
import { isHeadOfSchool } from '../src/directory/local-admins.js';
import { collectInputs, formatReport, importFiles } from '../src/import/index.js';
import { reportView } from '../src/web/console/views/import.js';
import { buildServer } from '../src/web/server.js';
import { testContext } from './helpers/db.js';
import { createUser, signedInClient } from './helpers/web.js';

let ctx: Awaited<ReturnType<typeof testContext>>;
let app: FastifyInstance;
let A = '';
let B = '';
const ids: Record<string, string> = {};
const q = (sql: string, params: unknown[] = []) => ctx.database.pool.query(sql, params);
const adminsOf = async (userId: string) => (await q('SELECT structure_id FROM local_admins WHERE user_id = $1 ORDER BY 1', [userId])).rows.map((r) => r.structure_id);

before(async () => {
  ctx = await testContext();
  app = await buildServer(ctx);
  A = (await q(`INSERT INTO structures (name, uai) VALUES ('Collège A', '0310001A') RETURNING id`)).rows[0].id;
  B = (await q(`INSERT INTO structures (name, uai) VALUES ('Collège B', '0310002B') RETURNING id`)).rows[0].id;
  const add = async (key: string, profile: 'Student' | 'Teacher' | 'Personnel', schools: string[], o: { superAdmin?: boolean } = {}) => {
    ids[key] = await createUser(ctx.database.pool, { login: key, profile, superAdmin: o.superAdmin });
    for (const s of schools) await q('INSERT INTO user_structures (user_id, structure_id) VALUES ($1, $2)', [ids[key], s]);
  };
  await add('root', 'Personnel', [], { superAdmin: true });
  await add('adml.a', 'Personnel', [A]);
  await add('prof.a', 'Teacher', [A]);
  await add('prof.ab', 'Teacher', [A, B]);
  await add('eleve.a', 'Student', [A]);
  await add('adml.ab', 'Personnel', [A, B]);
  await q('INSERT INTO local_admins (user_id, structure_id) VALUES ($1, $2), ($3, $2), ($3, $4)', [ids['adml.a'], A, ids['adml.ab'], B]);
});
after(async () => {
  await app.close();
  await ctx.close();
});

test('trousseau admin --local <login> --structure <UAI> [--retirer]', async () => {
  const out: string[] = [];
  const log = (m: string) => out.push(m);
  assert.equal(await runLocal(ctx, ['--local', 'prof.a', '--structure', '0310001A'], log), 0);
  assert.deepEqual(await adminsOf(ids['prof.a']), [A]);
  assert.match(out.at(-1)!, /prof\.a administre désormais Collège A \(0310001A\)/);
  assert.equal(await runLocal(ctx, ['--local', 'prof.a', '--structure', '0310001A'], log), 0, 'idempotent');
  assert.match(out.at(-1)!, /administrait déjà/);
  assert.equal(await runLocal(ctx, ['--local', 'prof.a', '--structure', '0310001A', '--retirer'], log), 0);
  assert.deepEqual(await adminsOf(ids['prof.a']), []);
  assert.equal(await runLocal(ctx, ['--local', 'prof.a', '--structure', '0310002B'], log), 1, 'not attached to B');
  assert.match(out.at(-1)!, /n’est pas rattaché/);
  assert.equal(await runLocal(ctx, ['--local', 'eleve.a', '--structure', '0310001A'], log), 1, 'a pupil never administers');
  assert.equal(await runLocal(ctx, ['--local', 'personne', '--structure', '0310001A'], log), 1);
  assert.equal(await runLocal(ctx, ['--local', 'prof.a'], log), 2);
  assert.equal((await q(`SELECT count(*)::int n FROM audit WHERE action LIKE 'admin.local.%'`)).rows[0].n, 2);
});

test('from the user page: a local admin appoints only for its own school and never escalates', async () => {
  const adml = await signedInClient(app, ctx.database.pool, ids['adml.a']);
  const page = await adml.get(`/console/utilisateurs/${ids['prof.ab']}?etablissement=${A}`);
  assert.match(page.body, /Nommer administrateur local de/);
  // Only A is offered: B is not the caller's.
  assert.match(page.body, new RegExp(`<option value="${A}">Collège A</option>`));
  assert.doesNotMatch(page.body, new RegExp(`<option value="${B}">`));

  const post = (c: typeof adml, user: string, structureId: string, op: string) =>
    c.post(`/console/utilisateurs/${ids[user]}/administration`, { structureId, op, etablissement: A });
  assert.equal((await post(adml, 'prof.ab', B, 'appoint')).statusCode, 403, 'another school');
  assert.deepEqual(await adminsOf(ids['prof.ab']), []);
  assert.equal((await post(adml, 'prof.ab', A, 'appoint')).statusCode, 303);
  assert.deepEqual(await adminsOf(ids['prof.ab']), [A]);
  // adml.ab administers B too: read-only for adml.a, who may neither appoint nor remove it.
  assert.equal((await post(adml, 'adml.ab', A, 'appoint')).statusCode, 403);
  assert.equal((await post(adml, 'adml.ab', B, 'remove')).statusCode, 403);
  assert.deepEqual(await adminsOf(ids['adml.ab']), [A, B].sort());
  // Now prof.ab is a peer, admin of A: read-only to adml.a, except the administration adml.a gave (a wrong colleague
  // named is taken back without a super admin; migration 0033 local_admins.granted_by).
  const peer = await adml.get(`/console/utilisateurs/${ids['prof.ab']}?etablissement=${A}`);
  assert.match(peer.body, /Vous avez nommé ce compte administrateur local/, 'the page says why the removal is offered');
  assert.match(peer.body, new RegExp(`data-admin-of="${A}">Collège A <form[^>]*>.*?name="op" value="remove"`, 's'), 'the removal of the administration adml.a gave');
  assert.doesNotMatch(peer.body, /data-lifecycle|value="appoint"/, 'nothing else of the peer’s account');
  // A second local admin of A (appointed by the super admin) may not take it back: not theirs.
  await q('INSERT INTO local_admins (user_id, structure_id) VALUES ($1, $2)', [ids['prof.a'], A]);
  const other = await signedInClient(app, ctx.database.pool, ids['prof.a']);
  assert.equal((await post(other, 'prof.ab', A, 'remove')).statusCode, 403, 'another admin’s appointment is not prof.a’s to take back');
  assert.doesNotMatch((await other.get(`/console/utilisateurs/${ids['prof.ab']}?etablissement=${A}`)).body, /value="remove"/);
  // Nor may the appointed colleague take back adml.a's (given by the directory, not by them).
  const appointed = await signedInClient(app, ctx.database.pool, ids['prof.ab']);
  assert.equal((await post(appointed, 'adml.a', A, 'remove')).statusCode, 403, 'the colleague cannot demote the one who named them');
  assert.deepEqual(await adminsOf(ids['adml.a']), [A]);
  await q('DELETE FROM local_admins WHERE user_id = $1', [ids['prof.a']]);
  assert.equal((await post(adml, 'prof.ab', A, 'remove')).statusCode, 303, 'adml.a takes back what adml.a gave');
  assert.deepEqual(await adminsOf(ids['prof.ab']), []);
  const [audit] = (await q(`SELECT actor_id, details FROM audit WHERE action = 'admin.local.remove' ORDER BY id DESC LIMIT 1`)).rows;
  assert.equal(audit.actor_id, ids['adml.a'], 'audited as adml.a’s');
  await post(adml, 'prof.ab', A, 'appoint');
  assert.deepEqual(await adminsOf(ids['prof.ab']), [A]);
  const own = await adml.get(`/console/utilisateurs/${ids['adml.a']}?etablissement=${A}`);
  assert.match(own.body, /name="op" value="remove"/, 'one’s own administration still offers its removal');

  // A super admin removes it, and appoints anywhere the account belongs.
  const root = await signedInClient(app, ctx.database.pool, ids.root);
  await root.get(`/console/utilisateurs/${ids['prof.ab']}`);
  assert.equal((await post(root, 'prof.ab', A, 'remove')).statusCode, 303);
  assert.deepEqual(await adminsOf(ids['prof.ab']), []);
  assert.equal((await post(root, 'prof.ab', B, 'appoint')).statusCode, 303);
  assert.deepEqual(await adminsOf(ids['prof.ab']), [B]);
});

test('imports name local admins: a CSV ADML column, the AAF head of school (function DIR)', async () => {
  assert.ok(isHeadOfSchool(['71001$DIR$DIRECTION$-$DIRECTION CHEF D\'ETABLISSEMENT'], ['0710001X', '71001']));
  assert.ok(!isHeadOfSchool(['71001$ENS$ENSEIGNEMENT$L0202$LETTRES'], ['71001']));
  assert.ok(!isHeadOfSchool(['71002$DIR$DIRECTION'], ['71001']));

  const csv = Buffer.from('Nom;Prénom;Fonction;ADML\r\nDURAND;Agnès;Principale adjointe;oui\r\nLEBLANC;Yves;Surveillant;\r\n', 'utf8');
  const r = await importFiles(ctx, [{ name: 'CSV_Personnels.csv', data: csv }], { scope: { kind: 'all' }, dryRun: false, structureHint: A });
  assert.equal(r.fatal, null);
  const agnes = (await q(`SELECT id FROM users WHERE first_name = 'Agnès'`)).rows[0].id;
  const yves = (await q(`SELECT id FROM users WHERE first_name = 'Yves'`)).rows[0].id;
  assert.deepEqual(await adminsOf(agnes), [A]);
  assert.deepEqual(await adminsOf(yves), []);

  const aaf = await importFiles(ctx, collectInputs([join(import.meta.dirname, 'fixtures/aaf/2d')]), { scope: { kind: 'all' }, dryRun: false });
  assert.equal(aaf.fatal, null);
  const heads = (await q(`SELECT u.external_id, s.external_id AS structure FROM local_admins la JOIN users u ON u.id = la.user_id
                           JOIN structures s ON s.id = la.structure_id WHERE u.source = 'aaf'`)).rows;
  assert.deepEqual(heads, [{ external_id: 'P303', structure: '71001' }]);
});

test('a feed takes back the administration it gave (ADML « oui » removed), never one appointed by hand; a file without the column changes nothing', async () => {
  const staff = (agnes: string, yves: string, column = true) => [
    {
      name: 'CSV_Personnels.csv',
      data: Buffer.from(
        column
          ? `Nom;Prénom;Fonction;ADML\r\nDURAND;Agnès;Principale adjointe;${agnes}\r\nLEBLANC;Yves;Surveillant;${yves}\r\n`
          : 'Nom;Prénom;Fonction\r\nDURAND;Agnès;Principale adjointe\r\nLEBLANC;Yves;Surveillant\r\n',
        'utf8',
      ),
    },
  ];
  const run = async (files: ReturnType<typeof staff>) => {
    const r = await importFiles(ctx, files, { scope: { kind: 'all' }, dryRun: false, structureHint: A });
    assert.equal(r.fatal, null);
    return r;
  };
  await run(staff('oui', ''));
  const school = (await q(`SELECT name FROM structures WHERE id = $1`, [A])).rows[0].name as string;
  const agnes = (await q(`SELECT id FROM users WHERE first_name = 'Agnès'`)).rows[0].id;
  const yves = (await q(`SELECT id FROM users WHERE first_name = 'Yves'`)).rows[0].id;
  assert.deepEqual(await adminsOf(agnes), [A]);
  // Yves is appointed by hand (console): the file's empty ADML does not take that back.
  await q('INSERT INTO local_admins (user_id, structure_id) VALUES ($1, $2) ON CONFLICT DO NOTHING', [yves, A]);
  const revoked = await run(staff('non', ''));
  assert.deepEqual(revoked.adminChanges, [{ change: 'revoked', login: 'agnes.durand', name: 'Agnès DURAND', structure: school }], 'the hand-made Yves is not said');
  assert.match(formatReport(revoked), /\nAdministrateurs locaux retirés par l’import \(1\) :\n {2}agnes\.durand — Agnès DURAND/);
  assert.deepEqual(await adminsOf(agnes), [], 'the file says she is no longer local admin');
  assert.deepEqual(await adminsOf(yves), [A], 'appointed by hand: stays');
  // Given again, then a file without an ADML column: it says nothing, nothing changes. Rights over other people's
  // accounts never change without the report saying so.
  const appointed = await run(staff('oui', ''));
  assert.deepEqual(appointed.adminChanges, [{ change: 'appointed', login: 'agnes.durand', name: 'Agnès DURAND', structure: school }]);
  assert.ok(formatReport(appointed).includes(`\nAdministrateurs locaux nommés par l’import (1) :\n  agnes.durand — Agnès DURAND (${school})\n`), formatReport(appointed));
  assert.match(String(reportView('en', appointed)).replace(/\s+/g, ' '), /data-import="admins-appointed"><p><strong>Local administrators appointed by the import \(1\):<\/strong><\/p> <ul><li><code>agnes\.durand<\/code> — Agnès DURAND/);
  assert.deepEqual(await adminsOf(agnes), [A]);
  assert.equal((await run(staff('', '', false))).adminChanges, undefined, 'nothing changes, nothing said');
  assert.deepEqual(await adminsOf(agnes), [A]);
});

test('one person on two rows under one Id, the ADML cell filled on the first only: stays local admin', async () => {
  const file = Buffer.from('Id;Nom;Prénom;Classe;ADML\r\nT1;DUPONT;Marc;CP;oui\r\nT1;DUPONT;Marc;CE1;\r\n', 'utf8');
  for (let i = 0; i < 2; i++) {
    const r = await importFiles(ctx, [{ name: 'CSV_Enseignants.csv', data: file }], { scope: { kind: 'all' }, dryRun: false, structureHint: A });
    assert.equal(r.fatal, null);
    const marc = (await q(`SELECT id FROM users WHERE first_name = 'Marc' AND last_name = 'DUPONT'`)).rows[0].id;
    assert.deepEqual(await adminsOf(marc), [A], `import ${i + 1}`);
  }
});

test('a colleague one appointed, who also administers a school of another: its page names none of that school', async () => {
  const D = (await q(`INSERT INTO structures (name, uai) VALUES ('Lycée Discret', '0310004D') RETURNING id`)).rows[0].id;
  const E = (await q(`INSERT INTO structures (name, uai) VALUES ('École Voisine', '0310005E') RETURNING id`)).rows[0].id;
  const head = await createUser(ctx.database.pool, { login: 'adml.e', profile: 'Personnel' });
  const colleague = await createUser(ctx.database.pool, { login: 'prof.de', profile: 'Teacher' });
  for (const [u, s] of [[head, E], [colleague, E], [colleague, D]]) await q('INSERT INTO user_structures (user_id, structure_id) VALUES ($1, $2)', [u, s]);
  await q('INSERT INTO local_admins (user_id, structure_id) VALUES ($1, $2)', [head, E]);
  const adml = await signedInClient(app, ctx.database.pool, head);
  const appointed = await adml.post(`/console/utilisateurs/${colleague}/administration`, { structureId: E, op: 'appoint', etablissement: E });
  assert.equal(appointed.statusCode, 303, 'adml.e appoints a colleague of her school');
  // Back on the page under her school, saying it was done.
  assert.equal(appointed.headers.location, `/console/utilisateurs/${colleague}?etablissement=${E}&ok=appoint`);
  assert.match((await adml.get(String(appointed.headers.location))).body, /Administrateur local nommé/);
  // A super admin then gives the colleague a school adml.e has nothing to do with.
  await q('INSERT INTO local_admins (user_id, structure_id) VALUES ($1, $2)', [colleague, D]);

  const page = await adml.get(`/console/utilisateurs/${colleague}?etablissement=${E}`);
  assert.equal(page.statusCode, 200, 'the colleague is visible to adml.e');
  assert.match(page.body, new RegExp(`data-admin-of="${E}"`), 'the administration adml.e gave is listed, to take back');
  assert.doesNotMatch(page.body, /Lycée Discret|0310004D/, 'nothing names a school outside adml.e’s: the account’s other memberships are hidden too');
  assert.doesNotMatch(page.body, new RegExp(D), 'not even its id');
});

test('an administration a feed gives too is no longer the appointer’s to take back', async () => {
  const F = (await q(`INSERT INTO structures (name, uai) VALUES ('Collège F', '0310006F') RETURNING id`)).rows[0].id;
  const head = await createUser(ctx.database.pool, { login: 'adml.f', profile: 'Personnel' });
  await q('INSERT INTO user_structures (user_id, structure_id) VALUES ($1, $2)', [head, F]);
  await q('INSERT INTO local_admins (user_id, structure_id) VALUES ($1, $2)', [head, F]);
  const staff = (adml: string) => [{ name: 'CSV_Personnels.csv', data: Buffer.from(`Nom;Prénom;Fonction;ADML\r\nROUSSEL;Zélie;Principale adjointe;${adml}\r\n`, 'utf8') }];
  const run = async (adml: string) => assert.equal((await importFiles(ctx, staff(adml), { scope: { kind: 'all' }, dryRun: false, structureHint: F })).fatal, null, 'imported');
  await run('');
  const zelie = (await q(`SELECT id FROM users WHERE first_name = 'Zélie'`)).rows[0].id;
  const adml = await signedInClient(app, ctx.database.pool, head);
  const post = (op: string) => adml.post(`/console/utilisateurs/${zelie}/administration`, { structureId: F, op, etablissement: F });
  assert.equal((await post('appoint')).statusCode, 303, 'adml.f names Zélie before the file does');
  // The school's file now names her local administrator too (the head of school's choice, or the académie's).
  await run('oui');
  assert.deepEqual(await adminsOf(zelie), [F]);
  assert.equal((await post('remove')).statusCode, 403, 'what the file gives is not adml.f’s to take back: Zélie is a peer, read-only');
  assert.deepEqual(await adminsOf(zelie), [F], 'still local admin');
  assert.doesNotMatch((await adml.get(`/console/utilisateurs/${zelie}?etablissement=${F}`)).body, /value="remove"/, 'no removal offered');
});

test('merging a duplicate keeps whose the administration is: the feed still takes back the one it gave', async () => {
  const G = (await q(`INSERT INTO structures (name, uai) VALUES ('Collège G', '0310007G') RETURNING id`)).rows[0].id;
  const staff = (adml: string) => [{ name: 'CSV_Personnels.csv', data: Buffer.from(`Id;Nom;Prénom;Fonction;ADML\r\nG9;TESSIER;Yann;Principal;${adml}\r\n`, 'utf8') }];
  const run = async (adml: string) => assert.equal((await importFiles(ctx, staff(adml), { scope: { kind: 'all' }, dryRun: false, structureHint: G })).fatal, null, 'imported');
  await run('oui');
  const fed = (await q(`SELECT id FROM users WHERE first_name = 'Yann' AND last_name = 'TESSIER'`)).rows[0].id;
  assert.deepEqual(await adminsOf(fed), [G], 'the file names Yann local admin');
  // The same person, created by hand before the file came: a super admin merges the file's account into it.
  const byHand = await createUser(ctx.database.pool, { login: 'yann.tessier2', firstName: 'Yann', lastName: 'TESSIER', profile: 'Personnel' });
  await q('INSERT INTO user_structures (user_id, structure_id) VALUES ($1, $2)', [byHand, G]);
  const root = await signedInClient(app, ctx.database.pool, ids.root);
  await root.get(`/console/etablissements/${G}/doublons/${byHand}/${fed}/fusionner`);
  const merged = await root.post(`/console/etablissements/${G}/doublons/${byHand}/${fed}/fusionner`, { keep: byHand });
  assert.equal(merged.statusCode, 303, 'merged');
  assert.deepEqual(await adminsOf(byHand), [G], 'the kept account administers G');
  // Next year's file no longer names him: the administration the file gave goes with it.
  await run('');
  assert.equal((await q(`SELECT count(*)::int AS n FROM users WHERE last_name = 'TESSIER'`)).rows[0].n, 1, 'the file maps to the kept account');
  assert.deepEqual(await adminsOf(byHand), [], 'the file’s administration, moved by the merge, is still the file’s to take back');
});

test('a head of school the file named cannot make her own administration hand-appointed, out of the file’s reach', async () => {
  const H = (await q(`INSERT INTO structures (name, uai) VALUES ('Collège H', '0310008H') RETURNING id`)).rows[0].id;
  const staff = (adml: string) => [{ name: 'CSV_Personnels.csv', data: Buffer.from(`Id;Nom;Prénom;Fonction;ADML\r\nH1;VIDAL;Inès;Principale;${adml}\r\n`, 'utf8') }];
  const run = async (adml: string) => assert.equal((await importFiles(ctx, staff(adml), { scope: { kind: 'all' }, dryRun: false, structureHint: H })).fatal, null, 'imported');
  await run('oui');
  const ines = (await q(`SELECT id FROM users WHERE first_name = 'Inès' AND last_name = 'VIDAL'`)).rows[0].id;
  const self = await signedInClient(app, ctx.database.pool, ines);
  // Leaving, she « appoints » herself where she already administers, by a hand-made POST (the page offers nothing).
  await self.get(`/console/utilisateurs/${ines}?etablissement=${H}`);
  await self.post(`/console/utilisateurs/${ines}/administration`, { structureId: H, op: 'appoint', etablissement: H });
  assert.equal((await q('SELECT from_feed FROM local_admins WHERE user_id = $1', [ines])).rows[0]?.from_feed, true, 'still the file’s');
  await run('');
  assert.deepEqual(await adminsOf(ines), [], 'the next file takes it back');
});
