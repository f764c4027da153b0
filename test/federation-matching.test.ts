// Pure account matching of a federated sign-in (src/federation/matching.ts): order of the steps, folding of names,
// refusals, several matches.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { givenNameMatches, matchAccounts, type CandidateAccount, type FederatedIdentity } from '../src/federation/matching.js';
import { parseFederation } from '../src/federation/providers.js';

const who = (o: Partial<FederatedIdentity>): FederatedIdentity => ({
  subject: 'sub-1', externalIds: [], ine: null, email: null, emailVerified: false, familyName: null, usageName: null, givenName: null, birthDate: null, uais: [], profile: null, ...o,
});
let n = 0;
const account = (o: Partial<CandidateAccount>): CandidateAccount => ({
  id: `id-${++n}`, login: `login${n}`, profile: 'Relative', firstName: 'Sophie', lastName: 'Lefèvre', externalId: null, ine: null, email: null,
  emailVerified: false, birthDate: '1985-04-12', blocked: false, preDeleted: false, enabled: true, linked: false, uais: [], ...o,
});

test('a stored link comes first, before any directory key', () => {
  const linked = account({ linked: true, login: 'b' });
  const byKey = account({ externalId: 'AAF123', login: 'a' });
  const r = matchAccounts(who({ externalIds: ['AAF123'] }), ['externalId'], [byKey, linked]);
  assert.deepEqual(r.kind === 'match' && [r.step, r.accounts.map((a) => a.id)], ['link', [linked.id]]);
});

test('the AAF jointure, then the INE (pupils only), then the e-mail, then names and birth date, as configured', () => {
  const byJointure = account({ externalId: 'AAF123' });
  const pupil = account({ profile: 'Student', ine: '123456789AB' });
  const byMail = account({ email: 'sophie@example.org', emailVerified: true, profile: 'Teacher' });
  // The same address typed by someone into their own account: never a key.
  const typed = account({ email: 'sophie@example.org', profile: 'Student', login: 'a.typed' });
  const all = [byJointure, pupil, byMail, typed];
  const id = who({ externalIds: ['AAF123'], ine: '123456789ab', email: 'SOPHIE@example.org', emailVerified: true });
  assert.equal((matchAccounts(id, ['externalId', 'ine'], all) as { accounts: CandidateAccount[] }).accounts[0].id, byJointure.id);
  assert.equal((matchAccounts(id, ['ine'], all) as { accounts: CandidateAccount[] }).accounts[0].id, pupil.id);
  assert.deepEqual((matchAccounts(id, ['email'], all) as { accounts: CandidateAccount[] }).accounts.map((a) => a.id), [byMail.id]);
  assert.equal(matchAccounts(id, ['email'], [typed]).kind, 'none');
  // An INE on a relative's row is no pupil's INE.
  assert.equal(matchAccounts(who({ ine: 'X1' }), ['ine'], [account({ ine: 'X1' })]).kind, 'none');
  // A key the provider is not configured for is never used.
  assert.equal(matchAccounts(who({ externalIds: ['AAF123'] }), ['nameBirthDate'], all).kind, 'none');
});

test('family name + given names + birth date, folded as logins are; birth or usage name', () => {
  const sophie = account({ firstName: 'Sophie', lastName: 'LEFEVRE' });
  const id = who({ familyName: 'Lefèvre', givenName: 'SOPHIE Marie Anne', birthDate: '1985-04-12' });
  assert.equal(matchAccounts(id, ['nameBirthDate'], [sophie]).kind, 'match');
  assert.equal(matchAccounts({ ...id, birthDate: '1985-04-13' }, ['nameBirthDate'], [sophie]).kind, 'none');
  assert.equal(matchAccounts({ ...id, givenName: 'Sophia' }, ['nameBirthDate'], [sophie]).kind, 'none');
  // Married name at school, birth name at FranceConnect (its preferred_username carries the usage name).
  const married = account({ firstName: 'Sophie', lastName: 'Dupont-Lefèvre' });
  assert.equal(matchAccounts({ ...id, familyName: 'Martin' }, ['nameBirthDate'], [married]).kind, 'none');
  assert.equal(matchAccounts({ ...id, familyName: 'Martin', usageName: 'DUPONT LEFEVRE' }, ['nameBirthDate'], [married]).kind, 'match');
  // Teachers are not matched on names (only relatives and pupils).
  assert.equal(matchAccounts(id, ['nameBirthDate'], [account({ profile: 'Teacher', lastName: 'Lefèvre' })]).kind, 'none');
  assert.ok(givenNameMatches('Jean-Pierre', 'Jean Pierre Marie'));
  assert.ok(!givenNameMatches('Jean', 'Jeanne'));
  assert.ok(!givenNameMatches('', 'Jeanne'));
});

