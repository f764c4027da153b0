-- Sign-in with external identity providers (issue #12, Trousseau as a relying party: OpenID Connect and SAML 2.0).
-- Providers themselves are declared in the federation config file (TROUSSEAU_FEDERATION_CONFIG); `provider_id`
-- below is the `id` given there.

-- A person known to a provider (its stable subject: OIDC `sub`, SAML NameID or a configured attribute) signs in as
-- these accounts. Usually one row per subject; a parent with accounts in two schools may link both (then picks one
-- at each sign-in). `provider_name` is the provider's label when linked ("EduConnect"): the distribution rules say
-- "se connecte avec EduConnect" from it (directory/policies.ts).
CREATE TABLE federation_links (
  provider_id text NOT NULL CHECK (length(provider_id) BETWEEN 1 AND 40),
  subject text NOT NULL CHECK (length(subject) BETWEEN 1 AND 500),
  user_id uuid NOT NULL REFERENCES users(id) ON DELETE CASCADE,
  provider_name text NOT NULL CHECK (length(provider_name) BETWEEN 1 AND 80),
  created_at timestamptz NOT NULL DEFAULT now(),
  last_login_at timestamptz,
  PRIMARY KEY (provider_id, subject, user_id)
);
CREATE INDEX federation_links_user_idx ON federation_links (user_id);

-- Where a provider may be used: per structure and profile, set by a super admin in the console. A provider with no
-- row is offered nowhere (and no button shows for it).
CREATE TABLE federation_enabled (
  provider_id text NOT NULL CHECK (length(provider_id) BETWEEN 1 AND 40),
  structure_id uuid NOT NULL REFERENCES structures(id) ON DELETE CASCADE,
  profile text NOT NULL CHECK (profile IN ('Student', 'Relative', 'Teacher', 'Personnel', 'Guest')),
  PRIMARY KEY (provider_id, structure_id, profile)
);

-- One sign-in under way, from the redirect to the provider until the account is chosen: single use (deleted when
-- consumed, so a replayed `state` finds nothing), short-lived, bound to the browser that started it (the hash of a
-- cookie's value). Only hashes of the state and binding are kept.
CREATE TABLE federation_flows (
  state_hash text PRIMARY KEY,
  binding_hash text NOT NULL,
  provider_id text NOT NULL,
  -- OIDC: PKCE verifier and nonce; SAML: the AuthnRequest ID the response must answer.
  code_verifier text,
  nonce text,
  saml_request_id text,
  next text NOT NULL DEFAULT '/',
  -- After the provider answered (SAML POST, or accounts to choose from): who it says the person is, and what
  -- signing out there will need.
  answer jsonb,
  candidates uuid[],
  created_at timestamptz NOT NULL DEFAULT now(),
  expires_at timestamptz NOT NULL
);
CREATE INDEX federation_flows_expires_idx ON federation_flows (expires_at);

-- A Trousseau session opened through a provider: what signing out there needs (OIDC id_token_hint; SAML NameID and
-- SessionIndex). Goes with the session.
CREATE TABLE federation_sessions (
  session_id_hash text PRIMARY KEY REFERENCES sessions(id_hash) ON DELETE CASCADE,
  provider_id text NOT NULL,
  id_token text,
  name_id text,
  name_id_format text,
  session_index text
);
