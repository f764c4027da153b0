// « Relancer » in « Publipostage des comptes » (issue #10): one click turns the current filters into the
// reminder selection — not activated, handed a sheet or mail more than N days ago and nothing since
// (Selection.distributedBefore, publipostage/select.ts) — ready for « Générer en PDF » or « Envoyer par mail ».
import type { Selection } from '../../publipostage/selection.js';
import { REMIND_DAYS } from '../../publipostage/tracking.js';
import { html, type SafeHtml } from '../html.js';
import { translator, type Lang } from '../i18n/index.js';
import { selectionParams } from './selection.js';

/**
 * The link, N being the filter's own value or REMIND_DAYS. A reminder is a code handed out again: the distribution
 * filters go back to their defaults (blocked, absent and externally-authenticated accounts left out), or a list of
 * blocked accounts would « remind » accounts no sheet can serve.
 */
export function remindLink(lang: Lang, base: string, sel: Selection): SafeHtml {
  const n = sel.distributedBefore ?? REMIND_DAYS;
  const p = selectionParams({ ...sel, activation: 'inactive', distributedBefore: n, blocked: 'exclude', preDeletion: 'not', external: 'exclude' });
  return html`<p class="remind"><a class="button button-secondary button-small" href="${`${base}?${p}`}" data-remind>${translator(lang)('remind.button', { n })}</a></p>`;
}
