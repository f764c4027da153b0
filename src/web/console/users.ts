// Console › Utilisateurs: the list (same filters as the publipostage, search, pagination) and one user's page
// (details, family links, renewal code shown once, activation code, block/unblock with confirmation,
// email/phone correction). Every account is looked up through the caller's Scope: out of scope = 404.
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { z } from 'zod';
import { accountAdminSection, bulkLifecycleLinks } from './account-admin.js';
import { formatCode } from '../../accounts/codes.js';
import { normalizeEmail, normalizePhone } from '../../accounts/contact.js';
import { RENEWAL_HOURS } from '../../accounts/issue.js';
import { generateRenewalCode, regenerateActivationCode } from '../../accounts/renewal.js';
import type { AppContext } from '../../context.js';
import { functionLabels } from '../../directory/functions.js';
import { getUserDetails, setBlocked, updateUserContact, type RelativeInfo, type UserDetails } from '../../directory/users.js';
import { DomainError } from '../../lib/errors.js';
import { countSelection, selectAccounts } from '../../publipostage/select.js';
import { SelectionSchema, type AccountRow } from '../../publipostage/selection.js';
import { typed } from '../area.js';
import { HttpError, viewer } from '../context.js';
import { domainRefusal } from '../errors.js';
import { IdParams, text } from '../input.js';
import { profileLabel } from '../labels.js';
import { stashCode, takeCode } from '../reveal.js';
import { csrfField, field, errorSummary, type FieldErrors } from '../forms.js';
import { html, type SafeHtml } from '../html.js';
import { translator, type Lang } from '../i18n/index.js';
import type { Notice } from '../layout.js';
import { dateOnly, dateTime, plural, schoolBase, schoolOr404, sendConsolePage, type School } from './frame.js';
import {
  activeFilters, filterPanel, LIST_PAGE_SIZE, loadSelectionScreen, pager, searchField, selectionParams,
} from './selection.js';


/** State badges of an account, shared by the user list and the preview table. */
export function stateBadges(lang: Lang, r: Pick<AccountRow, 'activated' | 'codeExpired' | 'code' | 'blocked' | 'preDeleted' | 'isLocalAdmin'>): SafeHtml {
  const _ = translator(lang);
  return html`${r.activated
    ? html`<span class="badge badge-success">${_('state.activated')}</span>`
    : r.codeExpired
      ? html`<span class="badge badge-danger">${_('state.codeExpired')}</span>`
      : html`<span class="badge">${_('state.inactive')}</span>`}${r.blocked ? html` <span class="badge badge-danger">${_('state.blocked')}</span>` : ''}${
    r.preDeleted ? html` <span class="badge badge-warning">${_('state.preDeleted')}</span>` : ''}${
    r.isLocalAdmin ? html` <span class="badge badge-info">${_('state.localAdmin')}</span>` : ''}`;
}

export const userHref = (id: string, school?: School | null): string =>
  school ? `/console/utilisateurs/${id}?etablissement=${school.id}` : `/console/utilisateurs/${id}`;

/** Query of a user's page: the school it is shown under, the outcome of the last action, a code to reveal once. */
const UserQuery = z.object({ etablissement: text(100), ok: text(20), n: text(10), code: text(100) });
/** Fields every form of a user's page posts (the school it came from). */
const Back = z.object({ etablissement: text(100) });

