// The AAF reader's fast XML scanner (src/import/xml-scan.ts) against saxes: the same records (line numbers
// included) from every AAF fixture and a generated feed, whatever the size of the pieces the file comes in; the
// same records, or the same error, from valid-but-odd and malformed XML; and the fallback to saxes really taken
// where the scanner stops (each case says which reader finished the file).
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import iconv from 'iconv-lite';
import { generateAafFeed } from '../bench/aaf-feed.js';
import { readAaf, type AafReadOptions, type AafRecord } from '../src/import/aaf.js';
import { XmlScanFallback } from '../src/import/xml-scan.js';
import { clean } from '../src/import/text.js';
import { ImportFileError } from '../src/import/types.js';

const FIXTURES = new URL('./fixtures/aaf/', import.meta.url).pathname;

interface Outcome {
  records: AafRecord[];
  reader?: 'scan' | 'saxes';
  fallback?: string;
  error?: { file: string; line: number; code: string; params: unknown };
}

async function read(source: { path?: string; data?: Buffer }, opts: AafReadOptions, file = 'ENT_Complet_20260901_Eleve_0000.xml'): Promise<Outcome> {
  const records: AafRecord[] = [];
  try {
    const r = await readAaf(file, source, (x) => records.push(x), undefined, opts);
    return { records, ...r };
  } catch (e) {
    if (!(e instanceof ImportFileError)) throw e;
    return { records, error: { file: e.file, line: e.line, code: e.code, params: e.params } };
  }
}

/**
 * Reads `data` with saxes alone and with the default reader, in pieces of several sizes: same records, same error
 * (saxes' own error line may depend on where a piece ends, so each size is compared with saxes in that size).
 */
async function same(data: Buffer, expectReader: 'scan' | 'saxes', label: string): Promise<Outcome> {
  const first = await read({ data }, { reader: 'saxes' });
  for (const chunkSize of [undefined, 1, 7, 64]) {
    const saxes = chunkSize ? await read({ data }, { reader: 'saxes', chunkSize }) : first;
    const auto = await read({ data }, { chunkSize });
    assert.deepEqual(auto.records, saxes.records, `${label} (pieces of ${chunkSize ?? 'default'})`);
    assert.deepEqual(auto.error, saxes.error, `${label} (pieces of ${chunkSize ?? 'default'})`);
    const whole = await readWhole({ data }, { chunkSize });
    assert.deepEqual(whole.records, saxes.records, `${label} (pieces of ${chunkSize ?? 'default'}, records taken whole)`);
    assert.deepEqual(whole.error, saxes.error, `${label} (pieces of ${chunkSize ?? 'default'}, records taken whole)`);
    if (!saxes.error) assert.equal(auto.reader, expectReader, `${label}: read by ${auto.reader} (${auto.fallback ?? 'no fallback'})`);
  }
  return first;
}

/**
 * A record cache that holds nothing (aaf-cache.ts): each addRequest goes whole through the reader first, read in one
 * pass when plain (aaf.ts AafEvents.plain), by the scanner's events otherwise. Returns `read`'s records without
 * the digest it gives them.
 */
async function readWhole(source: { path?: string; data?: Buffer }, opts: AafReadOptions, file?: string): Promise<Outcome> {
  const out = await read(source, { ...opts, cache: { digestOf: () => 'digest', hit: () => false } }, file);
  for (const r of out.records) delete r.digest;
  return out;
}

const doc = (body: string, head = '<?xml version="1.0" encoding="UTF-8"?>\n<!DOCTYPE ficAlimMENESR SYSTEM "ficAlimMENESR.dtd">\n') =>
  `${head}<ficAlimMENESR>\n${body}</ficAlimMENESR>\n`;
