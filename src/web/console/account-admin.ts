// Console, issue #9: an account's lifecycle by hand (pré-supprimer, restaurer, supprimer — one account from its
// page, or every account of a users-list filter at once) and its local administration (nommer / retirer). Every
// change goes through a confirmation page and is audited by the domain (accounts/lifecycle.ts,
// directory/local-admins.ts), which also enforces the caller's scope.
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { z } from 'zod';
import { applyLifecycleAction, type LifecycleAction } from '../../accounts/lifecycle.js';
import type { AppContext } from '../../context.js';
import { accountLinks, unlinkAccount } from '../../federation/links.js';
import { appointLocalAdmin, localAdminOf, removeLocalAdmin } from '../../directory/local-admins.js';
import { DirectoryError, isUuid, structureInScope, type UserDetails } from '../../directory/users.js';
import { selectAccounts } from '../../publipostage/select.js';
import { SelectionSchema } from '../../publipostage/selection.js';
import { typed } from '../area.js';
import { HttpError, viewer } from '../context.js';
import { translator } from '../i18n/index.js';
import { IdParams, text } from '../input.js';
import { schoolBase, schoolOr404, sendConsolePage, type School } from './frame.js';
import { parseSelection, selectionParams } from './selection.js';
import { bulkLifecycleConfirmView, LIFECYCLE_ACTIONS, lifecycleConfirmView, userBase, type AccountAdminData } from './views/account-admin.js';
import { viewEnv } from '../view.js';

const isAction = (a: string): a is LifecycleAction => (LIFECYCLE_ACTIONS as readonly string[]).includes(a);

/** What the user page's "Cycle de vie" and "Administration locale" block shows (views/account-admin.ts). */
export async function loadAccountAdmin(ctx: AppContext, req: FastifyRequest, d: UserDetails): Promise<AccountAdminData> {
  const pool = ctx.database.pool;
  const absentSince = (await pool.query('SELECT absent_since FROM users WHERE id = $1', [d.id])).rows[0]?.absent_since as Date | null;
  const { user, scope } = viewer(req);
  // Only the caller's schools, as the page's « Administrateur local de » (getUserDetails): a colleague the caller
  // appointed may administer another school too, which is none of the caller's business (and never theirs to undo).
  const adminOf = (await localAdminOf(pool, d.id)).filter((s) => structureInScope(scope, s.id));
  return { absentSince, adminOf, scope, isSelf: d.id === user.id, viewerId: user.id, links: d.readOnly ? [] : await accountLinks(pool, d.id) };
}

const ActionQuery = z.object({ action: text(20), etablissement: text(100) });
const ActionForm = z.object({ action: text(20), etablissement: text(100) });
const AdminForm = z.object({ op: text(10), structureId: text(100), etablissement: text(100) });
const UnlinkForm = z.object({ providerId: text(40), etablissement: text(100) });
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
    return sendConsolePage(reply, {
      req,
      title: _(`cycle.${action}.title`),
      school,
      section: 'users',
      body: lifecycleConfirmView(viewEnv(req), row, action, school),
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
    // Said on the page, as a block is (the page's state alone changed: nothing told the admin it was done).
    return reply.redirect(`${userBase(req.params.id)}?${school ? `etablissement=${school.id}&` : ''}ok=${action}`, 303);
  });

  app.post('/utilisateurs/:id/administration', { schema: { params: IdParams, body: AdminForm } }, async (req, reply) => {
    const { op, structureId, etablissement } = req.body;
    const { user, scope } = viewer(req);
    if (!isUuid(req.params.id) || !isUuid(structureId)) throw new DirectoryError('not_found', 'directory.userNotFound');
    if (op === 'appoint') await appointLocalAdmin(pool, scope, req.params.id, structureId, user.id);
    else if (op === 'remove') await removeLocalAdmin(pool, scope, req.params.id, structureId, user.id);
    else throw new HttpError(400, 'error.badRequest');
    // Said on the page (the list of schools alone changed: nothing told the admin it was done).
    return reply.redirect(`${userBase(req.params.id)}?${isUuid(etablissement) ? `etablissement=${etablissement}&` : ''}ok=${op}`, 303);
  });

  app.post('/utilisateurs/:id/federation', { schema: { params: IdParams, body: UnlinkForm } }, async (req, reply) => {
    const { user, scope } = viewer(req);
    if (!isUuid(req.params.id)) throw new DirectoryError('not_found', 'directory.userNotFound');
    await unlinkAccount(pool, scope, req.params.id, req.body.providerId, user.id);
    const { etablissement } = req.body;
    return reply.redirect(`${userBase(req.params.id)}?${isUuid(etablissement) ? `etablissement=${etablissement}&` : ''}ok=unlink`, 303);
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
    return sendConsolePage(reply, {
      req,
      title: _(`cycle.${action}.title`),
      school,
      section: 'users',
      body: bulkLifecycleConfirmView(viewEnv(req), school, action, rows.length, bulkTargets(rows, action, viewer(req).user.id), params),
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
    const ids = bulkTargets(rows, action, user.id).acting.map((r) => r.id);
    const n = await applyLifecycleAction(pool, scope, action, ids, user.id);
    return reply.redirect(`${back}${back.endsWith('?') ? '' : '&'}ok=${action}&n=${n}`, 303);
  });
}

/**
 * The accounts a bulk action of a filter acts on: not the read-only ones (an administrator of a school, for a local
 * admin: directory/scope.ts manageableSql), counted in `skipped` and said on the confirmation — a filter over the staff
 * holds the head and her deputy, and refusing the whole action for them left the others untouched; never oneself,
 * except to restore.
 */
export function bulkTargets<R extends { id: string; readOnly?: boolean }>(rows: R[], action: LifecycleAction, selfId: string): { acting: R[]; skipped: number } {
  const acting = rows.filter((r) => !r.readOnly && (action === 'restore' || r.id !== selfId));
  return { acting, skipped: rows.filter((r) => r.readOnly).length };
}
