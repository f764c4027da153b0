// Issue #10 (distrib-b): what was handed out is tracked per account (a PDF, a Word export, a mail accepted by
// the SMTP server), « Relancer » selects exactly the accounts handed out long ago and still not activated, the
// Word CSV reads as Word's mail merge expects, and the school's .docx model gives one letter per account.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, beforeEach, test } from 'node:test';
import type { FastifyInstance } from 'fastify';
import mammoth from 'mammoth';
import PizZip from 'pizzip';
import { formatCode } from '../src/accounts/codes.js';
import { DomainError } from '../src/lib/errors.js';
import { startMailMerge } from '../src/mail/merge.js';
import { enqueueMail } from '../src/mail/queue.js';
import { startMailWorker } from '../src/mail/worker.js';
import { docxWorkerRuns, renderDocxLetters } from '../src/publipostage/docx.js';
import { selectAccounts } from '../src/publipostage/select.js';
import { SelectionSchema } from '../src/publipostage/selection.js';
import { recordDistribution } from '../src/publipostage/tracking.js';
import { DEFAULT_TEACHER_RIGHTS, saveStructureSettings } from '../src/directory/policies.js';
import { buildServer } from '../src/web/server.js';
import { testContext } from './helpers/db.js';
import { makeDocx } from './helpers/docx.js';
import { insertSample, type Sample } from './helpers/sample.js';
import { startTestSmtp, waitFor, type TestSmtp } from './helpers/smtp.js';
import { multipart, sessionFor, type SessionHeaders } from './helpers/web.js';

let ctx: Awaited<ReturnType<typeof testContext>>;
let s: Sample;
let app: FastifyInstance;
let smtp: TestSmtp;
let marc: SessionHeaders;
let pp: string;

before(async () => {
  smtp = await startTestSmtp();
  ctx = await testContext({ SMTP_URL: smtp.url, MAIL_FROM: 'ENT <ent@example.fr>', TROUSSEAU_PUBLIC_URL: 'https://ent.example.fr' });
  s = await insertSample(ctx);
  marc = await sessionFor(ctx.database.pool, s.users.marc);
  app = await buildServer(ctx);
  pp = `/console/etablissements/${s.structures.S1}/publipostage`;
});
after(async () => {
  await app.close();
  await ctx.close();
  await smtp.close();
});
beforeEach(async () => {
  await ctx.database.pool.query('DELETE FROM distribution_events');
});

const get = (url: string) => app.inject({ method: 'GET', url, headers: { cookie: marc.cookie } });
/** A download (a POST: it issues codes, src/web/post-download.ts): the URL's query posted as form fields with the CSRF token. */
const download = (url: string) => {
  const [path, query = ''] = url.split('?');
  const body = new URLSearchParams(query);
  body.set('_csrf', marc.csrf);
  return app.inject({ method: 'POST', url: path, headers: { cookie: marc.cookie, 'content-type': 'application/x-www-form-urlencoded' }, payload: body.toString() });
};
const events = async (kind?: string) =>
  (await ctx.database.pool.query(
    `SELECT u.login, e.kind, e.actor_id FROM distribution_events e JOIN users u ON u.id = e.user_id
     WHERE $1::text IS NULL OR e.kind = $1 ORDER BY u.login, e.kind`,
    [kind ?? null],
  )).rows as Array<{ login: string; kind: string; actor_id: string | null }>;

