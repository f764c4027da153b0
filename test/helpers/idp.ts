// Real identity providers for the federation tests, in the test process on loopback (issue #12: no mocks):
//  - an OpenID provider (oidc-provider, its development login and consent pages) that plays FranceConnect: any login
//    typed on its page signs in as the person registered under that login;
//  - a SAML 2.0 IdP (samlify, key pair generated here) that plays EduConnect: it parses Trousseau's AuthnRequest and
//    answers, on a page with a button, with a signed assertion about the person the test chose (or, on demand, an
//    unsigned or a tampered one), and answers a LogoutRequest with a LogoutResponse (signed, or on demand unsigned or
//    answering another request).
// They listen on `localhost` while Trousseau listens on 127.0.0.1: two sites, as in production (the SAML answer is a
// cross-site POST).
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import Provider from 'oidc-provider';
import samlify from 'samlify';
import { generate } from 'selfsigned';

async function listen(server: Server): Promise<number> {
  await new Promise<void>((resolve) => server.listen(0, 'localhost', resolve));
  return (server.address() as AddressInfo).port;
}

const close = (server: Server) => new Promise<void>((resolve) => {
  server.closeAllConnections();
  server.close(() => resolve());
});

// ------------------------------------------------------------------------------------------------ OpenID Connect

export interface OidcPerson {
  given_name: string;
  family_name: string;
  birthdate: string;
  email?: string;
  /** Whether the provider proved the address (absent: it says nothing, as many providers for an address typed there). */
  email_verified?: boolean;
  preferred_username?: string;
}

export interface TestOidcIdp {
  issuer: string;
  clientId: string;
  clientSecret: string;
  /** Persons by the login typed on the provider's page (that login is also their `sub`). */
  persons: Map<string, OidcPerson>;
  close(): Promise<void>;
}

/** A FranceConnect-like provider: scopes per claim, PKCE required, RP-initiated logout. `appUrl`: Trousseau's. */
export async function startOidcIdp(appUrl: string, providerId: string): Promise<TestOidcIdp> {
  const server = createServer();
  const port = await listen(server);
  const issuer = `http://localhost:${port}`;
  const persons = new Map<string, OidcPerson>();
  const clientId = 'trousseau-test';
  const clientSecret = 'a-test-client-secret-long-enough-0123456789';
  const provider = new Provider(issuer, {
    clients: [{
      client_id: clientId,
      client_secret: clientSecret,
      redirect_uris: [`${appUrl}/federation/${providerId}/retour`],
      post_logout_redirect_uris: [`${appUrl}/connexion?bye=1`],
      token_endpoint_auth_method: 'client_secret_post',
    }],
    claims: { openid: ['sub'], given_name: ['given_name'], family_name: ['family_name'], birthdate: ['birthdate'], email: ['email', 'email_verified'], preferred_username: ['preferred_username'] },
    scopes: ['openid', 'given_name', 'family_name', 'birthdate', 'email', 'preferred_username'],
    pkce: { required: () => true },
    features: { devInteractions: { enabled: true }, rpInitiatedLogout: { enabled: true } },
    cookies: { keys: ['test-cookie-key-0123456789'] },
    findAccount: async (_ctx, sub) => {
      const person = persons.get(sub);
      return person ? { accountId: sub, claims: async () => ({ sub, ...person }) } : undefined;
    },
  });
  server.on('request', provider.callback());
  return { issuer, clientId, clientSecret, persons, close: () => close(server) };
}

// ------------------------------------------------------------------------------------------------ SAML 2.0

export interface SamlPerson {
  nameId: string;
  /** By attribute Name (EduConnect's are OIDs: `urn:oid:1.3.6.1.4.1.20326.10.999.1.7`). */
  attributes: Record<string, string | string[]>;
  /** FriendlyName beside an attribute's Name (`FrEduCtPersonAffiliation`); such attributes are sent NameFormat uri. */
  friendlyNames?: Record<string, string>;
}

export type SamlMode = 'signed' | 'unsigned' | 'tampered';
/**
 * How /slo answers a LogoutRequest: a signed LogoutResponse redirected to the SP's single logout URL (`signed`),
 * the same unsigned, a signed one answering another request (`foreign`), or only a page (`page`).
 */
export type SloMode = 'signed' | 'unsigned' | 'foreign' | 'page';

export interface TestSamlIdp {
  entityId: string;
  ssoUrl: string;
  logoutUrl: string;
  cert: string;
  /** Who the next answer is about, and how it is made. */
  person: SamlPerson | null;
  mode: SamlMode;
  /** How far ahead of the SP's clock the IdP's runs (its IssueInstant and NotBefore), in ms; 0 by default. */
  clockAheadMs: number;
  /** The last SAMLResponse posted (base64), to replay it. */
  lastResponse: { acs: string; SAMLResponse: string; RelayState: string } | null;
  /** SAML logout requests received. */
  logouts: string[];
  sloMode: SloMode;
  sloBinding: 'post' | 'redirect';
  /** The last LogoutResponse sent back to the SP (its URL; posted: its fields too), to replay it. */
  lastLogoutResponse: { url: string; SAMLResponse?: string; RelayState?: string } | null;
  close(): Promise<void>;
}

