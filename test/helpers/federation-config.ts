// Identity providers as the web tests declare them (EduConnect by SAML, FranceConnect by OpenID Connect): never
// reached, the tests look at the redirects to them and answer in their place.
import { parseFederation } from '../../src/federation/providers.js';

/** A certificate in the shape of an IdP's (not a working key: no assertion is verified against it here). */
export const TEST_IDP_CERT = 'MIIBszCCAVmgAwIBAgIUQ2VydGlmaWNhdGUgb2YgYSB0ZXN0IElkUDAKBggqhkjOPQQDAjAAMB4XDTI2MDEwMTAwMDAwMFoXDTM2MDEwMTAwMDAwMFow';

/** EduConnect (matched by the feed's id, then the INE) and FranceConnect (by name and birth date). */
export function educonnectAndFranceConnect(): ReturnType<typeof parseFederation> {
  return parseFederation({
    providers: [
      { id: 'educonnect', label: 'EduConnect', kind: 'saml', entryPoint: 'https://educonnect.example.fr/sso', idpCert: TEST_IDP_CERT, match: ['externalId', 'ine'] },
      { id: 'franceconnect', label: 'FranceConnect', kind: 'oidc', issuer: 'https://fc.example.fr', clientId: 'x', match: ['nameBirthDate'],
        metadata: { authorization_endpoint: 'https://fc.example.fr/authorize', token_endpoint: 'https://fc.example.fr/token', jwks_uri: 'https://fc.example.fr/jwks' } },
    ],
  });
}
