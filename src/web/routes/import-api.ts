// POST /api/import: the import of `trousseau import`, over HTTP, for scripts and other tools. Multipart files;
// query `dryRun` (true: report only, nothing written), `partial` (nobody pre-deleted) and `structureId`
// (the school CSV files go to; required for a local admin, one of theirs). What the run may touch is decided by
// the import service from the files' content and the caller's scope (academic feeds: super admins only → 403).
// Files stream to disk (capped per request → 413) and are deleted after the run. Answers the report as JSON:
// 200, or 422 when a file was refused whole (nothing written). Same session and x-csrf-token header as every
// API mutation.
import { rm } from 'node:fs/promises';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { z } from 'zod';
import type { AppContext } from '../../context.js';
import { structureInScope } from '../../directory/users.js';
import { ImportForbiddenError, importFiles, type ImportReport } from '../../import/index.js';
import { formatRejection } from '../../import/report.js';
import { receiveUploads, UploadTooLargeError, uploadsRoot } from '../../import/uploads.js';
import { requireRole, scopeOf } from '../auth.js';

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
  },
  en: {
    invalid: (field: string) => `Invalid parameter “${field}”.`,
    noFile: 'No file received (send the files as multipart/form-data).',
    structure: 'Give structureId: the school the CSV files go to.',
    forbiddenStructure: 'School not found or not one of yours.',
    xml: (file: string) => `${file}: the academic feed (AAF) describes several schools; super admins only.`,
    fatal: 'Import refused, nothing was changed.',
    tooLarge: (mb: number) => `Upload too large: at most ${mb} MB per import (all files together). Nothing was imported.`,
  },
};

export default async function importApi(app: FastifyInstance, ctx: AppContext): Promise<void> {
  app.post('/api/import', { preHandler: requireRole('superadmin', 'localadmin') }, async (req: FastifyRequest, reply: FastifyReply) => {
    const m = MESSAGES[req.lang ?? 'fr'];
    const q = QuerySchema.safeParse(req.query ?? {});
    if (!q.success) return reply.code(400).send({ error: m.invalid(String(q.error.issues[0]?.path[0] ?? '')) });
    const scope = scopeOf(req.user!);
    const { dryRun, partial, structureId } = q.data;
    if (structureId && !structureInScope(scope, structureId)) return reply.code(404).send({ error: m.forbiddenStructure });
    if (!req.isMultipart()) return reply.code(400).send({ error: m.noFile });
    // A local admin always names the school; the service refuses anything else beyond their scope.
    if (!structureId && scope.kind !== 'all') return reply.code(400).send({ error: m.structure });
    let upload;
    try {
      upload = await receiveUploads(req, uploadsRoot(ctx.config.dataDir), ctx.config.importMaxBytes);
    } catch (e) {
      if (e instanceof UploadTooLargeError) return reply.code(413).send({ error: m.tooLarge(Math.floor(e.maxBytes / (1024 * 1024))) });
      throw e;
    }
    let report: ImportReport;
    try {
      if (!upload.files.length) return reply.code(400).send({ error: m.noFile });
      report = await importFiles(ctx, upload.files, { dryRun, partial, scope, actorId: req.user!.id, structureHint: structureId, uploaded: true });
    } catch (e) {
      if (e instanceof ImportForbiddenError) return reply.code(403).send({ error: e.code === 'academic_feed' ? m.xml(e.file) : e.message });
      throw e;
    } finally {
      await rm(upload.dir, { recursive: true, force: true });
    }
    if (report.fatal) return reply.code(422).send({ error: m.fatal, detail: formatRejection(report.fatal), report });
    return reply.send(report);
  });
}
