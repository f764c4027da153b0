// "Envoyer par mail": a merge over real accounts, delivered to a real SMTP server, and its report.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { formatCode, normalizeCode } from '../src/accounts/codes.js';
import { ACTIVATION, issueActivationCode } from '../src/accounts/issue.js';
import type { AppContext } from '../src/context.js';
import type { Scope } from '../src/directory/scope.js';
import { listMailRuns, mailRunReport, queueMailMerge, startMailMerge } from '../src/mail/merge.js';
import { selectAccounts } from '../src/publipostage/select.js';
import { startMailWorker, type MailWorker } from '../src/mail/worker.js';
import { SelectionSchema } from '../src/publipostage/selection.js';
import { testContext } from './helpers/db.js';
import { startTestSmtp, waitFor, type TestSmtp } from './helpers/smtp.js';
import type { ParsedMail } from 'mailparser';

let smtp: TestSmtp;
let ctx: AppContext & { close(): Promise<void> };
let worker: MailWorker;
const logs: string[] = [];
const codes = new Map<string, string>(); // login -> clear activation code
const ids: Record<string, string> = {};
let school: string;
let otherSchool: string;
let cm1: string;
let cp: string;
let admin: string;

const GROUPED_CODE = /\b[0-9A-Z]{4}-[0-9A-Z]{4}-[0-9A-Z]{2}\b/;

async function insert(sql: string, params: unknown[]): Promise<string> {
  return (await ctx.database.pool.query(sql, params)).rows[0].id;
}

interface Person {
  key: string;
  profile: string;
  first: string;
  last: string;
  email?: string;
  state: 'active' | 'inactive' | 'expired';
  structure: string;
  classes?: string[];
}

async function person(p: Person): Promise<string> {
  const login = `${p.first}.${p.last}`.toLowerCase().normalize('NFD').replace(/[^a-z.]/g, '');
  const issued = issueActivationCode(ctx.secrets, 30, p.state === 'expired' ? new Date(Date.now() - 60 * 86_400_000) : new Date());
  const inactive = p.state !== 'active';
  const id = await insert(
    `INSERT INTO users (profile, first_name, last_name, email, login, password_hash, activated_at,
       activation_code_enc, activation_code_mac, activation_code_expires_at)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) RETURNING id`,
    [
      p.profile, p.first, p.last, p.email ?? null, login,
      inactive ? null : '$argon2id$v=19$m=19456,t=2,p=1$c2FsdHNhbHQ$aGFzaGhhc2hoYXNo',
      inactive ? null : new Date(),
      inactive ? issued.enc : null, inactive ? issued.mac : null, inactive ? issued.expiresAt : null,
    ],
  );
  if (inactive) codes.set(login, issued.code);
  await ctx.database.pool.query('INSERT INTO user_structures (user_id, structure_id) VALUES ($1, $2)', [id, p.structure]);
  for (const c of p.classes ?? []) await ctx.database.pool.query('INSERT INTO user_classes (user_id, class_id) VALUES ($1, $2)', [id, c]);
  ids[p.key] = id;
  ids[`${p.key}.login`] = login;
  return id;
}

const only = (address: string): ParsedMail => {
  const got = smtp.to(address);
  assert.equal(got.length, 1, `exactly one mail for ${address}`);
  return got[0];
};

