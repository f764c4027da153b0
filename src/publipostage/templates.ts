// Letter templates with merge fields ("{prenom}", "{code}", …), per profile and kind:
//   sheet_inactive / sheet_active: the body text of a printed sheet (the PDF draws the name, login, code,
//     QR code and expiry itself, then this text below them);
//   mail_inactive / mail_active: subject and plain-text body of a merge mail.
// French defaults live here; an administrator's overrides live in table letter_templates, either for one
// structure or global (structure_id null). Resolution: structure > global > default.
//
// API for the mail merge and the template editor:
//   MERGE_FIELDS, TEMPLATE_KINDS               what can be edited and inserted
//   renderTemplate(text, fields)               pure substitution
//   unknownFields(text)                        typos to report in an editor
//   defaultTemplate(profile, kind, young?, asked?)  the built-in text (young: a pupil of maternelle's, to the parents;
//                                              asked: the e-mail / phone the activation form requires)
//   loadTemplates(ctx, structureId | null)     resolved set: .get(profile, kind), built-ins fitted to the school's policies
//   templateFor(set, row, kind)                the text one account gets (the built-in one fitted to it)
//   saveTemplate(ctx, input, actorId)          upsert an override (validated, audited)
//   resetTemplate(ctx, key, actorId)           drop an override (back to global/default)
//   fieldsFor(row, ctx)                        merge values of one account
import type { AppContext } from '../context.js';
import type { Queryable } from '../db/index.js';
import { PROFILES, type Profile, type TemplateKind } from '../directory/vocabulary.js';
import { withTransaction } from '../accounts/tx.js';
import { recordAudit } from '../directory/audit.js';
import { loadPolicies } from '../directory/policies.js';
import { DOMAIN_MESSAGES_FR, DomainError, fillTemplate, placeholdersThenStop, valueThenStop, type DomainCode, type DomainParams } from '../lib/errors.js';
import { de } from '../lib/french.js';
import { activationUrl, childrenLabel, frenchDate } from './format.js';
import { formatCode } from '../accounts/codes.js';
import type { AccountRow } from './selection.js';

export type { TemplateKind };
export const TEMPLATE_KINDS = ['sheet_inactive', 'sheet_active', 'mail_inactive', 'mail_active'] as const satisfies readonly TemplateKind[];

export const MERGE_FIELDS = [
  { name: 'prenom', label: 'Prénom' },
  { name: 'nom', label: 'Nom' },
  { name: 'classe', label: 'Classe (pour un parent : celles de ses enfants)' },
  { name: 'login', label: 'Identifiant' },
  { name: 'code', label: 'Code d’activation (vide si le compte est activé)' },
  { name: 'enfants', label: 'Enfants et leurs classes (parents)' },
  { name: 'etablissement', label: 'Établissement' },
  { name: 'de_etablissement', label: '« de » et l’établissement (du Collège…, de l’École…)' },
  { name: 'url', label: 'Adresse de l’ENT' },
  { name: 'date_expiration', label: 'Date d’expiration du code' },
  { name: 'lien_activation', label: 'Lien d’activation (identifiant et code pré-remplis)' },
] as const;
export type MergeField = (typeof MERGE_FIELDS)[number]['name'];
export type MergeFields = Record<MergeField, string>;
const FIELD_NAMES = new Set<string>(MERGE_FIELDS.map((f) => f.name));

const PLACEHOLDER = /\{([a-z_]+)\}/g;
/** A placeholder and the sentence's full stop right after it, if any (the rule of lib/errors.ts fillTemplate). */
const PLACEHOLDER_STOP = placeholdersThenStop('([a-z_]+)');

/**
 * Replaces each {field} by its value in one pass: values are inserted as-is (a value containing "{code}"
 * stays literal text), and unknown or missing fields are left visible as written so a typo shows on paper.
 * A value ending with a full stop takes the place of the sentence's own (valueThenStop): a school named
 * « Collège A. » prints « du Collège A. Garde… », not « A.. ».
 */