test('a PDF of sheets records one "sheet" event per account, with its author, shown on the user page and class view', async () => {
  const res = await download(`${pp}/pdf?profiles=Student&classIds=${s.classes['6A']}`);
  assert.equal(res.statusCode, 200);
  assert.equal(res.headers['x-account-count'], '2');
  const rows = await events();
  assert.deepEqual(rows.map((r) => [r.login, r.kind]), [[s.logins.emile, 'sheet'], [s.logins.zoe, 'sheet']]);
  assert.ok(rows.every((r) => r.actor_id === s.users.marc));

  const today = new Intl.DateTimeFormat('fr-FR', { day: 'numeric', month: 'long', year: 'numeric', timeZone: 'Europe/Paris' }).format(new Date());
  const user = await get(`/console/utilisateurs/${s.users.zoe}`);
  assert.match(user.body, new RegExp(`Fiche remise le ${today}`));
  assert.doesNotMatch(user.body, /Courriel envoyé le/);
  const never = await get(`/console/utilisateurs/${s.users.leo}`);
  assert.match(never.body, /Aucune fiche ni courriel remis/);
  const classView = await get(`/classe/${s.classes['6A']}/eleves`);
  assert.equal(classView.statusCode, 200);
  assert.equal((classView.body.match(/Fiche remise le/g) ?? []).length, 2);
});

test('a mail is tracked once the SMTP server accepted it; a password-reset mail is not a hand-out', async () => {
  const worker = startMailWorker(ctx, { pollMs: 20, log: () => {} });
  try {
    const run = await startMailMerge(ctx, SelectionSchema.parse({ userIds: [s.users.paul] }), { kind: 'all' }, s.users.marc);
    assert.equal(run.queued, 1);
    await enqueueMail(ctx.database.pool, { userId: s.users.claire, kind: 'password_reset', recipient: 'claire@example.org', subject: 'Mot de passe', text: 'lien' });
    await waitFor('both mails', () => smtp.to('paul.martin@example.org').length === 1 && smtp.to('claire@example.org').length === 1);
    await worker.drain();
  } finally {
    await worker.stop();
  }
  assert.deepEqual(await events(), [{ login: s.logins.paul, kind: 'mail', actor_id: s.users.marc }]);
  const user = await get(`/console/utilisateurs/${s.users.paul}`);
  assert.match(user.body, /Courriel envoyé le/);
});

test('« Relancer » selects exactly the inactive accounts handed out more than N days ago and nothing since', async () => {
  const pool = ctx.database.pool;
  const at = async (key: string, kind: 'sheet' | 'mail', days: number) => {
    await recordDistribution(pool, { userIds: [s.users[key]], kind, actorId: null });
    await pool.query(`UPDATE distribution_events SET at = now() - $2::int * interval '1 day' WHERE ctid = (SELECT ctid FROM distribution_events WHERE user_id = $1 ORDER BY at DESC LIMIT 1)`, [s.users[key], days]);
  };
  await at('zoe', 'sheet', 20); // handed out 20 days ago, nothing since: to remind
  await at('aslog', 'mail', 40); // mailed 40 days ago: to remind
  await at('leo', 'sheet', 20); // …but mailed again 2 days ago: not yet
  await at('leo', 'mail', 2);
  await at('emile', 'sheet', 30); // activated since: never
  await at('eckert', 'sheet', 5); // too recent
  // hugo, eclair: never handed anything: not a reminder (a first distribution)
  const preview = async (q: string) =>
    ((await get(`/api/publipostage/preview?structureId=${s.structures.S1}&limit=500&${q}`)).json().rows as Array<{ login: string }>).map((r) => r.login);
  assert.deepEqual((await preview('profiles=Student&distributedBefore=10')).sort(), [s.logins.aslog, s.logins.zoe].sort());
  assert.deepEqual(await preview(`classIds=${s.classes['6A']}&distributedBefore=10`), [s.logins.zoe]);
  assert.deepEqual(await preview('profiles=Student&distributedBefore=25'), [s.logins.aslog]);

  // One click from the publipostage page: the link keeps the filters and adds the reminder.
  const page = await get(`${pp}?profiles=Student`);
  const href = /href="([^"]+)" data-remind/.exec(page.body)?.[1].replace(/&amp;/g, '&');
  assert.ok(href, 'Relancer link on the publipostage page');
  const q = new URL(href, 'http://x').searchParams;
  assert.equal(q.get('activation'), 'inactive');
  assert.equal(q.get('distributedBefore'), '15');
  assert.equal(q.get('profiles'), 'Student');
  const reminded = await get(href);
  assert.match(reminded.body, /data-counter="total"><strong data-value="2">/);
  // The class view ticks them (REMIND_DAYS = 15: zoe, 20 days ago).
  const cls = await get(`/classe/${s.classes['6A']}/eleves?relancer=1`);
  assert.match(cls.body, new RegExp(`value="${s.users.zoe}" id="sel-${s.users.zoe}" checked`));
  assert.doesNotMatch(cls.body, new RegExp(`value="${s.users.emile}" id="sel-${s.users.emile}" checked`));
  assert.match(cls.body, /1 compte à relancer est coché/);
  // Printing the reminder sheets is a hand-out: nobody is left to remind.
  const sheets = await download(`${pp}/pdf?profiles=Student&distributedBefore=10`);
  assert.equal(sheets.statusCode, 200);
  assert.equal(sheets.headers['x-account-count'], '2');
  // The school's UAI opens the name of a file that names no class: two schools' files no longer share a name.
  assert.match(String(sheets.headers['content-disposition']), /filename="fiches-0750001A-eleves-relance-\d{4}-\d{2}-\d{2}\.pdf"/);
  assert.deepEqual(await preview('profiles=Student&distributedBefore=10'), []);
});

