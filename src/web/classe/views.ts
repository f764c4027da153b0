// Views of the class view ("Paramétrage de la classe"): pure functions of typed data, no database access.
// classe/index.ts loads the rows, calls one of these, and sends the page it describes.
import { formatCode } from '../../accounts/codes.js';
import type { ClassMember } from '../../directory/class-members.js';
import { TEACHER_RIGHTS, type TeacherRight } from '../../directory/policies.js';
import type { ClassRow } from '../../directory/structures.js';
import { frenchDate } from '../../publipostage/format.js';
import type { AccountRow } from '../../publipostage/selection.js';
import { csrfField } from '../forms.js';
import { html, type SafeHtml } from '../html.js';
import { plural, t, translator, type MessageKey } from '../i18n/index.js';
import { noSmtpWarning, sharedAddressesOf, sharedAddressWarning, type Notice } from '../layout.js';
import type { PageView, ViewEnv } from '../view.js';
import { handoutButtons, renewalButton } from './handout.js';
import { remindLinkClass } from './remind.js';
import type { LastDistribution } from '../../publipostage/tracking.js';
import { handedOut } from '../tracking-view.js';

/** Students and parents carry the actions; teachers and staff are listed (read-only), as in ONE's class view. */
export const TABS = {
  eleves: { profile: 'Student' as const, key: 'classe.tab.students' },
  parents: { profile: 'Relative' as const, key: 'classe.tab.parents' },
  enseignants: { profile: 'Teacher' as const, key: 'classe.tab.teachers' },
  personnels: { profile: 'Personnel' as const, key: 'classe.tab.staff' },
} satisfies Record<string, { profile: string; key: MessageKey }>;
export type Tab = keyof typeof TABS;
export type ActionTab = 'eleves' | 'parents';
export type AdultTab = Exclude<Tab, ActionTab>;
export const isTab = (s: string): s is Tab => Object.hasOwn(TABS, s);
export const isActionTab = (t: Tab): t is ActionTab => t === 'eleves' || t === 'parents';

/** Beyond this many classes (a local admin's whole school), a drop-down replaces the tabs. */
const MAX_CLASS_TABS = 10;

/** The page's own script (CSP forbids inline scripts); `defer` so it runs once the form is parsed. */
const pageScript = html`<script src="/static/classe.js" defer></script>`;
const pageStyle = html`<link rel="stylesheet" href="/static/classe.css">`;

export const classBase = (cls: ClassRow, tab: Tab): string => `/classe/${cls.id}/${tab}`;

/** The class being shown and the classes the caller may switch to. */
export interface ClassFrame {
  cls: ClassRow;
  classes: ClassRow[];
  tab: Tab;
}

function activationCell(env: ViewEnv, r: AccountRow, codesWithheld: boolean): SafeHtml {
  const _ = translator(env.lang);
  if (r.activated) return html`<span class="badge badge-success">${_('classe.activated')}</span>`;
  // The school hands the codes out itself (no « fiches » right for its teachers): not shown, whatever the row holds.
  if (codesWithheld) return html`<span class="badge">${_('classe.codeWithheld')}</span>`;
  if (r.code) return html`<code class="activation-code">${formatCode(r.code)}</code>`;
  // An account holding admin rights (manageableSql): its code is not the caller's to hand out.
  if (r.readOnly) return html`<span class="badge">${_('classe.readOnly')}</span>`;
  return html`<span class="badge badge-danger">${_(r.codeExpired ? 'classe.codeExpired' : 'classe.noCode')}</span>`;
}

function classSwitcher(env: ViewEnv, { classes, cls: current, tab }: ClassFrame): SafeHtml {
  const _ = translator(env.lang);
  const label = (c: ClassRow) => (classes.some((o) => o.id !== c.id && o.name === c.name) ? `${c.name} (${c.structureName})` : c.name);
  if (classes.length <= MAX_CLASS_TABS) {
    return html`<nav class="pill-tabs class-tabs" aria-label="${_('classe.classes')}"><ul>${classes.map(
      (c) => html`<li><a href="/classe/${c.id}/${tab}"${c.id === current.id ? html` aria-current="page"` : ''}>${label(c)}</a></li>`,
    )}</ul></nav>`;
  }
  return html`<form class="class-picker" method="get" action="/classe">
  <label for="f-classe">${_('classe.pickClass')}</label>
  <select id="f-classe" name="classe">${classes.map((c) => html`<option value="${c.id}"${c.id === current.id ? html` selected` : ''}>${label(c)}</option>`)}</select>
  <input type="hidden" name="onglet" value="${tab}">
  <button type="submit" class="button-secondary">${_('classe.show')}</button>
</form>`;
}

