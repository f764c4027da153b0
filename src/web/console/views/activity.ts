// Console home, issue #10: activations per week as a server-rendered SVG bar chart (role="img", a title and a
// description in words, the figures as a table beside it) and the distribution funnel. No script, no chart
// library: the chart is readable without JavaScript and by screen readers.
import type { Activity } from '../../../directory/activity.js';
import { PROFILES, type Profile } from '../../../directory/vocabulary.js';
import { html, type SafeHtml } from '../../html.js';
import { formatNumber, plural, translator, type Lang } from '../../i18n/index.js';
import { profileLabel } from '../../labels.js';

const W = 640;
const H = 220;
const PAD = { top: 24, right: 8, bottom: 36, left: 8 };

/** "08/09" for the week starting 2025-09-08. */
const shortDay = (iso: string) => `${iso.slice(8, 10)}/${iso.slice(5, 7)}`;

export interface ActivityViewOptions {
  activity: Activity;
  /** The home page's URL (the filter form's GET target). */
  action: string;
  profile?: Profile;
  classId?: string;
  classes: Array<{ id: string; name: string }>;
}

export function activityView(lang: Lang, o: ActivityViewOptions): SafeHtml {
  const _ = translator(lang);
  const { weeks, funnel } = o.activity;
  const n = (x: number) => formatNumber(lang, x);
  const max = Math.max(1, ...weeks.map((w) => w.activated));
  const slot = (W - PAD.left - PAD.right) / Math.max(1, weeks.length);
  const barW = Math.max(4, slot * 0.7);
  const plotH = H - PAD.top - PAD.bottom;
  const scope = [o.profile ? profileLabel(lang, o.profile) : null, o.classes.find((c) => c.id === o.classId)?.name ?? null].filter(Boolean).join(', ') || _('activity.scope.all');
  const total = weeks.reduce((s, w) => s + w.activated, 0);
  const desc = _('activity.desc', { weeks: weeks.length, scope, total: n(total) });

  const bars = weeks.map((w, i) => {
    const h = (w.activated / max) * plotH;
    const x = PAD.left + i * slot + (slot - barW) / 2;
    const y = PAD.top + plotH - h;
    return html`<g data-week="${w.week}" data-activated="${w.activated}">
    <rect class="chart-bar" x="${x.toFixed(1)}" y="${y.toFixed(1)}" width="${barW.toFixed(1)}" height="${h.toFixed(1)}"></rect>
    <text class="chart-value" x="${(x + barW / 2).toFixed(1)}" y="${(y - 6).toFixed(1)}" text-anchor="middle">${n(w.activated)}</text>
    <text class="chart-label" x="${(x + barW / 2).toFixed(1)}" y="${H - PAD.bottom + 18}" text-anchor="middle">${shortDay(w.week)}</text>
  </g>`;
  });

  const funnelRow = (key: 'funnel.accounts' | 'funnel.given' | 'funnel.activated', v: number, attr: string) =>
    html`<li data-funnel="${attr}"><span class="funnel-label">${_(key)}</span>
      <span class="bar" aria-hidden="true"><span class="bar-fill" style="width: ${(funnel.accounts ? Math.round((v / funnel.accounts) * 1000) / 10 : 0).toString()}%"></span></span>
      <span class="bar-value">${n(v)}</span></li>`;

  return html`<section class="card activity" aria-labelledby="activity-title">
  <h2 id="activity-title">${_('activity.title')}</h2>
  <form method="get" action="${o.action}" class="inline-form activity-filter">
    <label for="f-activity-profile">${_('activity.profile')}</label>
    <select id="f-activity-profile" name="profil"><option value="">${_('activity.any')}</option>${PROFILES.map((p) => html`<option value="${p}"${o.profile === p ? html` selected` : ''}>${profileLabel(lang, p)}</option>`)}</select>
    ${
      o.classes.length
        ? html`<label for="f-activity-class">${_('activity.class')}</label>
    <select id="f-activity-class" name="classe"><option value="">${_('activity.any')}</option>${o.classes.map((c) => html`<option value="${c.id}"${o.classId === c.id ? html` selected` : ''}>${c.name}</option>`)}</select>`
        : ''
    }
    <button type="submit" class="button-secondary button-small">${_('activity.show')}</button>
  </form>
  <svg class="activity-chart" viewBox="0 0 ${W} ${H}" width="100%" role="img" aria-labelledby="activity-svg-title activity-svg-desc" data-activity-chart>
    <title id="activity-svg-title">${_('activity.title')}</title>
    <desc id="activity-svg-desc">${desc}</desc>
    <line class="chart-axis" x1="${PAD.left}" y1="${PAD.top + plotH}" x2="${W - PAD.right}" y2="${PAD.top + plotH}"></line>
    ${bars}
  </svg>
  <p class="muted" data-activity-desc>${desc}</p>
  <details class="activity-table"><summary>${_('activity.table')}</summary>
  <div class="table-wrap"><table class="stats-table">
    <caption class="visually-hidden">${_('activity.title')} (${scope})</caption>
    <thead><tr><th scope="col">${_('activity.week')}</th><th scope="col" class="num">${_('activity.activated')}</th><th scope="col" class="num">${_('activity.cumulative')}</th></tr></thead>
    <tbody>${weeks.map((w) => html`<tr><th scope="row">${shortDay(w.week)}/${w.week.slice(0, 4)}</th><td class="num">${n(w.activated)}</td><td class="num">${n(w.cumulative)}</td></tr>`)}</tbody>
  </table></div></details>
  <h3 id="funnel-title">${_('funnel.title')}</h3>
  <ol class="plain funnel" aria-labelledby="funnel-title" aria-describedby="funnel-desc">
    ${funnelRow('funnel.accounts', funnel.accounts, 'accounts')}
    ${funnelRow('funnel.given', funnel.given, 'given')}
    ${funnelRow('funnel.activated', funnel.activated, 'activated')}
  </ol>
  <p class="visually-hidden" id="funnel-desc">${_('funnel.desc', { accounts: n(funnel.accounts), given: n(funnel.given), activated: n(funnel.activated) })}</p>
  ${funnel.activatedUnrecorded ? html`<p class="muted" data-funnel-unrecorded="${funnel.activatedUnrecorded}">${plural(lang, 'funnel.unrecorded', funnel.activatedUnrecorded)}</p>` : ''}
</section>`;
}
