// "Générer en PDF": connection sheets ("fiches de connexion"), 1, 2 or 8 per A4 page.
//
// Speed matters (a whole région prints at once), so the file is written by a small writer of our own for
// these fixed layouts (pdf-writer.ts: objects out as soon as complete, memory flat whatever the page count),
// with DejaVu fonts subset and mapped back to Unicode for copy/paste, pdftotext and screen readers
// (pdf-font.ts). Page content is written directly:
//  - each font maps a code point to its glyph once per document (no shaping: names need none, and
//    extracted text stays exactly what was written);
//  - whatever repeats is built once and reused as Form XObjects or content-stream text: the school header,
//    the address line, the cut marks, and each paragraph of each distinct body text (a template rendered
//    for a sheet is usually identical from one sheet to the next, so it is wrapped and fitted once);
//  - the QR code is one filled path of merged rectangles (qr.ts), in module units under a scaling matrix.
// Sheets are placed on a grid with `q 1 0 0 1 x y cm … Q`, so a sheet is drawn in its own coordinates.
//
// The PDF is tagged (pdf-tags.ts): each piece of a sheet is its own marked-content sequence, even when it
// draws a shared Form XObject, so every sheet has its own structure (a Sect: school, heading with the
// name, who, the credentials as a list, the QR code as a Figure whose alternative text is its link, the
// letter text as paragraphs and lists). A label and its value are one text run, read together.
import { PassThrough, type Readable } from 'node:stream';
import { formatCode } from '../accounts/codes.js';
import type { AppContext } from '../context.js';
import type { Queryable } from '../db/index.js';
import { activationUrl, childrenLabel, frenchDate } from './format.js';
import { PROFILE_LABELS } from '../directory/vocabulary.js';
import { MIN_SHEETS_FOR_WORKER, pageStreams } from './qr-pool.js';
import { pageStream, type PageContent, type QrPlacement } from './qr.js';
import type { AccountRow, SortOrder } from './selection.js';
import { dejavu, Face } from './pdf-font.js';
import { artifact, StructTree, type Elem } from './pdf-tags.js';
import { num, pdfDate, pdfString, PdfWriter } from './pdf-writer.js';
import { ADDRESS_BAND, ADDRESS_WINDOW, addressLines } from './address-block.js';
import { type Audience, audienceOf, fieldsFor, loadTemplates, MERGE_FIELDS, renderTemplate, templateFor, type TemplateSet } from './templates.js';

export type SheetModel = 1 | 2 | 8;
export const SHEET_MODELS: readonly SheetModel[] = [1, 2, 8];

export interface SheetOptions {
  model: SheetModel;
  /** The order the rows are in; 'class' starts a new page at each class, 'family' at each family (pageBreaks). */
  sort?: SortOrder;
  /** Printed when a row has no structure (e.g. a guest attached to none). */
  structureName?: string;
  lang?: 'fr' | 'en';
  /** Templates per structure id ('' = no structure); those missing are loaded from the database into it. */
  templates?: Map<string, TemplateSet>;
  /**
   * 'renewal': renewal sheets (renewal-sheets.ts) — each row's `code` and `codeExpiresAt` are its renewal code,
   * the QR code leads to the renewal page and a fixed text replaces the letter template.
   */
  variant?: 'renewal';
  /**
   * Postal addresses per account id (model 1 only): each sheet leaves the top band free and the recipient's
   * address is printed in a window envelope's window (address-block.ts). Each entry is removed once its sheet is
   * laid out, so a streamed export may keep adding the next batches' addresses in flat memory.
   */
  addresses?: Map<string, string>;
}

// ---------------------------------------------------------------------------------------------------------
// Fonts

const FONT_FILES = {
  sans: 'DejaVuSans.ttf',
  bold: 'DejaVuSans-Bold.ttf',
  mono: 'DejaVuSansMono.ttf',
  monoBold: 'DejaVuSansMono-Bold.ttf',
} as const;
type FontName = keyof typeof FONT_FILES;
type Faces = Record<FontName, Face>;

/** Names and templates can carry anything: NFC (one glyph per accented letter), no control characters. */
function clean(s: string): string {
  // eslint-disable-next-line no-control-regex
  return s.normalize('NFC').replace(/[\u0000-\u001f\u007f-\u009f\u2028\u2029]+/g, ' ');
}

/** One text run at baseline (x, y). */
function textOp(face: Face, size: number, x: number, y: number, s: string): string {
  return `BT /${face.id} ${num(size)} Tf ${num(x)} ${num(y)} Td <${face.hex(s)}> Tj ET`;
}

/** Longest prefix of `s` that fits `width`, with an ellipsis when cut. */
function truncate(face: Face, size: number, s: string, width: number): string {
  if (face.width(s, size) <= width) return s;
  const chars = [...s];
  let lo = 0;
  let hi = chars.length;
  while (lo < hi) {
    const mid = (lo + hi + 1) >> 1;
    if (face.width(chars.slice(0, mid).join('') + '…', size) <= width) lo = mid;
    else hi = mid - 1;
  }
  return chars.slice(0, lo).join('').trimEnd() + '…';
}

/**
 * Greedy word wrap; a word longer than the line (a URL) is cut where it must. A line broken at a space
 * keeps that space at its end (invisible): text extraction and screen readers then join the lines
 * with a space, and a cut word without one.
 */
function wrap(face: Face, size: number, text: string, width: number, firstIndent = 0, indent = 0): string[] {
  const words = text.split(/ +/).filter(Boolean);
  const lines: string[] = [];
  let line = '';
  const space = face.width(' ', size);
  let avail = width - firstIndent;
  let lineW = 0;
  for (let word of words) {
    let w = face.width(word, size);
    if (line && lineW + space + w <= avail) {
      line += ' ' + word;
      lineW += space + w;
      continue;
    }
    if (line) {
      lines.push(line + ' ');
      avail = width - indent;
    }
    while (w > avail) {
      // Hard break inside a word too long for any line.
      const chars = [...word];
      let n = 1;
      while (n < chars.length && face.width(chars.slice(0, n + 1).join(''), size) <= avail) n++;
      lines.push(chars.slice(0, n).join(''));
      avail = width - indent;
      word = chars.slice(n).join('');
      w = face.width(word, size);
    }
    line = word;
    lineW = w;
  }
  if (line || !lines.length) lines.push(line);
  return lines;
}

// ---------------------------------------------------------------------------------------------------------
// Geometry and wording

const A4 = { w: 595.28, h: 841.89 };

interface Geometry {
  cols: number;
  rows: number;
  pad: number;
  school: number;
  subtitle: number;
  name: number;
  detail: number;
  label: number;
  login: number;
  code: number;
  qr: number;
  caption: number;
  body: number;
  bodyMin: number;
  /** Line height of the body, in font sizes. */
  leading: number;
}

