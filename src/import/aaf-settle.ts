// Finishing an AAF run against what the directory already holds, once every file is read:
//  1. modifyRequests (delta feeds) replace the attributes they list on top of the stored person or structure;
//  2. references to structures neither in the run's EtabEducNat file nor in the directory are dropped and reported;
//  3. relatives: an account only for a legal representative of a pupil of the run or of the directory.
// The run's records are staged (stage.ts) when this runs: the few a step changes are taken out, changed here and
// spilled again (`spill`: the run's checks, then the staging table); the rest is set-based SQL.
import type { Profile } from '../directory/vocabulary.js';
import type { Queryable } from '../db/index.js';
import { addPerson, mapPerson, mapStructure, type AafCollector, type AafReject } from './aaf.js';
import type { ImportCode } from './messages.js';
import { rejection, type StructureRecord, type UserRecord } from './types.js';
import { recOf } from './stage.js';
import { clean } from './text.js';
import { HEAD_OF_SCHOOL_FUNCTION } from '../directory/local-admins.js';

/** `spill` writes `c.batch.users` to the staging table (with the run's checks) and empties it. */
export async function settleAaf(client: Queryable, c: AafCollector, spill: () => Promise<void>): Promise<void> {
  if (c.modifies.length) {
    await applyModifies(client, c);
    await spill();
  }
  await dropUnknownStructures(client, c);
  await spill();
  await settleRelatives(client, c);
}

async function applyModifies(client: Queryable, c: AafCollector) {
  const { batch } = c;
  // The records the modifications change, back in memory.
  for (const u of await batch.stage!.take([...new Set(c.modifies.map((m) => m.id))])) batch.users.set(u.externalId, u);
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
      else batch.structures.set(m.id, { ...mapStructure(m.id, m.attrs, base), file: m.file });
      continue;
    }
    const inRun = batch.users.get(m.id);
    const stored = people.get(m.id);
    const base = inRun ?? stored?.user;
    if (!base) {
      // A relative without an account is a mere contact (or payer, or « personne en charge »), whose addRequest the
      // complete feed lists as ignored: the académie's deltas carry their changes too. Ignored as well, not a row to fix.
      if (m.kind === 'PersRelEleve') batch.ignored.push({ ...rejection(m.file, m.line, 'modifyRequest', 'ignoredAafModifyNoAccount', { id: m.id }), record: m.id });
      else reject('modifyRequest', 'aafModifyUnknownAccount', { id: m.id });
      continue;
    }
    const mapped = mapPerson(m.kind, m.id, m.attrs, m.oneD, m.file, m.line, { ...base, structures: new Set(base.structures) });
    // Representatives the modification does not list stay those of the directory.
    if (mapped.ok && m.kind === 'Eleve' && mapped.legal === undefined && !inRun) mapped.legal = stored?.parents ?? [];
    // « replace » replaces: a pupil whose ENTPersonStructRattach, classes or groups are replaced leaves the feed
    // structures of her stored account that the new values no longer name (a move to another school of the
    // académie), as a complete feed would take her out of them. The delta carries no EtabEducNat file, so those
    // structures are not the run's: the record describes them for her account only (apply.ts, planLinks
    // `described`); the structures she stays in are synchronised as any the run names. Only stored feed
    // structures (storedPeople: with a jointure) — other sources' memberships stay. Pupils only: a pupil belongs
    // to one delivery, while staff may be in a 1D and a 2D delivery imported apart, and no membership records
    // which one gave it (a 2D delta's attachments do not list the 1D école). Against the stored account even when an
    // earlier modifyRequest of the delivery is already laid over her (inRun): the record it made is replaced here.
    if (mapped.ok && m.kind === 'Eleve' && stored) {
      const before = new Set([...stored.user.structures, ...stored.user.classes.map((x) => x.structure), ...stored.user.groups.map((x) => x.structure)]);
      const left = [...before].filter((s) => !mapped.user.structures.has(s));
      if (left.length) mapped.user.leftStructures = left;
    }
    addPerson(c, m.kind, m.id, mapped, reject, true);
  }
}

