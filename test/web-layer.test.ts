// The web layer and the console's rough edges, over HTTP (app.inject): impossible dates are 400s everywhere,
// renewal codes shown once after post/redirect/get, activation codes regenerated after confirmation, empty
// selections say so, mail run reports keep an explicit selection, imports redirect without the CSRF token,
// the AAF confirmation names every structure, paginated duplicates, favicon, logs with request ids,
// domain errors translated, plurals and French articles.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { Writable } from 'node:stream';
import { after, before, test } from 'node:test';
import type { FastifyInstance } from 'fastify';
import { DomainError } from '../src/lib/errors.js';
import { de } from '../src/lib/french.js';
import { registerClient } from '../src/oidc/clients.js';
import { startMailMerge } from '../src/mail/merge.js';
import { runWith } from '../src/publipostage/cli.js';
import { SelectionSchema } from '../src/publipostage/selection.js';
import { startupMessages } from '../src/startup.js';
import { loadConfig } from '../src/config.js';
import { makeContext } from '../src/context.js';
import { HttpError } from '../src/web/context.js';
import { plural, t } from '../src/web/i18n/index.js';
import { buildServer } from '../src/web/server.js';
import { testContext } from './helpers/db.js';
import { insertClass, insertStructure, insertUser, relate } from './helpers/directory-sample.js';
import { Client, createInactiveUser, createUser } from './helpers/web.js';

let ctx: Awaited<ReturnType<typeof testContext>>;
let app: FastifyInstance;
const logLines: Array<Record<string, unknown>> = [];
const PASSWORD = 'correct horse battery';
let school: string;
let otherSchool: string;
let cls: string;
let admin: Client;
let adminId: string;
let activeStudent: string;
let inactive: { id: string; code: string };

before(async () => {
  ctx = await testContext({ LOG_LEVEL: 'info' });
  const stream = new Writable({
    write(chunk, _enc, done) {
      for (const line of String(chunk).split('\n')) if (line.trim()) logLines.push(JSON.parse(line));
      done();
    },
  });
  app = await buildServer(ctx, { logStream: stream });
  // A route that fails as a bug would, in an encapsulated test area.
  await app.register(async (a) => {
    a.get('/boom', async () => {
      throw new Error('kaboom');
    });
    a.get('/refused', async () => {
      throw new DomainError('directory.selfBlock');
    });
    a.get('/gone', async () => {
      throw new HttpError(410, 'import.expired');
    });
  }, { prefix: '/test' });
  const pool = ctx.database.pool;
  school = await insertStructure(pool, 'Collège Denis Poisson', '0750001A');
  otherSchool = await insertStructure(pool, 'Lycée Arago', '0750002B');
  cls = await insertClass(pool, school, '6e A');
  adminId = await createUser(pool, { login: 'admin.poisson', password: PASSWORD, profile: 'Personnel', firstName: 'Alice', lastName: 'Admin' });
  await pool.query('INSERT INTO user_structures (user_id, structure_id) VALUES ($1, $2)', [adminId, school]);
  await pool.query('INSERT INTO local_admins (user_id, structure_id) VALUES ($1, $2)', [adminId, school]);
  activeStudent = await createUser(pool, { login: 'arthur.martin', password: PASSWORD, profile: 'Student', firstName: 'Arthur', lastName: 'Martin' });
  inactive = await createInactiveUser(pool, ctx.secrets, { login: 'emma.petit', profile: 'Student', firstName: 'Emma', lastName: 'Petit' });
  for (const id of [activeStudent, inactive.id]) {
    await pool.query('INSERT INTO user_structures (user_id, structure_id) VALUES ($1, $2)', [id, school]);
    await pool.query('INSERT INTO user_classes (user_id, class_id) VALUES ($1, $2)', [id, cls]);
  }
  admin = new Client(app);
  assert.equal((await admin.signIn('admin.poisson', PASSWORD)).statusCode, 303);
});

after(async () => {
  await app.close();
  await ctx.close();
});

const base = () => `/console/etablissements/${school}`;

