// POST /api/import (guard: guardOrToken — super admins, local admins, or an import token): the import of `trousseau import`, over HTTP, for scripts and other tools. Multipart files;
// query `dryRun` (true: report only, nothing written), `partial` (nobody pre-deleted), `confirmAbsences` (a complete
// run may send most of a profile's accounts to the grace period: refused without it, report.massAbsence) and `structureId`
// (the school CSV files go to; required for a local admin, one of theirs; an AAF feed sent with it → 400). What the run may touch is decided by
// the import service from the files' content and the caller's scope (academic feeds: super admins only → 403).
// Files stream to disk (capped per request → 413) and are deleted after the run. Answers the report as JSON
// (with a line per file: format, encoding, rows and counts): 200, or 400 when a file was refused whole —
// unsupported format, malformed, unreadable — with `detail` naming it (nothing written). Same session and
// x-csrf-token header as every API mutation — or, for scripts, an API token (`Authorization: Bearer trs_…`, no
// session, no CSRF) scoped to its structures; each such call is audited.
import { rm } from 'node:fs/promises';
import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import { tokenScope } from '../../accounts/api-tokens.js';
import type { AppContext } from '../../context.js';
import { recordAudit } from '../../directory/audit.js';
import { structureInScope } from '../../directory/users.js';
import { ImportForbiddenError, importFiles, type ImportReport } from '../../import/index.js';
import { forbiddenText, rejectionText } from '../import-text.js';
import { receiveUploads, UploadEmptyError, UploadMalformedError, UploadTooLargeError, uploadsRoot } from '../../import/uploads.js';
import { typed } from '../area.js';
import { guardOrToken, viewer } from '../context.js';
import { reasonKey } from '../input.js';
import { translator } from '../i18n/index.js';

const flag = z
  .enum(['true', 'false', '1', '0'], reasonKey('api.import.flag'))
  .optional()
  .transform((v) => v === 'true' || v === '1');
const QuerySchema = z.object({ dryRun: flag, partial: flag, confirmAbsences: flag, structureId: z.string().uuid().optional() });

export default async function importApi(root: FastifyInstance, ctx: AppContext): Promise<void> {
  const app = typed(root);
  const options = {
    config: { apiToken: 'import' as const },
    preValidation: guardOrToken(ctx, 'import', 'superadmin', 'localadmin'),
    schema: { querystring: QuerySchema },
  };
  app.post('/', options, async (req, reply) => {
    const _ = translator(req.lang);
    const token = req.apiToken;
    const scope = token ? tokenScope(token) : viewer(req).scope;
    const actorId = token ? token.createdBy : viewer(req).user.id;
    const { dryRun, partial, confirmAbsences, structureId } = req.query;
    // A token reaching outside its structures is worth a trace: a misconfigured script, or a leaked token probing.
    const outOfScope = async (status: number, error: string) => {
      if (token) await recordAudit(ctx.database.pool, actorId, 'api_token.refused', { tokenId: token.id, prefix: token.prefix, reason: 'scope', status, structureId: structureId ?? null, ip: req.ip });
      return reply.code(status).send({ error });
    };
    if (structureId && !structureInScope(scope, structureId)) return outOfScope(404, _('api.import.forbiddenStructure'));
    if (!req.isMultipart()) return reply.code(400).send({ error: _('api.import.noFile') });
    // A local admin (or a token scoped to structures) always names the school; the service refuses anything
    // else beyond the scope.
    if (!structureId && scope.kind !== 'all') return reply.code(400).send({ error: _('api.import.structure') });
    let upload: Awaited<ReturnType<typeof receiveUploads>>;
    try {
      upload = await receiveUploads(req, uploadsRoot(ctx.config.dataDir), ctx.config.importMaxBytes);
    } catch (e) {
      if (e instanceof UploadTooLargeError) return reply.code(413).send({ error: _('import.tooLarge', { max: Math.floor(e.maxBytes / (1024 * 1024)) }) });
      if (e instanceof UploadMalformedError) return reply.code(400).send({ error: _('import.malformed') });
      if (e instanceof UploadEmptyError) return reply.code(400).send({ error: _('import.emptyFile', { files: e.files.join(', ') }) });
      throw e;
    }
    let report: ImportReport;
    try {
      if (!upload.files.length) return reply.code(400).send({ error: _('api.import.noFile') });
      // A school named: its files only, as on its console page — an AAF feed sent with it would update every school
      // it names, which the caller did not ask for (the feed goes without structureId).
      report = await importFiles(ctx, upload.files, { dryRun, partial, confirmAbsences, scope, actorId, structureHint: structureId, oneSchool: !!structureId, uploaded: true });
    } catch (e) {
      if (e instanceof ImportForbiddenError) return outOfScope(403, e.code === 'academic_feed' ? _('api.import.xml', { file: e.file }) : forbiddenText(req.lang, e));
      throw e;
    } finally {
      await rm(upload.dir, { recursive: true, force: true });
    }
    if (token) {
      await recordAudit(ctx.database.pool, actorId, 'api_token.import', {
        tokenId: token.id,
        prefix: token.prefix,
        name: token.name,
        ip: req.ip,
        structureId: structureId ?? null,
        files: upload.files.map((f) => f.name),
        dryRun,
        refused: !!report.fatal,
        created: report.created,
        updated: report.updated,
        preDeleted: report.preDeleted,
      });
    }
    if (report.fatal) {
      const error = report.fatal.message?.code === 'aafNeedsRegion' ? _('api.import.aafWithStructure', { file: report.fatal.file }) : _('api.import.fatal');
      return reply.code(400).send({ error, detail: rejectionText(req.lang, report.fatal), report });
    }
    return reply.send(report);
  });
}
