// "Conditions d'utilisation" of a school, versioned (issue #9): when the school publishes a new version, every
// account accepts it at its next sign-in (the sign-in redirects here) before going on. Domain: directory/policies.ts.
import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import type { AppContext } from '../../context.js';
import { acceptTerms, termsDue } from '../../directory/policies.js';
import { typed } from '../area.js';
import { guard, viewer } from '../context.js';
import { csrfField } from '../forms.js';
import { html } from '../html.js';
import { translator } from '../i18n/index.js';
import { text } from '../input.js';
import { sendPage } from '../layout.js';

export default async function accountTerms(root: FastifyInstance, ctx: AppContext, safeNext: (next: string | undefined) => string): Promise<void> {
  const app = typed(root);
  const pool = ctx.database.pool;
  const signedIn = guard();

  app.get('/conditions/accepter', { preValidation: signedIn, schema: { querystring: z.object({ next: text(2000) }) } }, async (req, reply) => {
    const _ = translator(req.lang);
    const next = safeNext(req.query.next);
    const due = await termsDue(pool, viewer(req).user.id);
    if (!due) return reply.redirect(next, 303);
    return sendPage(reply, {
      req,
      title: _('terms.accept.title'),
      narrow: true,
      body: html`<p>${_('terms.accept.lead', { v: due.version })}</p>
<div class="card terms-text" data-terms-version="${due.version}">${(due.text ?? '').split(/\n\s*\n/).map((p) => html`<p>${p}</p>`)}</div>
<form method="post" action="/conditions/accepter" class="card">${csrfField(req)}
  <input type="hidden" name="version" value="${due.version}"><input type="hidden" name="next" value="${next}">
  <div class="actions"><button type="submit">${_('terms.accept.button')}</button></div>
</form>`,
    });
  });

  app.post('/conditions/accepter', { preValidation: signedIn, schema: { body: z.object({ version: text(10), next: text(2000) }) } }, async (req, reply) => {
    const userId = viewer(req).user.id;
    const due = await termsDue(pool, userId);
    // Accepts the version shown, never a newer one published meanwhile (that one is asked next).
    const version = Number(req.body.version);
    if (due && Number.isInteger(version) && version > 0 && version <= due.version) await acceptTerms(pool, userId, version);
    const next = safeNext(req.body.next);
    return reply.redirect((await termsDue(pool, userId)) ? `/conditions/accepter?next=${encodeURIComponent(next)}` : next, 303);
  });
}
