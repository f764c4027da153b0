// « Fiche remise le … », « Courriel envoyé le … »: the last hand-outs of an account (publipostage/tracking.ts), as
// the user page and the class view show them. Pure.
import type { LastDistribution } from '../publipostage/tracking.js';
import { html, type SafeHtml } from './html.js';
import { translator, type Lang } from './i18n/index.js';

const DAY = {
  fr: new Intl.DateTimeFormat('fr-FR', { day: 'numeric', month: 'long', year: 'numeric', timeZone: 'Europe/Paris' }),
  en: new Intl.DateTimeFormat('en-GB', { day: 'numeric', month: 'long', year: 'numeric', timeZone: 'Europe/Paris' }),
};

/**
 * One line per kind handed out (sheet, mail) of the account's current code, or « Aucune fiche ni courriel remis » in
 * muted text. Hand-outs of a former code only (regenerated or replaced since: a dead code) do not count: « Code actuel
 * pas encore remis », then what was given, worded as a former code's (« Fiche (code précédent) remise le … »).
 */
export function handedOut(lang: Lang, last: LastDistribution | undefined, o: { compact?: boolean } = {}): SafeHtml {
  const _ = translator(lang);
  const lines: string[] = [];
  if (last?.sheet) lines.push(_('track.sheet', { date: DAY[lang].format(last.sheet) }));
  if (last?.mail) lines.push(_('track.mail', { date: DAY[lang].format(last.mail) }));
  if (lines.length) return html`<span class="handed-out${o.compact ? ' muted' : ''}" data-handed-out>${lines.map((l, i) => html`${i ? html`<br>` : ''}${l}`)}</span>`;
  const former: string[] = [];
  if (last?.formerSheet) former.push(_('track.formerSheet', { date: DAY[lang].format(last.formerSheet) }));
  if (last?.formerMail) former.push(_('track.formerMail', { date: DAY[lang].format(last.formerMail) }));
  if (former.length) {
    const said = o.compact ? former : [_('track.notYet'), ...former];
    return html`<span class="handed-out muted" data-handed-out="former">${said.map((l, i) => html`${i ? html`<br>` : ''}${l}`)}</span>`;
  }
  return o.compact ? html`` : html`<span class="muted" data-handed-out="none">${_('track.never')}</span>`;
}
