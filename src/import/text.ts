// Text helpers shared by the importers: encoding detection and decoding, cleaning, e-mails, dates.
// (Name folding is directory/fold.ts.)
import iconv from 'iconv-lite';
import { detectAll } from 'jschardet';
import { z } from 'zod';
import { ImportFileError } from './types.js';

export type Encoding = 'utf-8' | 'utf-16le' | 'utf-16be' | 'iso-8859-1' | 'windows-1252' | 'iso-8859-15' | 'macintosh' | 'cp850';

/** How the report names an encoding. */
export const ENCODING_LABEL: Record<Encoding, string> = {
  'utf-8': 'UTF-8',
  'utf-16le': 'UTF-16LE',
  'utf-16be': 'UTF-16BE',
  'iso-8859-1': 'ISO-8859-1',
  'windows-1252': 'Windows-1252',
  'iso-8859-15': 'ISO-8859-15',
  macintosh: 'Mac Roman',
  cp850: 'MS-DOS (CP850)',
};

// The single-byte encodings French schools' files come in: Windows-1252 (Excel on Windows; covers ISO-8859-1),
// ISO-8859-15 (Linux tools, SIECLE: Œ œ € Š š Ž ž Ÿ where Windows-1252 has ¼ ½ ¤ …) and Mac Roman (Excel for Mac).
// jschardet (a port of chardet 7) tells these three apart on French text; chardet (npm) knows neither of the
// last two. Measured on test/fixtures/csv/encodings.
const SINGLE_BYTE: Record<string, Encoding> = {
  'windows-1252': 'windows-1252',
  'iso-8859-1': 'windows-1252',
  ascii: 'windows-1252',
  'iso8859-15': 'iso-8859-15',
  'iso-8859-15': 'iso-8859-15',
  macroman: 'macintosh',
  'mac-roman': 'macintosh',
};

// Bytes that ISO-8859-15 reads as € Š š Ž ž Œ œ Ÿ and Windows-1252/ISO-8859-1 as ¤ ¦ ¨ ´ ¸ ¼ ½ ¾.
const LATIN_DIFF = new Set([0xa4, 0xa6, 0xa8, 0xb4, 0xb8, 0xbc, 0xbd, 0xbe]);

// The single-byte readings weighed against jschardet's pick (frenchness). On a tie, the first listed wins:
// ISO-8859-15 before Windows-1252 reads 0xA4 as « € » rather than « ¤ ».
const READINGS: readonly Encoding[] = ['cp850', 'macintosh', 'iso-8859-15', 'windows-1252'];

/**
 * Guesses the encoding of a text file: BOMs first, then strict UTF-8, else the most likely of Windows-1252,
 * ISO-8859-15 and Mac Roman according to jschardet, unless another of READINGS reads its bytes above 0x7F twice as
 * French (frenchness).
 */
export function detectEncoding(buf: Buffer): { encoding: Encoding; bom: number } {
  if (buf[0] === 0xef && buf[1] === 0xbb && buf[2] === 0xbf) return { encoding: 'utf-8', bom: 3 };
  if (buf[0] === 0xff && buf[1] === 0xfe) return { encoding: 'utf-16le', bom: 2 };
  if (buf[0] === 0xfe && buf[1] === 0xff) return { encoding: 'utf-16be', bom: 2 };
  if (firstInvalidUtf8(buf) < 0) return { encoding: 'utf-8', bom: 0 };
  let encoding: Encoding = 'windows-1252';
  for (const r of detectAll(buf, { detectEncodings: ['windows-1252', 'ISO-8859-15', 'ISO-8859-1', 'MacRoman'] })) {
    const e = r.encoding && SINGLE_BYTE[r.encoding.toLowerCase()];
    if (e) {
      encoding = e;
      break;
    }
  }
  // Excel's « CSV (MS-DOS) » writes the DOS code page (CP850 in French Windows), which jschardet does not know: its
  // accented letters sit at 0x80–0x9F, where Mac Roman has letters too (é 0x82 read as Ç, è 0x8A as ä: « LÇa »). On
  // a few letters jschardet may take Mac Roman for Windows-1252 (ÇELIK's 0x82 read as a low quote « ‚ELIK »), and on
  // a small file where its models tie it ranks Mac Roman first (ISO-8859-15's « Bœuf, Léa » read as « BΩuf, LÈa »).
  // The reading whose letters fit the words around them twice as well as jschardet's (frenchness) wins.
  let best: { encoding: Encoding; score: number } | null = null;
  for (const other of READINGS) {
    if (other === encoding) continue;
    const [base, score] = frenchness(buf, encoding, other);
    if (score > 0 && score > 2 * Math.max(0, base) && (!best || score > best.score)) best = { encoding: other, score };
  }
  if (best) encoding = best.encoding;
  // ISO-8859-15 has only control characters at 0x80–0x9F, which text never holds: such bytes are Windows-1252.
  const c1 = buf.some((b) => b >= 0x80 && b <= 0x9f);
  if (encoding === 'iso-8859-15' && c1) encoding = 'windows-1252';
  // Without any byte where Windows-1252, ISO-8859-15 and ISO-8859-1 differ, the three read the file alike:
  // the report names the common one.
  if ((encoding === 'windows-1252' || encoding === 'iso-8859-15') && !c1 && !buf.some((b) => LATIN_DIFF.has(b))) encoding = 'iso-8859-1';
  return { encoding, bom: 0 };
}

