// QR codes as vector paths: the module matrix from `qrcode`, drawn as a handful of rectangles
// (horizontal runs of dark modules, stacked identical runs merged) filled in one operation.
import { deflateSync } from 'node:zlib';
import QRCode from 'qrcode';

export interface QrMatrix {
  /** Modules per side (without quiet zone). */
  size: number;
  /** size × size, row-major, 1 = dark. */
  data: Uint8Array;
}

/**
 * Level M (15 % of the symbol may be damaged). The text is encoded as one byte-mode segment (a URL is
 * byte mode anyway; this skips the library's segment optimiser) and with a fixed mask: any of the eight
 * masks is valid per ISO 18004, and scoring all eight costs three times the encoding itself.
 */
export function qrMatrix(text: string): QrMatrix {
  const qr = QRCode.create([{ data: text, mode: 'byte' }] as unknown as string, {
    errorCorrectionLevel: 'M',
    maskPattern: 2,
  } as QRCode.QRCodeOptions);
  return { size: qr.modules.size, data: qr.modules.data as unknown as Uint8Array };
}

// Small integers as strings, once.
const INT: string[] = Array.from({ length: 200 }, (_, i) => String(i));

/**
 * PDF path operators ("x y w h re" …) in module units, origin at the top-left module, y growing downwards:
 * the caller sets a matrix `s 0 0 -s left top cm` and fills with `f`. Dark runs of a row become one
 * rectangle; a run repeated exactly on the next row grows that rectangle instead of adding one.
 */
export function qrPath(m: QrMatrix): string {
  const { size, data } = m;
  // Rectangle being grown by the run starting at column x on the previous row (-1: none), and its width.
  let prevRect = new Int32Array(size).fill(-1);
  let prevW = new Int32Array(size);
  let curRect = new Int32Array(size).fill(-1);
  let curW = new Int32Array(size);
  const rx: number[] = [];
  const ry: number[] = [];
  const rw: number[] = [];
  const rh: number[] = [];
  for (let y = 0; y < size; y++) {
    const row = y * size;
    let x = 0;
    while (x < size) {
      if (!data[row + x]) {
        x++;
        continue;
      }
      const start = x;
      while (x < size && data[row + x]) x++;
      const w = x - start;
      let r = prevRect[start];
      if (r >= 0 && prevW[start] === w) rh[r]++;
      else {
        r = rx.length;
        rx.push(start);
        ry.push(y);
        rw.push(w);
        rh.push(1);
      }
      curRect[start] = r;
      curW[start] = w;
    }
    [prevRect, curRect] = [curRect, prevRect];
    [prevW, curW] = [curW, prevW];
    curRect.fill(-1);
  }
  let out = '';
  for (let i = 0; i < rx.length; i++) out += `${INT[rx[i]]} ${INT[ry[i]]} ${INT[rw[i]]} ${INT[rh[i]]} re\n`;
  return out;
}

/** A QR code on a page: encoded text, top-left corner (PDF coordinates, y up) and side in points. */
export interface QrPlacement {
  text: string;
  x: number;
  top: number;
  size: number;
}

const num = (v: number): string => String(Math.round(v * 1000) / 1000);

/** What a page shows: its text content (operators, laid out by pdf.ts) and its QR codes, drawn after it. */
export interface PageContent {
  text: string;
  qr: QrPlacement[];
}

/**
 * The complete, deflated content stream of a page: its text, then its QR codes. Code i is tagged content: a
 * Figure with marked-content id i (the page's first ids are the codes', pdf.ts).
 */
export function pageStream(page: PageContent): Buffer {
  let s = page.text;
  if (page.qr.length) {
    s += `${s ? '\n' : ''}q 0 g\n`;
    page.qr.forEach((p, i) => {
      const m = qrMatrix(p.text);
      const sc = p.size / m.size;
      s += `/Figure <</MCID ${i}>> BDC q ${num(sc)} 0 0 ${num(-sc)} ${num(p.x)} ${num(p.top)} cm\n${qrPath(m)}f Q EMC\n`;
    });
    s += 'Q';
  }
  return deflateSync(Buffer.from(s, 'latin1'), { level: 1 });
}
