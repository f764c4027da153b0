// Federated sign-in by e-mail (a provider configured with `match: ["email"]`, such as an académie's IdP) reaches only
// addresses someone vouches for: the académie mailbox the AAF feed gives a teacher, or an address proven by a link
// read in it. An address typed into an account (a pupil typing her teacher's, a parent's typo) never hands that
// account to whoever holds the address at the provider. Rows in PostgreSQL, real AAF import, real matching query.
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { updateContact } from '../src/accounts/profile.js';
import { loadCandidates } from '../src/federation/accounts.js';
import { type FederatedIdentity, matchAccounts } from '../src/federation/matching.js';
import { parseFederation } from '../src/federation/providers.js';
import { collectInputs, formatReport, importFiles } from '../src/import/index.js';
import { aafRecord as rec, aafXml as xml } from './helpers/aaf-feed.js';
import { testContext } from './helpers/db.js';

const ctx = await testContext();
const q = async <T = Record<string, unknown>>(sql: string, params: unknown[] = []) => (await ctx.database.pool.query(sql, params)).rows as T[];

const dir = mkdtempSync(join(tmpdir(), 'trousseau-email-trust-'));
const NAME = (kind: string) => join(dir, `ENT_0911001A_Complet_20250901_${kind}_0000.xml`);
writeFileSync(NAME('EtabEducNat'), xml(rec('EtabEducNat', '91001', [['ENTStructureJointure', ['91001']], ['ENTStructureUAI', ['0911001A']], ['ENTStructureNomCourant', ['CLG$DES SABLONS$ETAMPES']], ['ENTStructureClasses', ['6A$6EME A']]])));
writeFileSync(
  NAME('Eleve'),
  xml(
    rec('Eleve', 'E1', [
      ['ENTPersonJointure', ['E1']], ['sn', ['Garnier']], ['givenName', ['Inès']], ['ENTPersonDateNaissance', ['03/04/2013']],
      ['ENTElevePersRelEleve', ['R1$10$1$1$0$0']], ['ENTPersonStructRattach', ['91001']], ['ENTEleveClasses', ['91001$6A']],
    ]),
  ),
);
// The mother's address comes from SIECLE through the feed: typed by the school's office.
writeFileSync(NAME('PersRelEleve'), xml(rec('PersRelEleve', 'R1', [['ENTPersonJointure', ['R1']], ['sn', ['Garnier']], ['givenName', ['Sophie']], ['mail', ['sophie.garnier@example.org']]])));
writeFileSync(
  NAME('PersEducNat'),
  xml(
    rec('PersEducNat', 'P1', [
      ['ENTPersonJointure', ['P1']], ['sn', ['Morel']], ['givenName', ['Anne']], ['mail', ['Anne.Morel@ac-exemple.fr']],
      ['ENTPersonStructRattach', ['91001']], ['ENTPersonFonctions', ['91001$ENS$ENSEIGNEMENT$L0201$LETTRES']],
    ]),
  ),
);

const academie = parseFederation({
  providers: [{ id: 'academie', label: 'compte académique', kind: 'oidc', issuer: 'https://idp.ac-exemple.fr', clientId: 'x', match: ['email'] }],
}).get('academie')!;
const signIn = async (email: string) => {
  const id: FederatedIdentity = { subject: `sub-${email}`, externalIds: [], ine: null, email, emailVerified: true, familyName: null, usageName: null, givenName: null, birthDate: null, uais: [], profile: null };
  const r = matchAccounts(id, academie.match, await loadCandidates(ctx.database.pool, academie, id));
  return r.kind === 'match' ? r.accounts.map((a) => a.login) : r.kind;
};
const verified = async (ext: string) => (await q<{ v: boolean }>('SELECT email_verified_at IS NOT NULL AS v FROM users WHERE external_id = $1', [ext]))[0].v;
const login = async (ext: string) => (await q<{ login: string }>('SELECT login FROM users WHERE external_id = $1', [ext]))[0].login;

