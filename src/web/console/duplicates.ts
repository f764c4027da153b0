// "Gérer les doublons" for one school: probable duplicate pairs with score and reasons, a side-by-side
// comparison, then "Fusionner" (the activated account is kept) or "Ignorer définitivement", each behind a
// confirmation page. The directory service (src/directory/duplicates.ts) does the work and the audit.
// Every page is in the console's frame (tabs and breadcrumb); the list is paginated.
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { z } from 'zod';
import type { AppContext } from '../../context.js';
import { dismissDuplicate, findDuplicates, mergeUsers, scorePair } from '../../directory/duplicates.js';
import { scopeSql } from '../../directory/scope.js';
import { isUuid, memberOfStructureSql, visibleStructureSql } from '../../directory/users.js';
import { DomainError } from '../../lib/errors.js';
import { typed } from '../area.js';
import { HttpError, viewer } from '../context.js';
import { viewEnv } from '../view.js';
import { domainRefusal } from '../errors.js';
import type { HtmlValue } from '../html.js';
import { translator } from '../i18n/index.js';
import { IdParams, text } from '../input.js';
import type { Notice } from '../layout.js';
import { schoolOr404, sendConsolePage, type School } from './frame.js';
import { compareView, dismissView, duplicatesBase, duplicatesListView, mergeView, type Side } from './views/duplicates.js';

export { DUPLICATES_PAGE_SIZE } from './views/duplicates.js';

const PairParams = IdParams.extend({ a: z.string().max(100), b: z.string().max(100) });
const ListQuery = z.object({ ok: text(20), offset: z.coerce.number().int().min(0).max(100_000).catch(0).default(0) });

