// The staff of the aaf-2013 feed: each class and group stored for a member of staff (user_classes/user_groups) with
// the AAF attributes that give it (aaf_attributes, migration 0039), checked against the files counted apart from the
// importer; a second import of the same feed changes nothing; then deltas written as the AAF writes them (modifyRequest,
// <modification name=… operation="replace">) replacing ENTAuxEnsClassesPrincipal alone for one teacher and
// ENTAuxEnsClassesMatieres alone for another change exactly those memberships and nothing else.
import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { readAaf } from '../../src/import/aaf.js';
import { collectInputs, formatReport, importFiles } from '../../src/import/index.js';
import { fileContext, fileTempDir, FIXTURES, sqlReaders } from '../helpers/db.js';

const AAF = join(FIXTURES, 'aaf-2013');
const ETAB = join(AAF, 'FULL_ENTTSSERVICES_Complet_20130117_EtabEducNat_0000.xml');

const ctx = await fileContext();
const tmp = fileTempDir('trousseau-aaf-staff-');
const { q } = sqlReaders(ctx);

const CLASS_ATTRS = ['ENTAuxEnsClasses', 'ENTAuxEnsClassesMatieres', 'ENTAuxEnsClassesPrincipal'];
const GROUP_ATTRS = ['ENTAuxEnsGroupes', 'ENTAuxEnsGroupesMatieres'];

/**
 * What the staff files give, counted apart from the importer: per person, each class and group
 * (`id|structure$name`) in a structure of the EtabEducNat file, with the attributes naming it (in their order);
 * and how many people have each attribute non-empty.
 */
async function expectedStaff() {
  const keys = new Set<string>();
  await readAaf('etab', { path: ETAB }, (r) => {
    for (const v of r.attrs.get('ENTStructureJointure') ?? []) keys.add(v);
  });
  const classes = new Map<string, string[]>();
  const groups = new Map<string, string[]>();
  const having: Record<string, number> = {};
  for (const f of collectInputs([AAF])) {
    if (!/PersEducNat/.test(f.name)) continue;
    await readAaf(f.name, f, (r) => {
      const id = r.attrs.get('ENTPersonJointure')![0];
      const refs = (out: Map<string, string[]>, attrs: string[]) => {
        for (const a of attrs) {
          const values = (r.attrs.get(a) ?? []).map((v) => v.split('$')).filter(([s, n]) => s?.trim() && n?.trim());
          if (values.length) having[a] = (having[a] ?? 0) + 1;
          for (const [s, n] of values) {
            if (!keys.has(s.trim())) continue;
            const k = `${id}|${s.trim()}$${n.trim()}`;
            const from = out.get(k) ?? out.set(k, []).get(k)!;
            if (!from.includes(a)) from.push(a);
          }
        }
      };
      refs(classes, CLASS_ATTRS);
      refs(groups, GROUP_ATTRS);
    });
  }
  return { classes, groups, having };
}

/** The stored staff memberships: `id|structure$name` → aaf_attributes. */
const stored = async (table: 'classes' | 'groups') => {
  const [link, col] = table === 'classes' ? ['user_classes', 'class_id'] : ['user_groups', 'group_id'];
  const rows = await q<{ k: string; a: string[] | null }>(
    `SELECT u.external_id || '|' || s.external_id || '$' || x.name AS k, l.aaf_attributes AS a
       FROM ${link} l JOIN users u ON u.id = l.user_id JOIN ${table} x ON x.id = l.${col} JOIN structures s ON s.id = x.structure_id
      WHERE u.profile IN ('Teacher', 'Personnel')`,
  );
  return new Map(rows.map((r) => [r.k, r.a]));
};
const sorted = (m: Map<string, string[] | null>) => [...m.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));

/** Everything about staff memberships and digests a run may change, as one comparable string. */
const snapshot = async () =>
  JSON.stringify(sorted(await stored('classes'))) +
  JSON.stringify(sorted(await stored('groups'))) +
  JSON.stringify(await q(`SELECT external_id, import_hash, updated_at FROM users ORDER BY external_id`));

const run = async (paths: string[]) => {
  const r = await importFiles(ctx, collectInputs(paths), { scope: { kind: 'all' }, dryRun: false });
  assert.equal(r.fatal, null, formatReport(r));
  assert.deepEqual(r.rejected, [], formatReport(r));
  return r;
};

