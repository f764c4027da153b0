// Issue #10 (distrib-a): the family order, family packs, ZIP of sheets, family mail with attachments and renewal
// sheets, over the sample school (one extra parent without an address, one namesake pupil), read back as a
// family would get them: PDF text (pdftotext), QR codes (zbarimg), ZIP entries (yauzl), mails (SMTP server).
import assert from 'node:assert/strict';
import { buffer } from 'node:stream/consumers';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { formatCode } from '../src/accounts/codes.js';
import { RENEWAL } from '../src/accounts/issue.js';
import type { Scope } from '../src/directory/scope.js';
import { startFamilyMail } from '../src/mail/family.js';
import { startMailWorker, type MailWorker } from '../src/mail/worker.js';
import { familyPacks, familySelection } from '../src/publipostage/family.js';
import { activationUrl } from '../src/publipostage/format.js';
import { handOut } from '../src/publipostage/handout.js';
import { renderSheetsPdf, renewalUrl } from '../src/publipostage/pdf.js';
import { issueRenewalSheets, renderRenewalCsv, renderRenewalPdf } from '../src/publipostage/renewal-sheets.js';
import { selectAccounts, selectPage } from '../src/publipostage/select.js';
import { SelectionSchema, type AccountRow } from '../src/publipostage/selection.js';
import { uniqueSheetNames, zipSheets } from '../src/publipostage/zip.js';
import { testContext } from './helpers/db.js';
import { loopTurnsDuring } from './helpers/event-loop.js';
import { pdfQrCodes, pdfText } from './helpers/pdf.js';
import { insertSample, SAMPLE_USERS, type Sample } from './helpers/sample.js';
import { startTestSmtp, waitFor, type TestSmtp } from './helpers/smtp.js';
import { zipEntries } from './helpers/zip.js';

let ctx: Awaited<ReturnType<typeof testContext>>;
let s: Sample;
let dir: string;
let smtp: TestSmtp;
let worker: MailWorker;
const ALL: Scope = { kind: 'all' };
const URL_BASE = 'https://ent.example.fr';

before(async () => {
  smtp = await startTestSmtp();
  ctx = await testContext({ TROUSSEAU_PUBLIC_URL: URL_BASE, SMTP_URL: smtp.url });
  s = await insertSample(ctx, [
    ...SAMPLE_USERS,
    // A second parent of Zoé and Léo, without an address; a namesake of Zoé MARTIN in 6B.
    { key: 'julie', first: 'Julie', last: 'MARTIN', profile: 'Relative', structure: 'S1', parentOf: ['zoe', 'leo'] },
    { key: 'zoe2', first: 'Zoé', last: 'Martin', profile: 'Student', structure: 'S1', classes: ['6B'], login: 'zoe.martin2' },
  ]);
  dir = mkdtempSync(join(tmpdir(), 'trousseau-family-'));
  worker = startMailWorker(ctx, { pollMs: 20, log: () => {} });
});
after(async () => {
  await worker?.stop();
  await smtp?.close();
  rmSync(dir, { recursive: true, force: true });
  await ctx.close();
});

