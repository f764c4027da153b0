// Console › Imports/Exports › "Importer des utilisateurs": upload CSV (or, for a super admin, AAF XML) files,
// see the dry-run report (nothing written), then confirm to apply exactly the same files.
//
// The files stream to disk (src/import/uploads.ts: <dataDir>/imports/<token>/, total capped per request) and
// wait there between the two steps, with a manifest binding them to the uploader and the school; the token is
// random and expires after an hour (the housekeeping sweeps what was never confirmed). CSV files always go to
// the school of the page (structure hint = its id). What a run may touch is decided by the import service from
// the files' content and the caller's scope (src/import/scope.ts), never here. The upload answers with a
// redirect to the report's page (post/redirect/get; the dry-run report is kept beside the files), so the
// address bar never shows the upload's URL, which carries the CSRF token (multipart bodies are read after
// the check). The confirmation names every structure the files touch.
import { readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { z } from 'zod';
import type { AppContext } from '../../context.js';
import type { Profile } from '../../directory/vocabulary.js';
import { ImportForbiddenError, importFiles, type ImportReport } from '../../import/index.js';
import { receiveUploads, UPLOAD_TTL_MS, UploadMalformedError, UploadTooLargeError, uploadsRoot } from '../../import/uploads.js';
import { typed } from '../area.js';
import { HttpError, viewer } from '../context.js';
import { forbiddenText, rejectionText } from '../import-text.js';
import { csrfField } from '../forms.js';
import { html, type SafeHtml } from '../html.js';
import { translator, type Lang } from '../i18n/index.js';
import type { Notice } from '../layout.js';
import { IdParams, text } from '../input.js';
import { profileLabel } from '../labels.js';
import { formatNumber, plural, schoolBase, schoolOr404, sendConsolePage, type School } from './frame.js';

const TOKEN_RE = /^[A-Za-z0-9_-]{32}$/;
const PROFILE_ORDER: Profile[] = ['Student', 'Relative', 'Teacher', 'Personnel', 'Guest'];

interface Manifest {
  userId: string;
  structureId: string;
  partial: boolean;
  createdAt: number;
  files: string[];
}

/** The refusal of an import run (scope, upload size) as the console says it, or null for any other error. */
function importRefusal(lang: Lang, e: unknown): { status: number; text: string } | null {
  const _ = translator(lang);
  if (e instanceof ImportForbiddenError) {
    return { status: 403, text: e.code === 'academic_feed' ? _('import.xmlRefused', { file: e.file }) : forbiddenText(lang, e) };
  }
  if (e instanceof UploadTooLargeError) return { status: 413, text: _('import.tooLarge', { max: Math.floor(e.maxBytes / (1024 * 1024)) }) };
  if (e instanceof UploadMalformedError) return { status: 400, text: _('import.malformed') };
  return null;
}

const TokenParams = IdParams.extend({ token: z.string().max(100) });

/** "Appliquer cet import à Collège X ?" — or, when the files touch other structures too, every one named. */
export function confirmQuestion(lang: Lang, school: School, r: Pick<ImportReport, 'structures'>): string {
  const _ = translator(lang);
  const others = r.structures.filter((s) => s.name !== school.name);
  if (others.length === 0) return _('import.confirm.question', { school: school.name });
  const names = r.structures.map((s) => s.name);
  return plural(lang, 'import.confirm.structures', names.length, { list: names.join(', ') });
}

export default async function importScreens(instance: FastifyInstance, ctx: AppContext): Promise<void> {
  const app = typed(instance);
  const root = uploadsRoot(ctx.config.dataDir);

  function uploadForm(req: FastifyRequest, school: School): SafeHtml {
    const _ = translator(req.lang);
    const superAdmin = viewer(req).user.roles.includes('superadmin');
    return html`<form method="post" action="${schoolBase(school.id)}/import?_csrf=${req.csrfToken ?? ''}" enctype="multipart/form-data" class="card import-form" data-once>
  <div class="field">
    <label for="f-files">${_('import.files')}</label>
    <p class="hint" id="f-files-hint">${superAdmin ? _('import.files.hintSuper') : _('import.files.hint')}</p>
    <input type="file" id="f-files" name="files" multiple required accept="${superAdmin ? '.csv,.txt,.tsv,.xml,.zip' : '.csv,.txt,.tsv'}" aria-describedby="f-files-hint">
  </div>
  <div class="field field-check">
    <input type="checkbox" id="f-partial" name="partial" value="1" aria-describedby="f-partial-hint">
    <label for="f-partial">${_('import.partial')}</label>
    <p class="hint" id="f-partial-hint">${_('import.partial.hint')}</p>
  </div>
  <div class="actions"><button type="submit">${_('import.analyse')}</button></div>
</form>`;
  }

  function reportView(lang: Lang, r: ImportReport): SafeHtml {
    const _ = translator(lang);
    const n = (v: number) => formatNumber(lang, v);
    const profiles = PROFILE_ORDER.filter((p) => r.byProfile[p]);
    return html`<section class="import-report" aria-labelledby="report-title">
  <h2 id="report-title">${_(r.dryRun ? 'import.report.dry' : 'import.report.done')}</h2>
  <div class="table-wrap"><table>
    <caption class="visually-hidden">${_('import.report.files')}</caption>
    <thead><tr><th scope="col">${_('import.col.file')}</th><th scope="col">${_('import.col.format')}</th><th scope="col">${_('import.col.encoding')}</th><th scope="col" class="num">${_('import.col.rows')}</th>
      <th scope="col" class="num">${_('import.col.created')}</th><th scope="col" class="num">${_('import.col.updated')}</th><th scope="col" class="num">${_('import.col.unchanged')}</th>
      <th scope="col" class="num">${_('import.col.preDeleted')}</th><th scope="col" class="num">${_('import.col.ignored')}</th></tr></thead>
    <tbody>${r.files.map((f) => f.kind === 'ignored' || f.kind === 'zip'
      ? html`<tr data-file="${f.file}"><td>${f.file}</td><td colspan="8">${f.format}${f.reason ? html` : ${f.reason}` : ''}</td></tr>`
      : html`<tr data-file="${f.file}"><td>${f.file}</td><td>${f.format}</td><td>${f.encoding ?? '—'}</td><td class="num">${n(f.rows)}</td><td class="num">${n(f.created)}</td><td class="num">${n(f.updated)}</td>
        <td class="num">${n(f.unchanged)}</td><td class="num">${n(f.preDeleted)}</td><td class="num">${n(f.ignored)}</td></tr>`)}</tbody>
  </table></div>
  ${r.structures.length ? html`<p>${_('import.report.structures')} ${r.structures.map((s, i) => html`${i ? ', ' : ''}<strong>${s.name}</strong>${s.created ? html` <span class="badge badge-warning">${_('import.report.newStructure')}</span>` : ''}`)}</p>` : ''}
  <div class="table-wrap"><table class="import-counts">
    <caption class="visually-hidden">${_('import.report.accounts')}</caption>
    <thead><tr><th scope="col">${_('home.col.profile')}</th><th scope="col" class="num">${_('import.col.created')}</th><th scope="col" class="num">${_('import.col.updated')}</th>
      <th scope="col" class="num">${_('import.col.unchanged')}</th><th scope="col" class="num">${_('import.col.preDeleted')}</th><th scope="col" class="num">${_('import.col.restored')}</th></tr></thead>
    <tbody>${profiles.map((p) => {
      const c = r.byProfile[p];
      if (!c) return '';
      return html`<tr><th scope="row">${profileLabel(lang, p)}</th><td class="num">${n(c.created)}</td><td class="num">${n(c.updated)}</td>
        <td class="num">${n(c.unchanged)}</td><td class="num">${n(c.preDeleted)}</td><td class="num">${n(c.restored)}</td></tr>`;
    })}</tbody>
    <tfoot><tr><th scope="row">${_('home.total')}</th><td class="num" data-import="created">${n(r.created)}</td><td class="num" data-import="updated">${n(r.updated)}</td>
      <td class="num">${n(r.unchanged)}</td><td class="num" data-import="preDeleted">${n(r.preDeleted)}</td><td class="num">${n(r.restored)}</td></tr></tfoot>
  </table></div>
  <p>${_('import.report.relations', { created: n(r.relations.created), removed: n(r.relations.removed), unresolved: n(r.relations.unresolved) })}</p>
  ${r.ignored.length ? html`<details class="ignored"><summary>${_('import.report.ignored', { n: n(r.ignored.length) })}</summary>
    <ul>${r.ignored.slice(0, 200).map((x) => html`<li><code>${rejectionText(lang, x)}</code></li>`)}</ul>
    ${r.ignored.length > 200 ? html`<p>${_('import.report.more', { n: n(r.ignored.length - 200) })}</p>` : ''}</details>` : ''}
  ${r.rejected.length ? html`<div class="notice notice-error"><p><strong>${plural(lang, 'import.report.rejected', r.rejected.length)}</strong></p>
    <ul class="rejected">${r.rejected.slice(0, 200).map((x) => html`<li><code>${rejectionText(lang, x)}</code></li>`)}</ul>
    ${r.rejected.length > 200 ? html`<p>${_('import.report.more', { n: n(r.rejected.length - 200) })}</p>` : ''}</div>` : ''}
</section>`;
  }

  async function page(req: FastifyRequest, reply: FastifyReply, school: School, o: { notice?: Notice | null; body?: SafeHtml } = {}, status = 200) {
    const _ = translator(req.lang);
    return sendConsolePage(reply, {
      req,
      title: _('console.io.import'),
      school,
      section: 'io',
      ioTab: 'import',
      lead: o.body ? null : _('import.lead'),
      notice: o.notice,
      body: o.body ?? uploadForm(req, school),
    }, status);
  }

  app.get('/etablissements/:id/import', { schema: { params: IdParams } }, async (req, reply) => {
    const school = await schoolOr404(ctx, viewer(req).scope, req.params.id);
    return page(req, reply, school);
  });

  // Step 1: receive the files, dry-run, show the report and a confirmation form.
  app.post('/etablissements/:id/import', { schema: { params: IdParams } }, async (req, reply) => {
    const lang = req.lang;
    const _ = translator(lang);
    const { user, scope } = viewer(req);
    const school = await schoolOr404(ctx, scope, req.params.id);
    if (!req.isMultipart()) return page(req, reply, school, { notice: { kind: 'error', text: _('import.noFile') } }, 400);
    const refusedPage = (e: unknown) => {
      const r = importRefusal(lang, e);
      if (!r) throw e;
      return page(req, reply, school, { notice: { kind: 'error', text: r.text } }, r.status);
    };
    let upload: Awaited<ReturnType<typeof receiveUploads>>;
    try {
      upload = await receiveUploads(req, root, ctx.config.importMaxBytes);
    } catch (e) {
      return refusedPage(e);
    }
    const { files, fields, dir, token } = upload;
    const partial = fields.partial === '1';
    if (files.length === 0) {
      await rm(dir, { recursive: true, force: true });
      return page(req, reply, school, { notice: { kind: 'error', text: _('import.noFile') } }, 422);
    }
    let report: ImportReport;
    try {
      report = await importFiles(ctx, files, { dryRun: true, scope, actorId: user.id, structureHint: school.id, partial, uploaded: true });
    } catch (e) {
      await rm(dir, { recursive: true, force: true });
      return refusedPage(e);
    }
    if (report.fatal) {
      await rm(dir, { recursive: true, force: true });
      return page(req, reply, school, {
        notice: { kind: 'error', text: html`<p><strong>${_('import.fatal')}</strong></p><p><code>${rejectionText(lang, report.fatal)}</code></p>` },
      }, 422);
    }
    const manifest: Manifest = { userId: user.id, structureId: school.id, partial, createdAt: Date.now(), files: files.map((f) => f.name) };
    await writeFile(join(dir, 'manifest.json'), JSON.stringify(manifest), { mode: 0o600 });
    await writeFile(join(dir, 'report.json'), JSON.stringify(report), { mode: 0o600 });
    return reply.redirect(`${schoolBase(school.id)}/import/${token}`, 303);
  });

  /** The pending upload of this uploader and school; 410 when gone or expired. */
  async function pending(req: FastifyRequest, school: School, token: string): Promise<{ dir: string; manifest: Manifest }> {
    const dir = join(root, token);
    let manifest: Manifest | null = null;
    if (TOKEN_RE.test(token)) {
      manifest = await readFile(join(dir, 'manifest.json'), 'utf8').then((s) => JSON.parse(s) as Manifest).catch(() => null);
    }
    if (!manifest || manifest.userId !== viewer(req).user.id || manifest.structureId !== school.id || Date.now() - manifest.createdAt > UPLOAD_TTL_MS) {
      throw new HttpError(410, 'import.expired');
    }
    return { dir, manifest };
  }

  // Step 1 bis: the dry-run report and the confirmation form (the page the upload redirects to).
  app.get('/etablissements/:id/import/:token', { schema: { params: TokenParams } }, async (req, reply) => {
    const lang = req.lang;
    const _ = translator(lang);
    const school = await schoolOr404(ctx, viewer(req).scope, req.params.id);
    const token = req.params.token;
    const { dir, manifest } = await pending(req, school, token);
    const report = JSON.parse(await readFile(join(dir, 'report.json'), 'utf8')) as ImportReport;
    return page(req, reply, school, {
      notice: { kind: 'info', text: _('import.dryNotice') },
      body: html`${reportView(lang, report)}
<form method="post" action="${schoolBase(school.id)}/import/confirmer" class="card confirm-import" data-once>${csrfField(req)}
  <input type="hidden" name="token" value="${token}">
  <p data-confirm-question>${confirmQuestion(lang, school, report)}${manifest.partial ? html` <strong>${_('import.confirm.partial')}</strong>` : ''}</p>
  <div class="actions"><button type="submit">${_('import.confirm')}</button>
    <a href="${schoolBase(school.id)}/import">${_('console.cancel')}</a></div>
</form>`,
    });
  });

  // Step 2: apply the very files that were analysed.
  app.post('/etablissements/:id/import/confirmer', { schema: { params: IdParams, body: z.object({ token: text(100) }) } }, async (req, reply) => {
    const lang = req.lang;
    const _ = translator(lang);
    const { user, scope } = viewer(req);
    const school = await schoolOr404(ctx, scope, req.params.id);
    const { dir, manifest } = await pending(req, school, req.body.token);
    const files = manifest.files.map((name, i) => ({ name, path: join(dir, `${i}.bin`) }));
    let report: ImportReport;
    try {
      report = await importFiles(ctx, files, { dryRun: false, scope, actorId: user.id, structureHint: school.id, partial: manifest.partial, uploaded: true });
    } catch (e) {
      const r = importRefusal(lang, e);
      if (!r) throw e;
      return page(req, reply, school, { notice: { kind: 'error', text: r.text } }, r.status);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
    if (report.fatal) {
      return page(req, reply, school, {
        notice: { kind: 'error', text: html`<p><strong>${_('import.fatal')}</strong></p><p><code>${rejectionText(lang, report.fatal)}</code></p>` },
      }, 422);
    }
    return page(req, reply, school, {
      notice: { kind: 'success', text: _('import.doneNotice') },
      body: html`${reportView(lang, report)}
<p class="actions"><a class="button" href="${schoolBase(school.id)}/publipostage?activation=inactive&amp;createdAfter=${new Intl.DateTimeFormat('en-CA', { timeZone: 'Europe/Paris' }).format(new Date())}">${_('import.next.publipostage')}</a>
  <a href="${schoolBase(school.id)}/import">${_('import.again')}</a></p>`,
    });
  });
}