test('impossible dates are a 400 with a message everywhere: API, console pages, downloads, CLI', async () => {
  const bad = 'createdBefore=2026-02-30';
  await admin.get(`${base()}/publipostage`); // the session's CSRF token, for the downloads (POST)
  for (const url of [`/api/publipostage/preview?${bad}`, `/api/publipostage/csv?${bad}`, `/api/publipostage/pdf?createdAfter=2025-13-01`]) {
    const r = url.includes('/preview') ? await admin.get(url) : await admin.post(url, {});
    assert.equal(r.statusCode, 400, url);
    assert.match(r.json().error, /createdBefore|createdAfter/);
    assert.match(r.json().error, /date impossible|AAAA-MM-JJ/);
  }
  for (const path of ['publipostage', 'utilisateurs', 'publipostage/apercu']) {
    const r = await admin.get(`${base()}/${path}?${bad}`);
    assert.equal(r.statusCode, 400, path);
    if (path !== 'publipostage/apercu') assert.match(r.body, /Créés avant|createdBefore|date/i);
  }
  for (const path of ['publipostage/pdf', 'publipostage/csv', 'publipostage/envoi']) {
    const r = await admin.get(`${base()}/${path}?${bad}`);
    assert.equal(r.statusCode, 400, path);
    assert.match(r.body, /createdBefore/);
  }
  // A real leap day is fine.
  assert.equal((await admin.get('/api/publipostage/preview?createdBefore=2028-02-29')).statusCode, 200);
  assert.equal(SelectionSchema.safeParse({ createdAfter: '2026-02-30' }).success, false);
  // The CLI names the option instead of printing PostgreSQL's error.
  const logs: string[] = [];
  assert.equal(await runWith(ctx, ['--format', 'csv', '--created-before', '2026-02-30', '-o', '/tmp/never.csv'], (m) => logs.push(m)), 2);
  assert.ok(logs.some((l) => /--created-before invalide : date impossible/.test(l)), logs.join('\n'));
  assert.ok(!logs.some((l) => /date\/time field value out of range/.test(l)));
  // In French, as the rest of the command line (zod said « Invalid option: expected one of … »).
  logs.length = 0;
  assert.equal(await runWith(ctx, ['--format', 'csv', '--activation', 'peut-etre', '-o', '/tmp/never.csv'], (m) => logs.push(m)), 2);
  assert.ok(logs.some((l) => l.includes('option --activation invalide : valeurs possibles : all, active, inactive.')), logs.join('\n'));
});

test('an error page\'s <title> says what happened (« Erreur : Page introuvable »), not just « Erreur », in French and English', async () => {
  const title = (r: { body: string }) => /<title>(.*?)<\/title>/s.exec(r.body)?.[1];
  const anon = new Client(app, '203.0.113.78');
  const missing = await anon.get('/pas-une-page');
  assert.equal(missing.statusCode, 404);
  assert.equal(title(missing), 'Erreur : Page introuvable — Trousseau');
  assert.equal(title(await anon.get('/pas-une-page?lang=en')), 'Error: Page not found — Trousseau');
  // A 400 is named by its first clause (the reason follows on the page).
  const bad = await anon.get('/activation?login=%00&code=ABCD&lang=fr');
  assert.equal(bad.statusCode, 400);
  assert.equal(title(bad), 'Erreur : Paramètre « login » invalide — Trousseau');
  assert.match(bad.body, /<h1>Erreur<\/h1>\s*<p class="lead">Paramètre « login » invalide : caractère nul/);
  assert.equal(title(await anon.get('/activation?login=%00&code=ABCD&lang=en')), 'Error: Invalid parameter “login” — Trousseau');
  // Other refusals and the 500 alike.
  assert.equal(title(await admin.get('/test/refused')), 'Erreur : Vous ne pouvez pas bloquer votre propre compte — Trousseau');
  assert.equal(title(await admin.get('/test/boom')), 'Erreur : Une erreur inattendue est survenue. Réessayez plus tard — Trousseau');
});

test('a NUL character (%00) in a field is a 400 naming it, never a 500 from PostgreSQL: anonymous pages, searches, downloads, forms', async () => {
  const nul = (r: { statusCode: number; body: string }, what: string, field: string) => {
    assert.equal(r.statusCode, 400, `${what}: ${r.body.slice(0, 300)}`);
    assert.ok(r.body.includes(`« ${field} »`) && r.body.includes('caractère nul'), `${what}: ${r.body.slice(0, 300)}`);
  };
  const anon = new Client(app, '203.0.113.77');
  nul(await anon.get('/activation?login=%00&code=ABCD'), 'activation link', 'login');
  await anon.get('/connexion');
  nul(await anon.post('/connexion', { login: 'admin.poisson\u0000', password: PASSWORD }), 'sign-in', 'login');
  nul(await anon.post('/activation', { login: '\u0000', code: 'ABCD' }), 'activation form', 'login');
  await admin.get(`${base()}/publipostage`);
  for (const path of ['publipostage', 'publipostage/apercu', 'utilisateurs']) nul(await admin.get(`${base()}/${path}?search=%00`), path, 'search');
  nul(await admin.get('/api/publipostage/preview?search=%00'), 'preview API', 'search');
  nul(await admin.post('/api/publipostage/csv?search=%00', {}, { headers: { 'x-csrf-token': admin.csrf! } }), 'CSV API', 'search');
  nul(await admin.post(`${base()}/publipostage/csv`, { search: '\u0000' }), 'console CSV', 'search');
  nul(await admin.post(`/console/utilisateurs/${inactive.id}/coordonnees`, { email: 'emma\u0000@example.org', mobile: '' }), 'contact', 'email');
  // Typed ones still work.
  assert.equal((await admin.get(`${base()}/utilisateurs?search=emma`)).statusCode, 200);
});

