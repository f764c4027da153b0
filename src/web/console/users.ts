// Console › Utilisateurs: the list (same filters as the publipostage, search, pagination) and one user's page
// (details, family links, renewal code shown once, activation code, block/unblock with confirmation,
// email/phone correction). Every account is looked up through the caller's Scope: out of scope = 404.
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { z } from 'zod';
import { normalizeEmail, normalizePhone } from '../../accounts/contact.js';
import { RENEWAL_HOURS } from '../../accounts/issue.js';
import { generateRenewalCode, regenerateActivationCode } from '../../accounts/renewal.js';
import type { AppContext } from '../../context.js';
import { getUserDetails, setBlocked, updateUserContact, type UserDetails } from '../../directory/users.js';
import { DomainError } from '../../lib/errors.js';
import { countSelection, selectAccounts } from '../../publipostage/select.js';
import { SelectionSchema, type AccountRow } from '../../publipostage/selection.js';
import { typed } from '../area.js';
import { HttpError, viewer } from '../context.js';
import { domainRefusal } from '../errors.js';
import type { FieldErrors } from '../forms.js';
import { translator } from '../i18n/index.js';
import { IdParams, text } from '../input.js';
import type { Notice } from '../layout.js';
import { stashCode, takeCode } from '../reveal.js';
import { viewEnv } from '../view.js';
import { loadAccountAdmin } from './account-admin.js';
import { plural, schoolBase, schoolOr404, sendConsolePage, type School } from './frame.js';
import { loadSelectionScreen, selectionParams } from './selection.js';
import { handoutNotice } from './handout.js';
import { activationConfirmView, blockConfirmView, renewalNoticeView, userHref, userView, usersListView } from './views/users.js';
import { lastDistributions } from '../../publipostage/tracking.js';

export { stateBadges, userHref } from './views/users.js';

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
    const params = selectionParams(selection, true);
    return sendConsolePage(
      reply,
      {
        req,
        title: _('users.title'),
        school,
        section: 'users',
        notice: handoutNotice(req),
        body: usersListView(viewEnv(req), {
          school,
          selection,
          invalid,
          classes,
          levels,
          total: counts.total,
          preDeleted: counts.preDeleted,
          rows,
          offset,
          params,
          keyset,
        }),
      },
      invalid.length ? 400 : 200,
    );
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

  async function userPage(req: FastifyRequest, reply: FastifyReply, id: string, state: PageState = {}, status = 200): Promise<FastifyReply> {
    const lang = req.lang;
    const _ = translator(lang);
    const d = await detailsOr404(req, id);
    const q = UserQuery.parse(req.query ?? {});
    const school = contextSchool(d, state.wanted ?? q.etablissement);
    // The pending activation code, decrypted like the publipostage does (an expired one is not shown).
    let code: AccountRow | null = null;
    if (!d.activated && d.activationCode) {
      [code] = await selectAccounts(ctx, SelectionSchema.parse({ userIds: [d.id], blocked: 'all', preDeletion: 'all', external: 'info' }), viewer(req).scope);
    }
    const last = (await lastDistributions(ctx.database.pool, [d.id])).get(d.id);
    const ok = q.ok;
    let notice = state.notice ?? null;
    notice ??= handoutNotice(req);
    if (!notice && q.code) notice = await renewalNotice(req, d, q.code);
    if (
      !notice &&
      (ok === 'blocked' || ok === 'unblocked' || ok === 'contact' || ok === 'activation' || ok === 'pre-delete' || ok === 'restore' || ok === 'appoint' || ok === 'remove' || ok === 'unlink')
    ) {
      const n = Number(q.n) || 0;
      // « 0 session en cours a été fermée » reads as a fault: none open is said as such.
      const blocked = n ? plural(lang, 'user.ok.blocked', n) : _('user.ok.blocked.none');
      notice = { kind: 'success', text: ok === 'blocked' ? blocked : _(`user.ok.${ok}`) };
    }
    const contact = state.contact ?? { email: d.email ?? '', phone: d.phone ?? '', errors: {} };
    const admin = await loadAccountAdmin(ctx, req, d);
    return sendConsolePage(
      reply,
      {
        req,
        title: `${d.firstName} ${d.lastName}`,
        school,
        section: 'users',
        crumbs: school ? [{ href: `${schoolBase(school.id)}/utilisateurs`, label: _('console.nav.users') }] : [],
        notice,
        body: userView(viewEnv(req), { d, school, code, contact, isSelf: d.id === viewer(req).user.id, admin, last }),
      },
      status,
    );
  }

  /** The renewal code stashed by the POST, shown once; a reload says it was already shown. */
  async function renewalNotice(req: FastifyRequest, d: UserDetails, revealId: string): Promise<Notice> {
    const code = (await takeCode(ctx, req, revealId, d.id))?.code ?? null;
    const until = d.renewalCode?.expiresAt ?? new Date(Date.now() + RENEWAL_HOURS * 3_600_000);
    return renewalNoticeView(req.lang, d, code, until, `${ctx.config.publicUrl}/renouvellement`);
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
      crumbs: [...(school ? [{ href: `${schoolBase(school.id)}/utilisateurs`, label: _('console.nav.users') }] : []), { href: userHref(d.id, school), label: name }],
      body: activationConfirmView(viewEnv(req), d, school),
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
  for (const [path, blocked] of [
    ['bloquer', true],
    ['debloquer', false],
  ] as const) {
    app.get(`/utilisateurs/:id/${path}`, { schema: { params: IdParams, querystring: Back } }, async (req, reply) => {
      const _ = translator(req.lang);
      const d = await detailsOr404(req, req.params.id);
      const school = contextSchool(d, req.query.etablissement);
      const name = `${d.firstName} ${d.lastName}`;
      return sendConsolePage(reply, {
        req,
        title: _(blocked ? 'user.block.title' : 'user.unblock.title'),
        school,
        section: 'users',
        narrow: true,
        crumbs: [{ href: userHref(d.id, school), label: name }],
        body: blockConfirmView(viewEnv(req), d, school, blocked, path),
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
