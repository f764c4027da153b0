// Console screens of issue #10 (distrib-a): from "Publipostage des comptes", the ZIP of one PDF per account, the
// family mail (parents get their credentials and their children's sheets attached; those without an address
// listed with the PDF of their packs) and renewal sheets for the selection's ACTIVATED accounts; from a user's
// page, "Fiche PDF" and "Envoyer par courriel"; from the users list, the same for the ticked rows. Everything
// uses the one selection model (same filters and distribution rules as a run); anything that issues a code is
// a POST (CSRF checked by the web layer) reached through a confirmation.
import { randomUUID } from 'node:crypto';
import type { Readable } from 'node:stream';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { z, ZodError } from 'zod';
import { RENEWAL_HOURS } from '../../accounts/issue.js';
import type { AppContext } from '../../context.js';
import type { Scope } from '../../directory/scope.js';
import { DirectoryError, isUuid } from '../../directory/users.js';
import { crossFamilyAddresses, planFamilyMail, reachable, startFamilyMail } from '../../mail/family.js';
import { relativesSelection } from '../../publipostage/family.js';
import { startMailMerge } from '../../mail/merge.js';
import { slug } from '../../publipostage/distribution.js';
import { describeSelection, today } from '../../publipostage/generate.js';
import { handOut } from '../../publipostage/handout.js';
import { renderSheetsPdf, type SheetModel } from '../../publipostage/pdf.js';
import { issueRenewalSheets, renderRenewalCsv, renderRenewalPdf, renewable, renewalFileName, renewalSelection } from '../../publipostage/renewal-sheets.js';
import { countSelection, selectAccounts } from '../../publipostage/select.js';
import { SelectionSchema, type Selection } from '../../publipostage/selection.js';
import { zipSheets } from '../../publipostage/zip.js';
import { typed } from '../area.js';
import { HttpError, viewer } from '../context.js';
import { csrfField } from '../forms.js';
import { confirmDownloadPage, fieldsOf, POST_DOWNLOAD, postAction } from '../post-download.js';
import { html, type SafeHtml } from '../html.js';
import type { ViewEnv } from '../view.js';
import { plural, translator } from '../i18n/index.js';
import { attachment, IdParams, list, text } from '../input.js';
import { crossFamilyAddressWarning, noSmtpWarning, packChildrenLabel, type Notice } from '../layout.js';
import { schoolBase, schoolOr404, sendConsolePage } from './frame.js';
import { parseSelection, selectionParams } from './selection.js';

const SelectionForm = z.object({ selection: text(), idem: text(100), model: text(2), format: text(10) });
const TickedForm = z.object({ ids: list(1000), action: text(20), idem: text(100) });
const UserForm = z.object({ etablissement: text(100), idem: text(100) });

function download(reply: FastifyReply, filename: string, type: string, body: Buffer | Readable): FastifyReply {
  return reply.header('content-disposition', attachment(filename)).header('cache-control', 'no-store').type(type).send(body);
}

const modelOf = (m: string): SheetModel => (m === '2' ? 2 : m === '8' ? 8 : 1);

/**
 * A selection read from a query or posted fields; a field it could not read is refused (400) before anything is
 * generated or sent.
 */
export function strict(fields: unknown, schoolId: string): Selection {
  const { selection, issues } = parseSelection(fields, schoolId);
  // Said as a route's schema says it (errors.ts describeError: the field, and why in the request's language), not
  // the value typed (« Paramètre « activation » invalide : peut-etre »).
  if (issues.length) throw new ZodError([issues[0]]);
  return selection;
}

/** The `selection` field of a confirmation form (the query string of the screen it came from). */
function posted(selection: string, schoolId: string): Selection {
  const fields: Record<string, string[]> = {};
  for (const [k, v] of new URLSearchParams(selection)) fields[k] = [...(fields[k] ?? []), v];
  return strict(fields, schoolId);
}

/**
 * 422 error.emptySelection when `selection` holds no account (as sendExport, downloads.ts): an empty ZIP, a
 * header-only list or a run of no mail helps nobody, and no code, audit or hand-out row is written for it.
 */
export async function refuseEmpty(ctx: AppContext, selection: Selection, scope: Scope): Promise<void> {
  if ((await countSelection(ctx, selection, scope)).total === 0) throw new HttpError(422, 'error.emptySelection');
}

/** 422 error.emptySelection when the family mail of `selection` would reach no parent (no address among them). */
export async function refuseNoFamilyMail(ctx: AppContext, selection: Selection, scope: Scope): Promise<void> {
  if (!(await planFamilyMail(ctx, selection, scope)).parents.some(reachable)) throw new HttpError(422, 'error.emptySelection');
}

