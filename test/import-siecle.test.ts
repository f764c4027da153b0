// SIECLE (BEE) exports: pupils with INE, divisions and groups, levels from the MEF nomenclature, représentants
// légaux only, ISO-8859-15 decoded by the declaration, idempotence and pre-deletion, malformed files; pupils described
// whole by their responsables file, rows rejected for a mistake, identifiers given to two people, CODE_PARENTE 70,
// the division « Inactifs ».
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import iconv from 'iconv-lite';
import { collectInputs, formatReport, importFiles, type ImportInput } from '../src/import/index.js';
import { accountReaders, fileContext, sqlReaders } from './helpers/db.js';

const DIR = new URL('./fixtures/siecle/', import.meta.url).pathname;
const ELEVES = 'ElevesSansAdresses.xml';
const RESP = 'ResponsablesAvecAdresses.xml';
const ALL = { kind: 'all' } as const;
const ctx = await fileContext();
const { q, count } = sqlReaders(ctx);
const { user, classesOf, groupsOf } = accountReaders(ctx);

/** A fixture as text (ISO-8859-15), to derive variants. */
const text = (name: string) => iconv.decode(readFileSync(join(DIR, name)), 'iso-8859-15');
const encoded = (name: string, s: string): ImportInput => ({ name, data: iconv.encode(s, 'iso-8859-15') });
const childrenOf = async (id: string) =>
  (await q<{ n: string }>(`SELECT c.first_name n FROM relations r JOIN users c ON c.id = r.child_id WHERE r.parent_id = $1 ORDER BY 1`, [id])).map((r) => r.n);

test('a SIECLE delivery, files in any order: pupils, classes and groups, levels, représentants légaux only', async () => {
  // Responsables first: the run must not depend on the order of the files.
  const inputs = collectInputs([DIR]).reverse();
  const report = await importFiles(ctx, inputs, { scope: ALL, dryRun: false });
  assert.equal(report.fatal, null, formatReport(report));
  assert.deepEqual(report.rejected, []);
  // The school with what the run made there (9 accounts: the report's per-structure figures).
  assert.deepEqual(report.structures, [{ name: 'Établissement 0990001X', uai: '0990001X', created: true, accounts: { Student: { created: 5, updated: 0, unchanged: 0, restored: 0, preDeleted: 0 }, Relative: { created: 4, updated: 0, unchanged: 0, restored: 0, preDeleted: 0 } } }]);
  const [school] = await q<{ id: string; uai: string }>(`SELECT id, uai FROM structures`);
  assert.equal(school.uai, '0990001X');

  // Per file: format, encoding, rows and what became of them.
  const byFile = Object.fromEntries(report.files.map((f) => [f.file, f]));
  assert.deepEqual(
    [byFile[ELEVES].kind, byFile[ELEVES].encoding, byFile[ELEVES].rows, byFile[ELEVES].created, byFile[ELEVES].ignored],
    ['siecle-eleves', 'iso-8859-15', 6, 5, 1],
  );
  assert.deepEqual([byFile[RESP].kind, byFile[RESP].rows, byFile[RESP].created, byFile[RESP].ignored], ['siecle-responsables', 7, 4, 3]);
  assert.deepEqual([byFile['Nomenclature.xml'].kind, byFile['Nomenclature.xml'].rows, byFile['Nomenclature.xml'].created], ['siecle-nomenclature', 3, 0]);

  assert.equal(await count(`SELECT count(*) n FROM users WHERE profile = 'Student' AND source = 'siecle' AND origin = 'feed'`), 5);
  assert.equal(await count(`SELECT count(*) n FROM users WHERE profile = 'Relative' AND source = 'siecle'`), 4);
  assert.equal(await count(`SELECT count(*) n FROM relations`), 5);
  assert.equal(report.relations.created, 5);
  assert.equal(await count(`SELECT count(*) n FROM user_structures WHERE structure_id = $1`, [school.id]), 9);

  // ISO-8859-15 as declared: Œ is 0xBC there (¼ in Windows-1252 / ISO-8859-1).
  const noel = await user('BŒUF', 'Noël');
  assert.ok(noel, 'BŒUF Noël decoded by the declared encoding');
  assert.equal(noel.login, 'noel.boeuf');

  const lea = await user('COQUELICOT', 'Léa');
  assert.equal(lea.ine, '0123456789A');
  assert.equal(lea.birth_date, '2014-03-14');
  assert.equal(lea.external_id, 'siecle:0990001X:eleve:700101');
  assert.deepEqual(await classesOf(lea.id), [{ name: '6A', level: '6EME' }]);
  assert.deepEqual(await groupsOf(lea.id), ['6LATIN']);
  assert.deepEqual(await classesOf((await user('VERGER', 'Anaïs')).id), [{ name: '5B', level: '5EME' }]);

  // Usage name first; a pupil without a division is accepted, without INE too.
  const zoe = await user('SOLEIL', 'Zoé');
  assert.ok(zoe);
  assert.equal(zoe.ine, null);
  assert.deepEqual(await classesOf(zoe.id), []);

  // A pupil who left gets no account and is reported.
  assert.equal(await user('LEFEUVRE', 'Tom'), undefined);
  assert.ok(report.ignored.some((x) => x.file === ELEVES && /LEFEUVRE Tom : élève sorti le 04\/07\/2025/.test(x.reason)), JSON.stringify(report.ignored));

  // One account per représentant légal, linked to each of their children.
  const marc = await user('VERGER', 'Marc');
  assert.equal(marc.title, 'M.');
  assert.equal(marc.email, 'marc.verger@exemple.test');
  assert.equal(marc.mobile, '06 11 22 33 44');
  assert.equal(marc.phone, '02 99 00 11 22');
  assert.equal(marc.address, '12 RUE DES PRUNIERS\n99100 VILLEBOIS');
  assert.deepEqual(await childrenOf(marc.id), ['Anaïs', 'Hugo']);
  // Claire is légale for Anaïs only (niveau 2 for Hugo): that link is not made.
  assert.deepEqual(await childrenOf((await user('VERGER', 'Claire')).id), ['Anaïs']);
  assert.equal((await user('COQUELICOT', 'Sylvie')).address, 'RÉSIDENCE LES ŒILLETS\n3 ALLÉE DU MOULIN\n99100 VILLEBOIS');
  assert.equal((await user('BŒUF', 'Gilles')).address, 'RUE DU MARCHÉ 8\n1000 BRUXELLES\nBELGIQUE');

  // Others are listed, not created.
  for (const [last, first] of [['DUPIN', 'Germaine'], ['ROUX', 'Paul'], ['LEFEUVRE', 'Anne']]) assert.equal(await user(last, first), undefined, `${last} ${first}`);
  const ignored = report.ignored.filter((x) => x.file === RESP).map((x) => x.reason);
  assert.deepEqual(ignored.sort(), [
    'DUPIN Germaine : pas représentant légal (NIVEAU_RESPONSABILITE 2), aucun compte',
    'LEFEUVRE Anne : représentant légal d’élèves absents, sortis ou inactifs, aucun compte',
    'ROUX Paul : pas représentant légal (NIVEAU_RESPONSABILITE 3), aucun compte',
  ]);
  assert.ok(report.ignored.every((x) => x.line > 0));
});