test('every staff class and group is stored with exactly the attributes of the files that give it', async () => {
  await run([AAF]);
  const expected = await expectedStaff();
  // 701 PersEducNat records: the pseudonymised feed names every « Matieres » and head-teacher class, and every
  // « Matieres » group, in structures it does not carry (50014…55794), so only ENTAuxEnsClasses/Groupes give
  // memberships here.
  assert.deepEqual(expected.having, {
    ENTAuxEnsClasses: 265, ENTAuxEnsClassesMatieres: 265, ENTAuxEnsClassesPrincipal: 97, ENTAuxEnsGroupes: 162, ENTAuxEnsGroupesMatieres: 162,
  });
  assert.equal(expected.classes.size, 1170);
  assert.equal(expected.groups.size, 700);
  assert.deepEqual(sorted(await stored('classes')), sorted(expected.classes));
  assert.deepEqual(sorted(await stored('groups')), sorted(expected.groups));
  // Pupils' memberships say no attribute.
  assert.deepEqual(
    await q(`SELECT count(*)::int AS n FROM user_classes uc JOIN users u ON u.id = uc.user_id WHERE u.profile = 'Student' AND uc.aaf_attributes IS NOT NULL`),
    [{ n: 0 }],
  );
});

test('the same feed again changes nothing: counts, memberships, attributes, digests', async () => {
  const before = await snapshot();
  const r = await run([AAF]);
  assert.equal(r.created + r.updated + r.preDeleted, 0, formatReport(r));
  assert.equal(r.unchanged, 2224, formatReport(r));
  assert.equal(await snapshot(), before);
});

const modify = (id: string, mods: string) => `<modifyRequest>
<operationalAttributes><attr name="categoriePersonne"><value>PersEducNat</value></attr></operationalAttributes>
<identifier><id>${id}</id></identifier>
<modifications>
${mods}
</modifications>
</modifyRequest>`;
const delta = (name: string, body: string) => {
  const dir = join(tmp, name);
  mkdirSync(dir, { recursive: true });
  writeFileSync(
    join(dir, 'ENTTSSERVICES_Delta_20130118_PersEducNat_0000.xml'),
    `<?xml version="1.0" encoding="UTF-8"?>\n<!DOCTYPE ficAlimMENESR SYSTEM "ficAlimMENESR.dtd">\n<ficAlimMENESR>\n${body}\n</ficAlimMENESR>\n`,
  );
  return dir;
};

/** What changed between two stored membership maps: `-key`, `+key [attrs]`, `~key [before] → [after]`. */
const diff = (a: Map<string, string[] | null>, b: Map<string, string[] | null>) => {
  const out: string[] = [];
  for (const k of a.keys()) if (!b.has(k)) out.push(`-${k}`);
  for (const [k, v] of b) {
    if (!a.has(k)) out.push(`+${k} ${JSON.stringify(v)}`);
    else if (JSON.stringify(a.get(k)) !== JSON.stringify(v)) out.push(`~${k} ${JSON.stringify(a.get(k))} → ${JSON.stringify(v)}`);
  }
  return out.sort();
};

