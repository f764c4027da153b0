// /api/console/envois/:runId: a mail run's progress, polled by the run report page (guard: local admins).
import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import type { AppContext } from '../../context.js';
import { typed } from '../area.js';
import { viewer } from '../context.js';
import { runOr404 } from '../console/runs.js';

export default async function runsApi(root: FastifyInstance, ctx: AppContext): Promise<void> {
  typed(root).get('/envois/:runId', { schema: { params: z.object({ runId: z.string().max(100) }) } }, async (req, reply) => {
    const r = await runOr404(ctx, viewer(req).scope, req.params.runId);
    return reply.header('cache-control', 'no-store').send({
      runId: r.runId,
      selected: r.selected,
      withoutEmail: r.withoutEmail,
      queued: r.queued,
      sent: r.sent,
      failed: r.failed,
      pending: r.pending,
    });
  });
}
