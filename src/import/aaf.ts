// AAF directory feed (`ficAlimMENESR` XML): streamed (the fast scanner of xml-scan.ts, saxes beyond it), never
// loaded whole.
import { SaxesParser } from 'saxes';
import type { Profile } from '../directory/vocabulary.js';
import { clean, cleanEmail, cleanPhone, parseDate, postalAddress, postalParts } from './text.js';
import { refuseSharedKey, twoPeople } from './checks.js';
import { feedParser, saxesEvents, scanXml, type XmlSource } from './xml.js';
import { type XmlEvents, XmlScanFallback } from './xml-scan.js';
import type { ImportCode, ImportMessage } from './messages.js';
import { rejection, type ImportBatch, type StructureRecord, type UserRecord } from './types.js';

export interface AafRecord {
  op: 'add' | 'modify' | 'delete';
  category: string;
  id: string;
  attrs: Map<string, string[]>;
  line: number;
  /** An addRequest the record cache may keep: the digest of its text (AafRecordCache.digestOf), hex. */
  digest?: string;
}

export type AafKind = 'EtabEducNat' | 'Eleve' | 'PersEducNat' | 'PersRelEleve' | 'ignored';

/** The kind of an AAF file from its name (feeds are named …_Eleve_0001.xml), if it says. */
export function aafKindFromName(name: string): AafKind | undefined {
  const m = /_(EtabEducNat|Eleve|PersEducNat|PersRelEleve|MatiereEducNat|MefEducNat)_\d+\.xml$/i.exec(name);
  if (!m) return undefined;
  const k = m[1].toLowerCase();
  if (k === 'matiereeducnat' || k === 'mefeducnat') return 'ignored';
  return ({ etabeducnat: 'EtabEducNat', eleve: 'Eleve', perseducnat: 'PersEducNat', persreleleve: 'PersRelEleve' } as const)[
    k as 'eleve'
  ];
}

/** A gap in the numbering of one kind's files: the names of the files missing (those before the first one too). */
export interface AafNumberingGap {
  kind: Exclude<AafKind, 'ignored'>;
  /** The first missing files' names (at most 10), made from a present one's (same prefix, folder or archive, width). */
  missing: string[];
  /** How many are missing. */
  count: number;
}

/**
 * The gaps in the numbering of a delivery's files, kind by kind (`…_PersRelEleve_0001.xml`, `_0003.xml`: `_0002`
 * is missing). A kind's numbering starts at 0000 or 0001 (`_0002` alone misses `_0001`); files whose name gives no
 * kind and number are not counted, nor the nomenclatures (MatiereEducNat, MefEducNat: no accounts). The files of
 * one kind are counted together whatever their prefix (`clean-…`): two deliveries in one run never make a gap.
 * A missing last file leaves no gap (the absence step keeps the accounts the run's pupils still name: apply.ts).
 */
export function aafNumberingGaps(names: readonly string[]): AafNumberingGap[] {
  const byKind = new Map<Exclude<AafKind, 'ignored'>, Map<number, string>>();
  for (const name of names) {
    const kind = aafKindFromName(name);
    const m = /_(\d+)\.xml$/i.exec(name);
    if (!kind || kind === 'ignored' || !m) continue;
    const numbers = byKind.get(kind) ?? byKind.set(kind, new Map()).get(kind)!;
    const n = Number(m[1]);
    if (!numbers.has(n)) numbers.set(n, name);
  }
  const gaps: AafNumberingGap[] = [];
  for (const [kind, numbers] of byKind) {
    const sorted = [...numbers.keys()].sort((a, b) => a - b);
    const missing: string[] = [];
    let count = 0;
    // Named after the next file present: its prefix, its folder and the width of its number.
    const nameOf = (n: number, next: string) => {
      const m = /_(\d+)(\.xml)$/i.exec(next)!;
      return `${next.slice(0, m.index)}_${String(n).padStart(m[1].length, '0')}${m[2]}`;
    };
    let expected = Math.min(sorted[0], 1);
    for (const n of sorted) {
      for (let k = expected; k < n && missing.length < 10; k++) missing.push(nameOf(k, numbers.get(n)!));
      count += Math.max(0, n - expected);
      expected = n + 1;
    }
    if (count) gaps.push({ kind, missing, count });
  }
  const order: AafKind[] = ['EtabEducNat', 'Eleve', 'PersEducNat', 'PersRelEleve'];
  return gaps.sort((a, b) => order.indexOf(a.kind) - order.indexOf(b.kind));
}

/** Words of a name that say a delta (« ENT_Delta_… », « diff », « incr », « incremental »). */
const DELTA_WORDS = new Set(['delta', 'deltas', 'diff', 'incr', 'increment', 'incremental', 'incrementiel', 'incrementielle']);
/** Words of a file's own name that say a complete feed (« ENT_Complet_… »). */
const COMPLETE_WORDS = new Set(['complet', 'complete']);

/**
 * A delta feed only carries changes: it must not pre-delete absent users. Said by whole words of the name (runs of letters
 * or of digits, accents aside: « Delta20250915 » is a word and a number), the file's own name first — « Complet » there (and no delta word) is a
 * complete feed whatever its folder or archive is named —, then its folders and archive: a word inside another (« diffusion »,
 * « deltaplane ») says nothing (the complete feed of an archive named « diffusion-aaf-… » was read as a delta, and
 * nobody who had left was sent to the grace period).
 */
export function isDeltaFeed(name: string): boolean {
  const words = (t: string) => t.normalize('NFD').replace(/\p{M}/gu, '').toLowerCase().match(/[a-z]+|[0-9]+/g) ?? [];
  const own = words(name.slice(name.lastIndexOf('/') + 1));
  // In the file's own name « delta » run into other letters says a delta too (« ENT1DDelta », « AAFDELTA »): a delta
  // read as complete sends everyone it does not list to the grace period, the worse mistake by far.
  if (own.some((w) => DELTA_WORDS.has(w) || w.includes('delta'))) return true;
  if (own.some((w) => COMPLETE_WORDS.has(w))) return false;
  return words(name).some((w) => DELTA_WORDS.has(w));
}

