// Checks every importer's records the same way, once the batch is built and before anything is written (pure).
// Parsers reject what their own format gets wrong (columns, dates that do not exist); these are the rules that
// hold whatever the format: what is printed on a sheet and in a mail must be a person's name, an address must be
// one, a pupil is not born tomorrow.
import { foldName } from '../directory/fold.js';
import { checkEmail, normTitle } from './text.js';
import type { ImportCode, ImportMessage } from './messages.js';
import type { Profile } from '../directory/vocabulary.js';
import { rejection, type ImportBatch, type Source, type UserRecord } from './types.js';

/** Longest first or last name accepted (characters); a longer one is a broken or hostile file, not a person. */
export const NAME_MAX = 100;

/** The feed field an e-mail or a name comes from, to name it in the report. */
const FIELD: Partial<Record<Source, { email: string; lastName: string; firstName: string; birthDate: string }>> = {
  aaf: { email: 'mail', lastName: 'sn', firstName: 'givenName', birthDate: 'ENTPersonDateNaissance' },
  siecle: { email: 'MEL', lastName: 'NOM', firstName: 'PRENOM', birthDate: 'DATE_NAISS' },
  sts: { email: 'MEL', lastName: 'NOM_USAGE', firstName: 'PRENOM', birthDate: 'DATE_NAISSANCE' },
};
const DEFAULT_FIELD = { email: 'Courriel', lastName: 'Nom', firstName: 'Prénom', birthDate: 'Date de naissance' };

// Control and format characters (Unicode Cc, Cf): right-to-left overrides, zero-width spaces and joiners, soft
// hyphens. Invisible in a file, they flip or hide text on a printed sheet or in a mail.
const INVISIBLE = /[\p{Cc}\p{Cf}]/gu;

/**
 * Cleans and checks every record of `batch` in place. `today` is YYYY-MM-DD (the run's date).
 * - names lose their control/format characters;
 * - a name longer than NAME_MAX, or with nothing letter-like in it (`---`, emoji), or a birth date after `today`,
 *   rejects the record: it is dropped from the batch, listed in `batch.rejected` with file, line and field, and its
 *   account (if any) is protected from pre-deletion, as for any rejected row;
 * - an e-mail that is not an address is a rejected field: the person is imported without it (issue #7).
 * Returns the records rejected. Runs on the records parsed since the last spill (stage.ts), once each.
 */
export function checkPeople(batch: ImportBatch, today: string): UserRecord[] {
  const out: UserRecord[] = [];
  for (const [key, u] of batch.users) {
    const f = FIELD[u.source] ?? DEFAULT_FIELD;
    u.firstName = u.firstName.replace(INVISIBLE, '').trim();
    u.lastName = u.lastName.replace(INVISIBLE, '').trim();
    const refusal = refuse(u, f, today);
    if (refusal) {
      batch.rejected.push(rejection(u.file, u.line, refusal.field, refusal.code, refusal.params));
      batch.protect.push(u.externalId);
      batch.users.delete(key);
      out.push(u);
      continue;
    }
    const { email, invalid } = checkEmail(u.email);
    if (invalid === undefined) continue;
    u.email = email;
    // The report names this field on every run: the record is read each time (aaf-cache.ts).
    u.digest = undefined;
    batch.rejected.push(rejection(u.file, u.line, f.email, 'rowInvalidEmail', { value: invalid }));
  }
  return out;
}

function refuse(u: UserRecord, f: typeof DEFAULT_FIELD, today: string): { field: string; code: ImportCode; params: ImportMessage['params'] } | null {
  for (const [field, value] of [[f.lastName, u.lastName], [f.firstName, u.firstName]] as const) {
    if (value.length > NAME_MAX) return { field, code: 'rowNameTooLong', params: { length: value.length, max: NAME_MAX } };
  }
  if (!foldName(`${u.firstName} ${u.lastName}`)) {
    return { field: f.lastName, code: 'rowNoLetter', params: { name: `${u.firstName} ${u.lastName}` } };
  }
  if (u.birthDate && u.birthDate > today) {
    return { field: f.birthDate, code: 'rowFutureBirth', params: { date: u.birthDate.split('-').reverse().join('/') } };
  }
  return null;
}

/**
 * The kind of person an account is and stays: a pupil, a relative, an adult of the school (teachers, staff and
 * guests, who may change function). A key naming two kinds is two people, never one: an ENT CSV numbering its pupils
 * and its parents from 1 each, two feeds' identifiers colliding. Merging them, or turning a pupil's account into a
 * parent's, would hand one person's credentials to another.
 */
