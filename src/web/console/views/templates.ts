// Views of "Modèles de courrier": one card per kind of text (sheet and mail, inactive and active accounts) with
// its merge fields, the reset confirmation and the mail preview. Pure functions of the templates
// (src/publipostage/templates.ts); console/templates.ts loads and saves them.
import type { Profile } from '../../../directory/vocabulary.js';
import { frenchDate } from '../../../publipostage/format.js';
import { MERGE_FIELDS, TEMPLATE_KINDS, type LetterTemplate, type TemplateKind, type TemplateSet } from '../../../publipostage/templates.js';
import { csrfField } from '../../forms.js';
import { html, type SafeHtml } from '../../html.js';
import { translator } from '../../i18n/index.js';
import { profileLabel } from '../../labels.js';
import type { ViewEnv } from '../../view.js';
import { schoolBase, sharedScript as pageScript, sharedStyle as pageStyle, type School } from '../frame.js';

export const PROFILE_SLUGS: Record<Profile, string> = {
  Student: 'eleves',
  Relative: 'parents',
  Teacher: 'enseignants',
  Personnel: 'personnels',
  Guest: 'invites',
};
export const isMail = (k: TemplateKind): boolean => k === 'mail_inactive' || k === 'mail_active';
export const templatesUrl = (id: string, profile: Profile): string => `/console/etablissements/${id}/modeles?profil=${PROFILE_SLUGS[profile]}`;

/** A text being edited that could not be saved: shown as typed, with what is wrong. */
export interface Draft {
  kind: TemplateKind;
  subject: string;
  body: string;
  errors: string[];
}

function kindCard(env: ViewEnv, structureId: string, t: LetterTemplate, draft: Draft | null): SafeHtml {
  const _ = translator(env.lang);
  const k = t.kind;
  const subject = draft?.subject ?? t.subject ?? '';
  const body = draft?.body ?? t.body;
  const bodyId = `body-${k}`;
  const action = `${schoolBase(structureId)}/modeles`;
  return html`<section class="card template-card" id="${k}" aria-labelledby="h-${k}">
<h2 id="h-${k}">${_(`tpl.kind.${k}`)} <span class="badge${t.source === 'structure' ? ' badge-success' : ''}">${_(`tpl.source.${t.source}`)}</span></h2>
<p class="hint">${_(`tpl.kindHelp.${k}`)}${t.updatedAt ? ` ${_('tpl.updatedAt', { date: frenchDate(t.updatedAt) })}` : ''}</p>
${draft?.errors.length ? html`<div class="notice notice-error" role="alert"><ul>${draft.errors.map((e) => html`<li>${e}</li>`)}</ul></div>` : ''}
<form method="post" action="${action}">
  ${csrfField(env)}
  <input type="hidden" name="profile" value="${t.profile}">
  <input type="hidden" name="kind" value="${k}">
  ${
    isMail(k)
      ? html`<div class="field"><label for="subject-${k}">${_('tpl.subject')}</label>
    <input type="text" id="subject-${k}" name="subject" value="${subject}" maxlength="300" data-merge-target></div>`
      : ''
  }
  <div class="field"><label for="${bodyId}">${_('tpl.body')}</label>
    <textarea id="${bodyId}" name="body" rows="${isMail(k) ? 14 : 10}" spellcheck="true" data-merge-target>${body}</textarea></div>
  <div class="merge-fields">
    <p class="hint">${_('tpl.fieldsHelp')}</p>
    <ul class="plain">${MERGE_FIELDS.map((f) => html`<li><button type="button" class="button-secondary merge-field" data-insert="{${f.name}}" data-target="${bodyId}" aria-describedby="${bodyId}-${f.name}"><code>{${f.name}}</code></button> <span class="muted" id="${bodyId}-${f.name}">${_(`tpl.field.${f.name}`)}</span></li>`)}</ul>
  </div>
  <div class="actions">
    <button type="submit" name="action" value="save">${_('tpl.save')}</button>
    <button type="submit" class="button-secondary" formaction="${action}/apercu" formtarget="_blank">${_('tpl.preview')}</button>
    ${t.source === 'structure' ? html`<button type="submit" name="action" value="reset" class="button-link">${_('tpl.reset')}</button>` : ''}
  </div>
</form>
</section>`;
}

/** Every kind of text of one profile; `draft` replaces the stored text of its kind. */
export function editorView(env: ViewEnv, school: School, set: TemplateSet, profile: Profile, draft?: Draft): SafeHtml {
  const _ = translator(env.lang);
  return html`${pageStyle}
<p class="lead">${_('tpl.lead')}</p>
${profile === 'Student' ? html`<p class="hint">${_('tpl.youngPupils')}</p>` : ''}
${TEMPLATE_KINDS.map((k) => kindCard(env, school.id, set.get(profile, k), draft?.kind === k ? draft : null))}
${pageScript}`;
}

/** "Rétablir le modèle par défaut" asks first. */
export function resetConfirmView(env: ViewEnv, school: School, profile: Profile, kind: TemplateKind): SafeHtml {
  const _ = translator(env.lang);
  return html`<p class="lead">${_('tpl.reset.lead', { kind: _(`tpl.kind.${kind}`), profile: profileLabel(env.lang, profile), school: school.name })}</p>
<form method="post" action="/console/etablissements/${school.id}/modeles">
  ${csrfField(env)}
  <input type="hidden" name="profile" value="${profile}">
  <input type="hidden" name="kind" value="${kind}">
  <div class="actions"><button type="submit" name="action" value="reset-confirm" class="button-danger">${_('tpl.reset')}</button>
    <a href="${templatesUrl(school.id, profile)}#${kind}">${_('classe.cancel')}</a></div>
</form>`;
}

/** A mail rendered for the sample account. */
export function mailPreviewView(env: ViewEnv, subject: string, body: string): SafeHtml {
  const _ = translator(env.lang);
  return html`${pageStyle}<article class="card mail-preview">
  <p><strong>${_('tpl.subject')}${_('colon')}</strong> ${subject}</p>
  <pre class="mail-body">${body}</pre>
</article>`;
}

/** What is wrong with a text, one item each. */
export function errorList(errors: string[]): SafeHtml {
  return html`<ul>${errors.map((e) => html`<li>${e}</li>`)}</ul>`;
}
