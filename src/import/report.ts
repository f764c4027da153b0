// Text rendering of an import report, French first.
import { PROFILE_LABELS, type Profile } from '../directory/vocabulary.js';
import { importText, WHOSE, type ImportMessage } from './messages.js';
import { absentShare, type FieldChange, type MassAbsence } from './plan.js';
import { type AbsenceScope, type AdminChange, type Source, type CountsByProfile, type EmptiedStructure, ignoredRecords, isLinkUnmade, isNote, mergeMessage, type FileReport, type ProfileCounts, type ImportReport, type LinkChange, type LinkField, type MergeNote, type ModifiedNote, type Rejection, type StructureReport, type UnattachedAccounts, uaiAfter } from './types.js';
import { countFr, de, frenchNumber } from '../lib/french.js';
import { valueThenStop } from '../lib/errors.js';
import { printable } from '../lib/printable.js';

type Lang = 'fr' | 'en';

const EN_NUMBERS = new Intl.NumberFormat('en-GB', { maximumFractionDigits: 1 });
const fr = frenchNumber;
const en = (n: number) => EN_NUMBERS.format(n);

/** A count of accounts by outcome, as a file's line and a school's line both say it. */
const OUTCOMES_FR = {
  created: (n: number) => countFr(n, 'créé', 'créés'),
  updated: (n: number) => countFr(n, 'modifié', 'modifiés'),
  unchanged: (n: number) => countFr(n, 'inchangé', 'inchangés'),
  restored: (n: number) => countFr(n, 'restauré', 'restaurés'),
};
const OUTCOMES_EN = {
  created: (n: number) => `${en(n)} created`,
  updated: (n: number) => `${en(n)} updated`,
  unchanged: (n: number) => `${en(n)} unchanged`,
  restored: (n: number) => `${en(n)} restored`,
};

