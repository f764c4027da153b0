// The class view as a teacher meets it (newcomer trial on the demo collège), over the app's inject and PostgreSQL:
// only the actions the school allows its teachers are offered (the refusal the POST makes, applied to the buttons);
// « Fiches famille » says what the PDF holds (pupils and their parents) in its panel and its file name, and answers
// once (no « Reply was already sent » in the app's log); a pupil's sheet says « tu » on every line and promises no
// reset by e-mail to an account without an address, parents' sheets stay in « vous ».
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { after, before, test } from 'node:test';
import type { FastifyInstance } from 'fastify';
import { saveStructureSettings } from '../src/directory/policies.js';
import { buildServer } from '../src/web/server.js';
import { testContext } from './helpers/db.js';
import { createInactiveUser, createUser, signedInClient, type Client } from './helpers/web.js';

const PASSWORD = 'une phrase de passe solide';
let ctx: Awaited<ReturnType<typeof testContext>>;
let app: FastifyInstance;
let teacher: Client;
let school = '';
let c3 = '';
const ids: Record<string, string> = {};
const logLines: Array<Record<string, unknown>> = [];
const dir = mkdtempSync(join(tmpdir(), 'trousseau-classe-teacher-'));

before(async () => {
  // A mail server configured (never reached here): « Mot de passe oublié » can send its link.
  ctx = await testContext({ LOG_LEVEL: 'warn', SMTP_URL: 'smtp://127.0.0.1:2525' });
  const pool = ctx.database.pool;
  school = (await pool.query(`INSERT INTO structures (name) VALUES ('Collège Jean Moulin') RETURNING id`)).rows[0].id;
  c3 = (await pool.query(`INSERT INTO classes (structure_id, name) VALUES ($1, '3C') RETURNING id`, [school])).rows[0].id;
  const add = async (key: string, o: { first: string; last: string; profile: 'Student' | 'Relative' | 'Teacher'; active?: boolean; email?: string; inClass?: boolean }) => {
    const u = { login: `${o.first}.${o.last}`.toLowerCase(), firstName: o.first, lastName: o.last, profile: o.profile, email: o.email ?? null };
    ids[key] = o.active ? await createUser(pool, { ...u, password: PASSWORD }) : (await createInactiveUser(pool, ctx.secrets, u)).id;
    await pool.query('INSERT INTO user_structures (user_id, structure_id) VALUES ($1, $2)', [ids[key], school]);
    if (o.inClass) await pool.query('INSERT INTO user_classes (user_id, class_id) VALUES ($1, $2)', [ids[key], c3]);
  };
  await add('teacher', { first: 'Alice', last: 'Riviere', profile: 'Teacher', active: true, inClass: true });
  await add('lea', { first: 'Lea', last: 'Martin', profile: 'Student', active: true, inClass: true });
  await add('tom', { first: 'Tom', last: 'Bernard', profile: 'Student', active: true, email: 'tom@example.fr', inClass: true });
  await add('hugo', { first: 'Hugo', last: 'Bernard', profile: 'Student', inClass: true });
  await add('zoe', { first: 'Zoe', last: 'Durand', profile: 'Student', inClass: true });
  await add('claire', { first: 'Claire', last: 'Bernard', profile: 'Relative', email: 'claire@example.fr' });
  await add('marc', { first: 'Marc', last: 'Durand', profile: 'Relative' });
  await add('anne', { first: 'Anne', last: 'Durand', profile: 'Relative', active: true });
  for (const [p, c] of [['claire', 'hugo'], ['claire', 'tom'], ['marc', 'zoe'], ['anne', 'zoe']]) {
    await pool.query('INSERT INTO relations (parent_id, child_id) VALUES ($1, $2)', [ids[p], ids[c]]);
  }
  const logStream = new Writable({
    write(chunk, _enc, done) {
      for (const line of String(chunk).split('\n')) if (line.trim()) logLines.push(JSON.parse(line));
      done();
    },
  });
  app = await buildServer(ctx, { logStream });
  teacher = await signedInClient(app, pool, ids.teacher);
});

