// Console › a school › "Paramètres des comptes" (issue #9): per profile, how accounts sign in (Trousseau code,
// an external provider named freely, or both), the activation policy (e-mail / phone required, minimum password
// length) and the lifecycle delays; for the school, the terms of use (a new version asks everyone again) and what
// teachers may do in their class view. One GET form, one POST; works without JavaScript. Domain: directory/policies.ts.
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { z } from 'zod';
import type { AppContext } from '../../context.js';
import { PROFILES, type Profile } from '../../directory/vocabulary.js';
import {
  loadPolicies,
  loadStructureSettings,
  PolicyInputSchema,
  savePolicy,
  saveStructureSettings,
  signInSummary,
  TEACHER_RIGHTS,
  type PolicyInput,
  type ProfilePolicy,
  type StructureSettings,
  type TeacherRight,
} from '../../directory/policies.js';
import { withTransaction } from '../../accounts/tx.js';
import { typed } from '../area.js';
import { viewer } from '../context.js';
import type { SafeHtml } from '../html.js';
import { plural, translator, type Lang, type MessageKey } from '../i18n/index.js';
import { IdParams, list, text } from '../input.js';
import { profileLabel } from '../labels.js';
import { schoolOr404, sendConsolePage, type School } from './frame.js';
import { settingsFormView, settingsHref, signInSummaryView } from './views/settings.js';
import { viewEnv } from '../view.js';

/** Console home: per profile, how accounts sign in and how many have (activated, signed in once). */
export async function signInSection(ctx: AppContext, lang: Lang, schoolId: string): Promise<SafeHtml> {
  return signInSummaryView(lang, schoolId, await signInSummary(ctx.database.pool, schoolId));
}

interface FormState {
  policies: ProfilePolicy[];
  settings: StructureSettings;
  errors: string[];
  /** The fields the errors are about (`<Profile>.<field>`): marked invalid and described by the notice. */
  invalid?: string[];
  ok?: boolean;
  /** After a save with a profile on 'external': the password sessions it ended (savePolicy). */
  sessionsEnded?: number;
  /** Saved policies whose accounts cannot sign in at all (unreachablePolicies). */
  unreachable?: ProfilePolicy[];
}

/**
 * The 'external' policies of `schoolId` no configured provider serves there: none whose label is the policy's provider
 * name is enabled for the school and the profile (federation_enabled). Their accounts get no code, and the sign-in page
 * offers no button for them: locked out. (Relatives may still reach a provider through a child's other school.)
 */
async function unreachablePolicies(ctx: AppContext, schoolId: string, policies: ProfilePolicy[]): Promise<ProfilePolicy[]> {
  const external = policies.filter((p) => p.signIn === 'external');
  if (!external.length) return [];
  const enabled = await ctx.database.pool.query<{ provider_id: string; profile: string }>('SELECT provider_id, profile FROM federation_enabled WHERE structure_id = $1', [schoolId]);
  const served = new Set(
    enabled.rows.flatMap((r) => {
      const p = ctx.config.federation.get(r.provider_id);
      return p ? [`${r.profile}\u0000${p.label.trim().toLowerCase()}`] : [];
    }),
  );
  return external.filter((p) => !served.has(`${p.profile}\u0000${(p.provider ?? '').trim().toLowerCase()}`));
}

function page(req: FastifyRequest, reply: FastifyReply, school: School, st: FormState, status = 200) {
  const _ = translator(req.lang);
  const ended = st.sessionsEnded === undefined ? '' : st.sessionsEnded === 0 ? _('settings.sessionsEnded.none') : plural(req.lang, 'settings.sessionsEnded', st.sessionsEnded);
  const saved = ended ? `${_('settings.saved')} ${ended}` : _('settings.saved');
  return sendConsolePage(
    reply,
    {
      req,
      title: _('settings.title'),
      school,
      section: 'settings',
      notice: st.errors.length
        ? { kind: 'error', text: st.errors.join(' ') }
        : st.unreachable?.length
          ? {
              kind: 'error',
              text: [...(st.ok ? [saved] : []), ...st.unreachable.map((p) => _('settings.unreachable', { profile: profileLabel(req.lang, p.profile), provider: p.provider ?? '' }))].join(' '),
            }
          : st.ok
            ? { kind: 'success', text: saved }
            : null,
      lead: _('settings.lead'),
      body: settingsFormView(viewEnv(req), school, st),
    },
    status,
  );
}

/** The settings form: five rows of `<Profile>.<field>`, the teachers' rights, the terms. */
const SettingsForm = z
  .object({
    ...Object.fromEntries(PROFILES.flatMap((p) => ['signIn', 'provider', 'emailRequired', 'phoneRequired', 'minPasswordLength', 'graceDays', 'deletionDays'].map((k) => [`${p}.${k}`, text(100)]))),
    teacherRights: list(20),
    termsText: text(20_000),
    newVersion: text(10),
  })
  .passthrough();

