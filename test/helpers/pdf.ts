// PDFs read back with poppler (pdfinfo, pdftotext, pdftoppm) and zbar (zbarimg), as a person holding the sheet would.
import { execFileSync } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';

/** How many pages the PDF file has. */
export function pdfPages(file: string): number {
  return Number(/Pages:\s+(\d+)/.exec(execFileSync('pdfinfo', [file], { encoding: 'utf8' }))![1]);
}

/** The text of the PDF file (of one page when `page` is given), without -layout. */
export function pdfText(file: string, page?: number): string {
  const range = page ? ['-f', String(page), '-l', String(page)] : [];
  return execFileSync('pdftotext', [...range, file, '-'], { encoding: 'utf8' });
}

let renders = 0;
/** Every QR code zbarimg finds on a page rendered at 150 dpi (beside the file), sorted; none: []. */
export function pdfQrCodes(file: string, page: number): string[] {
  const dir = dirname(file);
  const prefix = `${basename(file)}.p${++renders}`;
  execFileSync('pdftoppm', ['-r', '150', '-png', '-f', String(page), '-l', String(page), file, join(dir, prefix)]);
  const png = readdirSync(dir).find((f) => f.startsWith(`${prefix}-`) && f.endsWith('.png'))!;
  try {
    const out = execFileSync('zbarimg', ['-q', '--raw', join(dir, png)], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] });
    return out.split('\n').filter(Boolean).sort();
  } catch (e) {
    if ((e as { status?: number }).status === 4) return []; // zbarimg: no symbol found
    throw e;
  }
}
