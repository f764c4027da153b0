// A small school written straight with SQL, for the publipostage tests (independent of the importers).
//  S1 "Collège Jean Moulin": levels 6EME (6A, 6B) and 5EME (5A); S2 "Lycée Victor Hugo": 2NDE1.
import { issueActivationCode } from '../../src/accounts/issue.js';
import type { AppContext } from '../../src/context.js';

export interface SampleUser {
  key: string;
  first: string;
  last: string;
  profile: 'Student' | 'Relative' | 'Teacher' | 'Personnel' | 'Guest';
  structure: 'S1' | 'S2';
  classes?: string[];
  parentOf?: string[];
  active?: boolean;
  /** No code at all (never issued). */
  noCode?: boolean;
  expired?: boolean;
  email?: string;
  origin?: 'feed' | 'manual';
  created?: string;
  preDeleted?: boolean;
  localAdmin?: boolean;
  login?: string;
}

export const SAMPLE_USERS: SampleUser[] = [
  { key: 'zoe', first: 'Zoé', last: 'MARTIN', profile: 'Student', structure: 'S1', classes: ['6A'], created: '2024-09-01' },
  { key: 'leo', first: 'Léo', last: 'MARTIN', profile: 'Student', structure: 'S1', classes: ['5A'], created: '2024-09-01' },
  { key: 'emile', first: 'Émile', last: 'DURAND', profile: 'Student', structure: 'S1', classes: ['6A'], active: true, email: 'emile@example.org', created: '2023-09-01' },
  { key: 'aslog', first: 'Åslög', last: 'Ŝtěpán Ωmega', profile: 'Student', structure: 'S1', classes: ['6B'], created: '2024-09-02' },
  { key: 'eclair', first: 'Eva', last: 'Éclair', profile: 'Student', structure: 'S1', classes: ['6B'], created: '2024-09-02' },
  { key: 'eckert', first: 'Tom', last: 'Eckert', profile: 'Student', structure: 'S1', classes: ['6B'], created: '2024-09-02' },
  { key: 'hugo', first: 'Hugo', last: 'PETIT', profile: 'Student', structure: 'S1', classes: ['6B'], expired: true, created: '2024-09-02' },
  { key: 'nina', first: 'Nina', last: 'ROUX', profile: 'Student', structure: 'S1', classes: ['5A'], preDeleted: true, created: '2022-09-01' },
  { key: 'paul', first: 'Paul', last: 'MARTIN', profile: 'Relative', structure: 'S1', parentOf: ['zoe', 'leo'], email: 'paul.martin@example.org', created: '2024-09-01' },
  { key: 'claire', first: 'Claire', last: 'DURAND', profile: 'Relative', structure: 'S1', parentOf: ['emile'], active: true, email: 'claire@example.org', created: '2023-09-01' },
  { key: 'anne', first: 'Anne', last: 'LEROY', profile: 'Teacher', structure: 'S1', classes: ['6A'], email: 'anne.leroy@ac-test.fr', created: '2024-08-30' },
  { key: 'marc', first: 'Marc', last: 'BLANC', profile: 'Personnel', structure: 'S1', active: true, email: 'marc.blanc@ac-test.fr', origin: 'manual', localAdmin: true, created: '2020-01-15' },
  { key: 'guest', first: 'Gaston', last: 'ZOLA', profile: 'Guest', structure: 'S1', origin: 'manual', noCode: true, created: '2025-03-10' },
  { key: 'jules', first: 'Jules', last: 'VERNE', profile: 'Student', structure: 'S2', classes: ['2NDE1'], created: '2024-09-05' },
  { key: 'sophie', first: 'Sophie', last: 'VERNE', profile: 'Relative', structure: 'S2', parentOf: ['jules'], created: '2024-09-05' },
  { key: 'hostile', first: 'Robert', last: "=CMD()|' /C calc'!A0", profile: 'Student', structure: 'S2', classes: ['2NDE1'], login: 'robert.cmd', created: '2024-09-05' },
];

export interface Sample {
  structures: { S1: string; S2: string };
  classes: Record<string, string>;
  levels: Record<string, string>;
  users: Record<string, string>;
  logins: Record<string, string>;
  /** Canonical (ungrouped) activation codes of the inactive accounts that have one. */
  codes: Record<string, string>;
  expiresAt: Record<string, Date>;
}

function loginOf(u: SampleUser): string {
  if (u.login) return u.login;
  const fold = (s: string) => s.normalize('NFD').replace(/[\u0300-\u036f]/g, '').toLowerCase().replace(/[^a-z0-9]+/g, '');
  return `${fold(u.first)}.${fold(u.last)}`;
}