/** The tabs of a class: Élèves, Parents (with actions), Enseignants, Personnels (listed). */
function profileTabs(env: ViewEnv, { cls, tab }: ClassFrame): SafeHtml {
  const _ = translator(env.lang);
  return html`<nav class="subnav" aria-label="${_('classe.profiles')}"><ul>${(Object.keys(TABS) as Tab[]).map(
    (t) => html`<li><a href="/classe/${cls.id}/${t}"${t === tab ? html` aria-current="page"` : ''}>${_(TABS[t].key)}</a></li>`,
  )}</ul></nav>`;
}

function classTitles(env: ViewEnv, { cls, tab }: ClassFrame): Pick<PageView, 'title' | 'documentTitle'> {
  const title = t(env.lang, 'classe.titleOf', { name: cls.name });
  return { title, documentTitle: `${title} — ${t(env.lang, TABS[tab].key)}` };
}

/** Enseignants / Personnels: the adults of the class, read-only. */
export function adultsView(env: ViewEnv, frame: ClassFrame & { tab: AdultTab }, rows: ClassMember[]): PageView {
  const _ = translator(env.lang);
  const { cls, tab } = frame;
  return {
    ...classTitles(env, frame),
    body: html`${pageStyle}
${classSwitcher(env, frame)}
${profileTabs(env, frame)}
${
  rows.length === 0
    ? html`<p class="card muted">${_(tab === 'enseignants' ? 'classe.empty.teachers' : 'classe.empty.staff')}</p>`
    : html`<div class="table-wrap"><table class="class-table" data-adults="${tab}">
  <caption class="visually-hidden">${_(TABS[tab].key)} — ${cls.name}</caption>
  <thead><tr><th scope="col">${_('classe.col.lastName')}</th><th scope="col">${_('classe.col.firstName')}</th>
    <th scope="col">${_('classe.col.login')}</th><th scope="col">${_('classe.col.activation')}</th></tr></thead>
  <tbody>${rows.map(
    (r) => html`<tr><td>${r.lastName}</td><td>${r.firstName}</td><td><code>${r.login}</code></td>
    <td>${r.activated ? html`<span class="badge badge-success">${_('classe.activated')}</span>` : html`<span class="badge">${_('classe.inactive')}</span>`}</td></tr>`,
  )}</tbody>
</table></div>`
}
<p class="muted">${_('classe.adults.readOnly')}</p>`,
  };
}

/** What the list page shows besides the rows: the notice, every box ticked (`?tout=1`), the boxes kept ticked. */
export interface ListState {
  notice: Notice | null;
  all: boolean;
  checked: ReadonlySet<string>;
  /** Last sheet and mail handed out per account (« fiche remise le … »: publipostage/tracking.ts). */
  handed?: ReadonlyMap<string, LastDistribution>;
  /**
   * « Par famille » (Élèves tab, `?ordre=famille`): the rows are pupils each followed by their legal representatives
   * (select.ts sort 'family'); a representative's row is indented and says whose it is.
   */
  family?: boolean;
  /**
   * The class's school withholds the « fiches » right from its teachers (directory/policies.ts teacherMay): it hands
   * the activation codes out itself, and the list shows none.
   */
  codesWithheld?: boolean;
  /**
   * The class-view rights the caller holds here (directory/policies.ts teacherRightsOver, the check the POST makes):
   * only their actions are offered. Absent: all of them.
   */
  rights?: ReadonlySet<TeacherRight>;
  /**
   * Élèves tab: the accounts a « Fiches famille » of the whole class would print and each pupil's parents among them
   * (classe/index.ts familySheetsOf), from which the panel counts what the PDF of the ticked pupils holds.
   */
  familySheets?: FamilySheets;
}

export interface FamilySheets {
  ids: ReadonlySet<string>;
  parentsOf: ReadonlyMap<string, readonly string[]>;
}

/**
 * What a « Fiches famille » PDF of the ticked rows holds: the ticked pupils it prints and the parents of every ticked
 * pupil (a ticked parent, in the family order, counts as one); classe.js does the same count from the rows'
 * data-family-sheet and data-parents as boxes are ticked.
 */