/** What the directory holds of AAF people (by external id, or by an alias left by a merge), memberships in AAF structures, parents. */
async function storedPeople(client: Queryable, ids: string[]): Promise<Map<string, { user: UserRecord; parents: string[] }>> {
  const out = new Map<string, { user: UserRecord; parents: string[] }>();
  if (!ids.length) return out;
  const rows = (
    await client.query<{
      id: string; key: string; profile: Profile; title: string | null; first_name: string; last_name: string; birth_date: string | null;
      email: string | null; phone: string | null; ine: string | null; functions: string[]; mobile: string | null; address: string | null;
    }>(
      `SELECT u.id, k.key, u.profile, u.title, u.first_name, u.last_name, u.birth_date, u.email, u.phone, u.ine, u.functions, u.mobile, u.address
       FROM (SELECT id AS user_id, external_id AS key FROM users WHERE external_id = ANY($1)
             UNION ALL SELECT user_id, external_id FROM user_aliases WHERE external_id = ANY($1)) k
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
    (await client.query<{ user_id: string; ext: string; by_function: boolean }>(
      `SELECT us.user_id, s.external_id AS ext, us.by_function FROM user_structures us JOIN structures s ON s.id = us.structure_id
       WHERE us.user_id = ANY($1) AND s.external_id IS NOT NULL`,
      [uids],
    )).rows,
  );
  const classes = byUser(
    (await client.query<{ user_id: string; ext: string; name: string; level: string | null; attrs: string[] | null }>(
      `SELECT uc.user_id, s.external_id AS ext, c.name, l.name AS level, uc.aaf_attributes AS attrs FROM user_classes uc JOIN classes c ON c.id = uc.class_id
       JOIN structures s ON s.id = c.structure_id LEFT JOIN levels l ON l.id = c.level_id
       WHERE uc.user_id = ANY($1) AND s.external_id IS NOT NULL`,
      [uids],
    )).rows,
  );
  const groups = byUser(
    (await client.query<{ user_id: string; ext: string; name: string; attrs: string[] | null }>(
      `SELECT ug.user_id, s.external_id AS ext, g.name, ug.aaf_attributes AS attrs FROM user_groups ug JOIN groups g ON g.id = ug.group_id
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
        birthDate: r.birth_date, email: r.email, phone: r.phone, ine: r.ine, functions: r.functions, mobile: r.mobile, address: r.address,
        structures: new Set((structs.get(r.id) ?? []).map((x) => x.ext)),
        // Those only her functions gave (migration 0042): a modifyRequest replacing ENTPersonFonctions takes them back
        // unless her new functions name them too (aaf.ts mapPerson leaves the base's byFunction out).
        ...byFunctionOf(structs.get(r.id) ?? []),
        // With the AAF attributes that gave each (migration 0039): a staff modifyRequest replaces only those it lists.
        classes: (classes.get(r.id) ?? []).map((x) => ({ structure: x.ext, name: x.name, level: x.level, ...(x.attrs ? { from: x.attrs } : {}) })),
        groups: (groups.get(r.id) ?? []).map((x) => ({ structure: x.ext, name: x.name, ...(x.attrs ? { from: x.attrs } : {}) })),
        file: '', line: 0,
      },
      parents: (parents.get(r.id) ?? []).map((x) => x.ext),
    });
  }
  return out;
}

function byFunctionOf(list: { ext: string; by_function: boolean }[]): { byFunction?: string[] } {
  const by = list.filter((x) => x.by_function).map((x) => x.ext);
  return by.length ? { byFunction: by } : {};
}

/**
 * A class, group or attachment in a structure that neither the run's EtabEducNat file nor the directory knows
 * creates nothing (no invented « Structure 1000 »): it is dropped from the person and listed as ignored.
 * A structure a function names (ENTPersonFonctions `structure$CODE$…`) may be named by its UAI as well as by its
 * jointure (local-admins.ts isHeadOfSchool reads both): such a UAI, of a structure of the run or of the directory,
 * stands for that structure (the person is attached to it, a head of school administers it). A head of school's
 * function (DIR) in a structure known by neither gives no local administration: listed as ignored, never unsaid.
 */
