// Logins are `prenom.nom`: names folded by foldName (directory/fold.ts), parts capped, collisions suffixed.
import { foldName } from './fold.js';

/** Longest part (first name, last name) of a login, as the reference ENT: a login fits on a printed sheet. */
export const LOGIN_PART_MAX = 30;

const part = (name: string, fallback: string) => foldName(name).slice(0, LOGIN_PART_MAX).replace(/-+$/, '') || fallback;

/** `prenom.nom` from the folded names (foldName), each part capped at LOGIN_PART_MAX characters. */
export function baseLogin(firstName: string, lastName: string): string {
  return `${part(firstName, 'utilisateur')}.${part(lastName, 'inconnu')}`;
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
 * so memory follows the batch and the names that collide, not the directory. Gives what one allocator holding every login
 * would give: the wanted login when free, else the base, else the base with the smallest free suffix
 * from 2. A login is only handed out once `taken` said it is free and no one of the batch got it before (a suffixed
 * login may also be another person's base or wanted login: `x.a2`); a window used up asks for the next one.
 * The previous batch's accounts may still be unwritten when a batch is allocated (an import sends a chunk's writes
 * once the next chunk has its logins): its logins are remembered until then. Every batch before it must be written,
 * or its writes sent before `taken` asks, on the same connection.
 */
export class BatchLoginAllocator {
  private readonly next = new Map<string, number>();
  /** Logins the previous batch got: perhaps not written yet. */
  private previous = new Set<string>();
  constructor(private readonly taken: (logins: string[]) => Promise<Iterable<string>>) {}

  /** Logins for `people`, in order. */
  async allocate(people: LoginRequest[]): Promise<string[]> {
    const bases = people.map((p) => baseLogin(p.firstName, p.lastName));
    const asked = new Set<string>();
    const inDirectory = new Set<string>();
    const given = new Set<string>();
    const ask = async (candidates: Iterable<string>) => {
      const fresh = [...new Set(candidates)].filter((c) => !asked.has(c));
      if (!fresh.length) return;
      for (const c of fresh) asked.add(c);
      for (const x of await this.taken(fresh)) inDirectory.add(x);
    };
    const free = (login: string) => asked.has(login) && !inDirectory.has(login) && !given.has(login) && !this.previous.has(login);
    const window = (base: string, from: number, size: number) => Array.from({ length: size }, (_, i) => `${base}${from + i}`);

    const demand = new Map<string, number>();
    for (const b of bases) demand.set(b, (demand.get(b) ?? 0) + 1);
    await ask([...people.map((p) => p.login).filter((x): x is string => !!x), ...demand.keys()]);
    // One more lookup for every base that will need suffixes (taken, shared in the batch, or taken in an earlier
    // batch), sized to its demand: most batches need no other.
    const windows: string[] = [];
    for (const [b, d] of demand) {
      if (this.next.has(b) || inDirectory.has(b) || this.previous.has(b) || d > 1) windows.push(...window(b, this.next.get(b) ?? 2, Math.max(8, 2 * d)));
    }
    await ask(windows);

    const out: string[] = [];
    for (const [i, p] of people.entries()) {
      let login: string | undefined;
      if (p.login && free(p.login)) login = p.login;
      else if (!this.next.has(bases[i]) && free(bases[i])) login = bases[i];
      else {
        const base = bases[i];
        let n = this.next.get(base) ?? 2;
        for (;;) {
          const c = `${base}${n}`;
          if (!asked.has(c)) await ask(window(base, n, 16));
          if (free(c)) break;
          n++;
        }
        this.next.set(base, n + 1);
        login = `${base}${n}`;
      }
      given.add(login);
      out.push(login);
    }
    this.previous = given;
    return out;
  }
}