const T = {
  fr: {
    num: fr,
    example: 'par exemple',
    /** Before a list: French typography spaces the colon, English does not. */
    colon: ' :',
    exampleAfterStop: 'Par exemple',
    fatal: 'Import refusé : aucune modification enregistrée.',
    done: 'Import terminé.',
    dry: 'Simulation (--dry-run) : aucune modification enregistrée.',
    files: 'Fichiers',
    rows: (n: number) => countFr(n, 'ligne', 'lignes'),
    /** What became of a file's rows (they add up: types.ts FileReport), then apart what is no row of it. */
    fileParts: (f: FileReport) =>
      fileParts(f, {
        ...OUTCOMES_FR,
        ignored: (n) => countFr(n, 'ignoré', 'ignorés'),
        rejected: (n) => countFr(n, 'rejeté', 'rejetés'),
        merged: (n) => countFr(n, 'ligne regroupée avec une autre (même personne)', 'lignes regroupées avec une autre (même personne)'),
        deletions: (n) => countFr(n, 'demande de suppression', 'demandes de suppression'),
        notes: (n) => countFr(n, 'remarque', 'remarques'),
        preDeleted: (n) => `${countFr(n, 'absent', 'absents')} du flux (période de grâce)`,
      }, ' ; '),
    /** A structures file's structures: « 10 établissements (2 nouveaux, 8 existants) ». */
    fileStructures: (s: NonNullable<FileReport['structures']>) =>
      `${countFr(s.created + s.existing, 'établissement', 'établissements')} (${[s.created ? countFr(s.created, 'nouveau', 'nouveaux') : '', s.existing ? countFr(s.existing, 'existant', 'existants') : ''].filter(Boolean).join(', ')})`,
    mefs: (n: number) => countFr(n, 'formation', 'formations'),
    ignoredFile: 'ignoré',
    members: (n: number) => countFr(n, 'fichier', 'fichiers'),
    // One record may be ignored for several reasons, a line each: the count is of records, and says so.
    ignored: (n: number) => `Ignorés, en tout ou en partie (${countFr(n, 'enregistrement', 'enregistrements')})`,
    structures: 'Établissements (un compte de plusieurs établissements compte dans chacun)',
    created: 'nouveau',
    known: 'existant',
    structureRenamed: (former: string) => `renommé (anciennement « ${former} »)`,
    uaiAdded: 'existant, UAI pris des fichiers',
    withoutStructure: 'Sans établissement',
    /** One structure's accounts by outcome, each split by profile: « 3 créés (2 élèves, 1 parent), 40 inchangés (40 élèves) ». */
    structureAccounts: (c: CountsByProfile) =>
      accountsByOutcome(c, {
        ...OUTCOMES_FR,
        preDeleted: (n) => `${countFr(n, 'absent', 'absents')} du flux`,
      }, 'fr') || 'aucun compte',
    /** StructureReport.left: « 212 sortis de l’établissement, toujours dans le flux (212 élèves) ». */
    structureLeft: (n: number, split: string) => `${countFr(n, 'sorti', 'sortis')} de l’établissement, toujours dans le flux (${split})`,
    accounts: 'Comptes',
    summary: (r: ImportReport) =>
      `${countFr(r.created, 'créé', 'créés')}, ${countFr(r.updated, 'modifié', 'modifiés')}, ${countFr(r.unchanged, 'inchangé', 'inchangés')}, ${countFr(r.preDeleted, 'absent', 'absents')} du flux (période de grâce), ${countFr(r.restored, 'restauré', 'restaurés')}`,
    relations: (r: ImportReport) =>
      `Liens parent-enfant : ${countFr(r.relations.created, 'ajouté', 'ajoutés')}, ${countFr(r.relations.removed, 'retiré', 'retirés')}${r.relations.unresolved ? `, ${countFr(r.relations.unresolved, 'non résolu', 'non résolus')}` : ''}`,
    keptNamed: (n: number) =>
      n > 1
        ? `Attention : ${fr(n)} comptes que des élèves de l’import désignent comme représentants légaux sont absents de ses fichiers : conservés, non pré-supprimés. La livraison semble incomplète (fichier PersRelEleve manquant ?).`
        : `Attention : ${n} compte que des élèves de l’import désignent comme représentant légal est absent de ses fichiers : conservé, non pré-supprimé. La livraison semble incomplète (fichier PersRelEleve manquant ?).`,
    inCharge: (n: number) =>
      n > 1
        ? `${fr(n)} personnes en charge d’élèves (ENTElevePersRelEleve, 4ᵉ champ 2) sans compte : pas représentants légaux dans un flux qui ne les confirme pas par ENTEleveAutoriteParentale (voir « Ignorés »).`
        : `1 personne en charge d’élève (ENTElevePersRelEleve, 4ᵉ champ 2) sans compte : pas représentant légal dans un flux qui ne le confirme pas par ENTEleveAutoriteParentale (voir « Ignorés »).`,
    emptied: (e: EmptiedStructure, dry: boolean) =>
      `Attention : ${e.name}${uaiAfter(e.name, e.uai)} ${dry ? 'perdrait' : 'perd'} ${fr(e.absent)} de ses ${fr(e.of)} comptes (${absentShare(e)} %), absents du flux. Un établissement manquant dans la livraison, ou qui quitte l’ENT ? Vérifiez avant la fin de la période de grâce.`,
    /**
     * ImportReport.withoutAdmin: the schools, what of their files could have named one (`by`, WITHOUT_ADMIN_BY; none
     * known: an older report), then how to name one: `structure` is what --structure takes for them, `note` says it.
     */
    withoutAdmin: (names: string, n: number, dry: boolean, by: string[] | null, structure: string, note: string) =>
      `Attention : ${n > 1 ? `${fr(n)} établissements de l’import ${dry ? 'seraient' : 'sont'}` : `1 établissement de l’import ${dry ? 'serait' : 'est'}`} sans administrateur local : ${names}. ${
        by === null
          ? 'Aucun administrateur n’est désigné, ni par les fichiers de l’import, ni par une nomination.'
          : by.length
            ? `Aucun administrateur n’est désigné, ni par ${by.join(', ni par ')}, ni par une nomination.`
            : 'Aucun administrateur n’est désigné : les exports SIECLE ne nomment aucun personnel, et aucune nomination.'
      } Nommez-en un depuis la fiche d’un compte de l’établissement (console, « Administration locale ») ou par « npx trousseau admin --local <identifiant> --structure ${structure} »${note}.`,
    /** What --structure takes for a school of no UAI: its id, as its console address shows it. */
    structureNote: (one: boolean): string =>
      one
        ? ' (sans UAI, --structure prend l’identifiant de l’établissement, celui de l’adresse de sa page dans la console)'
        : ' (--structure prend l’UAI de l’établissement ou, sans UAI, son identifiant, celui de l’adresse de sa page dans la console)',
    structureArg: '<UAI ou identifiant>',
    newClasses: (n: number) => `Classes créées (${fr(n)})`,
    admins: (change: AdminChange['change'], n: number) =>
      change === 'appointed' ? `Administrateurs locaux nommés par l’import (${fr(n)})` : `Administrateurs locaux retirés par l’import (${fr(n)})`,
    unattached: (u: UnattachedAccounts, dry: boolean, profiles: Record<Profile, string>) =>
      `Attention : ${u.count > 1 ? `${fr(u.count)} comptes de l’import ${dry ? 'ne seraient' : 'ne sont'} rattachés` : `1 compte de l’import ${dry ? 'ne serait' : 'n’est'} rattaché`} à aucun établissement (${byProfile(u, profiles, fr, ' : ')}) : aucun établissement ne ${u.count > 1 ? 'les' : 'le'} compte, aucun publipostage d’établissement ne ${u.count > 1 ? 'les' : 'le'} choisit. ${u.count > 1 ? 'Leurs fiches ne les rattachent' : 'Sa fiche ne le rattache'} à aucun établissement connu du fichier ou de l’annuaire. Le super administrateur ${u.count > 1 ? 'les' : 'le'} retrouve dans la console, « Comptes sans établissement ».`,
    absent: (n: number) => `Absents du flux, en période de grâce (${fr(n)})`,
    modified: (n: number) => `Fiches modifiées (${fr(n)})`,
    empty: '(vide)',
    fields: {
      profile: 'profil', title: 'civilité', first_name: 'prénom', last_name: 'nom', birth_date: 'date de naissance', email: 'courriel',
      phone: 'téléphone', ine: 'INE', functions: 'fonctions', mobile: 'mobile', address: 'adresse', origin: 'origine', source: 'source',
      external_id: 'identifiant',
    } as Record<FieldChange['field'], string>,
    /** A kind of link, one or several names: « classe » / « classes ». */
    links: {
      structures: ['établissement', 'établissements'], classes: ['classe', 'classes'], groups: ['groupe', 'groupes'],
      children: ['enfant', 'enfants'], parents: ['représentant légal', 'représentants légaux'],
    } as Record<LinkField, [string, string]>,
    /** « ajoutée », « retirés »: agreeing with the kind (classe is feminine) and the number. */
    linkOp: (field: LinkField, op: '+' | '-', n: number) => `${op === '+' ? 'ajouté' : 'retiré'}${field === 'classes' ? 'e' : ''}${n > 1 ? 's' : ''}`,
    massAbsence: (m: MassAbsence, dry: boolean, confirmed: boolean) =>
      dry && confirmed
        ? `Départs confirmés (--confirmer-absences) : ${fr(m.absent)} comptes ${WHOSE.fr[m.profile]} sur ${fr(m.of)} (${absentShare(m)} %) entreront en période de grâce.`
        : dry
        ? `Attention : cet import complet ferait sortir ${fr(m.absent)} comptes ${WHOSE.fr[m.profile]} sur ${fr(m.of)} (${absentShare(m)} %), absents de ses fichiers. Un fichier manque-t-il à la livraison ? L’import réel sera refusé sans --confirmer-absences ; si les fichiers ne sont qu’une partie de l’annuaire, importez-les avec --partiel.`
        : `Départs confirmés : ${fr(m.absent)} comptes ${WHOSE.fr[m.profile]} sur ${fr(m.of)} (${absentShare(m)} %) entrent en période de grâce.`,
    unchecked: (kinds: string[]) =>
      kinds.includes('EtabEducNat')
        ? 'Livraison AAF sans fichier EtabEducNat : elle n’est pas traitée comme complète, l’absence des comptes n’est pas recherchée (aucun n’entre en période de grâce). Pour que les départs soient pris en compte, importez la livraison entière.'
        : `Livraison AAF complète sans fichier ${kinds.join(', ')} : l’absence de ces comptes n’est pas recherchée (aucun n’entre en période de grâce).`,
    rejected: (n: number) => `Lignes rejetées (${fr(n)})`,
    notes: (n: number) => `Remarques sur des lignes importées quand même, à vérifier (${fr(n)})`,
    noChildFound: (n: number) =>
      `Attention : aucun enfant trouvé pour ces parents (${countFr(n, 'enfant nommé', 'enfants nommés')}, aucun parmi les élèves de l’établissement). Importez aussi le fichier des élèves (CSVExtraction-eleves.csv d’ONDE, CSV_Eleves de l’ENT), avec celui des parents ou avant lui : les liens parent-enfant se font à l’import des parents.`,
    renamed: (n: number) => `Changements de nom probables (${fr(n)})`,
    renameApplied: 'compte mis à jour',
    renameKept: 'ambigu : nouveau compte créé, compte activé conservé (à vérifier dans « Gérer les doublons »)',
    merged: (n: number) => `Lignes regroupées, un seul compte par représentant légal (${fr(n)})`,
    line: 'ligne',
    duration: (ms: number) => `Durée : ${fr(Math.round(ms / 100) / 10)} s`,
    profiles: { Student: 'Élèves', Teacher: 'Enseignants', Personnel: 'Personnels', Relative: 'Parents', Guest: 'Invités' } as Record<Profile, string>,
  },
  en: {
    num: en,
    example: 'for instance',
    colon: ':',
    exampleAfterStop: 'For instance',
    fatal: 'Import refused: nothing was changed.',
    done: 'Import finished.',
    dry: 'Dry run: nothing was changed.',
    files: 'Files',
    rows: (n: number) => `${en(n)} row${n === 1 ? '' : 's'}`,
    fileParts: (f: FileReport) =>
      fileParts(f, {
        ...OUTCOMES_EN,
        ignored: (n) => `${en(n)} ignored`,
        rejected: (n) => `${en(n)} rejected`,
        merged: (n) => `${en(n)} row${n === 1 ? '' : 's'} merged with another (same person)`,
        deletions: (n) => `${en(n)} deletion request${n === 1 ? '' : 's'}`,
        notes: (n) => `${en(n)} note${n === 1 ? '' : 's'}`,
        preDeleted: (n) => `${en(n)} absent from the feed (grace period)`,
      }, '; '),
    fileStructures: (s: NonNullable<FileReport['structures']>) =>
      `${en(s.created + s.existing)} school${s.created + s.existing === 1 ? '' : 's'} (${[s.created ? `${en(s.created)} new` : '', s.existing ? `${en(s.existing)} existing` : ''].filter(Boolean).join(', ')})`,
    mefs: (n: number) => `${en(n)} course${n === 1 ? '' : 's'}`,
    ignoredFile: 'ignored',
    members: (n: number) => `${en(n)} file${n === 1 ? '' : 's'}`,
    ignored: (n: number) => `Ignored, wholly or in part (${en(n)} record${n === 1 ? '' : 's'})`,
    structures: 'Schools (an account of several schools counts in each)',
    created: 'new',
    known: 'existing',
    structureRenamed: (former: string) => `renamed (formerly “${former}”)`,
    uaiAdded: 'existing, UAI taken from the files',
    withoutStructure: 'Without a school',
    structureAccounts: (c: CountsByProfile) =>
      accountsByOutcome(c, {
        ...OUTCOMES_EN,
        preDeleted: (n) => `${en(n)} absent from the feed`,
      }, 'en') || 'no account',
    structureLeft: (n: number, split: string) => `${en(n)} left the school, still in the feed (${split})`,
    accounts: 'Accounts',
    summary: (r: ImportReport) =>
      `${en(r.created)} created, ${en(r.updated)} updated, ${en(r.unchanged)} unchanged, ${en(r.preDeleted)} absent from the feed (grace period), ${en(r.restored)} restored`,
    relations: (r: ImportReport) =>
      `Parent-child links: ${en(r.relations.created)} added, ${en(r.relations.removed)} removed${r.relations.unresolved ? `, ${en(r.relations.unresolved)} unresolved` : ''}`,
    keptNamed: (n: number) =>
      `Warning: ${en(n)} account${n === 1 ? '' : 's'} that pupils of the import name as legal representative${n === 1 ? ' is' : 's are'} missing from its files: kept, not pre-deleted. The delivery looks incomplete (a PersRelEleve file left out?).`,
    inCharge: (n: number) =>
      `${en(n)} ${n === 1 ? 'person' : 'people'} in charge of pupils (ENTElevePersRelEleve, 4th field 2) without an account: not legal representatives in a feed that does not confirm them in ENTEleveAutoriteParentale (see “Ignored”).`,
    emptied: (e: EmptiedStructure, dry: boolean) =>
      `Warning: ${e.name}${uaiAfter(e.name, e.uai)} ${dry ? 'would lose' : 'loses'} ${en(e.absent)} of its ${en(e.of)} accounts (${absentShare(e)}%), absent from the feed. A school missing from the delivery, or leaving the ENT? Check before their grace period ends.`,
    withoutAdmin: (names: string, n: number, dry: boolean, by: string[] | null, structure: string, note: string) =>
      `Warning: ${en(n)} school${n === 1 ? '' : 's'} of the import ${dry ? 'would have' : n === 1 ? 'has' : 'have'} no local administrator: ${names}. ${
        by === null
          ? 'No administrator is named by the files of the import, nor by an appointment.'
          : by.length
            ? `No administrator is named by ${by.join(', nor by ')}, nor by an appointment.`
            : 'No administrator is named: SIECLE exports name no staff, and no appointment.'
      } Appoint one from the page of an account of the school (console, “Local administration”) or with “npx trousseau admin --local <login> --structure ${structure}”${note}.`,
    structureNote: (one: boolean): string =>
      one
        ? ' (without a UAI, --structure takes the school’s id, the one in the address of its console page)'
        : ' (--structure takes the school’s UAI or, without one, its id, the one in the address of its console page)',
    structureArg: '<UAI or id>',
    newClasses: (n: number) => `Classes created (${en(n)})`,
    admins: (change: AdminChange['change'], n: number) =>
      change === 'appointed' ? `Local administrators appointed by the import (${en(n)})` : `Local administrators removed by the import (${en(n)})`,
    unattached: (u: UnattachedAccounts, dry: boolean, profiles: Record<Profile, string>) =>
      `Warning: ${en(u.count)} account${u.count === 1 ? '' : 's'} of the import ${dry ? 'would belong' : u.count === 1 ? 'belongs' : 'belong'} to no school (${byProfile(u, profiles, en, ': ')}): counted in no school, chosen by no school’s publipostage. ${u.count === 1 ? 'Its record attaches it' : 'Their records attach them'} to no school known to the file or the directory. The super admin finds ${u.count === 1 ? 'it' : 'them'} in the console, “Accounts without a school”.`,
    absent: (n: number) => `Absent from the feed, in their grace period (${en(n)})`,
    modified: (n: number) => `Records changed (${en(n)})`,
    empty: '(empty)',
    fields: {
      profile: 'profile', title: 'title', first_name: 'first name', last_name: 'last name', birth_date: 'birth date', email: 'e-mail',
      phone: 'phone', ine: 'INE', functions: 'functions', mobile: 'mobile', address: 'address', origin: 'origin', source: 'source',
      external_id: 'identifier',
    } as Record<FieldChange['field'], string>,
    links: {
      structures: ['school', 'schools'], classes: ['class', 'classes'], groups: ['group', 'groups'],
      children: ['child', 'children'], parents: ['legal representative', 'legal representatives'],
    } as Record<LinkField, [string, string]>,
    linkOp: (_field: LinkField, op: '+' | '-') => (op === '+' ? 'added' : 'removed'),
    massAbsence: (m: MassAbsence, dry: boolean, confirmed: boolean) =>
      dry && confirmed
        ? `Confirmed departures (--confirmer-absences): ${en(m.absent)} of ${en(m.of)} ${WHOSE.en[m.profile]} accounts will enter their grace period (${absentShare(m)}%).`
        : dry
        ? `Warning: this complete import would send ${en(m.absent)} of ${en(m.of)} ${WHOSE.en[m.profile]} accounts away (${absentShare(m)}%), absent from its files. Is a file missing from the delivery? The real import will be refused without --confirmer-absences; if the files are only part of the directory, import them with --partiel.`
        : `Confirmed departures: ${en(m.absent)} of ${en(m.of)} ${WHOSE.en[m.profile]} accounts enter their grace period (${absentShare(m)}%).`,
    unchecked: (kinds: string[]) =>
      kinds.includes('EtabEducNat')
        ? 'AAF delivery without its EtabEducNat file: it is not taken as complete, no account’s absence is looked for (none enters the grace period). For departures to be handled, import the whole delivery.'
        : `Complete AAF delivery without a ${kinds.join(', ')} file: these accounts' absence is not looked for (none enters the grace period).`,
    rejected: (n: number) => `Rejected rows (${en(n)})`,
    notes: (n: number) => `Notes on rows imported all the same, to check (${en(n)})`,
    noChildFound: (n: number) =>
      `Warning: no child found for these parents (${en(n)} ${n === 1 ? 'child' : 'children'} named, none among the school’s pupils). Import the pupils’ file too (ONDE’s CSVExtraction-eleves.csv, the ENT’s CSV_Eleves), with the parents’ file or before it: parent-child links are made when the parents are imported.`,
    renamed: (n: number) => `Likely renames (${en(n)})`,
    renameApplied: 'account updated',
    renameKept: 'ambiguous: new account created, activated account kept (check "Duplicates")',
    merged: (n: number) => `Rows merged, one account per legal representative (${en(n)})`,
    line: 'line',
    duration: (ms: number) => `Duration: ${en(Math.round(ms / 100) / 10)} s`,
    profiles: { Student: 'Students', Teacher: 'Teachers', Personnel: 'Staff', Relative: 'Relatives', Guest: 'Guests' } as Record<Profile, string>,
  },
};

