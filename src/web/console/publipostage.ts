// Console › Imports/Exports › "Publipostage des comptes": filters, live preview with counters that explain
// themselves (kept in view while filters change), sort and PDF model, "Générer en PDF", "Exporter en CSV",
// "Envoyer par mail" (through a confirmation page that says how many mails go out and offers the PDF of the
// accounts without an address). An empty selection disables the three buttons and says why.
//
// Without JavaScript everything is one GET form: "Filtrer" reloads the page, the launch buttons submit the same
// fields to their own URL (formaction); those that issue codes (PDF, CSV, Word, ZIP) POST them with the CSRF
// token in their action (post-download.ts), the others lead to a confirmation page (GET). console.js only swaps in the server-rendered preview
// fragment (…/publipostage/apercu) as the filters change.
import { randomUUID } from 'node:crypto';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { z } from 'zod';
import type { AppContext } from '../../context.js';
import type { Scope } from '../../directory/scope.js';
import { listClasses, listLevels } from '../../directory/structures.js';
import { startMailMerge } from '../../mail/merge.js';
import { describeSelection } from '../../publipostage/generate.js';
import type { SheetModel } from '../../publipostage/pdf.js';
import { countSelection, leftOutOf, sharedAddresses } from '../../publipostage/select.js';
import { leftOutList } from './distribution-view.js';
import { handoutLaunch, refuseEmpty, strict } from './handout.js';
import { viewEnv } from '../view.js';
import type { Selection } from '../../publipostage/selection.js';
import { typed } from '../area.js';
import { viewer } from '../context.js';
import { sendExport } from '../downloads.js';
import { confirmDownloadPage, downloadForm, fieldsOf, POST_DOWNLOAD, postAction } from '../post-download.js';
import { csrfField } from '../forms.js';
import { html, sendHtml } from '../html.js';
import { translator, type MessageKey } from '../i18n/index.js';
import { IdParams, text } from '../input.js';
import { plural, pluralHtml, schoolBase, schoolOr404, scriptMessages, sendConsolePage } from './frame.js';
import { filterPanel, LIST_PAGE_SIZE, loadSelectionScreen, parseSelection, selectionParams } from './selection.js';
import { describe, previewParts, type Counts } from './views/publipostage.js';
import { noSmtpWarning, sharedAddressWarning } from '../layout.js';
import { remindLink } from './remind.js';

const MODELS = ['1', '2', '8'] as const;
type Model = (typeof MODELS)[number];
/** The PDF model of the query; anything else reads as 1 (the select only offers these). */
const ModelQuery = z.object({ model: text(2).transform((m): Model => ((MODELS as readonly string[]).includes(m) ? (m as Model) : '1')) });

/** « Bloc adresse » (PDF, one sheet per page): the SIECLE postal address placed for a window envelope. */
const AddressQuery = z.object({ adresse: text(2) });

/** Messages console.js needs (status line, filter badge). */
const SCRIPT_KEYS: MessageKey[] = ['pp.loading', 'pp.error', 'filters.none', 'filters.active.one', 'filters.active.other'];

async function countAll(ctx: AppContext, sel: Selection, scope: Scope): Promise<Counts> {
  const [c, a, leftOut] = await Promise.all([
    countSelection(ctx, sel, scope),
    sel.activation === 'inactive' ? Promise.resolve({ total: 0 }) : countSelection(ctx, { ...sel, activation: 'active' }, scope),
    leftOutOf(ctx, sel, scope),
  ]);
  return { ...c, active: a.total, leftOut };
}

