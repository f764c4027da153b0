// AAF feed import: the whole aaf-2013 folder, then idempotence, dry-run, pre-deletion, restoration, broken files.
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { readAaf } from '../../src/import/aaf.js';
import { collectInputs, formatReport, importFiles } from '../../src/import/index.js';
import { FIXTURES, testContext } from '../helpers/db.js';

const AAF = join(FIXTURES, 'aaf-2013');
const ELEVE = join(AAF, 'FULL_ENTTSSERVICES_Complet_20130117_Eleve_0001.xml');
const ETAB = join(AAF, 'FULL_ENTTSSERVICES_Complet_20130117_EtabEducNat_0000.xml');
let ctx: Awaited<ReturnType<typeof testContext>>;
let tmp: string;

before(async () => {
  ctx = await testContext();
  tmp = mkdtempSync(join(tmpdir(), 'trousseau-aaf-'));
});
after(async () => {
  await ctx.close();
  rmSync(tmp, { recursive: true, force: true });
});

const q = async <T = Record<string, unknown>>(sql: string, params: unknown[] = []) => (await ctx.database.pool.query(sql, params)).rows as T[];
const count = async (sql: string, params: unknown[] = []) => Number((await q<{ n: string }>(sql, params))[0].n);
/** Everything an import must leave alone on a second pass, as one comparable string. */
const snapshot = async () =>
  JSON.stringify(
    await q(`SELECT external_id, login, activation_code_enc, activation_code_mac, first_name, last_name, email, phone, birth_date,
                    created_at, updated_at, pre_deleted_at FROM users ORDER BY external_id`),
  ) +
  JSON.stringify(await q(`SELECT count(*) FROM relations`)) +
  JSON.stringify(await q(`SELECT count(*) FROM user_classes`)) +
  JSON.stringify(await q(`SELECT count(*) FROM user_structures`));