export function renderTemplate(text: string, fields: Partial<Record<string, string>>): string {
  return text.replace(PLACEHOLDER_STOP, (whole, name: string, stop: string) => {
    const v = Object.hasOwn(fields, name) ? fields[name] : undefined;
    return v === undefined ? whole : valueThenStop(v, stop);
  });
}

/** Placeholders that are not merge fields, in order of appearance, once each. */
export function unknownFields(text: string): string[] {
  const out: string[] = [];
  for (const m of text.matchAll(PLACEHOLDER)) if (!FIELD_NAMES.has(m[1]) && !out.includes(m[1])) out.push(m[1]);
  return out;
}

/** The merge values of one account. `code` is grouped (MXTT-GF5E-AB) and empty when there is no valid code. */
export function fieldsFor(row: AccountRow, ctx: Pick<AppContext, 'config'>): MergeFields {
  const code = !row.activated && row.code ? row.code : null;
  return {
    prenom: row.firstName,
    nom: row.lastName,
    classe: row.classes.join(', '),
    login: row.login,
    code: code ? formatCode(code) : '',
    enfants: childrenLabel(row.children),
    etablissement: row.structureName,
    de_etablissement: de(row.structureName),
    url: ctx.config.publicUrl,
    date_expiration: !row.activated && row.codeExpiresAt ? frenchDate(row.codeExpiresAt) : '',
    lien_activation: code ? activationUrl(ctx.config.publicUrl, row.login, code) : '',
  };
}

// ---------------------------------------------------------------------------------------------------------
// Default texts. Students are addressed with "tu", everyone else with "vous"; a pupil of maternelle (young-pupil.ts),
// who cannot read, is not addressed at all: the texts speak to the parents, in "vous", of "votre enfant" (Audience
// 'parents'). Sheet bodies are written to fit under the credentials block, even at 8 sheets per page.

/** Who a built-in text speaks to: a pupil ("tu"), the parents of a pupil of maternelle, anyone else ("vous"). */
export type Audience = 'tu' | 'parents' | 'vous';

/** What the activation form asks for besides the password: the profile policy's emailRequired / phoneRequired. */
export interface Asked {
  email: boolean;
  phone: boolean;
}
const OPTIONAL: Asked = { email: false, phone: false };

// First-connection steps; a mail has no QR code to scan, a sheet has. The parents give their own e-mail address. The
// e-mail and the phone are optional on the activation form unless the school's profile policy requires them (`asked`):
// the steps say which, as the form will, and why an address is worth giving.
const stepsText = (to: Audience, qr: boolean, asked: Asked = OPTIONAL) => {
  const email = asked.email ? 'obligatoire' : 'facultatif';
  return to === 'tu'
    ? `Première connexion :
1. Va sur {url}/activation${qr ? ' (ou scanne le QR code)' : ''} et saisis ton identifiant et ton code d’activation.
2. Choisis ton mot de passe et saisis-le deux fois.
3. Indique une adresse électronique (${email}) : elle servira si tu oublies ton mot de passe.
4. Indique ton numéro de téléphone${asked.phone ? ' (obligatoire)' : ' si tu le souhaites (facultatif)'}.
5. Lis et accepte les conditions d’utilisation de l’ENT.`
    : to === 'parents'
      ? `Première connexion :
1. Rendez-vous sur {url}/activation${qr ? ' (ou scannez le QR code)' : ''} et saisissez l’identifiant et le code d’activation de votre enfant.
2. Choisissez son mot de passe et saisissez-le deux fois.
3. Indiquez votre adresse électronique (${email}) : elle permet de renouveler un mot de passe oublié.
4. Indiquez votre numéro de téléphone${asked.phone ? ' (obligatoire)' : ' si vous le souhaitez (facultatif)'}.
5. Lisez et acceptez les conditions d’utilisation de l’ENT.`
      : `Première connexion :
1. Rendez-vous sur {url}/activation${qr ? ' (ou scannez le QR code)' : ''} et saisissez votre identifiant et votre code d’activation.
2. Choisissez votre mot de passe et saisissez-le deux fois.
3. Indiquez une adresse électronique (${email}) : elle permet de renouveler un mot de passe oublié.
4. Indiquez votre numéro de téléphone${asked.phone ? ' (obligatoire)' : ' si vous le souhaitez (facultatif)'}.
5. Lisez et acceptez les conditions d’utilisation de l’ENT.`;
};

