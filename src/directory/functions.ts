// Functions as the feeds give them (users.functions), made readable for pages and exports.

/**
 * AAF ENTPersonFonctions `structure$CODE$LIBELLÉ$discipline$LIBELLÉ DISCIPLINE` → `LIBELLÉ (LIBELLÉ DISCIPLINE)`;
 * a value without `$` (STS-web, CSV) is shown as is. The same label in several structures is listed once.
 */
export function functionLabels(functions: readonly string[]): string[] {
  const out = new Set<string>();
  for (const f of functions) {
    const p = f.split('$').map((x) => x.trim());
    let label = f.trim();
    if (p.length >= 3) {
      const detail = p[4] && p[4] !== '-' && p[4] !== p[2] ? ` (${p[4]})` : '';
      label = `${p[2] || p[1]}${detail}`;
    }
    if (label) out.add(label);
  }
  return [...out];
}
