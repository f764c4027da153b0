// CSV export, the `trousseau publipostage` command and the audit trail of every generation.
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { parse } from 'csv-parse/sync';
import { formatCode, normalizeCode } from '../src/accounts/codes.js';
import { ACTIVATION } from '../src/accounts/issue.js';
import { run } from '../src/publipostage/cli.js';
import { CSV_COLUMNS, renderCsv } from '../src/publipostage/csv.js';
import { frenchDate } from '../src/publipostage/format.js';
import { selectAccounts } from '../src/publipostage/select.js';
import { SelectionSchema } from '../src/publipostage/selection.js';
import { WORD_COLUMNS } from '../src/publipostage/word.js';
import { testContext } from './helpers/db.js';
import { insertSample, type Sample } from './helpers/sample.js';

let ctx: Awaited<ReturnType<typeof testContext>>;
let s: Sample;
let dir: string;

before(async () => {
  ctx = await testContext();
  s = await insertSample(ctx);
  dir = mkdtempSync(join(tmpdir(), 'trousseau-export-'));
  // The command opens its own connection from the environment, like in production.
  process.env.DATABASE_URL = (ctx.database.pool as unknown as { options: { connectionString: string } }).options.connectionString;
  process.env.TROUSSEAU_SECRET = '11'.repeat(32);
  process.env.TROUSSEAU_DATA_DIR = dir;
  process.env.TROUSSEAU_PUBLIC_URL = 'https://ent.example.fr';
});
after(async () => {
  rmSync(dir, { recursive: true, force: true });
  await ctx.close();
});

type Record_ = Record<string, string>;
function readCsv(buf: Buffer): Record_[] {
  return parse(buf, { delimiter: ';', bom: true, columns: true, record_delimiter: '\r\n' }) as Record_[];
}

test('CSV: UTF-8 BOM, semicolons, CRLF, the preview columns, codes in clear, formulas neutralised', async () => {
  const rows = await selectAccounts(ctx, SelectionSchema.parse({}), { kind: 'all' });
  const buf = renderCsv(rows);
  assert.deepEqual([...buf.subarray(0, 3)], [0xef, 0xbb, 0xbf]);
  const textBody = buf.toString('utf8');
  assert.ok(textBody.includes('\r\n'));
  assert.ok(!/[^\r]\n/.test(textBody), 'every line ends with CRLF');
  assert.equal(textBody.slice(1).split('\r\n')[0], CSV_COLUMNS.join(';'));
  const records = readCsv(buf);
  assert.equal(records.length, rows.length);
  const by = (login: string) => records.find((r) => r.Login === login)!;
  assert.equal(by(s.logins.zoe)["Code d'activation"], formatCode(s.codes.zoe));
  assert.equal(by(s.logins.zoe).Nom, 'MARTIN');
  assert.equal(by(s.logins.zoe).Prénom, 'Zoé');
  assert.equal(by(s.logins.zoe).Profil, 'Élève');
  assert.equal(by(s.logins.zoe).Classe, '6A');
  assert.equal(by(s.logins.zoe)['Date de création'], '01/09/2024');
  assert.equal(by(s.logins.zoe)['Expiration du code'], frenchDate(s.expiresAt.zoe));
  assert.equal(by(s.logins.emile)["Code d'activation"], 'Activé');
  assert.equal(by(s.logins.emile).Courriel, 'emile@example.org');
  assert.equal(by(s.logins.hugo)["Code d'activation"], 'Expiré');
  assert.equal(by(s.logins.paul).Enfants, 'Léo MARTIN (5A), Zoé MARTIN (6A)');
  assert.equal(by(s.logins.aslog).Nom, 'Ŝtěpán Ωmega');
  // =CMD() would run in Excel: it is prefixed, and the quote inside survives csv quoting.
  assert.equal(by('robert.cmd').Nom, "'=CMD()|' /C calc'!A0");
});

