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
 * The encoding stays the `qrcode` package's: a hand-written encoder measured 3× faster per symbol (12 µs
 * against 45 µs) but QR encoding is not what Trousseau exists for (developers' guide: a well-kept library).
 */
export function qrMatrix(text: string): QrMatrix {
  const qr = QRCode.create([{ data: text, mode: 'byte' }] as unknown as string, {
    errorCorrectionLevel: 'M',
    maskPattern: 2,
  } as QRCode.QRCodeOptions);
  return { size: qr.modules.size, data: qr.modules.data as unknown as Uint8Array };
}

/** ASCII bytes written into one growing buffer (a page's content stream before it is deflated). */
class Bytes {
  buf = Buffer.allocUnsafe(64 * 1024);
  length = 0;

  room(n: number): void {
    if (this.length + n <= this.buf.length) return;
    const bigger = Buffer.allocUnsafe(2 * (this.length + n));
    this.buf.copy(bigger, 0, 0, this.length);
    this.buf = bigger;
  }

  text(s: string): void {
    this.room(s.length);
    this.length += this.buf.write(s, this.length, 'latin1');
  }

  /** A non-negative integer below 1000 (module coordinates), then a space. */
  int(v: number): void {
    const b = this.buf;
    if (v >= 100) b[this.length++] = 48 + Math.floor(v / 100);
    if (v >= 10) b[this.length++] = 48 + (Math.floor(v / 10) % 10);
    b[this.length++] = 48 + (v % 10);
    b[this.length++] = 32;
  }
}

const RE = Buffer.from('re\n', 'latin1');
/** Work arrays of qrPath, for the largest symbol (version 40: 177 modules a side; a row has at most one run per two modules). */
const MAX_SIDE = 177;
const scratch = {
  prevRect: new Int32Array(MAX_SIDE),
  prevW: new Int32Array(MAX_SIDE),
  curRect: new Int32Array(MAX_SIDE),
  curW: new Int32Array(MAX_SIDE),
  rects: new Int32Array(4 * MAX_SIDE * ((MAX_SIDE + 1) >> 1)),
};

/**
 * PDF path operators ("x y w h re" …) in module units, origin at the top-left module, y growing downwards,
 * appended to `out`: the caller sets a matrix `s 0 0 -s left top cm` and fills with `f`. Dark runs of a row
 * become one rectangle; a run repeated exactly on the next row grows that rectangle instead of adding one.
 */
function qrPath(m: QrMatrix, out: Bytes): void {
  const { size, data } = m;
  // Rectangle being grown by the run starting at column x on the previous row (-1: none), and its width.
  let prevRect = scratch.prevRect.fill(-1, 0, size);
  let prevW = scratch.prevW;
  let curRect = scratch.curRect.fill(-1, 0, size);
  let curW = scratch.curW;
  // Rectangles as x, y, w, h.
  const rects = scratch.rects;
  let count = 0;
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
      if (r >= 0 && prevW[start] === w) rects[4 * r + 3]++;
      else {
        r = count++;
        rects[4 * r] = start;
        rects[4 * r + 1] = y;
        rects[4 * r + 2] = w;
        rects[4 * r + 3] = 1;
      }
      curRect[start] = r;
      curW[start] = w;
    }
    [prevRect, curRect] = [curRect, prevRect];
    [prevW, curW] = [curW, prevW];
    curRect.fill(-1, 0, size);
  }
  // At most 4 numbers of 3 digits and a space each, and "re\n", per rectangle.
  out.room(count * 19);
  for (let i = 0; i < 4 * count; i += 4) {
    out.int(rects[i]);
    out.int(rects[i + 1]);
    out.int(rects[i + 2]);
    out.int(rects[i + 3]);
    RE.copy(out.buf, out.length);
    out.length += 3;
  }
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

/** The buffer content streams are assembled in (one per thread: a page is made in one go). */
const bytes = new Bytes();

/**
 * The complete, deflated content stream of a page: its text, then its QR codes. Code i is tagged content: a
 * Figure with marked-content id i (the page's first ids are the codes', pdf.ts).
 */
export function pageStream(page: PageContent): Buffer {
  const out = bytes;
  out.length = 0;
  out.text(page.text);
  if (page.qr.length) {
    out.text(`${page.text ? '\n' : ''}q 0 g\n`);
    page.qr.forEach((p, i) => {
      const m = qrMatrix(p.text);
      const sc = p.size / m.size;
      out.text(`/Figure <</MCID ${i}>> BDC q ${num(sc)} 0 0 ${num(-sc)} ${num(p.x)} ${num(p.top)} cm\n`);
      qrPath(m, out);
      out.text('f Q EMC\n');
    });
    out.text('Q');
  }
  return deflateSync(out.buf.subarray(0, out.length), { level: 1 });
}
