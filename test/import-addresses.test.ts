// Postal addresses from every feed that carries them, for letters in window envelopes (address-block.ts): the
// ENT's CSV (Adresse / Code postal / Ville / Pays, ONDE's parents), AAF (ENTPersonAdresse / ENTPersonCodePostal /
// ENTPersonVille / ENTPersonPays). Only SIECLE's were kept before: an imported school's envelopes had no address.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { collectInputs, formatReport, importFiles } from '../src/import/index.js';
import { runWith } from '../src/publipostage/cli.js';
import { postalParts } from '../src/import/text.js';
import { exportSelection } from '../src/publipostage/generate.js';
import { SelectionSchema } from '../src/publipostage/selection.js';
import { fileContext, fileTempDir } from './helpers/db.js';

const ctx = await fileContext();
const tmp = fileTempDir('trousseau-addresses-');
const address = async (first: string) => (await ctx.database.pool.query(`SELECT address FROM users WHERE first_name = $1`, [first])).rows[0]?.address as string | null;

test('CSV: street (commas kept), postcode and town, a foreign country, on their lines; a row without any keeps what is stored', async () => {
  const parents =
    'Nom;Prénom;Adresse;Code postal;Ville;Pays;Nom de l\'élève;Prénom de l\'élève\n' +
    'MARTIN;Paul;12, rue des  Acacias;75017;PARIS;France;MARTIN;Léa\n' +
    'WEBER;Hans;Hauptstraße 5;10115;Berlin;Allemagne;WEBER;Lena\n' +
    'DUPONT;Anne;;;;;DUPONT;Tom\n';
  const pupils = 'Nom;Prénom;Date de naissance;Classe\nMARTIN;Léa;01/02/2014;6A\nWEBER;Lena;03/04/2013;6A\nDUPONT;Tom;05/06/2013;6A\n';
  const files = [{ name: 'CSV_Eleves.csv', data: Buffer.from(pupils) }, { name: 'CSV_Parents.csv', data: Buffer.from(parents) }];
  const r = await importFiles(ctx, files, { dryRun: false, scope: { kind: 'all' }, structureHint: 'École des Adresses' });
  assert.equal(r.fatal, null, formatReport(r));
  assert.equal(await address('Paul'), '12, rue des Acacias\n75017 PARIS');
  assert.equal(await address('Hans'), 'Hauptstraße 5\n10115 Berlin\nAllemagne');
  assert.equal(await address('Anne'), null);
  await ctx.database.pool.query(`UPDATE users SET address = 'Chemin du Moulin\n38000 GRENOBLE' WHERE first_name = 'Anne'`);
  const again = await importFiles(ctx, files, { dryRun: false, scope: { kind: 'all' }, structureHint: 'École des Adresses' });
  assert.deepEqual([again.created, again.updated], [0, 0], formatReport(again));
  assert.equal(await address('Anne'), 'Chemin du Moulin\n38000 GRENOBLE');

  // The letter's window (DL envelope, 45 × 100 mm, 20 mm from the right, 50 mm from the top) shows it.
  const id = (await ctx.database.pool.query(`SELECT id FROM users WHERE first_name = 'Paul'`)).rows[0].id as string;
  const file = await exportSelection(ctx, { format: 'pdf', model: 1, addressBlock: true, selection: SelectionSchema.parse({ userIds: [id] }), scope: { kind: 'all' }, actorId: null, via: 'cli' });
  const chunks: Buffer[] = [];
  for await (const c of file.body as AsyncIterable<Buffer>) chunks.push(c);
  const mm = 72 / 25.4;
  const window = execFileSync('pdftotext', ['-r', '72', '-x', String(Math.round(90 * mm)), '-y', String(Math.round(50 * mm)), '-W', String(Math.round(100 * mm)), '-H', String(Math.round(45 * mm)), '-', '-'], {
    input: Buffer.concat(chunks),
    encoding: 'utf8',
  });
  assert.equal(window.replace(/\f/g, '').trim(), 'Paul MARTIN\n12, rue des Acacias\n75017 PARIS');

  // The command line too (`trousseau publipostage --address-block`), model 1 only.
  const out = join(tmp, 'lettres.pdf');
  const logs: string[] = [];
  assert.equal(await runWith(ctx, ['--format', 'pdf', '--address-block', '--users', 'paul.martin', '-o', out], (m) => logs.push(m)), 0, logs.join('\n'));
  assert.ok(!logs.some((l) => l.includes('TROUSSEAU_PUBLIC_URL')), `the public address is set: no warning (${logs.join(' | ')})`);
  // Without it, the command says what the sheets print (a server on another port does not share this process's).
  const bare = { ...ctx, config: { ...ctx.config, publicUrl: 'http://localhost:3000', publicUrlSet: false } };
  const said: string[] = [];
  assert.equal(await runWith(bare, ['--format', 'pdf', '--users', 'paul.martin', '-o', `${out}.localhost.pdf`], (m) => said.push(m)), 0, said.join('\n'));
  assert.ok(said.some((l) => l.startsWith('TROUSSEAU_PUBLIC_URL absent') && l.includes('http://localhost:3000')), `warned: ${said.join(' | ')}`);
  const cli = execFileSync('pdftotext', ['-r', '72', '-x', String(Math.round(90 * mm)), '-y', String(Math.round(50 * mm)), '-W', String(Math.round(100 * mm)), '-H', String(Math.round(45 * mm)), out, '-'], { encoding: 'utf8' });
  assert.equal(cli.replace(/\f/g, '').trim(), 'Paul MARTIN\n12, rue des Acacias\n75017 PARIS');
  assert.equal(await runWith(ctx, ['--format', 'pdf', '--model', '8', '--address-block', '-o', out], (m) => logs.push(m)), 2);
  assert.match(logs.at(-1)!, /--address-block : PDF modèle 1 seulement/);
});

