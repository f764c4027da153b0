// "Gérer les doublons" for one school: probable duplicate pairs with score and reasons, a side-by-side
// comparison, then "Fusionner" (the activated account is kept) or "Ignorer définitivement", each behind a
// confirmation page. The directory service (src/directory/duplicates.ts) does the work and the audit.
// Every page is in the console's frame (tabs and breadcrumb); the list is paginated.
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { z } from 'zod';
import type { AppContext } from '../../context.js';
import { dismissDuplicate, findDuplicates, mergeUsers, scorePair, type DuplicateReason } from '../../directory/duplicates.js';
import { scopeSql } from '../../directory/scope.js';
import { isUuid, memberOfStructureSql } from '../../directory/users.js';
import { DomainError } from '../../lib/errors.js';
import { frenchDate } from '../../publipostage/format.js';
import { typed } from '../area.js';
import { HttpError, viewer } from '../context.js';
import { domainRefusal } from '../errors.js';
import { csrfField } from '../forms.js';
import { html, type HtmlValue, type SafeHtml } from '../html.js';
import { plural, translator } from '../i18n/index.js';
import { IdParams, text } from '../input.js';
import { profileLabel } from '../labels.js';
import type { Notice } from '../layout.js';
import { schoolBase, schoolOr404, sendConsolePage, sharedStyle, type School } from './frame.js';
import { pager } from './selection.js';

type Translate = ReturnType<typeof translator>;
const PairParams = IdParams.extend({ a: z.string().max(100), b: z.string().max(100) });
/** Pairs per page of the list. */
export const DUPLICATES_PAGE_SIZE = 25;
const ListQuery = z.object({ ok: text(20), offset: z.coerce.number().int().min(0).max(100_000).catch(0).default(0) });

/** One account as the comparison shows it. */
interface Side {
  id: string;
  firstName: string;
  lastName: string;
  birthDate: string | null;
  email: string | null;
  login: string;
  profile: string;
  activated: boolean;
  blocked: boolean;
  origin: 'feed' | 'manual';
  source: string;
  createdAt: Date;
  classes: string[];
  /** Parents of a student, children (with classes) of a parent. */
  relatives: string[];
  folded: { fl: string; ff: string; em: string | null };
}

