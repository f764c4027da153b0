// /console: the admin console. Choose a structure, then its home (accounts and activation per profile,
// activation rate per class); users, imports/exports (publipostage, import, mail runs), duplicates and
// templates live beside this file, all in the one page frame of frame.ts.
// One guard for the whole area: guard('localadmin') (super admins pass); every query goes through the
// caller's Scope, so a local admin never sees, nor learns the existence of, another school.
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { z } from 'zod';
import { foldName } from '../../directory/fold.js';
import { structureHome } from '../../directory/stats.js';
import { createStructure, listStructures, parseUai, tidySchoolName } from '../../directory/structures.js';
import { withTransaction } from '../../accounts/tx.js';
import type { FieldErrors } from '../forms.js';
import { viewEnv } from '../view.js';
import { typed, type AreaOptions } from '../area.js';
import { guard, HttpError, viewer } from '../context.js';
import { html } from '../html.js';
import { translator } from '../i18n/index.js';
import { text } from '../input.js';
import { registerNav } from '../layout.js';
import duplicates from './duplicates.js';
import { schoolBase, sendConsolePage } from './frame.js';
import importScreens from './import.js';
import publipostage from './publipostage.js';
import runs from './runs.js';
import templates from './templates.js';
import users from './users.js';
import handoutScreens from './handout.js';
import wordScreens from './word.js';
import accountAdmin from './account-admin.js';
import federationConsole from './federation.js';
import settings, { signInSection } from './settings.js';
import unattachedScreen from './unattached.js';
import { countUnattached } from '../../directory/unattached.js';
import { hasRole } from '../auth.js';
import { chooseView, homeView, NEW_SCHOOL_NAME_MAX, newSchoolView } from './views/home.js';
import { activitySection, ActivityQuery } from './activity.js';

/** What « Nouvel établissement » says of a conflict (NewStructureConflict), by field and reason. */
const CONFLICT_MESSAGE = {
  uai: { same: 'console.newSchool.uaiTaken', key: 'console.newSchool.uaiNamesOther' },
  name: { same: 'console.newSchool.nameTaken', key: 'console.newSchool.nameNamesOther' },
} as const;

export default async function consoleArea(root: FastifyInstance, { ctx }: AreaOptions): Promise<void> {
  registerNav({ href: '/console', labelKey: 'nav.console', roles: ['localadmin'], order: 10 });
  root.addHook('preValidation', guard('localadmin'));
  const app = typed(root);

  // ------------------------------------------------------------------------------------------ choose a structure

  app.get('/', { schema: { querystring: z.object({ q: text(100) }) } }, async (req, reply) => {
    const lang = req.lang;
    const _ = translator(lang);
    const { user, scope } = viewer(req);
    // The super admin's way to the accounts of no school (« Comptes sans établissement »), when there are some:
    // counted while the schools are (each reads the whole directory's memberships, about 0.3 s at a million).
    const superAdmin = hasRole(user, 'superadmin');
    const [all, unattached] = await Promise.all([listStructures(ctx, scope), superAdmin ? countUnattached(ctx) : 0]);
    // A super admin stays on the list: « Nouvel établissement » is there.
    if (all.length === 1 && !unattached && !superAdmin) return reply.redirect(schoolBase(all[0].id), 303);
    const q = req.query.q.trim();
    const list = q ? all.filter((s) => foldName(`${s.name} ${s.uai ?? ''}`).includes(foldName(q))) : all;
    return sendConsolePage(reply, {
      req,
      title: _('console.choose.title'),
      lead: all.length ? _('console.choose.lead') : null,
      body: chooseView(lang, all.length, list, q, unattached, superAdmin),
    });
  });

  // ------------------------------------------------------------------------------------------ a new school (super admin)

  const newSchoolPage = (req: FastifyRequest, reply: FastifyReply, form: { name: string; uai: string; errors: FieldErrors }, status = 200) => {
    const _ = translator(req.lang);
    return sendConsolePage(reply, { req, title: _('console.newSchool.title'), lead: _('console.newSchool.lead'), body: newSchoolView(viewEnv(req), form) }, status);
  };

  app.get('/etablissements/nouveau', async (req, reply) => {
    if (!hasRole(viewer(req).user, 'superadmin')) throw new HttpError(403, 'error.forbidden');
    return newSchoolPage(req, reply, { name: '', uai: '', errors: {} });
  });

  app.post('/etablissements', { schema: { body: z.object({ name: text(1000), uai: text(100) }) } }, async (req, reply) => {
    const { user } = viewer(req);
    if (!hasRole(user, 'superadmin')) throw new HttpError(403, 'error.forbidden');
    const _ = translator(req.lang);
    const { name, uai } = req.body;
    const errors: FieldErrors = {};
    const cleanName = tidySchoolName(name);
    if (!cleanName) errors.name = _('console.newSchool.nameEmpty');
    else if (cleanName.length > NEW_SCHOOL_NAME_MAX) errors.name = _('console.newSchool.nameLong', { max: NEW_SCHOOL_NAME_MAX });
    // « !!! », « --- »: nothing an import could find it by, nothing a letter could print.
    else if (!foldName(cleanName)) errors.name = _('console.newSchool.nameNoLetter');
    const parsed = parseUai(uai);
    if ('error' in parsed) errors.uai = parsed.error === 'key' ? _('console.newSchool.uaiKey', { expected: parsed.expected }) : _('console.newSchool.uaiFormat');
    if (Object.keys(errors).length || 'error' in parsed) return newSchoolPage(req, reply, { name, uai, errors }, 422);
    const made = await withTransaction(ctx.database.pool, (c) => createStructure(c, user.id, { name: cleanName, uai: parsed.uai })).catch((e: unknown) => {
      // Two super admins creating the same UAI at once: the second meets the unique index.
      if ((e as { code?: string }).code === '23505') return { conflict: { field: 'uai' as const, reason: 'same' as const, name: parsed.uai ?? '', uai: null } };
      throw e;
    });
    if ('conflict' in made) {
      const key = CONFLICT_MESSAGE[made.conflict.field][made.conflict.reason];
      const other = { other: made.conflict.name, uai: made.conflict.uai ? ` (UAI ${made.conflict.uai})` : '' };
      return newSchoolPage(req, reply, { name, uai, errors: { [made.conflict.field]: _(key, other) } }, 409);
    }
    return reply.redirect(`${schoolBase(made.id)}/import?cree=1`, 303);
  });

  // ------------------------------------------------------------------------------------------ home of a structure

  app.get('/etablissements/:id', { schema: { params: z.object({ id: z.string().max(100) }), querystring: ActivityQuery } }, async (req, reply) => {
    const lang = req.lang;
    const _ = translator(lang);
    const home = await structureHome(ctx, viewer(req).scope, req.params.id);
    if (!home) throw new HttpError(404, 'console.schoolNotFound');
    const school = home.structure;
    return sendConsolePage(reply, {
      req,
      title: _('home.title'),
      school,
      section: 'home',
      body: html`${homeView(lang, home)}${await activitySection(ctx, lang, home, req.query)}${await signInSection(ctx, lang, school.id)}`,
    });
  });

  await users(root, ctx);
  await publipostage(root, ctx);
  await runs(root, ctx);
  await importScreens(root, ctx);
  await duplicates(root, ctx);
  await templates(root, ctx);
  await settings(root, ctx);
  await accountAdmin(root, ctx);
  await federationConsole(root, ctx);
  await unattachedScreen(root, ctx);
  await handoutScreens(root, ctx);
  await wordScreens(root, ctx);
}
