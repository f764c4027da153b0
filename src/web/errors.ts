// How errors leave the web layer: one table from domain message codes to HTTP statuses, messages from the
// catalogue in the request's language, JSON or a page as the area answers, every 5xx logged with its stack
// and the request id shown to the user (so a report can be matched with the log line).
import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify';
import { hasZodFastifySchemaValidationErrors } from 'fastify-type-provider-zod';
import { DomainError, type DomainCode } from '../lib/errors.js';
import { HttpError } from './context.js';
import { isMessageKey, t, type Lang, type MessageKey } from './i18n/index.js';
import { sendErrorPage } from './layout.js';
import { ZodError } from 'zod';
import { zodIssueText } from '../lib/zod-text.js';

/** HTTP status of each domain error: the one place where a refusal becomes a status. */
export const DOMAIN_STATUS: Record<DomainCode, number> = {
  'directory.adminOnly': 403,
  'directory.userNotFound': 404,
  'directory.selfBlock': 422,
  'directory.selfContact': 422,
  'directory.selfRenewal': 422,
  'directory.invalidEmail': 422,
  'directory.invalidPhone': 422,
  'directory.mergeSelf': 422,
  'directory.mergeBothActive': 409,
  'directory.mergeProfiles': 422,
  'directory.mergeSuperAdmin': 403,
  'directory.readOnly': 403,
  'directory.pairSame': 422,
  'account.notActivated': 409,
  'account.alreadyActivated': 409,
  'account.preDeleted': 409,
  'account.blocked': 409,
  'template.invalid': 422,
  'selection.invalidDate': 400,
  'account.external': 409,
  'lifecycle.self': 422,
  'lifecycle.activated': 409,
  'lifecycle.selectionChanged': 409,
  'lifecycle.elsewhere': 403,
  'directory.mergeElsewhere': 403,
  'localAdmin.notYourSchool': 403,
  'localAdmin.notMember': 422,
  'localAdmin.pupil': 422,
  'oidc.redirectUri': 422,
  'token.name': 400,
  'token.noStructure': 400,
  'token.unknownStructure': 400,
  'docx.unreadable': 400,
  'docx.syntax': 400,
  'docx.unknownField': 400,
  'docx.notFound': 404,
  'docx.linkedImage': 400,
  'docx.linkedTemplate': 400,
  'docx.linkedContent': 400,
  'docx.tooLarge': 422,
  'template.unknownProfile': 422,
  'template.unknownKind': 422,
  'template.emptyBody': 422,
  'template.bodyTooLong': 422,
  'template.emptySubject': 422,
  'template.subjectTooLong': 422,
  'template.unknownField': 422,
  'template.unknownFields': 422,
};

/** The message of a domain error in `lang` (French first, English from the catalogue). */
export function domainMessage(lang: Lang, e: DomainError): string {
  return t(lang, `domain.${e.messageCode}`, e.params);
}

/** Status and message of an error, as the user should read it; null when it is not ours (a 5xx). */
export function describeError(lang: Lang, err: unknown): { status: number; message: string } | null {
  if (err instanceof DomainError) return { status: DOMAIN_STATUS[err.messageCode], message: domainMessage(lang, err) };
  if (err instanceof HttpError) return { status: err.statusCode, message: t(lang, err.key, err.params) };
  if (hasZodFastifySchemaValidationErrors(err)) {
    const issue = err.validation[0];
    // A parameter a strict schema does not know (`classes=6A` for `classIds`): named, said in the request's language
    // (zod's « Unrecognized key » came after an empty name).
    const unknown = issue?.keyword === 'unrecognized_keys' ? (issue.params as { keys?: unknown[] }).keys?.[0] : undefined;
    if (unknown !== undefined) return { status: 400, message: t(lang, 'error.invalidParam', { field: String(unknown), reason: t(lang, 'error.unknownParam') }) };
    const field = String(issue?.instancePath ?? '')
      .replace(/^\//, '')
      .split('/')[0];
    const reason = issue ? zodIssueText(lang, { ...issue.params, code: issue.keyword, message: issue.message ?? '' }) : t(lang, 'error.zod.invalid');
    return { status: 400, message: t(lang, 'error.invalidParam', { field, reason }) };
  }
  // A field a handler reads with its own schema (`ModelQuery.parse(req.body)`): a JSON body's number where a form
  // gives text was a 500 (« erreur inattendue », a stack in the log) instead of the same 400 as the route's schema.
  if (err instanceof ZodError) {
    const issue = err.issues[0];
    const field = String(issue?.path[0] ?? '');
    return { status: 400, message: t(lang, 'error.invalidParam', { field, reason: issue ? zodIssueText(lang, issue) : t(lang, 'error.zod.invalid') }) };
  }
  const e = err as FastifyError;
  if (e?.statusCode && e.statusCode >= 400 && e.statusCode < 500) {
    // Fastify's own 4xx (malformed body, too large…): a generic, translated message.
    const key: MessageKey = e.statusCode === 413 ? 'error.tooLarge' : 'error.badRequest';
    return { status: e.statusCode, message: t(lang, isMessageKey(key) ? key : 'error.badRequest') };
  }
  return null;
}

/** Status and message of a domain refusal (the handlers that re-render a page with the reason). */
export function domainRefusal(lang: Lang, e: DomainError): { status: number; message: string } {
  return { status: DOMAIN_STATUS[e.messageCode], message: domainMessage(lang, e) };
}

/** The error handler of the whole app. */
export async function handleError(err: unknown, req: FastifyRequest, reply: FastifyReply): Promise<FastifyReply> {
  const lang = req.lang ?? 'fr';
  const known = describeError(lang, err);
  const status = known?.status ?? 500;
  if (status >= 500) req.log.error({ err }, 'request failed');
  const message = known?.message ?? t(lang, 'error.internal');
  if (req.responseKind === 'json') return reply.code(status).send({ error: message, requestId: req.id });
  return sendErrorPage(req, reply, status, message);
}

/** 404 for URLs no route matches. */
export async function handleNotFound(req: FastifyRequest, reply: FastifyReply): Promise<FastifyReply> {
  const message = t(req.lang ?? 'fr', 'error.notFound');
  if (req.responseKind === 'json') return reply.code(404).send({ error: message, requestId: req.id });
  return sendErrorPage(req, reply, 404, message);
}
