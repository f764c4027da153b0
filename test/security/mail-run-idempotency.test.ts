// Finding: two overlapping mail runs, or a repeated submit of the "Envoyer par mail" confirmation, issued codes
// that overwrote each other (627 parents got two mails, one code dead in each). Now the confirmation forms
// (console publipostage, class view) carry an idempotency key, a selection has one run at a time, and a run
// never stores a fresh code over one another run has just mailed.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import type { FastifyInstance } from 'fastify';
import { normalizeCode } from '../../src/accounts/codes.js';
import { startMailMerge } from '../../src/mail/merge.js';
import { startMailWorker, type MailWorker } from '../../src/mail/worker.js';
import { SelectionSchema } from '../../src/publipostage/selection.js';
import { buildServer } from '../../src/web/server.js';
import { testContext } from '../helpers/db.js';
import { startTestSmtp, waitFor, type TestSmtp } from '../helpers/smtp.js';
import { Client, createInactiveUser, createUser } from '../helpers/web.js';

const PASSWORD = 'Publipostage-Grenadine-Orme-5';
const GROUPED_CODE = /\b([0-9A-Z]{4}-[0-9A-Z]{4}-[0-9A-Z]{2})\b/;
let smtp: TestSmtp;
let ctx: Awaited<ReturnType<typeof testContext>>;
let app: FastifyInstance;
let worker: MailWorker | undefined;
let school: string;
let cls: string;
const parents: Array<{ login: string; email: string }> = [];
const pupils: Array<{ id: string; login: string; email: string }> = [];

const q = async (sql: string, params: unknown[] = []) => (await ctx.database.pool.query(sql, params)).rows;

before(async () => {
  smtp = await startTestSmtp();
  ctx = await testContext({ SMTP_URL: smtp.url });
  app = await buildServer(ctx);
  const pool = ctx.database.pool;
  [{ id: school }] = await q(`INSERT INTO structures (uai, name) VALUES ('0750101A', 'Collège Paul Bert') RETURNING id`);
  [{ id: cls }] = await q(`INSERT INTO classes (structure_id, name) VALUES ($1, '4e B') RETURNING id`, [school]);
  await createUser(pool, { login: 'admin', password: PASSWORD, superAdmin: true, firstName: 'Admin', lastName: 'ENT' });
  const teacher = await createUser(pool, { login: 'paul.prof', password: PASSWORD, profile: 'Teacher' });
  await q('INSERT INTO user_structures (user_id, structure_id) VALUES ($1, $2)', [teacher, school]);
  await q('INSERT INTO user_classes (user_id, class_id) VALUES ($1, $2)', [teacher, cls]);
  // Parents: no code yet, an expired code, a valid code. The first two get a fresh code with their mail.
  for (let i = 0; i < 9; i++) {
    const login = `parent.${i}`;
    const email = `parent${i}@example.fr`;
    let id: string;
    if (i % 3 === 0) id = await createUser(pool, { login, email, profile: 'Relative', firstName: `Parent${i}` });
    else id = (await createInactiveUser(pool, ctx.secrets, { login, email, profile: 'Relative', firstName: `Parent${i}`, days: i % 3 === 1 ? -1 : 90 })).id;
    await q('INSERT INTO user_structures (user_id, structure_id) VALUES ($1, $2)', [id, school]);
    parents.push({ login, email });
  }
  for (let i = 0; i < 4; i++) {
    const login = `eleve.${i}`;
    const email = `eleve${i}@example.fr`;
    const id = await createUser(pool, { login, email, profile: 'Student', firstName: `Eleve${i}` });
    await q('INSERT INTO user_structures (user_id, structure_id) VALUES ($1, $2)', [id, school]);
    await q('INSERT INTO user_classes (user_id, class_id) VALUES ($1, $2)', [id, cls]);
    pupils.push({ id, login, email });
  }
});

after(async () => {
  await worker?.stop();
  await app?.close();
  await ctx?.close();
  await smtp?.close();
});

const hidden = (body: string, name: string): string => {
  const m = new RegExp(`name="${name}" value="([^"]*)"`).exec(body);
  assert.ok(m, `hidden field ${name}`);
  return m[1].replace(/&amp;/g, '&');
};

/** Sends what is queued and checks that each address got exactly one mail whose code opens its account. */
async function deliveredOnceWithWorkingCode(people: Array<{ login: string; email: string }>): Promise<void> {
  worker ??= startMailWorker(ctx, { pollMs: 50, log: () => {} });
  worker.wake();
  await waitFor('every mail sent', async () => (await q(`SELECT 1 FROM mail_jobs WHERE status IN ('pending', 'sending')`)).length === 0);
  for (const p of people) {
    const mails = smtp.to(p.email);
    assert.equal(mails.length, 1, `${p.email} got ${mails.length} mails`);
    const code = GROUPED_CODE.exec(mails[0].text ?? '')?.[1];
    assert.ok(code, `a code in the mail to ${p.email}`);
    const c = new Client(app, '198.51.100.77');
    await c.get('/activation');
    const res = await c.post('/activation', { step: 'code', login: p.login, code: normalizeCode(code)! });
    assert.equal(res.statusCode, 200, `the code mailed to ${p.login} works`);
  }
}

