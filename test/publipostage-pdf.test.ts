import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { formatCode, generateCode } from '../src/accounts/codes.js';
import type { Scope } from '../src/directory/scope.js';
import { activationUrl, frenchDate } from '../src/publipostage/format.js';
import { renderSheetsPdf, type SheetModel } from '../src/publipostage/pdf.js';
import { qrWorkerState } from '../src/publipostage/qr-pool.js';
import { selectAccounts } from '../src/publipostage/select.js';
import { SelectionSchema, type AccountRow } from '../src/publipostage/selection.js';
import { savePolicy } from '../src/directory/policies.js';
import { defaultTemplate, fieldsFor, loadTemplates, renderTemplate, resetTemplate, saveTemplate, templateFor, unknownFields, validateTemplate } from '../src/publipostage/templates.js';
import { fileContext, fileTempDir } from './helpers/db.js';
import { pdfPages, pdfQrCodes, pdfText } from './helpers/pdf.js';
import { insertSample } from './helpers/sample.js';

const ALL: Scope = { kind: 'all' };
const URL_BASE = 'https://ent.example.fr';

// A mail server configured (nothing is sent here): « Mot de passe oublié » can then send its link.
const ctx = await fileContext({ TROUSSEAU_PUBLIC_URL: URL_BASE, SMTP_URL: 'smtp://127.0.0.1:2525' });
/** The same directory where no mail server is configured. */
const noMail = { ...ctx, config: { ...ctx.config, smtpUrl: undefined } };
const s = await insertSample(ctx);
const dir = fileTempDir('trousseau-pdf-');

// Layout tests: every sample account, the distribution filters opened (their defaults: publipostage-distribution.test.ts).
const select = (input: Record<string, unknown> = {}) => selectAccounts(ctx, SelectionSchema.parse({ preDeletion: 'all', blocked: 'all', ...input }), ALL);
let n = 0;
function save(pdf: Buffer): string {
  const file = join(dir, `f${++n}.pdf`);
  writeFileSync(file, pdf);
  return file;
}
const flat = (t: string) => t.replace(/\s+/g, ' ');
const pageOf = (rows: AccountRow[], id: string) => rows.findIndex((r) => r.id === id) + 1;