test('« Relancer » is not offered where a sheet would be refused: blocked or absent accounts, a teacher the school keeps from handing out', async () => {
  const pool = ctx.database.pool;
  await recordDistribution(pool, { userIds: [s.users.zoe, s.users.nina], kind: 'sheet', actorId: null });
  await pool.query(`UPDATE distribution_events SET at = now() - interval '20 days'`);
  await pool.query('UPDATE users SET blocked = true WHERE id = $1', [s.users.zoe]);
  try {
    // Zoé (6A) is blocked: her sheet would be left out of « Fiches de connexion », so she is not ticked.
    const cls = await get(`/classe/${s.classes['6A']}/eleves?relancer=1`);
    assert.equal(cls.statusCode, 200);
    assert.doesNotMatch(cls.body, new RegExp(`id="sel-${s.users.zoe}" checked`));
    assert.match(cls.body, /Aucun compte à relancer/);
    // Nina (5A) is absent from the feed: neither.
    const nina = await get(`/classe/${s.classes['5A']}/eleves?relancer=1`);
    assert.doesNotMatch(nina.body, new RegExp(`id="sel-${s.users.nina}" checked`));
    // The console's link, from a list of blocked or absent accounts, reminds only those a sheet can serve.
    for (const filter of ['blocked=only', 'preDeletion=pending']) {
      const page = await get(`${pp}?profiles=Student&${filter}`);
      const href = /href="([^"]+)" data-remind/.exec(page.body)?.[1].replace(/&amp;/g, '&');
      assert.ok(href, filter);
      const q = new URL(href, 'http://x').searchParams;
      assert.equal(q.get('blocked'), null, filter);
      assert.equal(q.get('preDeletion'), null, filter);
    }
  } finally {
    await pool.query('UPDATE users SET blocked = false WHERE id = $1', [s.users.zoe]);
  }
  // A teacher who may neither print nor mail sheets (school settings) is not offered the link, nor ticked rows.
  const anne = await sessionFor(pool, s.users.anne);
  await saveStructureSettings(pool, s.structures.S1, { teacherRights: ['renewal', 'block'], termsText: null, newVersion: false }, null);
  try {
    const teacher = await app.inject({ method: 'GET', url: `/classe/${s.classes['6A']}/eleves?relancer=1`, headers: { cookie: anne.cookie } });
    assert.equal(teacher.statusCode, 200);
    assert.doesNotMatch(teacher.body, /data-remind/);
    assert.doesNotMatch(teacher.body, /à relancer/);
    assert.doesNotMatch(teacher.body, new RegExp(`id="sel-${s.users.zoe}" checked`));
  } finally {
    await saveStructureSettings(pool, s.structures.S1, { teacherRights: [...DEFAULT_TEACHER_RIGHTS], termsText: null, newVersion: false }, null);
  }
});

