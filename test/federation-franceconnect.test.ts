// FranceConnect's own requirements of a service provider, beyond OpenID Connect's.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { oidcLogoutUrl } from '../src/federation/oidc.js';
import { parseFederation, type OidcProviderConfig } from '../src/federation/providers.js';

test('signing out at FranceConnect sends id_token_hint, post_logout_redirect_uri and a state (FranceConnect refuses a logout without one)', async () => {
  const fc = parseFederation({
    providers: [{
      id: 'franceconnect', label: 'FranceConnect', kind: 'oidc', issuer: 'https://fcp.integ01.dev-franceconnect.fr/api/v1', clientId: 'x', clientSecret: 'y',
      match: ['nameBirthDate'], authorizationParams: { acr_values: 'eidas1' },
      metadata: {
        authorization_endpoint: 'https://fcp.integ01.dev-franceconnect.fr/api/v1/authorize', token_endpoint: 'https://fcp.integ01.dev-franceconnect.fr/api/v1/token',
        userinfo_endpoint: 'https://fcp.integ01.dev-franceconnect.fr/api/v1/userinfo', jwks_uri: 'https://fcp.integ01.dev-franceconnect.fr/api/v1/jwks',
        end_session_endpoint: 'https://fcp.integ01.dev-franceconnect.fr/api/v1/logout',
      },
    }],
  }).get('franceconnect') as OidcProviderConfig;
  const url = new URL((await oidcLogoutUrl(fc, 'the.id.token', 'https://ent.example.fr/connexion?bye=1')) ?? '');
  assert.equal(url.origin + url.pathname, 'https://fcp.integ01.dev-franceconnect.fr/api/v1/logout');
  assert.equal(url.searchParams.get('id_token_hint'), 'the.id.token');
  assert.equal(url.searchParams.get('post_logout_redirect_uri'), 'https://ent.example.fr/connexion?bye=1');
  assert.match(url.searchParams.get('state') ?? '', /^[A-Za-z0-9_-]{32,}$/);
});
