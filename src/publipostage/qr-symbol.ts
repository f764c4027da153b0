// The QR code symbol of a sheet's link (ISO/IEC 18004:2015), made the one way the sheets need: one byte-mode
// segment (UTF-8), error correction level M, mask pattern 2, smallest version that holds the text. The `qrcode`
// package makes the same symbol (test/publipostage-qr.test.ts compares them module by module) but re-derives its
// Reed–Solomon generator and allocates per step on every call; at a région's hundreds of thousands of codes,
// that was a third of the work of a page. Here the tables are built once and a symbol costs a few microseconds.

/** Error correction codewords per block, level M, by version (ISO/IEC 18004 table 9). */
const EC_PER_BLOCK = [
  0, 10, 16, 26, 18, 24, 16, 18, 22, 22, 26, 30, 22, 22, 24, 24, 28, 28, 26, 26, 26, 26, 28, 28, 28, 28, 28, 28, 28, 28, 28, 28, 28, 28, 28, 28, 28, 28,
  28, 28, 28,
];
/** Error correction blocks, level M, by version (same table). */
const BLOCKS = [
  0, 1, 1, 1, 2, 2, 4, 4, 4, 5, 5, 5, 8, 9, 9, 10, 10, 11, 13, 14, 16, 17, 17, 18, 20, 21, 23, 25, 26, 28, 29, 31, 33, 35, 37, 38, 40, 43, 45, 47, 49,
];
/** Format information of level M (indicator 00) with mask 2, BCH-coded and masked (§7.9). */
const FORMAT_BITS = formatBits(0b00, 2);

// GF(256) with the QR polynomial x^8 + x^4 + x^3 + x^2 + 1.
const EXP = new Uint8Array(512);
const LOG = new Uint8Array(256);
for (let i = 0, x = 1; i < 255; i++) {
  EXP[i] = x;
  LOG[x] = i;
  x = (x << 1) ^ (x & 0x80 ? 0x11d : 0);
}
for (let i = 255; i < 512; i++) EXP[i] = EXP[i - 255];

/** Generator polynomials by degree (coefficients after the leading 1, highest first), as logs: built once. */
const generators = new Map<number, Uint8Array>();
function generator(degree: number): Uint8Array {
  let g = generators.get(degree);
  if (!g) {
    const poly = new Uint8Array(degree);
    poly[degree - 1] = 1;
    let root = 1;
    for (let i = 0; i < degree; i++) {
      for (let j = 0; j < degree; j++) {
        poly[j] = poly[j] ? EXP[LOG[poly[j]] + LOG[root]] : 0;
        if (j + 1 < degree) poly[j] ^= poly[j + 1];
      }
      root = EXP[LOG[root] + 1];
    }
    g = new Uint8Array(degree);
    for (let j = 0; j < degree; j++) g[j] = LOG[poly[j]];
    generators.set(degree, g);
  }
  return g;
}

/** Modules per side of a version. */
const sideOf = (version: number) => version * 4 + 17;

/** Codewords of a version (data and error correction), from the modules left for them (§7.1). */
function totalCodewords(version: number): number {
  let modules = (16 * version + 128) * version + 64;
  if (version >= 2) {
    const align = Math.floor(version / 7) + 2;
    modules -= (25 * align - 10) * align - 55;
    if (version >= 7) modules -= 36;
  }
  return modules >> 3;
}

const dataCodewords = (version: number) => totalCodewords(version) - EC_PER_BLOCK[version] * BLOCKS[version];

/** Centres of the alignment patterns of a version, on each axis (§6.3.6, annex E). */
function alignmentCentres(version: number): number[] {
  if (version === 1) return [];
  const count = Math.floor(version / 7) + 2;
  const step = Math.floor((version * 8 + count * 3 + 5) / (count * 4 - 4)) * 2;
  const out = [6];
  for (let pos = sideOf(version) - 7; out.length < count; pos -= step) out.splice(1, 0, pos);
  return out;
}