/** An AAF feed of school 93001: pupil Jade ROUX (9100) and her legal representative Noël ROUX (9200), his address attributes as given. */
const XML = (body: string) => `<?xml version="1.0" encoding="UTF-8"?>\n<ficAlimMENESR>\n${body}</ficAlimMENESR>\n`;
const person = (cat: string, id: string, attrs: [string, string[]][]) =>
  `<addRequest><operationalAttributes><attr name="categoriePersonne"><value>${cat}</value></attr></operationalAttributes><identifier><id>${id}</id></identifier><attributes>` +
  attrs.map(([n, vs]) => `<attr name="${n}">${vs.map((v) => `<value>${v}</value>`).join('')}</attr>`).join('') + '</attributes></addRequest>\n';
function aafFeed(noelAddress: [string, string[]][]): string {
  const dir = mkdtempSync(join(tmp, 'aaf-'));
  const file = (kind: string, body: string) => writeFileSync(join(dir, `ENT_Complet_20240901_${kind}_0000.xml`), XML(body));
  file('EtabEducNat', `<addRequest><operationalAttributes><attr name="categorieStructure"><value>EtabEducNat</value></attr></operationalAttributes><identifier><id>93001</id></identifier><attributes><attr name="ENTStructureJointure"><value>93001</value></attr><attr name="ENTStructureUAI"><value>0930001A</value></attr><attr name="ENTStructureNomCourant"><value>CLG ADRESSES</value></attr></attributes></addRequest>\n`);
  file('Eleve', person('Eleve', '9100', [['ENTPersonJointure', ['9100']], ['sn', ['Roux']], ['givenName', ['Jade']], ['ENTPersonDateNaissance', ['01/01/2012']], ['ENTPersonStructRattach', ['93001']], ['ENTElevePersRelEleve', ['9200$10$1$1$0$0']]]));
  file('PersRelEleve', person('PersRelEleve', '9200', [['ENTPersonJointure', ['9200']], ['sn', ['Roux']], ['givenName', ['Noël']], ...noelAddress]));
  return dir;
}

test('AAF: ENTPersonAdresse (one line per value), ENTPersonCodePostal, ENTPersonVille; France left out', async () => {
  const dir = aafFeed([['ENTPersonAdresse', ['Résidence Les Pins, bât. B', '4 allée des Cèdres']], ['ENTPersonCodePostal', ['13090']], ['ENTPersonVille', ['AIX EN PROVENCE']], ['ENTPersonPays', ['FRANCE']]]);
  const r = await importFiles(ctx, collectInputs([dir]), { dryRun: false, scope: { kind: 'all' } });
  assert.equal(r.fatal, null, formatReport(r));
  assert.equal(await address('Noël'), 'Résidence Les Pins, bât. B\n4 allée des Cèdres\n13090 AIX EN PROVENCE');
  assert.equal(await address('Jade'), null);
  const again = await importFiles(ctx, collectInputs([dir]), { dryRun: false, scope: { kind: 'all' } });
  assert.deepEqual([again.created, again.updated, again.unchanged], [0, 0, 2], formatReport(again));
});

// users.address is one text; an AAF delta lists only the attributes that changed (a family moving within its town:
// the street). The other parts come from the stored address (postalParts), not nothing: the envelope's window keeps
// its postcode and town. (Found by a review.)
test('AAF: a delta changing only the street keeps the postcode and the town', async () => {
  const full = aafFeed([['ENTPersonAdresse', ['12 rue des Lilas']], ['ENTPersonCodePostal', ['13090']], ['ENTPersonVille', ['AIX EN PROVENCE']], ['ENTPersonPays', ['FRANCE']]]);
  const r = await importFiles(ctx, collectInputs([full]), { dryRun: false, scope: { kind: 'all' } });
  assert.equal(r.fatal, null, formatReport(r));
  assert.equal(await address('Noël'), '12 rue des Lilas\n13090 AIX EN PROVENCE');

  const delta = mkdtempSync(join(tmp, 'delta-'));
  writeFileSync(
    join(delta, 'ENT_Delta_20240902_PersRelEleve_0000.xml'),
    XML(
      `<modifyRequest><operationalAttributes><attr name="categoriePersonne"><value>PersRelEleve</value></attr></operationalAttributes><identifier><id>9200</id></identifier>` +
        `<modifications><modification name="ENTPersonAdresse" operation="replace"><value>4 allée des Cèdres</value></modification></modifications></modifyRequest>\n`,
    ),
  );
  const d = await importFiles(ctx, collectInputs([delta]), { dryRun: false, scope: { kind: 'all' } });
  assert.equal(d.fatal, null, formatReport(d));
  assert.deepEqual(d.rejected, []);
  assert.equal(await address('Noël'), '4 allée des Cèdres\n13090 AIX EN PROVENCE');
});

test('postalParts: the postcode line is the last one starting with digits, not a rural street number', () => {
  assert.deepEqual(postalParts('1250 chemin des Crêtes\n83000 DRAGUIGNAN'), { street: ['1250 chemin des Crêtes'], postcode: '83000', town: 'DRAGUIGNAN', country: null });
  assert.deepEqual(postalParts('12 rue des Lilas\n1000 BRUXELLES\nBelgique'), { street: ['12 rue des Lilas'], postcode: '1000', town: 'BRUXELLES', country: 'Belgique' });
  assert.equal(postalParts('Lieu-dit Les Granges'), null);
});