/** How readAaf reads: the fast scanner falling back to saxes (default), either alone (tests). */
export interface AafReadOptions {
  reader?: 'auto' | 'scan' | 'saxes';
  /** Bytes per piece of the file (1 MiB); `drain` is awaited after each. */
  chunkSize?: number;
  /**
   * Records read before (aaf-cache.ts), checked by the fast scanner only: an addRequest whose text `hit` takes is
   * not read (`hit` stages what it gave then); any other one carries the digest it may be cached under.
   */
  cache?: AafRecordCache;
}

/** What readAaf asks of a cache of records read before (aaf-cache.ts AafCache, for one file). */
export interface AafRecordCache {
  /** The digest a whole `<addRequest>…</addRequest>` of the file would be cached under; null when none may be. */
  digestOf(text: string): string | null;
  /** Takes the record cached under `digest`, read at `line`, if there is one (then true). */
  hit(digest: string, line: number): boolean;
}

/**
 * Streams every add/modify/delete request of one file to `onRecord`; `drain` is awaited between pieces of the file
 * (the run spills what it gathered). Read with the fast scanner (xml-scan.ts); a file beyond it (or malformed) is
 * read again with saxes, whose records the scanner already handed over are skipped: the records, and the
 * ImportFileError of a malformed file (file, line, detail), are saxes' in every case.
 * Returns which reader finished the file, and why the scanner gave up if it did.
 */
export async function readAaf(
  file: string,
  source: XmlSource,
  onRecord: (r: AafRecord) => void,
  drain?: () => Promise<void>,
  opts: AafReadOptions = {},
): Promise<{ reader: 'scan' | 'saxes'; fallback?: string }> {
  let taken = 0;
  let fallback: string | undefined;
  if (opts.reader !== 'saxes') {
    try {
      const events = new AafEvents((r) => {
        taken++;
        onRecord(r);
      }, opts.cache && {
        digestOf: (text) => opts.cache!.digestOf(text),
        // A record taken from the cache is one handed over too (saxes, reading again, skips it).
        hit: (d, line) => {
          if (!opts.cache!.hit(d, line)) return false;
          taken++;
          return true;
        },
      });
      await scanXml(file, source, events, drain, opts.chunkSize);
      return { reader: 'scan' };
    } catch (e) {
      if (!(e instanceof XmlScanFallback) || opts.reader === 'scan') throw e;
      fallback = e.reason;
    }
  }
  let skip = taken;
  const parser = saxesEvents(
    new SaxesParser({ position: true }),
    new AafEvents((r) => {
      if (skip > 0) skip--;
      else onRecord(r);
    }),
  );
  await feedParser(file, source, parser, drain, opts.chunkSize);
  return { reader: 'saxes', ...(fallback ? { fallback } : {}) };
}

/** Builds AafRecords out of XML events, whichever parser sends them. */
class AafEvents implements XmlEvents {
  private rec: AafRecord | null = null;
  private inOperational = false;
  private attrName: string | null = null;
  private values: string[] | null = null;
  private value: string | null = null;
  private inId = false;
  private idText = '';
  /** Attribute names, one string each (a name sliced from a piece would keep the whole piece alive). */
  private readonly names = new Map<string, string>();
  /** The digest of the addRequest about to be read (whole), for its record. */
  private digest: string | undefined;
  readonly wholeName?: string;

  constructor(
    private readonly onRecord: (r: AafRecord) => void,
    private readonly cache?: AafRecordCache,
  ) {
    if (cache) this.wholeName = 'addRequest';
  }

  whole(text: string, line: number): boolean {
    const d = this.cache?.digestOf(text) ?? undefined;
    if (d && this.cache!.hit(d, line)) return true;
    const plain = this.plain(text, line);
    if (plain) {
      if (d) plain.digest = d;
      this.onRecord(plain);
      return true;
    }
    this.digest = d;
    return false;
  }

  /**
   * The record of a whole `<addRequest>` (`whole`) written as the AAF writes it, read in one pass: the scanner's
   * events for its 40-odd tags and their handling here cost 1.5 s of the reading of 100,000 accounts (120 MB of XML).
   * Only a plain subset of XML: the record's own elements, nested as the AAF nests them, tags written exactly
   * `<attr name="…">`, `<value>`, `<value/>`, `</attr>`…, text without `&` or `]]>` (the scanner checked its
   * characters); null for anything else, which the scanner's events then read (the same record, or the error).
   */
  private plain(text: string, line: number): AafRecord | null {
    if (text.includes('&') || text.includes(']]>')) return null;
    const rec: AafRecord = { op: 'add', category: '', id: '', attrs: new Map(), line };
    const end = text.length - '</addRequest>'.length;
    /** The elements open within the record. */
    const open: string[] = [];
    let operational = false;
    let attrName: string | null = null;
    let values: string[] | null = null;
    let value: string | null = null;
    let id: string | null = null;
    let i = '<addRequest>'.length;
    for (;;) {
      const lt = text.indexOf('<', i);
      if (lt > i) {
        if (value !== null) value += text.slice(i, lt);
        else if (id !== null) id += text.slice(i, lt);
      }
      // The scanner cut the text at the first `</addRequest>`.
      if (lt === end) return open.length ? null : rec;
      const top = open.at(-1);
      if (text.charCodeAt(lt + 1) === 0x2f) {
        if (top === undefined || !text.startsWith(top, lt + 2) || text.charCodeAt(lt + 2 + top.length) !== 0x3e) return null;
        open.pop();
        i = lt + 3 + top.length;
        if (top === 'value') {
          values!.push(copy(value!));
          value = null;
        } else if (top === 'attr') {
          if (operational) rec.category = values![0]?.trim() ?? '';
          else rec.attrs.set(attrName!, values!);
          attrName = null;
          values = null;
        } else if (top === 'id') {
          rec.id = id!.trim();
          id = null;
        } else if (top === 'operationalAttributes') operational = false;
      } else if (top === 'attr' && text.startsWith('value>', lt + 1)) {
        open.push('value');
        value = '';
        i = lt + 7;
      } else if (top === 'attr' && text.startsWith('value/>', lt + 1)) {
        values!.push('');
        i = lt + 8;
      } else if ((top === 'attributes' || top === 'operationalAttributes') && text.startsWith('attr name="', lt + 1)) {
        const a = lt + 12;
        const q = text.indexOf('"', a);
        if (q < 0) return null;
        for (let k = a; k < q; k++) {
          const c = text.charCodeAt(k);
          if (c === 0x3c || c === 0x09 || c === 0x0a) return null;
        }
        const n = text.slice(a, q);
        let own = this.names.get(n);
        if (own === undefined) {
          own = copy(n);
          this.names.set(own, own);
        }
        attrName = own;
        values = [];
        if (text.charCodeAt(q + 1) === 0x3e) {
          open.push('attr');
          i = q + 2;
        } else if (text.startsWith('/>', q + 1)) {
          if (operational) rec.category = '';
          else rec.attrs.set(own, values);
          attrName = null;
          values = null;
          i = q + 3;
        } else return null;
      } else if (top === 'identifier' && text.startsWith('id>', lt + 1)) {
        open.push('id');
        id = '';
        i = lt + 4;
      } else if (top === undefined) {
        const name = text.startsWith('attributes>', lt + 1) ? 'attributes' : text.startsWith('identifier>', lt + 1) ? 'identifier' : text.startsWith('operationalAttributes>', lt + 1) ? 'operationalAttributes' : null;
        if (!name) return null;
        open.push(name);
        operational = name === 'operationalAttributes';
        i = lt + name.length + 2;
      } else return null;
    }
  }

