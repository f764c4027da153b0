// XML errors in French (xml.ts SAXES_FR): the commonest mistakes of a hand-edited feed, an HTML entity (&nbsp;,
// &eacute;: saxes says "undefined entity." without its name) and a declaration after a blank line; saxes' English
// kept as detailEn for the English catalogue. (Found by a review.)
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { readAaf } from '../src/import/aaf.js';
import { ImportFileError } from '../src/import/types.js';

const wrap = (value: string) =>
  `<?xml version="1.0" encoding="UTF-8"?>\n<ficAlimMENESR>\n<addRequest><identifier><id>1</id></identifier><attributes><attr name="sn"><value>${value}</value></attr></attributes></addRequest>\n</ficAlimMENESR>\n`;

async function reason(xml: string): Promise<ImportFileError> {
  try {
    await readAaf('ENT_Complet_20240901_Eleve_0000.xml', { data: Buffer.from(xml) }, () => {});
  } catch (e) {
    if (e instanceof ImportFileError) return e;
    throw e;
  }
  throw new Error('no error');
}

test('an HTML entity (&nbsp;, &eacute;) is named in French, its English kept for the English catalogue', async () => {
  for (const xml of [wrap('DUPONT&nbsp;Jean'), wrap('H&eacute;l&egrave;ne')]) {
    const e = await reason(xml);
    assert.equal(e.params?.detailEn, 'undefined entity.');
    assert.doesNotMatch(e.reason, /undefined entity/, e.reason);
  }
});

test('a declaration after a blank line is said in French', async () => {
  const e = await reason(`\n${wrap('x')}`);
  assert.doesNotMatch(e.reason, /XML declaration must/, e.reason);
});

test('a bare « & » (PETIT & FILS) is named at its own line and column, not as a tag never closed at the end of the file', async () => {
  const xml = wrap('PETIT & FILS').replace('</ficAlimMENESR>', `${'<addRequest><identifier><id>2</id></identifier></addRequest>\n'.repeat(5)}</ficAlimMENESR>`);
  const e = await reason(xml);
  assert.equal(e.code, 'xmlBareAmpersand', e.reason);
  assert.equal(e.line, 3);
  assert.equal(e.params?.column, xml.split('\n')[2].indexOf('&'));
  assert.match(e.reason, /« &amp; »/);
  // A well-escaped one and a character reference are no fault; the error another fault gives stays saxes'.
  const other = await reason(wrap('PETIT &amp; FILS &#233;').replace('</ficAlimMENESR>', '</ficAlimMENESR><oops/>'));
  assert.notEqual(other.code, 'xmlBareAmpersand', other.reason);
});
