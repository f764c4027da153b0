// An account linked to a provider's identity from the « aucun compte » page (its password proved) is told so at its
// address: whoever else knew the password now has a way in that outlives it, and only the owner can say the link is
// not theirs. Read as the SMTP server receives it; an account without an address is linked all the same.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, test } from 'node:test';
import type { FastifyInstance } from 'fastify';
import { saveFlow } from '../src/federation/flows.js';
import { sha256 } from '../src/lib/crypto.js';
import { startMailWorker, type MailWorker } from '../src/mail/worker.js';
import { buildServer } from '../src/web/server.js';
import { testContext } from './helpers/db.js';
import { insertStructure, insertUser, relate } from './helpers/directory-sample.js';
import { educonnectAndFranceConnect } from './helpers/federation-config.js';
import { startTestSmtp, waitFor, type TestSmtp } from './helpers/smtp.js';
import { Client, createUser } from './helpers/web.js';

let ctx: Awaited<ReturnType<typeof testContext>>;
let app: FastifyInstance;
let smtp: TestSmtp;
let worker: MailWorker;
const PASSWORD = 'Un-Mot-De-Passe-2026';

before(async () => {
  smtp = await startTestSmtp();
  ctx = await testContext({ SMTP_URL: smtp.url });
  ctx.config.federation = educonnectAndFranceConnect();
  app = await buildServer(ctx);
  worker = startMailWorker(ctx, { pollMs: 20, log: () => {} });
});

after(async () => {
  await worker?.stop();
  await app?.close();
  await smtp?.close();
  await ctx?.close();
});

async function parent(email: string | null): Promise<{ id: string; login: string }> {
  const pool = ctx.database.pool;
  const s = await insertStructure(pool, `Collège ${randomBytes(3).toString('hex')}`);
  const child = await insertUser(pool, { firstName: 'Léa', lastName: 'NOM', structureIds: [s] });
  const login = `p.${randomBytes(4).toString('hex')}`;
  const id = await createUser(pool, { login, profile: 'Relative', password: PASSWORD, firstName: 'Karim', email: email ?? undefined });
  await relate(pool, id, child);
  await pool.query(`INSERT INTO federation_enabled (provider_id, structure_id, profile) VALUES ('franceconnect', $1, 'Relative')`, [s]);
  return { id, login };
}

async function link(login: string, subject: string, lang?: 'en'): Promise<number> {
  const c = new Client(app);
  await c.get(lang ? '/connexion?lang=en' : '/connexion');
  const bind = randomBytes(32).toString('base64url');
  c.cookies.set('trousseau_fed', bind);
  const token = await saveFlow(ctx.database.pool, {
    providerId: 'franceconnect', bindingHash: sha256(bind), next: '/', purpose: 'link',
    answer: {
      identity: { subject, externalIds: [], ine: null, email: null, emailVerified: false, familyName: 'X', usageName: null, givenName: 'Y', birthDate: null, uais: [], profile: null },
      session: { idToken: null, nameId: null, nameIdFormat: null, sessionIndex: null },
    },
  });
  return (await c.post('/federation/franceconnect/associer', { jeton: token, login, password: PASSWORD })).statusCode;
}

test('the account’s address is told it was linked to FranceConnect, and how to undo it', async () => {
  const p = await parent('karim.parent@example.org');
  assert.equal(await link(p.login, 'fc-notice'), 303);
  await waitFor('the notice', () => smtp.to('karim.parent@example.org').length === 1);
  const [mail] = smtp.to('karim.parent@example.org');
  assert.match(mail.subject ?? '', /Votre compte ENT est associé à FranceConnect/);
  assert.match(mail.text ?? '', new RegExp(`Le compte ${p.login.replace('.', '\\.')} vient d’être associé à FranceConnect`));
  assert.match(mail.text ?? '', /prévenez votre établissement : il peut la défaire/);
});

test('an account without an address is linked without a notice', async () => {
  const p = await parent(null);
  const before = (await ctx.database.pool.query('SELECT count(*)::int AS n FROM mail_jobs')).rows[0].n;
  assert.equal(await link(p.login, 'fc-silent'), 303);
  assert.equal((await ctx.database.pool.query('SELECT count(*)::int AS n FROM federation_links WHERE user_id = $1', [p.id])).rows[0].n, 1);
  assert.equal((await ctx.database.pool.query('SELECT count(*)::int AS n FROM mail_jobs')).rows[0].n, before);
});