before(async () => {
  smtp = await startTestSmtp();
  ctx = await testContext({ SMTP_URL: smtp.url });
  school = await insert("INSERT INTO structures (name, uai) VALUES ('École Charlemagne', '0750001A') RETURNING id", []);
  otherSchool = await insert("INSERT INTO structures (name, uai) VALUES ('Collège Voltaire', '0750002B') RETURNING id", []);
  cm1 = await insert("INSERT INTO classes (structure_id, name) VALUES ($1, 'CM1 A') RETURNING id", [school]);
  cp = await insert("INSERT INTO classes (structure_id, name) VALUES ($1, 'CP') RETURNING id", [school]);
  admin = await insert(
    "INSERT INTO users (profile, first_name, last_name, login, is_super_admin) VALUES ('Personnel', 'Ada', 'Admin', 'ada.admin', true) RETURNING id",
    [],
  );
  await person({ key: 'lea', profile: 'Student', first: 'Léa', last: 'Martin', email: 'lea@example.fr', state: 'inactive', structure: school, classes: [cm1] });
  await person({ key: 'hugo', profile: 'Student', first: 'Hugo', last: 'Martin', state: 'inactive', structure: school, classes: [cp] });
  await person({ key: 'claire', profile: 'Relative', first: 'Claire', last: 'Martin', email: 'claire@example.fr', state: 'inactive', structure: school });
  await ctx.database.pool.query('INSERT INTO relations (parent_id, child_id) VALUES ($1, $2), ($1, $3)', [ids.claire, ids.lea, ids.hugo]);
  await person({ key: 'paul', profile: 'Teacher', first: 'Paul', last: 'Durand', email: 'paul@example.fr', state: 'active', structure: school, classes: [cm1] });
  await person({ key: 'anne', profile: 'Personnel', first: 'Anne', last: 'Petit', email: 'anne@example.fr', state: 'expired', structure: school });
  await person({ key: 'zoe', profile: 'Student', first: 'Zoé', last: 'Blanc', state: 'active', structure: school, classes: [cm1] });
  await person({ key: 'ines', profile: 'Relative', first: 'Inès', last: 'Faux', email: 'inconnu@example.fr', state: 'inactive', structure: school });
  await person({ key: 'other', profile: 'Teacher', first: 'Olga', last: 'Ailleurs', email: 'olga@example.fr', state: 'inactive', structure: otherSchool });
  smtp.refuseRcpt('inconnu@example.fr', 550);
  worker = startMailWorker(ctx, { pollMs: 20, backoffMs: 10, log: (m) => logs.push(m) });
});

after(async () => {
  await worker?.stop();
  await ctx?.close();
  await smtp?.close();
});

