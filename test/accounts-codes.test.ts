import assert from 'node:assert/strict';
import { test } from 'node:test';
import { CROCKFORD, formatCode, generateCode, generateCodes, normalizeCode } from '../src/accounts/codes.js';
import { Secrets } from '../src/accounts/secrets.js';

test('codes use the 32-symbol Crockford alphabet, 10 characters = 50 bits', () => {
  assert.equal(CROCKFORD.length, 32);
  assert.equal(new Set(CROCKFORD).size, 32);
  for (const c of 'ILOU') assert.ok(!CROCKFORD.includes(c), `${c} is ambiguous`);
  assert.ok(10 * Math.log2(CROCKFORD.length) >= 50);
  const seen = new Set<string>();
  const counts = new Map<string, number>();
  for (let i = 0; i < 4000; i++) {
    const c = generateCode();
    assert.match(c, /^[0-9A-HJKMNP-TV-Z]{10}$/);
    seen.add(c);
    for (const ch of c) counts.set(ch, (counts.get(ch) ?? 0) + 1);
  }
  assert.equal(seen.size, 4000, 'no repeats in 4000 draws');
  // Every symbol is drawn: 40,000 symbols, ~1,250 each; a biased generator would starve some.
  assert.equal(counts.size, 32);
  for (const n of counts.values()) assert.ok(n > 1000 && n < 1500, `symbol frequency ${n}`);
});

test('printed grouped, read back leniently', () => {
  assert.equal(formatCode('MXTTGF5EAB'), 'MXTT-GF5E-AB');
  assert.equal(normalizeCode('mxtt-gf5e-ab'), 'MXTTGF5EAB');
  assert.equal(normalizeCode(' mxtt gf5e ab '), 'MXTTGF5EAB');
  assert.equal(normalizeCode('O0IL-1234-56'), '0011123456');
  assert.equal(normalizeCode('MXTT-GF5E'), null);
  assert.equal(normalizeCode('MXTT-GF5E-AU'), null, 'U is not a symbol');
});

test('codes are encrypted at rest and checked by HMAC', () => {
  const s = new Secrets(Buffer.alloc(32, 7));
  const enc = s.encrypt('MXTTGF5EAB');
  assert.ok(!enc.includes('MXTT'));
  assert.equal(s.decrypt(enc), 'MXTTGF5EAB');
  const mac = s.mac('activation', 'MXTTGF5EAB');
  assert.ok(s.verify('activation', 'MXTTGF5EAB', mac));
  assert.ok(!s.verify('renewal', 'MXTTGF5EAB', mac), 'an activation code is not a renewal code');
  assert.ok(!s.verify('activation', 'MXTTGF5EAC', mac));
});

test('codes drawn in bulk (an import) have the same alphabet and spread, and decrypt and verify as one issued alone', async () => {
  const { issueActivationCodes, ACTIVATION } = await import('../src/accounts/issue.js');
  const codes = generateCodes(4000);
  const counts = new Map<string, number>();
  for (const c of codes) {
    assert.match(c, /^[0-9A-HJKMNP-TV-Z]{10}$/);
    for (const ch of c) counts.set(ch, (counts.get(ch) ?? 0) + 1);
  }
  assert.equal(new Set(codes).size, 4000, 'no repeats in 4000 draws');
  assert.equal(counts.size, 32);
  for (const n of counts.values()) assert.ok(n > 1000 && n < 1500, `symbol frequency ${n}`);
  const secrets = new Secrets(Buffer.alloc(32, 7));
  const now = new Date('2026-09-01T08:00:00Z');
  const issued = issueActivationCodes(secrets, 30, 3, now);
  assert.equal(issued.length, 3);
  assert.equal(new Set(issued.map((x) => x.enc.slice(0, 16))).size, 3, 'one IV each');
  for (const x of issued) {
    assert.equal(secrets.decrypt(x.enc), x.code);
    assert.ok(secrets.verify(ACTIVATION, x.code, x.mac));
    assert.equal(x.expiresAt.getTime(), now.getTime() + 30 * 86_400_000);
  }
  assert.deepEqual(issueActivationCodes(secrets, 30, 0, now), []);
});
