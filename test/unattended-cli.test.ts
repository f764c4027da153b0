// The command lines of unattended operation, run in-process against a real database and SMTP server:
// `trousseau import --drop` (one pass, mail sent before exiting, exit codes) and `trousseau jeton`.
import assert from 'node:assert/strict';
import { cpSync, existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { run as tokenCli } from '../src/accounts/api-tokens-cli.js';
import { localDate } from '../src/drop/run.js';
import { run as importCli } from '../src/import/cli.js';
import { freshDatabase } from './helpers/db.js';
import { startTestSmtp, type TestSmtp } from './helpers/smtp.js';
import { runCli } from './helpers/cli.js';

const FIX = new URL('./fixtures/drop/', import.meta.url).pathname;
let database: Awaited<ReturnType<typeof freshDatabase>>;
let smtp: TestSmtp;

const cli = (fn: (args: string[]) => Promise<number>, args: string[]) => runCli(fn, args);

before(async () => {
  database = await freshDatabase();
  smtp = await startTestSmtp();
  Object.assign(process.env, {
    DATABASE_URL: database.url,
    TROUSSEAU_SECRET: '11'.repeat(32),
    TROUSSEAU_DATA_DIR: mkdtempSync(join(tmpdir(), 'trousseau-cli-data-')),
    SMTP_URL: smtp.url,
    TROUSSEAU_DROP_DIR: '',
  });
  await database.pool.query(`INSERT INTO users (profile, first_name, last_name, login, is_super_admin, email)
    VALUES ('Personnel', 'Agnès', 'RECTORAT', 'agnes.rectorat', true, 'agnes@rectorat.example')`);
  await database.pool.query(`INSERT INTO structures (uai, name) VALUES ('0123456A', 'École Jules Ferry')`);
});
after(async () => {
  await database.close();
  await smtp.close();
  rmSync(process.env.TROUSSEAU_DATA_DIR!, { recursive: true, force: true });
});

test('trousseau import --drop: one pass now, the report mailed before exiting; exit codes for scripts', async () => {
  const none = await cli(importCli, ['--drop']);
  assert.equal(none.code, 2, 'no folder configured');
  assert.match(none.err, /TROUSSEAU_DROP_DIR/);

  const drop = mkdtempSync(join(tmpdir(), 'trousseau-cli-drop-'));
  cpSync(join(FIX, 'jules-ferry'), join(drop, 'jules-ferry'), { recursive: true });
  writeFileSync(join(drop, 'jules-ferry', '.done'), '');
  const ok = await cli(importCli, ['--drop', '--dossier', drop]);
  assert.equal(ok.code, 0, ok.err);
  assert.match(ok.out, /Livraison : jules-ferry[\s\S]*Importée[\s\S]*5 créés/);
  const date = localDate(new Date(), 'Europe/Paris');
  assert.ok(existsSync(join(drop, 'archive', date, 'jules-ferry.rapport.json')));
  assert.equal(smtp.to('agnes@rectorat.example').length, 1, 'sent by the command itself, no server running');

  cpSync(join(FIX, 'voisine'), join(drop, 'voisine'), { recursive: true });
  writeFileSync(join(drop, 'voisine.ok'), '');
  const refused = await cli(importCli, ['--drop', '--dossier', drop]);
  assert.equal(refused.code, 1);
  assert.match(refused.out, /Refusée, rangée dans rejected\/\d{4}-\d\d-\d\d\/voisine/);
  assert.ok(existsSync(join(drop, 'rejected', date, 'voisine.ok')), 'the marker beside travels with it');

  const nothing = await cli(importCli, ['--drop', '--dossier', drop]);
  assert.equal(nothing.code, 0);
  assert.match(nothing.out, /Rien à importer/);

  // A remark on a row imported all the same (an address left out) is in the report, not a failure: exit 0, and the
  // mail's subject does not cry « À vérifier » every night for it. A row left out is one: exit 1.
  const teachers = (line: string) => `Prénom*;Nom*;date de naissance;fonction;email;classe\n${line}\n`;
  const deliver = (name: string, line: string) => {
    cpSync(join(FIX, 'jules-ferry'), join(drop, name), { recursive: true });
    writeFileSync(join(drop, name, 'CSV_Enseignants.csv'), teachers(line));
    writeFileSync(join(drop, name, '.done'), '');
  };
  const subjects = () => smtp.to('agnes@rectorat.example').map((m) => m.subject ?? '');
  deliver('jules-ferry', 'Hélène;ROUSSILLON;02/05/1979;Professeur des écoles;h.roussillon@@exemple;CE2 A');
  const remark = await cli(importCli, ['--drop', '--dossier', drop]);
  assert.equal(remark.code, 0, remark.out);
  assert.match(remark.out, /Importée[\s\S]*h\.roussillon@@exemple/, 'the remark is reported');
  assert.doesNotMatch(subjects().at(-1)!, /À vérifier/);
  deliver('jules-ferry', ';ROUSSILLON;02/05/1979;Professeur des écoles;;CE2 A');
  const leftOut = await cli(importCli, ['--drop', '--dossier', drop]);
  assert.equal(leftOut.code, 1, leftOut.out);
  assert.match(subjects().at(-1)!, /^\[Trousseau\] À vérifier — /);
  rmSync(drop, { recursive: true, force: true });
});

test('trousseau jeton: create (printed once), list, revoke', async () => {
  const bad = await cli(tokenCli, ['creer', '--nom', 'Nuit', '--etablissement', '0000000X']);
  assert.equal(bad.code, 2);
  assert.match(bad.err, /Établissement inconnu : « 0000000X »/);

  const made = await cli(tokenCli, ['creer', '--nom', 'Import nocturne', '--etablissement', '0123456A']);
  assert.equal(made.code, 0, made.err);
  const token = /(trs_[0-9a-f]{10}_[A-Za-z0-9_-]{43})/.exec(made.out)?.[1];
  assert.ok(token, made.out);
  const prefix = token.slice(4, 14);
  // Without TROUSSEAU_PUBLIC_URL the example's address is this machine's: said, so that a script elsewhere is not
  // pointed at localhost.
  assert.equal(process.env.TROUSSEAU_PUBLIC_URL, undefined, 'the test runs without a public address');
  assert.match(made.out, /curl .*"http:\/\/localhost:\d+\/api\/import\?structureId=[0-9a-f-]{36}&dryRun=true"\n\(adresse de cette machine : TROUSSEAU_PUBLIC_URL n’est pas définie/);
  const placed = await runCli(tokenCli, ['creer', '--nom', 'Import du rectorat', '--etablissement', '0123456A'], { TROUSSEAU_PUBLIC_URL: 'https://ent.example.fr/' });
  assert.match(placed.out, /"https:\/\/ent\.example\.fr\/api\/import\?/);
  assert.doesNotMatch(placed.out, /adresse de cette machine/);

  const list = await cli(tokenCli, ['liste']);
  assert.match(list.out, new RegExp(`${prefix}  actif +Import nocturne — 0123456A — créé .* — dernier usage —`));
  assert.ok(!list.out.includes(token), 'never printed again');

  assert.equal((await cli(tokenCli, ['revoquer', prefix])).code, 0);
  assert.match((await cli(tokenCli, ['liste'])).out, new RegExp(`${prefix}  révoqué`));
  assert.equal((await cli(tokenCli, ['revoquer', prefix])).code, 1, 'already revoked');
  assert.equal((await cli(tokenCli, ['creer', '--nom', 'x', '--tous', '--etablissement', '0123456A'])).code, 2, 'all or a list, not both');
});