describe('email merge', () => {
  let runId: string;
  const localAdmin: Scope = { kind: 'structures', structureIds: [] };

  it('queues one mail per selected account with an address and counts the others', async () => {
    localAdmin.structureIds.push(school);
    const result = await startMailMerge(ctx, SelectionSchema.parse({ structureId: school }), { kind: 'all' }, admin);
    runId = result.runId;
    assert.deepEqual({ ...result, runId: undefined }, { runId: undefined, selected: 7, withoutEmail: 2, queued: 5 });
    // Codes never sit in clear in the queue.
    const bodies = (await ctx.database.pool.query('SELECT body_text, body_html, sealed FROM mail_jobs WHERE run_id = $1', [runId])).rows;
    assert.equal(bodies.length, 5);
    for (const b of bodies) {
      assert.equal(b.sealed, true);
      for (const code of codes.values()) assert.ok(!b.body_text.includes(code) && !b.body_html.includes(formatCode(code)));
    }
    const audit = (await ctx.database.pool.query("SELECT actor_id, details FROM audit WHERE action = 'publipostage.mail'")).rows;
    assert.equal(audit.length, 1);
    assert.equal(audit[0].actor_id, admin);
    assert.equal(audit[0].details.runId, runId);
    assert.equal(audit[0].details.filters.structureId, school);
    assert.deepEqual([audit[0].details.selected, audit[0].details.withoutEmail, audit[0].details.queued], [7, 2, 5]);
  });

  it('delivers the credentials to inactive accounts: login, grouped code, expiry, activation link, first steps', async () => {
    await waitFor('4 mails delivered', () => smtp.messages.length >= 4);
    const m = only('lea@example.fr');
    const login = ids['lea.login'];
    const code = codes.get(login)!;
    const text = m.text ?? '';
    assert.equal(m.subject, 'Activez votre compte de l’ENT – École Charlemagne');
    assert.ok(text.includes(`identifiant : ${login}`), text);
    assert.match(text, new RegExp(`code d’activation : ${formatCode(code)} \\(valable jusqu’au \\d\\d/\\d\\d/\\d{4}\\)`));
    assert.ok(text.includes(`https://ent.example.fr/activation?login=${encodeURIComponent(login)}&code=${code}`), text);
    assert.match(text, /mot de passe/);
    assert.match(text, /conditions d’utilisation/);
    const html = String(m.html);
    assert.ok(html.includes(formatCode(code)));
    assert.ok(html.includes(`href="https://ent.example.fr/activation?login=${encodeURIComponent(login)}&amp;code=${code}"`), html);
    // Accessible: in French, titled by its subject, its first steps a real list (not lines cut by <br>).
    assert.match(html, /<html lang="fr">/, html);
    assert.match(html, /<title>Activez votre compte de l’ENT – École Charlemagne<\/title>/, html);
    const steps = /<p>Première connexion :<\/p>\n<ol>\n((?:<li>.*<\/li>\n){5})<\/ol>/.exec(html);
    assert.ok(steps, `the five steps as an ordered list\n${html}`);
    assert.match(steps[1], /^<li>Va sur <a href="https:\/\/ent\.example\.fr\/activation">/, steps[1]);
    assert.doesNotMatch(html, /<br>\n\d\./, html);
    // The plain-text part keeps its numbered lines.
    assert.match(text, /Première connexion :\n1\. Va sur https:\/\/ent\.example\.fr\/activation et saisis[^\n]+\n2\. Choisis[^\n]+\n3\. [^\n]+\n4\. [^\n]+\n5\. Lis et accepte/, text);
  });

  it("names the parent's children and their classes", () => {
    const m = only('claire@example.fr');
    const text = m.text ?? '';
    assert.ok(text.includes('Hugo Martin (CP), Léa Martin (CM1 A)'), text);
    assert.ok(text.includes(formatCode(codes.get(ids['claire.login'])!)));
    assert.ok(String(m.html).includes('Léa Martin (CM1 A)'));
  });

  it('sends active accounts renewal instructions and no code', () => {
    const m = only('paul@example.fr');
    const text = m.text ?? '';
    assert.equal(m.subject, 'Votre compte de l’ENT – École Charlemagne');
    assert.match(text, /Mot de passe oublié/);
    assert.ok(text.includes(ids['paul.login']));
    assert.ok(text.includes('https://ent.example.fr/mot-de-passe-oublie'), text);
    assert.doesNotMatch(text, /Code d’activation/);
    assert.doesNotMatch(text, GROUPED_CODE);
    assert.doesNotMatch(String(m.html), GROUPED_CODE);
    assert.ok(String(m.html).includes('<a href="https://ent.example.fr/mot-de-passe-oublie">'));
    // Its « Mot de passe oublié ? » steps are a list too, the line after them a paragraph again.
    assert.match(String(m.html), /<p>Mot de passe oublié \?<\/p>\n<ol>\n(?:<li>.*<\/li>\n){3}<\/ol>\n<p>Sans accès à cette adresse/, String(m.html));
    assert.match(String(m.html), /<title>Votre compte de l’ENT – École Charlemagne<\/title>/);
  });

  it('gives an account whose code had expired a fresh, working code', async () => {
    const m = only('anne@example.fr');
    const printed = (m.text ?? '').match(GROUPED_CODE)?.[0];
    assert.ok(printed, 'a code is printed');
    const code = normalizeCode(printed)!;
    assert.notEqual(code, codes.get(ids['anne.login']), 'not the expired one');
    const row = (await ctx.database.pool.query('SELECT activation_code_mac, activation_code_expires_at FROM users WHERE id = $1', [ids.anne])).rows[0];
    assert.ok(ctx.secrets.verify(ACTIVATION, code, row.activation_code_mac));
    assert.ok(row.activation_code_expires_at > new Date());
  });

  it('sends nothing to accounts without an address nor outside the selection', () => {
    assert.equal(smtp.to('olga@example.fr').length, 0);
    const all = smtp.messages.flatMap((m) => (Array.isArray(m.to) ? m.to : [m.to])).map((a) => a?.text);
    assert.equal(all.length, 4, String(all));
  });

  it('reports sent, failed (with the reason) and accounts without an address', async () => {
    await waitFor('run settled', async () => (await mailRunReport(ctx, runId))!.pending === 0);
    const report = (await mailRunReport(ctx, runId))!;
    assert.equal(report.selected, 7);
    assert.equal(report.withoutEmail, 2);
    assert.equal(report.queued, 5);
    assert.equal(report.sent, 4);
    assert.equal(report.failed, 1);
    assert.equal(report.pending, 0);
    assert.equal(report.actorName, 'Ada ADMIN');
    assert.equal(report.failures.length, 1);
    assert.equal(report.failures[0].recipient, 'inconnu@example.fr');
    assert.equal(report.failures[0].login, ids['ines.login']);
    assert.match(report.failures[0].error, /550/);
  });

  it('shows a run only to those who may see all its accounts', async () => {
    assert.equal((await listMailRuns(ctx, { kind: 'all' }, 10)).length, 1);
    assert.deepEqual((await listMailRuns(ctx, localAdmin, 10)).map((r) => r.runId), [runId]);
    assert.equal((await listMailRuns(ctx, { kind: 'structures', structureIds: [otherSchool] }, 10)).length, 0);
    assert.equal((await listMailRuns(ctx, { kind: 'classes', classIds: [cm1] }, 10)).length, 0);
    assert.equal(await mailRunReport(ctx, runId, { kind: 'structures', structureIds: [otherSchool] }), null);
    assert.ok(await mailRunReport(ctx, runId, localAdmin));
  });

  it("a teacher's merge over ticked students reaches them, and the school's admin sees it", async () => {
    smtp.messages.length = 0;
    const teacher: Scope = { kind: 'classes', classIds: [cm1] };
    const r = await startMailMerge(ctx, SelectionSchema.parse({ userIds: [ids.lea, ids.zoe] }), teacher, ids.paul);
    assert.deepEqual([r.selected, r.withoutEmail, r.queued], [2, 1, 1]);
    await waitFor('delivered', () => smtp.messages.length === 1);
    assert.ok((only('lea@example.fr').text ?? '').includes(formatCode(codes.get(ids['lea.login'])!)));
    assert.deepEqual((await listMailRuns(ctx, teacher, 10)).map((x) => x.runId), [r.runId]);
    assert.equal((await listMailRuns(ctx, localAdmin, 10)).length, 2);
    assert.equal((await listMailRuns(ctx, { kind: 'classes', classIds: [cp] }, 10)).length, 0);
  });

  it('does not reissue a code, nor mail one, to an account activated between selection and sending', async () => {
    const late = await person({ key: 'late', profile: 'Guest', first: 'Tom', last: 'Tard', email: 'tom@example.fr', state: 'expired', structure: school });
    const selection = SelectionSchema.parse({ userIds: [late] });
    const rows = await selectAccounts(ctx, selection, { kind: 'all' });
    assert.equal(rows.length, 1);
    await ctx.database.pool.query("UPDATE users SET password_hash = 'x', activated_at = now() WHERE id = $1", [late]);
    const r = await queueMailMerge(ctx, rows, selection, { kind: 'all' }, admin);
    assert.deepEqual([r.selected, r.withoutEmail, r.queued], [1, 0, 0]);
    const u = (await ctx.database.pool.query('SELECT activation_code_mac FROM users WHERE id = $1', [late])).rows[0];
    assert.ok(ctx.secrets.verify(ACTIVATION, codes.get(ids['late.login'])!, u.activation_code_mac), 'code left as it was');
  });

  it('never writes an activation code to the logs', () => {
    const all = logs.join('\n');
    for (const code of codes.values()) assert.ok(!all.includes(code) && !all.includes(formatCode(code)));
    assert.doesNotMatch(all, GROUPED_CODE);
  });
});
