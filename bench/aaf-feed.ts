// A generated AAF feed (`ficAlimMENESR` XML) of any size, with the shape of ../shared/fixtures/aaf-2013: one
// EtabEducNat file, Eleve / PersEducNat / PersRelEleve files cut every FILE_RECORDS records, the same attributes
// (2D: sn / givenName, ENTElevePersRelEleve `id$lien$financier$légal$contact$…`, the father as second legal
// representative, légal = 2, as in aaf-2013, `structure$CLASSE`), and the same
// kinds of noise: deprecated parent attributes, a contact per family who is no legal representative (no account),
// empty values. Names invented, deterministic (seeded) so that runs compare.
import { mkdirSync, openSync, writeSync, closeSync } from 'node:fs';
import { join } from 'node:path';
import { prng } from './data.js';

/** Per collège of 1,000 accounts: 310 pupils, 620 legal representatives, 70 staff (52 teachers); plus 31 contacts (ignored). */
const PER_SCHOOL = { pupils: 310, staff: 70 } as const;
const FILE_RECORDS = 20_000;
const FIRST = ['Zoé', 'Léo', 'Émile', 'Chloé', 'Lucas', 'Inès', 'Noah', 'Jade', 'Adam', 'Lina', 'Hugo', 'Manon', 'Åslög', 'Kù', 'Gaëlle', 'Jérôme', 'Anaïs', 'François', 'Tú', 'Réjane'];
const LAST = ['MARTIN', 'BERNARD', 'DUBOIS', 'THOMAS', 'ROBERT', 'RICHARD', 'PETIT', 'DURAND', 'LEROY', 'MOREAU', 'SIMON', 'LAURENT', 'LEFÈBVRE', 'Long', 'Burke', 'NGUYỄN', 'DE LA FONTAINE', "O'NEILL", 'Frazier', 'Butler'];
const CLASSES = ['6A', '6B', '6C', '6D', '5A', '5B', '5C', '5D', '4A', '4B', '4C', '4D', '3A', '3B', '3C', '3D'];
const LEVEL: Record<string, string> = { '6': '6EME', '5': '5EME', '4': '4EME', '3': '3EME' };
const PREFIX = 'FULL_ENTBENCH_Complet_20260101';


const esc = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;');
const attr = (name: string, ...values: string[]) =>
  `<attr name="${name}">${values.length ? values.map((v) => (v ? `<value>${esc(v)}</value>` : '<value/>')).join('') : '<value/>'}</attr>\n`;
const request = (category: 'categoriePersonne' | 'categorieStructure', kind: string, id: string, body: string) =>
  `<addRequest>\n<operationalAttributes><attr name="${category}"><value>${kind}</value></attr></operationalAttributes>\n` +
  `<identifier><id>${id}</id></identifier>\n<attributes>\n${body}</attributes>\n</addRequest>\n`;

/** Writes records to `<kind>_0001.xml`, `_0002.xml`… cutting every FILE_RECORDS records. */
class KindWriter {
  private fd = -1;
  private n = 0;
  private part = 0;
  readonly files: string[] = [];
  constructor(
    private readonly dir: string,
    private readonly kind: string,
  ) {}
  write(xml: string) {
    if (this.fd < 0 || this.n === FILE_RECORDS) {
      this.close();
      const f = join(this.dir, `${PREFIX}_${this.kind}_${String(++this.part).padStart(4, '0')}.xml`);
      this.files.push(f);
      this.fd = openSync(f, 'w');
      writeSync(this.fd, '<?xml version="1.0" encoding="UTF-8"?>\n<!DOCTYPE ficAlimMENESR SYSTEM "ficAlimMENESR.dtd">\n<ficAlimMENESR>\n<!-- versionAF="AAF-VE1301" -->\n');
      this.n = 0;
    }
    writeSync(this.fd, xml);
    this.n++;
  }
  close() {
    if (this.fd >= 0) {
      writeSync(this.fd, '</ficAlimMENESR>\n');
      closeSync(this.fd);
    }
    this.fd = -1;
  }
}