test('model 1: one sheet per page, with names, login, grouped code, school, expiry and a working QR code', async () => {
  const rows = await select({});
  const file = save(await renderSheetsPdf(ctx, rows, { model: 1 }));
  assert.equal(pdfPages(file), rows.length);

  const zoe = pdfText(file, pageOf(rows, s.users.zoe));
  assert.match(zoe, /Zoé MARTIN/);
  assert.match(zoe, /Collège Jean Moulin/);
  assert.ok(zoe.includes(s.logins.zoe));
  assert.ok(zoe.includes(formatCode(s.codes.zoe)), 'grouped code');
  assert.ok(zoe.includes(frenchDate(s.expiresAt.zoe)), 'expiry date');
  assert.match(zoe, /saisissez-le deux fois|saisis-le deux fois/);
  // Optional on the activation form, as the phone is, and worth giving: the letter says both.
  assert.match(flat(zoe), /3\. Indique une adresse électronique \(facultatif\) : elle servira si tu oublies ton mot de passe\./);
  assert.doesNotMatch(zoe, /obligatoire/);
  assert.match(zoe, /téléphone.*facultatif/);
  assert.match(zoe, /conditions d’utilisation/);
  assert.ok(zoe.includes(URL_BASE));
  assert.deepEqual(pdfQrCodes(file, pageOf(rows, s.users.zoe)), [activationUrl(URL_BASE, s.logins.zoe, s.codes.zoe)]);

  // Non-Latin-1 names survive (embedded DejaVu, ToUnicode map).
  assert.match(pdfText(file, pageOf(rows, s.users.aslog)), /Åslög Ŝtěpán Ωmega/);

  // A parent's sheet names the children and their classes.
  const paul = pdfText(file, pageOf(rows, s.users.paul));
  assert.match(flat(paul), /3\. Indiquez une adresse électronique \(facultatif\) : elle permet de renouveler un mot de passe oublié\./);
  assert.match(paul, /Responsable de : Léo MARTIN \(5A\), Zoé MARTIN \(6A\)/);
  assert.ok(paul.includes(formatCode(s.codes.paul)));

  // An active account: renewal instructions, no code, no QR code.
  const emilePage = pageOf(rows, s.users.emile);
  const emile = pdfText(file, emilePage);
  assert.match(emile, /déjà activé/);
  assert.match(emile, /Mot de passe oublié/);
  assert.match(emile, /code de renouvellement/);
  assert.doesNotMatch(emile, /Code d’activation :/);
  assert.doesNotMatch(emile, /[0-9A-Z]{4}-[0-9A-Z]{4}-[0-9A-Z]{2}/);
  assert.deepEqual(pdfQrCodes(file, emilePage), []);
  // No mail server: no « Mot de passe oublié » link can leave (that page says so), the sheet sends to a renewal code.
  for (const model of [1, 8] as const) {
    const sheet = pdfText(save(await renderSheetsPdf(noMail, rows.filter((r) => r.id === s.users.emile), { model }))).replace(/\s+/g, ' ');
    assert.doesNotMatch(sheet, /(Cliquez|Clique) sur « Mot de passe oublié »/, `model ${model}: ${sheet}`);
    assert.match(sheet, /code de renouvellement/, `model ${model}`);
    // Émile has an address: the sheet does not claim otherwise.
    assert.doesNotMatch(sheet, /pas d’adresse électronique/, `model ${model}`);
  }

  // An expired code is never printed.
  const hugo = pdfText(file, pageOf(rows, s.users.hugo));
  assert.match(hugo, /expiré/);
  assert.doesNotMatch(hugo, /[0-9A-Z]{4}-[0-9A-Z]{4}-[0-9A-Z]{2}/);
});

test('models 2 and 8: page counts, cut marks, QR codes readable at 8 per page', async () => {
  const rows = await select({ activation: 'inactive' });
  for (const model of [2, 8] as SheetModel[]) {
    const file = save(await renderSheetsPdf(ctx, rows, { model }));
    assert.equal(pdfPages(file), Math.ceil(rows.length / model), `model ${model}`);
    assert.ok(pdfText(file, 1).includes('✂'), 'scissors on the cut lines');
  }
  const file = save(await renderSheetsPdf(ctx, rows, { model: 8 }));
  const first = rows.slice(0, 8).filter((r) => r.code);
  assert.ok(first.length >= 5);
  assert.deepEqual(pdfQrCodes(file, 1), first.map((r) => activationUrl(URL_BASE, r.login, r.code!)).sort());
  const t = pdfText(file, 1);
  for (const r of first) assert.ok(t.includes(formatCode(r.code!)), r.login);
});

/** Each word of a page with its font size (pdftotext -bbox: a word's box is 1.164 font sizes high in DejaVu). */
function pdfWords(file: string, page = 1): Array<{ text: string; size: number }> {
  const xml = execFileSync('pdftotext', ['-bbox', '-f', String(page), '-l', String(page), file, '-'], { encoding: 'utf8' });
  return [...xml.matchAll(/<word xMin="[\d.]+" yMin="([\d.]+)" xMax="[\d.]+" yMax="([\d.]+)">([^<]*)<\/word>/g)].map((m) => ({
    text: m[3],
    size: (Number(m[2]) - Number(m[1])) / 1.164,
  }));
}

