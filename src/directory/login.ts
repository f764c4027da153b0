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

/** A person to give a login: the names it is built from, and the one wanted if any (demo `admin`). */
export interface LoginRequest {
  firstName: string;
  lastName: string;
  login?: string;
}

/**
 * Hands out unique logins over a run that writes its accounts in batches (imports), without holding the directory's
 * logins: each batch asks `taken` (which of these logins exist? one indexed lookup) only about its candidates — the
 * wanted logins, the bases, and for a base already taken a window of suffixed ones from the smallest not yet known
 * taken. Across batches only that smallest suffix per collided base is kept (logins are never freed during a run),
 * so memory follows the batch and the names that collide, not the directory. Gives what LoginAllocator gives over
 * the whole set of logins: the wanted login when free, else the base, else the base with the smallest free suffix
 * from 2. Each batch's accounts must be written before the next batch is allocated.
 */
export class BatchLoginAllocator {
  private readonly next = new Map<string, number>();
  constructor(private readonly taken: (logins: string[]) => Promise<Iterable<string>>) {}

  /** Logins for `people`, in order. */
  async allocate(people: LoginRequest[]): Promise<string[]> {
    const bases = people.map((p) => baseLogin(p.firstName, p.lastName));
    const demand = new Map<string, number>();
    for (const b of bases) demand.set(b, (demand.get(b) ?? 0) + 1);
    const wanted = people.map((p) => p.login).filter((x): x is string => !!x);
    const known = new Set<string>(await this.taken([...new Set([...wanted, ...[...demand.keys()].filter((b) => !this.next.has(b))])]));
    for (const b of demand.keys()) if (this.next.has(b)) known.add(b); // a base gets a suffix once taken
    // Suffixed candidates, by windows, until each base has as many free ones as it may need (every request of the
    // base, plus every wanted login that might take one of them).
    const checked = new Map<string, number>(); // base → last suffix asked about
    const free = new Map<string, number>();
    let open = [...demand.keys()].filter((b) => this.next.has(b) || known.has(b) || demand.get(b)! > 1);
    while (open.length) {
      const ask = new Map<string, string[]>(); // candidate → its bases (`a1` + `2` and `a` + `12` are one string)
      for (const b of open) {
        const from = (checked.get(b) ?? (this.next.get(b) ?? 2) - 1) + 1;
        const to = from + Math.max(8, 2 * (demand.get(b)! + wanted.length)) - 1;
        for (let n = from; n <= to; n++) {
          const c = `${b}${n}`;
          (ask.get(c) ?? ask.set(c, []).get(c)!).push(b);
        }
        free.set(b, (free.get(b) ?? 0) + (to - from + 1));
        checked.set(b, to);
      }
      for (const x of await this.taken([...ask.keys()])) {
        known.add(x);
        for (const b of ask.get(x) ?? []) free.set(b, free.get(b)! - 1);
      }
      open = open.filter((b) => free.get(b)! < demand.get(b)! + wanted.length);
    }
    return people.map((p, i) => {
      if (p.login && !known.has(p.login)) {
        known.add(p.login);
        return p.login;
      }
      const base = bases[i];
      if (!known.has(base)) {
        known.add(base);
        return base;
      }
      let n = this.next.get(base) ?? 2;
      while (known.has(`${base}${n}`)) n++;
      this.next.set(base, n + 1);
      known.add(`${base}${n}`);
      return `${base}${n}`;
    });
  }
}