test('a second identical import changes nothing; a pupil gone from the next export is pre-deleted, counted on that file', async () => {
  const again = await importFiles(ctx, collectInputs([DIR]), { scope: ALL, dryRun: false });
  assert.equal(again.fatal, null, formatReport(again));
  assert.deepEqual([again.created, again.updated, again.unchanged, again.preDeleted], [0, 0, 9, 0]);

  // Next export: Hugo VERGER left the school's base, and Léa has a new group.
  const v2 = text(ELEVES)
    .replace(/<ELEVE ELEVE_ID="700104"[\s\S]*?<\/ELEVE>\r\n/, '')
    .replace('<CODE_STRUCTURE>6LATIN</CODE_STRUCTURE>', '<CODE_STRUCTURE>6CHORALE</CODE_STRUCTURE>');
  const inputs = [encoded(ELEVES, v2), { name: RESP, path: join(DIR, RESP) }, { name: 'Nomenclature.xml', path: join(DIR, 'Nomenclature.xml') }];
  const report = await importFiles(ctx, inputs, { scope: ALL, dryRun: false });
  assert.equal(report.fatal, null, formatReport(report));
  const eleves = report.files.find((f) => f.file === ELEVES)!;
  assert.deepEqual([eleves.rows, eleves.created, eleves.updated, eleves.preDeleted], [5, 0, 1, 1]);
  assert.equal(report.preDeleted, 1);
  const hugo = await user('VERGER', 'Hugo');
  assert.ok(hugo.absent_since, 'absent from a complete export: grace period, never erased');
  assert.equal(hugo.pre_deleted_at, null, 'the lifecycle job pre-deletes it once the grace period is over');
  assert.deepEqual(await groupsOf((await user('COQUELICOT', 'Léa')).id), ['6CHORALE']);
  // Its five rows (1 + 3 + 1), then apart the pupil absent from it.
  assert.match(formatReport(report), new RegExp(`${ELEVES} — SIECLE élèves — iso-8859-15 — 5 lignes — 1 modifié, 3 inchangés, 1 ignoré ; 1 absent du flux \\(période de grâce\\)\\n`));
});

test('the responsables file alone links to pupils already in the directory', async () => {
  const before = await count(`SELECT count(*) n FROM relations`);
  const report = await importFiles(ctx, [{ name: RESP, path: join(DIR, RESP) }], { scope: ALL, dryRun: true });
  assert.equal(report.fatal, null, formatReport(report));
  assert.equal(report.relations.unresolved, 0);
  // Marc VERGER keeps Anaïs; Hugo (pre-deleted) is no longer a pupil of the directory.
  assert.equal(report.files[0].unchanged + report.files[0].updated, 4);
  assert.equal(await count(`SELECT count(*) n FROM relations`), before, 'dry run');
});

test('older exports without NIVEAU_RESPONSABILITE: RESP_LEGAL 1 or 2 is a représentant légal, 0 is not', async () => {
  const legacy = text(RESP).replace(/<NIVEAU_RESPONSABILITE>(\d)<\/NIVEAU_RESPONSABILITE>/g, (_, n: string) => `<RESP_LEGAL>${n === '1' ? '1' : '0'}</RESP_LEGAL>`);
  assert.doesNotMatch(legacy, /NIVEAU_RESPONSABILITE/);
  const report = await importFiles(ctx, [{ name: ELEVES, path: join(DIR, ELEVES) }, encoded(RESP, legacy)], { scope: ALL, dryRun: true });
  assert.equal(report.fatal, null, formatReport(report));
  const resp = report.files.find((f) => f.file === RESP)!;
  assert.equal(resp.created + resp.updated + resp.unchanged, 4);
  assert.equal(resp.ignored, 3);
  assert.ok(report.ignored.some((x) => x.reason === 'ROUX Paul : pas représentant légal (RESP_LEGAL 0), aucun compte'), JSON.stringify(report.ignored));
});

