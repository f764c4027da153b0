// Tagged PDF sheets (issue #13): the structure tree read back with poppler (`pdfinfo -struct-text`), the
// alternative text of the QR figures from the document's object streams, title and language from the catalog.
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { inflateSync } from 'node:zlib';
import { formatCode } from '../src/accounts/codes.js';
import type { Scope } from '../src/directory/scope.js';
import { activationUrl, frenchDate } from '../src/publipostage/format.js';
import { renderSheetsPdf, type SheetModel } from '../src/publipostage/pdf.js';
import { selectAccounts } from '../src/publipostage/select.js';
import { SelectionSchema, type AccountRow } from '../src/publipostage/selection.js';
import { resetTemplate, saveTemplate } from '../src/publipostage/templates.js';
import { fileContext, fileTempDir } from './helpers/db.js';
import { insertSample } from './helpers/sample.js';

const ALL: Scope = { kind: 'all' };
const URL_BASE = 'https://ent.example.fr';

const ctx = await fileContext({ TROUSSEAU_PUBLIC_URL: URL_BASE });
const s = await insertSample(ctx);
const dir = fileTempDir('trousseau-pdf-tags-');

interface Node {
  type: string;
  text: string;
  kids: Node[];
}

/** The structure tree as poppler reads it: one line per element ("  H1 (block)"), its text quoted below it. */
function structTree(file: string): Node {
  const out = execFileSync('pdfinfo', ['-struct-text', file], { encoding: 'utf8' });
  const root: Node = { type: 'root', text: '', kids: [] };
  const stack: Array<{ depth: number; node: Node }> = [{ depth: -1, node: root }];
  for (const line of out.split('\n')) {
    const m = /^( *)(\S.*)$/.exec(line);
    if (!m) continue;
    const depth = m[1].length / 2;
    while (stack.length > 1 && stack[stack.length - 1].depth >= depth) stack.pop();
    const parent = stack[stack.length - 1].node;
    if (m[2].startsWith('"')) parent.text += m[2].slice(1, -1);
    else if (m[2].startsWith('/')) continue; // attribute of the element above (/Placement, /BBox)
    else {
      const node: Node = { type: /^\w+/.exec(m[2])![0], text: '', kids: [] };
      parent.kids.push(node);
      stack.push({ depth, node });
    }
  }
  return root;
}

/** All text under a node, in reading order. */
const textOf = (n: Node): string => n.text + n.kids.map(textOf).join('');
/** The children of a sheet as "Type: text" lines (lists item by item), which is what a screen reader reads in order. */
function outline(sect: Node): string[] {
  return sect.kids.flatMap((k) => (k.type === 'L' ? k.kids.map((li) => `LI: ${textOf(li).trim()}`) : [`${k.type}: ${textOf(k)}`.trim()]));
}

/** Decompressed object streams (where the structure elements are). */
function objectStreams(pdf: Buffer): string {
  const latin = pdf.toString('latin1');
  let out = '';
  for (const m of latin.matchAll(/\/Type \/ObjStm[^>]*?\/Length (\d+)\s*>>\s*stream\r?\n/g)) {
    const start = m.index! + m[0].length;
    out += inflateSync(pdf.subarray(start, start + Number(m[1]))).toString('latin1');
  }
  return out;
}

const select = (input: Record<string, unknown> = {}) => selectAccounts(ctx, SelectionSchema.parse(input), ALL);

