// Letters from the school's own model (issue #10): a .docx with merge fields ({prenom}, {nom}, {login}, {code},
// {enfants}, {etablissement}, {url}, {qr} for the QR image, {adresse} for the postal address…) filled once per
// account into one .docx, a page break between letters; optionally converted to PDF by LibreOffice.
// Templating is docxtemplater's (no code runs from a template: a tag is only a field name); the QR image goes
// through the free image module. The field list is MERGE_FIELDS (templates.ts) plus qr and adresse.
import { execFile } from 'node:child_process';
import { access, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { buffer } from 'node:stream/consumers';
import { setImmediate } from 'node:timers/promises';
import { delimiter, join } from 'node:path';
import { promisify } from 'node:util';
import type { Worker } from 'node:worker_threads';
import ImageModule from '@slosarek/docxtemplater-image-module-free';
import Docxtemplater from 'docxtemplater';
import PizZip from 'pizzip';
import QRCode from 'qrcode';
import yazl from 'yazl';
import type { AppContext } from '../context.js';
import type { Queryable } from '../db/index.js';
import { withTransaction } from '../accounts/tx.js';
import { recordAudit } from '../directory/audit.js';
import { isUuid } from '../directory/users.js';
import { ImportFileError } from '../import/types.js';
import { unzip, type ZipLimits } from '../import/zip.js';
import { DomainError, type DomainCode, type DomainParams } from '../lib/errors.js';
import { siblingModule, spawnModuleWorker } from '../lib/module-worker.js';
import type { AccountRow } from './selection.js';
import { fieldsFor, MERGE_FIELDS } from './templates.js';

/** Fields a .docx model may use: the letter fields, `qr` (image: the activation link) and `adresse` (postal). */
export const DOCX_FIELDS = [...MERGE_FIELDS.map((f) => f.name as string), 'qr', 'adresse'] as const;
const KNOWN = new Set<string>(DOCX_FIELDS);

// The image module's own name: a `{qr}` tag is handed to it (its own syntax would be `{%qr}`).
const IMAGE_MODULE = 'open-xml-templating/docxtemplater-image-module';
/** QR side in the letter, in pixels at 96 dpi (3 cm): scanned easily from a printed page. */
const QR_PX = 113;

// Wraps the body so the model repeats once per account: the loop and the page break paragraphs are removed by
// paragraphLoop, the break stays between two letters (not after the last).
const LOOP_START = '<w:p><w:r><w:t>{#lettres}</w:t></w:r></w:p>';
const LOOP_END =
  '<w:p><w:r><w:t>{#saut}</w:t></w:r></w:p><w:p><w:r><w:br w:type="page"/></w:r></w:p><w:p><w:r><w:t>{/saut}</w:t></w:r></w:p>' +
  '<w:p><w:r><w:t>{/lettres}</w:t></w:r></w:p>';

/**
 * A model's tags, checked by a linear scan of the text of its XML parts before docxtemplater parses anything:
 * a model holds plain merge fields only ({prenom}…), never docxtemplater's loops, conditions, raw XML, delimiter
 * changes (`#`, `/`, `^`, `@`, `=`…) nor the server's own `lettres`/`saut` — a user loop around the server's loop
 * multiplies the letters (N² per download), and thousands of nested sections exhaust the parser's stack.
 * Text is read with the XML markup removed, as docxtemplater joins the runs Word cuts a field into.
 * Errors: docx.syntax (a brace left open, or a `}` never opened), docx.unknownField (names the first other tag).
 */
function scanTags(zip: PizZip, name: string): void {
  const parts = Object.keys(zip.files).filter((f) => /^(word|docProps)\/[^/]+\.xml$/.test(f));
  for (const part of parts) {
    const text = zip.file(part)!.asText().replace(/<[^>]*>/g, '');
    const tag = /[{}]/g;
    for (let m = tag.exec(text); m; m = tag.exec(text)) {
      const close = m[0] === '{' ? text.indexOf('}', m.index + 1) : -1;
      const inner = close < 0 ? '' : text.slice(m.index + 1, close);
      if (close < 0 || inner.includes('{')) {
        const shown = text.slice(m.index, m.index + 40);
        throw new DomainError('docx.syntax', { file: name, tag: shown });
      }
      const field = inner.trim();
      if (!KNOWN.has(field)) throw new DomainError('docx.unknownField', { file: name, field: field.slice(0, 60), known: DOCX_FIELDS.map((f) => `{${f}}`).join(', ') });
      tag.lastIndex = close + 1;
    }
  }
}

/** Decodes the XML escapes of an attribute value or text (`&#69;xternal` is `External` to every XML reader). */
function xmlDecode(s: string): string {
  return s.replace(/&(?:#(\d+)|#x([0-9a-f]+)|(amp|lt|gt|quot|apos));/gi, (m, dec: string, hex: string, named: string) => {
    if (named) return { amp: '&', lt: '<', gt: '>', quot: '"', apos: "'" }[named.toLowerCase()] ?? m;
    const code = dec ? Number(dec) : Number.parseInt(hex, 16);
    return code <= 0x10ffff ? String.fromCodePoint(code) : m;
  });
}

/** An element's attributes (the opening tag's text after its name), by local name (prefix dropped), values decoded. */
function attributes(tag: string): Map<string, string> {
  const out = new Map<string, string>();
  for (const m of tag.matchAll(/([\w.-]+:)?([\w.-]+)\s*=\s*(?:"([^"]*)"|'([^']*)')/g)) out.set(m[2], xmlDecode(m[3] ?? m[4] ?? ''));
  return out;
}

/** An opening tag's attributes: quoted values may hold `>`. */
const ATTRS = `(?:[^>"']|"[^"]*"|'[^']*')*`;

/**
 * A part's text when it is markup (its first character `<`, after a byte order mark or blanks), else null (images,
 * fonts). Read as XML readers read it: UTF-16 by its byte order mark or its first `<`, UTF-8 otherwise — a relationship
 * part written in UTF-16 is still a relationship part for LibreOffice.
 */
function markupText(bytes: Uint8Array): string | null {
  let encoding = 'utf-8';
  if ((bytes[0] === 0xff && bytes[1] === 0xfe) || (bytes[0] === 0x3c && bytes[1] === 0)) encoding = 'utf-16le';
  else if ((bytes[0] === 0xfe && bytes[1] === 0xff) || (bytes[0] === 0 && bytes[1] === 0x3c)) encoding = 'utf-16be';
  const text = new TextDecoder(encoding).decode(bytes.subarray(0, 64)).replace(/^\uFEFF/, '').trimStart();
  if (!text.startsWith('<')) return null;
  return new TextDecoder(encoding).decode(bytes);
}

/** A target outside the package: an absolute URI (http:, file:, smb:, a drive C:…) or a network path (//host, \\host). */
const OUTSIDE = /^\s*(?:[a-z][a-z0-9+.-]*:|[/\\]{2})/i;

/**
 * A zip archive (an Office package): its local file header's signature first, or an end of central directory record
 * closing it (its comment's length reaching the last byte). Zip readers (PizZip, LibreOffice's) read an archive from
 * its end: bytes put before it (a self-extracting stub) leave it a package they open, whose links must be checked
 * (test/security/docx-nested-package-prefix.test.ts).
 */
function isPackage(bytes: Uint8Array): boolean {
  if (bytes[0] === 0x50 && bytes[1] === 0x4b && bytes[2] === 0x03 && bytes[3] === 0x04) return true;
  for (let i = bytes.length - 22; i >= 0 && i >= bytes.length - 22 - 0xffff; i--) {
    if (bytes[i] === 0x50 && bytes[i + 1] === 0x4b && bytes[i + 2] === 0x05 && bytes[i + 3] === 0x06 && (bytes[i + 20] | (bytes[i + 21] << 8)) === bytes.length - i - 22) return true;
  }
  return false;
}

/** Packages inside packages looked into at most this deep; deeper is refused as unreadable. */
const MAX_NESTING = 3;

/** The elements that name a hyperlink relationship: a text hyperlink, a drawing's click or hover action. */
const HYPERLINK_ELEMENTS = new Set(['hyperlink', 'hlinkClick', 'hlinkHover', 'hlinkMouseOver']);

/** Field codes whose result LibreOffice (and Word) fetch from their argument: a picture, a file, another program. */
const FETCHING_FIELDS: Record<string, 'docx.linkedImage' | 'docx.linkedContent'> = {
  INCLUDEPICTURE: 'docx.linkedImage',
  IMPORT: 'docx.linkedImage',
  INCLUDETEXT: 'docx.linkedContent',
  INCLUDE: 'docx.linkedContent',
  LINK: 'docx.linkedContent',
  DDE: 'docx.linkedContent',
  DDEAUTO: 'docx.linkedContent',
};

/**
 * Refuses a model that makes whoever opens it fetch something outside the file: LibreOffice, converting the letters
 * to PDF on the server, would fetch it from there (http://169.254.169.254/… in the hosting's network, file:///etc/passwd
 * on the server's disk, into the letters). In every relationship part (`*.rels`), a relationship whose target is
 * external (TargetMode="External", or an absolute URI or network path as its target) — a linked image (`r:link`), an OLE
 * object, an attached template, a frame, a subdocument, an altChunk — unless it is a hyperlink (LibreOffice only
 * follows those when someone clicks them); in every XML part, the field codes that include a picture or a file
 * (INCLUDEPICTURE, INCLUDETEXT, LINK, DDE… whatever their case, in complex fields cut across runs or in
 * `w:fldSimple`), an absolute `src`/`href` attribute (VML's `o:href`), and any DTD (external entities). Word never writes
 * a DTD; the rest is refused with what to do instead. A part that is itself a package (an altChunk's .docx, an embedded
 * workbook: zips, not markup) is checked the same way, its parts named through it (`within`).
 * Errors: docx.linkedImage, docx.linkedTemplate, docx.linkedContent (the file and the part), docx.unreadable (a DTD).
 */
export function checkNoExternalReferences(zip: PizZip, name: string, within = ''): void {
  /** External hyperlinks by the part whose relationships they are: their ids, and the relationship part. */
  const hyperlinkIds = new Map<string, { rels: string; ids: Set<string> }>();
  const texts = new Map<string, string>();
  for (const [own, file] of Object.entries(zip.files)) {
    // A part of a package inside the model is named through the part holding it: `word/afchunk.docx › word/…`.
    const part = `${within}${own}`;
    const bytes = file.dir ? null : file.asUint8Array();
    if (bytes && isPackage(bytes)) {
      // Another Office package inside the model (an altChunk, which LibreOffice's DOCX import inserts with its own
      // DOCX import; an embedded workbook): what it links to is fetched all the same, so it is checked as the model.
      if (within.split(' › ').length > MAX_NESTING) throw new DomainError('docx.unreadable', { file: name });
      let inner: PizZip;
      try {
        inner = new PizZip(bytes);
      } catch {
        throw new DomainError('docx.unreadable', { file: name });
      }
      checkNoExternalReferences(inner, name, `${part} › `);
      continue;
    }
    const raw = bytes ? markupText(bytes) : null;
    if (raw === null) continue;
    if (/<!(?:DOCTYPE|ENTITY)/i.test(raw)) throw new DomainError('docx.unreadable', { file: name });
    // Comments and processing instructions dropped, CDATA sections as escaped text: what an XML reader sees.
    const xml = raw
      .replace(/<!--[\s\S]*?-->|<\?[\s\S]*?\?>/g, '')
      .replace(/<!\[CDATA\[([\s\S]*?)\]\]>/g, (_m, t: string) => t.replace(/&/g, '&amp;').replace(/</g, '&lt;'));
    // Relationships (in `*.rels` parts; looked for everywhere, whatever the part's name).
    for (const m of xml.matchAll(new RegExp(`<(?:[\\w.-]+:)?Relationship\\b(${ATTRS})>`, 'g'))) {
      const a = attributes(m[1]);
      const type = (a.get('Type') ?? '').trim();
      if ((a.get('TargetMode') ?? '').trim().toLowerCase() !== 'external' && !OUTSIDE.test(a.get('Target') ?? '')) continue;
      if (/\/hyperlink$/i.test(type)) {
        // Its id may only serve hyperlinks: an image's r:link naming it would be fetched whatever its declared type.
        const source = /^(.*?)_rels\/([^/]+)\.rels$/i.exec(part);
        if (source) {
          const ids = hyperlinkIds.get(`${source[1]}${source[2]}`) ?? { rels: part, ids: new Set<string>() };
          ids.ids.add((a.get('Id') ?? '').trim());
          hyperlinkIds.set(`${source[1]}${source[2]}`, ids);
        }
        continue;
      }
      const code = /\/image$/i.test(type) ? 'docx.linkedImage' : /\/attachedTemplate$/i.test(type) ? 'docx.linkedTemplate' : 'docx.linkedContent';
      throw new DomainError(code, { file: name, part });
    }
    const fetching = (instr: string) => FETCHING_FIELDS[/^\s*([a-z]+)/i.exec(instr)?.[1].toUpperCase() ?? ''];
    // Complex fields: begin, instruction text (often cut into several runs), separate, end; fields nest.
    const open: { instr: string; done: boolean }[] = [];
    const check = (instr: string) => {
      const code = fetching(instr);
      if (code) throw new DomainError(code, { file: name, part });
    };
    for (const m of xml.matchAll(new RegExp(`<(?:[\\w.-]+:)?(fldChar|instrText|fldSimple)\\b(${ATTRS})>`, 'g'))) {
      const a = attributes(m[2]);
      if (m[1] === 'fldSimple') check(a.get('instr') ?? '');
      else if (m[1] === 'instrText') {
        const end = xml.indexOf('<', m.index + m[0].length);
        const text = m[0].endsWith('/>') ? '' : xmlDecode(xml.slice(m.index + m[0].length, end < 0 ? undefined : end));
        const top = open.at(-1);
        if (top && !top.done) top.instr += text;
        else check(text);
      } else {
        const kind = a.get('fldCharType');
        if (kind === 'begin') open.push({ instr: '', done: false });
        else if (kind === 'separate' || kind === 'end') {
          const top = kind === 'end' ? open.pop() : open.at(-1);
          if (top && !top.done) {
            top.done = true;
            check(top.instr);
          }
        }
      }
    }
    for (const f of open) check(f.instr);
    for (const m of xml.matchAll(/\s(?:[\w.-]+:)?(?:src|href)\s*=\s*(?:"([^"]*)"|'([^']*)')/g)) {
      if (OUTSIDE.test(xmlDecode(m[1] ?? m[2] ?? ''))) throw new DomainError('docx.linkedContent', { file: name, part });
    }
    texts.set(part, xml);
  }
  for (const [source, { rels, ids }] of hyperlinkIds) {
    const xml = texts.get(source);
    if (!xml) continue;
    for (const m of xml.matchAll(new RegExp(`<(?:[\\w.-]+:)?([\\w.-]+)\\b(${ATTRS})>`, 'g'))) {
      if (HYPERLINK_ELEMENTS.has(m[1])) continue;
      for (const value of attributes(m[2]).values()) {
        if (ids.has(value.trim())) throw new DomainError(/^(blip|imagedata|fill)$/.test(m[1]) ? 'docx.linkedImage' : 'docx.linkedContent', { file: name, part: rels });
      }
    }
  }
}

function openZip(content: Buffer, name: string): PizZip {
  let zip: PizZip;
  try {
    zip = new PizZip(content);
  } catch {
    throw new DomainError('docx.unreadable', { file: name });
  }
  if (!zip.file('word/document.xml')) throw new DomainError('docx.unreadable', { file: name });
  return zip;
}

/**
 * Where the body's content lies in document.xml: after `<w:body>`, before the body's own section properties (page
 * size, margins: they stay outside the loop, one section for all letters); null when there is no body.
 */
function bodyRange(xml: string): { start: number; end: number } | null {
  const open = /<w:body>/.exec(xml);
  const sect = xml.lastIndexOf('<w:sectPr');
  const close = xml.lastIndexOf('</w:body>');
  if (!open || close < 0) return null;
  const start = open.index + open[0].length;
  return { start, end: sect > start ? sect : close };
}

/**
 * The model opened, nothing outside it referenced (checkNoExternalReferences), its tags checked (scanTags), the body
 * of word/document.xml wrapped in the per-account loop.
 */
function prepare(content: Buffer, name: string): PizZip {
  const zip = openZip(content, name);
  checkNoExternalReferences(zip, name);
  scanTags(zip, name);
  const xml = zip.file('word/document.xml')!.asText();
  const body = bodyRange(xml);
  if (!body) throw new DomainError('docx.unreadable', { file: name });
  zip.file('word/document.xml', `${xml.slice(0, body.start)}${LOOP_START}${xml.slice(body.start, body.end)}${LOOP_END}${xml.slice(body.end)}`);
  return zip;
}

interface Compiled {
  doc: Docxtemplater;
  tags: string[];
}

/** A docxtemplater for `zip` (prepared: prepare), the tags it saw collected in `tags`. */
function compile(zip: PizZip, name: string, getImage: (value: string) => Buffer): Compiled {
  const tags: string[] = [];
  const imageModule = new ImageModule({
    centered: false,
    fileType: 'docx',
    getImage: (value: string) => getImage(value),
    getSize: () => [QR_PX, QR_PX],
    setParser: (tag: string) => (tag.trim() === 'qr' ? { type: 'placeholder', value: 'qr', module: IMAGE_MODULE, centered: false } : null),
  });
  let doc: Docxtemplater;
  try {
    doc = new Docxtemplater(zip, {
      modules: [imageModule],
      paragraphLoop: true,
      linebreaks: true,
      // A tag is a field name and nothing else: no expression is ever evaluated.
      parser: (tag: string) => {
        const key = tag.trim();
        tags.push(key);
        return { get: (scope: Record<string, unknown>) => (key === '.' ? scope : scope?.[key]) };
      },
      nullGetter: () => '',
      errorLogging: false,
    });
  } catch (e) {
    throw syntaxError(e, name);
  }
  return { doc, tags };
}

/**
 * docxtemplater's MultiError (unclosed tag, duplicated brace…) as one domain error naming the first tag; the
 * library's own explanation is English and not for families' schools: the catalogue says what to fix.
 */
function syntaxError(e: unknown, name: string): DomainError {
  const errs = (e as { properties?: { errors?: { properties?: { xtag?: string } }[] } }).properties?.errors;
  const tag = errs?.[0]?.properties?.xtag;
  // No tag to name: the XML itself is broken (or hostile: entities, DTD), not a merge field.
  return tag ? new DomainError('docx.syntax', { file: name, tag }) : new DomainError('docx.unreadable', { file: name });
}

/** The fields a compiled model uses, once each; docx.unknownField for the first tag that is not a field. */
function checkTags(tags: string[], name: string): string[] {
  const used = tags.filter((t) => !['lettres', 'saut'].includes(t));
  const unknown = used.find((t) => !KNOWN.has(t));
  if (unknown !== undefined) throw new DomainError('docx.unknownField', { file: name, field: unknown, known: DOCX_FIELDS.map((f) => `{${f}}`).join(', ') });
  return [...new Set(used)];
}

/**
 * Checks a model: a readable .docx that references nothing outside itself and whose tags are all known fields.
 * Returns the fields it uses, in order. Errors: docx.unreadable (not a .docx), docx.linkedImage, docx.linkedTemplate,
 * docx.linkedContent (checkNoExternalReferences), docx.syntax (unbalanced braces), docx.unknownField (names the
 * field and the known ones).
 */
export function inspectDocxTemplate(content: Buffer, name: string): string[] {
  return checkTags(compile(prepare(content, name), name, () => Buffer.alloc(0)).tags, name);
}

/** Letters rendered in one synchronous step (renderDocxLettersHere yields to the event loop between two slices). */
const LETTERS_PER_SLICE = 100;

/** Largest letters document (word/document.xml, model size × accounts) generated at once, in MB. */
export const MAX_LETTERS_MB = 64;

/**
 * Refuses (docx.tooLarge, 422) letters whose document.xml would exceed MAX_LETTERS_MB: the model's document.xml
 * size times `count` accounts. Docxtemplater renders in one synchronous step, in memory: this bounds that step.
 */
export function checkLettersSize(content: Buffer, name: string, count: number): void {
  const size = openZip(content, name).file('word/document.xml')!.asText().length;
  if (size * count > MAX_LETTERS_MB * 2 ** 20) throw new DomainError('docx.tooLarge', { file: name, count, limit: MAX_LETTERS_MB });
}

/**
 * One .docx holding the model filled for each row, in order, a page break between two letters. `addresses`
 * maps an account id to its postal address (users.address, several lines). QR: the activation link when the
 * account has a code, else the ENT's address.
 * From MIN_LETTERS_FOR_WORKER letters on, made on a worker thread of their own (docx-worker.ts): docxtemplater's
 * render, the QR images and the archive are synchronous, and a school's letters cost seconds of CPU whose slices
 * grow with the letters already made (measured: 100 to 250 ms of CPU per slice for 2,500 letters, 1.2 s for the
 * archive), so the server's event loop stays free. Errors: those of renderDocxLettersHere (domain errors cross back).
 */
export async function renderDocxLetters(
  ctx: Pick<AppContext, 'config'>,
  content: Buffer,
  name: string,
  rows: AccountRow[],
  addresses: Map<string, string> = new Map(),
): Promise<Buffer> {
  // A broken or too large model is refused here, at once, as before (the worker would only say so later).
  checkLettersSize(content, name, rows.length);
  if (rows.length < MIN_LETTERS_FOR_WORKER) return renderDocxLettersHere(ctx, content, name, rows, addresses);
  let worker: Worker;
  try {
    worker = spawnModuleWorker(siblingModule(import.meta.url, 'docx-worker'));
  } catch {
    return renderDocxLettersHere(ctx, content, name, rows, addresses);
  }
  const job: DocxJob = { publicUrl: ctx.config.publicUrl, content, name, rows, addresses };
  try {
    const answer = await new Promise<DocxAnswer | null>((ok, fail) => {
      let online = false;
      worker.once('online', () => (online = true));
      worker.once('message', (m: DocxAnswer) => ok(m));
      // A worker that could not start (module not found…): null, the letters are made here instead. One that died
      // while rendering (out of memory…) is an error: rendering the same letters here would only carry that load
      // onto the server's own thread.
      const died = (e?: unknown) => (online ? fail(e instanceof Error ? e : new Error('Word letters worker stopped')) : ok(null));
      worker.once('error', died);
      worker.once('exit', () => died());
      worker.postMessage(job);
    });
    if (!answer) return renderDocxLettersHere(ctx, content, name, rows, addresses);
    docxWorkerAnswers++;
    if ('docx' in answer) return Buffer.from(answer.docx.buffer, answer.docx.byteOffset, answer.docx.byteLength);
    throw 'domain' in answer ? new DomainError(answer.domain.code, answer.domain.params) : new Error(answer.message);
  } finally {
    void worker.terminate();
  }
}

let docxWorkerAnswers = 0;
/** How many letters documents a worker thread answered (made or refused) since the process started. For tests. */
export const docxWorkerRuns = (): number => docxWorkerAnswers;

/** Below this many letters, a worker's start (a few hundred ms) costs more than the letters' turns of the event loop. */
const MIN_LETTERS_FOR_WORKER = 50;

/** What renderDocxLetters hands to docx-worker.ts, and what it answers. */
export interface DocxJob {
  publicUrl: string;
  content: Uint8Array;
  name: string;
  rows: AccountRow[];
  addresses: Map<string, string>;
}
export type DocxAnswer = { docx: Uint8Array } | { domain: { code: DomainCode; params: DomainParams } } | { message: string };

/** renderDocxLetters in the calling thread (docx-worker.ts; small selections). */
export async function renderDocxLettersHere(
  ctx: Pick<AppContext, 'config'>,
  content: Buffer,
  name: string,
  rows: AccountRow[],
  addresses: Map<string, string> = new Map(),
): Promise<Buffer> {
  checkLettersSize(content, name, rows.length);
  const images = new Map<string, Buffer>();
  const zip = prepare(content, name);
  const template = zip.file('word/document.xml')!.asText();
  const wantsQr = checkTags(compile(zip, name, () => Buffer.alloc(0)).tags, name).includes('qr');
  const lettres = [];
  for (const [i, row] of rows.entries()) {
    const fields = fieldsFor(row, ctx);
    const link = fields.lien_activation || ctx.config.publicUrl;
    if (wantsQr && !images.has(link)) images.set(link, await QRCode.toBuffer(link, { type: 'png', errorCorrectionLevel: 'M', margin: 2, width: QR_PX * 3 }));
    lettres.push({ ...fields, qr: link, adresse: addresses.get(row.id) ?? '', saut: i < rows.length - 1 });
    // QR codes are made synchronously: other requests are served between every few accounts.
    if (i % 20 === 19) await setImmediate();
  }
  // Rendered by slices of LETTERS_PER_SLICE on the same archive, the event loop yielded between two: a render is
  // synchronous (about 10 MB of XML a second), a whole school's letters would block the server for seconds. Each
  // slice starts again from the wrapped model; the image module adds its pictures and relationships next to those
  // of the previous slices (it numbers past the existing ones); the bodies are joined at the end.
  const bodies: string[] = [];
  for (let from = 0; from < lettres.length || from === 0; from += LETTERS_PER_SLICE) {
    zip.file('word/document.xml', template);
    const { doc } = compile(zip, name, (link) => images.get(link) ?? Buffer.alloc(0));
    try {
      doc.render({ lettres: lettres.slice(from, from + LETTERS_PER_SLICE) });
    } catch (e) {
      throw syntaxError(e, name);
    }
    const xml = zip.file('word/document.xml')!.asText();
    const body = bodyRange(xml)!;
    bodies.push(xml.slice(body.start, body.end));
    if (from + LETTERS_PER_SLICE < lettres.length) await setImmediate();
  }
  const last = zip.file('word/document.xml')!.asText();
  const body = bodyRange(last)!;
  zip.file('word/document.xml', `${last.slice(0, body.start)}${bodies.join('')}${last.slice(body.end)}`);
  return pack(zip);
}

/** The archive written by yazl, whose deflate runs off the event loop (PizZip's generate is synchronous). */
async function pack(zip: PizZip): Promise<Buffer> {
  const out = new yazl.ZipFile();
  const mtime = new Date();
  for (const [path, file] of Object.entries(zip.files)) if (!file.dir) out.addBuffer(file.asNodeBuffer(), path, { mtime });
  out.end();
  return buffer(out.outputStream);
}

export const DOCX_TYPE = 'application/vnd.openxmlformats-officedocument.wordprocessingml.document';

/** Postal addresses (users.address, SIECLE: one line per row of the address) of the accounts that have one. */
export async function postalAddresses(db: Queryable, userIds: string[]): Promise<Map<string, string>> {
  if (userIds.length === 0) return new Map();
  const { rows } = await db.query(
    `SELECT id, address FROM users WHERE id = ANY($1::uuid[]) AND coalesce(btrim(address), '') <> ''`,
    [userIds],
  );
  return new Map(rows.map((r) => [r.id as string, r.address as string]));
}

/** The LibreOffice binary on PATH (soffice or libreoffice), or null when it is not installed. */
export async function findSoffice(path = process.env.PATH ?? ''): Promise<string | null> {
  for (const dir of path.split(delimiter).filter(Boolean)) {
    for (const bin of ['soffice', 'libreoffice']) {
      const file = join(dir, bin);
      try {
        await access(file);
        return file;
      } catch {
        // not in this directory
      }
    }
  }
  return null;
}

/**
 * Converts a .docx to PDF with `soffice --headless --convert-to pdf` in a private temporary directory. The letters
 * are checked again first (checkNoExternalReferences, errors naming `name`, the model): LibreOffice fetches what a
 * document links to, and a model stored before that check existed (or a document made another way) must not reach it.
 */
export async function docxToPdf(soffice: string, docx: Buffer, name: string): Promise<Buffer> {
  let zip: PizZip;
  try {
    zip = new PizZip(docx);
  } catch {
    throw new DomainError('docx.unreadable', { file: name });
  }
  // The letters themselves are ours (their size bounded by MAX_LETTERS_MB); a package inside them came from the model.
  for (const file of Object.values(zip.files)) {
    const bytes = file.dir ? null : file.asUint8Array();
    if (bytes && isPackage(bytes)) await checkPackageSizes(Buffer.from(bytes), name, 1);
  }
  checkNoExternalReferences(zip, name);
  const dir = await mkdtemp(join(tmpdir(), 'trousseau-docx-'));
  try {
    await writeFile(join(dir, 'lettres.docx'), docx);
    // A profile of its own: a desktop LibreOffice already running would otherwise take the job (or lock it).
    await promisify(execFile)(soffice, [`-env:UserInstallation=file://${dir}/profile`, '--headless', '--convert-to', 'pdf', '--outdir', dir, join(dir, 'lettres.docx')], { timeout: 5 * 60_000 });
    return await readFile(join(dir, 'lettres.pdf'));
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

// ------------------------------------------------------------------------------------------ models per structure

export interface DocxModel {
  id: string;
  name: string;
  fields: string[];
  uploadedAt: Date;
}

/** A letter with its logo, unpacked: far beyond any real model, far below what hurts a server. */
const DOCX_LIMITS: ZipLimits = { entries: 1000, entryBytes: 64 * 2 ** 20, totalBytes: 128 * 2 ** 20 };

/**
 * Unpacks `content` under DOCX_LIMITS (import/zip.ts: sizes capped while inflating), and so every package inside it (an
 * altChunk's .docx, an embedded workbook), as deep as checkNoExternalReferences looks: a zip bomb, even one inside
 * a package of the model, is refused (docx.unreadable) before PizZip inflates it in memory.
 */
async function checkPackageSizes(content: Buffer, name: string, depth = 0): Promise<void> {
  let members: Awaited<ReturnType<typeof unzip>>;
  try {
    members = await unzip(name, { data: content }, DOCX_LIMITS);
  } catch (e) {
    if (e instanceof ImportFileError) throw new DomainError('docx.unreadable', { file: name });
    throw e;
  }
  for (const m of members) {
    if (!m.data || !isPackage(m.data)) continue;
    if (depth >= MAX_NESTING) throw new DomainError('docx.unreadable', { file: name });
    await checkPackageSizes(m.data, name, depth + 1);
  }
}

/**
 * Checks then stores a school's model (audited); returns it. The archive is first unpacked under DOCX_LIMITS, the
 * packages inside it too (checkPackageSizes), so a zip bomb is refused before PizZip inflates it in memory.
 * Errors name `fileName` (the uploaded file; `name` is what the page lists): docx.unreadable (also for a bomb),
 * then those of inspectDocxTemplate.
 */
export async function saveDocxModel(
  ctx: AppContext,
  { structureId, name, fileName = name, content, actorId }: { structureId: string; name: string; fileName?: string; content: Buffer; actorId: string | null },
): Promise<DocxModel> {
  await checkPackageSizes(content, fileName);
  const fields = inspectDocxTemplate(content, fileName);
  return withTransaction(ctx.database.pool, async (client) => {
    const { rows } = await client.query(
      `INSERT INTO docx_templates (structure_id, name, content, fields, uploaded_by) VALUES ($1, $2, $3, $4, $5)
       RETURNING id, name, fields, uploaded_at`,
      [structureId, name.slice(0, 200), content, fields, actorId],
    );
    await recordAudit(client, actorId, 'publipostage.docx_model.save', { structureId, name, fields });
    return { id: rows[0].id, name: rows[0].name, fields: rows[0].fields, uploadedAt: rows[0].uploaded_at };
  });
}

export async function listDocxModels(db: Queryable, structureId: string): Promise<DocxModel[]> {
  const { rows } = await db.query(
    `SELECT id, name, fields, uploaded_at FROM docx_templates WHERE structure_id = $1 ORDER BY uploaded_at DESC, name`,
    [structureId],
  );
  return rows.map((r) => ({ id: r.id, name: r.name, fields: r.fields, uploadedAt: r.uploaded_at }));
}

/** The model `id` of `structureId` with its content; docx.notFound otherwise (another school's id included). */
export async function loadDocxModel(db: Queryable, structureId: string, id: string): Promise<DocxModel & { content: Buffer }> {
  const { rows } = isUuid(id)
    ? await db.query(`SELECT id, name, fields, uploaded_at, content FROM docx_templates WHERE structure_id = $1 AND id = $2`, [structureId, id])
    : { rows: [] };
  if (!rows[0]) throw new DomainError('docx.notFound');
  const r = rows[0];
  return { id: r.id, name: r.name, fields: r.fields, uploadedAt: r.uploaded_at, content: r.content };
}

export async function deleteDocxModel(ctx: AppContext, structureId: string, id: string, actorId: string | null): Promise<void> {
  const model = await loadDocxModel(ctx.database.pool, structureId, id);
  await withTransaction(ctx.database.pool, async (client) => {
    await client.query('DELETE FROM docx_templates WHERE id = $1', [model.id]);
    await recordAudit(client, actorId, 'publipostage.docx_model.delete', { structureId, name: model.name });
  });
}