test('« Relancer » in a class nobody was handed anything: not « tous sont activés », but how many still are not', async () => {
  // No hand-out recorded (beforeEach): the class's pupils not activated have simply not had their sheets yet.
  const cls = await get(`/classe/${s.classes['6A']}/eleves?relancer=1`);
  assert.equal(cls.statusCode, 200);
  assert.doesNotMatch(cls.body, /tous ceux qui ont reçu leurs identifiants il y a plus de 15 jours sont activés/);
  assert.match(cls.body, /Aucun compte à relancer : aucun n’a reçu sa fiche ou son courriel il y a plus de 15 jours\. \d+ comptes? (n’est|ne sont) pas encore activés? :/);
  assert.doesNotMatch(cls.body, / checked/);
});

test('« Exporter pour Word »: UTF-8 with BOM, ";", field names without spaces or accents, the code in MotDePasse', async () => {
  const res = await download(`${pp}/word?profiles=Relative`);
  assert.equal(res.statusCode, 200);
  assert.match(String(res.headers['content-type']), /^text\/csv/);
  assert.match(String(res.headers['content-disposition']), /publipostage-word-.*\.csv/);
  const raw = res.rawPayload;
  assert.deepEqual([...raw.subarray(0, 3)], [0xef, 0xbb, 0xbf]);
  const lines = raw.subarray(3).toString('utf8').split('\r\n');
  const header = lines[0].split(';');
  assert.deepEqual(header, ['Nom', 'Prenom', 'Profil', 'Identifiant', 'MotDePasse', 'ExpirationCode', 'Etat', 'Classes', 'Enfants', 'Etablissement', 'AdresseENT', 'LienActivation', 'Courriel', 'DateNaissance']);
  for (const h of header) assert.match(h, /^[A-Za-z]+$/);
  const paul = lines.find((l) => l.includes(s.logins.paul))!.split(';');
  assert.equal(paul[header.indexOf('MotDePasse')], formatCode(s.codes.paul));
  assert.equal(paul[header.indexOf('Enfants')], 'Léo MARTIN (5A), Zoé MARTIN (6A)');
  assert.equal(paul[header.indexOf('Classes')], '5A, 6A');
  const claire = lines.find((l) => l.includes(s.logins.claire))!.split(';');
  assert.equal(claire[header.indexOf('MotDePasse')], '');
  assert.equal(claire[header.indexOf('Etat')], 'Activé');
  assert.deepEqual((await events('word')).map((r) => r.login), [s.logins.claire, s.logins.paul]);
});

async function upload(docx: Buffer, name: string) {
  const body = multipart([{ name, data: docx }], { name: 'Lettre aux familles' });
  return app.inject({
    method: 'POST', url: `${pp}/lettres?_csrf=${encodeURIComponent(marc.csrf)}`, headers: { cookie: marc.cookie, 'content-type': body.type }, payload: body.body,
  });
}

