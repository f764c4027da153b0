// Finding: « Mon compte » asks the current password to change one's e-mail address and the console refuses an
// administrator changing their own (directory.selfContact): a stolen admin session must not put its own address on
// the account, then take it for good with a reset link. The console's import went round it: a local admin without
// an address (the import fills an empty one) imported the school's staff file with their own row carrying any
// address, and it was stored. Now an import never changes the e-mail of the account running it: the row is imported
// (names, functions, classes — the school's file, as the head of school expects it) but its address is left as it
// is and reported (file, line, field), pointing to « Mon compte ». Checked too: the row cannot give its author
// another school or rights beyond theirs (the CSV lands in one of their schools only, import-scope.test.ts).
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { importFiles } from '../../src/import/index.js';
import { fileContext, sqlReaders } from '../helpers/db.js';
import { fileServer, multipart, sessionFor } from '../helpers/web.js';
import { hashPassword } from '../../src/accounts/passwords.js';

const TPL = new URL('../fixtures/import/', import.meta.url).pathname;
const ctx = await fileContext();
const app = await fileServer(ctx);
const { q } = sqlReaders(ctx);
const [{ id: school }] = await q<{ id: string }>(`INSERT INTO structures (uai, name) VALUES ('0459001A', 'Collège des Acacias') RETURNING id`);
const original = readFileSync(join(TPL, 'CSV_Personnels.csv'), 'latin1');
const file = (text: string) => [{ name: 'CSV_Personnels.csv', data: Buffer.from(text, 'latin1') }];
// The school's staff, imported with the server's own rights (as `trousseau import`); Odile MARCHAND, the head, is
// made local admin, activated, her address not given.
assert.equal((await importFiles(ctx, file(original), { scope: { kind: 'all' }, dryRun: false, structureHint: school })).fatal, null, 'first import');
const [head] = await q<{ id: string }>(`SELECT id FROM users WHERE last_name = 'MARCHAND' AND first_name = 'Odile'`);
await q(`UPDATE users SET email = NULL, password_hash = $2, activated_at = now() WHERE id = $1`, [head.id, await hashPassword('phrase de passe de la principale')]);
await q('INSERT INTO local_admins (user_id, structure_id) VALUES ($1, $2)', [head.id, school]);

const emailOf = async (last: string, first: string) => (await q<{ email: string | null }>(`SELECT email FROM users WHERE last_name = $1 AND first_name = $2`, [last, first]))[0].email;

/** The staff file with Odile's row (line 2) giving `pirate@…` and Yanis's (line 3) an address, imported by Odile. */
async function importAsHead(lang: 'fr' | 'en') {
  const text = original.replace('odile.marchand@exemple.test', 'pirate@exemple.test').replace('19/03/1992;AED;;;;', '19/03/1992;AED;;;yanis.bertrand@exemple.test;');
  assert.ok(text.includes('pirate@') && text.includes('yanis.bertrand@'), 'the file is changed as meant');
  const as = await sessionFor(ctx.database.pool, head.id);
  const { body, type } = multipart(file(text));
  const res = await app.inject({
    method: 'POST', url: `/api/import?structureId=${school}&partial=true&lang=${lang}`,
    headers: { 'content-type': type, cookie: as.cookie, 'x-csrf-token': as.csrf }, payload: body,
  });
  assert.equal(res.statusCode, 200, `import answered: ${res.body.slice(0, 300)}`);
  return res.json() as { rejected: Array<{ file: string; line: number; field: string; reason: string }> };
}

test('a local admin’s import never sets their own e-mail; the rest of the file is imported, the row reported', async () => {
  const report = await importAsHead('fr');
  assert.equal(await emailOf('MARCHAND', 'Odile'), null, 'her own address is not set by her import');
  assert.equal(await emailOf('BERTRAND', 'Yanis'), 'yanis.bertrand@exemple.test', 'the rest of the file is imported');
  const own = report.rejected.find((r) => r.line === 2);
  assert.ok(own, `her row is reported: ${JSON.stringify(report.rejected)}`);
  assert.equal(own.file, 'CSV_Personnels.csv', 'the file is named');
  assert.equal(own.field, 'courriel', 'the field is named');
  assert.match(own.reason, /votre propre adresse.*Mon compte/, 'the report says where to change it');
  const [{ n }] = await q<{ n: number }>(`SELECT count(*)::int AS n FROM local_admins WHERE user_id = $1`, [head.id]);
  assert.equal(n, 1, 'she administers her school only, as before');
});

test('imported again (unchanged file): still not set, still reported', async () => {
  const report = await importAsHead('fr');
  assert.equal(await emailOf('MARCHAND', 'Odile'), null, 'not set the second time either');
  assert.ok(report.rejected.some((r) => r.line === 2 && r.field === 'courriel'), `reported again: ${JSON.stringify(report.rejected)}`);
});

test('a super admin’s import (or the command line) still fills the head’s empty address', async () => {
  const text = original.replace('odile.marchand@exemple.test', 'principale@exemple.test');
  const report = await importFiles(ctx, file(text), { scope: { kind: 'all' }, dryRun: false, structureHint: school, partial: true });
  assert.equal(report.fatal, null, 'imported');
  assert.equal(await emailOf('MARCHAND', 'Odile'), 'principale@exemple.test', 'filled by someone else');
});