/** A profile's accounts counted: one, several (« 1 élève », « 60 élèves »). */
const PROFILE_NOUNS: Record<Lang, Record<Profile, [string, string]>> = {
  fr: { Student: ['élève', 'élèves'], Relative: ['parent', 'parents'], Teacher: ['enseignant', 'enseignants'], Personnel: ['personnel', 'personnels'], Guest: ['invité', 'invités'] },
  en: { Student: ['student', 'students'], Relative: ['parent', 'parents'], Teacher: ['teacher', 'teachers'], Personnel: ['staff', 'staff'], Guest: ['guest', 'guests'] },
};

/** The outcomes in the order the report gives them (a structure's line, the console's columns). */
export const OUTCOMES = ['created', 'updated', 'unchanged', 'restored', 'preDeleted'] as const satisfies readonly (keyof ProfileCounts)[];

/** Accounts of every profile by outcome: `c` summed over its profiles (a structure's, the run's). */
export function outcomeTotals(c: CountsByProfile): ProfileCounts {
  const t: ProfileCounts = { created: 0, updated: 0, unchanged: 0, preDeleted: 0, restored: 0 };
  for (const x of Object.values(c)) for (const k of OUTCOMES) t[k] += x?.[k] ?? 0;
  return t;
}

/**
 * The outcomes of `c` that hold accounts, each with its profiles in the directory's order: « 3 créés (2 élèves,
 * 1 parent), 40 inchangés (40 élèves) ». Empty when no account.
 */
