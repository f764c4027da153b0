// French grammar for names inserted in sentences: "de" before a school or a person's name.

/** Leading common nouns of school names (AAF/ONDE/SIECLE use them as the name's first word) and their gender. */
const NOUNS: Array<[RegExp, 'm' | 'f']> = [
  [/^(collège|lycée|groupe scolaire|établissement|ensemble scolaire|erea|lp|lpo|lgt|clg|centre|internat|pôle)\b/iu, 'm'],
  [/^(école|cité scolaire|institution|maison|section|unité|annexe)\b/iu, 'f'],
];

/**
 * Names that elide "de": a vowel (accented, Œ, Æ), an h (taken as mute, see `de`), or a Y sounding as a vowel,
 * that is before a consonant ("d’Yves", "d’Ylona"). A Y before a vowel is a consonant: "de Youssef", "de Yann".
 */
const VOWEL = /^(?:[aeiouàâäéèêëîïôöùûüœæh]|y(?![aeiouyàâäéèêëîïôöùûüœæ]))/iu;

/**
 * « de » + name with the right article or elision: "du Collège Denis Poisson", "de l'École Jules Ferry",
 * "de la Cité scolaire Gambetta", "de l'EREA…", "d'Arthur", "de Jean Moulin". A name starting with a school
 * noun takes its article (the noun keeps its capital); any other name (a person, a town) only elides.
 * The apostrophe is the typographic one (’) as in the catalogues.
 */
export function de(name: string): string {
  const n = name.trim();
  for (const [re, gender] of NOUNS) {
    if (re.test(n)) {
      if (VOWEL.test(n)) return `de l’${n}`;
      return gender === 'm' ? `du ${n}` : `de la ${n}`;
    }
  }
  // "h" elides only when mute; names rarely start with an aspirated h, and "de Hugo" reads wrong to most.
  return VOWEL.test(n) ? `d’${n}` : `de ${n}`;
}

const FRENCH_PLURALS = new Intl.PluralRules('fr-FR');
const FRENCH_NUMBERS = new Intl.NumberFormat('fr-FR', { maximumFractionDigits: 1 });

/** A number as French writes it: "2 224" (narrow no-break space between thousands), "7,6". */
export function frenchNumber(n: number): string {
  return FRENCH_NUMBERS.format(n);
}

/**
 * `n` and the French noun phrase that agrees with it: `countFr(1, 'compte choisi', 'comptes choisis')` →
 * "1 compte choisi"; French reads 0 and 1 as singular (Intl.PluralRules). For the command line and the
 * domain's French labels; the web uses its catalogues (`plural()` in src/web/i18n).
 */
export function countFr(n: number, one: string, other: string): string {
  return `${frenchNumber(n)} ${FRENCH_PLURALS.select(n) === 'one' ? one : other}`;
}
