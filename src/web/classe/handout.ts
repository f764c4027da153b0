// The class view's issue #10 actions on ticked rows: "Fiches famille" (the ticked pupils and their parents in one
// PDF, 8 or 1 per page), "Envoyer aux familles" (mail/family.ts), one PDF per account in a ZIP, and renewal sheets
// (codes for the ticked ACTIVATED accounts, printed or exported once). The rows were already checked against the
// class, the tab and the caller's scope (index.ts tickedRows), and the teacher's rights (handoutRight).
import { randomUUID } from 'node:crypto';
import type { Readable } from 'node:stream';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { RENEWAL_HOURS } from '../../accounts/issue.js';
import type { AppContext } from '../../context.js';
import type { TeacherRight } from '../../directory/policies.js';
import type { ClassRow } from '../../directory/structures.js';
import { crossFamilyAddresses, planFamilyMail, reachable, startFamilyMail } from '../../mail/family.js';
import { familySelection } from '../../publipostage/family.js';
import { describeSelection, today } from '../../publipostage/generate.js';
import { handOut } from '../../publipostage/handout.js';
import { renderSheetsPdf, type SheetModel } from '../../publipostage/pdf.js';
import { issueRenewalSheets, renderRenewalCsv, renderRenewalPdf, renewable, renewalFileName } from '../../publipostage/renewal-sheets.js';
import type { AccountRow, Selection } from '../../publipostage/selection.js';
import { zipSheets } from '../../publipostage/zip.js';
import { refuseEmpty, refuseNoFamilyMail, refuseNoRenewal } from '../console/handout.js';
import { viewer } from '../context.js';
import { csrfField } from '../forms.js';
import { html, type SafeHtml } from '../html.js';
import type { ViewEnv } from '../view.js';
import { plural, translator } from '../i18n/index.js';
import { attachment } from '../input.js';
import { crossFamilyAddressWarning, noSmtpWarning, packChildrenLabel, sendPage } from '../layout.js';

type Tab = 'eleves' | 'parents';

/** The class-view right each action needs (school settings, directory/policies.ts). */
export function handoutRight(action: string): TeacherRight | null {
  if (/^(family-(8|1|paper)|zip)$/.test(action)) return 'sheets';
  if (action === 'family-mail' || action === 'family-mail-send') return 'mail';
  if (/^renewal-(sheets|pdf-[128]|csv)$/.test(action)) return 'renewal';
  return null;
}

/**
 * Buttons added to the "Fiches de connexion" panel: family packs and mail (pupils' tab), ZIP (both tabs); only those
 * whose right (handoutRight) the caller holds.
 */
export function handoutButtons(env: ViewEnv, students: boolean, may: { sheets: boolean; mail: boolean }, familyCount = ''): SafeHtml {
  const _ = translator(env.lang);
  return html`${
    students
      ? html`<p><strong>${_('ho.family.title')}</strong></p>
        <p class="hint" id="hint-family">${_('ho.family.help')}</p>
        ${may.sheets ? html`<p class="muted" data-family-count aria-live="polite">${familyCount}</p>` : ''}
        <ul class="plain sheets-options">
          ${
            may.sheets
              ? html`<li><button type="submit" name="action" value="family-8" data-family="8" aria-describedby="hint-family">${_('ho.family.pdf8')}</button></li>
          <li><button type="submit" name="action" value="family-1" class="button-secondary" data-family="1" aria-describedby="hint-family">${_('ho.family.pdf1')}</button></li>`
              : ''
          }
          ${
            may.mail
              ? html`<li><button type="submit" name="action" value="family-mail" class="button-secondary" aria-describedby="hint-family-mail">${_('ho.family.mail')}</button>
            <p class="hint" id="hint-family-mail">${_('ho.family.mailHelp')}</p></li>`
              : ''
          }
        </ul>`
      : ''
  }
        ${
          may.sheets
            ? html`<ul class="plain sheets-options">
          <li><button type="submit" name="action" value="zip" class="button-secondary" aria-describedby="hint-zip">${_('ho.zip')}</button>
            <p class="hint" id="hint-zip">${_('ho.zip.help')}</p></li>
        </ul>`
            : ''
        }`;
}

export function renewalButton(env: ViewEnv): SafeHtml {
  return html`<button type="submit" name="action" value="renewal-sheets" class="button-secondary">${translator(env.lang)('ho.renewal.action')}</button>`;
}