test('a SIECLE file of another school than the one asked for is refused, naming both; a school named after its UAI is not named twice', async () => {
  const start = await count(`SELECT count(*) AS n FROM users`);
  for (const [name, uai, expected] of [
    ['Collège Les Tilleuls', '0990777A', /fichier de l’établissement 0990001X, pas de « Collège Les Tilleuls » \(0990777A\)$/],
    ['Établissement 0990888B', '0990888B', /fichier de l’établissement 0990001X, pas de « Établissement 0990888B »$/],
  ] as const) {
    await q(`INSERT INTO structures (name, uai, external_id) VALUES ($1, $2, $3)`, [name, uai, `test:${uai}`]);
    const r = await importFiles(ctx, collectInputs([join(DIR, ELEVES)]), { scope: ALL, dryRun: false, structureHint: uai });
    assert.equal(r.fatal?.field, 'PARAMETRES/UAJ');
    assert.match(r.fatal!.reason, expected);
  }
  assert.equal(await count(`SELECT count(*) AS n FROM users`), start, 'nothing imported');
});

test('a school made without UAI takes the one its SIECLE files name (said in the report, the dry run changes nothing); a second school without UAI is refused them, naming the first', async () => {
  const eleves = () => encoded(ELEVES, text(ELEVES).replaceAll('0990001X', '0990002N'));
  const [{ id }] = await q<{ id: string }>(`INSERT INTO structures (name) VALUES ('Collège Sans UAI') RETURNING id`);
  const uaiOf = async (sid: string) => (await q<{ uai: string | null }>(`SELECT uai FROM structures WHERE id = $1`, [sid]))[0].uai;
  const dry = await importFiles(ctx, [eleves()], { scope: ALL, dryRun: true, structureHint: id });
  assert.equal(dry.fatal, null, formatReport(dry));
  assert.deepEqual(dry.structures.map((s) => [s.name, s.uai, s.created, s.uaiAdded]), [['Collège Sans UAI', '0990002N', false, true]]);
  assert.match(formatReport(dry), /Collège Sans UAI \(0990002N\) — existant, UAI pris des fichiers/);
  assert.equal(await uaiOf(id), null, 'a dry run');
  const run = await importFiles(ctx, [eleves()], { scope: ALL, dryRun: false, structureHint: id });
  assert.equal(run.fatal, null, formatReport(run));
  assert.equal(await uaiOf(id), '0990002N');
  assert.equal(await count(`SELECT count(*) AS n FROM user_structures WHERE structure_id = '${id}'`), 5);

  const [other] = await q<{ id: string }>(`INSERT INTO structures (name) VALUES ('École Autre') RETURNING id`);
  const users = await count(`SELECT count(*) AS n FROM users`);
  const refused = await importFiles(ctx, [eleves()], { scope: ALL, dryRun: false, structureHint: other.id });
  assert.equal(refused.fatal?.field, 'PARAMETRES/UAJ');
  assert.match(refused.fatal!.reason, /fichier de l’établissement 0990002N, qui est « Collège Sans UAI », pas « École Autre »/);
  assert.equal(await uaiOf(other.id), null);
  assert.equal(await count(`SELECT count(*) AS n FROM users`), users, 'nothing imported');
});

test('malformed XML, a missing UAI or a bad date: the file is named with line and field, nothing changes', async () => {
  const snapshot = async () => JSON.stringify(await q(`SELECT external_id, updated_at, pre_deleted_at, absent_since FROM users ORDER BY external_id`));
  const start = await snapshot();

  const broken = text(ELEVES).replace('<PRENOM>Noël</PRENOM>', '<PRENOM>Noël</PRENON>');
  const r1 = await importFiles(ctx, [encoded(ELEVES, broken)], { scope: ALL, dryRun: false });
  assert.ok(r1.fatal);
  assert.equal(r1.fatal.file, ELEVES);
  const line = broken.split('\n').findIndex((l) => l.includes('</PRENON>')) + 1;
  assert.equal(r1.fatal.line, line);
  assert.match(formatReport(r1), new RegExp(`${ELEVES}, ligne ${line} : XML mal formé`));

  const noUai = text(RESP).replace('<UAJ>0990001X</UAJ>', '');
  const r2 = await importFiles(ctx, [encoded(RESP, noUai)], { scope: ALL, dryRun: false });
  assert.equal(r2.fatal?.field, 'PARAMETRES/UAJ');
  assert.match(r2.fatal!.reason, /UAI de l’établissement absent/);

  const badDate = text(ELEVES).replace('<DATE_NAISS>02/11/2014</DATE_NAISS>', '<DATE_NAISS>31/02/2014</DATE_NAISS>');
  const r3 = await importFiles(ctx, [encoded(ELEVES, badDate)], { scope: ALL, dryRun: true });
  assert.equal(r3.fatal, null);
  assert.deepEqual(r3.rejected.map((x) => [x.file, x.field, x.reason]), [[ELEVES, 'DATE_NAISS', 'BŒUF Noël : date de naissance invalide « 31/02/2014 »']]);
  assert.equal(r3.preDeleted, 0, 'Noël, rejected for a typo, is not pre-deleted (Hugo already is)');

  assert.equal(await snapshot(), start);
});