after(async () => {
  await app?.close();
  await ctx?.close();
  rmSync(dir, { recursive: true, force: true });
});

const base = () => `/classe/${c3}/eleves`;
const buttons = (page: string) => [...page.matchAll(/<button type="submit" name="action" value="([a-z0-9-]+)"/g)].map((m) => m[1]);

/** The class form's POST with repeated `ids` (Client.post sends one value per name). */
async function post(action: string, keys: string[]) {
  await teacher.get(base());
  const body = new URLSearchParams([['_csrf', teacher.csrf!], ...keys.map((k) => ['ids', ids[k]]), ['action', action]]);
  return app.inject({
    method: 'POST',
    url: base(),
    remoteAddress: teacher.ip,
    headers: { cookie: [...teacher.cookies].map(([k, v]) => `${k}=${v}`).join('; '), 'content-type': 'application/x-www-form-urlencoded' },
    payload: body.toString(),
  });
}

let n = 0;
const pdfPages = (pdf: Buffer): string[] => {
  const f = join(dir, `f${++n}.pdf`);
  writeFileSync(f, pdf);
  // One sheet per page (model 1): pages split on form feeds, whitespace folded (pdftotext wraps the lines).
  return execFileSync('pdftotext', [f, '-'], { encoding: 'utf8' })
    .split('\f')
    .map((p) => p.replace(/\s+/g, ' ').trim())
    .filter(Boolean);
};

test('a teacher is offered only what the school allows: no « Bloquer » by default, no renewal when withheld', async () => {
  const page = (await teacher.get(base())).body;
  const offered = buttons(page);
  assert.ok(offered.includes('renewal') && offered.includes('pdf') && offered.includes('family-8'), offered.join());
  assert.ok(!offered.includes('block') && !offered.includes('unblock'), `block offered by default: ${offered.join()}`);
  assert.match(page, /data-withheld>Réservé aux administrateurs de l’établissement : bloquer et débloquer des comptes\.</);
  // The server still refuses it, whatever is posted.
  assert.equal((await post('block', ['zoe'])).statusCode, 403);

  await saveStructureSettings(ctx.database.pool, school, { teacherRights: ['sheets', 'mail', 'block'], termsText: null, newVersion: false }, null);
  try {
    const granted = buttons((await teacher.get(base())).body);
    assert.ok(granted.includes('block') && granted.includes('unblock'), granted.join());
    assert.ok(!granted.includes('renewal') && !granted.includes('renewal-sheets'), `renewal offered though withheld: ${granted.join()}`);
  } finally {
    await saveStructureSettings(ctx.database.pool, school, { teacherRights: ['sheets', 'renewal', 'mail'], termsText: null, newVersion: false }, null);
  }
});

test('« Fiches famille »: the panel and the file name count pupils and parents; one answer per download, nothing logged', async () => {
  // Every box ticked (no JS: ?tout=1): 4 pupils, their 3 parents (Claire once for Hugo and Tom).
  const page = (await teacher.get(`${base()}?tout=1`)).body;
  assert.match(page, /data-family-count[^>]*>Le PDF contiendra 7 fiches : 4 élèves et 3 parents\.</);
  assert.match(page, new RegExp(`data-parents="[^"]*${ids.claire}[^"]*"`));

  for (const action of ['family-8', 'family-1']) {
    logLines.length = 0;
    const res = await post(action, ['lea', 'tom', 'hugo', 'zoe']);
    assert.equal(res.statusCode, 200, action);
    assert.equal(res.headers['content-type'], 'application/pdf');
    assert.match(String(res.headers['content-disposition']), /^attachment; filename="fiches-famille-3C-4-eleves-3-parents-\d{4}-\d{2}-\d{2}\.pdf"/, action);
    if (action === 'family-1') assert.equal(pdfPages(res.rawPayload).length, 7);
    // Let the response's end and its hooks run: a second reply logs there.
    await new Promise((r) => setTimeout(r, 50));
    const warned = logLines.filter((l) => (l.level as number) >= 40);
    assert.deepEqual(warned.map((l) => `${l.msg}`), [], `${action}: ${JSON.stringify(warned)}`);
  }
});