export const PERSON_KIND: Record<Profile, number> = { Student: 1, Relative: 2, Teacher: 3, Personnel: 3, Guest: 3 };

/** PERSON_KIND as SQL over a profile column. */
export function personKindSql(profile: string): string {
  return `CASE ${profile} ${Object.entries(PERSON_KIND).map(([p, k]) => `WHEN '${p}' THEN ${k}`).join(' ')} END`;
}

/**
 * The identifier a key shows to the person who wrote the file: a CSV's own `Id` (csv.ts csvIdKey), SIECLE's ELEVE_ID
 * or PERSONNE_ID (siecle.ts pupilKey, personKey), an STS-web INDIVIDU's `ID`, with its TYPE when not epp (sts.ts
 * stsKey: `sts:<UAI>:<ID>`, `sts:<UAI>:<TYPE>:<ID>`), else the key.
 */
export function shownId(key: string): string {
  const i = key.indexOf(':id:');
  if (i >= 0 && /^(csv|be1d):/.test(key)) return key.slice(i + 4);
  const siecle = /^siecle:[^:]+:(?:eleve|personne):(.+)$/.exec(key);
  if (siecle) return siecle[1];
  const sts = /^sts:[^:]+:(?:([^:]+):)?([^:]+)$/.exec(key);
  if (!sts) return key;
  return sts[1] ? `${sts[2]} (${sts[1]})` : sts[2];
}

/** A person as ImportBatch.protectNames holds them: kind of person (PERSON_KIND) and names folded as logins are. */
export function personName(profile: Profile, firstName: string, lastName: string): string {
  return `${PERSON_KIND[profile]}\t${foldName(`${firstName} ${lastName}`)}`;
}

/**
 * Two civilities given and different: two people (M. and Mme DUMONT Camille are a father and a mother, whatever
 * else they share). « Mlle » counts as « Mme »: the administration dropped « Mademoiselle » in 2012 (circulaire du
 * 21 février 2012), so one woman may carry both over the years; spellings agree (M., Monsieur; MME, Madame).
 */
export function titlesDiffer(a: string | null, b: string | null): boolean {
  const civility = (t: string) => {
    const x = normTitle(t.trim());
    return (x === 'Mlle' ? 'Mme' : x ?? '').toLowerCase().replace(/\.$/, '');
  };
  return !!a?.trim() && !!b?.trim() && civility(a) !== civility(b);
}

/** Two birth dates given and different (YYYY-MM-DD): two people (a mother and a grandmother of one name and home). */
export function datesDiffer(a: string | null, b: string | null): boolean {
  return !!a && !!b && a !== b;
}

/**
 * Whether two records under one key are two people: another kind of person (PERSON_KIND), other names once folded
 * as logins are (accents, case, dashes and spaces agree: the same person spelt twice is one), or two civilities or
 * two birth dates given and different (the same names: a father and a mother, Camille DUPONT). A hand-made CSV with
 * an identifier pasted on two pupils' rows, or parents numbered like the pupils, would otherwise make one account of two.
 */
export function twoPeople(a: UserRecord, b: UserRecord): boolean {
  return (
    personName(a.profile, a.firstName, a.lastName) !== personName(b.profile, b.firstName, b.lastName) ||
    titlesDiffer(a.title, b.title) ||
    datesDiffer(a.birthDate, b.birthDate)
  );
}

/**
 * Records of a run staged under one key (`records`, reading order, one key) that are two people or more (twoPeople):
 * all are rejected (in `field`: the file's name for the identifier), each naming another person of that key with file and line, and their accounts (under the key, a
 * former key, or their names: protectNames) are protected from pre-deletion. Returns false (nothing done) when they are all one person.
 */
export function refuseSharedKey(batch: ImportBatch, records: UserRecord[], field = 'identifiant'): boolean {
  // Another person for each record: none for any (personName is an equality) when they are all one person.
  const others = records.map((u) => records.find((x) => twoPeople(x, u)));
  if (!others[0]) return false;
  records.forEach((u, i) => {
    const other = others[i]!;
    const params = { id: shownId(u.externalId), name: `${other.firstName} ${other.lastName}`, file: other.file, line: other.line };
    batch.rejected.push(rejection(u.file, u.line, field, 'rowSharedId', params));
  });
  // Their accounts stay, under the key or under the names a file used before it had identifiers (formerIds).
  for (const u of records) {
    batch.protect.push(u.externalId, ...(u.formerIds ?? []));
    batch.protectNames.push({ name: personName(u.profile, u.firstName, u.lastName), structures: [...u.structures] });
  }
  return true;
}