  open(name: string, attrs: readonly string[], line: () => number) {
    switch (name) {
      case 'addRequest':
      case 'modifyRequest':
      case 'deleteRequest':
        this.rec = {
          op: name === 'addRequest' ? 'add' : name === 'modifyRequest' ? 'modify' : 'delete',
          category: '',
          id: '',
          attrs: new Map(),
          line: line(),
        };
        if (this.digest && name === 'addRequest') this.rec.digest = this.digest;
        this.digest = undefined;
        break;
      case 'operationalAttributes':
        this.inOperational = true;
        break;
      case 'id':
        this.inId = true;
        this.idText = '';
        break;
      case 'attr':
      case 'modification': {
        let n = '';
        for (let i = 0; i < attrs.length; i += 2) if (attrs[i] === 'name') n = attrs[i + 1];
        let own = this.names.get(n);
        if (own === undefined) {
          own = copy(n);
          this.names.set(own, own);
        }
        this.attrName = own;
        this.values = [];
        break;
      }
      case 'value':
        this.value = '';
        break;
    }
  }

  text(t: string) {
    if (this.value !== null) this.value += t;
    else if (this.inId) this.idText += t;
  }

  cdata(t: string) {
    if (this.value !== null) this.value += t;
  }

  close(name: string) {
    switch (name) {
      case 'value':
        // A long value would be a slice of the parser's piece and keep that whole piece alive as long as the
        // batch holds it (an e-mail per person pins the whole file): keep a copy of its own.
        if (this.values && this.value !== null) this.values.push(copy(this.value));
        this.value = null;
        break;
      case 'id':
        this.inId = false;
        if (this.rec) this.rec.id = this.idText.trim();
        break;
      case 'attr':
      case 'modification':
        if (this.rec && this.attrName !== null && this.values) {
          if (this.inOperational) this.rec.category = this.values[0]?.trim() ?? '';
          else this.rec.attrs.set(this.attrName, this.values);
        }
        this.attrName = null;
        this.values = null;
        break;
      case 'operationalAttributes':
        this.inOperational = false;
        break;
      case 'addRequest':
      case 'modifyRequest':
      case 'deleteRequest':
        if (this.rec) this.onRecord(this.rec);
        this.rec = null;
        break;
    }
  }
}

/** A string of its own: V8 makes a slice of 13 characters or more a view on its parent string. */
const copy = (t: string) => (t.length >= 13 ? ` ${t}`.slice(1) : t);

// ---- mapping AAF records to the normalised batch ----
//
// Two shapes of the same `ficAlimMENESR` feed:
//  - 2D (collèges, lycées): sn / givenName / personalTitle / mail, classes `structure$CLASSE`, relatives named
//    by the pupil in ENTElevePersRelEleve `id$lien$financier$représentant légal$contact$…`;
//  - 1D (écoles): ENTPersonNom / ENTPersonPrenom / ENTPersonCivilite / ENTPersonMail, classes
//    `structure$…$…$id$LIBELLE` (ENTPersonClasses), legal representatives in ENTEleveAutoriteParentale.
// A record is 1D when it carries one of the 1D-only attributes (or an earlier record of its file did).

/** First non-empty value of `k`, cleaned. */
const first = (a: Map<string, string[]>, k: string): string | null => {
  const values = a.get(k);
  if (values) {
    for (const v of values) {
      const c = clean(v);
      if (c !== null) return c;
    }
  }
  return null;
};
/** Every non-empty value of `k`, cleaned. */
const all = (a: Map<string, string[]>, k: string): string[] => {
  const out: string[] = [];
  const values = a.get(k);
  if (values) {
    for (const v of values) {
      const c = clean(v);
      if (c !== null) out.push(c);
    }
  }
  return out;
};
const listed = (a: Map<string, string[]>, keys: readonly string[]) => keys.some((k) => a.has(k));
const firstOf = (a: Map<string, string[]>, keys: readonly string[]): string | null => {
  for (const k of keys) {
    const v = first(a, k);
    if (v) return v;
  }
  return null;
};

const ONE_D_ONLY = ['ENTPersonNom', 'ENTPersonPrenom', 'ENTPersonCivilite', 'ENTPersonMail', 'ENTPersonClasses', 'ENTPersonGroupes', 'ENTEleveNiveau', 'ENTPersRelEleveEleve', 'ENTPersRelEleveTelMobile'];

