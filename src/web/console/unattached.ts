// Console › « Comptes sans établissement » (super admin only): the accounts that belong to no school
// (directory/unattached.ts), which no school's page counts nor lists — an AAF staff record without its school, for
// one. Read-only: login (to the account's page), name, profile, source, creation. Reached from the console's
// structure chooser and from an import report that left such accounts. A local admin gets 403, as on /console/federation.
import type { FastifyInstance } from 'fastify';
import { hasRole } from '../auth.js';
import { listUnattached } from '../../directory/unattached.js';
import { typed } from '../area.js';
import { HttpError, viewer } from '../context.js';
import { html } from '../html.js';
import { translator } from '../i18n/index.js';
import { profileLabel } from '../labels.js';
import { dateOnly, plural, sendConsolePage } from './frame.js';
import { LIST_PAGE_SIZE, offsetOf, pager } from './selection.js';
import { isFeedSource } from './views/users.js';

export const UNATTACHED_PATH = '/console/sans-etablissement';

export default async function unattachedScreen(root: FastifyInstance, ctx: import('../../context.js').AppContext): Promise<void> {
  const app = typed(root);
  app.get('/sans-etablissement', async (req, reply) => {
    const lang = req.lang;
    const _ = translator(lang);
    if (!hasRole(viewer(req).user, 'superadmin')) throw new HttpError(403, 'error.forbidden');
    const offset = offsetOf(req);
    const { total, rows } = await listUnattached(ctx, { limit: LIST_PAGE_SIZE, offset });
    const body =
      total === 0
        ? html`<p class="card" data-unattached-total="0">${_('unattached.none')}</p>`
        : html`<p class="muted" data-unattached-total="${total}">${plural(lang, 'unattached.count', total)}</p>
<div class="table-wrap"><table class="unattached">
  <caption class="visually-hidden">${_('unattached.title')}</caption>
  <thead><tr><th scope="col">${_('col.login')}</th><th scope="col">${_('col.lastName')}</th><th scope="col">${_('col.firstName')}</th><th scope="col">${_('col.profile')}</th>
    <th scope="col">${_('user.origin')}</th><th scope="col">${_('col.created')}</th></tr></thead>
  <tbody>${rows.map(
    (u) => html`<tr data-login="${u.login}"><td><a href="/console/utilisateurs/${u.id}"><code>${u.login}</code></a></td><td>${u.lastName}</td><td>${u.firstName}</td>
    <td>${profileLabel(lang, u.profile)}</td><td>${_(u.origin === 'feed' && isFeedSource(u.source) ? `user.source.${u.source}` : `user.origin.${u.origin}`)}</td><td>${dateOnly(lang, u.createdAt)}</td></tr>`,
  )}</tbody>
</table></div>
${total > LIST_PAGE_SIZE ? pager(lang, UNATTACHED_PATH, new URLSearchParams(), offset, LIST_PAGE_SIZE, total) : ''}`;
    return sendConsolePage(reply, { req, title: _('unattached.title'), lead: _('unattached.lead'), body });
  });
}
