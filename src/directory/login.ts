// Logins are `prenom.nom`: lower case, accents folded, other characters dropped, collisions suffixed.

// Letters that NFD does not decompose into a base letter plus marks.
const SPECIAL: Record<string, string> = {
  ø: 'o', æ: 'ae', œ: 'oe', ß: 'ss', đ: 'd', ð: 'd', ł: 'l', þ: 'th', ı: 'i', ħ: 'h', ŧ: 't', ŋ: 'n', ĸ: 'k',
};

export function foldName(name: string): string {
  const lowered = name.normalize('NFD').replace(/\p{M}/gu, '').toLowerCase();
  let out = '';
  for (const ch of lowered) out += SPECIAL[ch] ?? ch;
  return out
    .replace(/[\s'’]+/g, (m) => (/\s/.test(m) ? '-' : ''))
    .replace(/[^a-z0-9-]/g, '')
    .replace(/-+/g, '-')
    .replace(/^-|-$/g, '');
}

export function baseLogin(firstName: string, lastName: string): string {
  const f = foldName(firstName) || 'utilisateur';
  const l = foldName(lastName) || 'inconnu';
  return `${f}.${l}`;
}

/** Hands out unique logins against a set of taken ones (loaded once per import, then kept up to date). */
export class LoginAllocator {
  private readonly next = new Map<string, number>();
  constructor(private readonly taken: Set<string>) {}

  allocate(firstName: string, lastName: string): string {
    const base = baseLogin(firstName, lastName);
    if (!this.taken.has(base)) {
      this.taken.add(base);
      return base;
    }
    let n = this.next.get(base) ?? 2;
    while (this.taken.has(`${base}${n}`)) n++;
    const login = `${base}${n}`;
    this.next.set(base, n + 1);
    this.taken.add(login);
    return login;
  }
}
