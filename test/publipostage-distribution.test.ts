// Who receives what (issue #9): the distribution rules of src/publipostage/distribution.ts, on real PostgreSQL,
// through the same functions the preview, PDF, CSV and mail use.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import type { Readable } from 'node:stream';
import { after, before, beforeEach, test } from 'node:test';
import { parse } from 'csv-parse/sync';
import { savePolicy } from '../src/directory/policies.js';
import type { Scope } from '../src/directory/scope.js';
import { startMailMerge } from '../src/mail/merge.js';
import { contentLabel, countLeftOut, externalSentence, fileName, leftOutReason } from '../src/publipostage/distribution.js';
import { exportSelection } from '../src/publipostage/generate.js';
import { countSelection, leftOutOf, selectAccounts } from '../src/publipostage/select.js';
import { SelectionSchema } from '../src/publipostage/selection.js';
import { testContext } from './helpers/db.js';
import { createUser } from './helpers/web.js';
import { insertSample, type Sample } from './helpers/sample.js';

let ctx: Awaited<ReturnType<typeof testContext>>;
let s: Sample;
const ALL: Scope = { kind: 'all' };
const sel = (input: Record<string, unknown> = {}) => SelectionSchema.parse(input);
const q = (sql: string, params: unknown[] = []) => ctx.database.pool.query(sql, params);

before(async () => {
  ctx = await testContext();
  s = await insertSample(ctx);
});
after(() => ctx.close());
beforeEach(async () => {
  // Each test sets the states it needs; nina stays pre-deleted (sample).
  await q('UPDATE users SET blocked = false, absent_since = NULL');
  await q('DELETE FROM profile_policies');
  await q(`DELETE FROM relations WHERE parent_id = $1 AND child_id = $2`, [s.users.paul, s.users.jules]);
});

async function keys(input: Record<string, unknown>, scope: Scope = ALL): Promise<string[]> {
  const byId = new Map(Object.entries(s.users).map(([k, id]) => [id, k]));
  return (await selectAccounts(ctx, sel(input), scope)).map((r) => byId.get(r.id)!).sort();
}

async function body(stream: Readable | Buffer): Promise<Buffer> {
  if (Buffer.isBuffer(stream)) return stream;
  const chunks: Buffer[] = [];
  for await (const c of stream) chunks.push(Buffer.from(c));
  return Buffer.concat(chunks);
}

test('by default blocked and absent accounts (grace period or pre-deleted) are left out, and counted', async () => {
  await q('UPDATE users SET blocked = true WHERE id = $1', [s.users.zoe]);
  await q(`UPDATE users SET absent_since = now() - interval '3 days' WHERE id = $1`, [s.users.leo]);
  const students = { profiles: ['Student'], structureId: s.structures.S1 };
  assert.deepEqual(await keys(students), ['aslog', 'eckert', 'eclair', 'emile', 'hugo']);
  assert.deepEqual(await leftOutOf(ctx, sel(students), ALL), { blocked: 1, absent: 2, external: [] });
  assert.equal((await countSelection(ctx, sel(students), ALL)).total, 5);
  // "Bloqués" and pre-deletion keep the choice.
  assert.deepEqual(await keys({ ...students, blocked: 'only' }), ['zoe']);
  assert.deepEqual(await keys({ ...students, preDeletion: 'pending' }), ['leo', 'nina']);
  assert.deepEqual(await keys({ ...students, blocked: 'all', preDeletion: 'all' }), ['aslog', 'eckert', 'eclair', 'emile', 'hugo', 'leo', 'nina', 'zoe']);
  // Only the accounts another choice would have kept are "left out": with blocked=only, the unblocked ones.
  assert.deepEqual(await leftOutOf(ctx, sel({ ...students, blocked: 'all', preDeletion: 'all' }), ALL), { blocked: 0, absent: 0, external: [] });
});

