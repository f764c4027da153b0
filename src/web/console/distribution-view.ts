// The preview's "left out" counters in the page's language (console screen and GET /api/publipostage/preview).
import type { LeftOut } from '../../publipostage/distribution.js';
import { html, type SafeHtml } from '../html.js';
import { t, type Lang, type MessageKey } from '../i18n/index.js';

/** "3 comptes bloqués laissés de côté", "412 parents se connectent avec EduConnect : pas de fiche". */
export function leftOutLines(lang: Lang, l: LeftOut): string[] {
  const n = (k: string, count: number, params: Record<string, string> = {}) =>
    t(lang, `${k}.${count === 1 ? 'one' : 'other'}` as MessageKey, { n: count.toLocaleString(lang === 'fr' ? 'fr-FR' : 'en-GB'), ...params });
  const out: string[] = [];
  if (l.blocked) out.push(n('pp.leftOut.blocked', l.blocked));
  if (l.absent) out.push(n('pp.leftOut.absent', l.absent));
  for (const e of l.external) {
    out.push(
      n('pp.leftOut.external', e.count, {
        provider: e.provider,
        profile: t(lang, `profiles.one.${e.profile}`),
        profiles: t(lang, `profiles.plural.${e.profile}`),
      }),
    );
  }
  return out;
}

/** The list under the counters (hidden when nobody was left out; console.js refills it). */
export function leftOutList(lang: Lang, l: LeftOut): SafeHtml {
  const lines = leftOutLines(lang, l);
  return html`<ul class="explain left-out" data-counter="leftOut" aria-label="${t(lang, 'pp.leftOut.title')}"${lines.length ? '' : html` hidden`}>${lines.map((x) => html`<li>${x}</li>`)}</ul>`;
}