test('a broken .docx model is refused with a 400 naming the unknown field, and nothing is stored', async () => {
  const broken = await upload(makeDocx(['Bonjour {prenom} {nom_de_famille},']), 'modele.docx');
  assert.equal(broken.statusCode, 400);
  assert.match(broken.body, /« modele.docx » : champ de fusion inconnu \{nom_de_famille\}/);
  const unclosed = await upload(makeDocx(['Bonjour {prenom']), 'modele.docx');
  assert.equal(unclosed.statusCode, 400);
  assert.match(unclosed.body, /balise de fusion mal formée/);
  assert.match(unclosed.body, /accolade ouverte sans être fermée/);
  assert.doesNotMatch(unclosed.body, /unclosed|unopened/, 'no English in a French message');
  // Entities (XXE, billion laughs) make no model: refused as unreadable, in French, without the library's English.
  const entity = new PizZip(makeDocx(['Bonjour {prenom}']));
  const entityXml = entity.file('word/document.xml')?.asText() ?? '';
  entity.file('word/document.xml', entityXml.replace('<w:document', '<!DOCTYPE w:document [<!ENTITY x SYSTEM "file:///etc/passwd">]><w:document').replace('Bonjour', 'Bonjour &x;'));
  const hostile = await upload(entity.generate({ type: 'nodebuffer' }), 'modele.docx');
  assert.equal(hostile.statusCode, 400);
  assert.match(hostile.body, /« modele.docx » n’est pas un document Word \(\.docx\) lisible/);
  assert.doesNotMatch(hostile.body, /invalid xml|root:/i);
  const notDocx = await upload(Buffer.from('%PDF-1.7'), 'modele.docx');
  assert.equal(notDocx.statusCode, 400);
  assert.match(notDocx.body, /n’est pas un document Word/);
  // A zip bomb (a 65 MiB document.xml in a few dozen KiB) is refused before it is inflated in memory.
  const bomb = new PizZip(makeDocx(['{prenom}']));
  const xml = bomb.file('word/document.xml')!.asText();
  bomb.file('word/document.xml', xml.replace('{prenom}', `{prenom}${' '.repeat(65 * 2 ** 20)}`));
  const bombed = await upload(bomb.generate({ type: 'nodebuffer', compression: 'DEFLATE' }), 'bombe.docx');
  assert.equal(bombed.statusCode, 400);
  assert.match(bombed.body, /« bombe.docx » n’est pas un document Word/);
  assert.equal((await ctx.database.pool.query('SELECT count(*)::int AS n FROM docx_templates')).rows[0].n, 0);
});

test('a NUL in the name given to a .docx model is dropped as in its file name, not a 500 from PostgreSQL', async () => {
  const body = multipart([{ name: 'nul.docx', data: makeDocx(['Bonjour {prenom}']) }], { name: 'Lettre\u0000 aux familles' });
  const res = await app.inject({
    method: 'POST', url: `${pp}/lettres?_csrf=${encodeURIComponent(marc.csrf)}`, headers: { cookie: marc.cookie, 'content-type': body.type }, payload: body.body,
  });
  assert.equal(res.statusCode, 200, res.body.slice(0, 300));
  const { rows } = await ctx.database.pool.query(`SELECT name FROM docx_templates WHERE name LIKE 'Lettre%familles'`);
  assert.deepEqual(rows.map((r) => r.name), ['Lettre aux familles']);
  await ctx.database.pool.query(`DELETE FROM docx_templates WHERE name = 'Lettre aux familles'`);
});

