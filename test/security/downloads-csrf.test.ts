// Downloads that issue codes (PDF, CSV, Word CSV, ZIP, Word letters) are POSTs with the CSRF token: a GET — a
// cross-site link, the session cookie being SameSite=Lax — only shows a confirmation page and changes nothing;
// a POST without the token is refused; the confirmation page's button does download.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import type { FastifyInstance } from 'fastify';
import { buildServer } from '../../src/web/server.js';
import { testContext } from '../helpers/db.js';
import { makeDocx } from '../helpers/docx.js';
import { insertSample, type Sample } from '../helpers/sample.js';
import { sideEffects } from '../helpers/side-effects.js';
import { type Client, signedInClient } from '../helpers/web.js';

let ctx: Awaited<ReturnType<typeof testContext>>;
let s: Sample;
let app: FastifyInstance;
let marc: Client;
let pp: string;
let tid: string;

before(async () => {
  ctx = await testContext();
  s = await insertSample(ctx);
  app = await buildServer(ctx);
  marc = await signedInClient(app, ctx.database.pool, s.users.marc);
  pp = `/console/etablissements/${s.structures.S1}/publipostage`;
  const { rows } = await ctx.database.pool.query(
    `INSERT INTO docx_templates (structure_id, name, content, fields) VALUES ($1, 'Lettre', $2, '{prenom}') RETURNING id`,
    [s.structures.S1, makeDocx(['Bonjour {prenom}'])],
  );
  tid = rows[0].id;
});
after(async () => {
  await app.close();
  await ctx.close();
});

const urls = () => ['pdf', 'csv', 'word', 'zip', `lettres/${tid}/docx`].map((p) => `${pp}/${p}`);
const fields = () => ({ profiles: 'Student', classIds: s.classes['6A'] });
const query = () => new URLSearchParams(fields()).toString();

test('a GET on a download URL shows a confirmation page and issues no code, records nothing', async () => {
  const state = await sideEffects(ctx.database.pool);
  for (const url of urls()) {
    const res = await marc.get(`${url}?${query()}`);
    assert.equal(res.statusCode, 200, url);
    assert.match(String(res.headers['content-type']), /^text\/html/, url);
    assert.equal(res.headers['content-disposition'], undefined, url);
    assert.match(res.body, /<h1[^>]*>Télécharger le fichier<\/h1>/, url);
    // Its button posts the same fields, with the token, to the same URL.
    assert.match(res.body, new RegExp(`<form method="post" action="${url}"[^>]*><input type="hidden" name="_csrf" value="[^"]+">`), url);
    assert.match(res.body, new RegExp(`name="classIds" value="${s.classes['6A']}"`), url);
  }
  assert.equal(await sideEffects(ctx.database.pool), state);
});

test('a POST without the CSRF token (a cross-site form) is refused and changes nothing', async () => {
  const state = await sideEffects(ctx.database.pool);
  for (const url of urls()) {
    const res = await marc.post(url, fields(), { csrf: false });
    assert.equal(res.statusCode, 403, url);
    const forged = await marc.post(url, { ...fields(), _csrf: 'x'.repeat(43) });
    assert.equal(forged.statusCode, 403, url);
  }
  assert.equal(await sideEffects(ctx.database.pool), state);
});

test('the confirmation page’s form downloads, and so does the token in the action’s query (the publipostage buttons)', async () => {
  const page = await marc.get(`${pp}/pdf?${query()}&model=8`);
  const form = /<form method="post" action="([^"]+)"[^>]*>(.*?)<\/form>/s.exec(page.body)!;
  const posted = Object.fromEntries([...form[2].matchAll(/<input type="hidden" name="([^"]+)" value="([^"]*)">/g)].map((m) => [m[1], m[2]]));
  const res = await marc.post(form[1], posted);
  assert.equal(res.statusCode, 200);
  assert.equal(res.headers['content-type'], 'application/pdf');
  assert.equal(res.headers['x-account-count'], '2');
  // The screen's launch buttons carry the token in their formaction: a form post of the filters alone.
  const screen = await marc.get(`${pp}?profiles=Student`);
  const action = /formaction="([^"]+\/csv\?_csrf=[^"]+)"/.exec(screen.body)![1].replace(/&amp;/g, '&');
  const csv = await marc.post(action, fields(), { csrf: false });
  assert.equal(csv.statusCode, 200);
  assert.match(String(csv.headers['content-type']), /^text\/csv/);
  assert.match(screen.body, /formmethod="post" formaction="[^"]+\/zip\?_csrf=/);
});

test('the error page of a download posted with the token in its URL does not copy the token into its links', async () => {
  const screen = await marc.get(`${pp}?profiles=Student`);
  const action = /formaction="([^"]+\/pdf\?_csrf=[^"]+)"/.exec(screen.body)![1].replace(/&amp;/g, '&');
  // No account matches: 422, an HTML page with the language switch.
  const res = await marc.post(action, { profiles: 'Student', search: 'personne-de-ce-nom' }, { csrf: false });
  assert.equal(res.statusCode, 422);
  assert.match(res.body, /lang=en/);
  assert.doesNotMatch(res.body.replace(/<input type="hidden" name="_csrf"[^>]*>/g, ''), /_csrf=/);
});
