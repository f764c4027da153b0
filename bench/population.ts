// The accounts the scale benchmarks run on, of the shape of an AAF feed (../shared/fixtures/aaf-2013): collèges
// of 2,500 accounts (students in 20 classes of 5 levels, their parents, teachers, staff). Written set-wise by
// bench/data.ts's generator; one function to swap for a feed-file generator (an import of generated AAF files).
import type { AppContext } from '../src/context.js';
import { generateAccounts } from './data.js';

export interface Population {
  structureIds: string[];
  /** A class, its level and its school, for the filters. */
  classId: string;
  levelId: string;
  structureId: string;
}

/** `accounts` accounts (rounded to whole collèges), levels attached to classes, then VACUUM ANALYZE. */
export async function populate(ctx: AppContext, accounts: number): Promise<Population> {
  const structureIds = await generateAccounts(ctx, Math.max(1, Math.round(accounts / 2500)));
  const pool = ctx.database.pool;
  // Levels (6e … 3e) from the class names, as the AAF's MEF codes give them.
  await pool.query(`INSERT INTO levels (structure_id, name) SELECT DISTINCT structure_id, left(name, 1) || 'e' FROM classes ON CONFLICT DO NOTHING`);
  await pool.query(`UPDATE classes c SET level_id = l.id FROM levels l WHERE l.structure_id = c.structure_id AND l.name = left(c.name, 1) || 'e'`);
  await pool.query('VACUUM ANALYZE');
  const structureId = structureIds[Math.floor(structureIds.length / 2)];
  const c = (await pool.query(`SELECT id, level_id FROM classes WHERE structure_id = $1 ORDER BY name LIMIT 1 OFFSET 7`, [structureId])).rows[0];
  return { structureIds, classId: c.id, levelId: c.level_id, structureId };
}