// How French a character above 0x7F is: the accented letters by their rough frequency in French names and words
// (é far ahead), other letters a little. Read in the wrong encoding, a French file's bytes give letters of other
// languages or symbols, and letters of the wrong case for where they stand.
const FRENCH_WEIGHT = new Map<string, number>([
  ...[...'é'].map((c) => [c, 10] as const),
  ...[...'èà'].map((c) => [c, 3] as const),
  ...[...'ê'].map((c) => [c, 2] as const),
  ...[...'çôîâÉ'].map((c) => [c, 1] as const),
  ...[...'ùûëïüœÈÀÇÊÔÎÂŒÙÛËÏÜ'].map((c) => [c, 0.5] as const),
]);
const LOWER = /\p{Ll}/u;
const UPPER = /\p{Lu}/u;
const ASCII_LOWER = /[a-z]/;
const ASCII_UPPER = /[A-Z]/;
const ASCII_LETTER = /[A-Za-z]/;

/**
 * How French the bytes above 0x7F of `buf` read in encodings `a` and `b`, as [a's score, b's score], over the bytes
 * the two read as different characters only: those they read alike say nothing between them, and would drown the
 * few that do (Windows-1252 and ISO-8859-15 differ on 0xA4, 0xA6, 0xA8, 0xB4, 0xB8, 0xBC–0xBE and 0x80–0x9F, and
 * share é è à ç: « Prénom, Léa, Bœuf » is 20.5 against 19 on all bytes, 0.5 against −1 on the differing one).
 */
function frenchness(buf: Buffer, a: Encoding, b: Encoding): [number, number] {
  const [as, bs] = [byteChars(a), byteChars(b)];
  let na = 0;
  let nb = 0;
  for (let i = 0; i < buf.length; i++) {
    const byte = buf[i];
    if (byte < 0x80 || as[byte] === bs[byte]) continue;
    const want = wantedCase(buf, i);
    na += fit(as[byte], want);
    nb += fit(bs[byte], want);
  }
  return [na, nb];
}

/**
 * The case the ASCII neighbours of byte `i` ask for: the next ASCII letter's, else the previous one's (« L?a »,
 * « H?l?ne » lower, « ?ELIK », « GAR?ON » upper); either at the start of a word followed by lower case, where a name
 * begins with a capital and a word with a small letter (« ?mile », « ?l?ve »); null between non-letters.
 */
function wantedCase(buf: Buffer, i: number): 'lower' | 'upper' | 'either' | null {
  const next = buf[i + 1] < 0x80 ? String.fromCharCode(buf[i + 1]) : '';
  const prev = i === 0 ? ' ' : buf[i - 1] < 0x80 ? String.fromCharCode(buf[i - 1]) : '';
  if (ASCII_LOWER.test(next)) return prev !== '' && !ASCII_LETTER.test(prev) ? 'either' : 'lower';
  if (ASCII_UPPER.test(next)) return 'upper';
  if (ASCII_LOWER.test(prev)) return 'lower';
  if (ASCII_UPPER.test(prev)) return 'upper';
  return null;
}

