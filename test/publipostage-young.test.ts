// Pupils of maternelle (TPS to GS, 2 to 5 years old, who cannot read): the built-in texts of their sheets and mails
// speak to their parents in « vous » (src/publipostage/young-pupil.ts, templates.ts, pdf.ts), over a primary school
// imported from ONDE files, read back with pdftotext and zbarimg and from the test SMTP server.
import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { formatCode } from '../src/accounts/codes.js';
import { collectInputs, formatReport, importFiles } from '../src/import/index.js';
import type { Scope } from '../src/directory/scope.js';
import { startMailMerge } from '../src/mail/merge.js';
import { startMailWorker } from '../src/mail/worker.js';
import { activationUrl } from '../src/publipostage/format.js';
import { renderSheetsPdf, renewalUrl, type SheetModel } from '../src/publipostage/pdf.js';
import { issueRenewalSheets, renderRenewalPdf } from '../src/publipostage/renewal-sheets.js';
import { selectAccounts, selectPage, streamSelection } from '../src/publipostage/select.js';
import { SelectionSchema, type AccountRow } from '../src/publipostage/selection.js';
import { resetTemplate, saveTemplate } from '../src/publipostage/templates.js';
import { fileContext, fileTempDir } from './helpers/db.js';
import { pdfQrCodes, pdfText } from './helpers/pdf.js';
import { startTestSmtp, waitFor } from './helpers/smtp.js';

const ALL: Scope = { kind: 'all' };
const URL_BASE = 'https://ent.example.fr';
const SCHOOL = 'École des Lilas';
const smtp = await startTestSmtp();
after(() => smtp.close());
const ctx = await fileContext({ TROUSSEAU_PUBLIC_URL: URL_BASE, SMTP_URL: smtp.url });
const dir = fileTempDir('trousseau-young-');
const q = (sql: string, params: unknown[] = []) => ctx.database.pool.query(sql, params);

// The school year of today, computed here apart from the code: pupils born in Y−5 are in GS, in Y−6 in CP (Adam,
// born in November, is still 5 on 1 September and in CP all the same).
const today = new Date();
const Y = today.getMonth() >= 8 ? today.getFullYear() : today.getFullYear() - 1;

// An ONDE extraction of a village school: one class mixes GS and CP pupils; its level is the first pupil's (GS).
const PUPILS = [
  ['LEROY', 'Emma', `${Y - 5}-03-14`, 'MATERNELLE', 'GS', 'GS-CP'],
  ['LEROY', 'Adam', `${Y - 6}-11-11`, 'CYCLE II', 'CP', 'GS-CP'],
  ['MARTIN', 'Léa', `${Y - 3}-06-02`, 'MATERNELLE', 'PS', 'PS'],
  ['BLANC', 'Jade', `${Y - 3}-02-02`, 'MATERNELLE', 'PS', 'PS'],
  ['ROUX', 'Lina', `${Y - 4}-09-09`, 'MATERNELLE', 'MS', 'MS'],
  ['FAURE', 'Tom', `${Y - 4}-05-05`, 'MATERNELLE', 'MS', 'MS'],
  ['PETIT', 'Hugo', `${Y - 6}-04-04`, 'CYCLE II', 'CP', 'CP'],
  ['DUPONT', 'Théo', `${Y - 7}-07-07`, 'CYCLE II', 'CE1', 'CE1'],
];
const onde =
  `"Nom Elève";"Nom d'usage Elève";"Prénom Elève";"Date naissance";"Sexe";"Adresse1";"Cp1";"Commune1";"Pays1";" Cycle";"Niveau";"Classe"\r\n` +
  PUPILS.map(([last, first, born, cycle, level, cls]) => `"${last}";;"${first}";"${born}";"F";;;;;"${cycle}";"${level}";"${cls}"\r\n`).join('');
const ondeDir = join(dir, 'onde');
mkdirSync(ondeDir);
writeFileSync(join(ondeDir, 'CSVExtraction-eleves.csv'), onde);
const report = await importFiles(ctx, collectInputs([ondeDir]), { dryRun: false, scope: ALL, structureHint: SCHOOL });
assert.equal(report.fatal, null, formatReport(report));
assert.deepEqual(report.rejected, [], formatReport(report));

