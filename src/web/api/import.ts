// POST /api/import (guard: guardOrToken, super admins, local admins or an import token): the import of `trousseau import`, over HTTP, for scripts and other tools. Multipart files;
// query `dryRun` (true: report only, nothing written), `partial` (nobody pre-deleted) and `structureId`
// (the school CSV files go to; required for CSV, and for a local admin one of theirs). AAF XML files describe
// their own structures: super admins only. Answers the report as JSON (with a line per file: format, encoding,
// rows and counts): 200, or 400 when a file was refused whole — unsupported format, malformed, unreadable —
// with `detail` naming it (nothing written). Same session and x-csrf-token header as every API mutation — or, for
// scripts, an API token (`Authorization: Bearer trs_…`, no session, no CSRF) scoped to its structures; each such
// call is audited.
import { extname } from 'node:path';
import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import { tokenScope } from '../../accounts/api-tokens.js';
import type { AppContext } from '../../context.js';
import { recordAudit } from '../../directory/audit.js';
import { structureInScope } from '../../directory/users.js';
import { importFiles } from '../../import/index.js';
import { formatRejection } from '../../import/report.js';
import { typed } from '../area.js';
import { guardOrToken, viewer } from '../context.js';
import { readUploads } from '../input.js';

const flag = z.enum(['true', 'false', '1', '0']).optional().transform((v) => v === 'true' || v === '1');
const QuerySchema = z.object({ dryRun: flag, partial: flag, structureId: z.string().uuid().optional() });

const MESSAGES = {
  fr: {
    noFile: 'Aucun fichier reçu (envoyez les fichiers en multipart/form-data).',
    structure: 'Indiquez structureId : l’établissement où vont les fichiers CSV.',
    forbiddenStructure: 'Établissement introuvable ou hors de vos établissements.',
    xml: (file: string) => `${file} : l’annuaire académique (AAF) décrit plusieurs établissements ; réservé aux super-administrateurs.`,
    fatal: 'Import refusé, rien n’a été modifié.',
  },
  en: {
    noFile: 'No file received (send the files as multipart/form-data).',
    structure: 'Give structureId: the school the CSV files go to.',
    forbiddenStructure: 'School not found or not one of yours.',
    xml: (file: string) => `${file}: the academic feed (AAF) describes several schools; super admins only.`,
    fatal: 'Import refused, nothing was changed.',
  },
};

export default async function importApi(root: FastifyInstance, ctx: AppContext): Promise<void> {
  const app = typed(root);
  const options = {
    config: { apiToken: 'import' as const },
    preValidation: guardOrToken(ctx, 'import', 'superadmin', 'localadmin'),
    schema: { querystring: QuerySchema },
  };
  app.post('/', options, async (req, reply) => {
    const m = MESSAGES[req.lang ?? 'fr'];
    const token = req.apiToken;
    const scope = token ? tokenScope(token) : viewer(req).scope;
    const actorId = token ? token.createdBy : viewer(req).user.id;
    const { dryRun, partial, structureId } = req.query;
    // A token reaching outside its structures is worth a trace: a misconfigured script, or a leaked token probing.
    const outOfScope = async (status: number, error: string) => {
      if (token) await recordAudit(ctx.database.pool, actorId, 'api_token.refused', { tokenId: token.id, prefix: token.prefix, reason: 'scope', status, structureId: structureId ?? null, ip: req.ip });
      return reply.code(status).send({ error });
    };
    if (structureId && !structureInScope(scope, structureId)) return outOfScope(404, m.forbiddenStructure);
    if (!req.isMultipart()) return reply.code(400).send({ error: m.noFile });
    const { files } = await readUploads(req);
    if (!files.length) return reply.code(400).send({ error: m.noFile });
    // XML, archives (which may carry XML) and nameless files are read by content: super admins only.
    const xml = files.find((f) => ['.xml', '.zip', ''].includes(extname(f.name).toLowerCase()));
    if (xml && scope.kind !== 'all') return outOfScope(403, m.xml(xml.name));
    if (!structureId && (scope.kind !== 'all' || files.some((f) => !['.xml', '.zip'].includes(extname(f.name).toLowerCase())))) {
      return reply.code(400).send({ error: m.structure });
    }
    const report = await importFiles(ctx, files, { dryRun, partial, actorId, structureHint: structureId, scope });
    if (token) {
      await recordAudit(ctx.database.pool, actorId, 'api_token.import', {
        tokenId: token.id, prefix: token.prefix, name: token.name, ip: req.ip, structureId: structureId ?? null,
        files: files.map((f) => f.name), dryRun, refused: !!report.fatal, created: report.created, updated: report.updated,
        preDeleted: report.preDeleted,
      });
    }
    if (report.fatal) return reply.code(400).send({ error: m.fatal, detail: formatRejection(report.fatal), report });
    return reply.send(report);
  });
}
