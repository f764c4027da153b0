// The demo collège created on first start (empty database), and the same generator at scale for benchmarks.
// Records go through the import apply layer: one way of writing accounts.
import { randomBytes } from 'node:crypto';
import { hashPassword } from '../accounts/passwords.js';
import { withTransaction } from '../accounts/tx.js';
import type { AppContext } from '../context.js';
import type { Profile } from '../directory/vocabulary.js';
import { foldName } from '../directory/fold.js';
import { withUaiKey } from '../directory/structures.js';
import { applyBatch } from '../import/apply.js';
import { emptyBatch, type ImportBatch, type UserRecord } from '../import/types.js';
import { ADDRESS_COMPLEMENTS, ADULT_MEN, ADULT_WOMEN, BOYS, GIRLS, LAST_NAMES, SCHOOL_NAMES, STREET_NAMES, STREET_TYPES, TOWNS } from './names.js';
import { refreshStatistics } from '../db/statistics.js';
import { sequenced } from '../db/queued.js';

/** mulberry32: small, fast, deterministic. */
function prng(seed: number) {
  let a = seed >>> 0;
  const next = () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  return {
    next,
    int: (min: number, max: number) => min + Math.floor(next() * (max - min + 1)),
    pick: <T>(a: readonly T[]) => a[Math.floor(next() * a.length)],
    chance: (p: number) => next() < p,
  };
}
type Rng = ReturnType<typeof prng>;

export interface DemoCounts {
  structures: number;
  students: number;
  relatives: number;
  teachers: number;
  personnel: number;
  guests: number;
  active: number;
  preDeleted: number;
  withEmail: number;
  total: number;
  /** Password of the already-activated demo accounts. */
  password: string;
}

const LEVELS = ['6e', '5e', '4e', '3e'];
const LETTERS = ['A', 'B', 'C', 'D', 'E'];
const GROUPS = ['Latin', 'Chorale', 'Section européenne anglais', 'Association sportive'];
const DAY = 86_400_000;

function email(first: string, last: string, rng: Rng): string {
  const domain = rng.pick(['example.org', 'example.com', 'example.net']);
  return `${foldName(first)}.${foldName(last).replace(/-/g, '')}@${domain}`;
}

function phone(rng: Rng): string {
  return `0${rng.pick([6, 7])} ${Array.from({ length: 4 }, () => String(rng.int(0, 99)).padStart(2, '0')).join(' ')}`;
}

/** An invented postal address as SIECLE gives it (names.ts): complement line now and then, street, town. */
function postalAddress(rng: Rng): string {
  const street = `${rng.int(1, 120)}${rng.chance(0.08) ? ' BIS' : ''} ${rng.pick(STREET_TYPES)} ${rng.pick(STREET_NAMES)}`;
  return [...(rng.chance(0.15) ? [rng.pick(ADDRESS_COMPLEMENTS)] : []), street, rng.pick(TOWNS)].join('\n');
}