const person = (id: string, attrs = '<attr name="sn"><value>MARTIN</value></attr>') =>
  `<addRequest>\n<operationalAttributes><attr name="categoriePersonne"><value>Eleve</value></attr></operationalAttributes>\n` +
  `<identifier><id>${id}</id></identifier>\n<attributes>\n<attr name="ENTPersonJointure"><value>${id}</value></attr>\n${attrs}\n</attributes>\n</addRequest>\n`;

test('every AAF fixture: the scanner alone gives the records saxes gives, lines included, in pieces of any size', async () => {
  let files = 0;
  for (const dir of readdirSync(FIXTURES)) {
    for (const f of readdirSync(join(FIXTURES, dir)).filter((x) => x.endsWith('.xml'))) {
      const path = join(FIXTURES, dir, f);
      const saxes = await read({ path }, { reader: 'saxes' }, f);
      assert.equal(saxes.error, undefined, f);
      assert.ok(saxes.records.length > 0, f);
      for (const chunkSize of [undefined, 1, 3, 100, 4096]) {
        const scan = await read({ path }, { reader: 'scan', chunkSize }, f);
        assert.deepEqual(scan.records, saxes.records, `${f} in pieces of ${chunkSize ?? 'default'}`);
        const whole = await readWhole({ path }, { reader: 'scan', chunkSize }, f);
        assert.deepEqual(whole.records, saxes.records, `${f} in pieces of ${chunkSize ?? 'default'}, records taken whole`);
      }
      files++;
    }
  }
  assert.ok(files >= 15);
});

test('a generated feed (bench/aaf-feed.ts): the same records through the scanner and saxes', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'trousseau-aaf-scan-'));
  try {
    generateAafFeed(dir, 1000);
    for (const f of readdirSync(dir).filter((x) => x.endsWith('.xml'))) {
      const saxes = await read({ path: join(dir, f) }, { reader: 'saxes' }, f);
      const scan = await read({ path: join(dir, f) }, { reader: 'scan', chunkSize: 1000 }, f);
      assert.ok(saxes.records.length > 0, f);
      assert.deepEqual(scan.records, saxes.records, f);
      assert.deepEqual((await readWhole({ path: join(dir, f) }, { reader: 'scan' }, f)).records, saxes.records, `${f}, records taken whole`);
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('valid XML the scanner reads itself: entities, character references, CDATA, comments, quotes, line breaks, BOM', async () => {
  const odd = doc(
    person('E1', '<attr name="sn"><value>O&apos;NEILL &amp; FILS &lt;&gt;&quot;</value></attr>') +
      person('E2', "<attr  name = 'givenName' ><value>Chlo&#233; &#x1F600; <![CDATA[<b>&amp;</b>]]></value><value/></attr>") +
      '<!-- a comment - between records -->\n' +
      person('E3', '<attr name="sn"><!-- inside --><value>\n  DUBOIS\t</value></attr>'),
  );
  const r = await same(Buffer.from(odd), 'scan', 'odd but valid');
  assert.deepEqual(r.records.map((x) => [x.id, x.line, Object.fromEntries(x.attrs)]), [
    ['E1', 4, { ENTPersonJointure: ['E1'], sn: ["O'NEILL & FILS <>\""] }],
    ['E2', 12, { ENTPersonJointure: ['E2'], givenName: ['Chloé 😀 <b>&amp;</b>', ''] }],
    ['E3', 21, { ENTPersonJointure: ['E3'], sn: ['\n  DUBOIS\t'] }],
  ]);
  // Windows and old Mac line breaks count as one line each, and read as \n.
  const crlf = await same(Buffer.from(odd.replace(/\n/g, '\r\n')), 'scan', 'CR LF');
  assert.deepEqual(crlf.records, r.records);
  const cr = await same(Buffer.from(odd.replace(/\n/g, '\r')), 'scan', 'CR');
  assert.deepEqual(cr.records, r.records);
  await same(Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from(odd)]), 'scan', 'UTF-8 BOM');
  await same(Buffer.from(doc(person('E1'), '')), 'scan', 'no declaration');
  await same(Buffer.from(doc(person('E1'), '<?xml version="1.0"?>\n<!-- generated -->\n<?producer x?>\n')), 'scan', 'prolog with comment and PI');
});