function accountsByOutcome(c: CountsByProfile, outcome: Record<(typeof OUTCOMES)[number], (n: number) => string>, lang: Lang): string {
  const totals = outcomeTotals(c);
  return OUTCOMES.filter((k) => totals[k])
    .map((k) => `${outcome[k](totals[k])} (${profileSplit(c, k, lang)})`)
    .join(', ');
}

/**
 * A file's rows by what became of them, the parts that hold any (they add up to its rows: types.ts FileReport), then
 * after « ; » the remarks on rows imported all the same and the accounts absent from it. Empty for a file of no rows.
 */
function fileParts(
  f: FileReport,
  word: Record<'created' | 'updated' | 'unchanged' | 'restored' | 'ignored' | 'rejected' | 'merged' | 'deletions' | 'notes' | 'preDeleted', (n: number) => string>,
  semicolon: string,
): string {
  const rows = (['created', 'updated', 'unchanged', 'restored', 'ignored', 'rejected', 'merged', 'deletions'] as const).filter((k) => f[k]).map((k) => word[k](f[k]!));
  const apart = (['notes', 'preDeleted'] as const).filter((k) => f[k]).map((k) => word[k](f[k]!));
  return [rows.join(', '), apart.join(', ')].filter(Boolean).join(semicolon);
}

