// "Paramétrage de la classe": a teacher's students and their parents, with the ONE actions on ticked rows —
// connection sheets (simplified PDF 8 per A4, detailed mail, CSV), renewal code, block / unblock.
//
// Works without JavaScript: one form of checkboxes whose submit buttons are named by action; PDF and CSV are
// answered as downloads. /static/classe.js only adds "select all" and live counts.
// Every posted id must be a row of the list being shown (this class, this tab, the caller's scope), else 404:
// a teacher never reaches another class's students or their parents.
import { randomUUID } from 'node:crypto';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { z } from 'zod';
import { formatCode } from '../../accounts/codes.js';
import { teacherRightsForClass, type TeacherRight } from '../../directory/policies.js';

/** The class-view right an action needs (settings per school, default sheets and renewal codes). */
function teacherRightFor(action: string): TeacherRight | null {
  if (action === 'pdf' || action === 'csv') return 'sheets';
  if (action === 'mail' || action === 'mail-send') return 'mail';
  if (action === 'renewal') return 'renewal';
  if (/^(un)?block(-confirm)?$/.test(action)) return 'block';
  return null;
}
import { RENEWAL_HOURS } from '../../accounts/issue.js';
import { generateRenewalCode } from '../../accounts/renewal.js';
import { listClassAdults } from '../../directory/class-members.js';
import type { Scope } from '../../directory/scope.js';
import { listClasses, type ClassRow } from '../../directory/structures.js';
import { isUuid, requireManageable, setBlocked } from '../../directory/users.js';
import { DomainError } from '../../lib/errors.js';
import { startMailMerge } from '../../mail/merge.js';
import { frenchDate } from '../../publipostage/format.js';
import { describeSelection, exportSelection } from '../../publipostage/generate.js';
import { countSelection, selectAccounts } from '../../publipostage/select.js';
import { SelectionSchema, type AccountRow, type Selection } from '../../publipostage/selection.js';
import { typed, type AreaOptions } from '../area.js';
import { guard, HttpError, viewer } from '../context.js';
import { domainRefusal } from '../errors.js';
import { csrfField } from '../forms.js';
import { html, type SafeHtml } from '../html.js';
import { translator, type MessageKey, type Params } from '../i18n/index.js';
import { attachment, list, text } from '../input.js';
import { registerNav, sendPage, type Notice } from '../layout.js';
import { stashCode, takeCode } from '../reveal.js';
import { lastDistributions } from '../../publipostage/tracking.js';
import { handedOut } from '../tracking-view.js';
import { remindLinkClass, remindNotice, remindRows } from './remind.js';

/** The page's own script (CSP forbids inline scripts); `defer` so it runs once the form is parsed. */
const pageScript = html`<script src="/static/classe.js" defer></script>`;
const pageStyle = html`<link rel="stylesheet" href="/static/classe.css">`;

// ---------------------------------------------------------------------------------------------------------

/** Students and parents carry the actions; teachers and staff are listed (read-only), as in ONE's class view. */
const TABS = {
  eleves: { profile: 'Student' as const, key: 'classe.tab.students' },
  parents: { profile: 'Relative' as const, key: 'classe.tab.parents' },
  enseignants: { profile: 'Teacher' as const, key: 'classe.tab.teachers' },
  personnels: { profile: 'Personnel' as const, key: 'classe.tab.staff' },
} satisfies Record<string, { profile: string; key: MessageKey }>;
type Tab = keyof typeof TABS;
type ActionTab = 'eleves' | 'parents';
const isTab = (s: string): s is Tab => Object.hasOwn(TABS, s);
const isActionTab = (t: Tab): t is ActionTab => t === 'eleves' || t === 'parents';

const ClassParams = z.object({ classId: z.string().max(100), tab: z.string().max(30) });
const ListQuery = z.object({ tout: text(2), ok: text(20), n: text(10), m: text(10), relancer: text(2) });
const ActionForm = z.object({ ids: list(100), action: text(30), idem: text(100) });

