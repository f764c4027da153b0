// Security review: a school's .docx letter model could link to things outside itself — a linked image (`r:link`), an
// OLE object, an attached template, a frame or a subdocument (relationships with TargetMode="External"), an
// INCLUDEPICTURE or INCLUDETEXT field. With LibreOffice installed, converting the letters to PDF made the server
// fetch them: http://169.254.169.254/… (the hosting's metadata), file:///etc/passwd (into the letters the admin
// downloads). Such a model is now refused at upload (400 naming the file and the part) and again before conversion;
// ordinary hyperlinks stay allowed (LibreOffice never fetches them). soffice is not installed here: the tests show the
// refusal, and that a stand-in soffice on PATH is never run for such letters.
import assert from 'node:assert/strict';
import { chmodSync, existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import type { FastifyInstance } from 'fastify';
import { DomainError } from '../../src/lib/errors.js';
import { docxToPdf, inspectDocxTemplate } from '../../src/publipostage/docx.js';
import { buildServer } from '../../src/web/server.js';
import { testContext } from '../helpers/db.js';
import { docxWith, makeDocx, REL } from '../helpers/docx.js';
import { insertSample, type Sample } from '../helpers/sample.js';
import { multipart, sessionFor, type SessionHeaders } from '../helpers/web.js';

let ctx: Awaited<ReturnType<typeof testContext>>;
let s: Sample;
let app: FastifyInstance;
let marc: SessionHeaders;
let pp: string;
/** A stand-in soffice (a shell script) that leaves a mark when it runs and writes a PDF where soffice would. */
let fakeDir: string;
let fakeSoffice: string;
let ranMark: string;
const savedPath = process.env.PATH;

before(async () => {
  ctx = await testContext({ TROUSSEAU_PUBLIC_URL: 'https://ent.example.fr' });
  s = await insertSample(ctx);
  marc = await sessionFor(ctx.database.pool, s.users.marc);
  app = await buildServer(ctx);
  pp = `/console/etablissements/${s.structures.S1}/publipostage`;
  fakeDir = mkdtempSync(join(tmpdir(), 'fake-soffice-'));
  fakeSoffice = join(fakeDir, 'soffice');
  ranMark = join(fakeDir, 'ran');
  writeFileSync(fakeSoffice, `#!/bin/sh\ntouch '${ranMark}'\nfor last; do :; done\nprintf '%%PDF-1.4 fake' > "$(dirname "$last")/lettres.pdf"\n`);
  chmodSync(fakeSoffice, 0o755);
});
after(async () => {
  process.env.PATH = savedPath;
  rmSync(fakeDir, { recursive: true, force: true });
  await app.close();
  await ctx.close();
});

/** A valid model ({prenom}) with `rels` added to word/_rels/document.xml.rels, `body` to its body, `parts` added. */
const hostile = (o: { rels?: string; body?: string; parts?: Record<string, string> }): Buffer => docxWith({ ...o, text: 'Bonjour {prenom}' });

const relsPart = (xml: string) => `<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">${xml}</Relationships>`;

/** The hostile models: file name, content, and the message the page must show. */
const CASES: Array<{ what: string; file: string; docx: Buffer; message: RegExp }> = [
  {
    what: 'a linked image (r:link) to the metadata service',
    file: 'lettre.docx',
    docx: hostile({ rels: `<Relationship Id="rId9" Type="${REL}/image" Target="http://169.254.169.254/latest/meta-data/iam/" TargetMode="External"/>` }),
    message: /Le modèle lettre\.docx contient une image liée à une adresse extérieure \(word\/_rels\/document\.xml\.rels\) : incorporez l’image dans le document\./,
  },
  {
    what: 'an OLE object reading a local file',
    file: 'objet.docx',
    docx: hostile({ rels: `<Relationship Id="rId9" Type="${REL}/oleObject" Target="file:///etc/passwd" TargetMode="External"/>` }),
    message: /Le modèle objet\.docx contient un contenu lié à une adresse extérieure \(word\/_rels\/document\.xml\.rels\)/,
  },
  {
    what: 'an attached template (settings.xml.rels)',
    file: 'modele-attache.docx',
    docx: hostile({
      parts: {
        'word/settings.xml': `<?xml version="1.0"?><w:settings xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main" xmlns:r="${REL}"><w:attachedTemplate r:id="rId1"/></w:settings>`,
        'word/_rels/settings.xml.rels': relsPart(`<Relationship Id="rId1" Type="${REL}/attachedTemplate" Target="http://169.254.169.254/modele.dotx" TargetMode="External"/>`),
      },
    }),
    message: /Le modèle modele-attache\.docx est rattaché à un modèle de document extérieur \(word\/_rels\/settings\.xml\.rels\)/,
  },
  {
    what: 'a frame (webSettings.xml.rels)',
    file: 'cadre.docx',
    docx: hostile({ parts: { 'word/_rels/webSettings.xml.rels': relsPart(`<Relationship Id="rId1" Type="${REL}/frame" Target="file:///etc/passwd" TargetMode="External"/>`) } }),
    message: /Le modèle cadre\.docx contient un contenu lié à une adresse extérieure \(word\/_rels\/webSettings\.xml\.rels\)/,
  },
  {
    what: 'a subdocument, its TargetMode written with a character reference and single quotes',
    file: 'sousdoc.docx',
    docx: hostile({ rels: `<Relationship Id='rId9' Type='${REL}/subDocument' Target='\\\\serveur\\partage\\a.docx' TargetMode='&#69;xternal'/>` }),
    message: /Le modèle sousdoc\.docx contient un contenu lié à une adresse extérieure \(word\/_rels\/document\.xml\.rels\)/,
  },
  {
    what: 'an INCLUDEPICTURE field cut across runs',
    file: 'champ.docx',
    docx: hostile({
      body:
        '<w:p><w:r><w:fldChar w:fldCharType="begin"/></w:r><w:r><w:instrText xml:space="preserve"> include</w:instrText></w:r>' +
        '<w:r><w:instrText xml:space="preserve">Picture "http://169.254.169.254/latest/meta-data/" \\d </w:instrText></w:r>' +
        '<w:r><w:fldChar w:fldCharType="separate"/></w:r><w:r><w:t>image</w:t></w:r><w:r><w:fldChar w:fldCharType="end"/></w:r></w:p>',
    }),
    message: /Le modèle champ\.docx contient une image liée à une adresse extérieure \(word\/document\.xml\)/,
  },
  {
    what: 'an INCLUDETEXT simple field in a header',
    file: 'entete.docx',
    docx: hostile({
      parts: {
        'word/header1.xml': `<?xml version="1.0"?><w:hdr xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main"><w:p><w:fldSimple w:instr=" INCLUDETEXT &quot;file:///etc/passwd&quot; "><w:r><w:t>x</w:t></w:r></w:fldSimple></w:p></w:hdr>`,
      },
    }),
    message: /Le modèle entete\.docx contient un contenu lié à une adresse extérieure \(word\/header1\.xml\)/,
  },
  {
    what: 'a hyperlink relationship used as an image’s r:link',
    file: 'detour.docx',
    docx: hostile({
      rels: `<Relationship Id="rId9" Type="${REL}/hyperlink" Target="http://169.254.169.254/latest/" TargetMode="External"/>`,
      body: `<w:p><w:r><w:drawing><a:blip xmlns:a="http://schemas.openxmlformats.org/drawingml/2006/main" r:link="rId9"/></w:drawing></w:r></w:p>`,
    }),
    message: /Le modèle detour\.docx contient une image liée à une adresse extérieure \(word\/_rels\/document\.xml\.rels\)/,
  },
];

async function upload(docx: Buffer, name: string, lang = '') {
  const body = multipart([{ name, data: docx }], { name: 'Lettre' });
  return app.inject({
    method: 'POST', url: `${pp}/lettres?_csrf=${encodeURIComponent(marc.csrf)}${lang}`, headers: { cookie: marc.cookie, 'content-type': body.type }, payload: body.body,
  });
}
const download = (url: string, fields: Record<string, string>) =>
  app.inject({
    method: 'POST', url, headers: { cookie: marc.cookie, 'content-type': 'application/x-www-form-urlencoded' },
    payload: new URLSearchParams({ ...fields, _csrf: marc.csrf }).toString(),
  });
const models = async () => (await ctx.database.pool.query('SELECT count(*)::int AS n FROM docx_templates')).rows[0].n as number;

test('a model linking outside itself is refused at upload with a 400 naming the file and the part; nothing is stored', async () => {
  for (const c of CASES) {
    const res = await upload(c.docx, c.file);
    assert.equal(res.statusCode, 400, `${c.what}: refused (${res.statusCode})`);
    assert.match(res.body, c.message, `${c.what}: the message names the file and the part`);
  }
  assert.equal(await models(), 0, 'no hostile model stored');
  const en = await upload(CASES[0].docx, 'letter.docx', '&lang=en');
  assert.equal(en.statusCode, 400, 'refused in English too');
  assert.match(en.body, /The model letter\.docx contains an image linked to an outside address \(word\/_rels\/document\.xml\.rels\): embed the image in the document\./, en.body.slice(0, 2000));
  // A DTD (external entities) in a part docxtemplater never parses.
  const dtd = await upload(hostile({ parts: { 'word/settings.xml': '<?xml version="1.0"?><!DOCTYPE x [<!ENTITY e SYSTEM "file:///etc/passwd">]><w:settings xmlns:w="x">&e;</w:settings>' } }), 'dtd.docx');
  assert.equal(dtd.statusCode, 400, 'a DTD in settings.xml is refused');
  assert.match(dtd.body, /« dtd\.docx » n’est pas un document Word/, 'said unreadable');
  assert.equal(await models(), 0, 'still nothing stored');
});

test('ordinary hyperlinks (relationship and HYPERLINK field) stay allowed', async () => {
  const ok = hostile({
    rels: `<Relationship Id="rId5" Type="${REL}/hyperlink" Target="https://ent.example.fr/aide" TargetMode="External"/>`,
    body:
      '<w:p><w:hyperlink r:id="rId5"><w:r><w:t>Aide</w:t></w:r></w:hyperlink></w:p>' +
      '<w:p><w:r><w:fldChar w:fldCharType="begin"/></w:r><w:r><w:instrText> HYPERLINK "https://ent.example.fr" \\o "LINK" </w:instrText></w:r>' +
      '<w:r><w:fldChar w:fldCharType="separate"/></w:r><w:r><w:t>ENT</w:t></w:r><w:r><w:fldChar w:fldCharType="end"/></w:r></w:p>',
  });
  const res = await upload(ok, 'liens.docx');
  assert.equal(res.statusCode, 200, `a model with hyperlinks is saved: ${res.body.slice(0, 500)}`);
  assert.deepEqual(inspectDocxTemplate(ok, 'liens.docx'), ['prenom'], 'its fields are read');
  await ctx.database.pool.query('DELETE FROM docx_templates');
});

test('a hostile model stored before the check is refused before any code, record or conversion; soffice never runs', async () => {
  process.env.PATH = `${fakeDir}:${savedPath}`;
  try {
    const audits = async () => (await ctx.database.pool.query(`SELECT count(*)::int AS n FROM audit WHERE action LIKE 'publipostage.%'`)).rows[0].n as number;
    const insert = async (name: string, content: Buffer) =>
      (await ctx.database.pool.query(`INSERT INTO docx_templates (structure_id, name, content, fields) VALUES ($1, $2, $3, '{prenom}') RETURNING id`, [s.structures.S1, name, content])).rows[0].id as string;
    const selection = { profiles: 'Student', classIds: `${s.classes['6A']},${s.classes['5A']}`, activation: 'inactive' };
    // Control: a clean model goes through the stand-in soffice (so the route does convert here).
    const clean = await insert('propre.docx', makeDocx(['Bonjour {prenom}']));
    const converted = await download(`${pp}/lettres/${clean}/pdf`, selection);
    assert.equal(converted.statusCode, 200, `the clean model is converted: ${converted.body.slice(0, 300)}`);
    assert.ok(existsSync(ranMark), 'the stand-in soffice ran for the clean model');
    rmSync(ranMark);

    const before = await audits();
    const bad = await insert('lettre.docx', CASES[0].docx);
    for (const format of ['pdf', 'docx']) {
      const res = await download(`${pp}/lettres/${bad}/${format}`, selection);
      assert.equal(res.statusCode, 400, `${format}: refused (${res.statusCode})`);
      assert.match(res.body, CASES[0].message, `${format}: the message names the file and the part`);
    }
    assert.ok(!existsSync(ranMark), 'soffice never ran for the hostile model');
    assert.equal(await audits(), before, 'no hand-out audited, no code issued');
    const events = (await ctx.database.pool.query(`SELECT count(*)::int AS n FROM distribution_events WHERE kind = 'word'`)).rows[0].n as number;
    assert.equal(events, 1 * 2, 'only the clean model’s two letters are recorded');

    // The conversion itself checks the letters it is handed, whatever made them.
    await assert.rejects(docxToPdf(fakeSoffice, CASES[5].docx, 'champ.docx'), (e: unknown) => {
      assert.ok(e instanceof DomainError, 'a domain error');
      assert.equal(e.messageCode, 'docx.linkedImage', 'the INCLUDEPICTURE field');
      return true;
    });
    assert.ok(!existsSync(ranMark), 'soffice never ran for hostile letters');
  } finally {
    process.env.PATH = savedPath;
  }
});
