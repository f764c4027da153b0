// Identity providers as the web tests declare them (EduConnect by SAML, FranceConnect by OpenID Connect): never
// reached, the tests look at the redirects to them and answer in their place.
import { randomBytes } from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import type pg from 'pg';
import { saveFlow } from '../../src/federation/flows.js';
import type { FederatedIdentity } from '../../src/federation/matching.js';
import { parseFederation } from '../../src/federation/providers.js';
import { sha256 } from '../../src/lib/crypto.js';
import { Client } from './web.js';

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

/**
 * A browser (a web test Client) holding a pending FranceConnect answer for `identity`, as the OpenID callback leaves it
 * after « aucun compte »: a 'link' flow step bound to the browser's cookie. Returns the browser and the step's token.
 */
export async function pendingFederationAnswer(
  app: FastifyInstance,
  pool: pg.Pool,
  identity: FederatedIdentity,
  o: { purpose?: 'link' | 'signin'; next?: string; ip?: string } = {},
): Promise<{ c: Client; token: string }> {
  const c = new Client(app, o.ip);
  await c.get('/connexion'); // the anonymous CSRF cookie and token
  const bind = randomBytes(32).toString('base64url');
  c.cookies.set('trousseau_fed', bind);
  const token = await saveFlow(pool, {
    providerId: 'franceconnect', bindingHash: sha256(bind), next: o.next ?? '/', purpose: o.purpose ?? 'link',
    answer: { identity, session: { idToken: null, nameId: null, nameIdFormat: null, sessionIndex: null } },
  });
  return { c, token };
}