test('several matches are all offered; the provider’s UAI narrows them when it can', () => {
  const a = account({ login: 'z.parent', uais: ['0750001A'] });
  const b = account({ login: 'a.parent', uais: ['0750002B'] });
  const id = who({ familyName: 'Lefèvre', givenName: 'Sophie', birthDate: '1985-04-12' });
  const r = matchAccounts(id, ['nameBirthDate'], [a, b]);
  assert.deepEqual(r.kind === 'match' && r.accounts.map((x) => x.login), ['a.parent', 'z.parent']);
  const narrowed = matchAccounts({ ...id, uais: ['0750001A'] }, ['nameBirthDate'], [a, b]);
  assert.deepEqual(narrowed.kind === 'match' && narrowed.accounts.map((x) => x.login), ['z.parent']);
  // A UAI that fits none keeps them all rather than refusing.
  const kept = matchAccounts({ ...id, uais: ['0999999Z'] }, ['nameBirthDate'], [a, b]);
  assert.equal(kept.kind === 'match' && kept.accounts.length, 2);
});

test('pre-deleted accounts never match; blocked or not enabled ones refuse with the reason', () => {
  const id = who({ externalIds: ['AAF9'] });
  assert.equal(matchAccounts(id, ['externalId'], [account({ externalId: 'AAF9', preDeleted: true })]).kind, 'none');
  assert.deepEqual(matchAccounts(id, ['externalId'], [account({ externalId: 'AAF9', blocked: true })]), { kind: 'refused', reason: 'blocked', step: 'externalId' });
  assert.deepEqual(matchAccounts(id, ['externalId'], [account({ externalId: 'AAF9', enabled: false })]), { kind: 'refused', reason: 'notEnabled', step: 'externalId' });
  // A usable account beside a blocked one is the match.
  const ok = account({ externalId: 'AAF9' });
  const r = matchAccounts(id, ['externalId'], [account({ externalId: 'AAF9', blocked: true }), ok]);
  assert.deepEqual(r.kind === 'match' && r.accounts.map((x) => x.id), [ok.id]);
  // An affiliation restricts the profile (an EduConnect "resp" never signs in as the pupil).
  assert.equal(matchAccounts({ ...id, profile: 'Student' }, ['externalId'], [account({ externalId: 'AAF9' })]).kind, 'none');
});

test('the configuration file is checked field by field', () => {
  const p = parseFederation({ providers: [{ id: 'fc', label: 'FranceConnect', kind: 'oidc', issuer: 'https://fc.example.fr', clientId: 'x', match: ['nameBirthDate'] }] });
  assert.equal(p.get('fc')?.label, 'FranceConnect');
  assert.throws(() => parseFederation({ providers: [{ id: 'Bad Id', label: 'x', kind: 'oidc', issuer: 'https://x', clientId: 'x', match: ['ine'] }] }), /providers\.0\.id/);
  assert.throws(() => parseFederation({ providers: [{ id: 'edu', label: 'EduConnect', kind: 'saml', entryPoint: 'https://x', match: ['ine'] }] }), /providers\.0\.idpCert/);
});

test('a wrong configuration file is said in French, as every other setting, never in the validator’s English', () => {
  // Every `trousseau …` command and the server read it (config.ts): « federation : providers.0.issuer : Invalid URL »
  // stopped them in English beside « TROUSSEAU_SECRET doit contenir… ».
  const oidc = { id: 'fc', label: 'FranceConnect', kind: 'oidc', issuer: 'https://fc.example.fr', clientId: 'x', match: ['nameBirthDate'] };
  const cases: Array<[unknown, string]> = [
    [{ providers: [{ ...oidc, id: 'Bad Id' }] }, 'federation : providers.0.id : lettres minuscules, chiffres et tirets attendus (l’identifiant est dans les adresses).'],
    [{ providers: [{ ...oidc, issuer: 'pas une adresse' }] }, 'federation : providers.0.issuer : adresse web attendue.'],
    [{ providers: [{ ...oidc, match: [] }] }, 'federation : providers.0.match : 1 élément au moins.'],
    [{ providers: [{ ...oidc, match: ['ine', 'shoeSize'] }] }, 'federation : providers.0.match.1 : valeurs possibles : externalId, ine, email, nameBirthDate.'],
    [{ providers: [oidc, { ...oidc, label: 'Autre' }] }, 'federation : (racine) : deux fournisseurs ont le même identifiant.'],
    [{ providers: [{ ...oidc, kind: 'ldap' }] }, 'federation : providers.0.kind : valeur non reconnue.'],
    [{ providers: [{ id: 'edu', label: 'EduConnect', kind: 'saml', entryPoint: 'https://x', match: ['ine'], idpCert: 5 }] }, 'federation : providers.0.idpCert : valeur non reconnue.'],
    [{ providers: [{ id: 'edu', label: 'EduConnect', kind: 'saml', entryPoint: 'https://x', match: ['ine'], idpCert: 'x', attributes: { profile: { attribute: 'p', values: { a: 'Pilot' } } } }] },
      'federation : providers.0.attributes.profile.values.a : valeurs possibles : Student, Relative, Teacher, Personnel, Guest.'],
  ];
  for (const [json, said] of cases) {
    assert.throws(() => parseFederation(json), (e: Error) => {
      assert.equal(e.message, said, JSON.stringify(json));
      return true;
    }, `refused: ${JSON.stringify(json)}`);
  }
});