/** « Personnels : 96, Enseignants : 3 » — the counts of `u` by profile, in the directory's order. */
function byProfile(u: UnattachedAccounts, profiles: Record<Profile, string>, num: (n: number) => string, colon: string): string {
  return (Object.entries(u.byProfile) as [Profile, number][]).map(([p, n]) => `${profiles[p]}${colon}${num(n)}`).join(', ');
}

/**
 * Where a row was refused and why, as a sentence reads: `fichier.csv, ligne 12, Date de naissance : date invalide`,
 * `file.csv, line 12, Date de naissance: …` (no line for a whole file: `fichier.pdf : format non reconnu`). For people;
 * the JSON report keeps `file`, `line` and `field` apart.
 */
export function rejectionLine(r: Pick<Rejection, 'file' | 'line' | 'field'>, reason: string, lang: Lang = 'fr'): string {
  // The reason quotes values of the file (an AAF attribute keeps its line breaks and carriage returns), and a file or
  // field name may come from it: their control characters shown as « � » (printable), or a report read in a terminal,
  // a mail or a log would show lines of files never read, or a carriage return would overwrite the real one.
  const where = [r.file, r.line ? `${lang === 'en' ? 'line' : 'ligne'} ${r.line}` : '', r.field].filter(Boolean).map(printable).join(', ');
  return `${where}${lang === 'en' ? ':' : ' :'} ${printable(reason)}`;
}

/** A rejection with its French `reason` (the reasons stay French in the English report too). */
export function formatRejection(r: Rejection, lang: Lang = 'fr'): string {
  return rejectionLine(r, r.reason, lang);
}

/**
 * `CSVExtraction-responsables.csv — lignes 20 et 21 : même représentant légal (LEROY Sandrine), un seul compte`:
 * French in both languages, as the rejected rows are (the web translates the code, import-text.ts).
 */
export function formatMerge(m: MergeNote): string {
  const message = mergeMessage(m);
  return `${m.file} — ${importText(message.code, message.params)}`;
}

/**
 * One line per file, its rows adding up: `Eleves.xml — SIECLE élèves — iso-8859-15 — 12 lignes — 10 créés, 2 ignorés`,
 * `…PersEducNat_0000.xml — … — 698 lignes — 698 créés ; 15 remarques`, a structures file by its structures
 * (`… — 10 établissements (10 nouveaux)`), a nomenclature by its MEFs.
 */
function formatFile(f: FileReport, t: (typeof T)['fr']): string {
  if (f.kind === 'ignored' || f.kind === 'unsupported') return `  ${f.file} — ${f.kind === 'ignored' ? t.ignoredFile : f.format}${f.reason ? ` : ${f.reason}` : ''}`;
  if (f.kind === 'zip') return `  ${f.file} — ${f.format} — ${t.members(f.rows)}`;
  const head = `  ${f.file} — ${f.format}${f.encoding ? ` — ${f.encoding}` : ''}`;
  const outcome = fileOutcomeOf(f, t);
  // A nomenclature's MEFs, a structures file whose rows are all structures: said by them alone.
  const alone = f.kind === 'siecle-nomenclature' || (f.structures && f.structures.created + f.structures.existing === f.rows && outcome === t.fileStructures(f.structures));
  if (alone) return `${head} — ${outcome}`;
  return `${head} — ${t.rows(f.rows)}${outcome ? ` — ${outcome}` : ''}`;
}

function fileOutcomeOf(f: FileReport, t: (typeof T)['fr']): string {
  if (f.kind === 'siecle-nomenclature') return t.mefs(f.rows);
  const parts = t.fileParts(f);
  return f.structures ? [t.fileStructures(f.structures), parts].filter(Boolean).join(', ') : parts;
}

/**
 * What became of a file's rows, as its report line says after their number (the console's « Résultat » column):
 * « 698 créés ; 15 remarques », « 10 établissements (10 nouveaux) », « 3 formations » (a nomenclature's MEFs).
 */
export function fileOutcome(f: FileReport, lang: Lang = 'fr'): string {
  return fileOutcomeOf(f, T[lang] ?? T.fr);
}

/** Schools named at most in the « sans administrateur local » warning; the rest counted. */
const WITHOUT_ADMIN_SHOWN = 10;

/**
 * How the files of each source name a local administrator (apply.ts localAdminsWrite), as the warning says they did
 * not: an AAF or STS-web head of school's DIR function, ONDE's « Directeur » column, the ENT's ADML column. SIECLE
 * names no staff: no way of its own.
 */
const WITHOUT_ADMIN_BY: Record<Lang, Partial<Record<Source, string>>> = {
  fr: {
    aaf: 'une fonction DIR de la livraison AAF',
    sts: 'une fonction DIR du fichier STS-web',
    be1d: '« Directeur : oui » dans le fichier ONDE',
    csv: 'la colonne ADML (ou « Administrateur local ») à « oui » du fichier CSV',
  },
  en: {
    aaf: 'a DIR function in the AAF delivery',
    sts: 'a DIR function in the STS-web file',
    be1d: '“Directeur: oui” in the ONDE file',
    csv: 'the ADML (or “Administrateur local”) column set to “oui” in the CSV file',
  },
};

/** ImportReport.withoutAdmin as one warning (CLI and console), or '' when every school of the run has one. */
export function withoutAdminText(r: ImportReport, lang: Lang = 'fr'): string {
  const list = r.withoutAdmin ?? [];
  if (!list.length) return '';
  const t = T[lang] ?? T.fr;
  const shown = list.slice(0, WITHOUT_ADMIN_SHOWN).map((s) => `${s.name}${uaiAfter(s.name, s.uai)}`);
  const more = list.length - shown.length;
  const names = `${shown.join(', ')}${more ? (lang === 'en' ? ` and ${en(more)} more` : ` et ${fr(more)} autre${more > 1 ? 's' : ''}`) : ''}`;
  const sources = list.some((s) => s.sources) ? new Set(list.flatMap((s) => s.sources ?? [])) : null;
  const by = sources && (['aaf', 'sts', 'be1d', 'csv'] as const).filter((x) => sources.has(x)).map((x) => WITHOUT_ADMIN_BY[lang === 'en' ? 'en' : 'fr'][x]!);
  // --structure takes a UAI or a structure's id (cli.ts admin): one school's own, else the choice said.
  const [one] = list;
  const [structure, note] =
    list.length === 1 && one.uai ? [one.uai, ''] : list.length === 1 && one.id ? [one.id, t.structureNote(true)] : [t.structureArg, t.structureNote(false)];
  return t.withoutAdmin(names, list.length, r.dryRun, by, structure, note);
}