const RENEWAL: Record<Audience, string> = {
  tu: `Ton compte est déjà activé : connecte-toi sur {url} avec ton identifiant et ton mot de passe.

Mot de passe oublié ?
1. Sur la page de connexion, clique sur « Mot de passe oublié ».
2. Saisis ton identifiant : un lien de renouvellement est envoyé à l’adresse électronique de ton compte.
3. Suis ce lien et choisis un nouveau mot de passe.
Sans accès à cette adresse, demande un code de renouvellement à l’administrateur de l’ENT {de_etablissement}.`,
  parents: `Le compte de votre enfant est déjà activé : pour vous connecter ensemble, allez sur {url} et saisissez son identifiant et son mot de passe.

Mot de passe oublié ?
1. Sur la page de connexion, cliquez sur « Mot de passe oublié ».
2. Saisissez l’identifiant de votre enfant : un lien de renouvellement est envoyé à l’adresse électronique de son compte.
3. Suivez ce lien et choisissez un nouveau mot de passe.
Sans accès à cette adresse, demandez un code de renouvellement à l’enseignant de votre enfant ou à l’administrateur de l’ENT {de_etablissement}.`,
  vous: `Votre compte est déjà activé : connectez-vous sur {url} avec votre identifiant et votre mot de passe.

Mot de passe oublié ?
1. Sur la page de connexion, cliquez sur « Mot de passe oublié ».
2. Saisissez votre identifiant : un lien de renouvellement est envoyé à l’adresse électronique de votre compte.
3. Suivez ce lien et choisissez un nouveau mot de passe.
Sans accès à cette adresse, demandez un code de renouvellement à l’administrateur de l’ENT {de_etablissement}.`,
};

// The same for an account without an e-mail address: « Mot de passe oublié » sends its link to the account's address,
// so such a sheet sends the reader to a renewal code instead (given by a teacher in the class view, or the school),
// typed on the sign-in page's « Utiliser un code de renouvellement ».
const RENEWAL_NO_EMAIL: Record<Audience, string> = {
  tu: `Ton compte est déjà activé : connecte-toi sur {url} avec ton identifiant et ton mot de passe.

Mot de passe oublié ?
Ton compte n’a pas d’adresse électronique : demande un code de renouvellement à ton professeur ou à l’administrateur de l’ENT {de_etablissement}, puis saisis-le sur la page de connexion, « Utiliser un code de renouvellement ».`,
  parents: `Le compte de votre enfant est déjà activé : pour vous connecter ensemble, allez sur {url} et saisissez son identifiant et son mot de passe.

Mot de passe oublié ?
Le compte de votre enfant n’a pas d’adresse électronique : demandez un code de renouvellement à l’enseignant de votre enfant ou à l’administrateur de l’ENT {de_etablissement}, puis saisissez-le sur la page de connexion, « Utiliser un code de renouvellement ».`,
  vous: `Votre compte est déjà activé : connectez-vous sur {url} avec votre identifiant et votre mot de passe.

Mot de passe oublié ?
Votre compte n’a pas d’adresse électronique : demandez un code de renouvellement à l’administrateur de l’ENT {de_etablissement}, puis saisissez-le sur la page de connexion, « Utiliser un code de renouvellement ».`,
};

/** Who the built-in texts of an account speak to (a pupil of maternelle: their parents); a sheet's own notes too (pdf.ts). */
export function audienceOf(profile: Profile, youngPupil = false): Audience {
  return profile !== 'Student' ? 'vous' : youngPupil ? 'parents' : 'tu';
}

/**
 * The built-in sheet_active text for an account without an e-mail address (no reset link can reach it); for a pupil of
 * maternelle, addressed to the parents. Used only where the built-in text applies: a school's own text is printed as
 * written.
 */
