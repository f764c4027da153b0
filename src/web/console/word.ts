// Console › Publipostage › « Lettres Word »: the Word / LibreOffice mail merge (issue #10). The data file
// (« Exporter pour Word », publipostage/word.ts) is a download (POST) of the publipostage page; this page keeps the
// school's own .docx models (upload, list, delete) and generates one .docx — or PDF, when LibreOffice is
// installed — with a letter per account of the page's selection (the same filters, carried in the query).
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { z } from 'zod';
import type { AppContext } from '../../context.js';
import { DomainError } from '../../lib/errors.js';
import { DOCX_FIELDS, DOCX_TYPE, deleteDocxModel, findSoffice, listDocxModels, loadDocxModel, saveDocxModel } from '../../publipostage/docx.js';
import { countSelection } from '../../publipostage/select.js';
import { WORD_COLUMNS } from '../../publipostage/word.js';
import { sendExport } from '../downloads.js';
import { confirmDownloadPage, downloadForm, fieldsOf, POST_DOWNLOAD } from '../post-download.js';
import { refuseEmpty, strict } from './handout.js';
import { typed } from '../area.js';
import { HttpError, viewer } from '../context.js';
import { domainRefusal } from '../errors.js';
import { csrfField } from '../forms.js';
import { html } from '../html.js';
import { plural, translator } from '../i18n/index.js';
import { IdParams, text } from '../input.js';
import type { Notice } from '../layout.js';
import { dateOnly, schoolBase, schoolOr404, sendConsolePage, type School } from './frame.js';
import { parseSelection, selectionParams } from './selection.js';

/** Largest model accepted (a letter with a logo; the images of a whole brochure are not a letter). */
const MAX_MODEL_BYTES = 10 * 1024 * 1024;

const ModelParams = IdParams.extend({ tid: z.string().max(100) });