export interface HandoutContext {
  cls: ClassRow;
  tab: Tab;
  rows: AccountRow[];
  base: string;
  idem: string;
  action: string;
  selectionFor: (classId: string, tab: Tab, userIds?: string[]) => Selection;
}

/** Marks an answer as given (handoutAction's result): the reply is sent or being streamed. */
const sent = (_reply: FastifyReply): 'sent' => 'sent';

function download(reply: FastifyReply, filename: string, type: string, body: Buffer | Readable): 'sent' {
  return sent(reply.header('content-disposition', attachment(filename)).header('cache-control', 'no-store').type(type).send(body));
}

/** Hidden fields re-posting the ticked ids (and a fresh idempotency key). */
const hiddenIds = (rows: AccountRow[]) => html`${rows.map((r) => html`<input type="hidden" name="ids" value="${r.id}">`)}
  <input type="hidden" name="idem" value="${randomUUID()}">`;

/**
 * Runs an issue #10 action: 'sent' once it has answered, null when `action` is not one of them (the caller answers
 * "unknown action"). Never the reply itself: a FastifyReply is a thenable, which `await` resolves to undefined once
 * the response is sent, and the caller then took the action for unknown and rendered a page after the download.
 */
export async function handoutAction(ctx: AppContext, req: FastifyRequest, reply: FastifyReply, h: HandoutContext): Promise<'sent' | null> {
  const _ = translator(req.lang);
  const { user, scope } = viewer(req);
  const { cls, tab, rows, base, action } = h;
  const ids = rows.map((r) => r.id);
  const selection = h.selectionFor(cls.id, tab, ids);
  const pupils = tab === 'eleves';

  const familyPdf = async (pupilIds: string[], model: SheetModel, parentIds?: string[]) => {
    const sel = await familySelection(ctx.database.pool, h.selectionFor(cls.id, 'eleves', pupilIds), pupilIds);
    // The packs to print of the parents a family mail cannot reach: every parent the confirmation listed, one who signs
    // in with a provider too (his information sheet, as the console's packs: relativesSelection), not his child alone.
    if (parentIds) Object.assign(sel, { userIds: [...pupilIds, ...parentIds], external: 'info' as const });
    const handed = await handOut(ctx, { selection: sel, scope, actorId: user.id, action: 'publipostage.family_pack', kind: 'family_pack', details: { model, via: 'classe' } });
    const pdf = await renderSheetsPdf(ctx, handed, { model, sort: 'family' });
    // The name says what the file holds, the parents too: fiches-famille-3C-28-eleves-57-parents-2026-09-02.pdf (the
    // selection's « 28-comptes » counted the ticked pupils only).
    const label = await describeSelection(ctx, h.selectionFor(cls.id, 'eleves'));
    const parents = handed.filter((r) => r.profile === 'Relative').length;
    const counts = [`${handed.length - parents}-eleves`, `${parents}-parents`];
    return download(reply, ['fiches-famille', ...label.parts.filter((p) => p !== 'eleves'), ...counts, today()].join('-') + '.pdf', 'application/pdf', pdf);
  };

  switch (action) {
    case 'family-8':
    case 'family-1':
      if (!pupils) return null;
      return familyPdf(ids, action === 'family-8' ? 8 : 1);
    case 'family-paper': {
      // The packs of the parents a family mail cannot reach: those parents and their ticked children.
      if (!pupils) return null;
      const plan = await planFamilyMail(ctx, selection, scope);
      const paper = plan.parents.filter((p) => !reachable(p));
      const kids = [...new Set(paper.flatMap((p) => (plan.children.get(p.id) ?? []).map((c) => c.id)))];
      // An empty list of ids would select the whole class.
      if (!kids.length) return sent(reply.redirect(base, 303));
      return familyPdf(
        kids,
        8,
        paper.map((p) => p.id),
      );
    }
    case 'zip': {
      await refuseEmpty(ctx, selection, scope);
      const handed = await handOut(ctx, { selection, scope, actorId: user.id, action: 'publipostage.zip', kind: 'zip', details: { via: 'classe' } });
      const label = await describeSelection(ctx, selection);
      return download(reply, ['fiches', ...label.parts, today()].join('-') + '.zip', 'application/zip', await zipSheets(ctx, handed));
    }
    case 'family-mail': {
      if (!pupils) return null;
      const plan = await planFamilyMail(ctx, selection, scope);
      const mails = plan.parents.filter(reachable);
      const paper = plan.parents.filter((p) => !reachable(p));
      const childNames = (p: AccountRow) => packChildrenLabel(req.lang, plan.children.get(p.id) ?? []);
      return sent(
        sendPage(reply, {
          req,
          title: _('ho.family.mail.title'),
          narrow: true,
          body: html`<p class="lead">${mails.length ? `${plural(req.lang, 'ho.family.mail.lead', mails.length)}${paper.length ? ` ${plural(req.lang, 'ho.family.mail.paperLead', paper.length)}` : ''}` : _('ho.family.mail.none')}</p>
${noSmtpWarning(req.lang, mails.length, !!ctx.config.smtpUrl)}
${crossFamilyAddressWarning(req.lang, crossFamilyAddresses(plan))}
<ul class="card plain confirm-list" data-family-mail>${mails.map((p) => html`<li>${p.firstName} ${p.lastName} — ${p.email} <span class="muted">(${childNames(p)})</span></li>`)}</ul>
${
  mails.length
    ? html`<form method="post" action="${base}">${csrfField(req)}${hiddenIds(rows)}
  <div class="actions"><button type="submit" name="action" value="family-mail-send">${plural(req.lang, 'ho.family.mail.send', mails.length)}</button>
    <a href="${base}">${_('classe.cancel')}</a></div>
</form>`
    : html`<p><a href="${base}">${_('classe.back')}</a></p>`
}
${
  paper.length
    ? html`<form method="post" action="${base}" class="card print-paper">${csrfField(req)}${hiddenIds(rows)}
  <p><strong>${_('ho.family.paper')}</strong></p>
  <ul class="plain" data-family-paper>${paper.map((p) => html`<li>${p.firstName} ${p.lastName} <span class="muted">(${childNames(p)})</span></li>`)}</ul>
  <button type="submit" name="action" value="family-paper" class="button-secondary">${plural(req.lang, 'ho.family.paper.pdf', paper.length)}</button>
</form>`
    : ''
}`,
        }),
      );
    }
    case 'family-mail-send': {
      if (!pupils) return null;
      await refuseNoFamilyMail(ctx, selection, scope);
      const res = await startFamilyMail(ctx, selection, scope, user.id, { idempotencyKey: h.idem });
      return sent(reply.redirect(`${base}?ok=mail&n=${res.queued}&m=${res.withoutEmailParents.length}`, 303));
    }
    case 'renewal-sheets': {
      const ok = rows.filter((r) => renewable(r, user.id));
      return sent(
        sendPage(reply, {
          req,
          title: _('ho.renewal.title'),
          narrow: true,
          notice: { kind: 'info', text: _('ho.renewal.once') },
          body: html`<p class="lead">${ok.length ? plural(req.lang, 'ho.renewal.lead', ok.length, { hours: RENEWAL_HOURS }) : _('ho.renewal.none')}</p>
${ok.length < rows.length ? html`<p class="notice notice-warning">${plural(req.lang, 'ho.renewal.skipped', rows.length - ok.length)}</p>` : ''}
<ul class="card plain confirm-list">${ok.map((r) => html`<li>${r.firstName} ${r.lastName} — <code>${r.login}</code></li>`)}</ul>
${
  ok.length
    ? html`<form method="post" action="${base}" data-renewal-form>${csrfField(req)}${hiddenIds(ok)}
  <div class="actions">${([8, 2, 1] as const).map((m) => html`<button type="submit" name="action" value="renewal-pdf-${m}"${m === 8 ? '' : html` class="button-secondary"`}>${_('ho.renewal.pdf', { model: m })}</button> `)}
    <button type="submit" name="action" value="renewal-csv" class="button-secondary">${_('ho.renewal.csv')}</button>
    <a href="${base}">${_('classe.cancel')}</a></div>
</form>`
    : html`<p><a href="${base}">${_('classe.back')}</a></p>`
}`,
        }),
      );
    }
    case 'renewal-pdf-1':
    case 'renewal-pdf-2':
    case 'renewal-pdf-8':
    case 'renewal-csv': {
      const format = action === 'renewal-csv' ? 'csv' : 'pdf';
      await refuseNoRenewal(ctx, selection, scope, user.id);
      const issued = await issueRenewalSheets(ctx, selection, scope, user.id, format);
      const name = renewalFileName(await describeSelection(ctx, selection), today(), format);
      if (format === 'csv') return download(reply, name, 'text/csv; charset=utf-8', renderRenewalCsv(ctx, issued));
      return download(reply, name, 'application/pdf', await renderRenewalPdf(ctx, issued, Number(action.slice(-1)) as SheetModel));
    }
    default:
      return null;
  }
}