test('records taken whole: empty elements, text between elements, a repeated attribute, as the scanner reads them', async () => {
  const plain = doc(
    person('E1', '<attr name="mail"/>\n<attr name="sn"><value/><value>X</value></attr>\n<attr name="sn"><value>Y</value></attr>') +
      person('E2', '<attr name="givenName">\n  <value>Zoé</value>\n</attr>').replace('<identifier>', 'text <identifier>'),
  );
  const r = await same(Buffer.from(plain), 'scan', 'plain');
  assert.deepEqual(r.records.map((x) => [x.id, x.category, x.line, Object.fromEntries(x.attrs)]), [
    ['E1', 'Eleve', 4, { ENTPersonJointure: ['E1'], mail: [], sn: ['Y'] }],
    ['E2', 'Eleve', 14, { ENTPersonJointure: ['E2'], givenName: ['Zoé'] }],
  ]);
});

test('ISO-8859-1 and ISO-8859-15 files decode as their declaration says, through the scanner', async () => {
  for (const enc of ['ISO-8859-1', 'ISO-8859-15']) {
    const text = doc(person('E1', '<attr name="sn"><value>LEFÈBVRE Œuvre €</value></attr>'), `<?xml version="1.0" encoding="${enc}"?>\n`);
    const r = await same(iconv.encode(text, enc), 'scan', enc);
    const sn = r.records[0].attrs.get('sn')![0];
    assert.equal(sn, enc === 'ISO-8859-15' ? 'LEFÈBVRE Œuvre €' : 'LEFÈBVRE ?uvre ?');
  }
});

test('a file declaring ISO-8859-15 but written in UTF-8 is read as UTF-8, whatever the pieces (a sequence cut between two)', async () => {
  const text = doc(person('E1', '<attr name="sn"><value>LEFÈBVRE Œuvre €</value></attr>'), '<?xml version="1.0" encoding="ISO-8859-15"?>\n');
  const r = await same(Buffer.from(text, 'utf8'), 'scan', 'UTF-8 under an ISO-8859-15 declaration');
  assert.equal(r.records[0].attrs.get('sn')![0], 'LEFÈBVRE Œuvre €');
  // A real ISO-8859-15 file whose only accent is a capital before a no-break space (É + NBSP, C9 A0: valid UTF-8 for
  // « ɠ ») stays as declared.
  const andre = doc(person('E2', '<attr name="sn"><value>ANDRÉ\u00a0JEAN</value></attr>'), '<?xml version="1.0" encoding="ISO-8859-15"?>\n');
  const r2 = await same(iconv.encode(andre, 'ISO-8859-15'), 'scan', 'É and a no-break space in ISO-8859-15');
  assert.equal(r2.records[0].attrs.get('sn')![0], 'ANDRÉ\u00a0JEAN');
});

test('valid XML beyond the scanner is read by saxes, without losing or repeating the records already read', async () => {
  const records = Array.from({ length: 4 }, (_, i) => person(`E${i}`)).join('');
  const cases: [string, string][] = [
    ['processing instruction in the document', doc(records + '<?page break?>\n' + person('E9'))],
    ['internal DTD subset', doc(records, '<?xml version="1.0"?>\n<!DOCTYPE ficAlimMENESR [<!ENTITY x "y">]>\n')],
    ['XML 1.1', doc(records, '<?xml version="1.1"?>\n')],
    ['tab in an attribute value', doc(records + person('E9', '<attr name="s\tn"><value>X</value></attr>'))],
    ['entity in an attribute value', doc(records + person('E9', '<attr name="s&amp;n"><value>X</value></attr>'))],
    ['non-ASCII element name', doc(records + '<élément/>\n' + person('E9'))],
    ['UTF-16', ''],
  ];
  for (const [label, text] of cases) {
    const data = text ? Buffer.from(text) : Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from(doc(records), 'utf16le')]);
    const r = await same(data, 'saxes', label);
    assert.equal(r.error, undefined, label);
    assert.ok(r.records.length >= 4, label);
    await assert.rejects(read({ data }, { reader: 'scan' }), XmlScanFallback, label);
  }
});

