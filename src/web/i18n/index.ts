// Message lookup: t(lang, key, params) over typed keys. Each area keeps its own catalogue file (French first,
// English typed against it, so a missing English entry fails to compile); register it below.
import { placeholdersThenStop, valueThenStop } from '../../lib/errors.js';
import { account } from './account.js';
import { classe } from './classe.js';
import { common } from './common.js';
import { consoleCatalogue } from './console.js';
import { distributionCatalogue } from './distribution.js';
import { errorsCatalogue } from './errors.js';
import { federationCatalogue } from './federation.js';
import { oidcCatalogue } from './oidc.js';
import { importErrorsCatalogue } from './import-errors.js';
import { handoutCatalogue } from './handout.js';
import { rulesCatalogue } from './rules.js';
import { tokensCatalogue } from './tokens.js';
import { downloadsCatalogue } from './downloads.js';
import type { Catalogue, Lang } from './types.js';
import { de } from '../../lib/french.js';

export type { Catalogue, Lang } from './types.js';
export { LANGS } from './types.js';

const catalogues = [
  common,
  account,
  classe,
  consoleCatalogue,
  errorsCatalogue,
  tokensCatalogue,
  rulesCatalogue,
  federationCatalogue,
  oidcCatalogue,
  importErrorsCatalogue,
  handoutCatalogue,
  distributionCatalogue,
  downloadsCatalogue,
] satisfies Catalogue[];

/** Every message key of every catalogue. */
export type MessageKey =
  | keyof typeof common.fr
  | keyof typeof account.fr
  | keyof typeof classe.fr
  | keyof typeof consoleCatalogue.fr
  | keyof typeof errorsCatalogue.fr
  | keyof typeof tokensCatalogue.fr
  | keyof typeof rulesCatalogue.fr
  | keyof typeof federationCatalogue.fr
  | keyof typeof oidcCatalogue.fr
  | keyof typeof importErrorsCatalogue.fr
  | keyof typeof handoutCatalogue.fr
  | keyof typeof distributionCatalogue.fr
  | keyof typeof downloadsCatalogue.fr;

const messages: Record<Lang, Map<string, string>> = { fr: new Map(), en: new Map() };
for (const c of catalogues) {
  for (const [k, v] of Object.entries(c.fr)) messages.fr.set(k, v);
  for (const [k, v] of Object.entries(c.en)) messages.en.set(k, v);
}

export type Params = Record<string, string | number>;

/**
 * Fills `{name}` placeholders; `{de:name}` writes « de » + the value with its article or elision
 * ("du Collège…", "de l’École…", "d’Arthur"), for French sentences. A value ending with a full stop (a school named
 * « …AIX_MARS. ») takes the place of the sentence's own: no « .. ».
 */
const CATALOGUE_PLACEHOLDER = placeholdersThenStop('(de:)?(\\w+)');

function fill(template: string, params?: Params): string {
  if (!params) return template;
  return template.replace(CATALOGUE_PLACEHOLDER, (m, de_: string | undefined, name: string, stop: string) =>
    name in params ? valueThenStop(de_ ? de(String(params[name])) : String(params[name]), stop) : m,
  );
}

/** The message for `key` in `lang` (French when missing). `{name}` placeholders are filled from params. */
export function t(lang: Lang, key: MessageKey, params?: Params): string {
  return fill(messages[lang].get(key) ?? messages.fr.get(key) ?? key, params);
}

/** Whether `key` names a message (for keys built from data, e.g. a profile read from the database). */
export function isMessageKey(key: string): key is MessageKey {
  return messages.fr.has(key);
}

/** Bound to one language: `const _ = translator(req.lang); _('account.login.title')`. */
export function translator(lang: Lang): (key: MessageKey, params?: Params) => string {
  return (key, params) => t(lang, key, params);
}

/** Bases `b` whose `b.one` and `b.other` messages exist: the keys `plural` accepts. */
type PluralBaseOf<K> = K extends `${infer B}.other` ? (`${B}.one` extends MessageKey ? B : never) : never;
export type PluralBase = PluralBaseOf<MessageKey>;

const PLURAL_RULES = { fr: new Intl.PluralRules('fr-FR'), en: new Intl.PluralRules('en-GB') };
const NUMBER = { fr: new Intl.NumberFormat('fr-FR'), en: new Intl.NumberFormat('en-GB') };

/** A count as the language writes it (fr-FR groups with a narrow no-break space, so numbers never wrap). */
export function formatNumber(lang: Lang, n: number): string {
  return NUMBER[lang].format(n);
}

/**
 * The plural category of `n` for the language's rules (Intl.PluralRules: French reads 0 and 1 as singular,
 * English only 1). Categories other than one/other (French "many" for millions) fall back to "other".
 */
export function pluralKey(lang: Lang, base: PluralBase, n: number): MessageKey {
  return (PLURAL_RULES[lang].select(n) === 'one' ? `${base}.one` : `${base}.other`) as MessageKey;
}

/** `<base>.one` / `<base>.other` by the language's plural rules, `{n}` filled with the formatted number. */
export function plural(lang: Lang, base: PluralBase, n: number, params: Params = {}): string {
  return t(lang, pluralKey(lang, base, n), { n: formatNumber(lang, n), ...params });
}

/** Keys present in French but missing in English (checked by the tests; the types already forbid it). */
export function missingEnglish(): string[] {
  return [...messages.fr.keys()].filter((k) => !messages.en.has(k));
}