/** The classes a member of staff is professeur principal of (2D). */
const HEAD_TEACHER = 'ENTAuxEnsClassesPrincipal';

const ATTR = {
  lastName: ['sn', 'ENTPersonNom'],
  firstName: ['givenName', 'ENTPersonPrenom'],
  title: ['personalTitle', 'ENTPersonCivilite'],
  email: ['mail', 'ENTPersonMail'],
  birthDate: ['ENTPersonDateNaissance'],
  phone: ['telephoneNumber', 'homePhone', 'ENTPersonTelPerso', 'ENTPersRelEleveTelPro', 'mobile'],
  mobile: ['ENTPersonMobileSMS', 'ENTPersRelEleveTelMobile', 'mobile'],
  ine: ['ENTEleveINE'],
  address: ['ENTPersonAdresse', 'ENTPersonCodePostal', 'ENTPersonVille', 'ENTPersonPays'],
  functions: ['ENTPersonFonctions'],
  structures: ['ENTPersonStructRattach'],
  level: ['ENTEleveNivFormation', 'ENTEleveLibelleMEF', 'ENTEleveNiveau'],
  teacher: ['ENTPersonCategorieEnseignant', 'PersEducNatPresenceDevantEleves'],
  studentClasses: ['ENTEleveClasses', 'ENTPersonClasses'],
  studentGroups: ['ENTEleveGroupes', 'ENTPersonGroupes'],
  // 2D staff: ENTAuxEnsClasses and ENTAuxEnsGroupes (`structure$CLASSE`), the « Matieres » ones (`structure$CLASSE$
  // matière`, a value per subject: where the reference ENT reads a teacher's classes and groups, ENTAuxEnsClasses being
  // its « oldclasses ») and the classes she is professeur principal of (`structure$CLASSE`, as STS-web's PROF_PRINC).
  staffClasses: ['ENTAuxEnsClasses', 'ENTPersonClasses', 'ENTAuxEnsClassesMatieres', HEAD_TEACHER],
  staffGroups: ['ENTAuxEnsGroupes', 'ENTPersonGroupes', 'ENTAuxEnsGroupesMatieres'],
} as const;

/**
 * `structure$NAME` (2D) or `structure$…$…$id$NAME` (1D) values of classes and groups: the structure's jointure
 * and the name people see; deduplicated.
 */
export function structRefs(values: string[]): { structure: string; name: string }[] {
  const seen = new Set<string>();
  const out: { structure: string; name: string }[] = [];
  for (const v of values) {
    const parts = v.split('$');
    const s = clean(parts[0]);
    const n = clean(parts.length >= 5 ? parts[4] : parts[1]);
    if (!s || !n || seen.has(`${s}$${n}`)) continue;
    seen.add(`${s}$${n}`);
    out.push({ structure: s, name: n });
  }
  return out;
}

/**
 * A member of staff's classes or groups: the union of the values of `keys` (deduplicated, in their order), each with
 * the attributes that give it (`from`, in the order of `keys`). A modifyRequest (`base`: the stored memberships, or an
 * earlier record of the run) replaces the attributes it lists, and the others give what they gave: a delta replacing
 * ENTAuxEnsClassesPrincipal alone takes a former head-teacher class away unless another attribute gives it too, and
 * one replacing ENTAuxEnsClassesMatieres alone keeps the head-teacher classes. A stored membership no attribute is
 * known for (before migration 0039, until the next complete feed) goes as it went before: when the modifyRequest
 * lists any of `keys` but the head-teacher one.
 */
function staffRefs<T extends { structure: string; name: string; from?: string[] }>(
  keys: readonly string[],
  a: Map<string, string[]>,
  base?: readonly T[],
): { structure: string; name: string; from?: string[] }[] {
  const out = new Map<string, { structure: string; name: string; from?: string[] }>();
  const add = (x: { structure: string; name: string }, k: string) => {
    const key = `${x.structure}$${x.name}`;
    const known = out.get(key);
    if (!known) out.set(key, { structure: x.structure, name: x.name, from: [k] });
    else if (!known.from!.includes(k)) known.from!.push(k);
  };
  for (const k of keys) {
    if (base && !a.has(k)) {
      for (const x of base) if (x.from?.includes(k)) add(x, k);
    } else for (const x of structRefs(all(a, k))) add(x, k);
  }
  if (base && !keys.some((k) => k !== HEAD_TEACHER && a.has(k))) {
    for (const x of base) {
      const key = `${x.structure}$${x.name}`;
      if (!x.from && !out.has(key)) out.set(key, { structure: x.structure, name: x.name });
    }
  }
  return [...out.values()];
}

/** ENTStructureNomCourant `CLG$DES TILLEULS$VILLEBOIS` → `CLG - DES TILLEULS - VILLEBOIS`. */
export function structureName(raw: string): string {
  return raw
    .split('$')
    .map((p) => clean(p))
    .filter((p): p is string => p !== null)
    .join(' - ');
}

/**
 * Relatives a pupil names, by role. 2D: ENTElevePersRelEleve `id$lien$financier$représentant légal$contact$paiement`,
 * whose 4th field changed meaning over the feed's versions:
 *  - older feeds (AAF-VE1301, aaf-2013): `1` and `2` are the first and the second legal representative, as SIECLE's
 *    RESP_LEGAL, and the deprecated ENTEleveAutoriteParentale lists both;
 *  - current feeds: `1` is every legal representative, `2` a « personne en charge » (SIECLE NIVEAU_RESPONSABILITE 2:
 *    no parental authority), and ENTEleveAutoriteParentale is left empty (the reference ENT has counted only `1` since
 *    2020, `2` behind an option it calls import-person-in-charge).
 * The feed says its version nowhere the import can rely on, so the pupil's own record decides: `1` is a legal
 * representative; `2` is one only when that record's ENTEleveAutoriteParentale names them, otherwise `inCharge` (no
 * account, reported). `0`: contacts, payers, other relatives. 1D: every ENTEleveAutoriteParentale value (first `$`
 * field). In 2D, ENTEleveParents, ENTElevePere/Mere, ENTElevePersRelEleve1/2 (and ENTEleveAutoriteParentale beyond
 * confirming a `2`) name nobody. Undefined when the record does not list the attribute (a modifyRequest leaves them
 * as they are).
 */
