// What the report says of each account a re-import changes (« Fiches modifiées »): its fields, and also its
// structures, classes, groups and parent–child links, before → after, so that an administrator reading a dry run
// catches a wrong feed; bounded at a région's size. And a teacher the AAF makes staff (ENTPersonCategorieEnseignant
// N) keeps the classes the feed gives her as staff of those classes, never as their teacher (the reference ENT links
// a Personnel to the class's Personnel group). Invented feeds: test/fixtures/aaf/changes/{before,after}.
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { test } from 'node:test';
import { ChangeSample, groupLinks, LINKS_SHOWN, MODIFIED_SAMPLE } from '../src/import/changes.js';
import { collectInputs, formatReport, importFiles, type ImportReport } from '../src/import/index.js';
import { formatChanges } from '../src/import/report.js';
import { reportView } from '../src/web/console/views/import.js';
import { fileContext, sqlReaders } from './helpers/db.js';
import { fileServer, signedInClient } from './helpers/web.js';

const DIR = new URL('./fixtures/aaf/changes/', import.meta.url).pathname;
const ALL = { kind: 'all' } as const;
const ctx = await fileContext();
const app = await fileServer(ctx);
const { q } = sqlReaders(ctx);

const run = async (day: 'before' | 'after', dryRun: boolean): Promise<ImportReport> => {
  const report = await importFiles(ctx, collectInputs([join(DIR, day)]), { scope: ALL, dryRun });
  assert.equal(report.fatal, null, formatReport(report));
  assert.deepEqual(report.rejected, [], formatReport(report));
  return report;
};
const idOf = async (ext: string) => (await q<{ id: string }>(`SELECT id FROM users WHERE external_id = $1`, [ext]))[0].id;
const classId = async (name: string) => (await q<{ id: string }>(`SELECT id FROM classes WHERE name = $1`, [name]))[0].id;
/** The family names of the adults a tab of the class view lists (its table's first column). */
const names = (html: string) => [...(/<tbody>([\s\S]*?)<\/tbody>/.exec(html)?.[1] ?? '').matchAll(/<tr><td>([^<]+)<\/td>/g)].map((m) => m[1]);

const CLG = 'CLG - JEAN ROSTAND - MELUN';
const LYC = 'LYCEE GENERAL PIERRE MENDES FRANCE';

test('a dry run names every account it counts « modifié », with its class, structure, parent and profile changes', async () => {
  await run('before', false);
  const dry = await run('after', true);
  assert.deepEqual([dry.created, dry.updated, dry.unchanged], [1, 6, 1], formatReport(dry));
  assert.deepEqual([dry.relations.created, dry.relations.removed], [1, 1]);
  // Every account counted « modifié » is listed, each with what changes (the report named only field changes: one).
  assert.equal(dry.modified?.count, 6, formatReport(dry));
  const lines = Object.fromEntries(dry.modified!.sample.map((m) => [m.login, formatChanges(m)]));
  assert.deepEqual(lines, {
    'lina.arnaud': 'classe « 6A » → « 5A »',
    'noe.brunet': 'date de naissance 15/06/2012 → 16/06/2012',
    'zoe.brunet': `établissement « ${CLG} » → « ${LYC} » ; classe « 5B (${CLG}) » → « 2NDE1 (${LYC}) » ; représentant légal « Marc Brunet » → « Sophie Caron »`,
    'helene.fontaine': 'profil « Enseignant » → « Personnel »',
    'claire.arnaud': 'courriel « claire.arnaud@example.org » → « claire.arnaud@example.net »',
    'marc.brunet': 'enfant retiré « Zoé Brunet »',
  }, formatReport(dry));
  // In reading order (the files' order, then each file's), as the CLI prints them.
  const text = formatReport(dry);
  assert.match(text, /\nFiches modifiées \(6\) :\n {2}lina\.arnaud — Lina Arnaud : classe « 6A » → « 5A »\n {2}noe\.brunet — /, text);
  assert.match(text, /\n {2}marc\.brunet — Marc Brunet : enfant retiré « Zoé Brunet »\n/, text);
  // English, as the console shows it to an English-speaking administrator.
  const zoe = dry.modified!.sample.find((m) => m.login === 'zoe.brunet')!;
  assert.equal(formatChanges(zoe, 'en'), `school “${CLG}” → “${LYC}”; class “5B (${CLG})” → “2NDE1 (${LYC})”; legal representative “Marc Brunet” → “Sophie Caron”`);
  assert.match(formatReport(dry, 'en'), /\nRecords changed \(6\):\n {2}lina\.arnaud — Lina Arnaud : class “6A” → “5A”\n/);
  const html = String(reportView('fr', dry));
  assert.match(html, /data-import="modified"><summary>Fiches modifiées \(6\) :<\/summary>/);
  assert.ok(html.includes('<li><code>marc.brunet</code> — Marc Brunet : enfant retiré « Zoé Brunet »</li>'), 'the console lists the parent who loses a child');
  assert.ok(html.includes('<li><code>lina.arnaud</code> — Lina Arnaud : classe « 6A » → « 5A »</li>'), 'the console lists the class move');
  // Nothing written.
  assert.deepEqual(await q(`SELECT profile FROM users WHERE external_id = 'P601'`), [{ profile: 'Teacher' }], 'a dry run writes nothing');
});

