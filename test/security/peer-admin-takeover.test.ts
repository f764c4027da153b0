// Finding (privilege): a local admin of school A could act on the credentials of ANOTHER local admin of the same
// school: change their e-mail in the console (a reset link mailed there then takes the account), hand them a renewal
// code, print or issue their activation code, block them, pre-delete them, take their rights away, merge them as a
// duplicate, or rewrite their e-mail through a CSV import — and then act as them, the audit naming the victim.
// Rule now: an account that administers any school (or a super admin) is managed by a super admin only (and by
// its owner through « Mon compte »); to a local admin a peer is read-only exactly as another school's admin is
// (manageableSql: one predicate), with the same 403. The peer stays in the lists; one's own account stays as it was.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { formatCode } from '../../src/accounts/codes.js';
import { importFiles } from '../../src/import/index.js';
import { fileContext, sqlReaders } from '../helpers/db.js';
import { createInactiveUser, createUser, fileServer, multipart, sessionFor, signedInClient } from '../helpers/web.js';

const TPL = new URL('../fixtures/import/', import.meta.url).pathname;
const ctx = await fileContext();
const app = await fileServer(ctx);
const pool = ctx.database.pool;
const { q } = sqlReaders(ctx);
const user = async (id: string) => (await q('SELECT * FROM users WHERE id = $1', [id]))[0];
const rights = async (id: string) => (await q<{ structure_id: string }>('SELECT structure_id FROM local_admins WHERE user_id = $1', [id])).map((r) => r.structure_id);

const [{ id: schoolA }] = await q<{ id: string }>(`INSERT INTO structures (uai, name) VALUES ('0451234K', 'Collège Les Tilleuls') RETURNING id`);
/** Attaches `id` to school A, and makes it local admin of A when `admin`. */
async function ofA(id: string, admin = false): Promise<string> {
  await q('INSERT INTO user_structures VALUES ($1, $2)', [id, schoolA]);
  if (admin) await q('INSERT INTO local_admins VALUES ($1, $2)', [id, schoolA]);
  return id;
}

// The head of school, signed in; the deputy head, also local admin of A only (activated, with an address).
const head = await ofA(await createUser(pool, { login: 'paul.renard', firstName: 'Paul', lastName: 'RENARD', password: 'directeur-tilleuls-2026', email: 'paul.renard@exemple.test' }), true);
const peer = await ofA(await createUser(pool, { login: 'agathe.lenoir', firstName: 'Agathe', lastName: 'LENOIR', password: 'adjointe-tilleuls-2026', email: 'agathe.lenoir@exemple.test' }), true);
// Two more administrators of A, not activated yet: a valid activation code, an expired one.
const peerNew = await createInactiveUser(pool, ctx.secrets, { login: 'bastien.royer', firstName: 'Bastien', lastName: 'ROYER' });
await ofA(peerNew.id, true);
const peerOld = await ofA((await createInactiveUser(pool, ctx.secrets, { login: 'chloe.vidal', firstName: 'Chloé', lastName: 'VIDAL' })).id, true);
await q(`UPDATE users SET activation_code_expires_at = now() - interval '1 day' WHERE id = $1`, [peerOld]);
// Ordinary staff of A: an activated colleague, one not activated yet.
const colleague = await ofA(await createUser(pool, { login: 'franck.gilles', firstName: 'Franck', lastName: 'GILLES', password: 'collegue-tilleuls-26' }));
const newcomer = await createInactiveUser(pool, ctx.secrets, { login: 'gaelle.huet', firstName: 'Gaëlle', lastName: 'HUET' });
await ofA(newcomer.id);
const director = await signedInClient(app, pool, head);

