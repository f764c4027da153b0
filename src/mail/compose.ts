// The words of a merge mail: the letter template of kind mail_inactive / mail_active for the account's profile
// (structure override > global override > built-in, see publipostage/templates.ts), filled with its merge fields.
// The template is plain text; the HTML part is derived from it so both always say the same thing.
import { escapeHtml } from '../lib/html-escape.js';
import type { AppContext } from '../context.js';
import type { Queryable } from '../db/index.js';
import type { AccountRow } from '../publipostage/selection.js';
import { fieldsFor, loadTemplates, renderTemplate, templateFor, type MergeFields, type TemplateSet } from '../publipostage/templates.js';

export type MailKind = 'mail_inactive' | 'mail_active';

export interface AccountMail {
  kind: MailKind;
  subject: string;
  text: string;
  html: string;
}

export function mailKindOf(row: Pick<AccountRow, 'activated'>): MailKind {
  return row.activated ? 'mail_active' : 'mail_inactive';
}

export { escapeHtml };

/**
 * A name as plain text in a mail: a zero-width space after each '.', ':', '@' and '/' that is followed by more
 * text, so no mail client turns a name such as `evil.com` or `http://x` into a link (it reads the same). For
 * values that come from the directory or a user; never for a login, a code or a link (they are typed or followed).
 */
export function unlinkable(s: string): string {
  return s.replace(/([.:@/])(?=[^\s\u200b])/g, '$1\u200b');
}

/** Merge fields whose value is a name or a label taken from the directory (see unlinkable). */
const NAME_FIELDS = ['prenom', 'nom', 'enfants', 'etablissement', 'de_etablissement', 'classe'] as const;

// An URL in already-escaped text; trailing punctuation belongs to the sentence, not to the link.
const URL_IN_HTML = /https?:\/\/[^\s<]+?(?=[.,;:!?)»]*(?:\s|<|$))/g;

/** A numbered step of a letter (« 1. Va sur … »): its number and its words. */
const STEP = /^(\d+)\.\s+(.*)$/s;

/**
 * One paragraph of the text (HTML already): runs of numbered steps (1., 2., … in order) become an ordered list that a
 * screen reader announces as one (« liste, 5 éléments »), the other lines paragraphs with their line breaks.
 */
function blockToHtml(lines: string[]): string {
  const out: string[] = [];
  let plain: string[] = [];
  let items: string[] = [];
  let first = 1;
  let next = 0;
  const flushPlain = () => {
    if (plain.length) out.push(`<p>${plain.join('<br>\n')}</p>`);
    plain = [];
  };
  const flushItems = () => {
    if (items.length) out.push(`<ol${first === 1 ? '' : ` start="${first}"`}>\n${items.map((i) => `<li>${i}</li>`).join('\n')}\n</ol>`);
    items = [];
  };
  for (const line of lines) {
    const m = STEP.exec(line);
    if (m && (!items.length || Number(m[1]) === next)) {
      flushPlain();
      if (!items.length) first = Number(m[1]);
      next = Number(m[1]) + 1;
      items.push(m[2]);
    } else if (m) {
      flushItems();
      first = Number(m[1]);
      next = first + 1;
      items.push(m[2]);
    } else {
      flushItems();
      plain.push(line);
    }
  }
  flushItems();
  flushPlain();
  return out.join('\n');
}

/**
 * The HTML part of a mail whose plain text is `template` filled with `fields`: titled by the mail's subject, in
 * French; paragraphs from blank lines, numbered steps as an ordered list, other line breaks kept, links clickable,
 * the login and the code set apart.
 */
export function textToHtml(template: string, fields: MergeFields, subject: string): string {
  const htmlFields: Record<string, string> = {};
  for (const [k, v] of Object.entries(fields)) htmlFields[k] = escapeHtml(v);
  // The login and the code are copied by hand: a monospace face, as on the printed sheet, where l, 1, i, o and 0 differ.
  if (fields.login) htmlFields.login = `<strong style="font-family:monospace;font-size:1.1em">${escapeHtml(fields.login)}</strong>`;
  if (fields.code) htmlFields.code = `<strong style="font-family:monospace;font-size:1.2em;letter-spacing:.05em">${escapeHtml(fields.code)}</strong>`;
  // Escape the template first: placeholders survive escaping, and values are inserted already escaped.
  const body = renderTemplate(escapeHtml(template), htmlFields)
    .split(/\n\s*\n/)
    .map((p) => p.trim())
    .filter(Boolean)
    .map((p) => blockToHtml(p.replace(URL_IN_HTML, (u) => `<a href="${u}">${u}</a>`).split('\n').map((l) => l.trim())))
    .join('\n');
  return `<!doctype html>\n<html lang="fr"><head><meta charset="utf-8"><title>${escapeHtml(subject)}</title></head>\n<body style="font-family:sans-serif;line-height:1.45">\n${body}\n</body></html>\n`;
}

/**
 * Composes merge mails, loading each structure's templates once, on `db` (a run's own connection, so it never waits
 * for a second one while holding it; the pool by default).
 */
export class MailComposer {
  private readonly sets = new Map<string | null, Promise<TemplateSet>>();

  constructor(private readonly ctx: AppContext, private readonly db: Queryable = ctx.database.pool) {}

  private templates(structureId: string | null): Promise<TemplateSet> {
    let set = this.sets.get(structureId);
    if (!set) {
      set = loadTemplates({ database: { pool: this.db } }, structureId);
      this.sets.set(structureId, set);
    }
    return set;
  }

  async compose(row: AccountRow): Promise<AccountMail> {
    // A parent signing in elsewhere is mailed only by a family mail (merge.ts mailedBy): no letter of his own to fill.
    if (row.externalProvider) return this.external(row);
    const kind = mailKindOf(row);
    // The school's text as written; the built-in one of a pupil of maternelle speaks to the parents (templateFor).
    const template = templateFor(await this.templates(row.structureId), row, kind);
    const fields = this.fields(row);
    // One line: a template's subject must not smuggle extra headers or a folded line.
    const subject = renderTemplate(template.subject ?? '', fields).replace(/\s+/g, ' ').trim();
    return { kind, subject, text: renderTemplate(template.body, fields).trimEnd() + '\n', html: textToHtml(template.body, fields, subject) };
  }

  /** The account's merge fields, names made unlinkable (NAME_FIELDS). */
  private fields(row: AccountRow): MergeFields {
    const fields = fieldsFor(row, this.ctx);
    for (const k of NAME_FIELDS) fields[k] = unlinkable(fields[k]);
    return fields;
  }

  /** The family mail of a parent who signs in with `externalProvider`: his children's sheets attached, his own way in. */
  private external(row: AccountRow): AccountMail {
    const fields = this.fields(row);
    const provider = unlinkable(row.externalProvider!);
    const subject = EXTERNAL_SUBJECT;
    const body = EXTERNAL_BODY.replaceAll('{provider}', provider);
    return { kind: 'mail_active', subject, text: `${renderTemplate(body, fields).trimEnd()}\n`, html: textToHtml(body, fields, subject) };
  }
}

// Families read French (the letters' language, publipostage/templates.ts); {provider} is filled before the fields.
const EXTERNAL_SUBJECT = 'Les fiches de connexion de vos enfants';
const EXTERNAL_BODY = `Bonjour {prenom} {nom},

Vous trouverez en pièce jointe les fiches de connexion à l’ENT de vos enfants ({etablissement}) : remettez à chacun la sienne.

Votre propre compte ({login}) se connecte avec {provider} : sur la page de connexion de l’ENT, {url}, choisissez « {provider} ». Il n’a ni code d’activation ni mot de passe à créer.`;