const school = (await q('SELECT id FROM structures WHERE name = $1', [SCHOOL])).rows[0].id as string;
const ids: Record<string, string> = {};
for (const r of (await q(`SELECT id, first_name FROM users WHERE profile = 'Student'`)).rows) ids[r.first_name] = r.id;
const classId = async (name: string) => (await q('SELECT id FROM classes WHERE structure_id = $1 AND name = $2', [school, name])).rows[0].id as string;
const levelOf = async (name: string) =>
  (await q('SELECT l.name FROM classes c JOIN levels l ON l.id = c.level_id WHERE c.structure_id = $1 AND c.name = $2', [school, name])).rows[0]?.name;
// Jade and Hugo have no birth date (an account made by hand, a feed without one): their class's level decides.
await q('UPDATE users SET birth_date = NULL WHERE id = ANY($1)', [[ids.Jade, ids.Hugo]]);
// Parents gave their address at activation (Lina, Tom: activated); Léa and Adam got one from the school.
await q(`UPDATE users SET activated_at = now(), password_hash = '$argon2id$x', activation_code_enc = NULL, activation_code_mac = NULL WHERE id = ANY($1)`, [[ids.Lina, ids.Tom, ids.Théo]]);
for (const [name, email] of [['Léa', 'lea.parents@example.fr'], ['Lina', 'lina.parents@example.fr'], ['Adam', 'adam@example.fr']]) {
  await q('UPDATE users SET email = $2 WHERE id = $1', [ids[name], email]);
}
// A pupil with neither birth date nor class: nothing says maternelle.
const nobody = (await q(`INSERT INTO users (profile, first_name, last_name, login) VALUES ('Student', 'Sam', 'NULLE', 'sam.nulle') RETURNING id`)).rows[0].id as string;
await q('INSERT INTO user_structures (user_id, structure_id) VALUES ($1, $2)', [nobody, school]);

const select = (input: Record<string, unknown>) => selectAccounts(ctx, SelectionSchema.parse({ structureId: school, ...input }), ALL);
let n = 0;
async function pdfOf(rows: AccountRow[], model: SheetModel, o: { lang?: 'fr' | 'en'; sort?: 'class' } = {}): Promise<string> {
  const file = join(dir, `f${++n}.pdf`);
  writeFileSync(file, await renderSheetsPdf(ctx, rows, { model, ...o }));
  return file;
}
const pageOf = (rows: AccountRow[], id: string) => rows.findIndex((r) => r.id === id) + 1;
const flat = (s: string) => s.replace(/\s+/g, ' ');

// The words of each built-in text, as pdftotext gives them (lines joined).
const PARENTS_INTRO = 'Madame, Monsieur, voici les informations de connexion de votre enfant à l’espace numérique de travail (ENT) de l’École des Lilas. Gardez cette fiche : c’est avec vous que votre enfant se connectera.';
const PUPIL_INTRO = 'Voici tes informations de connexion à l’espace numérique de travail (ENT) de l’École des Lilas. Garde cette fiche pour toi.';
const TU_WORDS = /Garde cette fiche|Choisis ton|Indique ton|Scanne pour|\btes informations|\bton code|Ne le donne/;

test('the ONDE levels are stored per class: the mixed class GS-CP has its first pupil’s level', async () => {
  assert.equal(await levelOf('GS-CP'), 'GS');
  assert.equal(await levelOf('PS'), 'PS');
  assert.equal(await levelOf('CP'), 'CP');
});

