// "Conditions d'utilisation" of a school, versioned (issue #9): when the school publishes a new version, every
// account accepts it at its next sign-in (account.ts redirects here) before going on. Domain: directory/policies.ts.
import type { FastifyInstance } from 'fastify';
import type { AppContext } from '../../context.js';
import { acceptTerms, termsDue } from '../../directory/policies.js';
import { requireRole } from '../auth.js';
import { csrfField } from '../forms.js';
import { html } from '../html.js';
import { translator } from '../i18n/index.js';
import { sendPage } from '../layout.js';
import { safeNext } from './account.js';
import { formValue, queryValue } from './classe.js';

export default async function accountTerms(app: FastifyInstance, ctx: AppContext): Promise<void> {
  const guard = { preHandler: requireRole('superadmin', 'localadmin', 'teacher', 'user') };
  const pool = ctx.database.pool;

  app.get('/conditions/accepter', guard, async (req, reply) => {
    const _ = translator(req.lang);
    const next = safeNext(queryValue(req, 'next'));
    const due = await termsDue(pool, req.user!.id);
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

  app.post('/conditions/accepter', guard, async (req, reply) => {
    const due = await termsDue(pool, req.user!.id);
    // Accepts the version shown, never a newer one published meanwhile (that one is asked next).
    const version = Number(formValue(req, 'version'));
    if (due && Number.isInteger(version) && version > 0 && version <= due.version) await acceptTerms(pool, req.user!.id, version);
    const again = await termsDue(pool, req.user!.id);
    const next = safeNext(formValue(req, 'next'));
    return reply.redirect(again ? `/conditions/accepter?next=${encodeURIComponent(next)}` : next, 303);
  });
}
