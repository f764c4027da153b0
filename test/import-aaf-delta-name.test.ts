// A delivery is a delta when a file carries a modify or delete request, or when the file's name says so (« Delta »,
// « diff », « incr »: an AAF delta may carry only addRequests). The name was searched anywhere in the run's name for
// the file, an archive's name included, and inside words: the complete feed of an archive named « diffusion-aaf… »
// (French for a delivery) was read as a delta, and a teacher who had left was never sent to the grace period.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import yazl from 'yazl';
import { isDeltaFeed } from '../src/import/aaf.js';
import { formatReport, importFiles } from '../src/import/index.js';
import { fileContext, sqlReaders } from './helpers/db.js';
import { aafRecord as rec, aafXml as xml } from './helpers/aaf-feed.js';

const ctx = await fileContext();
const { q } = sqlReaders(ctx);

async function zip(entries: Array<[string, Buffer]>): Promise<Buffer> {
  const z = new yazl.ZipFile();
  for (const [name, data] of entries) z.addBuffer(data, name);
  z.end();
  const chunks: Buffer[] = [];
  for await (const c of z.outputStream as AsyncIterable<Buffer>) chunks.push(c);
  return Buffer.concat(chunks);
}

const etab = rec('EtabEducNat', '77001', [['ENTStructureJointure', ['77001']], ['ENTStructureUAI', ['0777001C']], ['ENTStructureNomCourant', ['CLG$LES PINS$VILLEBOIS']]]);
const teacher = (id: string, last: string) =>
  rec('PersEducNat', id, [['ENTPersonJointure', [id]], ['sn', [last]], ['givenName', ['Marie']], ['ENTPersonStructRattach', ['77001']], ['ENTPersonFonctions', ['77001$ENS$ENSEIGNEMENT']]]);
const feed = (day: string, people: string) => [
  [`ENT_Complet_${day}_EtabEducNat_0000.xml`, xml(etab)] as [string, Buffer],
  [`ENT_Complet_${day}_PersEducNat_0000.xml`, xml(people)] as [string, Buffer],
];

test('which names say a delta: the file’s own name, whole words', () => {
  for (const n of ['ENT_Delta_20250915_Eleve_0000.xml', 'aaf.zip/ENT2D_DELTA_20250915_Eleve_0000.xml', 'diff_20250915_Eleve_0000.xml', 'ENT-incr-20250915_Eleve_0000.xml', 'incremental/x.xml', 'ENT_Incremental_2025_Eleve_0000.xml', 'ENTTSSERVICES_Delta20130118_Eleve_0000.xml', 'FULL_ENTTSSERVICES_Delta_20130118_Eleve_0000.xml', 'complet/ENT_Delta_20250915_Eleve_0000.xml']) {
    assert.equal(isDeltaFeed(n), true, n);
  }
  for (const n of ['diffusion-aaf-2025-09.zip/ENT_Complet_20250901_Eleve_0000.xml', 'ENT_Complet_20250901_Eleve_0000.xml', 'deltaplane/ENT_Complet_20250901_Eleve_0000.xml', 'ENT_Complet_Diffusion_20250901_Eleve_0000.xml', 'delta/ENT_Complet_20250901_Eleve_0000.xml']) {
    assert.equal(isDeltaFeed(n), false, n);
  }
});

test('a complete feed in an archive named « diffusion… » sends a teacher who left to the grace period', async () => {
  let r = await importFiles(ctx, [{ name: 'diffusion-aaf-2025-09.zip', data: await zip(feed('20250901', teacher('DN-P1', 'Arnaud') + teacher('DN-P2', 'Besson'))) }], { scope: { kind: 'all' }, dryRun: false });
  assert.equal(r.fatal, null, formatReport(r));
  assert.equal(r.created, 2, formatReport(r));
  r = await importFiles(ctx, [{ name: 'diffusion-aaf-2025-10.zip', data: await zip(feed('20251001', teacher('DN-P1', 'Arnaud'))) }], { scope: { kind: 'all' }, dryRun: false });
  assert.equal(r.fatal, null, formatReport(r));
  assert.equal(r.preDeleted, 1, formatReport(r));
  assert.deepEqual((await q<{ x: string }>(`SELECT external_id AS x FROM users WHERE absent_since IS NOT NULL`)).map((x) => x.x), ['DN-P2']);
});

test('« Delta » run into the letters before it in the file’s own name still says a delta (« ENT1DDelta », « AAFDELTA »)', () => {
  // Read as complete, such a delta sent every person it does not list to the grace period; « delta|diff|incr »
  // anywhere in the name said delta before whole words were required.
  for (const n of ['ENT1DDelta_20240915_Eleve_0000.xml', 'aaf.zip/AAFDELTA_20250915_PersEducNat_0000.xml', 'ENT_0911001A_FichierDelta20250902_Eleve_0000.xml']) {
    assert.equal(isDeltaFeed(n), true, n);
  }
});