test('who is a pupil of maternelle: the birth date, else the class level; every query path agrees', async () => {
  const expected: Record<string, boolean> = {
    Emma: true, // GS by birth
    Adam: false, // CP by birth, in a class whose level says GS
    Léa: true, Jade: true /* no birth date: class level PS */, Lina: true, Tom: true,
    Hugo: false, // no birth date: class level CP
    Théo: false, Sam: false,
  };
  const byName = (rows: AccountRow[]) => Object.fromEntries(rows.map((r) => [r.firstName, r.youngPupil]));
  const all = await select({ profiles: ['Student'] });
  assert.deepEqual(byName(all), expected, 'selectAccounts (alpha)');
  assert.deepEqual(byName(await select({ profiles: ['Student'], sort: 'class' })), expected, 'selectAccounts (by class)');
  assert.deepEqual(byName(await selectPage(ctx, SelectionSchema.parse({ structureId: school, profiles: ['Student'] }), ALL, { limit: 50 })), expected, 'preview page');
  // The export's cursor: its first batch is a preview page, the rest the whole-selection query.
  const client = await ctx.database.pool.connect();
  try {
    await client.query('BEGIN');
    const streamed: AccountRow[] = [];
    for await (const b of streamSelection(ctx, client, SelectionSchema.parse({ structureId: school, profiles: ['Student'] }), ALL, 3)) streamed.push(...b);
    assert.deepEqual(byName(streamed), expected, 'streamSelection');
  } finally {
    await client.query('ROLLBACK');
    client.release();
  }
});

test('a class mixing GS and CP: the GS sheet speaks to the parents in « vous », the CP sheet to the pupil in « tu »; QR codes still decode', async () => {
  const rows = await select({ classIds: [await classId('GS-CP')] });
  assert.deepEqual(rows.map((r) => r.firstName), ['Adam', 'Emma']);
  const emmaRow = rows.find((r) => r.firstName === 'Emma')!;
  const adamRow = rows.find((r) => r.firstName === 'Adam')!;
  assert.ok(emmaRow.code && adamRow.code, 'both have an activation code');
  const file = await pdfOf(rows, 1);

  const emma = flat(pdfText(file, pageOf(rows, ids.Emma)));
  assert.ok(emma.includes('Emma LEROY'), emma);
  assert.ok(emma.includes(PARENTS_INTRO), emma);
  assert.ok(emma.includes('Rendez-vous sur https://ent.example.fr/activation (ou scannez le QR code) et saisissez l’identifiant et le code d’activation de votre enfant.'), emma);
  assert.ok(emma.includes('Choisissez son mot de passe'), emma);
  // The parents give their own address, optional as on the activation form.
  assert.ok(emma.includes('3. Indiquez votre adresse électronique (facultatif) : elle permet de renouveler un mot de passe oublié.'), emma);
  assert.ok(emma.includes('Le code ne sert qu’une fois, jusqu’à la date indiquée ci-dessus. Ne le communiquez à personne.'), emma);
  assert.ok(emma.includes('Scannez pour activer'), emma);
  assert.ok(emma.includes(`Identifiant : ${emmaRow.login}`), emma);
  assert.ok(emma.includes(formatCode(emmaRow.code!)), emma);
  assert.doesNotMatch(emma, TU_WORDS);

  const adam = flat(pdfText(file, pageOf(rows, ids.Adam)));
  assert.ok(adam.includes(PUPIL_INTRO), adam);
  assert.ok(adam.includes('Choisis ton mot de passe'), adam);
  assert.ok(adam.includes('Scanne pour activer'), adam);
  assert.doesNotMatch(adam, /votre enfant|Madame, Monsieur/);

  assert.deepEqual(pdfQrCodes(file, pageOf(rows, ids.Emma)), [activationUrl(URL_BASE, emmaRow.login, emmaRow.code!)]);
  assert.deepEqual(pdfQrCodes(file, pageOf(rows, ids.Adam)), [activationUrl(URL_BASE, adamRow.login, adamRow.code!)]);

  // Eight to a page (simplified sheets), both on one: each short text to its reader, both QR codes readable.
  const eight = await pdfOf(rows, 8);
  const page = flat(pdfText(eight, 1));
  assert.ok(page.includes(`Rendez-vous sur ${URL_BASE}/activation ou scannez le QR code, saisissez l’identifiant et le code de votre enfant, puis choisissez son mot de passe.`), page);
  assert.ok(page.includes(`Va sur ${URL_BASE}/activation ou scanne le QR code, saisis ton identifiant et ton code, puis choisis ton mot de passe.`), page);
  assert.deepEqual(pdfQrCodes(eight, 1), rows.map((r) => activationUrl(URL_BASE, r.login, r.code!)).sort());
});

