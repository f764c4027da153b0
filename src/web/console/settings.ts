// Console › a school › "Paramètres des comptes" (issue #9): per profile, how accounts sign in (Trousseau code,
// an external provider named freely, or both), the activation policy (e-mail / phone required, minimum password
// length) and the lifecycle delays; for the school, the terms of use (a new version asks everyone again) and what
// teachers may do in their class view. One GET form, one POST; works without JavaScript. Domain: directory/policies.ts.
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { z } from 'zod';
import type { AppContext } from '../../context.js';
import { PROFILES, type Profile } from '../../directory/vocabulary.js';
import {
  loadPolicies, loadStructureSettings, PolicyInputSchema, savePolicy, saveStructureSettings, signInSummary, TEACHER_RIGHTS,
  type PolicyInput, type ProfilePolicy, type StructureSettings, type TeacherRight,
} from '../../directory/policies.js';
import { withTransaction } from '../../accounts/tx.js';
import { typed } from '../area.js';
import { viewer } from '../context.js';
import { csrfField } from '../forms.js';
import { html, type SafeHtml } from '../html.js';
import { translator, type Lang, type MessageKey } from '../i18n/index.js';
import { IdParams, list, text } from '../input.js';
import { profileLabel } from '../labels.js';
import { formatNumber, schoolBase, schoolOr404, sendConsolePage, type School } from './frame.js';

export const settingsHref = (schoolId: string) => `${schoolBase(schoolId)}/parametres`;

/** Console home: per profile, how accounts sign in and how many have (activated, signed in once). */
export async function signInSection(ctx: AppContext, lang: Lang, schoolId: string): Promise<SafeHtml> {
  const _ = translator(lang);
  const rows = await signInSummary(ctx.database.pool, schoolId);
  const how = (r: { signIn: string; provider: string | null }) =>
    r.signIn === 'code' ? _('settings.signIn.code') : r.signIn === 'external' ? (r.provider ?? '') : `${_('settings.signIn.code')} + ${r.provider}`;
  return html`<section aria-labelledby="signin-title" data-sign-in-summary><h2 id="signin-title">${_('settings.home.title')}</h2>
<div class="table-wrap"><table class="stats-table">
  <thead><tr><th scope="col">${_('home.col.profile')}</th><th scope="col">${_('settings.col.signIn')}</th>
    <th scope="col" class="num">${_('home.col.accounts')}</th><th scope="col" class="num">${_('settings.col.signedIn')}</th></tr></thead>
  <tbody>${rows.map((r) => html`<tr data-sign-in="${r.profile}"><th scope="row">${profileLabel(lang, r.profile)}</th>
    <td data-how>${how(r)}</td><td class="num">${formatNumber(lang, r.total)}</td>
    <td class="num" data-signed-in>${formatNumber(lang, r.signedIn)}</td></tr>`)}</tbody>
</table></div>
<p><a href="${settingsHref(schoolId)}">${_('settings.title')}</a></p></section>`;
}

interface FormState {
  policies: ProfilePolicy[];
  settings: StructureSettings;
  errors: string[];
  ok?: boolean;
}

