// Shape of a message catalogue: French is the reference, English mirrors its keys.
export type Lang = 'fr' | 'en';
export const LANGS: readonly Lang[] = ['fr', 'en'];

export interface Catalogue {
  fr: Record<string, string>;
  en: Record<string, string>;
}
