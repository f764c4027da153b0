-- Trousseau as the ENT's OpenID provider (issue #12, src/oidc/).

-- What oidc-provider stores (sessions, interactions, authorization codes, access and refresh tokens, grants…):
-- one generic table shared by every app instance, one row per model instance. `kind` is the model name
-- (Session, AuthorizationCode, RefreshToken…); the payload is oidc-provider's JSON as it hands it over.
CREATE TABLE oidc_payloads (
  kind text NOT NULL,
  id text NOT NULL,
  payload jsonb NOT NULL,
  expires_at timestamptz,
  -- Session uid, grant id and device user code: the other keys oidc-provider looks rows up by.
  uid text,
  grant_id text,
  user_code text,
  consumed timestamptz,
  PRIMARY KEY (kind, id)
);
CREATE INDEX oidc_payloads_uid_idx ON oidc_payloads (uid) WHERE uid IS NOT NULL;
CREATE INDEX oidc_payloads_grant_idx ON oidc_payloads (grant_id) WHERE grant_id IS NOT NULL;
CREATE INDEX oidc_payloads_user_code_idx ON oidc_payloads (user_code) WHERE user_code IS NOT NULL;
CREATE INDEX oidc_payloads_expires_idx ON oidc_payloads (expires_at) WHERE expires_at IS NOT NULL;

-- The ENT's applications, registered by a super admin. The secret is kept encrypted with the app's key
-- (AES-256-GCM, src/accounts/secrets.ts): oidc-provider compares it in clear, so a hash would not do.
CREATE TABLE oidc_clients (
  client_id text PRIMARY KEY,
  name text NOT NULL,
  secret_enc text NOT NULL,
  redirect_uris text[] NOT NULL,
  -- Scopes the application may ask for (openid always among them; src/oidc/claims.ts names them).
  scopes text[] NOT NULL,
  -- First-party applications (the ENT's own) are not asked for consent.
  first_party boolean NOT NULL DEFAULT false,
  created_by uuid REFERENCES users(id) ON DELETE SET NULL,
  created_at timestamptz NOT NULL DEFAULT now()
);

-- Signing keys of ID tokens, generated once and shared by every instance; the private JWK is encrypted
-- with the app's key. The newest key signs; older ones stay published until retired (key rotation).
CREATE TABLE oidc_keys (
  kid text PRIMARY KEY,
  jwk_enc text NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now(),
  retired_at timestamptz
);

-- E-mail verification: nothing in the schema said whether an address was proven to reach its owner (it is
-- typed at activation, by an admin, or comes from a feed). The ID token's `email` claim is released only with
-- a verification date, which any change of the address clears, whoever makes it.
ALTER TABLE users ADD COLUMN email_verified_at timestamptz;
CREATE FUNCTION users_email_unverify() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF NEW.email IS DISTINCT FROM OLD.email AND NEW.email_verified_at IS NOT DISTINCT FROM OLD.email_verified_at THEN
    NEW.email_verified_at := NULL;
  END IF;
  RETURN NEW;
END $$;
CREATE TRIGGER users_email_unverify BEFORE UPDATE OF email ON users
  FOR EACH ROW EXECUTE FUNCTION users_email_unverify();
