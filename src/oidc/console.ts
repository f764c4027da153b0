// /applications (super admins): the ENT's applications that sign users in with Trousseau — list, register (the
// secret shown once, on the answer to the form), delete. Domain in clients.ts.
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { z } from 'zod';
import { DomainError } from '../lib/errors.js';
import { typed, type AreaOptions } from '../web/area.js';
import { guard, HttpError, viewer } from '../web/context.js';
import { domainMessage } from '../web/errors.js';
import { checkbox, csrfField, errorSummary, field, fieldId, requiredLegend, type FieldErrors } from '../web/forms.js';
import { html, type SafeHtml } from '../web/html.js';
import { translator } from '../web/i18n/index.js';
import { list, text } from '../web/input.js';
import { registerNav, sendPage, type Notice } from '../web/layout.js';
import { SCOPES, type Scope } from './claims.js';
import { ClientInputSchema, deleteClient, listClients, registerClient, validRedirectUri } from './clients.js';
import { issuerOf } from './provider.js';

const BASE = '/applications';

interface FormState {
  name: string;
  redirectUris: string;
  scopes: string[];
  firstParty: boolean;
  errors: FieldErrors;
}

const ClientForm = z.object({ name: text(200), redirectUris: text(50_000), scopes: list(20), firstParty: text(10) });

