// « Fiche remise le … », « Courriel envoyé le … »: the last hand-outs of an account (publipostage/tracking.ts), as
// the user page and the class view show them. Pure.
import type { LastDistribution } from '../publipostage/tracking.js';
import { html, type SafeHtml } from './html.js';
import { translator, type Lang } from './i18n/index.js';

const DAY = {
  fr: new Intl.DateTimeFormat('fr-FR', { day: 'numeric', month: 'long', year: 'numeric', timeZone: 'Europe/Paris' }),
  en: new Intl.DateTimeFormat('en-GB', { day: 'numeric', month: 'long', year: 'numeric', timeZone: 'Europe/Paris' }),
};

/** One line per kind handed out (sheet, mail), or « Aucune fiche ni courriel remis » in muted text. */
export function handedOut(lang: Lang, last: LastDistribution | undefined, o: { compact?: boolean } = {}): SafeHtml {
  const _ = translator(lang);
  const lines: string[] = [];
  if (last?.sheet) lines.push(_('track.sheet', { date: DAY[lang].format(last.sheet) }));
  if (last?.mail) lines.push(_('track.mail', { date: DAY[lang].format(last.mail) }));
  if (!lines.length) return o.compact ? html`` : html`<span class="muted" data-handed-out="none">${_('track.never')}</span>`;
  return html`<span class="handed-out${o.compact ? ' muted' : ''}" data-handed-out>${lines.map((l, i) => html`${i ? html`<br>` : ''}${l}`)}</span>`;
}
