// `.zip` deliveries: unpacked (to files of the run) and imported as one run; hostile archives (path traversal, sizes that
// lie, bombs, nested or unknown members) fail the run naming the archive and member, and change nothing.
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { test } from 'node:test';
import yazl from 'yazl';
import { formatReport, importFiles } from '../src/import/index.js';
import { ImportFileError } from '../src/import/types.js';
import { uploadsRoot } from '../src/import/uploads.js';
import { unzip } from '../src/import/zip.js';
import { SHOWN_NAME_MAX, shownName } from '../src/lib/printable.js';
import { reportView } from '../src/web/console/views/import.js';
import { fileContext, fileTempDir } from './helpers/db.js';

const SIECLE = new URL('./fixtures/siecle/', import.meta.url).pathname;
const STS = new URL('./fixtures/sts/', import.meta.url).pathname;
const ALL = { kind: 'all' } as const;
// A data directory of its own: the test counts the unpacking directories there, which other files' runs (sharing the
// default one, in parallel) would add and sweep meanwhile.
const ctx = await fileContext({ TROUSSEAU_DATA_DIR: fileTempDir('trousseau-zip-data-') });

const count = async (sql: string) => Number((await ctx.database.pool.query(sql)).rows[0].n);

/** An archive of the given members, built in memory. */
async function zip(entries: Array<[string, Buffer | string]>): Promise<Buffer> {
  const z = new yazl.ZipFile();
  for (const [name, data] of entries) {
    if (name.endsWith('/')) z.addEmptyDirectory(name);
    else z.addBuffer(Buffer.isBuffer(data) ? data : Buffer.from(data), name);
  }
  z.end();
  const chunks: Buffer[] = [];
  for await (const c of z.outputStream as AsyncIterable<Buffer>) chunks.push(c);
  return Buffer.concat(chunks);
}

const fixture = (dir: string, name: string): [string, Buffer] => [name, readFileSync(join(dir, name))];

test('a .zip delivery is unpacked and its files imported as one run, OS leftovers left out', async () => {
  const data = await zip([
    ['export/', ''],
    fixture(SIECLE, 'ElevesSansAdresses.xml'),
    ['export/ResponsablesAvecAdresses.xml', readFileSync(join(SIECLE, 'ResponsablesAvecAdresses.xml'))],
    fixture(SIECLE, 'Nomenclature.xml'),
    fixture(STS, 'sts_emp_0990001X_2025.xml'),
    ['__MACOSX/._Nomenclature.xml', 'junk'],
    ['.DS_Store', 'junk'],
    ['ficAlimMENESR.dtd', '<!ELEMENT ficAlimMENESR (addRequest*)>'],
  ]);
  const report = await importFiles(ctx, [{ name: 'livraison.zip', data }], { scope: ALL, dryRun: false });
  assert.equal(report.fatal, null, formatReport(report));
  assert.deepEqual(
    report.files.map((f) => [f.file, f.kind, f.rows]),
    [
      ['livraison.zip', 'zip', 7],
      ['livraison.zip/.DS_Store', 'ignored', 0],
      ['livraison.zip/ElevesSansAdresses.xml', 'siecle-eleves', 6],
      ['livraison.zip/Nomenclature.xml', 'siecle-nomenclature', 3],
      ['livraison.zip/__MACOSX/._Nomenclature.xml', 'ignored', 0],
      ['livraison.zip/export/ResponsablesAvecAdresses.xml', 'siecle-responsables', 7],
      ['livraison.zip/ficAlimMENESR.dtd', 'ignored', 0],
      ['livraison.zip/sts_emp_0990001X_2025.xml', 'sts-emp', 6],
    ],
  );
  assert.match(report.files[6].reason!, /DTD/);
  assert.match(formatReport(report), /\n {2}livraison\.zip — [^\n]* — 7 fichiers\n/);
  assert.deepEqual([report.created, report.relations.created], [14, 5]);
  assert.equal(report.files.find((f) => f.kind === 'siecle-eleves')!.created, 5);
  assert.equal(await count(`SELECT count(*) n FROM users`), 14);
  assert.equal(await count(`SELECT count(*) n FROM structures`), 1);
});