const GEOMETRY: Record<SheetModel, Geometry> = {
  1: { cols: 1, rows: 1, pad: 56, school: 16, subtitle: 10, name: 20, detail: 11, label: 11, login: 14, code: 22, qr: 150, caption: 8, body: 12, bodyMin: 8, leading: 1.35 },
  2: { cols: 1, rows: 2, pad: 30, school: 12, subtitle: 8, name: 14, detail: 9, label: 9, login: 11, code: 16, qr: 104, caption: 6.5, body: 8.5, bodyMin: 6, leading: 1.3 },
  // A quarter of a half page: no subtitle, and a short text instead of the letter (SIMPLIFIED), so that every line
  // stays legible for families (the whole letter took 5.4 pt, down to 4.3).
  8: { cols: 2, rows: 4, pad: 11, school: 8, subtitle: 0, name: 9.5, detail: 7.5, label: 7.5, login: 8.5, code: 10.5, qr: 66, caption: 6, body: 9, bodyMin: 7.5, leading: 1.3 },
};

const LABELS = {
  fr: {
    subtitle: 'Espace numérique de travail — fiche de connexion',
    address: 'Adresse de l’ENT : ',
    login: 'Identifiant : ',
    code: 'Code d’activation : ',
    validUntil: 'Code valable jusqu’au ',
    scan: 'Scannez pour activer',
    active: 'Compte déjà activé : pas de code, votre mot de passe reste valable.',
    expired: 'Code d’activation expiré : demandez-en un nouveau à l’administrateur de l’ENT.',
    none: 'Aucun code d’activation : demandez-le à l’administrateur de l’ENT.',
    external: 'Connexion avec {provider} : pas de code d’activation. Sur l’adresse de l’ENT ci-dessus, choisissez « {provider} » et utilisez vos identifiants {provider}.',
    responsibleOf: 'Responsable de : ',
    title: 'Fiches de connexion',
    // Not printed: the figure's alternative text stays ASCII, a short literal string in every sheet's tag (not UTF-16).
    qrAlt: "QR code d'activation : ",
    lang: 'fr-FR',
  },
  en: {
    subtitle: 'Digital workspace — connection sheet',
    address: 'Address: ',
    login: 'Login: ',
    code: 'Activation code: ',
    validUntil: 'Code valid until ',
    scan: 'Scan to activate',
    active: 'Account already activated: no code, your password still works.',
    expired: 'Activation code expired: ask the ENT administrator for a new one.',
    none: 'No activation code: ask the ENT administrator for one.',
    external: 'Sign in with {provider}: no activation code. At the ENT address above, choose “{provider}” and use your {provider} credentials.',
    responsibleOf: 'Parent of: ',
    title: 'Connection sheets',
    qrAlt: 'Activation QR code: ',
    lang: 'en',
  },
};
type Labels = (typeof LABELS)['fr'];

/**
 * A pupil's sheet says « tu » on every line, like its letter text (templates.ts); everyone else's « vous ». English
 * has one form. The words printed by the sheet itself that address the reader: the QR caption, the notes.
 */
const TU: Record<'fr' | 'en', Partial<Labels>> = {
  fr: {
    scan: 'Scanne pour activer',
    active: 'Compte déjà activé : pas de code, ton mot de passe reste valable.',
    expired: 'Code d’activation expiré : demandes-en un nouveau à ton professeur ou à l’administrateur de l’ENT.',
    none: 'Aucun code d’activation : demande-le à ton professeur ou à l’administrateur de l’ENT.',
    external: 'Connexion avec {provider} : pas de code d’activation. Sur l’adresse de l’ENT ci-dessus, choisis « {provider} » et utilise tes identifiants {provider}.',
  },
  en: {},
};

/**
 * The sheet of a pupil of maternelle (young-pupil.ts), who cannot read, speaks to the parents, like its letter text
 * (templates.ts): the notes in « vous », of « votre enfant » (the caption is everyone's « Scannez »).
 */
const PARENTS: Record<'fr' | 'en', Partial<Labels>> = {
  fr: {
    active: 'Compte déjà activé : pas de code, le mot de passe de votre enfant reste valable.',
    expired: 'Code d’activation expiré : demandez-en un nouveau à l’enseignant de votre enfant ou à l’administrateur de l’ENT.',
    none: 'Aucun code d’activation : demandez-le à l’enseignant de votre enfant ou à l’administrateur de l’ENT.',
    external: 'Connexion avec {provider} : pas de code d’activation. Sur l’adresse de l’ENT ci-dessus, choisissez « {provider} » et utilisez les identifiants {provider} de votre enfant.',
  },
  en: {
    active: "Account already activated: no code, your child's password still works.",
    expired: "Activation code expired: ask your child's teacher or the ENT administrator for a new one.",
    none: "No activation code: ask your child's teacher or the ENT administrator for one.",
    external: "Sign in with {provider}: no activation code. At the ENT address above, choose “{provider}” and use your child's {provider} credentials.",
  },
};

/** Renewal sheets: the words that differ from a connection sheet, and the text that replaces the letter. */
const RENEWAL_BODY = { vous: 'body', tu: 'tuBody', parents: 'parentsBody' } as const satisfies Record<Audience, string>;
const RENEWAL = {
  fr: {
    subtitle: 'Espace numérique de travail — nouveau mot de passe',
    code: 'Code de renouvellement : ',
    scan: 'Scannez pour changer de mot de passe',
    title: 'Fiches de renouvellement',
    qrAlt: 'QR code de renouvellement : ',
    body: "Votre mot de passe actuel reste valable jusqu’à l’utilisation de ce code.\nPour choisir un nouveau mot de passe, scannez le QR code, ou allez sur l’adresse de l’ENT ci-dessus, page « Renouvellement du mot de passe », et saisissez votre identifiant et ce code.\nCe code ne sert qu’une fois. Passé sa date de validité, demandez-en un nouveau.",
    /** A pupil's renewal sheet (« tu »). */
    tuScan: 'Scanne pour changer de mot de passe',
    tuBody: "Ton mot de passe actuel reste valable jusqu’à l’utilisation de ce code.\nPour choisir un nouveau mot de passe, scanne le QR code, ou va sur l’adresse de l’ENT ci-dessus, page « Renouvellement du mot de passe », et saisis ton identifiant et ce code.\nCe code ne sert qu’une fois. Passé sa date de validité, demandes-en un nouveau.",
    /** A pupil of maternelle's renewal sheet: to the parents. */
    parentsBody: "Le mot de passe actuel de votre enfant reste valable jusqu’à l’utilisation de ce code.\nPour lui choisir un nouveau mot de passe, scannez le QR code, ou allez sur l’adresse de l’ENT ci-dessus, page « Renouvellement du mot de passe », et saisissez son identifiant et ce code.\nCe code ne sert qu’une fois. Passé sa date de validité, demandez-en un nouveau à l’enseignant de votre enfant.",
  },
  en: {
    subtitle: 'Digital workspace — new password',
    code: 'Renewal code: ',
    scan: 'Scan to change your password',
    title: 'Renewal sheets',
    qrAlt: 'Renewal QR code: ',
    body: 'Your current password stays valid until this code is used.\nTo choose a new password, scan the QR code, or go to the ENT address above, page “Password renewal”, and enter your login and this code.\nThe code works once. After its expiry date, ask for a new one.',
    tuScan: 'Scan to change your password',
    tuBody: 'Your current password stays valid until this code is used.\nTo choose a new password, scan the QR code, or go to the ENT address above, page “Password renewal”, and enter your login and this code.\nThe code works once. After its expiry date, ask for a new one.',
    parentsBody: "Your child's current password stays valid until this code is used.\nTo choose a new password for your child, scan the QR code, or go to the ENT address above, page “Password renewal”, and enter your child's login and this code.\nThe code works once. After its expiry date, ask your child's teacher for a new one.",
  },
};