test('a pupil’s sheet says « tu » on every line, no reset by e-mail without an address; a parent’s stays in « vous »', async () => {
  const res = await post('family-1', ['lea', 'tom', 'hugo', 'zoe']);
  assert.equal(res.statusCode, 200);
  const pages = pdfPages(res.rawPayload);
  const of = (name: string) => pages.find((p) => p.includes(name)) ?? assert.fail(`no sheet for ${name}`);
  const vous = /\b(vous|votre|vos|scannez|demandez|saisissez)\b/i;

  // Activated, no e-mail: « ton mot de passe », and a renewal code from the teacher instead of a reset link.
  const lea = of('Lea Martin Élève');
  assert.match(lea, /Compte déjà activé : pas de code, ton mot de passe reste valable\./);
  assert.doesNotMatch(lea, vous, lea);
  assert.doesNotMatch(lea, /courriel de ton compte|lien de renouvellement/);
  assert.match(lea, /Ton compte n’a pas d’adresse électronique : demande un code de renouvellement à ton professeur/);
  // Activated with an e-mail: the reset link goes there.
  const tom = of('Tom Bernard Élève');
  assert.doesNotMatch(tom, vous, tom);
  assert.match(tom, /un lien de renouvellement est envoyé à l’adresse électronique de ton compte/);
  // Not activated: « Scanne pour activer » under the QR code.
  const hugo = of('Hugo Bernard Élève');
  assert.match(hugo, /Scanne pour activer/);
  assert.doesNotMatch(hugo, vous, hugo);

  // Parents: « vous », the activated one without an address not sent to a mailbox either.
  assert.match(of('Claire Bernard'), /Scannez pour activer/);
  const anne = of('Anne Durand');
  assert.match(anne, /Compte déjà activé : pas de code, votre mot de passe reste valable\./);
  assert.match(anne, /Votre compte n’a pas d’adresse électronique : demandez un code de renouvellement/);
  assert.doesNotMatch(anne, /courriel de votre compte/);
});

test('blocking from the class view says the codes die with it; unblocking promises no sign-in with the old sheet', async () => {
  await saveStructureSettings(ctx.database.pool, school, { teacherRights: ['sheets', 'renewal', 'mail', 'block'], termsText: null, newVersion: false }, null);
  try {
    const block = (await post('block', ['hugo'])).body.replace(/\s+/g, ' ');
    assert.match(block, /codes en cours \(activation, renouvellement\) annulés/, 'the confirmation says what the console’s says: the codes are void');
    assert.equal((await post('block-confirm', ['hugo'])).statusCode, 303, 'Hugo blocked');
    const code = (await ctx.database.pool.query('SELECT activation_code_mac FROM users WHERE id = $1', [ids.hugo])).rows[0].activation_code_mac;
    assert.equal(code, null, 'his printed sheet no longer opens the account');
    const unblock = (await post('unblock', ['hugo'])).body.replace(/\s+/g, ' ');
    assert.match(unblock, /nouvelle fiche : le code d’avant le blocage ne fonctionne plus/, 'a never-activated pupil needs a new sheet: said before unblocking');
    assert.equal((await post('unblock-confirm', ['hugo'])).statusCode, 303, 'Hugo unblocked');
  } finally {
    await saveStructureSettings(ctx.database.pool, school, { teacherRights: ['sheets', 'renewal', 'mail'], termsText: null, newVersion: false }, null);
  }
});