/** Beyond this many classes (a local admin's whole school), a drop-down replaces the tabs. */
const MAX_CLASS_TABS = 10;

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
   */
  const selectionFor = (classId: string, tab: Tab, userIds: string[] = [], purpose: 'list' | 'handout' = 'handout'): Selection =>
    SelectionSchema.parse({
      classIds: [classId], profiles: [TABS[tab].profile], userIds, sort: 'alpha',
      ...(purpose === 'list' ? { blocked: 'all', preDeletion: 'all', external: 'info' } : {}),
    });

  /** The ticked rows, all of which must be in the list shown (this class, this tab, the caller's scope). */
  async function tickedRows(req: FastifyRequest, classId: string, tab: Tab, posted: string[]): Promise<AccountRow[]> {
    const ids = [...new Set(posted)];
    if (!ids.length) return [];
    if (!ids.every(isUuid)) throw new HttpError(404, 'classe.userNotFound');
    const rows = await selectAccounts(ctx, selectionFor(classId, tab, ids, 'list'), viewer(req).scope);
    if (rows.length !== ids.length) throw new HttpError(404, 'classe.userNotFound');
    return rows;
  }

  // ------------------------------------------------------------------------------------------------- list page

  interface ListState {
    notice?: Notice | null;
    checked?: Set<string>;
  }

  function activationCell(_: ReturnType<typeof translator>, r: AccountRow): SafeHtml {
    if (r.activated) return html`<span class="badge badge-success">${_('classe.activated')}</span>`;
    if (r.code) return html`<code class="activation-code">${formatCode(r.code)}</code>`;
    // An account administering beyond the caller's scope: its code is not the caller's to hand out.
    if (r.readOnly) return html`<span class="badge">${_('classe.readOnly')}</span>`;
    return html`<span class="badge badge-danger">${_(r.codeExpired ? 'classe.codeExpired' : 'classe.noCode')}</span>`;
  }

  function classSwitcher(req: FastifyRequest, classes: ClassRow[], current: ClassRow, tab: Tab): SafeHtml {
    const _ = translator(req.lang);
    const label = (c: ClassRow) => (classes.some((o) => o.id !== c.id && o.name === c.name) ? `${c.name} (${c.structureName})` : c.name);
    if (classes.length <= MAX_CLASS_TABS) {
      return html`<nav class="pill-tabs class-tabs" aria-label="${_('classe.classes')}"><ul>${classes.map((c) => html`<li><a href="/classe/${c.id}/${tab}"${
        c.id === current.id ? html` aria-current="page"` : ''}>${label(c)}</a></li>`)}</ul></nav>`;
    }
    return html`<form class="class-picker" method="get" action="/classe">
  <label for="f-classe">${_('classe.pickClass')}</label>
  <select id="f-classe" name="classe">${classes.map((c) => html`<option value="${c.id}"${c.id === current.id ? html` selected` : ''}>${label(c)}</option>`)}</select>
  <input type="hidden" name="onglet" value="${tab}">
  <button type="submit" class="button-secondary">${_('classe.show')}</button>
</form>`;
  }

  /** The tabs of a class: Élèves, Parents (with actions), Enseignants, Personnels (listed). */
  function profileTabs(req: FastifyRequest, cls: ClassRow, tab: Tab): SafeHtml {
    const _ = translator(req.lang);
    return html`<nav class="subnav" aria-label="${_('classe.profiles')}"><ul>${(Object.keys(TABS) as Tab[]).map((t) => html`<li><a href="/classe/${cls.id}/${t}"${
      t === tab ? html` aria-current="page"` : ''}>${_(TABS[t].key)}</a></li>`)}</ul></nav>`;
  }

  /** Enseignants / Personnels: the adults of the class, read-only. */
  async function adultsPage(req: FastifyRequest, reply: FastifyReply, classId: string, tab: 'enseignants' | 'personnels') {
    const _ = translator(req.lang);
    const { cls, classes } = await classOr404(req, classId);
    const rows = await listClassAdults(ctx, cls.id, TABS[tab].profile);
    return sendPage(reply, {
      req,
      title: _('classe.titleOf', { name: cls.name }),
      documentTitle: `${_('classe.titleOf', { name: cls.name })} — ${_(TABS[tab].key)}`,
      body: html`${pageStyle}
${classSwitcher(req, classes, cls, tab)}
${profileTabs(req, cls, tab)}
${rows.length === 0
  ? html`<p class="card muted">${_(tab === 'enseignants' ? 'classe.empty.teachers' : 'classe.empty.staff')}</p>`
  : html`<div class="table-wrap"><table class="class-table" data-adults="${tab}">
  <caption class="visually-hidden">${_(TABS[tab].key)} — ${cls.name}</caption>
  <thead><tr><th scope="col">${_('classe.col.lastName')}</th><th scope="col">${_('classe.col.firstName')}</th>
    <th scope="col">${_('classe.col.login')}</th><th scope="col">${_('classe.col.activation')}</th></tr></thead>
  <tbody>${rows.map((r) => html`<tr><td>${r.lastName}</td><td>${r.firstName}</td><td><code>${r.login}</code></td>
    <td>${r.activated ? html`<span class="badge badge-success">${_('classe.activated')}</span>` : html`<span class="badge">${_('classe.inactive')}</span>`}</td></tr>`)}</tbody>
</table></div>`}
<p class="muted">${_('classe.adults.readOnly')}</p>`,
    });
  }

  async function listPage(req: FastifyRequest, reply: FastifyReply, classId: string, tab: ActionTab, state: ListState = {}, status = 200) {
    const _ = translator(req.lang);
    const { cls, classes } = await classOr404(req, classId);
    const rows = await selectAccounts(ctx, selectionFor(cls.id, tab, [], 'list'), viewer(req).scope);
    const q = ListQuery.parse(req.query ?? {});
    const all = q.tout === '1';
    const checked = state.checked ?? new Set<string>();
    // « Fiche remise le … » per row, and « Relancer »: tick who was handed out long ago and has not activated.
    const handed = await lastDistributions(ctx.database.pool, rows.map((r) => r.id));
    const remind = q.relancer === '1' ? await remindRows(ctx, selectionFor(cls.id, tab, [], 'list'), viewer(req).scope) : null;
    for (const id of remind ?? []) checked.add(id);
    const base = `/classe/${cls.id}/${tab}`;
    const students = tab === 'eleves';
    const ok = q.ok;
    let notice = state.notice ?? null;
    if (!notice && remind) notice = remindNotice(req.lang, remind.length);
    if (!notice && ok) {
      const n = Number(q.n) || 0;
      const m = Number(q.m) || 0;
      if (ok === 'mail') notice = { kind: 'success', text: _('classe.mail.queued', { n, m }) };
      if (ok === 'blocked' || ok === 'unblocked') notice = { kind: 'success', text: _(`classe.ok.${ok}`, { n }) };
    }
    const withEmail = (r: AccountRow) => !!r.email?.trim();
    const childrenHere = (r: AccountRow) => r.children.filter((c) => c.classes.includes(cls.name));

    const table = rows.length === 0
      ? html`<p class="card muted">${_(students ? 'classe.empty.students' : 'classe.empty.parents')}</p>`
      : html`<div class="table-wrap"><table class="class-table">
  <caption class="visually-hidden">${_(TABS[tab].key)} — ${cls.name}</caption>
  <thead><tr>
    <th scope="col" class="col-check"><input type="checkbox" id="select-all" data-select-all hidden aria-label="${_('classe.selectAll')}"></th>
    <th scope="col">${_('classe.col.lastName')}</th>
    <th scope="col">${_('classe.col.firstName')}</th>
    <th scope="col">${_(students ? 'classe.col.birthDate' : 'classe.col.children')}</th>
    <th scope="col">${_('classe.col.login')}</th>
    <th scope="col">${_('classe.col.activation')}</th>
  </tr></thead>
  <tbody>${rows.map((r) => html`<tr data-row${withEmail(r) ? html` data-email` : ''}${r.activated ? html` data-active` : ''}${r.blocked ? html` data-blocked` : ''}>
    <td class="col-check"><input type="checkbox" name="ids" value="${r.id}" id="sel-${r.id}"${all || checked.has(r.id) ? html` checked` : ''}>
      <label for="sel-${r.id}" class="visually-hidden">${_('classe.select', { name: `${r.firstName} ${r.lastName}` })}</label></td>
    <td>${r.lastName}</td>
    <td>${r.firstName}${r.blocked ? html` <span class="badge badge-danger">${_('classe.blocked')}</span>` : ''}${
      r.preDeleted ? html` <span class="badge">${_('classe.preDeleted')}</span>` : ''}</td>
    <td>${students
      ? (r.birthDate ? frenchDate(new Date(`${r.birthDate}T12:00:00Z`)) : '—')
      : childrenHere(r).map((c) => `${c.firstName} ${c.lastName}`).join(', ') || '—'}</td>
    <td><code>${r.login}</code></td>
    <td>${activationCell(_, r)}${handed.has(r.id) ? html`<br>${handedOut(req.lang, handed.get(r.id), { compact: true })}` : ''}</td>
  </tr>`)}</tbody>
</table></div>`;

    return sendPage(reply, {
      req,
      title: _('classe.titleOf', { name: cls.name }),
      documentTitle: `${_('classe.titleOf', { name: cls.name })} — ${_(TABS[tab].key)}`,
      error: notice?.kind === 'error',
      notice,
      body: html`${pageStyle}
${classSwitcher(req, classes, cls, tab)}
${profileTabs(req, cls, tab)}
<form method="post" action="${base}" id="class-form" class="class-form" data-count-template="${_('classe.count')}" data-noemail-template="${_('classe.countNoEmail')}" data-sheets-template="${_('classe.sheets.introCount')}">
  ${csrfField(req)}
  <div class="selection-bar">
    <p class="selection-tools"><a href="${all ? base : `${base}?tout=1`}" data-toggle-all data-label-all="${_('classe.selectAll')}" data-label-none="${_('classe.unselectAll')}">${_(all ? 'classe.unselectAll' : 'classe.selectAll')}</a>
      <span id="selection-count" class="muted" aria-live="polite"></span>
      ${remindLinkClass(req.lang, base)}</p>
    <p class="muted">${_('classe.tickHelp')}</p>
  </div>
  ${table}
  ${rows.length > 0 && html`<div class="class-actions">
    <button type="submit" name="action" value="renewal" class="button-secondary">${_('classe.action.renewal')}</button>
    <button type="submit" name="action" value="block" class="button-secondary">${_('classe.action.block')}</button>
    <button type="submit" name="action" value="unblock" class="button-secondary">${_('classe.action.unblock')}</button>
    <details class="sheets-menu">
      <summary class="button">${_('classe.action.sheets')}</summary>
      <div class="sheets-panel card">
        <p><strong>${_('classe.sheets.title')}</strong></p>
        <p class="muted" data-sheets-count>${_('classe.sheets.intro')}</p>
        <ul class="plain sheets-options">
          <li><button type="submit" name="action" value="pdf">${_('classe.sheets.pdf')}</button>
            <p class="hint">${_('classe.sheets.pdfHelp')}</p></li>
          <li><button type="submit" name="action" value="mail" class="button-secondary">${_('classe.sheets.mail')}</button>
            <p class="hint">${_('classe.sheets.mailHelp')}</p></li>
          <li><button type="submit" name="action" value="csv" class="button-secondary">${_('classe.sheets.csv')}</button>
            <p class="hint">${_('classe.sheets.csvHelp')}</p></li>
        </ul>
      </div>
    </details>
  </div>`}
</form>
${pageScript}`,
    }, status);
  }

  // ------------------------------------------------------------------------------------------------- other pages

  /** A confirmation page re-posting the ticked ids with the confirmed action. */
  function confirmPage(req: FastifyRequest, reply: FastifyReply, o: {
    base: string; title: string; lead: SafeHtml | string; rows: AccountRow[]; action: string; button: string; danger?: boolean;
    /** Shown under the form (the mail confirmation's "print the sheets of those without an address"). */
    extra?: SafeHtml;
  }) {
    const _ = translator(req.lang);
    return sendPage(reply, {
      req,
      title: o.title,
      narrow: true,
      body: html`${pageStyle}<p class="lead">${o.lead}</p>
<ul class="card plain confirm-list">${o.rows.map((r) => html`<li>${r.firstName} ${r.lastName} — <code>${r.login}</code>${
  r.email?.trim() ? '' : html` <span class="badge">${_('classe.noEmail')}</span>`}</li>`)}</ul>
<form method="post" action="${o.base}">
  ${csrfField(req)}
  ${o.rows.map((r) => html`<input type="hidden" name="ids" value="${r.id}">`)}
  <input type="hidden" name="idem" value="${randomUUID()}">
  <div class="actions"><button type="submit" name="action" value="${o.action}"${o.danger ? html` class="button-danger"` : ''}>${o.button}</button>
    <a href="${o.base}">${_('classe.cancel')}</a></div>
</form>
${o.extra ?? ''}`,
    });
  }

  /**
   * The renewal code stashed by the POST (post/redirect/get), shown once on its own page; a reload finds it
   * gone and says so instead of issuing another one.
   */
  async function renewalPage(req: FastifyRequest, reply: FastifyReply, cls: ClassRow, tab: ActionTab, revealId: string) {
    const _ = translator(req.lang);
    const base = `/classe/${cls.id}/${tab}`;
    const taken = await takeCode(ctx, req, revealId);
    const [row] = taken ? await selectAccounts(ctx, selectionFor(cls.id, tab, [taken.userId]), viewer(req).scope) : [];
    if (!taken || !row) {
      return sendPage(reply, {
        req, title: _('classe.renewal.title'), narrow: true,
        body: html`${pageStyle}<p class="card" data-renewal-gone>${_('user.renewal.gone')}</p><p><a href="${base}">${_('classe.back')}</a></p>`,
      }, taken ? 404 : 410);
    }
    return sendPage(reply, {
      req,
      title: _('classe.renewal.title'),
      narrow: true,
      notice: { kind: 'info', text: _('classe.renewal.once') },
      body: html`${pageStyle}<div class="card renewal-code">
  <dl class="details">
    <dt>${_('classe.renewal.for')}</dt><dd>${row.firstName} ${row.lastName}</dd>
    <dt>${_('classe.col.login')}</dt><dd><code>${row.login}</code></dd>
    <dt>${_('classe.renewal.code')}</dt><dd><code class="big-code" data-renewal-code>${formatCode(taken.code)}</code></dd>
  </dl>
  <p>${_('classe.renewal.how', { hours: RENEWAL_HOURS, url: `${ctx.config.publicUrl}/renouvellement` })}</p>
</div>
<p><a href="${base}">${_('classe.back')}</a></p>`,
    });
  }

  // ------------------------------------------------------------------------------------------------- routes

  app.get('/', { schema: { querystring: z.object({ classe: text(100), onglet: text(30) }) } }, async (req, reply) => {
    const wanted = req.query.classe;
    const tab = isTab(req.query.onglet) ? req.query.onglet : 'eleves';
    if (wanted) return reply.redirect(`/classe/${encodeURIComponent(wanted)}/${tab}`, 303);
    const classes = await classesOf(req);
    if (classes.length) return reply.redirect(`/classe/${classes[0].id}/eleves`, 303);
    const _ = translator(req.lang);
    return sendPage(reply, { req, title: _('classe.title'), body: html`<p class="card">${_('classe.noClass')}</p>` });
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
    const { classId, tab } = req.params;
    if (!isTab(tab) || !isActionTab(tab)) throw new HttpError(404, 'error.notFound');
    const { cls } = await classOr404(req, classId);
    const rows = await tickedRows(req, cls.id, tab, req.body.ids);
    const base = `/classe/${cls.id}/${tab}`;
    const { user, scope } = viewer(req);
    const action = req.body.action;
    const checked = new Set(rows.map((r) => r.id));
    const error = (key: MessageKey, params?: Params, status = 422) =>
      listPage(req, reply, cls.id, tab, { notice: { kind: 'error', text: _(key, params) }, checked }, status);
    if (!rows.length) return error('classe.noneTicked');
    const ids = rows.map((r) => r.id);
    // A teacher (not administering the class's school) does only what the school allows (directory/policies.ts).
    const needed = teacherRightFor(action);
    if (needed && !user.adminOf.includes(cls.structureId) && !user.roles.includes('superadmin')
      && !(await teacherRightsForClass(ctx.database.pool, cls.id)).includes(needed)) {
      return error('classe.forbidden', undefined, 403);
    }

    switch (action) {
      case 'pdf':
      case 'csv': {
        // The same generation (and audit) as the publipostage API, on the ticked rows of this class.
        const result = await exportSelection(ctx, {
          format: action, selection: selectionFor(cls.id, tab, ids), scope, actorId: user.id, model: 8, via: 'http',
        });
        // The name says what the file holds (distribution.ts fileName): fiches-6A-eleves-2-comptes-2026-09-02.pdf.
        return reply
          .header('content-disposition', attachment(result.filename))
          .header('cache-control', 'no-store')
          .type(result.contentType)
          .send(result.body);
      }
      case 'mail': {
        const counts = await countSelection(ctx, selectionFor(cls.id, tab, ids), scope);
        const mails = counts.total - counts.withoutEmail;
        // What the mails hold, in words (distribution.ts): "CM1 A · élèves · 2 compte(s) choisi(s)".
        const content = await describeSelection(ctx, selectionFor(cls.id, tab, ids));
        const paper = rows.filter((r) => !r.email?.trim());
        // "imprimez leur fiche": the button that does it, for exactly those accounts.
        const print = paper.length
          ? html`<form method="post" action="${base}" class="card print-paper">${csrfField(req)}
  ${paper.map((r) => html`<input type="hidden" name="ids" value="${r.id}">`)}
  <p>${_('classe.mail.paper', { n: paper.length })}</p>
  <button type="submit" name="action" value="pdf" class="button-secondary" data-print-paper>${_('classe.mail.print', { n: paper.length })}</button>
</form>`
          : undefined;
        return confirmPage(req, reply, {
          base,
          title: _('classe.mail.title'),
          lead: `${_('classe.mail.lead', { n: mails, m: counts.withoutEmail })} ${_('send.content', { label: content.text })}`,
          rows,
          action: 'mail-send',
          button: _('classe.mail.send', { n: mails }),
          extra: print,
        });
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
          return listPage(req, reply, cls.id, tab, { notice: { kind: 'error', text: message }, checked }, status);
        }
        // Post/redirect/get: a reload of the page showing the code neither re-posts nor replaces it.
        return reply.redirect(`${base}/renouvellement/${await stashCode(ctx, req, row.id, code)}`, 303);
      }
      case 'block':
      case 'unblock': {
        const a: 'block' | 'unblock' = action;
        return confirmPage(req, reply, {
          base,
          title: _(`classe.${a}.title`),
          lead: _(`classe.${a}.lead`, { n: rows.length }),
          rows,
          action: `${a}-confirm`,
          button: _(`classe.${a}.confirm`, { n: rows.length }),
          danger: a === 'block',
        });
      }
      case 'block-confirm':
      case 'unblock-confirm': {
        const blocked = action === 'block-confirm';
        if (blocked && ids.includes(user.id)) return error('classe.block.self');
        // Visibility was checked above against this class and the caller's scope; teachers may block the
        // accounts of their class (ONE's class settings), which the admin-only directory service would refuse,
        // so it runs here with an unrestricted scope, once every account is known to be one the caller may
        // change (never an account holding admin rights beyond the caller's scope).
        const serviceScope: Scope = { kind: 'all' };
        try {
          await requireManageable(ctx.database.pool, scope, ids);
          for (const id of ids) await setBlocked(ctx, serviceScope, id, blocked, user.id);
        } catch (e) {
          if (!(e instanceof DomainError)) throw e;
          const { status, message } = domainRefusal(req.lang, e);
          return listPage(req, reply, cls.id, tab, { notice: { kind: 'error', text: message }, checked }, status);
        }
        return reply.redirect(`${base}?ok=${blocked ? 'blocked' : 'unblocked'}&n=${ids.length}`, 303);
      }
      default:
        return error('classe.unknownAction');
    }
  });
}
