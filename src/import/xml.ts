// Streaming XML for the record-shaped national exports (SIECLE/BEE, STS-web): the file is never loaded whole,
// only the small elements the caller asks for are built as trees (one pupil, one person, one division…).
// The AAF feed goes through scanXml first (the fast scanner of xml-scan.ts, saxes behind it: aaf.ts readAaf).
import iconv from 'iconv-lite';
import { createReadStream, openSync, readSync, closeSync } from 'node:fs';
import { isUtf8 } from 'node:buffer';
import { SaxesParser } from 'saxes';
import { type XmlEvents, XmlScanFallback, XmlScanner } from './xml-scan.js';
import { ImportFileError } from './types.js';

export interface XmlSource {
  path?: string;
  data?: Buffer;
}

/** One element: attributes, direct text (trimmed) and child elements, with the line it opens on. */
export interface XmlNode {
  name: string;
  attrs: Record<string, string>;
  text: string;
  children: XmlNode[];
  line: number;
}

export function child(n: XmlNode, name: string): XmlNode | undefined {
  return n.children.find((c) => c.name === name);
}

export function childrenNamed(n: XmlNode, name: string): XmlNode[] {
  return n.children.filter((c) => c.name === name);
}

/** Text of the first child `name`, whitespace collapsed; null when absent or empty. */
export function childText(n: XmlNode, name: string): string | null {
  const t = child(n, name)?.text.replace(/\s+/g, ' ').trim();
  return t ? t : null;
}

/** The first bytes of a file (for recognising it without reading it all). */
export function readHead(source: XmlSource, bytes = 4096): Buffer {
  if (source.data) return source.data.subarray(0, bytes);
  const fd = openSync(source.path!, 'r');
  try {
    const buf = Buffer.alloc(bytes);
    const n = readSync(fd, buf, 0, bytes, 0);
    return buf.subarray(0, n);
  } finally {
    closeSync(fd);
  }
}

/**
 * Encoding named in the XML declaration, lower case (`iso-8859-15` for SIECLE and STS-web exports);
 * UTF-8 when absent, as XML says. A UTF-16 BOM wins over the declaration.
 */
