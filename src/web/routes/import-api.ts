// POST /api/import: the import of `trousseau import`, over HTTP, for scripts and other tools. Multipart files;
// query `dryRun` (true: report only, nothing written), `partial` (nobody pre-deleted) and `structureId`
// (the school CSV files go to; required for CSV, and for a local admin one of theirs). AAF XML files describe
// their own structures: super admins only. Answers the report as JSON (with a line per file: format, encoding,
// rows and counts): 200, or 400 when a file was refused whole — unsupported format, malformed, unreadable —
// with `detail` naming it (nothing written). Same session and x-csrf-token header as every API mutation.
import { extname } from 'node:path';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { z } from 'zod';
import type { AppContext } from '../../context.js';
import { structureInScope } from '../../directory/users.js';
import { importFiles } from '../../import/index.js';
import { formatRejection } from '../../import/report.js';
import { requireRole, scopeOf } from '../auth.js';
import { readUploads } from './console-import.js';

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
  },
  en: {
    invalid: (field: string) => `Invalid parameter “${field}”.`,
    noFile: 'No file received (send the files as multipart/form-data).',
    structure: 'Give structureId: the school the CSV files go to.',
    forbiddenStructure: 'School not found or not one of yours.',
    xml: (file: string) => `${file}: the academic feed (AAF) describes several schools; super admins only.`,
    fatal: 'Import refused, nothing was changed.',
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
    const { files } = await readUploads(req);
    if (!files.length) return reply.code(400).send({ error: m.noFile });
    // XML, archives (which may carry XML) and nameless files are read by content: super admins only.
    const xml = files.find((f) => ['.xml', '.zip', ''].includes(extname(f.name).toLowerCase()));
    if (xml && scope.kind !== 'all') return reply.code(403).send({ error: m.xml(xml.name) });
    if (!structureId && (scope.kind !== 'all' || files.some((f) => !['.xml', '.zip'].includes(extname(f.name).toLowerCase())))) {
      return reply.code(400).send({ error: m.structure });
    }
    const report = await importFiles(ctx, files, { dryRun, partial, actorId: req.user!.id, structureHint: structureId });
    if (report.fatal) return reply.code(400).send({ error: m.fatal, detail: formatRejection(report.fatal), report });
    return reply.send(report);
  });
}