export default async function duplicates(root: FastifyInstance, ctx: AppContext): Promise<void> {
  const app = typed(root);
  const pool = ctx.database.pool;
  const structureOr404 = (req: FastifyRequest, id: string) => schoolOr404(ctx, viewer(req).scope, id);

  /** A page of this tab, in the console frame; `crumbs` lead back to the list. */
  function dupPage(req: FastifyRequest, reply: FastifyReply, school: School, title: string, body: HtmlValue, o: { notice?: Notice | null; list?: boolean } = {}, status = 200) {
    const _ = translator(req.lang);
    return sendConsolePage(reply, {
      req, title, school, section: 'duplicates', notice: o.notice,
      crumbs: o.list ? [] : [{ href: base(school.id), label: _('console.nav.duplicates') }],
      body,
    }, status);
  }

  /** Both accounts of a pair, visible to the caller and members of the school; 404 otherwise. */
  async function loadPair(req: FastifyRequest, structureId: string, a: string, b: string): Promise<[Side, Side]> {
    const notFound = new HttpError(404, 'dup.userNotFound');
    if (!isUuid(a) || !isUuid(b) || a === b) throw notFound;
    const params: unknown[] = [[a, b], structureId];
    const scope = scopeSql(viewer(req).scope, 'u', params);
    const member = memberOfStructureSql(structureId, 'u', params);
    const { rows } = await pool.query(
      `SELECT u.id, u.first_name, u.last_name, to_char(u.birth_date, 'YYYY-MM-DD') AS birth_date, u.email, u.login, u.profile,
              u.activated_at IS NOT NULL AS activated, u.blocked, u.origin, u.source, u.created_at,
              trousseau_fold(u.last_name) AS fl, trousseau_fold(u.first_name) AS ff, nullif(lower(btrim(u.email)), '') AS em,
              coalesce((SELECT array_agg(c.name ORDER BY c.name COLLATE trousseau_fr) FROM user_classes uc JOIN classes c ON c.id = uc.class_id
                         WHERE uc.user_id = u.id AND c.structure_id = $2), '{}') AS classes,
              coalesce((SELECT array_agg(p.first_name || ' ' || p.last_name ORDER BY p.last_name, p.first_name)
                          FROM relations r JOIN users p ON p.id = r.parent_id WHERE r.child_id = u.id), '{}') AS parents,
              coalesce((SELECT array_agg(k.first_name || ' ' || k.last_name || coalesce(' (' || (
                            SELECT string_agg(kc.name, ', ' ORDER BY kc.name) FROM user_classes kuc JOIN classes kc ON kc.id = kuc.class_id
                             WHERE kuc.user_id = k.id) || ')', '') ORDER BY k.last_name, k.first_name)
                          FROM relations r JOIN users k ON k.id = r.child_id WHERE r.parent_id = u.id), '{}') AS children
         FROM users u WHERE u.id = ANY($1::uuid[]) AND ${scope} AND ${member}`,
      params,
    );
    const side = (id: string): Side => {
      const r = rows.find((x) => x.id === id);
      if (!r) throw notFound;
      return {
        id: r.id, firstName: r.first_name, lastName: r.last_name, birthDate: r.birth_date, email: r.email, login: r.login,
        profile: r.profile, activated: r.activated, blocked: r.blocked, origin: r.origin, source: r.source, createdAt: r.created_at,
        classes: r.classes, relatives: [...r.parents, ...r.children], folded: { fl: r.fl, ff: r.ff, em: r.em },
      };
    };
    return [side(a), side(b)];
  }

  /** Which account a merge keeps by default: the activated one, else the older one (as the service does). */
  const keeperOf = (x: Side, y: Side): Side => (x.activated !== y.activated ? (x.activated ? x : y) : x.createdAt <= y.createdAt ? x : y);

  const base = (structureId: string) => `${schoolBase(structureId)}/doublons`;
  const pairUrl = (structureId: string, a: string, b: string) => `${base(structureId)}/${a}/${b}`;

  function reasons(_: Translate, list: DuplicateReason[]): SafeHtml {
    return html`<ul class="plain reasons">${list.map((r) => html`<li>${_(`dup.reason.${r}`)}</li>`)}</ul>`;
  }

  function activationBadge(_: Translate, s: { activated: boolean }): SafeHtml {
    return s.activated
      ? html`<span class="badge badge-success">${_('dup.active')}</span>`
      : html`<span class="badge">${_('dup.inactive')}</span>`;
  }

  // ------------------------------------------------------------------------------------------------- list

  app.get('/etablissements/:id/doublons', { schema: { params: IdParams, querystring: ListQuery } }, async (req, reply) => {
    const lang = req.lang;
    const _ = translator(lang);
    const school = await structureOr404(req, req.params.id);
    const all = await findDuplicates(ctx, viewer(req).scope, { structureId: school.id, limit: 500 });
    const { ok } = req.query;
    const offset = req.query.offset < all.length ? req.query.offset : 0;
    const pairs = all.slice(offset, offset + DUPLICATES_PAGE_SIZE);
    const notice: Notice | null = ok === 'merged' || ok === 'dismissed' ? { kind: 'success', text: _(`dup.ok.${ok}`) } : null;
    const who = (s: { firstName: string; lastName: string; login: string; profile: string; activated: boolean; birthDate: string | null }) =>
      html`<strong>${s.lastName} ${s.firstName}</strong><br><code>${s.login}</code> · ${profileLabel(lang, s.profile)}${
        s.birthDate ? html` · ${frenchDate(new Date(`${s.birthDate}T12:00:00Z`))}` : ''}<br>${activationBadge(_, s)}`;
    return dupPage(req, reply, school, _('dup.title', { school: school.name }), html`${sharedStyle}
<p class="lead">${_('dup.lead')}</p>
${all.length === 0 ? html`<p class="card">${_('dup.none')}</p>` : html`<p>${plural(lang, 'dup.count', all.length)}</p>
<div class="table-wrap"><table class="dup-table">
  <thead><tr><th scope="col">${_('dup.score')}</th><th scope="col">${_('dup.accountA')}</th><th scope="col">${_('dup.accountB')}</th>
    <th scope="col">${_('dup.reasons')}</th><th scope="col"><span class="visually-hidden">${_('dup.actions')}</span></th></tr></thead>
  <tbody>${pairs.map((p) => html`<tr data-pair="${p.keep.id}/${p.drop.id}">
    <td><span class="score">${p.score}</span></td>
    <td>${who(p.keep)}</td>
    <td>${who(p.drop)}</td>
    <td>${reasons(_, p.reasons)}</td>
    <td><a class="button button-secondary" href="${pairUrl(school.id, p.keep.id, p.drop.id)}">${_('dup.compare')}</a></td>
  </tr>`)}</tbody>
</table></div>
${pager(lang, base(school.id), new URLSearchParams(), offset, DUPLICATES_PAGE_SIZE, all.length)}`}`, { notice, list: true });
  });

  // ------------------------------------------------------------------------------------------------- comparison

  function compareTable(req: FastifyRequest, a: Side, b: Side, keeper: Side): SafeHtml {
    const _ = translator(req.lang);
    const list = (xs: string[]) => (xs.length ? xs.join(', ') : '—');
    const date = (d: string | null) => (d ? frenchDate(new Date(`${d}T12:00:00Z`)) : '—');
    const line = (label: string, f: (s: Side) => HtmlValue, text: (s: Side) => string) => {
      const differ = text(a) !== text(b);
      return html`<tr${differ ? html` class="differs"` : ''}><th scope="row">${label}${differ ? html` <span class="visually-hidden">(${_('dup.differs')})</span>` : ''}</th><td>${f(a)}</td><td>${f(b)}</td></tr>`;
    };
    const plain = (label: string, text: (s: Side) => string) => line(label, text, text);
    return html`<div class="table-wrap"><table class="compare-table">
  <thead><tr><th scope="col"><span class="visually-hidden">${_('dup.field')}</span></th>${[a, b].map((s) => html`<th scope="col">${
    s.firstName} ${s.lastName}${s.id === keeper.id ? html` <span class="badge badge-success">${_('dup.kept')}</span>` : ''}</th>`)}</tr></thead>
  <tbody>
    ${plain(_('dup.f.lastName'), (s) => s.lastName)}
    ${plain(_('dup.f.firstName'), (s) => s.firstName)}
    ${plain(_('dup.f.birthDate'), (s) => date(s.birthDate))}
    ${plain(_('dup.f.email'), (s) => s.email ?? '—')}
    ${line(_('dup.f.login'), (s) => html`<code>${s.login}</code>`, (s) => s.login)}
    ${plain(_('dup.f.profile'), (s) => profileLabel(req.lang, s.profile))}
    ${line(_('dup.f.activation'), (s) => html`${activationBadge(_, s)}${s.blocked ? html` <span class="badge badge-danger">${_('dup.blocked')}</span>` : ''}`,
      (s) => `${s.activated}/${s.blocked}`)}
    ${plain(_('dup.f.classes'), (s) => list(s.classes))}
    ${plain(_('dup.f.relatives'), (s) => list(s.relatives))}
    ${plain(_('dup.f.origin'), (s) => `${_(`dup.origin.${s.origin}`)} (${s.source})`)}
    ${plain(_('dup.f.createdAt'), (s) => frenchDate(s.createdAt))}
  </tbody>
</table></div>`;
  }

  async function comparePage(req: FastifyRequest, reply: FastifyReply, schoolId: string, aId: string, bId: string) {
    const _ = translator(req.lang);
    const school = await structureOr404(req, schoolId);
    const [a, b] = await loadPair(req, school.id, aId, bId);
    const keeper = keeperOf(a, b);
    const s = scorePair(
      { fl: a.folded.fl, ff: a.folded.ff, birthDate: a.birthDate, email: a.folded.em },
      { fl: b.folded.fl, ff: b.folded.ff, birthDate: b.birthDate, email: b.folded.em },
    );
    const url = pairUrl(school.id, a.id, b.id);
    return dupPage(req, reply, school, _('dup.compare.title'), html`${sharedStyle}
<p class="lead">${s ? html`${_('dup.score')} : <strong class="score">${s.score}</strong>` : _('dup.noScore')}</p>
${s && reasons(_, s.reasons)}
${compareTable(req, a, b, keeper)}
<div class="actions">
  <a class="button" href="${url}/fusionner">${_('dup.merge')}</a>
  <a class="button button-secondary" href="${url}/ignorer">${_('dup.dismiss')}</a>
  <a href="${base(school.id)}">${_('dup.backToList')}</a>
</div>`);
  }

  app.get('/etablissements/:id/doublons/:a/:b', { schema: { params: PairParams } }, async (req, reply) =>
    comparePage(req, reply, req.params.id, req.params.a, req.params.b));

  // ------------------------------------------------------------------------------------------------- merge

  async function mergePage(req: FastifyRequest, reply: FastifyReply, p: { id: string; a: string; b: string }, error?: string, status = 200) {
    const _ = translator(req.lang);
    const school = await structureOr404(req, p.id);
    const [a, b] = await loadPair(req, school.id, p.a, p.b);
    const url = pairUrl(school.id, a.id, b.id);
    const keeper = keeperOf(a, b);
    const other = keeper.id === a.id ? b : a;
    const name = (s: Side) => `${s.firstName} ${s.lastName} (${s.login})`;
    const bothActive = a.activated && b.activated;
    const refusal = bothActive ? _('dup.merge.bothActive') : error;
    let body: SafeHtml;
    if (bothActive) {
      body = html`${compareTable(req, a, b, keeper)}<p><a href="${url}">${_('dup.backToPair')}</a></p>`;
    } else {
      // Neither activated: the admin picks; one activated: it is kept, no choice.
      const choice = !a.activated && !b.activated;
      body = html`${compareTable(req, a, b, keeper)}
<form method="post" action="${url}/fusionner" class="card">
  ${csrfField(req)}
  ${choice
    ? html`<fieldset><legend>${_('dup.merge.choose')}</legend>${[keeper, other].map((s) => html`<div class="field field-check">
      <input type="radio" id="keep-${s.id}" name="keep" value="${s.id}"${s.id === keeper.id ? html` checked` : ''}>
      <label for="keep-${s.id}">${name(s)} — ${_('dup.f.createdAt')} ${frenchDate(s.createdAt)}</label></div>`)}</fieldset>`
    : html`<input type="hidden" name="keep" value="${keeper.id}">
      <p>${_('dup.merge.keepActive', { kept: name(keeper), dropped: name(other) })}</p>`}
  <p>${_('dup.merge.explain')}</p>
  <p><strong>${_('dup.merge.irreversible')}</strong></p>
  <div class="actions"><button type="submit" class="button-danger">${_('dup.merge.confirm')}</button> <a href="${url}">${_('classe.cancel')}</a></div>
</form>`;
    }
    return dupPage(req, reply, school, _('dup.merge.title'), html`${sharedStyle}${body}`,
      { notice: refusal ? { kind: 'error', text: refusal } : null }, bothActive && status === 200 ? 409 : status);
  }

  app.get('/etablissements/:id/doublons/:a/:b/fusionner', { schema: { params: PairParams } }, async (req, reply) => mergePage(req, reply, req.params));

  app.post('/etablissements/:id/doublons/:a/:b/fusionner', { schema: { params: PairParams, body: z.object({ keep: text(100) }) } }, async (req, reply) => {
    const school = await structureOr404(req, req.params.id);
    const [a, b] = await loadPair(req, school.id, req.params.a, req.params.b);
    const keep = req.body.keep === b.id ? b : a;
    const drop = keep.id === a.id ? b : a;
    try {
      await mergeUsers(ctx, viewer(req).scope, keep.id, drop.id, viewer(req).user.id);
    } catch (e) {
      if (!(e instanceof DomainError)) throw e;
      const { status, message } = domainRefusal(req.lang, e);
      return mergePage(req, reply, req.params, message, status);
    }
    return reply.redirect(`${base(school.id)}?ok=merged`, 303);
  });

  // ------------------------------------------------------------------------------------------------- dismiss

  app.get('/etablissements/:id/doublons/:a/:b/ignorer', { schema: { params: PairParams } }, async (req, reply) => {
    const _ = translator(req.lang);
    const school = await structureOr404(req, req.params.id);
    const [a, b] = await loadPair(req, school.id, req.params.a, req.params.b);
    const url = pairUrl(school.id, a.id, b.id);
    return dupPage(req, reply, school, _('dup.dismiss.title'), html`${sharedStyle}${compareTable(req, a, b, keeperOf(a, b))}
<form method="post" action="${url}/ignorer" class="card">
  ${csrfField(req)}
  <p>${_('dup.dismiss.explain', { a: `${a.firstName} ${a.lastName}`, b: `${b.firstName} ${b.lastName}` })}</p>
  <div class="actions"><button type="submit">${_('dup.dismiss.confirm')}</button> <a href="${url}">${_('classe.cancel')}</a></div>
</form>`);
  });

  app.post('/etablissements/:id/doublons/:a/:b/ignorer', { schema: { params: PairParams } }, async (req, reply) => {
    const school = await structureOr404(req, req.params.id);
    const [a, b] = await loadPair(req, school.id, req.params.a, req.params.b);
    // A refusal (DomainError) reaches the error handler: translated, with its status.
    await dismissDuplicate(ctx, viewer(req).scope, a.id, b.id, viewer(req).user.id);
    return reply.redirect(`${base(school.id)}?ok=dismissed`, 303);
  });
}