test('the OpenID provider: a NUL in an authorization request or a token is refused as any bad value, not a 500 from PostgreSQL', async () => {
  const root = await createUser(ctx.database.pool, { login: 'root.oidc', superAdmin: true });
  const { clientId, secret } = await registerClient(ctx.database.pool, ctx.secrets, { name: 'ENT', redirectUris: ['https://app.example.fr/cb'], scopes: ['profile'], firstParty: true }, root);
  const auth = `/oidc/auth?client_id=${clientId}&redirect_uri=${encodeURIComponent('https://app.example.fr/cb')}&response_type=code&scope=openid&code_challenge=E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM&code_challenge_method=S256`;
  for (const extra of ['&state=%00', '&nonce=a%00b', '&login_hint=%00']) {
    const r = await app.inject({ method: 'GET', url: `${auth}${extra}` });
    assert.equal(r.statusCode, 303, `${extra}: ${r.body.slice(0, 300)}`);
    assert.match(String(r.headers.location), /^\/oidc\/interaction\//);
  }
  const basic = `Basic ${Buffer.from(`${clientId}:${secret}`).toString('base64')}`;
  for (const body of ['grant_type=authorization_code&code=%00&redirect_uri=https%3A%2F%2Fapp.example.fr%2Fcb&code_verifier=x', 'grant_type=refresh_token&refresh_token=a%00b']) {
    const r = await app.inject({ method: 'POST', url: '/oidc/token', headers: { authorization: basic, 'content-type': 'application/x-www-form-urlencoded' }, payload: body });
    assert.equal(r.statusCode, 400, `${body}: ${r.body}`);
    assert.equal(r.json().error, 'invalid_grant');
  }
  const revoked = await app.inject({ method: 'POST', url: '/oidc/token/revocation', headers: { authorization: basic, 'content-type': 'application/x-www-form-urlencoded' }, payload: 'token=%00' });
  assert.equal(revoked.statusCode, 200, revoked.body);
});

test('renewal code: post/redirect/get, shown once; a reload neither re-posts nor replaces it', async () => {
  const pool = ctx.database.pool;
  const page = await admin.get(`/console/utilisateurs/${activeStudent}?etablissement=${school}`);
  assert.equal(page.statusCode, 200);
  const post = await admin.post(`/console/utilisateurs/${activeStudent}/renouvellement`, { etablissement: school });
  assert.equal(post.statusCode, 303);
  const location = String(post.headers.location);
  assert.match(location, /\?code=[0-9a-f-]{36}&etablissement=/);
  const mac = (await pool.query('SELECT renewal_code_mac FROM users WHERE id = $1', [activeStudent])).rows[0].renewal_code_mac;
  const shown = await admin.get(location);
  const code = /data-renewal-code>([0-9A-Z-]+)</.exec(shown.body)?.[1];
  assert.ok(code, 'the code is shown');
  assert.equal(ctx.secrets.mac('renewal', code.replace(/-/g, '')), mac);
  // F5: the same URL shows no code and says why; the code in the database is untouched.
  const reload = await admin.get(location);
  assert.doesNotMatch(reload.body, /data-renewal-code/);
  assert.match(reload.body, /déjà été affiché une fois/);
  assert.equal((await pool.query('SELECT renewal_code_mac FROM users WHERE id = $1', [activeStudent])).rows[0].renewal_code_mac, mac);
  // Another session cannot read a stashed code.
  const again = await admin.post(`/console/utilisateurs/${activeStudent}/renouvellement`, { etablissement: school });
  const other = new Client(app);
  await other.signIn('admin.poisson', PASSWORD);
  assert.doesNotMatch((await other.get(String(again.headers.location))).body, /data-renewal-code/);
  // The code and its audit row were written together.
  const audit = await pool.query(`SELECT count(*)::int AS n FROM audit WHERE action = 'account.renewal_code' AND actor_id = $1`, [adminId]);
  assert.equal(audit.rows[0].n, 2);
});

test('class view renewal code: post/redirect/get, shown once; a reload says it was already shown', async () => {
  const pool = ctx.database.pool;
  const post = await admin.post(`/classe/${cls}/eleves`, { action: 'renewal', ids: activeStudent });
  assert.equal(post.statusCode, 303);
  const location = String(post.headers.location);
  assert.match(location, new RegExp(`^/classe/${cls}/eleves/renouvellement/[0-9a-f-]{36}$`));
  const shown = await admin.get(location);
  assert.equal(shown.statusCode, 200);
  const code = /data-renewal-code>([0-9A-Z-]+)</.exec(shown.body)?.[1];
  assert.ok(code);
  const mac = (await pool.query('SELECT renewal_code_mac FROM users WHERE id = $1', [activeStudent])).rows[0].renewal_code_mac;
  assert.equal(ctx.secrets.mac('renewal', code.replace(/-/g, '')), mac);
  const reload = await admin.get(location);
  assert.equal(reload.statusCode, 410);
  assert.doesNotMatch(reload.body, /data-renewal-code/);
  assert.match(reload.body, /déjà été affiché une fois/);
  assert.equal((await pool.query('SELECT renewal_code_mac FROM users WHERE id = $1', [activeStudent])).rows[0].renewal_code_mac, mac);
});

test('regenerating an activation code asks first; only the confirmed POST replaces it', async () => {
  const pool = ctx.database.pool;
  const mac = async () => (await pool.query('SELECT activation_code_mac FROM users WHERE id = $1', [inactive.id])).rows[0].activation_code_mac;
  const before = await mac();
  const userPage = await admin.get(`/console/utilisateurs/${inactive.id}?etablissement=${school}`);
  assert.match(userPage.body, new RegExp(`href="/console/utilisateurs/${inactive.id}/activation\\?etablissement=${school}"`));
  assert.doesNotMatch(userPage.body, /action="[^"]*\/activation"/, 'no one-click form on the user page');
  const confirm = await admin.get(`/console/utilisateurs/${inactive.id}/activation?etablissement=${school}`);
  assert.equal(confirm.statusCode, 200);
  assert.match(confirm.body, /Régénérer le code d’activation d’Emma Petit/);
  assert.match(confirm.body, /cessera immédiatement de fonctionner/);
  assert.equal(await mac(), before);
  const done = await admin.post(`/console/utilisateurs/${inactive.id}/activation`, { etablissement: school });
  assert.equal(done.statusCode, 303);
  assert.match(String(done.headers.location), /ok=activation/);
  assert.notEqual(await mac(), before);
  inactive.code = '';
});

test('an empty selection disables the launch buttons and says so; its mail page does not talk about paper', async () => {
  const empty = await admin.get(`${base()}/publipostage?search=personne-de-ce-nom`);
  assert.equal(empty.statusCode, 200);
  for (const k of ['pdf', 'csv', 'mail']) assert.match(empty.body, new RegExp(`data-launch="${k}" disabled`));
  assert.match(empty.body, /<p class="launch-empty" id="launch-empty" data-launch-empty-label>Aucun compte ne correspond/);
  const some = await admin.get(`${base()}/publipostage`);
  assert.doesNotMatch(some.body, /data-launch="pdf" disabled/);
  assert.match(some.body, /data-launch-empty-label hidden/);
  const mail = await admin.get(`${base()}/publipostage/envoi?search=personne-de-ce-nom`);
  assert.match(mail.body, /Aucun compte ne correspond/);
  assert.doesNotMatch(mail.body, /sur papier/);
  // The fragment the browser swaps in carries the same counters, rendered by the same view.
  const fragment = await admin.get(`${base()}/publipostage/apercu?search=personne-de-ce-nom`);
  assert.match(fragment.body, /data-fragment="counters" data-total="0"/);
  assert.match(fragment.body, /data-fragment="table"/);
  assert.doesNotMatch(fragment.body, /<html/);
});

test('a keyset cursor past the last row: the preview says its page is empty and links to the first page', async () => {
  const beyond = Buffer.from(JSON.stringify(['zzzzzzzzzz', 'zzzz', 'zzzzzzzzzz'])).toString('base64url');
  const url = `${base()}/publipostage`;
  const res = await admin.get(`${url}?profiles=Student&after=${beyond}&offset=50`);
  assert.equal(res.statusCode, 200);
  assert.match(res.body, /<tbody data-preview-body><\/tbody>/);
  const pager = /<nav class="pager"[\s\S]*?<\/nav>/.exec(res.body)![0];
  assert.match(pager, /Cette page est vide/);
  assert.doesNotMatch(pager, /Comptes \d+ à/);
  assert.match(pager, new RegExp(`<a href="${url.replace(/[/]/g, '\\/')}\\?profiles=Student"[^>]*>Première page</a>`));
  const en = await admin.get(`${url}?profiles=Student&after=${beyond}`, { 'accept-language': 'en' });
  assert.match(en.body, /This page is empty/);
  assert.match(en.body, />First page<\/a>/);
  // The users list pages the same way.
  const users = await admin.get(`${base()}/utilisateurs?after=${beyond}`);
  assert.equal(users.statusCode, 200);
  assert.match(users.body, /Cette page est vide/);
});

test('the mail confirmation warns, in French and English, when no mail server is configured', async () => {
  const jade = await insertUser(ctx.database.pool, { firstName: 'Jade', lastName: 'Sansserveur', email: 'jade@example.fr', structureIds: [school], classIds: [cls] });
  const parent = await insertUser(ctx.database.pool, { profile: 'Relative', firstName: 'Paul', lastName: 'Parentdejade', email: 'paul.p@example.fr', structureIds: [school] });
  await relate(ctx.database.pool, parent, jade);
  // The class view's mail and family-mail confirmations, and the console's family mail, say the same, in the same words.
  const others = (c: Client) => [
    c.post(`/classe/${cls}/eleves`, { ids: jade, action: 'mail' }),
    c.post(`/classe/${cls}/eleves`, { ids: jade, action: 'family-mail' }),
    c.get(`${base()}/publipostage/familles?profiles=Student&search=Sansserveur`),
  ];
  for (const res of await Promise.all(others(admin))) {
    assert.equal(res.statusCode, 200);
    assert.match(res.body, /<p class="notice notice-warning" data-no-smtp>[^<]*aucun serveur de courriel n’est configuré[^<]*file d’attente/);
  }
  const url = `${base()}/publipostage/envoi?search=Sansserveur`;
  // This server has no SMTP_URL: the mails would stay queued, and the page says so before the click.
  assert.equal(ctx.config.smtpUrl, undefined);
  const fr = await admin.get(url);
  assert.equal(fr.statusCode, 200);
  assert.match(fr.body, /data-mails="1"/);
  const warning = /<p class="notice notice-warning" data-no-smtp>(.*?)<\/p>/s.exec(fr.body);
  assert.ok(warning, 'a warning notice on the confirmation page');
  assert.match(warning[1], /aucun serveur de courriel n’est configuré/);
  assert.match(warning[1], /file d’attente/);
  const en = await admin.get(url, { 'accept-language': 'en' });
  assert.match(en.body, /<p class="notice notice-warning" data-no-smtp>[^<]*no mail server is configured[^<]*queue/);
  // With a mail server configured, no such warning.
  const withSmtp = await buildServer(makeContext({ ...ctx.config, smtpUrl: 'smtp://127.0.0.1:2525' }, ctx.database));
  try {
    const c = new Client(withSmtp);
    assert.equal((await c.signIn('admin.poisson', PASSWORD)).statusCode, 303);
    const page = await c.get(url);
    assert.match(page.body, /data-mails="1"/);
    assert.doesNotMatch(page.body, /data-no-smtp/);
    for (const res of await Promise.all(others(c))) {
      assert.equal(res.statusCode, 200);
      assert.doesNotMatch(res.body, /data-no-smtp/);
    }
  } finally {
    await withSmtp.close();
  }
});

test('a mail run of ticked accounts: its report’s PDF keeps exactly that selection', async () => {
  const pool = ctx.database.pool;
  const extra: string[] = [];
  for (let i = 0; i < 3; i++) {
    extra.push(await insertUser(pool, { firstName: `Nina${i}`, lastName: 'Roux', structureIds: [school], classIds: [cls] }));
  }
  const ticked = [extra[0], extra[1], inactive.id];
  const run = await startMailMerge(ctx, SelectionSchema.parse({ classIds: [cls], profiles: ['Student'], userIds: ticked }),
    { kind: 'structures', structureIds: [school] }, adminId);
  const report = await admin.get(`/console/envois/${run.runId}`);
  assert.equal(report.statusCode, 200);
  // A download form (POST: it issues codes) carrying the run's selection as hidden fields.
  const form = /<form method="post" action="([^"]+\/publipostage\/pdf)"[^>]*>(.*?)<\/form>/s.exec(report.body);
  assert.ok(form, 'the report offers the PDF of the accounts without an address');
  assert.match(report.body, /PDF des fiches des 3 comptes sans adresse courriel/);
  const fields: Record<string, string> = {};
  for (const [, k, v] of form[2].matchAll(/<input type="hidden" name="([^"]+)" value="([^"]*)">/g)) fields[k] = fields[k] ? `${fields[k]},${v}` : v;
  const pdf = await admin.post(form[1], fields);
  assert.equal(pdf.statusCode, 200);
  assert.equal(pdf.headers['x-account-count'], '3');
});