test('CLI: CSV with profile (French name) and class names, PDF 8 per page by class; audit rows', async () => {
  const csv = join(dir, 'eleves.csv');
  // A file there before, readable by all: overwritten, it is the server account's alone (it holds working codes).
  writeFileSync(csv, '', { mode: 0o644 });
  const logs: string[] = [];
  const log = console.error;
  console.error = (m: string) => logs.push(String(m));
  try {
    assert.equal(await run(['--format', 'csv', '--profiles', 'Élève', '--classes', '6A,6B', '--activation', 'inactive', '-o', csv]), 0);
  } finally {
    console.error = log;
  }
  assert.equal(statSync(csv).mode & 0o777, 0o600);
  const records = readCsv(readFileSync(csv));
  assert.deepEqual(records.map((r) => r.Login).sort(), [s.logins.aslog, s.logins.eckert, s.logins.eclair, s.logins.hugo, s.logins.zoe].sort());
  assert.ok(logs.some((l) => l.includes('5 comptes →')));
  // Hugo's code had expired: the export hands out a fresh one, stored (hashed) before the file is written.
  const hugoCode = normalizeCode(records.find((r) => r.Login === s.logins.hugo)!["Code d'activation"]);
  assert.ok(hugoCode, 'a code, not « Expiré »');
  const hugo = (await ctx.database.pool.query('SELECT activation_code_mac, activation_code_expires_at FROM users WHERE id = $1', [s.users.hugo])).rows[0];
  assert.ok(ctx.secrets.verify(ACTIVATION, hugoCode, hugo.activation_code_mac));
  assert.ok(hugo.activation_code_expires_at > new Date());
  assert.equal(records.find((r) => r.Login === s.logins.zoe)!["Code d'activation"], formatCode(s.codes.zoe), 'valid codes are kept');

  const pdf = join(dir, 'fiches.pdf');
  assert.equal(await run(['--format', 'pdf', '--model', '8', '--sort', 'class', '--structure', '0750001A', '-o', pdf]), 0);
  const info = execFileSync('pdfinfo', [pdf], { encoding: 'utf8' });
  // S1 by class: 5A (3 sheets), 6A (4), 6B (4), no class (2): one page each.
  assert.match(info, /Pages:\s+4\n/);
  assert.match(execFileSync('pdftotext', [pdf, '-'], { encoding: 'utf8' }), /Responsable de : Léo MARTIN \(5A\), Zoé MARTIN \(6A\)/);

  const audit = await ctx.database.pool.query("SELECT action, actor_id, details FROM audit WHERE action LIKE 'publipostage.%' ORDER BY id");
  assert.equal(audit.rows.length, 2);
  assert.equal(audit.rows[0].action, 'publipostage.csv');
  assert.equal(audit.rows[0].actor_id, null);
  assert.equal(audit.rows[0].details.count, 5);
  assert.equal(audit.rows[0].details.via, 'cli');
  assert.equal(audit.rows[0].details.codesIssued, 1);
  assert.deepEqual(audit.rows[0].details.filters.profiles, ['Student']);
  assert.equal(audit.rows[0].details.filters.classIds.length, 2);
  assert.equal(audit.rows[1].action, 'publipostage.pdf');
  assert.equal(audit.rows[1].details.model, 8);
  // Nina (pre-deleted) is left out by default.
  assert.equal(audit.rows[1].details.count, 12);
});

test('CLI: bad input is refused in French, nothing generated or audited', async () => {
  const before = (await ctx.database.pool.query('SELECT count(*)::int AS n FROM audit')).rows[0].n;
  const out = join(dir, 'never.csv');
  const logs: string[] = [];
  const log = console.error;
  console.error = (m: string) => logs.push(String(m));
  try {
    assert.equal(await run(['--format', 'csv', '--classes', '6Z', '-o', out]), 2);
    assert.equal(await run(['--format', 'doc', '-o', out]), 2);
    assert.equal(await run(['--format', 'pdf', '--model', '3', '-o', out]), 2);
    assert.equal(await run(['--format', 'csv', '--profiles', 'Pirate', '-o', out]), 2);
    assert.equal(await run(['--format', 'csv', '--created-before', '2024-13', '-o', out]), 2);
  } finally {
    console.error = log;
  }
  assert.ok(logs.some((l) => l.includes('classe inconnue : « 6Z »')));
  assert.ok(logs.some((l) => l.includes('profil inconnu : « Pirate »')));
  assert.ok(logs.some((l) => l.includes('--created-before invalide')));
  assert.throws(() => readFileSync(out));
  assert.equal((await ctx.database.pool.query('SELECT count(*)::int AS n FROM audit')).rows[0].n, before);
});