test('the whole aaf-2013 folder imports, with every relative linked', async () => {
  const report = await importFiles(ctx, collectInputs([AAF]), { scope: { kind: 'all' }, dryRun: false });
  assert.equal(report.fatal, null, formatReport(report));
  assert.deepEqual(report.rejected, []);
  assert.equal(await count(`SELECT count(*) n FROM structures`), 10);
  assert.equal(await count(`SELECT count(*) n FROM users WHERE profile = 'Student'`), 642);
  assert.equal(await count(`SELECT count(*) n FROM users WHERE profile = 'Relative'`), 9967);
  assert.equal(await count(`SELECT count(*) n FROM users WHERE profile IN ('Teacher', 'Personnel')`), 701);
  assert.equal(report.created, await count(`SELECT count(*) n FROM users`));
  assert.equal(await count(`SELECT count(*) n FROM users WHERE origin = 'feed' AND source = 'aaf'`), report.created);
  assert.equal(await count(`SELECT count(*) n FROM users WHERE activation_code_enc IS NULL OR activation_code_mac IS NULL OR activation_code_expires_at IS NULL`), 0);
  for (const f of report.files.filter((f) => /MatiereEducNat|MefEducNat|\.dtd$/.test(f.file))) assert.equal(f.format, 'ignoré');
  assert.match(formatReport(report), /Comptes : 11310 créé\(s\)/);

  // A known student: accents intact, date, class, group, level, both parents.
  const [ku] = await q<Record<string, string>>(`SELECT * FROM users WHERE external_id = '2605692'`);
  assert.equal(ku.first_name, 'Kù');
  assert.equal(ku.last_name, 'Long');
  assert.equal(ku.birth_date, '1995-09-14');
  assert.equal(ku.title, 'Mlle');
  assert.equal(ku.login, 'ku.long');
  assert.equal(ctx.secrets.mac('activation', ctx.secrets.decrypt(ku.activation_code_enc)), ku.activation_code_mac);
  assert.deepEqual(
    await q(`SELECT c.name AS class, l.name AS level, s.uai FROM user_classes uc JOIN classes c ON c.id = uc.class_id
             LEFT JOIN levels l ON l.id = c.level_id JOIN structures s ON s.id = c.structure_id WHERE uc.user_id = $1`, [ku.id]),
    [{ class: 'RUS1TERM', level: 'CAP EN 2 ANS : 1ERE ANNEE', uai: '0059951P' }],
  );
  assert.deepEqual((await q(`SELECT g.name FROM user_groups ug JOIN groups g ON g.id = ug.group_id WHERE ug.user_id = $1`, [ku.id])).map((r) => r.name), ['206']);
  assert.deepEqual(
    (await q(`SELECT p.external_id FROM relations r JOIN users p ON p.id = r.parent_id WHERE r.child_id = $1 ORDER BY 1`, [ku.id])).map((r) => r.external_id),
    ['2867253', '2867254'],
  );
  // Parents get their children's structures; the AAF "no phone" 0000000000 is no phone.
  const [mother] = await q<Record<string, string>>(`SELECT id, phone, profile FROM users WHERE external_id = '2867253'`);
  assert.equal(mother.profile, 'Relative');
  assert.equal(mother.phone, null);
  assert.deepEqual((await q(`SELECT s.uai FROM user_structures us JOIN structures s ON s.id = us.structure_id WHERE us.user_id = $1`, [mother.id])).map((r) => r.uai), ['0059951P']);
  // Relatives whose children are not in the files are kept, attached to no structure.
  assert.ok((await count(`SELECT count(*) n FROM users u WHERE profile = 'Relative' AND NOT EXISTS (SELECT 1 FROM user_structures us WHERE us.user_id = u.id)`)) > 0);

  // A teacher (PresenceDevantEleves = O) and the classes they teach, deduplicated; a non-teaching one is Personnel.
  const [teacher] = await q<Record<string, string>>(`SELECT id, profile, first_name, last_name FROM users WHERE external_id = '2397809'`);
  assert.equal(teacher.profile, 'Teacher');
  assert.deepEqual(
    (await q(`SELECT c.name FROM user_classes uc JOIN classes c ON c.id = uc.class_id WHERE uc.user_id = $1 ORDER BY 1`, [teacher.id])).map((r) => r.name),
    ['1S8', '208', '213', '5E1', '6E2'],
  );
  assert.equal((await q(`SELECT profile FROM users WHERE external_id = '2397001'`))[0].profile, 'Personnel');

  // Every student is linked to every relative the feed names for them and that exists in PersRelEleve.
  const relatives = new Set<string>();
  const named = new Map<string, Set<string>>();
  for (const f of collectInputs([AAF])) {
    if (/PersRelEleve/.test(f.name)) await readAaf(f.name, f, (r) => relatives.add(r.attrs.get('ENTPersonJointure')![0]));
  }
  await readAaf('eleve', { path: ELEVE }, (r) => {
    const ids = new Set<string>();
    for (const k of ['ENTEleveParents', 'ENTEleveAutoriteParentale', 'ENTElevePersRelEleve1', 'ENTElevePersRelEleve2']) for (const v of r.attrs.get(k) ?? []) if (v) ids.add(v);
    for (const v of r.attrs.get('ENTElevePersRelEleve') ?? []) if (v) ids.add(v.split('$')[0]);
    named.set(r.attrs.get('ENTPersonJointure')![0], ids);
  });
  const linked = new Map<string, Set<string>>();
  for (const r of await q<{ c: string; p: string }>(`SELECT c.external_id c, p.external_id p FROM relations r JOIN users c ON c.id = r.child_id JOIN users p ON p.id = r.parent_id`)) {
    (linked.get(r.c) ?? linked.set(r.c, new Set()).get(r.c)!).add(r.p);
  }
  let missing = 0;
  let expected = 0;
  for (const [student, ids] of named) {
    for (const p of ids) if (relatives.has(p)) {
      expected++;
      if (!linked.get(student)?.has(p)) missing++;
    }
  }
  assert.ok(expected > 1000);
  assert.equal(missing, 0);
});

test('re-importing the same feed changes nothing', async () => {
  const before = await snapshot();
  const report = await importFiles(ctx, collectInputs([AAF]), { scope: { kind: 'all' }, dryRun: false });
  assert.equal(report.created, 0);
  assert.equal(report.updated, 0);
  assert.equal(report.preDeleted, 0);
  assert.equal(report.unchanged, 11310);
  assert.equal(report.relations.created, 0);
  assert.equal(await snapshot(), before);
});

test('dry-run computes the report and writes nothing', async () => {
  const before = await snapshot();
  const audits = await count(`SELECT count(*) n FROM audit`);
  const xml = readFileSync(ELEVE, 'utf8').replace('<value>Kù</value>', '<value>Kùna</value>');
  const report = await importFiles(ctx, [{ name: 'FULL_X_Complet_Eleve_0001.xml', data: Buffer.from(xml) }, { name: 'e.xml', path: ETAB }], { scope: { kind: 'all' }, dryRun: true });
  assert.equal(report.dryRun, true);
  assert.equal(report.updated, 1);
  assert.match(formatReport(report), /Simulation/);
  assert.equal(await snapshot(), before);
  assert.equal(await count(`SELECT count(*) n FROM audit`), audits);
});

