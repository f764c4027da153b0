// "Paramétrage de la classe": a teacher's students and their parents, with the ONE actions on ticked rows —
// connection sheets (simplified PDF 8 per A4, detailed mail, CSV), renewal code, block / unblock.
//
// Works without JavaScript: one form of checkboxes whose submit buttons are named by action; PDF and CSV are
// answered as downloads. /static/classe.js only adds "select all" and live counts.
// Every posted id must be a row of the list being shown (this class, this tab, the caller's scope), else 404:
// a teacher never reaches another class's students or their parents.
// The routes load the data and answer; the markup is in views.ts (pure functions of typed data).
import { randomUUID } from 'node:crypto';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { z } from 'zod';
import { RENEWAL_HOURS } from '../../accounts/issue.js';
import { generateRenewalCode } from '../../accounts/renewal.js';
import { listClassAdults } from '../../directory/class-members.js';
import { teacherMay, teacherRightsOver, type TeacherRight } from '../../directory/policies.js';
import type { Scope } from '../../directory/scope.js';
import { listClasses, type ClassRow } from '../../directory/structures.js';
import { isUuid, requireManageable, setBlocked } from '../../directory/users.js';
import { DomainError } from '../../lib/errors.js';
import { startMailMerge } from '../../mail/merge.js';
import { familyLinks } from '../../publipostage/family.js';
import { describeSelection, exportSelection } from '../../publipostage/generate.js';
import { countSelection, selectAccounts } from '../../publipostage/select.js';
import { SelectionSchema, type AccountRow, type Selection } from '../../publipostage/selection.js';
import { typed, type AreaOptions } from '../area.js';
import { guard, HttpError, viewer } from '../context.js';
import { domainRefusal } from '../errors.js';
import { translator, type MessageKey, type Params } from '../i18n/index.js';
import { attachment, list, text } from '../input.js';
import { registerNav, sendPage, type Notice } from '../layout.js';
import { stashCode, takeCode } from '../reveal.js';
import { viewEnv } from '../view.js';
import { handoutAction, handoutRight } from './handout.js';
import {
  adultsView,
  blockConfirmView,
  classBase,
  isActionTab,
  isTab,
  listView,
  mailConfirmView,
  noClassView,
  okNotice,
  renewalView,
  FAMILY_ORDER,
  TABS,
  type ActionTab,
  type AdultTab,
  type Tab,
} from './views.js';
import { lastDistributions } from '../../publipostage/tracking.js';
import { notActivatedCount, remindNotice, remindRows } from './remind.js';

/** The class-view right an action needs (settings per school, default sheets and renewal codes). */
function teacherRightFor(action: string): TeacherRight | null {
  if (action === 'pdf' || action === 'csv') return 'sheets';
  if (action === 'mail' || action === 'mail-send') return 'mail';
  if (action === 'renewal') return 'renewal';
  const more = handoutRight(action);
  if (more) return more;
  if (/^(un)?block(-confirm)?$/.test(action)) return 'block';
  return null;
}

const ClassParams = z.object({ classId: z.string().max(100), tab: z.string().max(30) });
const ListQuery = z.object({ tout: text(2), ok: text(20), n: text(10), m: text(10), relancer: text(2), ordre: text(20) });
const ActionForm = z.object({ ids: list(100), action: text(30), idem: text(100), ordre: text(20) });