test('what a Mac, Windows or a drop folder leaves inside an archive is listed as left out, as beside the files, and never imported', async () => {
  const HIDDEN = 'fichier caché ou marqueur de dépôt (.DS_Store, .done…) : pas un fichier de la livraison';
  // Importable content under names that say « not a file of the delivery »: listed, never read.
  const pupil = 'Nom;Prénom;Date de naissance;Classe\r\nFANTOME;Casper;01/01/2015;CM2\r\n';
  const litter: Array<[string, string]> = [
    ['.DS_Store', pupil],
    ['__MACOSX/._CSV_Eleves.csv', pupil],
    ['ecole/._CSV_Eleves.csv', pupil],
    ['ecole/Thumbs.db', pupil],
    ['ecole/desktop.ini', pupil],
    ['livraison.done', pupil],
  ];
  const data = await zip([['ecole/CSV_Eleves.csv', 'Nom;Prénom;Date de naissance;Classe\r\nPOMMIER;Jade;12/05/2016;CM1\r\n'], ...litter]);
  const before = await count(`SELECT count(*) n FROM users`);
  const report = await importFiles(ctx, [{ name: 'caches.zip', data }], { scope: ALL, dryRun: false });
  assert.equal(report.fatal, null, formatReport(report));
  const left = report.files.filter((f) => f.kind === 'ignored');
  assert.deepEqual(left.map((f) => f.file).sort(), litter.map(([name]) => `caches.zip/${name}`).sort());
  assert.ok(left.every((f) => f.reason === HIDDEN && f.reasonMessage?.code === 'ignoredFileHidden'), JSON.stringify(left));
  assert.match(formatReport(report), /\n {2}caches\.zip\/__MACOSX\/\._CSV_Eleves\.csv — ignoré : fichier caché ou marqueur de dépôt/);
  // One pupil imported: Jade, not the phantom of the hidden files.
  assert.equal(report.created, 1);
  assert.equal(await count(`SELECT count(*) n FROM users`), before + 1);
  assert.equal(await count(`SELECT count(*) n FROM users WHERE last_name = 'FANTOME'`), 0);
});

test('an archive\'s line counts its files with their unit, on the command line and in the console, in both languages', async () => {
  const row = 'Nom;Prénom;Date de naissance;Classe\r\nPOMMIER;Jade;12/05/2016;CM1\r\n';
  const one = await importFiles(ctx, [{ name: 'une.zip', data: await zip([['Jules Ferry/CSV_Eleves.csv', row]]) }], { scope: ALL, dryRun: true });
  const three = await importFiles(ctx, [{ name: 'trois.zip', data: await zip([['a/CSV_Eleves.csv', row], ['b/CSV_Eleves.csv', row], ['c/CSV_Eleves.csv', row]]) }], { scope: ALL, dryRun: true });
  for (const r of [one, three]) assert.equal(r.fatal, null, formatReport(r));
  assert.match(formatReport(one), /\n {2}une\.zip — archive \.zip — 1 fichier\n/);
  assert.match(formatReport(three), /\n {2}trois\.zip — archive \.zip — 3 fichiers\n/);
  assert.match(formatReport(one, 'en'), /\n {2}une\.zip — archive \.zip — 1 file\n/);
  assert.match(formatReport(three, 'en'), /\n {2}trois\.zip — archive \.zip — 3 files\n/);
  const row0 = (lang: 'fr' | 'en', r: typeof one) => /<tr data-file="[^"]+\.zip">(.*?)<\/tr>/s.exec(String(reportView(lang, r)))?.[1].replace(/\s+/g, ' ');
  assert.equal(row0('fr', one), '<td>une.zip</td><td colspan="4">archive .zip — 1 fichier</td>');
  assert.equal(row0('fr', three), '<td>trois.zip</td><td colspan="4">archive .zip — 3 fichiers</td>');
  assert.equal(row0('en', one), '<td>une.zip</td><td colspan="4">.zip archive — 1 file</td>');
  assert.equal(row0('en', three), '<td>trois.zip</td><td colspan="4">.zip archive — 3 files</td>');
});

test('CSV files in a folder of the archive go to the school named after that folder', async () => {
  const row = 'Nom;Prénom;Date de naissance;Classe\r\nPOMMIER;Jade;12/05/2016;CM1\r\n';
  const data = await zip([['Jules Ferry/CSV_Eleves.csv', row], ['college-georges-brassens/CSV_Eleves.csv', row]]);
  const report = await importFiles(ctx, [{ name: 'ecoles.zip', data }], { scope: ALL, dryRun: true });
  assert.equal(report.fatal, null, formatReport(report));
  // A folder already named for a school keeps its name (no « École Collège … »).
  assert.deepEqual(report.structures.map((s) => s.name).sort(), ['College Georges Brassens', 'École Jules Ferry']);
  assert.equal(report.created, 2);
});

