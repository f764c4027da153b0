// Views of "Paramètres des comptes" (issue #9) and the console home's sign-in summary: pure functions of the
// policies and settings (src/directory/policies.ts) console/settings.ts loads.
import { TEACHER_RIGHTS, type ProfilePolicy, type StructureSettings } from '../../../directory/policies.js';
import { csrfField } from '../../forms.js';
import { html, type SafeHtml } from '../../html.js';
import { translator, type Lang } from '../../i18n/index.js';
import { profileLabel } from '../../labels.js';
import { NOTICE_ID } from '../../layout.js';
import type { ViewEnv } from '../../view.js';
import { formatNumber, schoolBase, type School } from '../frame.js';

export const settingsHref = (schoolId: string): string => `${schoolBase(schoolId)}/parametres`;

/** Per profile: how accounts sign in, how many there are and how many have signed in once. */
export interface SignInRow {
  profile: string;
  signIn: string;
  provider: string | null;
  total: number;
  signedIn: number;
}

/** Console home: per profile, how accounts sign in and how many have (activated, signed in once). */
export function signInSummaryView(lang: Lang, schoolId: string, rows: SignInRow[]): SafeHtml {
  const _ = translator(lang);
  const how = (r: { signIn: string; provider: string | null }) =>
    r.signIn === 'code' ? _('settings.signIn.code') : r.signIn === 'external' ? (r.provider ?? '') : `${_('settings.signIn.code')} + ${r.provider}`;
  return html`<section aria-labelledby="signin-title" data-sign-in-summary><h2 id="signin-title">${_('settings.home.title')}</h2>
<div class="table-wrap"><table class="stats-table">
  <thead><tr><th scope="col">${_('home.col.profile')}</th><th scope="col">${_('settings.col.signIn')}</th>
    <th scope="col" class="num">${_('home.col.accounts')}</th><th scope="col" class="num">${_('settings.col.signedIn')}</th></tr></thead>
  <tbody>${rows.map(
    (r) => html`<tr data-sign-in="${r.profile}"><th scope="row">${profileLabel(lang, r.profile)}</th>
    <td data-how>${how(r)}</td><td class="num">${formatNumber(lang, r.total)}</td>
    <td class="num" data-signed-in>${formatNumber(lang, r.signedIn)}</td></tr>`,
  )}</tbody>
</table></div>
<p><a href="${settingsHref(schoolId)}">${_('settings.title')}</a></p></section>`;
}

/** The settings form: one row per profile, the teachers' rights, the terms of use. */
export function settingsFormView(env: ViewEnv, school: School, st: { policies: ProfilePolicy[]; settings: StructureSettings; invalid?: string[] }): SafeHtml {
  const { lang } = env;
  const _ = translator(lang);
  const row = (p: ProfilePolicy) => {
    const n = (k: string) => `${p.profile}.${k}`;
    // A refused field says so and is described by the notice naming the problem (focused on load: NOTICE_ID).
    const bad = (k: string) => (st.invalid?.includes(n(k)) ? html` aria-invalid="true" aria-describedby="${NOTICE_ID}"` : '');
    const label = profileLabel(lang, p.profile);
    return html`<tr data-policy="${p.profile}">
  <th scope="row">${label}</th>
  <td><label class="visually-hidden" for="f-${n('signIn')}">${_('settings.col.signIn')} — ${label}</label>
    <select id="f-${n('signIn')}" name="${n('signIn')}"${bad('signIn')}>${(['code', 'external', 'both'] as const).map((v) => html`<option value="${v}"${p.signIn === v ? html` selected` : ''}>${_(`settings.signIn.${v}`)}</option>`)}</select></td>
  <td><label class="visually-hidden" for="f-${n('provider')}">${_('settings.col.provider')} — ${label}</label>
    <input type="text" id="f-${n('provider')}" name="${n('provider')}"${bad('provider')} value="${p.provider ?? ''}" maxlength="80" list="providers"></td>
  <td class="center"><input type="checkbox" id="f-${n('emailRequired')}" name="${n('emailRequired')}" value="on"${p.emailRequired ? html` checked` : ''} aria-label="${_('settings.col.emailRequired')} — ${label}"></td>
  <td class="center"><input type="checkbox" id="f-${n('phoneRequired')}" name="${n('phoneRequired')}" value="on"${p.phoneRequired ? html` checked` : ''} aria-label="${_('settings.col.phoneRequired')} — ${label}"></td>
  <td><input type="number" id="f-${n('minPasswordLength')}" name="${n('minPasswordLength')}"${bad('minPasswordLength')} value="${p.minPasswordLength}" min="8" max="64" aria-label="${_('settings.col.minLength')} — ${label}"></td>
  <td><input type="number" id="f-${n('graceDays')}" name="${n('graceDays')}"${bad('graceDays')} value="${p.graceDays}" min="0" max="3650" aria-label="${_('settings.col.graceDays')} — ${label}"></td>
  <td><input type="number" id="f-${n('deletionDays')}" name="${n('deletionDays')}"${bad('deletionDays')} value="${p.deletionDays}" min="0" max="3650" aria-label="${_('settings.col.deletionDays')} — ${label}"></td>
</tr>`;
  };
  return html`<form method="post" action="${settingsHref(school.id)}" class="settings-form" data-settings>
${csrfField(env)}
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
</form>`;
}
