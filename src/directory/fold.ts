// The one name folding of Trousseau: logins, identity keys of name-keyed imports (CSV, ONDE/BE1D), header and
// child matching, and — through its SQL twin trousseau_fold (migration 0010) — search and duplicate detection.
import anyAscii from 'any-ascii';

// Hyphen, non-breaking hyphen, figure dash, en dash, em dash, horizontal bar, minus sign, two/three-em dashes,
// small and full-width hyphen-minus: all typed for the `-` of a compound name.
const DASHES = /[\u2010-\u2015\u2212\u2e3a\u2e3b\ufe58\ufe63\uff0d]/g;

/**
 * Canonical ASCII form of a name or label: lower-case `a-z0-9` words joined by single `-`.
 * - compatibility forms first (NFKC: ﬁ → fi, Ĳ → IJ, full-width letters, superscripts);
 * - every Unicode dash (U+2010…U+2015, U+2212, …) becomes `-`, like spaces: `Jean–Paul`, `Jean Paul` → `jean-paul`;
 * - ligatures and letters of other scripts are transliterated by any-ascii (Œ → oe, Æ → ae, ß → ss, Иван → ivan,
 *   王芳 → wangfang) instead of being dropped;
 * - apostrophes and other punctuation vanish without a separator (N'Guessan → nguessan, =CMD() → cmd), as do
 *   symbols and emoji.
 * Returns '' when nothing letter-like is left.
 */
export function foldName(s: string): string {
  const text = s.normalize('NFKC').replace(DASHES, '-').replace(/\p{S}+/gu, '');
  return anyAscii(text)
    .toLowerCase()
    .replace(/[\s\-_]+/g, '-')
    .replace(/[^a-z0-9-]/g, '')
    .replace(/-+/g, '-')
    .replace(/^-|-$/g, '');
}

/**
 * foldName without word separators: what SQL `trousseau_fold(t)` computes for Latin-script names (the SQL side
 * cannot transliterate other scripts). Used where JavaScript and SQL must agree (duplicates, search).
 */
export function foldKey(s: string): string {
  return foldName(s).replace(/-/g, '');
}