test('a teacher made staff by ENTPersonCategorieEnseignant N stays in her classes as staff: never listed nor entitled as their teacher', async () => {
  const report = await run('after', false);
  assert.equal(report.updated, 6, formatReport(report));
  const fontaine = await idOf('P601');
  assert.deepEqual(await q(`SELECT profile FROM users WHERE id = $1`, [fontaine]), [{ profile: 'Personnel' }]);
  // The feed's classes and group are kept (the reference ENT links a Personnel to the class's Personnel group).
  const held = await q<{ x: string }>(
    `SELECT c.name AS x FROM user_classes uc JOIN classes c ON c.id = uc.class_id WHERE uc.user_id = $1
     UNION ALL SELECT g.name FROM user_groups ug JOIN groups g ON g.id = ug.group_id WHERE ug.user_id = $1 ORDER BY 1`,
    [fontaine],
  );
  assert.deepEqual(held.map((r) => r.x), ['5B', '6A', 'LAT5']);
  // A teacher of 6A sees her among the class's staff, not among its teachers.
  const girard = await signedInClient(app, ctx.database.pool, await idOf('P602'));
  const sixA = await classId('6A');
  const teachers = await girard.get(`/classe/${sixA}/enseignants`);
  assert.equal(teachers.statusCode, 200, teachers.body);
  assert.deepEqual(names(teachers.body), ['Girard'], 'the teachers of 6A');
  const staff = await girard.get(`/classe/${sixA}/personnels`);
  assert.equal(staff.statusCode, 200, staff.body);
  assert.deepEqual(names(staff.body), ['Fontaine'], 'the staff of 6A');
  // She has no class view of her own: neither its pupils' codes nor their families' sheets.
  const her = await signedInClient(app, ctx.database.pool, fontaine);
  for (const url of [`/classe/${sixA}/eleves`, `/api/publipostage/preview?classIds=${sixA}`]) {
    const res = await her.get(url);
    assert.equal(res.statusCode, 403, `${url}: ${res.statusCode}`);
  }
});

test('the list stays bounded: the first MODIFIED_SAMPLE accounts, each kind of link cut at LINKS_SHOWN names', () => {
  const sample = new ChangeSample();
  for (let i = 0; i < MODIFIED_SAMPLE + 50; i++) sample.link(`u${i}`, 'classes', '+', `c${i}`);
  // An account taken keeps receiving its changes from later chunks; one more is not taken.
  sample.field('u0', [{ field: 'email', from: null, to: 'a@example.org' }]);
  sample.field('u-late', [{ field: 'email', from: null, to: 'b@example.org' }]);
  assert.equal(sample.size, MODIFIED_SAMPLE);
  assert.ok(sample.fields.has('u0') && !sample.fields.has('u-late'), 'only sampled accounts keep changes');
  const classes = Array.from({ length: LINKS_SHOWN + 5 }, (_, i) => ({ field: 'classes' as const, op: '-' as const, name: `C${String(i).padStart(2, '0')}`, structure: 'Collège' }));
  const [cut] = groupLinks(classes);
  assert.deepEqual([cut.removed.length, cut.added.length, cut.more], [LINKS_SHOWN, 0, 5]);
  assert.equal(
    formatChanges({ login: 'x', name: 'X', profile: 'Teacher', changes: [], links: [cut] }),
    `classes retirées ${cut.removed.map((c) => `« ${c} »`).join(', ')} … (+5)`,
  );
});