test('import: the upload answers with a redirect that carries no CSRF token; the AAF confirmation names every structure', async () => {
  const boundary = '----trousseau';
  const csv = 'Nom;Prénom;Date de naissance;Classe\nDurand;Léo;01/02/2013;6e A\n';
  const payload = [
    `--${boundary}`, 'Content-Disposition: form-data; name="files"; filename="CSV_Eleves.csv"', 'Content-Type: text/csv', '', csv,
    `--${boundary}--`, '',
  ].join('\r\n');
  const res = await app.inject({
    method: 'POST',
    url: `${base()}/import?_csrf=${admin.csrf}`,
    headers: { cookie: [...admin.cookies].map(([k, v]) => `${k}=${v}`).join('; '), 'content-type': `multipart/form-data; boundary=${boundary}` },
    payload,
  });
  assert.equal(res.statusCode, 303, res.body.slice(0, 500));
  const location = String(res.headers.location);
  assert.match(location, new RegExp(`^${base()}/import/[A-Za-z0-9_-]{32}$`));
  assert.doesNotMatch(location, /_csrf/);
  const report = await admin.get(location);
  assert.equal(report.statusCode, 200);
  assert.match(report.body, /data-confirm-question>Appliquer cet import à Collège Denis Poisson/);
  // Someone else's (or an expired) upload token: 410, nothing shown.
  const stranger = new Client(app);
  const superId = await createUser(ctx.database.pool, { login: 'super.admin', password: PASSWORD, superAdmin: true });
  assert.ok(superId);
  await stranger.signIn('super.admin', PASSWORD);
  assert.equal((await stranger.get(location)).statusCode, 410);
});

