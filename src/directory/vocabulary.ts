// The directory's fixed vocabularies, as the SQL migrations constrain them (users.profile, users.origin,
// letter_templates.kind). The migrations are the source of truth; these types name their values in TypeScript.

/** Profiles of the ENT (users.profile), in the reference ENT's terms. */
export const PROFILES = ['Student', 'Relative', 'Teacher', 'Personnel', 'Guest'] as const;
export type Profile = (typeof PROFILES)[number];

/** One person of each profile, as sheets, exports and reports name them, in French and English. */
export const PROFILE_LABELS: Record<Profile, { fr: string; en: string }> = {
  Student: { fr: 'Élève', en: 'Student' },
  Relative: { fr: 'Parent', en: 'Parent' },
  Teacher: { fr: 'Enseignant', en: 'Teacher' },
  Personnel: { fr: 'Personnel', en: 'Staff' },
  Guest: { fr: 'Invité', en: 'Guest' },
};

/** Where an account comes from (users.origin): an academic or school feed, or typed/imported by hand. */
export type Origin = 'feed' | 'manual';

/** Letter templates per profile (letter_templates.kind): sheets and mails, for inactive and active accounts. */
export type TemplateKind = 'sheet_inactive' | 'sheet_active' | 'mail_inactive' | 'mail_active';