test('an export declaring ISO-8859-15 but saved in UTF-8 (an editor kept the declaration) is read as UTF-8: no garbled name', async () => {
  const utf8 = (name: string): ImportInput => ({ name, data: Buffer.from(text(name), 'utf8') });
  assert.match(text(ELEVES), /encoding="ISO-8859-15"/);
  assert.match(text(ELEVES), /[À-ÿ]/, 'the fixture has accented names');
  const run = (inputs: ImportInput[]) => importFiles(ctx, inputs, { scope: ALL, dryRun: true });
  const asDeclared = await run([encoded(ELEVES, text(ELEVES)), encoded(RESP, text(RESP))]);
  const resaved = await run([utf8(ELEVES), utf8(RESP)]);
  assert.equal(resaved.fatal, null, formatReport(resaved));
  // Read as declared, every accent would be two letters (« ChloÃ© »): names changed, accounts updated.
  assert.deepEqual([resaved.created, resaved.updated, resaved.unchanged], [asDeclared.created, asDeclared.updated, asDeclared.unchanged], formatReport(resaved));
  assert.deepEqual(resaved.files.map((f) => f.encoding), ['utf-8', 'utf-8']);
  assert.deepEqual(asDeclared.files.map((f) => f.encoding), ['iso-8859-15', 'iso-8859-15']);
});

// ---- small deliveries built inline, one school each (the tests below do not see each other's accounts) ----

interface SPupil {
  id: string;
  last: string;
  first: string;
  birth?: string;
  exit?: string;
  /** Divisions (TYPE_STRUCTURE D); default one class, `[]` for none. */
  divisions?: string[];
}
interface SPerson {
  id: string;
  last: string;
  first: string;
  /** LC_CIVILITE */
  title?: string;
}
/** A RESPONSABLE_ELEVE row: NIVEAU_RESPONSABILITE 1 and CODE_PARENTE 10 unless said. */
interface SLink {
  pupil: string;
  person: string;
  level?: string;
  code?: string;
}
const head = (root: string, uai: string) => ['<?xml version="1.0" encoding="ISO-8859-15"?>', `<${root} VERSION="3.1">`, `  <PARAMETRES><UAJ>${uai}</UAJ></PARAMETRES>`, '  <DONNEES>'];
/** ElevesSansAdresses.xml of `uai`: one ELEVE and one STRUCTURES_ELEVE per line. */
const elevesOf = (uai: string, pupils: SPupil[]): ImportInput =>
  encoded(
    ELEVES,
    [
      ...head('BEE_ELEVES', uai),
      '    <ELEVES>',
      ...pupils.map(
        (p) =>
          `      <ELEVE ELEVE_ID="${p.id}"><NOM_DE_FAMILLE>${p.last}</NOM_DE_FAMILLE><PRENOM>${p.first}</PRENOM><DATE_NAISS>${p.birth ?? '01/02/2012'}</DATE_NAISS>` +
          `${p.exit ? `<DATE_SORTIE>${p.exit}</DATE_SORTIE>` : ''}</ELEVE>`,
      ),
      '    </ELEVES>',
      '    <STRUCTURES>',
      ...pupils
        .filter((p) => p.divisions?.length !== 0)
        .map(
          (p) =>
            `      <STRUCTURES_ELEVE ELEVE_ID="${p.id}">${(p.divisions ?? ['3A']).map((d) => `<STRUCTURE><CODE_STRUCTURE>${d}</CODE_STRUCTURE><TYPE_STRUCTURE>D</TYPE_STRUCTURE></STRUCTURE>`).join('')}</STRUCTURES_ELEVE>`,
        ),
      '    </STRUCTURES>',
      '  </DONNEES>',
      '</BEE_ELEVES>',
      '',
    ].join('\n'),
  );
/** ResponsablesAvecAdresses.xml of `uai`: one PERSONNE and one RESPONSABLE_ELEVE per line. */
const responsablesOf = (uai: string, persons: SPerson[], links: SLink[]): ImportInput =>
  encoded(
    RESP,
    [
      ...head('BEE_RESPONSABLES', uai),
      '    <PERSONNES>',
      ...persons.map(
        (p) =>
          `      <PERSONNE PERSONNE_ID="${p.id}">${p.title ? `<LC_CIVILITE>${p.title}</LC_CIVILITE>` : ''}<NOM_DE_FAMILLE>${p.last}</NOM_DE_FAMILLE><PRENOM>${p.first}</PRENOM></PERSONNE>`,
      ),
      '    </PERSONNES>',
      '    <RESPONSABLES>',
      ...links.map(
        (l) =>
          `      <RESPONSABLE_ELEVE><ELEVE_ID>${l.pupil}</ELEVE_ID><PERSONNE_ID>${l.person}</PERSONNE_ID><NIVEAU_RESPONSABILITE>${l.level ?? '1'}</NIVEAU_RESPONSABILITE><CODE_PARENTE>${l.code ?? '10'}</CODE_PARENTE></RESPONSABLE_ELEVE>`,
      ),
      '    </RESPONSABLES>',
      '  </DONNEES>',
      '</BEE_RESPONSABLES>',
      '',
    ].join('\n'),
  );
