// Console, issue #9: an account's lifecycle by hand (pré-supprimer, restaurer, supprimer — one account from its
// page, or every account of a users-list filter at once) and its local administration (nommer / retirer). Every
// change goes through a confirmation page and is audited by the domain (accounts/lifecycle.ts,
// directory/local-admins.ts), which also enforces the caller's scope.
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { applyLifecycleAction, type LifecycleAction } from '../../accounts/lifecycle.js';
import type { AppContext } from '../../context.js';
import { appointLocalAdmin, localAdminOf, removeLocalAdmin } from '../../directory/local-admins.js';
import { DirectoryError, isUuid, structureInScope, type UserDetails } from '../../directory/users.js';
import { frenchDate } from '../../publipostage/format.js';
import { selectAccounts } from '../../publipostage/select.js';
import { SelectionSchema } from '../../publipostage/selection.js';
import { requireRole, scopeOf } from '../auth.js';
import { csrfField } from '../forms.js';
import { html, type SafeHtml } from '../html.js';
import { translator } from '../i18n/index.js';
import { directoryStatus, formValue, queryValue } from './classe.js';
import { parseSelection, plural, schoolBase, schoolOr404, selectionParams, sendConsolePage, type School } from './console-shared.js';

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
  const isSelf = d.id === req.user!.id;
  const link = (a: LifecycleAction, cls: string) => html`<a class="button ${cls}" href="${userBase(d.id)}/cycle?action=${a}${qs}" data-cycle="${a}">${_(`cycle.${a}.button`)}</a>`;
  const lifecycle = html`<section class="card" aria-labelledby="cycle-title" data-lifecycle><h2 id="cycle-title">${_('cycle.title')}</h2>
  <p>${d.preDeletedAt ? _('cycle.state.preDeleted', { date: frenchDate(d.preDeletedAt) }) : absent ? _('cycle.state.absent', { date: frenchDate(absent) }) : _('cycle.state.present')}</p>
  <p class="actions">${d.preDeletedAt || absent ? link('restore', 'button-secondary') : ''}
    ${!d.preDeletedAt && !isSelf ? link('pre-delete', 'button-secondary') : ''}
    ${(d.preDeletedAt || !d.activated) && !isSelf ? link('delete', 'button-danger') : ''}</p>
  ${!d.preDeletedAt && d.activated ? html`<p class="hint">${_('cycle.delete.hint')}</p>` : ''}
</section>`;

  const scope = scopeOf(req.user!);
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