/**
 * How well character `c` fits where it stands: its weight (FRENCH_WEIGHT; another letter 0.1) when its case is the
 * one wanted, or where either is, its small letter's (« Émile » counts as « émile »: Mac Roman's É 0x83, read as
 * Windows-1252's « ƒmile », had lost to it); 0.5 for a non-letter between non-letters (« 1½ h », « 12 € »); −1
 * otherwise: a letter between two non-letters, a symbol within a word (« B½uf », « ¼illet »), a letter of the wrong
 * case.
 */
function fit(c: string, want: 'lower' | 'upper' | 'either' | null): number {
  const is = LOWER.test(c) ? 'lower' : UPPER.test(c) ? 'upper' : null;
  if (want === null) return is === null ? 0.5 : -1;
  if (is === null) return -1;
  if (want === 'either') return FRENCH_WEIGHT.get(c.toLowerCase()) ?? 0.1;
  return is === want ? (FRENCH_WEIGHT.get(c) ?? 0.1) : -1;
}

/** The character each byte is in a single-byte encoding (256 of them), made once per encoding. */
const BYTE_CHARS = new Map<Encoding, string>();
function byteChars(encoding: Encoding): string {
  let chars = BYTE_CHARS.get(encoding);
  if (chars === undefined) {
    chars = iconv.decode(Buffer.from(Array.from({ length: 256 }, (_, i) => i)), encoding);
    BYTE_CHARS.set(encoding, chars);
  }
  return chars;
}

// Single- and multi-byte encodings of other scripts (Cyrillic, Greek, Hebrew, Arabic, Thai, Chinese, Japanese,
// Korean) as jschardet names them. Read as Windows-1252 such a file still gives letters (Иванов → Èâàíîâ) and
// would make accounts with garbled names, so it is refused, naming the encoding.
const OTHER_SCRIPT = /1251|koi8|cyrillic|8859-5|ibm855|ibm866|kz1048|1253|8859-7|1255|8859-8|1256|8859-6|tis-620|shift_jis|cp932|euc-jp|gb2312|gb18030|big5|euc-kr|cp949|johab|euc-tw|iso-2022/i;
const FRENCH_SINGLE_BYTE = /^(windows-1252|iso-8859-1|iso8859-15|iso-8859-15|macroman|ascii)$/i;

/**
 * The encoding of another script a non-UTF-8 file seems to be in: jschardet ranks it first, at least 1.2 times as
 * likely as the best French single-byte encoding; otherwise null. Measured: French files in Windows-1252,
 * ISO-8859-15 and Mac Roman (the shared real files included) always rank a French encoding first; Cyrillic and
 * Greek files rank theirs first at 15 to 35 times the French one, Chinese, Japanese and Korean ones at 1.25 to 3
 * times (the CJK encoding it names may be the wrong one of the family; a very short CJK file may go unnoticed).
 */
export function otherScriptEncoding(buf: Buffer): string | null {
  const all = detectAll(buf);
  const top = all[0];
  if (!top?.encoding || !OTHER_SCRIPT.test(top.encoding)) return null;
  const french = all.find((r) => r.encoding && FRENCH_SINGLE_BYTE.test(r.encoding))?.confidence ?? 0;
  return top.confidence >= 1.2 * french ? top.encoding : null;
}

/** Offset of the first byte that breaks UTF-8, or -1. */
export function firstInvalidUtf8(buf: Buffer): number {
  for (let i = 0; i < buf.length; ) {
    const b = buf[i];
    const n = b < 0x80 ? 0 : b >= 0xc2 && b <= 0xdf ? 1 : b >= 0xe0 && b <= 0xef ? 2 : b >= 0xf0 && b <= 0xf4 ? 3 : -1;
    if (n < 0) return i;
    for (let k = 1; k <= n; k++) if (i + k >= buf.length || (buf[i + k] & 0xc0) !== 0x80) return i;
    i += n + 1;
  }
  return -1;
}