export function familyCount(sheets: FamilySheets, ticked: readonly AccountRow[]): { pupils: number; parents: number } {
  const parents = new Set<string>();
  let pupils = 0;
  for (const r of ticked) {
    if (r.profile === 'Relative') {
      if (sheets.ids.has(r.id)) parents.add(r.id);
      continue;
    }
    if (sheets.ids.has(r.id)) pupils++;
    for (const p of sheets.parentsOf.get(r.id) ?? []) parents.add(p);
  }
  return { pupils, parents: parents.size };
}

/** « Le PDF contiendra 85 fiches : 28 élèves et 57 parents. » */
export function familyCountText(lang: ViewEnv['lang'], c: { pupils: number; parents: number }): string {
  return plural(lang, 'ho.family.count', c.pupils + c.parents, { pupils: plural(lang, 'ho.family.pupils', c.pupils), parents: plural(lang, 'ho.family.parents', c.parents) });
}

/** The query string of the Élèves tab's family order (kept by its links and its form). */
export const FAMILY_ORDER = 'famille';

/** « Ordre de la liste : Alphabétique · Par famille » on the Élèves tab: two links, the current one marked. */
function orderSwitch(env: ViewEnv, base: string, family: boolean): SafeHtml {
  const _ = translator(env.lang);
  const link = (href: string, label: string, current: boolean) => html`<li><a href="${href}"${current ? html` aria-current="true"` : ''}>${label}</a></li>`;
  return html`<nav class="order-switch" aria-label="${_('ho.order.label')}"><span class="muted">${_('ho.order.label')}${_('colon')}</span>
  <ul class="plain">${link(base, _('ho.order.alpha'), !family)}${link(`${base}?ordre=${FAMILY_ORDER}`, _('sort.family'), family)}</ul></nav>`;
}

/**
 * The notice after a redirect (`?ok=mail&n=…&m=…`, `?ok=blocked&n=…`), or null. `smtp`: whether a mail server is
 * configured; without one the mails wait in the queue, and the notice says so.
 */
export function okNotice(env: ViewEnv, ok: string, n: number, m: number, smtp: boolean): Notice | null {
  if (ok === 'mail') {
    const text = [plural(env.lang, 'classe.mail.queued', n), m ? plural(env.lang, 'classe.mail.queuedNoEmail', m) : '', smtp ? '' : t(env.lang, 'classe.mail.noSmtp')].filter(Boolean).join(' ');
    return { kind: smtp ? 'success' : 'error', text };
  }
  if (ok === 'blocked' || ok === 'unblocked') return { kind: 'success', text: plural(env.lang, `classe.ok.${ok}`, n) };
  return null;
}