test('model 8, simplified sheets: a short text fitted to the reader and the sheet instead of the letter, every word legible', async () => {
  const S1 = s.structures.S1;
  // A school's own letter is for models 1 and 2: model 8 has its built-in short text.
  // Written directly, not by saveTemplate: the templates test below counts the audit rows.
  const letter = "INSERT INTO letter_templates (structure_id, profile, kind, body) VALUES ($1, 'Teacher', 'sheet_inactive', 'Lettre du collège, longue, pour {prenom}.')";
  await ctx.database.pool.query(letter, [S1]);
  try {
    const ids = [s.users.zoe, s.users.emile, s.users.claire, s.users.anne];
    const rows = (await select({ userIds: ids })).sort((a, b) => ids.indexOf(a.id) - ids.indexOf(b.id));
    const sheets = await Promise.all(rows.map(async (r) => save(await renderSheetsPdf(ctx, [r], { model: 8 }))));
    const [zoe, emile, claire, anne] = sheets.map((f) => pdfText(f).replace(/\s+/g, ' '));
    assert.ok(zoe.includes(`Va sur ${URL_BASE}/activation ou scanne le QR code, saisis ton identifiant et ton code, puis choisis ton mot de passe. Le code ne sert qu’une fois. Ne le donne à personne.`), zoe);
    for (const long of ['Première connexion', 'Garde cette fiche', 'conditions d’utilisation', 'deux fois']) assert.ok(!zoe.includes(long), long);
    assert.ok(emile.includes(`Connecte-toi sur ${URL_BASE} avec ton identifiant et ton mot de passe. Mot de passe oublié ? Clique sur « Mot de passe oublié » sur la page de connexion.`), emile);
    assert.ok(claire.includes(`Connectez-vous sur ${URL_BASE} avec votre identifiant et votre mot de passe.`), claire);
    assert.ok(anne.includes(`Rendez-vous sur ${URL_BASE}/activation ou scannez le QR code, saisissez votre identifiant et votre code, puis choisissez votre mot de passe.`), anne);
    assert.ok(!anne.includes('Lettre du collège'), anne);
    // Sizes as printed: the text at 7.5 pt at least, the status notes and labels at 7, the QR caption at 6.
    for (const file of sheets) {
      const words = pdfWords(file);
      const body = words.filter((w) => ['scanne', 'scannez', 'Connecte-toi', 'Connectez-vous', 'personne.', 'connexion.'].includes(w.text));
      assert.ok(body.length >= 2, file);
      for (const w of body) assert.ok(w.size >= 7.5 - 0.05, `${w.text} at ${w.size} pt`);
      for (const w of words) assert.ok(w.size >= (['Scanne', 'Scannez', 'pour', 'activer'].includes(w.text) ? 6 : 7) - 0.05, `${w.text} at ${w.size} pt`);
    }
    assert.deepEqual(pdfQrCodes(sheets[0], 1), [activationUrl(URL_BASE, s.logins.zoe, s.codes.zoe)]);
    // Models 1 and 2 keep the school's letter.
    assert.match(pdfText(save(await renderSheetsPdf(ctx, [rows[3]], { model: 2 }))), /Lettre du collège, longue, pour Anne\./);
  } finally {
    await ctx.database.pool.query("DELETE FROM letter_templates WHERE structure_id = $1 AND profile = 'Teacher'", [S1]);
  }
});

test('a sheet without a usable code (none, expired) prints its note and no letter steps, in every model', async () => {
  const rows = await select({ userIds: [s.users.hugo, s.users.nina] });
  assert.deepEqual(rows.map((r) => [r.code, r.codeExpired]).sort(), [[null, false], [null, true]]);
  for (const model of [1, 2, 8] as SheetModel[]) {
    const file = save(await renderSheetsPdf(ctx, rows, { model }));
    const text = pdfText(file).replace(/\s+/g, ' ');
    assert.ok(text.includes('Code d’activation expiré : demandes-en un nouveau'), `model ${model}: ${text}`);
    assert.ok(text.includes('Aucun code d’activation : demande-le'), `model ${model}: ${text}`);
    // Neither a QR code nor a date is printed: nothing sends the reader to them, nor to a code to type.
    for (const step of ['QR code', 'ci-dessus', 'Première connexion', 'code d’activation.', 'Choisis ton mot de passe']) assert.ok(!text.includes(step), `model ${model}: « ${step} » in ${text}`);
    assert.deepEqual(pdfQrCodes(file, 1), []);
  }
});

