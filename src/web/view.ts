// What a view receives and returns. Views (`views.ts` / `views/*.ts` per area) are pure functions of typed
// data: no database, no request, no reply. A route loads the data, calls the view, and sends what it returns.
import type { FastifyRequest } from 'fastify';
import { html, type SafeHtml } from './html.js';
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

/** The hidden `_csrf` field of a form rendered by a view (forms.ts `csrfField(req)` for route-built markup). */
export function csrfInput(env: ViewEnv): SafeHtml {
  return html`<input type="hidden" name="_csrf" value="${env.csrfToken}">`;
}