export function defaultSheetActiveWithoutEmail(profile: Profile, youngPupil = false, why: 'noAddress' | 'noMailServer' = 'noAddress'): string {
  const text = RENEWAL_NO_EMAIL[audienceOf(profile, youngPupil)];
  // An account with an address where no mail server is configured: the renewal code, without claiming no address.
  return why === 'noAddress' ? text : text.replace(/^.*n’a pas d’adresse électronique : d/m, 'D');
}

/** The words of the built-in parents' texts about the children, and those for a parent of one child (templateFor). */
const CHILDREN_WORDS = 'la scolarité de vos enfants';
const ONE_CHILD_WORDS = 'la scolarité de votre enfant';

// Sheet bodies name nobody: the sheet prints the name, the children and the credentials above the body,
// and a text shared by a whole class is laid out once and reused by every sheet (pdf.ts).
const SHEET_INTRO: Record<Profile, string> = {
  Student: `Voici tes informations de connexion à l’espace numérique de travail (ENT) {de_etablissement}. Garde cette fiche pour toi.`,
  Relative: `Madame, Monsieur, voici vos informations de connexion à l’espace numérique de travail (ENT) {de_etablissement}. Ce compte de responsable vous permet de suivre ${CHILDREN_WORDS}.`,
  Teacher: `Voici vos informations de connexion à l’espace numérique de travail (ENT) {de_etablissement}, où vous retrouverez vos classes.`,
  Personnel: `Voici vos informations de connexion à l’espace numérique de travail (ENT) {de_etablissement}.`,
  Guest: `Vous êtes invité(e) dans l’espace numérique de travail (ENT) {de_etablissement}. Voici vos informations de connexion.`,
};
/** A pupil of maternelle's sheet: to the parents, who keep it (the child signs in with them). */
const SHEET_INTRO_PARENTS = `Madame, Monsieur, voici les informations de connexion de votre enfant à l’espace numérique de travail (ENT) {de_etablissement}. Gardez cette fiche : c’est avec vous que votre enfant se connectera.`;

// Mails are addressed to the person, who reads them on a screen: no "keep this sheet", no QR code.
const MAIL_INTRO: Record<Profile, string> = {
  Student: `Voici tes informations de connexion à l’espace numérique de travail (ENT) {de_etablissement}. Ne les partage avec personne.`,
  Relative: `Voici vos informations de connexion à l’espace numérique de travail (ENT) {de_etablissement}. Ce compte de responsable vous permet de suivre ${CHILDREN_WORDS} : {enfants}.`,
  Teacher: SHEET_INTRO.Teacher,
  Personnel: SHEET_INTRO.Personnel,
  Guest: SHEET_INTRO.Guest,
};
/** The mail of a pupil of maternelle goes to their account's address, the parents' (given at activation). */
const MAIL_INTRO_PARENTS = `Voici les informations de connexion de votre enfant, {prenom} {nom}, à l’espace numérique de travail (ENT) {de_etablissement}. Ne les partagez avec personne : c’est avec vous que votre enfant se connectera.`;

const MAIL_GREETING: Record<Profile, string> = {
  Student: 'Bonjour {prenom},',
  Relative: 'Bonjour {prenom} {nom},',
  Teacher: 'Bonjour {prenom} {nom},',
  Personnel: 'Bonjour {prenom} {nom},',
  Guest: 'Bonjour {prenom} {nom},',
};
/** To the parents of a pupil of maternelle; the pupil is named by the text, after « votre enfant » (no « de {prenom} »: « de Emma »). */
const MAIL_GREETING_PARENTS = 'Madame, Monsieur,';

// The expiry date is printed next to the code, above the body.
const CODE_NOTE: Record<Audience, string> = {
  tu: `Ton code ne sert qu’une fois, jusqu’à la date indiquée ci-dessus. Ne le donne à personne.`,
  parents: `Le code ne sert qu’une fois, jusqu’à la date indiquée ci-dessus. Ne le communiquez à personne.`,
  vous: `Le code ne sert qu’une fois, jusqu’à la date indiquée ci-dessus. Ne le communiquez à personne.`,
};