/**
 * Model 8 (« fiches de connexion simplifiées »): a few lines of their own instead of the school's letter, by audience
 * (the letters' « tu », « vous », parents of a pupil of maternelle) and kind of sheet. A sheet without a usable code
 * (none, expired, external) has nothing beyond its status note. `{url}` is the ENT's address.
 */
type Simplified = Record<Audience, { code: string; active: string; activeNoEmail: string; renewal: string }>;
const SIMPLIFIED: Record<'fr' | 'en', Simplified> = {
  fr: {
    tu: {
      code: "Va sur {url}/activation ou scanne le QR code, saisis ton identifiant et ton code, puis choisis ton mot de passe.\nLe code ne sert qu’une fois. Ne le donne à personne.",
      active: 'Connecte-toi sur {url} avec ton identifiant et ton mot de passe.\nMot de passe oublié ? Clique sur « Mot de passe oublié » sur la page de connexion.',
      activeNoEmail: "Connecte-toi sur {url} avec ton identifiant et ton mot de passe.\nMot de passe oublié ? Demande un code de renouvellement à ton professeur ou à l’administrateur de l’ENT.",
      renewal: "Pour choisir un nouveau mot de passe, scanne le QR code ou va sur {url}/renouvellement et saisis ton identifiant et ce code. D’ici là, ton mot de passe reste valable.\nLe code ne sert qu’une fois. Ne le donne à personne.",
    },
    parents: {
      code: "Rendez-vous sur {url}/activation ou scannez le QR code, saisissez l’identifiant et le code de votre enfant, puis choisissez son mot de passe.\nLe code ne sert qu’une fois. Ne le communiquez à personne.",
      active: 'Connectez-vous avec votre enfant sur {url}, avec son identifiant et son mot de passe.\nMot de passe oublié ? Cliquez sur « Mot de passe oublié » sur la page de connexion.',
      activeNoEmail: "Connectez-vous avec votre enfant sur {url}, avec son identifiant et son mot de passe.\nMot de passe oublié ? Demandez un code de renouvellement à l’enseignant de votre enfant.",
      renewal: "Pour choisir un nouveau mot de passe, scannez le QR code ou allez sur {url}/renouvellement et saisissez l’identifiant de votre enfant et ce code. D’ici là, son mot de passe reste valable.\nLe code ne sert qu’une fois. Ne le communiquez à personne.",
    },
    vous: {
      code: "Rendez-vous sur {url}/activation ou scannez le QR code, saisissez votre identifiant et votre code, puis choisissez votre mot de passe.\nLe code ne sert qu’une fois. Ne le communiquez à personne.",
      active: 'Connectez-vous sur {url} avec votre identifiant et votre mot de passe.\nMot de passe oublié ? Cliquez sur « Mot de passe oublié » sur la page de connexion.',
      activeNoEmail: "Connectez-vous sur {url} avec votre identifiant et votre mot de passe.\nMot de passe oublié ? Demandez un code de renouvellement à l’administrateur de l’ENT.",
      renewal: "Pour choisir un nouveau mot de passe, scannez le QR code ou allez sur {url}/renouvellement et saisissez votre identifiant et ce code. D’ici là, votre mot de passe reste valable.\nLe code ne sert qu’une fois. Ne le communiquez à personne.",
    },
  },
  en: {
    tu: {
      code: 'Go to {url}/activation or scan the QR code, enter your login and code, then choose your password.\nThe code works once. Do not share it.',
      active: 'Sign in at {url} with your login and password.\nForgot your password? Click “Forgot password” on the sign-in page.',
      activeNoEmail: 'Sign in at {url} with your login and password.\nForgot your password? Ask your teacher or the ENT administrator for a renewal code.',
      renewal: 'To choose a new password, scan the QR code or go to {url}/renouvellement and enter your login and this code. Until then, your password still works.\nThe code works once. Do not share it.',
    },
    parents: {
      code: "Go to {url}/activation or scan the QR code, enter your child's login and code, then choose a password for your child.\nThe code works once. Do not share it.",
      active: "Sign in with your child at {url}, with your child's login and password.\nForgot the password? Click “Forgot password” on the sign-in page.",
      activeNoEmail: "Sign in with your child at {url}, with your child's login and password.\nForgot the password? Ask your child's teacher for a renewal code.",
      renewal: "To choose a new password, scan the QR code or go to {url}/renouvellement and enter your child's login and this code. Until then, the current password still works.\nThe code works once. Do not share it.",
    },
    vous: {
      code: 'Go to {url}/activation or scan the QR code, enter your login and code, then choose your password.\nThe code works once. Do not share it.',
      active: 'Sign in at {url} with your login and password.\nForgot your password? Click “Forgot password” on the sign-in page.',
      activeNoEmail: 'Sign in at {url} with your login and password.\nForgot your password? Ask the ENT administrator for a renewal code.',
      renewal: 'To choose a new password, scan the QR code or go to {url}/renouvellement and enter your login and this code. Until then, your password still works.\nThe code works once. Do not share it.',
    },
  },
};

/** Where a renewal sheet's QR code leads: the renewal page with the login and the code filled in. */
export function renewalUrl(publicUrl: string, login: string, code: string): string {
  return `${publicUrl}/renouvellement?login=${encodeURIComponent(login)}&code=${encodeURIComponent(code)}`;
}

// ---------------------------------------------------------------------------------------------------------
// Sheet drawing

type CredentialKind = 'code' | 'active' | 'expired' | 'none' | 'external';

/** What a sheet can offer: an account that signs in elsewhere gets an information sheet (provider and ENT address), never a code. */
function kindOf(row: AccountRow): CredentialKind {
  return row.externalProvider ? 'external' : !row.activated && row.code ? 'code' : row.activated ? 'active' : row.codeExpired ? 'expired' : 'none';
}

/** Where a label starts (its value follows it in the same text run) and the room left for the value. */
interface TextSlot {
  x: number;
  y: number;
  room: number;
}