test('a parent of one child: « la scolarité de votre enfant », on the sheet and in the mail; of two: « de vos enfants »', async () => {
  const rows = await select({ userIds: [s.users.sophie, s.users.paul] });
  const sophie = rows.find((r) => r.id === s.users.sophie)!;
  assert.equal(sophie.children.length, 1);
  const file = save(await renderSheetsPdf(ctx, rows, { model: 1 }));
  const one = flat(pdfText(file, pageOf(rows, s.users.sophie)));
  assert.ok(one.includes('Ce compte de responsable vous permet de suivre la scolarité de votre enfant.'), one);
  assert.ok(!one.includes('vos enfants'), one);
  assert.ok(flat(pdfText(file, pageOf(rows, s.users.paul))).includes('suivre la scolarité de vos enfants.'));
  const set = await loadTemplates(ctx, sophie.structureId);
  const mail = renderTemplate(templateFor(set, sophie, 'mail_inactive').body, fieldsFor(sophie, ctx));
  assert.ok(mail.includes('suivre la scolarité de votre enfant : Jules VERNE (2NDE1).'), mail);
});

test('sorted by class: a new page at each class', async () => {
  const rows = await select({ sort: 'class' });
  const groups = new Map<string, number>();
  for (const r of rows) groups.set(r.groupClass ?? '', (groups.get(r.groupClass ?? '') ?? 0) + 1);
  for (const model of [2, 8] as SheetModel[]) {
    const file = save(await renderSheetsPdf(ctx, rows, { model, sort: 'class' }));
    const expected = [...groups.values()].reduce((a, c) => a + Math.ceil(c / model), 0);
    assert.equal(pdfPages(file), expected, `model ${model}`);
    assert.ok(expected > Math.ceil(rows.length / model));
  }
  // First page of the 8-per-page document holds 2NDE1 only.
  const file = save(await renderSheetsPdf(ctx, rows, { model: 8, sort: 'class' }));
  const p1 = pdfText(file, 1);
  assert.match(p1, /Jules VERNE/);
  assert.doesNotMatch(p1, /Zoé MARTIN/);
});

test('a large document (QR codes encoded on the worker thread) stays decodable', async () => {
  const base = (await select({ userIds: [s.users.zoe] }))[0];
  const rows: AccountRow[] = Array.from({ length: 90 }, (_, i) => ({ ...base, id: `x${i}`, login: `eleve.${i}`, firstName: `Prénom${i}`, code: generateCode() }));
  const file = save(await renderSheetsPdf(ctx, rows, { model: 8 }));
  assert.equal(qrWorkerState(), true, 'the worker thread did the encoding');
  assert.equal(pdfPages(file), Math.ceil(90 / 8));
  const last = rows.slice(88);
  assert.deepEqual(pdfQrCodes(file, 12), last.map((r) => activationUrl(URL_BASE, r.login, r.code!)).sort());
  assert.match(pdfText(file, 12), /Prénom89 MARTIN/);
});

test('content streams made partly on the worker, partly on the layout thread: every page shows its own sheets, in order', async () => {
  const base = (await select({ userIds: [s.users.zoe] }))[0];
  const rows: AccountRow[] = Array.from({ length: 100 }, (_, i) => ({ ...base, id: `y${i}`, login: `eleve.split${i}`, firstName: `Prénom${i}`, code: generateCode() }));
  // Model 2: batches of 48 pages; the worker makes the first ones of a batch, this thread the last ones (pdf.ts, workerShare).
  const file = save(await renderSheetsPdf(ctx, rows, { model: 2 }));
  assert.equal(pdfPages(file), 50);
  const all = execFileSync('pdftotext', ['-layout', file, '-'], { encoding: 'utf8' }).split('\f');
  for (let p = 0; p < 50; p++) {
    const names = [...all[p].matchAll(/Prénom(\d+) MARTIN/g)].map((m) => Number(m[1]));
    assert.deepEqual(names, [2 * p, 2 * p + 1], `page ${p + 1}`);
  }
  for (const page of [1, 42, 43, 48, 49, 50]) {
    const own = rows.slice(2 * (page - 1), 2 * page);
    assert.deepEqual(pdfQrCodes(file, page), own.map((r) => activationUrl(URL_BASE, r.login, r.code!)).sort(), `QR codes of page ${page}`);
  }
});