test('malformed XML and undecodable bytes: the same error, file and line as saxes gives, after the same records', async () => {
  const ok = person('E1') + person('E2');
  const cases: [string, Buffer][] = [
    ['mismatched end tag', Buffer.from(doc(ok + person('E3').replace('</attributes>', '</attribute>')))],
    ['unclosed document', Buffer.from(doc(ok).replace('</ficAlimMENESR>\n', ''))],
    ['unknown entity', Buffer.from(doc(ok + person('E3', '<attr name="sn"><value>A &eacute; B</value></attr>')))],
    ['bare ampersand', Buffer.from(doc(ok + person('E3', '<attr name="sn"><value>A & B</value></attr>')))],
    ['invalid character reference', Buffer.from(doc(ok + person('E3', '<attr name="sn"><value>&#0;</value></attr>')))],
    [']]> in text', Buffer.from(doc(ok + person('E3', '<attr name="sn"><value>a]]>b</value></attr>')))],
    ['double hyphen in a comment', Buffer.from(doc(ok + '<!-- a -- b -->\n'))],
    ['unquoted attribute', Buffer.from(doc(ok + person('E3', '<attr name=sn><value>X</value></attr>')))],
    ['no space between attributes', Buffer.from(doc(ok + person('E3', '<attr name="sn"x="1"><value>X</value></attr>')))],
    ['control character', Buffer.from(doc(ok + person('E3', '<attr name="sn"><value>A\u0001B</value></attr>')))],
    ['text after the root', Buffer.from(`${doc(ok)}trailing\n`)],
    ['second root', Buffer.from(`${doc(ok)}<ficAlimMENESR/>\n`)],
    ['text before the root', Buffer.from(`x${doc(ok)}`)],
    ['invalid UTF-8', Buffer.concat([Buffer.from(doc(ok).slice(0, -40)), Buffer.from([0xc3, 0x28]), Buffer.from(doc(ok).slice(-40))])],
    ['empty file', Buffer.alloc(0)],
  ];
  for (const [label, data] of cases) {
    const r = await same(data, 'saxes', label);
    assert.ok(r.error, `${label}: saxes accepts it`);
    assert.ok(r.error.line >= 1, label);
    await assert.rejects(read({ data }, { reader: 'scan' }), XmlScanFallback, label);
  }
});

test('a failure of the run between two pieces (the database gone) is its own error, not « XML mal formé »', async () => {
  const data = Buffer.from(doc(person('E1') + person('E2')));
  const gone = Object.assign(new Error('write EPIPE'), { code: 'EPIPE' });
  for (const reader of ['scan', 'saxes'] as const) {
    await assert.rejects(
      readAaf('ENT_Complet_20260901_Eleve_0000.xml', { data }, () => {}, async () => {
        throw gone;
      }, { reader }),
      (e) => e === gone,
      reader,
    );
  }
});

test('clean(): its shortcut for values already clean gives what the full rule gives', () => {
  const rule = (v: string) => v.replace(/\s+/g, ' ').trim() || null;
  const values = ['MARTIN', 'DE LA FONTAINE', ' MARTIN', 'MARTIN ', 'DE  LA', 'A\tB', 'A\nB', 'A\u00a0B', 'A\u2028B', 'A\u3000B', 'A\ufeffB',
    'NGUYỄN', 'Zoé 😀', '\u0001', ' ', '\u00a0', 'a b c', 'x\u1680y', 'Åslög'];
  for (const v of values) assert.equal(clean(v), rule(v), JSON.stringify(v));
  assert.equal(clean(''), null);
  assert.equal(clean(undefined), null);
});
