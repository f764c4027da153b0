// Family packs cut from pages of 2 or 8 sheets: each family starts on a new page, so the person cutting and
// handing out the pages never gives a family another family's activation codes. An invented school of three
// families of different sizes, read back page by page (pdftotext) and QR code by QR code (zbarimg).
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { Scope } from '../src/directory/scope.js';
import { familySelection } from '../src/publipostage/family.js';
import { exportSelection } from '../src/publipostage/generate.js';
import { handOut } from '../src/publipostage/handout.js';
import { renderSheetsPdf } from '../src/publipostage/pdf.js';
import { selectAccounts } from '../src/publipostage/select.js';
import { SelectionSchema } from '../src/publipostage/selection.js';
import { testContext } from './helpers/db.js';
import { pdfPages, pdfQrCodes, pdfText } from './helpers/pdf.js';
import { insertSample, type Sample, type SampleUser } from './helpers/sample.js';

const URL_BASE = 'https://ent.example.fr';
const ALL: Scope = { kind: 'all' };

// Three families of 6A: 1 pupil + 2 parents, 1 pupil + 1 parent, 2 siblings + their 2 parents (4 sheets).
const FAMILIES: Record<string, SampleUser[]> = {
  BERTHIER: [
    { key: 'alice', first: 'Alice', last: 'BERTHIER', profile: 'Student', structure: 'S1', classes: ['6A'] },
    { key: 'marc', first: 'Marc', last: 'BERTHIER', profile: 'Relative', structure: 'S1', parentOf: ['alice'] },
    { key: 'sylvie', first: 'Sylvie', last: 'BERTHIER', profile: 'Relative', structure: 'S1', parentOf: ['alice'] },
  ],
  CAMUSAT: [
    { key: 'bruno', first: 'Bruno', last: 'CAMUSAT', profile: 'Student', structure: 'S1', classes: ['6A'] },
    { key: 'helene', first: 'Hélène', last: 'CAMUSAT', profile: 'Relative', structure: 'S1', parentOf: ['bruno'] },
  ],
  DUPONTEL: [
    { key: 'chloe', first: 'Chloé', last: 'DUPONTEL', profile: 'Student', structure: 'S1', classes: ['6A'] },
    { key: 'diego', first: 'Diego', last: 'DUPONTEL', profile: 'Student', structure: 'S1', classes: ['6A'] },
    { key: 'eric', first: 'Éric', last: 'DUPONTEL', profile: 'Relative', structure: 'S1', parentOf: ['chloe', 'diego'] },
    { key: 'fanny', first: 'Fanny', last: 'DUPONTEL', profile: 'Relative', structure: 'S1', parentOf: ['chloe', 'diego'] },
  ],
};
const NAMES = Object.keys(FAMILIES);
const familyOfKey = new Map(Object.entries(FAMILIES).flatMap(([name, users]) => users.map((u) => [u.key, name] as const)));

let ctx: Awaited<ReturnType<typeof testContext>>;
let s: Sample;
let dir: string;
before(async () => {
  ctx = await testContext({ TROUSSEAU_PUBLIC_URL: URL_BASE });
  s = await insertSample(ctx, Object.values(FAMILIES).flat());
  dir = mkdtempSync(join(tmpdir(), 'trousseau-family-pages-'));
});
after(async () => {
  rmSync(dir, { recursive: true, force: true });
  await ctx.close();
});

let n = 0;
function save(pdf: Buffer): string {
  const file = join(dir, `f${++n}.pdf`);
  writeFileSync(file, pdf);
  return file;
}
const pupils = () => ['alice', 'bruno', 'chloe', 'diego'].map((k) => s.users[k]);
const sel = (input: Record<string, unknown>) => SelectionSchema.parse({ structureId: s.structures.S1, ...input });

/** The sample key of a login printed on a sheet or carried by a QR code. */
const keyOfLogin = (login: string) => Object.keys(s.logins).find((k) => s.logins[k] === login);

/**
 * Reads `file` page by page: every page names one family only (its sheets' logins, the names printed), every sheet
 * is there once, and every QR code of a page activates an account of that page's family. Returns the families of the
 * pages, in order.
 */