test('a student missing from a full feed is pre-deleted, then restored when back', async () => {
  // Drop Kù Long's whole addRequest from the students file.
  const xml = readFileSync(ELEVE, 'utf8');
  const start = xml.lastIndexOf('<addRequest>', xml.indexOf('<id>2605692</id>'));
  const end = xml.indexOf('</addRequest>', start) + '</addRequest>'.length;
  const file = join(tmp, 'FULL_ENTTSSERVICES_Complet_20130118_Eleve_0001.xml');
  writeFileSync(file, xml.slice(0, start) + xml.slice(end));
  const without = await importFiles(ctx, [{ name: 'etab.xml', path: ETAB }, { name: 'FULL_Eleve_0001.xml', path: file }], { scope: { kind: 'all' }, dryRun: false });
  assert.equal(without.preDeleted, 1, formatReport(without));
  assert.equal(without.created + without.updated, 0);
  const [ku] = await q<Record<string, unknown>>(`SELECT pre_deleted_at, login FROM users WHERE external_id = '2605692'`);
  assert.ok(ku.pre_deleted_at instanceof Date);
  assert.equal(ku.login, 'ku.long');
  assert.equal(await count(`SELECT count(*) n FROM users WHERE pre_deleted_at IS NOT NULL`), 1);

  const back = await importFiles(ctx, collectInputs([AAF]), { scope: { kind: 'all' }, dryRun: false });
  assert.equal(back.restored, 1);
  assert.equal(back.preDeleted, 0);
  assert.equal(back.created, 0);
  assert.equal(await count(`SELECT count(*) n FROM users WHERE pre_deleted_at IS NOT NULL`), 0);
  assert.equal((await q(`SELECT login FROM users WHERE external_id = '2605692'`))[0].login, 'ku.long');
});

test('a malformed XML file refuses the whole run and names file and line', async () => {
  const before = await snapshot();
  const xml = readFileSync(ELEVE, 'utf8').replace('<value>Kù</value>', '<value>Kù</valeur>');
  const line = xml.slice(0, xml.indexOf('Kù</valeur>')).split('\n').length;
  const file = join(tmp, 'FULL_ENTTSSERVICES_Complet_20130119_Eleve_0001.xml');
  writeFileSync(file, xml);
  const report = await importFiles(ctx, [{ name: 'etab.xml', path: ETAB }, { name: 'FULL_Eleve_0001.xml', path: file }], { scope: { kind: 'all' }, dryRun: false });
  assert.ok(report.fatal);
  assert.equal(report.fatal.file, 'FULL_Eleve_0001.xml');
  assert.equal(report.fatal.line, line);
  assert.match(report.fatal.reason, /XML mal formé/);
  assert.match(formatReport(report), /Import refusé : aucune modification enregistrée\.\n {2}FULL_Eleve_0001\.xml:\d+ — XML mal formé/);
  assert.equal(await snapshot(), before);
});

test('a bad row is rejected with file:line:field while the others are imported', async () => {
  const xml = readFileSync(ELEVE, 'utf8').replace('<value>14/09/1995</value>', '<value>31/02/1995</value>');
  const line = xml.slice(0, xml.indexOf('31/02/1995')).split('\n').length;
  const start = xml.lastIndexOf('<addRequest>', xml.indexOf('31/02/1995'));
  const reqLine = xml.slice(0, start).split('\n').length;
  const report = await importFiles(ctx, [{ name: 'FULL_Eleve_0001.xml', data: Buffer.from(xml) }, { name: 'etab.xml', path: ETAB }], { scope: { kind: 'all' }, dryRun: true });
  assert.equal(report.fatal, null);
  assert.deepEqual(report.rejected, [{ file: 'FULL_Eleve_0001.xml', line: reqLine, field: 'ENTPersonDateNaissance', reason: 'date de naissance invalide « 31/02/1995 »' }]);
  assert.ok(line > reqLine);
  // The rejected student is not pre-deleted for all that.
  assert.equal(report.preDeleted, 0);
  assert.equal(report.unchanged, 641);
});