/** 422 error.emptySelection when `selection` holds no account a renewal code from `actorId` can serve (renewal-sheets.ts). */
export async function refuseNoRenewal(ctx: AppContext, selection: Selection, scope: Scope, actorId: string): Promise<void> {
  if (!(await selectAccounts(ctx, renewalSelection(selection), scope)).some((r) => renewable(r, actorId))) throw new HttpError(422, 'error.emptySelection');
}

/**
 * Family-pack PDF of the given pupils and parents (sort by family), with its audit and record, and how many of each it
 * holds. The ids were chosen by planFamilyMail (the page's filters for the pupils, relativesSelection for their
 * parents): the page's filters are not applied again, or an activated parent it listed (« non activés », « Relancer »,
 * a search for a child's name) was left out of the file.
 */
async function familyPackPdf(ctx: AppContext, req: FastifyRequest, base: Selection, userIds: string[], model: SheetModel): Promise<{ pdf: Buffer; pupils: number; parents: number }> {
  const { user, scope } = viewer(req);
  const selection: Selection = { ...relativesSelection(base, userIds), profiles: ['Student', 'Relative'], sort: 'family' };
  const rows = await handOut(ctx, { selection, scope, actorId: user.id, action: 'publipostage.family_pack', kind: 'family_pack', details: { model } });
  const parents = rows.filter((r) => r.profile === 'Relative').length;
  return { pdf: await renderSheetsPdf(ctx, rows, { model, sort: 'family' }), pupils: rows.length - parents, parents };
}