const MAIL_INACTIVE_BODY = (profile: Profile, to: Audience, asked: Asked) => {
  const tu = to === 'tu';
  return `${to === 'parents' ? MAIL_GREETING_PARENTS : MAIL_GREETING[profile]}

${to === 'parents' ? MAIL_INTRO_PARENTS : MAIL_INTRO[profile]}

${tu ? 'Ton identifiant' : 'Identifiant'} : {login}
${tu ? 'Ton code d’activation' : 'Code d’activation'} : {code} (valable jusqu’au {date_expiration})

${
  tu ? 'Pour activer ton compte, ouvre ce lien (identifiant et code déjà remplis)'
  : to === 'parents' ? 'Pour activer le compte de votre enfant, ouvrez ce lien (identifiant et code déjà remplis)'
  : 'Pour activer votre compte, ouvrez ce lien (identifiant et code déjà remplis)'
} :
{lien_activation}

${stepsText(to, false, asked)}

${
  tu ? 'Ce message t’est envoyé par l’administrateur de l’ENT de ton établissement.'
  : to === 'parents' ? 'Ce message vous est envoyé par l’administrateur de l’ENT de l’école de votre enfant.'
  : 'Ce message vous est envoyé par l’administrateur de l’ENT de votre établissement.'
}`;
};

const MAIL_ACTIVE_BODY = (profile: Profile, to: Audience) =>
  to === 'parents'
    ? `${MAIL_GREETING_PARENTS}

Votre enfant : {prenom} {nom}
Son identifiant : {login}

${RENEWAL.parents}

Page « Mot de passe oublié » : {url}/mot-de-passe-oublie`
    : `${MAIL_GREETING[profile]}

${to === 'tu' ? 'Ton identifiant' : 'Votre identifiant'} : {login}

${RENEWAL[to]}

Page « Mot de passe oublié » : {url}/mot-de-passe-oublie`;

/**
 * The built-in text of a kind for a profile; `subject` is null for sheets. With `youngPupil` (a Student in
 * maternelle, young-pupil.ts), the text addressed to the pupil's parents.
 */
export function defaultTemplate(profile: Profile, kind: TemplateKind, youngPupil = false, asked: Asked = OPTIONAL): { subject: string | null; body: string } {
  const to = audienceOf(profile, youngPupil);
  switch (kind) {
    case 'sheet_inactive':
      return { subject: null, body: `${to === 'parents' ? SHEET_INTRO_PARENTS : SHEET_INTRO[profile]}\n\n${stepsText(to, true, asked)}\n\n${CODE_NOTE[to]}` };
    case 'sheet_active':
      return { subject: null, body: RENEWAL[to] };
    case 'mail_inactive':
      return { subject: to === 'parents' ? 'Activez le compte de l’ENT de votre enfant – {etablissement}' : 'Activez votre compte de l’ENT – {etablissement}', body: MAIL_INACTIVE_BODY(profile, to, asked) };
    case 'mail_active':
      return { subject: to === 'parents' ? 'Le compte de l’ENT de votre enfant – {etablissement}' : 'Votre compte de l’ENT – {etablissement}', body: MAIL_ACTIVE_BODY(profile, to) };
  }
}

/**
 * The text of `kind` that one account gets: its school's (or the global) text as written, for everyone of its
 * profile; else the built-in one — for a pupil of maternelle, addressed to their parents, for a parent of one child,
 * in the singular, and a sheet_active for an account without an e-mail address, with the renewal-code steps (no reset
 * link can reach it). `mailServer`: whether « Mot de passe oublié » can send its link (config.smtpUrl); without one, an
 * activated account's built-in sheet sends to a renewal code as one without an address does.
 */
