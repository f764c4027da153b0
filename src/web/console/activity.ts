// The console home's activation chart and funnel (issue #10): the query (?profil=, ?classe=) to the figures.
import { z } from 'zod';
import type { AppContext } from '../../context.js';
import { structureActivity } from '../../directory/activity.js';
import type { StructureHome } from '../../directory/stats.js';
import { PROFILES, type Profile } from '../../directory/vocabulary.js';
import type { SafeHtml } from '../html.js';
import type { Lang } from '../i18n/index.js';
import { text } from '../input.js';
import { schoolBase } from './frame.js';
import { activityView } from './views/activity.js';

/** An unknown profile or a class of another school reads as « Tous » (a hand-edited URL still shows the page). */
export const ActivityQuery = z.object({ profil: text(20), classe: text(100) });

export async function activitySection(ctx: AppContext, lang: Lang, home: StructureHome, q: z.infer<typeof ActivityQuery>): Promise<SafeHtml> {
  const profile = (PROFILES as readonly string[]).includes(q.profil) ? (q.profil as Profile) : undefined;
  const classId = home.classes.some((c) => c.id === q.classe) ? q.classe : undefined;
  const activity = await structureActivity(ctx.database.pool, home.structure.id, { profile, classId });
  return activityView(lang, { activity, action: schoolBase(home.structure.id), profile, classId, classes: home.classes });
}