/** Élèves / Parents: one form of checkboxes whose submit buttons are named by action. */
export function listView(env: ViewEnv, frame: ClassFrame & { tab: ActionTab }, rows: AccountRow[], state: ListState): PageView {
  const _ = translator(env.lang);
  const { cls, tab } = frame;
  const { all, checked, notice } = state;
  const handed = state.handed ?? new Map<string, LastDistribution>();
  const base = classBase(cls, tab);
  const students = tab === 'eleves';
  const family = students && !!state.family;
  const relative = (r: AccountRow) => r.profile === 'Relative';
  /** This list (in its order), every box ticked or none. */
  const listHref = (tout: boolean) => {
    const q = new URLSearchParams([...(tout ? [['tout', '1']] : []), ...(family ? [['ordre', FAMILY_ORDER]] : [])]).toString();
    return q ? `${base}?${q}` : base;
  };
  const may = (right: TeacherRight) => !state.rights || state.rights.has(right);
  /** What the school keeps from its teachers, said once under the buttons (the buttons themselves are not shown). */
  const withheld = TEACHER_RIGHTS.filter((r) => !may(r));
  const withEmail = (r: AccountRow) => !!r.email?.trim();
  const sheets = students ? state.familySheets : undefined;
  const ticked = rows.filter((r) => all || checked.has(r.id));
  const childrenHere = (r: AccountRow) => r.children.filter((c) => c.classes.includes(cls.name));

  const thirdColumn = _(family ? 'ho.order.col' : students ? 'classe.col.birthDate' : 'classe.col.children');
  const table =
    rows.length === 0
      ? html`<p class="card muted">${_(students ? 'classe.empty.students' : 'classe.empty.parents')}</p>`
      : html`<div class="table-wrap"><table class="class-table table-stack class-accounts">
  <caption class="visually-hidden">${_(TABS[tab].key)} — ${cls.name}</caption>
  <thead><tr>
    <th scope="col" class="col-check"><input type="checkbox" id="select-all" data-select-all hidden aria-label="${_('classe.selectAll')}"></th>
    <th scope="col">${_('classe.col.lastName')}</th>
    <th scope="col">${_('classe.col.firstName')}</th>
    <th scope="col">${thirdColumn}</th>
    <th scope="col">${_('classe.col.login')}</th>
    <th scope="col">${_('classe.col.activation')}</th>
  </tr></thead>
  <tbody>${rows.map(
    (
      r,
    ) => html`<tr data-row${relative(r) ? html` data-relative class="family-member"` : ''}${withEmail(r) ? html` data-email` : ''}${r.activated ? html` data-active` : ''}${r.blocked ? html` data-blocked` : ''}${
      sheets?.ids.has(r.id) ? html` data-family-sheet` : ''
    }${sheets?.parentsOf.has(r.id) ? html` data-parents="${sheets.parentsOf.get(r.id)?.join(' ')}"` : ''}>
    <td class="col-check"><input type="checkbox" name="ids" value="${r.id}" id="sel-${r.id}"${all || checked.has(r.id) ? html` checked` : ''}>
      <label for="sel-${r.id}" class="visually-hidden">${_('classe.select', { name: `${r.firstName} ${r.lastName}` })}</label></td>
    <td>${r.lastName}</td>
    <td>${r.firstName}${r.blocked ? html` <span class="badge badge-danger">${_('classe.blocked')}</span>` : ''}${r.preDeleted ? html` <span class="badge">${_('classe.preDeleted')}</span>` : ''}</td>
    <td data-label="${thirdColumn}">${
      students && relative(r)
        ? _('ho.order.relativeOf', {
            names:
              childrenHere(r)
                .map((c) => `${c.firstName} ${c.lastName}`)
                .join(', ') || '—',
          })
        : students
          ? (r.birthDate ? frenchDate(new Date(`${r.birthDate}T12:00:00Z`)) : '—')
          : childrenHere(r)
              .map((c) => `${c.firstName} ${c.lastName}`)
              .join(', ') || '—'
    }</td>
    <td data-label="${_('classe.col.login')}"><code>${r.login}</code></td>
    <td data-label="${_('classe.col.activation')}">${activationCell(env, r, !!state.codesWithheld)}${handed.has(r.id) ? html`<br>${handedOut(env.lang, handed.get(r.id), { compact: true })}` : ''}</td>
  </tr>`,
  )}</tbody>
</table></div>`;

  // classe.js counts the ticked boxes live: it picks the template by the page language's plural rules.
  const templates = (base: 'classe.count' | 'classe.sheets.introCount' | 'ho.order.introCount' | 'ho.family.count' | 'ho.family.pupils' | 'ho.family.parents', attr: string) =>
    html` data-${attr}-one="${t(env.lang, `${base}.one`)}" data-${attr}-other="${t(env.lang, `${base}.other`)}"`;
  return {
    ...classTitles(env, frame),
    error: notice?.kind === 'error',
    notice,
    body: html`${pageStyle}
${classSwitcher(env, frame)}
${profileTabs(env, frame)}
<form method="post" action="${base}" id="class-form" class="class-form"${templates('classe.count', 'count')} data-noemail-template="${_('classe.countNoEmail')}"${templates(family ? 'ho.order.introCount' : 'classe.sheets.introCount', 'sheets')}${
      sheets ? html`${templates('ho.family.count', 'family')}${templates('ho.family.pupils', 'pupils')}${templates('ho.family.parents', 'parents')}` : ''
    }>
  ${csrfField(env)}${family ? html`<input type="hidden" name="ordre" value="${FAMILY_ORDER}">` : ''}
  <div class="selection-bar">
    <p class="selection-tools"><a href="${listHref(!all)}" data-toggle-all data-label-all="${_('classe.selectAll')}" data-label-none="${_('classe.unselectAll')}">${_(all ? 'classe.unselectAll' : 'classe.selectAll')}</a>
      <span id="selection-count" class="muted" aria-live="polite"></span>
      ${may('sheets') || may('mail') ? remindLinkClass(env.lang, base) : ''}</p>
    <p class="muted">${_('classe.tickHelp')}</p>
    ${students ? orderSwitch(env, base, family) : ''}
  </div>
  ${table}
  ${
    rows.length > 0 &&
    html`<div class="class-actions">
    ${
      may('renewal')
        ? html`<button type="submit" name="action" value="renewal" class="button-secondary">${_('classe.action.renewal')}</button>
    ${renewalButton(env)}`
        : ''
    }
    ${
      may('block')
        ? html`<button type="submit" name="action" value="block" class="button-secondary">${_('classe.action.block')}</button>
    <button type="submit" name="action" value="unblock" class="button-secondary">${_('classe.action.unblock')}</button>`
        : ''
    }
    ${
      may('sheets') || may('mail')
        ? html`<details class="sheets-menu">
      <summary class="button">${_('classe.action.sheets')}</summary>
      <div class="sheets-panel card">
        ${handoutButtons(env, students, { sheets: may('sheets'), mail: may('mail') }, sheets && ticked.length ? familyCountText(env.lang, familyCount(sheets, ticked)) : '')}
        <p><strong>${_('classe.sheets.title')}</strong></p>
        <p class="muted" data-sheets-count>${_(family ? 'ho.order.intro' : 'classe.sheets.intro')}</p>
        <ul class="plain sheets-options">
          ${
            may('sheets')
              ? html`<li><button type="submit" name="action" value="pdf" aria-describedby="hint-pdf">${_('classe.sheets.pdf')}</button>
            <p class="hint" id="hint-pdf">${_('classe.sheets.pdfHelp')}</p></li>`
              : ''
          }
          ${
            may('mail')
              ? html`<li><button type="submit" name="action" value="mail" aria-describedby="hint-mail" class="button-secondary">${_('classe.sheets.mail')}</button>
            <p class="hint" id="hint-mail">${_('classe.sheets.mailHelp')}</p></li>`
              : ''
          }
          ${
            may('sheets')
              ? html`<li><button type="submit" name="action" value="csv" aria-describedby="hint-csv" class="button-secondary">${_('classe.sheets.csv')}</button>
            <p class="hint" id="hint-csv">${_('classe.sheets.csvHelp')}</p></li>`
              : ''
          }
        </ul>
      </div>
    </details>`
        : ''
    }
  </div>
  ${withheld.length ? html`<p class="muted" data-withheld>${_('classe.rights.withheld', { actions: withheld.map((r) => _(`settings.right.${r}`)).join(', ') })}</p>` : ''}`
  }
</form>
${pageScript}`,
  };
}