/** Two-byte UTF-8 sequences (é = C3 A9…) in a file that is not valid UTF-8: parts were saved in another encoding. */
function utf8Pairs(buf: Buffer): number {
  let n = 0;
  for (let i = 0; i + 1 < buf.length; i++) if (buf[i] >= 0xc2 && buf[i] <= 0xdf && (buf[i + 1] & 0xc0) === 0x80) n++;
  return n;
}

// Bytes Windows-1252 leaves undefined: their presence means the file is not text in any encoding we accept.
const CP1252_UNDEFINED = new Set([0x81, 0x8d, 0x8f, 0x90, 0x9d]);

/** Decodes a whole text file, refusing binary or undecodable content with the line where it shows. */
export function decodeText(file: string, buf: Buffer): { text: string; encoding: Encoding } {
  const { encoding, bom } = detectEncoding(buf);
  const body = buf.subarray(bom);
  if (encoding !== 'utf-8' && bom === 0) {
    const other = otherScriptEncoding(body);
    if (other) {
      throw new ImportFileError(file, 1, '', 'otherScript', { encoding: other });
    }
    if (utf8Pairs(body) >= 3) {
      const at = firstInvalidUtf8(body);
      throw new ImportFileError(file, lineAt(body, at), '', 'mixedEncoding', { byte: body[at].toString(16) });
    }
    if (encoding === 'windows-1252') {
      for (let i = 0; i < body.length; i++) {
        if (CP1252_UNDEFINED.has(body[i])) throw new ImportFileError(file, lineAt(body, i), '', 'undecodableByte', { byte: body[i].toString(16), encoding: ENCODING_LABEL[encoding] });
      }
    }
  }
  const text = iconv.decode(body, encoding);
  const bad = text.search(/[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f-\u009f\ufffd]/);
  if (bad >= 0) {
    const line = text.slice(0, bad).split(/\r\n|\n|\r/).length;
    throw new ImportFileError(file, line, '', 'undecodableChar', { char: text.charCodeAt(bad).toString(16).padStart(4, '0').toUpperCase(), encoding: ENCODING_LABEL[encoding] });
  }
  return { text, encoding };
}

/** Line of a byte offset; a lone CR ends a line too (Mac files). */
function lineAt(buf: Buffer, index: number): number {
  let n = 1;
  for (let i = 0; i < index; i++) if (buf[i] === 0x0a || (buf[i] === 0x0d && buf[i + 1] !== 0x0a)) n++;
  return n;
}


/**
 * A postal address as users.address keeps it (one line per row, as address-block.ts prints it in the envelope's
 * window, NF Z 10-011): the street lines, then `CODE POSTAL VILLE`, then the country when it is not France. Values
 * cleaned (clean); null when nothing is left. Sources: SIECLE ADRESSE (LIGNE1…4_ADRESSE, CODE_POSTAL,
 * LIBELLE_POSTAL, LL_PAYS), AAF ENTPersonAdresse / ENTPersonCodePostal / ENTPersonVille / ENTPersonPays, the ENT's
 * CSV columns Adresse / Code postal / Ville / Pays.
 */
export function postalAddress(street: readonly (string | null | undefined)[], postcode: string | null | undefined, town: string | null | undefined, country: string | null | undefined): string | null {
  const lines = street.map(clean).filter((x): x is string => x !== null);
  const place = [clean(postcode), clean(town)].filter(Boolean).join(' ');
  if (place) lines.push(place);
  const land = clean(country);
  if (land && !/^france$/i.test(land)) lines.push(land);
  return lines.length ? lines.join('\n') : null;
}

/**
 * The parts of an address postalAddress wrote (null when it has no `CODE VILLE` line to split at): what a feed that
 * changes only some of them (an AAF modifyRequest: a new street, same town) is completed with. The `CODE VILLE` line
 * is the last line starting with 4 or 5 digits: a rural street number (« 1250 chemin des Crêtes ») starts one too.
 */
export function postalParts(address: string): { street: string[]; postcode: string | null; town: string | null; country: string | null } | null {
  const lines = address.split('\n');
  let at = lines.length - 1;
  while (at >= 0 && !/^\d{4,5}( |$)/.test(lines[at])) at--;
  if (at < 0) return null;
  const [postcode, ...town] = lines[at].split(' ');
  return { street: lines.slice(0, at), postcode, town: town.join(' ') || null, country: lines[at + 1] ?? null };
}

