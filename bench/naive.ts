// Baselines, measured in the same process as the real code:
//  - naiveSheetsPdf: the obvious pdfkit loop — doc.text() with wrapping for every line of every sheet,
//    QRCode.create with default options (segment optimiser, 8 masks scored), one rectangle per dark module;
//  - naiveCsv: the same cells, one csv-stringify call per row, concatenated.
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import PDFDocument from 'pdfkit';
import QRCode from 'qrcode';
import { stringify } from 'csv-stringify/sync';
import { formatCode } from '../src/accounts/codes.js';
import { CSV_COLUMNS, csvCells } from '../src/publipostage/csv.js';
import { PROFILE_LABELS } from '../src/directory/vocabulary.js';
import { activationUrl, childrenLabel, frenchDate } from '../src/publipostage/format.js';
import type { AccountRow } from '../src/publipostage/selection.js';
import { defaultTemplate, renderTemplate, type MergeFields } from '../src/publipostage/templates.js';

const require = createRequire(import.meta.url);
const font = (f: string) => readFileSync(require.resolve(`dejavu-fonts-ttf/ttf/${f}`));

export async function naiveSheetsPdf(rows: AccountRow[], model: 1 | 2 | 8, publicUrl: string): Promise<Buffer> {
  const doc = new PDFDocument({ size: 'A4', margin: 0, autoFirstPage: false });
  doc.registerFont('sans', font('DejaVuSans.ttf'));
  doc.registerFont('bold', font('DejaVuSans-Bold.ttf'));
  doc.registerFont('mono', font('DejaVuSansMono-Bold.ttf'));
  const chunks: Buffer[] = [];
  doc.on('data', (c: Buffer) => chunks.push(c));
  const done = new Promise((ok) => doc.on('end', ok));
  const cols = model === 8 ? 2 : 1;
  const rowsPerPage = model === 1 ? 1 : model === 2 ? 2 : 4;
  const w = 595.28 / cols;
  const h = 841.89 / rowsPerPage;
  const k = model === 1 ? 1 : model === 2 ? 0.8 : 0.5;
  rows.forEach((row, i) => {
    const slot = i % model;
    if (slot === 0) doc.addPage();
    const x = (slot % cols) * w + 20 * k;
    let y = Math.floor(slot / cols) * h + 20 * k;
    const inner = w - 40 * k;
    doc.font('bold').fontSize(14 * k).text(row.structureName, x, y, { width: inner });
    y = doc.y + 4 * k;
    doc.fontSize(18 * k).text(`${row.firstName} ${row.lastName}`, x, y, { width: inner - 110 * k });
    const detail = row.children.length ? `Responsable de : ${childrenLabel(row.children)}` : `${PROFILE_LABELS[row.profile].fr} — ${row.classes.join(', ')}`;
    doc.font('sans').fontSize(10 * k).text(detail, x, doc.y, { width: inner - 110 * k });
    doc.text(`Adresse de l'ENT : ${publicUrl}`, x, doc.y + 4 * k, { width: inner - 110 * k });
    doc.text('Identifiant : ', x, doc.y, { continued: true }).font('mono').text(row.login);
    const code = !row.activated && row.code ? row.code : null;
    const qTop = y;
    if (code) {
      doc.font('sans').text("Code d'activation : ", x, doc.y, { continued: true }).font('mono').fontSize(16 * k).text(formatCode(code));
      doc.font('sans').fontSize(10 * k).text(`Code valable jusqu'au ${frenchDate(row.codeExpiresAt!)}`, x, doc.y);
      const qr = QRCode.create(activationUrl(publicUrl, row.login, code), { errorCorrectionLevel: 'M' });
      const size = qr.modules.size;
      const m = (100 * k) / size;
      const qx = x + inner - 100 * k;
      for (let r = 0; r < size; r++) for (let c = 0; c < size; c++) if (qr.modules.get(r, c)) doc.rect(qx + c * m, qTop + r * m, m, m);
      doc.fill('black');
    }
    const fields = { etablissement: row.structureName, url: publicUrl, date_expiration: row.codeExpiresAt ? frenchDate(row.codeExpiresAt) : '' } as Partial<MergeFields>;
    const body = renderTemplate(defaultTemplate(row.profile, row.activated ? 'sheet_active' : 'sheet_inactive').body, fields);
    doc.font('sans').fontSize(8 * k).text(body, x, Math.max(doc.y, qTop + 110 * k) + 6 * k, { width: inner, height: h - (doc.y - Math.floor(slot / cols) * h) });
  });
  doc.end();
  await done;
  return Buffer.concat(chunks);
}

/** Same cells as renderCsv, one stringify call (and one string concatenation) per row. */
export function naiveCsv(rows: AccountRow[]): Buffer {
  let out = '\uFEFF' + stringify([[...CSV_COLUMNS]], { delimiter: ';', record_delimiter: '\r\n' });
  for (const r of rows) out += stringify([csvCells(r)], { delimiter: ';', record_delimiter: '\r\n' });
  return Buffer.from(out, 'utf8');
}
