// Security review: the .docx letter models are checked for links outside the file (docx-external-links.test.ts:
// LibreOffice, converting the letters to PDF on the server, fetched them), but only in the parts that are markup.
// A part that is itself an Office package — an altChunk (`<w:altChunk r:id>`, relationship type aFChunk: LibreOffice's
// DOCX import inserts the chunk, a whole .docx, with its own DOCX import, writerfilter DomainMapper_Impl::HandleAltChunk),
// or an embedded workbook — is a zip, read as binary and never looked into. A linked image or an INCLUDEPICTURE field
// inside it reached LibreOffice (http://169.254.169.254/…, file:///etc/passwd) though the model was accepted. Nested
// packages are now checked like the model itself, their parts named through the outer part.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import PizZip from 'pizzip';
import { DomainError } from '../../src/lib/errors.js';
import { inspectDocxTemplate } from '../../src/publipostage/docx.js';
import { fileContext } from '../helpers/db.js';
import { docxWith as docx, REL } from '../helpers/docx.js';
import { insertSample } from '../helpers/sample.js';
import { fileServer, multipart, sessionFor } from '../helpers/web.js';

const ctx = await fileContext({ TROUSSEAU_PUBLIC_URL: 'https://ent.example.fr' });
const s = await insertSample(ctx);
const app = await fileServer(ctx);
const marc = await sessionFor(ctx.database.pool, s.users.marc);
const pp = `/console/etablissements/${s.structures.S1}/publipostage`;



/** The chunk: a .docx of its own showing the metadata service as a linked image, then an INCLUDEPICTURE field. */
const linkedImage = docx({
  rels: `<Relationship Id="rId9" Type="${REL}/image" Target="http://169.254.169.254/latest/meta-data/iam/" TargetMode="External"/>`,
  body: `<w:p><w:r><w:drawing><a:blip xmlns:a="http://schemas.openxmlformats.org/drawingml/2006/main" r:link="rId9"/></w:drawing></w:r></w:p>`,
});
const includePicture = docx({
  body: '<w:p><w:r><w:fldChar w:fldCharType="begin"/></w:r><w:r><w:instrText xml:space="preserve"> INCLUDEPICTURE "file:///etc/passwd" \\d </w:instrText></w:r><w:r><w:fldChar w:fldCharType="end"/></w:r></w:p>',
});

/** The model: « Bonjour {prenom} » and the chunk inserted where Word puts an altChunk (in the body). */
const withChunk = (chunk: Buffer, part = 'word/afchunk.docx') =>
  docx({
    text: 'Bonjour {prenom}',
    rels: `<Relationship Id="rId99" Type="${REL}/aFChunk" Target="${part.replace(/^word\//, '')}"/>`,
    body: '<w:altChunk r:id="rId99"/>',
    parts: { [part]: chunk },
  });

async function upload(content: Buffer, name: string) {
  const body = multipart([{ name, data: content }], { name: 'Lettre' });
  return app.inject({
    method: 'POST', url: `${pp}/lettres?_csrf=${encodeURIComponent(marc.csrf)}`, headers: { cookie: marc.cookie, 'content-type': body.type }, payload: body.body,
  });
}
const models = async () => (await ctx.database.pool.query('SELECT count(*)::int AS n FROM docx_templates')).rows[0].n as number;

test('an altChunk holding a .docx with a linked image is refused at upload (400 naming the file and the parts); nothing stored', async () => {
  const res = await upload(withChunk(linkedImage), 'morceau.docx');
  assert.equal(res.statusCode, 400, `refused (${res.statusCode}): ${res.body.slice(0, 300)}`);
  assert.match(res.body, /Le modèle morceau\.docx contient une image liée à une adresse extérieure \(word\/afchunk\.docx › word\/_rels\/document\.xml\.rels\)/);
  assert.equal(await models(), 0, 'the model is not stored');
});

test('an altChunk holding a .docx with an INCLUDEPICTURE field, or an embedded workbook linking out, is refused', () => {
  for (const [what, content, code] of [
    ['INCLUDEPICTURE in the chunk', withChunk(includePicture), 'docx.linkedImage'],
    ['a chunk nested in a chunk', withChunk(withChunk(linkedImage), 'word/outer.docx'), 'docx.linkedImage'],
    ['an embedded package', docx({ text: 'Bonjour {prenom}', parts: { 'word/embeddings/Feuille.xlsx': linkedImage } }), 'docx.linkedImage'],
  ] as const) {
    assert.throws(() => inspectDocxTemplate(content, 'lettre.docx'), (e: unknown) => e instanceof DomainError && e.messageCode === code, what);
  }
});

test('control: a clean altChunk and a clean embedded package stay allowed', async () => {
  const clean = withChunk(docx({ text: 'Annexe' }));
  assert.deepEqual(inspectDocxTemplate(clean, 'propre.docx'), ['prenom']);
  const res = await upload(clean, 'propre.docx');
  assert.equal(res.statusCode, 200, res.body.slice(0, 300));
});

test('a zip bomb inside the model (a small package unpacking to gigabytes) is refused before it is inflated in memory', async () => {
  // 200 MiB of zeros deflated to a few hundred kilobytes, inside a package inside the model: the model's own unpacking
  // limits (DOCX_LIMITS) only see the few hundred kilobytes of the inner package.
  const inner = new PizZip();
  inner.file('word/document.xml', Buffer.alloc(200 * 2 ** 20), { compression: 'DEFLATE' });
  const bomb = withChunk(inner.generate({ type: 'nodebuffer', compression: 'DEFLATE' }));
  assert.ok(bomb.length < 2 * 2 ** 20, `the model is small (${bomb.length} bytes)`);
  const before = process.memoryUsage().arrayBuffers;
  const res = await upload(bomb, 'bombe.docx');
  assert.equal(res.statusCode, 400, `refused (${res.statusCode}): ${res.body.slice(0, 300)}`);
  assert.match(res.body, /« bombe\.docx » n’est pas un document Word/);
  assert.ok(process.memoryUsage().arrayBuffers - before < 150 * 2 ** 20, 'the inner package was never inflated whole');
});