function formatBits(level: number, mask: number): number {
  const data = (level << 3) | mask;
  let rem = data;
  for (let i = 0; i < 10; i++) rem = (rem << 1) ^ ((rem >>> 9) * 0x537);
  return ((data << 10) | rem) ^ 0x5412;
}

function versionBits(version: number): number {
  let rem = version;
  for (let i = 0; i < 12; i++) rem = (rem << 1) ^ ((rem >>> 11) * 0x1f25);
  return (version << 12) | rem;
}

/** Data codewords of `bytes` in one byte-mode segment, with terminator and padding, for `version`. */
function dataCodewordsOf(bytes: Uint8Array, version: number): Uint8Array {
  const out = new Uint8Array(dataCodewords(version));
  // Mode (0100) and count (8 or 16 bits) make 12 or 20 bits: the bytes follow 4 bits off the byte grid.
  let at = 0;
  let carry: number;
  if (version < 10) {
    out[at++] = 0x40 | (bytes.length >>> 4);
    carry = bytes.length & 0xf;
  } else {
    out[at++] = 0x40 | (bytes.length >>> 12);
    out[at++] = (bytes.length >>> 4) & 0xff;
    carry = bytes.length & 0xf;
  }
  for (const b of bytes) {
    out[at++] = (carry << 4) | (b >>> 4);
    carry = b & 0xf;
  }
  // The last 4 bits, then the terminator (4 zero bits, or fewer at capacity: here it ends a byte), then padding.
  if (at < out.length) out[at++] = carry << 4;
  for (let pad = 0xec; at < out.length; pad ^= 0xec ^ 0x11) out[at++] = pad;
  return out;
}

/** The codewords in the order they are placed: data then error correction, interleaved across blocks (§7.6). */
function interleaved(data: Uint8Array, version: number): Uint8Array {
  const blocks = BLOCKS[version];
  const ecLen = EC_PER_BLOCK[version];
  const total = totalCodewords(version);
  const shortBlocks = blocks - (total % blocks);
  const shortData = Math.floor(total / blocks) - ecLen;
  const gen = generator(ecLen);
  const out = new Uint8Array(total);
  const ec = new Uint8Array(ecLen);
  for (let b = 0, start = 0; b < blocks; b++) {
    const len = shortData + (b < shortBlocks ? 0 : 1);
    // Data bytes: column-wise across blocks (the long blocks' extra byte after all the short ones).
    for (let i = 0; i < len; i++) out[i < shortData ? i * blocks + b : shortData * blocks + (b - shortBlocks)] = data[start + i];
    // Remainder of the division by the generator polynomial.
    ec.fill(0);
    for (let i = 0; i < len; i++) {
      const factor = data[start + i] ^ ec[0];
      if (factor) {
        const lf = LOG[factor];
        for (let j = 0; j < ecLen - 1; j++) ec[j] = ec[j + 1] ^ EXP[gen[j] + lf];
        ec[ecLen - 1] = EXP[gen[ecLen - 1] + lf];
      } else {
        ec.copyWithin(0, 1);
        ec[ecLen - 1] = 0;
      }
    }
    for (let i = 0; i < ecLen; i++) out[data.length + i * blocks + b] = ec[i];
    start += len;
  }
  return out;
}