test('member names in UTF-8 without the zip UTF-8 flag (Linux, macOS tools) keep their accents: the folder names the school', async () => {
  const data = withoutUtf8Flag(await zip([['École Née@NX2_0123457B/CSV_Eleves.csv', 'Nom;Prénom;Date de naissance;Classe\r\nPOMMIER;Jade;12/05/2016;CM1\r\n']]));
  const report = await importFiles(ctx, [{ name: 'livraison.zip', data }], { scope: ALL, dryRun: true });
  assert.equal(report.fatal, null, formatReport(report));
  assert.deepEqual(report.structures.map((s) => [s.name, s.uai]), [['École Née', '0123457B']]);
  assert.equal(report.files[1].file, 'livraison.zip/École Née@NX2_0123457B/CSV_Eleves.csv');
});

/** Clears the "names are UTF-8" bit (general purpose flag 0x800) in every header, as tools that omit it write. */
function withoutUtf8Flag(buf: Buffer): Buffer {
  const out = Buffer.from(buf);
  for (const [sig, offset] of [[0x04034b50, 6], [0x02014b50, 8]]) {
    for (let i = 0; i + offset + 2 <= out.length; i++) {
      if (out.readUInt32LE(i) === sig) out.writeUInt16LE(out.readUInt16LE(i + offset) & ~0x800, i + offset);
    }
  }
  return out;
}

/** Rewrites the uncompressed size of the single member everywhere the archive states it. */
function lieAboutSize(buf: Buffer, real: number, claimed: number): Buffer {
  const out = Buffer.from(buf);
  const at = (sig: number, offset: number) => {
    for (let i = 0; i + offset + 4 <= out.length; i++) {
      if (out.readUInt32LE(i) === sig && out.readUInt32LE(i + offset) === real) out.writeUInt32LE(claimed, i + offset);
    }
  };
  at(0x04034b50, 22); // local file header
  at(0x02014b50, 24); // central directory
  at(0x08074b50, 12); // data descriptor
  return out;
}

test('hostile archives fail the whole run, naming the archive and the member; nothing is written', async () => {
  const before = await count(`SELECT count(*) n FROM users`);
  const refused = async (name: string, data: Buffer) => {
    const report = await importFiles(ctx, [{ name, data }], { scope: ALL, dryRun: false });
    assert.ok(report.fatal, `${name} must be refused`);
    return report.fatal;
  };

  // Path traversal: `../` in a member name (yazl refuses to write one, so the bytes are patched).
  const evil = (await zip([['xx/evil.csv', 'Nom;Prénom\r\nA;B\r\n']])).toString('latin1').replaceAll('xx/evil.csv', '../evil.csv');
  const traversal = await refused('evil.zip', Buffer.from(evil, 'latin1'));
  assert.equal(traversal.file, 'evil.zip');
  assert.match(traversal.reason, /archive \.zip illisible : invalid relative path: \.\.\/evil\.csv/);

  // A header that claims less than the member holds.
  const big = Buffer.alloc(200_000, 'a');
  const liar = await refused('menteur.zip', lieAboutSize(await zip([['CSV_Eleves.csv', big]]), big.length, 100));
  assert.equal(liar.file, 'menteur.zip');
  assert.match(liar.reason, /illisible|plus gros que déclaré/);

  // An archive inside the archive, and a member of no supported format.
  const nested = await refused('double.zip', await zip([['inner.zip', await zip([['a.csv', 'x']])]]));
  assert.deepEqual([nested.file, nested.reason], ['double.zip/inner.zip', 'archive dans l’archive : déposez ses fichiers ou l’archive elle-même']);
  const photo = await refused('photos.zip', await zip([fixture(SIECLE, 'Nomenclature.xml'), ['photo.png', Buffer.from([0x89, 0x50, 0x4e, 0x47, 0, 0, 0])]]));
  assert.equal(photo.file, 'photos.zip/photo.png');
  assert.match(photo.reason, /fichier refusé, format non reconnu \(\.png\)/);

  // Not a zip at all.
  const fake = await refused('faux.zip', Buffer.from('Nom;Prénom\r\n'));
  assert.equal(fake.file, 'faux.zip');

  assert.equal(await count(`SELECT count(*) n FROM users`), before);
});