async function dropUnknownStructures(client: Queryable, c: AafCollector) {
  const { batch } = c;
  const stage = batch.stage!;
  const refs = [...stage.refs.structures].filter((s) => !batch.structures.has(s));
  if (!refs.length) return;
  const known = new Set(
    (await client.query<{ external_id: string }>(`SELECT external_id FROM structures WHERE external_id = ANY($1)`, [refs])).rows.map((r) => r.external_id),
  );
  const gone = new Set(refs.filter((s) => !known.has(s)));
  if (!gone.size) return;
  const byUai = await structuresByUai(client, c, [...gone]);
  const absent = (s: string) => gone.has(s);
  for (const s of gone) stage.refs.structures.delete(s);
  for (const k of stage.refs.classes.keys()) if (absent(k.slice(0, k.indexOf('\t')))) stage.refs.classes.delete(k);
  for (const k of stage.refs.groups) if (absent(k.slice(0, k.indexOf('\t')))) stage.refs.groups.delete(k);
  for (const u of await stage.takeWhere(`source = 'aaf' AND structures && $1::text[]`, [[...gone]])) {
    const fields = u.fields ?? { classes: 'classes', groups: 'groupes' };
    // One record, however many of its references are left out (types.ts ignoredRecords).
    const ignore = (field: string, code: ImportCode, params: { structure: string; name?: string; who?: string; id?: string }) =>
      batch.ignored.push({ ...rejection(u.file, u.line, field, code, params), record: u.externalId });
    // The unknown keys a staff member's functions name that are the UAI of a known structure: that structure.
    const staff = u.profile !== 'Student' && u.profile !== 'Relative';
    const named = new Map<string, string>();
    for (const f of staff ? (u.functions ?? []) : []) {
      const [s, code] = functionParts(f);
      if (!s || !absent(s)) continue;
      const to = byUai.get(s.toUpperCase());
      if (to) {
        named.set(s, to.key);
        if (to.bare && !batch.structures.has(to.key)) batch.structures.set(to.key, to.bare);
      } else if (code === HEAD_OF_SCHOOL_FUNCTION) {
        ignore('ENTPersonFonctions', 'ignoredAafHeadOfSchool', { who: `${u.lastName} ${u.firstName}`, id: u.externalId, structure: s });
      }
    }
    const by = (tag: 'c' | 'g', x: { structure: string; name: string }, field: string) => fields.by?.[`${tag}:${x.structure}$${x.name}`] ?? field;
    for (const x of u.classes) if (absent(x.structure)) ignore(by('c', x, fields.classes), 'ignoredAafClass', { structure: x.structure, name: x.name });
    for (const x of u.groups) if (absent(x.structure)) ignore(by('g', x, fields.groups), 'ignoredAafGroup', { structure: x.structure, name: x.name });
    for (const s of u.structures) {
      if (absent(s) && !named.has(s) && !u.classes.some((x) => x.structure === s) && !u.groups.some((x) => x.structure === s) && !u.byFunction?.includes(s)) {
        ignore('ENTPersonStructRattach', 'ignoredAafAttachment', { structure: s });
      }
    }
    u.classes = u.classes.filter((x) => !absent(x.structure));
    u.groups = u.groups.filter((x) => !absent(x.structure));
    const explicit = new Set([...u.structures].filter((s) => !u.byFunction?.includes(s)).map((s) => named.get(s) ?? s));
    u.structures = new Set([...u.structures].map((s) => named.get(s) ?? s).filter((s) => !absent(s)));
    // Without a UAI resolved, the structures only a function names that are known (as before, perhaps none).
    if (u.byFunction) u.byFunction = [...new Set(u.byFunction.map((s) => named.get(s) ?? s))].filter((s) => !absent(s) && !explicit.has(s));
    batch.users.set(u.externalId, u);
  }
}

/** A function's structure (`structure$CODE$…`, as aaf.ts mapPerson reads it) and its code, upper case. */
function functionParts(f: string): [string | null, string | undefined] {
  const i = f.indexOf('$');
  if (i < 0) return [null, undefined];
  return [clean(f.slice(0, i)), f.slice(i + 1).split('$')[0].trim().toUpperCase()];
}

/**
 * The structures of the run or of the directory whose UAI is one of `keys` (upper case), with the key a record names
 * them by: the run's key, the directory's jointure, or `id:<id>` for a directory structure without one (a SIECLE or
 * CSV school), whose `bare` record the batch is given when a record names it, as SIECLE's are (index.ts).
 */
async function structuresByUai(client: Queryable, c: AafCollector, keys: string[]): Promise<Map<string, { key: string; bare?: StructureRecord }>> {
  const { batch } = c;
  const wanted = new Set(keys.map((k) => k.toUpperCase()));
  const out = new Map<string, { key: string; bare?: StructureRecord }>();
  for (const rec of batch.structures.values()) {
    const uai = rec.uai?.toUpperCase();
    if (uai && wanted.has(uai) && !out.has(uai)) out.set(uai, { key: rec.key });
  }
  const left = [...wanted].filter((u) => !out.has(u));
  if (!left.length) return out;
  const rows = (
    await client.query<{ id: string; external_id: string | null; uai: string; name: string }>(
      `SELECT id, external_id, upper(uai) AS uai, name FROM structures WHERE upper(uai) = ANY($1)`,
      [left],
    )
  ).rows;
  for (const r of rows) {
    const key = r.external_id ?? `id:${r.id}`;
    out.set(r.uai, r.external_id ? { key } : { key, bare: { key, id: r.id, externalId: null, uai: r.uai, name: r.name, origin: 'feed' } });
  }
  return out;
}

