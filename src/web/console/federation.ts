// /console/federation (super admins): the identity providers of the configuration file, what to give each
// provider's administrator (SAML SP metadata URL, OIDC redirect URI), and where each one may be used, per structure
// and profile (src/federation/enablement.ts).
import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import type { AppContext } from '../../context.js';
import { listStructures } from '../../directory/structures.js';
import { PROFILES } from '../../directory/vocabulary.js';
import { loadEnablement, saveEnablement } from '../../federation/enablement.js';
import { samlUrls } from '../../federation/saml.js';
import { typed } from '../area.js';
import { hasRole } from '../auth.js';
import { HttpError, viewer } from '../context.js';
import { csrfField } from '../forms.js';
import { html } from '../html.js';
import { translator } from '../i18n/index.js';
import { list, text } from '../input.js';
import { profileLabel } from '../labels.js';
import { registerNav } from '../layout.js';
import { sendConsolePage } from './frame.js';

const BASE = '/console/federation';

export default async function federationConsole(root: FastifyInstance, ctx: AppContext): Promise<void> {
  registerNav({ href: BASE, labelKey: 'fed.console.nav', roles: ['superadmin'], order: 85 });
  const app = typed(root);
  const pool = ctx.database.pool;

  app.get('/federation', { schema: { querystring: z.object({ ok: text(40) }) } }, async (req, reply) => {
    const { user, scope } = viewer(req);
    if (!hasRole(user, 'superadmin')) throw new HttpError(403, 'error.forbidden');
    const lang = req.lang;
    const _ = translator(lang);
    const providers = [...ctx.config.federation.values()];
    const structures = await listStructures(ctx, scope);
    const linked = new Map(
      (await pool.query('SELECT provider_id, count(DISTINCT user_id)::int AS n FROM federation_links GROUP BY provider_id')).rows.map((r) => [r.provider_id as string, r.n as number]),
    );
    const cards = await Promise.all(
      providers.map(async (p) => {
        const on = await loadEnablement(pool, p.id);
        const urls =
          p.kind === 'saml'
            ? html`<p>${_('fed.console.metadata')}${_('colon')} <a href="${samlUrls(ctx.config.publicUrl, p).metadata}"><code>${samlUrls(ctx.config.publicUrl, p).metadata}</code></a></p>`
            : html`<p>${_('fed.console.redirect')}${_('colon')} <code>${ctx.config.publicUrl}/federation/${p.id}/retour</code></p>`;
        return html`<section class="card" id="provider-${p.id}" aria-labelledby="provider-${p.id}-title">
  <h2 id="provider-${p.id}-title">${p.label} <span class="muted">(${p.id})</span></h2>
  <p>${_('fed.console.kind')}${_('colon')} ${p.kind === 'saml' ? 'SAML 2.0' : 'OpenID Connect'} · ${_('fed.console.match')}${_('colon')} ${p.match.map((k) => _(`fed.match.${k}`)).join(', ')}
    · ${_('fed.console.linked', { count: linked.get(p.id) ?? 0 })}</p>
  ${urls}
  <form method="post" action="${BASE}/${p.id}">${csrfField(req)}
    <div class="table-wrap"><table>
      <caption>${_('fed.console.enabledFor', { provider: p.label })}</caption>
      <thead><tr><th scope="col">${_('fed.console.structure')}</th>${PROFILES.map((pr) => html`<th scope="col">${profileLabel(lang, pr)}</th>`)}</tr></thead>
      <tbody>${structures.map(
        (s) =>
          html`<tr><th scope="row">${s.name}${s.uai ? ` (${s.uai})` : ''}<input type="hidden" name="structures" value="${s.id}"></th>${PROFILES.map(
            (pr) => html`<td>
        <input type="checkbox" name="enabled" value="${s.id}:${pr}" aria-label="${p.label} — ${s.name} — ${profileLabel(lang, pr)}"${on.has(`${s.id}:${pr}`) ? html` checked` : ''}></td>`,
          )}</tr>`,
      )}</tbody>
    </table></div>
    <div class="actions"><button type="submit">${_('fed.console.save', { provider: p.label })}</button></div>
  </form>
</section>`;
      }),
    );
    const saved = ctx.config.federation.get(req.query.ok);
    return sendConsolePage(reply, {
      req,
      title: _('fed.console.title'),
      lead: _('fed.console.lead'),
      notice: saved ? { kind: 'success', text: _('fed.console.saved', { provider: saved.label }) } : null,
      body: providers.length ? cards : html`<p class="card">${_('fed.console.none')}</p>`,
    });
  });

  const EnableForm = z.object({ structures: list(100), enabled: list(200) });
  app.post('/federation/:provider', { schema: { params: z.object({ provider: z.string().max(40) }), body: EnableForm } }, async (req, reply) => {
    const { user, scope } = viewer(req);
    if (!hasRole(user, 'superadmin')) throw new HttpError(403, 'error.forbidden');
    const p = ctx.config.federation.get(req.params.provider);
    if (!p) throw new HttpError(404, 'fed.unknown');
    // Only structures that exist and that the form listed are rewritten.
    const known = new Set((await listStructures(ctx, scope)).map((s) => s.id));
    await saveEnablement(
      pool,
      p.id,
      req.body.structures.filter((s) => known.has(s)),
      req.body.enabled,
      user.id,
    );
    return reply.redirect(`${BASE}?ok=${p.id}`, 303);
  });
}
