// Console, issue #9: an account's lifecycle by hand (pré-supprimer, restaurer, supprimer — one account from its
// page, or every account of a users-list filter at once) and its local administration (nommer / retirer). Every
// change goes through a confirmation page and is audited by the domain (accounts/lifecycle.ts,
// directory/local-admins.ts), which also enforces the caller's scope.
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { z } from 'zod';
import { applyLifecycleAction, type LifecycleAction } from '../../accounts/lifecycle.js';
import type { AppContext } from '../../context.js';
import { appointLocalAdmin, localAdminOf, removeLocalAdmin } from '../../directory/local-admins.js';
import { DirectoryError, isUuid, structureInScope, type UserDetails } from '../../directory/users.js';
import { frenchDate } from '../../publipostage/format.js';
import { selectAccounts } from '../../publipostage/select.js';
import { SelectionSchema } from '../../publipostage/selection.js';
import { typed } from '../area.js';
import { HttpError, viewer } from '../context.js';
import { csrfField } from '../forms.js';
import { html, type SafeHtml } from '../html.js';
import { translator } from '../i18n/index.js';
import { IdParams, text } from '../input.js';
import { plural, schoolBase, schoolOr404, sendConsolePage, type School } from './frame.js';
import { parseSelection, selectionParams } from './selection.js';

const ACTIONS: readonly LifecycleAction[] = ['pre-delete', 'restore', 'delete'];
const isAction = (a: string): a is LifecycleAction => (ACTIONS as readonly string[]).includes(a);
const userBase = (id: string) => `/console/utilisateurs/${id}`;

/** The user page's "Cycle de vie" and "Administration locale" block. */
export async function accountAdminSection(ctx: AppContext, req: FastifyRequest, d: UserDetails, school: School | null): Promise<SafeHtml> {
  if (d.readOnly) return html``;
  const _ = translator(req.lang);
  const pool = ctx.database.pool;
  const qs = school ? `&etablissement=${school.id}` : '';
  const absent = (await pool.query('SELECT absent_since FROM users WHERE id = $1', [d.id])).rows[0]?.absent_since as Date | null;
  const isSelf = d.id === viewer(req).user.id;
  const link = (a: LifecycleAction, cls: string) => html`<a class="button ${cls}" href="${userBase(d.id)}/cycle?action=${a}${qs}" data-cycle="${a}">${_(`cycle.${a}.button`)}</a>`;
  const lifecycle = html`<section class="card" aria-labelledby="cycle-title" data-lifecycle><h2 id="cycle-title">${_('cycle.title')}</h2>
  <p>${d.preDeletedAt ? _('cycle.state.preDeleted', { date: frenchDate(d.preDeletedAt) }) : absent ? _('cycle.state.absent', { date: frenchDate(absent) }) : _('cycle.state.present')}</p>
  <p class="actions">${d.preDeletedAt || absent ? link('restore', 'button-secondary') : ''}
    ${!d.preDeletedAt && !isSelf ? link('pre-delete', 'button-secondary') : ''}
    ${(d.preDeletedAt || !d.activated) && !isSelf ? link('delete', 'button-danger') : ''}</p>
  ${!d.preDeletedAt && d.activated ? html`<p class="hint">${_('cycle.delete.hint')}</p>` : ''}
</section>`;

  const scope = viewer(req).scope;
  const adminOf = await localAdminOf(pool, d.id);
  const mine = d.structures.filter((s) => structureInScope(scope, s.id) && !adminOf.some((a) => a.id === s.id));
  const canAdmin = d.profile !== 'Student' && d.profile !== 'Relative';
  const local = canAdmin || adminOf.length
    ? html`<section class="card" aria-labelledby="admin-title" data-local-admin><h2 id="admin-title">${_('localAdmin.title')}</h2>
  ${adminOf.length ? html`<ul class="plain">${adminOf.map((s) => html`<li data-admin-of="${s.id}">${s.name}${structureInScope(scope, s.id)
    ? html` <form method="post" action="${userBase(d.id)}/administration" class="inline">${csrfField(req)}<input type="hidden" name="op" value="remove"><input type="hidden" name="structureId" value="${s.id}">
      <button type="submit" class="button-link">${_('localAdmin.remove')}</button></form>` : ''}</li>`)}</ul>` : html`<p class="muted">${_('localAdmin.none')}</p>`}
  ${canAdmin && mine.length ? html`<form method="post" action="${userBase(d.id)}/administration">${csrfField(req)}<input type="hidden" name="op" value="appoint">
    <label for="f-admin-structure">${_('localAdmin.appoint.label')}</label>
    <select id="f-admin-structure" name="structureId">${mine.map((s) => html`<option value="${s.id}">${s.name}</option>`)}</select>
    <button type="submit" class="button-secondary">${_('localAdmin.appoint')}</button></form>` : ''}
</section>`
    : '';
  return html`${lifecycle}${local}`;
}

