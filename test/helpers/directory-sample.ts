// Small hand-made directories for the directory service tests, inserted straight into Postgres.
import { randomBytes } from 'node:crypto';
import type pg from 'pg';
import type { Profile } from '../../src/directory/vocabulary.js';

export interface UserSpec {
  firstName: string;
  lastName: string;
  profile?: Profile;
  birthDate?: string | null;
  email?: string | null;
  phone?: string | null;
  activated?: boolean;
  superAdmin?: boolean;
  externalId?: string | null;
  structureIds?: string[];
  classIds?: string[];
  groupIds?: string[];
  adminOf?: string[];
  /** Pending activation code expiring at this date. */
  codeExpiresAt?: Date;
  createdAt?: Date;
}

let seq = 0;

export async function insertStructure(pool: pg.Pool, name: string, uai?: string): Promise<string> {
  const { rows } = await pool.query('INSERT INTO structures (name, uai) VALUES ($1, $2) RETURNING id', [name, uai ?? null]);
  return rows[0].id;
}

export async function insertLevel(pool: pg.Pool, structureId: string, name: string): Promise<string> {
  const { rows } = await pool.query('INSERT INTO levels (structure_id, name) VALUES ($1, $2) RETURNING id', [structureId, name]);
  return rows[0].id;
}

export async function insertClass(pool: pg.Pool, structureId: string, name: string, levelId?: string): Promise<string> {
  const { rows } = await pool.query('INSERT INTO classes (structure_id, name, level_id) VALUES ($1, $2, $3) RETURNING id', [structureId, name, levelId ?? null]);
  return rows[0].id;
}

export async function insertGroup(pool: pg.Pool, structureId: string, name: string): Promise<string> {
  const { rows } = await pool.query('INSERT INTO groups (structure_id, name) VALUES ($1, $2) RETURNING id', [structureId, name]);
  return rows[0].id;
}

/** Inserts one user with its links; the login is unique but otherwise meaningless. */
export async function insertUser(pool: pg.Pool, u: UserSpec): Promise<string> {
  const login = `u${++seq}.${randomBytes(3).toString('hex')}`;
  const { rows } = await pool.query(
    `INSERT INTO users (profile, first_name, last_name, birth_date, email, phone, login, activated_at, password_hash,
                        is_super_admin, external_id, activation_code_mac, activation_code_expires_at, created_at)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, coalesce($14, now())) RETURNING id`,
    [
      u.profile ?? 'Student', u.firstName, u.lastName, u.birthDate ?? null, u.email ?? null, u.phone ?? null, login,
      u.activated ? new Date() : null, u.activated ? 'x' : null, u.superAdmin ?? false, u.externalId ?? null,
      u.codeExpiresAt ? 'mac' : null, u.codeExpiresAt ?? null, u.createdAt ?? null,
    ],
  );
  const id = rows[0].id as string;
  for (const s of u.structureIds ?? []) await pool.query('INSERT INTO user_structures (user_id, structure_id) VALUES ($1, $2)', [id, s]);
  for (const c of u.classIds ?? []) await pool.query('INSERT INTO user_classes (user_id, class_id) VALUES ($1, $2)', [id, c]);
  for (const g of u.groupIds ?? []) await pool.query('INSERT INTO user_groups (user_id, group_id) VALUES ($1, $2)', [id, g]);
  for (const s of u.adminOf ?? []) await pool.query('INSERT INTO local_admins (user_id, structure_id) VALUES ($1, $2)', [id, s]);
  return id;
}

export async function relate(pool: pg.Pool, parentId: string, childId: string): Promise<void> {
  await pool.query('INSERT INTO relations (parent_id, child_id) VALUES ($1, $2)', [parentId, childId]);
}

/**
 * Two schools: "École Charlemagne" (CM1 A, CM2 B) and "Collège Voltaire" (6e1). Returns ids by role.
 */
export async function sampleDirectory(pool: pg.Pool) {
  const charlemagne = await insertStructure(pool, 'École Charlemagne', '0750001A');
  const voltaire = await insertStructure(pool, 'Collège Voltaire', '0750002B');
  const cm1 = await insertLevel(pool, charlemagne, 'CM1');
  const cm2 = await insertLevel(pool, charlemagne, 'CM2');
  const cm1a = await insertClass(pool, charlemagne, 'CM1 A', cm1);
  const cm2b = await insertClass(pool, charlemagne, 'CM2 B', cm2);
  const sixieme = await insertClass(pool, voltaire, '6e1');
  const chorale = await insertGroup(pool, charlemagne, 'Chorale');
  const s1 = { structureIds: [charlemagne] };
  const superAdmin = await insertUser(pool, { firstName: 'Sam', lastName: 'Root', profile: 'Personnel', superAdmin: true, activated: true, ...s1 });
  const director = await insertUser(pool, { firstName: 'Diane', lastName: 'Directrice', profile: 'Personnel', activated: true, adminOf: [charlemagne], ...s1 });
  const teacher = await insertUser(pool, { firstName: 'Paul', lastName: 'Professeur', profile: 'Teacher', activated: true, ...s1, classIds: [cm1a] });
  const voltaireAdmin = await insertUser(pool, { firstName: 'Victor', lastName: 'Principal', profile: 'Personnel', activated: true, adminOf: [voltaire], structureIds: [voltaire] });
  const lea = await insertUser(pool, { firstName: 'Léa', lastName: 'Martin', birthDate: '2015-03-02', activated: true, ...s1, classIds: [cm1a], groupIds: [chorale] });
  const hugo = await insertUser(pool, { firstName: 'Hugo', lastName: 'Bernard', birthDate: '2015-06-10', ...s1, classIds: [cm1a], codeExpiresAt: new Date(Date.now() + 86_400_000) });
  const ines = await insertUser(pool, { firstName: 'Inès', lastName: 'Petit', birthDate: '2014-01-20', ...s1, classIds: [cm2b] });
  const mother = await insertUser(pool, { firstName: 'Claire', lastName: 'Martin', profile: 'Relative', email: 'claire.martin@example.fr', activated: true, ...s1 });
  await relate(pool, mother, lea);
  const jules = await insertUser(pool, { firstName: 'Jules', lastName: 'Moreau', birthDate: '2013-09-09', structureIds: [voltaire], classIds: [sixieme] });
  return {
    structures: { charlemagne, voltaire },
    levels: { cm1, cm2 },
    classes: { cm1a, cm2b, sixieme },
    groups: { chorale },
    users: { superAdmin, director, teacher, voltaireAdmin, lea, hugo, ines, mother, jules },
  };
}
