// « Relancer » in the class view: one click ticks the accounts of the tab handed a sheet or mail more than
// REMIND_DAYS ago and still not activated (the publipostage's distributedBefore selection), ready for
// « Fiches de connexion » (PDF or mail).
import type { AppContext } from '../../context.js';
import type { Scope } from '../../directory/scope.js';
import { mayCarryCode } from '../../publipostage/distribution.js';
import { selectAccounts } from '../../publipostage/select.js';
import type { Selection } from '../../publipostage/selection.js';
import { REMIND_DAYS } from '../../publipostage/tracking.js';
import { html, type SafeHtml } from '../html.js';
import { plural, translator, type Lang } from '../i18n/index.js';
import type { Notice } from '../layout.js';

/**
 * Ids of the class tab's accounts to remind: only those « Fiches de connexion » would serve (`handout`, the tab's
 * hand-out selection: blocked, absent and externally-authenticated accounts left out by its distribution defaults)
 * and whose sheet may carry a code (mayCarryCode: not read-only either). Ticking the others would only be refused.
 */
export async function remindRows(ctx: AppContext, handout: Selection, scope: Scope): Promise<string[]> {
  const rows = await selectAccounts(ctx, { ...handout, activation: 'inactive', distributedBefore: REMIND_DAYS }, scope);
  return rows.filter(mayCarryCode).map((r) => r.id);
}

/** How many of the tab's accounts a sheet would serve are not activated yet (whenever their credentials were given). */
export async function notActivatedCount(ctx: AppContext, handout: Selection, scope: Scope): Promise<number> {
  const rows = await selectAccounts(ctx, { ...handout, activation: 'inactive' }, scope);
  return rows.filter(mayCarryCode).length;
}

export function remindLinkClass(lang: Lang, base: string): SafeHtml {
  const _ = translator(lang);
  return html`<a href="${`${base}?relancer=1`}" class="remind-link" data-remind title="${_('remind.classHint', { n: REMIND_DAYS })}">${_('remind.class')}</a>`;
}

/**
 * What « Cocher les comptes à relancer » found: `n` accounts ticked; none, with `waiting` accounts of the tab still not
 * activated (handed their credentials more recently, or never): « tous sont activés » only when that is so.
 */
export function remindNotice(lang: Lang, n: number, waiting = 0): Notice {
  if (n) return { kind: 'info', text: plural(lang, 'remind.ticked', n) };
  if (waiting) return { kind: 'info', text: plural(lang, 'remind.noneWaiting', waiting, { days: REMIND_DAYS }) };
  return { kind: 'info', text: translator(lang)('remind.none', { n: REMIND_DAYS }) };
}
