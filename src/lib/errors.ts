// Typed domain errors: a message code and its parameters, never a sentence chosen by the domain.
//
// The web layer translates `code` with its catalogue (src/web/i18n/errors.ts, French first, English second)
// and maps it to an HTTP status in one table (src/web/errors.ts). `message` is the French rendering, for
// logs, the command line and callers that only print it.

/** Every code a domain function may throw, with its French wording (`{name}` placeholders from params). */
export const DOMAIN_MESSAGES_FR = {
  'directory.adminOnly': 'Action réservée aux administrateurs.',
  'directory.userNotFound': 'Utilisateur introuvable.',
  'directory.selfBlock': 'Vous ne pouvez pas bloquer votre propre compte.',
  'directory.selfContact': 'Changez votre propre adresse électronique dans « Mon compte » : votre mot de passe actuel y est demandé.',
  'directory.selfRenewal': 'Pas de code de renouvellement pour votre propre compte : changez votre mot de passe dans « Mon compte ».',
  'directory.invalidEmail': 'Adresse électronique invalide : « {value} ».',
  'directory.invalidPhone': 'Numéro de téléphone invalide : « {value} ».',
  'directory.mergeSelf': 'Un compte ne peut pas être fusionné avec lui-même.',
  'directory.mergeBothActive': 'Les deux comptes sont déjà activés : ils ne peuvent pas être fusionnés. Bloquez celui qui ne doit plus servir.',
  'directory.mergeProfiles': 'Les deux comptes n’ont pas le même profil : fusion impossible.',
  'directory.mergeSuperAdmin': 'Un compte super-administrateur ne peut pas être fusionné.',
  'directory.readOnly': 'Ce compte administre un établissement (le vôtre ou un autre) ou enseigne dans une classe hors de votre périmètre : il est en lecture seule pour vous, seul un super-administrateur le gère.',
  'directory.pairSame': 'Une paire de doublons réunit deux comptes différents.',
  'account.notActivated': 'Ce compte n’est pas encore activé : générez plutôt un nouveau code d’activation.',
  'account.alreadyActivated': 'Ce compte est déjà activé : générez plutôt un code de renouvellement du mot de passe.',
  'account.preDeleted': 'Ce compte est pré-supprimé : aucun code ne l’ouvrirait. Restaurez-le d’abord (« Cycle de vie »).',
  'account.blocked': 'Ce compte est bloqué : aucun code ne l’ouvrirait. Débloquez-le d’abord.',
  'template.invalid': 'Modèle {profile}/{kind} non enregistré : {errors}',
  'selection.invalidDate': 'Date impossible pour « {field} » : « {value} » (attendu AAAA-MM-JJ, une date du calendrier).',
  'account.external': 'Ce compte se connecte avec {provider} : pas de code ni de mot de passe Trousseau. Son mot de passe se gère chez {provider}.',
  'lifecycle.self': 'Vous ne pouvez pas pré-supprimer ni supprimer votre propre compte.',
  'lifecycle.activated': 'Suppression immédiate impossible pour {logins} : compte activé et non pré-supprimé. Pré-supprimez-le d’abord.',
  'lifecycle.selectionChanged': 'La sélection a changé depuis la confirmation : vérifiez-la à nouveau.',
  'lifecycle.elsewhere': '{logins} : compte aussi rattaché à un établissement que vous n’administrez pas (lui-même ou ses enfants) ; il n’y est pas pré-supprimé ni supprimé. Son import l’en retirera, ou un super-administrateur.',
  'directory.mergeElsewhere': '{logins} : compte aussi rattaché à un établissement que vous n’administrez pas (lui-même ou ses enfants) ; la fusion le retirerait à cet établissement. Un super-administrateur peut fusionner ces comptes.',
  'localAdmin.notYourSchool': 'Vous n’administrez pas cet établissement.',
  'localAdmin.notMember': '{login} n’est pas rattaché à cet établissement.',
  'localAdmin.pupil': 'Un élève ou un parent ne peut pas administrer un établissement.',
  'oidc.redirectUri': 'Adresse de retour refusée : « {value} » (https, ou http sur cette machine seulement, sans #).',
  // API tokens (src/accounts/api-tokens.ts): the form's or the command line's input.
  'token.name': 'Donnez au jeton un nom de 1 à 100 caractères (à quoi il sert, quel serveur l’utilise).',
  'token.noStructure': 'Choisissez au moins un établissement (ou tous les établissements).',
  'token.unknownStructure': 'Établissement inconnu : « {value} ».',
  // Word letters (issue #10, docx.ts)
  'docx.unreadable': '« {file} » n’est pas un document Word (.docx) lisible.',
  'docx.syntax': '« {file} » : balise de fusion mal formée {tag} (accolade ouverte sans être fermée, ou fermée sans avoir été ouverte). Chaque champ s’écrit entre accolades, par exemple {prenom}.',
  'docx.unknownField': '« {file} » : champ de fusion inconnu {{field}}. Champs possibles : {known}.',
  'docx.notFound': 'Modèle Word introuvable.',
  // A model that links to something outside itself (docx.ts, checkNoExternalReferences): LibreOffice would fetch it.
  'docx.linkedImage': 'Le modèle {file} contient une image liée à une adresse extérieure ({part}) : incorporez l’image dans le document.',
  'docx.linkedTemplate': 'Le modèle {file} est rattaché à un modèle de document extérieur ({part}) : enregistrez-le comme simple document Word (.docx), sans modèle attaché.',
  'docx.linkedContent': 'Le modèle {file} contient un contenu lié à une adresse extérieure ({part}) — objet, sous-document, cadre ou champ INCLUDETEXT : copiez ce contenu dans le document lui-même.',
  'docx.tooLarge': '« {file} » pour {count} comptes ferait un document de plus de {limit} Mo : réduisez la sélection (une classe, un profil) ou allégez le modèle, puis réessayez.',
  // Letter templates (src/publipostage/templates.ts, validateTemplate): each problem of a draft, naming the field.
  'template.unknownProfile': 'profil inconnu : « {value} »',
  'template.unknownKind': 'type de modèle inconnu : « {value} »',
  'template.emptyBody': 'le texte du modèle est vide',
  'template.bodyTooLong': 'le texte du modèle dépasse 20 000 caractères',
  'template.emptySubject': "l'objet du courriel est vide",
  'template.subjectTooLong': "l'objet du courriel dépasse 300 caractères",
  'template.unknownField': 'champ de fusion inconnu : {fields}',
  'template.unknownFields': 'champs de fusion inconnus : {fields}',
} as const;

