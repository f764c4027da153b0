// The sheets' QR symbols (qr-symbol.ts) against the `qrcode` package's for the same options (one byte-mode
// segment, level M, mask 2): the same modules, version by version, so a faster encoder changes nothing printed.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import QRCode from 'qrcode';
import { qrSymbol } from '../src/publipostage/qr-symbol.js';

function reference(text: string): { size: number; data: Uint8Array } {
  const qr = QRCode.create([{ data: text, mode: 'byte' }] as unknown as string, { errorCorrectionLevel: 'M', maskPattern: 2 } as QRCode.QRCodeOptions);
  return { size: qr.modules.size, data: Uint8Array.from(qr.modules.data as unknown as Uint8Array, (v) => (v ? 1 : 0)) };
}

/** A deterministic text of `n` printable ASCII characters. */
function text(n: number, seed: number): string {
  let s = '';
  let x = seed;
  for (let i = 0; i < n; i++) {
    x = (x * 1103515245 + 12345) & 0x7fffffff;
    s += String.fromCharCode(32 + (x % 95));
  }
  return s;
}

test('the same modules as the qrcode package, from version 1 to 40 (lengths at and across each capacity)', () => {
  const versions = new Set<number>();
  for (const n of [1, 13, 14, 15, 26, 27, 42, 43, 62, 63, 84, 85, 106, 107, 122, 152, 180, 213, 251, 287, 331, 362, 412, 450, 504, 560, 624, 666, 711, 779, 857, 911, 997, 1059, 1125, 1190, 1264, 1370, 1452, 1538, 1628, 1722, 1809, 1911, 1989, 2099, 2213, 2331]) {
    const t = text(n, n);
    const mine = qrSymbol(t);
    const ref = reference(t);
    assert.equal(mine.size, ref.size, `${n} bytes: version`);
    assert.ok(Buffer.from(mine.data).equals(Buffer.from(ref.data)), `${n} bytes: modules of version ${(mine.size - 17) / 4}`);
    versions.add((mine.size - 17) / 4);
  }
  assert.equal(versions.size, 40, `versions covered: ${[...versions].sort((a, b) => a - b).join(' ')}`);
});

test('a sheet link with accented letters (UTF-8 bytes) and the real links’ lengths', () => {
  for (const login of ['åslög.nguyễn', 'jean-baptiste.de-la-fontaine-saint-hilaire12', 'x']) {
    const t = `https://ent.example.fr/activation?login=${encodeURIComponent(login)}&code=MXTTGF5EAB`;
    const raw = `https://ent.example.fr/activation?login=${login}`;
    for (const s of [t, raw]) assert.ok(Buffer.from(qrSymbol(s).data).equals(Buffer.from(reference(s).data)), s);
  }
});

test('a text beyond version 40 is refused', () => {
  assert.throws(() => qrSymbol('x'.repeat(2332)), /do not fit/);
});