test('no sheet, CSV line or mail carries a code that cannot work: blocked and pre-deleted accounts get none', async () => {
  await q('UPDATE users SET blocked = true WHERE id = ANY($1)', [[s.users.zoe, s.users.hugo]]);
  const wide = sel({ profiles: ['Student'], structureId: s.structures.S1, blocked: 'all', preDeletion: 'all' });
  const rows = await selectAccounts(ctx, wide, ALL);
  const by = new Map(rows.map((r) => [r.login, r]));
  assert.equal(by.get(s.logins.zoe)!.code, null, 'blocked: no code although a valid one is stored');
  assert.equal(by.get(s.logins.nina)!.code, null, 'pre-deleted: no code');
  assert.equal(by.get(s.logins.leo)!.code, s.codes.leo, 'a valid code of a present account is kept');

  const macBefore = (await q('SELECT activation_code_mac FROM users WHERE id = $1', [s.users.hugo])).rows[0].activation_code_mac;
  const csv = await exportSelection(ctx, { format: 'csv', selection: wide, scope: ALL, actorId: null, via: 'cli' });
  const records = parse(await body(csv.body), { bom: true, delimiter: ';', columns: true }) as Record<string, string>[];
  const cell = (login: string) => records.find((r) => r.Login === login)!["Code d'activation"];
  assert.equal(cell(s.logins.zoe), 'Bloqué');
  assert.equal(cell(s.logins.hugo), 'Bloqué');
  assert.equal(cell(s.logins.nina), 'Pré-supprimé');
  // Hugo's expired code was not renewed: a blocked account gets no fresh code either.
  assert.equal((await q('SELECT activation_code_mac FROM users WHERE id = $1', [s.users.hugo])).rows[0].activation_code_mac, macBefore);
  const audit = (await q(`SELECT details FROM audit WHERE action = 'publipostage.csv' ORDER BY id DESC LIMIT 1`)).rows[0].details;
  assert.equal(audit.codesIssued, 0);

  const pdf = await exportSelection(ctx, { format: 'pdf', selection: wide, scope: ALL, actorId: null, via: 'cli' });
  const text = execFileSync('pdftotext', ['-', '-'], { input: await body(pdf.body) }).toString();
  assert.ok(text.includes(s.logins.zoe));
  assert.ok(!text.replace(/\s/g, '').includes(s.codes.zoe.slice(0, 4) + '-' + s.codes.zoe.slice(4, 8)), 'the blocked account’s code is not printed');
});

test('externally-authenticated profiles: left out and counted apart, or an information sheet without a code', async () => {
  await savePolicy(ctx.database.pool, s.structures.S1, 'Relative', {
    signIn: 'external', provider: 'EduConnect', emailRequired: false, phoneRequired: false, minPasswordLength: 12, graceDays: 90, deletionDays: 90,
  }, null);
  const s1 = { structureId: s.structures.S1 };
  assert.ok(!(await keys(s1)).includes('paul'));
  const left = await leftOutOf(ctx, sel(s1), ALL);
  assert.deepEqual(left.external, [{ profile: 'Relative', provider: 'EduConnect', count: 2 }]);
  assert.equal(externalSentence(left.external[0]), '2 parents se connectent avec EduConnect : pas de fiche');
  // S2's parents sign in with codes: Sophie is still selected.
  assert.ok((await keys({ structureId: s.structures.S2 })).includes('sophie'));

  const info = sel({ ...s1, profiles: ['Relative'], external: 'info' });
  const rows = await selectAccounts(ctx, info, ALL);
  assert.deepEqual(rows.map((r) => [r.login, r.externalProvider, r.code]).sort(), [[s.logins.claire, 'EduConnect', null], [s.logins.paul, 'EduConnect', null]]);
  const pdf = await exportSelection(ctx, { format: 'pdf', selection: info, scope: ALL, actorId: null, via: 'cli' });
  const buf = await body(pdf.body);
  const text = execFileSync('pdftotext', ['-', '-'], { input: buf }).toString().replace(/\s+/g, ' ');
  assert.match(text, /Connexion avec EduConnect : pas de code d’activation/);
  assert.ok(text.includes(ctx.config.publicUrl), 'the ENT address');
  assert.ok(!text.includes(s.codes.paul.slice(0, 4)), 'no code');
  const csv = await exportSelection(ctx, { format: 'csv', selection: info, scope: ALL, actorId: null, via: 'cli' });
  const records = parse(await body(csv.body), { bom: true, delimiter: ';', columns: true }) as Record<string, string>[];
  assert.deepEqual(records.map((r) => r["Code d'activation"]), ['Connexion EduConnect', 'Connexion EduConnect']);
  // A mail run never writes to them (Paul has an address).
  const run = await startMailMerge(ctx, info, ALL, null);
  assert.equal(run.queued, 0);
  assert.equal((await q('SELECT count(*)::int n FROM mail_jobs WHERE user_id = $1', [s.users.paul])).rows[0].n, 0);
});

