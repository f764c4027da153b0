// EduConnect's assertions as it really sends them, read by Trousseau's SAML service provider (src/federation/saml.ts)
// from a real SAML IdP on loopback (test/helpers/idp.ts): attributes named by OID with their FriendlyName, an IdP
// clock a little ahead of ours, the AAF join key as EduConnect carries it (FrEduCtRefId).
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { loadCandidates } from '../src/federation/accounts.js';
import { enableEverywhere } from '../src/federation/enablement.js';
import { matchAccounts } from '../src/federation/matching.js';
import { parseFederation, type SamlProviderConfig } from '../src/federation/providers.js';
import { samlAuthorizationUrl, samlMetadata, samlValidate } from '../src/federation/saml.js';
import { testContext } from './helpers/db.js';
import { insertStructure, insertUser, relate } from './helpers/directory-sample.js';
import { startSamlIdp, type TestSamlIdp } from './helpers/idp.js';

const publicUrl = 'http://127.0.0.1:9';
let ec: TestSamlIdp;
let ctx: Awaited<ReturnType<typeof testContext>>;
let provider: SamlProviderConfig;

// EduConnect's attribute names (OIDs) and the FriendlyName it gives each.
const OID = {
  FrEduCtId: 'urn:oid:1.3.6.1.4.1.20326.10.999.1.57',
  FrEduCtRefId: 'urn:oid:1.3.6.1.4.1.20326.10.999.1.56',
  FrEduCtPersonAffiliation: 'urn:oid:1.3.6.1.4.1.20326.10.999.1.7',
  FrEduCtEleveUAI: 'urn:oid:1.3.6.1.4.1.20326.10.999.1.72',
  FrEduCtEleveINE: 'urn:oid:1.3.6.1.4.1.20326.10.999.1.64',
  FrEduCtDateNaissance: 'urn:oid:1.3.6.1.4.1.20326.10.999.1.67',
  sn: 'urn:oid:2.5.4.4',
  givenName: 'urn:oid:2.5.4.42',
} as const;
const friendlyNames = Object.fromEntries(Object.entries(OID).map(([friendly, oid]) => [oid, friendly]));

before(async () => {
  ec = await startSamlIdp(async () => samlMetadata(publicUrl, provider));
  provider = parseFederation({
    providers: [{
      id: 'educonnect', label: 'EduConnect', kind: 'saml', entryPoint: ec.ssoUrl, idpCert: ec.cert, idpIssuer: ec.entityId,
      match: ['externalId', 'ine'],
      // As the README writes it: by the names people know (FriendlyName).
      attributes: {
        subject: 'FrEduCtId', externalId: 'FrEduCtRefId', ine: 'FrEduCtEleveINE', uai: 'FrEduCtEleveUAI', givenName: 'givenName', familyName: 'sn', birthDate: 'FrEduCtDateNaissance',
        profile: { attribute: 'FrEduCtPersonAffiliation', values: { resp2d: 'Relative', eleve2d: 'Student' } },
      },
    }],
  }).get('educonnect') as SamlProviderConfig;
});

after(async () => {
  await ec?.close();
  await ctx?.close();
});

/** One sign-in at the IdP: its signed answer, checked and read by Trousseau. */
async function signIn(): Promise<Awaited<ReturnType<typeof samlValidate>>> {
  const { url, requestId } = await samlAuthorizationUrl(publicUrl, provider, 'relay');
  const page = await (await fetch(url)).text();
  const m = /name="SAMLResponse" value="([^"]+)"/.exec(page);
  assert.ok(m, page);
  return samlValidate(publicUrl, provider, m[1].replaceAll('&amp;', '&'), requestId);
}

const pupil = () => ({
  nameId: '_transient-1',
  friendlyNames,
  attributes: {
    [OID.FrEduCtId]: 'ec-zoe-1', [OID.FrEduCtPersonAffiliation]: 'eleve2d', [OID.FrEduCtEleveINE]: '070123456AB',
    [OID.FrEduCtEleveUAI]: '0750001a', [OID.FrEduCtDateNaissance]: '2013-04-05', [OID.sn]: 'LEFEVRE', [OID.givenName]: 'Zoé',
  },
});

