// QR codes as inline image masks: the module matrix from `qrcode`, one bit per module, painted in black. A stencil mask
// is painted at the device's resolution without smoothing (no /Interpolate), square modules as crisp as a path's, in a
// tenth of the bytes: drawn as rectangles (runs of dark modules merged), a code of 37 modules was ~250 `re` operators,
// ~3 KB, most of a page's content stream and of its deflating (demo collège, 2,146 sheets in model 1: 3.80 MB
// instead of 4.48, 7 % less CPU, 3 December 2026).
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

}

const HEX = Buffer.from('0123456789ABCDEF', 'latin1');

/**
 * The module matrix as the samples of a 1-bit image mask, ASCII-hex (`/F /AHx`), a line per row of modules, top row
 * first, appended to `out`. A dark module is bit 1 (the image's `/D [1 0]`: 1 paints); rows are padded to a byte.
 * ASCII rather than binary: a reader finds the end of inline image data by looking for `EI`, which binary samples
 * could contain.
 */
function qrMask(m: QrMatrix, out: Bytes): void {
  const { size, data } = m;
  const rowBytes = (size + 7) >> 3;
  out.room(size * (2 * rowBytes + 1));
  const b = out.buf;
  let n = out.length;
  for (let y = 0; y < size; y++) {
    const row = y * size;
    for (let k = 0; k < rowBytes; k++) {
      let v = 0;
      for (let j = 0, x = 8 * k; j < 8; j++, x++) v = (v << 1) | (x < size ? data[row + x] : 0);
      b[n++] = HEX[v >> 4];
      b[n++] = HEX[v & 15];
    }
    b[n++] = 10;
  }
  out.length = n;
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
      // The unit square scaled to the code's side, its top-left corner at (x, top): the image's first row on top.
      out.text(`/Figure <</MCID ${i}>> BDC q ${num(p.size)} 0 0 ${num(p.size)} ${num(p.x)} ${num(p.top - p.size)} cm\n`);
      out.text(`BI /W ${m.size} /H ${m.size} /IM true /D [1 0] /F /AHx ID\n`);
      qrMask(m, out);
      out.text('>\nEI Q EMC\n');
    });
    out.text('Q');
  }
  return deflateSync(out.buf.subarray(0, out.length), { level: 1 });
}