/** One collège: ~574 students in 20 classes, ~1,140 relatives, 46 teachers, 19 staff, 6 guests. */
function buildSchool(batch: ImportBatch, index: number, rng: Rng, now: Date): { headteacher: string; studentIds: string[] } {
  // Addresses draw from their own sequence: the rest of the school stays what it was before they existed.
  const homes = prng(0xad7e55 + index);
  const skey = `demo-${index}`;
  const name = `Collège ${SCHOOL_NAMES[index % SCHOOL_NAMES.length]}${index >= SCHOOL_NAMES.length ? ` ${Math.floor(index / SCHOOL_NAMES.length) + 1}` : ''}`;
  batch.structures.set(skey, {
    key: skey,
    externalId: `demo:${index}`,
    // A valid key letter: the console's « Nouvel établissement » checks it (parseUai).
    uai: withUaiKey(`09${String(index).padStart(5, '0')}`),
    name,
    origin: 'feed',
    groups: GROUPS,
  });
  const rentree = now.getUTCMonth() >= 7 ? now.getUTCFullYear() : now.getUTCFullYear() - 1;
  let line = 0;
  const user = (ext: string, profile: Profile, first: string, last: string, extra: Partial<UserRecord> = {}): UserRecord => {
    const u: UserRecord = {
      externalId: `demo:${index}:${ext}`,
      source: 'demo',
      origin: 'feed',
      profile,
      title: null,
      firstName: first,
      lastName: last,
      birthDate: null,
      email: null,
      phone: null,
      structures: new Set([skey]),
      classes: [],
      groups: [],
      file: 'démo',
      line: ++line,
      ...extra,
    };
    batch.users.set(u.externalId, u);
    return u;
  };

  // Students and their families; about one student in twenty is the sibling of an earlier one.
  const families: { last: string; parents: string[] }[] = [];
  const studentIds: string[] = [];
  let s = 0;
  LEVELS.forEach((level, li) => {
    LETTERS.forEach((letter, ci) => {
      const className = `${level.charAt(0)}${letter}`;
      const size = (li * 5 + ci) % 10 < 7 ? 29 : 28; // 14 × 29 + 6 × 28 = 574
      for (let k = 0; k < size; k++, s++) {
        const girl = rng.chance(0.5);
        let fam = families.length && rng.chance(0.05) ? rng.pick(families) : undefined;
        if (!fam) {
          const last = rng.pick(LAST_NAMES);
          const n = rng.chance(0.12) ? 3 : rng.chance(0.035) ? 1 : 2;
          const parents: string[] = [];
          // Every legal representative has a postal address (the window-envelope option of the sheets): most
          // share the family home, some (separated parents) have their own.
          const home = postalAddress(homes);
          for (let p = 0; p < n; p++) {
            const woman = p === 0 ? rng.chance(0.55) : p === 1 ? !rng.chance(0.55) : rng.chance(0.5);
            const pfirst = rng.pick(woman ? ADULT_WOMEN : ADULT_MEN);
            const plast = p === 0 || rng.chance(0.6) ? last : rng.pick(LAST_NAMES);
            const id = `Relative:${families.length}:${p}`;
            user(id, 'Relative', pfirst, plast, {
              structures: new Set(), // from the children, as for a feed
              title: woman ? 'Mme' : 'M.',
              email: rng.chance(0.65) ? email(pfirst, plast, rng) : null,
              phone: rng.chance(0.6) ? phone(rng) : null,
              address: p === 0 || homes.chance(0.8) ? home : postalAddress(homes),
            });
            parents.push(`demo:${index}:${id}`);
          }
          fam = { last, parents };
          families.push(fam);
        }
        const first = rng.pick(girl ? GIRLS : BOYS);
        const born = new Date(Date.UTC(rentree - 11 - li, rng.int(0, 11), rng.int(1, 28)));
        const st = user(`Student:${s}`, 'Student', first, fam.last, {
          birthDate: born.toISOString().slice(0, 10),
          classes: [{ structure: skey, name: className, level: level }],
          groups: rng.chance(0.12) ? [{ structure: skey, name: rng.pick(GROUPS) }] : [],
          email: rng.chance(0.3) ? email(first, fam.last, rng) : null,
        });
        studentIds.push(st.externalId);
        for (const p of fam.parents) batch.relations.push({ parent: p, child: st.externalId });
      }
    });
  });

  const allClasses = LEVELS.flatMap((l) => LETTERS.map((x) => `${l.charAt(0)}${x}`));
  for (let t = 0; t < 46; t++) {
    const woman = rng.chance(0.6);
    const first = rng.pick(woman ? ADULT_WOMEN : ADULT_MEN);
    const last = rng.pick(LAST_NAMES);
    const classes = new Set<string>();
    const n = rng.int(3, 6);
    while (classes.size < n) classes.add(rng.pick(allClasses));
    user(`Teacher:${t}`, 'Teacher', first, last, {
      title: woman ? 'Mme' : 'M.',
      birthDate: new Date(Date.UTC(rng.int(1965, 1995), rng.int(0, 11), rng.int(1, 28))).toISOString().slice(0, 10),
      email: rng.chance(0.9) ? email(first, last, rng) : null,
      classes: [...classes].map((name) => ({ structure: skey, name })),
    });
  }
  let headteacher = '';
  for (let p = 0; p < 19; p++) {
    const woman = rng.chance(0.6);
    const first = rng.pick(woman ? ADULT_WOMEN : ADULT_MEN);
    const last = rng.pick(LAST_NAMES);
    const u = user(`Personnel:${p}`, 'Personnel', first, last, {
      title: woman ? 'Mme' : 'M.',
      email: p === 0 || rng.chance(0.8) ? email(first, last, rng) : null,
      // The headteacher and the management are in the academic feed; contract staff are added by hand.
      origin: p < 12 ? 'feed' : 'manual',
    });
    if (p === 0) headteacher = u.externalId;
  }
  for (let g = 0; g < 6; g++) {
    const woman = rng.chance(0.5);
    const first = rng.pick(woman ? ADULT_WOMEN : ADULT_MEN);
    const last = rng.pick(LAST_NAMES);
    user(`Guest:${g}`, 'Guest', first, last, {
      origin: 'manual',
      email: rng.chance(0.5) ? email(first, last, rng) : null,
      classes: g < 2 ? [{ structure: skey, name: rng.pick(allClasses) }] : [],
    });
  }
  return { headteacher, studentIds };
}


