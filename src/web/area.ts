// The shape of an area plugin: registered with `{ ctx, prefix }` by server.ts.
import type { FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import type { AppContext } from '../context.js';

export interface AreaOptions {
  ctx: AppContext;
}

/** The instance an area declares its routes on: zod schemas type `req.params`, `req.query` and `req.body`. */
export function typed(app: FastifyInstance) {
  return app.withTypeProvider<ZodTypeProvider>();
}