export async function insertSample(ctx: AppContext, users: SampleUser[] = SAMPLE_USERS): Promise<Sample> {
  const q = (sql: string, params: unknown[] = []) => ctx.database.pool.query(sql, params);
  const one = async (sql: string, params: unknown[]) => (await q(sql, params)).rows[0].id as string;
  const S1 = await one(`INSERT INTO structures (uai, name, origin) VALUES ('0750001A', 'Collège Jean Moulin', 'feed') RETURNING id`, []);
  const S2 = await one(`INSERT INTO structures (uai, name, origin) VALUES ('0750002B', 'Lycée Victor Hugo', 'feed') RETURNING id`, []);
  const structures = { S1, S2 };
  const levels: Record<string, string> = {
    '6EME': await one(`INSERT INTO levels (structure_id, name) VALUES ($1, '6EME') RETURNING id`, [S1]),
    '5EME': await one(`INSERT INTO levels (structure_id, name) VALUES ($1, '5EME') RETURNING id`, [S1]),
    '2NDE': await one(`INSERT INTO levels (structure_id, name) VALUES ($1, '2NDE') RETURNING id`, [S2]),
  };
  const classDefs: Array<[string, string, string]> = [['6A', 'S1', '6EME'], ['6B', 'S1', '6EME'], ['5A', 'S1', '5EME'], ['2NDE1', 'S2', '2NDE']];
  const classes: Record<string, string> = {};
  for (const [name, s, level] of classDefs) {
    classes[name] = await one(`INSERT INTO classes (structure_id, level_id, name) VALUES ($1, $2, $3) RETURNING id`, [
      structures[s as 'S1' | 'S2'],
      levels[level],
      name,
    ]);
  }
  const ids: Record<string, string> = {};
  const logins: Record<string, string> = {};
  const codes: Record<string, string> = {};
  const expiresAt: Record<string, Date> = {};
  const now = new Date();
  for (const u of users) {
    let enc: string | null = null;
    let mac: string | null = null;
    let exp: Date | null = null;
    if (!u.active && !u.noCode) {
      const issued = issueActivationCode(ctx.secrets, 90, u.expired ? new Date(now.getTime() - 120 * 86_400_000) : now);
      enc = issued.enc;
      mac = issued.mac;
      exp = issued.expiresAt;
      if (!u.expired) codes[u.key] = issued.code;
      expiresAt[u.key] = exp;
    }
    logins[u.key] = loginOf(u);
    ids[u.key] = await one(
      `INSERT INTO users (origin, source, profile, first_name, last_name, email, login, password_hash, activated_at,
                          activation_code_enc, activation_code_mac, activation_code_expires_at, created_at, pre_deleted_at, external_id)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13::date::timestamp AT TIME ZONE 'Europe/Paris' + interval '10 hours', $14, $15)
       RETURNING id`,
      [
        u.origin ?? 'feed',
        u.origin === 'manual' ? 'manual' : 'aaf',
        u.profile,
        u.first,
        u.last,
        u.email ?? null,
        logins[u.key],
        u.active ? '$argon2id$v=19$m=19456,t=2,p=1$c2FtcGxl$c2FtcGxl' : null,
        u.active ? now : null,
        enc,
        mac,
        exp,
        u.created ?? '2024-09-01',
        u.preDeleted ? now : null,
        u.origin === 'manual' ? null : `ext-${u.key}`,
      ],
    );
    const sid = structures[u.structure];
    await q('INSERT INTO user_structures (user_id, structure_id) VALUES ($1, $2)', [ids[u.key], sid]);
    for (const c of u.classes ?? []) await q('INSERT INTO user_classes (user_id, class_id) VALUES ($1, $2)', [ids[u.key], classes[c]]);
    if (u.localAdmin) await q('INSERT INTO local_admins (user_id, structure_id) VALUES ($1, $2)', [ids[u.key], sid]);
  }
  for (const u of users) {
    for (const child of u.parentOf ?? []) await q('INSERT INTO relations (parent_id, child_id) VALUES ($1, $2)', [ids[u.key], ids[child]]);
  }
  return { structures, classes, levels, users: ids, logins, codes, expiresAt };
}

/**
 * A second school on the sample: Anne teaches 6A (S1) and 2NDE1 (S2); Zoé (6A) is also enrolled in S2's 2NDE1;
 * Sophie (S2) is Zoé's parent too. For what an account in two schools shows of each.
 */
export async function addSecondSchool(ctx: AppContext, s: Sample): Promise<void> {
  const q = (sql: string, v: unknown[]) => ctx.database.pool.query(sql, v);
  await q('INSERT INTO user_structures (user_id, structure_id) VALUES ($1, $2), ($3, $2)', [s.users.anne, s.structures.S2, s.users.zoe]);
  await q('INSERT INTO user_classes (user_id, class_id) VALUES ($1, $2), ($3, $2)', [s.users.anne, s.classes['2NDE1'], s.users.zoe]);
  await q('INSERT INTO relations (parent_id, child_id) VALUES ($1, $2)', [s.users.sophie, s.users.zoe]);
}
