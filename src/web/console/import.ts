// Console › Imports/Exports › "Importer des utilisateurs": upload a school's files (CSV, ONDE; SIECLE, STS-web),
// see the dry-run report (nothing written), then confirm to apply exactly the same files. The super admin's
// « Importer un flux académique (AAF) » (/console/import, linked from the school list) is the same page for every
// school: the académie's AAF delivery, SIECLE or STS-web files, which name their schools (created when new); CSV
// files, which name none, are refused there, as an AAF feed is on a school's page (it would touch every school it
// names: importFiles' `oneSchool`). Both pages are the handlers below, given their target: a school, or
// none (ImportTarget); an upload is bound to the page it was made on.
//
// The files stream to disk (src/import/uploads.ts: <dataDir>/imports/<token>/, total capped per request) and
// wait there between the two steps, with a manifest binding them to the uploader and the school; the token is
// random and expires after an hour (the housekeeping sweeps what was never confirmed). CSV files always go to
// the school of the page (structure hint = its id); without a school, the import service refuses them. What a run may touch is decided by the import service from
// the files' content and the caller's scope (src/import/scope.ts), never here. The upload answers with a
// redirect to the report's page (post/redirect/get; the dry-run report is kept beside the files), so the
// address bar never shows the upload's URL, which carries the CSRF token (multipart bodies are read after
// the check). The confirmation names every structure the files touch.
import { readFile, rename, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { z } from 'zod';
import type { AppContext } from '../../context.js';
import { findTemplate, templateFile } from '../../import/csv-templates.js';
import { ImportForbiddenError, importFiles, type ImportReport } from '../../import/index.js';
import { receiveUploads, UPLOAD_TTL_MS, UploadEmptyError, UploadMalformedError, UploadTooLargeError, uploadsRoot } from '../../import/uploads.js';
import type { Rejection } from '../../import/types.js';
import { listImportReports, loadImportReport, reportOfToken, saveImportReport } from '../../import/history.js';
import { typed } from '../area.js';
import { HttpError, viewer } from '../context.js';
import { viewEnv } from '../view.js';
import { forbiddenText } from '../import-text.js';
import { html, type SafeHtml } from '../html.js';
import { translator, type Lang } from '../i18n/index.js';
import type { Notice } from '../layout.js';
import { attachment, IdParams, reasonKey, text } from '../input.js';
import { dateTime, schoolOr404, sendConsolePage } from './frame.js';
import { aafElsewhereNotice, confirmView, csvElsewhereNotice, doneView, fatalNotice, historyView, importBase, type ImportTarget, type NewAccounts, uploadForm } from './views/import.js';
import type { Scope } from '../../directory/scope.js';
import { isUuid, structureInScope } from '../../directory/users.js';

export { confirmQuestion } from './views/import.js';

const TOKEN_RE = /^[A-Za-z0-9_-]{32}$/;

interface Manifest {
  userId: string;
  /** The school of the page the files were sent on; null: the import for every school. */
  structureId: string | null;
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
  if (e instanceof UploadEmptyError) return { status: 400, text: _('import.emptyFile', { files: e.files.join(', ') }) };
  return null;
}

const isSuper = (req: FastifyRequest) => viewer(req).user.roles.includes('superadmin');

/**
 * Where the accounts an applied run created are: each school of the caller's scope with how many (their own school,
 * or for a parent a child's, as the publipostage selects them), and how many are in none. They are the accounts
 * created at the run's instant (ImportReport.at: apply.ts writes every new account with it; imports take turns).
 */
async function newAccounts(ctx: AppContext, scope: Scope, report: ImportReport): Promise<NewAccounts> {
  if (!report.at || !report.created) return { schools: [], unattached: 0 };
  const r = await ctx.database.pool.query<{ id: string | null; name: string | null; n: number }>(
    `WITH fresh AS (SELECT id FROM users WHERE created_at = $1),
     own AS (SELECT us.user_id, us.structure_id FROM fresh f JOIN user_structures us ON us.user_id = f.id
             UNION SELECT r.parent_id, us.structure_id FROM fresh f JOIN relations r ON r.parent_id = f.id JOIN user_structures us ON us.user_id = r.child_id)
     SELECT s.id, s.name, count(DISTINCT own.user_id)::int AS n FROM own JOIN structures s ON s.id = own.structure_id GROUP BY s.id, s.name
     UNION ALL SELECT NULL, NULL, count(*)::int FROM fresh f WHERE NOT EXISTS (SELECT 1 FROM own WHERE own.user_id = f.id)`,
    [new Date(report.at)],
  );
  const schools = r.rows
    .filter((x): x is { id: string; name: string; n: number } => x.id !== null && x.name !== null && structureInScope(scope, x.id))
    .sort((a, b) => a.name.localeCompare(b.name, 'fr'));
  return { schools, unattached: r.rows.find((x) => x.id === null)?.n ?? 0 };
}

const TokenParams = IdParams.extend({ token: z.string().max(100) });
const RegionTokenParams = z.object({ token: z.string().max(100) });

/** The confirmation of a dry run: its upload, and the accounts sent away the administrator confirmed (massAbsence). */
const ConfirmBody = z.object({
  token: text(100),
  absences: z
    .string()
    .regex(/^\d{1,9}$/, reasonKey('import.confirm.absences.invalid'))
    .optional(),
});

export default async function importScreens(instance: FastifyInstance, ctx: AppContext): Promise<void> {
  const app = typed(instance);
  const root = uploadsRoot(ctx.config.dataDir);

  /** What the form says first: a school's files; for a super admin, where the académie's feed goes. */
  function lead(req: FastifyRequest, school: ImportTarget): SafeHtml | string {
    const _ = translator(req.lang);
    if (!school) return _('import.leadRegion');
    if (!isSuper(req)) return _('import.lead');
    return html`${_('import.leadSuper')} <a href="${importBase(null)}" data-region-import>${_('import.region.title')}</a>.`;
  }

  async function page(req: FastifyRequest, reply: FastifyReply, school: ImportTarget, o: { notice?: Notice | null; body?: SafeHtml } = {}, status = 200) {
    const _ = translator(req.lang);
    return sendConsolePage(
      reply,
      {
        req,
        title: _(school ? 'console.io.import' : 'import.region.title'),
        school,
        section: school ? 'io' : undefined,
        ioTab: school ? 'import' : undefined,
        lead: o.body ? null : lead(req, school),
        notice: o.notice,
        body: o.body ?? html`${uploadForm(viewEnv(req), school, isSuper(req))}${historyView(req.lang, school, await listImportReports(ctx.database.pool, school?.id ?? null, isSuper(req)))}`,
      },
      status,
    );
  }

  /**
   * A file the run could not read at all (report.fatal): the upload form again, with what to fix, 400. CSV files sent
   * to the import for every school, and an AAF feed sent to a school's, are told where they go.
   */
  function fatalPage(req: FastifyRequest, reply: FastifyReply, school: ImportTarget, fatal: Rejection) {
    const code = fatal.message?.code;
    const text =
      !school && code === 'csvNeedsStructure' ? csvElsewhereNotice(req.lang, fatal) : school && code === 'aafNeedsRegion' ? aafElsewhereNotice(req.lang, fatal) : fatalNotice(req.lang, fatal);
    return page(req, reply, school, { notice: { kind: 'error', text } }, 400);
  }

  /** The school of a school's import page, in the caller's scope (404 otherwise). */
  const schoolOf = (req: FastifyRequest, id: string) => schoolOr404(ctx, viewer(req).scope, id);
  /** The import for every school: a super admin's (403 for a local admin, before any file is read). */
  const everySchool = (req: FastifyRequest): ImportTarget => {
    if (!isSuper(req)) throw new HttpError(403, 'error.forbidden');
    return null;
  };

  app.get('/etablissements/:id/import', { schema: { params: IdParams, querystring: z.object({ cree: text(2) }) } }, async (req, reply) => {
    const school = await schoolOf(req, req.params.id);
    // Just created by « Nouvel établissement »: said, the form below.
    const created = req.query.cree === '1' ? { kind: 'success' as const, text: translator(req.lang)('console.newSchool.created', { name: school.name }) } : null;
    return page(req, reply, school, { notice: created });
  });
  app.get('/import', async (req, reply) => page(req, reply, everySchool(req)));
  // The ENT's CSV templates, as the import reads them (import/csv-templates.ts): nothing of any school in them.
  app.get('/modeles-csv/:file', { schema: { params: z.object({ file: z.string().max(40) }) } }, async (req, reply) => {
    const template = findTemplate(req.params.file);
    if (!template) throw new HttpError(404, 'error.notFound');
    return reply.header('content-disposition', attachment(template.file)).type('text/csv; charset=utf-8').send(templateFile(template));
  });

  // Step 1: receive the files, dry-run, show the report and a confirmation form.
  async function upload(req: FastifyRequest, reply: FastifyReply, school: ImportTarget) {
    const lang = req.lang;
    const _ = translator(lang);
    const { user, scope } = viewer(req);
    if (!req.isMultipart()) return page(req, reply, school, { notice: { kind: 'error', text: _('import.noFile') } }, 400);
    const refusedPage = (e: unknown) => {
      const r = importRefusal(lang, e);
      if (!r) throw e;
      return page(req, reply, school, { notice: { kind: 'error', text: r.text } }, r.status);
    };
    let received: Awaited<ReturnType<typeof receiveUploads>>;
    try {
      received = await receiveUploads(req, root, ctx.config.importMaxBytes);
    } catch (e) {
      return refusedPage(e);
    }
    const { files, fields, dir, token } = received;
    const partial = fields.partial === '1';
    if (files.length === 0) {
      await rm(dir, { recursive: true, force: true });
      return page(req, reply, school, { notice: { kind: 'error', text: _('import.noFile') } }, 400);
    }
    let report: ImportReport;
    try {
      report = await importFiles(ctx, files, { dryRun: true, scope, actorId: user.id, structureHint: school?.id, oneSchool: !!school, partial, uploaded: true });
    } catch (e) {
      await rm(dir, { recursive: true, force: true });
      return refusedPage(e);
    }
    if (report.fatal) {
      await rm(dir, { recursive: true, force: true });
      return fatalPage(req, reply, school, report.fatal);
    }
    const manifest: Manifest = { userId: user.id, structureId: school?.id ?? null, partial, createdAt: Date.now(), files: files.map((f) => f.name) };
    await writeFile(join(dir, 'manifest.json'), JSON.stringify(manifest), { mode: 0o600 });
    await writeFile(join(dir, 'report.json'), JSON.stringify(report), { mode: 0o600 });
    return reply.redirect(`${importBase(school)}/${token}`, 303);
  }
  app.post('/etablissements/:id/import', { schema: { params: IdParams } }, async (req, reply) => upload(req, reply, await schoolOf(req, req.params.id)));
  app.post('/import', async (req, reply) => upload(req, reply, everySchool(req)));

  /** The pending upload of this uploader and page; 410 when gone or expired. */
  async function pending(req: FastifyRequest, school: ImportTarget, token: string): Promise<{ dir: string; manifest: Manifest }> {
    const dir = join(root, token);
    let manifest: Manifest | null = null;
    if (TOKEN_RE.test(token)) {
      manifest = await readFile(join(dir, 'manifest.json'), 'utf8')
        .then((s) => JSON.parse(s) as Manifest)
        .catch(() => null);
    }
    // An upload made on a school's page is confirmed there, and one for every school on its own page: never the other's.
    if (!manifest || manifest.userId !== viewer(req).user.id || (manifest.structureId ?? null) !== (school?.id ?? null) || Date.now() - manifest.createdAt > UPLOAD_TTL_MS) {
      throw new HttpError(410, 'import.expired');
    }
    return { dir, manifest };
  }

  /**
   * The report saved for an upload already confirmed on this page (import/history.ts), for the browser that comes back
   * to it (« Précédent » to the dry run, a reload of the confirmation): there, rather than « simulation expirée ».
   */
  async function confirmedAlready(school: ImportTarget, token: string): Promise<string | null> {
    const id = TOKEN_RE.test(token) ? await reportOfToken(ctx.database.pool, token, school?.id ?? null) : null;
    return id ? `${importBase(school)}/rapports/${id}` : null;
  }

  // Step 1 bis: the dry-run report and the confirmation form (the page the upload redirects to).
  async function dryRunPage(req: FastifyRequest, reply: FastifyReply, school: ImportTarget, token: string) {
    const _ = translator(req.lang);
    const done = await confirmedAlready(school, token);
    if (done) return reply.redirect(done, 303);
    const { dir, manifest } = await pending(req, school, token);
    const report = JSON.parse(await readFile(join(dir, 'report.json'), 'utf8')) as ImportReport;
    return page(req, reply, school, {
      notice: { kind: 'info', text: _('import.dryNotice') },
      body: confirmView(viewEnv(req), { school, token, report, partial: manifest.partial, superAdmin: isSuper(req) }),
    });
  }
  app.get('/etablissements/:id/import/:token', { schema: { params: TokenParams } }, async (req, reply) => dryRunPage(req, reply, await schoolOf(req, req.params.id), req.params.token));
  app.get('/import/:token', { schema: { params: RegionTokenParams } }, async (req, reply) => dryRunPage(req, reply, everySchool(req), req.params.token));

  // Step 2: apply the very files that were analysed.
  async function confirm(req: FastifyRequest, reply: FastifyReply, school: ImportTarget, body: z.infer<typeof ConfirmBody>) {
    const lang = req.lang;
    const _ = translator(lang);
    const { user, scope } = viewer(req);
    const done = await confirmedAlready(school, body.token);
    if (done) return reply.redirect(done, 303);
    const { dir, manifest } = await pending(req, school, body.token);
    const dry = JSON.parse(await readFile(join(dir, 'report.json'), 'utf8')) as ImportReport;
    // Departures to confirm and the box left unticked: the same page again with the error, the upload kept.
    if (body.absences === undefined) {
      if (dry.massAbsence?.length) {
        return page(
          req,
          reply,
          school,
          {
            notice: { kind: 'error', text: _('import.confirm.absences.missing') },
            body: confirmView(viewEnv(req), { school, token: body.token, report: dry, partial: manifest.partial, absencesError: true, superAdmin: isSuper(req) }),
          },
          400,
        );
      }
    }
    // Claimed before the run: a second submission of the form (a double click, two tabs) finds the upload gone (410),
    // not its files deleted under it by the first run (a 500).
    await rename(join(dir, 'manifest.json'), join(dir, 'manifest.claimed.json')).catch(() => {
      throw new HttpError(410, 'import.expired');
    });
    const files = manifest.files.map((name, i) => ({ name, path: join(dir, `${i}.bin`) }));
    let report: ImportReport;
    try {
      report = await importFiles(ctx, files, {
        dryRun: false,
        scope,
        actorId: user.id,
        structureHint: school?.id,
        oneSchool: !!school,
        partial: manifest.partial,
        // The number the box was ticked for: more accounts away than that (the directory changed since) is refused.
        // Never more than the dry run showed (the box's value): a forged 999999999 confirms no departure nobody saw.
        confirmAbsences: body.absences === undefined ? false : Math.min(Number(body.absences), dry.preDeleted),
        uploaded: true,
      });
    } catch (e) {
      const r = importRefusal(lang, e);
      if (!r) throw e;
      return page(req, reply, school, { notice: { kind: 'error', text: r.text } }, r.status);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
    if (report.fatal) {
      return fatalPage(req, reply, school, report.fatal);
    }
    const saved = await saveImportReport(ctx.database.pool, { report, actorId: user.id, structureId: school?.id ?? null, token: body.token, allSchools: scope.kind === 'all' });
    return page(req, reply, school, {
      notice: { kind: 'success', text: _('import.doneNotice') },
      body: doneView(lang, school, report, await newAccounts(ctx, scope, report), isSuper(req), `${importBase(school)}/rapports/${saved}`),
    });
  }

  /** A confirmed run's report, read again (import/history.ts): this school's page's runs, or those for every school. */
  async function storedReport(req: FastifyRequest, reply: FastifyReply, school: ImportTarget, id: string) {
    const _ = translator(req.lang);
    const stored = isUuid(id) ? await loadImportReport(ctx.database.pool, id, school?.id ?? null, isSuper(req)) : null;
    if (!stored) throw new HttpError(404, 'error.notFound');
    return sendConsolePage(reply, {
      req,
      title: _('import.history.reportTitle', { date: dateTime(req.lang, stored.at) }),
      school,
      section: school ? 'io' : undefined,
      ioTab: school ? 'import' : undefined,
      body: doneView(req.lang, school, stored.report, await newAccounts(ctx, viewer(req).scope, stored.report), isSuper(req)),
    });
  }
  app.get('/etablissements/:id/import/rapports/:rid', { schema: { params: IdParams.extend({ rid: z.string().max(100) }) } }, async (req, reply) =>
    storedReport(req, reply, await schoolOf(req, req.params.id), req.params.rid),
  );
  app.get('/import/rapports/:rid', { schema: { params: z.object({ rid: z.string().max(100) }) } }, async (req, reply) => storedReport(req, reply, everySchool(req), req.params.rid));
  app.post('/etablissements/:id/import/confirmer', { schema: { params: IdParams, body: ConfirmBody } }, async (req, reply) => confirm(req, reply, await schoolOf(req, req.params.id), req.body));
  app.post('/import/confirmer', { schema: { body: ConfirmBody } }, async (req, reply) => confirm(req, reply, everySchool(req), req.body));
}
