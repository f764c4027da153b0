// POST /api/import: the import of `trousseau import`, over HTTP, for scripts and other tools. Multipart files;
// query `dryRun` (true: report only, nothing written), `partial` (nobody pre-deleted) and `structureId`
// (the school CSV files go to; required for a local admin, one of theirs). What the run may touch is decided by
// the import service from the files' content and the caller's scope (academic feeds: super admins only → 403).
// Files stream to disk (capped per request → 413) and are deleted after the run. Answers the report as JSON
// (with a line per file: format, encoding, rows and counts): 200, or 400 when a file was refused whole —
// unsupported format, malformed, unreadable — with `detail` naming it (nothing written). Same session and
// x-csrf-token header as every API mutation — or, for scripts, an API token (`Authorization: Bearer trs_…`, no
// session, no CSRF) scoped to its structures; each such call is audited.
import { rm } from 'node:fs/promises';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { z } from 'zod';
import { tokenScope } from '../../accounts/api-tokens.js';
import type { AppContext } from '../../context.js';
import { recordAudit } from '../../directory/audit.js';
import { structureInScope } from '../../directory/users.js';
import { ImportForbiddenError, importFiles, type ImportReport } from '../../import/index.js';
import { formatRejection } from '../../import/report.js';
import { receiveUploads, UploadMalformedError, UploadTooLargeError, uploadsRoot } from '../../import/uploads.js';
import { requireRoleOrToken, scopeOf } from '../auth.js';

const flag = z.enum(['true', 'false', '1', '0']).optional().transform((v) => v === 'true' || v === '1');
const QuerySchema = z.object({ dryRun: flag, partial: flag, structureId: z.string().uuid().optional() });

const MESSAGES = {
  fr: {
    invalid: (field: string) => `Paramètre « ${field} » invalide.`,
    noFile: 'Aucun fichier reçu (envoyez les fichiers en multipart/form-data).',
    structure: 'Indiquez structureId : l’établissement où vont les fichiers CSV.',
    forbiddenStructure: 'Établissement introuvable ou hors de vos établissements.',
    xml: (file: string) => `${file} : l’annuaire académique (AAF) décrit plusieurs établissements ; réservé aux super-administrateurs.`,
    fatal: 'Import refusé, rien n’a été modifié.',
    tooLarge: (mb: number) => `Envoi trop volumineux : ${mb} Mo au plus par import (tous fichiers confondus). Rien n’a été importé.`,
    malformed: 'Envoi illisible (interrompu ou mal formé) : rien n’a été importé. Renvoyez les fichiers.',
  },
  en: {
    invalid: (field: string) => `Invalid parameter “${field}”.`,
    noFile: 'No file received (send the files as multipart/form-data).',
    structure: 'Give structureId: the school the CSV files go to.',
    forbiddenStructure: 'School not found or not one of yours.',
    xml: (file: string) => `${file}: the academic feed (AAF) describes several schools; super admins only.`,
    fatal: 'Import refused, nothing was changed.',
    tooLarge: (mb: number) => `Upload too large: at most ${mb} MB per import (all files together). Nothing was imported.`,
    malformed: 'Unreadable upload (cut short or malformed): nothing was imported. Send the files again.',
  },
};

export default async function importApi(app: FastifyInstance, ctx: AppContext): Promise<void> {
  const guard = { config: { apiToken: 'import' as const }, preHandler: requireRoleOrToken(ctx, 'import', 'superadmin', 'localadmin') };
  app.post('/api/import', guard, async (req: FastifyRequest, reply: FastifyReply) => {
    const m = MESSAGES[req.lang ?? 'fr'];
    const q = QuerySchema.safeParse(req.query ?? {});
    if (!q.success) return reply.code(400).send({ error: m.invalid(String(q.error.issues[0]?.path[0] ?? '')) });
    const token = req.apiToken;
    const scope = token ? tokenScope(token) : scopeOf(req.user!);
    const actorId = token ? token.createdBy : req.user!.id;
    const { dryRun, partial, structureId } = q.data;
    // A token reaching outside its structures is worth a trace: a misconfigured script, or a leaked token probing.
    const outOfScope = async (status: number, error: string) => {
      if (token) await recordAudit(ctx.database.pool, actorId, 'api_token.refused', { tokenId: token.id, prefix: token.prefix, reason: 'scope', status, structureId: structureId ?? null, ip: req.ip });
      return reply.code(status).send({ error });
    };
    if (structureId && !structureInScope(scope, structureId)) return outOfScope(404, m.forbiddenStructure);
    if (!req.isMultipart()) return reply.code(400).send({ error: m.noFile });
    // A local admin (or a token scoped to structures) always names the school; the service refuses anything
    // else beyond the scope.
    if (!structureId && scope.kind !== 'all') return reply.code(400).send({ error: m.structure });
    let upload;
    try {
      upload = await receiveUploads(req, uploadsRoot(ctx.config.dataDir), ctx.config.importMaxBytes);
    } catch (e) {
      if (e instanceof UploadTooLargeError) return reply.code(413).send({ error: m.tooLarge(Math.floor(e.maxBytes / (1024 * 1024))) });
      if (e instanceof UploadMalformedError) return reply.code(400).send({ error: m.malformed });
      throw e;
    }
    let report: ImportReport;
    try {
      if (!upload.files.length) return reply.code(400).send({ error: m.noFile });
      report = await importFiles(ctx, upload.files, { dryRun, partial, scope, actorId, structureHint: structureId, uploaded: true });
    } catch (e) {
      if (e instanceof ImportForbiddenError) return outOfScope(403, e.code === 'academic_feed' ? m.xml(e.file) : e.message);
      throw e;
    } finally {
      await rm(upload.dir, { recursive: true, force: true });
    }
    if (token) {
      await recordAudit(ctx.database.pool, actorId, 'api_token.import', {
        tokenId: token.id, prefix: token.prefix, name: token.name, ip: req.ip, structureId: structureId ?? null,
        files: upload.files.map((f) => f.name), dryRun, refused: !!report.fatal, created: report.created, updated: report.updated,
        preDeleted: report.preDeleted,
      });
    }
    if (report.fatal) return reply.code(400).send({ error: m.fatal, detail: formatRejection(report.fatal), report });
    return reply.send(report);
  });
}