test('external-only sign-in, decided alike by the selection and the provider column for every account: a relative through a child’s school only, one in the school without a child there, pupils by their policy, a federated account', async () => {
  const policy = { emailRequired: false, phoneRequired: false, minPasswordLength: 12, graceDays: 90, deletionDays: 90 } as const;
  await savePolicy(ctx.database.pool, s.structures.S1, 'Relative', { ...policy, signIn: 'external', provider: 'EduConnect' }, null);
  await savePolicy(ctx.database.pool, s.structures.S2, 'Student', { ...policy, signIn: 'external', provider: 'Portail' }, null);
  // Rémi: no school of his own, the father of a pupil of S1; Inès: attached to S1, her only child in S2.
  const remi = await createUser(ctx.database.pool, { login: 'remi.hors', profile: 'Relative' });
  const ines = await createUser(ctx.database.pool, { login: 'ines.s1', profile: 'Relative' });
  await q('INSERT INTO user_structures (user_id, structure_id) VALUES ($1, $2)', [ines, s.structures.S1]);
  await q('INSERT INTO relations (parent_id, child_id) VALUES ($1, $2), ($3, $4)', [remi, s.users.emile, ines, s.users.jules]);
  await q(`INSERT INTO federation_links (provider_id, subject, user_id, provider_name) VALUES ('educonnect', 'anne', $1, 'EduConnect')`, [s.users.anne]);
  try {
    const open = { blocked: 'all', preDeletion: 'all' };
    const everyone = await selectAccounts(ctx, sel({ ...open, external: 'info' }), ALL);
    const kept = new Set((await selectAccounts(ctx, sel(open), ALL)).map((r) => r.id));
    const byId = new Map([...Object.entries(s.users).map(([k, id]) => [id, k] as const), [remi, 'remi'], [ines, 'ines']]);
    const external = everyone.filter((r) => r.externalProvider !== null).map((r) => byId.get(r.id)).sort();
    assert.deepEqual(external, ['anne', 'claire', 'hostile', 'ines', 'jules', 'paul', 'remi'].sort());
    assert.deepEqual(everyone.filter((r) => !kept.has(r.id)).map((r) => byId.get(r.id)).sort(), external);
    // Sophie (S2's parent) and S1's pupils keep their codes.
    for (const k of ['sophie', 'zoe', 'emile']) assert.ok(kept.has(s.users[k]), k);
    // The preview's counters of those left out say the same, by profile and provider.
    const counted = new Map<string, number>();
    for (const r of everyone.filter((x) => x.externalProvider !== null)) counted.set(`${r.profile}/${r.externalProvider}`, (counted.get(`${r.profile}/${r.externalProvider}`) ?? 0) + 1);
    const left = await leftOutOf(ctx, sel(open), ALL);
    assert.deepEqual(new Map(left.external.map((e) => [`${e.profile}/${e.provider}`, e.count])), counted);
    assert.deepEqual([...counted.keys()].sort(), ['Relative/EduConnect', 'Student/Portail', 'Teacher/EduConnect']);
  } finally {
    await q('DELETE FROM federation_links');
    await q('DELETE FROM users WHERE id = ANY($1)', [[remi, ines]]);
  }
});