/**
 * Creates `scale` demo collèges (deterministic for a given seed) in one transaction and returns the counts.
 * About 15% of accounts are already active (one argon2id hash shared by all of them, for speed).
 */
export async function createDemoSchool(
  ctx: AppContext,
  opts: { seed?: number; scale?: number; password?: string; passwordHash?: string; now?: Date } = {},
): Promise<DemoCounts> {
  const rng = prng(opts.seed ?? 1);
  const scale = Math.max(1, Math.floor(opts.scale ?? 1));
  const now = opts.now ?? new Date();
  const password = opts.password ?? randomBytes(9).toString('base64url');
  const hash = opts.passwordHash ?? (await hashPassword(password));
  const batch = emptyBatch();
  const heads: string[] = [];
  const students: string[] = [];
  for (let i = 0; i < scale; i++) {
    const r = buildSchool(batch, i, rng, now);
    heads.push(r.headteacher);
    students.push(...r.studentIds);
  }

  // Account history: created over the last three school years, mostly at the start of this one;
  // ~15% already active; two students per school left the feed and wait, pre-deleted, for the purge.
  const records = [...batch.users.values()];
  const gone = new Set<string>();
  for (let i = 0; i < scale; i++) {
    const own = students.filter((x) => x.startsWith(`demo:${i}:`));
    gone.add(own[own.length - 3]).add(own[own.length - 40]);
  }
  let active = 0;
  for (const r of records) {
    const ageDays = rng.chance(0.7) ? rng.int(20, 60) : rng.chance(0.5) ? rng.int(60, 400) : rng.int(400, 1000);
    const createdAt = new Date(now.getTime() - ageDays * DAY - rng.int(0, DAY - 1));
    const isActive = rng.chance(r.profile === 'Teacher' ? 0.75 : r.profile === 'Personnel' ? 0.4 : 0.13);
    if (isActive) active++;
    r.history = {
      createdAt,
      activatedAt: isActive ? new Date(createdAt.getTime() + rng.int(1, Math.min(ageDays - 1, 30)) * DAY) : null,
      passwordHash: isActive ? hash : null,
      preDeletedAt: gone.has(r.externalId) ? new Date(now.getTime() - 3 * DAY) : null,
    };
  }

  await withTransaction(ctx.database.pool, async (client) => {
    await client.query('SELECT pg_advisory_xact_lock(745202)'); // the importers' lock: logins are allocated table-wide
    const res = await applyBatch(sequenced(client), ctx, batch, { now, scope: { kind: 'all' } });
    const ids = await res.idsOf(heads);
    await client.query(
      `INSERT INTO local_admins (user_id, structure_id) SELECT u, s FROM unnest($1::uuid[], $2::uuid[]) AS v(u, s) ON CONFLICT DO NOTHING`,
      [heads.map((h) => ids.get(h)!), heads.map((_, i) => res.structureIds.get(`demo-${i}`)!)],
    );
    // An activated account has signed in (activation ends signed in): the school home's « Connectés au moins une
    // fois » said 0 beside 264 activated.
    await client.query(`UPDATE users SET last_login_at = activated_at WHERE external_id LIKE 'demo:%' AND activated_at IS NOT NULL AND last_login_at IS NULL`);
  });
  // A school loaded from empty: statistics now, not at autovacuum's next round (db/statistics.ts).
  await refreshStatistics(ctx.database.pool, records.length);
  const by = (p: Profile) => records.filter((r) => r.profile === p).length;
  return {
    structures: scale,
    students: by('Student'),
    relatives: by('Relative'),
    teachers: by('Teacher'),
    personnel: by('Personnel'),
    guests: by('Guest'),
    active,
    preDeleted: gone.size,
    withEmail: records.filter((r) => r.email).length,
    total: records.length,
    password,
  };
}