export default async function publipostage(root: FastifyInstance, ctx: AppContext): Promise<void> {
  const app = typed(root);
  const ppBase = (id: string) => `${schoolBase(id)}/publipostage`;

  /** The screen's data: selection, filter lists, counts and one page of rows. */
  async function load(req: FastifyRequest, id: string) {
    const school = await schoolOr404(ctx, viewer(req).scope, id);
    const screen = await loadSelectionScreen(ctx, req, school.id, countAll);
    const { model } = ModelQuery.parse(req.query ?? {});
    const base = ppBase(school.id);
    const params = selectionParams(screen.selection);
    if (model !== '1') params.set('model', model);
    const parts = previewParts(req.lang, {
      school,
      counts: screen.counts,
      rows: screen.rows,
      base,
      params,
      offset: screen.offset,
      limit: LIST_PAGE_SIZE,
      keyset: screen.keyset,
    });
    return { school, model, base, parts, ...screen };
  }

  // ------------------------------------------------------------------------------------------ the screen

  app.get('/etablissements/:id/publipostage', { schema: { params: IdParams } }, async (req, reply) => {
    const lang = req.lang;
    const _ = translator(lang);
    const { school, model, base, parts, selection, invalid, classes, levels, counts } = await load(req, req.params.id);
    const empty = counts.total === 0;
    const disabled = empty ? html` disabled aria-describedby="launch-empty"` : '';

    const launch = html`<div class="card launch-bar">
  <div class="field"><label for="f-sort">${_('pp.sort')}</label>
    <select id="f-sort" name="sort" aria-describedby="f-sort-hint">${(['alpha', 'profile', 'class', 'family'] as const).map((s) => html`<option value="${s}"${selection.sort === s ? html` selected` : ''}>${_(`sort.${s}`)}</option>`)}</select>
    <p class="hint" id="f-sort-hint">${_('pp.sort.hint')}</p></div>
  <div class="field"><label for="f-model">${_('pp.model')}</label>
    <select id="f-model" name="model" aria-describedby="f-model-hint">${MODELS.map((m) => html`<option value="${m}"${model === m ? html` selected` : ''}>${_(`pp.model.${m}`)}</option>`)}</select>
    <p class="hint" id="f-model-hint">${_('pp.model.hint')}</p>
    <div class="choice"><input type="checkbox" id="f-adresse" name="adresse" value="1" aria-describedby="f-adresse-hint"${AddressQuery.parse(req.query ?? {}).adresse === '1' ? html` checked` : ''}>
      <label for="f-adresse">${_('address.option')}</label></div>
    <p class="hint" id="f-adresse-hint">${_('address.hint')}</p></div>
  <div class="launch"><p class="launch-label" id="launch-label">${_('pp.launch')}</p>
    <div class="launch-buttons" role="group" aria-labelledby="launch-label">
      <button type="submit" formmethod="post" formaction="${postAction(req, `${base}/pdf`)}" data-launch="pdf"${disabled}>${_('pp.pdf')}</button>
      <button type="submit" formmethod="post" formaction="${postAction(req, `${base}/csv`)}" class="button-secondary" data-launch="csv"${disabled}>${_('pp.csv')}</button>
      <button type="submit" formaction="${base}/envoi" class="button-secondary" data-launch="mail"${disabled}>${_('pp.mail')}</button>
      <button type="submit" formmethod="post" formaction="${postAction(req, `${base}/word`)}" class="button-secondary" data-launch="word"${disabled}>${_('word.csv')}</button>
      <button type="submit" formaction="${base}/lettres" class="button-secondary" data-launch="letters">${_('word.letters')}</button>
      ${handoutLaunch(viewEnv(req), base, disabled)}
    </div>
    ${remindLink(lang, base, selection)}
    <p class="launch-empty" id="launch-empty" data-launch-empty-label${empty ? '' : html` hidden`}>${_('pp.empty')}</p></div>
</div>`;

    return sendConsolePage(
      reply,
      {
        req,
        title: _('console.io.publipostage'),
        school,
        section: 'io',
        ioTab: 'publipostage',
        lead: _('pp.lead'),
        body: html`${scriptMessages(lang, SCRIPT_KEYS)}
<div class="pp-layout">
<aside class="pp-summary" aria-label="${_('pp.preview')}" data-preview-counters>${parts.counters}</aside>
<div class="pp-main">
${filterPanel({ req, action: base, selection, classes, levels, legend: _('pp.filters'), after: launch, live: { structureId: school.id, fragment: `${base}/apercu` }, invalid })}
</div>
<section class="preview pp-preview" aria-labelledby="preview-title" data-preview-section>
  <h2 id="preview-title">${_('pp.preview')}</h2>
  <p class="preview-status muted" data-preview-status aria-live="polite"></p>
  ${parts.table}
</section>
</div>`,
      },
      invalid.length ? 400 : 200,
    );
  });

  // The parts a filter change refreshes, rendered by the same views as the page.
  app.get('/etablissements/:id/publipostage/apercu', { schema: { params: IdParams } }, async (req, reply) => {
    const { parts, invalid } = await load(req, req.params.id);
    return sendHtml(reply.header('cache-control', 'no-store'), html`${parts.counters}${parts.table}`, invalid.length ? 400 : 200);
  });

  // ------------------------------------------------------------------------------------------ downloads

  // POST with the CSRF token (post-download.ts): each issues codes and records a hand-out. A GET (a bookmark, a
  // cross-site link) generates nothing: a confirmation page whose button posts the same fields (an empty
  // selection: 422 at once, as the POST would answer).
  for (const format of ['pdf', 'csv', 'word'] as const) {
    const url = `/etablissements/:id/publipostage/${format}`;
    app.get(url, { schema: { params: IdParams } }, async (req, reply) => {
      const { scope } = viewer(req);
      const school = await schoolOr404(ctx, scope, req.params.id);
      await refuseEmpty(ctx, strict(req.query, school.id), scope);
      return confirmDownloadPage(req, reply, `${ppBase(school.id)}?${fieldsOf(req.query)}`);
    });
    app.post(url, { ...POST_DOWNLOAD, schema: { params: IdParams } }, async (req, reply) => {
      const { user, scope } = viewer(req);
      const school = await schoolOr404(ctx, scope, req.params.id);
      const selection = strict(req.body, school.id);
      const { model } = ModelQuery.parse(req.body ?? {});
      // A selection of no account: 422 with a page saying so (the screen's buttons are disabled at 0).
      return sendExport(ctx, reply, {
        format,
        selection,
        scope,
        actorId: user.id,
        model: Number(model) as SheetModel,
        via: 'http',
        addressBlock: format === 'pdf' && AddressQuery.parse(req.body ?? {}).adresse === '1',
      });
    });
  }

  // ------------------------------------------------------------------------------------------ "Envoyer par mail"

  app.get('/etablissements/:id/publipostage/envoi', { schema: { params: IdParams } }, async (req, reply) => {
    const lang = req.lang;
    const _ = translator(lang);
    const { scope } = viewer(req);
    const school = await schoolOr404(ctx, scope, req.params.id);
    const selection = strict(req.query, school.id);
    const { model } = ModelQuery.parse(req.query ?? {});
    const [classes, levels, c, shared] = await Promise.all([
      listClasses(ctx, scope, school.id),
      listLevels(ctx, scope, school.id),
      countAll(ctx, selection, scope),
      sharedAddresses(ctx, selection, scope),
    ]);
    const base = ppBase(school.id);
    const params = selectionParams(selection);
    const back = new URLSearchParams(params);
    if (model !== '1') back.set('model', model);
    const noEmailPdf = new URLSearchParams(params);
    noEmailPdf.set('email', 'without');
    noEmailPdf.set('model', model);
    // What the run will mail (merge.ts): not the blocked, pre-deleted or externally signed-in accounts' addresses.
    const mails = c.total - c.withoutEmail - c.unmailable;
    const filters = describe(lang, selection, classes, levels);
    const content = await describeSelection(ctx, selection);
    return sendConsolePage(reply, {
      req,
      title: _('send.title'),
      school,
      section: 'io',
      ioTab: 'publipostage',
      crumbs: [{ href: `${base}?${back}`, label: _('console.io.publipostage') }],
      body: html`<div class="card send-confirm">
  <p class="send-headline" data-mails="${mails}">${mails ? pluralHtml(lang, 'send.mails', mails) : c.total === 0 ? _('pp.empty') : _('send.noMails')}</p>
  ${
    // Without SMTP_URL the worker sends nothing (src/mail/worker.ts): said before the click, not only in the report.
    noSmtpWarning(lang, mails, !!ctx.config.smtpUrl)
  }
  ${
    // Several codes to one mailbox: said before the click (who receives what).
    sharedAddressWarning(lang, shared)
  }
  <p class="send-content" data-content>${_('send.content', { label: lang === 'en' ? content.textEn : content.text })}</p>
  ${leftOutList(lang, c.leftOut)}
  ${
    c.total === 0
      ? ''
      : html`<ul class="send-facts">
    <li data-fact="total">${pluralHtml(lang, 'pp.total', c.total)}</li>
    <li data-fact="withoutEmail">${c.withoutEmail ? pluralHtml(lang, 'send.withoutEmail', c.withoutEmail) : _('send.withoutEmail.none')}${
      c.withoutEmail
        ? html` ${downloadForm(req, { action: `${base}/pdf`, params: noEmailPdf, label: plural(lang, 'send.noEmailPdf', c.withoutEmail), attrs: html` class="button-secondary button-small" data-no-email-pdf` })}`
        : ''
    }</li>
    ${c.unmailable ? html`<li data-fact="unusable">${pluralHtml(lang, 'send.unusable', c.unmailable)}</li>` : ''}
    ${c.active ? html`<li>${pluralHtml(lang, 'pp.explain.active', c.active)}</li>` : ''}
    ${c.total - c.active > 0 && mails ? html`<li>${_('send.codes')}</li>` : ''}
  </ul>`
  }
  <p class="muted">${filters.length ? html`${_('send.filters')} ${filters.join(' · ')}` : _('send.noFilter')}</p>
  ${
    mails
      ? html`<form method="post" action="${base}/envoi" data-once>${csrfField(req)}
    <input type="hidden" name="selection" value="${params.toString()}">
    <input type="hidden" name="idem" value="${randomUUID()}">
    <div class="actions"><button type="submit">${plural(lang, 'send.confirm', mails)}</button>
      <a href="${`${base}?${back}`}">${_('send.back')}</a></div>
  </form>`
      : html`<p><a href="${`${base}?${back}`}">${_('send.back')}</a></p>`
  }
</div>`,
    });
  });

  app.post('/etablissements/:id/publipostage/envoi', { schema: { params: IdParams, body: z.object({ selection: text(), idem: text(100) }) } }, async (req, reply) => {
    const { user, scope } = viewer(req);
    const school = await schoolOr404(ctx, scope, req.params.id);
    const fields: Record<string, string[]> = {};
    for (const [k, v] of new URLSearchParams(req.body.selection)) fields[k] = [...(fields[k] ?? []), v];
    const { selection } = parseSelection(fields, school.id);
    // The form's key: submitting it again (double click, back and resubmit) gives the same run.
    const run = await startMailMerge(ctx, selection, scope, user.id, { idempotencyKey: req.body.idem });
    return reply.redirect(`/console/envois/${run.runId}`, 303);
  });
}
