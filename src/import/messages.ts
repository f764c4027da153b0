// Import refusals as message codes and parameters: the French wording here (the command line, logs, and the
// report's `reason`, French first), the English one in the web catalogue (src/web/i18n/import-errors.ts).
// A whole file refused (ImportFileError), a run beyond the caller's scope (ImportForbiddenError), a format not
// accepted (formats.ts), the rows rejected by every reader (csv.ts, checks.ts, siecle.ts, sts.ts, aaf.ts,
// aaf-settle.ts) or while applying (apply.ts), the records and files left out (`ignored`) and the rows read as an
// earlier row's person (`merged`, a warning) carry one of these codes.
import type { Profile } from '../directory/vocabulary.js';
import { fillTemplate, type DomainParams } from '../lib/errors.js';

export const IMPORT_MESSAGES_FR = {
  // A file or an archive refused as a whole.
  archiveInArchive: 'archive dans l’archive : déposez ses fichiers ou l’archive elle-même',
  fileRefused: 'fichier refusé, {reason}',
  uaiMismatch: 'fichier de l’établissement {uai}, pas de « {name} »{expected}',
  uaiOfAnother: 'fichier de l’établissement {uai}, qui est « {owner} », pas « {name} » : importez-le sur la page de « {owner} »',
  csvNeedsStructure: 'indiquez l’établissement où importer les fichiers CSV',
  aafNeedsRegion: 'fichier de l’annuaire académique (AAF) : il met à jour tous les établissements qu’il nomme, il s’importe sur la page « Importer un flux académique (AAF) », pas sur celle d’un établissement',
  csvStructureUnknown: 'aucun établissement d’identifiant « {id} » : rien n’est importé',
  otherScript: 'fichier qui semble encodé en {encoding} (un autre alphabet), illisible comme texte français : enregistrez-le en UTF-8',
  mixedEncoding: 'encodage mélangé : UTF-8 et un autre encodage (octet 0x{byte}) ; enregistrez tout le fichier en UTF-8',
  undecodableByte: 'encodage illisible (octet 0x{byte}, lu comme {encoding}) : enregistrez le fichier en UTF-8',
  undecodableChar: 'encodage illisible (caractère U+{char}, lu comme {encoding}) : enregistrez le fichier en UTF-8',
  csvEmpty: 'fichier vide : la première ligne doit contenir les en-têtes de colonnes',
  csvMalformed: 'CSV mal formé : {detail}',
  csvNoProfile: 'profil introuvable : nommez le fichier CSV_Eleves, CSV_Enseignants, CSV_Personnels, CSV_Parents ou CSV_Invites, ou ajoutez une colonne « Profil »',
  csvMissingColumn: 'colonne obligatoire « {column} » absente',
  xmlBadEncoding: 'encodage illisible : le fichier ne respecte pas l’encodage qu’il déclare ou, sans déclaration, UTF-8 ({encoding})',
  xmlMalformed: 'XML mal formé : {detail}',
  // The column too: a feed written on one line (some exporters do) has every error on line 1.
  xmlMalformedAt: 'XML mal formé (colonne {column}) : {detail}',
  xmlBareAmpersand: 'XML mal formé (colonne {column}) : caractère « & » à écrire « &amp; » (par exemple « PETIT &amp; FILS »)',
  stsNoId: 'identifiant de l’individu manquant',
  siecleNoUai: 'UAI de l’établissement absent : le fichier ne dit pas de quel établissement il vient',
  siecleBadUai: 'UAI invalide « {uai} » (attendu : 7 chiffres et une lettre)',
  siecleNoStudentId: 'identifiant de l’élève (ELEVE_ID) manquant',
  siecleNoPersonId: 'identifiant de la personne (PERSONNE_ID) manquant',
  zipUnreadable: 'archive .zip illisible : {detail}',
  zipTooManyFiles: 'plus de {max} fichiers dans l’archive',
  zipBadName: '{member} : {detail}',
  zipEncrypted: '{member} : fichier chiffré (archive protégée par mot de passe) : déposez une archive sans mot de passe',
  zipMemberTooBig: '{member} : fichier trop gros une fois décompressé ({size}, maximum {max})',
  zipTooBig: 'archive trop grosse une fois décompressée (maximum {max})',
  zipMemberOverflow: '{member} : contenu plus gros que déclaré ou que la limite ({max})',
  // A complete AAF delivery whose numbered files have a gap (index.ts): its absence step would pre-delete the
  // accounts of the missing files.
  aafMissingFile:
    'fichier manquant dans une livraison AAF complète : les fichiers {kind} sont numérotés avec un trou, il manque {missing}. Leurs comptes seraient pré-supprimés : déposez la livraison entière, ou faites un import partiel (--partiel) : personne n’est alors pré-supprimé',
  // A complete run that would send most of a profile's accounts to the grace period (index.ts, plan.ts massAbsencesOf),
  // refused unless confirmed: a file missing from the delivery looks the same as everyone leaving.
  massAbsence:
    'import complet qui ferait sortir {absent} comptes {whose} sur {of} ({share} %), absents de ses fichiers : un fichier manque-t-il à la livraison ? Rien n’a été modifié. Si ces départs sont réels, confirmez les absences (console : case « Je confirme ces départs » ; ligne de commande : --confirmer-absences ; API : confirmAbsences=true) ; si les fichiers ne sont qu’une partie de l’annuaire (une classe, un niveau), faites plutôt un import partiel (--partiel) : personne n’est alors pré-supprimé',
  // Formats not accepted (formats.ts), the {reason} of fileRefused.
  formatEmpty: 'fichier vide',
  formatSpreadsheet: 'classeur de tableur : enregistrez-le au format CSV',
  formatBadZip: 'archive .zip illisible',
  formatXmlNoRoot: 'fichier XML sans élément racine reconnaissable',
  formatStsUpward: 'fichier remontant vers STS-web (emp_sts) : déposez l’export descendant sts_emp_<UAI>_<année>.xml',
  formatUnknownXml: 'format XML non reconnu (élément racine <{root}>) : formats acceptés AAF, SIECLE, STS-web',
  formatUnknown: 'format non reconnu ({ext}) : formats acceptés AAF, SIECLE, STS-web (XML), CSV, archive .zip',
  formatBinary: 'ce fichier est {kind}, pas un CSV ni un XML : formats acceptés AAF, SIECLE, STS-web (XML), CSV, archive .zip',
  // A run beyond the caller's scope (HTTP 403).
  forbiddenNotAdmin: 'import réservé aux administrateurs',
  forbiddenAcademicFeed: 'fichier de l’annuaire académique (AAF) : son import est réservé aux super-administrateurs',
  forbiddenOtherSchool: 'fichier de l’établissement {uai} : seul l’établissement qui porte ce code UAI peut le recevoir',
  forbiddenNeedStructure: 'indiquez l’établissement où importer ce fichier',
  forbiddenStructureNotFound: 'établissement « {name} » introuvable parmi les vôtres',
  forbiddenStructure: 'structure « {name} »{uai} hors de votre périmètre',
  // CSV rows rejected (the rest of the file is imported).
  rowUnknownProfile: 'profil inconnu « {value} » (attendu : élève, enseignant, personnel, parent ou invité)',
  rowEmptyField: 'champ obligatoire vide',
  rowMissingColumn: 'colonne obligatoire « {column} » absente pour ce profil',
  rowInvalidDate: 'date invalide « {value} » (attendu JJ/MM/AAAA)',
  rowInvalidEmail: 'adresse électronique invalide « {value} » : non importée',
  rowChildIncomplete: 'enfant {n} incomplet : nom et prénom attendus',
  rowNameTooLong: 'nom de {length} caractères ({max} au plus) : ligne ignorée',
  rowNoLetter: '« {name} » ne contient aucune lettre : ligne ignorée',
  rowTemplateExample: 'ligne d’exemple du modèle CSV (« {name} ») : ligne ignorée ; supprimez-la du fichier',
  rowFutureBirth: 'date de naissance {date} dans le futur : ligne ignorée',
  rowSharedId: 'identifiant « {id} » donné aussi à {name} ({file}, ligne {line}) : un identifiant ne désigne qu’une personne ; corrigez le fichier (aucune de ces lignes n’est importée)',
  // SIECLE and STS-web records rejected.
  rowNoLastName: 'nom manquant',
  rowNoFirstName: 'prénom manquant',
  rowNoFirstNameOf: '{who} : prénom manquant',
  rowInvalidBirthOf: '{who} : date de naissance invalide « {value} »',
  rowInvalidExitOf: '{who} : date de sortie invalide « {value} »',
  rowInvalidPrincipalEndOf: '{who} : date de fin de professeur principal invalide « {value} » : classe {class} non attribuée',
  // AAF records rejected (aaf.ts, aaf-settle.ts).
  aafNoJoin: 'identifiant (jointure) manquant',
  aafInvalidBirth: 'date de naissance invalide « {value} » : non importée',
  aafModifyUnknownStructure: 'structure « {id} » inconnue : rien à modifier',
  aafModifyUnknownAccount: 'aucun compte « {id} » à modifier (la création arrive par un addRequest)',
  // Rows rejected while applying (apply.ts).
  applyOutOfScope: 'compte hors de votre périmètre (d’un autre établissement, ou administrateur d’un établissement : seul un super administrateur le modifie) : ligne ignorée',
  applyProfileConflict: 'identifiant « {id} » déjà celui du compte {login}, d’un autre profil : ligne ignorée, le compte n’est pas modifié',
  applySelfEmail: 'votre propre adresse électronique : non importée (le reste de la ligne l’est) ; changez-la dans « Mon compte », où votre mot de passe actuel est demandé',
  applyNoRelative: "représentant légal « {id} » : ni compte ni fiche PersRelEleve dans la livraison, lien non créé (un flux complet le créera)",
  applyNoPupilId: "aucun élève d'identifiant « {id} » dans cet établissement : lien non créé",
  applyPupilAmbiguous: 'plusieurs élèves « {who} » : lien non créé',
  applyPupilNotFound: 'élève « {who} » introuvable : lien non créé',
  applyPupilOtherClass: 'élève « {who} » : un élève de ce nom est en {classes}, pas dans cette classe : lien non créé',
  // Records read and deliberately left out (ImportReport.ignored).
  ignoredAafClass: "structure « {structure} » absente du fichier EtabEducNat et de l'annuaire : classe « {name} » non créée",
  ignoredAafGroup: "structure « {structure} » absente du fichier EtabEducNat et de l'annuaire : groupe « {name} » non créé",
  ignoredAafAttachment: "structure « {structure} » absente du fichier EtabEducNat et de l'annuaire : rattachement ignoré",
  // A head of school's function (ENTPersonFonctions `structure$DIR$…`) in a structure neither knows (aaf-settle.ts).
  ignoredAafHeadOfSchool:
    "{who} ({id}) : fonction de direction (DIR) dans la structure « {structure} », absente du fichier EtabEducNat et de l'annuaire : aucune administration locale donnée",
  ignoredAafNotLegal: '{who} ({id}) : aucun élève ne le désigne comme représentant légal, pas de compte',
  ignoredAafModifyNoAccount: '{id} : modification d’un responsable sans compte (aucun élève ne le désigne comme représentant légal), ignorée',
  ignoredAafInCharge: '{who} ({id}) : personne en charge d’un élève (ENTElevePersRelEleve, 4ᵉ champ 2), pas représentant légal : pas de compte',
  ignoredSiecleLeft: '{who} : élève sorti le {date}, aucun compte',
  ignoredSiecleNoPupil: '{who} : responsable d’aucun élève, aucun compte',
  ignoredSiecleInactive: '{who} : élève de la division « {division} » (inactif dans SIECLE), aucun compte',
  ignoredSiecleLegalOfAbsent: '{who} : représentant légal d’élèves absents, sortis ou inactifs, aucun compte',
  ignoredSiecleNotLegal: '{who} : pas représentant légal ({levels}), aucun compte',
  ignoredSiecleSelf: '{who} : l’élève lui-même (CODE_PARENTE 70 : élève majeur, son propre responsable), pas de compte de parent',
  // Warnings: rows imported, but read as someone of an earlier row (ImportReport.merged, csv.ts sameRelative).
  relativeMerged: 'lignes {first} et {line} : même représentant légal ({who}), un seul compte',
  relativeMergedAddress: 'lignes {first} et {line} : même représentant légal ({who}), un seul compte ; deux adresses postales, celle de la ligne {kept} est gardée',
  // A remark (NOTE_CODES): the row is imported, as another person than the earlier row of that name.
  relativeApart: 'même nom que la ligne {first} ({who}), enfants du même nom de famille, mais une autre adresse : deux comptes ; s’il s’agit de la même personne, fusionnez-les dans « Gérer les doublons »',
  // Whole files left out (formats.ts): FileReport.reason.
  ignoredFileAafDtd: 'DTD de l’annuaire académique : aucun compte',
  ignoredFileHidden: 'fichier caché ou marqueur de dépôt (.DS_Store, .done…) : pas un fichier de la livraison',
  ignoredFileAafNomenclature: 'nomenclature de l’annuaire académique (matières, MEF) : aucun compte',
  ignoredFileSiecleStructures: 'export SIECLE des structures : les classes viennent du fichier des élèves',
  ignoredFileSiecleCommon: 'export SIECLE des données communes : aucun compte',
} as const;

