// Logins are `prenom.nom`: names folded by foldName (directory/fold.ts), parts capped, collisions suffixed.
import { foldName } from './fold.js';

/** Longest part (first name, last name) of a login, as the reference ENT: a login fits on a printed sheet. */
export const LOGIN_PART_MAX = 30;

const part = (name: string, fallback: string) => foldName(name).slice(0, LOGIN_PART_MAX).replace(/-+$/, '') || fallback;

/** `prenom.nom` from the folded names (foldName), each part capped at LOGIN_PART_MAX characters. */
export function baseLogin(firstName: string, lastName: string): string {
  return `${part(firstName, 'utilisateur')}.${part(lastName, 'inconnu')}`;
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