export default async function handoutScreens(root: FastifyInstance, ctx: AppContext): Promise<void> {
  const app = typed(root);
  const ppBase = (id: string) => `${schoolBase(id)}/publipostage`;

  // ------------------------------------------------------------------------------------------ publipostage: ZIP

  // POST with the CSRF token (post-download.ts); a GET only asks to confirm (an empty selection: 422 at once).
  app.get('/etablissements/:id/publipostage/zip', { schema: { params: IdParams } }, async (req, reply) => {
    const { scope } = viewer(req);
    const school = await schoolOr404(ctx, scope, req.params.id);
    await refuseEmpty(ctx, strict(req.query, school.id), scope);
    return confirmDownloadPage(req, reply, `${ppBase(school.id)}?${fieldsOf(req.query)}`);
  });

  app.post('/etablissements/:id/publipostage/zip', { ...POST_DOWNLOAD, schema: { params: IdParams } }, async (req, reply) => {
    const { user, scope } = viewer(req);
    const school = await schoolOr404(ctx, scope, req.params.id);
    const selection = strict(req.body, school.id);
    await refuseEmpty(ctx, selection, scope);
    const rows = await handOut(ctx, { selection, scope, actorId: user.id, action: 'publipostage.zip', kind: 'zip', details: { via: 'http' } });
    const label = await describeSelection(ctx, selection);
    return download(reply.header('x-account-count', String(rows.length)), ['fiches', ...label.parts, today()].join('-') + '.zip', 'application/zip', await zipSheets(ctx, rows));
  });

  // ------------------------------------------------------------------------------------------ publipostage: families

  app.get('/etablissements/:id/publipostage/familles', { schema: { params: IdParams } }, async (req, reply) => {
    const _ = translator(req.lang);
    const { scope } = viewer(req);
    const school = await schoolOr404(ctx, scope, req.params.id);
    const selection = strict(req.query, school.id);
    const plan = await planFamilyMail(ctx, selection, scope);
    const mails = plan.parents.filter(reachable);
    const paper = plan.parents.filter((p) => !reachable(p));
    const params = selectionParams(selection).toString();
    const base = ppBase(school.id);
    const kids = (id: string) => packChildrenLabel(req.lang, plan.children.get(id) ?? []);
    return sendConsolePage(reply, {
      req,
      title: _('ho.family.mail.title'),
      school,
      section: 'io',
      ioTab: 'publipostage',
      crumbs: [{ href: `${base}?${params}`, label: _('console.io.publipostage') }],
      body: html`<div class="card send-confirm">
  <p class="send-headline" data-mails="${mails.length}">${mails.length ? `${plural(req.lang, 'ho.family.mail.lead', mails.length)}${paper.length ? ` ${plural(req.lang, 'ho.family.mail.paperLead', paper.length)}` : ''}` : _('ho.family.mail.none')}</p>
  ${noSmtpWarning(req.lang, mails.length, !!ctx.config.smtpUrl)}
  ${crossFamilyAddressWarning(req.lang, crossFamilyAddresses(plan))}
  ${
    mails.length
      ? html`<form method="post" action="${base}/familles" data-once>${csrfField(req)}
    <input type="hidden" name="selection" value="${params}">
    <input type="hidden" name="idem" value="${randomUUID()}">
    <div class="actions"><button type="submit">${plural(req.lang, 'ho.family.mail.send', mails.length)}</button>
      <a href="${`${base}?${params}`}">${_('send.back')}</a></div>
  </form>`
      : ''
  }
</div>
${
  paper.length
    ? html`<section class="card" aria-labelledby="paper-title"><h2 id="paper-title">${_('ho.family.paper')}</h2>
  <ul class="plain" data-family-paper>${paper.map((p) => html`<li>${p.firstName} ${p.lastName} <span class="muted">(${kids(p.id)})</span></li>`)}</ul>
  <form method="post" action="${base}/familles/pdf">${csrfField(req)}
    <input type="hidden" name="selection" value="${params}">
    <button type="submit" class="button-secondary">${plural(req.lang, 'ho.family.paper.pdf', paper.length)}</button>
  </form>
</section>`
    : ''
}`,
    });
  });

  app.post('/etablissements/:id/publipostage/familles', { schema: { params: IdParams, body: SelectionForm } }, async (req, reply) => {
    const { user, scope } = viewer(req);
    const school = await schoolOr404(ctx, scope, req.params.id);
    const selection = posted(req.body.selection, school.id);
    await refuseNoFamilyMail(ctx, selection, scope);
    const run = await startFamilyMail(ctx, selection, scope, user.id, { idempotencyKey: req.body.idem });
    return reply.redirect(`/console/envois/${run.runId}`, 303);
  });

  // The packs of the parents the family mail cannot reach: those parents and their children of the selection.
  app.post('/etablissements/:id/publipostage/familles/pdf', { schema: { params: IdParams, body: SelectionForm } }, async (req, reply) => {
    const { scope } = viewer(req);
    const school = await schoolOr404(ctx, scope, req.params.id);
    const selection = posted(req.body.selection, school.id);
    const plan = await planFamilyMail(ctx, selection, scope);
    const paper = plan.parents.filter((p) => !reachable(p));
    const ids = [...new Set(paper.flatMap((p) => [p.id, ...(plan.children.get(p.id) ?? []).map((c) => c.id)]))];
    // An empty list of ids would select the whole school.
    if (!ids.length) throw new HttpError(404, 'error.notFound');
    const { pdf, pupils, parents } = await familyPackPdf(ctx, req, selection, ids, 8);
    // Named as the class view's packs (classe/handout.ts): fiches-famille-sans-courriel-3C-4-eleves-3-parents-2026-09-02.pdf.
    const label = await describeSelection(ctx, selection);
    const parts = [...label.parts.filter((p) => p !== 'eleves' && p !== 'parents'), `${pupils}-eleves`, `${parents}-parents`];
    return download(reply, ['fiches-famille-sans-courriel', ...parts, today()].join('-') + '.pdf', 'application/pdf', pdf);
  });

  // ------------------------------------------------------------------------------------------ publipostage: renewal sheets

  app.get('/etablissements/:id/publipostage/renouvellement', { schema: { params: IdParams } }, async (req, reply) => {
    const _ = translator(req.lang);
    const { user, scope } = viewer(req);
    const school = await schoolOr404(ctx, scope, req.params.id);
    const selection = strict(req.query, school.id);
    // The accounts the sheets will hold (renewable, as the POST draws them): counting the caller's own promised a code
    // and a button for a file then refused as empty.
    const total = (await selectAccounts(ctx, renewalSelection(selection), scope)).filter((r) => renewable(r, user.id)).length;
    const params = selectionParams(selection).toString();
    const base = ppBase(school.id);
    return sendConsolePage(reply, {
      req,
      title: _('ho.renewal.title'),
      school,
      section: 'io',
      ioTab: 'publipostage',
      crumbs: [{ href: `${base}?${params}`, label: _('console.io.publipostage') }],
      notice: { kind: 'info', text: _('ho.renewal.once') },
      body: html`<div class="card send-confirm">
  <p class="send-headline" data-renewal-count="${total}">${total ? plural(req.lang, 'ho.renewal.lead', total, { hours: RENEWAL_HOURS }) : _('ho.renewal.none')}</p>
  ${
    total
      ? html`<form method="post" action="${base}/renouvellement" data-renewal-form>${csrfField(req)}
    <input type="hidden" name="selection" value="${params}">
    <div class="actions">${(['8', '2', '1'] as const).map((m) => html`<button type="submit" name="model" value="${m}"${m === '8' ? '' : html` class="button-secondary"`}>${_('ho.renewal.pdf', { model: m })}</button> `)}
      <button type="submit" name="format" value="csv" class="button-secondary">${_('ho.renewal.csv')}</button>
      <a href="${`${base}?${params}`}">${_('send.back')}</a></div>
  </form>`
      : html`<p><a href="${`${base}?${params}`}">${_('send.back')}</a></p>`
  }
</div>`,
    });
  });

  app.post('/etablissements/:id/publipostage/renouvellement', { schema: { params: IdParams, body: SelectionForm } }, async (req, reply) => {
    const { user, scope } = viewer(req);
    const school = await schoolOr404(ctx, scope, req.params.id);
    const selection = posted(req.body.selection, school.id);
    const format = req.body.format === 'csv' ? 'csv' : 'pdf';
    await refuseNoRenewal(ctx, selection, scope, user.id);
    const rows = await issueRenewalSheets(ctx, selection, scope, user.id, format);
    const name = renewalFileName(await describeSelection(ctx, selection), today(), format);
    reply.header('x-account-count', String(rows.length));
    if (format === 'csv') return download(reply, name, 'text/csv; charset=utf-8', renderRenewalCsv(ctx, rows));
    return download(reply, name, 'application/pdf', await renderRenewalPdf(ctx, rows, modelOf(req.body.model)));
  });

  // ------------------------------------------------------------------------------------------ one user, ticked users

  /** Sheets (PDF, 1 per page), mails or a ZIP for explicit accounts, under the distribution rules of a run. */
  async function forAccounts(req: FastifyRequest, reply: FastifyReply, scope: Scope, ids: string[], action: string, idem: string, back: string, schoolName?: string) {
    const { user } = viewer(req);
    const selection = SelectionSchema.parse({ userIds: ids });
    if (action === 'mail') {
      const run = await startMailMerge(ctx, selection, scope, user.id, { idempotencyKey: idem });
      if (!run.queued && !run.existing) return reply.redirect(`${back}${back.includes('?') ? '&' : '?'}ok=nomail`, 303);
      return reply.redirect(`/console/envois/${run.runId}`, 303);
    }
    const kind = action === 'zip' ? 'zip' : 'sheet';
    const rows = await handOut(ctx, { selection, scope, actorId: user.id, action: `publipostage.${kind === 'zip' ? 'zip' : 'pdf'}`, kind, details: { via: 'users' } });
    if (!rows.length) return reply.redirect(`${back}${back.includes('?') ? '&' : '?'}ok=nosheet`, 303);
    // Ticked rows have no class to name: the school's list they were ticked in names the file (fiches-EcoleJulesFerry-3-comptes-…).
    const parts = [...(schoolName ? [slug(schoolName)].filter(Boolean) : []), ...(await describeSelection(ctx, selection)).parts];
    if (kind === 'zip') return download(reply, ['fiches', ...parts, today()].join('-') + '.zip', 'application/zip', await zipSheets(ctx, rows));
    const name = rows.length === 1 ? `Fiche de connexion – ${rows[0].firstName} ${rows[0].lastName.toUpperCase()}.pdf` : ['fiches', ...parts, today()].join('-') + '.pdf';
    return download(reply, name, 'application/pdf', await renderSheetsPdf(ctx, rows, { model: 1 }));
  }

  for (const [path, action] of [
    ['fiche', 'pdf'],
    ['courriel', 'mail'],
  ] as const) {
    app.post(`/utilisateurs/:id/${path}`, { schema: { params: IdParams, body: UserForm } }, async (req, reply) => {
      const { scope } = viewer(req);
      if (!isUuid(req.params.id)) throw new HttpError(404, 'user.notFound');
      const [visible] = await selectAccounts(ctx, SelectionSchema.parse({ userIds: [req.params.id], blocked: 'all', preDeletion: 'all', external: 'info' }), scope);
      if (!visible) throw new HttpError(404, 'user.notFound');
      // Its page offers neither button: a forged post is refused as every other action on it (not « Pas de fiche »).
      if (visible.readOnly) throw new DirectoryError('forbidden', 'directory.readOnly');
      const back = `/console/utilisateurs/${visible.id}${req.body.etablissement ? `?etablissement=${encodeURIComponent(req.body.etablissement)}` : ''}`;
      return forAccounts(req, reply, scope, [visible.id], action, req.body.idem, back);
    });
  }

  app.post('/etablissements/:id/utilisateurs/comptes', { schema: { params: IdParams, body: TickedForm } }, async (req, reply) => {
    const { scope } = viewer(req);
    const school = await schoolOr404(ctx, scope, req.params.id);
    const ids = [...new Set(req.body.ids)];
    const back = `${schoolBase(school.id)}/utilisateurs`;
    if (!ids.length) return reply.redirect(`${back}?ok=none`, 303);
    if (!ids.every(isUuid)) throw new HttpError(404, 'user.notFound');
    // Every ticked account must be one the caller sees in this school.
    const seen = await selectAccounts(ctx, SelectionSchema.parse({ structureId: school.id, userIds: ids, blocked: 'all', preDeletion: 'all', external: 'info' }), scope);
    if (seen.length !== ids.length) throw new HttpError(404, 'user.notFound');
    const action = ['pdf', 'mail', 'zip'].includes(req.body.action) ? req.body.action : 'pdf';
    return forAccounts(req, reply, scope, ids, action, req.body.idem, back, school.name);
  });
}