const sel = (input: Record<string, unknown>) => SelectionSchema.parse({ structureId: s.structures.S1, ...input });
const keyOf = (rows: AccountRow[]) => rows.map((r) => Object.keys(s.users).find((k) => s.users[k] === r.id));
let n = 0;
function save(pdf: Buffer): string {
  const file = join(dir, `f${++n}.pdf`);
  writeFileSync(file, pdf);
  return file;
}
const flat = (t: string) => t.replace(/\s+/g, ' ');
describe('sort par famille', () => {
  test('each pupil (by class) is followed by their parents; a parent of two pupils comes once, after the first', async () => {
    const rows = await selectAccounts(ctx, sel({ profiles: 'Student,Relative', sort: 'family' }), ALL);
    const keys = keyOf(rows);
    // 5A: Léo, then his two parents (alphabetical); 6A: Émile and Claire, then Zoé (her parents already came).
    assert.deepEqual(keys.slice(0, 6), ['leo', 'julie', 'paul', 'emile', 'claire', 'zoe']);
    assert.equal(keys.filter((k) => k === 'paul').length, 1);
    assert.equal(new Set(keys).size, keys.length);
    assert.deepEqual(new Set(keys.slice(6)), new Set(['eckert', 'eclair', 'zoe2', 'hugo', 'aslog']));
    // The preview's pages agree with the full order.
    const paged: AccountRow[] = [];
    for (let offset = 0; offset < rows.length; offset += 4) paged.push(...(await selectPage(ctx, sel({ profiles: 'Student,Relative', sort: 'family' }), ALL, { limit: 4, offset })));
    assert.deepEqual(keyOf(paged), keys);
  });

  test('family pack PDF: pupils of a class and their parents, one sheet per page in family order, QR codes to activation', async () => {
    const pupils = [s.users.zoe, s.users.leo];
    const selection = await familySelection(ctx.database.pool, sel({ profiles: 'Student' }), pupils);
    const rows = await handOut(ctx, { selection, scope: ALL, actorId: null, action: 'publipostage.family_pack', kind: 'family_pack' });
    assert.deepEqual(keyOf(rows), ['leo', 'julie', 'paul', 'zoe']);
    const file = save(await renderSheetsPdf(ctx, rows, { model: 1, sort: 'family' }));
    const names = ['Léo MARTIN', 'Julie MARTIN', 'Paul MARTIN', 'Zoé MARTIN'];
    for (const [i, name] of names.entries()) assert.match(pdfText(file, i + 1), new RegExp(name));
    assert.match(pdfText(file, 2), /Responsable de : Léo MARTIN \(5A\), Zoé MARTIN \(6A\)/);
    const julie = rows[1];
    assert.ok(julie.code, 'a parent without a code gets one on their family sheet');
    assert.deepEqual(pdfQrCodes(file, 2), [activationUrl(URL_BASE, julie.login, julie.code)]);
    assert.match(flat(pdfText(file, 2)), new RegExp(formatCode(julie.code)));
    // 8 per page: one page, the four sheets.
    const eight = save(await renderSheetsPdf(ctx, rows, { model: 8, sort: 'family' }));
    for (const name of names) assert.match(pdfText(eight, 1), new RegExp(name));
    assert.equal(pdfQrCodes(eight, 1).length, 4);
  });
});

