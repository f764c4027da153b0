// Family packs ("fiches famille"): a pupil's sheet followed by their legal representatives' sheets. The order
// itself is computed by PostgreSQL (select.ts, sort 'family'); this module finds the families of a set of pupils
// and groups selected rows into packs. Source of the links: `relations` (SIECLE / AAF responsables légaux).
import type { Queryable } from '../db/index.js';
import { SelectionSchema, type AccountRow, type Selection } from './selection.js';

/** The legal representatives (ids) of these pupils, in no particular order, without duplicates. */
export async function relativesOf(db: Queryable, pupilIds: readonly string[]): Promise<string[]> {
  if (!pupilIds.length) return [];
  const res = await db.query<{ parent_id: string }>('SELECT DISTINCT parent_id FROM relations WHERE child_id = ANY($1::uuid[])', [[...pupilIds]]);
  return res.rows.map((r) => r.parent_id);
}

/**
 * The selection of these pupils and their legal representatives, sorted by family: the class view's
 * "Fiches famille" and a family mail's "PDF of their pack". `base` keeps its filters (class, scope-relevant
 * ones); profiles are widened to pupils and relatives (a relative matches a class through its children).
 */
export async function familySelection(db: Queryable, base: Selection, pupilIds: readonly string[]): Promise<Selection> {
  const relatives = await relativesOf(db, pupilIds);
  return { ...base, profiles: ['Student', 'Relative'], userIds: [...new Set([...pupilIds, ...relatives])], sort: 'family' };
}

/**
 * The selection of these legal representatives of a selection's pupils (family mail, the packs of the parents without
 * an address): the page's filters chose the pupils (class, search, « non activés », creation dates, origin, address,
 * « Relancer »…) and say nothing of their parents, who are whoever can take their children's pack — activated or not,
 * handed something lately or not, signing in with a password or elsewhere (FranceConnect: his own part of the pack
 * is then the information sheet, `external: 'info'`; left out, he took his children's sheets with him). Only the
 * school, the author's scope (applied by the caller) and the parents' own state stay: no blocked or absent parent.
 */
export function relativesSelection(base: Selection, relativeIds: readonly string[]): Selection {
  return {
    ...SelectionSchema.parse({}),
    structureId: base.structureId,
    external: 'info',
    profiles: ['Relative'],
    userIds: [...relativeIds],
    sort: 'alpha',
  };
}

/** parent id -> their children's ids, among the given accounts only. */
export async function familyLinks(db: Queryable, ids: readonly string[]): Promise<Map<string, string[]>> {
  const links = new Map<string, string[]>();
  if (!ids.length) return links;
  const res = await db.query<{ parent_id: string; child_id: string }>(
    'SELECT parent_id, child_id FROM relations WHERE parent_id = ANY($1::uuid[]) AND child_id = ANY($1::uuid[])',
    [[...ids]],
  );
  for (const r of res.rows) links.set(r.parent_id, [...(links.get(r.parent_id) ?? []), r.child_id]);
  return links;
}

export interface FamilyPack {
  parent: AccountRow;
  /** The parent's children among the rows, in the rows' order. */
  children: AccountRow[];
}

/**
 * One pack per relative of `rows` with at least one child in `rows` (pure; `links` from familyLinks). Rows are found by
 * their position, not by scanning `rows` for each parent: a school's 1,500 parents × 2,400 rows held the event loop
 * 140 ms (a family mail merge, issue #11).
 */
export function familyPacks(rows: readonly AccountRow[], links: ReadonlyMap<string, readonly string[]>): FamilyPack[] {
  const position = new Map(rows.map((r, i) => [r.id, i]));
  const packs: FamilyPack[] = [];
  for (const parent of rows) {
    if (parent.profile !== 'Relative') continue;
    const at = [...new Set(links.get(parent.id) ?? [])].flatMap((id) => position.get(id) ?? []);
    const children = at.sort((a, b) => a - b).map((i) => rows[i]);
    if (children.length) packs.push({ parent, children });
  }
  return packs;
}
