// AAF directory feed (`ficAlimMENESR` XML): streamed with saxes, never loaded whole.
import iconv from 'iconv-lite';
import { createReadStream } from 'node:fs';
import { Readable } from 'node:stream';
import { SaxesParser } from 'saxes';
import type { Profile } from '../db/schema.js';
import { clean, cleanEmail, cleanPhone, parseDate } from './text.js';
import { ImportFileError, type ImportBatch, type UserRecord } from './types.js';

export interface AafRecord {
  op: 'add' | 'modify' | 'delete';
  category: string;
  id: string;
  attrs: Map<string, string[]>;
  line: number;
}

export type AafKind = 'EtabEducNat' | 'Eleve' | 'PersEducNat' | 'PersRelEleve' | 'ignored';

/** The kind of an AAF file from its name (feeds are named …_Eleve_0001.xml), if it says. */
export function aafKindFromName(name: string): AafKind | undefined {
  const m = /_(EtabEducNat|Eleve|PersEducNat|PersRelEleve|MatiereEducNat|MefEducNat)_\d+\.xml$/i.exec(name);
  if (!m) return undefined;
  const k = m[1].toLowerCase();
  if (k === 'matiereeducnat' || k === 'mefeducnat') return 'ignored';
  return ({ etabeducnat: 'EtabEducNat', eleve: 'Eleve', perseducnat: 'PersEducNat', persreleve: 'PersRelEleve' } as const)[
    k as 'eleve'
  ];
}

/** A delta feed only carries changes: it must not pre-delete absent users. */
export function isDeltaFeed(name: string): boolean {
  return /delta|diff|incr/i.test(name);
}

function openStream(source: { path?: string; data?: Buffer }): Readable {
  if (source.data) return Readable.from([source.data]);
  return createReadStream(source.path!, { highWaterMark: 1 << 20 });
}

/** Streams every add/modify/delete request of one file to `onRecord`. Malformed XML throws ImportFileError. */
export async function readAaf(
  file: string,
  source: { path?: string; data?: Buffer },
  onRecord: (r: AafRecord) => void,
): Promise<void> {
  const parser = new SaxesParser({ position: true });
  let rec: AafRecord | null = null;
  let inOperational = false;
  let attrName: string | null = null;
  let values: string[] | null = null;
  let text: string | null = null;
  let inId = false;
  let idText = '';

  parser.on('opentag', (tag) => {
    switch (tag.name) {
      case 'addRequest':
      case 'modifyRequest':
      case 'deleteRequest':
        rec = {
          op: tag.name === 'addRequest' ? 'add' : tag.name === 'modifyRequest' ? 'modify' : 'delete',
          category: '',
          id: '',
          attrs: new Map(),
          line: parser.line,
        };
        break;
      case 'operationalAttributes':
        inOperational = true;
        break;
      case 'id':
        inId = true;
        idText = '';
        break;
      case 'attr':
      case 'modification':
        attrName = String(tag.attributes.name ?? '');
        values = [];
        break;
      case 'value':
        text = '';
        break;
    }
  });
  parser.on('text', (t) => {
    if (text !== null) text += t;
    else if (inId) idText += t;
  });
  parser.on('cdata', (t) => {
    if (text !== null) text += t;
  });
  parser.on('closetag', (tag) => {
    switch (tag.name) {
      case 'value':
        if (values && text !== null) values.push(text);
        text = null;
        break;
      case 'id':
        inId = false;
        if (rec) rec.id = idText.trim();
        break;
      case 'attr':
      case 'modification':
        if (rec && attrName !== null && values) {
          if (inOperational) rec.category = values[0]?.trim() ?? '';
          else rec.attrs.set(attrName, values);
        }
        attrName = null;
        values = null;
        break;
      case 'operationalAttributes':
        inOperational = false;
        break;
      case 'addRequest':
      case 'modifyRequest':
      case 'deleteRequest':
        if (rec) onRecord(rec);
        rec = null;
        break;
    }
  });

  const stream = openStream(source);
  let decoder: { write(b: Buffer): string; end(): string | undefined } | null = null;
  try {
    for await (const chunk of stream as AsyncIterable<Buffer>) {
      if (!decoder) decoder = iconv.getDecoder(declaredEncoding(chunk));
      const s = decoder.write(chunk);
      const bad = s.indexOf('\ufffd');
      if (bad >= 0) {
        throw new ImportFileError(file, parser.line + countLines(s.slice(0, bad)), '', 'encodage illisible : le fichier XML doit être en UTF-8 (ou déclarer son encodage)');
      }
      parser.write(s);
    }
    const rest = decoder?.end();
    if (rest) parser.write(rest);
    parser.close();
  } catch (e) {
    if (e instanceof ImportFileError) throw e;
    const msg = (e as Error).message;
    // saxes messages look like "file:12:4: unexpected end" (or "12:4: …" without a file name).
    const m = /^(?:.*?:)?(\d+):(\d+): (.*)$/s.exec(msg);
    throw new ImportFileError(file, m ? Number(m[1]) : parser.line, '', `XML mal formé : ${m ? m[3] : msg}`);
  } finally {
    stream.destroy();
  }
}