interface SheetLayout {
  nameY: number;
  detailY: number[];
  colW: number;
  /** The ENT address line, label and value in one run: the same on every sheet (a Form XObject's name). */
  address: string;
  login: TextSlot;
  code?: TextSlot;
  expiry?: TextSlot;
  /** "Scan to activate" under the QR code (kind 'code'), or the note replacing the code (other kinds): Form XObjects' names. */
  caption?: string;
  note?: string;
  bodyTop: number;
}

/** A paragraph of the letter text, or an item of a list in it ("1. …", "- …"). */
interface BodyBlock {
  item: boolean;
  ops: string;
}

/** The QR code of a sheet as a Figure: its marked-content id (in the QR stream, qr.ts), alternative text and box. */
type SheetFigure = Elem & { s: 'Figure' };

/** Label and value in one text run, so that they are extracted and read together, the value right after its label. */
function pairOp(lf: Face, ls: number, x: number, y: number, label: string, vf: Face, vs: number, value: string): string {
  return `BT /${lf.id} ${num(ls)} Tf ${num(x)} ${num(y)} Td <${lf.hex(label)}> Tj /${vf.id} ${num(vs)} Tf <${vf.hex(value)}> Tj ET`;
}

/**
 * Everything built once per document and reused by every sheet. What repeats is a Form XObject drawn by
 * name (the school header, each paragraph of the letter text) or a cached operator string; each piece is
 * drawn inside its own marked-content sequence, so the structure tree of every sheet is its own while the
 * drawing is shared.
 */
class SheetPainter {
  readonly w: number;
  readonly h: number;
  private readonly g: Geometry;
  private readonly headers = new Map<string, string>();
  /**
   * Letter texts laid out, by layout then text (two levels: a text is the same string from sheet to sheet, whose hash
   * V8 keeps; a key made of both would be a new long string to hash on every sheet).
   */
  private readonly bodies = new Map<string, Map<string, { blocks: BodyBlock[]; forms?: Array<{ item: boolean; form: string; draw: string }> }>>();
  private bodyCount = 0;
  private readonly layouts = new Map<string, SheetLayout>();
  private readonly gap: number;
  private readonly rule: string;

  constructor(
    private readonly faces: Faces,
    readonly model: SheetModel,
    private readonly L: Labels,
    /** The labels of a pupil's sheet (« tu »: TU). */
    private readonly Ltu: Labels,
    /** The labels of a pupil of maternelle's sheet (to the parents: PARENTS). */
    private readonly Lparents: Labels,
    private readonly lang: 'fr' | 'en',
    private readonly publicUrl: string,
    /** Stores ops as a Form XObject of the sheet's size; returns its resource name. */
    private readonly makeForm: (ops: string) => string,
    /** Height kept free above the sheet (the window envelope's address band). */
    band = 0,
  ) {
    this.g = GEOMETRY[model];
    this.w = A4.w / this.g.cols;
    this.h = A4.h / this.g.rows - band;
    this.gap = this.g.detail * 0.9;
    const ruleY = num(this.h - this.headerHeight());
    this.rule = artifact(`0.6 G 0.5 w ${num(this.g.pad)} ${ruleY} m ${num(this.w - this.g.pad)} ${ruleY} l S 0 G`);
  }

  /** School name and subtitle (a Form XObject), laid out once per school (fixed height). */
  private header(school: string): string {
    let form = this.headers.get(school);
    if (form === undefined) {
      const { pad, school: ss, subtitle } = this.g;
      const { bold, sans } = this.faces;
      const inner = this.w - 2 * pad;
      let t = pad + ss * 0.95;
      // The trailing space (invisible) separates the school from the subtitle when the text is extracted.
      const parts = [textOp(bold, ss, pad, this.h - t, `${truncate(bold, ss, clean(school), inner)} `)];
      if (subtitle) {
        t += subtitle * 1.45;
        parts.push('0.35 g', textOp(sans, subtitle, pad, this.h - t, truncate(sans, subtitle, this.L.subtitle, inner)), '0 g');
      }
      form = this.makeForm(parts.join('\n'));
      if (this.headers.size < 5_000) this.headers.set(school, form);
    }
    return form;
  }

  private headerHeight(): number {
    const { pad, school, subtitle } = this.g;
    return pad + school * 0.95 + (subtitle ? subtitle * 1.45 : 0) + (subtitle || school) * 0.6;
  }