/**
 * Links: each pupil of the run to the legal representatives it names (and only those: a link to another AAF
 * relative is removed). Relative accounts: only for a legal representative of a pupil of the run, or of a pupil
 * of the directory the run does not describe (a link the directory already holds). Other PersRelEleve records
 * (contacts, payers, « personnes en charge », relatives of pupils of other files) are listed as ignored.
 */
async function settleRelatives(client: Queryable, c: AafCollector) {
  const { batch } = c;
  // Pupils of the run name their legal representatives (a pupil the checks rejected still names them).
  await client.query(
    `INSERT INTO import_relations (parent, child)
     SELECT DISTINCT p, s.ext FROM import_stage s, unnest(s.legal) AS p WHERE s.source = 'aaf' AND s.profile = 'Student' AND s.legal IS NOT NULL`,
  );
  // …unless another record of that pupil is accepted (read twice, each record checked as read): that one says who
  // its representatives are.
  const accepted = new Set(
    c.rejectedPupils.length
      ? (await client.query<{ ext: string }>(`SELECT DISTINCT ext FROM import_stage WHERE ext = ANY($1) AND source = 'aaf' AND profile = 'Student'`, [c.rejectedPupils.map((x) => x.externalId)])).rows.map((x) => x.ext)
      : [],
  );
  await batch.stage!.addRelations(c.rejectedPupils.filter((x) => !accepted.has(x.externalId)).flatMap((x) => x.legal.map((p) => ({ parent: p, child: x.externalId }))));
  await client.query('CREATE INDEX ON import_relations (parent)');
  await client.query('ANALYZE import_relations');
  // Links the directory holds to pupils the run does not describe: they stay, and so do their structures.
  await client.query(
    `INSERT INTO import_relations (parent, child)
     SELECT DISTINCT p.external_id, ch.external_id FROM import_stage s JOIN users p ON p.external_id = s.ext
       JOIN relations r ON r.parent_id = p.id JOIN users ch ON ch.id = r.child_id
     WHERE s.source = 'aaf' AND s.profile = 'Relative' AND ch.external_id IS NOT NULL AND ch.pre_deleted_at IS NULL
       AND NOT EXISTS (SELECT 1 FROM import_stage d WHERE d.ext = ch.external_id AND d.source = 'aaf' AND d.profile = 'Student' AND d.legal IS NOT NULL)
       AND NOT (ch.external_id = ANY($1))`,
    [c.rejectedPupils.map((x) => x.externalId)],
  );
  // Relatives no pupil names and linked to no pupil of the directory: no account.
  const dropped = await client.query<{ n: string; ext: string; file: string; line: number; rec: string }>(
    `DELETE FROM import_stage s WHERE s.source = 'aaf' AND s.profile = 'Relative'
       AND NOT EXISTS (SELECT 1 FROM import_relations r WHERE r.parent = s.ext)
     RETURNING s.n, s.ext, s.file, s.line, ${recOf('s')} AS rec`,
  );
  // Of those, the ones a pupil of the run names as « personne en charge » (aaf.ts relativeRoles: `2` in a current
  // feed): said as such, the report counts them. Only pupils' records naming one are parsed.
  const inCharge = new Set(
    dropped.rows.length
      ? (
          await client.query<{ p: string }>(
            `SELECT DISTINCT p FROM (SELECT ${recOf('s')} AS rec FROM import_stage s WHERE s.source = 'aaf' AND s.profile = 'Student') s,
               json_array_elements_text(s.rec::json -> 'inCharge') AS p
             WHERE strpos(s.rec, '"inCharge"') > 0 AND p = ANY($1)`,
            [dropped.rows.map((x) => x.ext)],
          )
        ).rows.map((x) => x.p)
      : [],
  );
  for (const x of dropped.rows.sort((a, b) => Number(a.n) - Number(b.n))) {
    const u = JSON.parse(x.rec) as { lastName: string; firstName: string };
    const code = inCharge.has(x.ext) ? 'ignoredAafInCharge' : 'ignoredAafNotLegal';
    batch.ignored.push({ ...rejection(x.file, x.line, 'ENTPersonJointure', code, { who: `${u.lastName} ${u.firstName}`, id: x.ext }), record: x.ext });
  }
}