test('the AAF confirmation question names what the files touch', async () => {
  const { confirmQuestion } = await import('../src/web/console/import.js');
  const schoolRow = { id: school, name: 'Collège Denis Poisson', uai: null };
  const report = (names: string[], kind = 'csv') => ({ structures: names.map((name) => ({ name, created: false })), files: [{ kind }] }) as never;
  assert.equal(confirmQuestion('fr', schoolRow, report(['Collège Denis Poisson'])), 'Appliquer cet import à Collège Denis Poisson ?');
  assert.equal(
    confirmQuestion('fr', schoolRow, report(['Collège Denis Poisson', 'Lycée Arago', 'École Jules Ferry'])),
    'Appliquer cet import ? Il touche 3 établissements : Collège Denis Poisson, Lycée Arago, École Jules Ferry.',
  );
  assert.match(confirmQuestion('en', schoolRow, report(['Lycée Arago'])), /It touches 1 school: Lycée Arago/);
  // A school's page takes no AAF file (refused before any dry run: console-school-import-aaf.test.ts): a run naming
  // no school is this school's.
  assert.equal(confirmQuestion('fr', schoolRow, report([], 'csv')), 'Appliquer cet import à Collège Denis Poisson ?');
  // The import for every school (/console/import) is no school's: the files' schools, named or not.
  assert.equal(confirmQuestion('fr', null, report([], 'aaf')), 'Appliquer cet import ? Il touche les comptes des établissements que nomment ses fichiers.');
  assert.equal(confirmQuestion('fr', null, report(['Lycée Arago'])), 'Appliquer cet import ? Il touche 1 établissement : Lycée Arago.');
});