test('a link to a provider leaves the account out from when it is written until its last link is removed or moved to another account (users.federated, migration 0036)', async () => {
  const kept = async () => new Set((await selectAccounts(ctx, sel({ blocked: 'all', preDeletion: 'all' }), ALL)).map((r) => r.id));
  const link = (subject: string, userId: string) =>
    q(`INSERT INTO federation_links (provider_id, subject, user_id, provider_name) VALUES ('educonnect', $1, $2, 'EduConnect')`, [subject, userId]);
  try {
    assert.ok((await kept()).has(s.users.sophie));
    await link('s1', s.users.sophie);
    await link('s2', s.users.sophie);
    assert.ok(!(await kept()).has(s.users.sophie), 'linked: no code');
    await q(`DELETE FROM federation_links WHERE subject = 's1'`);
    assert.ok(!(await kept()).has(s.users.sophie), 'one link left');
    // A link moved to another account (an UPDATE of user_id).
    await q(`UPDATE federation_links SET user_id = $1 WHERE subject = 's2'`, [s.users.zoe]);
    const now = await kept();
    assert.ok(now.has(s.users.sophie), 'her last link moved away');
    assert.ok(!now.has(s.users.zoe), 'the account that received it');
    await q('DELETE FROM federation_links');
    assert.ok((await kept()).has(s.users.zoe));
    const flags = await q('SELECT count(*)::int AS n FROM users WHERE federated');
    assert.equal(flags.rows[0].n, 0);
  } finally {
    await q('DELETE FROM federation_links');
  }
});

test('a parent’s sheet lists only children present in the feed, in the structures of the selection', async () => {
  await q('INSERT INTO relations (parent_id, child_id) VALUES ($1, $2)', [s.users.paul, s.users.jules]);
  const paulOf = async (input: Record<string, unknown>) =>
    (await selectAccounts(ctx, sel({ userIds: [s.users.paul], ...input }), ALL))[0].children.map((c) => c.firstName).sort();
  assert.deepEqual(await paulOf({}), ['Jules', 'Léo', 'Zoé']);
  assert.deepEqual(await paulOf({ structureId: s.structures.S1 }), ['Léo', 'Zoé'], 'Jules is in another school');
  await q(`UPDATE users SET absent_since = now() WHERE id = $1`, [s.users.leo]);
  assert.deepEqual(await paulOf({ structureId: s.structures.S1 }), ['Zoé'], 'Léo left');
  await q(`UPDATE users SET absent_since = NULL, pre_deleted_at = now() WHERE id = $1`, [s.users.leo]);
  assert.deepEqual(await paulOf({ structureId: s.structures.S1 }), ['Zoé'], 'Léo pre-deleted');
  const pdf = await exportSelection(ctx, { format: 'pdf', selection: sel({ userIds: [s.users.paul], structureId: s.structures.S1 }), scope: ALL, actorId: null, via: 'cli' });
  const text = execFileSync('pdftotext', ['-', '-'], { input: await body(pdf.body) }).toString();
  assert.match(text, /Responsable de : Zoé MARTIN \(6A\)/);
  assert.doesNotMatch(text, /Léo/);
  await q(`UPDATE users SET pre_deleted_at = NULL WHERE id = $1`, [s.users.leo]);
});

