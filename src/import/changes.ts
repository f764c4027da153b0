// What a run changes on existing accounts, for the report's « Fiches modifiées » (ImportReport.modified): an
// administrator reading a dry run must see, for each account counted « modifié », what changes — fields, but also
// the class a pupil moves to, a structure left, a child or a parent linked — to catch a wrong feed before applying it.
// The chunks (apply.ts applyChunk) hand in what they plan, the first MODIFIED_SAMPLE accounts' only, so memory stays
// bounded at a région's size; the count, the order and the names are read in SQL once the run is written.
import type pg from 'pg';
import type { Profile } from '../directory/vocabulary.js';
import type { FieldChange } from './plan.js';
import { LINK_FIELDS, type LinkChange, type LinkField, type ModifiedNote } from './types.js';

type Client = Pick<pg.PoolClient, 'query'>;

/** How many of the accounts a run changes its report names, with the changes. */
export const MODIFIED_SAMPLE = 200;
/** Names listed per kind of link and side (left, joined) of one account; the rest counted. */
export const LINKS_SHOWN = 10;

/** A membership or link one account gains (`+`) or loses (`-`): `other` is a structure, class, group or person id. */
interface LinkNote {
  user: string;
  field: LinkField;
  op: '+' | '-';
  other: string;
}

/**
 * The changes of the first MODIFIED_SAMPLE accounts met (in the order the chunks plan them); an account taken keeps
 * receiving its changes from later chunks (a link written by the other side's chunk). Never more than that many
 * accounts: a rentrée moving every pupil keeps 200 accounts' changes, not a million.
 */
export class ChangeSample {
  private readonly ids = new Set<string>();
  readonly fields = new Map<string, FieldChange[]>();
  readonly links: LinkNote[] = [];

  /** Whether `user`'s changes are kept: already taken, or room left for one more account. */
  private take(user: string): boolean {
    if (this.ids.has(user)) return true;
    if (this.ids.size >= MODIFIED_SAMPLE) return false;
    this.ids.add(user);
    return true;
  }

  /** Its own fields (plan.ts planUserUpdate), or a key taken over (apply.ts adoptAccounts). */
  field(user: string, changes: FieldChange[]): void {
    if (!changes.length || !this.take(user)) return;
    const list = this.fields.get(user);
    if (list) list.push(...changes);
    else this.fields.set(user, [...changes]);
  }

  /** A membership (user_structures, user_classes, user_groups) or a relation it gains or loses. */
  link(user: string, field: LinkField, op: '+' | '-', other: string): void {
    if (this.take(user)) this.links.push({ user, field, op, other });
  }

  get size(): number {
    return this.ids.size;
  }

  get users(): string[] {
    return [...this.ids];
  }
}

/** One named link, as read back (the class or group's structure, to tell two schools' « 6A » apart). */
export interface NamedLink {
  field: LinkField;
  op: '+' | '-';
  name: string;
  structure: string | null;
}

/**
 * An account's links by kind, in LINK_FIELDS order: names sorted (French), each side cut at LINKS_SHOWN; a class or
 * group suffixed with its structure when that kind's changes span two structures. A link both added and removed
 * (written by one chunk, taken back by another: never, but harmless) shows on both sides.
 */
export function groupLinks(links: NamedLink[]): LinkChange[] {
  const out: LinkChange[] = [];
  const byName = (a: string, b: string) => a.localeCompare(b, 'fr');
  for (const field of LINK_FIELDS) {
    const of = links.filter((l) => l.field === field);
    if (!of.length) continue;
    const several = new Set(of.map((l) => l.structure)).size > 1;
    const shown = (l: NamedLink) => (several && l.structure ? `${l.name} (${l.structure})` : l.name);
    const side = (op: '+' | '-') => [...new Set(of.filter((l) => l.op === op).map(shown))].sort(byName);
    const removed = side('-');
    const added = side('+');
    const more = Math.max(removed.length - LINKS_SHOWN, 0) + Math.max(added.length - LINKS_SHOWN, 0);
    out.push({ field, removed: removed.slice(0, LINKS_SHOWN), added: added.slice(0, LINKS_SHOWN), ...(more ? { more } : {}) });
  }
  return out;
}

/**
 * The report's modified accounts once the run is written (inside its transaction): `count`, the accounts behind the
 * records counted « modifié » (import_stage: not created, and `changed` or `touched`; an account staged twice once),
 * and the sampled ones among them, in reading order (their first record's), named as the run leaves them, each with
 * its field changes and its links named (structures, classes, groups by name; people as « Prénom NOM »).
 */
export async function modifiedAccounts(client: Client, sample: ChangeSample): Promise<{ count: number; sample: ModifiedNote[] }> {
  const changed = `s.state <> 'fresh' AND (s.changed OR s.touched)`;
  const count = Number((await client.query<{ n: string }>(`SELECT count(DISTINCT s.user_id) AS n FROM import_stage s WHERE ${changed}`)).rows[0].n);
  if (!count || !sample.size) return { count, sample: [] };
  const accounts = await client.query<{ id: string; login: string; first_name: string; last_name: string; profile: Profile }>(
    `SELECT u.id, u.login, u.first_name, u.last_name, u.profile
     FROM users u JOIN (SELECT s.user_id, min(s.n) AS n FROM import_stage s WHERE s.user_id = ANY($1::uuid[]) AND ${changed} GROUP BY s.user_id) f ON f.user_id = u.id
     ORDER BY f.n`,
    [sample.users],
  );
  const named = sample.links.length
    ? (
        await client.query<{ user_id: string; field: LinkField; op: '+' | '-'; name: string | null; structure: string | null }>(
          `SELECT v.user_id, v.field, v.op,
                  coalesce(st.name, c.name, g.name, p.first_name || ' ' || p.last_name) AS name, cs.name AS structure
           FROM unnest($1::uuid[], $2::text[], $3::text[], $4::uuid[]) AS v(user_id, field, op, other)
           LEFT JOIN structures st ON v.field = 'structures' AND st.id = v.other
           LEFT JOIN classes c ON v.field = 'classes' AND c.id = v.other
           LEFT JOIN groups g ON v.field = 'groups' AND g.id = v.other
           LEFT JOIN structures cs ON cs.id = coalesce(c.structure_id, g.structure_id)
           LEFT JOIN users p ON v.field IN ('children', 'parents') AND p.id = v.other`,
          [sample.links.map((x) => x.user), sample.links.map((x) => x.field), sample.links.map((x) => x.op), sample.links.map((x) => x.other)],
        )
      ).rows
    : [];
  const linksOf = new Map<string, NamedLink[]>();
  for (const x of named) {
    const list = linksOf.get(x.user_id) ?? linksOf.set(x.user_id, []).get(x.user_id)!;
    list.push({ field: x.field, op: x.op, name: x.name ?? '?', structure: x.structure });
  }
  return {
    count,
    sample: accounts.rows.map((u) => {
      const links = groupLinks(linksOf.get(u.id) ?? []);
      return {
        login: u.login,
        name: `${u.first_name} ${u.last_name}`,
        profile: u.profile,
        changes: sample.fields.get(u.id) ?? [],
        ...(links.length ? { links } : {}),
      };
    }),
  };
}