export function relativeRoles(a: Map<string, string[]>, oneD: boolean, self: string): { legal: string[]; inCharge: string[] } | undefined {
  const key = oneD ? 'ENTEleveAutoriteParentale' : 'ENTElevePersRelEleve';
  if (!a.has(key)) return undefined;
  const legal = new Set<string>();
  const inCharge = new Set<string>();
  const authority = oneD ? null : new Set(all(a, 'ENTEleveAutoriteParentale').map((v) => clean(v.split('$')[0])));
  for (const v of all(a, key)) {
    const f = v.split('$');
    const id = clean(f[0]);
    if (!id || id === self) continue;
    const role = f[3]?.trim();
    if (oneD || role === '1' || (role === '2' && authority!.has(id))) legal.add(id);
    else if (role === '2') inCharge.add(id);
  }
  for (const id of legal) inCharge.delete(id);
  return { legal: [...legal], inCharge: [...inCharge] };
}

/** The legal representatives a pupil names (relativeRoles). */
export function legalRepresentatives(a: Map<string, string[]>, oneD: boolean, self: string): string[] | undefined {
  return relativeRoles(a, oneD, self)?.legal;
}

/**
 * Teacher or staff (PersEducNat). ENTPersonCategorieEnseignant decides when it says `O` (Teacher) or `N` (staff,
 * whatever the functions say: the category is the academy's word, and a teacher's rights — the class view, the
 * families' codes — must not come from a function code alone); as the reference ENT reads it (PersonnelImportProcessing
 * detectProfile). Without it: Teacher when PersEducNatPresenceDevantEleves is `O` or a function of ENTPersonFonctions
 * (`structure$CODE$…`) is ENS or DOC.
 */
export function isTeacher(a: Map<string, string[]>, functions: string[]): boolean {
  const category = first(a, 'ENTPersonCategorieEnseignant')?.trim().toUpperCase();
  if (category === 'O' || category === 'N') return category === 'O';
  const teaching = functions.some((f) => {
    const parts = f.split('$');
    const code = (parts.length > 1 ? parts[1] : parts[0]).trim().toUpperCase();
    return code === 'ENS' || code === 'DOC';
  });
  return teaching || first(a, 'PersEducNatPresenceDevantEleves')?.toUpperCase() === 'O';
}

export type PersonKind = 'Eleve' | 'PersEducNat' | 'PersRelEleve';

/** A remark on a record imported all the same: the field and why (a message code). */
export interface PersonNote {
  field: string;
  code: ImportCode;
  params?: ImportMessage['params'];
}

export type PersonMapping =
  | { ok: true; user: UserRecord; legal: string[] | undefined; classField: string; groupField: string; refFields?: Record<string, string>; note?: PersonNote }
  | { ok: false; field: string; code: ImportCode; params?: ImportMessage['params'] };

/**
 * One person record → UserRecord. `base` is what the directory (or an earlier record of the run) already says
 * about them: a modifyRequest replaces only the attributes it lists, everything else comes from `base`.
 * Without a base (addRequest) the record is the whole description.
 */