test('model 2, by class: the PS sheets (by birth date, and by level without one) speak to the parents, the CP sheet to the pupil', async () => {
  const rows = await select({ classIds: [await classId('PS'), await classId('CP')], sort: 'class' });
  assert.deepEqual(rows.map((r) => r.firstName), ['Hugo', 'Jade', 'Léa']);
  const file = await pdfOf(rows, 2, { sort: 'class' });
  // Two sheets a page (a new page at each class): each sheet starts with the school's name.
  const sheets = [1, 2].flatMap((page) => flat(pdfText(file, page)).split(`${SCHOOL} Espace numérique`).slice(1));
  const sheetOf = (name: string) => {
    const found = sheets.filter((t) => t.includes(` ${name} `));
    assert.equal(found.length, 1, `one sheet of ${name} in ${sheets.join('\n')}`);
    return found[0];
  };
  for (const name of ['Léa', 'Jade']) {
    const text = sheetOf(name);
    assert.ok(text.includes(PARENTS_INTRO), `${name}: ${text}`);
    assert.doesNotMatch(text, TU_WORDS);
  }
  const hugo = sheetOf('Hugo');
  assert.ok(hugo.includes(PUPIL_INTRO), hugo);
  assert.doesNotMatch(hugo, /votre enfant/);
  for (const r of rows) assert.ok(r.code, `${r.firstName} has a code`);
  assert.deepEqual(pdfQrCodes(file, 1), [activationUrl(URL_BASE, rows[0].login, rows[0].code!)]);
  assert.deepEqual(pdfQrCodes(file, 2), rows.slice(1).map((r) => activationUrl(URL_BASE, r.login, r.code!)).sort());
});

test('an activated pupil of maternelle: renewal steps and notes to the parents (with and without an address), in French and English', async () => {
  const rows = await select({ userIds: [ids.Lina, ids.Tom, ids.Théo] });
  const file = await pdfOf(rows, 1);
  const lina = flat(pdfText(file, pageOf(rows, ids.Lina)));
  assert.ok(lina.includes('Compte déjà activé : pas de code, le mot de passe de votre enfant reste valable.'), lina);
  assert.ok(lina.includes('Le compte de votre enfant est déjà activé : pour vous connecter ensemble, allez sur https://ent.example.fr'), lina);
  assert.ok(lina.includes('Saisissez l’identifiant de votre enfant : un lien de renouvellement est envoyé'), lina);
  assert.doesNotMatch(lina, /Ton compte|connecte-toi|ton mot de passe/);
  // Tom has no address: the renewal code, from the teacher.
  const tom = flat(pdfText(file, pageOf(rows, ids.Tom)));
  assert.ok(tom.includes('Le compte de votre enfant n’a pas d’adresse électronique : demandez un code de renouvellement à l’enseignant de votre enfant'), tom);
  const theo = flat(pdfText(file, pageOf(rows, ids.Théo)));
  assert.ok(theo.includes('Ton compte n’a pas d’adresse électronique'), theo);
  assert.ok(theo.includes('ton mot de passe reste valable'), theo);

  const en = flat(pdfText(await pdfOf(rows, 1, { lang: 'en' }), pageOf(rows, ids.Tom)));
  assert.ok(en.includes("Account already activated: no code, your child's password still works."), en);
});

test('renewal sheets: the parents’ text for a pupil of maternelle, the pupil’s for the others; QR codes lead to the renewal page', async () => {
  const rows = await issueRenewalSheets(ctx, SelectionSchema.parse({ structureId: school, userIds: [ids.Tom, ids.Théo] }), ALL, null, 'pdf');
  assert.equal(rows.length, 2);
  const file = join(dir, 'renewal.pdf');
  writeFileSync(file, await renderRenewalPdf(ctx, rows, 1));
  const tom = flat(pdfText(file, pageOf(rows, ids.Tom)));
  assert.ok(tom.includes('Le mot de passe actuel de votre enfant reste valable jusqu’à l’utilisation de ce code.'), tom);
  assert.ok(tom.includes('Scannez pour changer de mot de passe'), tom);
  assert.doesNotMatch(tom, /Ton mot de passe|scanne le|Scanne pour/);
  const theo = flat(pdfText(file, pageOf(rows, ids.Théo)));
  assert.ok(theo.includes('Ton mot de passe actuel reste valable jusqu’à l’utilisation de ce code.'), theo);
  for (const r of rows) assert.deepEqual(pdfQrCodes(file, pageOf(rows, r.id)), [renewalUrl(URL_BASE, r.login, r.code!)]);
});