/**
 * The run's rejected entries apart: the rows left out (`rejected`), and the remarks on rows imported all the same
 * (`notes`, isNote: a child not found, an e-mail left out…), which are no rejected rows (a parents' file imported alone
 * has one per child named, more than it has rows).
 */
export function rejectedApart(r: Pick<ImportReport, 'rejected'>): { rejected: Rejection[]; notes: Rejection[] } {
  return { rejected: r.rejected.filter((x) => !isNote(x)), notes: r.rejected.filter(isNote) };
}

/**
 * Whether a run's input needs fixing, as scripts see it (CLI exit code 1, the drop folder's « À vérifier » mail): a
 * file refused whole, rows left out, or a parent-child link a row asks for left unmade (types.ts isLinkUnmade: a
 * child not found, by name or identifier — the pupils' file missing, a typo —, or ambiguous). The other remarks on
 * rows imported all the same (a class in an unknown structure, an e-mail address left out, namesakes kept apart)
 * are shown in the report, not failures: a cron job would otherwise report every night a run that did its work.
 */
export function needsFixing(r: Pick<ImportReport, 'fatal' | 'rejected' | 'relations'>): boolean {
  return !!r.fatal || r.rejected.some((x) => !isNote(x) || isLinkUnmade(x)) || noChildFoundText(r) !== '';
}

/**
 * The warning of a run whose parents' rows name children and find none of them (relations.byName): the pupils' file
 * was not imported, every link is left unmade. '' otherwise (CLI and console).
 */
export function noChildFoundText(r: Pick<ImportReport, 'relations'>, lang: Lang = 'fr'): string {
  const b = r.relations.byName;
  return b?.named && !b.found ? (T[lang] ?? T.fr).noChildFound(b.named) : '';
}

/** The run's parent-child links as the report says them: « Liens parent-enfant : 1 ajouté, 0 retiré » (CLI and console). */
export function relationsText(r: ImportReport, lang: Lang = 'fr'): string {
  return (T[lang] ?? T.fr).relations(r);
}

/** The profiles of one outcome of a structure's accounts: « 65 élèves, 98 parents » (the console's cells). */
export function profileSplit(c: CountsByProfile, outcome: (typeof OUTCOMES)[number], lang: Lang = 'fr'): string {
  return profileNumbers(Object.fromEntries((Object.entries(c) as [Profile, ProfileCounts][]).map(([p, x]) => [p, x[outcome]])), lang);
}

/** Accounts by profile, those of none left out: « 65 élèves, 98 parents ». */
export function profileNumbers(c: Partial<Record<Profile, number>>, lang: Lang = 'fr'): string {
  return (Object.entries(c) as [Profile, number][])
    .filter(([, n]) => n)
    .map(([p, n]) => (lang === 'en' ? `${en(n)} ${PROFILE_NOUNS.en[p][n === 1 ? 0 : 1]}` : countFr(n, ...PROFILE_NOUNS.fr[p])))
    .join(', ');
}

/** The run's accounts that leave a structure (StructureReport.left), all profiles. */
export const leftTotal = (s: StructureReport): number => Object.values(s.left ?? {}).reduce((a, n) => a + (n ?? 0), 0);

/** A structure's accounts as its report line says them, then those that leave it (StructureReport.left). */
function structureLine(s: StructureReport, t: (typeof T)['fr'], lang: Lang): string {
  const n = leftTotal(s);
  const accounts = outcomeTotals(s.accounts ?? {});
  const some = OUTCOMES.some((k) => accounts[k]);
  return [some || !n ? t.structureAccounts(s.accounts ?? {}) : '', n ? t.structureLeft(n, profileNumbers(s.left!, lang)) : ''].filter(Boolean).join(', ');
}

/**
 * What a run changes on an account: `nom « DUPONT » → « DUPOND » ; date de naissance 03/04/2012 → 04/03/2012`
 * (dates as the language writes them, an empty value named), then its links: a move `classe « 6A » → « 5B »`, a
 * link gained or lost alone `établissement ajouté « Lycée X »`, `enfants retirés « Léa DUPONT », « Noé DUPONT »`.
 */
export function formatChanges(m: ModifiedNote, lang: Lang = 'fr'): string {
  const t = T[lang] ?? T.fr;
  const value = (v: string | null) => {
    if (v === null || v === '') return t.empty;
    const d = /^(\d{4})-(\d{2})-(\d{2})$/.exec(v);
    if (d) return lang === 'fr' ? `${d[3]}/${d[2]}/${d[1]}` : v;
    return lang === 'fr' ? `« ${v} »` : `“${v}”`;
  };
  // A profile as the language names one person of it (« Enseignant » → « Personnel »), not the stored code (Teacher).
  const shown = (c: FieldChange, v: string | null) => value(c.field === 'profile' && v && v in PROFILE_LABELS ? PROFILE_LABELS[v as Profile][lang] : v);
  const names = (list: string[]) => list.map(value).join(', ');
  const link = (l: LinkChange) => {
    const [one, many] = t.links[l.field];
    const more = l.more ? ` … (+${t.num(l.more)})` : '';
    if (l.removed.length && l.added.length) {
      return `${l.removed.length + l.added.length > 2 ? many : one} ${names(l.removed)} → ${names(l.added)}${more}`;
    }
    const side = l.added.length ? l.added : l.removed;
    const n = side.length + (l.more ?? 0);
    return `${n > 1 ? many : one} ${t.linkOp(l.field, l.added.length ? '+' : '-', n)} ${names(side)}${more}`;
  };
  return [...m.changes.map((c) => `${t.fields[c.field]} ${shown(c, c.from)} → ${shown(c, c.to)}`), ...(m.links ?? []).map(link)].join(lang === 'fr' ? ' ; ' : '; ');
}

