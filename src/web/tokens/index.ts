// /jetons (super admins): API tokens for scripts — list (with last use), create (shown once), revoke.
// The tokens themselves are checked on POST /api/import (see requireRoleOrToken in ../auth.ts).
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { z } from 'zod';
import { createApiToken, listApiTokens, revokeApiToken, TokenInputError } from '../../accounts/api-tokens.js';
import { listStructures } from '../../directory/structures.js';
import { isUuid } from '../../directory/users.js';
import { typed, type AreaOptions } from '../area.js';
import { guard, viewer } from '../context.js';
import { domainMessage } from '../errors.js';
import { csrfField, errorSummary, field, fieldId, type FieldErrors } from '../forms.js';
import { html, type SafeHtml } from '../html.js';
import { translator } from '../i18n/index.js';
import { registerNav, sendPage, type Notice } from '../layout.js';
import { list, text } from '../input.js';
import { dateTime } from '../console/frame.js';

const BASE = '/jetons';

interface FormState {
  name: string;
  structures: string[];
  all: boolean;
  errors: FieldErrors;
}

const TokenForm = z.object({ name: text(200), structures: list(100), all: text(2) });

/** /jetons: one guard, super admins only. */
export default async function tokensArea(root: FastifyInstance, { ctx }: AreaOptions): Promise<void> {
  registerNav({ href: BASE, labelKey: 'nav.tokens', roles: ['superadmin'], order: 80 });
  root.addHook('preValidation', guard('superadmin'));
  const app = typed(root);

  async function page(req: FastifyRequest, reply: FastifyReply, o: { notice?: Notice | null; form?: FormState; created?: SafeHtml } = {}, status = 200) {
    const lang = req.lang;
    const _ = translator(lang);
    const [tokens, structures] = await Promise.all([listApiTokens(ctx.database.pool), listStructures(ctx, { kind: 'all' })]);
    const form = o.form ?? { name: '', structures: [], all: false, errors: {} };
    const list =
      tokens.length === 0
        ? html`<p class="card">${_('tokens.none')}</p>`
        : html`<div class="table-wrap"><table class="tokens">
  <caption class="visually-hidden">${_('tokens.list')}</caption>
  <thead><tr><th scope="col">${_('tokens.col.name')}</th><th scope="col">${_('tokens.col.prefix')}</th><th scope="col">${_('tokens.col.structures')}</th>
    <th scope="col">${_('tokens.col.created')}</th><th scope="col">${_('tokens.col.lastUse')}</th><th scope="col">${_('tokens.col.state')}</th></tr></thead>
  <tbody>${tokens.map(
    (t) => html`<tr data-token="${t.prefix}">
    <th scope="row">${t.name}</th>
    <td><code>trs_${t.prefix}_…</code></td>
    <td>${t.allStructures ? html`<strong>${_('tokens.all')}</strong>` : t.structures.map((s, i) => html`${i ? ', ' : ''}${s.name}${s.uai ? ` (${s.uai})` : ''}`)}</td>
    <td>${dateTime(lang, t.createdAt)} <span class="muted">${t.createdByLogin ? _('tokens.by', { login: t.createdByLogin }) : _('tokens.byCli')}</span></td>
    <td data-last-use>${t.lastUsedAt ? html`${dateTime(lang, t.lastUsedAt)}${t.lastUsedIp ? html` <span class="muted">${_('tokens.from', { ip: t.lastUsedIp })}</span>` : ''}` : html`<span class="muted">${_('tokens.never')}</span>`}</td>
    <td>${
      t.revokedAt
        ? html`<span class="badge badge-danger">${_('tokens.revoked', { date: dateTime(lang, t.revokedAt) })}</span>`
        : html`${t.issuerValid ? html`<span class="badge badge-success">${_('tokens.active')}</span>` : html`<span class="badge badge-warning" data-issuer-gone>${_('tokens.issuerGone')}</span>`}
      <form method="post" action="${BASE}/${t.id}/revoquer" class="inline-form">${csrfField(req)}
        <button type="submit" class="button-danger" aria-label="${_('tokens.revoke.label', { name: t.name })}">${_('tokens.revoke')}</button></form>`
    }</td>
  </tr>`,
  )}</tbody>
</table></div>`;
    const chosen = new Set(form.structures);
    const createForm = html`<form method="post" action="${BASE}" class="card token-form">${csrfField(req)}
  <h2>${_('tokens.create')}</h2>
  ${errorSummary(req, form.errors, { name: _('tokens.name'), structures: _('tokens.structures') })}
  ${field(req, { name: 'name', label: _('tokens.name'), value: form.name, hint: _('tokens.name.hint'), required: true, maxlength: 100, error: form.errors.name })}
  <div class="field${form.errors.structures ? ' field-invalid' : ''}">
    <label for="${fieldId('structures')}">${_('tokens.structures')}</label>
    <p class="hint" id="${fieldId('structures')}-hint">${_('tokens.structures.hint')}</p>
    ${form.errors.structures ? html`<p class="field-error" id="${fieldId('structures')}-error">${form.errors.structures}</p>` : ''}
    <select id="${fieldId('structures')}" name="structures" multiple size="${Math.min(10, Math.max(3, structures.length))}"
      aria-describedby="${fieldId('structures')}-hint${form.errors.structures ? ` ${fieldId('structures')}-error` : ''}"${form.errors.structures ? html` aria-invalid="true"` : ''}>
      ${structures.map((s) => html`<option value="${s.id}"${chosen.has(s.id) ? html` selected` : ''}>${s.name}${s.uai ? ` (${s.uai})` : ''}</option>`)}
    </select>
  </div>
  <div class="field field-check">
    <input type="checkbox" id="${fieldId('all')}" name="all" value="1"${form.all ? html` checked` : ''}>
    <label for="${fieldId('all')}">${_('tokens.allStructures')}</label>
  </div>
  <div class="actions"><button type="submit">${_('tokens.submit')}</button></div>
</form>`;
    return sendPage(
      reply,
      {
        req,
        title: _('tokens.title'),
        notice: o.notice,
        body: html`<p class="lead">${_('tokens.lead')}</p>
${o.created ?? ''}
<section aria-labelledby="tokens-list"><h2 id="tokens-list">${_('tokens.list')}</h2>${list}</section>
${createForm}`,
      },
      status,
    );
  }

  app.get('/', { schema: { querystring: z.object({ revoque: text(2) }) } }, async (req, reply) => {
    const _ = translator(req.lang);
    const revoked = req.query.revoque === '1';
    return page(req, reply, { notice: revoked ? { kind: 'success', text: _('tokens.revoked.notice') } : null });
  });

  app.post('/', { schema: { body: TokenForm } }, async (req, reply) => {
    const _ = translator(req.lang);
    const form: FormState = { name: req.body.name, structures: req.body.structures.filter((s) => isUuid(s)), all: req.body.all === '1', errors: {} };
    try {
      const t = await createApiToken(ctx.database.pool, { name: form.name, structures: form.structures, allStructures: form.all, actorId: viewer(req).user.id, via: 'console' });
      const example = `curl -H "Authorization: Bearer ${t.token}" -F files=@CSV_Eleves.csv "${ctx.config.publicUrl}/api/import?structureId=${form.all ? '<id>' : form.structures[0]}&dryRun=true"`;
      return page(req, reply, {
        created: html`<div class="notice notice-success" role="status">
  <p><strong>${_('tokens.created', { name: form.name.trim() })}</strong></p>
  <p><code class="token-secret" data-token-secret>${t.token}</code></p>
  <p>${_('tokens.example')}</p><pre><code>${example}</code></pre>
</div>`,
      });
    } catch (e) {
      if (!(e instanceof TokenInputError)) throw e;
      form.errors[e.field] = domainMessage(req.lang, e);
      return page(req, reply, { form }, 422);
    }
  });

  app.post('/:id/revoquer', { schema: { params: z.object({ id: z.string().max(100) }) } }, async (req, reply) => {
    if (isUuid(req.params.id)) await revokeApiToken(ctx.database.pool, req.params.id, viewer(req).user.id, 'console');
    return reply.redirect(`${BASE}?revoque=1`, 303);
  });
}