export type DomainCode = keyof typeof DOMAIN_MESSAGES_FR;
export type DomainParams = Record<string, string | number>;

/**
 * A placeholder's value followed by `stop`, the sentence's full stop right after the placeholder ('' when none): a
 * value ending with one (a school named « …AIX_MARS. ») takes its place, no « .. ». Used by every template filler
 * (fillTemplate here, the web catalogue's fill, the letter texts' renderTemplate in publipostage/templates.ts).
 */
export function valueThenStop(value: string, stop: string): string {
  return stop && value.endsWith('.') ? value : value + stop;
}

/**
 * Placeholders `{…}` whose inside matches `name` (a regular expression's source, its groups the caller's), then the
 * sentence's full stop right after one, if any (a full stop followed by a space or the end): the last group, for
 * valueThenStop. Every template filler's pattern.
 */
export function placeholdersThenStop(name: string): RegExp {
  return new RegExp(`\\{${name}\\}((?:\\.(?=\\s|$))?)`, 'g');
}

const DOMAIN_PLACEHOLDER = placeholdersThenStop('(\\w+)');

/** Fills `{name}` placeholders (valueThenStop before a sentence's full stop); unknown ones stay as written. */
export function fillTemplate(template: string, params: DomainParams = {}): string {
  return template.replace(DOMAIN_PLACEHOLDER, (m, name: string, stop: string) => (name in params ? valueThenStop(String(params[name]), stop) : m));
}

/** A refused domain operation: `code` names the message, `params` fill it. */
export class DomainError extends Error {
  constructor(
    readonly messageCode: DomainCode,
    readonly params: DomainParams = {},
  ) {
    super(fillTemplate(DOMAIN_MESSAGES_FR[messageCode], params));
    this.name = 'DomainError';
  }
}
