// Security review of the nested-package check (docx-nested-package.test.ts): a part is taken for a package only when
// its first bytes are a zip's local file header (`PK\3\4`). A zip is read from its end (end of central directory):
// bytes put before it (a self-extracting stub, one junk byte) leave it a zip to PizZip and to LibreOffice's
// package reader (ZipFile::readCEN takes the offset of such a prefix into account), but the check saw a binary part,
// neither package nor markup, and skipped it: the altChunk's INCLUDEPICTURE or linked image reached LibreOffice again.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import PizZip from 'pizzip';
import { DomainError } from '../../src/lib/errors.js';
import { inspectDocxTemplate } from '../../src/publipostage/docx.js';
import { docxWith as docx, REL } from '../helpers/docx.js';



const includePicture = docx({
  body: '<w:p><w:r><w:fldChar w:fldCharType="begin"/></w:r><w:r><w:instrText xml:space="preserve"> INCLUDEPICTURE "http://169.254.169.254/latest/meta-data/" \\d </w:instrText></w:r><w:r><w:fldChar w:fldCharType="end"/></w:r></w:p>',
});

const withChunk = (chunk: Buffer) =>
  docx({
    text: 'Bonjour {prenom}',
    rels: `<Relationship Id="rId99" Type="${REL}/aFChunk" Target="afchunk.docx"/>`,
    body: '<w:altChunk r:id="rId99"/>',
    parts: { 'word/afchunk.docx': chunk },
  });

test('an altChunk package with bytes before its zip (still a zip to PizZip and LibreOffice) is looked into', () => {
  const prefixed = Buffer.concat([Buffer.from('MZ stub\n'), includePicture]);
  // Still a package: PizZip reads it (LibreOffice's reader does too).
  assert.ok(new PizZip(prefixed).file('word/document.xml'), 'PizZip opens the prefixed package');
  assert.throws(
    () => inspectDocxTemplate(withChunk(prefixed), 'lettre.docx'),
    (e: unknown) => e instanceof DomainError && (e.messageCode === 'docx.linkedImage' || e.messageCode === 'docx.unreadable'),
  );
});

test('control: an image that merely contains the bytes PK stays allowed', () => {
  const png = Buffer.concat([Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]), Buffer.from('PK\x05\x06 not a zip at all'), Buffer.alloc(100)]);
  assert.deepEqual(inspectDocxTemplate(docx({ text: 'Bonjour {prenom}', parts: { 'word/media/image9.png': png } }), 'lettre.docx'), ['prenom']);
});