export interface GeneratedFeed {
  dir: string;
  /** Accounts a first import creates (pupils + legal representatives + staff). */
  accounts: number;
  /** PersRelEleve records that name no pupil's legal representative: read, listed as ignored. */
  contacts: number;
  schools: number;
}

/**
 * Writes a complete AAF feed of about `accounts` accounts (rounded up to whole collèges of 1,000) into `dir`.
 * `seed` changes names, not the structure of the feed. Memory stays flat (records written as they are made).
 */
export function generateAafFeed(dir: string, accounts: number, seed = 11): GeneratedFeed {
  mkdirSync(dir, { recursive: true });
  const rnd = prng(seed);
  const pick = <T>(a: readonly T[]) => a[Math.floor(rnd() * a.length)];
  const date = (y0: number, span: number) =>
    `${String(1 + Math.floor(rnd() * 28)).padStart(2, '0')}/${String(1 + Math.floor(rnd() * 12)).padStart(2, '0')}/${y0 + Math.floor(rnd() * span)}`;
  const schools = Math.max(1, Math.ceil(accounts / 1000));
  const etab = new KindWriter(dir, 'EtabEducNat');
  const eleve = new KindWriter(dir, 'Eleve');
  const pers = new KindWriter(dir, 'PersEducNat');
  const rel = new KindWriter(dir, 'PersRelEleve');
  let person = 3_000_000;
  let contacts = 0;
  let made = 0;
  for (let s = 0; s < schools; s++) {
    const sj = String(60_000 + s);
    const uai = `${String(1_000_000 + s).slice(1).padStart(7, '0')}${'ABCDEFGHJKLMNPRSTUVWXYZ'[s % 23]}`;
    etab.write(
      request('categorieStructure', 'EtabEducNat', sj,
        attr('ENTStructureJointure', sj) + attr('ENTStructureUAI', uai) + attr('ENTEtablissementUAI', uai) + attr('ENTStructureSIREN', '') +
        attr('ENTStructureNomCourant', `CLG$COLLEGE ${pick(LAST).toUpperCase()}$VILLE ${s + 1}`) + attr('ENTStructureTypeStruct', 'CLG') +
        attr('ENTEtablissementContrat', 'PU') + attr('ENTServAcAcademie', 'AIX-MARSEILLE') +
        attr('ENTStructureClasses', ...CLASSES.map((c) => `${c}$${c}`)) + attr('ENTStructureGroupes', ...CLASSES.map((c) => `${c}GP1$${c} groupe 1`))),
    );
    for (let i = 0; i < PER_SCHOOL.pupils; i++) {
      const id = String(++person);
      const cls = CLASSES[i % CLASSES.length];
      const last = pick(LAST);
      // Two legal representatives, every tenth family a contact (4th field 0: no account).
      const mother = String(++person);
      const father = String(++person);
      const contact = i % 10 === 0 ? String(++person) : null;
      const links = [`${mother}$2$1$1$0$0`, `${father}$1$0$2$0$0`, ...(contact ? [`${contact}$10$0$0$1$0`] : [])];
      eleve.write(
        request('categoriePersonne', 'Eleve', id,
          attr('ENTPersonJointure', id) + attr('ENTPersonDateNaissance', date(2010, 5)) + attr('ENTPersonNomPatro', last.toUpperCase()) +
          attr('sn', last) + attr('givenName', pick(FIRST)) + attr('personalTitle', rnd() < 0.5 ? 'M.' : 'Mlle') +
          attr('ENTEleveParents', mother, father) + attr('ENTElevePere', father) + attr('ENTEleveMere', mother) +
          attr('ENTEleveAutoriteParentale', mother, father) + attr('ENTElevePersRelEleve1') + attr('ENTElevePersRelEleve2') +
          attr('ENTElevePersRelEleve', ...links) + attr('ENTEleveBoursier', 'N') + attr('ENTEleveRegime', 'DP DAN') +
          attr('ENTEleveMEF', `1001000${cls[0]}110`) + attr('ENTEleveLibelleMEF', `${LEVEL[cls[0]]} BILANGUE`) + attr('ENTEleveNivFormation', LEVEL[cls[0]]) +
          attr('ENTEleveINE', `${String(person).padStart(9, '0')}${'AB'[i % 2]}${'CD'[s % 2]}`) + attr('ENTPersonStructRattach', sj) +
          attr('ENTEleveClasses', `${sj}$${cls}`) + attr('ENTEleveGroupes', `${sj}$${cls}GP1`)),
      );
      made++;
      for (const [rid, title] of [[mother, 'Mme'], [father, 'M.'], ...(contact ? [[contact, 'M.']] : [])] as [string, string][]) {
        const first = pick(FIRST);
        const mail = rnd() < 0.55 ? `${first.normalize('NFD').replace(/[^a-z]/gi, '').toLowerCase()}.${rid}@example.org` : '';
        rel.write(
          request('categoriePersonne', 'PersRelEleve', rid,
            attr('ENTPersonJointure', rid) + attr('ENTPersonDateNaissance') + attr('ENTPersonNomPatro', last.toUpperCase()) + attr('sn', last) +
            attr('givenName', first) + attr('personalTitle', title) + attr('mail', mail) + attr('homePhone', '0000000000') +
            attr('telephoneNumber', '0000000000') + attr('ENTPersonMobileSMS', rnd() < 0.7 ? `06${String(Number(rid) % 1e8).padStart(8, '0')}` : '') +
            attr('ENTPersonAdresse', 'XXXXXXXXXX XXXXXXXXXX XXXXXXXXXX') + attr('ENTPersonCodePostal', '13100') + attr('ENTPersonVille', 'AIX EN PROVENCE') +
            attr('ENTPersonPays', 'FRANCE')),
        );
        if (rid === contact) contacts++;
        else made++;
      }
    }
    for (let i = 0; i < PER_SCHOOL.staff; i++) {
      const id = String(++person);
      const teacher = i < 52;
      const classes = teacher ? [0, 1, 2].map((k) => `${sj}$${CLASSES[(i + k * 5) % CLASSES.length]}`) : [];
      const last = pick(LAST).toUpperCase();
      pers.write(
        request('categoriePersonne', 'PersEducNat', id,
          attr('ENTPersonJointure', id) + attr('ENTPersonDateNaissance', date(1960, 35)) + attr('ENTPersonNomPatro', last) + attr('sn', last) +
          attr('givenName', pick(FIRST).toUpperCase()) + attr('personalTitle', rnd() < 0.5 ? 'M.' : 'Mme') +
          attr('mail', `agent.${id}@ac-bench.fr`) + attr('ENTPersonStructRattach', sj) +
          attr('ENTAuxEnsClasses', ...classes) + attr('ENTAuxEnsGroupes', ...classes.map((c) => `${c}GP1`)) +
          attr('ENTPersonFonctions', teacher ? `${sj}$ENS$ENSEIGNEMENT$L0202$ANGLAIS` : i === 52 ? `${sj}$DIR$DIRECTION$-$-` : `${sj}$EDU$EDUCATION$-$-`) +
          attr('PersEducNatPresenceDevantEleves', teacher ? 'O' : 'N')),
      );
      made++;
    }
  }
  for (const w of [etab, eleve, pers, rel]) w.close();
  return { dir, accounts: made, contacts, schools };
}

// `tsx bench/aaf-feed.ts <dir> <accounts>`: writes a feed for hand runs.
if (process.argv[1]?.endsWith('aaf-feed.ts')) {
  const [dir, n] = process.argv.slice(2);
  if (!dir) throw new Error('usage: tsx bench/aaf-feed.ts <dossier> <comptes>');
  const t = performance.now();
  const f = generateAafFeed(dir, Number(n ?? 100_000));
  console.log(`${f.accounts} comptes (+${f.contacts} contacts), ${f.schools} collèges, ${Math.round(performance.now() - t)} ms → ${f.dir}`);
}