/** "Fiche PDF" and "Envoyer par courriel" on a user's page. */
export function userHandoutActions(env: ViewEnv, userId: string, schoolId: string | null, hasEmail: boolean, activated: boolean): SafeHtml {
  const _ = translator(env.lang);
  const keep = schoolId ? html`<input type="hidden" name="etablissement" value="${schoolId}">` : '';
  const self = `/console/utilisateurs/${userId}`;
  return html`<div class="action-block user-handout">
  <form method="post" action="${self}/fiche" class="inline-form">${csrfField(env)}${keep}
    <button type="submit" class="button-secondary" data-user-sheet>${_('ho.user.sheet')}</button></form>
  ${
    hasEmail
      ? html`<form method="post" action="${self}/courriel" class="inline-form">${csrfField(env)}${keep}
    <input type="hidden" name="idem" value="${randomUUID()}">
    <button type="submit" class="button-secondary" data-user-mail>${_('ho.user.mail')}</button></form>`
      : ''
  }
  <p class="hint">${_(activated ? 'ho.user.sheetHintActivated' : 'ho.user.sheetHint')}${hasEmail ? ` ${_('ho.user.mailHint')}` : ''}</p>
</div>`;
}

/** The action bar under the users list's ticked rows (the table's checkboxes belong to this form). */
export function tickedActions(env: ViewEnv): SafeHtml {
  const _ = translator(env.lang);
  return html`<div class="class-actions users-ticked" role="group" aria-label="${_('ho.users.ticked')}">
  <input type="hidden" name="idem" value="${randomUUID()}">
  <button type="submit" name="action" value="pdf">${_('ho.users.pdf')}</button>
  <button type="submit" name="action" value="mail" class="button-secondary">${_('ho.users.mail')}</button>
  <button type="submit" name="action" value="zip" class="button-secondary">${_('ho.users.zip')}</button>
</div>`;
}