test('duplicates are paginated, in the console frame with its tabs and breadcrumb', async () => {
  const pool = ctx.database.pool;
  // 30 pairs of namesakes whose names look like no other pair's.
  const word = () => Array.from(randomBytes(9), (b) => String.fromCharCode(97 + (b % 26))).join('');
  for (let i = 0; i < 30; i++) {
    const [firstName, lastName] = [word(), word()];
    for (let k = 0; k < 2; k++) await insertUser(pool, { firstName, lastName, structureIds: [school] });
  }
  const first = await admin.get(`${base()}/doublons`);
  assert.equal(first.statusCode, 200);
  assert.equal((first.body.match(/<tr data-pair=/g) ?? []).length, 25);
  const total = Number(/(\d+) paires? de doublons/.exec(first.body)?.[1]);
  assert.ok(total >= 30 && total <= 40, `pairs: ${total}`);
  assert.match(first.body, /<nav class="crumbs"/);
  assert.match(first.body, /<a href="[^"]+\/doublons" aria-current="page">Gérer les doublons<\/a>/);
  const next = /href="([^"]+doublons\?offset=25)"/.exec(first.body)?.[1];
  assert.ok(next, 'a link to the next page');
  const second = await admin.get(next);
  assert.equal((second.body.match(/<tr data-pair=/g) ?? []).length, total - 25);
  assert.match(second.body, new RegExp(`26 à ${total} sur ${total}`));
  const templates = await admin.get(`${base()}/modeles`);
  assert.match(templates.body, /<nav class="crumbs"/);
  assert.match(templates.body, /<a href="[^"]+\/modeles" aria-current="page">Modèles de courrier<\/a>/);
  // A school that is not the admin's stays a 404 on every tab.
  assert.equal((await admin.get(`/console/etablissements/${otherSchool}/doublons`)).statusCode, 404);
});

