// Schema pieces shared by the areas' routes, and the download header. Multipart uploads stream to disk
// through src/import/uploads.ts.
import { z } from 'zod';
import type { MessageKey } from './i18n/index.js';

/** content-disposition for a download: ASCII fallback plus the UTF-8 name (RFC 6266). */
export function attachment(filename: string, inline = false): string {
  const ascii = filename
    .normalize('NFD')
    .replace(/[\u0300-\u036f]/g, '')
    .replace(/[^A-Za-z0-9._-]+/g, '-');
  return `${inline ? 'inline' : 'attachment'}; filename="${ascii}"; filename*=UTF-8''${encodeURIComponent(filename)}`;
}

/** A form or query field that may be absent: '' then, at most `max` characters kept. */
export const text = (max = 20_000) =>
  z.preprocess(
    (v) => (Array.isArray(v) ? v[0] : v),
    z
      .string()
      .optional()
      .transform((s) => (s ?? '').slice(0, max)),
  );

/** Every value of a repeated field (checkboxes arrive as a string or an array). */
export const list = (max = 20_000) =>
  z.preprocess(
    (v) => (v === undefined ? [] : Array.isArray(v) ? v : [v]),
    z.array(z.unknown()).transform((xs) => xs.filter((s): s is string => typeof s === 'string').map((s) => s.slice(0, max))),
  );

/** The id in a URL: any string (a malformed one is a 404 in the lookup, never a 400 that says it was checked). */
export const IdParams = z.object({ id: z.string().max(100) });

/**
 * A schema's refusal as a catalogue key (`.regex(re, reasonKey('…'))`): the error handler (errors.ts describeError)
 * says it in the request's language after the field's name, instead of the validator's English default.
 */
export const reasonKey = (key: MessageKey): string => key;