/** /classe: a teacher's classes (local admins too). One guard for the area. */
export default async function classeArea(root: FastifyInstance, { ctx }: AreaOptions): Promise<void> {
  registerNav({ href: '/classe', labelKey: 'nav.classe', roles: ['teacher'], order: 20 });
  root.addHook('preValidation', guard('teacher', 'localadmin'));
  const app = typed(root);

  /** The classes the caller may open: a teacher's own first, then (local admin) the rest of its schools. */
  async function classesOf(req: FastifyRequest): Promise<ClassRow[]> {
    const { user, scope } = viewer(req);
    const rows = await listClasses(ctx, scope);
    const own = new Set(user.teacherOf);
    return [...rows.filter((c) => own.has(c.id)), ...rows.filter((c) => !own.has(c.id))];
  }

  async function classOr404(req: FastifyRequest, classId: string): Promise<{ cls: ClassRow; classes: ClassRow[] }> {
    const classes = isUuid(classId) ? await classesOf(req) : [];
    const cls = classes.find((c) => c.id === classId);
    if (!cls) throw new HttpError(404, 'classe.notFound');
    return { cls, classes };
  }

  /**
   * The list shows every account of the class (a blocked one can be unblocked); what is handed out (sheets, CSV,
   * mail) follows the distribution defaults (distribution.ts): no blocked, absent or externally-authenticated account.
   * `family` (Élèves tab « par famille »): the pupils and their legal representatives, each pupil followed by theirs
   * (a relative matches the class through their children: select.ts).
   */
  const selectionOf = (classId: string, tab: Tab, userIds: string[] = [], purpose: 'list' | 'handout' = 'handout', family = false): Selection =>
    SelectionSchema.parse({
      classIds: [classId],
      userIds,
      ...(family && tab === 'eleves' ? { profiles: ['Student', 'Relative'], sort: 'family' } : { profiles: [TABS[tab].profile], sort: 'alpha' }),
      ...(purpose === 'list' ? { blocked: 'all', preDeletion: 'all', external: 'info' } : {}),
    });

  /**
   * The ticked rows, all of which must be in a list this tab shows (this class, this tab, the caller's scope); the
   * Élèves tab's family order also lists the pupils' legal representatives, so a confirmation page re-posting them
   * needs no order of its own.
   */
  async function tickedRows(req: FastifyRequest, classId: string, tab: Tab, posted: string[]): Promise<AccountRow[]> {
    const ids = [...new Set(posted)];
    if (!ids.length) return [];
    if (!ids.every(isUuid)) throw new HttpError(404, 'classe.userNotFound');
    const rows = await selectAccounts(ctx, selectionOf(classId, tab, ids, 'list', true), viewer(req).scope);
    if (rows.length !== ids.length) throw new HttpError(404, 'classe.userNotFound');
    return rows;
  }

  async function adultsPage(req: FastifyRequest, reply: FastifyReply, classId: string, tab: AdultTab) {
    const { cls, classes } = await classOr404(req, classId);
    const rows = await listClassAdults(ctx, cls.id, TABS[tab].profile);
    return sendPage(reply, { req, ...adultsView(viewEnv(req), { cls, classes, tab }, rows) });
  }

  /** The accounts a « Fiches famille » of the whole class would print, and each pupil's parents among them. */
  async function familySheetsOf(req: FastifyRequest, classId: string, listed: AccountRow[]): Promise<{ ids: Set<string>; parentsOf: Map<string, string[]> }> {
    const rows = await selectAccounts(ctx, selectionOf(classId, 'eleves', [], 'handout', true), viewer(req).scope);
    const ids = new Set(rows.map((r) => r.id));
    const parentsOf = new Map<string, string[]>();
    // A ticked pupil left out (blocked…) still brings their parents (handout.ts familySelection): links from every listed row.
    for (const [parent, children] of await familyLinks(ctx.database.pool, [...new Set([...ids, ...listed.map((r) => r.id)])])) {
      if (!ids.has(parent)) continue;
      for (const child of children) parentsOf.set(child, [...(parentsOf.get(child) ?? []), parent]);
    }
    return { ids, parentsOf };
  }

  async function listPage(req: FastifyRequest, reply: FastifyReply, classId: string, tab: ActionTab, state: { notice?: Notice; checked?: Set<string>; family?: boolean } = {}, status = 200) {
    const env = viewEnv(req);
    const { cls, classes } = await classOr404(req, classId);
    const q = ListQuery.parse(req.query ?? {});
    const family = tab === 'eleves' && (state.family ?? q.ordre === FAMILY_ORDER);
    const rows = await selectAccounts(ctx, selectionOf(cls.id, tab, [], 'list', family), viewer(req).scope);
    // The actions offered are those the POST below allows (teacherMay, per right): a school that keeps blocking
    // from its teachers shows them no « Bloquer ». Codes are for whoever hands them out: a teacher whose school
    // keeps the « fiches » right sees none (activationCell).
    const rights = await teacherRightsOver(ctx.database.pool, viewer(req).user, [cls.id]);
    const codesWithheld = !rights.has('sheets');
    const checked = new Set(state.checked ?? []);
    // « Fiche remise le … » per row, and « Relancer »: tick who was handed out long ago and has not activated.
    const handed = await lastDistributions(
      ctx.database.pool,
      rows.map((r) => r.id),
    );
    // « Fiches famille » holds more than the ticked pupils: what a family PDF of the whole class would hold (the
    // same selection as handout.ts familyPdf, distribution defaults), and each pupil's parents in it, so the panel
    // counts the sheets of the ticked families (« 85 fiches : 28 élèves et 57 parents »).
    const familySheets = tab === 'eleves' && rights.has('sheets') ? await familySheetsOf(req, cls.id, rows) : undefined;
    // Only for a caller who may hand the sheets out (printed or mailed), and only the rows a sheet would serve.
    const mayRemind = rights.has('sheets') || rights.has('mail');
    const remind = q.relancer === '1' && mayRemind ? await remindRows(ctx, selectionOf(cls.id, tab), viewer(req).scope) : null;
    for (const id of remind ?? []) checked.add(id);
    const waiting = remind && !remind.length ? await notActivatedCount(ctx, selectionOf(cls.id, tab), viewer(req).scope) : 0;
    // Every notice here answers what the teacher just did (an action refused, done, the accounts to remind ticked):
    // focused on load, so a screen reader says it instead of the page's top (the class view has no autofocus).
    const said = state.notice ?? (remind ? remindNotice(req.lang, remind.length, waiting) : null) ?? (q.ok ? okNotice(env, q.ok, Number(q.n) || 0, Number(q.m) || 0, !!ctx.config.smtpUrl) : null);
    const notice = said && { ...said, focus: true };
    return sendPage(
      reply,
      {
        req,
        ...listView(env, { cls, classes, tab }, rows, { notice, all: q.tout === '1', checked, handed, family, codesWithheld, rights, familySheets }),
      },
      status,
    );
  }

  /**
   * The renewal code stashed by the POST (post/redirect/get), shown once on its own page; a reload finds it
   * gone and says so instead of issuing another one.
   */
  async function renewalPage(req: FastifyRequest, reply: FastifyReply, cls: ClassRow, tab: ActionTab, revealId: string) {
    const taken = await takeCode(ctx, req, revealId);
    const [row] = taken ? await selectAccounts(ctx, selectionOf(cls.id, tab, [taken.userId], 'handout', true), viewer(req).scope) : [];
    const shown = taken && row ? { row, code: taken.code } : null;
    const view = renewalView(viewEnv(req), { cls, tab, shown, hours: RENEWAL_HOURS, renewalUrl: `${ctx.config.publicUrl}/renouvellement` });
    return sendPage(reply, { req, ...view }, shown ? 200 : taken ? 404 : 410);
  }

  // ------------------------------------------------------------------------------------------------- routes

  app.get('/', { schema: { querystring: z.object({ classe: text(100), onglet: text(30) }) } }, async (req, reply) => {
    const wanted = req.query.classe;
    const tab = isTab(req.query.onglet) ? req.query.onglet : 'eleves';
    if (wanted) return reply.redirect(`/classe/${encodeURIComponent(wanted)}/${tab}`, 303);
    const classes = await classesOf(req);
    if (classes.length) return reply.redirect(`/classe/${classes[0].id}/eleves`, 303);
    return sendPage(reply, { req, ...noClassView(viewEnv(req)) });
  });

  app.get('/:classId/:tab', { schema: { params: ClassParams } }, async (req, reply) => {
    const { classId, tab } = req.params;
    if (!isTab(tab)) throw new HttpError(404, 'error.notFound');
    return isActionTab(tab) ? listPage(req, reply, classId, tab) : adultsPage(req, reply, classId, tab);
  });

  app.get('/:classId/:tab/renouvellement/:revealId', { schema: { params: ClassParams.extend({ revealId: z.string().max(100) }) } }, async (req, reply) => {
    const { classId, tab, revealId } = req.params;
    if (!isTab(tab) || !isActionTab(tab)) throw new HttpError(404, 'error.notFound');
    const { cls } = await classOr404(req, classId);
    return renewalPage(req, reply, cls, tab, revealId);
  });

  app.post('/:classId/:tab', { schema: { params: ClassParams, body: ActionForm } }, async (req, reply) => {
    const _ = translator(req.lang);
    const env = viewEnv(req);
    const { classId, tab } = req.params;
    if (!isTab(tab) || !isActionTab(tab)) throw new HttpError(404, 'error.notFound');
    const { cls } = await classOr404(req, classId);
    const rows = await tickedRows(req, cls.id, tab, req.body.ids);
    const base = classBase(cls, tab);
    const { user, scope } = viewer(req);
    const action = req.body.action;
    const checked = new Set(rows.map((r) => r.id));
    // Family order when the list was shown in it or a legal representative is ticked (Élèves tab only).
    const family = tab === 'eleves' && (req.body.ordre === FAMILY_ORDER || rows.some((r) => r.profile === 'Relative'));
    const selectionFor = (classId: string, t: Tab, userIds: string[] = [], purpose: 'list' | 'handout' = 'handout') => selectionOf(classId, t, userIds, purpose, family);
    const refuse = (text: string, status: number) => listPage(req, reply, cls.id, tab, { notice: { kind: 'error', text }, checked, family }, status);
    const error = (key: MessageKey, params?: Params, status = 422) => refuse(_(key, params), status);
    if (!rows.length) return error('classe.noneTicked');
    const ids = rows.map((r) => r.id);
    // A teacher (not administering the class's school) does only what the school allows (directory/policies.ts).
    const needed = teacherRightFor(action);
    if (needed && !(await teacherMay(ctx.database.pool, user, needed, [cls.id]))) {
      return error('classe.forbidden', undefined, 403);
    }

    switch (action) {
      case 'pdf':
      case 'csv': {
        // The same generation (and audit) as the publipostage API, on the ticked rows of this class.
        const result = await exportSelection(ctx, {
          format: action,
          selection: selectionFor(cls.id, tab, ids),
          scope,
          actorId: user.id,
          model: 8,
          via: 'http',
        });
        // The name says what the file holds (distribution.ts fileName): fiches-6A-eleves-2-comptes-2026-09-02.pdf.
        return reply.header('content-disposition', attachment(result.filename)).header('cache-control', 'no-store').type(result.contentType).send(result.body);
      }
      case 'mail': {
        const counts = await countSelection(ctx, selectionFor(cls.id, tab, ids), scope);
        // What the mails hold, in words (distribution.ts): "CM1 A · élèves · 2 comptes choisis".
        const content = await describeSelection(ctx, selectionFor(cls.id, tab, ids));
        const view = mailConfirmView(env, {
          cls,
          tab,
          rows,
          mails: counts.total - counts.withoutEmail - counts.unmailable,
          withoutEmail: counts.withoutEmail,
          content: req.lang === 'en' ? content.textEn : content.text,
          idem: randomUUID(),
          smtpConfigured: !!ctx.config.smtpUrl,
        });
        return sendPage(reply, { req, ...view });
      }
      case 'mail-send': {
        const res = await startMailMerge(ctx, selectionFor(cls.id, tab, ids), scope, user.id, { idempotencyKey: req.body.idem });
        return reply.redirect(`${base}?ok=mail&n=${res.queued}&m=${res.withoutEmail}`, 303);
      }
      case 'renewal': {
        if (rows.length !== 1) return error('classe.renewal.one');
        const row = rows[0];
        if (!row.activated) return error('classe.renewal.inactive', { name: `${row.firstName} ${row.lastName}` }, 409);
        let code: string;
        try {
          code = await generateRenewalCode(ctx, scope, row.id, user.id);
        } catch (e) {
          if (!(e instanceof DomainError)) throw e;
          const { status, message } = domainRefusal(req.lang, e);
          return refuse(message, status);
        }
        // Post/redirect/get: a reload of the page showing the code neither re-posts nor replaces it.
        return reply.redirect(`${base}/renouvellement/${await stashCode(ctx, req, row.id, code)}`, 303);
      }
      case 'block':
      case 'unblock':
        return sendPage(reply, { req, ...blockConfirmView(env, { cls, tab, rows, action, idem: randomUUID() }) });
      case 'block-confirm':
      case 'unblock-confirm': {
        const blocked = action === 'block-confirm';
        if (blocked && ids.includes(user.id)) return error('classe.block.self');
        // Visibility was checked above against this class and the caller's scope; teachers may block the
        // accounts of their class (ONE's class settings), which the admin-only directory service would refuse,
        // so it runs here with an unrestricted scope, once every account is known to be one the caller may
        // change (never an account holding admin rights: manageableSql).
        const serviceScope: Scope = { kind: 'all' };
        try {
          await requireManageable(ctx.database.pool, scope, ids);
          for (const id of ids) await setBlocked(ctx, serviceScope, id, blocked, user.id);
        } catch (e) {
          if (!(e instanceof DomainError)) throw e;
          const { status, message } = domainRefusal(req.lang, e);
          return refuse(message, status);
        }
        return reply.redirect(`${base}?ok=${blocked ? 'blocked' : 'unblocked'}&n=${ids.length}`, 303);
      }
      default: {
        // Family packs, ZIP, family mail, renewal sheets (issue #10): ./handout.ts.
        const done = await handoutAction(ctx, req, reply, { cls, tab, rows, base, idem: req.body.idem, selectionFor, action });
        return done ? reply : error('classe.unknownAction');
      }
    }
  });
}
