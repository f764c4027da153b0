// Baseline: the same sheets as HTML (one per A4 page, QR codes as SVG) printed to PDF by headless Chromium —
// what a web app without a PDF engine would do. The browser is started once (warm), outside the timing.
import { existsSync } from 'node:fs';
import { chromium, type Browser } from 'playwright-core';
import QRCode from 'qrcode';
import { formatCode } from '../src/accounts/codes.js';
import { PROFILE_LABELS } from '../src/directory/vocabulary.js';
import { activationUrl, childrenLabel, frenchDate } from '../src/publipostage/format.js';
import type { AccountRow } from '../src/publipostage/selection.js';
import { defaultTemplate, renderTemplate, type MergeFields } from '../src/publipostage/templates.js';

const esc = (s: string) => s.replace(/[&<>"]/g, (c) => `&#${c.charCodeAt(0)};`);

export const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

export function chromiumAvailable(): boolean {
  return existsSync(CHROMIUM);
}

export async function launch(): Promise<Browser> {
  return chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox', '--disable-gpu', '--no-first-run'] });
}

/** Model 1 (one sheet per page) as HTML, then Chromium's print to PDF. */
export async function chromiumSheetsPdf(browser: Browser, rows: AccountRow[], publicUrl: string): Promise<Buffer> {
  const sheets: string[] = [];
  for (const row of rows) {
    const code = !row.activated && row.code ? row.code : null;
    const qr = code ? await QRCode.toString(activationUrl(publicUrl, row.login, code), { type: 'svg', errorCorrectionLevel: 'M', margin: 0 }) : '';
    const fields = { etablissement: row.structureName, url: publicUrl, date_expiration: row.codeExpiresAt ? frenchDate(row.codeExpiresAt) : '' } as Partial<MergeFields>;
    const body = renderTemplate(defaultTemplate(row.profile, row.activated ? 'sheet_active' : 'sheet_inactive').body, fields);
    const detail = row.children.length ? `Responsable de : ${childrenLabel(row.children)}` : `${PROFILE_LABELS[row.profile].fr} — ${row.classes.join(', ')}`;
    sheets.push(`<section><div class="qr">${qr}</div><h1>${esc(row.structureName)}</h1><h2>${esc(`${row.firstName} ${row.lastName}`)}</h2>
<p>${esc(detail)}</p><p>Adresse de l'ENT : ${esc(publicUrl)}</p><p>Identifiant : <b>${esc(row.login)}</b></p>
${code ? `<p>Code d'activation : <b class="code">${formatCode(code)}</b></p><p>Code valable jusqu'au ${frenchDate(row.codeExpiresAt!)}</p>` : ''}
<div class="body">${esc(body).replace(/\n/g, '<br>')}</div></section>`);
  }
  const html = `<!doctype html><html lang="fr"><meta charset="utf-8"><style>
@page { size: A4; margin: 15mm } body { font-family: 'DejaVu Sans', sans-serif; font-size: 10pt }
section { page-break-after: always } .qr { float: right; width: 35mm } h1 { font-size: 14pt } h2 { font-size: 18pt }
.code { font-family: 'DejaVu Sans Mono', monospace; font-size: 16pt } .body { font-size: 8pt; clear: both }</style>
<body>${sheets.join('\n')}</body></html>`;
  const page = await browser.newPage();
  try {
    await page.setContent(html, { waitUntil: 'load', timeout: 600_000 });
    return await page.pdf({ format: 'A4', printBackground: false, timeout: 600_000 } as Parameters<typeof page.pdf>[0]);
  } finally {
    await page.close();
  }
}