export type ImportCode = keyof typeof IMPORT_MESSAGES_FR;

/** A profile's accounts as « N comptes {whose} sur M » / "N of M {whose} accounts" (massAbsence, the report's warning). */
export const WHOSE: Record<'fr' | 'en', Record<Profile, string>> = {
  fr: { Student: 'd’élèves', Teacher: 'd’enseignants', Personnel: 'de personnels', Relative: 'de parents', Guest: 'd’invités' },
  en: { Student: 'student', Teacher: 'teacher', Personnel: 'staff', Relative: 'parent', Guest: 'guest' },
};

/** A message and its parameters; `reasonCode` names another code whose text fills `{reason}` (fileRefused). */
export interface ImportMessage {
  code: ImportCode;
  params?: DomainParams & { reasonCode?: ImportCode };
}

/**
 * The text of an import message with `wording` (French here; the web passes its catalogue's lookup). A
 * `reasonCode` parameter is rendered first, with its own parameters, into `{reason}`.
 */
export function renderImportMessage(m: ImportMessage, wording: (code: ImportCode, params: DomainParams) => string = frenchWording): string {
  const { reasonCode, ...params } = m.params ?? {};
  const filled: DomainParams = reasonCode ? { ...params, reason: wording(reasonCode as ImportCode, params) } : params;
  return wording(m.code, filled);
}

const frenchWording = (code: ImportCode, params: DomainParams) => fillTemplate(IMPORT_MESSAGES_FR[code], params);

/** The French text of a code (the command line prints it; the report keeps it as `reason`). */
export function importText(code: ImportCode, params?: ImportMessage['params']): string {
  return renderImportMessage({ code, params });
}