export default async function oidcClientsArea(root: FastifyInstance, { ctx }: AreaOptions): Promise<void> {
  registerNav({ href: BASE, labelKey: 'nav.applications', roles: ['superadmin'], order: 85 });
  root.addHook('preValidation', guard('superadmin'));
  const app = typed(root);
  const pool = ctx.database.pool;

  async function page(req: FastifyRequest, reply: FastifyReply, o: { notice?: Notice | null; form?: FormState; created?: SafeHtml } = {}, status = 200) {
    const _ = translator(req.lang);
    const clients = await listClients(pool);
    const form = o.form ?? { name: '', redirectUris: '', scopes: ['profile', 'ent'], firstParty: false, errors: {} };
    const issuer = issuerOf(ctx);
    const table = clients.length === 0
      ? html`<p class="card">${_('oidc.clients.none')}</p>`
      : html`<div class="table-wrap"><table>
  <caption class="visually-hidden">${_('oidc.clients.list')}</caption>
  <thead><tr><th scope="col">${_('oidc.clients.col.name')}</th><th scope="col">${_('oidc.clients.col.clientId')}</th>
    <th scope="col">${_('oidc.clients.col.redirectUris')}</th><th scope="col">${_('oidc.clients.col.scopes')}</th>
    <th scope="col">${_('oidc.clients.col.firstParty')}</th><th scope="col"><span class="visually-hidden">${_('oidc.clients.delete')}</span></th></tr></thead>
  <tbody>${clients.map((c) => html`<tr data-client="${c.clientId}">
    <th scope="row">${c.name}</th><td><code>${c.clientId}</code></td>
    <td>${c.redirectUris.map((u, i) => html`${i ? html`<br>` : ''}<code>${u}</code>`)}</td>
    <td>${c.scopes.join(' ')}</td>
    <td>${c.firstParty ? html`<span class="badge badge-success">${_('oidc.clients.firstParty')}</span>` : _('oidc.clients.thirdParty')}</td>
    <td><form method="post" action="${BASE}/${c.clientId}/supprimer" class="inline-form">${csrfField(req)}
      <button type="submit" class="button-danger" aria-label="${_('oidc.clients.delete.label', { name: c.name })}">${_('oidc.clients.delete')}</button></form></td>
  </tr>`)}</tbody></table></div>`;
    const chosen = new Set(form.scopes);
    const createForm = html`<form method="post" action="${BASE}" class="card">${csrfField(req)}
  <h2>${_('oidc.clients.create')}</h2>
  ${requiredLegend(req)}
  ${errorSummary(req, form.errors, { name: _('oidc.clients.name'), redirectUris: _('oidc.clients.redirectUris') })}
  ${field(req, { name: 'name', label: _('oidc.clients.name'), value: form.name, hint: _('oidc.clients.name.hint'), required: true, maxlength: 120, error: form.errors.name })}
  <div class="field${form.errors.redirectUris ? ' field-invalid' : ''}">
    <label for="${fieldId('redirectUris')}">${_('oidc.clients.redirectUris')} <span class="req" aria-hidden="true">*</span></label>
    <p class="hint" id="${fieldId('redirectUris')}-hint">${_('oidc.clients.redirectUris.hint')}</p>
    ${form.errors.redirectUris ? html`<p class="field-error" id="${fieldId('redirectUris')}-error">${form.errors.redirectUris}</p>` : ''}
    <textarea id="${fieldId('redirectUris')}" name="redirectUris" rows="3" required spellcheck="false"
      aria-describedby="${fieldId('redirectUris')}-hint${form.errors.redirectUris ? ` ${fieldId('redirectUris')}-error` : ''}"${form.errors.redirectUris ? html` aria-invalid="true"` : ''}>${form.redirectUris}</textarea>
  </div>
  <fieldset><legend>${_('oidc.clients.scopes')}</legend>
    ${SCOPES.filter((s) => s !== 'openid').map((s) => checkbox({ name: 'scopes', value: s, checked: chosen.has(s), label: html`<code>${s}</code> — ${_(`oidc.consent.scope.${s}`)}` }))}
  </fieldset>
  ${checkbox({ name: 'firstParty', value: '1', checked: form.firstParty, label: _('oidc.clients.firstParty.label') })}
  <div class="actions"><button type="submit">${_('oidc.clients.submit')}</button></div>
</form>`;
    return sendPage(reply, {
      req,
      title: _('oidc.clients.title'),
      notice: o.notice,
      error: Object.keys(form.errors).length > 0,
      body: html`<p class="lead">${_('oidc.clients.lead', { issuer })} <code data-issuer>${issuer}</code></p>
${o.created ?? ''}
<section aria-labelledby="clients-list"><h2 id="clients-list">${_('oidc.clients.list')}</h2>${table}</section>
${createForm}`,
    }, status);
  }

  app.get('/', { schema: { querystring: z.object({ supprimee: text(2) }) } }, async (req, reply) => {
    const _ = translator(req.lang);
    return page(req, reply, { notice: req.query.supprimee === '1' ? { kind: 'success', text: _('oidc.clients.deleted') } : null });
  });

  app.post('/', { schema: { body: ClientForm } }, async (req, reply) => {
    const _ = translator(req.lang);
    const b = req.body;
    const uris = b.redirectUris.split(/\r?\n/).map((u) => u.trim()).filter(Boolean);
    const form: FormState = {
      name: b.name.trim(), redirectUris: b.redirectUris, scopes: b.scopes, firstParty: b.firstParty === '1', errors: {},
    };
    const parsed = ClientInputSchema.safeParse({
      name: form.name, redirectUris: uris, scopes: b.scopes.filter((s): s is Scope => (SCOPES as readonly string[]).includes(s)), firstParty: form.firstParty,
    });
    if (!parsed.success) {
      for (const issue of parsed.error.issues) {
        if (issue.path[0] === 'name') form.errors.name = _('oidc.clients.error.name');
        else form.errors.redirectUris = _('oidc.clients.error.redirectUris');
      }
      return page(req, reply, { form }, 422);
    }
    const bad = uris.find((u) => !validRedirectUri(u));
    if (bad !== undefined) {
      form.errors.redirectUris = domainMessage(req.lang, new DomainError('oidc.redirectUri', { value: bad }));
      return page(req, reply, { form }, 422);
    }
    const created = await registerClient(pool, ctx.secrets, parsed.data, viewer(req).user.id);
    return page(req, reply, {
      created: html`<div class="notice notice-success" role="status">
  <p><strong>${_('oidc.clients.created', { name: form.name })}</strong></p>
  <dl class="details"><dt>client_id</dt><dd><code data-client-id>${created.clientId}</code></dd>
  <dt>${_('oidc.clients.secret')}</dt><dd><code data-client-secret>${created.secret}</code></dd></dl>
</div>`,
    });
  });

  app.post('/:id/supprimer', { schema: { params: z.object({ id: z.string().max(100) }) } }, async (req, reply) => {
    // An unknown application is a 404, not « supprimée » over nothing (and no audit row).
    if (!(await deleteClient(pool, req.params.id, viewer(req).user.id))) throw new HttpError(404, 'error.notFound');
    return reply.redirect(`${BASE}?supprimee=1`, 303);
  });
}
