// The PDF writer of the sheets (pdf-writer.ts, pdf-font.ts) on its own: a file cut into many cross-reference
// sections (as a région's million sheets are), read back by qpdf (strict syntax check) and poppler (text).
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { dejavu, Face } from '../src/publipostage/pdf-font.js';
import { pdfString, PdfWriter } from '../src/publipostage/pdf-writer.js';

const dir = mkdtempSync(join(tmpdir(), 'trousseau-pdf-writer-'));
after(() => rmSync(dir, { recursive: true, force: true }));

/** `pages` pages of one line of text each, with a cross-reference section every `range` object ids. */
function document(pages: string[], range: number): Buffer {
  const chunks: Buffer[] = [];
  const pdf = new PdfWriter((c) => chunks.push(c), range);
  // Allocated first, written last: its range stays open until the end.
  const face = new Face(dejavu('DejaVuSans.ttf'), 'F1', pdf.alloc());
  for (const text of pages) {
    const { id, parent } = pdf.allocPage();
    const content = pdf.alloc();
    pdf.deflated(content, '', `BT /F1 12 Tf 72 720 Td <${face.hex(text)}> Tj ET`);
    // A few small objects per page, as the structure elements are.
    for (let i = 0; i < 3; i++) pdf.pack(pdf.alloc(), `<</N ${i}>>`);
    pdf.pack(id, `<</Type /Page/Parent ${parent} 0 R/MediaBox [0 0 595.28 841.89]/Contents ${content} 0 R/Resources <</Font <</F1 ${face.ref} 0 R>>>>>>`);
    pdf.flushXref();
  }
  face.embed(pdf);
  pdf.end('', `/Title ${pdfString('Fiches — essai')}`);
  return Buffer.concat(chunks);
}

test('a file in many cross-reference sections: strict syntax, every page and its text, Unicode title', () => {
  const names = Array.from({ length: 3000 }, (_, i) => `Fiche ${i + 1} : Åslög NGUYỄN-ŜTĚPÁN`);
  const pdf = document(names, 32);
  const file = join(dir, 'sections.pdf');
  writeFileSync(file, pdf);
  const sections = pdf.toString('latin1').match(/\/Type \/XRef/g)?.length ?? 0;
  assert.ok(sections > 20, `${sections} cross-reference sections`);
  const check = spawnSync('qpdf', ['--check', file], { encoding: 'utf8' });
  assert.equal(check.status, 0, `qpdf --check: ${check.stdout}${check.stderr}`);
  assert.match(check.stdout, /No syntax or stream encoding errors found/);
  const info = execFileSync('pdfinfo', [file], { encoding: 'utf8' });
  assert.match(info, /^Pages:\s+3000$/m);
  assert.match(info, /^Title:\s+Fiches — essai$/m);
  const text = execFileSync('pdftotext', ['-f', '2999', '-l', '3000', file, '-'], { encoding: 'utf8' });
  assert.deepEqual(text.split('\f').map((t) => t.trim()).filter(Boolean), names.slice(2998));
});

test('an object allocated and never written, or written twice, is a programming error', () => {
  const pdf = new PdfWriter(() => {});
  pdf.alloc();
  assert.throws(() => pdf.end('', ''), /was never written/);
  const twice = new PdfWriter(() => {});
  const id = twice.alloc();
  twice.object(id, 'null');
  assert.throws(() => twice.object(id, 'null'), /written twice/);
});
