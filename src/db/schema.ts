// Drizzle mirror of migrations/*.sql (the SQL files are the source of truth).
import { sql } from 'drizzle-orm';
import {
  bigint, boolean, date, integer, jsonb, pgTable, primaryKey, text, timestamp, uuid,
} from 'drizzle-orm/pg-core';

const ts = (name: string) => timestamp(name, { withTimezone: true });

export const PROFILES = ['Student', 'Relative', 'Teacher', 'Personnel', 'Guest'] as const;
export type Profile = (typeof PROFILES)[number];
export type Origin = 'feed' | 'manual';

export const structures = pgTable('structures', {
  id: uuid('id').primaryKey().defaultRandom(),
  externalId: text('external_id').unique(),
  uai: text('uai').unique(),
  name: text('name').notNull(),
  origin: text('origin').$type<Origin>().notNull().default('manual'),
  createdAt: ts('created_at').notNull().defaultNow(),
});

export const levels = pgTable('levels', {
  id: uuid('id').primaryKey().defaultRandom(),
  structureId: uuid('structure_id').notNull().references(() => structures.id),
  name: text('name').notNull(),
});

export const classes = pgTable('classes', {
  id: uuid('id').primaryKey().defaultRandom(),
  structureId: uuid('structure_id').notNull().references(() => structures.id),
  levelId: uuid('level_id').references(() => levels.id),
  name: text('name').notNull(),
});

export const groups = pgTable('groups', {
  id: uuid('id').primaryKey().defaultRandom(),
  structureId: uuid('structure_id').notNull().references(() => structures.id),
  name: text('name').notNull(),
});

export const users = pgTable('users', {
  id: uuid('id').primaryKey().defaultRandom(),
  externalId: text('external_id').unique(),
  origin: text('origin').$type<Origin>().notNull().default('manual'),
  source: text('source').notNull().default('manual'),
  profile: text('profile').$type<Profile>().notNull(),
  title: text('title'),
  firstName: text('first_name').notNull(),
  lastName: text('last_name').notNull(),
  birthDate: date('birth_date'),
  email: text('email'),
  phone: text('phone'),
  login: text('login').notNull().unique(),
  passwordHash: text('password_hash'),
  activatedAt: ts('activated_at'),
  termsAcceptedAt: ts('terms_accepted_at'),
  activationCodeEnc: text('activation_code_enc'),
  activationCodeMac: text('activation_code_mac'),
  activationCodeExpiresAt: ts('activation_code_expires_at'),
  renewalCodeMac: text('renewal_code_mac'),
  renewalCodeExpiresAt: ts('renewal_code_expires_at'),
  blocked: boolean('blocked').notNull().default(false),
  isSuperAdmin: boolean('is_super_admin').notNull().default(false),
  createdAt: ts('created_at').notNull().defaultNow(),
  updatedAt: ts('updated_at').notNull().defaultNow(),
  preDeletedAt: ts('pre_deleted_at'),
  lastLoginAt: ts('last_login_at'),
});

export const userStructures = pgTable('user_structures', {
  userId: uuid('user_id').notNull().references(() => users.id),
  structureId: uuid('structure_id').notNull().references(() => structures.id),
}, (t) => [primaryKey({ columns: [t.userId, t.structureId] })]);

export const userClasses = pgTable('user_classes', {
  userId: uuid('user_id').notNull().references(() => users.id),
  classId: uuid('class_id').notNull().references(() => classes.id),
}, (t) => [primaryKey({ columns: [t.userId, t.classId] })]);

export const userGroups = pgTable('user_groups', {
  userId: uuid('user_id').notNull().references(() => users.id),
  groupId: uuid('group_id').notNull().references(() => groups.id),
}, (t) => [primaryKey({ columns: [t.userId, t.groupId] })]);

export const localAdmins = pgTable('local_admins', {
  userId: uuid('user_id').notNull().references(() => users.id),
  structureId: uuid('structure_id').notNull().references(() => structures.id),
}, (t) => [primaryKey({ columns: [t.userId, t.structureId] })]);

export const relations = pgTable('relations', {
  parentId: uuid('parent_id').notNull().references(() => users.id),
  childId: uuid('child_id').notNull().references(() => users.id),
}, (t) => [primaryKey({ columns: [t.parentId, t.childId] })]);

export const audit = pgTable('audit', {
  id: bigint('id', { mode: 'number' }).primaryKey().generatedAlwaysAsIdentity(),
  at: ts('at').notNull().defaultNow(),
  actorId: uuid('actor_id').references(() => users.id),
  action: text('action').notNull(),
  details: jsonb('details').$type<Record<string, unknown>>().notNull().default(sql`'{}'::jsonb`),
});

export const rateLimits = pgTable('rate_limits', {
  key: text('key').primaryKey(),
  windowStart: ts('window_start').notNull(),
  hits: integer('hits').notNull(),
  // 0008_security_ops.sql
  lastHitAt: ts('last_hit_at'),
});

