// A parent who activated from the paper sheet and later types the same login and code on /activation (the sign-in
// page's « Activer mon compte », or the activation form sent a second time with the back button) was told
// « Identifiant ou code d'activation incorrect ou expiré… demandez un nouveau code à votre établissement »: a
// request to the school for an account that only needs signing in. The QR code's link already said « Compte déjà
// activé » for the code the account was activated with (and only that one); the typed form now says the same, any
// other code still gets the page of a wrong code.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import type { FastifyInstance } from 'fastify';
import { formatCode } from '../src/accounts/codes.js';
import { issueRenewalCode } from '../src/accounts/issue.js';
import { buildServer } from '../src/web/server.js';
import { testContext } from './helpers/db.js';
import { Client, createInactiveUser, createUser } from './helpers/web.js';

let ctx: Awaited<ReturnType<typeof testContext>>;
let app: FastifyInstance;
let usedCode = '';
const PASSWORD = 'Cheval agrafe batterie 42';

before(async () => {
  ctx = await testContext();
  app = await buildServer(ctx);
  const parent = await createInactiveUser(ctx.database.pool, ctx.secrets, { login: 'regis.faure', firstName: 'Régis', lastName: 'FAURE', profile: 'Relative' });
  usedCode = formatCode(parent.code);
  const c = new Client(app, '198.51.100.60');
  await c.get('/activation');
  assert.equal((await c.post('/activation', { step: 'code', login: 'regis.faure', code: usedCode })).statusCode, 200);
  const done = await c.post('/activation', { step: 'password', login: 'regis.faure', code: usedCode, password: PASSWORD, confirm: PASSWORD, terms: 'on', email: '', phone: '' });
  assert.equal(done.statusCode, 303);
});
after(async () => {
  await app.close();
  await ctx.close();
});

test('the code the account was activated with, typed again, leads to the sign-in form « Compte déjà activé »', async () => {
  const c = new Client(app, '198.51.100.61');
  await c.get('/activation');
  const res = await c.post('/activation', { step: 'code', login: 'Regis.Faure ', code: usedCode.toLowerCase().replaceAll('-', ' ') });
  assert.equal(res.statusCode, 303, res.body);
  assert.equal(res.headers.location, '/connexion?deja=1&login=regis.faure');
  const page = await c.get(String(res.headers.location));
  assert.match(page.body, /Compte déjà activé : connectez-vous avec votre identifiant et votre mot de passe\./);
});

test('the activation form sent a second time (back button, double click) says the account is activated', async () => {
  const c = new Client(app, '198.51.100.62');
  await c.get('/activation');
  const res = await c.post('/activation', { step: 'password', login: 'regis.faure', code: usedCode, password: PASSWORD, confirm: PASSWORD, terms: 'on', email: '', phone: '' });
  assert.equal(res.statusCode, 303, res.body);
  assert.equal(res.headers.location, '/connexion?deja=1&login=regis.faure');
});

test('any other code still gets the page of a wrong code', async () => {
  const c = new Client(app, '198.51.100.63');
  await c.get('/activation');
  const res = await c.post('/activation', { step: 'code', login: 'regis.faure', code: 'ZZZZ-ZZZZ-ZZ' });
  assert.equal(res.statusCode, 401);
  assert.match(res.body, /Identifiant ou code d’activation incorrect ou expiré/);
});

test('an activation code typed on the renewal page goes on to the activation (and a renewal code on the activation page to the renewal)', async () => {
  // The sign-in page's « Utiliser un code de renouvellement » is where a parent holding her activation sheet may land:
  // her valid code was « incorrect ou expiré… demandez un nouveau code ». The sign-in form already continued to the
  // code's own flow when a code was typed as the password.
  const newcomer = await createInactiveUser(ctx.database.pool, ctx.secrets, { login: 'severine.leroux', firstName: 'Séverine', lastName: 'LEROUX', profile: 'Relative' });
  const c = new Client(app, '198.51.100.64');
  await c.get('/renouvellement');
  const step2 = await c.post('/renouvellement', { step: 'code', login: 'severine.leroux', code: formatCode(newcomer.code) });
  assert.equal(step2.statusCode, 200, step2.body);
  assert.match(step2.body, /<title>Activation du compte — étape 2 sur 2/);
  assert.match(step2.body, /<form class="card" method="post" action="\/activation"/);
  assert.match(step2.body, /name="terms"/);

  const id = await createUser(ctx.database.pool, { login: 'karim.brun', profile: 'Relative', password: 'un ancien mot de passe oublié' });
  const renewal = issueRenewalCode(ctx.secrets);
  await ctx.database.pool.query('UPDATE users SET renewal_code_mac = $2, renewal_code_expires_at = $3 WHERE id = $1', [id, renewal.mac, renewal.expiresAt]);
  const r = new Client(app, '198.51.100.65');
  await r.get('/activation');
  const renew = await r.post('/activation', { step: 'code', login: 'karim.brun', code: formatCode(renewal.code) });
  assert.equal(renew.statusCode, 200, renew.body);
  assert.match(renew.body, /<title>Renouvellement du mot de passe — étape 2 sur 2/);
  assert.match(renew.body, /<form class="card" method="post" action="\/renouvellement"/);
});