export function templateFor(set: TemplateSet, row: Pick<AccountRow, 'profile' | 'youngPupil' | 'email' | 'children'>, kind: TemplateKind, mailServer = true): LetterTemplate {
  const chosen = set.get(row.profile, kind);
  if (chosen.source !== 'default') return chosen;
  // A parent of one child follows « votre enfant », not « vos enfants ».
  if (row.profile === 'Relative' && row.children?.length === 1 && chosen.body.includes(CHILDREN_WORDS)) return { ...chosen, body: chosen.body.replace(CHILDREN_WORDS, ONE_CHILD_WORDS) };
  const young = row.profile === 'Student' && !!row.youngPupil;
  if (kind === 'sheet_active' && !row.email?.trim()) return { ...chosen, body: defaultSheetActiveWithoutEmail(row.profile, young) };
  if (kind === 'sheet_active' && !mailServer) return { ...chosen, body: defaultSheetActiveWithoutEmail(row.profile, young, 'noMailServer') };
  return young ? { ...chosen, ...set.youngDefault(kind) } : chosen;
}

// ---------------------------------------------------------------------------------------------------------

export interface LetterTemplate {
  profile: Profile;
  kind: TemplateKind;
  /** Mail subject; null for sheets. */
  subject: string | null;
  body: string;
  /** Where the text comes from: built-in, global override, or this structure's override. */
  source: 'default' | 'global' | 'structure';
  updatedAt: Date | null;
}

/** The templates that apply to one structure (or to all, for null), every profile and kind resolved. */
export class TemplateSet {
  constructor(
    readonly structureId: string | null,
    private readonly byKey: Map<string, LetterTemplate>,
    private readonly young: ReadonlyMap<TemplateKind, { subject: string | null; body: string }>,
  ) {}

  /** The same set with `t` in place of its profile and kind (the template editor's preview of a draft). */
  with(t: LetterTemplate): TemplateSet {
    return new TemplateSet(this.structureId, new Map([...this.byKey, [`${t.profile}/${t.kind}`, t]]), this.young);
  }

  get(profile: Profile, kind: TemplateKind): LetterTemplate {
    return this.byKey.get(`${profile}/${kind}`)!;
  }

  /** The built-in text of `kind` for the parents of a pupil of maternelle, as this school asks for pupils. */
  youngDefault(kind: TemplateKind): { subject: string | null; body: string } {
    return this.young.get(kind)!;
  }

  all(): LetterTemplate[] {
    return [...this.byKey.values()];
  }
}

export async function loadTemplates(ctx: { database: { pool: Queryable } }, structureId: string | null): Promise<TemplateSet> {
  const res = await ctx.database.pool.query(
    `SELECT structure_id, profile, kind, subject, body, updated_at FROM letter_templates
     WHERE structure_id IS NULL OR structure_id = $1`,
    [structureId],
  );
  // The built-in steps say what the school's activation form requires (its profile policies).
  const policies = structureId ? await loadPolicies(ctx.database.pool, structureId) : [];
  const askedOf = (profile: Profile): Asked => {
    const p = policies.find((x) => x.profile === profile);
    return p ? { email: p.emailRequired, phone: p.phoneRequired } : OPTIONAL;
  };
  let set = builtInTemplates(structureId, askedOf);
  // Global overrides first, then the structure's on top.
  const rows = [...res.rows].sort((a, b) => (a.structure_id ? 1 : 0) - (b.structure_id ? 1 : 0));
  for (const r of rows) {
    if (!(PROFILES as readonly string[]).includes(r.profile) || !(TEMPLATE_KINDS as readonly string[]).includes(r.kind)) continue;
    set = set.with({
      profile: r.profile,
      kind: r.kind,
      subject: r.subject ?? set.get(r.profile, r.kind).subject,
      body: r.body,
      source: r.structure_id ? 'structure' : 'global',
      updatedAt: r.updated_at,
    });
  }
  return set;
}

/**
 * The built-in texts of every profile and kind, their first-connection steps fitted to what each profile's activation
 * form asks (`askedOf`: the school's profile policies; optional e-mail and phone by default).
 */
export function builtInTemplates(structureId: string | null, askedOf: (profile: Profile) => Asked = () => OPTIONAL): TemplateSet {
  const map = new Map<string, LetterTemplate>();
  for (const profile of PROFILES) {
    for (const kind of TEMPLATE_KINDS) map.set(`${profile}/${kind}`, { profile, kind, ...defaultTemplate(profile, kind, false, askedOf(profile)), source: 'default', updatedAt: null });
  }
  // The parents of a pupil of maternelle activate the pupil's account: the pupils' policy.
  const young = new Map(TEMPLATE_KINDS.map((k) => [k, defaultTemplate('Student', k, true, askedOf('Student'))]));
  return new TemplateSet(structureId, map, young);
}

