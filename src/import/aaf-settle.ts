// Finishing an AAF run against what the directory already holds, once every file is read:
//  1. modifyRequests (delta feeds) replace the attributes they list on top of the stored person or structure;
//  2. references to structures neither in the run's EtabEducNat file nor in the directory are dropped and reported;
//  3. relatives: an account only for a legal representative of a pupil of the run or of the directory.
import type { Profile } from '../directory/vocabulary.js';
import type { Queryable } from '../db/index.js';
import { addPerson, mapPerson, mapStructure, type AafCollector, type AafReject } from './aaf.js';
import type { ImportCode } from './messages.js';
import { rejection, type StructureRecord, type UserRecord } from './types.js';

export async function settleAaf(client: Queryable, c: AafCollector): Promise<void> {
  if (c.modifies.length) await applyModifies(client, c);
  await dropUnknownStructures(client, c);
  await settleRelatives(client, c);
}

const isAaf = (u: UserRecord) => u.source === 'aaf';

async function applyModifies(client: Queryable, c: AafCollector) {
  const { batch } = c;
  const structIds = c.modifies.filter((m) => m.kind === 'EtabEducNat' && !batch.structures.has(m.id)).map((m) => m.id);
  const storedStructs = new Map<string, StructureRecord>();
  if (structIds.length) {
    const r = await client.query<{ external_id: string; uai: string | null; name: string }>(
      `SELECT external_id, uai, name FROM structures WHERE external_id = ANY($1)`,
      [structIds],
    );
    for (const s of r.rows) storedStructs.set(s.external_id, { key: s.external_id, externalId: s.external_id, uai: s.uai, name: s.name, origin: 'feed' });
  }
  const people = await storedPeople(client, c.modifies.filter((m) => m.kind !== 'EtabEducNat' && !batch.users.has(m.id)).map((m) => m.id));

  for (const m of c.modifies) {
    const reject: AafReject = (field, code, params) => {
      batch.rejected.push(rejection(m.file, m.line, field, code, params));
      batch.protect.push(m.id);
    };
    if (m.kind === 'EtabEducNat') {
      const base = batch.structures.get(m.id) ?? storedStructs.get(m.id);
      if (!base) reject('modifyRequest', 'aafModifyUnknownStructure', { id: m.id });
      else batch.structures.set(m.id, mapStructure(m.id, m.attrs, base));
      continue;
    }
    const inRun = batch.users.get(m.id);
    const stored = people.get(m.id);
    const base = inRun ?? stored?.user;
    if (!base) {
      reject('modifyRequest', 'aafModifyUnknownAccount', { id: m.id });
      continue;
    }
    const mapped = mapPerson(m.kind, m.id, m.attrs, m.oneD, m.file, m.line, { ...base, structures: new Set(base.structures) });
    addPerson(c, m.kind, m.id, mapped, reject, true);
    // Representatives the modification does not list stay those of the directory.
    if (mapped.ok && m.kind === 'Eleve' && mapped.legal === undefined && !inRun) c.legal.set(m.id, stored?.parents ?? []);
  }
}

/** What the directory holds of AAF people (by external id, or by an alias left by a merge), memberships in AAF structures, parents. */
async function storedPeople(client: Queryable, ids: string[]): Promise<Map<string, { user: UserRecord; parents: string[] }>> {
  const out = new Map<string, { user: UserRecord; parents: string[] }>();
  if (!ids.length) return out;
  const aliases = (await client.query<{ t: string | null }>(`SELECT to_regclass('user_aliases')::text AS t`)).rows[0].t !== null;
  const rows = (
    await client.query<{
      id: string; key: string; profile: Profile; title: string | null; first_name: string; last_name: string; birth_date: string | null;
      email: string | null; phone: string | null; ine: string | null; functions: string[]; mobile: string | null;
    }>(
      `SELECT u.id, k.key, u.profile, u.title, u.first_name, u.last_name, u.birth_date, u.email, u.phone, u.ine, u.functions, u.mobile
       FROM (SELECT id AS user_id, external_id AS key FROM users WHERE external_id = ANY($1)
             ${aliases ? 'UNION ALL SELECT user_id, external_id FROM user_aliases WHERE external_id = ANY($1)' : ''}) k
       JOIN users u ON u.id = k.user_id`,
      [ids],
    )
  ).rows;
  const uids = rows.map((r) => r.id);
  const byUser = <T extends { user_id: string }>(list: T[]) => {
    const m = new Map<string, T[]>();
    for (const x of list) (m.get(x.user_id) ?? m.set(x.user_id, []).get(x.user_id)!).push(x);
    return m;
  };
  // Only memberships in feed structures (with a jointure): the others belong to other sources and are left alone.
  const structs = byUser(
    (await client.query<{ user_id: string; ext: string }>(
      `SELECT us.user_id, s.external_id AS ext FROM user_structures us JOIN structures s ON s.id = us.structure_id
       WHERE us.user_id = ANY($1) AND s.external_id IS NOT NULL`,
      [uids],
    )).rows,
  );
  const classes = byUser(
    (await client.query<{ user_id: string; ext: string; name: string; level: string | null }>(
      `SELECT uc.user_id, s.external_id AS ext, c.name, l.name AS level FROM user_classes uc JOIN classes c ON c.id = uc.class_id
       JOIN structures s ON s.id = c.structure_id LEFT JOIN levels l ON l.id = c.level_id
       WHERE uc.user_id = ANY($1) AND s.external_id IS NOT NULL`,
      [uids],
    )).rows,
  );
  const groups = byUser(
    (await client.query<{ user_id: string; ext: string; name: string }>(
      `SELECT ug.user_id, s.external_id AS ext, g.name FROM user_groups ug JOIN groups g ON g.id = ug.group_id
       JOIN structures s ON s.id = g.structure_id WHERE ug.user_id = ANY($1) AND s.external_id IS NOT NULL`,
      [uids],
    )).rows,
  );
  const parents = byUser(
    (await client.query<{ user_id: string; ext: string }>(
      `SELECT r.child_id AS user_id, p.external_id AS ext FROM relations r JOIN users p ON p.id = r.parent_id
       WHERE r.child_id = ANY($1) AND p.external_id IS NOT NULL`,
      [uids],
    )).rows,
  );
  for (const r of rows) {
    out.set(r.key, {
      user: {
        externalId: r.key, source: 'aaf', origin: 'feed', profile: r.profile, title: r.title, firstName: r.first_name, lastName: r.last_name,
        birthDate: r.birth_date, email: r.email, phone: r.phone, ine: r.ine, functions: r.functions, mobile: r.mobile,
        structures: new Set((structs.get(r.id) ?? []).map((x) => x.ext)),
        classes: (classes.get(r.id) ?? []).map((x) => ({ structure: x.ext, name: x.name, level: x.level })),
        groups: (groups.get(r.id) ?? []).map((x) => ({ structure: x.ext, name: x.name })),
        file: '', line: 0,
      },
      parents: (parents.get(r.id) ?? []).map((x) => x.ext),
    });
  }
  return out;
}