function countLines(s: string): number {
  let n = 0;
  for (let i = 0; i < s.length; i++) if (s.charCodeAt(i) === 10) n++;
  return n;
}

/** Encoding named in the XML declaration (UTF-8 when absent, as XML says). */
function declaredEncoding(head: Buffer): string {
  const m = /^\s*<\?xml[^>]*encoding\s*=\s*["']([A-Za-z0-9._-]+)["']/.exec(head.subarray(0, 200).toString('latin1'));
  const enc = m ? m[1] : 'utf-8';
  return iconv.encodingExists(enc) ? enc : 'utf-8';
}

// ---- mapping AAF records to the normalised batch ----

const first = (a: Map<string, string[]>, k: string): string | null => clean(a.get(k)?.find((v) => clean(v) !== null));
const all = (a: Map<string, string[]>, k: string): string[] =>
  (a.get(k) ?? []).map((v) => clean(v)).filter((v): v is string => v !== null);

/** `structure$NAME[$…]` values (classes, groups): split once, deduplicated. */
function structRefs(a: Map<string, string[]>, k: string): { structure: string; name: string }[] {
  const seen = new Set<string>();
  const out: { structure: string; name: string }[] = [];
  for (const v of all(a, k)) {
    const [structure, name] = v.split('$');
    const s = clean(structure);
    const n = clean(name);
    if (!s || !n || seen.has(`${s}$${n}`)) continue;
    seen.add(`${s}$${n}`);
    out.push({ structure: s, name: n });
  }
  return out;
}

export interface AafCollector {
  batch: ImportBatch;
  /** Structures named by EtabEducNat files (the feed's perimeter). */
  feedStructures: Set<string>;
  kinds: Set<AafKind>;
}

/** Maps one record into the batch; returns its kind ('ignored' for subjects, MEF…). */
export function collectAafRecord(c: AafCollector, file: string, r: AafRecord): AafKind {
  const cat = r.category;
  const a = r.attrs;
  const kind: AafKind =
    cat === 'EtabEducNat' ? 'EtabEducNat'
    : cat === 'Eleve' ? 'Eleve'
    : cat === 'PersEducNat' ? 'PersEducNat'
    : cat === 'PersRelEleve' ? 'PersRelEleve'
    : 'ignored';
  if (kind === 'ignored') return kind;
  c.kinds.add(kind);
  const reject = (field: string, reason: string) => {
    c.batch.rejected.push({ file, line: r.line, field, reason });
    const id = first(a, 'ENTPersonJointure') ?? clean(r.id);
    if (id) c.batch.protect.push(id);
  };

  if (r.op === 'delete') {
    if (kind !== 'EtabEducNat' && r.id) c.batch.deletions.push(r.id);
    return kind;
  }
  if (r.op === 'modify') {
    reject('modifyRequest', 'flux différentiel (modifyRequest) non pris en charge : importez le flux complet');
    return kind;
  }

  if (kind === 'EtabEducNat') {
    const ext = first(a, 'ENTStructureJointure') ?? clean(r.id);
    if (!ext) return reject('ENTStructureJointure', 'identifiant de structure manquant'), kind;
    const uai = first(a, 'ENTStructureUAI') ?? first(a, 'ENTEtablissementUAI');
    const name = first(a, 'ENTStructureNomCourant') ?? (uai ? `Établissement ${uai}` : `Structure ${ext}`);
    const names = (k: string) => [...new Set(all(a, k).map((v) => clean(v.split('$')[0])).filter((v): v is string => !!v))];
    // `CODE$LIBELLE`: users reference classes by the code, so the code is the class name.
    c.batch.structures.set(ext, {
      key: ext, externalId: ext, uai: uai?.toUpperCase() ?? null, name, origin: 'feed',
      classes: names('ENTStructureClasses'), groups: names('ENTStructureGroupes'),
    });
    c.feedStructures.add(ext);
    return kind;
  }

  const ext = first(a, 'ENTPersonJointure') ?? clean(r.id);
  if (!ext) return reject('ENTPersonJointure', 'identifiant (jointure) manquant'), kind;
  const lastName = first(a, 'sn') ?? first(a, 'ENTPersonNomPatro');
  if (!lastName) return reject('sn', 'nom manquant'), kind;
  const firstName = first(a, 'givenName');
  if (!firstName) return reject('givenName', 'prénom manquant'), kind;
  let birthDate: string | null = null;
  const rawBirth = first(a, 'ENTPersonDateNaissance');
  if (rawBirth) {
    const d = parseDate(rawBirth);
    if (!d) return reject('ENTPersonDateNaissance', `date de naissance invalide « ${rawBirth} »`), kind;
    birthDate = d;
  }
  let profile: Profile;
  if (kind === 'Eleve') profile = 'Student';
  else if (kind === 'PersRelEleve') profile = 'Relative';
  else profile = first(a, 'PersEducNatPresenceDevantEleves')?.toUpperCase() === 'O' ? 'Teacher' : 'Personnel';

  const u: UserRecord = {
    externalId: ext,
    source: 'aaf',
    origin: 'feed',
    profile,
    title: first(a, 'personalTitle'),
    firstName,
    lastName,
    birthDate,
    email: cleanEmail(first(a, 'mail')),
    phone: cleanPhone(first(a, 'telephoneNumber')) ?? cleanPhone(first(a, 'homePhone')) ?? cleanPhone(first(a, 'mobile')),
    structures: new Set(all(a, 'ENTPersonStructRattach')),
    classes: [],
    groups: [],
    file,
    line: r.line,
  };
  if (kind === 'Eleve') {
    const level = first(a, 'ENTEleveNivFormation') ?? first(a, 'ENTEleveLibelleMEF');
    u.classes = structRefs(a, 'ENTEleveClasses').map((x) => ({ ...x, level }));
    u.groups = structRefs(a, 'ENTEleveGroupes');
    // Relatives are named in several attributes; the union is the student's family as the feed knows it.
    const parents = new Set<string>();
    for (const k of ['ENTEleveParents', 'ENTEleveAutoriteParentale', 'ENTElevePere', 'ENTEleveMere', 'ENTElevePersRelEleve1', 'ENTElevePersRelEleve2']) {
      for (const v of all(a, k)) parents.add(v);
    }
    for (const v of all(a, 'ENTElevePersRelEleve')) {
      const id = clean(v.split('$')[0]);
      if (id) parents.add(id);
    }
    for (const p of parents) c.batch.relations.push({ parent: p, child: ext });
  } else if (kind === 'PersEducNat') {
    u.classes = structRefs(a, 'ENTAuxEnsClasses');
    u.groups = structRefs(a, 'ENTAuxEnsGroupes');
  }
  for (const x of [...u.classes, ...u.groups]) u.structures.add(x.structure);
  mergeUser(c.batch, u);
  return kind;
}

/** The same person twice in a run (e.g. two PersEducNat files): last fields win, memberships add up. */
export function mergeUser(batch: ImportBatch, u: UserRecord) {
  const prev = batch.users.get(u.externalId);
  if (prev) {
    for (const s of prev.structures) u.structures.add(s);
    const key = (x: { structure: string; name: string }) => `${x.structure}$${x.name}`;
    const cls = new Set(u.classes.map(key));
    u.classes.push(...prev.classes.filter((x) => !cls.has(key(x))));
    const grp = new Set(u.groups.map(key));
    u.groups.push(...prev.groups.filter((x) => !grp.has(key(x))));
  }
  batch.users.set(u.externalId, u);
}

export const AAF_PROFILES: Record<Exclude<AafKind, 'ignored' | 'EtabEducNat'>, Profile[]> = {
  Eleve: ['Student'],
  PersEducNat: ['Teacher', 'Personnel'],
  PersRelEleve: ['Relative'],
};
