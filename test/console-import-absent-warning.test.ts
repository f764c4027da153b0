// A dry run that would send accounts to the grace period says so where the eye goes, not only in a folded list: a
// secretary importing one class at a time without « Import partiel » sent the classes imported before away, below the
// mass-absence threshold (10 accounts, over half) that asks for a confirmation.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { importFiles, type ImportOptions } from '../src/import/index.js';
import { reportView } from '../src/web/console/views/import.js';
import { aafRecord as rec, aafXml as xml } from './helpers/aaf-feed.js';
import { testContext } from './helpers/db.js';

let ctx: Awaited<ReturnType<typeof testContext>>;
before(async () => {
  ctx = await testContext();
});
after(async () => {
  await ctx.close();
});

type File = { name: string; data: Buffer };
const NAME = (kind: string) => `ENT_0911003C_Complet_20250901_${kind}_0000.xml`;
const ETAB: File = {
  name: NAME('EtabEducNat'),
  data: xml(rec('EtabEducNat', '93001', [['ENTStructureJointure', ['93001']], ['ENTStructureUAI', ['0911003C']], ['ENTStructureNomCourant', ['CLG$LES SAULES$ETAMPES']]])),
};
const teacher = (id: string, first: string) =>
  rec('PersEducNat', id, [['ENTPersonJointure', [id]], ['sn', ['Lenoir']], ['givenName', [first]], ['ENTPersonStructRattach', ['93001']], ['ENTPersonFonctions', ['93001$ENS$ENSEIGNEMENT$L0201$LETTRES']]]);
const staff = (...who: [string, string][]): File => ({ name: NAME('PersEducNat'), data: xml(who.map(([id, first]) => teacher(id, first)).join('')) });
const run = (files: File[], opts: Partial<ImportOptions> = {}) => importFiles(ctx, files, { scope: { kind: 'all' }, dryRun: false, ...opts });
const html = (r: Awaited<ReturnType<typeof run>>, lang: 'fr' | 'en' = 'fr') => String(reportView(lang, r));

test('a dry run sending accounts away warns above the report and opens their list; partial or real runs do not warn', async () => {
  assert.equal((await run([ETAB, staff(['W1', 'Anne'], ['W2', 'Bruno'], ['W3', 'Chloé'])])).created, 3);
  const without = [ETAB, staff(['W1', 'Anne'])];

  const dry = await run(without, { dryRun: true });
  assert.equal(dry.preDeleted, 2);
  assert.deepEqual(dry.massAbsence ?? [], [], 'below the mass-absence threshold: no confirmation asked');
  const page = html(dry);
  assert.match(page, /data-import="absentWarning">2 comptes absents de ces fichiers entreront en période de grâce si vous confirmez/);
  assert.match(page, /cochant « Import partiel »/);
  assert.match(page, /<details class="absent" data-import="absent" open>/);
  assert.match(html(dry, 'en'), /2 accounts absent from these files will enter their grace period if you confirm/);

  const partial = await run(without, { dryRun: true, partial: true });
  assert.equal(partial.preDeleted, 0);
  assert.doesNotMatch(html(partial), /absentWarning/);

  const real = await run(without);
  assert.equal(real.preDeleted, 2);
  const done = html(real);
  assert.doesNotMatch(done, /absentWarning/, 'once applied, the list says who went');
  assert.match(done, /<details class="absent" data-import="absent">/);
});