function page(req: FastifyRequest, reply: FastifyReply, school: School, st: FormState, status = 200) {
  const lang = req.lang;
  const _ = translator(lang);
  const row = (p: ProfilePolicy) => {
    const n = (k: string) => `${p.profile}.${k}`;
    const label = profileLabel(lang, p.profile);
    return html`<tr data-policy="${p.profile}">
  <th scope="row">${label}</th>
  <td><label class="visually-hidden" for="f-${n('signIn')}">${_('settings.col.signIn')} — ${label}</label>
    <select id="f-${n('signIn')}" name="${n('signIn')}">${(['code', 'external', 'both'] as const).map((v) => html`<option value="${v}"${p.signIn === v ? html` selected` : ''}>${_(`settings.signIn.${v}`)}</option>`)}</select></td>
  <td><label class="visually-hidden" for="f-${n('provider')}">${_('settings.col.provider')} — ${label}</label>
    <input id="f-${n('provider')}" name="${n('provider')}" value="${p.provider ?? ''}" maxlength="80" list="providers" size="14"></td>
  <td class="center"><input type="checkbox" id="f-${n('emailRequired')}" name="${n('emailRequired')}" value="on"${p.emailRequired ? html` checked` : ''} aria-label="${_('settings.col.emailRequired')} — ${label}"></td>
  <td class="center"><input type="checkbox" id="f-${n('phoneRequired')}" name="${n('phoneRequired')}" value="on"${p.phoneRequired ? html` checked` : ''} aria-label="${_('settings.col.phoneRequired')} — ${label}"></td>
  <td><input type="number" id="f-${n('minPasswordLength')}" name="${n('minPasswordLength')}" value="${p.minPasswordLength}" min="8" max="64" aria-label="${_('settings.col.minLength')} — ${label}"></td>
  <td><input type="number" id="f-${n('graceDays')}" name="${n('graceDays')}" value="${p.graceDays}" min="0" max="3650" aria-label="${_('settings.col.graceDays')} — ${label}"></td>
  <td><input type="number" id="f-${n('deletionDays')}" name="${n('deletionDays')}" value="${p.deletionDays}" min="0" max="3650" aria-label="${_('settings.col.deletionDays')} — ${label}"></td>
</tr>`;
  };
  return sendConsolePage(reply, {
    req,
    title: _('settings.title'),
    school,
    section: 'home',
    notice: st.errors.length
      ? { kind: 'error', text: st.errors.join(' ') }
      : st.ok ? { kind: 'success', text: _('settings.saved') } : null,
    lead: _('settings.lead'),
    body: html`<form method="post" action="${settingsHref(school.id)}" class="settings-form" data-settings>
${csrfField(req)}
<datalist id="providers"><option value="EduConnect"><option value="FranceConnect"><option value="IdP académique"></datalist>
<h2>${_('settings.policies')}</h2>
<div class="table-wrap"><table class="settings-table">
  <thead><tr><th scope="col">${_('home.col.profile')}</th><th scope="col">${_('settings.col.signIn')}</th><th scope="col">${_('settings.col.provider')}</th>
    <th scope="col">${_('settings.col.emailRequired')}</th><th scope="col">${_('settings.col.phoneRequired')}</th><th scope="col">${_('settings.col.minLength')}</th>
    <th scope="col">${_('settings.col.graceDays')}</th><th scope="col">${_('settings.col.deletionDays')}</th></tr></thead>
  <tbody>${st.policies.map(row)}</tbody>
</table></div>
<p class="hint">${_('settings.policies.hint')}</p>
<h2>${_('settings.teachers')}</h2>
<fieldset class="filter-group"><legend>${_('settings.teachers.legend')}</legend>
${TEACHER_RIGHTS.map((r) => html`<div class="choice"><input type="checkbox" id="f-right-${r}" name="teacherRights" value="${r}"${st.settings.teacherRights.includes(r) ? html` checked` : ''}><label for="f-right-${r}">${_(`settings.right.${r}`)}</label></div>`)}
</fieldset>
<h2>${_('settings.terms')}</h2>
<p class="muted" data-terms-version="${st.settings.termsVersion}">${st.settings.termsVersion ? _('settings.terms.version', { v: st.settings.termsVersion }) : _('settings.terms.none')}</p>
<div class="field"><label for="f-termsText">${_('settings.terms.text')}</label>
  <textarea id="f-termsText" name="termsText" rows="6" maxlength="20000">${st.settings.termsText ?? ''}</textarea></div>
<div class="choice"><input type="checkbox" id="f-newVersion" name="newVersion" value="on"><label for="f-newVersion">${_('settings.terms.newVersion')}</label></div>
<div class="actions"><button type="submit">${_('settings.save')}</button></div>
</form>`,
  }, status);
}

