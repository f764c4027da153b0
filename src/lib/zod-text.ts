// What a zod schema refused, said in French or English. zod's own messages are English sentences (« Invalid input:
// expected number, received NaN »); a schema's own refusal is a catalogue key (web/input.ts reasonKey).
import { isMessageKey, plural, t, type Lang } from '../web/i18n/index.js';

/** A zod 4 issue as zod gives it, or as fastify-type-provider-zod spreads it (`code` from its `keyword`). */
export interface ZodIssueLike {
  code: string;
  message: string;
  expected?: unknown;
  origin?: unknown;
  maximum?: unknown;
  minimum?: unknown;
  format?: unknown;
  values?: unknown;
  /** too_big / too_small: whether the bound itself is allowed (`.max(5)`), or not (`.lt(5)`, `.positive()`). */
  inclusive?: unknown;
}

/**
 * The reason of `issue` in `lang`: its message when it is a catalogue key, else built from its code (invalid_type,
 * too_big, too_small, invalid_format, invalid_value; any other is « valeur non reconnue »). A type zod expects that the
 * catalogue does not name (`error.zod.type.<expected>`: number, int, string…) is « valeur d’un autre type attendue ».
 */
export function zodIssueText(lang: Lang, issue: ZodIssueLike): string {
  if (isMessageKey(issue.message)) return t(lang, issue.message);
  const list = issue.origin === 'array' || issue.origin === 'set';
  switch (issue.code) {
    case 'invalid_type': {
      const key = `error.zod.type.${String(issue.expected)}`;
      return t(lang, isMessageKey(key) ? key : 'error.zod.type.other');
    }
    case 'too_big':
      if (issue.origin === 'string' || list) return plural(lang, list ? 'error.zod.tooBigList' : 'error.zod.tooBigText', Number(issue.maximum));
      return t(lang, issue.inclusive === false ? 'error.zod.below' : 'error.zod.tooBig', { max: String(issue.maximum) });
    case 'too_small':
      if (issue.origin === 'string' || list) return plural(lang, list ? 'error.zod.tooSmallList' : 'error.zod.tooSmallText', Number(issue.minimum));
      return t(lang, issue.inclusive === false ? 'error.zod.above' : 'error.zod.tooSmall', { min: String(issue.minimum) });
    case 'invalid_format':
      return t(lang, issue.format === 'uuid' ? 'error.zod.uuid' : issue.format === 'email' ? 'error.zod.email' : issue.format === 'url' ? 'error.zod.url' : 'error.zod.format');
    case 'invalid_value':
      return Array.isArray(issue.values) ? t(lang, 'error.zod.choice', { values: issue.values.map(String).join(', ') }) : t(lang, 'error.zod.invalid');
    default:
      return t(lang, 'error.zod.invalid');
  }
}