  /**
   * The template text under the credentials, fitted into `height`: the font shrinks down to the model's
   * minimum, then the text is cut. Each source line is a block (a paragraph, or a list item when it starts
   * with "1." or "-"), positioned from the top-left of the text area.
   */
  private bodyBlocks(text: string, width: number, height: number): BodyBlock[] {
    const { sans } = this.faces;
    const source = text.replace(/\r\n?/g, '\n').split('\n').map(clean);
    let size = this.g.body;
    let laid: Array<{ x: number; s: string; gapBefore: number; block: number; item: boolean }> = [];
    let lead = 0;
    for (;;) {
      lead = size * this.g.leading;
      laid = [];
      let pendingGap = 0;
      let block = 0;
      for (const para of source) {
        if (!para.trim()) {
          if (laid.length) pendingGap = lead * 0.4;
          continue;
        }
        const m = /^(\s*(?:\d+[.)]|[-•–]))\s+/.exec(para);
        const indent = m ? sans.width(m[0], size) : 0;
        const lines = wrap(sans, size, para.trim(), width, 0, indent);
        lines.forEach((s, i) => {
          laid.push({ x: i === 0 ? 0 : indent, s, gapBefore: i === 0 ? pendingGap : 0, block, item: !!m });
        });
        pendingGap = 0;
        block++;
      }
      const total = laid.reduce((a, l) => a + lead + l.gapBefore, 0);
      if (total <= height || size <= this.g.bodyMin) break;
      size = Math.max(this.g.bodyMin, size - 0.4);
    }
    // Still too long at the smallest size: keep what fits, mark the cut.
    let used = 0;
    let keep = 0;
    for (const l of laid) {
      if (used + lead + l.gapBefore > height) break;
      used += lead + l.gapBefore;
      keep++;
    }
    if (keep < laid.length && keep > 0) {
      const last = laid[keep - 1];
      last.s = truncate(sans, size, `${last.s.trimEnd()} …`, width - last.x);
    }
    const blocks: BodyBlock[] = [];
    let parts: string[] = [];
    let y = 0;
    let px = 0;
    let py = 0;
    laid.slice(0, keep).forEach((l, i, all) => {
      y -= lead + l.gapBefore;
      const by = y + lead - size; // baseline: the first line's cap sits just under the top
      if (!parts.length) {
        parts.push(`BT /${sans.id} ${num(size)} Tf`);
        px = 0;
        py = 0;
      }
      parts.push(`${num(l.x - px)} ${num(by - py)} Td <${sans.hex(l.s)}> Tj`);
      px = l.x;
      py = by;
      if (i === all.length - 1 || all[i + 1].block !== l.block) {
        parts.push('ET');
        blocks.push({ item: l.item, ops: parts.join('\n') });
        parts = [];
      }
    });
    return blocks;
  }

  /**
   * The letter text of a layout, laid out once per distinct text: drawn inline the first time, then as Form
   * XObjects (one per block) once a second sheet shares it. `draw` is the block's operators on the sheet.
   */
  private body(layoutKey: string, lay: SheetLayout, text: string): Array<{ item: boolean; draw: string; form?: string }> {
    let texts = this.bodies.get(layoutKey);
    if (!texts) {
      texts = new Map();
      this.bodies.set(layoutKey, texts);
    }
    const { g, h } = this;
    const at = `q 1 0 0 1 ${num(g.pad)} ${num(h - lay.bodyTop)} cm`;
    const hit = texts.get(text);
    if (hit) {
      hit.forms ??= hit.blocks.map((b) => {
        const form = this.makeForm(`${at}\n${b.ops}\nQ`);
        return { item: b.item, form, draw: `/${form} Do` };
      });
      return hit.forms;
    }
    const room = h - g.pad - lay.bodyTop;
    const blocks = room > g.bodyMin * 1.3 && text.trim() ? this.bodyBlocks(text, this.w - 2 * g.pad, room) : [];
    // Templates with personal fields make every text unique: those stay inline, and are not all kept.
    if (this.bodyCount < 5_000) {
      texts.set(text, { blocks });
      this.bodyCount++;
    }
    return blocks.map((b) => ({ item: b.item, draw: `${at}\n${b.ops}\nQ` }));
  }

  /**
   * Where everything goes on a sheet of one variant, and the ops that do not depend on the account
   * (address, caption, notes). Built once per variant: what is left per sheet is the account's own text.
   */
  private layout(key: string, kind: CredentialKind, detailLines: number, provider: string, L: Labels): SheetLayout {
    let lay = this.layouts.get(key);
    if (lay) return lay;
    const { g, faces, h } = this;
    const { sans, bold } = faces;
    const pad = g.pad;
    const inner = this.w - 2 * pad;
    let t = this.headerHeight() + this.gap;
    const blockTop = t;
    // Left column: who, then the credentials; the QR code (valid code only) on the right.
    const colW = kind === 'code' ? inner - g.qr - this.gap : inner;
    t += g.name * 0.95;
    const nameY = h - t;
    t += g.name * 0.2;
    const detailY: number[] = [];
    for (let i = 0; i < detailLines; i++) {
      t += g.detail * 1.3;
      detailY.push(h - t);
    }
    t += this.gap;
    const label = (text: string, lead: number): TextSlot => {
      t += lead;
      return { x: pad, y: h - t, room: colW - sans.width(text, g.label) };
    };
    const addr = label(L.address, g.label);
    const address = pairOp(sans, g.label, addr.x, addr.y, L.address, bold, g.label, truncate(bold, g.label, this.publicUrl, addr.room));
    const login = label(L.login, g.login * 1.4);
    lay = { nameY, detailY, colW, address: this.makeForm(address), login, bodyTop: 0 };
    if (kind === 'code') {
      lay.code = label(L.code, g.code * 1.3);
      lay.expiry = label(L.validUntil, g.label * 1.4);
      const qx = this.qrSpot().x;
      // Centred under the QR code; a caption wider than it (a renewal sheet's) wraps rather than leaving the sheet.
      const lines = wrap(sans, g.caption, L.scan, g.qr + pad);
      const ops = lines.map((line, i) => {
        const cw = sans.width(line.trimEnd(), g.caption);
        return textOp(sans, g.caption, Math.min(qx + (g.qr - cw) / 2, this.w - pad - cw), h - blockTop - g.qr - g.caption * (1.2 + 1.2 * i), line);
      });
      lay.caption = this.makeForm(ops.join('\n'));
      t = Math.max(t, blockTop + g.qr + g.caption * (0.3 + 1.2 * lines.length));
    } else {
      const face = kind === 'active' ? sans : bold;
      const lines: string[] = [];
      const note = kind === 'external' ? L.external.replaceAll('{provider}', provider) : L[kind];
      for (const line of wrap(face, g.label, note, colW)) {
        t += g.label * 1.4;
        lines.push(textOp(face, g.label, pad, h - t, line));
      }
      lay.note = this.makeForm(lines.join('\n'));
    }
    t += this.gap;
    lay.bodyTop = t;
    this.layouts.set(key, lay);
    return lay;
  }

  /** A structure element holding `ops` as one marked-content sequence of the current page, added to `parts`. */
  private mark(parts: string[], tags: StructTree, tag: string, ops: string): Elem {
    const m = tags.mark(tag, ops);
    parts.push(m.ops);
    return { s: tag, k: [m.mcid] };
  }

  /** A label and its value; a long value (a login) shrinks, then is cut, rather than running into the QR code. */
  private pair(label: string, at: TextSlot, face: Face, size: number, text: string): string {
    const { sans } = this.faces;
    const tw = face.width(text, size);
    if (tw <= at.room) return pairOp(sans, this.g.label, at.x, at.y, label, face, size, text);
    const vs = Math.max(size * 0.6, (size * at.room) / tw);
    return pairOp(sans, this.g.label, at.x, at.y, label, face, vs, truncate(face, vs, text, at.room));
  }

  /**
   * The content of one sheet, in sheet coordinates (origin bottom-left, w × h), drawn on the current page
   * of `tags`: its operators, the Form XObjects they draw, and its structure element (a Sect: the school, a
   * heading with the name, who they are, the credentials as a list, the QR code as a figure, the letter text).
   */
  sheet(row: AccountRow, school: string, bodyText: string, tags: StructTree, figure?: SheetFigure): { forms: string[]; ops: string; element: Elem } {
    const { g, faces, L } = this;
    const { sans, bold, monoBold } = faces;
    const code = !row.activated && row.code ? row.code : null;
    const kind = kindOf(row);
    const provider = row.externalProvider ? clean(row.externalProvider) : '';

    let detail: string;
    if (row.profile === 'Relative' && row.children.length) detail = L.responsibleOf + clean(childrenLabel(row.children));
    else {
      const label = PROFILE_LABELS[row.profile][this.lang];
      detail = row.classes.length ? `${label} — ${clean(row.classes.join(', '))}` : label;
    }
    const colW = code ? this.w - 2 * g.pad - g.qr - this.gap : this.w - 2 * g.pad;
    const detailLines = sans.width(detail, g.detail) <= colW ? [detail] : wrap(sans, g.detail, detail, colW);
    if (detailLines.length > 2) detailLines.splice(1, detailLines.length - 1, truncate(sans, g.detail, detailLines.slice(1).join('').trimEnd(), colW));
    // A pupil is addressed as « tu » on the whole sheet, the parents of a pupil of maternelle as « vous » about their
    // child: their notes and caption are laid out apart.
    const to = audienceOf(row.profile, row.youngPupil);
    const layoutKey = `${to}/${kind}/${detailLines.length}/${provider}`;
    const lay = this.layout(layoutKey, kind, detailLines.length, provider, to === 'tu' ? this.Ltu : to === 'parents' ? this.Lparents : L);

    const parts: string[] = [this.rule];
    const header = this.header(school);
    const forms = [header, lay.address];
    const kids: Elem[] = [
      this.mark(parts, tags, 'P', `/${header} Do`),
      this.mark(parts, tags, 'H1', textOp(bold, g.name, g.pad, lay.nameY, truncate(bold, g.name, clean(`${row.firstName} ${row.lastName}`), lay.colW))),
      this.mark(parts, tags, 'P', detailLines.map((d, i) => textOp(sans, g.detail, g.pad, lay.detailY[i], d)).join('\n')),
    ];
    const items = [`/${lay.address} Do`, this.pair(L.login, lay.login, monoBold, g.login, clean(row.login))];
    if (code && lay.code && lay.expiry) {
      items.push(this.pair(L.code, lay.code, monoBold, g.code, formatCode(code)));
      if (row.codeExpiresAt) items.push(this.pair(L.validUntil, lay.expiry, sans, g.label, frenchDate(row.codeExpiresAt)));
    }
    kids.push({ s: 'L', k: items.map((ops) => ({ s: 'LI', k: [this.mark(parts, tags, 'LBody', ops)] })) });
    if (figure) kids.push(figure);
    for (const form of [lay.caption, lay.note]) {
      if (!form) continue;
      forms.push(form);
      kids.push(this.mark(parts, tags, 'P', `/${form} Do`));
    }

    // The letter text: paragraphs, and consecutive list items as one list.
    let list: Elem[] = [];
    for (const b of this.body(layoutKey, lay, bodyText)) {
      if (b.form) forms.push(b.form);
      if (b.item) list.push({ s: 'LI', k: [this.mark(parts, tags, 'LBody', b.draw)] });
      else {
        if (list.length) kids.push({ s: 'L', k: list });
        list = [];
        kids.push(this.mark(parts, tags, 'P', b.draw));
      }
    }
    if (list.length) kids.push({ s: 'L', k: list });
    return { forms, ops: parts.join('\n'), element: { s: 'Sect', k: kids } };
  }

  /** Where a sheet's QR code goes, in sheet coordinates (top-left corner, y up) — the same on every sheet. */
  qrSpot(): { x: number; top: number; size: number } {
    return { x: this.w - this.g.pad - this.g.qr, top: this.h - this.headerHeight() - this.gap, size: this.g.qr };
  }

  /** Dashed cutting lines with scissors between the sheets of a page (none for one sheet per page). */
  cutMarks(): string {
    const { cols, rows } = this.g;
    if (cols * rows === 1) return '';
    const { sans } = this.faces;
    const sz = this.model === 8 ? 8 : 10;
    const parts = ['q 0.55 G 0.5 w [4 3] 0 d'];
    for (let r = 1; r < rows; r++) {
      const y = num(A4.h - r * this.h);
      parts.push(`${num(sz * 1.6)} ${y} m ${num(A4.w)} ${y} l S`);
    }
    for (let c = 1; c < cols; c++) {
      const x = num(c * this.w);
      parts.push(`${x} 0 m ${x} ${num(A4.h - sz * 1.6)} l S`);
    }
    parts.push('Q', '0.45 g');
    for (let r = 1; r < rows; r++) parts.push(textOp(sans, sz, 2, A4.h - r * this.h - sz * 0.35, '✂'));
    for (let c = 1; c < cols; c++) parts.push(textOp(sans, sz, c * this.w - sz * 0.45, A4.h - sz * 1.1, '✂'));
    parts.push('0 g');
    return artifact(parts.join('\n'));
  }
}