/** A confirmation page re-posting the ticked ids with the confirmed action. */
interface ConfirmOptions {
  cls: ClassRow;
  tab: ActionTab;
  title: string;
  lead: SafeHtml | string;
  rows: AccountRow[];
  action: string;
  button: string;
  danger?: boolean;
  /** A fresh key for the form (submitting it twice gives one run). */
  idem: string;
  /** Shown under the form (the mail confirmation's "print the sheets of those without an address"). */
  extra?: SafeHtml;
  /** Shown under the lead (the mail confirmation's warning when no mail server is configured). */
  warning?: SafeHtml | '';
}

function confirmView(env: ViewEnv, o: ConfirmOptions): PageView {
  const _ = translator(env.lang);
  const base = classBase(o.cls, o.tab);
  return {
    title: o.title,
    narrow: true,
    body: html`${pageStyle}<p class="lead">${o.lead}</p>
${o.warning ?? ''}
<ul class="card plain confirm-list">${o.rows.map(
      (r) => html`<li>${r.firstName} ${r.lastName} — <code>${r.login}</code>${r.email?.trim() ? '' : html` <span class="badge">${_('classe.noEmail')}</span>`}</li>`,
    )}</ul>
<form method="post" action="${base}">
  ${csrfField(env)}
  ${o.rows.map((r) => html`<input type="hidden" name="ids" value="${r.id}">`)}
  <input type="hidden" name="idem" value="${o.idem}">
  <div class="actions"><button type="submit" name="action" value="${o.action}"${o.danger ? html` class="button-danger"` : ''}>${o.button}</button>
    <a href="${base}">${_('classe.cancel')}</a></div>
</form>
${o.extra ?? ''}`,
  };
}