test('logs: one line per request with its id; a 5xx logged with its stack and its id on the error page', async () => {
  logLines.length = 0;
  const ok = await app.inject({ method: 'GET', url: '/connexion?next=/secret' });
  assert.equal(ok.statusCode, 200);
  const id = String(ok.headers['x-request-id']);
  const lines = logLines.filter((l) => l.reqId === id);
  assert.equal(lines.length, 1);
  assert.equal(lines[0].msg, 'request');
  assert.equal(lines[0].url, '/connexion', 'no query string in the log (reset tokens travel there)');
  assert.equal(lines[0].status, 200);

  const boom = await app.inject({ method: 'GET', url: '/test/boom' });
  assert.equal(boom.statusCode, 500);
  const boomId = String(boom.headers['x-request-id']);
  assert.match(boom.body, new RegExp(`Référence de l’erreur : ${boomId}`));
  assert.doesNotMatch(boom.body, /kaboom/);
  const logged = logLines.find((l) => l.reqId === boomId && l.level === 50) as { err?: { stack?: string } } | undefined;
  assert.ok(logged?.err?.stack?.includes('kaboom'), 'the 5xx is logged with its stack');
  assert.equal(logLines.filter((l) => l.reqId === boomId && l.msg === 'request').length, 1);
  assert.equal(loadConfig({ LOG_LEVEL: 'warn', TROUSSEAU_SECRET: '11'.repeat(32) }).logLevel, 'warn');
  assert.throws(() => loadConfig({ LOG_LEVEL: 'bavard', TROUSSEAU_SECRET: '11'.repeat(32) }), /LOG_LEVEL/);
});

test('domain errors are message codes: French or English page, status from one table', async () => {
  const fr = await app.inject({ method: 'GET', url: '/test/refused' });
  assert.equal(fr.statusCode, 422);
  assert.match(fr.body, /Vous ne pouvez pas bloquer votre propre compte/);
  const en = await app.inject({ method: 'GET', url: '/test/refused?lang=en' });
  assert.equal(en.statusCode, 422);
  assert.match(en.body, /You cannot block your own account/);
  assert.doesNotMatch(en.body, /Vous ne pouvez/);
  const gone = await app.inject({ method: 'GET', url: '/test/gone', headers: { 'accept-language': 'en' } });
  assert.equal(gone.statusCode, 410);
  assert.doesNotMatch(gone.body, /introuvable|expiré/);
  // Refusals of the console in English: a school that is not yours.
  const foreign = await admin.get(`/console/etablissements/${otherSchool}/utilisateurs?lang=en`);
  assert.equal(foreign.statusCode, 404);
  assert.match(foreign.body, /School not found/);
  await admin.get('/console?lang=fr');
});

test('plurals follow Intl.PluralRules; French articles before school and person names', () => {
  assert.equal(plural('fr', 'users.count', 0), t('fr', 'users.count.one', { n: '0' }));
  assert.equal(plural('fr', 'users.count', 1), t('fr', 'users.count.one', { n: '1' }));
  assert.equal(plural('en', 'users.count', 0), t('en', 'users.count.other', { n: '0' }));
  assert.match(plural('fr', 'users.count', 1_000_000), /1\u202f000\u202f000/);
  assert.equal(plural('fr', 'users.count', 1_000_000), t('fr', 'users.count.other', { n: '1\u202f000\u202f000' }));
  assert.equal(de('Collège Denis Poisson'), 'du Collège Denis Poisson');
  assert.equal(de('École Jules Ferry'), 'de l’École Jules Ferry');
  assert.equal(de('Cité scolaire Gambetta'), 'de la Cité scolaire Gambetta');
  assert.equal(de('Lycée Arago'), 'du Lycée Arago');
  assert.equal(de('Arthur Martin'), 'd’Arthur Martin');
  assert.equal(de('Jean Moulin'), 'de Jean Moulin');
  assert.equal(t('fr', 'user.block.question', { name: 'Arthur Martin', login: 'a.m' }), 'Bloquer le compte d’Arthur Martin (a.m) ?');
  assert.equal(t('fr', 'console.nav.label', { school: 'Collège Denis Poisson' }), 'Sections du Collège Denis Poisson');
});

test('favicon is served; the start log mentions SMTP and warns without TROUSSEAU_PUBLIC_URL', async () => {
  const icon = await app.inject({ method: 'GET', url: '/favicon.ico' });
  assert.equal(icon.statusCode, 200);
  assert.match(String(icon.headers['content-type']), /image\/svg\+xml/);
  const key = '11'.repeat(32);
  const withSmtp = startupMessages(loadConfig({ TROUSSEAU_SECRET: key, SMTP_URL: 'smtp://ent:secret@mail.example.fr:587', TROUSSEAU_PUBLIC_URL: 'https://ent.example.fr' }));
  assert.deepEqual(withSmtp.map((m) => m.level), ['info', 'info']);
  assert.match(withSmtp[1].text, /Courriels envoyés par smtp:\/\/ent:\*\*\*@mail\.example\.fr:587/);
  assert.doesNotMatch(withSmtp[1].text, /secret/);
  const bare = startupMessages(loadConfig({ TROUSSEAU_SECRET: key, PORT: '3000' }));
  assert.ok(bare.some((m) => m.level === 'warn' && /SMTP_URL absent/.test(m.text)));
  assert.ok(bare.some((m) => m.level === 'warn' && /TROUSSEAU_PUBLIC_URL absent.*http:\/\/localhost:3000/.test(m.text)));
});