export default async function consoleAccountAdmin(app: FastifyInstance, ctx: AppContext): Promise<void> {
  const guard = { preHandler: requireRole('localadmin') };
  const pool = ctx.database.pool;

  const fail = (req: FastifyRequest, reply: FastifyReply, e: unknown, back: string, school: School | null) => {
    if (!(e instanceof DirectoryError)) throw e;
    const _ = translator(req.lang);
    return sendConsolePage(reply, { req, title: _('cycle.error'), school, section: 'users', notice: { kind: 'error', text: e.message },
      body: html`<p><a href="${back}">${_('cycle.back')}</a></p>` }, directoryStatus(e));
  };

  async function schoolOf(req: FastifyRequest): Promise<School | null> {
    const id = queryValue(req, 'etablissement') || formValue(req, 'etablissement');
    return id ? schoolOr404(ctx, req, id).catch(() => null) : null;
  }

  /** The account, when the caller may see it (every state: this is where a pre-deleted one is restored). */
  async function accountOr404(req: FastifyRequest, id: string) {
    if (!isUuid(id)) return null;
    const sel = SelectionSchema.parse({ userIds: [id], blocked: 'all', preDeletion: 'all', external: 'info' });
    return (await selectAccounts(ctx, sel, scopeOf(req.user!)))[0] ?? null;
  }

  // ---------------------------------------------------------------------------------------------- one account

  app.get<{ Params: { id: string } }>('/console/utilisateurs/:id/cycle', guard, async (req, reply) => {
    const _ = translator(req.lang);
    const action = queryValue(req, 'action');
    const school = await schoolOf(req);
    const row = await accountOr404(req, req.params.id);
    if (!row || !isAction(action)) return reply.code(404).send(_('user.notFound'));
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

  app.post<{ Params: { id: string } }>('/console/utilisateurs/:id/cycle', guard, async (req, reply) => {
    const _ = translator(req.lang);
    const action = formValue(req, 'action');
    const school = await schoolOf(req);
    if (!isAction(action) || !isUuid(req.params.id)) return reply.code(404).send(_('user.notFound'));
    const back = `${userBase(req.params.id)}${school ? `?etablissement=${school.id}` : ''}`;
    try {
      await applyLifecycleAction(pool, scopeOf(req.user!), action, [req.params.id], req.user!.id);
    } catch (e) {
      return fail(req, reply, e, back, school);
    }
    if (action === 'delete') return reply.redirect(school ? `${schoolBase(school.id)}/utilisateurs?ok=deleted` : '/console', 303);
    return reply.redirect(back, 303);
  });

  app.post<{ Params: { id: string } }>('/console/utilisateurs/:id/administration', guard, async (req, reply) => {
    const school = await schoolOf(req);
    const back = `${userBase(req.params.id)}${school ? `?etablissement=${school.id}` : ''}`;
    const structureId = formValue(req, 'structureId');
    const op = formValue(req, 'op');
    try {
      if (!isUuid(req.params.id) || !isUuid(structureId)) throw new DirectoryError('not_found', 'Utilisateur introuvable.');
      if (op === 'appoint') await appointLocalAdmin(pool, scopeOf(req.user!), req.params.id, structureId, req.user!.id);
      else if (op === 'remove') await removeLocalAdmin(pool, scopeOf(req.user!), req.params.id, structureId, req.user!.id);
      else throw new DirectoryError('invalid', 'Opération inconnue.');
    } catch (e) {
      return fail(req, reply, e, back, school);
    }
    return reply.redirect(back, 303);
  });

  // ---------------------------------------------------------------------------------------------- in bulk

  app.get<{ Params: { id: string } }>('/console/etablissements/:id/utilisateurs/cycle', guard, async (req, reply) => {
    const _ = translator(req.lang);
    const school = await schoolOr404(ctx, req, req.params.id);
    const action = queryValue(req, 'action');
    if (!isAction(action)) return reply.code(404).send(_('error.notFound'));
    const { selection } = parseSelection(req.query, school.id, true);
    const rows = await selectAccounts(ctx, selection, scopeOf(req.user!));
    const params = selectionParams(selection, true);
    const back = `${schoolBase(school.id)}/utilisateurs?${params}`;
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

  app.post<{ Params: { id: string } }>('/console/etablissements/:id/utilisateurs/cycle', guard, async (req, reply) => {
    const _ = translator(req.lang);
    const school = await schoolOr404(ctx, req, req.params.id);
    const action = formValue(req, 'action');
    if (!isAction(action)) return reply.code(404).send(_('error.notFound'));
    const fields: Record<string, string[]> = {};
    for (const [k, v] of new URLSearchParams(formValue(req, 'selection'))) (fields[k] ??= []).push(v);
    const { selection } = parseSelection(fields, school.id, true);
    const rows = await selectAccounts(ctx, selection, scopeOf(req.user!));
    const back = `${schoolBase(school.id)}/utilisateurs?${selectionParams(selection, true)}`;
    // The selection moved since the confirmation (an import, another admin): confirm again rather than act blind.
    if (String(rows.length) !== formValue(req, 'count')) {
      return fail(req, reply, new DirectoryError('conflict', _('cycle.bulk.changed')), back, school);
    }
    // Oneself is never pre-deleted nor deleted in bulk.
    const ids = rows.map((r) => r.id).filter((id) => action === 'restore' || id !== req.user!.id);
    try {
      const n = await applyLifecycleAction(pool, scopeOf(req.user!), action, ids, req.user!.id);
      return reply.redirect(`${back}${back.endsWith('?') ? '' : '&'}ok=${action}&n=${n}`, 303);
    } catch (e) {
      return fail(req, reply, e, back, school);
    }
  });
}