test('letters from the school’s .docx model: one per account, a page break between, names, codes, address and QR image', async () => {
  await ctx.database.pool.query(`UPDATE users SET address = $2 WHERE id = $1`, [s.users.zoe, '12 RUE DES LILAS\n75011 PARIS']);
  // Word cuts fields across runs ({pre|nom}): the templating must see through it.
  const model = makeDocx(['{adresse}', 'Bonjour {pre|nom} {nom},', 'Votre identifiant : {login}', 'Votre code : {code}', 'Établissement : {etablissement}', '{qr}']);
  const saved = await upload(model, 'lettre.docx');
  assert.equal(saved.statusCode, 200);
  assert.match(saved.body, /Modèle « Lettre aux familles » enregistré/);
  // LibreOffice is not installed on the test machine: the page says so and offers the .docx only.
  assert.match(saved.body, /data-no-soffice/);
  const tid = (await ctx.database.pool.query('SELECT id FROM docx_templates')).rows[0].id as string;

  const res = await download(`${pp}/lettres/${tid}/docx?profiles=Student&classIds=${s.classes['6A']},${s.classes['5A']}&activation=inactive`);
  assert.equal(res.statusCode, 200);
  assert.equal(res.headers['content-type'], 'application/vnd.openxmlformats-officedocument.wordprocessingml.document');
  assert.equal(res.headers['x-account-count'], '2');
  const docx = res.rawPayload;
  const { value: textOut } = await mammoth.extractRawText({ buffer: docx });
  // Alphabetical: Léo then Zoé.
  const leo = textOut.indexOf('Bonjour Léo MARTIN,');
  const zoe = textOut.indexOf('Bonjour Zoé MARTIN,');
  assert.ok(leo >= 0 && zoe > leo, textOut);
  assert.match(textOut, new RegExp(`Votre identifiant : ${s.logins.zoe}`));
  assert.match(textOut, new RegExp(`Votre code : ${formatCode(s.codes.zoe)}`));
  assert.match(textOut, new RegExp(`Votre code : ${formatCode(s.codes.leo)}`));
  assert.match(textOut, /12 RUE DES LILAS\s*75011 PARIS/);
  assert.match(textOut, /Établissement : Collège Jean Moulin/);
  assert.doesNotMatch(textOut, /\{|\}/);

  const zip = new PizZip(docx);
  const xml = zip.file('word/document.xml')!.asText();
  assert.equal((xml.match(/<w:br w:type="page"\/>/g) ?? []).length, 1, 'one page break between two letters');
  const images = Object.keys(zip.files).filter((f) => /^word\/media\/.+\.png$/.test(f));
  assert.equal(images.length, 2);
  assert.equal((xml.match(/<w:drawing>/g) ?? []).length, 2);
  // The QR code opens the activation page with the login and code filled in.
  const dir = mkdtempSync(join(tmpdir(), 'docx-qr-'));
  try {
    const decoded = images.map((f, i) => {
      writeFileSync(join(dir, `${i}.png`), zip.file(f)!.asNodeBuffer());
      return execFileSync('zbarimg', ['--quiet', '--raw', join(dir, `${i}.png`)], { encoding: 'utf8' }).trim();
    });
    assert.ok(decoded.includes(`https://ent.example.fr/activation?login=${encodeURIComponent(s.logins.zoe)}&code=${s.codes.zoe}`), decoded.join('\n'));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  assert.deepEqual((await events('word')).map((r) => r.login), [s.logins.leo, s.logins.zoe]);
  // Another school's model id is a 404.
  assert.equal((await download(`/console/etablissements/${s.structures.S1}/publipostage/lettres/00000000-0000-4000-8000-000000000000/docx`)).statusCode, 404);
});

test('« Adresse postale pour enveloppe à fenêtre »: the SIECLE address in the window of a DL/C5 envelope, the QR still readable', async () => {
  await ctx.database.pool.query(`UPDATE users SET address = $2 WHERE id = $1`, [s.users.paul, '3 RUE DES ÉCOLES\nBÂTIMENT B\n75005 PARIS']);
  const dir = mkdtempSync(join(tmpdir(), 'window-'));
  try {
    const pdfOf = async (q: string) => {
      const res = await download(`${pp}/pdf?userIds=${s.users.paul}&model=1${q}`);
      assert.equal(res.statusCode, 200);
      const file = join(dir, `${q ? 'with' : 'without'}.pdf`);
      writeFileSync(file, res.rawPayload);
      return file;
    };
    // The window: 45 × 100 mm, 20 mm from the right edge and 50 mm from the top of an A4 page (at 72 dpi: points).
    const mm = 72 / 25.4;
    const windowText = (file: string) => execFileSync('pdftotext', ['-r', '72', '-x', String(Math.round(90 * mm)), '-y', String(Math.round(50 * mm)),
      '-W', String(Math.round(100 * mm)), '-H', String(Math.round(45 * mm)), file, '-'], { encoding: 'utf8' }).trim();
    const withBlock = await pdfOf('&adresse=1');
    assert.equal(windowText(withBlock).replace(/\f/g, '').trim(), 'Paul MARTIN\n3 RUE DES ÉCOLES\nBÂTIMENT B\n75005 PARIS');
    // Without the option, nothing of the address is printed, and the window shows no address.
    const without = await pdfOf('');
    assert.doesNotMatch(execFileSync('pdftotext', [without, '-'], { encoding: 'utf8' }), /RUE DES ÉCOLES/);
    assert.doesNotMatch(windowText(without), /PARIS/);
    // The sheet moved down under the band: its QR code is still where the PDF says, and decodes.
    execFileSync('pdftoppm', ['-r', '150', '-png', withBlock, join(dir, 'p')]);
    const png = join(dir, 'p-1.png');
    const qr = execFileSync('zbarimg', ['-q', '--raw', png], { encoding: 'utf8' }).trim();
    assert.equal(qr, `https://ent.example.fr/activation?login=${encodeURIComponent(s.logins.paul)}&code=${s.codes.paul}`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a .docx model holds plain merge fields only: loops, the server’s own tags and deep nesting are refused at once', async () => {
  const models = async () => (await ctx.database.pool.query('SELECT count(*)::int AS n FROM docx_templates')).rows[0].n as number;
  const stored = await models();
  // A user loop around the server's loop made N² letters per download.
  const loop = await upload(makeDocx(['{#lettres}{nom}{/lettres}']), 'boucle.docx');
  assert.equal(loop.statusCode, 400);
  assert.match(loop.body, /« boucle.docx » : champ de fusion inconnu \{#lettres\}/);
  for (const tag of ['{saut}', '{lettres}', '{^prenom}{/prenom}', '{@prenom}', '{=[[ ]]=}']) {
    const res = await upload(makeDocx([`Bonjour ${tag}`]), 'modele.docx');
    assert.equal(res.statusCode, 400, tag);
    assert.match(res.body, /champ de fusion inconnu/, tag);
  }
  // A tag cut across runs is still seen: {#le|ttres}.
  const cut = await upload(makeDocx(['{#le|ttres}{nom}{/lettres}']), 'coupe.docx');
  assert.equal(cut.statusCode, 400);
  assert.match(cut.body, /champ de fusion inconnu \{#lettres\}/);
  // 3,000 nested sections exhausted the parser's stack (« Maximum call stack size exceeded », after 92 s).
  const deep = await upload(makeDocx([`${'{#a}'.repeat(3000)}{nom}${'{/a}'.repeat(3000)}`]), 'profond.docx');
  assert.equal(deep.statusCode, 400);
  assert.match(deep.body, /« profond.docx » : champ de fusion inconnu \{#a\}/);
  assert.equal(await models(), stored);
});

test('Word letters: a malformed model id is a 404, an empty selection and an oversized document a 422, nothing recorded', async () => {
  const bad = '-'.repeat(36);
  assert.equal((await download(`${pp}/lettres/${bad}/docx`)).statusCode, 404);
  const del = await app.inject({
    method: 'POST', url: `${pp}/lettres/${bad}/supprimer`, headers: { cookie: marc.cookie, 'content-type': 'application/x-www-form-urlencoded' },
    payload: new URLSearchParams({ _csrf: marc.csrf }).toString(),
  });
  assert.equal(del.statusCode, 404);

  const saved = await upload(makeDocx(['Bonjour {prenom} {nom}']), 'vide.docx');
  assert.equal(saved.statusCode, 200);
  const { rows: [model] } = await ctx.database.pool.query(`SELECT id FROM docx_templates WHERE name = 'Lettre aux familles' ORDER BY uploaded_at DESC LIMIT 1`);
  const audits = async () => (await ctx.database.pool.query(`SELECT count(*)::int AS n FROM audit WHERE action LIKE 'publipostage.%' AND action <> 'publipostage.docx_model.save'`)).rows[0].n as number;
  const before = await audits();
  const empty = await download(`${pp}/lettres/${model.id}/docx?userIds=00000000-0000-4000-8000-000000000000`);
  assert.equal(empty.statusCode, 422);
  assert.match(empty.body, /Aucun compte ne correspond à cette sélection/);

  // 40 MB of document.xml (well compressed) for 2 accounts: 80 MB, over the 64 MB a document may reach.
  const big = new PizZip(makeDocx(['{prenom}']));
  big.file('word/document.xml', big.file('word/document.xml')!.asText().replace('{prenom}', `{prenom}${' '.repeat(40 * 2 ** 20)}`));
  const { rows: [huge] } = await ctx.database.pool.query(
    `INSERT INTO docx_templates (structure_id, name, content, fields) VALUES ($1, 'Gros', $2, '{prenom}') RETURNING id`,
    [s.structures.S1, big.generate({ type: 'nodebuffer', compression: 'DEFLATE' })],
  );
  const tooBig = await download(`${pp}/lettres/${huge.id}/docx?profiles=Student&classIds=${s.classes['6A']},${s.classes['5A']}&activation=inactive`);
  assert.equal(tooBig.statusCode, 422);
  assert.match(tooBig.body, /pour 2 comptes ferait un document de plus de 64 Mo/);
  assert.equal(await audits(), before);
  assert.deepEqual(await events('word'), []);
});

test('letters made on the worker thread refuse a broken model with the same domain error as in the calling thread', async () => {
  const sample = await selectAccounts(ctx, SelectionSchema.parse({ profiles: ['Student'], activation: 'inactive' }), { kind: 'all' });
  const rows = Array.from({ length: 60 }, (_, i) => sample[i % sample.length]);
  const before = docxWorkerRuns();
  await assert.rejects(renderDocxLetters(ctx, makeDocx(['Bonjour {prenom} {surnom}']), 'lettre.docx', rows), (e: unknown) => {
    assert.ok(e instanceof DomainError);
    assert.equal(e.messageCode, 'docx.unknownField');
    assert.equal(e.params.field, 'surnom');
    return true;
  });
  assert.equal(docxWorkerRuns(), before + 1, 'the worker thread answered');
});

test('letters rendered by slices (the server is not blocked) join into one document: every letter, break and QR image', async () => {
  const sample = await selectAccounts(ctx, SelectionSchema.parse({ profiles: ['Student'], activation: 'inactive' }), { kind: 'all' });
  const rows = Array.from({ length: 250 }, (_, i) => sample[i % sample.length]);
  const before = docxWorkerRuns();
  const docx = await renderDocxLetters(ctx, makeDocx(['Bonjour {prenom} {nom}', '{qr}']), 'lettre.docx', rows);
  assert.equal(docxWorkerRuns(), before + 1, 'made on the worker thread');
  const zip = new PizZip(docx);
  const xml = zip.file('word/document.xml')!.asText();
  assert.equal((xml.match(/Bonjour /g) ?? []).length, 250);
  assert.equal((xml.match(/<w:br w:type="page"\/>/g) ?? []).length, 249);
  assert.equal((xml.match(/<w:body>/g) ?? []).length, 1);
  const embeds = [...xml.matchAll(/r:embed="([^"]+)"/g)].map((m) => m[1]);
  assert.equal(embeds.length, 250);
  const rels = zip.file('word/_rels/document.xml.rels')!.asText();
  for (const id of new Set(embeds)) {
    const target = new RegExp(`Id="${id}"[^>]*Target="([^"]+)"`).exec(rels)?.[1] ?? new RegExp(`Target="([^"]+)"[^>]*Id="${id}"`).exec(rels)?.[1];
    assert.ok(target && zip.file(`word/${target}`), `${id} → ${target}`);
  }
});

test('a school without UAI whose name keeps no Latin letter: its file name has no empty part', async () => {
  const pool = ctx.database.pool;
  const was = (await pool.query('SELECT name, uai FROM structures WHERE id = $1', [s.structures.S1])).rows[0];
  await pool.query(`UPDATE structures SET name = 'Σχολείο', uai = NULL WHERE id = $1`, [s.structures.S1]);
  try {
    const res = await download(`${pp}/pdf?profiles=Student`);
    assert.equal(res.statusCode, 200, 'the sheets are made');
    const name = String(res.headers['content-disposition']);
    assert.match(name, /filename="fiches-eleves-\d{4}-\d{2}-\d{2}\.pdf"/, `no empty part for the school (« fiches--eleves ») : ${name}`);
  } finally {
    await pool.query('UPDATE structures SET name = $2, uai = $3 WHERE id = $1', [s.structures.S1, was.name, was.uai]);
  }
});
