// One selection model for preview, PDF, CSV and email alike (filters of "Publipostage des comptes").
import { z } from 'zod';
import { PROFILES } from '../db/schema.js';

const csvList = <T extends z.ZodTypeAny>(item: T) =>
  z.preprocess((v) => (typeof v === 'string' ? (v === '' ? [] : v.split(',')) : v), z.array(item));

export const SelectionSchema = z.object({
  structureId: z.string().uuid().optional(),
  profiles: csvList(z.enum(PROFILES)).default([]),
  classIds: csvList(z.string().uuid()).default([]),
  levelIds: csvList(z.string().uuid()).default([]),
  /** Explicit rows ticked in a list (class view). */
  userIds: csvList(z.string().uuid()).default([]),
  activation: z.enum(['all', 'active', 'inactive']).default('all'),
  email: z.enum(['all', 'with', 'without']).default('all'),
  localAdmins: z.enum(['all', 'only', 'exclude']).default('all'),
  createdBefore: z.string().regex(/^\d{4}-\d{2}-\d{2}$/).optional(),
  createdAfter: z.string().regex(/^\d{4}-\d{2}-\d{2}$/).optional(),
  preDeletion: z.enum(['all', 'pending', 'not']).default('all'),
  origin: z.enum(['all', 'feed', 'manual']).default('all'),
  search: z.string().max(100).optional(),
  sort: z.enum(['alpha', 'profile', 'class']).default('alpha'),
});
export type Selection = z.infer<typeof SelectionSchema>;
export type SortOrder = Selection['sort'];

export interface ChildInfo {
  firstName: string;
  lastName: string;
  classes: string[];
}

/** One selected account, as every output (preview, PDF, CSV, mail) needs it. */
export interface AccountRow {
  id: string;
  lastName: string;
  firstName: string;
  profile: (typeof PROFILES)[number];
  login: string;
  activated: boolean;
  /** Decrypted activation code (canonical, ungrouped) for inactive accounts, else null. */
  code: string | null;
  codeExpiresAt: Date | null;
  email: string | null;
  birthDate: string | null;
  classes: string[];
  structureName: string;
  createdAt: Date;
  origin: 'feed' | 'manual';
  preDeleted: boolean;
  blocked: boolean;
  isLocalAdmin: boolean;
  /** For a relative: the children, with their classes. */
  children: ChildInfo[];
}
