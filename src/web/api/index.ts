// /api: the JSON area. Every answer, refusals and 404s included, is JSON; each sub-area has one guard.
import type { FastifyInstance } from 'fastify';
import type { AreaOptions } from '../area.js';
import { answerJson, guard } from '../context.js';
import importApi from './import.js';
import publipostageApi from './publipostage.js';
import runsApi from './runs.js';

export default async function apiArea(app: FastifyInstance, { ctx }: AreaOptions): Promise<void> {
  answerJson(app);
  await app.register(
    async (a) => {
      a.addHook('preValidation', guard('superadmin', 'localadmin', 'teacher'));
      await publipostageApi(a, ctx);
    },
    { prefix: '/publipostage' },
  );
  // Sessions or API tokens: the route carries its own guard (guardOrToken).
  await app.register(async (a) => importApi(a, ctx), { prefix: '/import' });
  await app.register(
    async (a) => {
      a.addHook('preValidation', guard('localadmin'));
      await runsApi(a, ctx);
    },
    { prefix: '/console' },
  );
}