/** The line of a file's text where `needle` first appears (1-based). */
const lineOf = (input: ImportInput, needle: string) => iconv.decode(input.data!, 'iso-8859-15').split('\n').findIndex((l) => l.includes(needle)) + 1;
/** An account of school `uai`'s SIECLE files, by names. */
const inSchool = async (uai: string, last: string, first: string) =>
  (
    await q<{ id: string; profile: string; login: string; absent_since: Date | null; activated_at: Date | null }>(
      `SELECT id, profile, login, absent_since, activated_at FROM users WHERE external_id LIKE $1 AND last_name = $2 AND first_name = $3`,
      [`siecle:${uai}:%`, last, first],
    )
  )[0];
/** Every parent–child link of the school's pupils, as `parent (source) -> child`. */
const familyLinks = async (uai: string) =>
  (
    await q<{ l: string }>(
      `SELECT p.first_name || ' ' || p.last_name || ' (' || p.source || ') -> ' || c.first_name AS l FROM relations r
       JOIN users p ON p.id = r.parent_id JOIN users c ON c.id = r.child_id WHERE c.external_id LIKE $1 ORDER BY 1`,
      [`siecle:${uai}:%`],
    )
  ).map((x) => x.l);
const run = async (inputs: ImportInput[], o: { dryRun?: boolean; chunkSize?: number } = {}) => {
  const r = await importFiles(ctx, inputs, { scope: ALL, dryRun: o.dryRun ?? false, ...(o.chunkSize ? { chunkSize: o.chunkSize } : {}) });
  assert.equal(r.fatal, null, formatReport(r));
  return r;
};

test('a parent who is no longer a représentant légal of any child loses the links, though the file no longer makes them a record (pupils described whole, as the AAF does)', async () => {
  const UAI = '0990011A';
  const pupils: SPupil[] = [
    { id: '1101', last: 'DUPONT', first: 'Emma' },
    { id: '1102', last: 'DUPONT', first: 'Jules' },
    { id: '1103', last: 'DUPONT', first: 'Hugo' },
  ];
  const persons: SPerson[] = [
    { id: '2101', last: 'DUPONT', first: 'Marc' },
    { id: '2102', last: 'DUPONT', first: 'Claire' },
  ];
  await run([
    elevesOf(UAI, pupils),
    responsablesOf(UAI, persons, [
      { pupil: '1101', person: '2101' },
      { pupil: '1102', person: '2101' },
      { pupil: '1101', person: '2102', code: '20' },
      { pupil: '1103', person: '2102', code: '20' },
    ]),
  ]);
  // Marc has signed in; an aunt linked to Emma by hand (another source) is no business of the SIECLE files.
  await ctx.database.pool.query(`UPDATE users SET activated_at = now() WHERE id = $1`, [(await inSchool(UAI, 'DUPONT', 'Marc')).id]);
  const [emma] = await q<{ id: string }>(`SELECT id FROM users WHERE external_id = $1`, [`siecle:${UAI}:eleve:1101`]);
  const [aunt] = await q<{ id: string }>(`INSERT INTO users (login, profile, first_name, last_name, origin, source) VALUES ('lucie.martin', 'Relative', 'Lucie', 'MARTIN', 'manual', 'csv') RETURNING id`);
  await q(`INSERT INTO relations (parent_id, child_id) VALUES ($1, $2)`, [aunt.id, emma.id]);
  assert.deepEqual(await familyLinks(UAI), [
    'Claire DUPONT (siecle) -> Emma',
    'Claire DUPONT (siecle) -> Hugo',
    'Lucie MARTIN (csv) -> Emma',
    'Marc DUPONT (siecle) -> Emma',
    'Marc DUPONT (siecle) -> Jules',
  ]);

  // Next export: Marc is now only a contact (3) for both children, Claire only « en charge » (2) of Hugo.
  const r = await run([
    elevesOf(UAI, pupils),
    responsablesOf(UAI, persons, [
      { pupil: '1101', person: '2101', level: '3' },
      { pupil: '1102', person: '2101', level: '3' },
      { pupil: '1101', person: '2102', code: '20' },
      { pupil: '1103', person: '2102', level: '2', code: '20' },
    ]),
  ], { chunkSize: 1 });
  assert.ok(r.ignored.some((x) => x.reason === 'DUPONT Marc : pas représentant légal (NIVEAU_RESPONSABILITE 3), aucun compte'), JSON.stringify(r.ignored));
  assert.ok((await inSchool(UAI, 'DUPONT', 'Marc')).absent_since, 'no longer a record: grace period');
  // He no longer sees the children during his grace period; the aunt's link (csv) stays, as the AAF's rule leaves
  // other sources' links alone.
  assert.deepEqual(await familyLinks(UAI), ['Claire DUPONT (siecle) -> Emma', 'Lucie MARTIN (csv) -> Emma']);
  assert.equal(r.relations.removed, 3);

  // A pupils file alone says nothing of the parents: their links stay as they are.
  const alone = await run([elevesOf(UAI, pupils)]);
  assert.equal(alone.relations.removed, 0);
  assert.deepEqual(await familyLinks(UAI), ['Claire DUPONT (siecle) -> Emma', 'Lucie MARTIN (csv) -> Emma']);

  // Marc légal again (new judgment): account back, links back.
  await run([
    elevesOf(UAI, pupils),
    responsablesOf(UAI, persons, [
      { pupil: '1101', person: '2101' },
      { pupil: '1101', person: '2102', code: '20' },
    ]),
  ]);
  assert.equal((await inSchool(UAI, 'DUPONT', 'Marc')).absent_since, null);
  assert.deepEqual(await familyLinks(UAI), ['Claire DUPONT (siecle) -> Emma', 'Lucie MARTIN (csv) -> Emma', 'Marc DUPONT (siecle) -> Emma']);
});