/** The publipostage screen's extra launch buttons (same GET form, own URLs): ZIP (a POST), family mail, renewal sheets. */
export function handoutLaunch(env: ViewEnv, base: string, disabled: SafeHtml | string): SafeHtml {
  const _ = translator(env.lang);
  return html`<button type="submit" formmethod="post" formaction="${postAction(env, `${base}/zip`)}" class="button-secondary" data-launch="zip"${disabled}>${_('ho.zip')}</button>
      <button type="submit" formaction="${base}/familles" class="button-secondary" data-launch="family-mail"${disabled}>${_('ho.family.mail')}</button>
      <button type="submit" formaction="${base}/renouvellement" class="button-secondary" data-launch="renewal"${disabled}>${_('ho.renewal.action')}</button>`;
}

/** The notice after a one-user or ticked-rows action that produced nothing (?ok=none|nosheet|nomail). */
export function handoutNotice(req: FastifyRequest): Notice | null {
  const _ = translator(req.lang);
  const ok = (req.query as Record<string, unknown> | undefined)?.ok;
  if (ok === 'none') return { kind: 'error', text: _('ho.users.none') };
  if (ok === 'nosheet') return { kind: 'error', text: _('ho.user.noSheet') };
  if (ok === 'nomail') return { kind: 'error', text: _('ho.user.noMail') };
  return null;
}