export const sessions = pgTable('sessions', {
  idHash: text('id_hash').primaryKey(),
  userId: uuid('user_id').notNull().references(() => users.id),
  csrf: text('csrf').notNull(),
  createdAt: ts('created_at').notNull().defaultNow(),
  expiresAt: ts('expires_at').notNull(),
});

export const passwordResets = pgTable('password_resets', {
  tokenHash: text('token_hash').primaryKey(),
  userId: uuid('user_id').notNull().references(() => users.id),
  expiresAt: ts('expires_at').notNull(),
  usedAt: ts('used_at'),
  // 0008_security_ops.sql
  createdAt: ts('created_at').notNull().defaultNow(),
});

export type TemplateKind = 'sheet_inactive' | 'sheet_active' | 'mail_inactive' | 'mail_active';
export const letterTemplates = pgTable('letter_templates', {
  id: uuid('id').primaryKey().defaultRandom(),
  structureId: uuid('structure_id').references(() => structures.id),
  profile: text('profile').$type<Profile>().notNull(),
  kind: text('kind').$type<TemplateKind>().notNull(),
  subject: text('subject'),
  body: text('body').notNull(),
  updatedAt: ts('updated_at').notNull().defaultNow(),
});

export const mailRuns = pgTable('mail_runs', {
  id: uuid('id').primaryKey().defaultRandom(),
  actorId: uuid('actor_id').references(() => users.id),
  createdAt: ts('created_at').notNull().defaultNow(),
  filters: jsonb('filters').notNull().default(sql`'{}'::jsonb`),
  selected: integer('selected').notNull().default(0),
  withoutEmail: integer('without_email').notNull().default(0),
  // 0004_mail.sql
  structureIds: uuid('structure_ids').array(),
  classIds: uuid('class_ids').array(),
  queued: integer('queued').notNull().default(0),
  // 0008_security_ops.sql
  idempotencyKey: text('idempotency_key'),
  selectionKey: text('selection_key'),
});

export const instanceSettings = pgTable('instance_settings', {
  name: text('name').primaryKey(),
  value: text('value').notNull(),
  createdAt: ts('created_at').notNull().defaultNow(),
});

export const mailJobs = pgTable('mail_jobs', {
  id: uuid('id').primaryKey().defaultRandom(),
  runId: uuid('run_id').references(() => mailRuns.id),
  userId: uuid('user_id').references(() => users.id),
  kind: text('kind').notNull(),
  recipient: text('recipient').notNull(),
  subject: text('subject').notNull(),
  bodyText: text('body_text').notNull(),
  bodyHtml: text('body_html'),
  status: text('status').$type<'pending' | 'sending' | 'sent' | 'failed'>().notNull().default('pending'),
  attempts: integer('attempts').notNull().default(0),
  nextAttemptAt: ts('next_attempt_at').notNull().defaultNow(),
  lockedUntil: ts('locked_until'),
  lastError: text('last_error'),
  sentAt: ts('sent_at'),
  createdAt: ts('created_at').notNull().defaultNow(),
  // 0004_mail.sql
  sealed: boolean('sealed').notNull().default(false),
});

export const duplicateDismissals = pgTable('duplicate_dismissals', {
  userA: uuid('user_a').notNull().references(() => users.id),
  userB: uuid('user_b').notNull().references(() => users.id),
  dismissedAt: ts('dismissed_at').notNull().defaultNow(),
}, (t) => [primaryKey({ columns: [t.userA, t.userB] })]);

// 0005_directory.sql: feed ids of accounts merged into another one.
export const userAliases = pgTable('user_aliases', {
  externalId: text('external_id').primaryKey(),
  userId: uuid('user_id').notNull().references(() => users.id),
  mergedAt: ts('merged_at').notNull().defaultNow(),
  mergedBy: uuid('merged_by').references(() => users.id),
});

// 0012_unattended.sql: tokens scripts use on POST /api/import (only the SHA-256 of the token is kept).
export const apiTokens = pgTable('api_tokens', {
  id: uuid('id').primaryKey().defaultRandom(),
  name: text('name').notNull(),
  prefix: text('prefix').notNull().unique(),
  secretHash: text('secret_hash').notNull(),
  actions: text('actions').array().notNull().default(sql`'{import}'`),
  allStructures: boolean('all_structures').notNull().default(false),
  structureIds: uuid('structure_ids').array().notNull().default(sql`'{}'`),
  createdBy: uuid('created_by').references(() => users.id),
  createdAt: ts('created_at').notNull().defaultNow(),
  lastUsedAt: ts('last_used_at'),
  lastUsedIp: text('last_used_ip'),
  revokedAt: ts('revoked_at'),
  revokedBy: uuid('revoked_by').references(() => users.id),
});
