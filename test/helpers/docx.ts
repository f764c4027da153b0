// A minimal Word document (.docx) built in memory, for the letter-model tests: one paragraph per string, each
// string split into runs at '|' (Word often cuts a {field} across runs; the templating must see through it).
import PizZip from 'pizzip';

const esc = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

export function makeDocx(paragraphs: string[]): Buffer {
  const zip = new PizZip();
  zip.file('[Content_Types].xml', `<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types"><Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/><Default Extension="xml" ContentType="application/xml"/><Override PartName="/word/document.xml" ContentType="application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml"/></Types>`);
  zip.file('_rels/.rels', `<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" Target="word/document.xml"/></Relationships>`);
  zip.file('word/_rels/document.xml.rels', `<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"></Relationships>`);
  const body = paragraphs
    .map((p) => `<w:p>${p.split('|').map((r) => `<w:r><w:t xml:space="preserve">${esc(r)}</w:t></w:r>`).join('')}</w:p>`)
    .join('');
  zip.file('word/document.xml', `<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<w:document xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main" xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships"><w:body>${body}<w:sectPr><w:pgSz w:w="11906" w:h="16838"/></w:sectPr></w:body></w:document>`);
  return zip.generate({ type: 'nodebuffer' });
}

/** The OOXML relationships namespace, for the relationship types of `docxWith`. */
export const REL = 'http://schemas.openxmlformats.org/officeDocument/2006/relationships';

/**
 * makeDocx's document (one paragraph, `text`) whose relationships get `rels`, whose body gets `body` before its
 * section properties, and which holds the extra `parts` (a nested package, a workbook).
 */
export function docxWith(o: { rels?: string; body?: string; text?: string; parts?: Record<string, string | Buffer> } = {}): Buffer {
  const zip = new PizZip(makeDocx([o.text ?? 'Bonjour']));
  const rels = zip.file('word/_rels/document.xml.rels')!.asText();
  zip.file('word/_rels/document.xml.rels', rels.replace('</Relationships>', `${o.rels ?? ''}</Relationships>`));
  const doc = zip.file('word/document.xml')!.asText();
  zip.file('word/document.xml', doc.replace('<w:sectPr', `${o.body ?? ''}<w:sectPr`));
  for (const [path, data] of Object.entries(o.parts ?? {})) zip.file(path, data);
  return zip.generate({ type: 'nodebuffer' });
}