export interface TemplateInput {
  structureId: string | null;
  profile: Profile;
  kind: TemplateKind;
  subject?: string | null;
  body: string;
}

/** One problem of a template draft: a message code (src/lib/errors.ts) and its parameters, naming the field. */
export interface TemplateProblem {
  code: DomainCode;
  params?: DomainParams;
}

/** Why a draft cannot be saved, as message codes (the web translates them); empty when it can be saved. */
export function templateProblems(input: TemplateInput): TemplateProblem[] {
  const out: TemplateProblem[] = [];
  if (!(PROFILES as readonly string[]).includes(input.profile)) out.push({ code: 'template.unknownProfile', params: { value: input.profile } });
  if (!(TEMPLATE_KINDS as readonly string[]).includes(input.kind)) out.push({ code: 'template.unknownKind', params: { value: input.kind } });
  if (!input.body.trim()) out.push({ code: 'template.emptyBody' });
  if (input.body.length > 20_000) out.push({ code: 'template.bodyTooLong' });
  const isMail = input.kind === 'mail_inactive' || input.kind === 'mail_active';
  if (isMail && !input.subject?.trim()) out.push({ code: 'template.emptySubject' });
  if (input.subject && input.subject.length > 300) out.push({ code: 'template.subjectTooLong' });
  const unknown = [...unknownFields(input.body), ...unknownFields(input.subject ?? '')];
  const names = [...new Set(unknown)];
  if (names.length) out.push({ code: names.length === 1 ? 'template.unknownField' : 'template.unknownFields', params: { fields: names.map((f) => `{${f}}`).join(', ') } });
  return out;
}

/** French validation errors, each naming the field (the command line, saveTemplate's error); empty when valid. */
export function validateTemplate(input: TemplateInput): string[] {
  return templateProblems(input).map((p) => fillTemplate(DOMAIN_MESSAGES_FR[p.code], p.params));
}

/** Creates or replaces an override. Throws a French error (nothing written) when validation fails. */
export async function saveTemplate(ctx: Pick<AppContext, 'database'>, input: TemplateInput, actorId: string | null = null): Promise<void> {
  const errors = validateTemplate(input);
  if (errors.length) throw new DomainError('template.invalid', { profile: input.profile, kind: input.kind, errors: errors.join(' ; ') });
  const isMail = input.kind.startsWith('mail_');
  // The override and its audit row commit together.
  await withTransaction(ctx.database.pool, async (client) => {
  await client.query(
    `INSERT INTO letter_templates (structure_id, profile, kind, subject, body)
     VALUES ($1, $2, $3, $4, $5)
     ON CONFLICT ((coalesce(structure_id, '00000000-0000-0000-0000-000000000000'::uuid)), profile, kind)
     DO UPDATE SET subject = EXCLUDED.subject, body = EXCLUDED.body, updated_at = now()`,
    [input.structureId, input.profile, input.kind, isMail ? input.subject!.trim() : null, input.body],
  );
  await recordAudit(client, actorId, 'template.save', { structureId: input.structureId, profile: input.profile, kind: input.kind });
  });
}

/** Removes an override; true when there was one. */
export async function resetTemplate(
  ctx: Pick<AppContext, 'database'>,
  key: { structureId: string | null; profile: Profile; kind: TemplateKind },
  actorId: string | null = null,
): Promise<boolean> {
  return withTransaction(ctx.database.pool, async (client) => {
    const res = await client.query(
      `DELETE FROM letter_templates WHERE structure_id IS NOT DISTINCT FROM $1 AND profile = $2 AND kind = $3`,
      [key.structureId, key.profile, key.kind],
    );
    if (res.rowCount) await recordAudit(client, actorId, 'template.reset', key);
    return (res.rowCount ?? 0) > 0;
  });
}
