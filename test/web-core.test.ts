// Web core through HTTP: layout and i18n, CSRF, sessions (sign-in/out, blocking), guards, scope.
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { after, before, test } from 'node:test';
import type { FastifyInstance } from 'fastify';
import { endSignIns } from '../src/accounts/signins.js';
import { canSeeUser, loadUser, scopeOf } from '../src/web/auth.js';
import { answerJson, guard, viewer } from '../src/web/context.js';
import { escapeHtml, html, raw } from '../src/web/html.js';
import { account } from '../src/web/i18n/account.js';
import { common } from '../src/web/i18n/common.js';
import { classe } from '../src/web/i18n/classe.js';
import { consoleCatalogue } from '../src/web/i18n/console.js';
import { errorsCatalogue } from '../src/web/i18n/errors.js';
import { rulesCatalogue } from '../src/web/i18n/rules.js';
import { tokensCatalogue } from '../src/web/i18n/tokens.js';
import { distributionCatalogue } from '../src/web/i18n/distribution.js';
import { federationCatalogue } from '../src/web/i18n/federation.js';
import { handoutCatalogue } from '../src/web/i18n/handout.js';
import { importErrorsCatalogue } from '../src/web/i18n/import-errors.js';
import { oidcCatalogue } from '../src/web/i18n/oidc.js';
import { plural, t, type MessageKey } from '../src/web/i18n/index.js';
import { buildServer } from '../src/web/server.js';
import { testContext } from './helpers/db.js';
import { Client, createUser } from './helpers/web.js';

let ctx: Awaited<ReturnType<typeof testContext>>;
let app: FastifyInstance;
const PASSWORD = 'correct horse battery';

before(async () => {
  ctx = await testContext();
  app = await buildServer(ctx);
  // Guarded areas as another plugin would declare them.
  await app.register(async (api) => {
    answerJson(api);
    api.get('/admin', { preValidation: guard('localadmin') }, async (req) => ({ scope: viewer(req).scope }));
    api.post('/echo', { preValidation: guard() }, async () => ({ ok: true }));
  }, { prefix: '/api/test' });
  await app.register(async (pages) => {
    pages.addHook('preValidation', guard('teacher'));
    pages.get('/teacher', async () => 'ok');
  }, { prefix: '/test' });
});

after(async () => {
  await app.close();
  await ctx.close();
});

test('html`` escapes interpolations, keeps nested fragments and raw(), joins arrays', () => {
  const name = '<script>alert("x")</script> & \'co\'';
  assert.equal(html`<p title="${name}">${name}</p>`.value,
    '<p title="&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &amp; &#39;co&#39;">&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &amp; &#39;co&#39;</p>');
  assert.equal(html`<ul>${['a<', 'b'].map((x) => html`<li>${x}</li>`)}</ul>`.value, '<ul><li>a&lt;</li><li>b</li></ul>');
  assert.equal(html`${raw('<b>ok</b>')}${null}${undefined}${false}${0}`.value, '<b>ok</b>0');
  assert.equal(escapeHtml('=CMD()'), '=CMD()');
});