export default async function users(root: FastifyInstance, ctx: AppContext): Promise<void> {
  const app = typed(root);
  // ------------------------------------------------------------------------------------------ list

  app.get('/etablissements/:id/utilisateurs', { schema: { params: IdParams } }, async (req, reply) => {
    const lang = req.lang;
    const _ = translator(lang);
    const school = await schoolOr404(ctx, viewer(req).scope, req.params.id);
    const { selection, invalid, offset, classes, levels, counts, rows, keyset } = await loadSelectionScreen(ctx, req, school.id, countSelection, true);
    const base = `${schoolBase(school.id)}/utilisateurs`;
    const params = selectionParams(selection, true);
    // Searching comes first here; the other filters stay folded until one is used.
    const searchBar = html`<div class="toolbar card">
  <div class="field search-field">${searchField(lang, selection)}</div>
  <div class="field"><label for="f-sort">${_('users.sort')}</label>
    <select id="f-sort" name="sort">${(['alpha', 'profile', 'class'] as const).map((s) => html`<option value="${s}"${selection.sort === s ? html` selected` : ''}>${_(`sort.${s}`)}</option>`)}</select></div>
  <button type="submit" data-search-submit>${_('users.show')}</button>
</div>`;
    const narrowed = activeFilters(selection, true) - (selection.search?.trim() ? 1 : 0);
    return sendConsolePage(reply, {
      req,
      title: _('users.title'),
      school,
      section: 'users',
      body: html`${filterPanel({ req, action: base, selection, classes, levels, legend: _('users.filters'), before: searchBar, searchOutside: true, listing: true, open: narrowed > 0 || invalid.length > 0, invalid })}
<p class="result-count" role="status">${plural(lang, 'users.count', counts.total)}</p>
${rows.length === 0 ? html`<p class="card">${_('users.none')}</p>` : html`<div class="table-wrap"><table class="users-table">
  <caption class="visually-hidden">${_('users.caption')}</caption>
  <thead><tr><th scope="col">${_('col.lastName')}</th><th scope="col">${_('col.firstName')}</th><th scope="col">${_('col.profile')}</th>
    <th scope="col">${_('col.login')}</th><th scope="col">${_('col.class')}</th><th scope="col">${_('col.email')}</th><th scope="col">${_('col.state')}</th></tr></thead>
  <tbody>${rows.map((r) => html`<tr data-login="${r.login}">
    <td><a href="${userHref(r.id, school)}">${r.lastName}</a></td><td>${r.firstName}</td><td>${profileLabel(lang, r.profile)}</td>
    <td><code>${r.login}</code></td><td>${r.classes.join(', ')}</td>
    <td>${r.email ? html`<span class="email">${r.email}</span>` : html`<span class="muted">—<span class="visually-hidden"> ${_('col.noEmail')}</span></span>`}</td>
    <td>${stateBadges(lang, r)}</td>
  </tr>`)}</tbody>
</table></div>`}
${pager(lang, base, params, offset, LIST_PAGE_SIZE, counts.total, keyset)}
${bulkLifecycleLinks(req, school.id, params, counts.total)}`,
    }, invalid.length ? 400 : 200);
  });

  // ------------------------------------------------------------------------------------------ one user

  interface PageState {
    notice?: Notice | null;
    contact?: { email: string; phone: string; errors: FieldErrors };
    /** The school the page is shown under (?etablissement= or the form's field). */
    wanted?: string;
  }

  async function detailsOr404(req: FastifyRequest, id: string): Promise<UserDetails> {
    const d = await getUserDetails(ctx, viewer(req).scope, id);
    if (!d) throw new HttpError(404, 'user.notFound');
    return d;
  }

  /** The school the page is shown under: the wanted one when the user belongs to it, else the first. */
  function contextSchool(d: UserDetails, wanted: string): School | null {
    const s = d.structures.find((x) => x.id === wanted) ?? d.structures[0];
    return s ? { id: s.id, name: s.name, uai: s.uai } : null;
  }

  function relatives(lang: Lang, list: RelativeInfo[], school: School | null): SafeHtml {
    const _ = translator(lang);
    return html`<ul class="plain relatives">${list.map((r) => html`<li><a href="${userHref(r.id, school)}">${r.firstName} ${r.lastName}</a>
      <span class="muted">${profileLabel(lang, r.profile)}${r.classes.length ? ` · ${r.classes.join(', ')}` : ''}</span>
      ${r.activated ? html`<span class="badge badge-success">${_('state.activated')}</span>` : html`<span class="badge">${_('state.inactive')}</span>`}</li>`)}</ul>`;
  }

  async function userPage(req: FastifyRequest, reply: FastifyReply, id: string, state: PageState = {}, status = 200): Promise<FastifyReply> {
    const lang = req.lang;
    const _ = translator(lang);
    const d = await detailsOr404(req, id);
    const q = UserQuery.parse(req.query ?? {});
    const school = contextSchool(d, state.wanted ?? q.etablissement);
    const self = `/console/utilisateurs/${d.id}`;
    const keep = school ? html`<input type="hidden" name="etablissement" value="${school.id}">` : '';
    const qs = school ? `?etablissement=${school.id}` : '';
    // The pending activation code, decrypted like the publipostage does (an expired one is not shown).
    let code: AccountRow | null = null;
    if (!d.activated && d.activationCode) {
      [code] = await selectAccounts(ctx, SelectionSchema.parse({ userIds: [d.id], blocked: 'all', preDeletion: 'all', external: 'info' }), viewer(req).scope);
    }
    const ok = q.ok;
    let notice = state.notice ?? null;
    if (!notice && q.code) notice = await renewalNotice(req, d, q.code);
    if (!notice && (ok === 'blocked' || ok === 'unblocked' || ok === 'contact' || ok === 'activation')) {
      const n = Number(q.n) || 0;
      notice = { kind: 'success', text: ok === 'blocked' ? plural(lang, 'user.ok.blocked', n) : _(`user.ok.${ok}`) };
    }
    const isSelf = d.id === viewer(req).user.id;
    const name = `${d.firstName} ${d.lastName}`;
    const contact = state.contact ?? { email: d.email ?? '', phone: d.phone ?? '', errors: {} };
    const labels = { email: _('user.email'), phone: _('user.phone') };

    const accountState = html`<dl class="details">
  <dt>${_('user.state')}</dt><dd>${d.activated
    ? html`<span class="badge badge-success">${_('state.activated')}</span> ${d.activatedAt ? _('user.activatedAt', { date: dateTime(lang, d.activatedAt) }) : ''}`
    : html`<span class="badge">${_('state.inactive')}</span>`}
    ${d.blocked ? html` <span class="badge badge-danger">${_('state.blocked')}</span>` : ''}
    ${d.preDeletedAt ? html` <span class="badge badge-warning">${_('user.preDeletedAt', { date: dateOnly(lang, d.preDeletedAt) })}</span>` : ''}</dd>
  ${!d.activated ? html`<dt>${_('col.code')}</dt><dd>${code?.code
    ? html`<code class="activation-code" data-activation-code>${formatCode(code.code)}</code>${code.codeExpiresAt ? html` <span class="muted">${_('user.codeUntil', { date: dateOnly(lang, code.codeExpiresAt) })}</span>` : ''}`
    : d.activationCode?.expired ? html`<span class="badge badge-danger">${_('state.codeExpired')}</span>` : html`<span class="muted">${_('user.noCode')}</span>`}</dd>` : ''}
  ${d.renewalCode && !d.renewalCode.expired && d.renewalCode.expiresAt
    ? html`<dt>${_('user.renewalPending')}</dt><dd>${_('user.renewalUntil', { date: dateTime(lang, d.renewalCode.expiresAt) })}</dd>` : ''}
  <dt>${_('user.lastLogin')}</dt><dd>${d.lastLoginAt ? dateTime(lang, d.lastLoginAt) : html`<span class="muted">${_('user.never')}</span>`}</dd>
</dl>`;

    // An account holding admin rights beyond the caller's scope is shown, never changed (requireManageable).
    const actions = d.readOnly ? html`<p class="notice notice-warning" data-read-only>${_('user.readOnly')}</p>` : html`<div class="user-actions">
  ${d.activated
    ? html`<form method="post" action="${self}/renouvellement" class="action-block">${csrfField(req)}${keep}
    <button type="submit">${_('user.renewal.button')}</button>
    <p class="hint">${_('user.renewal.hint', { hours: RENEWAL_HOURS })}</p></form>`
    : html`<p class="action-block"><a class="button button-secondary" href="${self}/activation${qs}">${_('user.activation.button')}</a>
    <span class="hint">${_('user.activation.hint')}</span></p>`}
  ${isSelf ? '' : d.blocked
    ? html`<p class="action-block"><a class="button button-secondary" href="${self}/debloquer${qs}">${_('user.unblock.button')}</a></p>`
    : html`<p class="action-block"><a class="button button-danger" href="${self}/bloquer${qs}">${_('user.block.button')}</a>
      <span class="hint">${_('user.block.hint')}</span></p>`}
</div>`;

    return sendConsolePage(reply, {
      req,
      title: name,
      school,
      section: 'users',
      crumbs: school ? [{ href: `${schoolBase(school.id)}/utilisateurs`, label: _('console.nav.users') }] : [],
      notice,
      body: html`<p class="user-subtitle"><span class="badge">${profileLabel(lang, d.profile)}</span> <code>${d.login}</code></p>
<div class="grid grid-2">
  <section class="card" aria-labelledby="account-title"><h2 id="account-title">${_('user.account')}</h2>${accountState}${actions}</section>
  ${await accountAdminSection(ctx, req, d, school)}
  <section class="card" aria-labelledby="contact-title"><h2 id="contact-title">${_('user.contact')}</h2>
    ${errorSummary(req, contact.errors, labels)}
    ${d.readOnly ? html`<dl class="details"><dt>${labels.email}</dt><dd>${d.email ?? '—'}</dd><dt>${labels.phone}</dt><dd>${d.phone ?? '—'}</dd></dl>`
      : html`<form method="post" action="${self}/coordonnees" novalidate>${csrfField(req)}${keep}
      ${field(req, { name: 'email', label: labels.email, type: 'email', value: contact.email, error: contact.errors.email, autocomplete: 'off', hint: _('user.email.hint') })}
      ${field(req, { name: 'phone', label: labels.phone, type: 'tel', value: contact.phone, error: contact.errors.phone, autocomplete: 'off' })}
      <button type="submit" class="button-secondary">${_('user.contact.save')}</button>
    </form>`}
  </section>
  <section class="card" aria-labelledby="identity-title"><h2 id="identity-title">${_('user.identity')}</h2>
    <dl class="details">
      <dt>${_('col.lastName')}</dt><dd>${d.lastName}</dd>
      <dt>${_('col.firstName')}</dt><dd>${d.firstName}</dd>
      ${d.birthDate ? html`<dt>${_('user.birthDate')}</dt><dd>${dateOnly(lang, new Date(`${d.birthDate}T12:00:00Z`))}</dd>` : ''}
      <dt>${_('col.profile')}</dt><dd>${profileLabel(lang, d.profile)}${d.title ? ` · ${d.title}` : ''}</dd>
      ${d.ine ? html`<dt>${_('user.ine')}</dt><dd><code>${d.ine}</code></dd>` : ''}
      ${d.functions.length ? html`<dt>${_('user.functions')}</dt><dd>${functionLabels(d.functions).join(', ')}</dd>` : ''}
      ${d.mobile ? html`<dt>${_('user.mobile')}</dt><dd>${d.mobile}</dd>` : ''}
      <dt>${_('col.login')}</dt><dd><code>${d.login}</code></dd>
      <dt>${_('user.origin')}</dt><dd>${_(`user.origin.${d.origin}`)}${d.externalId ? html` <span class="muted">(${d.externalId})</span>` : ''}</dd>
      <dt>${_('col.created')}</dt><dd>${dateOnly(lang, d.createdAt)}</dd>
    </dl>
  </section>
  <section class="card" aria-labelledby="links-title"><h2 id="links-title">${_('user.links')}</h2>
    <dl class="details">
      <dt>${_('user.structures')}</dt><dd>${d.structures.length ? d.structures.map((s, i) => html`${i ? ', ' : ''}<a href="${schoolBase(s.id)}">${s.name}</a>`) : html`<span class="muted">—</span>`}</dd>
      ${d.classes.length ? html`<dt>${_('user.classes')}</dt><dd>${d.classes.map((c) => c.name).join(', ')}</dd>` : ''}
      ${d.groups.length ? html`<dt>${_('user.groups')}</dt><dd>${d.groups.map((g) => g.name).join(', ')}</dd>` : ''}
      ${d.adminOf.length ? html`<dt>${_('user.adminOf')}</dt><dd>${d.adminOf.map((s) => s.name).join(', ')}</dd>` : ''}
      ${d.parents.length ? html`<dt>${_('user.parents')}</dt><dd>${relatives(lang, d.parents, school)}</dd>` : ''}
      ${d.children.length ? html`<dt>${_('user.children')}</dt><dd>${relatives(lang, d.children, school)}</dd>` : ''}
    </dl>
  </section>
</div>`,
    }, status);
  }

  /** The renewal code stashed by the POST, shown once; a reload says it was already shown. */
  async function renewalNotice(req: FastifyRequest, d: UserDetails, revealId: string): Promise<Notice> {
    const lang = req.lang;
    const _ = translator(lang);
    const code = (await takeCode(ctx, req, revealId, d.id))?.code;
    if (!code) return { kind: 'info', text: html`<p data-renewal-gone>${_('user.renewal.gone')}</p>` };
    const until = d.renewalCode?.expiresAt ?? new Date(Date.now() + RENEWAL_HOURS * 3_600_000);
    return {
      kind: 'info',
      text: html`<p><strong>${_('user.renewal.for', { name: `${d.firstName} ${d.lastName}` })}</strong></p>
<p class="big-code" data-renewal-code>${formatCode(code)}</p>
<p>${_('user.renewal.valid', { hours: RENEWAL_HOURS, date: dateTime(lang, until) })}</p>
<p>${_('user.renewal.how', { login: d.login, url: `${ctx.config.publicUrl}/renouvellement` })}</p>
<p class="once"><strong>${_('user.renewal.once')}</strong></p>`,
    };
  }

  app.get('/utilisateurs/:id', { schema: { params: IdParams } }, (req, reply) => userPage(req, reply, req.params.id));

  const back = (etablissement: string, id: string, ok: string, extra: Record<string, string> = {}) => {
    const p = new URLSearchParams({ ok, ...extra });
    if (etablissement) p.set('etablissement', etablissement);
    return `/console/utilisateurs/${id}?${p}`;
  };

  /** A refused operation re-renders the page with the reason, translated from its message code. */
  async function refused(req: FastifyRequest, reply: FastifyReply, id: string, wanted: string, e: unknown): Promise<FastifyReply> {
    if (!(e instanceof DomainError)) throw e;
    const { status, message } = domainRefusal(req.lang, e);
    if (status === 404) throw new HttpError(404, 'user.notFound');
    return userPage(req, reply, id, { notice: { kind: 'error', text: message }, wanted }, status);
  }

  // "Générer un code de renouvellement": only its HMAC is stored; the code itself is stashed for the one page
  // the browser is redirected to (post/redirect/get), so a reload neither re-posts nor replaces it.
  app.post('/utilisateurs/:id/renouvellement', { schema: { params: IdParams, body: Back } }, async (req, reply) => {
    const d = await detailsOr404(req, req.params.id);
    let code: string;
    try {
      code = await generateRenewalCode(ctx, viewer(req).scope, d.id, viewer(req).user.id);
    } catch (e) {
      return refused(req, reply, d.id, req.body.etablissement, e);
    }
    const revealId = await stashCode(ctx, req, d.id, code);
    const p = new URLSearchParams({ code: revealId });
    if (req.body.etablissement) p.set('etablissement', req.body.etablissement);
    return reply.redirect(`/console/utilisateurs/${d.id}?${p}`, 303);
  });

  // "Régénérer le code d'activation": it kills a sheet that may already be handed out, so confirm first.
  app.get('/utilisateurs/:id/activation', { schema: { params: IdParams, querystring: Back } }, async (req, reply) => {
    const _ = translator(req.lang);
    const d = await detailsOr404(req, req.params.id);
    const school = contextSchool(d, req.query.etablissement);
    const name = `${d.firstName} ${d.lastName}`;
    return sendConsolePage(reply, {
      req,
      title: _('user.activation.title'),
      school,
      section: 'users',
      narrow: true,
      crumbs: [
        ...(school ? [{ href: `${schoolBase(school.id)}/utilisateurs`, label: _('console.nav.users') }] : []),
        { href: userHref(d.id, school), label: name },
      ],
      body: html`<div class="card">
  <p class="lead">${_('user.activation.question', { name, login: d.login })}</p>
  <p>${_('user.activation.consequence')}</p>
  <form method="post" action="/console/utilisateurs/${d.id}/activation">${csrfField(req)}${school ? html`<input type="hidden" name="etablissement" value="${school.id}">` : ''}
    <div class="actions"><button type="submit" class="button-danger" data-confirm-activation>${_('user.activation.confirm')}</button>
    <a href="${userHref(d.id, school)}">${_('console.cancel')}</a></div>
  </form>
</div>`,
    });
  });

  app.post('/utilisateurs/:id/activation', { schema: { params: IdParams, body: Back } }, async (req, reply) => {
    const d = await detailsOr404(req, req.params.id);
    try {
      await regenerateActivationCode(ctx, viewer(req).scope, d.id, viewer(req).user.id);
    } catch (e) {
      return refused(req, reply, d.id, req.body.etablissement, e);
    }
    return reply.redirect(back(req.body.etablissement, d.id, 'activation'), 303);
  });

  // Block / unblock: a confirmation page first (GET), the change on POST.
  for (const [path, blocked] of [['bloquer', true], ['debloquer', false]] as const) {
    app.get(`/utilisateurs/:id/${path}`, { schema: { params: IdParams, querystring: Back } }, async (req, reply) => {
      const _ = translator(req.lang);
      const d = await detailsOr404(req, req.params.id);
      const school = contextSchool(d, req.query.etablissement);
      const name = `${d.firstName} ${d.lastName}`;
      const self = `/console/utilisateurs/${d.id}`;
      return sendConsolePage(reply, {
        req,
        title: _(blocked ? 'user.block.title' : 'user.unblock.title'),
        school,
        section: 'users',
        narrow: true,
        crumbs: [{ href: userHref(d.id, school), label: name }],
        body: html`<div class="card">
  <p class="lead">${_(blocked ? 'user.block.question' : 'user.unblock.question', { name, login: d.login })}</p>
  <p>${_(blocked ? 'user.block.consequence' : 'user.unblock.consequence')}</p>
  <form method="post" action="${self}/${path}">${csrfField(req)}${school ? html`<input type="hidden" name="etablissement" value="${school.id}">` : ''}
    <div class="actions"><button type="submit"${blocked ? html` class="button-danger"` : ''}>${_(blocked ? 'user.block.confirm' : 'user.unblock.confirm')}</button>
    <a href="${userHref(d.id, school)}">${_('console.cancel')}</a></div>
  </form>
</div>`,
      });
    });

    app.post(`/utilisateurs/:id/${path}`, { schema: { params: IdParams, body: Back } }, async (req, reply) => {
      const d = await detailsOr404(req, req.params.id);
      try {
        const r = await setBlocked(ctx, viewer(req).scope, d.id, blocked, viewer(req).user.id);
        return reply.redirect(back(req.body.etablissement, d.id, blocked ? 'blocked' : 'unblocked', { n: String(r.sessionsEnded) }), 303);
      } catch (e) {
        return refused(req, reply, d.id, req.body.etablissement, e);
      }
    });
  }

  const ContactForm = Back.extend({ email: text(320), phone: text(40) });
  app.post('/utilisateurs/:id/coordonnees', { schema: { params: IdParams, body: ContactForm } }, async (req, reply) => {
    const _ = translator(req.lang);
    const d = await detailsOr404(req, req.params.id);
    const email = req.body.email.trim();
    const phone = req.body.phone.trim();
    const wanted = req.body.etablissement;
    const errors: FieldErrors = {};
    if (email && !normalizeEmail(email)) errors.email = _('user.email.invalid');
    if (normalizePhone(phone) === null) errors.phone = _('user.phone.invalid');
    if (Object.keys(errors).length) return userPage(req, reply, d.id, { contact: { email, phone, errors }, wanted }, 422);
    try {
      await updateUserContact(ctx, viewer(req).scope, d.id, { email, phone }, viewer(req).user.id);
    } catch (e) {
      return refused(req, reply, d.id, wanted, e);
    }
    return reply.redirect(back(wanted, d.id, 'contact'), 303);
  });
}