test('a value ending with a full stop (a school named « …AIX_MARS. ») takes the place of the sentence\'s own: no « .. »', async () => {
  assert.equal(t('fr', 'run.meta', { date: '01/12/2026', actor: 'Z.REMP-OUEST 13-AIX_MARS.' }), 'Lancé le 01/12/2026 par Z.REMP-OUEST 13-AIX_MARS.');
  assert.equal(t('fr', 'run.meta', { date: '01/12/2026', actor: 'Claire Martin' }), 'Lancé le 01/12/2026 par Claire Martin.');
  const { fillTemplate } = await import('../src/lib/errors.js');
  assert.equal(fillTemplate('Appliquer cet import à {name}.', { name: 'CLG MOULIN.' }), 'Appliquer cet import à CLG MOULIN.');
  assert.equal(fillTemplate('{a}.{b}', { a: 'x.', b: 'y' }), 'x..y', 'a full stop inside a word is not a sentence\'s');
});

test('the class view\'s mail confirmation warns when ticked accounts share an address, as the console\'s does', async () => {
  const a = await insertUser(ctx.database.pool, { firstName: 'Noa', lastName: 'Partage', email: 'Famille.Partage@example.fr', structureIds: [school], classIds: [cls] });
  const b = await insertUser(ctx.database.pool, { firstName: 'Eli', lastName: 'Partage', email: 'famille.partage@example.fr ', structureIds: [school], classIds: [cls] });
  const c = await insertUser(ctx.database.pool, { firstName: 'Sam', lastName: 'Seul', email: 'sam@example.fr', structureIds: [school], classIds: [cls] });
  const res = await admin.post(`/classe/${cls}/eleves`, { ids: [a, b, c], action: 'mail' });
  assert.equal(res.statusCode, 200);
  assert.match(res.body, /data-shared-addresses>Attention : une même adresse recevrait les codes de plusieurs comptes, un courriel par compte : famille\.partage@example\.fr \(2 comptes\)\./);
  assert.doesNotMatch(res.body, /sam@example\.fr \(/);
  const one = await admin.post(`/classe/${cls}/eleves`, { ids: [a, c], action: 'mail' });
  assert.doesNotMatch(one.body, /data-shared-addresses/);
});

test('a form field of another type (a JSON body) is a 400 naming it in the caller’s language, not a 500', async () => {
  // The console's forms read some fields inside the handler (ModelQuery.parse(req.body)): a JSON body giving a number
  // threw zod's error past the error handler, which answered 500 « erreur inattendue » and logged a stack.
  await admin.get(`${base()}/publipostage`);
  for (const lang of ['fr', 'en'] as const) {
    const r = await app.inject({
      method: 'POST',
      url: `${base()}/publipostage/pdf?lang=${lang}`,
      headers: { cookie: [...admin.cookies].map(([k, v]) => `${k}=${v}`).join('; '), 'content-type': 'application/json', 'x-csrf-token': admin.csrf! },
      payload: JSON.stringify({ model: 8 }),
    });
    assert.equal(r.statusCode, 400, `a number for « model » is refused (${r.statusCode}, ${lang})`);
    const said = lang === 'fr' ? 'Paramètre « model » invalide : texte attendu.' : 'Invalid parameter “model”: text expected.';
    assert.ok(r.body.includes(said), `the page says why in ${lang}: ${r.body.slice(0, 600)}`);
  }
});

test('a console download with a wrong filter says why, as the API does, not just the value typed', async () => {
  // strict() named the field and echoed the value (« Paramètre « activation » invalide : peut-etre »), where the API
  // says the possible values or that the date is impossible.
  await admin.get(`${base()}/publipostage`);
  const cases: Array<[Record<string, string>, string, string]> = [
    [{ activation: 'peut-etre' }, 'Paramètre « activation » invalide : valeurs possibles : all, active, inactive.', 'Invalid parameter “activation”: possible values: all, active, inactive.'],
    [{ createdBefore: '2026-02-30' }, 'Paramètre « createdBefore » invalide : date impossible.', 'Invalid parameter “createdBefore”: impossible date.'],
    [{ distributedBefore: '0' }, 'Paramètre « distributedBefore » invalide : 1 au moins.', 'Invalid parameter “distributedBefore”: at least 1.'],
  ];
  for (const [form, fr, en] of cases) {
    for (const [lang, said] of [['fr', fr], ['en', en]] as const) {
      const r = await admin.post(`${base()}/publipostage/csv?lang=${lang}`, form);
      assert.equal(r.statusCode, 400, `${JSON.stringify(form)} is refused (${lang})`);
      assert.ok(r.body.includes(said), `${JSON.stringify(form)}: the page says why in ${lang}: ${/<p[^>]*>[^<]*invali[^<]*/i.exec(r.body)?.[0]}`);
    }
  }
});