test('i18n: French first, English complete for the core and account catalogues, French fallback', () => {
  for (const c of [common, account]) {
    assert.deepEqual(Object.keys(c.en).sort(), Object.keys(c.fr).sort());
  }
  assert.equal(t('fr', 'login.title'), 'Connexion');
  assert.equal(t('en', 'login.title'), 'Sign in');
  // Plurals by Intl.PluralRules, never "minute(s)": French reads 0 and 1 as singular, English only 1.
  assert.equal(plural('fr', 'error.rateLimited', 3), 'Trop de tentatives, réessayez dans 3 minutes.');
  assert.equal(plural('fr', 'error.rateLimited', 1), 'Trop de tentatives, réessayez dans 1 minute.');
  assert.equal(plural('en', 'error.rateLimitedSeconds', 1), 'Too many attempts, try again in 1 second.');
  // The console home's activation bar: « 0 / 1 élève », not « élèves ».
  assert.equal(plural('fr', 'home.chart.value', 1, { activated: '0', rate: '0 %' }), '0 / 1 élève (0 %)');
  assert.equal(plural('fr', 'home.chart.value', 2500, { activated: '12', rate: '0 %' }), '12 / 2\u202f500 élèves (0 %)');
  assert.equal(plural('en', 'error.rateLimitedSeconds', 0), 'Too many attempts, try again in 0 seconds.');
  assert.equal(plural('fr', 'classe.count', 0), '0 compte sélectionné');
  const every = [common, account, classe, consoleCatalogue, errorsCatalogue, rulesCatalogue, tokensCatalogue, distributionCatalogue, federationCatalogue, handoutCatalogue, importErrorsCatalogue, oidcCatalogue];
  for (const c of every) {
    for (const text of [...Object.values(c.fr), ...Object.values(c.en)]) assert.doesNotMatch(text, /\p{L}\(s\)/u, text);
  }
  assert.equal(t('en', 'no.such.key' as MessageKey), 'no.such.key');
});

