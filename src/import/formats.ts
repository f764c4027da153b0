// What a file of a delivery is, from its name and first bytes, before anything is parsed. Pure apart from
// reading the head of a file on disk. The import refuses the whole run when one file is `unsupported`;
// `ignored` files are known parts of a delivery that carry no accounts (listed in the report with the reason).
import { basename, extname } from 'node:path';
import { aafKindFromName } from './aaf.js';
import { SIECLE_ROOTS } from './siecle.js';
import type { FileFormat } from './types.js';
import { readHead, xmlRootName } from './xml.js';
import { importText, type ImportCode } from './messages.js';

export interface DetectedFormat {
  format: FileFormat;
  /** Why the file is ignored or unsupported (French, for the command line). */
  reason?: string;
  /** Why the file is ignored or refused, as a message code (src/import/messages.ts); `reason` is its French text. */
  code?: ImportCode;
  params?: Record<string, string>;
}

/** An unsupported format, its reason as a message code. */
function unsupported(code: ImportCode, params?: Record<string, string>): DetectedFormat {
  return { format: 'unsupported', reason: importText(code, params), code, ...(params ? { params } : {}) };
}

/** A known part of a delivery that carries no accounts, its reason as a message code. */
function ignored(code: ImportCode): DetectedFormat {
  return { format: 'ignored', reason: importText(code), code };
}

/**
 * A hidden file (Unix names, and what Windows hides in a folder: Thumbs.db, desktop.ini) or a drop-folder marker
 * (`.done`, `.ok`, `livraison.done`…, src/drop/deliveries.ts), uploaded, in a folder or inside an archive (zip.ts).
 */
export const NOT_DELIVERED = /^\.|^(thumbs\.db|desktop\.ini)$|(^|\.)(done|ok)$/i;

/** Known SIECLE/STS roots that carry no accounts. */
const IRRELEVANT_ROOTS: Record<string, ImportCode> = {
  BEE_STRUCTURES: 'ignoredFileSiecleStructures',
  BEE_COMMUN: 'ignoredFileSiecleCommon',
};

/**
 * Files named as text that are none (a PDF saved as `eleves.csv`): named by what they are, rather than read
 * as a CSV and refused for its « encodage mélangé », which sent the administrator re-saving a PDF as UTF-8. French
 * and English names, by the first bytes each format begins with.
 */
const BINARY_KINDS: [magic: number[], fr: string, en: string][] = [
  [[0x25, 0x50, 0x44, 0x46, 0x2d], 'un document PDF', 'a PDF document'],
  [[0x89, 0x50, 0x4e, 0x47], 'une image PNG', 'a PNG image'],
  [[0xff, 0xd8, 0xff], 'une image JPEG', 'a JPEG image'],
  [[0x47, 0x49, 0x46, 0x38], 'une image GIF', 'a GIF image'],
  [[0xd0, 0xcf, 0x11, 0xe0], 'un document Office à l’ancien format (.xls, .doc)', 'a legacy Office document (.xls, .doc)'],
];

const isZip = (head: Buffer) => head.length >= 4 && head[0] === 0x50 && head[1] === 0x4b && (head[2] === 0x03 || head[2] === 0x05) && (head[3] === 0x04 || head[3] === 0x06);

/**
 * Detects the format of one input: `.zip` deliveries, AAF (`ficAlimMENESR`), SIECLE (`BEE_ELEVES`,
 * `BEE_RESPONSABLES`, `BEE_NOMENCLATURES`), STS-web (`STS_EDT`), CSV/text. XML is recognised by its root
 * element, whatever the file is called.
 */
export function detectFormat(input: { name: string; path?: string; data?: Buffer }): DetectedFormat {
  const name = basename(input.name);
  const ext = extname(name).toLowerCase();
  if (ext === '.dtd') return ignored('ignoredFileAafDtd');
  // What a Mac or a drop folder leaves beside the files (.DS_Store, ._Eleves.xml, .done, livraison.ok): not a file of
  // the delivery, whatever it holds (an empty marker, binary metadata), named among the files left out.
  if (NOT_DELIVERED.test(name)) return ignored('ignoredFileHidden');
  const head = readHead(input, 4096);
  if (head.length === 0) return unsupported('formatEmpty');
  if (ext === '.xlsx' || ext === '.xls' || ext === '.ods') return unsupported('formatSpreadsheet');
  if (ext === '.zip' || (ext === '' && isZip(head))) return isZip(head) ? { format: 'zip' } : unsupported('formatBadZip');
  const text = head.subarray(0, 256).toString('latin1').replace(/^\uFEFF|^ï»¿|^\xff\xfe|^\xfe\xff/, '').replace(/\0/g, '').trimStart();
  // A binary file (an image, a PDF…) whose first byte happens to be « < » is not XML: control characters say so.
  const looksXml = text.startsWith('<') && !/[\x01-\x08\x0E-\x1A\x1C-\x1F]/.test(text);
  // Content decides, whatever the name (`flux`, `flux.txt`): the import's scope gate runs on the detected format.
  if (ext === '.xml' || looksXml) {
    const root = xmlRootName(head);
    if (!root) return unsupported('formatXmlNoRoot');
    if (root === 'ficAlimMENESR') {
      if (aafKindFromName(name) === 'ignored') return ignored('ignoredFileAafNomenclature');
      return { format: 'aaf' };
    }
    const siecle = SIECLE_ROOTS[root];
    if (siecle) return { format: siecle };
    if (root === 'STS_EDT') return { format: 'sts-emp' };
    if (IRRELEVANT_ROOTS[root]) return ignored(IRRELEVANT_ROOTS[root]);
    if (root === 'EDT_STS') return unsupported('formatStsUpward');
    return unsupported('formatUnknownXml', { root });
  }
  // Text that is not XML: the CSV reader refuses undecodable bytes naming the line.
  if (ext === '.csv' || ext === '.txt' || ext === '.tsv' || ext === '') {
    const binary = BINARY_KINDS.find(([magic]) => magic.every((b, i) => head[i] === b));
    if (binary) return unsupported('formatBinary', { kind: binary[1], kindEn: binary[2] });
    // An .xlsx or .ods workbook is a zip archive: renamed .csv, it is still a workbook.
    if (isZip(head)) return unsupported('formatSpreadsheet');
    return { format: 'csv' };
  }
  return unsupported('formatUnknown', { ext });
}