/** "Bloquer des comptes — 6A" / "Débloquer…": the ticked rows, confirmed before anything changes. */
export function blockConfirmView(env: ViewEnv, o: { cls: ClassRow; tab: ActionTab; rows: AccountRow[]; action: 'block' | 'unblock'; idem: string }): PageView {
  const { cls, rows, action } = o;
  const n = rows.length;
  return confirmView(env, {
    ...o,
    title: t(env.lang, `classe.${action}.titleOf`, { name: cls.name }),
    lead: plural(env.lang, `classe.${action}.lead`, n),
    action: `${action}-confirm`,
    button: plural(env.lang, `classe.${action}.confirm`, n),
    danger: action === 'block',
  });
}

/**
 * "Fiches détaillées par courriel — 6A": how many mails go out, what they hold (`content`, distribution.ts), and
 * a button printing the sheets of the ticked accounts without an address.
 */
export function mailConfirmView(
  env: ViewEnv,
  o: { cls: ClassRow; tab: ActionTab; rows: AccountRow[]; mails: number; withoutEmail: number; content: string; idem: string; smtpConfigured: boolean },
): PageView {
  const { lang } = env;
  const base = classBase(o.cls, o.tab);
  const paper = o.rows.filter((r) => !r.email?.trim());
  // "imprimez leur fiche": the button that does it, for exactly those accounts.
  const print = paper.length
    ? html`<form method="post" action="${base}" class="card print-paper">${csrfField(env)}
  ${paper.map((r) => html`<input type="hidden" name="ids" value="${r.id}">`)}
  <p>${plural(lang, 'classe.mail.paper', paper.length)}</p>
  <button type="submit" name="action" value="pdf" class="button-secondary" data-print-paper>${plural(lang, 'classe.mail.print', paper.length)}</button>
</form>`
    : undefined;
  const lead = [plural(lang, 'classe.mail.lead', o.mails), o.withoutEmail ? plural(lang, 'classe.mail.paper', o.withoutEmail) : '', t(lang, 'send.content', { label: o.content })]
    .filter(Boolean)
    .join(' ');
  return confirmView(env, {
    cls: o.cls,
    tab: o.tab,
    rows: o.rows,
    idem: o.idem,
    title: t(lang, 'classe.mail.titleOf', { name: o.cls.name }),
    lead,
    action: 'mail-send',
    button: plural(lang, 'classe.mail.send', o.mails),
    warning: html`${noSmtpWarning(lang, o.mails, o.smtpConfigured)}${sharedAddressWarning(lang, sharedAddressesOf(o.rows))}`,
    extra: print,
  });
}

/** The renewal code, shown once (post/redirect/get); `null` when already read or expired: say so. */
export function renewalView(env: ViewEnv, o: { cls: ClassRow; tab: ActionTab; shown: { row: AccountRow; code: string } | null; hours: number; renewalUrl: string }): PageView {
  const _ = translator(env.lang);
  const base = classBase(o.cls, o.tab);
  const title = _('classe.renewal.titleOf', { name: o.cls.name });
  if (!o.shown) {
    return { title, narrow: true, body: html`${pageStyle}<p class="card" data-renewal-gone>${_('user.renewal.gone')}</p><p><a href="${base}">${_('classe.back')}</a></p>` };
  }
  const { row, code } = o.shown;
  return {
    title,
    narrow: true,
    notice: { kind: 'info', text: _('classe.renewal.once') },
    body: html`${pageStyle}<div class="card renewal-code">
  <dl class="details">
    <dt>${_('classe.renewal.for')}</dt><dd>${row.firstName} ${row.lastName}</dd>
    <dt>${_('classe.col.login')}</dt><dd><code>${row.login}</code></dd>
    <dt>${_('classe.renewal.code')}</dt><dd><code class="big-code" data-renewal-code>${formatCode(code)}</code></dd>
  </dl>
  <p>${_('classe.renewal.how', { hours: o.hours, url: o.renewalUrl })}</p>
</div>
<p><a href="${base}">${_('classe.back')}</a></p>`,
  };
}

/** /classe for a teacher attached to no class yet. */
export function noClassView(env: ViewEnv): PageView {
  const _ = translator(env.lang);
  return { title: _('classe.title'), body: html`<p class="card">${_('classe.noClass')}</p>` };
}