/** Records shown of a group of ignored ones (the rest are counted). */
const IGNORED_EXAMPLES = 3;
/** Lines a list of ignored records takes at most, as the report's other lists (the rest are counted). */
const IGNORED_LINES = 200;

/** Ignored records that share their reason once whom each is about is set apart (groupIgnored). */
export interface IgnoredGroup {
  /** The reason without the person: « aucun élève ne le désigne comme représentant légal, pas de compte ». */
  reason: string;
  /** The records, each with whom it is about (« GARNIER Marc (2004775) »; empty for a message that names nobody). */
  records: { record: Rejection; who: string }[];
}

/**
 * The ignored records grouped by their reason without whom it is about (a message whose text starts with its
 * `who` parameter, and `id` after it: « {who} ({id}) : … »), in order of first appearance: « aucun élève ne le désigne
 * comme représentant légal » gathers every such relative, « élève sorti le 03/07/2025 » the pupils of that day.
 * `render` writes a message in the wanted language (French by default: messages.ts).
 */
function groupIgnored(ignored: Rejection[], render: (m: ImportMessage) => string = (m) => importText(m.code, m.params)): IgnoredGroup[] {
  const groups = new Map<string, IgnoredGroup['records']>();
  for (const record of ignored) {
    const params = record.message?.params;
    let reason = record.message ? render(record.message) : record.reason;
    let who = '';
    if (record.message && params?.who !== undefined) {
      // The message with markers for the person: what follows them (and the separator) is the shared reason.
      const masked = render({ code: record.message.code, params: { ...params, who: '\u0001', id: '\u0002' } });
      const rest = /^\u0001(?: \(\u0002\))?\s?:\s(.*)$/s.exec(masked)?.[1];
      if (rest !== undefined) {
        reason = rest;
        who = params.id !== undefined ? `${params.who} (${params.id})` : String(params.who);
      }
    }
    const g = groups.get(reason);
    if (g) g.push({ record, who });
    else groups.set(reason, [{ record, who }]);
  }
  return [...groups].map(([reason, records]) => ({ reason, records }));
}

/** One entry of a list of ignored records: a record alone, or a group of one reason with a few of its records. */
export type IgnoredItem = { record: Rejection } | { reason: string; count: number; examples: IgnoredGroup['records'] };

/**
 * The ignored records as a list shows them, the command line's and the console's: a group of more than
 * IGNORED_EXAMPLES records is one entry with its count and that many of them (aaf-2013's 9,086 relatives no pupil
 * names were as many identical lines), the others one entry each; at most IGNORED_LINES lines, `left` records not shown.
 */
export function ignoredListing(ignored: Rejection[], render?: (m: ImportMessage) => string): { items: IgnoredItem[]; left: number } {
  const items: IgnoredItem[] = [];
  let lines = 0;
  let left = ignored.length;
  for (const g of groupIgnored(ignored, render)) {
    if (lines >= IGNORED_LINES) break;
    if (g.records.length <= IGNORED_EXAMPLES) items.push(...g.records.map(({ record }) => ({ record })));
    else items.push({ reason: g.reason, count: g.records.length, examples: g.records.slice(0, IGNORED_EXAMPLES) });
    lines += Math.min(g.records.length, IGNORED_EXAMPLES + 1);
    left -= g.records.length;
  }
  return { items, left };
}

/** Relatives left without an account as « personne en charge » (aaf.ts relativeRoles), from the ignored records. */
export function inChargeCount(report: Pick<ImportReport, 'ignored'>): number {
  return report.ignored.filter((x) => x.message?.code === 'ignoredAafInCharge').length;
}

const SCOPE_PROFILES: Record<Lang, Record<Profile, string>> = {
  fr: { Student: 'élèves', Relative: 'parents', Teacher: 'enseignants', Personnel: 'personnels', Guest: 'invités' },
  en: { Student: 'student', Relative: 'parent', Teacher: 'teacher', Personnel: 'staff', Guest: 'guest' },
};

/** « a, b et c » / « a, b and c ». */
function listed(items: string[], and: string): string {
  return items.length > 1 ? `${items.slice(0, -1).join(', ')} ${and} ${items[items.length - 1]}` : (items[0] ?? '');
}

/** Where accounts came from, as the sentence below says it (« venus de SIECLE »). */
const SOURCE_FROM: Record<'fr' | 'en', Record<Source, string>> = {
  fr: { aaf: 'venus du flux AAF', siecle: 'venus de SIECLE', sts: 'venus de STS-web', be1d: 'venus d’ONDE', csv: 'venus d’un fichier CSV', demo: 'de la démonstration' },
  en: { aaf: 'from the AAF feed', siecle: 'from SIECLE', sts: 'from STS-web', be1d: 'from ONDE', csv: 'from a CSV file', demo: 'of the demo' },
};

/**
 * Where a complete run looked for absent accounts, one sentence (CLI, drop folder, console): « Absents recherchés
 * parmi les comptes élèves et parents venus d’un fichier CSV du Collège A. »
 */
export function absenceScopeText(s: AbsenceScope, lang: Lang = 'fr'): string {
  const profiles = listed(s.profiles.map((p) => SCOPE_PROFILES[lang][p]), lang === 'fr' ? 'et' : 'and');
  if (lang === 'fr') {
    const where = s.structureCount > s.structures.length ? `des ${fr(s.structureCount)} établissements de l’import` : listed(s.structures.map(de), 'et');
    return `Absents recherchés parmi les comptes ${profiles} ${SOURCE_FROM.fr[s.source]} ${valueThenStop(`${where}${s.orphans ? ' ou sans établissement' : ''}`, '.')}`;
  }
  const where = s.structureCount > s.structures.length ? `the ${en(s.structureCount)} schools of the import` : listed(s.structures, 'and');
  return `Absent accounts looked for among the ${profiles} accounts ${SOURCE_FROM.en[s.source]} at ${valueThenStop(`${where}${s.orphans ? ' or in no school' : ''}`, '.')}`;
}

/** Why a run looked for nobody's absence (ImportReport.absenceSkipped): none of its accounts enters the grace period. */
export function absenceSkippedText(why: 'partial' | 'delta', lang: Lang = 'fr'): string {
  if (lang === 'fr') {
    return `${why === 'partial' ? 'Import partiel (--partiel)' : 'Flux de mise à jour (delta)'} : l’absence des comptes n’est pas recherchée (aucun n’entre en période de grâce).`;
  }
  return `${why === 'partial' ? 'Partial import (--partiel)' : 'Update feed (delta)'}: no account’s absence is looked for (none enters the grace period).`;
}

