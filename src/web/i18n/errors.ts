// Domain errors (src/lib/errors.ts) as the web shows them: French from the domain's own table, English here.
import { DOMAIN_MESSAGES_FR, type DomainCode } from '../../lib/errors.js';
import type { Catalogue } from './types.js';

const EN: Record<DomainCode, string> = {
  'directory.adminOnly': 'Administrators only.',
  'directory.userNotFound': 'User not found.',
  'directory.selfBlock': 'You cannot block your own account.',
  'directory.selfContact': 'Change your own email address in “Mon compte” (My account): your current password is asked there.',
  'directory.selfRenewal': 'No renewal code for your own account: change your password in “Mon compte” (My account).',
  'directory.invalidEmail': 'Invalid email address: “{value}”.',
  'directory.invalidPhone': 'Invalid phone number: “{value}”.',
  'directory.mergeSelf': 'An account cannot be merged with itself.',
  'directory.mergeBothActive': 'Both accounts are already activated: they cannot be merged. Block the one that should no longer be used.',
  'directory.mergeProfiles': 'The two accounts do not have the same profile: they cannot be merged.',
  'directory.mergeSuperAdmin': 'A super admin account cannot be merged.',
  'directory.readOnly': 'This account administers a school (yours or another) or teaches a class outside your scope: it is read-only for you, only a super administrator manages it.',
  'directory.pairSame': 'A pair of duplicates joins two different accounts.',
  'account.notActivated': 'This account is not activated yet: generate a new activation code instead.',
  'account.alreadyActivated': 'This account is already activated: generate a password renewal code instead.',
  'account.preDeleted': 'This account is pre-deleted: no code would open it. Restore it first (“Lifecycle”).',
  'account.blocked': 'This account is blocked: no code would open it. Unblock it first.',
  'template.invalid': 'Template {profile}/{kind} not saved: {errors}',
  'selection.invalidDate': 'Impossible date for “{field}”: “{value}” (expected YYYY-MM-DD, a calendar day).',
  'account.external': 'This account signs in with {provider}: no Trousseau code or password. Its password is managed by {provider}.',
  'lifecycle.self': 'You cannot pre-delete or delete your own account.',
  'lifecycle.activated': 'Cannot delete {logins} at once: activated and not pre-deleted. Pre-delete it first.',
  'lifecycle.selectionChanged': 'The selection changed since the confirmation: check it again.',
  'lifecycle.elsewhere':
    '{logins}: the account also belongs to a school you do not administer (itself or through its children); it is neither pre-deleted nor deleted. Its import will remove it there, or a super administrator.',
  'directory.mergeElsewhere':
    '{logins}: the account also belongs to a school you do not administer (itself or through its children); the merge would take it from that school. A super administrator can merge these accounts.',
  'localAdmin.notYourSchool': 'You do not administer this school.',
  'localAdmin.notMember': '{login} is not attached to this school.',
  'localAdmin.pupil': 'A pupil or a parent cannot administer a school.',
  'oidc.redirectUri': 'Redirect URI refused: “{value}” (https, or http on this machine only, no #).',
  'token.name': 'Give the token a name of 1 to 100 characters (what it is for, which server uses it).',
  'token.noStructure': 'Choose at least one school (or every school).',
  'token.unknownStructure': 'Unknown school: “{value}”.',
  // Word letters (issue #10, docx.ts)
  'docx.unreadable': '“{file}” is not a readable Word document (.docx).',
  'docx.syntax': '“{file}”: malformed merge tag {tag} (a brace opened and never closed, or closed and never opened). Each field is written between braces, for example {prenom}.',
  'docx.unknownField': '“{file}”: unknown merge field {{field}}. Known fields: {known}.',
  'docx.notFound': 'Word model not found.',
  'docx.linkedImage': 'The model {file} contains an image linked to an outside address ({part}): embed the image in the document.',
  'docx.linkedTemplate': 'The model {file} is attached to an outside document template ({part}): save it as a plain Word document (.docx), with no attached template.',
  'docx.linkedContent': 'The model {file} contains content linked to an outside address ({part}) — an object, subdocument, frame or INCLUDETEXT field: copy that content into the document itself.',
  'docx.tooLarge': '“{file}” for {count} accounts would make a document over {limit} MB: narrow the selection (one class, one profile) or lighten the model, then try again.',
  // Letter templates (validateTemplate)
  'template.unknownProfile': 'unknown profile: “{value}”',
  'template.unknownKind': 'unknown template type: “{value}”',
  'template.emptyBody': 'the template text is empty',
  'template.bodyTooLong': 'the template text is longer than 20,000 characters',
  'template.emptySubject': 'the email subject is empty',
  'template.subjectTooLong': 'the email subject is longer than 300 characters',
  'template.unknownField': 'unknown merge field: {fields}',
  'template.unknownFields': 'unknown merge fields: {fields}',
};

type Prefixed<T extends string> = `domain.${T}`;
const prefix = <V>(o: Record<DomainCode, V>) => Object.fromEntries(Object.entries(o).map(([k, v]) => [`domain.${k}`, v])) as Record<Prefixed<DomainCode>, V>;

export const errorsCatalogue = { fr: prefix<string>(DOMAIN_MESSAGES_FR), en: prefix(EN) } satisfies Catalogue;