export default async function wordScreens(root: FastifyInstance, ctx: AppContext): Promise<void> {
  const app = typed(root);
  const base = (id: string) => `${schoolBase(id)}/publipostage/lettres`;

  async function page(req: FastifyRequest, reply: FastifyReply, school: School, notice: Notice | null = null, status = 200) {
    const lang = req.lang;
    const _ = translator(lang);
    const { scope } = viewer(req);
    const { selection } = parseSelection(req.query, school.id);
    const params = selectionParams(selection);
    const qs = params.toString();
    const [models, count, soffice] = await Promise.all([listDocxModels(ctx.database.pool, school.id), countSelection(ctx, selection, scope), findSoffice()]);
    const pp = `${schoolBase(school.id)}/publipostage`;
    const fields = DOCX_FIELDS.map((f) => `{${f}}`).join(', ');
    return sendConsolePage(
      reply,
      {
        req,
        title: _('word.title'),
        school,
        section: 'io',
        ioTab: 'publipostage',
        crumbs: [{ href: qs ? `${pp}?${qs}` : pp, label: _('console.io.publipostage') }],
        lead: _('word.lead'),
        notice,
        body: html`<p class="muted" data-word-count="${count.total}">${plural(lang, 'word.selection', count.total)}</p>
<section class="card" aria-labelledby="word-csv-title">
  <h2 id="word-csv-title">${_('word.csv.title')}</h2>
  <p>${_('word.csv.help', { fields: WORD_COLUMNS.join(', ') })}</p>
  ${downloadForm(req, { action: `${pp}/word`, params, label: _('word.csv'), attrs: html` data-word-csv` })}
</section>
<section class="card" aria-labelledby="word-models-title">
  <h2 id="word-models-title">${_('word.models.title')}</h2>
  <p>${_('word.models.help', { fields })}</p>
  ${soffice ? '' : html`<p class="notice notice-info" data-no-soffice>${_('word.noSoffice')}</p>`}
  ${
    models.length === 0
      ? html`<p class="muted">${_('word.models.none')}</p>`
      : html`<ul class="plain docx-models">${models.map(
          (m) => html`<li class="docx-model" data-model="${m.name}">
    <strong>${m.name}</strong> <span class="muted">${_('word.models.uploaded', { date: dateOnly(lang, m.uploadedAt) })} · ${_('word.models.fields')}${_('colon')} ${m.fields.map((f) => `{${f}}`).join(' ')}</span>
    <span class="actions">
      ${downloadForm(req, { action: `${base(school.id)}/${m.id}/docx`, params, label: _('word.docx'), attrs: html` class="button-small" data-docx` })}
      ${soffice ? downloadForm(req, { action: `${base(school.id)}/${m.id}/pdf`, params, label: _('word.pdf'), attrs: html` class="button-small button-secondary" data-docx-pdf` }) : ''}
      <form method="post" action="${`${base(school.id)}/${m.id}/supprimer${qs ? `?${qs}` : ''}`}" class="inline-form">${csrfField(req)}
        <button type="submit" class="button-small button-danger">${_('word.models.delete')}</button></form>
    </span></li>`,
        )}</ul>`
  }
  <form method="post" action="${`${base(school.id)}?_csrf=${encodeURIComponent(req.csrfToken ?? '')}${qs ? `&${qs}` : ''}`}" enctype="multipart/form-data" class="docx-upload" data-once>
    <h3>${_('word.models.upload')}</h3>
    <div class="field"><label for="f-model-file">${_('word.models.file')}</label>
      <input type="file" id="f-model-file" name="file" accept=".docx,${DOCX_TYPE}" required></div>
    <div class="field"><label for="f-model-name">${_('word.models.name')}</label>
      <input type="text" id="f-model-name" name="name" maxlength="200"></div>
    <button type="submit">${_('word.models.send')}</button>
  </form>
</section>`,
      },
      status,
    );
  }

  app.get('/etablissements/:id/publipostage/lettres', { schema: { params: IdParams } }, async (req, reply) => {
    const school = await schoolOr404(ctx, viewer(req).scope, req.params.id);
    return page(req, reply, school);
  });

  // Upload: the model is checked (every {field} known, braces balanced) before it is stored; a broken one is a 400
  // naming the field, and nothing is stored.
  app.post('/etablissements/:id/publipostage/lettres', { schema: { params: IdParams } }, async (req, reply) => {
    const { user, scope } = viewer(req);
    const school = await schoolOr404(ctx, scope, req.params.id);
    const _ = translator(req.lang);
    let file: { name: string; content: Buffer } | null = null;
    let name = '';
    try {
      for await (const part of req.parts({ limits: { fileSize: MAX_MODEL_BYTES + 1, files: 1, fields: 10, fieldSize: 1024 } })) {
        if (part.type === 'file') {
          const content = await part.toBuffer();
          if (part.file.truncated || content.length > MAX_MODEL_BYTES) throw new HttpError(413, 'error.tooLarge');
          if (content.length) file = { name: (part.filename || 'modele.docx').replace(/[\u0000-\u001f]/g, '').slice(0, 200), content };
        } else if (part.fieldname === 'name' && typeof part.value === 'string')
          name = part.value
            .replace(/[\u0000-\u001f]/g, '')
            .trim()
            .slice(0, 200);
      }
    } catch (e) {
      if (e instanceof HttpError) throw e;
      const status = (e as { statusCode?: number }).statusCode;
      throw new HttpError(status === 413 ? 413 : 400, status === 413 ? 'error.tooLarge' : 'error.badRequest');
    }
    if (!file) return page(req, reply, school, { kind: 'error', text: _('word.noFile') }, 400);
    try {
      const model = await saveDocxModel(ctx, { structureId: school.id, name: name || file.name, fileName: file.name, content: file.content, actorId: user.id });
      return page(req, reply, school, { kind: 'success', text: _('word.models.saved', { name: model.name, fields: model.fields.map((f) => `{${f}}`).join(' ') }) });
    } catch (e) {
      if (!(e instanceof DomainError)) throw e;
      const { status, message } = domainRefusal(req.lang, e);
      return page(req, reply, school, { kind: 'error', text: message }, status);
    }
  });

  app.post('/etablissements/:id/publipostage/lettres/:tid/supprimer', { schema: { params: ModelParams, body: z.object({ _csrf: text(200) }).partial() } }, async (req, reply) => {
    const { user, scope } = viewer(req);
    const school = await schoolOr404(ctx, scope, req.params.id);
    await deleteDocxModel(ctx, school.id, req.params.tid, user.id);
    return page(req, reply, school, { kind: 'success', text: translator(req.lang)('word.models.deleted') });
  });

  // POST with the CSRF token (post-download.ts): letters issue codes and record a hand-out. A GET only asks to
  // confirm (an empty selection: 422 at once).
  for (const format of ['docx', 'pdf'] as const) {
    const url = `/etablissements/:id/publipostage/lettres/:tid/${format}`;
    app.get(url, { schema: { params: ModelParams } }, async (req, reply) => {
      const { scope } = viewer(req);
      const school = await schoolOr404(ctx, scope, req.params.id);
      const selection = strict(req.query, school.id);
      await loadDocxModel(ctx.database.pool, school.id, req.params.tid);
      await refuseEmpty(ctx, selection, scope);
      return confirmDownloadPage(req, reply, `${base(school.id)}?${fieldsOf(req.query)}`);
    });
    app.post(url, { ...POST_DOWNLOAD, schema: { params: ModelParams } }, async (req, reply) => {
      const { user, scope } = viewer(req);
      const school = await schoolOr404(ctx, scope, req.params.id);
      const selection = strict(req.body, school.id);
      const model = await loadDocxModel(ctx.database.pool, school.id, req.params.tid);
      const soffice = format === 'pdf' ? await findSoffice() : null;
      if (format === 'pdf' && !soffice) throw new HttpError(404, 'error.notFound');
      // No letter to write: 422 before any code is issued or anything recorded (sendExport).
      return sendExport(ctx, reply, {
        format: 'docx',
        selection,
        scope,
        actorId: user.id,
        via: 'http',
        letters: { name: model.name, content: model.content, soffice },
      });
    });
  }
}