test('file names say what they hold', async () => {
  const pdf = await exportSelection(ctx, {
    format: 'pdf', selection: sel({ classIds: [s.classes['6A']], profiles: ['Student'] }), scope: ALL, actorId: null, via: 'cli',
  });
  assert.match(pdf.filename, /^fiches-6A-eleves-\d{4}-\d{2}-\d{2}\.pdf$/);
  await body(pdf.body);
  const csv = await exportSelection(ctx, { format: 'csv', selection: sel({ levelIds: [s.levels['5EME']], blocked: 'only' }), scope: ALL, actorId: null, via: 'cli' });
  assert.match(csv.filename, /^comptes-5EME-bloques-\d{4}-\d{2}-\d{2}\.csv$/);
  // Pure parts.
  const many = contentLabel(sel({ profiles: ['Relative'], activation: 'inactive' }), { classes: ['6A', '6B', '5A', '4C'], levels: [] });
  assert.equal(fileName('fiches', many, '2026-09-02', 'pdf'), 'fiches-4-classes-parents-non-actives-2026-09-02.pdf');
  assert.equal(many.text, '4 classes · parents · comptes non activés');
  assert.equal(many.textEn, '4 classes · parents · accounts not activated');
  // The reminder's delay in words, one day in the singular (« plus de 1 jours » read wrong).
  assert.equal(contentLabel(sel({ distributedBefore: 1 }), { classes: [], levels: [] }).text, 'relance (remis il y a plus d’un jour)');
  assert.equal(contentLabel(sel({ distributedBefore: 3 }), { classes: [], levels: [] }).text, 'relance (remis il y a plus de 3 jours)');
  assert.equal(fileName('comptes', contentLabel(sel(), { classes: [], levels: [] }), '2026-09-02', 'csv'), 'comptes-2026-09-02.csv');
  assert.equal(fileName('fiches', contentLabel(sel(), { classes: ['6e A/B'], levels: [] }), '2026-09-02', 'pdf'), 'fiches-6eAB-2026-09-02.pdf');
  // A school's file that names no class opens with the school (its UAI, else its name); a class's says the class.
  assert.equal(fileName('fiches', contentLabel(sel(), { classes: [], levels: [], school: '0750001A' }), '2026-09-02', 'pdf'), 'fiches-0750001A-2026-09-02.pdf');
  assert.equal(fileName('comptes', contentLabel(sel(), { classes: [], levels: [], school: 'École Émile Zola' }), '2026-09-02', 'csv'), 'comptes-EcoleEmileZola-2026-09-02.csv');
  assert.equal(fileName('fiches', contentLabel(sel(), { classes: ['6A'], levels: [], school: '0750001A' }), '2026-09-02', 'pdf'), 'fiches-6A-2026-09-02.pdf');
  const external = contentLabel(sel({ external: 'info' }), { classes: ['6A'], levels: [] });
  assert.equal(fileName('comptes', external, '2026-09-02', 'csv'), 'comptes-6A-avec-connexion-externe-2026-09-02.csv');
  assert.equal(external.text, '6A · avec les comptes à connexion externe');
  assert.equal(external.textEn, '6A · with the accounts signing in elsewhere');
});

test('left-out reasons: first of blocked, absent, external; counters per profile and provider', () => {
  const d = sel();
  assert.equal(leftOutReason(d, { blocked: true, absent: true, provider: 'X' }), 'blocked');
  assert.equal(leftOutReason(d, { blocked: false, absent: true, provider: 'X' }), 'absent');
  assert.equal(leftOutReason(d, { blocked: false, absent: false, provider: 'X' }), 'external');
  assert.equal(leftOutReason(d, { blocked: false, absent: false, provider: null }), null);
  assert.equal(leftOutReason(sel({ external: 'info' }), { blocked: false, absent: false, provider: 'X' }), null);
  assert.deepEqual(
    countLeftOut(d, [
      { blocked: false, absent: false, provider: 'EduConnect', profile: 'Relative', count: 400 },
      { blocked: false, absent: false, provider: 'EduConnect', profile: 'Relative', count: 12 },
      { blocked: true, absent: false, provider: 'EduConnect', profile: 'Relative', count: 1 },
      { blocked: false, absent: false, provider: 'IdP académique', profile: 'Teacher', count: 46 },
    ]),
    { blocked: 1, absent: 0, external: [{ profile: 'Relative', provider: 'EduConnect', count: 412 }, { profile: 'Teacher', provider: 'IdP académique', count: 46 }] },
  );
});