const esc = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');

function responseTemplate(attributes: Record<string, string | string[]>, friendlyNames: Record<string, string> = {}): string {
  const attrs = Object.entries(attributes).map(([name, v]) => `<saml:Attribute Name="${esc(name)}" ${friendlyNames[name]
    ? `FriendlyName="${esc(friendlyNames[name])}" NameFormat="urn:oasis:names:tc:SAML:2.0:attrname-format:uri"`
    : 'NameFormat="urn:oasis:names:tc:SAML:2.0:attrname-format:basic"'}>${
    (Array.isArray(v) ? v : [v]).map((x) => `<saml:AttributeValue xsi:type="xs:string">${esc(x)}</saml:AttributeValue>`).join('')}</saml:Attribute>`).join('');
  const authn = '<saml:AuthnStatement AuthnInstant="{IssueInstant}" SessionIndex="{AssertionID}"><saml:AuthnContext><saml:AuthnContextClassRef>urn:oasis:names:tc:SAML:2.0:ac:classes:PasswordProtectedTransport</saml:AuthnContextClassRef></saml:AuthnContext></saml:AuthnStatement>';
  return samlify.SamlLib.defaultLoginResponseTemplate.context
    .replace('{AuthnStatement}', authn)
    .replace('{AttributeStatement}', `<saml:AttributeStatement>${attrs}</saml:AttributeStatement>`);
}

/**
 * An EduConnect-like IdP. `spMetadata()` fetches Trousseau's SP metadata (its stable URL), read once at the first
 * request. GET /sso shows a page with a button that posts the answer to the ACS with the RelayState.
 */
