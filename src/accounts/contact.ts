// Contact details typed by users: validated and put in one canonical form.

/** Lower-cased, trimmed address, or null when it is not a plausible email address. */
export function normalizeEmail(input: string): string | null {
  const s = input.trim().toLowerCase();
  if (s.length > 254) return null;
  // Deliberately simple: one @, no spaces, a dot in the domain, no leading/trailing dots in it.
  if (!/^[^\s@<>()",;]+@[a-z0-9](?:[a-z0-9-]*[a-z0-9])?(?:\.[a-z0-9](?:[a-z0-9-]*[a-z0-9])?)+$/.test(s)) return null;
  return s;
}

/**
 * French numbers in any usual spelling (06 12 34 56 78, 06.12.34.56.78, +33 6 12 34 56 78, 0033…) become
 * "06 12 34 56 78"; other international numbers are kept as +<digits>. '' when empty, null when invalid.
 */
export function normalizePhone(input: string): string | null {
  const s = input.trim();
  if (s === '') return '';
  if (!/^[+0-9 ().-]+$/.test(s)) return null;
  let digits = s.replace(/[ ().-]/g, '');
  if (digits.startsWith('00')) digits = `+${digits.slice(2)}`;
  if (digits.startsWith('+33')) digits = `0${digits.slice(3).replace(/^0/, '')}`;
  if (/^0[1-9]\d{8}$/.test(digits)) return digits.replace(/(\d{2})(?=\d)/g, '$1 ');
  if (/^\+[1-9]\d{7,14}$/.test(digits)) return digits;
  return null;
}