export default async function consoleSettings(root: FastifyInstance, ctx: AppContext): Promise<void> {
  const app = typed(root);
  const pool = ctx.database.pool;

  app.get('/etablissements/:id/parametres', { schema: { params: IdParams, querystring: z.object({ ok: text(10), fermees: text(10) }) } }, async (req, reply) => {
    const school = await schoolOr404(ctx, viewer(req).scope, req.params.id);
    const [policies, settings] = await Promise.all([loadPolicies(pool, school.id), loadStructureSettings(pool, school.id)]);
    const unreachable = await unreachablePolicies(ctx, school.id, policies);
    const ended = /^\d{1,9}$/.test(req.query.fermees ?? '') ? Number(req.query.fermees) : undefined;
    return page(req, reply, school, { policies, settings, errors: [], ok: req.query.ok === '1', sessionsEnded: ended, unreachable });
  });

  app.post('/etablissements/:id/parametres', { schema: { params: IdParams, body: SettingsForm } }, async (req, reply) => {
    const _ = translator(req.lang);
    const school = await schoolOr404(ctx, viewer(req).scope, req.params.id);
    const body = req.body as Record<string, string | string[]>;
    const formValue = (_r: unknown, k: string): string => (typeof body[k] === 'string' ? (body[k] as string) : '');
    const errors: string[] = [];
    const invalid: string[] = [];
    const inputs = new Map<Profile, PolicyInput>();
    const shown: ProfilePolicy[] = [];
    for (const profile of PROFILES) {
      const v = (k: string) => formValue(req, `${profile}.${k}`);
      const raw = {
        signIn: v('signIn') || 'code',
        provider: v('provider'),
        emailRequired: v('emailRequired') === 'on',
        phoneRequired: v('phoneRequired') === 'on',
        minPasswordLength: v('minPasswordLength'),
        graceDays: v('graceDays') || undefined,
        deletionDays: v('deletionDays') || undefined,
      };
      const r = PolicyInputSchema.safeParse(raw);
      if (r.success) {
        inputs.set(profile, r.data);
        shown.push({ profile, ...r.data });
      } else {
        const field = String(r.error.issues[0]?.path[0] ?? '');
        // An external provider left empty is missing, not invalid.
        const key = field === 'provider' && !raw.provider.trim() ? 'settings.missing' : 'settings.invalid';
        errors.push(_(key, { profile: profileLabel(req.lang, profile), field: _(`settings.field.${field}` as MessageKey) }));
        invalid.push(`${profile}.${field}`);
        shown.push({
          profile,
          signIn: (['code', 'external', 'both'].includes(raw.signIn) ? raw.signIn : 'code') as ProfilePolicy['signIn'],
          provider: raw.provider || null,
          emailRequired: raw.emailRequired,
          phoneRequired: raw.phoneRequired,
          minPasswordLength: Number(raw.minPasswordLength) || 0,
          graceDays: Number(raw.graceDays) || 0,
          deletionDays: Number(raw.deletionDays) || 0,
        });
      }
    }
    const rights = req.body.teacherRights.filter((r): r is TeacherRight => (TEACHER_RIGHTS as readonly string[]).includes(r));
    const termsText = formValue(req, 'termsText').slice(0, 20_000);
    // An external-only profile no enabled provider serves could not sign in at all (its passwords are refused:
    // passwordRefusedSql): refused before anything is saved, a local admin's own profile included.
    if (!errors.length) {
      for (const p of await unreachablePolicies(ctx, school.id, shown)) {
        errors.push(_('settings.unreachable.refused', { profile: profileLabel(req.lang, p.profile), provider: p.provider ?? '' }));
        invalid.push(`${p.profile}.provider`);
      }
    }
    if (errors.length) {
      const current = await loadStructureSettings(pool, school.id);
      // Nothing is saved: the form comes back as typed, with what is wrong named.
      return page(req, reply, school, { policies: shown, settings: { ...current, teacherRights: rights, termsText }, errors, invalid }, 400);
    }
    // A profile saved as 'external' ends the password sign-ins its setting now refuses (savePolicy): said on the page.
    const ended = await withTransaction(pool, async (c) => {
      let n = 0;
      for (const [profile, input] of inputs) n += await savePolicy(c, school.id, profile, input, viewer(req).user.id);
      await saveStructureSettings(c, school.id, { teacherRights: rights, termsText, newVersion: formValue(req, 'newVersion') === 'on' }, viewer(req).user.id);
      return n;
    });
    const external = [...inputs.values()].some((p) => p.signIn === 'external');
    return reply.redirect(`${settingsHref(school.id)}?ok=1${external ? `&fermees=${ended}` : ''}`, 303);
  });
}