test('CLI --format word: the Word / LibreOffice mail-merge CSV (BOM, « ; », ASCII headers, code in MotDePasse); audited and tracked', async () => {
  const file = join(dir, 'word.csv');
  const logs: string[] = [];
  const log = console.error;
  console.error = (m: string) => logs.push(String(m));
  try {
    assert.equal(await run(['--format', 'word', '--structure', '0750001A', '--profiles', 'Élève,Parent', '-o', file]), 0);
  } finally {
    console.error = log;
  }
  const buf = readFileSync(file);
  assert.deepEqual([...buf.subarray(0, 3)], [0xef, 0xbb, 0xbf], 'UTF-8 with BOM');
  const header = buf.toString('utf8').slice(1).split('\r\n')[0];
  assert.equal(header, WORD_COLUMNS.join(';'));
  assert.match(header, /^[A-Za-z;]+$/, 'field names without spaces or accents');
  const records = readCsv(buf);
  const by = (login: string) => records.find((r) => r.Identifiant === login)!;
  assert.equal(by(s.logins.zoe).MotDePasse, formatCode(s.codes.zoe));
  assert.equal(by(s.logins.zoe).Prenom, 'Zoé');
  assert.equal(by(s.logins.zoe).Classes, '6A');
  assert.equal(by(s.logins.emile).MotDePasse, '', 'an activated account has no code');
  assert.equal(by(s.logins.emile).Etat, 'Activé');
  assert.match(by(s.logins.paul).Enfants, /Léo MARTIN \(5A\), Zoé MARTIN \(6A\)/);
  assert.ok(!records.some((r) => r.Profil === 'Enseignant'), 'only the profiles asked for');
  assert.ok(logs.some((l) => l.includes(`${records.length} comptes →`)));
  const audit = await ctx.database.pool.query("SELECT details FROM audit WHERE action = 'publipostage.word' ORDER BY id DESC LIMIT 1");
  assert.equal(audit.rows[0].details.count, records.length);
  assert.equal(audit.rows[0].details.via, 'cli');
  const tracked = await ctx.database.pool.query("SELECT count(DISTINCT user_id)::int AS n FROM distribution_events WHERE kind = 'word'");
  assert.equal(tracked.rows[0].n, records.length);
});

test('`trousseau publipostage` is dispatched by the main CLI', () => {
  const out = join(dir, 'cli.csv');
  const r = spawnSync(process.execPath, ['--import', 'tsx', 'src/cli.ts', 'publipostage', '--format', 'csv', '--users', s.logins.zoe, '-o', out], {
    encoding: 'utf8',
    env: process.env,
  });
  assert.equal(r.status, 0, r.stderr);
  assert.deepEqual(readCsv(readFileSync(out)).map((x) => x.Login), [s.logins.zoe]);
});

test('streamed exports: more at once than the pool has connections all finish; fresh codes commit with the audit row', async () => {
  const { exportSelection } = await import('../src/publipostage/generate.js');
  const sel = SelectionSchema.parse({});
  const req = { selection: sel, scope: { kind: 'all' } as const, actorId: null, via: 'cli' as const };
  const read = async (body: NodeJS.ReadableStream | Buffer) => {
    const chunks: Buffer[] = [];
    for await (const c of body as AsyncIterable<Buffer>) chunks.push(c);
    return Buffer.concat(chunks);
  };
  const before = (await ctx.database.pool.query(`SELECT count(*)::int AS n FROM audit WHERE action LIKE 'publipostage.%'`)).rows[0].n;
  // The test pool has 5 connections; each export holds one for its transaction and reads its templates on it.
  const files = await Promise.all(Array.from({ length: 7 }, (_, i) =>
    exportSelection(ctx, { ...req, format: i % 2 ? 'csv' : 'pdf', model: 8 }).then((r) => read(r.body))));
  assert.ok(files.every((f) => f.length > 0));
  assert.equal((await ctx.database.pool.query(`SELECT count(*)::int AS n FROM audit WHERE action LIKE 'publipostage.%'`)).rows[0].n, before + 7);

  // An inactive account without a code gets one with the export, committed with its audit row.
  await ctx.database.pool.query(`UPDATE users SET activation_code_enc = NULL, activation_code_mac = NULL WHERE id = $1`, [s.users.zoe]);
  const zoe = async () => (await ctx.database.pool.query(`SELECT activation_code_mac FROM users WHERE id = $1`, [s.users.zoe])).rows[0].activation_code_mac;
  // Read to the end: the code and the audit row commit together.
  await read((await exportSelection(ctx, { ...req, format: 'csv', selection: SelectionSchema.parse({ userIds: [s.users.zoe] }) })).body);
  assert.notEqual(await zoe(), null);
  assert.equal((await ctx.database.pool.query(`SELECT count(*)::int AS n FROM audit WHERE action LIKE 'publipostage.%'`)).rows[0].n, before + 8);
  const csv = readCsv(await read((await exportSelection(ctx, { ...req, format: 'csv', selection: SelectionSchema.parse({ userIds: [s.users.zoe] }) })).body));
  assert.equal(csv.length, 1);
});