// ---------------------------------------------------------------------------------------------------------
// Document

/**
 * Adds to `map` the templates of the structures of `rows` not loaded yet, read through `db` (an export reads
 * them on its own connection: a pool emptied by concurrent exports cannot stall it).
 */
export async function loadTemplatesFor(db: Queryable, rows: Iterable<AccountRow>, map: Map<string, TemplateSet>): Promise<void> {
  for (const row of rows) {
    const id = row.structureId ?? '';
    if (!map.has(id)) map.set(id, await loadTemplates({ database: { pool: db } }, id || null));
  }
}

/**
 * What starts a new page besides a full one, asked of each row in order: a new class (class sort); a new family
 * (family sort), so that pages of 2 or 8 sheets cut and handed out never give a family another's codes. A family is
 * a pupil, the relatives printed after him (select.ts familyCte: after their first pupil) and a pupil one of them is
 * the parent of (a younger sibling, right after); a relative outside any family (none of his children selected) is
 * alone, the accounts outside any family pack (staff) together. Rows without `familyRank` (not read in family order)
 * start nothing.
 */
function pageBreaks(sort: SortOrder | undefined): ((row: AccountRow) => boolean) | null {
  if (sort === 'class') {
    let group: string | null | undefined;
    return (row) => {
      const key = row.groupClass ?? null;
      const starts = group !== undefined && key !== group;
      group = key;
      return starts;
    };
  }
  if (sort !== 'family') return null;
  // The current group: a family (with its relatives' children), a lone relative, or the staff.
  let current: 'family' | 'alone' | 'staff' | null = null;
  let children = new Set<string>();
  return (row) => {
    if (row.familyRank === undefined) return false;
    if (row.familyRank === null) {
      const was = current;
      current = row.profile === 'Relative' ? 'alone' : 'staff';
      return current === 'alone' || was !== 'staff';
    }
    if (row.profile === 'Relative') {
      const starts = current !== 'family';
      if (starts) children = new Set();
      current = 'family';
      for (const id of row.childIds ?? []) children.add(id);
      return starts;
    }
    const starts = current !== 'family' || !children.has(row.id);
    if (starts) children = new Set();
    current = 'family';
    return starts;
  };
}

/**
 * Sheets per page, in order, `batch` pages at a time: a new page when the current one is full, or when a row starts
 * a new group (pageBreaks: class or family). Reads `source` only as far as the pages it yields need.
 */
async function* paginate(
  source: AsyncIterable<AccountRow[]>,
  perPage: number,
  breaks: ((row: AccountRow) => boolean) | null,
  batch: number,
): AsyncGenerator<AccountRow[][]> {
  let pages: AccountRow[][] = [];
  let page: AccountRow[] = [];
  for await (const rows of source) {
    for (const row of rows) {
      // Asked of every row: the group follows the rows, whether the page is full or not.
      const starts = breaks ? breaks(row) : false;
      if (page.length === perPage || (starts && page.length)) {
        pages.push(page);
        page = [];
        if (pages.length === batch) {
          yield pages;
          pages = [];
        }
      }
      page.push(row);
    }
  }
  pages.push(page); // an empty selection still gives a (blank) page: a PDF has at least one
  yield pages;
}