test('console: the confirmation submitted twice at once makes one run, one mail per person, each code working', async () => {
  const c = new Client(app, '198.51.100.50');
  assert.equal((await c.signIn('admin', PASSWORD)).statusCode, 303);
  const page = await c.get(`/console/etablissements/${school}/publipostage/envoi?profiles=Relative`);
  assert.equal(page.statusCode, 200);
  const form = { selection: hidden(page.body, 'selection'), idem: hidden(page.body, 'idem') };
  const url = `/console/etablissements/${school}/publipostage/envoi`;
  const [a, b] = await Promise.all([c.post(url, form), c.post(url, form)]);
  assert.equal(a.statusCode, 303);
  assert.equal(b.statusCode, 303);
  assert.equal(a.headers.location, b.headers.location, 'both answers lead to the same run');
  // A third submit of the same form, later: still the same run.
  assert.equal((await c.post(url, form)).headers.location, a.headers.location);
  // Another confirmation of the same selection while it still sends: the same run too.
  const again = await c.get(`/console/etablissements/${school}/publipostage/envoi?profiles=Relative`);
  assert.equal((await c.post(url, { selection: hidden(again.body, 'selection'), idem: hidden(again.body, 'idem') })).headers.location, a.headers.location);
  assert.equal((await q('SELECT count(*)::int AS n FROM mail_runs'))[0].n, 1);
  await deliveredOnceWithWorkingCode(parents);
});

test('class view: the "Envoyer par mail" confirmation submitted twice makes one run', async () => {
  const c = new Client(app, '198.51.100.51');
  assert.equal((await c.signIn('paul.prof', PASSWORD)).statusCode, 303);
  await c.get(`/classe/${cls}/eleves`);
  const post = (fields: Array<[string, string]>) => {
    const body = new URLSearchParams([['_csrf', c.csrf!], ...fields]);
    return app.inject({
      method: 'POST', url: `/classe/${cls}/eleves`, remoteAddress: c.ip,
      headers: { cookie: [...c.cookies].map(([k, v]) => `${k}=${v}`).join('; '), 'content-type': 'application/x-www-form-urlencoded' },
      payload: body.toString(),
    });
  };
  const ids = pupils.map((p) => ['ids', p.id] as [string, string]);
  const confirm = await post([...ids, ['action', 'mail']]);
  assert.equal(confirm.statusCode, 200);
  const idem = hidden(confirm.body, 'idem');
  const before = (await q('SELECT count(*)::int AS n FROM mail_runs'))[0].n;
  const [a, b] = await Promise.all([post([...ids, ['idem', idem], ['action', 'mail-send']]), post([...ids, ['idem', idem], ['action', 'mail-send']])]);
  assert.equal(a.statusCode, 303);
  assert.equal(b.statusCode, 303);
  assert.equal((await q('SELECT count(*)::int AS n FROM mail_runs'))[0].n, before + 1);
  await deliveredOnceWithWorkingCode(pupils);
});

test('two overlapping runs of different selections never kill a code the other one mailed', async () => {
  // New inactive accounts without a code, in the class and in the school: both selections take the pupils.
  const pool = ctx.database.pool;
  const fresh: Array<{ login: string; email: string }> = [];
  for (let i = 0; i < 6; i++) {
    const login = `nouvel.eleve${i}`;
    const email = `nouveau${i}@example.fr`;
    const id = await createUser(pool, { login, email, profile: 'Student' });
    await q('INSERT INTO user_structures (user_id, structure_id) VALUES ($1, $2)', [id, school]);
    await q('INSERT INTO user_classes (user_id, class_id) VALUES ($1, $2)', [id, cls]);
    fresh.push({ login, email });
  }
  const [admin] = await q(`SELECT id FROM users WHERE login = 'admin'`);
  smtp.messages.length = 0;
  const bySchool = SelectionSchema.parse({ structureId: school, profiles: ['Student'], activation: 'inactive' });
  const byClass = SelectionSchema.parse({ classIds: [cls], profiles: ['Student'], activation: 'inactive' });
  await Promise.all([startMailMerge(ctx, bySchool, { kind: 'all' }, admin.id), startMailMerge(ctx, byClass, { kind: 'all' }, admin.id)]);
  worker ??= startMailWorker(ctx, { pollMs: 50, log: () => {} });
  worker.wake();
  await waitFor('every mail sent', async () => (await q(`SELECT 1 FROM mail_jobs WHERE status IN ('pending', 'sending')`)).length === 0);
  for (const p of fresh) {
    const mails = smtp.to(p.email);
    assert.ok(mails.length >= 1, `${p.email} got a mail`);
    for (const m of mails) {
      const code = GROUPED_CODE.exec(m.text ?? '')![1];
      const c = new Client(app, '198.51.100.78');
      await c.get('/activation');
      assert.equal((await c.post('/activation', { step: 'code', login: p.login, code: normalizeCode(code)! })).statusCode, 200, `every code mailed to ${p.login} works`);
    }
  }
});
