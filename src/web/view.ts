// What a view receives and returns. Views (`views.ts` / `views/*.ts` per area) are pure functions of typed
// data: no database, no request, no reply. A route loads the data, calls the view, and sends what it returns.
// Form pieces (forms.ts: csrfField, field, errorSummary) take a ViewEnv as well as a request.
import type { FastifyRequest } from 'fastify';
import type { Lang } from './i18n/index.js';
import type { LayoutOptions } from './layout.js';

/** The two things a view may take from the request: its language and the token its forms must carry. */
export interface ViewEnv {
  lang: Lang;
  csrfToken: string;
}

export function viewEnv(req: FastifyRequest): ViewEnv {
  return { lang: req.lang ?? 'fr', csrfToken: req.csrfToken ?? '' };
}

/** A page as a view describes it: the layout's options without the request (`sendPage(reply, { req, ...view })`). */
export type PageView = Omit<LayoutOptions, 'req'>;