test('an académie sign-in by e-mail reaches the teacher the AAF feed gives that mailbox, never an account someone typed it into', async (t) => {
  t.after(() => ctx.close());
  const report = await importFiles(ctx, collectInputs([dir]), { scope: { kind: 'all' }, dryRun: false });
  assert.equal(report.fatal, null, formatReport(report));
  assert.equal(report.created, 3, formatReport(report));
  const school = (await q<{ id: string }>(`SELECT id FROM structures WHERE uai = '0911001A'`))[0].id;
  for (const profile of ['Teacher', 'Relative', 'Student']) {
    await q(`INSERT INTO federation_enabled (provider_id, structure_id, profile) VALUES ('academie', $1, $2)`, [school, profile]);
  }
  assert.deepEqual([await verified('P1'), await verified('R1')], [true, false], "the académie's mailbox of a teacher is vouched for; a relative's address from SIECLE is not");

  const anne = await login('P1');
  const anneRow = (await q<{ id: string; email: string }>(`SELECT id, email FROM users WHERE external_id = 'P1'`))[0];
  assert.equal(anneRow.email, 'Anne.Morel@ac-exemple.fr', 'stored as the feed gives it');
  assert.deepEqual(await signIn('anne.morel@ac-exemple.fr'), [anne], 'the teacher, by her académie address (case folded)');
  assert.equal(await signIn('sophie.garnier@example.org'), 'none', "the mother's address, typed by the office, is no key");

  // The pupil types her teacher's address in « Mon compte »: the teacher still reaches only her own account.
  await q(`UPDATE users SET email = 'anne.morel@ac-exemple.fr' WHERE external_id = 'E1'`);
  assert.deepEqual(await signIn('anne.morel@ac-exemple.fr'), [anne], "an address typed into the pupil's account hands it to nobody");

  // « Mon compte » saved for a new phone number writes the address lower-cased: the same mailbox, still vouched for.
  await updateContact(ctx, anneRow.id, 'anne.morel@ac-exemple.fr', '06 12 34 56 78');
  assert.deepEqual([await verified('P1'), await signIn('anne.morel@ac-exemple.fr')], [true, [anne]]);

  // The teacher replaces her address herself: the new one is not vouched for (migration 0021's trigger clears the
  // date), and the former one no longer reaches her account.
  await q(`UPDATE users SET email = 'anne.perso@example.org' WHERE external_id = 'P1'`);
  assert.equal(await verified('P1'), false);
  assert.equal(await signIn('anne.perso@example.org'), 'none');
  assert.equal(await signIn('anne.morel@ac-exemple.fr'), 'none');

  // A password reset link read in a mailbox proves it: the mother's address then reaches her account.
  await q(`UPDATE users SET email_verified_at = now() WHERE external_id = 'R1'`);
  assert.deepEqual(await signIn('sophie.garnier@example.org'), [await login('R1')]);

  // The next feed gives the teacher a new académie mailbox: her account is not activated, so the feed's address
  // replaces the typed one, and is vouched for again.
  writeFileSync(NAME('PersEducNat'), readFileSync(NAME('PersEducNat'), 'utf8').replace('Anne.Morel@ac-exemple.fr', 'anne.morel2@ac-exemple.fr'));
  const again = await importFiles(ctx, collectInputs([dir]), { scope: { kind: 'all' }, dryRun: false });
  assert.equal(again.updated, 1, formatReport(again));
  assert.deepEqual(await signIn('anne.morel2@ac-exemple.fr'), [anne]);
  assert.equal(await signIn('anne.perso@example.org'), 'none');

  // A delta's modifyRequest that does not name `mail` (only a new phone number) carries the stored address: an
  // address the teacher typed after activating stays unvouched — the record did not list it.
  await q(`UPDATE users SET activated_at = now(), email = 'anne.morel@gmial.com' WHERE external_id = 'P1'`);
  const delta = mkdtempSync(join(tmpdir(), 'trousseau-email-trust-delta-'));
  writeFileSync(
    join(delta, 'ENT_0911001A_Delta_20250902_PersEducNat_0000.xml'),
    xml(
      '<modifyRequest>\n<operationalAttributes><attr name="categoriePersonne"><value>PersEducNat</value></attr></operationalAttributes>\n' +
        '<identifier><id>P1</id></identifier>\n<modifications>\n<modification name="telephoneNumber" operation="replace"><value>01 60 00 00 01</value></modification>\n' +
        '</modifications>\n</modifyRequest>\n',
    ),
  );
  const d = await importFiles(ctx, collectInputs([delta]), { scope: { kind: 'all' }, dryRun: false });
  assert.equal(d.updated, 1, formatReport(d));
  assert.equal(await verified('P1'), false, 'a typed address is not vouched for by a delta that does not name it');
  assert.equal(await signIn('anne.morel@gmial.com'), 'none');
});

test("migration 0035: the teachers an AAF feed created before are compared at the next import, which vouches for the académie's address", async () => {
  const c = await testContext();
  try {
    await importFiles(c, collectInputs([dir]), { scope: { kind: 'all' }, dryRun: false });
    // As written before the change: the address without its date.
    await c.database.pool.query(`UPDATE users SET email_verified_at = NULL WHERE external_id = 'P1'`);
    const vouched = async () => (await c.database.pool.query(`SELECT email_verified_at IS NOT NULL AS v FROM users WHERE external_id = 'P1'`)).rows[0].v;
    await importFiles(c, collectInputs([dir]), { scope: { kind: 'all' }, dryRun: false });
    assert.equal(await vouched(), false, 'an unchanged record is not compared (its digest)');
    await c.database.pool.query(readFileSync(new URL('../migrations/0035_vouched_emails.sql', import.meta.url), 'utf8'));
    await importFiles(c, collectInputs([dir]), { scope: { kind: 'all' }, dryRun: false });
    assert.equal(await vouched(), true);
  } finally {
    await c.close();
  }
});