/** The settings form: five rows of `<Profile>.<field>`, the teachers' rights, the terms. */
const SettingsForm = z.object({
  ...Object.fromEntries(PROFILES.flatMap((p) => ['signIn', 'provider', 'emailRequired', 'phoneRequired', 'minPasswordLength', 'graceDays', 'deletionDays']
    .map((k) => [`${p}.${k}`, text(100)]))),
  teacherRights: list(20),
  termsText: text(20_000),
  newVersion: text(10),
}).passthrough();

export default async function consoleSettings(root: FastifyInstance, ctx: AppContext): Promise<void> {
  const app = typed(root);
  const pool = ctx.database.pool;

  app.get('/etablissements/:id/parametres', { schema: { params: IdParams, querystring: z.object({ ok: text(10) }) } }, async (req, reply) => {
    const school = await schoolOr404(ctx, viewer(req).scope, req.params.id);
    const [policies, settings] = await Promise.all([loadPolicies(pool, school.id), loadStructureSettings(pool, school.id)]);
    return page(req, reply, school, { policies, settings, errors: [], ok: req.query.ok === '1' });
  });

  app.post('/etablissements/:id/parametres', { schema: { params: IdParams, body: SettingsForm } }, async (req, reply) => {
    const _ = translator(req.lang);
    const school = await schoolOr404(ctx, viewer(req).scope, req.params.id);
    const body = req.body as Record<string, string | string[]>;
    const formValue = (_r: unknown, k: string): string => (typeof body[k] === 'string' ? (body[k] as string) : '');
    const errors: string[] = [];
    const inputs = new Map<Profile, PolicyInput>();
    const shown: ProfilePolicy[] = [];
    for (const profile of PROFILES) {
      const v = (k: string) => formValue(req, `${profile}.${k}`);
      const raw = {
        signIn: v('signIn') || 'code', provider: v('provider'), emailRequired: v('emailRequired') === 'on', phoneRequired: v('phoneRequired') === 'on',
        minPasswordLength: v('minPasswordLength'), graceDays: v('graceDays') || undefined, deletionDays: v('deletionDays') || undefined,
      };
      const r = PolicyInputSchema.safeParse(raw);
      if (r.success) {
        inputs.set(profile, r.data);
        shown.push({ profile, ...r.data });
      } else {
        const field = String(r.error.issues[0]?.path[0] ?? '');
        errors.push(_('settings.invalid', { profile: profileLabel(req.lang, profile), field: _(`settings.field.${field}` as MessageKey) }));
        shown.push({
          profile, signIn: (['code', 'external', 'both'].includes(raw.signIn) ? raw.signIn : 'code') as ProfilePolicy['signIn'], provider: raw.provider || null,
          emailRequired: raw.emailRequired, phoneRequired: raw.phoneRequired, minPasswordLength: Number(raw.minPasswordLength) || 0,
          graceDays: Number(raw.graceDays) || 0, deletionDays: Number(raw.deletionDays) || 0,
        });
      }
    }
    const rights = req.body.teacherRights.filter((r): r is TeacherRight => (TEACHER_RIGHTS as readonly string[]).includes(r));
    const termsText = formValue(req, 'termsText').slice(0, 20_000);
    if (errors.length) {
      const current = await loadStructureSettings(pool, school.id);
      // Nothing is saved: the form comes back as typed, with what is wrong named.
      return page(req, reply, school, { policies: shown, settings: { ...current, teacherRights: rights, termsText }, errors }, 400);
    }
    await withTransaction(pool, async (c) => {
      for (const [profile, input] of inputs) await savePolicy(c, school.id, profile, input, viewer(req).user.id);
      await saveStructureSettings(c, school.id, { teacherRights: rights, termsText, newVersion: formValue(req, 'newVersion') === 'on' }, viewer(req).user.id);
    });
    return reply.redirect(`${settingsHref(school.id)}?ok=1`, 303);
  });
}
