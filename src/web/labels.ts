// The one translation of a profile name (Student → « Élève »), for every page, table and filter.
import { PROFILES, type Profile } from '../directory/vocabulary.js';
import { t, type Lang } from './i18n/index.js';

export function isProfile(p: string): p is Profile {
  return (PROFILES as readonly string[]).includes(p);
}

/** The profile as users read it; an unknown value (never expected from the database) is shown as is. */
export function profileLabel(lang: Lang, profile: string): string {
  return isProfile(profile) ? t(lang, `profile.${profile}`) : profile;
}