describe('ZIP of sheets', () => {
  test('one PDF per account named « Fiche de connexion – Prénom NOM.pdf », namesakes told apart by their logins', async () => {
    const rows = await handOut(ctx, { selection: sel({ userIds: [s.users.zoe, s.users.zoe2, s.users.leo].join(',') }), scope: ALL, actorId: null, action: 'publipostage.zip', kind: 'zip' });
    const entries = await zipEntries(await buffer(await zipSheets(ctx, rows)));
    assert.deepEqual(entries.map((e) => e.name).sort(), [
      'Fiche de connexion – Léo MARTIN.pdf', 'Fiche de connexion – Zoé MARTIN (zoe.martin).pdf', 'Fiche de connexion – Zoé MARTIN (zoe.martin2).pdf',
    ]);
    for (const e of entries) {
      const file = save(e.data);
      const [, who, login] = /^Fiche de connexion – (.+?)(?: \((.+)\))?\.pdf$/.exec(e.name)!;
      const text = pdfText(file);
      assert.match(text, new RegExp(who.replace('MARTIN', '(MARTIN|Martin)')));
      // The login in the name is the one on the sheet inside.
      if (login) assert.match(text, new RegExp(`Identifiant : ${login.replace('.', '\\.')}\\s`), e.name);
      assert.equal(pdfQrCodes(file, 1).length, 1);
    }
  });

  test('namesakes’ file names: their logins, made safe; unique whatever the rows', () => {
    const row = (firstName: string, lastName: string, login: string) => ({ firstName, lastName, login });
    assert.deepEqual(uniqueSheetNames([row('Kù', 'Bézier', 'ku.bezier'), row('Kù', 'BÉZIER', 'ku.bezier2'), row('Ana', 'Lys', 'ana.lys')]), [
      'Fiche de connexion – Kù BÉZIER (ku.bezier).pdf', 'Fiche de connexion – Kù BÉZIER (ku.bezier2).pdf', 'Fiche de connexion – Ana LYS.pdf',
    ]);
    // Names compared as file systems may (case-insensitively); a login's unsafe characters never reach the name.
    assert.deepEqual(uniqueSheetNames([row('Eva', 'Roy', 'eva/roy'), row('EVA', 'roy', 'eva:roy'), row('Eva', 'Roy', 'eva/roy')]), [
      'Fiche de connexion – Eva ROY (eva roy).pdf', 'Fiche de connexion – EVA ROY (eva roy) (2).pdf', 'Fiche de connexion – Eva ROY (eva roy) (3).pdf',
    ]);
  });

  test('a ZIP of many accounts is streamed, other work running between two sheets (a whole school blocked the server)', async () => {
    const one = await handOut(ctx, { selection: sel({ userIds: [s.users.zoe, s.users.leo].join(',') }), scope: ALL, actorId: null, action: 'publipostage.zip', kind: 'zip' });
    const rows = Array.from({ length: 40 }, (_, i) => one[i % 2]);
    // The event loop's turns while the ZIP is made.
    const { result: zip, turns } = await loopTurnsDuring(async () => buffer(await zipSheets(ctx, rows)));
    assert.ok(turns >= rows.length, `${turns} turns for ${rows.length} sheets`);
    const names = (await zipEntries(zip)).map((e) => e.name);
    assert.equal(names.length, 40);
    assert.ok(names.includes(`Fiche de connexion – Zoé MARTIN (${s.logins.zoe}) (20).pdf`), names.join('\n'));
    assert.equal(new Set(names.map((n) => n.toLowerCase())).size, 40);
  });
});

describe('family mail', () => {
  test('each parent gets their own credentials and ONE PDF of their children’s sheets; parents without an address are listed', async () => {
    const res = await startFamilyMail(ctx, sel({ classIds: s.classes['6A'], profiles: 'Student' }), ALL, null, { idempotencyKey: 'family-mail-test-0001' });
    assert.deepEqual(res.withoutEmailParents.map((p) => p.login), [s.logins.julie]);
    assert.equal(res.queued, 2);
    await waitFor('two family mails', () => smtp.messages.length >= 2);
    const [paul] = smtp.to('paul.martin@example.org');
    assert.match(paul.text ?? '', new RegExp(s.logins.paul));
    assert.equal(paul.attachments.length, 1);
    const att = paul.attachments[0];
    // Only Zoé is in 6A: Léo (5A) is not in this pack.
    assert.equal(att.filename, 'Fiche de connexion – Zoé MARTIN.pdf');
    assert.equal(att.contentType, 'application/pdf');
    const file = save(att.content);
    assert.match(pdfText(file), /Zoé MARTIN/);
    assert.doesNotMatch(pdfText(file), /Léo|Paul/);
    const [zoe] = await selectAccounts(ctx, sel({ userIds: s.users.zoe }), ALL);
    assert.deepEqual(pdfQrCodes(file, 1), [activationUrl(URL_BASE, zoe.login, zoe.code!)]);
    const [claire] = smtp.to('claire@example.org');
    assert.equal(claire.attachments[0].filename, 'Fiche de connexion – Émile DURAND.pdf');
    // At rest: sealed bodies, and no PDF at all (the worker made it when sending): only the children's ids, no code.
    const stored = await ctx.database.pool.query('SELECT sealed, attachments, attachment_spec FROM mail_jobs WHERE run_id = $1', [res.runId]);
    for (const j of stored.rows) {
      assert.equal(j.sealed, true);
      assert.equal(j.attachments, null);
      assert.equal(j.attachment_spec.kind, 'family_pack');
      assert.doesNotMatch(JSON.stringify(j.attachment_spec), new RegExp(zoe.code!));
    }
    // The same form again: the same run, nothing more sent.
    const again = await startFamilyMail(ctx, sel({ classIds: s.classes['6A'], profiles: 'Student' }), ALL, null, { idempotencyKey: 'family-mail-test-0001' });
    assert.equal(again.runId, res.runId);
  });
});

