// Message lookup: t(lang, key, params). Each area keeps its own catalogue file; register it below.
import { account } from './account.js';
import { classe } from './classe.js';
import { common } from './common.js';
import { consoleCatalogue } from './console.js';
import { rulesCatalogue } from './rules.js';
import { tokensCatalogue } from './tokens.js';
import type { Catalogue, Lang } from './types.js';

export type { Catalogue, Lang } from './types.js';
export { LANGS } from './types.js';

// Add `import { <area> } from './<area>.js';` and list it here.
const catalogues: Catalogue[] = [common, account, classe, consoleCatalogue, tokensCatalogue, rulesCatalogue];

const messages: Record<Lang, Map<string, string>> = { fr: new Map(), en: new Map() };
for (const c of catalogues) {
  for (const [k, v] of Object.entries(c.fr)) messages.fr.set(k, v);
  for (const [k, v] of Object.entries(c.en)) messages.en.set(k, v);
}

export type Params = Record<string, string | number>;

/** The message for `key` in `lang`, French when missing, the key itself as a last resort. `{name}` placeholders are filled from params. */
export function t(lang: Lang, key: string, params?: Params): string {
  const template = messages[lang].get(key) ?? messages.fr.get(key) ?? key;
  if (!params) return template;
  return template.replace(/\{(\w+)\}/g, (m, name: string) => (name in params ? String(params[name]) : m));
}

/** Bound to one language: `const _ = translator(req.lang); _('account.login.title')`. */
export function translator(lang: Lang): (key: string, params?: Params) => string {
  return (key, params) => t(lang, key, params);
}

/** Keys present in French but missing in English (checked by the tests). */
export function missingEnglish(): string[] {
  return [...messages.fr.keys()].filter((k) => !messages.en.has(k));
}