export function mapPerson(
  kind: PersonKind,
  ext: string,
  a: Map<string, string[]>,
  oneD: boolean,
  file: string,
  line: number,
  base?: UserRecord,
): PersonMapping {
  const given = (keys: readonly string[]) => !base || listed(a, keys);
  const fail = (field: string, code: ImportCode, params?: ImportMessage['params']): PersonMapping => ({ ok: false, field, code, ...(params ? { params } : {}) });

  const lastName = given(ATTR.lastName) ? firstOf(a, ATTR.lastName) ?? first(a, 'ENTPersonNomPatro') : base!.lastName;
  if (!lastName) return fail(oneD ? 'ENTPersonNom' : 'sn', 'rowNoLastName');
  const firstName = given(ATTR.firstName) ? firstOf(a, ATTR.firstName) : base!.firstName;
  if (!firstName) return fail(oneD ? 'ENTPersonPrenom' : 'givenName', 'rowNoFirstName');
  let birthDate = base?.birthDate ?? null;
  /** A date that cannot be read: the académie's data, which the school cannot correct, and no key of the AAF's. */
  let note: PersonNote | undefined;
  if (given(ATTR.birthDate)) {
    const raw = first(a, 'ENTPersonDateNaissance');
    const d = raw ? parseDate(raw) : null;
    // The person is imported without it (the stored date stays), said on the record's line, as an e-mail that is none.
    if (d === undefined) note = { field: 'ENTPersonDateNaissance', code: 'aafInvalidBirth', params: { value: raw ?? '' } };
    else birthDate = d;
  }
  const functions = given(ATTR.functions) ? all(a, 'ENTPersonFonctions') : base!.functions;

  let profile: Profile;
  if (kind === 'Eleve') profile = 'Student';
  else if (kind === 'PersRelEleve') profile = 'Relative';
  else {
    // A modifyRequest that lists none of the deciding attributes keeps the profile, unless its functions now teach.
    const teaches = isTeacher(a, functions ?? []);
    profile = teaches ? 'Teacher' : given(ATTR.teacher) ? 'Personnel' : base!.profile;
  }

  const classKeys = kind === 'Eleve' ? ATTR.studentClasses : ATTR.staffClasses;
  const groupKeys = kind === 'Eleve' ? ATTR.studentGroups : ATTR.staffGroups;
  const classField = classKeys.find((k) => a.has(k)) ?? classKeys[oneD ? 1 : 0];
  const groupField = groupKeys.find((k) => a.has(k)) ?? groupKeys[oneD ? 1 : 0];
  // A class or group another attribute than classField/groupField gives first (a member of staff's « Matieres » or
  // head-teacher classes), by `c:`/`g:` + `structure$name`: the report names that attribute (aaf-settle.ts).
  const refFields: Record<string, string> = {};
  for (const [tag, keys, field] of [['c', classKeys, classField], ['g', groupKeys, groupField]] as const) {
    const seen = new Set<string>();
    for (const k of keys) {
      for (const x of structRefs(all(a, k))) {
        const ref = `${tag}:${x.structure}$${x.name}`;
        if (seen.has(ref)) continue;
        seen.add(ref);
        if (k !== field) refFields[ref] = k;
      }
    }
  }
  // Level of the pupil's classes; a modifyRequest that does not list it leaves the classes' levels alone (null).
  const level = given(ATTR.level) ? firstOf(a, ATTR.level) : null;
  let classes: UserRecord['classes'] = [];
  let groups: UserRecord['groups'] = [];
  if (kind === 'PersEducNat') {
    // Each class and group with the attributes that give it: a modifyRequest replaces only those it lists.
    classes = staffRefs(classKeys, a, base?.classes);
    groups = staffRefs(groupKeys, a, base?.groups);
  } else if (kind === 'Eleve') {
    classes = given(classKeys)
      ? structRefs(classKeys.flatMap((k) => all(a, k))).map((x) => ({ ...x, level }))
      : base!.classes.map((x) => (listed(a, ATTR.level) ? { ...x, level } : x));
    groups = given(groupKeys) ? structRefs(groupKeys.flatMap((k) => all(a, k))) : base!.groups;
  }
  // Not the structures only the base's functions named (an earlier modifyRequest of the run): they come from the
  // functions below, which this record may replace, and are no ENTPersonStructRattach (no « rattachement ignoré »).
  const structures = new Set(given(ATTR.structures) ? all(a, 'ENTPersonStructRattach') : [...base!.structures].filter((s) => !base!.byFunction?.includes(s)));
  for (const x of classes) structures.add(x.structure);
  for (const x of groups) structures.add(x.structure);
  // Staff are attached to the structures their functions name too (`structure$CODE$…`: the ENTStructureJointure),
  // as the reference ENT does: a member of staff whose ENTPersonStructRattach is empty is not left in no school.
  // Those only a function names are kept apart: one unknown to the run and the directory is dropped unsaid, unless a
  // head of school's function (DIR) names it (no administration then: said, aaf-settle.ts dropUnknownStructures); a
  // function may name a structure by its UAI, resolved there too.
  const byFunction: string[] = [];
  if (kind === 'PersEducNat') {
    for (const f of functions ?? []) {
      const s = f.includes('$') ? clean(f.slice(0, f.indexOf('$'))) : null;
      if (s && !structures.has(s)) {
        structures.add(s);
        byFunction.push(s);
      }
    }
  }

  // First usable number of the attributes, in their order.
  const phoneOf = (keys: readonly string[]) => {
    for (const k of keys) {
      const p = cleanPhone(first(a, k));
      if (p !== null) return p;
    }
    return null;
  };
  const user: UserRecord = {
    externalId: ext,
    source: 'aaf',
    origin: 'feed',
    profile,
    title: given(ATTR.title) ? firstOf(a, ATTR.title) : base!.title,
    firstName,
    lastName,
    birthDate,
    email: given(ATTR.email) ? cleanEmail(firstOf(a, ATTR.email)) : base!.email,
    phone: given(ATTR.phone) ? phoneOf(ATTR.phone) : base!.phone,
    structures,
    classes,
    groups,
    file,
    line,
  };
  if (given(ATTR.email) && user.email) user.emailListed = true;
  // Absent from an addRequest: left as stored (UserRecord contract).
  if (listed(a, ATTR.ine)) user.ine = first(a, 'ENTEleveINE')?.toUpperCase() ?? null;
  else if (base?.ine !== undefined) user.ine = base.ine;
  if (listed(a, ATTR.mobile)) user.mobile = phoneOf(ATTR.mobile);
  else if (base?.mobile !== undefined) user.mobile = base.mobile;
  // The postal address, for letters sent in window envelopes (address-block.ts). Stored as one text: a modifyRequest
  // listing only some of its parts (a new street, same town) takes the others from the stored one (postalParts),
  // and leaves it as it is when it cannot be split.
  if (listed(a, ATTR.address)) {
    const stored = base?.address ? postalParts(base.address) : null;
    const part = (k: string, old: string | null | undefined) => (a.has(k) ? first(a, k) : old);
    if (!base || ATTR.address.every((k) => a.has(k)) || stored) {
      user.address = postalAddress(
        a.has('ENTPersonAdresse') ? all(a, 'ENTPersonAdresse') : (stored?.street ?? []),
        part('ENTPersonCodePostal', stored?.postcode),
        part('ENTPersonVille', stored?.town),
        part('ENTPersonPays', stored?.country),
      );
    } else user.address = base.address;
  } else if (base?.address !== undefined) user.address = base.address;
  if (functions !== undefined && (listed(a, ATTR.functions) || base)) user.functions = functions;
  if (byFunction.length) user.byFunction = byFunction;
  // A pupil's record naming people in ENTEleveAutoriteParentale and listing no ENTElevePersRelEleve is read as 1D
  // whatever its file looked like so far: a 1D delta whose modifications change only the representatives carries no
  // 1D-only attribute (the change was dropped unsaid). A 2D record lists ENTElevePersRelEleve, or this attribute
  // alone in a modification, whose values are then all the legal representatives (older feeds: aaf-2013's lists
  // match its links one for one; current feeds leave it empty, and an empty one alone changes nothing here).
  const authorityAlone = !oneD && !a.has('ENTElevePersRelEleve') && all(a, 'ENTEleveAutoriteParentale').length > 0;
  const roles = kind === 'Eleve' ? relativeRoles(a, oneD || authorityAlone, ext) : undefined;
  const legal = kind === 'Eleve' ? roles?.legal ?? (base ? undefined : []) : undefined;
  // Kept with the record (staged, cached) for the report: who was left out as « personne en charge ».
  if (roles?.inCharge.length) user.inCharge = roles.inCharge;
  return { ok: true, user, legal, classField, groupField, ...(Object.keys(refFields).length ? { refFields } : {}), ...(note ? { note } : {}) };
}