test('pages: French layout, FR | EN switch kept in a cookie, Accept-Language, stylesheet, security headers', async () => {
  const c = new Client(app);
  const fr = await c.get('/connexion');
  assert.equal(fr.statusCode, 200);
  assert.match(fr.headers['content-type'] as string, /text\/html; charset=utf-8/);
  assert.match(fr.body, /<html lang="fr">/);
  assert.match(fr.body, /<meta name="viewport"/);
  assert.match(fr.body, /<strong aria-current="true"><span aria-hidden="true">FR<\/span><span class="visually-hidden">Français<\/span><\/strong> <span aria-hidden="true">\|<\/span> <a href="\/connexion\?lang=en"/);
  assert.match(fr.body, /<h1>Connexion<\/h1>/);
  assert.match(fr.headers['content-security-policy'] as string, /frame-ancestors 'none'/);
  assert.equal(fr.headers['x-content-type-options'], 'nosniff');

  const en = await c.get('/connexion?lang=en');
  assert.match(en.body, /<html lang="en">/);
  assert.match(en.body, /<h1>Sign in<\/h1>/);
  assert.equal(c.cookies.get('lang'), 'en');
  assert.match((await c.get('/mot-de-passe-oublie')).body, /Forgotten password/, 'the choice sticks');

  const browser = new Client(app);
  assert.match((await browser.get('/connexion', { 'accept-language': 'en-GB,en;q=0.9,fr;q=0.5' })).body, /<html lang="en">/);
  assert.match((await browser.get('/connexion', { 'accept-language': 'de-DE,fr;q=0.8,en;q=0.5' })).body, /<html lang="fr">/);

  const css = await c.get('/static/app.css');
  assert.equal(css.statusCode, 200);
  assert.match(css.headers['content-type'] as string, /text\/css/);
  assert.match(css.body, /@media \(max-width/);
  assert.equal((await c.get('/static/..%2Fauth.ts')).statusCode, 404);
  const missing = await new Client(app).get('/nulle-part');
  assert.equal(missing.statusCode, 404);
  assert.match(missing.body, /Page introuvable/);
});

test('CSRF: a mutation without the token, or with another one, is refused with 403 in French', async () => {
  const c = new Client(app);
  await c.get('/connexion');
  const none = await c.post('/connexion', { login: 'x', password: 'y' }, { csrf: false });
  assert.equal(none.statusCode, 403);
  assert.match(none.body, /Jeton de sécurité absent ou invalide/);
  const forged = await c.post('/connexion', { login: 'x', password: 'y', _csrf: 'A'.repeat(43) });
  assert.equal(forged.statusCode, 403);
  // Another visitor's token (double-submit cookie) does not fit this visitor's cookie.
  const other = new Client(app);
  await other.get('/connexion');
  assert.equal((await c.post('/connexion', { login: 'x', password: 'y', _csrf: other.csrf! })).statusCode, 403);
  assert.equal((await c.post('/connexion', { login: 'x', password: 'y' })).statusCode, 401, 'with its own token the form is processed');
});

test('sign-in, session cookie, sign-out; the session row holds only a hash', async () => {
  const id = await createUser(ctx.database.pool, { login: 'claire.dupont', firstName: 'Claire', lastName: 'Dupont', password: PASSWORD });
  const c = new Client(app);
  const wrong = await c.signIn('claire.dupont', 'not the password');
  assert.equal(wrong.statusCode, 401);
  assert.match(wrong.body, /Identifiant ou mot de passe incorrect/);
  assert.match(wrong.body, /value="claire.dupont"/, 'the login is kept');

  const ok = await c.signIn('Claire.Dupont ', PASSWORD);
  assert.equal(ok.statusCode, 303);
  assert.equal(ok.headers.location, '/');
  const setCookie = ([] as string[]).concat(ok.headers['set-cookie'] as string[]).find((s) => s.startsWith('trousseau_sid='))!;
  assert.match(setCookie, /HttpOnly/);
  assert.match(setCookie, /SameSite=Lax/);
  assert.match(setCookie, /Secure/);
  assert.match(setCookie, /Path=\//);
  const token = c.cookies.get('trousseau_sid')!;
  const { rows } = await ctx.database.pool.query('SELECT id_hash, expires_at - created_at AS ttl FROM sessions WHERE user_id = $1', [id]);
  assert.equal(rows.length, 1);
  assert.equal(rows[0].id_hash, createHash('sha256').update(token).digest('hex'));
  assert.equal(rows[0].ttl.hours, 8);

  const page = await c.get('/mon-compte');
  assert.equal(page.statusCode, 200);
  assert.match(page.body, /Claire Dupont/);
  assert.match(page.body, /Se déconnecter/);

  assert.equal((await c.post('/deconnexion', {}, { csrf: false })).statusCode, 403, 'sign-out needs the token too');
  const out = await c.post('/deconnexion', {});
  assert.equal(out.statusCode, 303);
  assert.equal(out.headers.location, '/connexion?bye=1');
  assert.equal((await ctx.database.pool.query('SELECT 1 FROM sessions WHERE user_id = $1', [id])).rowCount, 0);
  const again = await c.get('/mon-compte');
  assert.equal(again.statusCode, 303);
  assert.equal(again.headers.location, '/connexion?next=%2Fmon-compte');
});

test('next: same-site paths only', async () => {
  await createUser(ctx.database.pool, { login: 'next.user', password: PASSWORD });
  for (const [next, expected] of [['/conditions?x=1', '/conditions?x=1'], ['//evil.example', '/'], ['https://evil.example/', '/'], ['/\\evil.example', '/']]) {
    const c = new Client(app);
    await c.get(`/connexion?next=${encodeURIComponent(next)}`);
    const r = await c.post('/connexion', { login: 'next.user', password: PASSWORD, next });
    assert.equal(r.headers.location, expected, next);
  }
});

test('blocked and pre-deleted accounts cannot sign in; blocking ends live sessions', async () => {
  const pool = ctx.database.pool;
  await createUser(pool, { login: 'bloque', password: PASSWORD, blocked: true });
  const b = await new Client(app).signIn('bloque', PASSWORD);
  assert.equal(b.statusCode, 401);
  assert.match(b.body, /Ce compte est bloqué/);
  assert.match((await new Client(app).signIn('bloque', 'wrong password!')).body, /Identifiant ou mot de passe incorrect/, 'blocked is told only with the right password');

  const gone = await createUser(pool, { login: 'presupprime', password: PASSWORD });
  await pool.query('UPDATE users SET pre_deleted_at = now() WHERE id = $1', [gone]);
  assert.match((await new Client(app).signIn('presupprime', PASSWORD)).body, /Identifiant ou mot de passe incorrect/);

  const id = await createUser(pool, { login: 'bientot.bloque', password: PASSWORD });
  const c1 = new Client(app);
  const c2 = new Client(app);
  await c1.signIn('bientot.bloque', PASSWORD);
  await c2.signIn('bientot.bloque', PASSWORD);
  await pool.query('UPDATE users SET blocked = true WHERE id = $1', [id]);
  assert.equal((await c1.get('/mon-compte')).statusCode, 303, 'a blocked user has no session even before rows are purged');
  assert.equal(await endSignIns(pool, id), 2);
  assert.equal((await pool.query('SELECT 1 FROM sessions WHERE user_id = $1', [id])).rowCount, 0);
});

test('guards: 401 JSON for the API, redirect for pages, 403 without the role; header token for API mutations', async () => {
  const pool = ctx.database.pool;
  const anon = new Client(app);
  const api = await anon.get('/api/test/admin');
  assert.equal(api.statusCode, 401);
  assert.match(api.json().error, /Vous devez vous connecter/);
  const page = await anon.get('/test/teacher?x=1');
  assert.equal(page.statusCode, 303);
  assert.equal(page.headers.location, '/connexion?next=%2Ftest%2Fteacher%3Fx%3D1');

  await createUser(pool, { login: 'simple.usager', password: PASSWORD, profile: 'Relative' });
  const user = new Client(app);
  await user.signIn('simple.usager', PASSWORD);
  const forbidden = await user.get('/api/test/admin');
  assert.equal(forbidden.statusCode, 403);
  assert.match(forbidden.json().error, /droits nécessaires/);
  const forbiddenPage = await user.get('/test/teacher');
  assert.equal(forbiddenPage.statusCode, 403);
  assert.match(forbiddenPage.body, /droits nécessaires/);

  // JSON mutations carry the session's token in x-csrf-token.
  await user.get('/mon-compte');
  const noToken = await app.inject({ method: 'POST', url: '/api/test/echo', headers: { cookie: `trousseau_sid=${user.cookies.get('trousseau_sid')}` }, payload: {} });
  assert.equal(noToken.statusCode, 403);
  assert.match(noToken.json().error, /Jeton de sécurité/);
  const withToken = await app.inject({
    method: 'POST', url: '/api/test/echo', payload: {},
    headers: { cookie: `trousseau_sid=${user.cookies.get('trousseau_sid')}`, 'x-csrf-token': user.csrf! },
  });
  assert.equal(withToken.statusCode, 200);

  const s = await pool.query(`INSERT INTO structures (name) VALUES ('Collège Jean Moulin') RETURNING id`);
  const adminId = await createUser(pool, { login: 'admin.local', password: PASSWORD });
  await pool.query('INSERT INTO local_admins (user_id, structure_id) VALUES ($1, $2)', [adminId, s.rows[0].id]);
  const admin = new Client(app);
  await admin.signIn('admin.local', PASSWORD);
  const okAdmin = await admin.get('/api/test/admin');
  assert.equal(okAdmin.statusCode, 200);
  assert.deepEqual(okAdmin.json().scope, { kind: 'structures', structureIds: [s.rows[0].id], userId: adminId });

  await createUser(pool, { login: 'super.admin', password: PASSWORD, superAdmin: true });
  const sup = new Client(app);
  await sup.signIn('super.admin', PASSWORD);
  const okSuper = await sup.get('/api/test/admin');
  assert.equal(okSuper.statusCode, 200, 'a super admin holds the local-admin role');
  assert.deepEqual(okSuper.json().scope, { kind: 'all' });

  // "/" is each one's home: the console for admins, the class view for teachers, the account otherwise.
  await createUser(pool, { login: 'prof.home', password: PASSWORD, profile: 'Teacher' });
  const teacher = new Client(app);
  await teacher.signIn('prof.home', PASSWORD);
  for (const [c, home] of [[anon, '/connexion'], [user, '/mon-compte'], [teacher, '/classe'], [admin, '/console'], [sup, '/console']] as const) {
    assert.equal((await c.get('/')).headers.location, home);
  }
});

test('roles, scope and canSeeUser over a small school', async () => {
  const pool = ctx.database.pool;
  const q = async (sql: string, p: unknown[] = []) => (await pool.query(sql, p)).rows;
  const [a] = await q(`INSERT INTO structures (name) VALUES ('École A') RETURNING id`);
  const [b] = await q(`INSERT INTO structures (name) VALUES ('École B') RETURNING id`);
  const [cm1] = await q(`INSERT INTO classes (structure_id, name) VALUES ($1, 'CM1') RETURNING id`, [a.id]);
  const [cm2] = await q(`INSERT INTO classes (structure_id, name) VALUES ($1, 'CM2') RETURNING id`, [a.id]);
  const student = await createUser(pool, { login: 'eleve.a', profile: 'Student' });
  const other = await createUser(pool, { login: 'eleve.b', profile: 'Student' });
  const parent = await createUser(pool, { login: 'parent.a', profile: 'Relative' });
  const teacher = await createUser(pool, { login: 'prof.a', profile: 'Teacher' });
  const inB = await createUser(pool, { login: 'perso.b', profile: 'Personnel' });
  const root = await createUser(pool, { login: 'racine', superAdmin: true });
  const admin = await createUser(pool, { login: 'admin.a' });
  for (const u of [student, other, parent, teacher, root]) await q('INSERT INTO user_structures VALUES ($1, $2)', [u, a.id]);
  await q('INSERT INTO user_structures VALUES ($1, $2)', [inB, b.id]);
  await q('INSERT INTO user_classes VALUES ($1, $2)', [student, cm1.id]);
  await q('INSERT INTO user_classes VALUES ($1, $2)', [other, cm2.id]);
  await q('INSERT INTO user_classes VALUES ($1, $2)', [teacher, cm1.id]);
  await q('INSERT INTO relations VALUES ($1, $2)', [parent, student]);
  await q('INSERT INTO local_admins VALUES ($1, $2)', [admin, a.id]);

  const t1 = (await loadUser(pool, teacher))!;
  assert.deepEqual(t1.roles, ['teacher', 'user']);
  assert.deepEqual(t1.teacherOf, [cm1.id]);
  assert.deepEqual(scopeOf(t1), { kind: 'classes', classIds: [cm1.id] });
  assert.equal(await canSeeUser(pool, t1, student), true);
  assert.equal(await canSeeUser(pool, t1, parent), true, "a student's parent");
  assert.equal(await canSeeUser(pool, t1, other), false, 'another class');
  assert.equal(await canSeeUser(pool, t1, inB), false);

  const ad = (await loadUser(pool, admin))!;
  assert.deepEqual(ad.roles, ['localadmin', 'user']);
  assert.deepEqual(scopeOf(ad), { kind: 'structures', structureIds: [a.id], userId: admin }, 'its own account: manageableSql');
  for (const u of [student, other, parent, teacher]) assert.equal(await canSeeUser(pool, ad, u), true);
  assert.equal(await canSeeUser(pool, ad, inB), false, 'another structure');
  assert.equal(await canSeeUser(pool, ad, root), false, 'never a super admin');

  const r = (await loadUser(pool, root))!;
  assert.deepEqual(r.roles, ['superadmin', 'localadmin', 'user']);
  assert.deepEqual(new Set(r.adminOf), new Set((await q('SELECT id FROM structures')).map((x) => x.id)));
  assert.equal(await canSeeUser(pool, r, inB), true);

  const p = (await loadUser(pool, parent))!;
  assert.deepEqual(scopeOf(p), { kind: 'self', userId: parent });
  assert.equal(await canSeeUser(pool, p, parent), true);
  assert.equal(await canSeeUser(pool, p, student), false);
});