/** Trimmed value, white space runs made one space (`\s` of JavaScript), or null when empty. */
export function clean(v: string | undefined | null): string | null {
  if (v === undefined || v === null || v === '') return null;
  if (isClean(v)) return v;
  const t = v.replace(/\s+/g, ' ').trim();
  return t === '' ? null : t;
}

/**
 * True when clean() would give `v` back unchanged: single spaces between other characters only. A cheap check that
 * spares most values of a feed the regular expression and a new string; any other space-like character (below
 * U+0021, U+00A0, from U+1680 on) sends the value to the full rule.
 */
function isClean(v: string): boolean {
  let space = true;
  for (let i = 0; i < v.length; i++) {
    const c = v.charCodeAt(i);
    if (c === 0x20) {
      if (space) return false;
      space = true;
    } else if (c < 0x20 || c === 0xa0 || c >= 0x1680) return false;
    else space = false;
  }
  return !space;
}

/** Phone numbers: the AAF writes 0000000000 for "none". */
export function cleanPhone(v: string | undefined | null): string | null {
  const t = clean(v);
  if (!t) return null;
  if (/^0+$/.test(t.replace(/[\s.]/g, ''))) return null;
  return t;
}

export function cleanEmail(v: string | undefined | null): string | null {
  const t = clean(v);
  return t ? t.replace(/\s/g, '') : null;
}

const EMAIL = z.email();

/**
 * An e-mail address as imported: null when empty, `{ invalid }` when it is not an address a mail server accepts
 * (zod's e-mail rule): the caller reports the field instead of queuing mail that bounces. Issue #7.
 */
export function checkEmail(v: string | undefined | null): { email: string | null; invalid?: string } {
  const t = cleanEmail(v);
  if (!t) return { email: null };
  return EMAIL.safeParse(t).success ? { email: t } : { email: null, invalid: t };
}

/**
 * Accepts dd/mm/yyyy (also with - or .), yyyy-mm-dd; returns YYYY-MM-DD, or undefined when the value is
 * not a real date (the caller rejects the row).
 */
export function parseDate(v: string): string | undefined {
  const t = v.trim();
  let y: number, m: number, d: number;
  const dmy = /^(\d{1,2})[/.-](\d{1,2})[/.-](\d{4})$/.exec(t);
  const ymd = dmy ? null : /^(\d{4})-(\d{1,2})-(\d{1,2})$/.exec(t);
  if (dmy) [d, m, y] = [Number(dmy[1]), Number(dmy[2]), Number(dmy[3])];
  else if (ymd) [y, m, d] = [Number(ymd[1]), Number(ymd[2]), Number(ymd[3])];
  else return undefined;
  if (y < 1900 || y > 2100 || m < 1 || m > 12 || d < 1) return undefined;
  const dt = new Date(Date.UTC(y, m - 1, d));
  if (dt.getUTCMonth() !== m - 1 || dt.getUTCDate() !== d) return undefined;
  return `${y}-${String(m).padStart(2, '0')}-${String(d).padStart(2, '0')}`;
}

/** "be1d-emile-zola" → "Emile Zola": a readable structure name from a folder name. */
export function titleFromFolder(folder: string): string {
  const words = folder
    .split(/[-_\s.]+/)
    .filter((w) => w && !/^(be1d|onde|csv|export|extraction|import|fichiers?|aaf|\d+)$/i.test(w));
  return words.map((w) => w.charAt(0).toUpperCase() + w.slice(1).toLowerCase()).join(' ');
}

/** A civility as files write it (Mme, Madame, MME., Melle, Mle, Mademoiselle, M, Mr, Monsieur): Mme, Mlle or M.; another one as it is. */
export function normTitle(t: string | null): string | null {
  if (!t) return null;
  if (/^(mme|madame|mlle|melle|mle|mademoiselle)\.?$/i.test(t)) return /^(mme|madame)/i.test(t) ? 'Mme' : 'Mlle';
  if (/^(m|mr|monsieur)\.?$/i.test(t)) return 'M.';
  return t;
}