test('console: a peer admin of the same school is listed, shown read-only, and every change is refused with 403', async () => {
  const list = await director.get(`/console/etablissements/${schoolA}/utilisateurs?profiles=Personnel`);
  assert.equal(list.statusCode, 200, 'the users list');
  assert.match(list.body, /agathe\.lenoir/, 'the peer is still listed');

  const page = await director.get(`/console/utilisateurs/${peer}?etablissement=${schoolA}`);
  assert.equal(page.statusCode, 200, 'the peer’s page is shown');
  assert.match(page.body, /data-read-only/, 'shown read-only');
  assert.doesNotMatch(page.body, /\/renouvellement"|\/coordonnees"|\/bloquer|\/fiche"|\/courriel"|\/cycle\?|\/administration"/, 'no action offered');

  const refused = async (path: string, form: Record<string, string>, what: string) => {
    const res = await director.post(`/console/utilisateurs/${path}`, form);
    assert.equal(res.statusCode, 403, `${what}: refused (${res.statusCode})`);
    assert.match(res.body, /lecture seule/, `${what}: says why`);
  };
  await refused(`${peer}/renouvellement`, {}, 'renewal code');
  assert.equal((await user(peer)).renewal_code_mac, null, 'no renewal code stored');
  await refused(`${peer}/coordonnees`, { email: 'pirate@exemple.test', phone: '' }, 'e-mail change');
  await refused(`${peer}/coordonnees`, { email: 'agathe.lenoir@exemple.test', phone: '06 12 34 56 78' }, 'phone change');
  assert.equal((await user(peer)).email, 'agathe.lenoir@exemple.test', 'e-mail unchanged');
  assert.equal((await user(peer)).phone, null, 'phone unchanged');
  await refused(`${peer}/bloquer`, {}, 'blocking');
  assert.equal((await user(peer)).blocked, false, 'not blocked');
  await q('UPDATE users SET blocked = true WHERE id = $1', [peer]);
  await refused(`${peer}/debloquer`, {}, 'unblocking');
  assert.equal((await user(peer)).blocked, true, 'still blocked');
  await q('UPDATE users SET blocked = false WHERE id = $1', [peer]);
  await refused(`${peer}/fiche`, { idem: '3f0b6c1e-2222-4a1a-9a1a-000000000001' }, 'sheet');
  await refused(`${peer}/courriel`, { idem: '3f0b6c1e-2222-4a1a-9a1a-000000000002' }, 'mail');
  assert.equal((await q('SELECT 1 FROM mail_jobs WHERE user_id = $1', [peer])).length, 0, 'no mail queued');
  await refused(`${peer}/cycle`, { action: 'pre-delete' }, 'pre-deletion');
  assert.equal((await user(peer)).pre_deleted_at, null, 'not pre-deleted');
  await refused(`${peer}/administration`, { op: 'remove', structureId: schoolA }, 'taking their rights away');
  assert.deepEqual(await rights(peer), [schoolA], 'still local admin of A');

  const before = (await user(peerNew.id)).activation_code_mac;
  const inactive = await director.get(`/console/utilisateurs/${peerNew.id}`);
  assert.equal(inactive.statusCode, 200, 'the inactive peer’s page is shown');
  assert.ok(!inactive.body.includes(formatCode(peerNew.code)), 'their pending activation code is not shown');
  await refused(`${peerNew.id}/activation`, {}, 'new activation code');
  assert.equal((await user(peerNew.id)).activation_code_mac, before, 'activation code unchanged');

  // An ordinary colleague of A stays manageable.
  const ok = await director.post(`/console/utilisateurs/${colleague}/renouvellement`, {});
  assert.equal(ok.statusCode, 303, 'renewal code of an ordinary colleague');
  assert.notEqual((await user(colleague)).renewal_code_mac, null, 'stored');
});

test('publipostage: no activation code of a peer admin is printed or issued', async () => {
  const expiredBefore = (await user(peerOld)).activation_code_mac;
  const csv = await director.post(`/api/publipostage/csv?structureId=${schoolA}&profiles=Personnel`, {});
  assert.equal(csv.statusCode, 200, 'the CSV is served');
  assert.ok(csv.body.includes(formatCode(newcomer.code)) || csv.body.includes(newcomer.code), 'an ordinary newcomer’s code is printed');
  assert.ok(!csv.body.includes(formatCode(peerNew.code)) && !csv.body.includes(peerNew.code), 'the peer admin’s code is not');
  assert.equal((await user(peerOld)).activation_code_mac, expiredBefore, 'no fresh code issued for a peer admin');
});

test('duplicates: a local admin cannot merge a peer admin with another account, either way', async () => {
  const twin = await ofA(await createUser(pool, { login: 'agathe.lenoir2', firstName: 'Agathe', lastName: 'LENOIR', email: 'pirate@exemple.test' }));
  for (const [keep, drop] of [[peer, twin], [twin, peer]]) {
    const res = await director.post(`/console/etablissements/${schoolA}/doublons/${keep}/${drop}/fusionner`, { keep });
    assert.equal(res.statusCode, 403, `merge refused: ${res.body.slice(0, 200)}`);
  }
  assert.equal((await q('SELECT 1 FROM users WHERE id = ANY($1)', [[peer, twin]])).length, 2, 'nothing merged');
  assert.equal((await user(peer)).email, 'agathe.lenoir@exemple.test', 'the peer’s address unchanged');
});

test('import: a local admin’s CSV never changes a peer admin’s e-mail; the rest of the file is imported', async () => {
  const original = readFileSync(join(TPL, 'CSV_Personnels.csv'), 'latin1');
  const file = (text: string) => [{ name: 'CSV_Personnels.csv', data: Buffer.from(text, 'latin1') }];
  // The school's staff, imported with the server's own rights (as `trousseau import`); Odile MARCHAND is made local admin.
  assert.equal((await importFiles(ctx, file(original), { scope: { kind: 'all' }, dryRun: false, structureHint: schoolA })).fatal, null, 'first import');
  const [odile] = await q<{ id: string }>(`SELECT id FROM users WHERE last_name = 'MARCHAND' AND first_name = 'Odile'`);
  await q('INSERT INTO local_admins VALUES ($1, $2)', [odile.id, schoolA]);

  const text = original.replace('odile.marchand@exemple.test', 'pirate@exemple.test').replace('19/03/1992;AED;;;;', '19/03/1992;AED;;;yanis.bertrand@exemple.test;');
  assert.ok(text.includes('pirate@') && text.includes('yanis.bertrand@'), 'the file is changed as meant');
  const as = await sessionFor(pool, head);
  const { body, type } = multipart(file(text));
  const res = await app.inject({
    method: 'POST', url: `/api/import?structureId=${schoolA}&partial=true`,
    headers: { 'content-type': type, cookie: as.cookie, 'x-csrf-token': as.csrf }, payload: body,
  });
  assert.equal(res.statusCode, 200, `import answered: ${res.body.slice(0, 300)}`);
  const rejected = res.json().rejected as Array<{ line: number; reason: string }>;
  assert.ok(rejected.some((r) => r.line === 2 && /hors de votre périmètre/.test(r.reason)), `the peer’s row is reported: ${JSON.stringify(rejected)}`);
  assert.equal((await user(odile.id)).email, 'odile.marchand@exemple.test', 'the peer’s address unchanged');
  const [yanis] = await q<{ email: string }>(`SELECT email FROM users WHERE last_name = 'BERTRAND' AND first_name = 'Yanis'`);
  assert.equal(yanis.email, 'yanis.bertrand@exemple.test', 'the rest of the file is imported');
});

test('one’s own account stays as it was in the console', async () => {
  const page = await director.get(`/console/utilisateurs/${head}`);
  assert.equal(page.statusCode, 200, 'one’s own page');
  assert.doesNotMatch(page.body, /data-read-only/, 'not read-only to oneself');
  assert.match(page.body, /\/coordonnees"/, 'the contact form is offered');
  const phone = await director.post(`/console/utilisateurs/${head}/coordonnees`, { email: 'paul.renard@exemple.test', phone: '06 12 34 56 78' });
  assert.equal(phone.statusCode, 303, 'one’s own phone is changed');
  assert.notEqual((await user(head)).phone, null, 'stored');
  // One's own address is still changed in « Mon compte » only (directory.selfContact), not refused as read-only.
  const email = await director.post(`/console/utilisateurs/${head}/coordonnees`, { email: 'pirate@exemple.test', phone: '06 12 34 56 78' });
  assert.match(email.body, /Mon compte/, 'sent to « Mon compte »');
  assert.doesNotMatch(email.body, /lecture seule/, 'not the read-only refusal');
  assert.equal((await user(head)).email, 'paul.renard@exemple.test', 'address unchanged');
});

test('a super admin still manages every administrator', async () => {
  const root = await createUser(pool, { login: 'root.admin', firstName: 'Root', lastName: 'ADMIN', superAdmin: true, password: 'racine-du-trousseau-26' });
  const superAdmin = await signedInClient(app, pool, root);
  const page = await superAdmin.get(`/console/utilisateurs/${peer}`);
  assert.doesNotMatch(page.body, /data-read-only/, 'not read-only to a super admin');
  assert.equal((await superAdmin.post(`/console/utilisateurs/${peer}/renouvellement`, {})).statusCode, 303, 'renewal code');
  assert.notEqual((await user(peer)).renewal_code_mac, null, 'stored');
  assert.equal((await superAdmin.post(`/console/utilisateurs/${peer}/coordonnees`, { email: 'agathe.lenoir@tilleuls.test', phone: '' })).statusCode, 303, 'e-mail change');
  assert.equal((await user(peer)).email, 'agathe.lenoir@tilleuls.test', 'stored');
  assert.equal((await superAdmin.post(`/console/utilisateurs/${head}/renouvellement`, {})).statusCode, 303, 'the head too');
});

test('a bulk action over a filter holding peer admins acts on the others and says who is left out', async () => {
  const filter = `profiles=Personnel`;
  const confirm = await director.get(`/console/etablissements/${schoolA}/utilisateurs/cycle?action=pre-delete&${filter}`);
  assert.equal(confirm.statusCode, 200, 'the confirmation is shown');
  // The staff filter: the head himself, the peer admins, the colleagues (and those the import test added).
  const staff = await q<{ id: string; admin: boolean }>(
    `SELECT u.id, EXISTS (SELECT 1 FROM local_admins la WHERE la.user_id = u.id) AS admin FROM users u JOIN user_structures us ON us.user_id = u.id
     WHERE us.structure_id = $1 AND u.profile = 'Personnel' AND u.pre_deleted_at IS NULL AND u.id <> $2`, [schoolA, head]);
  const admins = staff.filter((x) => x.admin);
  const others = staff.filter((x) => !x.admin);
  assert.ok(admins.length >= 3 && others.length >= 2, `peers and colleagues in the filter (${admins.length}, ${others.length})`);
  assert.match(confirm.body, new RegExp(`data-skipped="${admins.length}"[^>]*>${admins.length} comptes du filtre administrent un établissement`), 'the peers are said left out');
  assert.match(confirm.body, new RegExp(`data-count="${others.length}"`), 'the others acted on');
  const listed = confirm.body.slice(confirm.body.indexOf('confirm-list'));
  assert.doesNotMatch(listed, /<code>(agathe\.lenoir|bastien\.royer|chloe\.vidal|paul\.renard)<\/code>/, 'neither the peers nor oneself listed');
  const count = /name="count" value="(\d+)"/.exec(confirm.body)?.[1];
  const selection = /name="selection" value="([^"]*)"/.exec(confirm.body)?.[1]?.replace(/&amp;/g, '&');
  assert.ok(count && selection !== undefined, 'the form carries the selection and its count');
  const done = await director.post(`/console/etablissements/${schoolA}/utilisateurs/cycle`, { action: 'pre-delete', selection, count });
  assert.equal(done.statusCode, 303, `applied (${done.statusCode}: ${done.body.slice(0, 200)})`);
  assert.match(done.headers.location as string, new RegExp(`ok=pre-delete&n=${others.length}$`));
  for (const x of others) assert.notEqual((await user(x.id)).pre_deleted_at, null, 'a colleague is pre-deleted');
  for (const id of [head, ...admins.map((x) => x.id)]) assert.equal((await user(id)).pre_deleted_at, null, 'an admin is not');
  assert.ok(others.some((x) => x.id === colleague) && admins.some((x) => x.id === peer), 'the colleague acted on, the peer not');
});