function checkPages(file: string, perPage: number): string[] {
  const pages = pdfPages(file);
  const seen: string[] = [];
  const families: string[] = [];
  for (let page = 1; page <= pages; page++) {
    const text = pdfText(file, page);
    const logins = [...text.matchAll(/Identifiant : (\S+)/g)].map((m) => m[1]);
    assert.ok(logins.length >= 1 && logins.length <= perPage, `page ${page}: ${logins.length} sheets`);
    const keys = logins.map((l) => keyOfLogin(l));
    assert.ok(keys.every(Boolean), `page ${page}: unknown login in ${logins.join(', ')}`);
    seen.push(...(keys as string[]));
    const named = NAMES.filter((name) => text.includes(name));
    const ofLogins = [...new Set(keys.map((k) => familyOfKey.get(k!)!))];
    assert.equal(named.length, 1, `page ${page} names ${named.join(' and ')}:\n${text}`);
    assert.deepEqual(ofLogins, named, `page ${page}: sheets of ${ofLogins.join(', ')}`);
    const qr = pdfQrCodes(file, page);
    assert.equal(qr.length, logins.length, `page ${page}: one QR code a sheet`);
    for (const url of qr) {
      assert.ok(url.startsWith(`${URL_BASE}/activation?`), url);
      const key = keyOfLogin(new URL(url).searchParams.get('login')!);
      assert.equal(familyOfKey.get(key!), named[0], `page ${page} (${named[0]}) carries the QR code of ${key}`);
      assert.ok(keys.includes(key), `page ${page}: the QR code of ${key} is on its sheet's page`);
    }
    families.push(named[0]);
  }
  // Every sheet once.
  assert.deepEqual([...seen].sort(), [...familyOfKey.keys()].sort());
  return families;
}

describe('family packs: each family starts on a new page', () => {
  test('the order keeps siblings’ shared parents once, after the first sibling; rows carry what tells families apart', async () => {
    const rows = await selectAccounts(ctx, await familySelection(ctx.database.pool, sel({ profiles: 'Student' }), pupils()), ALL);
    const by = new Map(rows.map((r) => [keyOfLogin(r.login)!, r]));
    assert.deepEqual([...by.keys()], ['alice', 'marc', 'sylvie', 'bruno', 'helene', 'chloe', 'eric', 'fanny', 'diego']);
    // A relative has the rank of his first pupil, and his children's ids: Diego, after his parents, is their child.
    assert.deepEqual(['alice', 'marc', 'sylvie', 'bruno', 'helene', 'chloe', 'eric', 'fanny', 'diego'].map((k) => by.get(k)!.familyRank), [1, 1, 1, 2, 2, 3, 3, 3, 4]);
    assert.deepEqual([...by.get('fanny')!.childIds!].sort(), [s.users.chloe, s.users.diego].sort());
    assert.deepEqual(by.get('diego')!.childIds, []);
  });

  for (const [model, pages] of [[2, ['BERTHIER', 'BERTHIER', 'CAMUSAT', 'DUPONTEL', 'DUPONTEL']], [8, NAMES], [1, [...familyOfKey.values()]]] as const) {
    test(`class view « Fiches famille », ${model} per page: no page holds two families, every sheet once`, async () => {
      const selection = await familySelection(ctx.database.pool, sel({ profiles: 'Student' }), pupils());
      const rows = await handOut(ctx, { selection, scope: ALL, actorId: null, action: 'publipostage.family_pack', kind: 'family_pack' });
      const file = save(await renderSheetsPdf(ctx, rows, { model, sort: 'family' }));
      assert.deepEqual(checkPages(file, model), pages);
    });
  }

  test('console « PDF par famille » (streamed export), 8 per page: one page a family', async () => {
    const r = await exportSelection(ctx, { format: 'pdf', model: 8, selection: sel({ profiles: 'Student,Relative', sort: 'family' }), scope: ALL, actorId: null, via: 'cli' });
    const chunks: Buffer[] = [];
    for await (const c of r.body as AsyncIterable<Buffer>) chunks.push(c);
    assert.deepEqual(checkPages(save(Buffer.concat(chunks)), 8), NAMES);
  });

  test('a parent whose children are not selected has a page of his own, as two such parents', async () => {
    const ids = ['marc', 'sylvie', 'bruno', 'helene'].map((k) => s.users[k]).join(',');
    const rows = await handOut(ctx, {
      selection: sel({ profiles: 'Student,Relative', userIds: ids, sort: 'family' }), scope: ALL, actorId: null, action: 'publipostage.family_pack', kind: 'family_pack',
    });
    const file = save(await renderSheetsPdf(ctx, rows, { model: 8, sort: 'family' }));
    const pages = Array.from({ length: pdfPages(file) }, (_, i) => [...pdfText(file, i + 1).matchAll(/Identifiant : (\S+)/g)].map((m) => keyOfLogin(m[1])));
    assert.deepEqual(pages, [['bruno', 'helene'], ['marc'], ['sylvie']]);
  });
});