for (const model of [1, 2, 8] as SheetModel[]) {
  test(`model ${model}: one section per sheet in reading order, heading, labels with their values, QR figure with its link`, async () => {
    const rows = await select({});
    const pdf = await renderSheetsPdf(ctx, rows, { model });
    const file = join(dir, `m${model}.pdf`);
    writeFileSync(file, pdf);

    // The structure tree is written by pdf-tags.ts into object streams with its own cross-reference stream:
    // qpdf checks the whole file's syntax (xref offsets, object streams, page tree) as a strict reader would.
    const check = spawnSync('qpdf', ['--check', file], { encoding: 'utf8' });
    assert.equal(check.status, 0, `qpdf --check: ${check.stdout}${check.stderr}`);
    assert.match(check.stdout, /No syntax or stream encoding errors found/);

    const info = execFileSync('pdfinfo', [file], { encoding: 'utf8' });
    assert.match(info, /^Tagged:\s+yes$/m);
    assert.match(info, /^Title:\s+Fiches de connexion$/m);
    const raw = pdf.toString('latin1');
    assert.match(raw, /\/Lang \(fr-FR\)/, 'document language');
    assert.match(raw, /\/DisplayDocTitle true/, 'the title, not the file name, in the window title');

    const [doc] = structTree(file).kids;
    assert.equal(doc.type, 'Document');
    const sheets = doc.kids;
    assert.equal(sheets.length, rows.length);
    assert.ok(sheets.every((k) => k.type === 'Sect'));
    // One heading per sheet, the account's name, in the order of the rows.
    assert.deepEqual(sheets.map((k) => k.kids.filter((c) => c.type === 'H1').map(textOf)), rows.map((r) => [`${r.firstName} ${r.lastName}`]));

    const sheetOf = (key: string) => sheets[rows.findIndex((r: AccountRow) => r.id === s.users[key])];
    const zoe = outline(sheetOf('zoe'));
    const url = activationUrl(URL_BASE, s.logins.zoe, s.codes.zoe);
    assert.deepEqual(zoe.slice(0, 9), [
      model === 8 ? 'P: Collège Jean Moulin' : 'P: Collège Jean Moulin Espace numérique de travail — fiche de connexion',
      'H1: Zoé MARTIN',
      'P: Élève — 6A',
      `LI: Adresse de l’ENT : ${URL_BASE}`,
      `LI: Identifiant : ${s.logins.zoe}`,
      `LI: Code d’activation : ${formatCode(s.codes.zoe)}`,
      `LI: Code valable jusqu’au ${frenchDate(s.expiresAt.zoe)}`,
      'Figure:',
      // A pupil's sheet says « tu » on every line, the caption too.
      'P: Scanne pour activer',
    ]);
    if (model === 8) {
      // Simplified sheets: their short text as paragraphs, no letter; the words either side of a line break stay apart.
      assert.deepEqual(zoe.slice(9), [
        `P: Va sur ${URL_BASE}/activation ou scanne le QR code, saisis ton identifiant et ton code, puis choisis ton mot de passe.`,
        'P: Le code ne sert qu’une fois. Ne le donne à personne.',
      ]);
    } else {
      // The letter text: paragraphs and a numbered list; the words either side of a line break stay apart.
      assert.ok(zoe.includes('LI: 2. Choisis ton mot de passe et saisis-le deux fois.'), zoe.join('\n'));
      assert.ok(zoe.some((l) => l.startsWith('P: Voici tes informations de connexion') && l.includes('(ENT) du Collège Jean Moulin.')), zoe.join('\n'));
      assert.ok(zoe.includes(`LI: 1. Va sur ${URL_BASE}/activation (ou scanne le QR code) et saisis ton identifiant et ton code d’activation.`), zoe.join('\n'));
    }

    // A parent: who the children are; an active account: no code, no figure.
    assert.ok(outline(sheetOf('paul')).includes('P: Responsable de : Léo MARTIN (5A), Zoé MARTIN (6A)'));
    const emile = outline(sheetOf('emile'));
    assert.ok(emile.includes('P: Compte déjà activé : pas de code, ton mot de passe reste valable.'), emile.join('\n'));
    assert.ok(!emile.some((l) => l.startsWith('Figure') || l.includes('Code d’activation :')));

    // Each QR code is a Figure whose alternative text is the link it encodes.
    const figures = sheets.map((k) => k.kids.filter((c) => c.type === 'Figure').length);
    assert.deepEqual(figures, rows.map((r) => (!r.activated && r.code ? 1 : 0)));
    const alts = [...objectStreams(pdf).matchAll(/\/S\/Figure[^\n]*?\/Alt\(([^)]*)\)/g)].map((m) => m[1]);
    const expected = rows.filter((r) => !r.activated && r.code).map((r) => `QR code d'activation : ${activationUrl(URL_BASE, r.login, r.code!)}`);
    assert.deepEqual(alts.sort(), expected.sort());
    assert.ok(alts.includes(`QR code d'activation : ${url}`));
  });
}

test('English sheets: language and title follow', async () => {
  const rows = await select({ userIds: [s.users.zoe] });
  const pdf = await renderSheetsPdf(ctx, rows, { model: 2, lang: 'en' });
  const file = join(dir, 'en.pdf');
  writeFileSync(file, pdf);
  assert.match(pdf.toString('latin1'), /\/Lang \(en\)/);
  assert.match(execFileSync('pdfinfo', [file], { encoding: 'utf8' }), /^Title:\s+Connection sheets$/m);
  assert.deepEqual(outline(structTree(file).kids[0].kids[0]).slice(3, 5), [`LI: Address: ${URL_BASE}`, `LI: Login: ${s.logins.zoe}`]);
});

test('a personal letter text (drawn inline, not shared) is tagged the same way', async () => {
  await saveTemplate(ctx, { structureId: s.structures.S1, profile: 'Student', kind: 'sheet_inactive', body: 'Bienvenue {prenom} !\n1. Garde ton code : {code}.\n2. Ne le donne à personne.' });
  try {
    const rows = await select({ userIds: [s.users.zoe, s.users.leo] });
    const file = join(dir, 'personal.pdf');
    writeFileSync(file, await renderSheetsPdf(ctx, rows, { model: 2 }));
    const sheets = structTree(file).kids[0].kids.map(outline);
    const [zoe, leo] = [s.users.zoe, s.users.leo].map((id) => sheets[rows.findIndex((r) => r.id === id)]);
    assert.deepEqual(zoe.slice(-3), ['P: Bienvenue Zoé !', `LI: 1. Garde ton code : ${formatCode(s.codes.zoe)}.`, 'LI: 2. Ne le donne à personne.']);
    assert.deepEqual(leo.slice(-3), ['P: Bienvenue Léo !', `LI: 1. Garde ton code : ${formatCode(s.codes.leo)}.`, 'LI: 2. Ne le donne à personne.']);
  } finally {
    await resetTemplate(ctx, { structureId: s.structures.S1, profile: 'Student', kind: 'sheet_inactive' });
  }
});