async function* inBatches<T>(items: readonly T[], size: number): AsyncGenerator<T[]> {
  for (let i = 0; i < items.length; i += size) yield items.slice(i, i + size);
}

/** Merge fields whose value is the same for every account of a structure (templates.ts, fieldsFor). */
const SCHOOL_FIELDS = new Set(['etablissement', 'de_etablissement', 'url']);
const KNOWN_FIELDS = new Set<string>(MERGE_FIELDS.map((f) => f.name));

/** Whether a letter template uses a field of the account itself (name, login, code…). */
function personal(template: string): boolean {
  for (const m of template.matchAll(/\{([a-z_]+)\}/g)) if (KNOWN_FIELDS.has(m[1]) && !SCHOOL_FIELDS.has(m[1])) return true;
  return false;
}

/** Sheets per batch: the unit of work sent to the worker and of yielding to the event loop. */
const BATCH_SHEETS = 96;
/** Longest run of layout between two turns of the event loop, ms. */
const YIELD_MS = 10;
/** Bytes the PDF may have waiting for the reader before layout pauses (backpressure). */
const PENDING_BYTES = 4 << 20;

/**
 * Share of a batch's content streams made on the worker (qr-pool.ts); the rest is made on this thread, right
 * after layout. It moves by sixteenths, batch after batch and from one document to the next, towards the
 * share where neither thread waits for the other (with a QR code on most sheets, content streams cost more
 * than layout: then part of them is best made here). Down to a quarter: the worker runs niced (qr-worker.ts), and
 * on a busy machine gets less than a core (at the former floor of a half, the demo's 2,146 sheets in model 1 ended
 * with this thread waiting for it batch after batch).
 */
let workerShare = 7 / 8;

/** A page laid out, waiting for its content stream (made on the worker). */
interface LaidPage {
  id: number;
  parent: number;
  content: PageContent;
  /** The page's /Resources and /StructParents entries. */
  entries: string;
}

/**
 * Streams the sheets of `rows` (in their order: an array, or batches read as the document is written, e.g.
 * streamSelection's) as a PDF (pdf-writer.ts). Each batch of pages is laid out here, then its content streams
 * (QR codes encoded, text and codes deflated) are made on another thread (qr-pool.ts), but for a share made
 * here when that thread is the slower one (workerShare), while this one lays out the next batch: at most two batches are in flight, and layout waits while the reader lags behind (more than
 * PENDING_BYTES unread), so memory stays flat and other requests run between batches whatever the size.
 */