export function formatReport(report: ImportReport, lang: Lang = 'fr'): string {
  const t = T[lang] ?? T.fr;
  const out: string[] = [];
  if (report.fatal) {
    out.push(t.fatal, `  ${formatRejection(report.fatal, lang)}`);
    return out.join('\n');
  }
  out.push(report.dryRun ? t.dry : t.done);
  /** A heading, its lines indented, and « … (+N) » for the `total` not listed. */
  const section = (heading: string, lines: string[], total = lines.length) => {
    out.push(`${heading}${t.colon}`, ...lines.map((l) => `  ${l}`));
    if (total > lines.length) out.push(`  … (+${t.num(total - lines.length)})`);
  };
  out.push(`${t.files}${t.colon}`);
  for (const f of report.files) out.push(formatFile(f, t));
  if (report.structures.length || report.withoutStructure) {
    const lines = report.structures.map(
      (s) => `${s.name}${uaiAfter(s.name, s.uai)} — ${s.created ? t.created : s.formerName ? t.structureRenamed(s.formerName) : s.uaiAdded ? t.uaiAdded : t.known}${s.accounts ? ` — ${structureLine(s, t, lang)}` : ''}`,
    );
    if (report.withoutStructure) lines.push(`${t.withoutStructure} — ${t.structureAccounts(report.withoutStructure)}`);
    section(t.structures, lines);
  }
  const newClasses = report.newClasses ?? [];
  if (newClasses.length) {
    section(t.newClasses(newClasses.reduce((n, x) => n + x.names.length, 0)), newClasses.slice(0, NEW_CLASSES_SHOWN).map((x) => `${x.structure} : ${classList(x.names, t)}`), newClasses.length);
  }
  out.push(`${t.accounts} : ${t.summary(report)}`);
  for (const [p, c] of Object.entries(report.byProfile) as [Profile, NonNullable<ImportReport['byProfile'][Profile]>][]) {
    out.push(`  ${t.profiles[p]} : ${t.summary({ ...report, ...c })}`);
  }
  out.push(t.relations(report));
  const noChild = noChildFoundText(report, lang);
  if (noChild) out.push(noChild);
  for (const a of report.absenceScopes ?? []) out.push(absenceScopeText(a, lang));
  if (report.absenceSkipped) out.push(absenceSkippedText(report.absenceSkipped, lang));
  for (const m of report.massAbsence ?? []) out.push(t.massAbsence(m, report.dryRun, !!report.absencesConfirmed));
  if (report.unchecked?.length) out.push(t.unchecked(report.unchecked));
  if (report.keptNamed) out.push(t.keptNamed(report.keptNamed));
  const inCharge = inChargeCount(report);
  if (inCharge) out.push(t.inCharge(inCharge));
  for (const e of report.emptied ?? []) out.push(t.emptied(e, report.dryRun));
  const noAdmin = withoutAdminText(report, lang);
  if (noAdmin) out.push(noAdmin);
  // One person: « Inès Vasseur (Parent) », the singular label.
  const person = (a: { login: string; name: string; profile: Profile }) => `${a.login} — ${a.name} (${PROFILE_LABELS[a.profile][lang === 'en' ? 'en' : 'fr']})`;
  for (const change of ['appointed', 'revoked'] as const) {
    const list = (report.adminChanges ?? []).filter((x) => x.change === change);
    if (list.length) section(t.admins(change, list.length), list.map((x) => `${x.login} — ${x.name} (${x.structure})`));
  }
  const u = report.unattached;
  if (u) section(`${t.unattached(u, report.dryRun, t.profiles)} ${t.exampleAfterStop}`, u.sample.map(person), u.count);
  if (report.absent?.length) section(t.absent(report.preDeleted), report.absent.map(person), report.preDeleted);
  if (report.modified?.count) {
    section(t.modified(report.modified.count), report.modified.sample.map((m) => `${m.login} — ${m.name} : ${formatChanges(m, lang)}`), report.modified.count);
  }
  if (report.renamed?.length) {
    section(t.renamed(report.renamed.length), report.renamed.map((r) => `${r.file}:${r.line} — ${r.from} → ${r.to} (${r.login}) : ${r.applied ? t.renameApplied : t.renameKept}`));
  }
  // Rows of one parent, one account: never silent, they are why a file's rows outnumber its accounts.
  if (report.merged?.length) section(t.merged(report.merged.length), report.merged.slice(0, 200).map(formatMerge), report.merged.length);
  if (report.ignored.length) {
    out.push(`${t.ignored(ignoredRecords(report.ignored))}${t.colon}`);
    const { items, left } = ignoredListing(report.ignored);
    for (const it of items) {
      if ('record' in it) out.push(`  ${formatRejection(it.record, lang)}`);
      else {
        out.push(`  ${it.reason} (${t.num(it.count)}), ${t.example}${t.colon}`);
        for (const { record, who } of it.examples) out.push(`    ${formatRejection({ ...record, reason: who }, lang)}`);
      }
    }
    if (left > 0) out.push(`  … (+${t.num(left)})`);
  }
  const { rejected, notes } = rejectedApart(report);
  if (rejected.length) section(t.rejected(rejected.length), rejected.slice(0, 200).map((r) => formatRejection(r, lang)), rejected.length);
  if (notes.length) section(t.notes(notes.length), notes.slice(0, 200).map((r) => formatRejection(r, lang)), notes.length);
  out.push(t.duration(report.durationMs));
  return out.join('\n');
}

/** Structures whose new classes the report lists (a région's first import creates thousands, in every school). */
export const NEW_CLASSES_SHOWN = 50;
/** New class names listed per structure; the rest counted. */
const CLASSES_PER_STRUCTURE = 30;

function classList(names: string[], t: (typeof T)['fr']): string {
  const shown = names.slice(0, CLASSES_PER_STRUCTURE).join(', ');
  return names.length > CLASSES_PER_STRUCTURE ? `${shown}, … (+${t.num(names.length - CLASSES_PER_STRUCTURE)})` : shown;
}