test('a typo in a pupil’s row rejects the pupil only: the représentants légaux keep their accounts and links, nothing says the pupil left', async () => {
  const UAI = '0990012B';
  const persons: SPerson[] = [
    { id: '2201', last: 'ROBERT', first: 'Sandrine' },
    { id: '2202', last: 'NAJI', first: 'Karim' },
  ];
  const links: SLink[] = [
    { pupil: '1201', person: '2201', code: '20' },
    { pupil: '1202', person: '2202' },
  ];
  await run([elevesOf(UAI, [{ id: '1201', last: 'ROBERT', first: 'Inès' }]), responsablesOf(UAI, persons.slice(0, 1), links.slice(0, 1))]);
  assert.deepEqual(await familyLinks(UAI), ['Sandrine ROBERT (siecle) -> Inès']);

  // Next export: Inès's birth date mistyped; Yanis, new, mistyped too.
  const r = await run([
    elevesOf(UAI, [
      { id: '1201', last: 'ROBERT', first: 'Inès', birth: '31/02/2012' },
      { id: '1202', last: 'NAJI', first: 'Yanis', birth: '2012-13-01' },
    ]),
    responsablesOf(UAI, persons, links),
  ]);
  assert.deepEqual(
    r.rejected.map((x) => [x.field, x.reason]),
    [
      ['DATE_NAISS', 'ROBERT Inès : date de naissance invalide « 31/02/2012 »'],
      ['DATE_NAISS', 'NAJI Yanis : date de naissance invalide « 2012-13-01 »'],
    ],
  );
  assert.deepEqual(r.ignored, [], 'no parent is « représentant légal d’élèves absents, sortis ou inactifs »');
  assert.equal(r.preDeleted, 0);
  assert.deepEqual(r.absent, []);
  assert.equal((await inSchool(UAI, 'ROBERT', 'Inès')).absent_since, null);
  assert.equal((await inSchool(UAI, 'ROBERT', 'Sandrine')).absent_since, null, 'her account stays, out of the grace period');
  assert.deepEqual(await familyLinks(UAI), ['Sandrine ROBERT (siecle) -> Inès']);
  // As the AAF does for a pupil the checks reject: the représentant légal of a new pupil whose row is refused gets
  // their account, linked once the pupil's row is right.
  assert.equal((await inSchool(UAI, 'NAJI', 'Karim'))?.profile, 'Relative');
  await run([elevesOf(UAI, [{ id: '1201', last: 'ROBERT', first: 'Inès' }, { id: '1202', last: 'NAJI', first: 'Yanis' }]), responsablesOf(UAI, persons, links)]);
  assert.deepEqual(await familyLinks(UAI), ['Karim NAJI (siecle) -> Yanis', 'Sandrine ROBERT (siecle) -> Inès']);
});