describe('renewal sheets', () => {
  test('codes for the activated accounts only, printed with QR to the renewal page and stored as HMAC in one transaction', async () => {
    const selection = sel({ profiles: 'Student,Relative' });
    const rows = await issueRenewalSheets(ctx, selection, ALL, null, 'pdf');
    assert.deepEqual(keyOf(rows).sort(), ['claire', 'emile']);
    for (const r of rows) {
      const { rows: [u] } = await ctx.database.pool.query('SELECT renewal_code_mac, renewal_code_expires_at FROM users WHERE id = $1', [r.id]);
      assert.ok(ctx.secrets.verify(RENEWAL, r.code!, u.renewal_code_mac));
      assert.equal(u.renewal_code_expires_at.getTime(), r.codeExpiresAt!.getTime());
    }
    const audit = await ctx.database.pool.query(`SELECT details FROM audit WHERE action = 'publipostage.renewal'`);
    assert.equal(audit.rows[0].details.count, 2);
    for (const model of [1, 2] as const) {
      const file = save(await renderRenewalPdf(ctx, rows, model));
      const t = flat(pdfText(file, 1));
      assert.match(t, /Code de renouvellement : /);
      assert.match(t, /Votre mot de passe actuel reste valable jusqu’à l’utilisation de ce code/);
      assert.match(t, new RegExp(formatCode(rows[0].code!)));
      assert.doesNotMatch(t, /Code d’activation/);
      const expected = rows.slice(0, model).map((r) => renewalUrl(URL_BASE, r.login, r.code!)).sort();
      assert.deepEqual(pdfQrCodes(file, 1), expected);
    }
    const csv = renderRenewalCsv(ctx, rows).toString('utf8');
    assert.match(csv, /^\uFEFFNom;Prénom;Profil;Login;Code de renouvellement/);
    for (const r of rows) assert.ok(csv.includes(formatCode(r.code!)));
    // A bare line break inside a cell stays inside its quoted cell (the export's one CSV writer): one record per account.
    const broken = renderRenewalCsv(ctx, [{ ...rows[0], lastName: 'DU\nPONT' }]).toString('utf8');
    assert.match(broken, /;"DU\nPONT";|^\uFEFF[^\n]*\r\n"DU\nPONT";/m);
    assert.equal(broken.split('\r\n').filter(Boolean).length, 2);
  });
});

test('familyPacks: each relative with their children among the rows, in the rows’ order, links outside the rows ignored', () => {
  const row = (id: string, profile: AccountRow['profile']) => ({ id, profile }) as AccountRow;
  const [leo, zoe, anna, marc, sans] = [row('leo', 'Student'), row('zoe', 'Student'), row('anna', 'Relative'), row('marc', 'Relative'), row('sans', 'Relative')];
  const links = new Map([
    ['anna', ['zoe', 'leo', 'leo', 'absent']],
    ['marc', ['zoe']],
  ]);
  const packs = familyPacks([leo, anna, zoe, marc, sans], links);
  assert.deepEqual(
    packs.map((p) => [p.parent.id, p.children.map((c) => c.id)]),
    [['anna', ['leo', 'zoe']], ['marc', ['zoe']]],
    'a relative without a child among the rows has no pack; a link given twice counts once',
  );
});