test('EduConnect names its attributes by OID: the configuration’s names are their FriendlyName, and both are read', async () => {
  ec.person = pupil();
  const { identity } = await signIn();
  assert.deepEqual(
    { subject: identity.subject, ine: identity.ine, uais: identity.uais, profile: identity.profile, familyName: identity.familyName, givenName: identity.givenName, birthDate: identity.birthDate },
    { subject: 'ec-zoe-1', ine: '070123456AB', uais: ['0750001A'], profile: 'Student', familyName: 'LEFEVRE', givenName: 'Zoé', birthDate: '2013-04-05' },
  );
  // Configured by OID, the same attributes are read as well.
  const byOid = { ...provider, attributes: { ...provider.attributes, ine: OID.FrEduCtEleveINE, subject: OID.FrEduCtId } };
  const saved = provider;
  provider = byOid;
  try {
    const { identity: again } = await signIn();
    assert.equal(again.ine, '070123456AB');
    assert.equal(again.subject, 'ec-zoe-1');
  } finally {
    provider = saved;
  }
});

test('an IdP clock a minute ahead of ours (NotBefore, IssueInstant) is accepted; ten minutes ahead is not', async () => {
  ec.person = pupil();
  ec.clockAheadMs = 60_000;
  try {
    const { identity } = await signIn();
    assert.equal(identity.subject, 'ec-zoe-1');
    ec.clockAheadMs = 10 * 60_000;
    await assert.rejects(signIn(), /NotBefore|not yet valid|SubjectConfirmation/i);
  } finally {
    ec.clockAheadMs = 0;
  }
});

test('a parent’s FrEduCtRefId gives one AAF jointure per record ({AAF}…|…|jointure): both accounts are found, the person picks', async () => {
  ctx = await testContext();
  const pool = ctx.database.pool;
  const s1 = await insertStructure(pool, 'Collège Jean Moulin', '0750001A');
  const s2 = await insertStructure(pool, 'École Jules Ferry', '0670002B');
  const child1 = await insertUser(pool, { firstName: 'Zoé', lastName: 'LEFEVRE', structureIds: [s1] });
  const child2 = await insertUser(pool, { firstName: 'Tom', lastName: 'LEFEVRE', structureIds: [s2] });
  // The same mother in two académies' feeds: two records, two jointures.
  const mother1 = await insertUser(pool, { firstName: 'Sophie', lastName: 'LEFEVRE', profile: 'Relative', externalId: '4412345' });
  const mother2 = await insertUser(pool, { firstName: 'Sophie', lastName: 'LEFEVRE', profile: 'Relative', externalId: '9876543' });
  await relate(pool, mother1, child1);
  await relate(pool, mother2, child2);
  await enableEverywhere(pool, 'educonnect', ['Relative']);
  ec.person = {
    nameId: '_transient-2',
    friendlyNames,
    attributes: {
      [OID.FrEduCtId]: 'ec-sophie', [OID.FrEduCtPersonAffiliation]: 'resp2d', [OID.sn]: 'LEFEVRE', [OID.givenName]: 'Sophie',
      [OID.FrEduCtRefId]: ['{AAF}01|RESP|4412345', '{AAF}15|RESP|9876543', '{SIECLE}01|RESP|4412345'],
    },
  };
  const { identity } = await signIn();
  assert.deepEqual(identity.externalIds, ['4412345', '9876543']);
  const outcome = matchAccounts(identity, provider.match, await loadCandidates(pool, provider, identity));
  assert.equal(outcome.kind, 'match');
  assert.deepEqual(new Set((outcome as { accounts: Array<{ id: string }> }).accounts.map((a) => a.id)), new Set([mother1, mother2]));
});