test('a delta replacing one teacher’s ENTAuxEnsClassesPrincipal and another’s ENTAuxEnsClassesMatieres changes exactly those', async () => {
  const classes0 = await stored('classes');
  const groups0 = await stored('groups');
  const hashes0 = await q<{ external_id: string; import_hash: string }>(`SELECT external_id, import_hash FROM users ORDER BY 1`);
  // 2397006 teaches 52006 302, 303, 502, 601 (ENTAuxEnsClasses): now professeur principal of 302 (taught) and TS1 (not).
  // 2397018 teaches 52008 1S8, 208, 213, 1STMG3: her « Matieres » now 1S8 (two subjects) and 4E1.
  const dir = delta('principal-matieres', [
    modify('2397006', `<modification name="ENTAuxEnsClassesPrincipal" operation="replace"><value>52006$302</value><value>52006$TS1</value></modification>`),
    modify('2397018', `<modification name="ENTAuxEnsClassesMatieres" operation="replace"><value>52008$1S8$006600</value><value>52008$1S8$062900</value><value>52008$4E1$006600</value></modification>`),
  ].join('\n\n'));
  const r = await run([dir]);
  assert.equal(r.updated, 2, formatReport(r));
  assert.equal(r.created + r.preDeleted, 0, formatReport(r));
  assert.deepEqual(r.ignored, [], formatReport(r));
  // The report says the classes added (the attributes of a class kept are no change of hers).
  assert.match(formatReport(r), /: classe ajoutée « TS1 »\n/);
  assert.match(formatReport(r), /: classe ajoutée « 4E1 »\n/);
  assert.deepEqual(diff(classes0, await stored('classes')), [
    '+2397006|52006$TS1 ["ENTAuxEnsClassesPrincipal"]',
    '+2397018|52008$4E1 ["ENTAuxEnsClassesMatieres"]',
    '~2397006|52006$302 ["ENTAuxEnsClasses"] → ["ENTAuxEnsClasses","ENTAuxEnsClassesPrincipal"]',
    '~2397018|52008$1S8 ["ENTAuxEnsClasses"] → ["ENTAuxEnsClasses","ENTAuxEnsClassesMatieres"]',
  ]);
  assert.deepEqual(diff(groups0, await stored('groups')), []);
  const hashes1 = await q<{ external_id: string; import_hash: string }>(`SELECT external_id, import_hash FROM users ORDER BY 1`);
  assert.deepEqual(
    hashes1.filter((h, i) => h.import_hash !== hashes0[i].import_hash).map((h) => h.external_id),
    ['2397006', '2397018'],
  );

  // The same delta again: nothing.
  const before = await snapshot();
  const again = await run([dir]);
  assert.equal(again.updated + again.created, 0, formatReport(again));
  assert.equal(await snapshot(), before);

  // No longer professeur principal: TS1 goes, 302 stays (taught).
  const classes1 = await stored('classes');
  const none = delta('principal-none', modify('2397006', `<modification name="ENTAuxEnsClassesPrincipal" operation="replace"><value/></modification>`));
  const r2 = await run([none]);
  assert.equal(r2.updated, 1, formatReport(r2));
  assert.deepEqual(diff(classes1, await stored('classes')), [
    '-2397006|52006$TS1',
    '~2397006|52006$302 ["ENTAuxEnsClasses","ENTAuxEnsClassesPrincipal"] → ["ENTAuxEnsClasses"]',
  ]);

  // Two modifyRequests of one teacher in one delta, in two files (2397034 teaches 52000 2E3, 2E4, 2E5, T S1): each
  // replaces its own attribute, on top of the other.
  const classes2 = await stored('classes');
  const two = delta('two-requests', modify('2397034', `<modification name="ENTAuxEnsClassesPrincipal" operation="replace"><value>52000$2E3</value></modification>`));
  writeFileSync(
    join(two, 'ENTTSSERVICES_Delta_20130118_PersEducNat_0001.xml'),
    `<?xml version="1.0" encoding="UTF-8"?>\n<ficAlimMENESR>\n${modify('2397034', `<modification name="ENTAuxEnsClassesMatieres" operation="replace"><value>52000$2E3$006600</value><value>52000$1S1$006600</value></modification>`)}\n</ficAlimMENESR>\n`,
  );
  const dry = await importFiles(ctx, collectInputs([two]), { scope: { kind: 'all' }, dryRun: true });
  assert.equal(dry.updated, 1, formatReport(dry));
  assert.deepEqual(diff(classes2, await stored('classes')), []);
  const r3 = await run([two]);
  assert.equal(r3.updated, 1, formatReport(r3));
  // Nothing said of her attachment: 51262, which only her function names, is no ENTPersonStructRattach of hers.
  assert.deepEqual(r3.ignored, [], formatReport(r3));
  assert.deepEqual(diff(classes2, await stored('classes')), [
    '+2397034|52000$1S1 ["ENTAuxEnsClassesMatieres"]',
    '~2397034|52000$2E3 ["ENTAuxEnsClasses"] → ["ENTAuxEnsClasses","ENTAuxEnsClassesMatieres","ENTAuxEnsClassesPrincipal"]',
  ]);

  // The complete feed again: back to what it gives.
  await run([AAF]);
  assert.deepEqual(sorted(await stored('classes')), sorted(classes0));
  assert.deepEqual(sorted(await stored('groups')), sorted(groups0));
});

test('memberships stored before migration 0039 get their attributes from the next complete feed, every account unchanged', async () => {
  const expected = await expectedStaff();
  // As right after the migration: no attributes, and staff digests the records' text (attributes included) no longer matches.
  await q(`UPDATE user_classes SET aaf_attributes = NULL`);
  await q(`UPDATE user_groups SET aaf_attributes = NULL`);
  await q(`UPDATE users SET import_hash = 'before-0039' WHERE profile IN ('Teacher', 'Personnel')`);
  const r = await run([AAF]);
  assert.equal(r.created + r.updated + r.preDeleted, 0, formatReport(r));
  assert.equal(r.unchanged, 2224, formatReport(r));
  assert.deepEqual(sorted(await stored('classes')), sorted(expected.classes));
  assert.deepEqual(sorted(await stored('groups')), sorted(expected.groups));
  assert.deepEqual(await q(`SELECT count(*)::int AS n FROM users WHERE import_hash = 'before-0039'`), [{ n: 0 }]);
});