/** Function patterns of a version (1 = dark, 0 = light) and which modules they take: drawn once per version. */
interface Skeleton {
  /** The function patterns, and mask 2 already applied to every other module (light before masking). */
  base: Uint8Array;
  /** Where the codeword bits go, in order (§7.7.3): two-module columns, right to left, alternately upwards and downwards. */
  order: Uint16Array;
}
const skeletons = new Map<number, Skeleton>();
function skeleton(version: number): Skeleton {
  let s = skeletons.get(version);
  if (s) return s;
  const n = sideOf(version);
  const modules = new Uint8Array(n * n);
  const reserved = new Uint8Array(n * n);
  const set = (x: number, y: number, dark: boolean) => {
    modules[y * n + x] = dark ? 1 : 0;
    reserved[y * n + x] = 1;
  };
  for (let i = 0; i < n; i++) {
    set(6, i, i % 2 === 0);
    set(i, 6, i % 2 === 0);
  }
  for (const [cx, cy] of [
    [3, 3],
    [n - 4, 3],
    [3, n - 4],
  ]) {
    for (let dy = -4; dy <= 4; dy++) {
      for (let dx = -4; dx <= 4; dx++) {
        const x = cx + dx;
        const y = cy + dy;
        const d = Math.max(Math.abs(dx), Math.abs(dy));
        if (x >= 0 && x < n && y >= 0 && y < n) set(x, y, d !== 2 && d !== 4);
      }
    }
  }
  const centres = alignmentCentres(version);
  const last = centres.length - 1;
  centres.forEach((cx, i) => {
    centres.forEach((cy, j) => {
      // Not over the finder patterns.
      if ((i === 0 && j === 0) || (i === 0 && j === last) || (i === last && j === 0)) return;
      for (let dy = -2; dy <= 2; dy++) for (let dx = -2; dx <= 2; dx++) set(cx + dx, cy + dy, Math.max(Math.abs(dx), Math.abs(dy)) !== 1);
    });
  });
  // Format information (the same for every symbol here: level M, mask 2), both copies, and the dark module.
  const bit = (v: number, i: number) => ((v >>> i) & 1) === 1;
  for (let i = 0; i <= 5; i++) set(8, i, bit(FORMAT_BITS, i));
  set(8, 7, bit(FORMAT_BITS, 6));
  set(8, 8, bit(FORMAT_BITS, 7));
  set(7, 8, bit(FORMAT_BITS, 8));
  for (let i = 9; i < 15; i++) set(14 - i, 8, bit(FORMAT_BITS, i));
  for (let i = 0; i < 8; i++) set(n - 1 - i, 8, bit(FORMAT_BITS, i));
  for (let i = 8; i < 15; i++) set(8, n - 15 + i, bit(FORMAT_BITS, i));
  set(8, n - 8, true);
  if (version >= 7) {
    const v = versionBits(version);
    for (let i = 0; i < 18; i++) {
      const a = n - 11 + (i % 3);
      const b = Math.floor(i / 3);
      set(a, b, bit(v, i));
      set(b, a, bit(v, i));
    }
  }
  const order = new Uint16Array(n * n);
  let count = 0;
  for (let right = n - 1; right >= 1; right -= 2) {
    if (right === 6) right = 5;
    const upward = ((right + 1) & 2) === 0;
    for (let vert = 0; vert < n; vert++) {
      const y = upward ? n - 1 - vert : vert;
      for (let x = right; x > right - 2; x--) if (!reserved[y * n + x]) order[count++] = y * n + x;
    }
  }
  // Mask 2 darkens every third column, x % 3 === 0 (§7.8.2), outside the function patterns.
  for (let at = 0; at < n * n; at++) if (!reserved[at] && (at % n) % 3 === 0) modules[at] = 1;
  s = { base: modules, order: order.slice(0, count) };
  skeletons.set(version, s);
  return s;
}

const utf8 = new TextEncoder();

/**
 * The modules of `text`'s symbol: `size` per side (no quiet zone), row-major, 1 = dark. Throws when the text
 * does not fit version 40 (2,331 bytes).
 */
export function qrSymbol(text: string): { size: number; data: Uint8Array } {
  const bytes = utf8.encode(text);
  let version = 1;
  while (version <= 40 && 4 + (version < 10 ? 8 : 16) + 8 * bytes.length > 8 * dataCodewords(version)) version++;
  if (version > 40) throw new Error(`QR code: ${bytes.length} bytes do not fit a symbol`);
  const codewords = interleaved(dataCodewordsOf(bytes, version), version);
  const { base, order } = skeleton(version);
  const data = base.slice();
  // Each dark bit inverts its (masked) module; the remainder bits stay as the mask left them.
  for (let c = 0; c < codewords.length; c++) {
    const byte = codewords[c];
    if (!byte) continue;
    for (let k = 0; k < 8; k++) if ((byte >>> (7 - k)) & 1) data[order[c * 8 + k]] ^= 1;
  }
  return { size: sideOf(version), data };
}