export async function startSamlIdp(spMetadata: () => Promise<string>): Promise<TestSamlIdp> {
  samlify.setSchemaValidator({ validate: async () => 'skipped' });
  const keys = await generate([{ name: 'commonName', value: 'educonnect.test' }], { keySize: 2048, notAfterDate: new Date(Date.now() + 2 * 86_400_000), algorithm: 'sha256' });
  const server = createServer();
  const port = await listen(server);
  const base = `http://localhost:${port}`;
  const idp = samlify.IdentityProvider({
    entityID: `${base}/idp`,
    privateKey: keys.private,
    signingCert: keys.cert,
    isAssertionEncrypted: false,
    nameIDFormat: ['urn:oasis:names:tc:SAML:2.0:nameid-format:persistent'],
    singleSignOnService: [{ Binding: 'urn:oasis:names:tc:SAML:2.0:bindings:HTTP-Redirect', Location: `${base}/sso` }],
    singleLogoutService: [{ Binding: 'urn:oasis:names:tc:SAML:2.0:bindings:HTTP-Redirect', Location: `${base}/slo` }],
  });
  let sp: ReturnType<typeof samlify.ServiceProvider> | null = null;
  let unsignedSp: ReturnType<typeof samlify.ServiceProvider> | null = null;
  let sloSp: ReturnType<typeof samlify.ServiceProvider> | null = null;
  let sloRedirectSp: ReturnType<typeof samlify.ServiceProvider> | null = null;
  let unsignedRedirectSp: ReturnType<typeof samlify.ServiceProvider> | null = null;
  const state: TestSamlIdp = {
    entityId: `${base}/idp`, ssoUrl: `${base}/sso`, logoutUrl: `${base}/slo`, cert: keys.cert, person: null, mode: 'signed', clockAheadMs: 0, lastResponse: null, logouts: [],
    sloMode: 'signed', sloBinding: 'post', lastLogoutResponse: null,
    close: () => close(server),
  };
  server.on('request', (req, res) => {
    (async () => {
      const url = new URL(req.url ?? '/', base);
      if (url.pathname === '/slo') {
        state.logouts.push(url.searchParams.get('SAMLRequest') ?? '');
        if (state.sloMode === 'page' || !sloSp) {
          res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' }).end('<!doctype html><title>EduConnect</title><h1>Vous êtes déconnecté d’EduConnect</h1>');
          return;
        }
        // Back to the SP's single logout URL with a LogoutResponse, in the binding the test chose (the SP's metadata
        // advertises HTTP-POST; the redirect variant reads the same metadata with HTTP-Redirect).
        const query = Object.fromEntries(url.searchParams);
        const redirect = state.sloBinding === 'redirect';
        const signed = redirect ? sloRedirectSp! : sloSp;
        const parsed = await idp.parseLogoutRequest(signed, 'redirect', { query, octetString: '' });
        const target = state.sloMode === 'unsigned' ? (redirect ? unsignedRedirectSp! : sp!) : signed;
        const info = state.sloMode === 'foreign' ? { extract: { request: { id: '_another-request' } } } : parsed;
        const relay = query.RelayState ?? '';
        if (redirect) {
          const back = idp.createLogoutResponse(target, info as never, 'redirect', relay) as { context: string };
          state.lastLogoutResponse = { url: back.context };
          res.writeHead(302, { location: back.context }).end();
          return;
        }
        const back = idp.createLogoutResponse(target, info as never, 'post', relay) as { context: string; entityEndpoint: string };
        state.lastLogoutResponse = { url: back.entityEndpoint, SAMLResponse: back.context, RelayState: relay };
        res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' }).end(`<!doctype html><html lang="fr"><title>EduConnect</title>
<h1>Vous êtes déconnecté d’EduConnect</h1><form method="post" action="${esc(back.entityEndpoint)}">
<input type="hidden" name="SAMLResponse" value="${esc(back.context)}"><input type="hidden" name="RelayState" value="${esc(relay)}">
<button type="submit">Retour à l’ENT</button></form><script>document.forms[0].submit()</script></html>`);
        return;
      }
      if (url.pathname !== '/sso') return void res.writeHead(404).end();
      if (!sp) {
        const xml = await spMetadata();
        sp = samlify.ServiceProvider({ metadata: xml });
        // The same SP, as if it did not ask for signed assertions: the IdP then signs nothing.
        unsignedSp = samlify.ServiceProvider({ metadata: xml.replace(/WantAssertionsSigned="true"/, 'WantAssertionsSigned="false"') });
        // The same SP for single logout: its LogoutResponse is signed; the redirect variant, with HTTP-Redirect.
        const redirectXml = xml.replace(/(<SingleLogoutService[^>]*Binding=")[^"]*/, '$1urn:oasis:names:tc:SAML:2.0:bindings:HTTP-Redirect');
        sloSp = samlify.ServiceProvider({ metadata: xml, wantLogoutResponseSigned: true });
        sloRedirectSp = samlify.ServiceProvider({ metadata: redirectXml, wantLogoutResponseSigned: true });
        unsignedRedirectSp = samlify.ServiceProvider({ metadata: redirectXml });
      }
      const query = Object.fromEntries(url.searchParams);
      const parsed = await idp.parseLoginRequest(sp, 'redirect', { query, octetString: '' });
      const requestId = String(parsed.extract.request?.id ?? '');
      const person = state.person;
      if (!person) return void res.writeHead(500).end('no person');
      const target = state.mode === 'unsigned' ? unsignedSp! : sp;
      const template = responseTemplate(person.attributes, person.friendlyNames);
      const r = (await idp.createLoginResponse(target, parsed as never, 'post', {}, (t: string) => {
        void t;
        const now = new Date(Date.now() + state.clockAheadMs);
        const later = new Date(now.getTime() + 5 * 60_000).toISOString();
        const id = `_${crypto.randomUUID()}`;
        const acs = target.entityMeta.getAssertionConsumerService('urn:oasis:names:tc:SAML:2.0:bindings:HTTP-POST') as string;
        const values = {
          ID: id, AssertionID: `_${crypto.randomUUID()}`, Destination: acs, Audience: target.entityMeta.getEntityID(), SubjectRecipient: acs,
          Issuer: `${base}/idp`, IssueInstant: now.toISOString(), StatusCode: 'urn:oasis:names:tc:SAML:2.0:status:Success',
          ConditionsNotBefore: now.toISOString(), ConditionsNotOnOrAfter: later, SubjectConfirmationDataNotOnOrAfter: later,
          NameIDFormat: 'urn:oasis:names:tc:SAML:2.0:nameid-format:persistent', NameID: person.nameId, InResponseTo: requestId,
        };
        return { id, context: samlify.SamlLib.replaceTagsByValue(template, values) };
      })) as { context: string; entityEndpoint: string };
      let body = r.context;
      if (state.mode === 'tampered') {
        // A man in the middle changes who the signed assertion is about: the signature no longer matches.
        const xml = Buffer.from(body, 'base64').toString('utf8');
        body = Buffer.from(xml.replace(/(<saml:NameID[^>]*>)[^<]*/, '$1someone-else')).toString('base64');
      }
      const acs = r.entityEndpoint;
      const relay = query.RelayState ?? '';
      state.lastResponse = { acs, SAMLResponse: body, RelayState: relay };
      res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' }).end(`<!doctype html><html lang="fr"><title>EduConnect</title>
<h1>EduConnect</h1><form method="post" action="${esc(acs)}">
<input type="hidden" name="SAMLResponse" value="${esc(body)}"><input type="hidden" name="RelayState" value="${esc(relay)}">
<button type="submit" id="idp-continue">Continuer vers l’ENT</button></form></html>`);
    })().catch((e: Error) => {
      res.writeHead(500, { 'content-type': 'text/plain' }).end(`IdP error: ${e.stack}`);
    });
  });
  return state;
}