test("a school's own Student text is printed as written, for the GS pupil and the CP pupil alike", async () => {
  const body = "Texte de l'école pour {prenom} : la maîtresse vous aidera.";
  await saveTemplate(ctx, { structureId: school, profile: 'Student', kind: 'sheet_inactive', body });
  try {
    const rows = await select({ classIds: [await classId('GS-CP')] });
    const file = await pdfOf(rows, 1);
    for (const r of rows) {
      const text = flat(pdfText(file, pageOf(rows, r.id)));
      assert.ok(text.includes(`Texte de l'école pour ${r.firstName} : la maîtresse vous aidera.`), text);
      assert.doesNotMatch(text, /votre enfant à l’espace|tes informations|Première connexion/, text);
      assert.deepEqual(pdfQrCodes(file, pageOf(rows, r.id)), [activationUrl(URL_BASE, r.login, r.code!)]);
    }
  } finally {
    await resetTemplate(ctx, { structureId: school, profile: 'Student', kind: 'sheet_inactive' });
  }
});

test('mails of codes: to a PS pupil’s address, addressed to the parents; to a CP pupil’s, to the pupil', async () => {
  const worker = startMailWorker(ctx, { pollMs: 20, backoffMs: 10, log: () => {} });
  try {
    const run = await startMailMerge(ctx, SelectionSchema.parse({ structureId: school, userIds: [ids.Léa, ids.Adam, ids.Lina] }), ALL, null);
    assert.equal(run.queued, 3);
    await waitFor('3 mails delivered', () => smtp.messages.length >= 3);
  } finally {
    await worker.stop();
  }
  const only = (address: string) => {
    const got = smtp.to(address);
    assert.equal(got.length, 1, `one mail for ${address}`);
    return got[0];
  };
  const [lea] = await select({ userIds: [ids.Léa] });
  const leaMail = only('lea.parents@example.fr');
  const text = leaMail.text ?? '';
  assert.equal(leaMail.subject, `Activez le compte de l’ENT de votre enfant – ${SCHOOL}`);
  assert.ok(text.startsWith('Madame, Monsieur,\n'), text);
  assert.ok(text.includes('Voici les informations de connexion de votre enfant, Léa MARTIN, à l’espace numérique de travail (ENT) de l’École des Lilas.'), text);
  assert.ok(text.includes(`Identifiant : ${lea.login}`), text);
  assert.ok(text.includes(`Code d’activation : ${formatCode(lea.code!)}`), text);
  assert.ok(text.includes(activationUrl(URL_BASE, lea.login, lea.code!)), text);
  assert.ok(text.includes("Pour activer le compte de votre enfant, ouvrez ce lien"), text);
  assert.ok(text.includes('3. Indiquez votre adresse électronique (facultatif)'), text);
  assert.doesNotMatch(text, /Bonjour Léa|\bton\b|\btes\b|\bt’est\b/);
  assert.ok(String(leaMail.html).includes('Madame, Monsieur,'), String(leaMail.html));

  const adamMail = only('adam@example.fr');
  assert.equal(adamMail.subject, `Activez votre compte de l’ENT – ${SCHOOL}`);
  assert.ok((adamMail.text ?? '').startsWith('Bonjour Adam,\n'), String(adamMail.text));
  assert.ok((adamMail.text ?? '').includes('Voici tes informations de connexion'), String(adamMail.text));

  const linaMail = only('lina.parents@example.fr');
  const linaText = linaMail.text ?? '';
  assert.equal(linaMail.subject, `Le compte de l’ENT de votre enfant – ${SCHOOL}`);
  assert.ok(linaText.startsWith('Madame, Monsieur,\n\nVotre enfant : Lina ROUX\nSon identifiant : '), linaText);
  assert.ok(linaText.includes('Le compte de votre enfant est déjà activé'), linaText);
  assert.doesNotMatch(linaText, /Bonjour Lina|Ton compte/);
});
