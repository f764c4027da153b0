// Hand-out follows the current code (migration 0041, publipostage/tracking.ts currentHandOutSql): a sheet handed out
// before « Régénérer le code d'activation » (or a renewal code) carries a dead code. The account reads as not handed
// out (« Code actuel pas encore remis », the old sheet worded as a former code's), « Relancer » offers it, the funnel
// leaves it out of « remis »; handing the new code out makes it handed out again. The history rows stay.
import assert from 'node:assert/strict';
import { after, before, beforeEach, test } from 'node:test';
import type { FastifyInstance } from 'fastify';
import { structureActivity } from '../src/directory/activity.js';
import { buildServer } from '../src/web/server.js';
import { testContext } from './helpers/db.js';
import { insertSample, type Sample } from './helpers/sample.js';
import { sessionFor, type SessionHeaders } from './helpers/web.js';

let ctx: Awaited<ReturnType<typeof testContext>>;
let s: Sample;
let app: FastifyInstance;
let marc: SessionHeaders;
let pp: string;

before(async () => {
  ctx = await testContext();
  s = await insertSample(ctx);
  marc = await sessionFor(ctx.database.pool, s.users.marc);
  app = await buildServer(ctx);
  pp = `/console/etablissements/${s.structures.S1}/publipostage`;
});
after(async () => {
  await app.close();
  await ctx.close();
});
beforeEach(async () => {
  await ctx.database.pool.query('DELETE FROM distribution_events');
});

const get = (url: string) => app.inject({ method: 'GET', url, headers: { cookie: marc.cookie } });
const post = (url: string, fields: Record<string, string> = {}) =>
  app.inject({
    method: 'POST',
    url,
    headers: { cookie: marc.cookie, 'content-type': 'application/x-www-form-urlencoded' },
    payload: new URLSearchParams({ ...fields, _csrf: marc.csrf }).toString(),
  });
const day = (d: Date) => new Intl.DateTimeFormat('fr-FR', { day: 'numeric', month: 'long', year: 'numeric', timeZone: 'Europe/Paris' }).format(d);
const reminded = async (days = 15) =>
  ((await get(`/api/publipostage/preview?structureId=${s.structures.S1}&limit=500&profiles=Student&distributedBefore=${days}`)).json().rows as Array<{ login: string }>).map((r) => r.login);
/** Zoé's hand-outs moved `days` back (as if the sheet had been given then). */
const backdate = (days: number) =>
  ctx.database.pool.query(`UPDATE distribution_events SET at = at - $2::int * interval '1 day' WHERE user_id = $1`, [s.users.zoe, days]);

test('hand out → regenerate: not handed out, to remind, worded as a former code’s sheet; hand out again → handed out', async () => {
  const pool = ctx.database.pool;
  // A sheet printed for Zoé (6A), three days ago.
  const pdf = await post(`${pp}/pdf`, { profiles: 'Student', classIds: s.classes['6A'] });
  assert.equal(pdf.statusCode, 200);
  await backdate(3);
  const given = new Date(Date.now() - 3 * 86_400_000);
  let user = await get(`/console/utilisateurs/${s.users.zoe}`);
  assert.match(user.body, new RegExp(`Fiche remise le ${day(given)}`));
  assert.ok(!(await reminded()).includes(s.logins.zoe), 'handed out 3 days ago: not yet a reminder');
  const funnelBefore = (await structureActivity(pool, s.structures.S1)).funnel.given;

  // « Régénérer le code d'activation » on her page.
  const regen = await post(`/console/utilisateurs/${s.users.zoe}/activation`, { etablissement: '' });
  assert.equal(regen.statusCode, 303);

  user = await get(`/console/utilisateurs/${s.users.zoe}`);
  assert.doesNotMatch(user.body, /Fiche remise le/);
  assert.match(user.body, /data-handed-out="former"/);
  assert.match(user.body, /Code actuel pas encore remis/);
  assert.match(user.body, new RegExp(`Fiche \\(code précédent\\) remise le ${day(given)}`));
  // The history stays: the row is still there.
  assert.equal((await pool.query('SELECT count(*)::int AS n FROM distribution_events WHERE user_id = $1', [s.users.zoe])).rows[0].n, 1);

  // « Relancer »: the family holds a dead code, whatever the date — in the console's selection and the class view.
  assert.ok((await reminded()).includes(s.logins.zoe));
  assert.ok((await reminded(30)).includes(s.logins.zoe));
  const cls = await get(`/classe/${s.classes['6A']}/eleves?relancer=1`);
  assert.match(cls.body, new RegExp(`value="${s.users.zoe}" id="sel-${s.users.zoe}" checked`));
  assert.match(cls.body, /Fiche \(code précédent\) remise le/);
  // The console's funnel no longer counts her as given.
  assert.equal((await structureActivity(pool, s.structures.S1)).funnel.given, funnelBefore - 1);

  // The new code handed out: handed out again, not to remind.
  const again = await post(`${pp}/pdf`, { profiles: 'Student', classIds: s.classes['6A'], distributedBefore: '15' });
  assert.equal(again.statusCode, 200);
  assert.ok(Number(again.headers['x-account-count']) >= 1);
  user = await get(`/console/utilisateurs/${s.users.zoe}`);
  assert.match(user.body, new RegExp(`Fiche remise le ${day(new Date())}`));
  assert.doesNotMatch(user.body, /code précédent|Code actuel pas encore remis/);
  assert.ok(!(await reminded()).includes(s.logins.zoe));
  assert.equal((await structureActivity(pool, s.structures.S1)).funnel.given, funnelBefore);
});

test('a sheet handed out with the code it prints stays handed out (fresh code and hand-out in one transaction)', async () => {
  // A code expired: the publipostage draws a fresh one as it prints, in the same transaction as the hand-out.
  await ctx.database.pool.query(`UPDATE users SET activation_code_expires_at = now() - interval '1 day' WHERE id = $1`, [s.users.zoe]);
  const pdf = await post(`${pp}/pdf`, { profiles: 'Student', classIds: s.classes['6A'] });
  assert.equal(pdf.statusCode, 200);
  const user = await get(`/console/utilisateurs/${s.users.zoe}`);
  assert.match(user.body, new RegExp(`Fiche remise le ${day(new Date())}`));
  assert.doesNotMatch(user.body, /code précédent/);
});

test('a renewal code issued after a sheet makes that sheet a former code’s', async () => {
  // Émile is active; his sheet of a week ago, then a renewal code from his page.
  const pool = ctx.database.pool;
  await pool.query(`INSERT INTO distribution_events (user_id, kind, at) VALUES ($1, 'renewal_sheet', now() - interval '7 days')`, [s.users.emile]);
  let user = await get(`/console/utilisateurs/${s.users.emile}`);
  assert.match(user.body, /Fiche remise le/);
  const r = await post(`/console/utilisateurs/${s.users.emile}/renouvellement`, { etablissement: '' });
  assert.equal(r.statusCode, 303);
  user = await get(`/console/utilisateurs/${s.users.emile}`);
  assert.doesNotMatch(user.body, /Fiche remise le/);
  assert.match(user.body, /Fiche \(code précédent\) remise le/);
});