test('a member name of thousands of characters is shown capped, keeping its start and its end, in the report and in errors', async () => {
  const long = `${'dossier-'.repeat(500)}é/`;
  // A member of no supported format: the run is refused, naming it.
  const report = await importFiles(ctx, [{ name: 'longue.zip', data: await zip([[`${long}photo.png`, Buffer.from([0x89, 0x50, 0x4e, 0x47, 0, 0, 0])]]) }], { scope: ALL, dryRun: true });
  assert.ok(report.fatal);
  assert.ok(report.fatal.file.length <= SHOWN_NAME_MAX, `${report.fatal.file.length} characters`);
  assert.match(report.fatal.file, /^longue\.zip\/dossier-dossier-.*….*dossier-é\/photo\.png$/);
  // The limits' errors name the member the same way.
  const tooBig = await unzip('longue.zip', { data: await zip([[`${long}ENT_Eleves.csv`, Buffer.alloc(100, 'a')]]) }, { entries: 10, entryBytes: 10, totalBytes: 1000 }).then(
    () => assert.fail('refused'),
    (e: ImportFileError) => e,
  );
  assert.ok(tooBig instanceof ImportFileError);
  assert.ok(tooBig.reason.length < SHOWN_NAME_MAX + 100, `${tooBig.reason.length} characters`);
  assert.match(tooBig.reason, /^dossier-dossier-.*….*dossier-é\/ENT_Eleves\.csv : fichier trop gros/);
  // A character outside the BMP is never cut in half (an unpaired surrogate cannot be stored in jsonb).
  assert.equal(shownName(`${'😀'.repeat(300)}`).length <= SHOWN_NAME_MAX * 2, true);
  assert.ok(!/[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/.test(shownName('😀'.repeat(300))));
});

test('size limits: declared sizes are checked before inflating, real sizes while inflating', async () => {
  const limits = { entries: 3, entryBytes: 1 << 20, totalBytes: 3 << 19 };
  const zeros = Buffer.alloc(2 << 20); // 2 MiB compresses to a few KiB: a small bomb
  await assert.rejects(unzip('bombe.zip', { data: await zip([['a.xml', zeros]]) }, limits), (e: ImportFileError) =>
    e instanceof ImportFileError && e.file === 'bombe.zip' && /a\.xml : fichier trop gros une fois décompressé \(2 Mio, maximum 1 Mio\)/.test(e.reason),
  );
  const half = Buffer.alloc(900_000);
  await assert.rejects(unzip('total.zip', { data: await zip([['a.xml', half], ['b.xml', half]]) }, limits), /archive trop grosse une fois décompressée/);
  await assert.rejects(unzip('nombreux.zip', { data: await zip([['1', 'x'], ['2', 'x'], ['3', 'x'], ['4', 'x']]) }, limits), /plus de 3 fichiers/);
  // Within the limits: the members, sorted, directories skipped.
  const ok = await unzip('ok.zip', { data: await zip([['b/x.csv', 'x'], ['a.csv', 'y']]) }, limits);
  assert.deepEqual(ok.map((m) => [m.name, m.folder, m.data!.toString()]), [['ok.zip/a.csv', 'ok', 'y'], ['ok.zip/b/x.csv', 'b', 'x']]);
  // The total is the run's: two archives each within it, not together.
  const used = { bytes: 0 };
  await unzip('un.zip', { data: await zip([['a.xml', half]]) }, limits, undefined, used);
  await assert.rejects(unzip('deux.zip', { data: await zip([['b.xml', half]]) }, limits, undefined, used), /archive trop grosse une fois décompressée/);
});

test('an import unpacks an archive to numbered files of a private directory, never to memory nor to its members\' names; the directory goes with the run', async () => {
  const into = mkdtempSync(join(tmpdir(), 'zip-into-'));
  try {
    const members = await unzip('livraison.zip', { data: await zip([['0931002B/CSV_Eleves.csv', 'Nom;Prénom\r\n'], ['a.csv', 'y']]) }, undefined, into);
    const [own] = readdirSync(into);
    const dir = join(into, own);
    assert.deepEqual(members.map((m) => [m.name, m.folder, m.data, m.path]), [
      ['livraison.zip/0931002B/CSV_Eleves.csv', '0931002B', undefined, join(dir, '1')],
      ['livraison.zip/a.csv', 'livraison', undefined, join(dir, '2')],
    ]);
    assert.equal(readFileSync(join(dir, '1'), 'utf8'), 'Nom;Prénom\r\n');
    assert.equal(statSync(join(dir, '2')).mode & 0o777, 0o600);
    assert.deepEqual(readdirSync(dir).sort(), ['1', '2']);
    // A second archive of the run: a directory of its own (both have a member 1).
    const second = await unzip('autre.zip', { data: await zip([['b.csv', 'z']]) }, undefined, into);
    assert.equal(readFileSync(second[0].path!, 'utf8'), 'z');
    assert.equal(readdirSync(into).length, 2);
  } finally {
    rmSync(into, { recursive: true, force: true });
  }
  // The run's own directory: made for its archives, removed after a run, a dry run and a refused run alike.
  const ours = () => readdirSync(uploadsRoot(ctx.config.dataDir)).filter((n) => n.startsWith('zip-')).sort();
  const before = ours();
  const delivery = await zip([fixture(SIECLE, 'Nomenclature.xml'), fixture(SIECLE, 'ElevesSansAdresses.xml'), fixture(SIECLE, 'ResponsablesAvecAdresses.xml')]);
  // What a killed process left (over an hour old) goes when a run unpacks, even with no server to sweep; a younger
  // directory (another run's, an upload awaiting confirmation) stays.
  const root = uploadsRoot(ctx.config.dataDir);
  // (Names of their own: the test data folder outlives a run of the suite that fails half-way.)
  mkdirSync(root, { recursive: true });
  const abandoned = mkdtempSync(join(root, 'zip-abandonne-'));
  writeFileSync(join(abandoned, '1'), 'x');
  const twoHoursAgo = new Date(Date.now() - 2 * 3600_000);
  utimesSync(abandoned, twoHoursAgo, twoHoursAgo);
  const recent = mkdtempSync(join(root, 'zip-recent-'));
  try {
    assert.ok(!(await importFiles(ctx, [{ name: 'siecle.zip', data: delivery }], { scope: ALL, dryRun: true })).fatal, 'the run with leftovers beside it');
    assert.deepEqual(ours(), [...before, basename(recent)].sort(), 'the abandoned directory swept, the recent one kept');
  } finally {
    rmSync(recent, { recursive: true, force: true });
    rmSync(abandoned, { recursive: true, force: true });
  }
  for (const dryRun of [true, false]) {
    const report = await importFiles(ctx, [{ name: 'siecle.zip', data: delivery }], { scope: ALL, dryRun });
    assert.ok(!report.fatal, JSON.stringify(report.fatal));
    assert.deepEqual(report.files.map((f) => f.file), ['siecle.zip', 'siecle.zip/ElevesSansAdresses.xml', 'siecle.zip/Nomenclature.xml', 'siecle.zip/ResponsablesAvecAdresses.xml']);
    assert.equal(report.created + report.unchanged + report.updated, 9, 'its six pupils and three legal representatives, read from the unpacked files');
    assert.deepEqual(ours(), before);
  }
  // Several archives in one run (SIECLE hands out one per export).
  const two = await importFiles(
    ctx,
    [
      { name: 'eleves.zip', data: await zip([fixture(SIECLE, 'Nomenclature.xml'), fixture(SIECLE, 'ElevesSansAdresses.xml')]) },
      { name: 'responsables.zip', data: await zip([fixture(SIECLE, 'ResponsablesAvecAdresses.xml')]) },
    ],
    { scope: ALL, dryRun: true },
  );
  assert.ok(!two.fatal, JSON.stringify(two.fatal));
  assert.equal(two.files.filter((f) => f.file.includes('.zip/')).length, 3);
  assert.deepEqual(ours(), before);
  const refused = await importFiles(ctx, [{ name: 'mixte.zip', data: await zip([fixture(SIECLE, 'Nomenclature.xml'), ['photo.png', Buffer.from([0x89, 0x50, 0x4e, 0x47])]]) }], { scope: ALL, dryRun: false });
  assert.ok(refused.fatal, 'a member of no supported format fails the run');
  assert.deepEqual(ours(), before);
});
