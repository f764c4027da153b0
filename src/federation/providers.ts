// The identity providers Trousseau accepts sign-ins from (issue #12: EduConnect, FranceConnect, an académie's IdP),
// read from the JSON file named by TROUSSEAU_FEDERATION_CONFIG. Where each one may be used (structures, profiles) is
// stored in the database and set from the console (enablement.ts); this file says how to talk to them.
import { readFileSync } from 'node:fs';
import { z } from 'zod';
import { PROFILES } from '../directory/vocabulary.js';
import { zodIssueText } from '../lib/zod-text.js';
import type { MessageKey } from '../web/i18n/index.js';

/** Directory keys a provider's answer can be matched on, tried in this order after a stored link (matching.ts). */
export const MATCH_KEYS = ['externalId', 'ine', 'email', 'nameBirthDate'] as const;
export type MatchKey = (typeof MATCH_KEYS)[number];

// Refusals are catalogue keys, said in French as every other setting (lib/zod-text.ts).
const id = z.string().regex(/^[a-z0-9][a-z0-9-]{0,39}$/, 'fed.config.id' satisfies MessageKey);
const common = {
  id,
  /** Shown on the button ("Se connecter avec {label}") and in the distribution rules ("se connecte avec {label}"). */
  label: z.string().trim().min(1).max(80),
  /** Which directory keys identify the person, in MATCH_KEYS order whatever the order here. */
  match: z.array(z.enum(MATCH_KEYS)).min(1),
  /** Whom to contact when nobody matches (shown on the "no account" page); the structure's office by default. */
  contact: z.string().trim().max(300).optional(),
};

/** OpenID Connect: discovery from `issuer`, or a static description of the endpoints. */
const OidcSchema = z.object({
  ...common,
  kind: z.literal('oidc'),
  issuer: z.string().url(),
  clientId: z.string().min(1),
  clientSecret: z.string().min(1).optional(),
  scopes: z.array(z.string().min(1)).default(['openid', 'profile', 'email', 'birthdate']),
  /** Static configuration (no discovery request): the provider's metadata as its documentation gives it. */
  metadata: z
    .object({
      authorization_endpoint: z.string().url(),
      token_endpoint: z.string().url(),
      userinfo_endpoint: z.string().url().optional(),
      jwks_uri: z.string().url(),
      end_session_endpoint: z.string().url().optional(),
    })
    .optional(),
  /** Plain http to the provider (a test or development provider on loopback only). */
  allowHttp: z.boolean().default(false),
  /** FranceConnect's `acr_values` (eidas1) and similar extra authorization parameters. */
  authorizationParams: z.record(z.string(), z.string()).default({}),
});

/** Where each identity field is read from in a SAML assertion (attribute names as the IdP sends them). */
const AttributeMap = z.object({
  /** The stable subject; the NameID when absent. */
  subject: z.string().optional(),
  externalId: z.string().optional(),
  ine: z.string().optional(),
  email: z.string().optional(),
  familyName: z.string().optional(),
  givenName: z.string().optional(),
  birthDate: z.string().optional(),
  /** UAI of the person's structures (FrEduCtEleveUAI, FrEduRne): narrows several matches to those structures. */
  uai: z.string().optional(),
  /** An affiliation attribute (FrEduCtPersonAffiliation) and which profile each of its values means. */
  profile: z.object({ attribute: z.string(), values: z.record(z.string(), z.enum(PROFILES)) }).optional(),
});
export type AttributeMap = z.infer<typeof AttributeMap>;

const pem = z.string().min(1);
const SamlSchema = z.object({
  ...common,
  kind: z.literal('saml'),
  /** The IdP's SSO URL (HTTP-Redirect binding). */
  entryPoint: z.string().url(),
  /** The IdP's signing certificate(s), PEM or base64 body: assertions must be signed with one of them. */
  idpCert: z.union([pem, z.array(pem).min(1)]),
  /** The IdP's entity ID: responses from another issuer are refused. */
  idpIssuer: z.string().min(1).optional(),
  /** Our entity ID at this IdP; `<public URL>/federation/<id>/metadata` by default. */
  spEntityId: z.string().min(1).optional(),
  /** The IdP's single logout URL: signing out of Trousseau signs out there too. */
  logoutUrl: z.string().url().optional(),
  /** Our key pair for signing requests (and published in the SP metadata), PEM. */
  spPrivateKey: pem.optional(),
  spCert: pem.optional(),
  nameIdFormat: z.string().optional(),
  attributes: AttributeMap.default({}),
});

export const ProviderSchema = z.discriminatedUnion('kind', [OidcSchema, SamlSchema]);
export type ProviderConfig = z.infer<typeof ProviderSchema>;
export type OidcProviderConfig = z.infer<typeof OidcSchema>;
export type SamlProviderConfig = z.infer<typeof SamlSchema>;

export const FederationFileSchema = z
  .object({ providers: z.array(ProviderSchema).default([]) })
  .refine((f) => new Set(f.providers.map((p) => p.id)).size === f.providers.length, { message: 'fed.config.sameId' satisfies MessageKey });

/** Providers by id, in the file's order (the buttons' order). */
export type Providers = ReadonlyMap<string, ProviderConfig>;

export const NO_PROVIDERS: Providers = new Map();

/** Checks a parsed configuration; throws naming the first wrong field (`providers.1.entryPoint: …`). */
export function parseFederation(json: unknown, source = 'federation'): Providers {
  const r = FederationFileSchema.safeParse(json);
  if (!r.success) {
    const issue = r.error.issues[0];
    // In French, as config.ts says the other settings (zod's own « Invalid URL » stopped every command in English).
    throw new Error(`${source} : ${issue.path.join('.') || '(racine)'} : ${zodIssueText('fr', issue)}`);
  }
  return new Map(r.data.providers.map((p) => [p.id, p]));
}

/** Reads TROUSSEAU_FEDERATION_CONFIG (a JSON file); no file: no provider. A wrong file stops the start. */
export function loadFederation(path: string | undefined): Providers {
  if (!path) return NO_PROVIDERS;
  let json: unknown;
  try {
    json = JSON.parse(readFileSync(path, 'utf8'));
  } catch (e) {
    throw new Error(`TROUSSEAU_FEDERATION_CONFIG : ${path} illisible (${(e as Error).message})`);
  }
  return parseFederation(json, path);
}