test('empty selection: a valid one-page PDF', async () => {
  const file = save(await renderSheetsPdf(ctx, [], { model: 8 }));
  assert.equal(pdfPages(file), 1);
});

test('renderTemplate: unknown fields stay visible, values are not re-interpreted', () => {
  assert.equal(renderTemplate('Bonjour {prenom} {nom} ({inconnu})', { prenom: 'Zoé', nom: 'MARTIN' }), 'Bonjour Zoé MARTIN ({inconnu})');
  assert.equal(renderTemplate('{prenom} / {code}', { prenom: '{code}', code: 'ABCD' }), '{code} / ABCD');
  assert.equal(renderTemplate('{toString} {__proto__}', {}), '{toString} {__proto__}');
  assert.deepEqual(unknownFields('{prenom} {inconnu} {code} {inconnu} {x_y}'), ['inconnu', 'x_y']);
  assert.ok(validateTemplate({ structureId: null, profile: 'Student', kind: 'mail_active', subject: '', body: 'x' }).some((e) => e.includes('objet')));
  for (const p of ['Student', 'Relative', 'Teacher', 'Personnel', 'Guest'] as const) {
    for (const k of ['sheet_inactive', 'sheet_active', 'mail_inactive', 'mail_active'] as const) {
      const t = defaultTemplate(p, k);
      assert.deepEqual(unknownFields(t.body + (t.subject ?? '')), [], `${p}/${k}`);
      assert.ok(validateTemplate({ structureId: null, profile: p, kind: k, subject: t.subject, body: t.body }).length === 0);
    }
  }
});

test('a school named « Collège A. »: the letter keeps one full stop, on the sheet and in the mail, not « A.. »', async () => {
  const [zoe] = await select({ userIds: [s.users.zoe] });
  const row = { ...zoe, structureName: 'Collège A.' };
  const sheet = pdfText(save(await renderSheetsPdf(ctx, [row], { model: 1 }))).replace(/\s+/g, ' ');
  assert.match(sheet, /\(ENT\) du Collège A\. Garde cette fiche/, sheet);
  assert.doesNotMatch(sheet, /A\.\./, sheet);
  const mail = renderTemplate(defaultTemplate('Student', 'mail_inactive').body, fieldsFor(row, ctx));
  assert.match(mail, /\(ENT\) du Collège A\. Ne les partage/, mail);
  // The rule of the messages (lib/errors.ts valueThenStop): only a sentence's full stop, right after the field.
  assert.equal(renderTemplate('{etablissement}.', { etablissement: 'A.' }), 'A.');
  assert.equal(renderTemplate('{etablissement}. Fin', { etablissement: 'Collège' }), 'Collège. Fin');
  assert.equal(renderTemplate('{url}.fr {x}.', { url: 'ent.', x: 'y' }), 'ent..fr y.', 'a full stop inside a word is not a sentence\'s');
  assert.equal(renderTemplate('{inconnu}.', {}), '{inconnu}.');
});

test('fieldsFor: merge values of an account', async () => {
  const [paul] = await select({ userIds: [s.users.paul] });
  const f = fieldsFor(paul, ctx);
  assert.equal(f.prenom, 'Paul');
  assert.equal(f.code, formatCode(s.codes.paul));
  assert.equal(f.enfants, 'Léo MARTIN (5A), Zoé MARTIN (6A)');
  assert.equal(f.classe, '5A, 6A');
  assert.equal(f.etablissement, 'Collège Jean Moulin');
  assert.equal(f.url, URL_BASE);
  assert.equal(f.date_expiration, frenchDate(s.expiresAt.paul));
  assert.equal(f.lien_activation, activationUrl(URL_BASE, s.logins.paul, s.codes.paul));
  const [emile] = await select({ userIds: [s.users.emile] });
  assert.equal(fieldsFor(emile, ctx).code, '');
});

