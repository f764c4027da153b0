// Bulk-generated accounts for the benchmark: N collèges of 2,500 accounts (students, parents, staff), written
// with a few multi-row INSERTs (unnest of arrays), codes encrypted like the real ones.
import { randomUUID } from 'node:crypto';
import { issueActivationCode } from '../src/accounts/issue.js';
import type { AppContext } from '../src/context.js';

const FIRST = ['Zoé', 'Léo', 'Émile', 'Chloé', 'Lucas', 'Inès', 'Noah', 'Jade', 'Adam', 'Lina', 'Hugo', 'Manon', 'Åslög', 'Kù', 'Gaëlle', 'Jérôme', 'Anaïs', 'François'];
const LAST = ['MARTIN', 'BERNARD', 'DUBOIS', 'THOMAS', 'ROBERT', 'RICHARD', 'PETIT', 'DURAND', 'LEROY', 'MOREAU', 'SIMON', 'LAURENT', 'LEFÈBVRE', 'ÉCLAIR', 'NGUYỄN', 'ŜTĚPÁN', 'DE LA FONTAINE', "O'NEILL"];
const CLASSES = ['6A', '6B', '6C', '6D', '6E', '5A', '5B', '5C', '5D', '5E', '4A', '4B', '4C', '4D', '4E', '3A', '3B', '3C', '3D', '3E'];

/** mulberry32: deterministic data for comparable runs. */
export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

interface UserCols {
  id: string[];
  profile: string[];
  first: string[];
  last: string[];
  login: string[];
  email: (string | null)[];
  hash: (string | null)[];
  enc: (string | null)[];
  mac: (string | null)[];
  exp: (Date | null)[];
  created: Date[];
}

const fold = (s: string) => s.normalize('NFD').replace(/[\u0300-\u036f]/g, '').toLowerCase().replace(/[^a-z0-9]+/g, '');

/** Inserts `schools` × 2,500 accounts; returns the structure ids. */
export async function generateAccounts(ctx: AppContext, schools: number, seed = 7): Promise<string[]> {
  const rnd = prng(seed);
  const pick = <T>(a: T[]) => a[Math.floor(rnd() * a.length)];
  const pool = ctx.database.pool;
  const now = Date.now();
  const structureIds: string[] = [];
  let n = 0;
  for (let s = 0; s < schools; s++) {
    const sid = randomUUID();
    structureIds.push(sid);
    await pool.query(`INSERT INTO structures (id, uai, name, origin) VALUES ($1, $2, $3, 'feed')`, [sid, `09${String(s).padStart(5, '0')}X`, `Collège n°${s + 1}`]);
    const classIds = CLASSES.map(() => randomUUID());
    await pool.query(`INSERT INTO classes (id, structure_id, name) SELECT * FROM unnest($1::uuid[], $2::uuid[], $3::text[])`, [
      classIds,
      classIds.map(() => sid),
      CLASSES,
    ]);
    const u: UserCols = { id: [], profile: [], first: [], last: [], login: [], email: [], hash: [], enc: [], mac: [], exp: [], created: [] };
    const uc: [string[], string[]] = [[], []];
    const rel: [string[], string[]] = [[], []];
    const add = (profile: string, active: number, withEmail: number): string => {
      const id = randomUUID();
      const first = pick(FIRST);
      const last = pick(LAST);
      const isActive = rnd() < active;
      const code = isActive ? null : issueActivationCode(ctx.secrets, 90, new Date(now - Math.floor(rnd() * 30) * 86_400_000));
      u.id.push(id);
      u.profile.push(profile);
      u.first.push(first);
      u.last.push(last);
      u.login.push(`${fold(first)}.${fold(last)}${++n}`);
      u.email.push(rnd() < withEmail ? `${fold(first)}.${n}@example.org` : null);
      u.hash.push(isActive ? '$argon2id$bench' : null);
      u.enc.push(code?.enc ?? null);
      u.mac.push(code?.mac ?? null);
      u.exp.push(code?.expiresAt ?? null);
      u.created.push(new Date(now - Math.floor(rnd() * 900) * 86_400_000));
      return id;
    };
    const students: string[] = [];
    for (let i = 0; i < 1125; i++) {
      const id = add('Student', 0.13, 0);
      students.push(id);
      uc[0].push(id);
      uc[1].push(classIds[i % classIds.length]);
    }
    for (let i = 0; i < 1250; i++) {
      const id = add('Relative', 0.2, 0.55);
      rel[0].push(id);
      rel[1].push(students[i % students.length]);
      if (i % 3 === 0) {
        rel[0].push(id);
        rel[1].push(students[(i * 7 + 1) % students.length]);
      }
    }
    for (let i = 0; i < 75; i++) {
      const id = add('Teacher', 0.75, 1);
      for (let k = 0; k < 4; k++) {
        uc[0].push(id);
        uc[1].push(classIds[(i + k * 5) % classIds.length]);
      }
    }
    for (let i = 0; i < 50; i++) add('Personnel', 0.4, 1);
    await pool.query(
      `INSERT INTO users (id, origin, source, profile, first_name, last_name, login, email, password_hash, activated_at,
                          activation_code_enc, activation_code_mac, activation_code_expires_at, created_at)
       SELECT id, 'feed', 'aaf', profile, f, l, login, email, hash, CASE WHEN hash IS NULL THEN NULL ELSE created END, enc, mac, exp, created
       FROM unnest($1::uuid[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[], $7::text[], $8::text[], $9::text[], $10::timestamptz[], $11::timestamptz[])
         AS v(id, profile, f, l, login, email, hash, enc, mac, exp, created)`,
      [u.id, u.profile, u.first, u.last, u.login, u.email, u.hash, u.enc, u.mac, u.exp, u.created],
    );
    await pool.query(`INSERT INTO user_structures (user_id, structure_id) SELECT id, $2 FROM unnest($1::uuid[]) AS id`, [u.id, sid]);
    await pool.query(`INSERT INTO user_classes (user_id, class_id) SELECT * FROM unnest($1::uuid[], $2::uuid[])`, uc);
    await pool.query(`INSERT INTO relations (parent_id, child_id) SELECT * FROM unnest($1::uuid[], $2::uuid[]) ON CONFLICT DO NOTHING`, rel);
  }
  await pool.query('ANALYZE');
  return structureIds;
}