/** A modifyRequest waiting for what the directory knows of its person or structure. */
export interface PendingModify {
  kind: Exclude<AafKind, 'ignored'>;
  id: string;
  attrs: Map<string, string[]>;
  oneD: boolean;
  file: string;
  line: number;
}

export interface AafCollector {
  batch: ImportBatch;
  /** Structures named by EtabEducNat files (the feed's perimeter). */
  feedStructures: Set<string>;
  kinds: Set<AafKind>;
  /** A modifyRequest or deleteRequest was read: the run is a delta and proves nothing by absence. */
  delta: boolean;
  modifies: PendingModify[];
  /** Files whose records are 1D-shaped. */
  oneD: Set<string>;
  /** Pupils the checks rejected (checks.ts), with the representatives they name: those still get their accounts. */
  rejectedPupils: { externalId: string; legal: string[] }[];
  /** deleteRequests read, by file (the report's line of each file counts them: FileReport.deletions). */
  deletes: Map<string, number>;
}

export function aafCollector(batch: ImportBatch): AafCollector {
  return { batch, feedStructures: new Set(), kinds: new Set(), delta: false, modifies: [], oneD: new Set(), rejectedPupils: [], deletes: new Map() };
}

function recordKind(category: string): AafKind {
  return category === 'EtabEducNat' || category === 'Eleve' || category === 'PersEducNat' || category === 'PersRelEleve' ? category : 'ignored';
}

/** Maps an EtabEducNat record; `base` (stored or earlier in the run) for a modifyRequest, which replaces what it lists. */
export function mapStructure(ext: string, a: Map<string, string[]>, base?: StructureRecord): StructureRecord {
  const uai = listed(a, ['ENTStructureUAI', 'ENTEtablissementUAI']) || !base ? firstOf(a, ['ENTStructureUAI', 'ENTEtablissementUAI'])?.toUpperCase() ?? null : base.uai;
  const rawName = first(a, 'ENTStructureNomCourant');
  const name = rawName ? structureName(rawName) : base?.name ?? (uai ? `Établissement ${uai}` : `Structure ${ext}`);
  // `CODE$LIBELLE`: users reference classes by the code, so the code is the class name.
  const names = (k: string) => [...new Set(all(a, k).map((v) => clean(v.split('$')[0])).filter((v): v is string => !!v))];
  return {
    key: ext, externalId: ext, uai, name, origin: 'feed',
    classes: a.has('ENTStructureClasses') ? names('ENTStructureClasses') : base?.classes,
    groups: a.has('ENTStructureGroupes') ? names('ENTStructureGroupes') : base?.groups,
  };
}

/** Maps one record into the batch (modifyRequests wait for `settleAaf`); returns its kind ('ignored' for subjects, MEF…). */
export function collectAafRecord(c: AafCollector, file: string, r: AafRecord): AafKind {
  const kind = recordKind(r.category);
  const a = r.attrs;
  if (kind === 'ignored') return kind;
  c.kinds.add(kind);
  if (listed(a, ONE_D_ONLY)) c.oneD.add(file);
  const oneD = c.oneD.has(file);
  const reject: AafReject = (field, code, params) => {
    c.batch.rejected.push(rejection(file, r.line, field, code, params));
    const id = first(a, 'ENTPersonJointure') ?? clean(r.id);
    if (id) c.batch.protect.push(id);
  };
  const ext = (kind === 'EtabEducNat' ? first(a, 'ENTStructureJointure') : first(a, 'ENTPersonJointure')) ?? clean(r.id);
  if (!ext) {
    if (r.op !== 'delete') reject(kind === 'EtabEducNat' ? 'ENTStructureJointure' : 'ENTPersonJointure', 'aafNoJoin');
    return kind;
  }

  if (r.op === 'delete') {
    c.delta = true;
    c.deletes.set(file, (c.deletes.get(file) ?? 0) + 1);
    if (kind !== 'EtabEducNat') c.batch.deletions.push(ext);
    return kind;
  }
  if (r.op === 'modify') {
    c.delta = true;
    c.modifies.push({ kind, id: ext, attrs: a, oneD, file, line: r.line });
    return kind;
  }

  if (kind === 'EtabEducNat') {
    c.batch.structures.set(ext, { ...mapStructure(ext, a), file });
    c.feedStructures.add(ext);
    return kind;
  }
  const m = mapPerson(kind, ext, a, oneD, file, r.line);
  if (m.ok && r.digest) m.user.digest = r.digest;
  addPerson(c, kind, ext, m, reject);
  return kind;
}

/** Rejects a record of the feed: the field and why, as a message code (src/import/messages.ts). */
export type AafReject = (field: string, code: ImportCode, params?: ImportMessage['params']) => void;

/** Puts a mapped person in the batch (or rejects the record). */
export function addPerson(c: AafCollector, kind: PersonKind, ext: string, m: PersonMapping, reject: AafReject, replace = false) {
  if (!m.ok) return reject(m.field, m.code, m.params);
  if (m.note) {
    c.batch.rejected.push(rejection(m.user.file, m.user.line, m.note.field, m.note.code, m.note.params));
    // The report names it on every run: the record is read each time (aaf-cache.ts).
    m.user.digest = undefined;
  }
  m.user.fields = { classes: m.classField, groups: m.groupField, ...(m.refFields ? { by: m.refFields } : {}) };
  if (kind === 'Eleve' && m.legal !== undefined) m.user.legal = m.legal;
  if (replace) {
    // Representatives a modification does not list stay those the run gave.
    const prev = c.batch.users.get(ext);
    if (m.user.legal === undefined && prev?.legal !== undefined) {
      m.user.legal = prev.legal;
      m.user.inCharge = prev.inCharge;
    }
    c.batch.users.set(ext, m.user);
  } else {
    // The same key read again is merged once staged (ImportStage.mergeDuplicates, mergeStaged), each record checked
    // first as read: where the batch is cut (chunk size, a record the cache gives) changes nothing. Merged in
    // memory, two records of a key in one batch were checked together and the same two in two batches apart.
    c.batch.users.set(c.batch.users.has(ext) ? `${ext}\u0000${m.user.file}:${m.user.line}` : ext, m.user);
  }
}