test('templates: structure override > global > default; the PDF prints the override; reset restores', async () => {
  const S1 = s.structures.S1;
  assert.equal((await loadTemplates(ctx, S1)).get('Student', 'sheet_inactive').source, 'default');
  await saveTemplate(ctx, { structureId: null, profile: 'Student', kind: 'sheet_inactive', body: 'Texte global pour {etablissement}.' });
  await saveTemplate(ctx, { structureId: S1, profile: 'Student', kind: 'sheet_inactive', body: 'Bienvenue {prenom} en {classe} !\n\nGarde ton code : {code}.' });
  await assert.rejects(
    saveTemplate(ctx, { structureId: S1, profile: 'Student', kind: 'sheet_active', body: 'Bonjour {prenon}' }),
    /champ de fusion inconnu : \{prenon\}/,
  );
  const set = await loadTemplates(ctx, S1);
  assert.equal(set.get('Student', 'sheet_inactive').source, 'structure');
  assert.equal(set.get('Student', 'sheet_active').source, 'default');
  assert.equal((await loadTemplates(ctx, s.structures.S2)).get('Student', 'sheet_inactive').body, 'Texte global pour {etablissement}.');

  const rows = await select({ userIds: [s.users.zoe, s.users.jules] });
  const file = save(await renderSheetsPdf(ctx, rows, { model: 2 }));
  const t = pdfText(file).replace(/\s+/g, ' ');
  assert.ok(t.includes(`Bienvenue Zoé en 6A ! Garde ton code : ${formatCode(s.codes.zoe)}.`), t);
  assert.ok(t.includes('Texte global pour Lycée Victor Hugo.'));

  assert.equal(await resetTemplate(ctx, { structureId: S1, profile: 'Student', kind: 'sheet_inactive' }), true);
  assert.equal((await loadTemplates(ctx, S1)).get('Student', 'sheet_inactive').source, 'global');
  await resetTemplate(ctx, { structureId: null, profile: 'Student', kind: 'sheet_inactive' });
  const audit = await ctx.database.pool.query("SELECT count(*)::int AS n FROM audit WHERE action IN ('template.save', 'template.reset')");
  assert.equal(audit.rows[0].n, 4);
});

test('the first-connection steps say what the school’s activation form requires (profile policy): « obligatoire », not « facultatif »', async () => {
  const policy = { signIn: 'code' as const, provider: null, graceDays: 90, deletionDays: 90 };
  await savePolicy(ctx.database.pool, s.structures.S1, 'Student', { ...policy, emailRequired: true, phoneRequired: false, minPasswordLength: 8 }, null);
  await savePolicy(ctx.database.pool, s.structures.S1, 'Relative', { ...policy, emailRequired: false, phoneRequired: true, minPasswordLength: 12 }, null);
  try {
    const rows = await select({ userIds: [s.users.zoe, s.users.paul] });
    const file = save(await renderSheetsPdf(ctx, rows, { model: 1 }));
    const zoe = flat(pdfText(file, pageOf(rows, s.users.zoe)));
    assert.match(zoe, /3\. Indique une adresse électronique \(obligatoire\) : elle servira si tu oublies ton mot de passe\./);
    assert.match(zoe, /4\. Indique ton numéro de téléphone si tu le souhaites \(facultatif\)\./);
    const paul = flat(pdfText(file, pageOf(rows, s.users.paul)));
    assert.match(paul, /3\. Indiquez une adresse électronique \(facultatif\)/);
    assert.match(paul, /4\. Indiquez votre numéro de téléphone \(obligatoire\)\./);
    // Another school keeps the defaults.
    assert.match((await loadTemplates(ctx, s.structures.S2)).get('Student', 'sheet_inactive').body, /adresse électronique \(facultatif\)/);
  } finally {
    await ctx.database.pool.query('DELETE FROM profile_policies WHERE structure_id = $1', [s.structures.S1]);
  }
});