/** The super admin `admin` (a Personnel attached to no structure), created once; returns whether it was created. */
export async function ensureSuperAdmin(ctx: AppContext, passwordHash: string): Promise<boolean> {
  return withTransaction(ctx.database.pool, async (client) => {
    await client.query('SELECT pg_advisory_xact_lock(745202)');
    const exists = await client.query(`SELECT 1 FROM users WHERE is_super_admin OR login = 'admin' LIMIT 1`);
    if (exists.rowCount) return false;
    const batch = emptyBatch();
    // The batch needs a key; the account keeps no external id (below), so no import can ever match it.
    const key = `admin:${randomBytes(16).toString('hex')}`;
    batch.users.set(key, {
      externalId: key, source: 'demo', origin: 'manual', profile: 'Personnel', title: null,
      firstName: 'Administrateur', lastName: 'ENT', birthDate: null, email: null, phone: null,
      structures: new Set(), classes: [], groups: [], login: 'admin', file: 'démo', line: 0,
      history: { createdAt: new Date(), activatedAt: new Date(), passwordHash, preDeletedAt: null },
    });
    const res = await applyBatch(sequenced(client), ctx, batch, { scope: { kind: 'all' } });
    await client.query(`UPDATE users SET is_super_admin = true, external_id = NULL WHERE id = $1`, [(await res.idsOf([key])).get(key)]);
    return true;
  });
}

/**
 * On start: a super admin if there is none, and the demo collège if the database has no structure
 * (TROUSSEAU_DEMO=0 skips the collège). Prints how to log in.
 */
export async function ensureDemo(ctx: AppContext, log: (m: string) => void): Promise<void> {
  const { rows: state } = await ctx.database.pool.query<{ admin: boolean; school: boolean }>(
    `SELECT EXISTS (SELECT 1 FROM users WHERE is_super_admin OR login = 'admin') AS admin, EXISTS (SELECT 1 FROM structures) AS school`,
  );
  const wantSchool = !state[0].school && process.env.TROUSSEAU_DEMO !== '0';
  if (state[0].admin && !wantSchool) {
    // Nothing to create (and no password hashing to spend); still say how to get in.
    log(`Connexion : ${ctx.config.publicUrl}/connexion avec admin (mot de passe affiché au premier démarrage ; « npm run trousseau -- admin » en donne un nouveau).`);
    return;
  }
  const fromEnv = process.env.TROUSSEAU_ADMIN_PASSWORD;
  const password = fromEnv || randomBytes(12).toString('base64url');
  const hash = await hashPassword(password);
  const createdAdmin = await ensureSuperAdmin(ctx, hash);
  const shown = fromEnv ? '(mot de passe de TROUSSEAU_ADMIN_PASSWORD)' : password;
  if (createdAdmin) log(`Compte super-administrateur créé. Connectez-vous sur ${ctx.config.publicUrl}/connexion avec admin / ${shown}`);

  if (!wantSchool) return;
  const c = await createDemoSchool(ctx, { password, passwordHash: hash });
  // Someone to sign in as besides admin: an activated teacher (class view) and local administrator (console).
  const who = (
    await ctx.database.pool.query<{ teacher: string | null; admin: string | null }>(
      `SELECT (SELECT u.login FROM users u WHERE u.profile = 'Teacher' AND u.activated_at IS NOT NULL
                 AND NOT EXISTS (SELECT 1 FROM local_admins la WHERE la.user_id = u.id) ORDER BY u.login LIMIT 1) AS teacher,
              (SELECT u.login FROM local_admins la JOIN users u ON u.id = la.user_id WHERE u.activated_at IS NOT NULL ORDER BY u.login LIMIT 1) AS admin`,
    )
  ).rows[0];
  const tryThem = [who.teacher && `${who.teacher} (enseignant : vue classe)`, who.admin && `${who.admin} (administrateur local)`].filter(Boolean).join(', ');
  log(
    `Établissement de démonstration créé : ${c.students} élèves (dont ${c.preDeleted} sortis de l’annuaire, en attente de suppression), ${c.relatives} parents, ${c.teachers} enseignants, ` +
      `${c.personnel} personnels, ${c.guests} invités ; ${c.active} comptes déjà activés, ` +
      (createdAdmin ? 'même mot de passe que admin' : `mot de passe : ${shown}`) +
      (tryThem ? ` ; par exemple ${tryThem}.` : '.'),
  );
}