/**
 * A class, group or attachment in a structure that neither the run's EtabEducNat file nor the directory knows
 * creates nothing (no invented « Structure 1000 »): it is dropped from the person and listed as ignored.
 */
async function dropUnknownStructures(client: Queryable, c: AafCollector) {
  const { batch } = c;
  const refs = new Set<string>();
  for (const u of batch.users.values()) if (isAaf(u)) for (const s of u.structures) if (!batch.structures.has(s)) refs.add(s);
  if (!refs.size) return;
  const known = new Set(
    (await client.query<{ external_id: string }>(`SELECT external_id FROM structures WHERE external_id = ANY($1)`, [[...refs]])).rows.map((r) => r.external_id),
  );
  const absent = (s: string) => refs.has(s) && !known.has(s);
  for (const u of batch.users.values()) {
    if (!isAaf(u) || ![...u.structures].some(absent)) continue;
    const fields = c.fields.get(u.externalId) ?? { classes: 'classes', groups: 'groupes' };
    const ignore = (field: string, code: ImportCode, params: { structure: string; name?: string }) => batch.ignored.push(rejection(u.file, u.line, field, code, params));
    for (const x of u.classes) if (absent(x.structure)) ignore(fields.classes, 'ignoredAafClass', { structure: x.structure, name: x.name });
    for (const x of u.groups) if (absent(x.structure)) ignore(fields.groups, 'ignoredAafGroup', { structure: x.structure, name: x.name });
    for (const s of u.structures) {
      if (absent(s) && !u.classes.some((x) => x.structure === s) && !u.groups.some((x) => x.structure === s)) {
        ignore('ENTPersonStructRattach', 'ignoredAafAttachment', { structure: s });
      }
    }
    u.classes = u.classes.filter((x) => !absent(x.structure));
    u.groups = u.groups.filter((x) => !absent(x.structure));
    u.structures = new Set([...u.structures].filter((s) => !absent(s)));
  }
}

/**
 * Links: each pupil of the run to the legal representatives it names (and only those: a link to another AAF
 * relative is removed). Relative accounts: only for a legal representative of a pupil of the run, or of a pupil
 * of the directory the run does not describe (a link the directory already holds). Other PersRelEleve records
 * (contacts, payers, relatives of pupils of other files) are listed as ignored.
 */
async function settleRelatives(client: Queryable, c: AafCollector) {
  const { batch } = c;
  const named = new Set<string>();
  const pupils = new Set<string>();
  for (const u of batch.users.values()) {
    if (!isAaf(u) || u.profile !== 'Student') continue;
    const legal = c.legal.get(u.externalId);
    if (!legal) continue;
    pupils.add(u.externalId);
    for (const p of legal) {
      named.add(p);
      batch.relations.push({ parent: p, child: u.externalId });
    }
  }
  batch.describedChildren = pupils;
  const relatives = [...batch.users.values()].filter((u) => isAaf(u) && u.profile === 'Relative');
  if (!relatives.length) return;
  // Links the directory holds to pupils the run does not describe: they stay, and so do their structures.
  const kept = (
    await client.query<{ parent: string; child: string }>(
      `SELECT p.external_id AS parent, ch.external_id AS child FROM users p JOIN relations r ON r.parent_id = p.id JOIN users ch ON ch.id = r.child_id
       WHERE p.external_id = ANY($1) AND ch.external_id IS NOT NULL AND ch.pre_deleted_at IS NULL AND NOT (ch.external_id = ANY($2))`,
      [relatives.map((u) => u.externalId), [...pupils]],
    )
  ).rows;
  const ofDirectory = new Set<string>();
  for (const k of kept) {
    ofDirectory.add(k.parent);
    batch.relations.push(k);
  }
  for (const u of relatives) {
    if (named.has(u.externalId) || ofDirectory.has(u.externalId)) continue;
    batch.users.delete(u.externalId);
    c.fields.delete(u.externalId);
    batch.ignored.push(rejection(u.file, u.line, 'ENTPersonJointure', 'ignoredAafNotLegal', { who: `${u.lastName} ${u.firstName}`, id: u.externalId }));
  }
}