export async function streamSheetsPdf(ctx: AppContext, rows: AccountRow[] | AsyncIterable<AccountRow[]>, opts: SheetOptions): Promise<Readable> {
  if (!SHEET_MODELS.includes(opts.model)) throw new Error(`modèle de fiche inconnu : ${opts.model} (1, 2 ou 8 par page)`);
  const templates = opts.templates ?? new Map<string, TemplateSet>();
  const lang = opts.lang ?? 'fr';
  const renewal = opts.variant === 'renewal';
  const L: Labels = renewal ? { ...LABELS[lang], ...RENEWAL[lang] } : LABELS[lang];
  const linkOf = renewal ? renewalUrl : activationUrl;
  const out = new PassThrough();
  const pdf = new PdfWriter((chunk) => out.write(chunk));
  const tags = new StructTree(pdf);
  const faces = {} as Faces;
  (Object.keys(FONT_FILES) as FontName[]).forEach((name, i) => {
    faces[name] = new Face(dejavu(FONT_FILES[name]), `F${i + 1}`, pdf.alloc());
  });
  // One font resource dictionary, shared by every page and Form XObject.
  const fontsId = pdf.alloc();
  pdf.pack(fontsId, `<<${Object.values(faces).map((f) => `/${f.id} ${f.ref} 0 R`).join('')}>>`);
  const g = GEOMETRY[opts.model];
  const formRefs = new Map<string, number>();
  const makeForm = (ops: string): string => {
    const id = pdf.alloc();
    pdf.deflated(id, `/Type /XObject/Subtype /Form/BBox [0 0 ${num(A4.w / g.cols)} ${num(A4.h / g.rows)}]/Resources <</Font ${fontsId} 0 R>>`, ops);
    const name = `S${formRefs.size + 1}`;
    formRefs.set(name, id);
    return name;
  };
  const band = opts.addresses && opts.model === 1 ? ADDRESS_BAND : 0;
  const Ltu: Labels = { ...L, ...TU[lang], ...(renewal ? { scan: RENEWAL[lang].tuScan } : {}) };
  const Lparents: Labels = { ...L, ...PARENTS[lang] };
  const painter = new SheetPainter(faces, opts.model, L, Ltu, Lparents, lang, ctx.config.publicUrl, makeForm, band);
  const cutMarks = painter.cutMarks();

  const origin = (slot: number) => ({ x: (slot % g.cols) * painter.w, y: A4.h - band - (Math.floor(slot / g.cols) + 1) * painter.h });
  const codeOf = (row: AccountRow) => (!row.activated && !row.externalProvider && row.code ? row.code : null);
  const spot = painter.qrSpot();
  const batch = Math.max(1, Math.floor(BATCH_SHEETS / (g.cols * g.rows)));

  // A letter text naming only the school and the ENT is the same for every sheet of its school: rendered once (by
  // template, then school: the template is the same string every time, whose hash V8 keeps).
  const shared = new Map<string, Map<string, string>>();
  let sharedCount = 0;
  // « Mot de passe oublié » sends a link by e-mail: only for an account with an address, and only where a mail server is
  // configured (without one, that page says no mail can leave: the sheet says to ask for a renewal code instead).
  const resetByMail = (row: AccountRow) => !!ctx.config.smtpUrl && !!row.email?.trim();
  const bodyFor = (row: AccountRow, school: string): string => {
    // The letter texts speak of activation codes (a QR code to scan, a date « ci-dessus »): a sheet without one, an
    // information sheet or one with no usable code, carries only its own note, which says what to do.
    const kind = kindOf(row);
    if (kind === 'external' || kind === 'none' || kind === 'expired') return '';
    if (opts.model === 8) {
      const texts = SIMPLIFIED[lang][audienceOf(row.profile, row.youngPupil)];
      const text = renewal ? texts.renewal : kind === 'code' ? texts.code : resetByMail(row) ? texts.active : texts.activeNoEmail;
      return text.replaceAll('{url}', ctx.config.publicUrl);
    }
    if (renewal) return RENEWAL[lang][RENEWAL_BODY[audienceOf(row.profile, row.youngPupil)]];
    const set = templates.get(row.structureId ?? '')!;
    // A school's text as written; the built-in one fitted to the account (templateFor): to the parents of a pupil of
    // maternelle, and without the « Mot de passe oublié » e-mail steps for an account without an address.
    const template = templateFor(set, row, row.activated ? 'sheet_active' : 'sheet_inactive', !!ctx.config.smtpUrl).body;
    let bySchool = shared.get(template);
    if (!bySchool) {
      bySchool = new Map();
      shared.set(template, bySchool);
    }
    let text = bySchool.get(school);
    if (text === undefined) {
      text = renderTemplate(template, fieldsFor({ ...row, structureName: school }, ctx));
      if (!personal(template) && sharedCount < 5_000) {
        bySchool.set(school, text);
        sharedCount++;
      }
    }
    return text;
  };
  /** Lays out one page: its structure is written now, its content stream when the worker has made it. */
  const layPage = (page: AccountRow[]): LaidPage => {
    const { id, parent } = pdf.allocPage();
    tags.beginPage(id);
    // The QR codes, in slot order: the content stream marks them 0, 1, … (qr.ts), the page's first ids.
    const qr: QrPlacement[] = [];
    const figures = new Map<number, SheetFigure>();
    page.forEach((row, slot) => {
      const code = codeOf(row);
      if (!code) return;
      const o = origin(slot);
      const q = { text: linkOf(ctx.config.publicUrl, row.login, code), x: o.x + spot.x, top: o.y + spot.top, size: spot.size };
      qr.push(q);
      figures.set(slot, { s: 'Figure', k: [tags.next()], alt: L.qrAlt + q.text, bbox: [q.x, q.top - q.size, q.x + q.size, q.top] });
    });
    const parts: string[] = cutMarks ? [cutMarks] : [];
    const forms = new Set<string>();
    const sections: Elem[] = [];
    page.forEach((row, slot) => {
      const school = row.structureName || opts.structureName || '';
      const o = origin(slot);
      const address = band ? opts.addresses?.get(row.id) : undefined;
      // Printed once: let go (an export fills the map batch by batch, a région's addresses must not pile up).
      if (address !== undefined) opts.addresses?.delete(row.id);
      if (address) {
        // Read first: a paragraph of its own before the sheet.
        const block = tags.mark('P', addressBlockOps(faces.sans, addressLines(row, address)));
        parts.push(block.ops);
        sections.push({ s: 'P', k: [block.mcid] });
      }
      const sheet = painter.sheet(row, school, bodyFor(row, school), tags, figures.get(slot));
      parts.push(`q 1 0 0 1 ${num(o.x)} ${num(o.y)} cm\n${sheet.ops}\nQ`);
      for (const f of sheet.forms) forms.add(f);
      sections.push(sheet.element);
    });
    const key = tags.endPage(sections);
    const xobjects = [...forms].map((f) => `/${f} ${formRefs.get(f)} 0 R`).join('');
    const entries = `/Resources <</Font ${fontsId} 0 R${xobjects ? `/XObject <<${xobjects}>>` : ''}>>${key === null ? '' : `/StructParents ${key}`}`;
    return { id, parent, content: { text: parts.join('\n'), qr }, entries };
  };
  const writePages = (pages: LaidPage[], streams: Uint8Array[]) => {
    pages.forEach((p, i) => {
      const content = pdf.alloc();
      pdf.stream(content, '/Filter /FlateDecode', streams[i]);
      pdf.pack(p.id, `<</Type /Page/Parent ${p.parent} 0 R/MediaBox [0 0 ${A4.w} ${A4.h}]/Contents ${content} 0 R${p.entries}/Tabs /S>>`);
    });
    pdf.flushXref();
  };

  /** Resolves once the reader has taken enough of what is written (or gone away). */
  const room = async () => {
    while (!out.destroyed && out.readableLength > PENDING_BYTES) {
      await new Promise((ok) => {
        const t = setTimeout(ok, 50);
        out.once('drain', () => {
          clearTimeout(t);
          ok(undefined);
        });
      });
    }
  };

  const pagesOf = paginate(Array.isArray(rows) ? inBatches(rows, 1000) : rows, g.cols * g.rows, pageBreaks(opts.sort), batch);
  (async () => {
    try {
      // The batch whose content streams are being made while the next one is laid out.
      let inFlight: { pages: LaidPage[]; streams: Promise<Uint8Array[]>; ready: boolean } | null = null;
      let turn = performance.now();
      for await (const pages of pagesOf) {
        if (out.destroyed) break;
        await loadTemplatesFor(ctx.database.pool, pages.flat(), templates);
        const laid: LaidPage[] = [];
        for (const page of pages) {
          laid.push(layPage(page));
          // Other requests get a turn every YIELD_MS of layout (by the clock: on a busy machine, fewer pages).
          if (performance.now() - turn > YIELD_MS) {
            await new Promise((ok) => setImmediate(ok));
            turn = performance.now();
          }
        }
        const sheets = pages.reduce((n, p) => n + p.length, 0);
        const offload = sheets >= MIN_SHEETS_FOR_WORKER;
        const away = offload ? Math.ceil(laid.length * workerShare) : laid.length;
        const contents = laid.map((p) => p.content);
        const job = { pages: laid, streams: pageStreams(contents.slice(0, away), offload), ready: false };
        void job.streams.then(() => {
          job.ready = true;
        });
        const here = contents.slice(away).map(pageStream);
        if (here.length) job.streams = job.streams.then((s) => s.concat(here));
        if (inFlight) {
          if (offload) workerShare = inFlight.ready ? Math.min(1, workerShare + 1 / 16) : Math.max(1 / 4, workerShare - 1 / 16);
          writePages(inFlight.pages, await inFlight.streams);
        }
        inFlight = job;
        await room();
      }
      if (out.destroyed) return;
      if (inFlight) writePages(inFlight.pages, await inFlight.streams);
      for (const f of Object.values(faces)) f.embed(pdf);
      const catalog = `${await tags.end()}/Lang ${pdfString(L.lang)}/ViewerPreferences <</DisplayDocTitle true>>`;
      pdf.end(catalog, `/Title ${pdfString(L.title)}/Creator (Trousseau)/Producer (Trousseau)/CreationDate (${pdfDate(new Date())})`);
      out.end();
    } catch (e) {
      out.destroy(e as Error);
    } finally {
      // A reader gone early ends the source too (an export's transaction rolls back).
      await pagesOf.return(undefined).catch(() => {});
    }
  })();
  return out;
}

/** The address lines in the window of the envelope (ADDRESS_WINDOW), each cut to the window's width. */
function addressBlockOps(face: Face, lines: string[]): string {
  const { left, top, width, size, leading } = ADDRESS_WINDOW;
  return lines.map((l, i) => textOp(face, size, left, A4.h - top - size - i * leading, truncate(face, size, clean(l), width))).join('\n');
}

/** The whole PDF in memory (CLI, tests). */
export async function renderSheetsPdf(ctx: AppContext, rows: AccountRow[], opts: SheetOptions): Promise<Buffer> {
  const stream = await streamSheetsPdf(ctx, rows, opts);
  const chunks: Buffer[] = [];
  for await (const c of stream) chunks.push(c as Buffer);
  return Buffer.concat(chunks);
}