export function declaredEncoding(head: Buffer): string {
  if (head[0] === 0xff && head[1] === 0xfe) return 'utf-16le';
  if (head[0] === 0xfe && head[1] === 0xff) return 'utf-16be';
  const m = /^(?:\uFEFF|ï»¿)?\s*<\?xml[^>]*encoding\s*=\s*["']([A-Za-z0-9._-]+)["']/.exec(head.subarray(0, 200).toString('latin1'));
  const enc = m ? m[1].toLowerCase() : 'utf-8';
  return iconv.encodingExists(enc) ? enc : 'utf-8';
}

/** Name of the root element, from the first bytes (declaration, comments and DOCTYPE skipped); null if none. */
export function xmlRootName(head: Buffer): string | null {
  const text = iconv.decode(head, declaredEncoding(head));
  const s = text.replace(/^\uFEFF/, '').replace(/<\?[\s\S]*?\?>|<!--[\s\S]*?-->|<!DOCTYPE[^>[]*(\[[\s\S]*?\])?\s*>/g, '');
  const m = /^\s*<([A-Za-z_][\w.-]*(?::[\w.-]+)?)/.exec(s);
  return m ? m[1] : null;
}

function countLines(s: string): number {
  let n = 0;
  for (let i = 0; i < s.length; i++) if (s.charCodeAt(i) === 10) n++;
  return n;
}

/**
 * Streams `source`; every element whose path from the root (e.g. `['BEE_ELEVES','DONNEES','ELEVES','ELEVE']`)
 * satisfies `collect` is built as a tree and handed to `onNode` when it closes. Decoded with the declared
 * encoding. Malformed XML or undecodable bytes throw ImportFileError naming the file and line.
 * Returns the encoding used.
 */
export async function streamXml(
  file: string,
  source: XmlSource,
  collect: (path: string[]) => boolean,
  onNode: (node: XmlNode, path: string[]) => void,
): Promise<{ encoding: string }> {
  const parser = new SaxesParser({ position: true });
  const path: string[] = [];
  const building: XmlNode[] = [];
  parser.on('opentag', (tag) => {
    path.push(tag.name);
    if (building.length || collect(path)) {
      const attrs: Record<string, string> = {};
      for (const [k, v] of Object.entries(tag.attributes)) attrs[k] = String(v);
      const node: XmlNode = { name: tag.name, attrs, text: '', children: [], line: parser.line };
      building.at(-1)?.children.push(node);
      building.push(node);
    }
  });
  const onText = (t: string) => {
    const top = building.at(-1);
    if (top) top.text += t;
  };
  parser.on('text', onText);
  parser.on('cdata', onText);
  parser.on('closetag', () => {
    const node = building.pop();
    if (node) {
      node.text = node.text.trim();
      if (!building.length) onNode(node, [...path]);
    }
    path.pop();
  });

  return feedParser(file, source, parser);
}

/** Characters parsed between two turns of the event loop (feedParser). */
const PARSE_SLICE = 128 * 1024;

/** Single-byte encodings (iconv names) a declaration may name: ASCII reads the same in all of them. */
const SINGLE_BYTE = /^(iso-?8859|windows-?125|cp125|latin|l\d$|us-ascii$|ascii$)/;

/**
 * How `chunk` is written, for a file declaring a single-byte encoding: 'ascii' (no byte above 0x7F: any reading
 * gives the same text), 'utf-8' (its bytes above 0x7F are UTF-8 sequences), 'other', or 'undecided' when its only
 * byte above 0x7F starts a sequence cut by the chunk's end. A French text in a single-byte encoding is never UTF-8:
 * its accented letters (é 0xE9) are not followed by continuation bytes.
 */
function writtenAs(chunk: Buffer): 'ascii' | 'utf-8' | 'other' | 'undecided' {
  const high = chunk.findIndex((b) => b >= 0x80);
  if (high < 0) return 'ascii';
  let end = chunk.length;
  // A lead byte among the last three whose sequence runs past the end: left out.
  for (let i = Math.max(0, end - 3); i < end; i++) {
    const b = chunk[i];
    const length = b >= 0xf0 ? 4 : b >= 0xe0 ? 3 : b >= 0xc0 ? 2 : 1;
    if (length > 1 && i + length > end) {
      end = i;
      break;
    }
  }
  if (end <= high) return 'undecided';
  const head = chunk.subarray(0, end);
  if (!isUtf8(head)) return 'other';
  // Valid UTF-8, and mostly the characters of names in Latin script: a single-byte file whose only accented capital
  // happens to precede a byte UTF-8 continues with (« ANDRÉ » and a no-break space, C9 A0, is « ANDRɠ ») stays as declared.
  let latin = 0;
  let other = 0;
  for (const c of head.toString('utf8')) {
    const cp = c.codePointAt(0)!;
    if (cp < 0x80) continue;
    if (latinText(cp)) latin++;
    else other++;
  }
  return latin > 0 && latin >= other ? 'utf-8' : 'other';
}

/** Characters of names and text in Latin script: letters with their accents, typographic punctuation, €, ™. */
const latinText = (cp: number) =>
  (cp >= 0xa0 && cp <= 0x24f) || (cp >= 0x300 && cp <= 0x36f) || (cp >= 0x1e00 && cp <= 0x1eff) || (cp >= 0x2010 && cp <= 0x205e) || cp === 0x20ac || cp === 0x2122 || cp === 0xfeff;

/**
 * The pieces of `source` (read by about `chunkSize` bytes, 1 MiB by default, decoded by `decodeSize`), decoded with the encoding its XML
 * declaration names (UTF-8 when absent; declaredEncoding reads the first 200 bytes). A file declaring a single-byte
 * encoding but written in UTF-8 (SIECLE's ISO-8859-15 export saved again by an editor that kept the declaration) is
 * read as UTF-8, as its bytes say: read as declared, every accent became two letters (« ChloÃ© ») and the garbled
 * names would replace the real ones. Decided on the first bytes above 0x7F (writtenAs).
 */
async function* decodedPieces(source: XmlSource, chunkSize: number, decodeSize = chunkSize): AsyncGenerator<{ text: string; encoding: string }> {
  const bytes: Iterable<Buffer> | AsyncIterable<Buffer> = source.data
    ? slices(source.data, chunkSize)
    : createReadStream(source.path!, { highWaterMark: chunkSize });
  let encoding = 'utf-8';
  let declared: string | null = null;
  /** Bytes not decoded yet: the reading is undecided (writtenAs). */
  let held: Buffer | null = null;
  let decoder: { write(b: Buffer): string; end(): string | undefined } | null = null;
  try {
    for await (const piece of bytes) {
      let chunk = piece;
      if (!decoder) {
        declared ??= declaredEncoding(chunk.length >= 200 ? chunk : readHead(source, 200));
        encoding = declared;
        if (SINGLE_BYTE.test(declared)) {
          if (held) chunk = Buffer.concat([held, chunk]);
          held = null;
          const how = writtenAs(chunk);
          if (how === 'ascii') {
            for (const part of slices(chunk, decodeSize)) yield { text: part.toString('latin1'), encoding };
            continue;
          }
          if (how === 'undecided') {
            held = chunk;
            continue;
          }
          if (how === 'utf-8') encoding = 'utf-8';
        }
        decoder = decoderOf(encoding);
      }
      for (const part of slices(chunk, decodeSize)) yield { text: decoder.write(part), encoding };
    }
    // The file ends within a cut sequence: not UTF-8, read as declared.
    if (held) {
      decoder = decoderOf(encoding);
      for (const part of slices(held, decodeSize)) yield { text: decoder.write(part), encoding };
    }
    const rest = decoder?.end();
    if (rest) yield { text: rest, encoding };
  } finally {
    if (!source.data) (bytes as ReturnType<typeof createReadStream>).destroy();
  }
}

/**
 * A streaming decoder of `encoding` (iconv names). UTF-8 by TextDecoder: 140 ms for the 120 MB of a generated feed of
 * 100,000 accounts against 1.1 s for iconv-lite's (Node's StringDecoder); both drop a BOM and give U+FFFD for bytes
 * that are not UTF-8.
 */
function decoderOf(encoding: string): { write(b: Buffer): string; end(): string | undefined } {
  if (!/^utf-?8$/.test(encoding)) return iconv.getDecoder(encoding);
  const utf8 = new TextDecoder('utf-8');
  return { write: (b) => utf8.decode(b, { stream: true }), end: () => utf8.decode() };
}

function* slices(data: Buffer, size: number): Generator<Buffer> {
  for (let i = 0; i < data.length; i += size) yield data.subarray(i, i + size);
}

// saxes' messages in French, those a broken feed gives (truncated, hand-edited, badly escaped); any other stays as
// saxes words it. `{x}` is the name saxes quotes.
const SAXES_FR: [RegExp, string][] = [
  [/^unexpected close tag\.?$/, 'balise fermante inattendue'],
  [/^unclosed tag: (.*)$/, 'balise « {x} » jamais fermée'],
  [/^unmatched closing tag: (.*?)\.?$/, 'balise fermante « {x} » sans balise ouvrante'],
  [/^unexpected end\.?$/, 'fin de fichier inattendue (fichier tronqué ?)'],
  [/^text data outside of root node\.?$/, 'texte en dehors de l’élément racine'],
  [/^documents may contain only one root\.?$/, 'un second élément racine'],
  [/^document must contain a root element\.?$/, 'aucun élément racine'],
  [/^disallowed character in entity name\.?$/, 'caractère interdit dans un nom d’entité (un « & » à écrire « &amp; » ?)'],
  [/^undefined entity(?:: (.*?))?\.?$/, 'entité inconnue (une entité HTML comme « &nbsp; » ou « &eacute; », ou un « & » à écrire « &amp; » ?)'],
  [/^empty entity name\.?$/, 'nom d’entité vide (un « & » à écrire « &amp; » ?)'],
  [/^(?:an|the) XML declaration must (?:be|appear) at the start of the document\.?$/, 'la déclaration XML doit être tout au début du fichier (rien avant, pas même une ligne vide)'],
  [/^attribute without value\.?$/, 'attribut sans valeur'],
  [/^XML declaration must contain a version\.?$/, 'la déclaration XML doit donner sa version'],
  [/^malformed character entity\.?$/, 'référence de caractère mal formée'],
  [/^disallowed character\.?$/, 'caractère interdit en XML'],
  [/^disallowed character in (?:tag|attribute|closing tag) name\.?$/, 'caractère interdit dans un nom de balise ou d’attribut'],
  [/^unquoted attribute value\.?$/, 'valeur d’attribut sans guillemets'],
  [/^no whitespace between attributes\.?$/, 'attributs sans espace entre eux'],
  [/^duplicate attribute: (.*?)\.?$/, 'attribut « {x} » en double'],
  [/^malformed comment\.?$/, 'commentaire mal formé'],
];

/** saxes' detail in French (SAXES_FR), else as it is. */
function frenchDetail(detail: string): string {
  for (const [re, fr] of SAXES_FR) {
    const m = re.exec(detail);
    if (m) return fr.replace('{x}', m[1] ?? '');
  }
  return detail;
}

/**
 * An error out of a parser (or a handler) as ImportFileError: saxes messages look like "12:4: unexpected end".
 * `detail` is French (frenchDetail), `detailEn` saxes' own words for the English catalogue.
 */
function xmlError(file: string, e: unknown, line: number): ImportFileError {
  if (e instanceof ImportFileError) return e;
  const msg = (e as Error).message;
  const m = /^(?:.*?:)?(\d+):(\d+): (.*)$/s.exec(msg);
  return m
    ? new ImportFileError(file, Number(m[1]), '', 'xmlMalformedAt', { column: Number(m[2]), detail: frenchDetail(m[3]), detailEn: m[3] })
    : new ImportFileError(file, line, '', 'xmlMalformed', { detail: frenchDetail(msg), detailEn: msg });
}

/**
 * A failure of `drain` (the run's own work between two pieces: the database gone, the run stopped), carried past the
 * XML error handling unchanged: it says nothing of the file.
 */
class DrainFailure {
  constructor(readonly error: unknown) {}
}

/** Awaits `drain`, its failure wrapped as DrainFailure. */
async function drained(drain: () => Promise<void>): Promise<void> {
  try {
    await drain();
  } catch (e) {
    throw new DrainFailure(e);
  }
}

/**
 * Feeds `source` to a saxes parser whose handlers are set, decoding it with the encoding its XML declaration
 * names (UTF-8 when absent). Undecodable bytes and malformed XML throw ImportFileError naming the file and line.
 * Returns the encoding used. Shared by every XML importer (AAF, SIECLE, STS-web). `drain`, if given, is awaited
 * after each piece of the file (`chunkSize` bytes, 1 MiB by default) is parsed; its failure is thrown as it is.
 */
export async function feedParser(
  file: string,
  source: XmlSource,
  parser: SaxesParser,
  drain?: () => Promise<void>,
  chunkSize = 1 << 20,
): Promise<{ encoding: string }> {
  let encoding = 'utf-8';
  try {
    for await (const piece of decodedPieces(source, chunkSize)) {
      const s = piece.text;
      encoding = piece.encoding;
      const bad = s.indexOf('\ufffd');
      if (bad >= 0) {
        throw new ImportFileError(file, parser.line + countLines(s.slice(0, bad)), '', 'xmlBadEncoding', { encoding });
      }
      // Parsed by slices, the event loop turning between two: a read is 1 MB, whose parsing and records are some
      // 100 ms of CPU that other requests would otherwise wait for (an import runs in the server).
      for (let at = 0; at < s.length; at += PARSE_SLICE) {
        if (at) await new Promise((turn) => setImmediate(turn));
        parser.write(at === 0 && s.length <= PARSE_SLICE ? s : s.slice(at, at + PARSE_SLICE));
      }
      // Between two pieces of the file: what the handlers gathered may be written away (the AAF staging).
      if (drain) await drained(drain);
    }
    parser.close();
  } catch (e) {
    if (e instanceof DrainFailure) throw e.error;
    const error = xmlError(file, e, parser.line);
    // saxes takes a bare « & » (« PETIT & FILS ») for an entity running on and reports what follows from it, often
    // at the end of the file (« balise jamais fermée »): the « & » itself is named when it comes first.
    if (error.code === 'xmlMalformed' || error.code === 'xmlMalformedAt') {
      const amp = await bareAmpersand(source, chunkSize);
      if (amp && amp.line <= error.line) throw new ImportFileError(file, amp.line, '', 'xmlBareAmpersand', { column: amp.column });
    }
    throw error;
  }
  return { encoding };
}

/** An « & » that starts no entity or character reference (XML 1.0 §4.1). */
const BARE_AMP = /&(?!(?:[A-Za-z_:][\w.:-]*|#[0-9]+|#x[0-9A-Fa-f]+);)/;

/**
 * The first bare « & » of `source` (1-based line, 0-based column as saxes counts them), or null. Read again only on
 * the error path; CDATA sections and comments are not told apart (the caller uses it only before saxes' error).
 */
async function bareAmpersand(source: XmlSource, chunkSize: number): Promise<{ line: number; column: number } | null> {
  let line = 1;
  let carry = '';
  /** The first bare « & » of `text`, which starts at `line`. */
  const find = (text: string) => {
    const m = BARE_AMP.exec(text);
    if (!m) return null;
    const before = text.slice(0, m.index);
    return { line: line + countLines(before), column: m.index - (before.lastIndexOf('\n') + 1) };
  };
  for await (const piece of decodedPieces(source, chunkSize)) {
    // A reference cut by the piece's end is read whole with the next piece (references are short).
    const text = carry + piece.text;
    const amp = text.lastIndexOf('&');
    const cut = amp >= Math.max(0, text.length - 64) ? amp : text.length;
    const scanned = text.slice(0, cut);
    const found = find(scanned);
    if (found) return found;
    line += countLines(scanned);
    carry = text.slice(cut);
  }
  return find(carry);
}

/** Sends a saxes parser's events to `events` (the reader shared with the fast scanner, xml-scan.ts). */
export function saxesEvents(parser: SaxesParser, events: XmlEvents): SaxesParser {
  const line = () => parser.line;
  parser.on('opentag', (tag) => {
    const attrs: string[] = [];
    for (const [k, v] of Object.entries(tag.attributes)) attrs.push(k, String(v));
    events.open(tag.name, attrs, line);
  });
  parser.on('text', (t) => events.text(t));
  parser.on('cdata', (t) => events.cdata(t));
  parser.on('closetag', (tag) => events.close(tag.name));
  return parser;
}

/**
 * Bytes decoded at a time for the fast scanner. A decoded string of about a megabyte is one of V8's large-object
 * space, or an external string of Node beyond 1,031,913 characters (TextDecoder: its memory outside V8's heap,
 * +70 MB of peak RSS for a first import of 100,000 accounts); and what the scanner leaves unread of a piece (the
 * record its end cuts) is joined to the next piece, which such a piece made a string of the large-object space too,
 * allocated and copied anew for each piece (0.86 s of the 10 s of the reading phase at 100,000 accounts, against
 * 24 ms for the same joins to pieces of 16 K characters: microbenchmark).
 */
const SCAN_PIECE = 1 << 14;

/**
 * Reads `source` with the fast scanner (xml-scan.ts), decoded as feedParser decodes it (by SCAN_PIECE bytes), `drain`
 * awaited after each piece. Throws XmlScanFallback when the file is beyond the scanner (events may have been sent: the caller reads
 * the file again with saxes and skips them); an error of a handler as feedParser words it, one of `drain` as it is.
 */
export async function scanXml(
  file: string,
  source: XmlSource,
  events: XmlEvents,
  drain?: () => Promise<void>,
  chunkSize = 1 << 20,
): Promise<{ encoding: string }> {
  const scanner = new XmlScanner(events);
  let encoding = 'utf-8';
  try {
    for await (const piece of decodedPieces(source, chunkSize, SCAN_PIECE)) {
      encoding = piece.encoding;
      // UTF-16 may decode to unpaired surrogates, which the scanner does not look for.
      if (encoding.startsWith('utf-16')) throw new XmlScanFallback('UTF-16');
      scanner.write(piece.text);
      if (drain) await drained(drain);
    }
    scanner.end();
  } catch (e) {
    if (e instanceof DrainFailure) throw e.error;
    if (e instanceof XmlScanFallback) throw e;
    throw xmlError(file, e, scanner.line());
  }
  return { encoding };
}