/**
 * The same person twice in a run (e.g. two PersEducNat files; AAF records once staged, mergeStaged): last fields win, memberships add up, a pupil's
 * representatives are the last ones listed. AAF functions add up too, as memberships do (each record gives those of its
 * schools: the reference ENT adds a 2D person's to her 1D record's, PersonnelImportProcessing1d), and a person one
 * AAF record says teaches is a Teacher (STS-web and CSV records of one key describe one school: the last stands): the last record alone turned a teacher whose second record gives only a DIR
 * function into staff, and took the head of school's DIR of the first record away (no local administration).
 * Optional facts one record gives and the other leaves out (INE, mobile, address: absent means « as stored ») stay.
 * Two people under one key (checks.ts twoPeople) are both kept, the map's key then not the record's, for mergeStaged
 * to refuse once staged.
 */
export function mergeUser(users: Map<string, UserRecord>, u: UserRecord) {
  const prev = users.get(u.externalId);
  if (prev && twoPeople(prev, u)) {
    users.set(`${u.externalId}\u0000${u.file}:${u.line}`, u);
    return;
  }
  if (prev) {
    // Two records made one: no longer the record as read (aaf-cache.ts keeps only those).
    u.digest = undefined;
    prev.digest = undefined;
    if (u.legal === undefined && prev.legal !== undefined) {
      u.legal = prev.legal;
      u.inCharge = prev.inCharge;
    }
    // Only AAF records give each the functions of their own schools. Two records of another format describe one
    // school (STS-web `sts:<UAI>:…`, a CSV key `csv:<structure>:…`): the last stands, as it did — two years' STS-web
    // exports in one run made last year's head of school this year's local administrator, and this year's a teacher.
    if (u.source === 'aaf' && prev.source === 'aaf') {
      if (prev.profile === 'Teacher' && u.profile === 'Personnel') u.profile = 'Teacher';
      if (prev.functions) u.functions = [...new Set([...prev.functions, ...(u.functions ?? [])])];
    }
    if (u.ine === undefined && prev.ine !== undefined) u.ine = prev.ine;
    if (u.mobile === undefined && prev.mobile !== undefined) u.mobile = prev.mobile;
    if (u.address === undefined && prev.address !== undefined) u.address = prev.address;
    // The structures only functions name: those of both records that neither names otherwise.
    const byFunction = new Set([...(prev.byFunction ?? []), ...(u.byFunction ?? [])]);
    for (const x of [prev, u]) for (const s of x.structures) if (!x.byFunction?.includes(s)) byFunction.delete(s);
    if (byFunction.size) u.byFunction = [...byFunction];
    else delete u.byFunction;
    for (const s of prev.structures) u.structures.add(s);
    // A file that gives the person's classes says them all, though another of the run gives none.
    if (!(u.keepClasses && prev.keepClasses)) delete u.keepClasses;
    u.classes = mergeRefs(u.classes, prev.classes);
    u.groups = mergeRefs(u.groups, prev.groups);
  }
  users.set(u.externalId, u);
}

/**
 * The classes or groups of two records of one person (mergeUser): `u`'s, then those only `prev` gives; one both give
 * comes from the AAF attributes of either (one record may give none: another source, a membership stored before 0039).
 */
function mergeRefs<T extends { structure: string; name: string; from?: string[] }>(refs: T[], prev: readonly T[]): T[] {
  const key = (x: T) => `${x.structure}$${x.name}`;
  const byKey = new Map(refs.map((x) => [key(x), x]));
  for (const x of prev) {
    const same = byKey.get(key(x));
    if (!same) refs.push(x);
    else if (x.from) {
      // Either record's attributes: a record of another source (STS-web, CSV) gives none, and read after the AAF one
      // it must not take them away (stored without, the next delta could no longer tell which attribute gave it).
      const from = [...(same.from ?? []), ...x.from.filter((k) => !same.from?.includes(k))];
      // In the order of the attributes (aaf.ts ATTR), so that the record's text, and its digest, do not depend on the
      // order its files were read in.
      refs[refs.indexOf(same)] = { ...same, from: from.sort((p, q) => ATTR_ORDER.indexOf(p) - ATTR_ORDER.indexOf(q)) };
    }
  }
  return refs;
}

/** Staff class and group attributes in their order (ClassRef.from). */
const ATTR_ORDER: readonly string[] = [...ATTR.staffClasses, ...ATTR.staffGroups];

/**
 * The records staged more than once under a key (ImportStage.mergeDuplicates, reading order): one merged record per
 * key (mergeUser), none for a key two people share (checks.ts refuseSharedKey: all rejected into `batch`).
 */
export function mergeStaged(batch: ImportBatch, records: UserRecord[]): Map<string, UserRecord> {
  const byKey = new Map<string, UserRecord[]>();
  for (const u of records) (byKey.get(u.externalId) ?? byKey.set(u.externalId, []).get(u.externalId)!).push(u);
  const users = new Map<string, UserRecord>();
  for (const same of byKey.values()) if (!refuseSharedKey(batch, same)) for (const u of same) mergeUser(users, u);
  return users;
}

export const AAF_PROFILES: Record<Exclude<AafKind, 'ignored' | 'EtabEducNat'>, Profile[]> = {
  Eleve: ['Student'],
  PersEducNat: ['Teacher', 'Personnel'],
  PersRelEleve: ['Relative'],
};