test('one PERSONNE_ID or ELEVE_ID given to two people: every row carrying it is refused, naming the other (as AAF and CSV keys); one person listed twice is one account', async () => {
  const UAI = '0990013C';
  const pupils: SPupil[] = [
    { id: '1301', last: 'MOREAU', first: 'Chloé' },
    { id: '1302', last: 'FAURE', first: 'Léo' },
  ];
  const eric: SPerson = { id: '7011', last: 'MOREAU', first: 'Eric' };
  const nadia: SPerson = { id: '7011', last: 'FAURE', first: 'Nadia' };
  // Anne twice under her id (spelt in two cases): the same person.
  const anne: SPerson[] = [
    { id: '7012', last: 'PETIT', first: 'Anne' },
    { id: '7012', last: 'Petit', first: 'ANNE' },
  ];
  const links: SLink[] = [
    { pupil: '1301', person: '7011' },
    { pupil: '1302', person: '7011', code: '20' },
    { pupil: '1302', person: '7012' },
  ];
  const shared = async () => {
    // Two pupils under one ELEVE_ID too.
    const eleves = elevesOf(UAI, [...pupils, { id: '1303', last: 'GIRARD', first: 'Paul' }, { id: '1303', last: 'LAMBERT', first: 'Sophie' }]);
    const resp = responsablesOf(UAI, [eric, nadia, ...anne], links);
    const r = await run([eleves, resp]);
    const [ericLine, nadiaLine] = [lineOf(resp, 'Eric'), lineOf(resp, 'Nadia')];
    const [paulLine, sophieLine] = [lineOf(eleves, 'Paul'), lineOf(eleves, 'Sophie')];
    assert.deepEqual(
      r.rejected.map((x) => [x.file, x.line, x.field, x.message?.code]),
      [
        [ELEVES, paulLine, 'ELEVE_ID', 'rowSharedId'],
        [ELEVES, sophieLine, 'ELEVE_ID', 'rowSharedId'],
        [RESP, ericLine, 'PERSONNE_ID', 'rowSharedId'],
        [RESP, nadiaLine, 'PERSONNE_ID', 'rowSharedId'],
      ],
    );
    assert.equal(
      r.rejected[2].reason,
      `identifiant « 7011 » donné aussi à Nadia FAURE (${RESP}, ligne ${nadiaLine}) : un identifiant ne désigne qu’une personne ; corrigez le fichier (aucune de ces lignes n’est importée)`,
    );
    assert.match(r.rejected[3].reason, new RegExp(`^identifiant « 7011 » donné aussi à Eric MOREAU \\(${RESP}, ligne ${ericLine}\\)`));
    assert.match(r.rejected[0].reason, /^identifiant « 1303 » donné aussi à Sophie LAMBERT/);
    assert.equal(r.preDeleted, 0);
    for (const [last, first] of [['FAURE', 'Nadia'], ['GIRARD', 'Paul'], ['LAMBERT', 'Sophie']]) assert.equal(await inSchool(UAI, last, first), undefined, `${first} ${last}`);
    return r;
  };

  // A first import: nobody is made of the shared identifiers, Anne is one account.
  await shared();
  assert.equal(await inSchool(UAI, 'MOREAU', 'Eric'), undefined);
  assert.equal((await q(`SELECT 1 FROM users WHERE external_id = $1`, [`siecle:${UAI}:personne:7012`])).length, 1);
  assert.deepEqual(await familyLinks(UAI), ['ANNE Petit (siecle) -> Léo']);

  // Corrected: Eric is 7011, Nadia not given yet.
  await run([elevesOf(UAI, pupils), responsablesOf(UAI, [eric, ...anne], [links[0], links[2]])]);
  const before = await inSchool(UAI, 'MOREAU', 'Eric');
  assert.deepEqual(await familyLinks(UAI), ['ANNE Petit (siecle) -> Léo', 'Eric MOREAU (siecle) -> Chloé']);

  // The mistake again: Eric's account is neither renamed Nadia nor absent, and gains no child of Nadia's.
  await shared();
  const after = await inSchool(UAI, 'MOREAU', 'Eric');
  assert.equal(after?.id, before.id);
  assert.equal(after.absent_since, null);
  assert.deepEqual(await familyLinks(UAI), ['ANNE Petit (siecle) -> Léo', 'Eric MOREAU (siecle) -> Chloé']);
});

test('a parent’s row rejected for a mistake keeps the parent’s links to the pupils now described whole', async () => {
  const UAI = '0990017G';
  const pupils: SPupil[] = [{ id: '1701', last: 'LEROY', first: 'Nina' }];
  const links: SLink[] = [{ pupil: '1701', person: '2701' }];
  await run([elevesOf(UAI, pupils), responsablesOf(UAI, [{ id: '2701', last: 'LEROY', first: 'Paul' }], links)]);
  assert.deepEqual(await familyLinks(UAI), ['Paul LEROY (siecle) -> Nina']);

  const r = await run([elevesOf(UAI, pupils), responsablesOf(UAI, [{ id: '2701', last: 'LEROY', first: '' }], links)]);
  assert.deepEqual(r.rejected.map((x) => [x.field, x.reason]), [['PRENOM', 'LEROY : prénom manquant']]);
  assert.equal(r.preDeleted, 0);
  assert.equal(r.relations.removed, 0);
  assert.equal((await inSchool(UAI, 'LEROY', 'Paul')).absent_since, null);
  assert.deepEqual(await familyLinks(UAI), ['Paul LEROY (siecle) -> Nina']);
});

test('CODE_PARENTE 70 « élève lui-même »: an adult pupil responsible for himself gets no parent account of his own; one made before goes', async () => {
  const UAI = '0990014D';
  // In SIECLE the adult pupil is also a PERSONNE of his own (another PERSONNE_ID, his names again), tied to his ELEVE_ID
  // by a RESPONSABLE_ELEVE row whose CODE_PARENTE is 70 (ELEVE LUI-MEME), at level 1.
  const pupils: SPupil[] = [
    { id: '1401', last: 'BERNARD', first: 'Lucas', birth: '12/05/2006' },
    { id: '1402', last: 'COLIN', first: 'Maëlle' },
  ];
  const persons: SPerson[] = [
    { id: '2401', last: 'BERNARD', first: 'Lucas' },
    { id: '2402', last: 'COLIN', first: 'Agnès' },
  ];
  const self: SLink = { pupil: '1401', person: '2401', code: '70' };
  const mother: SLink = { pupil: '1402', person: '2402', code: '20' };
  // Before he came of age his file said « père » (10): his account as his own parent was made then.
  await run([elevesOf(UAI, pupils), responsablesOf(UAI, persons, [{ ...self, code: '10' }, mother])]);
  assert.deepEqual(await familyLinks(UAI), ['Agnès COLIN (siecle) -> Maëlle', 'Lucas BERNARD (siecle) -> Lucas']);

  const resp = responsablesOf(UAI, persons, [self, mother]);
  const r = await run([elevesOf(UAI, pupils), resp]);
  assert.deepEqual(
    r.ignored.map((x) => [x.file, x.line, x.field, x.reason]),
    [[RESP, lineOf(resp, 'PERSONNE_ID="2401"'), 'CODE_PARENTE', 'BERNARD Lucas : l’élève lui-même (CODE_PARENTE 70 : élève majeur, son propre responsable), pas de compte de parent']],
  );
  assert.equal(r.ignored[0].message?.code, 'ignoredSiecleSelf');
  // His pupil's account only; the parent account made before is out of the run (grace period) and loses the link.
  assert.deepEqual(
    (await q<{ p: string }>(`SELECT profile || ' ' || login || CASE WHEN absent_since IS NULL THEN '' ELSE ' (absent)' END AS p FROM users WHERE external_id LIKE $1 AND first_name = 'Lucas' ORDER BY 1`, [`siecle:${UAI}:%`])).map((x) => x.p),
    ['Relative lucas.bernard2 (absent)', 'Student lucas.bernard'],
  );
  assert.deepEqual(await familyLinks(UAI), ['Agnès COLIN (siecle) -> Maëlle']);

  // A first import makes no parent account of him at all.
  const UAI2 = '0990018H';
  await run([elevesOf(UAI2, pupils.slice(0, 1)), responsablesOf(UAI2, persons.slice(0, 1), [self])]);
  assert.deepEqual((await q<{ profile: string }>(`SELECT profile FROM users WHERE external_id LIKE $1`, [`siecle:${UAI2}:%`])).map((x) => x.profile), ['Student']);
});