/** Link of the users list to act on every account of its current filter. */
export function bulkLifecycleLinks(req: FastifyRequest, schoolId: string, params: URLSearchParams, total: number): SafeHtml {
  if (!total) return html``;
  const _ = translator(req.lang);
  return html`<p class="bulk-actions" data-bulk>${_('cycle.bulk.label')} ${ACTIONS.map((a) => {
    const p = new URLSearchParams(params);
    p.set('action', a);
    return html`<a href="${schoolBase(schoolId)}/utilisateurs/cycle?${p.toString()}" data-bulk-action="${a}">${_(`cycle.${a}.button`)}</a> `;
  })}</p>`;
}

const ActionQuery = z.object({ action: text(20), etablissement: text(100) });
const ActionForm = z.object({ action: text(20), etablissement: text(100) });
const AdminForm = z.object({ op: text(10), structureId: text(100), etablissement: text(100) });
const BulkForm = z.object({ action: text(20), selection: text(20_000), count: text(10) });

export default async function consoleAccountAdmin(root: FastifyInstance, ctx: AppContext): Promise<void> {
  const app = typed(root);
  const pool = ctx.database.pool;

  /** The school the page is shown under, when the caller administers it (else none: the frame has no school). */
  async function schoolOf(req: FastifyRequest, id: string): Promise<School | null> {
    return isUuid(id) ? schoolOr404(ctx, viewer(req).scope, id).catch(() => null) : null;
  }

  /** The account, when the caller may see it (every state: this is where a pre-deleted one is restored). */
  async function accountOr404(req: FastifyRequest, id: string) {
    const sel = isUuid(id) ? SelectionSchema.parse({ userIds: [id], blocked: 'all', preDeletion: 'all', external: 'info' }) : null;
    const row = sel ? (await selectAccounts(ctx, sel, viewer(req).scope))[0] : undefined;
    if (!row) throw new DirectoryError('not_found', 'directory.userNotFound');
    return row;
  }

  // ---------------------------------------------------------------------------------------------- one account

  app.get('/utilisateurs/:id/cycle', { schema: { params: IdParams, querystring: ActionQuery } }, async (req, reply) => {
    const _ = translator(req.lang);
    const { action } = req.query;
    const school = await schoolOf(req, req.query.etablissement);
    const row = await accountOr404(req, req.params.id);
    if (!isAction(action)) throw new HttpError(404, 'error.notFound');
    const back = `${userBase(row.id)}${school ? `?etablissement=${school.id}` : ''}`;
    return sendConsolePage(reply, {
      req,
      title: _(`cycle.${action}.title`),
      school,
      section: 'users',
      body: html`<div class="card"><p data-confirm>${_(`cycle.${action}.lead`, { name: `${row.firstName} ${row.lastName}`, login: row.login })}</p>
<form method="post" action="${userBase(row.id)}/cycle">${csrfField(req)}<input type="hidden" name="action" value="${action}">
${school ? html`<input type="hidden" name="etablissement" value="${school.id}">` : ''}
<div class="actions"><button type="submit" class="${action === 'restore' ? '' : 'button-danger'}">${_(`cycle.${action}.confirm`)}</button> <a href="${back}">${_('cycle.back')}</a></div></form></div>`,
    });
  });

  app.post('/utilisateurs/:id/cycle', { schema: { params: IdParams, body: ActionForm } }, async (req, reply) => {
    const { action } = req.body;
    const school = await schoolOf(req, req.body.etablissement);
    if (!isAction(action) || !isUuid(req.params.id)) throw new HttpError(404, 'error.notFound');
    const { user, scope } = viewer(req);
    // Refusals (scope, read-only, an activated account deleted at once) are DomainErrors: the error page says why.
    await applyLifecycleAction(pool, scope, action, [req.params.id], user.id);
    if (action === 'delete') return reply.redirect(school ? `${schoolBase(school.id)}/utilisateurs?ok=deleted` : '/console', 303);
    return reply.redirect(`${userBase(req.params.id)}${school ? `?etablissement=${school.id}` : ''}`, 303);
  });

  app.post('/utilisateurs/:id/administration', { schema: { params: IdParams, body: AdminForm } }, async (req, reply) => {
    const { op, structureId, etablissement } = req.body;
    const { user, scope } = viewer(req);
    if (!isUuid(req.params.id) || !isUuid(structureId)) throw new DirectoryError('not_found', 'directory.userNotFound');
    if (op === 'appoint') await appointLocalAdmin(pool, scope, req.params.id, structureId, user.id);
    else if (op === 'remove') await removeLocalAdmin(pool, scope, req.params.id, structureId, user.id);
    else throw new HttpError(400, 'error.badRequest');
    return reply.redirect(`${userBase(req.params.id)}${isUuid(etablissement) ? `?etablissement=${etablissement}` : ''}`, 303);
  });

  // ---------------------------------------------------------------------------------------------- in bulk

  app.get('/etablissements/:id/utilisateurs/cycle', { schema: { params: IdParams } }, async (req, reply) => {
    const _ = translator(req.lang);
    const school = await schoolOr404(ctx, viewer(req).scope, req.params.id);
    const action = String((req.query as Record<string, unknown>)?.action ?? '');
    if (!isAction(action)) throw new HttpError(404, 'error.notFound');
    const { selection } = parseSelection(req.query, school.id, true);
    const rows = await selectAccounts(ctx, selection, viewer(req).scope);
    const params = selectionParams(selection, true);
    const back = `${schoolBase(school.id)}/utilisateurs?${params.toString()}`;
    return sendConsolePage(reply, {
      req,
      title: _(`cycle.${action}.title`),
      school,
      section: 'users',
      body: html`<div class="card"><p data-confirm data-count="${rows.length}">${plural(req.lang, `cycle.bulk.${action}`, rows.length)}</p>
<ul class="confirm-list">${rows.slice(0, 30).map((r) => html`<li>${r.firstName} ${r.lastName} (<code>${r.login}</code>)</li>`)}${rows.length > 30 ? html`<li>…</li>` : ''}</ul>
<form method="post" action="${schoolBase(school.id)}/utilisateurs/cycle">${csrfField(req)}<input type="hidden" name="action" value="${action}">
<input type="hidden" name="selection" value="${params.toString()}"><input type="hidden" name="count" value="${rows.length}">
<div class="actions"><button type="submit" class="${action === 'restore' ? '' : 'button-danger'}">${plural(req.lang, `cycle.bulk.${action}.confirm`, rows.length)}</button> <a href="${back}">${_('cycle.back')}</a></div></form></div>`,
    });
  });

  app.post('/etablissements/:id/utilisateurs/cycle', { schema: { params: IdParams, body: BulkForm } }, async (req, reply) => {
    const school = await schoolOr404(ctx, viewer(req).scope, req.params.id);
    const { action } = req.body;
    if (!isAction(action)) throw new HttpError(404, 'error.notFound');
    const fields: Record<string, string[]> = {};
    for (const [k, v] of new URLSearchParams(req.body.selection)) fields[k] = [...(fields[k] ?? []), v];
    const { selection } = parseSelection(fields, school.id, true);
    const { user, scope } = viewer(req);
    const rows = await selectAccounts(ctx, selection, scope);
    const back = `${schoolBase(school.id)}/utilisateurs?${selectionParams(selection, true).toString()}`;
    // The selection moved since the confirmation (an import, another admin): confirm again rather than act blind.
    if (String(rows.length) !== req.body.count) throw new DirectoryError('conflict', 'lifecycle.selectionChanged');
    // Oneself is never pre-deleted nor deleted in bulk.
    const ids = rows.map((r) => r.id).filter((id) => action === 'restore' || id !== user.id);
    const n = await applyLifecycleAction(pool, scope, action, ids, user.id);
    return reply.redirect(`${back}${back.endsWith('?') ? '' : '&'}ok=${action}&n=${n}`, 303);
  });
}