export default async function duplicates(root: FastifyInstance, ctx: AppContext): Promise<void> {
  const app = typed(root);
  const pool = ctx.database.pool;
  const structureOr404 = (req: FastifyRequest, id: string) => schoolOr404(ctx, viewer(req).scope, id);

  /** A page of this tab, in the console frame; `crumbs` lead back to the list. */
  function dupPage(req: FastifyRequest, reply: FastifyReply, school: School, title: string, body: HtmlValue, o: { notice?: Notice | null; list?: boolean } = {}, status = 200) {
    const _ = translator(req.lang);
    return sendConsolePage(
      reply,
      {
        req,
        title,
        school,
        section: 'duplicates',
        notice: o.notice,
        crumbs: o.list ? [] : [{ href: base(school.id), label: _('console.nav.duplicates') }],
        body,
      },
      status,
    );
  }

  /** Both accounts of a pair, visible to the caller and members of the school; 404 otherwise. */
  async function loadPair(req: FastifyRequest, structureId: string, a: string, b: string): Promise<[Side, Side]> {
    const notFound = new HttpError(404, 'dup.userNotFound');
    if (!isUuid(a) || !isUuid(b) || a === b) throw notFound;
    const params: unknown[] = [[a, b], structureId];
    const { scope: viewerScope } = viewer(req);
    const scope = scopeSql(viewerScope, 'u', params);
    const member = memberOfStructureSql(structureId, 'u', params);
    // Relatives and their classes as the user page shows them (getUserDetails): only those the caller's scope
    // sees, never a child or class of another school.
    const parentSeen = scopeSql(viewerScope, 'p', params);
    const kidSeen = scopeSql(viewerScope, 'k', params);
    const kidClassSeen = visibleStructureSql(viewerScope, 'kc.structure_id', params);
    const { rows } = await pool.query(
      `SELECT u.id, u.first_name, u.last_name, to_char(u.birth_date, 'YYYY-MM-DD') AS birth_date, u.email, u.login, u.profile,
              u.activated_at IS NOT NULL AS activated, u.blocked, u.origin, u.source, u.created_at,
              trousseau_fold(u.last_name) AS fl, trousseau_fold(u.first_name) AS ff, nullif(lower(btrim(u.email)), '') AS em, nullif(upper(btrim(u.ine)), '') AS ine,
              coalesce((SELECT array_agg(c.name ORDER BY c.name COLLATE trousseau_fr) FROM user_classes uc JOIN classes c ON c.id = uc.class_id
                         WHERE uc.user_id = u.id AND c.structure_id = $2), '{}') AS classes,
              coalesce((SELECT array_agg(p.first_name || ' ' || p.last_name ORDER BY p.last_name, p.first_name)
                          FROM relations r JOIN users p ON p.id = r.parent_id WHERE r.child_id = u.id AND ${parentSeen}), '{}') AS parents,
              coalesce((SELECT array_agg(k.first_name || ' ' || k.last_name || coalesce(' (' || (
                            SELECT string_agg(kc.name, ', ' ORDER BY kc.name) FROM user_classes kuc JOIN classes kc ON kc.id = kuc.class_id
                             WHERE kuc.user_id = k.id AND ${kidClassSeen}) || ')', '') ORDER BY k.last_name, k.first_name)
                          FROM relations r JOIN users k ON k.id = r.child_id WHERE r.parent_id = u.id AND ${kidSeen}), '{}') AS children
         FROM users u WHERE u.id = ANY($1::uuid[]) AND ${scope} AND ${member}`,
      params,
    );
    const side = (id: string): Side => {
      const r = rows.find((x) => x.id === id);
      if (!r) throw notFound;
      return {
        id: r.id,
        firstName: r.first_name,
        lastName: r.last_name,
        birthDate: r.birth_date,
        email: r.email,
        login: r.login,
        profile: r.profile,
        activated: r.activated,
        blocked: r.blocked,
        origin: r.origin,
        source: r.source,
        createdAt: r.created_at,
        classes: r.classes,
        relatives: [...r.parents, ...r.children],
        folded: { fl: r.fl, ff: r.ff, em: r.em, ine: r.ine },
      };
    };
    return [side(a), side(b)];
  }

  /** Which account a merge keeps by default: the activated one, else the older one (as the service does). */
  const keeperOf = (x: Side, y: Side): Side => (x.activated !== y.activated ? (x.activated ? x : y) : x.createdAt <= y.createdAt ? x : y);

  const base = duplicatesBase;

  // ------------------------------------------------------------------------------------------------- list

  app.get('/etablissements/:id/doublons', { schema: { params: IdParams, querystring: ListQuery } }, async (req, reply) => {
    const lang = req.lang;
    const _ = translator(lang);
    const school = await structureOr404(req, req.params.id);
    const all = await findDuplicates(ctx, viewer(req).scope, { structureId: school.id, limit: 500 });
    const { ok } = req.query;
    const offset = req.query.offset < all.length ? req.query.offset : 0;
    const notice: Notice | null = ok === 'merged' || ok === 'dismissed' ? { kind: 'success', text: _(`dup.ok.${ok}`) } : null;
    return dupPage(req, reply, school, _('dup.title', { school: school.name }), duplicatesListView(lang, school, all, offset), { notice, list: true });
  });

  // ------------------------------------------------------------------------------------------------- comparison

  async function comparePage(req: FastifyRequest, reply: FastifyReply, schoolId: string, aId: string, bId: string) {
    const _ = translator(req.lang);
    const school = await structureOr404(req, schoolId);
    const [a, b] = await loadPair(req, school.id, aId, bId);
    const keeper = keeperOf(a, b);
    // The list's own score (findDuplicates): the INE too, or a pair it proposed by its INE read here as « not probable ».
    const s = scorePair(
      { fl: a.folded.fl, ff: a.folded.ff, birthDate: a.birthDate, email: a.folded.em, ine: a.folded.ine },
      { fl: b.folded.fl, ff: b.folded.ff, birthDate: b.birthDate, email: b.folded.em, ine: b.folded.ine },
    );
    return dupPage(req, reply, school, _('dup.compare.title'), compareView(req.lang, school, a, b, keeper, s));
  }

  app.get('/etablissements/:id/doublons/:a/:b', { schema: { params: PairParams } }, async (req, reply) => comparePage(req, reply, req.params.id, req.params.a, req.params.b));

  // ------------------------------------------------------------------------------------------------- merge

  async function mergePage(req: FastifyRequest, reply: FastifyReply, p: { id: string; a: string; b: string }, error?: string, status = 200) {
    const _ = translator(req.lang);
    const school = await structureOr404(req, p.id);
    const [a, b] = await loadPair(req, school.id, p.a, p.b);
    const bothActive = a.activated && b.activated;
    const refusal = bothActive ? _('dup.merge.bothActive') : error;
    return dupPage(
      req,
      reply,
      school,
      _('dup.merge.title'),
      mergeView(viewEnv(req), school, a, b, keeperOf(a, b)),
      { notice: refusal ? { kind: 'error', text: refusal } : null },
      bothActive && status === 200 ? 409 : status,
    );
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
    return dupPage(req, reply, school, _('dup.dismiss.title'), dismissView(viewEnv(req), school, a, b, keeperOf(a, b)));
  });

  app.post('/etablissements/:id/doublons/:a/:b/ignorer', { schema: { params: PairParams } }, async (req, reply) => {
    const school = await structureOr404(req, req.params.id);
    const [a, b] = await loadPair(req, school.id, req.params.a, req.params.b);
    // A refusal (DomainError) reaches the error handler: translated, with its status.
    await dismissDuplicate(ctx, viewer(req).scope, a.id, b.id, viewer(req).user.id);
    return reply.redirect(`${base(school.id)}?ok=dismissed`, 303);
  });
}
