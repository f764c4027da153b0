// Activation and renewal codes: Crockford base32, 10 symbols = 50 bits, from the CSPRNG.
import { randomFillSync } from 'node:crypto';

export const CROCKFORD = '0123456789ABCDEFGHJKMNPQRSTVWXYZ';
export const CODE_LENGTH = 10;

/** One code (generateCodes). */
export function generateCode(): string {
  return generateCodes(1)[0];
}

/**
 * `count` codes from one draw of the CSPRNG (an import's new accounts draw a chunk's at once): one byte per symbol,
 * its low 5 bits (256 is a multiple of 32: every symbol stays equally likely).
 */
export function generateCodes(count: number): string[] {
  const bytes = randomFillSync(Buffer.alloc(count * CODE_LENGTH));
  const out: string[] = [];
  for (let i = 0; i < count; i++) {
    let s = '';
    for (let j = i * CODE_LENGTH; j < (i + 1) * CODE_LENGTH; j++) s += CROCKFORD[bytes[j] & 31];
    out.push(s);
  }
  return out;
}

/** Printed form, grouped for reading aloud: MXTT-GF5E-AB. */
export function formatCode(code: string): string {
  return code.replace(/(.{4})(?=.)/g, '$1-');
}

/**
 * What a person typed back to the canonical code: case, spaces and dashes ignored,
 * O read as 0, I and L as 1 (Crockford's decoding rules). Returns null when it cannot be a code.
 */
export function normalizeCode(input: string): string | null {
  const s = input
    .toUpperCase()
    .replace(/[\s\-_.]/g, '')
    .replace(/O/g, '0')
    .replace(/[IL]/g, '1');
  if (s.length !== CODE_LENGTH) return null;
  for (const ch of s) if (!CROCKFORD.includes(ch)) return null;
  return s;
}
