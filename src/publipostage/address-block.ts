// The postal address block of a letter sent in a window envelope (issue #10): the postal address the feed gives (users.address:
// SIECLE, AAF, the ENT CSV and ONDE; text.ts postalAddress) under the recipient's name, placed where the window of a French DL (110 × 220 mm, A4 folded in
// three) or C5 (162 × 229 mm, A4 folded in two) envelope shows it: window 45 × 100 mm, 20 mm from the right
// edge and 50 mm from the top (NF EN ISO 269 envelopes as La Poste sells them). Pure.
import type { AccountRow } from './selection.js';

const MM = 72 / 25.4;

/** The block, in PDF points from the page's top-left: inside the window with 2 mm of play on each side. */
export const ADDRESS_WINDOW = { left: 107 * MM, top: 53 * MM, width: 83 * MM, height: 39 * MM, size: 10, leading: 12 };

/** Height kept free at the top of a one-per-page sheet for the block (the fold of a DL letter is at 99 mm). */
export const ADDRESS_BAND = 100 * MM;

/** La Poste's norm (NF Z 10-011): at most 6 lines; the name first, then the address lines as the feed gives them. */
export function addressLines(row: Pick<AccountRow, 'firstName' | 'lastName'>, address: string): string[] {
  const lines = address.replace(/\r\n?/g, '\n').split('\n').map((l) => l.replace(/\s+/g, ' ').trim()).filter(Boolean);
  return [`${row.firstName} ${row.lastName}`.trim(), ...lines].slice(0, 6);
}