test('a pupil of the division « Inactifs » gets no account and no class is made of it, like a pupil who left; a pupil without a division is imported', async () => {
  const UAI = '0990015E';
  const schoolClasses = async () =>
    (await q<{ name: string }>(`SELECT c.name FROM classes c JOIN structures s ON s.id = c.structure_id WHERE s.uai = $1 ORDER BY 1`, [UAI])).map((x) => x.name);
  const persons: SPerson[] = [{ id: '2501', last: 'MASSON', first: 'Julie' }];
  const links: SLink[] = [{ pupil: '1501', person: '2501', code: '20' }];
  await run([
    elevesOf(UAI, [
      { id: '1501', last: 'MASSON', first: 'Léna', divisions: ['4B'] },
      { id: '1502', last: 'RIVIERE', first: 'Tom', divisions: [] },
    ]),
    responsablesOf(UAI, persons, links),
  ]);
  assert.deepEqual(await familyLinks(UAI), ['Julie MASSON (siecle) -> Léna']);

  // Next export: Léna is put in « Inactifs »; Max arrives there.
  const eleves = elevesOf(UAI, [
    { id: '1501', last: 'MASSON', first: 'Léna', divisions: ['Inactifs'] },
    { id: '1502', last: 'RIVIERE', first: 'Tom', divisions: [] },
    { id: '1503', last: 'ROCHE', first: 'Max', divisions: ['Inactifs'] },
  ]);
  const r = await run([eleves, responsablesOf(UAI, persons, links)]);
  assert.deepEqual(
    r.ignored.filter((x) => x.file === ELEVES).map((x) => [x.line, x.field, x.reason, x.message?.code]),
    [
      [lineOf(eleves, 'Léna'), 'CODE_STRUCTURE', 'MASSON Léna : élève de la division « Inactifs » (inactif dans SIECLE), aucun compte', 'ignoredSiecleInactive'],
      [lineOf(eleves, 'Max'), 'CODE_STRUCTURE', 'ROCHE Max : élève de la division « Inactifs » (inactif dans SIECLE), aucun compte', 'ignoredSiecleInactive'],
    ],
  );
  assert.ok(r.ignored.some((x) => x.reason === 'MASSON Julie : représentant légal d’élèves absents, sortis ou inactifs, aucun compte'), JSON.stringify(r.ignored));
  assert.ok((await inSchool(UAI, 'MASSON', 'Léna')).absent_since, 'as a pupil who left: grace period');
  assert.equal(await inSchool(UAI, 'ROCHE', 'Max'), undefined);
  assert.equal((await inSchool(UAI, 'RIVIERE', 'Tom')).absent_since, null, 'no division yet (rentrée): imported');
  assert.deepEqual(await schoolClasses(), ['4B'], 'no class « Inactifs »');
});

test('one PERSONNE_ID given to a father and a mother of the same names (M. and MME Camille DUPONT): two people, both refused, no shared account', async () => {
  const UAI = '0990019J';
  const pupils: SPupil[] = [
    { id: '1901', last: 'DUPONT', first: 'Hugo' },
    { id: '1902', last: 'DUPONT', first: 'Léa' },
  ];
  const people: SPerson[] = [
    { id: '900', last: 'DUPONT', first: 'Camille', title: 'M.' },
    { id: '900', last: 'DUPONT', first: 'Camille', title: 'MME' },
  ];
  const resp = responsablesOf(UAI, people, [
    { pupil: '1901', person: '900' },
    { pupil: '1902', person: '900' },
  ]);
  const r = await run([elevesOf(UAI, pupils), resp]);
  assert.deepEqual(r.rejected.map((x) => [x.file, x.field, x.message?.code]), [
    [RESP, 'PERSONNE_ID', 'rowSharedId'],
    [RESP, 'PERSONNE_ID', 'rowSharedId'],
  ]);
  assert.equal(await inSchool(UAI, 'DUPONT', 'Camille'), undefined, 'no account for two people');
});
